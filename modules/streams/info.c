/*
 * info.c: XINFO STREAM (the FULL form's tail is in infofull.c), XINFO GROUPS and XINFO
 * CONSUMERS, with Redis 7.0's fields (entries-read and lag included). Shard thread.
 */
#include "streams.h"

static int info_lookup(dfm_ctx_t *ctx, const dfm_str_t *key, stream_t **s) {
    int found = xs_lookup(ctx, key, DFM_LOOKUP_READ, s, 1);
    if (found == 0) xs_api->reply_error(ctx, "ERR no such key");
    return found > 0 ? 0 : -1;
}

static void field_int(dfm_ctx_t *ctx, const char *name, long long v) {
    xs_api->reply_cstr(ctx, name);
    xs_api->reply_int(ctx, v);
}

static void field_id(dfm_ctx_t *ctx, const char *name, const sid_t *id) {
    xs_api->reply_cstr(ctx, name);
    xs_reply_id(ctx, id);
}

static void field_entry(dfm_ctx_t *ctx, const char *name, const xent_t *e) {
    xs_api->reply_cstr(ctx, name);
    if (e)
        xs_reply_entry(ctx, e);
    else
        xs_api->reply_null(ctx);
}

/* [FULL [COUNT count]] after the key: 0 summary, 1 full, -1 replied an error. */
static int parse_full(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, long long *count) {
    *count = 10;
    if (argc == 3) return 0;
    if (!xs_api->arg_eq(&argv[3], "full") || (argc != 4 && argc != 6) ||
        (argc == 6 && !xs_api->arg_eq(&argv[4], "count"))) {
        xs_api->reply_errorf(ctx, "ERR unknown subcommand or wrong number of arguments for "
                                  "'%.*s'. Try XINFO HELP.", (int)argv[1].len, argv[1].ptr);
        return -1;
    }
    if (argc == 6 && xs_api->arg_ll(ctx, &argv[5], count) < 0) return -1;
    if (*count < 0) *count = 10;
    return 1;
}

/* XINFO STREAM key [FULL [COUNT count]] */
void xs_cmd_xinfo_stream(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    stream_t *s;
    long long count;
    int full = parse_full(ctx, argc, argv, &count);
    if (full < 0 || info_lookup(ctx, &argv[2], &s) < 0) return;
    long long nodes = (long long)stream_nodes(s);
    xs_api->reply_map(ctx, full ? 9 : 10);
    field_int(ctx, "length", (long long)s->len);
    field_int(ctx, "radix-tree-keys", nodes);
    field_int(ctx, "radix-tree-nodes", nodes + 1);
    field_id(ctx, "last-generated-id", &s->last_id);
    field_id(ctx, "max-deleted-entry-id", &s->max_deleted);
    field_int(ctx, "entries-added", (long long)s->entries_added);
    field_id(ctx, "recorded-first-entry-id", &s->first_id);
    if (full) {
        xs_info_full_tail(ctx, s, count);
        return;
    }
    field_int(ctx, "groups", (long long)s->ngroups);
    field_entry(ctx, "first-entry", stream_at(s, 0));
    field_entry(ctx, "last-entry", stream_last(s));
}

/* Redis's streamReplyWithCGLag: the lag, or null when it cannot be known. */
static void reply_lag(dfm_ctx_t *ctx, const stream_t *s, const xgroup_t *g) {
    long long read;
    if (!s->entries_added) {
        read = 0;
    } else if (g->entries_read != XS_INVALID_READ && !xs_has_tombstones(s, &g->last_id)) {
        read = g->entries_read;
    } else if ((read = xs_estimate_read(s, &g->last_id)) == XS_INVALID_READ) {
        xs_api->reply_null(ctx);
        return;
    }
    xs_api->reply_int(ctx, s->entries_added ? (long long)s->entries_added - read : 0);
}

/* The fields last-delivered-id, entries-read and lag of group g (XINFO GROUPS and FULL). */
void xs_reply_group_progress(dfm_ctx_t *ctx, const stream_t *s, const xgroup_t *g) {
    field_id(ctx, "last-delivered-id", &g->last_id);
    xs_api->reply_cstr(ctx, "entries-read");
    if (g->entries_read != XS_INVALID_READ)
        xs_api->reply_int(ctx, g->entries_read);
    else
        xs_api->reply_null(ctx);
    xs_api->reply_cstr(ctx, "lag");
    reply_lag(ctx, s, g);
}

/* XINFO GROUPS key */
void xs_cmd_xinfo_groups(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    stream_t *s;
    if (info_lookup(ctx, &argv[2], &s) < 0) return;
    xs_api->reply_array(ctx, (long)s->ngroups);
    for (size_t i = 0; i < s->ngroups; i++) {
        const xgroup_t *g = s->groups[i];
        xs_api->reply_map(ctx, 6);
        xs_api->reply_cstr(ctx, "name");
        xs_api->reply_bulk(ctx, g->name, g->len);
        field_int(ctx, "consumers", (long long)g->ncons);
        field_int(ctx, "pending", (long long)g->npel);
        xs_reply_group_progress(ctx, s, g);
    }
}

/* XINFO CONSUMERS key group */
void xs_cmd_xinfo_consumers(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    stream_t *s;
    if (info_lookup(ctx, &argv[2], &s) < 0) return;
    const xgroup_t *g = xg_find(s, &argv[3]);
    if (!g) {
        xs_api->reply_errorf(ctx, "NOGROUP No such consumer group '%.*s' for key name '%.*s'",
                             (int)argv[3].len, argv[3].ptr, (int)argv[2].len, argv[2].ptr);
        return;
    }
    int64_t now = xs_api->now_ms();
    xs_api->reply_array(ctx, (long)g->ncons);
    for (size_t i = 0; i < g->ncons; i++) {
        const xcons_t *c = g->cons[i];
        xs_api->reply_map(ctx, 3);
        xs_api->reply_cstr(ctx, "name");
        xs_api->reply_bulk(ctx, c->name, c->len);
        field_int(ctx, "pending", (long long)c->npending);
        field_int(ctx, "idle", now - c->seen_ms > 0 ? now - c->seen_ms : 0);
    }
}
