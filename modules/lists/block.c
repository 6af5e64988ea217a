/*
 * block.c: BLPOP and BRPOP on the core's blocking framework. Their keys may live in several
 * shards, so they are dfm_multi_t commands (module.h):
 *
 *   phase 0, on every shard with its keys: note the smallest argv index of a non-empty list
 *            and of a key of the wrong type (Redis checks keys in argument order and stops at
 *            the first non-empty list, so a wrong-type key before it is an error);
 *   phase 1, on the shard owning the chosen key: pop one element into the state;
 *   reply,   on the client's thread: the error, [key, element], or park the client with
 *            api->block_on_keys. A later push makes the core call the *_ready function on the
 *            key's shard, which pops and replies.
 */
#include <math.h>
#include <string.h>

#include "lists.h"

typedef struct bpop_state {
    const char *err;  /* an error to reply (static string), or NULL */
    int64_t timeout_ms; /* 0 = forever */
    int wrong;        /* smallest argv index of a wrong-type key, 0 = none */
    int ready;        /* smallest argv index of a non-empty list, 0 = none */
    int popped;       /* value holds the element popped from argv[ready] */
    dfm_str_t value;  /* owned copy */
} bpop_state_t;

/*
 * Parse a blocking timeout in seconds as Redis does (a float, rounded up to ms; 0 = forever).
 * Returns NULL or the error to reply.
 */
const char *lst_parse_timeout(const dfm_str_t *a, int64_t *ms) {
    long double secs;
    if (lst_api->str_to_ld(a->ptr, a->len, &secs) < 0 || isnan(secs))
        return "ERR timeout is not a float or out of range";
    long double t = ceill(secs * 1000.0L); /* 0.0001 is 1 ms, not forever; -0.5 ms is 0 */
    /* Out of int64 range Redis 7.0's conversion yields LLONG_MIN: "negative" either way. */
    if (t < 0 || t >= 9223372036854775808.0L) return "ERR timeout is negative";
    *ms = (int64_t)t;
    return NULL;
}

/* Phase 0: the state is created here; note the first non-empty and wrong-type keys. */
static void bpop_scan(dfm_ctx_t *ctx, bpop_state_t *st, const dfm_str_t *argv, const int *keys,
                      int nkeys) {
    for (int i = 0; i < nkeys; i++) {
        int idx = keys[i];
        ql_t *l;
        int found = lst_find(ctx, &argv[idx], DFM_LOOKUP_WRITE, NULL, &l);
        if (found < 0 && (st->wrong == 0 || idx < st->wrong)) st->wrong = idx;
        if (found > 0 && l->count > 0 && (st->ready == 0 || idx < st->ready)) st->ready = idx;
    }
}

/* Phase 1: pop from argv[st->ready] if it is one of this shard's keys. */
static void bpop_take(dfm_ctx_t *ctx, bpop_state_t *st, const dfm_str_t *argv, const int *keys,
                      int nkeys, int where) {
    for (int i = 0; i < nkeys && !st->popped; i++) {
        if (keys[i] != st->ready) continue;
        dfm_key_t *k;
        ql_t *l;
        if (lst_find(ctx, &argv[keys[i]], DFM_LOOKUP_WRITE, &k, &l) <= 0) return;
        st->popped = lst_pop_copy(l, where, &st->value);
        lst_changed(ctx, &argv[keys[i]], k, l, where == QL_HEAD ? "lpop" : "rpop");
    }
}

/* The phase function shared by both commands (where: QL_HEAD for BLPOP). */
static int bpop_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                      const int *keys, int nkeys, int where) {
    bpop_state_t *st = *state;
    if (st == NULL) {
        *state = st = lst_api->alloc(sizeof(*st));
        memset(st, 0, sizeof(*st));
        st->err = lst_parse_timeout(&argv[argc - 1], &st->timeout_ms);
        if (st->err) return -1;
    }
    if (phase == 0) {
        bpop_scan(ctx, st, argv, keys, nkeys);
        return 0;
    }
    if (st->wrong && (st->ready == 0 || st->wrong < st->ready)) return -1;
    if (st->ready) bpop_take(ctx, st, argv, keys, nkeys, where);
    return 0;
}

static int blpop_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                       const int *keys, int nkeys) {
    return bpop_phase(ctx, phase, state, argc, argv, keys, nkeys, QL_HEAD);
}

static int brpop_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                       const int *keys, int nkeys) {
    return bpop_phase(ctx, phase, state, argc, argv, keys, nkeys, QL_TAIL);
}

/* Reply [key, element]. */
static void reply_pair(dfm_ctx_t *ctx, const dfm_str_t *key, const dfm_str_t *v) {
    lst_api->reply_array(ctx, 2);
    lst_api->reply_bulk(ctx, key->ptr, key->len);
    lst_api->reply_bulk(ctx, v->ptr, v->len);
}

/*
 * Called by the core on the shard thread of `key` after a push to it: serve the parked client
 * from that key. Returns 1 when it replied, 0 to keep waiting (the key is gone, empty or no
 * longer a list).
 */
static int bpop_ready(dfm_ctx_t *ctx, const dfm_str_t *key, int where) {
    dfm_key_t *k;
    ql_t *l;
    dfm_str_t v;
    if (lst_find(ctx, key, DFM_LOOKUP_WRITE, &k, &l) <= 0 || !ql_peek(l, where, &v)) return 0;
    reply_pair(ctx, key, &v);
    ql_pop(l, where, 1);
    lst_changed(ctx, key, k, l, where == QL_HEAD ? "lpop" : "rpop");
    return 1;
}

static int blpop_ready(dfm_ctx_t *ctx, const dfm_str_t *key, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    return bpop_ready(ctx, key, QL_HEAD);
}

static int brpop_ready(dfm_ctx_t *ctx, const dfm_str_t *key, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    return bpop_ready(ctx, key, QL_TAIL);
}

/* Park the client on every key (argv[1..argc-2]); the core replies on timeout. */
static void bpop_block(dfm_ctx_t *ctx, int argc, int64_t timeout_ms, dfm_unblock_fn on_ready) {
    int nkeys = argc - 2;
    int *keys = lst_api->alloc(sizeof(int) * (size_t)nkeys);
    for (int i = 0; i < nkeys; i++) keys[i] = i + 1;
    lst_api->block_on_keys(ctx, keys, nkeys, timeout_ms, on_ready);
    lst_api->free(keys);
}

/* Reply the outcome of the phases, or block; frees the state. Client's thread. */
static void bpop_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv,
                       dfm_unblock_fn on_ready) {
    bpop_state_t *st = *state;
    if (st == NULL) { /* no phase ran: nothing to go on */
        lst_api->reply_null_array(ctx);
        return;
    }
    if (st->err) {
        lst_api->reply_error(ctx, st->err);
    } else if (st->wrong && (st->ready == 0 || st->wrong < st->ready)) {
        lst_api->reply_wrongtype(ctx);
    } else if (st->popped) {
        reply_pair(ctx, &argv[st->ready], &st->value);
        lst_api->free((void *)(uintptr_t)st->value.ptr);
    } else {
        bpop_block(ctx, argc, st->timeout_ms, on_ready);
    }
    lst_api->free(st);
    *state = NULL;
}

static void blpop_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    bpop_reply(ctx, state, argc, argv, blpop_ready);
}

static void brpop_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    bpop_reply(ctx, state, argc, argv, brpop_ready);
}

const dfm_multi_t lst_blpop_multi = {.nphases = 2, .phase = blpop_phase, .reply = blpop_reply};
const dfm_multi_t lst_brpop_multi = {.nphases = 2, .phase = brpop_phase, .reply = brpop_reply};
