/*
 * module.c: the sets module: Redis's set commands (SADD, SMEMBERS, SINTER, SMOVE, SSCAN ...).
 * This file keeps the core's API table, registers the "set" type (an intset or a table, see
 * set.h) and its config parameter, holds the lookup and change helpers every command shares,
 * and ends with the command table and the init function.
 */
#include "sets.h"
#include "sets_api.h"

DFM_DESCRIPTOR("sets", "1.0.0");

const dfm_api_t *ss_api;
int ss_type_id = -1;

/* ---------------------------------------------------------------- the type */

static const char *const ss_encodings[] = {"intset", "hashtable", NULL};
static const int ss_rdb_types[] = {2 /* RDB_TYPE_SET */, 11 /* RDB_TYPE_SET_INTSET */, -1};

static int ss_type_encoding(const void *obj) { return ((const sobj_t *)obj)->enc; }
static void ss_type_free(void *obj) { sobj_free(obj); }
static void *ss_type_copy(const void *obj) { return sobj_copy(obj); }
static size_t ss_type_mem(const void *obj) { return sobj_mem(obj); }

static const dfm_type_t ss_type = {
    .name = "set",
    .encodings = ss_encodings,
    .rdb_types = ss_rdb_types,
    .encoding = ss_type_encoding,
    .free = ss_type_free,
    .copy = ss_type_copy,
    .mem_usage = ss_type_mem,
    .rdb_save = ss_rdb_save,
    .rdb_load = ss_rdb_load,
};

static const dfm_config_t ss_config = {
    .name = "set-max-intset-entries", .kind = DFM_CONF_INT, .default_value = "512",
    .help = "sets of integers with more members than this become hash tables", .min = 0,
    .max = INT32_MAX, .storage = &sobj_max_intset, .mutable_at_runtime = 1};

/* ---------------------------------------------------------------- exported read API */

static int ss_export_type_id(void) { return ss_type_id; }
static size_t ss_export_count(const void *obj) { return ((const sobj_t *)obj)->count; }

static void ss_export_each(const void *obj, void (*fn)(void *arg, const dfm_str_t *member), void *arg) {
    sobj_iter_t it;
    dfm_str_t m;
    sobj_iter_init(&it, obj);
    while (sobj_iter_next(&it, &m)) fn(arg, &m);
}

static const sets_api_t ss_export = {ss_export_type_id, ss_export_count, ss_export_each};

/* ---------------------------------------------------------------- shared helpers */

int ss_find(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, dfm_key_t **k, sobj_t **s) {
    dfm_key_t *key_ = ss_api->lookup(ctx, key, flags);
    if (k) *k = key_;
    *s = NULL;
    if (key_ == NULL) return 0;
    if (ss_api->key_type(key_) != ss_type_id) return -1;
    *s = ss_api->obj_value(key_);
    return 1;
}

int ss_lookup(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, dfm_key_t **k, sobj_t **s) {
    int found = ss_find(ctx, key, flags, k, s);
    if (found < 0) ss_api->reply_wrongtype(ctx);
    return found;
}

int ss_lookup_create(dfm_ctx_t *ctx, const dfm_str_t *key, dfm_key_t **k, sobj_t **s) {
    int found = ss_lookup(ctx, key, DFM_LOOKUP_WRITE, k, s);
    if (found != 0) return found;
    *s = sobj_new();
    *k = ss_api->obj_set(ctx, key, ss_type_id, *s, DFM_EXPIRE_NONE);
    return 1;
}

void ss_changed(dfm_ctx_t *ctx, const dfm_str_t *key, dfm_key_t *k, sobj_t *s,
                const char *event) {
    if (event) ss_api->notify(ctx, event, key, 's');
    if (s->count == 0) {
        ss_api->key_delete(ctx, k);
        if (event) ss_api->notify(ctx, "del", key, 'g');
    }
    if (event) ss_api->signal_modified(ctx, key);
}

void ss_reply_members(dfm_ctx_t *ctx, const sobj_t *s) {
    sobj_iter_t it;
    dfm_str_t m;
    ss_api->reply_set(ctx, s ? (long)s->count : 0);
    if (s == NULL) return;
    sobj_iter_init(&it, s);
    while (sobj_iter_next(&it, &m)) ss_api->reply_bulk(ctx, m.ptr, m.len);
}

/* ---------------------------------------------------------------- the command table */

#define SS_CMD(NAME, ARITY, FLAGS, ACL, SUMMARY, SINCE, CPLX, ARGS, FN)                       \
    {.name = NAME, .arity = ARITY, .flags = FLAGS, .first_key = 1, .last_key = 1,             \
     .key_step = 1, .acl_categories = ACL, .summary = SUMMARY, .since = SINCE,                 \
     .group = "set", .complexity = CPLX, .args_doc = ARGS, .handler = FN}

/* A command over keys first..last (-1: the last argument), run through dfm_multi_t phases. */
#define SS_MULTI(NAME, ARITY, FLAGS, FIRST, LAST, ACL, SUMMARY, SINCE, CPLX, ARGS, MULTI)     \
    {.name = NAME, .arity = ARITY, .flags = FLAGS, .first_key = FIRST, .last_key = LAST,      \
     .key_step = 1, .acl_categories = ACL, .summary = SUMMARY, .since = SINCE,                 \
     .group = "set", .complexity = CPLX, .args_doc = ARGS, .multi = MULTI}

#define SS_INTER_CPLX                                                                         \
    "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of " \
    "sets."
#define SS_UNION_CPLX "O(N) where N is the total number of elements in all given sets."
#define SS_DIFF_CPLX SS_UNION_CPLX

static const dfm_command_t ss_commands[] = {
    SS_CMD("sadd", -3, "write denyoom fast", "@set @fast", "Add one or more members to a set",
           "1.0.0",
           "O(1) for each element added, so O(N) to add N elements when the command is called "
           "with multiple arguments.",
           "key member [member ...]", ss_cmd_sadd),
    SS_CMD("srem", -3, "write fast", "@set @fast", "Remove one or more members from a set",
           "1.0.0", "O(N) where N is the number of members to be removed.",
           "key member [member ...]", ss_cmd_srem),
    SS_CMD("smembers", 2, "readonly", "@set @slow", "Get all the members in a set", "1.0.0",
           "O(N) where N is the set cardinality.", "key", ss_cmd_smembers),
    SS_CMD("sismember", 3, "readonly fast", "@set @fast",
           "Determine if a given value is a member of a set", "1.0.0", "O(1)", "key member",
           ss_cmd_sismember),
    SS_CMD("smismember", -3, "readonly fast", "@set @fast",
           "Returns the membership associated with the given elements for a set", "6.2.0",
           "O(N) where N is the number of elements being checked for membership",
           "key member [member ...]", ss_cmd_smismember),
    SS_CMD("scard", 2, "readonly fast", "@set @fast", "Get the number of members in a set",
           "1.0.0", "O(1)", "key", ss_cmd_scard),
    SS_CMD("spop", -2, "write fast", "@set @fast",
           "Remove and return one or multiple random members from a set", "1.0.0",
           "Without the count argument O(1), otherwise O(N) where N is the value of the "
           "passed count.",
           "key [count]", ss_cmd_spop),
    SS_CMD("srandmember", -2, "readonly", "@set @slow",
           "Get one or multiple random members from a set", "1.0.0",
           "Without the count argument O(1), otherwise O(N) where N is the absolute value of "
           "the passed count.",
           "key [count]", ss_cmd_srandmember),
    SS_CMD("sscan", -3, "readonly", "@set @slow", "Incrementally iterate Set elements", "2.8.0",
           "O(1) for every call. O(N) for a complete iteration, including enough command calls "
           "for the cursor to return back to 0. N is the number of elements inside the "
           "collection..",
           "key cursor [MATCH pattern] [COUNT count]", ss_cmd_sscan),
    SS_MULTI("smove", 4, "write fast", 1, 2, "@set @fast",
             "Move a member from one set to another", "1.0.0", "O(1)",
             "source destination member", &ss_smove_multi),
    SS_MULTI("sinter", -2, "readonly", 1, -1, "@set @slow", "Intersect multiple sets", "1.0.0",
             SS_INTER_CPLX, "key [key ...]", &ss_sinter_multi),
    SS_MULTI("sunion", -2, "readonly", 1, -1, "@set @slow", "Add multiple sets", "1.0.0",
             SS_UNION_CPLX, "key [key ...]", &ss_sunion_multi),
    SS_MULTI("sdiff", -2, "readonly", 1, -1, "@set @slow", "Subtract multiple sets", "1.0.0",
             SS_DIFF_CPLX, "key [key ...]", &ss_sdiff_multi),
    SS_MULTI("sinterstore", -3, "write denyoom", 1, -1, "@set @slow",
             "Intersect multiple sets and store the resulting set in a key", "1.0.0",
             SS_INTER_CPLX, "destination key [key ...]", &ss_sinterstore_multi),
    SS_MULTI("sunionstore", -3, "write denyoom", 1, -1, "@set @slow",
             "Add multiple sets and store the resulting set in a key", "1.0.0", SS_UNION_CPLX,
             "destination key [key ...]", &ss_sunionstore_multi),
    SS_MULTI("sdiffstore", -3, "write denyoom", 1, -1, "@set @slow",
             "Subtract multiple sets and store the resulting set in a key", "1.0.0",
             SS_DIFF_CPLX, "destination key [key ...]", &ss_sdiffstore_multi),
    {.name = "sintercard", .arity = -3, .flags = "readonly", .keynum_index = 1,
     .acl_categories = "@set @slow",
     .summary = "Intersect multiple sets and return the cardinality of the result",
     .since = "7.0.0", .group = "set", .complexity = SS_INTER_CPLX,
     .args_doc = "numkeys key [key ...] [LIMIT limit]", .multi = &ss_sintercard_multi},
    {.name = NULL},
};

/* Called once by the core on the main thread: keep the API, register type, config, commands. */
DFM_EXPORT int dfm_module_init(dfm_module_t *self, const dfm_api_t *api, int argc, char **argv) {
    (void)argc;
    (void)argv;
    ss_api = sd_api = api;
    if (!DFM_HAS(api, rdb_load_raw)) {
        api->log(DFM_LOG_WARNING, "sets: the core lacks the RDB API (ABI 1.2)");
        return -1;
    }
    sd_seed((uint64_t)api->now_ms() * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&ss_api);
    if (api->register_type(self, &ss_type, &ss_type_id) < 0) return -1;
    if (DFM_HAS(api, register_rdb_slicer) &&
        api->register_rdb_slicer(self, ss_type_id, &ss_rdb_slicer) < 0)
        return -1;
    if (api->export_api(self, SETS_API_NAME, &ss_export) < 0) return -1;
    if (api->register_config(self, &ss_config) < 0) return -1;
    for (const dfm_command_t *c = ss_commands; c->name != NULL; c++)
        if (api->register_command(self, c) < 0) return -1;
    return 0;
}
