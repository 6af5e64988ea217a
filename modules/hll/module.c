/*
 * module.c: the hll module: Redis's HyperLogLog commands (PFADD, PFCOUNT, PFMERGE, PFDEBUG,
 * PFSELFTEST) over plain string values in Redis's HLL format (see hll.h), and the
 * hll-sparse-max-bytes parameter.
 */
#include "hll.h"

DFM_DESCRIPTOR("hll", "1.0.0");

const dfm_api_t *hll_api;
int64_t hll_sparse_max_bytes = 3000;

static const dfm_config_t hll_config = {
    .name = "hll-sparse-max-bytes", .kind = DFM_CONF_SIZE, .default_value = "3000",
    .help = "sparse HyperLogLogs longer than this (header included) become dense", .min = 0,
    .max = INT64_MAX, .storage = &hll_sparse_max_bytes, .mutable_at_runtime = 1};

#define HLL_CMD(NAME, ARITY, FLAGS, FIRST, LAST, ACL, SUMMARY, SINCE, CPLX, ARGS, HANDLER, MULTI) \
    {.name = NAME, .arity = ARITY, .flags = FLAGS, .first_key = FIRST, .last_key = LAST,       \
     .key_step = FIRST ? 1 : 0, .acl_categories = ACL, .summary = SUMMARY, .since = SINCE,     \
     .group = "hyperloglog", .complexity = CPLX, .args_doc = ARGS, .handler = HANDLER,        \
     .multi = MULTI}

static const dfm_command_t hll_commands[] = {
    HLL_CMD("pfadd", -2, "write denyoom fast", 1, 1, "@hyperloglog @fast",
            "Adds the specified elements to the specified HyperLogLog.", "2.8.9",
            "O(1) to add every element.", "key [element [element ...]]", hll_pfadd, NULL),
    HLL_CMD("pfcount", -2, "readonly", 1, -1, "@hyperloglog @slow",
            "Return the approximated cardinality of the set(s) observed by the HyperLogLog at "
            "key(s).",
            "2.8.9",
            "O(1) with a very small average constant time when called with a single key. O(N) "
            "with N being the number of keys, and much bigger constant times, when called with "
            "multiple keys.",
            "key [key ...]", NULL, &hll_pfcount_multi),
    HLL_CMD("pfmerge", -2, "write denyoom", 1, -1, "@hyperloglog @slow",
            "Merge N different HyperLogLogs into a single one.", "2.8.9",
            "O(N) to merge N HyperLogLogs, but with high constant times.",
            "destkey [sourcekey [sourcekey ...]]", NULL, &hll_pfmerge_multi),
    HLL_CMD("pfdebug", 3, "write denyoom admin", 2, 2, "@hyperloglog @admin @slow @dangerous",
            "Internal commands for debugging HyperLogLog values", "2.8.9", "N/A",
            "subcommand key", hll_pfdebug, NULL),
    HLL_CMD("pfselftest", 1, "admin", 0, 0, "@hyperloglog @admin @slow @dangerous",
            "An internal command for testing HyperLogLog values", "2.8.9", "N/A", "",
            hll_pfselftest, NULL),
    {0},
};

DFM_EXPORT int dfm_module_init(dfm_module_t *self, const dfm_api_t *api, int argc, char **argv) {
    (void)argc;
    (void)argv;
    hll_api = api;
    if (api->register_config(self, &hll_config) < 0) return -1;
    for (const dfm_command_t *c = hll_commands; c->name != NULL; c++)
        if (api->register_command(self, c) < 0) return -1;
    return 0;
}
