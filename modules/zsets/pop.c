/*
 * pop.c: ZPOPMIN / ZPOPMAX [count], and their blocking forms BZPOPMIN / BZPOPMAX on the core's
 * blocking framework. The blocking commands' keys may live in several shards, so they are
 * dfm_multi_t commands, as BLPOP is (modules/lists/block.c):
 *
 *   phase 0, on every shard with its keys: note the smallest argv index of a non-empty zset
 *            and of a key of the wrong type (Redis checks keys in order);
 *   phase 1, on the shard owning the chosen key: pop one member into the state;
 *   reply,   on the client's thread: the error, [key, member, score], or park the client with
 *            api->block_on_keys; a later ZADD makes the core call *_ready on the key's shard.
 */
#include <math.h>

#include "zsets.h"

/* Remove the first (min) or last (max) member of z into *out (see zsets.h). */
void zs_pop_one(zset_t *z, int max, zs_popped_t *out) {
    zs_node_t *n = max ? zs_last(z) : zs_first(z);
    out->len = n->len;
    out->score = n->score;
    out->member = zs_api->alloc(n->len ? n->len : 1);
    memcpy(out->member, zs_ele(n), n->len);
    zs_delete_node(z, n);
}

static void reply_popped(dfm_ctx_t *ctx, const zs_popped_t *p) {
    zs_api->reply_bulk(ctx, p->member, p->len);
    zs_api->reply_double(ctx, p->score);
}

/* Parse ZPOP's count (Redis: a non-negative integer, else one error); replies on error. */
static int parse_count(dfm_ctx_t *ctx, const dfm_str_t *a, long long *count) {
    if (zs_api->str_to_ll(a->ptr, a->len, count) < 0 || *count < 0) {
        zs_api->reply_error(ctx, "ERR value is out of range, must be positive");
        return -1;
    }
    return 0;
}

/* ZPOPMIN / ZPOPMAX key [count] */
static void zpop_generic(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int max) {
    long long count = 1;
    if (argc > 3) {
        zs_api->reply_syntax_error(ctx);
        return;
    }
    if (argc == 3 && parse_count(ctx, &argv[2], &count) < 0) return;
    dfm_key_t *k;
    zset_t *z;
    int found = zs_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, &k, &z);
    if (found < 0) return;
    long long n = found ? (count < (long long)z->length ? count : (long long)z->length) : 0;
    int nested = argc == 3 && zs_api->resp_version(ctx) >= 3;
    zs_api->reply_array(ctx, (long)(nested ? n : n * 2));
    for (long long i = 0; i < n; i++) {
        zs_popped_t p;
        zs_pop_one(z, max, &p);
        if (nested) zs_api->reply_array(ctx, 2);
        reply_popped(ctx, &p);
        zs_api->free(p.member);
    }
    if (n) zs_changed(ctx, &argv[1], k, z, max ? "zpopmax" : "zpopmin");
}

void zs_cmd_zpopmin(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    zpop_generic(ctx, argc, argv, 0);
}
void zs_cmd_zpopmax(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    zpop_generic(ctx, argc, argv, 1);
}

/* ---------------------------------------------------------------- BZPOPMIN / BZPOPMAX */

typedef struct bzpop_state {
    const char *err;    /* an error to reply (static string), or NULL */
    int64_t timeout_ms; /* 0 = forever */
    int wrong;          /* smallest argv index of a wrong-type key, 0 = none */
    int ready;          /* smallest argv index of a non-empty zset, 0 = none */
    int popped;         /* value holds the member popped from argv[ready] */
    zs_popped_t value;
} bzpop_state_t;

/* A blocking timeout in seconds as Redis parses it (float, rounded up to ms; 0 = forever). */
const char *zs_parse_timeout(const dfm_str_t *a, int64_t *ms) {
    long double secs;
    if (zs_api->str_to_ld(a->ptr, a->len, &secs) < 0 || isnan(secs))
        return "ERR timeout is not a float or out of range";
    long double t = ceill(secs * 1000.0L); /* 0.0001 is 1 ms, not forever; -0.5 ms is 0 */
    /* Out of int64 range Redis 7.0's conversion yields LLONG_MIN: "negative" either way. */
    if (t < 0 || t >= 9223372036854775808.0L) return "ERR timeout is negative";
    *ms = (int64_t)t;
    return NULL;
}

void zs_scan_first(dfm_ctx_t *ctx, const dfm_str_t *argv, const int *keys, int nkeys,
                   int *wrong, int *ready) {
    for (int i = 0; i < nkeys; i++) {
        int idx = keys[i];
        zset_t *z;
        int found = zs_find_key(ctx, &argv[idx], DFM_LOOKUP_WRITE, NULL, &z);
        if (found < 0 && (*wrong == 0 || idx < *wrong)) *wrong = idx;
        if (found > 0 && z->length > 0 && (*ready == 0 || idx < *ready)) *ready = idx;
    }
}

static void bzpop_take(dfm_ctx_t *ctx, bzpop_state_t *st, const dfm_str_t *argv,
                       const int *keys, int nkeys, int max) {
    for (int i = 0; i < nkeys && !st->popped; i++) {
        if (keys[i] != st->ready) continue;
        dfm_key_t *k;
        zset_t *z;
        if (zs_find_key(ctx, &argv[keys[i]], DFM_LOOKUP_WRITE, &k, &z) <= 0 || z->length == 0)
            return;
        zs_pop_one(z, max, &st->value);
        st->popped = 1;
        zs_changed(ctx, &argv[keys[i]], k, z, max ? "zpopmax" : "zpopmin");
    }
}

static int bzpop_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                       const int *keys, int nkeys, int max) {
    bzpop_state_t *st = *state;
    if (st == NULL) {
        *state = st = zs_api->alloc(sizeof(*st));
        memset(st, 0, sizeof(*st));
        st->err = zs_parse_timeout(&argv[argc - 1], &st->timeout_ms);
        if (st->err) return -1;
    }
    if (phase == 0) {
        zs_scan_first(ctx, argv, keys, nkeys, &st->wrong, &st->ready);
        return 0;
    }
    if (st->wrong && (st->ready == 0 || st->wrong < st->ready)) return -1;
    if (st->ready) bzpop_take(ctx, st, argv, keys, nkeys, max);
    return 0;
}

static int bzpopmin_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,
                          const dfm_str_t *argv, const int *keys, int nkeys) {
    return bzpop_phase(ctx, phase, state, argc, argv, keys, nkeys, 0);
}
static int bzpopmax_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,
                          const dfm_str_t *argv, const int *keys, int nkeys) {
    return bzpop_phase(ctx, phase, state, argc, argv, keys, nkeys, 1);
}

static void reply_triple(dfm_ctx_t *ctx, const dfm_str_t *key, const zs_popped_t *p) {
    zs_api->reply_array(ctx, 3);
    zs_api->reply_bulk(ctx, key->ptr, key->len);
    reply_popped(ctx, p);
}

/* On the shard thread of `key` after a write to it: serve the parked client. 1 = replied. */
static int bzpop_ready(dfm_ctx_t *ctx, const dfm_str_t *key, int max) {
    dfm_key_t *k;
    zset_t *z;
    if (zs_find_key(ctx, key, DFM_LOOKUP_WRITE, &k, &z) <= 0 || z->length == 0) return 0;
    zs_popped_t p;
    zs_pop_one(z, max, &p);
    reply_triple(ctx, key, &p);
    zs_api->free(p.member);
    zs_changed(ctx, key, k, z, max ? "zpopmax" : "zpopmin");
    return 1;
}

static int bzpopmin_ready(dfm_ctx_t *ctx, const dfm_str_t *key, int argc, const dfm_str_t *argv) {
    return bzpop_ready(ctx, key, 0);
}
static int bzpopmax_ready(dfm_ctx_t *ctx, const dfm_str_t *key, int argc, const dfm_str_t *argv) {
    return bzpop_ready(ctx, key, 1);
}

/* Park the client on every key (argv[1..argc-2]); the core replies on timeout. */
static void bzpop_block(dfm_ctx_t *ctx, int argc, int64_t timeout_ms, dfm_unblock_fn on_ready) {
    int nkeys = argc - 2;
    int *keys = zs_api->alloc(sizeof(int) * (size_t)nkeys);
    for (int i = 0; i < nkeys; i++) keys[i] = i + 1;
    zs_api->block_on_keys(ctx, keys, nkeys, timeout_ms, on_ready);
    zs_api->free(keys);
}

/* Reply the outcome of the phases, or block; frees the state. Client's thread. */
static void bzpop_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv,
                        dfm_unblock_fn on_ready) {
    bzpop_state_t *st = *state;
    if (st == NULL) {
        zs_api->reply_null_array(ctx);
        return;
    }
    if (st->err) {
        zs_api->reply_error(ctx, st->err);
    } else if (st->wrong && (st->ready == 0 || st->wrong < st->ready)) {
        zs_api->reply_wrongtype(ctx);
    } else if (st->popped) {
        reply_triple(ctx, &argv[st->ready], &st->value);
        zs_api->free(st->value.member);
    } else {
        bzpop_block(ctx, argc, st->timeout_ms, on_ready);
    }
    zs_api->free(st);
    *state = NULL;
}

static void bzpopmin_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    bzpop_reply(ctx, state, argc, argv, bzpopmin_ready);
}
static void bzpopmax_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    bzpop_reply(ctx, state, argc, argv, bzpopmax_ready);
}

const dfm_multi_t zs_bzpopmin_multi = {.nphases = 2, .phase = bzpopmin_phase,
                                       .reply = bzpopmin_reply};
const dfm_multi_t zs_bzpopmax_multi = {.nphases = 2, .phase = bzpopmax_phase,
                                       .reply = bzpopmax_reply};
