/*
 * debug.c: PFDEBUG GETREG|DECODE|ENCODING|TODENSE key and PFSELFTEST, Redis's internal
 * commands for looking inside a HyperLogLog and testing the implementation.
 */
#include <stdio.h>
#include <string.h>

#include "hll.h"

/* Turn key's value dense if it is sparse; 1 converted, 0 already dense, -1 corrupt. */
static int debug_to_dense(dfm_ctx_t *ctx, const dfm_str_t *key, const dfm_str_t *v) {
    if ((uint8_t)v->ptr[4] == HLL_DENSE) return 0;
    hll_work_t w;
    if (hll_work_load(&w, v) < 0) return -1;
    hll_work_to_dense(&w);
    hll_work_commit(ctx, key, &w);
    return 1;
}

static void debug_getreg(dfm_ctx_t *ctx, dfm_key_t *k, const dfm_str_t *key) {
    dfm_str_t v;
    hll_api->str_value(k, &v);
    if (debug_to_dense(ctx, key, &v) < 0) {
        hll_reply_error(ctx, HLL_E_CORRUPT);
        return;
    }
    hll_lookup(ctx, key, DFM_LOOKUP_NOTOUCH, &k);
    hll_api->str_value(k, &v);
    hll_api->reply_array(ctx, HLL_REGISTERS);
    for (long j = 0; j < HLL_REGISTERS; j++)
        hll_api->reply_int(ctx, hll_dense_get((const uint8_t *)v.ptr + HLL_HDR_SIZE, j));
}

void hll_pfdebug(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    const dfm_str_t *sub = &argv[1], *key = &argv[2];
    dfm_key_t *k;
    int found = hll_lookup(ctx, key, DFM_LOOKUP_WRITE, &k);
    if (found == 0) {
        hll_api->reply_error(ctx, "ERR The specified key does not exist");
        return;
    }
    if (found < 0) {
        hll_reply_error(ctx, found);
        return;
    }
    dfm_str_t v;
    hll_api->str_value(k, &v);
    int dense = (uint8_t)v.ptr[4] == HLL_DENSE;
    if (hll_api->arg_eq(sub, "getreg")) {
        debug_getreg(ctx, k, key);
    } else if (hll_api->arg_eq(sub, "decode")) {
        if (dense) {
            hll_api->reply_error(ctx, "ERR HLL encoding is not sparse");
            return;
        }
        size_t n;
        char *text = hll_sparse_decode((const uint8_t *)v.ptr + HLL_HDR_SIZE, v.len - HLL_HDR_SIZE, &n);
        hll_api->reply_bulk(ctx, text, n);
        hll_api->free(text);
    } else if (hll_api->arg_eq(sub, "encoding")) {
        hll_api->reply_simple(ctx, dense ? "dense" : "sparse");
    } else if (hll_api->arg_eq(sub, "todense")) {
        int r = debug_to_dense(ctx, key, &v);
        if (r < 0) hll_reply_error(ctx, HLL_E_CORRUPT);
        else hll_api->reply_int(ctx, r);
    } else {
        hll_api->reply_errorf(ctx, "ERR Unknown PFDEBUG subcommand '%.*s'", (int)sub->len, sub->ptr);
    }
}

/* ---------------------------------------------------------------- PFSELFTEST */

static uint64_t selftest_rand(uint64_t *s) {
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

/* Dense registers: every register set to a random value reads back, neighbours unharmed. */
static int selftest_registers(char *why, size_t cap) {
    uint8_t *regs = hll_api->alloc(HLL_DENSE_BYTES), *want = hll_api->alloc(HLL_REGISTERS);
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    int rc = 0;
    for (int round = 0; round < 100 && rc == 0; round++) {
        memset(regs, 0, HLL_DENSE_BYTES);
        for (long j = 0; j < HLL_REGISTERS; j++) {
            want[j] = (uint8_t)(selftest_rand(&seed) & HLL_REGISTER_MAX);
            hll_dense_put(regs, j, want[j]);
        }
        for (long j = 0; j < HLL_REGISTERS; j++)
            if (rc == 0 && hll_dense_get(regs, j) != want[j]) {
                snprintf(why, cap, "TESTFAILED Register error at index %ld", j);
                rc = -1;
            }
    }
    hll_api->free(regs);
    hll_api->free(want);
    return rc;
}

/* The same elements through the sparse and the dense encodings give the same count. */
static int selftest_encodings(char *why, size_t cap) {
    hll_work_t sparse, dense;
    hll_work_load(&sparse, NULL);
    hll_work_load(&dense, NULL);
    hll_work_to_dense(&dense);
    int rc = 0;
    for (uint64_t i = 1; i <= 20000 && rc == 0; i++) {
        char ele[24];
        int n = snprintf(ele, sizeof ele, "%llu", (unsigned long long)i);
        long index;
        int val = hll_pattern(ele, (size_t)n, &index);
        hll_work_set(&sparse, index, (uint8_t)val);
        hll_work_set(&dense, index, (uint8_t)val);
        if (i % 997 != 0) continue;
        dfm_str_t a = {(const char *)sparse.b, sparse.len}, b = {(const char *)dense.b, dense.len};
        if (hll_count_value(&a) != hll_count_value(&b)) {
            snprintf(why, cap, "TESTFAILED sparse and dense counts differ after %llu elements",
                     (unsigned long long)i);
            rc = -1;
        }
    }
    hll_work_free(&sparse);
    hll_work_free(&dense);
    return rc;
}

void hll_pfselftest(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    char why[128];
    if (selftest_registers(why, sizeof why) < 0 || selftest_encodings(why, sizeof why) < 0)
        hll_api->reply_error(ctx, why);
    else
        hll_api->reply_ok(ctx);
}
