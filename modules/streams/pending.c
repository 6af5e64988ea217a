/*
 * pending.c: XACK and XPENDING (the summary and the extended form with IDLE and a
 * consumer). Shard thread.
 */
#include "streams.h"

/* XACK key group id [id ...] */
void xs_cmd_xack(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    stream_t *s;
    int found = xs_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, &s, 1);
    if (found < 0) return;
    xgroup_t *g = found ? xg_find(s, &argv[2]) : NULL;
    if (!g) {
        xs_api->reply_int(ctx, 0);
        return;
    }
    sid_t id;
    for (int i = 3; i < argc; i++)
        if (xs_parse_id(ctx, &argv[i], &id, 0, 1, NULL) < 0) return;
    long long n = 0;
    for (int i = 3; i < argc; i++) {
        xs_parse_id_quiet(&argv[i], &id, 0, 1, NULL);
        n += xg_pel_del(g, &id);
    }
    if (n) xs_api->signal_modified(ctx, &argv[1]);
    xs_api->reply_int(ctx, n);
}

typedef struct pending_args {
    long long minidle, count;
    sid_t lo, hi;
    const dfm_str_t *consumer;
} pending_args_t;

static int parse_pending(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, pending_args_t *p) {
    *p = (pending_args_t){0};
    if (argc != 3 && (argc < 6 || argc > 9)) {
        xs_api->reply_syntax_error(ctx);
        return -1;
    }
    if (argc == 3) return 0;
    int i = 3;
    if (xs_api->arg_eq(&argv[3], "idle")) {
        if (xs_api->arg_ll(ctx, &argv[4], &p->minidle) < 0) return -1;
        if (argc < 8) {
            xs_api->reply_syntax_error(ctx);
            return -1;
        }
        i += 2;
    }
    if (xs_api->arg_ll(ctx, &argv[i + 2], &p->count) < 0) return -1;
    if (p->count < 0) p->count = 0;
    if (xs_parse_bound(ctx, &argv[i], &p->lo, 1) < 0 ||
        xs_parse_bound(ctx, &argv[i + 1], &p->hi, 0) < 0)
        return -1;
    if (i + 3 < argc) p->consumer = &argv[i + 3];
    return 0;
}

static void pending_summary(dfm_ctx_t *ctx, const xgroup_t *g) {
    xs_api->reply_array(ctx, 4);
    xs_api->reply_int(ctx, (long long)g->npel);
    if (g->npel == 0) {
        xs_api->reply_null(ctx);
        xs_api->reply_null(ctx);
        xs_api->reply_null_array(ctx);
        return;
    }
    xs_reply_id(ctx, &g->pel[0].id);
    xs_reply_id(ctx, &g->pel[g->npel - 1].id);
    long n = 0;
    for (size_t i = 0; i < g->ncons; i++) n += g->cons[i]->npending > 0;
    xs_api->reply_array(ctx, n);
    for (size_t i = 0; i < g->ncons; i++) {
        const xcons_t *c = g->cons[i];
        if (!c->npending) continue;
        char buf[32];
        int len = xs_api->ll_to_str(buf, sizeof buf, (long long)c->npending);
        xs_api->reply_array(ctx, 2);
        xs_api->reply_bulk(ctx, c->name, c->len);
        xs_api->reply_bulk(ctx, buf, (size_t)len);
    }
}

static int pending_match(const xnack_t *nk, const xcons_t *c, const pending_args_t *p,
                         int64_t now) {
    if (c && nk->owner != c) return 0;
    return !p->minidle || now - nk->time_ms >= p->minidle;
}

static void pending_range(dfm_ctx_t *ctx, const xgroup_t *g, const pending_args_t *p) {
    const xcons_t *c = NULL;
    if (p->consumer && !(c = xg_consumer(g, p->consumer))) {
        xs_api->reply_array(ctx, 0);
        return;
    }
    int64_t now = xs_api->now_ms();
    size_t a = xg_pel_seek(g, &p->lo), n = 0;
    for (size_t i = a; i < g->npel && (long long)n < p->count; i++) {
        if (sid_cmp(&g->pel[i].id, &p->hi) > 0) break;
        n += pending_match(&g->pel[i], c, p, now);
    }
    xs_api->reply_array(ctx, (long)n);
    for (size_t i = a; n > 0; i++) {
        const xnack_t *nk = &g->pel[i];
        if (!pending_match(nk, c, p, now)) continue;
        n--;
        xs_api->reply_array(ctx, 4);
        xs_reply_id(ctx, &nk->id);
        xs_api->reply_bulk(ctx, nk->owner->name, nk->owner->len);
        xs_api->reply_int(ctx, now - nk->time_ms > 0 ? now - nk->time_ms : 0);
        xs_api->reply_int(ctx, (long long)nk->count);
    }
}

/* XPENDING key group [[IDLE min-idle-time] start end count [consumer]] */
void xs_cmd_xpending(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    pending_args_t p;
    if (parse_pending(ctx, argc, argv, &p) < 0) return;
    stream_t *s;
    int found = xs_lookup(ctx, &argv[1], DFM_LOOKUP_READ, &s, 1);
    if (found < 0) return;
    xgroup_t *g = found ? xg_find(s, &argv[2]) : NULL;
    if (!g) {
        xs_api->reply_errorf(ctx, "NOGROUP No such key '%.*s' or consumer group '%.*s'",
                             (int)argv[1].len, argv[1].ptr, (int)argv[2].len, argv[2].ptr);
        return;
    }
    if (argc == 3)
        pending_summary(ctx, g);
    else
        pending_range(ctx, g, &p);
}
