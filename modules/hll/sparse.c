/*
 * sparse.c: the sparse (run-length) encoding of the registers; see hll.h for the opcodes.
 * Updates split and merge runs the way Redis does, so a sparse value grows (and turns
 * dense) after the same elements as on redis-server.
 */
#include <stdio.h>
#include <string.h>

#include "hll.h"

#define IS_ZERO(p) ((*(p) & 0xc0) == 0)
#define IS_XZERO(p) ((*(p) & 0xc0) == 0x40)
#define ZERO_LEN(p) ((*(p) & 0x3f) + 1)
#define XZERO_LEN(p) ((((*(p) & 0x3f) << 8) | (p)[1]) + 1)
#define VAL_VALUE(p) (((*(p) >> 2) & 0x1f) + 1)
#define VAL_LEN(p) ((*(p) & 0x3) + 1)

static void put_zero(uint8_t *p, int len) { p[0] = (uint8_t)(len - 1); }
static void put_xzero(uint8_t *p, int len) {
    p[0] = (uint8_t)(0x40 | ((len - 1) >> 8));
    p[1] = (uint8_t)((len - 1) & 0xff);
}
static void put_val(uint8_t *p, int val, int len) {
    p[0] = (uint8_t)(0x80 | ((val - 1) << 2) | (len - 1));
}

/* One opcode at p: its size in bytes, the registers it covers and their value. */
static int op_read(const uint8_t *p, const uint8_t *end, int *run, int *val) {
    if (IS_ZERO(p)) {
        *run = ZERO_LEN(p), *val = 0;
        return 1;
    }
    if (IS_XZERO(p)) {
        *run = 0, *val = 0;
        if (p + 1 >= end) return -1;
        *run = XZERO_LEN(p);
        return 2;
    }
    *run = VAL_LEN(p), *val = VAL_VALUE(p);
    return 1;
}

int hll_sparse_valid(const uint8_t *p, size_t len) {
    const uint8_t *end = p + len;
    long covered = 0;
    while (p < end) {
        int run, val, sz = op_read(p, end, &run, &val);
        if (sz < 0) return -1;
        covered += run;
        if (covered > HLL_REGISTERS) return -1;
        p += sz;
    }
    return covered == HLL_REGISTERS ? 0 : -1;
}

void hll_sparse_to_regs(const uint8_t *p, size_t len, uint8_t *regs) {
    const uint8_t *end = p + len;
    long idx = 0;
    while (p < end) {
        int run, val;
        p += op_read(p, end, &run, &val);
        if (val)
            for (int i = 0; i < run; i++) hll_dense_put(regs, idx + i, (uint8_t)val);
        idx += run;
    }
}

void hll_sparse_merge(uint8_t *max, const uint8_t *p, size_t len) {
    const uint8_t *end = p + len;
    long idx = 0;
    while (p < end) {
        int run, val;
        p += op_read(p, end, &run, &val);
        for (int i = 0; val && i < run; i++)
            if (max[idx + i] < val) max[idx + i] = (uint8_t)val;
        idx += run;
    }
}

void hll_sparse_histo(const uint8_t *p, size_t len, int *histo) {
    const uint8_t *end = p + len;
    while (p < end) {
        int run, val;
        p += op_read(p, end, &run, &val);
        histo[val] += run;
    }
}

/* The opcodes that replace a run [first, last] of value cur (0: a zero run) when register
   index inside it becomes val: the part before, VAL(val, 1), the part after. */
static int split_run(uint8_t *seq, long first, long last, long index, int cur, int val) {
    int n = 0;
    long before = index - first, after = last - index;
    if (before > 0) {
        if (cur) put_val(seq + n++, cur, (int)before);
        else if (before > HLL_SPARSE_ZERO_MAX_LEN) put_xzero(seq + n, (int)before), n += 2;
        else put_zero(seq + n++, (int)before);
    }
    put_val(seq + n++, val, 1);
    if (after > 0) {
        if (cur) put_val(seq + n++, cur, (int)after);
        else if (after > HLL_SPARSE_ZERO_MAX_LEN) put_xzero(seq + n, (int)after), n += 2;
        else put_zero(seq + n++, (int)after);
    }
    return n;
}

/* Merge neighbouring VAL opcodes of equal value whose runs fit one opcode, looking at up to
   five opcodes from p. */
static void merge_vals(uint8_t *p, uint8_t *buf, size_t *len) {
    uint8_t *end = buf + *len;
    for (int scan = 5; p < end && scan-- > 0;) {
        if (IS_XZERO(p)) {
            p += 2;
            continue;
        }
        if (IS_ZERO(p)) {
            p++;
            continue;
        }
        if (p + 1 < end && !IS_ZERO(p + 1) && !IS_XZERO(p + 1) && VAL_VALUE(p) == VAL_VALUE(p + 1) &&
            VAL_LEN(p) + VAL_LEN(p + 1) <= HLL_SPARSE_VAL_MAX_LEN) {
            put_val(p + 1, VAL_VALUE(p), VAL_LEN(p) + VAL_LEN(p + 1));
            memmove(p, p + 1, (size_t)(end - p - 1));
            end--;
            (*len)--;
            continue; /* try the merged opcode with its right neighbour */
        }
        p++;
    }
}

int hll_sparse_set(uint8_t *buf, size_t *len, long index, uint8_t val, size_t hdr_len,
                   size_t max_len) {
    uint8_t *p = buf, *prev = NULL, *end = buf + *len;
    long first = 0;
    int run = 0, cur = 0, sz = 0;
    while (p < end) { /* find the opcode covering index */
        sz = op_read(p, end, &run, &cur);
        if (index <= first + run - 1) break;
        prev = p;
        p += sz;
        first += run;
    }
    if (cur >= val) return 0;
    if (run == 1) { /* a single register: rewrite the opcode in place (an XZERO shrinks) */
        put_val(p, val, 1);
        if (sz == 2) {
            memmove(p + 1, p + 2, (size_t)(end - p - 2));
            (*len)--;
        }
    } else {
        uint8_t seq[HLL_SPARSE_SEQ_MAX];
        int n = split_run(seq, first, first + run - 1, index, cur, val);
        long delta = n - sz;
        if (delta > 0 && hdr_len + *len + (size_t)delta > max_len) return -1;
        memmove(p + n, p + sz, (size_t)(end - p - sz));
        memcpy(p, seq, (size_t)n);
        *len = (size_t)((long)*len + delta);
    }
    merge_vals(prev ? prev : buf, buf, len);
    return 1;
}

char *hll_sparse_decode(const uint8_t *p, size_t len, size_t *out_len) {
    const uint8_t *end = p + len;
    size_t cap = len * 12 + 1, n = 0;
    char *out = hll_api->alloc(cap);
    while (p < end) {
        const char *sep = n ? " " : "";
        if (IS_ZERO(p)) n += (size_t)snprintf(out + n, cap - n, "%sz:%d", sep, ZERO_LEN(p)), p++;
        else if (IS_XZERO(p) && p + 1 < end)
            n += (size_t)snprintf(out + n, cap - n, "%sZ:%d", sep, XZERO_LEN(p)), p += 2;
        else if (IS_XZERO(p))
            n += (size_t)snprintf(out + n, cap - n, "%sZ:%d", sep, ((*p & 0x3f) << 8) + 1), p++;
        else
            n += (size_t)snprintf(out + n, cap - n, "%sv:%d,%d", sep, VAL_VALUE(p), VAL_LEN(p)), p++;
    }
    *out_len = n;
    return out;
}
