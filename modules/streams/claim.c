/*
 * claim.c: XCLAIM and XAUTOCLAIM: moving pending entries of a group to another consumer.
 * Both look the key and group up first (NOGROUP otherwise); pending entries whose stream
 * entry was deleted are dropped from the pending list, as Redis does. Shard thread.
 */
#include <string.h>

#include "streams.h"

static xgroup_t *claim_group(dfm_ctx_t *ctx, const dfm_str_t *argv, stream_t **s) {
    int found = xs_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, s, 1);
    if (found < 0) return NULL;
    xgroup_t *g = found ? xg_find(*s, &argv[2]) : NULL;
    if (!g)
        xs_api->reply_errorf(ctx, "NOGROUP No such key '%.*s' or consumer group '%.*s'",
                             (int)argv[1].len, argv[1].ptr, (int)argv[2].len, argv[2].ptr);
    return g;
}

/* Give pending entry nk to c with delivery time `when`. */
static void claim_to(xnack_t *nk, xcons_t *c, int64_t when) {
    if (nk->owner != c) {
        if (nk->owner) nk->owner->npending--;
        c->npending++;
        nk->owner = c;
    }
    nk->time_ms = when;
}

static void reply_claimed(dfm_ctx_t *ctx, const stream_t *s, const sid_t *id, int justid) {
    if (justid) {
        xs_reply_id(ctx, id);
        return;
    }
    const xent_t *e = stream_find(s, id);
    if (e)
        xs_reply_entry(ctx, e);
    else
        xs_api->reply_null(ctx);
}

typedef struct claim_opts {
    int64_t when; /* -1: now */
    long long retry;
    int force, justid;
    sid_t lastid;
} claim_opts_t;

static int claim_opt_ll(dfm_ctx_t *ctx, const dfm_str_t *a, long long *v, const char *what) {
    if (xs_api->str_to_ll(a->ptr, a->len, v) == 0) return 0;
    xs_api->reply_errorf(ctx, "ERR Invalid %s option argument for XCLAIM", what);
    return -1;
}

/* The options after the ids (from argv[j]). */
static int parse_claim_opts(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int j,
                            claim_opts_t *o, int64_t now) {
    *o = (claim_opts_t){.when = -1, .retry = -1};
    long long v;
    for (; j < argc; j++) {
        int more = argc - 1 - j;
        if (xs_api->arg_eq(&argv[j], "force")) {
            o->force = 1;
        } else if (xs_api->arg_eq(&argv[j], "justid")) {
            o->justid = 1;
        } else if (xs_api->arg_eq(&argv[j], "idle") && more) {
            if (claim_opt_ll(ctx, &argv[++j], &v, "IDLE") < 0) return -1;
            o->when = v < 0 || v > now ? now : now - v; /* no signed overflow on odd IDLEs */
        } else if (xs_api->arg_eq(&argv[j], "time") && more) {
            if (claim_opt_ll(ctx, &argv[++j], &v, "TIME") < 0) return -1;
            o->when = v;
        } else if (xs_api->arg_eq(&argv[j], "retrycount") && more) {
            if (claim_opt_ll(ctx, &argv[++j], &o->retry, "RETRYCOUNT") < 0) return -1;
        } else if (xs_api->arg_eq(&argv[j], "lastid") && more) {
            if (xs_parse_id(ctx, &argv[++j], &o->lastid, 0, 1, NULL) < 0) return -1;
        } else {
            xs_api->reply_errorf(ctx, "ERR Unrecognized XCLAIM option '%.*s'", (int)argv[j].len,
                                 argv[j].ptr);
            return -1;
        }
    }
    if (o->when < 0 || o->when > now) o->when = now;
    return 0;
}

/* Claim one id; returns 1 when it is part of the reply. */
static int claim_one(dfm_ctx_t *ctx, const dfm_str_t *argv, stream_t *s, xgroup_t *g,
                     const sid_t *id, const claim_opts_t *o, long long minidle, xcons_t **c,
                     int64_t now) {
    xnack_t *nk = xg_pel_find(g, id);
    if (!stream_find(s, id)) {
        if (nk) xg_pel_del(g, id);
        return 0;
    }
    if (!nk && !o->force) return 0;
    if (nk && minidle && now - nk->time_ms < minidle) return 0;
    if (!*c) *c = xg_consumer_seen(ctx, &argv[1], g, &argv[3]);
    if (!nk) {
        xg_pel_put(g, id, *c, now); /* FORCE: a new pending entry, delivered once */
        nk = xg_pel_find(g, id);
    }
    claim_to(nk, *c, o->when);
    if (o->retry >= 0)
        nk->count = (uint64_t)o->retry;
    else if (!o->justid)
        nk->count++;
    return 1;
}

/* XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-ms]
   [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid] */
void xs_cmd_xclaim(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    stream_t *s;
    xgroup_t *g = claim_group(ctx, argv, &s);
    long long minidle;
    claim_opts_t o;
    if (!g) return;
    if (xs_api->str_to_ll(argv[4].ptr, argv[4].len, &minidle) < 0) {
        xs_api->reply_error(ctx, "ERR Invalid min-idle-time argument for XCLAIM");
        return;
    }
    int j = 5;
    sid_t id;
    while (j < argc && xs_parse_id_quiet(&argv[j], &id, 0, 1, NULL) == 0) j++;
    int64_t now = xs_api->now_ms();
    if (parse_claim_opts(ctx, argc, argv, j, &o, now) < 0) return;
    if (sid_cmp(&o.lastid, &g->last_id) > 0) g->last_id = o.lastid;
    xcons_t *c = NULL;
    sid_t *claimed = xs_api->alloc(sizeof(sid_t) * (size_t)(j - 5 + 1));
    long n = 0;
    for (int i = 5; i < j; i++) {
        xs_parse_id_quiet(&argv[i], &id, 0, 1, NULL);
        if (claim_one(ctx, argv, s, g, &id, &o, minidle < 0 ? 0 : minidle, &c, now))
            claimed[n++] = id;
    }
    xs_api->reply_array(ctx, n);
    for (long i = 0; i < n; i++) reply_claimed(ctx, s, &claimed[i], o.justid);
    xs_api->free(claimed);
    xs_api->signal_modified(ctx, &argv[1]);
}

static int parse_autoclaim(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, long long *minidle,
                           sid_t *start, long long *count, int *justid) {
    if (xs_api->str_to_ll(argv[4].ptr, argv[4].len, minidle) < 0) {
        xs_api->reply_error(ctx, "ERR Invalid min-idle-time argument for XAUTOCLAIM");
        return -1;
    }
    if (*minidle < 0) *minidle = 0;
    if (xs_parse_bound(ctx, &argv[5], start, 1) < 0) return -1;
    *count = 100;
    *justid = 0;
    for (int j = 6; j < argc; j++) {
        if (xs_api->arg_eq(&argv[j], "count") && j + 1 < argc) {
            j++;
            if (xs_api->str_to_ll(argv[j].ptr, argv[j].len, count) < 0 || *count < 1 ||
                *count > (long long)(INT64_MAX / 16)) {
                xs_api->reply_error(ctx, "ERR COUNT must be > 0");
                return -1;
            }
        } else if (xs_api->arg_eq(&argv[j], "justid")) {
            *justid = 1;
        } else {
            xs_api->reply_syntax_error(ctx);
            return -1;
        }
    }
    return 0;
}

/* XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID] */
void xs_cmd_xautoclaim(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    long long minidle, count;
    sid_t start;
    int justid;
    if (parse_autoclaim(ctx, argc, argv, &minidle, &start, &count, &justid) < 0) return;
    stream_t *s;
    xgroup_t *g = claim_group(ctx, argv, &s);
    if (!g) return;
    int64_t now = xs_api->now_ms();
    long long attempts = count * 10;
    size_t cap = g->npel < (size_t)count ? g->npel : (size_t)count;
    sid_t *claimed = xs_api->alloc(sizeof(sid_t) * (cap + 1));
    sid_t *deleted = xs_api->alloc(sizeof(sid_t) * (cap + 1));
    size_t nc = 0, nd = 0, i = xg_pel_seek(g, &start);
    xcons_t *c = NULL;
    while (attempts-- && count && i < g->npel) {
        xnack_t *nk = &g->pel[i];
        if (!stream_find(s, &nk->id)) {
            deleted[nd++] = nk->id;
            xg_pel_del(g, &nk->id);
            count--;
            continue;
        }
        i++;
        if (minidle && now - nk->time_ms < minidle) continue;
        if (!c) c = xg_consumer_seen(ctx, &argv[1], g, &argv[3]);
        claim_to(nk, c, now);
        if (!justid) nk->count++;
        claimed[nc++] = nk->id;
        count--;
    }
    xs_api->reply_array(ctx, 3);
    xs_reply_id(ctx, i < g->npel ? &g->pel[i].id : &(sid_t){0, 0});
    xs_api->reply_array(ctx, (long)nc);
    for (size_t k = 0; k < nc; k++) reply_claimed(ctx, s, &claimed[k], justid);
    xs_api->reply_array(ctx, (long)nd);
    for (size_t k = 0; k < nd; k++) xs_reply_id(ctx, &deleted[k]);
    xs_api->free(claimed);
    xs_api->free(deleted);
    xs_api->signal_modified(ctx, &argv[1]);
}
