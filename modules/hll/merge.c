/*
 * merge.c: PFCOUNT key [key ...] and PFMERGE destkey [sourcekey ...], whose keys may live in
 * several shards (dfm_multi_t: each shard's phase sees its own keys; the state carries the
 * merged registers from shard to shard; the reply runs on the client's thread).
 *
 * Errors follow Redis, which checks the keys in argument order and stops at the first bad
 * one: every shard records its bad key, and the one earliest in argv wins.
 */
#include <string.h>

#include "hll.h"

typedef struct merge_state {
    int err, err_at;          /* HLL_E_* of the earliest bad key, and its argv index */
    int single;               /* PFCOUNT of one key: card below, cache logic */
    int use_dense;            /* PFMERGE: an input was dense, the result is too */
    uint64_t card;
    uint8_t max[HLL_REGISTERS]; /* register-wise maximum of the inputs */
} merge_state_t;

static merge_state_t *state_get(void **state) {
    if (*state == NULL) {
        merge_state_t *st = hll_api->alloc(sizeof *st);
        memset(st, 0, sizeof *st);
        *state = st;
    }
    return *state;
}

static void state_error(merge_state_t *st, int code, int at) {
    if (st->err == 0 || at < st->err_at) st->err = code, st->err_at = at;
}

/* Merge this shard's keys into st->max (all keys of argv are inputs, from index 1). */
static void merge_keys(dfm_ctx_t *ctx, merge_state_t *st, const dfm_str_t *argv, const int *keys,
                       int nkeys) {
    for (int i = 0; i < nkeys; i++) {
        if (st->err && keys[i] > st->err_at) break; /* Redis stops at the first bad key */
        dfm_key_t *k;
        int found = hll_lookup(ctx, &argv[keys[i]], DFM_LOOKUP_READ, &k);
        if (found <= 0) {
            if (found < 0) state_error(st, found, keys[i]);
            continue;
        }
        dfm_str_t v;
        hll_api->str_value(k, &v);
        if ((uint8_t)v.ptr[4] == HLL_DENSE) st->use_dense = 1;
        if (hll_merge_value(st->max, &v) < 0) state_error(st, HLL_E_CORRUPT, keys[i]);
    }
}

/* PFCOUNT of one key: its cached count, or a fresh one that is then cached (a write Redis
   makes too, so WATCH sees it). */
static void count_single(dfm_ctx_t *ctx, merge_state_t *st, const dfm_str_t *key) {
    dfm_key_t *k;
    int found = hll_lookup(ctx, key, DFM_LOOKUP_READ, &k);
    st->single = 1;
    if (found <= 0) {
        if (found < 0) state_error(st, found, 1);
        return;
    }
    dfm_str_t v;
    hll_api->str_value(k, &v);
    if (hll_cached_card(&v, &st->card)) return;
    int64_t card = hll_count_value(&v);
    if (card < 0) {
        state_error(st, HLL_E_CORRUPT, 1);
        return;
    }
    st->card = (uint64_t)card;
    uint8_t *p = (uint8_t *)hll_api->str_resize(ctx, &k, v.len);
    hll_hdr_store_card(p, st->card);
    hll_api->signal_modified(ctx, key);
}

static int pfcount_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                         const int *keys, int nkeys) {
    (void)phase;
    merge_state_t *st = state_get(state);
    if (argc == 2) count_single(ctx, st, &argv[1]);
    else merge_keys(ctx, st, argv, keys, nkeys);
    return 0;
}

static void pfcount_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    merge_state_t *st = state_get(state);
    if (st->err) {
        hll_reply_error(ctx, st->err);
    } else if (st->single) {
        hll_api->reply_int(ctx, (long long)st->card);
    } else {
        int histo[64] = {0};
        hll_raw_histo(st->max, histo);
        hll_api->reply_int(ctx, (long long)hll_estimate(histo));
    }
    hll_api->free(st);
    *state = NULL;
}

const dfm_multi_t hll_pfcount_multi = {.nphases = 1, .phase = pfcount_phase, .reply = pfcount_reply};

/* Phase 1 on the destination's shard: raise its registers to the merged maximum. */
static void merge_store(dfm_ctx_t *ctx, merge_state_t *st, const dfm_str_t *key) {
    dfm_key_t *k;
    hll_work_t w;
    dfm_str_t v;
    if (hll_lookup(ctx, key, DFM_LOOKUP_WRITE, &k) == 1) hll_api->str_value(k, &v);
    else k = NULL;
    if (hll_work_load(&w, k ? &v : NULL) < 0) { /* checked in phase 0; cannot happen */
        state_error(st, HLL_E_CORRUPT, 1);
        return;
    }
    if (st->use_dense) hll_work_to_dense(&w);
    for (long j = 0; j < HLL_REGISTERS; j++)
        if (st->max[j]) hll_work_set(&w, j, st->max[j]);
    hll_hdr_invalidate(w.b);
    hll_work_commit(ctx, key, &w);
    hll_api->signal_modified(ctx, key);
    hll_api->notify(ctx, "pfadd", key, '$');
}

static int pfmerge_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                         const int *keys, int nkeys) {
    (void)argc;
    merge_state_t *st = state_get(state);
    if (phase == 0) {
        merge_keys(ctx, st, argv, keys, nkeys);
        return 0;
    }
    if (st->err) return -1;
    for (int i = 0; i < nkeys; i++)
        if (keys[i] == 1) merge_store(ctx, st, &argv[1]);
    return 0;
}

static void pfmerge_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    merge_state_t *st = state_get(state);
    if (st->err) hll_reply_error(ctx, st->err);
    else hll_api->reply_ok(ctx);
    hll_api->free(st);
    *state = NULL;
}

const dfm_multi_t hll_pfmerge_multi = {.nphases = 2, .phase = pfmerge_phase, .reply = pfmerge_reply};
