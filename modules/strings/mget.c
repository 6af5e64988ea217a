/*
 * mget.c: the multi-key plain-string commands MGET, MSET and MSETNX. Their keys may live in
 * several shards, so each is a dfm_multi_t: the phases run on the shard threads with that
 * shard's keys, and `reply` runs last on the client's thread (see module.h).
 */
#include <string.h>

#include "strings.h"

/* MGET's state: one slot per key, ptr NULL for a missing or non-string key. */
typedef struct mget_state {
    int n;
    dfm_str_t vals[];
} mget_state_t;

/* Copy this shard's values into the state (allocated by the first call). */
static int mget_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                      const int *keys, int nkeys) {
    mget_state_t *st = *state;
    if (st == NULL) {
        size_t sz = sizeof(*st) + sizeof(dfm_str_t) * (size_t)(argc - 1);
        *state = st = str_api->alloc(sz);
        memset(st, 0, sz);
        st->n = argc - 1;
    }
    for (int i = 0; i < nkeys; i++) {
        dfm_key_t *k = str_api->lookup(ctx, &argv[keys[i]], DFM_LOOKUP_READ);
        if (k == NULL || str_api->key_type(k) != DFM_TYPE_STRING) continue;
        dfm_str_t v;
        str_api->str_value(k, &v);
        char *copy = str_api->alloc(v.len ? v.len : 1);
        memcpy(copy, v.ptr, v.len);
        st->vals[keys[i] - 1] = (dfm_str_t){copy, v.len};
    }
    return 0;
}

/* Reply the array of values and free the state. */
static void mget_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    mget_state_t *st = *state;
    str_api->reply_array(ctx, argc - 1);
    for (int i = 0; i < argc - 1; i++) {
        const dfm_str_t *v = st ? &st->vals[i] : NULL;
        if (v == NULL || v->ptr == NULL) {
            str_api->reply_null(ctx);
            continue;
        }
        str_api->reply_bulk(ctx, v->ptr, v->len);
        str_api->free((void *)(uintptr_t)v->ptr);
    }
    str_api->free(st);
    *state = NULL;
}

const dfm_multi_t str_mget_multi = {.nphases = 1, .phase = mget_phase, .reply = mget_reply};

/* Store this shard's key/value pairs (keys at odd argv indexes), clearing their TTLs. */
static void mset_store(dfm_ctx_t *ctx, const dfm_str_t *argv, const int *keys, int nkeys) {
    for (int i = 0; i < nkeys; i++) {
        const dfm_str_t *key = &argv[keys[i]], *val = &argv[keys[i] + 1];
        str_api->str_set(ctx, key, val->ptr, val->len, DFM_EXPIRE_NONE);
        str_touched(ctx, key, "set");
    }
}

/* A key without its value: Redis answers with the arity error of the command. */
static int mset_bad_args(dfm_ctx_t *ctx, int argc, const char *name) {
    if (argc % 2 == 1) return 0;
    if (ctx != NULL)
        str_api->reply_errorf(ctx, "ERR wrong number of arguments for '%s' command", name);
    return 1;
}

static int mset_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                      const int *keys, int nkeys) {
    if (mset_bad_args(NULL, argc, "mset")) return -1;
    mset_store(ctx, argv, keys, nkeys);
    return 0;
}

static void mset_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    if (!mset_bad_args(ctx, argc, "mset")) str_api->reply_ok(ctx);
}

const dfm_multi_t str_mset_multi = {.nphases = 1, .phase = mset_phase, .reply = mset_reply};

/*
 * MSETNX: phase 0 marks the state when any key of the shard exists (*state becomes a non-NULL
 * marker, nothing is allocated); phase 1 writes only when no key anywhere existed.
 */
static int msetnx_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,
                        const dfm_str_t *argv, const int *keys, int nkeys) {
    static char exists_marker;
    if (mset_bad_args(NULL, argc, "msetnx")) return -1;
    if (phase == 0) {
        for (int i = 0; i < nkeys && *state == NULL; i++)
            if (str_api->lookup(ctx, &argv[keys[i]], DFM_LOOKUP_WRITE) != NULL)
                *state = &exists_marker;
        return 0;
    }
    if (*state == NULL) mset_store(ctx, argv, keys, nkeys);
    return 0;
}

static void msetnx_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    if (mset_bad_args(ctx, argc, "msetnx")) return;
    str_api->reply_int(ctx, *state == NULL);
    *state = NULL;
}

const dfm_multi_t str_msetnx_multi = {.nphases = 2, .phase = msetnx_phase,
                                      .reply = msetnx_reply};
