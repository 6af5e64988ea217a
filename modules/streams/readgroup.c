/*
 * readgroup.c: XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK] STREAMS key... id...
 * A dfm_multi_t command in two phases (see read.c for the shared parts):
 *
 *   phase 0, on every shard with some of the keys: the type, the group and the id of each
 *            stream are checked (the first error in argument order wins);
 *   phase 1, when there was none: each stream is served: ">" delivers the entries after the
 *            group's last id to the consumer (into the group's pending list unless NOACK),
 *            any other id replays the consumer's own pending entries after it.
 *
 * A client parked with ">" is served by readgroup_ready on the key's shard after an XADD.
 */
#include <stdio.h>
#include <string.h>

#include "read.h"

#define NOGROUP_FMT "NOGROUP No such key '%.*s' or consumer group '%.*s' in XREADGROUP with " \
                    "GROUP option"

static int is_new(const dfm_str_t *a) { return a->len == 1 && a->ptr[0] == '>'; }

static void note_nogroup(xread_state_t *st, int j, const dfm_str_t *key, const dfm_str_t *g) {
    int n = snprintf(NULL, 0, NOGROUP_FMT, (int)key->len, key->ptr, (int)g->len, g->ptr);
    char *text = xs_api->alloc((size_t)n + 1);
    snprintf(text, (size_t)n + 1, NOGROUP_FMT, (int)key->len, key->ptr, (int)g->len, g->ptr);
    xr_note_error(st, j, text);
    xs_api->free(text);
}

/* Phase 0 for one stream j: 0 ok, or an error noted. */
static void check_stream(dfm_ctx_t *ctx, xread_state_t *st, const dfm_str_t *argv, int j) {
    const dfm_str_t *key = &argv[st->o.streams + j], *a = &argv[st->o.streams + st->o.n + j];
    const dfm_str_t *gname = &argv[st->o.group];
    stream_t *s;
    int found = xs_lookup(ctx, key, DFM_LOOKUP_WRITE, &s, 0);
    if (found < 0) {
        xr_note_error(st, j, "WRONGTYPE Operation against a key holding the wrong kind of "
                             "value");
    } else if (!found || !xg_find(s, gname)) {
        note_nogroup(st, j, key, gname);
    } else if (a->len == 1 && a->ptr[0] == '$') {
        xr_note_error(st, j, "ERR The $ ID is meaningless in the context of XREADGROUP: you "
                             "want to read the history of this consumer by specifying a "
                             "proper ID, or use the > ID to get new messages. The $ ID would "
                             "just return an empty result set.");
    } else if (is_new(a)) {
        st->ids[j] = (sid_t){UINT64_MAX, UINT64_MAX};
    } else if (xs_parse_id_quiet(a, &st->ids[j], 0, 1, NULL) < 0) {
        xr_note_error(st, j, XS_ERR_ID);
    }
}

/* Deliver up to count new entries of s to consumer c of g; returns how many. */
static size_t serve_new(stream_t *s, xgroup_t *g, xcons_t *c, long long count, int noack,
                        xread_res_t *r) {
    sid_t start = g->last_id;
    if (sid_incr(&start) < 0) return 0;
    size_t a = stream_seek(s, &start), n = s->len - a;
    if (count > 0 && (size_t)count < n) n = (size_t)count;
    int64_t now = xs_api->now_ms();
    for (size_t i = 0; i < n; i++) {
        const xent_t *e = stream_at(s, a + i);
        xg_delivered(s, g, &e->id);
        if (!noack) xg_pel_put(g, &e->id, c, now);
        xr_push(r, e, NULL);
    }
    return n;
}

/* Replay consumer c's pending entries after `after` (Redis's history read). */
static void serve_history(const stream_t *s, xgroup_t *g, xcons_t *c, const sid_t *after,
                          long long count, xread_res_t *r) {
    sid_t start = *after;
    r->served = 1;
    if (sid_incr(&start) < 0) return;
    int64_t now = xs_api->now_ms();
    for (size_t i = xg_pel_seek(g, &start); i < g->npel; i++) {
        xnack_t *nk = &g->pel[i];
        if (nk->owner != c) continue;
        if (count > 0 && (long long)r->n >= count) break;
        const xent_t *e = stream_find(s, &nk->id);
        if (e) {
            nk->time_ms = now;
            nk->count++;
        }
        xr_push(r, e, &nk->id);
    }
}

/* Phase 1 for stream j. */
static void serve_stream(dfm_ctx_t *ctx, xread_state_t *st, const dfm_str_t *argv, int j) {
    const dfm_str_t *key = &argv[st->o.streams + j];
    stream_t *s;
    if (xs_lookup(ctx, key, DFM_LOOKUP_WRITE, &s, 0) <= 0) return;
    xgroup_t *g = xg_find(s, &argv[st->o.group]);
    if (!g) return;
    int history = st->ids[j].ms != UINT64_MAX || st->ids[j].seq != UINT64_MAX;
    if (!history && (!s->len || sid_cmp(&stream_last(s)->id, &g->last_id) <= 0))
        return;
    xcons_t *c = xg_consumer_seen(ctx, key, g, &argv[st->o.group + 1]);
    if (history) {
        serve_history(s, g, c, &st->ids[j], st->o.count, &st->res[j]);
    } else {
        st->res[j].served = serve_new(s, g, c, st->o.count, st->o.noack, &st->res[j]) > 0;
    }
    xs_api->signal_modified(ctx, key);
}

static int readgroup_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,
                           const dfm_str_t *argv, const int *keys, int nkeys) {
    xread_state_t *st = *state;
    if (!st) *state = st = xr_state_new(argc, argv, 1);
    if (!st->res || (phase == 1 && st->err)) return -1;
    for (int i = 0; i < nkeys; i++) {
        if (phase == 0)
            check_stream(ctx, st, argv, keys[i] - st->o.streams);
        else
            serve_stream(ctx, st, argv, keys[i] - st->o.streams);
    }
    return 0;
}

/* On the shard of `key` after an XADD: serve a parked XREADGROUP ">". 1 = replied. */
static int readgroup_ready(dfm_ctx_t *ctx, const dfm_str_t *key, int argc,
                           const dfm_str_t *argv) {
    xread_opts_t o;
    if (xr_parse_opts(argc, argv, &o, 1)) return 0;
    int j = xr_find_key(&o, argv, key);
    stream_t *s;
    if (j < 0 || xs_lookup(ctx, key, DFM_LOOKUP_WRITE, &s, 0) <= 0) return 0;
    xgroup_t *g = xg_find(s, &argv[o.group]);
    if (!g) { /* XGROUP DESTROY signalled the key */
        xs_api->reply_error(ctx, "NOGROUP the consumer group this client was blocked on no "
                                 "longer exists");
        return 1;
    }
    if (!is_new(&argv[o.streams + o.n + j])) return 0;
    if (!s->len || sid_cmp(&stream_last(s)->id, &g->last_id) <= 0) return 0;
    xcons_t *c = xg_consumer_seen(ctx, key, g, &argv[o.group + 1]);
    xread_res_t r = {1, 0, NULL};
    serve_new(s, g, c, o.count ? o.count : 1000, o.noack, &r);
    if (xs_api->resp_version(ctx) < 3)
        xs_api->reply_array(ctx, 1);
    else
        xs_api->reply_map(ctx, 1);
    xr_reply_one(ctx, key, &r);
    for (size_t i = 0; i < r.n; i++) xs_api->free(r.ents[i]);
    xs_api->free(r.ents);
    xs_api->signal_modified(ctx, key);
    return 1;
}

static void readgroup_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    xread_state_t *st = *state;
    *state = NULL;
    if (!st) st = xr_state_new(argc, argv, 1);
    xr_reply(ctx, st, argv, readgroup_ready);
    xr_state_free(st);
}

const dfm_multi_t xs_xreadgroup_multi = {.nphases = 2, .phase = readgroup_phase,
                                         .reply = readgroup_reply};
