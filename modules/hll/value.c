/*
 * value.c: HyperLogLog values as stored in keys: validation (Redis's rules), the cached
 * cardinality in the header, counting and merging a stored value, and the private working
 * copy that PFADD, PFMERGE and PFDEBUG change before storing it back.
 */
#include <string.h>

#include "hll.h"

static const uint8_t *regs_of(const dfm_str_t *v) { return (const uint8_t *)v->ptr + HLL_HDR_SIZE; }
static size_t regs_len(const dfm_str_t *v) { return v->len - HLL_HDR_SIZE; }
static int encoding_of(const dfm_str_t *v) { return (uint8_t)v->ptr[4]; }

size_t hll_new_bytes(uint8_t *out) {
    memset(out, 0, HLL_HDR_SIZE);
    memcpy(out, "HYLL", 4);
    out[4] = HLL_SPARSE;
    out[HLL_HDR_SIZE] = (uint8_t)(0x40 | ((HLL_REGISTERS - 1) >> 8));
    out[HLL_HDR_SIZE + 1] = (uint8_t)((HLL_REGISTERS - 1) & 0xff);
    return HLL_HDR_SIZE + 2;
}

int hll_is_valid(const dfm_str_t *v) {
    if (v->len < HLL_HDR_SIZE || memcmp(v->ptr, "HYLL", 4) != 0) return 0;
    if (encoding_of(v) > HLL_SPARSE) return 0;
    return encoding_of(v) != HLL_DENSE || v->len == HLL_DENSE_SIZE;
}

int hll_lookup(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, dfm_key_t **k) {
    *k = hll_api->lookup(ctx, key, flags);
    if (*k == NULL) return 0;
    if (hll_api->key_type(*k) != DFM_TYPE_STRING) return HLL_E_TYPE;
    dfm_str_t v;
    hll_api->str_value(*k, &v);
    return hll_is_valid(&v) ? 1 : HLL_E_NOT_HLL;
}

void hll_reply_error(dfm_ctx_t *ctx, int code) {
    if (code == HLL_E_TYPE) hll_api->reply_wrongtype(ctx);
    else hll_api->reply_error(ctx, code == HLL_E_NOT_HLL ? HLL_ERR_NOT_HLL : HLL_ERR_CORRUPT);
}

int hll_merge_value(uint8_t *max, const dfm_str_t *v) {
    if (encoding_of(v) == HLL_DENSE) {
        hll_dense_merge(max, regs_of(v));
        return 0;
    }
    if (hll_sparse_valid(regs_of(v), regs_len(v)) < 0) return -1;
    hll_sparse_merge(max, regs_of(v), regs_len(v));
    return 0;
}

int64_t hll_count_value(const dfm_str_t *v) {
    int histo[64] = {0};
    if (encoding_of(v) == HLL_DENSE) {
        hll_dense_histo(regs_of(v), histo);
    } else {
        if (hll_sparse_valid(regs_of(v), regs_len(v)) < 0) return -1;
        hll_sparse_histo(regs_of(v), regs_len(v), histo);
    }
    return (int64_t)hll_estimate(histo);
}

int hll_cached_card(const dfm_str_t *v, uint64_t *card) {
    const uint8_t *c = (const uint8_t *)v->ptr + 8;
    if (c[7] & 0x80) return 0;
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) x = (x << 8) | c[i];
    *card = x;
    return 1;
}

void hll_hdr_invalidate(uint8_t *hdr) { hdr[15] |= 0x80; }

void hll_hdr_store_card(uint8_t *hdr, uint64_t card) {
    for (int i = 0; i < 8; i++) hdr[8 + i] = (uint8_t)(card >> (8 * i));
}

/* ---------------------------------------------------------------- working copies */

static void work_reserve(hll_work_t *w, size_t need) {
    if (need <= w->cap) return;
    size_t cap = w->cap * 2 > need ? w->cap * 2 : need;
    w->b = hll_api->realloc(w->b, cap);
    w->cap = cap;
}

int hll_work_load(hll_work_t *w, const dfm_str_t *v) {
    uint8_t fresh[HLL_HDR_SIZE + 2];
    dfm_str_t nv;
    if (v == NULL) {
        nv = (dfm_str_t){(const char *)fresh, hll_new_bytes(fresh)};
        v = &nv;
    } else if (encoding_of(v) == HLL_SPARSE && hll_sparse_valid(regs_of(v), regs_len(v)) < 0) {
        return -1;
    }
    w->cap = v->len + HLL_SPARSE_SEQ_MAX;
    w->b = hll_api->alloc(w->cap);
    memcpy(w->b, v->ptr, v->len);
    w->len = v->len;
    return 0;
}

void hll_work_to_dense(hll_work_t *w) {
    if (w->b[4] == HLL_DENSE) return;
    uint8_t *d = hll_api->alloc(HLL_DENSE_SIZE);
    memcpy(d, w->b, HLL_HDR_SIZE);
    d[4] = HLL_DENSE;
    memset(d + HLL_HDR_SIZE, 0, HLL_DENSE_BYTES);
    hll_sparse_to_regs(w->b + HLL_HDR_SIZE, w->len - HLL_HDR_SIZE, d + HLL_HDR_SIZE);
    hll_api->free(w->b);
    w->b = d;
    w->len = w->cap = HLL_DENSE_SIZE;
}

int hll_work_set(hll_work_t *w, long index, uint8_t val) {
    if (w->b[4] == HLL_SPARSE && val <= HLL_SPARSE_VAL_MAX) {
        work_reserve(w, w->len + HLL_SPARSE_SEQ_MAX);
        size_t n = w->len - HLL_HDR_SIZE;
        int r = hll_sparse_set(w->b + HLL_HDR_SIZE, &n, index, val, HLL_HDR_SIZE,
                               (size_t)hll_sparse_max_bytes);
        if (r >= 0) {
            w->len = HLL_HDR_SIZE + n;
            return r;
        }
    }
    hll_work_to_dense(w); /* a value past 32, or a sparse string grown too long */
    return hll_dense_set(w->b + HLL_HDR_SIZE, index, val);
}

void hll_work_commit(dfm_ctx_t *ctx, const dfm_str_t *key, hll_work_t *w) {
    dfm_key_t *k = hll_api->lookup(ctx, key, DFM_LOOKUP_WRITE | DFM_LOOKUP_NOTOUCH);
    if (k == NULL) k = hll_api->str_set(ctx, key, w->b, w->len, DFM_EXPIRE_NONE);
    char *p = hll_api->str_resize(ctx, &k, w->len);
    memcpy(p, w->b, w->len);
    hll_work_free(w);
}

void hll_work_free(hll_work_t *w) {
    hll_api->free(w->b);
    w->b = NULL;
    w->len = w->cap = 0;
}
