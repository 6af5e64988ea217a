/*
 * infofull.c: XINFO STREAM key FULL [COUNT count]: the stream's fields, then up to count
 * entries, and every group with up to count pending entries and its consumers with up to
 * count of theirs (Redis 7.0's layout; count 0 = everything, default 10). Shard thread.
 */
#include "streams.h"

static size_t cap(size_t n, long long count) {
    return count > 0 && (size_t)count < n ? (size_t)count : n;
}

static void full_consumer(dfm_ctx_t *ctx, const xgroup_t *g, const xcons_t *c, long long count) {
    xs_api->reply_map(ctx, 4);
    xs_api->reply_cstr(ctx, "name");
    xs_api->reply_bulk(ctx, c->name, c->len);
    xs_api->reply_cstr(ctx, "seen-time");
    xs_api->reply_int(ctx, c->seen_ms);
    xs_api->reply_cstr(ctx, "pel-count");
    xs_api->reply_int(ctx, (long long)c->npending);
    xs_api->reply_cstr(ctx, "pending");
    size_t n = cap(c->npending, count);
    xs_api->reply_array(ctx, (long)n);
    for (size_t i = 0; n > 0 && i < g->npel; i++) {
        const xnack_t *nk = &g->pel[i];
        if (nk->owner != c) continue;
        n--;
        xs_api->reply_array(ctx, 3);
        xs_reply_id(ctx, &nk->id);
        xs_api->reply_int(ctx, nk->time_ms);
        xs_api->reply_int(ctx, (long long)nk->count);
    }
}

static void full_group(dfm_ctx_t *ctx, const stream_t *s, const xgroup_t *g, long long count) {
    xs_api->reply_map(ctx, 7);
    xs_api->reply_cstr(ctx, "name");
    xs_api->reply_bulk(ctx, g->name, g->len);
    xs_reply_group_progress(ctx, s, g);
    xs_api->reply_cstr(ctx, "pel-count");
    xs_api->reply_int(ctx, (long long)g->npel);
    xs_api->reply_cstr(ctx, "pending");
    size_t n = cap(g->npel, count);
    xs_api->reply_array(ctx, (long)n);
    for (size_t i = 0; i < n; i++) {
        const xnack_t *nk = &g->pel[i];
        xs_api->reply_array(ctx, 4);
        xs_reply_id(ctx, &nk->id);
        xs_api->reply_bulk(ctx, nk->owner->name, nk->owner->len);
        xs_api->reply_int(ctx, nk->time_ms);
        xs_api->reply_int(ctx, (long long)nk->count);
    }
    xs_api->reply_cstr(ctx, "consumers");
    xs_api->reply_array(ctx, (long)g->ncons);
    for (size_t i = 0; i < g->ncons; i++) full_consumer(ctx, g, g->cons[i], count);
}

/* The FULL form's entries and groups, after the common fields (info.c). */
void xs_info_full_tail(dfm_ctx_t *ctx, const stream_t *s, long long count) {
    size_t n = cap(s->len, count);
    xs_api->reply_cstr(ctx, "entries");
    xs_api->reply_array(ctx, (long)n);
    for (size_t i = 0; i < n; i++) xs_reply_entry(ctx, stream_at(s, i));
    xs_api->reply_cstr(ctx, "groups");
    xs_api->reply_array(ctx, (long)s->ngroups);
    for (size_t i = 0; i < s->ngroups; i++) full_group(ctx, s, s->groups[i], count);
}
