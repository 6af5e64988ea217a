/*
 * module.c: the streams module: Redis 7.0's stream commands. This file keeps the core's API
 * table, registers the "stream" type (streams.h; RDB in rdb.c), holds the lookup helper every
 * command shares, and ends with the command table and the init function that registers it.
 */
#include <string.h>

#include "streams.h"

DFM_DESCRIPTOR("streams", "1.0.0");

const dfm_api_t *xs_api;
int xs_type_id = -1;

static const char *const xs_encodings[] = {"stream", NULL};
static const int xs_rdb_types[] = {19, -1};

static int xs_type_encoding(const void *obj) {
    (void)obj;
    return 0;
}

static const dfm_type_t xs_type = {
    .name = "stream",
    .encodings = xs_encodings,
    .rdb_types = xs_rdb_types,
    .encoding = xs_type_encoding,
    .free = stream_free,
    .copy = stream_copy,
    .mem_usage = stream_mem,
    .rdb_save = xs_rdb_save,
    .rdb_load = xs_rdb_load,
};

int xs_lookup(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, stream_t **s, int reply) {
    dfm_key_t *k = xs_api->lookup(ctx, key, flags);
    *s = NULL;
    if (!k) return 0;
    if (xs_api->key_type(k) != xs_type_id) {
        if (reply) xs_api->reply_wrongtype(ctx);
        return -1;
    }
    *s = xs_api->obj_value(k);
    return 1;
}

char *xs_dup(const dfm_str_t *a) {
    char *p = xs_api->alloc(a->len + 1);
    memcpy(p, a->ptr, a->len);
    p[a->len] = '\0';
    return p;
}

/* ---------------------------------------------------------------- the command table */

#define XS_CMD(NAME, ARITY, FLAGS, ACL, SUMMARY, CPLX, ARGS, FN)                              \
    {.name = NAME, .arity = ARITY, .flags = FLAGS, .first_key = 1, .last_key = 1,             \
     .key_step = 1, .acl_categories = ACL, .summary = SUMMARY, .since = "5.0.0",               \
     .group = "stream", .complexity = CPLX, .args_doc = ARGS, .handler = FN}
#define XS_SUB(NAME, ARITY, FLAGS, ACL, SUMMARY, ARGS, FN)                                    \
    {.name = NAME, .arity = ARITY, .flags = FLAGS, .first_key = 2, .last_key = 2,             \
     .key_step = 1, .acl_categories = ACL, .summary = SUMMARY, .since = "5.0.0",               \
     .group = "stream", .complexity = "O(1)", .args_doc = ARGS, .handler = FN}

#define XS_RANGE_CPLX                                                                         \
    "O(N) with N being the number of elements being returned. If N is constant (e.g. always " \
    "asking for the first 10 elements with COUNT), you can consider it O(1)."
#define XS_READ_CPLX                                                                          \
    "For each stream mentioned: O(M) with M being the number of elements returned. If M is "  \
    "constant (e.g. always asking for the first 10 elements with COUNT), you can consider it " \
    "O(1). On the other side when XREAD blocks, XADD will pay O(N) time in order to serve "    \
    "the N clients blocked on the stream getting new data."

static const dfm_command_t xs_commands[] = {
    XS_CMD("xadd", -5, "write denyoom fast", "@stream @fast",
           "Appends a new entry to a stream",
           "O(1) when adding a new entry, O(N) when trimming where N being the number of "
           "entries evicted.",
           "key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value "
           "[field value ...]",
           xs_cmd_xadd),
    XS_CMD("xtrim", -4, "write", "@stream @slow", "Trims the stream to (approximately if '~' "
           "is passed) a certain size",
           "O(N), with N being the number of evicted entries. Constant times are very small "
           "however, since entries are organized in macro nodes containing multiple entries "
           "that can be released with a single deallocation.",
           "key MAXLEN|MINID [=|~] threshold [LIMIT count]", xs_cmd_xtrim),
    XS_CMD("xdel", -3, "write fast", "@stream @fast",
           "Removes the specified entries from the stream. Returns the number of items "
           "actually deleted, that may be different from the number of IDs passed in case "
           "certain IDs do not exist.",
           "O(1) for each single item to delete in the stream, regardless of the stream size.",
           "key id [id ...]", xs_cmd_xdel),
    XS_CMD("xlen", 2, "readonly fast", "@stream @fast", "Return the number of entries in a "
           "stream", "O(1)", "key", xs_cmd_xlen),
    XS_CMD("xsetid", -3, "write denyoom fast", "@stream @fast",
           "An internal command for replicating stream values", "O(1)",
           "key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]",
           xs_cmd_xsetid),
    XS_CMD("xrange", -4, "readonly", "@stream @slow",
           "Return a range of elements in a stream, with IDs matching the specified IDs "
           "interval", XS_RANGE_CPLX, "key start end [COUNT count]", xs_cmd_xrange),
    XS_CMD("xrevrange", -4, "readonly", "@stream @slow",
           "Return a range of elements in a stream, with IDs matching the specified IDs "
           "interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
           XS_RANGE_CPLX, "key end start [COUNT count]", xs_cmd_xrevrange),
    {.name = "xread", .arity = -4, .flags = "readonly blocking", .first_key = 1,
     .key_keyword = "STREAMS", .key_step = 1, .acl_categories = "@stream @slow @blocking",
     .summary = "Return never seen elements in multiple streams, with IDs greater than the "
                "ones reported by the caller for each stream. Can block.",
     .since = "5.0.0", .group = "stream", .complexity = XS_READ_CPLX,
     .args_doc = "[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]",
     .multi = &xs_xread_multi},
    {.name = "xreadgroup", .arity = -7, .flags = "write blocking", .first_key = 4,
     .key_keyword = "STREAMS", .key_step = 1, .acl_categories = "@stream @slow @blocking",
     .summary = "Return new entries from a stream using a consumer group, or access the history "
                "of the pending entries for a given consumer. Can block.",
     .since = "5.0.0", .group = "stream",
     .complexity = "For each stream mentioned: O(M) with M the number of elements returned. If "
                   "M is constant (e.g. always asking for the first 10 elements with COUNT), "
                   "you can consider it O(1). On the other side when XREADGROUP blocks, XADD "
                   "will pay the O(N) time in order to serve the N clients blocked on the "
                   "stream getting new data.",
     .args_doc = "GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key "
                 "[key ...] id [id ...]",
     .multi = &xs_xreadgroup_multi},
    XS_SUB("xgroup|create", -5, "write denyoom", "@stream @slow", "Create a consumer group.",
           "key groupname id|$ [MKSTREAM] [ENTRIESREAD entries-read]", xs_cmd_xgroup_create),
    XS_SUB("xgroup|destroy", 4, "write", "@stream @slow", "Destroy a consumer group.",
           "key groupname", xs_cmd_xgroup_destroy),
    XS_SUB("xgroup|setid", -5, "write", "@stream @slow", "Set a consumer group to an "
           "arbitrary last delivered ID value.", "key groupname id|$ [ENTRIESREAD entries-read]",
           xs_cmd_xgroup_setid),
    XS_SUB("xgroup|createconsumer", 5, "write denyoom", "@stream @slow", "Create a consumer "
           "in a consumer group.", "key groupname consumername", xs_cmd_xgroup_createconsumer),
    XS_SUB("xgroup|delconsumer", 5, "write", "@stream @slow", "Delete a consumer from a "
           "consumer group.", "key groupname consumername", xs_cmd_xgroup_delconsumer),
    {.name = "xgroup|help", .arity = 2, .flags = "loading stale", .acl_categories = "@stream @slow",
     .summary = "Show helpful text about the different subcommands", .since = "5.0.0",
     .group = "stream", .complexity = "O(1)", .handler = xs_cmd_xgroup_help},
    {.name = "xinfo|help", .arity = 2, .flags = "loading stale", .acl_categories = "@stream @slow",
     .summary = "Show helpful text about the different subcommands", .since = "5.0.0",
     .group = "stream", .complexity = "O(1)", .handler = xs_cmd_xinfo_help},
    XS_SUB("xinfo|stream", -3, "readonly", "@stream @slow", "Get information about a stream",
           "key [FULL [COUNT count]]", xs_cmd_xinfo_stream),
    XS_SUB("xinfo|groups", 3, "readonly", "@stream @slow", "List the consumer groups of a "
           "stream", "key", xs_cmd_xinfo_groups),
    XS_SUB("xinfo|consumers", 4, "readonly", "@stream @slow", "List the consumers in a "
           "consumer group", "key groupname", xs_cmd_xinfo_consumers),
    XS_CMD("xack", -4, "write fast", "@stream @fast", "Marks a pending message as correctly "
           "processed, effectively removing it from the pending entries list of the consumer "
           "group. Return value of the command is the number of messages successfully "
           "acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
           "O(1) for each message ID processed.", "key group id [id ...]", xs_cmd_xack),
    XS_CMD("xpending", -3, "readonly", "@stream @slow", "Return information and entries from a "
           "stream consumer group pending entries list, that are messages fetched but never "
           "acknowledged.",
           "O(N) with N being the number of elements returned, so asking for a small fixed "
           "number of entries per call is O(1). O(M), where M is the total number of entries "
           "scanned when used with the IDLE filter. When the command returns just the "
           "summary and the list of consumers is small, it runs in O(1) time; otherwise, an "
           "additional O(N) time for iterating every consumer.",
           "key group [[IDLE min-idle-time] start end count [consumer]]", xs_cmd_xpending),
    XS_CMD("xclaim", -6, "write fast", "@stream @fast", "Changes (or acquires) ownership of a "
           "message in a consumer group, as if the message was delivered to the specified "
           "consumer.", "O(log N) with N being the number of messages in the PEL of the "
           "consumer group.",
           "key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] "
           "[RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]", xs_cmd_xclaim),
    XS_CMD("xautoclaim", -6, "write fast", "@stream @fast", "Changes (or acquires) ownership "
           "of messages in a consumer group, as if the messages were delivered to the "
           "specified consumer.", "O(1) if COUNT is small.",
           "key group consumer min-idle-time start [COUNT count] [JUSTID]", xs_cmd_xautoclaim),
    {.name = NULL},
};

/* Called once by the core on the main thread: keep the API, register the type and commands. */
DFM_EXPORT int dfm_module_init(dfm_module_t *self, const dfm_api_t *api, int argc, char **argv) {
    (void)argc, (void)argv;
    xs_api = api;
    if (!DFM_HAS(api, set_command_keys) || !DFM_HAS(api, can_block)) {
        api->log(DFM_LOG_WARNING, "streams: the core lacks set_command_keys (ABI 1.4)");
        return -1;
    }
    if (api->register_type(self, &xs_type, &xs_type_id) < 0) return -1;
    if (DFM_HAS(api, register_rdb_slicer) &&
        api->register_rdb_slicer(self, xs_type_id, &xs_rdb_slicer) < 0)
        return -1;
    if (api->register_shard_hooks(self, NULL, xs_cursor_release) < 0) return -1;
    for (const dfm_command_t *c = xs_commands; c->name != NULL; c++)
        if (api->register_command(self, c) < 0) return -1;
    if (api->set_command_keys(self, "xread", xs_read_keys) < 0) return -1;
    if (api->set_command_keys(self, "xreadgroup", xs_read_keys) < 0) return -1;
    return 0;
}
