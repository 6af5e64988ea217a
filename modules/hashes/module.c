/*
 * module.c: the hashes module: Redis's hash commands (HSET, HGET, HGETALL, HINCRBY, HSCAN ...).
 * This file keeps the core's API table, registers the "hash" type (packed pairs or a table,
 * see hash.h) and its two config parameters, holds the lookup and change helpers every
 * command shares, and ends with the command table and the init function.
 */
#include "hashes.h"

DFM_DESCRIPTOR("hashes", "1.0.0");

const dfm_api_t *hs_api;
int hs_type_id = -1;

/* ---------------------------------------------------------------- the type */

static const char *const hs_encodings[] = {"listpack", "hashtable", NULL};
static const int hs_rdb_types[] = {16 /* RDB_TYPE_HASH_LISTPACK */, 4 /* RDB_TYPE_HASH */, -1};

static int hs_type_encoding(const void *obj) { return ((const hobj_t *)obj)->enc; }
static void hs_type_free(void *obj) { hobj_free(obj); }
static void *hs_type_copy(const void *obj) { return hobj_copy(obj); }
static size_t hs_type_mem(const void *obj) { return hobj_mem(obj); }

static const dfm_type_t hs_type = {
    .name = "hash",
    .encodings = hs_encodings,
    .rdb_types = hs_rdb_types,
    .encoding = hs_type_encoding,
    .free = hs_type_free,
    .copy = hs_type_copy,
    .mem_usage = hs_type_mem,
    .rdb_save = hs_rdb_save,
    .rdb_load = hs_rdb_load,
};

static const dfm_config_t hs_configs[] = {
    {.name = "hash-max-listpack-entries", .kind = DFM_CONF_INT, .default_value = "512",
     .help = "hashes with more fields than this become hash tables", .min = 0,
     .max = INT32_MAX, .storage = &hobj_max_entries, .mutable_at_runtime = 1},
    {.name = "hash-max-listpack-value", .kind = DFM_CONF_INT, .default_value = "64",
     .help = "hashes with a longer field or value become hash tables", .min = 0, .max = 255,
     .storage = &hobj_max_value, .mutable_at_runtime = 1},
};

/* ---------------------------------------------------------------- shared helpers */

int hs_lookup(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, dfm_key_t **k, hobj_t **h) {
    dfm_key_t *key_ = hs_api->lookup(ctx, key, flags);
    if (k) *k = key_;
    *h = NULL;
    if (key_ == NULL) return 0;
    if (hs_api->key_type(key_) != hs_type_id) {
        hs_api->reply_wrongtype(ctx);
        return -1;
    }
    *h = hs_api->obj_value(key_);
    return 1;
}

int hs_lookup_create(dfm_ctx_t *ctx, const dfm_str_t *key, dfm_key_t **k, hobj_t **h) {
    int found = hs_lookup(ctx, key, DFM_LOOKUP_WRITE, k, h);
    if (found != 0) return found;
    *h = hobj_new();
    *k = hs_api->obj_set(ctx, key, hs_type_id, *h, DFM_EXPIRE_NONE);
    return 1;
}

void hs_changed(dfm_ctx_t *ctx, const dfm_str_t *key, dfm_key_t *k, hobj_t *h,
                const char *event) {
    if (event) hs_api->notify(ctx, event, key, 'h');
    if (h->count == 0) {
        hs_api->key_delete(ctx, k);
        if (event) hs_api->notify(ctx, "del", key, 'g');
    }
    if (event) hs_api->signal_modified(ctx, key);
}

/* ---------------------------------------------------------------- the command table */

#define HS_CMD(NAME, ARITY, FLAGS, ACL, SUMMARY, SINCE, CPLX, ARGS, FN)                       \
    {.name = NAME, .arity = ARITY, .flags = FLAGS, .first_key = 1, .last_key = 1,             \
     .key_step = 1, .acl_categories = ACL, .summary = SUMMARY, .since = SINCE,                 \
     .group = "hash", .complexity = CPLX, .args_doc = ARGS, .handler = FN}

#define HS_N_FIELDS "O(N) where N is the number of fields being requested."
#define HS_SIZE "O(N) where N is the size of the hash."

static const dfm_command_t hs_commands[] = {
    HS_CMD("hset", -4, "write denyoom fast", "@hash @fast", "Set the string value of a hash field",
           "2.0.0",
           "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the "
           "command is called with multiple field/value pairs.",
           "key field value [field value ...]", hs_cmd_hset),
    HS_CMD("hsetnx", 4, "write denyoom fast", "@hash @fast",
           "Set the value of a hash field, only if the field does not exist", "2.0.0", "O(1)",
           "key field value", hs_cmd_hsetnx),
    HS_CMD("hmset", -4, "write denyoom fast", "@hash @fast",
           "Set multiple hash fields to multiple values", "2.0.0",
           "O(N) where N is the number of fields being set.",
           "key field value [field value ...]", hs_cmd_hmset),
    HS_CMD("hget", 3, "readonly fast", "@hash @fast", "Get the value of a hash field", "2.0.0",
           "O(1)", "key field", hs_cmd_hget),
    HS_CMD("hmget", -3, "readonly fast", "@hash @fast", "Get the values of all the given hash fields",
           "2.0.0", HS_N_FIELDS, "key field [field ...]", hs_cmd_hmget),
    HS_CMD("hdel", -3, "write fast", "@hash @fast", "Delete one or more hash fields", "2.0.0",
           "O(N) where N is the number of fields to be removed.", "key field [field ...]",
           hs_cmd_hdel),
    HS_CMD("hlen", 2, "readonly fast", "@hash @fast", "Get the number of fields in a hash",
           "2.0.0", "O(1)", "key", hs_cmd_hlen),
    HS_CMD("hstrlen", 3, "readonly fast", "@hash @fast",
           "Get the length of the value of a hash field", "3.2.0", "O(1)", "key field",
           hs_cmd_hstrlen),
    HS_CMD("hexists", 3, "readonly fast", "@hash @fast", "Determine if a hash field exists",
           "2.0.0", "O(1)", "key field", hs_cmd_hexists),
    HS_CMD("hgetall", 2, "readonly", "@hash @slow", "Get all the fields and values in a hash",
           "2.0.0", HS_SIZE, "key", hs_cmd_hgetall),
    HS_CMD("hkeys", 2, "readonly", "@hash @slow", "Get all the fields in a hash", "2.0.0",
           HS_SIZE, "key", hs_cmd_hkeys),
    HS_CMD("hvals", 2, "readonly", "@hash @slow", "Get all the values in a hash", "2.0.0",
           HS_SIZE, "key", hs_cmd_hvals),
    HS_CMD("hincrby", 4, "write denyoom fast", "@hash @fast",
           "Increment the integer value of a hash field by the given number", "2.0.0", "O(1)",
           "key field increment", hs_cmd_hincrby),
    HS_CMD("hincrbyfloat", 4, "write denyoom fast", "@hash @fast",
           "Increment the float value of a hash field by the given amount", "2.6.0", "O(1)",
           "key field increment", hs_cmd_hincrbyfloat),
    HS_CMD("hrandfield", -2, "readonly", "@hash @slow", "Get one or multiple random fields from a hash",
           "6.2.0", "O(N) where N is the number of fields returned",
           "key [count [WITHVALUES]]", hs_cmd_hrandfield),
    HS_CMD("hscan", -3, "readonly", "@hash @slow", "Incrementally iterate hash fields and associated values",
           "2.8.0",
           "O(1) for every call. O(N) for a complete iteration, including enough command calls "
           "for the cursor to return back to 0. N is the number of elements inside the "
           "collection..",
           "key cursor [MATCH pattern] [COUNT count]", hs_cmd_hscan),
    {.name = NULL},
};

/* Called once by the core on the main thread: keep the API, register type, configs, commands. */
DFM_EXPORT int dfm_module_init(dfm_module_t *self, const dfm_api_t *api, int argc, char **argv) {
    (void)argc;
    (void)argv;
    hs_api = sd_api = api;
    if (!DFM_HAS(api, rdb_load_raw)) {
        api->log(DFM_LOG_WARNING, "hashes: the core lacks the RDB API (ABI 1.2)");
        return -1;
    }
    sd_seed((uint64_t)api->now_ms() * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&hs_api);
    if (api->register_type(self, &hs_type, &hs_type_id) < 0) return -1;
    if (DFM_HAS(api, register_rdb_slicer) &&
        api->register_rdb_slicer(self, hs_type_id, &hs_rdb_slicer) < 0)
        return -1;
    for (size_t i = 0; i < sizeof hs_configs / sizeof hs_configs[0]; i++)
        if (api->register_config(self, &hs_configs[i]) < 0) return -1;
    for (const dfm_command_t *c = hs_commands; c->name != NULL; c++)
        if (api->register_command(self, c) < 0) return -1;
    if (hs_export_register(self) < 0) return -1;
    return 0;
}
