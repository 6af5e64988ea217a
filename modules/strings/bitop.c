/*
 * bitop.c: BITOP AND|OR|XOR|NOT destkey srckey...; the sources and the destination may be in
 * different shards. Phase 0 copies the sources into the state, phase 1 (on the destination's
 * shard) computes and stores the result; `reply` answers with its length or the error.
 */
#include <string.h>

#include "strings.h"

enum { OP_AND, OP_OR, OP_XOR, OP_NOT };

typedef struct bitop_state {
    const char *err;  /* error to reply, or NULL */
    int op, nsrc;
    long long result; /* length of the stored result */
    dfm_str_t src[];  /* argv[3 + i]; ptr NULL for a missing key */
} bitop_state_t;

/* Allocate the state and parse the operation; errors are kept in st->err. */
static bitop_state_t *bitop_init(int argc, const dfm_str_t *argv) {
    size_t sz = sizeof(bitop_state_t) + sizeof(dfm_str_t) * (size_t)(argc - 3);
    bitop_state_t *st = str_api->alloc(sz);
    memset(st, 0, sz);
    st->nsrc = argc - 3;
    static const char *const names[] = {"and", "or", "xor", "not"};
    st->op = -1;
    for (int i = 0; i < 4; i++)
        if (str_api->arg_eq(&argv[1], names[i])) st->op = i;
    if (st->op < 0) st->err = "ERR syntax error";
    else if (st->op == OP_NOT && argc != 4)
        st->err = "ERR BITOP NOT must be called with a single source key.";
    return st;
}

/* Copy this shard's source values into the state. */
static void bitop_collect(dfm_ctx_t *ctx, bitop_state_t *st, const dfm_str_t *argv,
                          const int *keys, int nkeys) {
    for (int i = 0; i < nkeys && st->err == NULL; i++) {
        if (keys[i] < 3) continue;
        dfm_key_t *k = str_api->lookup(ctx, &argv[keys[i]], DFM_LOOKUP_READ);
        if (k == NULL) continue;
        if (str_api->key_type(k) != DFM_TYPE_STRING) {
            st->err = "WRONGTYPE Operation against a key holding the wrong kind of value";
            return;
        }
        dfm_str_t v;
        str_api->str_value(k, &v);
        char *copy = str_api->alloc(v.len ? v.len : 1);
        memcpy(copy, v.ptr, v.len);
        st->src[keys[i] - 3] = (dfm_str_t){copy, v.len};
    }
}

/* Compute the operation over all sources into out[0..len-1] (shorter ones are 0-padded). */
static void bitop_compute(const bitop_state_t *st, unsigned char *out, size_t len) {
    const dfm_str_t *s0 = &st->src[0];
    memcpy(out, s0->ptr ? s0->ptr : "", s0->len);
    if (st->op == OP_NOT) {
        for (size_t j = 0; j < len; j++) out[j] = (unsigned char)~out[j];
        return;
    }
    for (int i = 1; i < st->nsrc; i++) {
        const unsigned char *p = (const unsigned char *)st->src[i].ptr;
        size_t n = st->src[i].len;
        if (st->op == OP_AND) {
            for (size_t j = 0; j < len; j++) out[j] &= j < n ? p[j] : 0;
        } else if (st->op == OP_OR) {
            for (size_t j = 0; j < n; j++) out[j] |= p[j];
        } else {
            for (size_t j = 0; j < n; j++) out[j] ^= p[j];
        }
    }
}

/* Store the result at the destination (argv[2]), or delete it when the result is empty. */
static void bitop_store(dfm_ctx_t *ctx, bitop_state_t *st, const dfm_str_t *dest) {
    size_t len = 0;
    for (int i = 0; i < st->nsrc; i++)
        if (st->src[i].len > len) len = st->src[i].len;
    st->result = (long long)len;
    if (len == 0) {
        dfm_key_t *k = str_api->lookup(ctx, dest, DFM_LOOKUP_WRITE);
        if (k == NULL) return;
        str_api->key_delete(ctx, k);
        str_api->signal_modified(ctx, dest);
        str_api->notify(ctx, "del", dest, 'g');
        return;
    }
    dfm_key_t *k = str_api->str_set(ctx, dest, "", 0, DFM_EXPIRE_NONE);
    char *p = str_api->str_resize(ctx, &k, len);
    bitop_compute(st, (unsigned char *)p, len);
    str_touched(ctx, dest, "set");
}

static int bitop_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                       const int *keys, int nkeys) {
    if (*state == NULL) *state = bitop_init(argc, argv);
    bitop_state_t *st = *state;
    if (phase == 0) bitop_collect(ctx, st, argv, keys, nkeys);
    if (st->err != NULL) return -1;
    for (int i = 0; phase == 1 && i < nkeys; i++)
        if (keys[i] == 2) bitop_store(ctx, st, &argv[2]);
    return 0;
}

static void bitop_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    bitop_state_t *st = *state;
    if (st == NULL) st = bitop_init(argc, argv);
    if (st->err) str_api->reply_error(ctx, st->err);
    else str_api->reply_int(ctx, st->result);
    for (int i = 0; i < st->nsrc; i++)
        if (st->src[i].ptr) str_api->free((void *)(uintptr_t)st->src[i].ptr);
    str_api->free(st);
    *state = NULL;
}

const dfm_multi_t str_bitop_multi = {.nphases = 2, .phase = bitop_phase, .reply = bitop_reply};
