/*
 * module.c: the zsets module: Redis's sorted set commands (ZADD, ZRANGE, ZUNIONSTORE, BZPOPMIN
 * ...). This file keeps the core's API table, registers the "zset" type (a skiplist plus a
 * member hash, see zset.h) and the listpack limit parameters, and ends with the command table
 * and the init function that registers it.
 */
#include <limits.h>

#include "zsets.h"

DFM_DESCRIPTOR("zsets", "1.0.0");

const dfm_api_t *zs_api;
dfm_module_t *zs_self;
int zs_type_id = -1;
int64_t zs_max_entries = 128, zs_max_value = 64;

/* ---------------------------------------------------------------- the type */

/* What OBJECT ENCODING reports: Redis 7.0 keeps small sets in a listpack. */
static const char *const zs_encodings[] = {"listpack", "skiplist", NULL};
static const int zs_rdb_types[] = {17 /* RDB_TYPE_ZSET_LISTPACK */, 5 /* RDB_TYPE_ZSET_2 */, -1};

static int zs_type_encoding(const void *obj) { return ((const zset_t *)obj)->big ? 1 : 0; }
static void zs_type_free(void *obj) { zs_free(obj); }
static void *zs_type_copy(const void *obj) { return zs_copy(obj); }
static size_t zs_type_mem(const void *obj) { return zs_mem(obj); }

static const dfm_type_t zs_type = {
    .name = "zset",
    .encodings = zs_encodings,
    .rdb_types = zs_rdb_types,
    .encoding = zs_type_encoding,
    .free = zs_type_free,
    .copy = zs_type_copy,
    .mem_usage = zs_type_mem,
    .rdb_save = zs_rdb_save,
    .rdb_load = zs_rdb_load,
};

static const dfm_config_t zs_configs[] = {
    {.name = "zset-max-listpack-entries", .kind = DFM_CONF_INT, .default_value = "128",
     .help = "sorted sets up to this many members report the listpack encoding",
     .min = 0, .max = LLONG_MAX, .storage = &zs_max_entries, .mutable_at_runtime = 1},
    {.name = "zset-max-listpack-value", .kind = DFM_CONF_INT, .default_value = "64",
     .help = "sorted sets whose members are all at most this long report listpack",
     .min = 0, .max = LLONG_MAX, .storage = &zs_max_value, .mutable_at_runtime = 1},
    {.name = NULL},
};

/* ---------------------------------------------------------------- the command table */

#define ZS_CMD(NAME, ARITY, FLAGS, ACL, SUMMARY, SINCE, CPLX, ARGS, FN)                       \
    {.name = NAME, .arity = ARITY, .flags = FLAGS, .first_key = 1, .last_key = 1,             \
     .key_step = 1, .acl_categories = ACL, .summary = SUMMARY, .since = SINCE,                 \
     .group = "sorted-set", .complexity = CPLX, .args_doc = ARGS, .handler = FN}

/* A multi-shard command; FIRST is the destination (0: none), NUMKEYS the count's index. */
#define ZS_MULTI(NAME, ARITY, FLAGS, ACL, SUMMARY, SINCE, CPLX, ARGS, FIRST, NUMKEYS, MULTI)  \
    {.name = NAME, .arity = ARITY, .flags = FLAGS, .first_key = FIRST, .last_key = FIRST,     \
     .key_step = 1, .keynum_index = NUMKEYS, .acl_categories = ACL, .summary = SUMMARY,        \
     .since = SINCE, .group = "sorted-set", .complexity = CPLX, .args_doc = ARGS,              \
     .multi = MULTI}

#define ZS_LOGN "O(log(N)) where N is the number of elements in the sorted set."
#define ZS_LOGN_M                                                                              \
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "  \
    "elements being returned."
#define ZS_REMRANGE_CPLX                                                                       \
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "  \
    "elements removed by the operation."
#define ZS_UNION_CPLX                                                                          \
    "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M "     \
    "being the number of elements in the resulting sorted set."
#define ZS_INTER_CPLX                                                                          \
    "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the "  \
    "number of input sorted sets and M being the number of elements in the resulting sorted " \
    "set."
#define ZS_DIFF_CPLX                                                                           \
    "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, " \
    "N is the size of the first set, and K is the size of the result set."
#define ZS_RANGE_ARGS "key min max [WITHSCORES] [LIMIT offset count]"
#define ZS_LEX_ARGS "key min max [LIMIT offset count]"

static const dfm_command_t zs_commands[] = {
    ZS_CMD("zadd", -4, "write denyoom fast", "@sortedset @fast",
           "Add one or more members to a sorted set, or update its score if it already exists",
           "1.2.0", "O(log(N)) for each item added, where N is the number of elements in the "
           "sorted set.",
           "key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]", zs_cmd_zadd),
    ZS_CMD("zincrby", 4, "write denyoom fast", "@sortedset @fast",
           "Increment the score of a member in a sorted set", "1.2.0", ZS_LOGN,
           "key increment member", zs_cmd_zincrby),
    ZS_CMD("zrem", -3, "write fast", "@sortedset @fast",
           "Remove one or more members from a sorted set", "1.2.0",
           "O(M*log(N)) with N being the number of elements in the sorted set and M the number "
           "of elements to be removed.",
           "key member [member ...]", zs_cmd_zrem),
    ZS_CMD("zcard", 2, "readonly fast", "@sortedset @fast",
           "Get the number of members in a sorted set", "1.2.0", "O(1)", "key", zs_cmd_zcard),
    ZS_CMD("zscore", 3, "readonly fast", "@sortedset @fast",
           "Get the score associated with the given member in a sorted set", "1.2.0", "O(1)",
           "key member", zs_cmd_zscore),
    ZS_CMD("zmscore", -3, "readonly fast", "@sortedset @fast",
           "Get the score associated with the given members in a sorted set", "6.2.0",
           "O(N) where N is the number of members being requested.", "key member [member ...]",
           zs_cmd_zmscore),
    ZS_CMD("zrank", 3, "readonly fast", "@sortedset @fast",
           "Determine the index of a member in a sorted set", "2.0.0", ZS_LOGN, "key member",
           zs_cmd_zrank),
    ZS_CMD("zrevrank", 3, "readonly fast", "@sortedset @fast",
           "Determine the index of a member in a sorted set, with scores ordered from high to "
           "low", "2.0.0", ZS_LOGN, "key member", zs_cmd_zrevrank),
    ZS_CMD("zcount", 4, "readonly fast", "@sortedset @fast",
           "Count the members in a sorted set with scores within the given values", "2.0.0",
           ZS_LOGN, "key min max", zs_cmd_zcount),
    ZS_CMD("zlexcount", 4, "readonly fast", "@sortedset @fast",
           "Count the number of members in a sorted set between a given lexicographical range",
           "2.8.9", ZS_LOGN, "key min max", zs_cmd_zlexcount),
    ZS_CMD("zrange", -4, "readonly", "@sortedset @slow",
           "Return a range of members in a sorted set", "1.2.0", ZS_LOGN_M,
           "key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]",
           zs_cmd_zrange),
    ZS_CMD("zrevrange", -4, "readonly", "@sortedset @slow",
           "Return a range of members in a sorted set, by index, with scores ordered from high "
           "to low", "1.2.0", ZS_LOGN_M, "key start stop [WITHSCORES]", zs_cmd_zrevrange),
    ZS_CMD("zrangebyscore", -4, "readonly", "@sortedset @slow",
           "Return a range of members in a sorted set, by score", "1.0.5", ZS_LOGN_M,
           ZS_RANGE_ARGS, zs_cmd_zrangebyscore),
    ZS_CMD("zrevrangebyscore", -4, "readonly", "@sortedset @slow",
           "Return a range of members in a sorted set, by score, with scores ordered from high "
           "to low", "2.2.0", ZS_LOGN_M, "key max min [WITHSCORES] [LIMIT offset count]",
           zs_cmd_zrevrangebyscore),
    ZS_CMD("zrangebylex", -4, "readonly", "@sortedset @slow",
           "Return a range of members in a sorted set, by lexicographical range", "2.8.9",
           ZS_LOGN_M, ZS_LEX_ARGS, zs_cmd_zrangebylex),
    ZS_CMD("zrevrangebylex", -4, "readonly", "@sortedset @slow",
           "Return a range of members in a sorted set, by lexicographical range, ordered from "
           "higher to lower strings.", "2.8.9", ZS_LOGN_M, "key max min [LIMIT offset count]",
           zs_cmd_zrevrangebylex),
    ZS_CMD("zremrangebyrank", 4, "write", "@sortedset @slow",
           "Remove all members in a sorted set within the given indexes", "2.0.0",
           ZS_REMRANGE_CPLX, "key start stop", zs_cmd_zremrangebyrank),
    ZS_CMD("zremrangebyscore", 4, "write", "@sortedset @slow",
           "Remove all members in a sorted set within the given scores", "1.2.0",
           ZS_REMRANGE_CPLX, "key min max", zs_cmd_zremrangebyscore),
    ZS_CMD("zremrangebylex", 4, "write", "@sortedset @slow",
           "Remove all members in a sorted set between the given lexicographical range",
           "2.8.9", ZS_REMRANGE_CPLX, "key min max", zs_cmd_zremrangebylex),
    ZS_CMD("zpopmin", -2, "write fast", "@sortedset @fast",
           "Remove and return members with the lowest scores in a sorted set", "5.0.0",
           "O(log(N)*M) with N being the number of elements in the sorted set, and M being the "
           "number of elements popped.",
           "key [count]", zs_cmd_zpopmin),
    ZS_CMD("zpopmax", -2, "write fast", "@sortedset @fast",
           "Remove and return members with the highest scores in a sorted set", "5.0.0",
           "O(log(N)*M) with N being the number of elements in the sorted set, and M being the "
           "number of elements popped.",
           "key [count]", zs_cmd_zpopmax),
    ZS_CMD("zrandmember", -2, "readonly", "@sortedset @slow",
           "Get one or multiple random elements from a sorted set", "6.2.0",
           "O(N) where N is the number of elements returned", "key [count [WITHSCORES]]",
           zs_cmd_zrandmember),
    ZS_CMD("zscan", -3, "readonly", "@sortedset @slow",
           "Incrementally iterate sorted sets elements and associated scores", "2.8.0",
           "O(1) for every call. O(N) for a complete iteration, including enough command calls "
           "for the cursor to return back to 0. N is the number of elements inside the "
           "collection.",
           "key cursor [MATCH pattern] [COUNT count]", zs_cmd_zscan),
    {.name = "bzpopmin", .arity = -3, .flags = "write noscript blocking fast", .first_key = 1,
     .last_key = -2, .key_step = 1, .acl_categories = "@sortedset @fast @blocking",
     .summary = "Remove and return the member with the lowest score from one or more sorted "
                "sets, or block until one is available",
     .since = "5.0.0", .group = "sorted-set", .complexity = ZS_LOGN,
     .args_doc = "key [key ...] timeout", .multi = &zs_bzpopmin_multi},
    {.name = "bzpopmax", .arity = -3, .flags = "write noscript blocking fast", .first_key = 1,
     .last_key = -2, .key_step = 1, .acl_categories = "@sortedset @fast @blocking",
     .summary = "Remove and return the member with the highest score from one or more sorted "
                "sets, or block until one is available",
     .since = "5.0.0", .group = "sorted-set", .complexity = ZS_LOGN,
     .args_doc = "key [key ...] timeout", .multi = &zs_bzpopmax_multi},
    ZS_MULTI("zunionstore", -4, "write denyoom", "@sortedset @slow",
             "Add multiple sorted sets and store the resulting sorted set in a new key", "2.0.0",
             ZS_UNION_CPLX,
             "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] "
             "[AGGREGATE SUM|MIN|MAX]",
             1, 2, &zs_zunionstore_multi),
    ZS_MULTI("zinterstore", -4, "write denyoom", "@sortedset @slow",
             "Intersect multiple sorted sets and store the resulting sorted set in a new key",
             "2.0.0", ZS_INTER_CPLX,
             "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] "
             "[AGGREGATE SUM|MIN|MAX]",
             1, 2, &zs_zinterstore_multi),
    ZS_MULTI("zdiffstore", -4, "write denyoom", "@sortedset @slow",
             "Subtract multiple sorted sets and store the resulting sorted set in a new key",
             "6.2.0", ZS_DIFF_CPLX, "destination numkeys key [key ...]", 1, 2,
             &zs_zdiffstore_multi),
    ZS_MULTI("zunion", -3, "readonly", "@sortedset @slow", "Add multiple sorted sets", "6.2.0",
             ZS_UNION_CPLX,
             "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] "
             "[WITHSCORES]",
             0, 1, &zs_zunion_multi),
    ZS_MULTI("zinter", -3, "readonly", "@sortedset @slow", "Intersect multiple sorted sets",
             "6.2.0", ZS_INTER_CPLX,
             "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] "
             "[WITHSCORES]",
             0, 1, &zs_zinter_multi),
    ZS_MULTI("zdiff", -3, "readonly", "@sortedset @slow", "Subtract multiple sorted sets",
             "6.2.0", ZS_DIFF_CPLX, "numkeys key [key ...] [WITHSCORES]", 0, 1, &zs_zdiff_multi),
    ZS_MULTI("zintercard", -3, "readonly", "@sortedset @slow",
             "Intersect multiple sorted sets and return the cardinality of the result", "7.0.0",
             "O(N*K) worst case with N being the smallest input sorted set, K being the number "
             "of input sorted sets.",
             "numkeys key [key ...] [LIMIT limit]", 0, 1, &zs_zintercard_multi),
    ZS_MULTI("zmpop", -4, "write", "@sortedset @slow",
             "Remove and return members with scores in a sorted set", "7.0.0",
             "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of "
             "elements in the sorted set, and M being the number of elements popped.",
             "numkeys key [key ...] MIN|MAX [COUNT count]", 0, 1, &zs_zmpop_multi),
    ZS_MULTI("bzmpop", -5, "write blocking", "@sortedset @slow @blocking",
             "Remove and return members with scores in a sorted set or block until one is "
             "available", "7.0.0",
             "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of "
             "elements in the sorted set, and M being the number of elements popped.",
             "timeout numkeys key [key ...] MIN|MAX [COUNT count]", 0, 2, &zs_bzmpop_multi),
    {.name = "zrangestore", .arity = -5, .flags = "write denyoom", .first_key = 1,
     .last_key = 2, .key_step = 1, .acl_categories = "@sortedset @slow",
     .summary = "Store a range of members from sorted set into another key", .since = "6.2.0",
     .group = "sorted-set",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the "
                   "number of elements stored into the destination key.",
     .args_doc = "dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]",
     .multi = &zs_zrangestore_multi},
    {.name = NULL},
};

/* Called once by the core on the main thread: keep the API, register type, configs, commands. */
DFM_EXPORT int dfm_module_init(dfm_module_t *self, const dfm_api_t *api, int argc, char **argv) {
    (void)argc;
    (void)argv;
    zs_api = api;
    zs_self = self;
    if (!DFM_HAS(api, block_on_keys) || !DFM_HAS(api, rdb_load_raw)) {
        api->log(DFM_LOG_WARNING, "zsets: the core lacks the blocking or RDB API (ABI 1.2)");
        return -1;
    }
    if (api->register_type(self, &zs_type, &zs_type_id) < 0) return -1;
    if (DFM_HAS(api, register_rdb_slicer) &&
        api->register_rdb_slicer(self, zs_type_id, &zs_rdb_slicer) < 0)
        return -1;
    for (const dfm_config_t *c = zs_configs; c->name != NULL; c++)
        if (api->register_config(self, c) < 0) return -1;
    for (const dfm_command_t *c = zs_commands; c->name != NULL; c++)
        if (api->register_command(self, c) < 0) return -1;
    if (zs_export_register(self) < 0) return -1;
    return 0;
}
