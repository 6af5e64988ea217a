/*
 * module.c: the lists module: Redis's list commands (LPUSH, LPOP, LRANGE, LINSERT, BLPOP ...).
 * This file keeps the core's API table, registers the "list" type (a packed-node deque, see
 * list.h; its RDB encoding is in rdb.c), holds the lookup and change-announcing helpers every
 * command shares, and ends with the command table and the init function that registers it.
 */
#include <string.h>

#include "lists.h"

DFM_DESCRIPTOR("lists", "1.0.0");

const dfm_api_t *lst_api;
dfm_module_t *lst_self;
int lst_type_id = -1;

/* ---------------------------------------------------------------- the type */

/* Redis 7.0 reports every list as "quicklist" (small lists became "listpack" only in 7.2). */
static const char *const lst_encodings[] = {"quicklist", "listpack", NULL};
/* What rdb.c reads: QUICKLIST_2 (Redis 7.0), LIST, LIST_ZIPLIST, QUICKLIST (older Redis). */
static const int lst_rdb_types[] = {18, 1, 10, 14, -1};

static int lst_type_encoding(const void *obj) {
    (void)obj;
    return 0;
}
static void lst_type_free(void *obj) { ql_free(obj); }
static void *lst_type_copy(const void *obj) { return ql_copy(obj); }
static size_t lst_type_mem(const void *obj) { return ql_mem(obj); }

static const dfm_type_t lst_type = {
    .name = "list",
    .encodings = lst_encodings,
    .rdb_types = lst_rdb_types,
    .encoding = lst_type_encoding,
    .free = lst_type_free,
    .copy = lst_type_copy,
    .mem_usage = lst_type_mem,
    .rdb_save = lst_rdb_save,
    .rdb_load = lst_rdb_load,
};

/* ---------------------------------------------------------------- shared helpers */

int lst_find(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, dfm_key_t **k, ql_t **l) {
    dfm_key_t *key_ = lst_api->lookup(ctx, key, flags);
    if (k) *k = key_;
    *l = NULL;
    if (key_ == NULL) return 0;
    if (lst_api->key_type(key_) != lst_type_id) return -1;
    *l = lst_api->obj_value(key_);
    return 1;
}

int lst_lookup(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, dfm_key_t **k, ql_t **l) {
    int found = lst_find(ctx, key, flags, k, l);
    if (found < 0) lst_api->reply_wrongtype(ctx);
    return found;
}

void lst_pushed(dfm_ctx_t *ctx, const dfm_str_t *key, const char *event) {
    lst_api->signal_modified(ctx, key);
    lst_api->notify(ctx, event, key, 'l');
    lst_api->signal_key_ready(ctx, key);
}

void lst_changed(dfm_ctx_t *ctx, const dfm_str_t *key, dfm_key_t *k, ql_t *l,
                 const char *event) {
    lst_api->notify(ctx, event, key, 'l');
    if (l->count == 0) {
        lst_api->key_delete(ctx, k);
        lst_api->notify(ctx, "del", key, 'g');
    }
    lst_api->signal_modified(ctx, key);
}

int lst_pop_copy(ql_t *l, int where, dfm_str_t *out) {
    dfm_str_t v;
    if (!ql_peek(l, where, &v)) return 0;
    char *copy = lst_api->alloc(v.len ? v.len : 1);
    memcpy(copy, v.ptr, v.len);
    *out = (dfm_str_t){copy, v.len};
    ql_pop(l, where, 1);
    return 1;
}

/* ---------------------------------------------------------------- the command table */

#define LST_CMD(NAME, ARITY, FLAGS, ACL, SUMMARY, SINCE, CPLX, ARGS, FN)                      \
    {.name = NAME, .arity = ARITY, .flags = FLAGS, .first_key = 1, .last_key = 1,             \
     .key_step = 1, .acl_categories = ACL, .summary = SUMMARY, .since = SINCE,                 \
     .group = "list", .complexity = CPLX, .args_doc = ARGS, .handler = FN}

/* Two keys (source, destination), in any shards: a dfm_multi_t (move.c). */
#define LST_MOVE(NAME, ARITY, FLAGS, ACL, SUMMARY, SINCE, ARGS, MULTI)                        \
    {.name = NAME, .arity = ARITY, .flags = FLAGS, .first_key = 1, .last_key = 2,             \
     .key_step = 1, .acl_categories = ACL, .summary = SUMMARY, .since = SINCE,                 \
     .group = "list", .complexity = "O(1)", .args_doc = ARGS, .multi = MULTI}

#define LST_PUSH_CPLX                                                                         \
    "O(1) for each element added, so O(N) to add N elements when the command is called with " \
    "multiple arguments."
#define LST_POP_CPLX "O(N) where N is the number of elements returned"
#define LST_MPOP_CPLX                                                                         \
    "O(N+M) where N is the number of provided keys and M is the number of elements returned."
#define LST_BPOP_CPLX "O(N) where N is the number of provided keys."
#define LST_SORT_CPLX                                                                         \
    "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the "  \
    "number of returned elements. When the elements are not sorted, complexity is O(N)."
#define LST_SORT_ARGS                                                                         \
    "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA]"

static const dfm_command_t lst_commands[] = {
    LST_CMD("lpush", -3, "write denyoom fast", "@list @fast",
            "Prepend one or multiple elements to a list", "1.0.0", LST_PUSH_CPLX,
            "key element [element ...]", lst_cmd_lpush),
    LST_CMD("rpush", -3, "write denyoom fast", "@list @fast",
            "Append one or multiple elements to a list", "1.0.0", LST_PUSH_CPLX,
            "key element [element ...]", lst_cmd_rpush),
    LST_CMD("lpushx", -3, "write denyoom fast", "@list @fast",
            "Prepend an element to a list, only if the list exists", "2.2.0", LST_PUSH_CPLX,
            "key element [element ...]", lst_cmd_lpushx),
    LST_CMD("rpushx", -3, "write denyoom fast", "@list @fast",
            "Append an element to a list, only if the list exists", "2.2.0", LST_PUSH_CPLX,
            "key element [element ...]", lst_cmd_rpushx),
    LST_CMD("linsert", 5, "write denyoom", "@list @slow",
            "Insert an element before or after another element in a list", "2.2.0",
            "O(N) where N is the number of elements to traverse before seeing the value pivot. "
            "This means that inserting somewhere on the left end on the list (head) can be "
            "considered O(1) and inserting somewhere on the right end (tail) is O(N).",
            "key BEFORE|AFTER pivot element", lst_cmd_linsert),
    LST_CMD("lpop", -2, "write fast", "@list @fast",
            "Remove and get the first elements in a list", "1.0.0", LST_POP_CPLX,
            "key [count]", lst_cmd_lpop),
    LST_CMD("rpop", -2, "write fast", "@list @fast",
            "Remove and get the last elements in a list", "1.0.0", LST_POP_CPLX,
            "key [count]", lst_cmd_rpop),
    LST_CMD("llen", 2, "readonly fast", "@list @fast", "Get the length of a list", "1.0.0",
            "O(1)", "key", lst_cmd_llen),
    LST_CMD("lrange", 4, "readonly", "@list @slow", "Get a range of elements from a list",
            "1.0.0",
            "O(S+N) where S is the distance of start offset from HEAD for small lists, from "
            "nearest end (HEAD or TAIL) for large lists; and N is the number of elements in "
            "the specified range.",
            "key start stop", lst_cmd_lrange),
    LST_CMD("lindex", 3, "readonly", "@list @slow", "Get an element from a list by its index",
            "1.0.0",
            "O(N) where N is the number of elements to traverse to get to the element at "
            "index. This makes asking for the first or the last element of the list O(1).",
            "key index", lst_cmd_lindex),
    LST_CMD("lpos", -3, "readonly", "@list @slow",
            "Return the index of matching elements on a list", "6.0.6",
            "O(N) where N is the number of elements in the list, for the average case. When "
            "searching for elements near the head or the tail of the list, or when the MAXLEN "
            "option is provided, the command may run in constant time.",
            "key element [RANK rank] [COUNT num-matches] [MAXLEN len]", lst_cmd_lpos),
    LST_CMD("lset", 4, "write denyoom", "@list @slow",
            "Set the value of an element in a list by its index", "1.0.0",
            "O(N) where N is the length of the list. Setting either the first or the last "
            "element of the list is O(1).",
            "key index element", lst_cmd_lset),
    LST_CMD("ltrim", 4, "write", "@list @slow", "Trim a list to the specified range", "1.0.0",
            "O(N) where N is the number of elements to be removed by the operation.",
            "key start stop", lst_cmd_ltrim),
    LST_CMD("lrem", 4, "write", "@list @slow", "Remove elements from a list", "1.0.0",
            "O(N+M) where N is the length of the list and M is the number of elements "
            "removed.",
            "key count element", lst_cmd_lrem),
    {.name = "blpop", .arity = -3, .flags = "write noscript blocking", .first_key = 1, .last_key = -2,
     .key_step = 1, .acl_categories = "@list @slow @blocking",
     .summary = "Remove and get the first element in a list, or block until one is available",
     .since = "2.0.0", .group = "list", .complexity = LST_BPOP_CPLX,
     .args_doc = "key [key ...] timeout", .multi = &lst_blpop_multi},
    {.name = "brpop", .arity = -3, .flags = "write noscript blocking", .first_key = 1, .last_key = -2,
     .key_step = 1, .acl_categories = "@list @slow @blocking",
     .summary = "Remove and get the last element in a list, or block until one is available",
     .since = "2.0.0", .group = "list", .complexity = LST_BPOP_CPLX,
     .args_doc = "key [key ...] timeout", .multi = &lst_brpop_multi},
    LST_MOVE("lmove", 5, "write denyoom", "@list @slow",
             "Pop an element from a list, push it to another list and return it", "6.2.0",
             "source destination LEFT|RIGHT LEFT|RIGHT", &lst_lmove_multi),
    LST_MOVE("rpoplpush", 3, "write denyoom", "@list @slow",
             "Remove the last element in a list, prepend it to another list and return it",
             "1.2.0", "source destination", &lst_rpoplpush_multi),
    LST_MOVE("blmove", 6, "write denyoom noscript blocking", "@list @slow @blocking",
             "Pop an element from a list, push it to another list and return it; or block "
             "until one is available",
             "6.2.0", "source destination LEFT|RIGHT LEFT|RIGHT timeout", &lst_blmove_multi),
    LST_MOVE("brpoplpush", 4, "write denyoom noscript blocking", "@list @slow @blocking",
             "Pop an element from a list, push it to another list and return it; or block "
             "until one is available",
             "2.2.0", "source destination timeout", &lst_brpoplpush_multi),
    {.name = "lmpop", .arity = -4, .flags = "write", .keynum_index = 1,
     .acl_categories = "@list @slow",
     .summary = "Pop elements from the first non-empty list among the given keys",
     .since = "7.0.0", .group = "list", .complexity = LST_MPOP_CPLX,
     .args_doc = "numkeys key [key ...] LEFT|RIGHT [COUNT count]", .multi = &lst_lmpop_multi},
    {.name = "blmpop", .arity = -5, .flags = "write blocking", .keynum_index = 2,
     .acl_categories = "@list @slow @blocking",
     .summary = "Pop elements from the first non-empty list among the given keys, or block "
                "until one is available",
     .since = "7.0.0", .group = "list", .complexity = LST_MPOP_CPLX,
     .args_doc = "timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]",
     .multi = &lst_blmpop_multi},
    /* SORT's keys (the source, STORE's destination) are found by sort.c's function. */
    {.name = "sort", .arity = -2, .flags = "write denyoom", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@set @sortedset @list @slow @dangerous",
     .summary = "Sort the elements in a list, set or sorted set", .since = "1.0.0",
     .group = "generic", .complexity = LST_SORT_CPLX, .args_doc = LST_SORT_ARGS " [STORE destination]",
     .multi = &lst_sort_multi},
    {.name = "sort_ro", .arity = -2, .flags = "readonly", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@set @sortedset @list @slow @dangerous",
     .summary = "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
     .since = "7.0.0", .group = "generic", .complexity = LST_SORT_CPLX,
     .args_doc = LST_SORT_ARGS, .handler = lst_cmd_sort_ro},
    {.name = NULL},
};

/* Called once by the core on the main thread: keep the API, register the type and commands. */
DFM_EXPORT int dfm_module_init(dfm_module_t *self, const dfm_api_t *api, int argc, char **argv) {
    (void)argc;
    (void)argv;
    lst_api = api;
    lst_self = self;
    if (!DFM_HAS(api, block_on_keys) || !DFM_HAS(api, signal_key_ready)) {
        api->log(DFM_LOG_WARNING, "lists: the core lacks the blocking API (ABI 1.1)");
        return -1;
    }
    if (!DFM_HAS(api, rdb_load_raw)) {
        api->log(DFM_LOG_WARNING, "lists: the core lacks the RDB helpers (ABI 1.2)");
        return -1;
    }
    if (!DFM_HAS(api, can_block)) {
        api->log(DFM_LOG_WARNING, "lists: the core lacks can_block (ABI 1.3)");
        return -1;
    }
    if (!DFM_HAS(api, set_command_keys)) {
        api->log(DFM_LOG_WARNING, "lists: the core lacks set_command_keys (ABI 1.4)");
        return -1;
    }
    if (api->register_type(self, &lst_type, &lst_type_id) < 0) return -1;
    if (DFM_HAS(api, register_rdb_slicer) &&
        api->register_rdb_slicer(self, lst_type_id, &lst_rdb_slicer) < 0)
        return -1;
    for (const dfm_command_t *c = lst_commands; c->name != NULL; c++)
        if (api->register_command(self, c) < 0) return -1;
    if (lst_sort_register(self) < 0) return -1;
    return 0;
}
