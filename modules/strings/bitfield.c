/*
 * bitfield.c: BITFIELD and BITFIELD_RO: GET/SET/INCRBY of signed (i1..i64) and unsigned
 * (u1..u63) integers at arbitrary bit offsets, with OVERFLOW WRAP|SAT|FAIL. As in Redis, all
 * subcommands are parsed (and every error reported) before the key is touched.
 */
#include <string.h>

#include "strings.h"

enum { BF_GET, BF_SET, BF_INCRBY };
enum { BF_WRAP, BF_SAT, BF_FAIL };

typedef struct bf_op {
    uint64_t offset;
    int64_t arg;
    int opcode, sign, bits, overflow;
} bf_op_t;

/* Parse "i<bits>" / "u<bits>"; replies Redis's error and returns -1 when invalid. */
static int bf_parse_type(dfm_ctx_t *ctx, const dfm_str_t *a, int *sign, int *bits) {
    long long n;
    if (a->len >= 2 && (a->ptr[0] == 'i' || a->ptr[0] == 'u') &&
        str_api->str_to_ll(a->ptr + 1, a->len - 1, &n) == 0) {
        *sign = a->ptr[0] == 'i';
        if (n >= 1 && n <= (*sign ? 64 : 63)) {
            *bits = (int)n;
            return 0;
        }
    }
    str_api->reply_error(ctx, "ERR Invalid bitfield type. Use something like i16 u8. "
                              "Note that u64 is not supported but i64 is.");
    return -1;
}

/* Parse "OVERFLOW type" at argv[i]; returns 0 or -1 after replying. */
static int bf_parse_overflow(dfm_ctx_t *ctx, const dfm_str_t *a, int *ow) {
    if (str_api->arg_eq(a, "wrap")) *ow = BF_WRAP;
    else if (str_api->arg_eq(a, "sat")) *ow = BF_SAT;
    else if (str_api->arg_eq(a, "fail")) *ow = BF_FAIL;
    else {
        str_api->reply_error(ctx, "ERR Invalid OVERFLOW type specified");
        return -1;
    }
    return 0;
}

/* Parse one GET/SET/INCRBY at argv[i] into *op; returns argv entries used, or -1. */
static int bf_parse_op(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int i, bf_op_t *op) {
    int rem = argc - i - 1;
    if (str_api->arg_eq(&argv[i], "get") && rem >= 2) op->opcode = BF_GET;
    else if (str_api->arg_eq(&argv[i], "set") && rem >= 3) op->opcode = BF_SET;
    else if (str_api->arg_eq(&argv[i], "incrby") && rem >= 3) op->opcode = BF_INCRBY;
    else {
        str_api->reply_syntax_error(ctx);
        return -1;
    }
    if (bf_parse_type(ctx, &argv[i + 1], &op->sign, &op->bits) < 0) return -1;
    if (str_parse_bit_offset(ctx, &argv[i + 2], 1, op->bits, &op->offset) < 0) return -1;
    if (op->opcode == BF_GET) return 3;
    long long v;
    if (str_api->arg_ll(ctx, &argv[i + 3], &v) < 0) return -1;
    op->arg = v;
    return 4;
}

/*
 * Parse all subcommands into a new array (api->alloc; caller frees). Sets *nops and *maxbit
 * (the highest bit written, or -1 for read-only). Returns NULL after replying an error.
 */
static bf_op_t *bf_parse(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int *nops,
                         int64_t *maxbit) {
    bf_op_t *ops = str_api->alloc(sizeof(bf_op_t) * (size_t)(argc / 3 + 1));
    int ow = BF_WRAP, n = 0;
    *maxbit = -1;
    for (int i = 2; i < argc;) {
        if (str_api->arg_eq(&argv[i], "overflow") && i + 1 < argc) {
            if (bf_parse_overflow(ctx, &argv[i + 1], &ow) < 0) goto fail;
            i += 2;
            continue;
        }
        int used = bf_parse_op(ctx, argc, argv, i, &ops[n]);
        if (used < 0) goto fail;
        ops[n].overflow = ow;
        int64_t last = (int64_t)ops[n].offset + ops[n].bits - 1;
        if (ops[n].opcode != BF_GET && last > *maxbit) *maxbit = last;
        n++;
        i += used;
    }
    *nops = n;
    return ops;
fail:
    str_api->free(ops);
    return NULL;
}

/* Read `bits` bits at bit offset off of p (which must hold them) as an unsigned number. */
static uint64_t bf_read(const unsigned char *p, uint64_t off, int bits) {
    uint64_t v = 0;
    for (int j = 0; j < bits; j++, off++) v = (v << 1) | ((p[off >> 3] >> (7 - (off & 7))) & 1);
    return v;
}

/* Write the low `bits` bits of v at bit offset off of p. */
static void bf_write(unsigned char *p, uint64_t off, int bits, uint64_t v) {
    for (int j = bits - 1; j >= 0; j--, off++) {
        unsigned char mask = (unsigned char)(0x80 >> (off & 7));
        if ((v >> j) & 1) p[off >> 3] |= mask;
        else p[off >> 3] &= (unsigned char)~mask;
    }
}

/* Sign-extend the low `bits` bits of v. */
static int64_t bf_sext(uint64_t v, int bits) {
    if (bits < 64 && (v >> (bits - 1)) & 1) v |= ~(uint64_t)0 << bits;
    return (int64_t)v;
}

/* Read a field from a value of length len, bits past the end reading as 0. */
static int64_t bf_get(const unsigned char *p, size_t len, const bf_op_t *op) {
    unsigned char buf[9] = {0};
    uint64_t byte = op->offset >> 3;
    for (uint64_t i = 0; i < 9 && byte + i < len; i++) buf[i] = p[byte + i];
    uint64_t v = bf_read(buf, op->offset & 7, op->bits);
    return op->sign ? bf_sext(v, op->bits) : (int64_t)v;
}

/*
 * Fit the exact result r into the field's range by the overflow policy. Returns 1 with *out
 * set, or 0 for FAIL on overflow.
 */
static int bf_fit(__int128 r, const bf_op_t *op, int64_t *out) {
    __int128 min = op->sign ? -((__int128)1 << (op->bits - 1)) : 0;
    __int128 max = op->sign ? ((__int128)1 << (op->bits - 1)) - 1 : ((__int128)1 << op->bits) - 1;
    if (r >= min && r <= max) {
        *out = (int64_t)r;
        return 1;
    }
    if (op->overflow == BF_FAIL) return 0;
    if (op->overflow == BF_SAT) {
        *out = (int64_t)(r < min ? min : max);
        return 1;
    }
    uint64_t low = (uint64_t)r;
    if (op->bits < 64) low &= ((uint64_t)1 << op->bits) - 1;
    *out = op->sign ? bf_sext(low, op->bits) : (int64_t)low;
    return 1;
}

/* Run a SET or INCRBY on p and reply its result (old value for SET, new for INCRBY). */
static void bf_write_op(dfm_ctx_t *ctx, unsigned char *p, size_t len, const bf_op_t *op) {
    int64_t old = bf_get(p, len, op), nv;
    __int128 r;
    if (op->opcode == BF_INCRBY) r = (__int128)old + op->arg;
    else r = op->sign ? (__int128)op->arg : (__int128)(uint64_t)op->arg;
    if (!bf_fit(r, op, &nv)) {
        str_api->reply_null(ctx);
        return;
    }
    bf_write(p, op->offset, op->bits, (uint64_t)nv);
    str_api->reply_int(ctx, op->opcode == BF_SET ? old : nv);
}

/* Run the parsed ops and reply the array; p is writable when any op writes. */
static void bf_run(dfm_ctx_t *ctx, unsigned char *p, size_t len, const bf_op_t *ops, int n) {
    str_api->reply_array(ctx, n);
    for (int i = 0; i < n; i++) {
        if (ops[i].opcode == BF_GET) str_api->reply_int(ctx, bf_get(p, len, &ops[i]));
        else bf_write_op(ctx, p, len, &ops[i]);
    }
}

/* Shared body of BITFIELD and BITFIELD_RO. */
static void bitfield_generic(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int ro) {
    int n;
    int64_t maxbit;
    bf_op_t *ops = bf_parse(ctx, argc, argv, &n, &maxbit);
    if (ops == NULL) return;
    if (maxbit < 0) {
        dfm_key_t *k;
        dfm_str_t v = {"", 0};
        int found = str_lookup(ctx, &argv[1], DFM_LOOKUP_READ, &k);
        if (found > 0) str_api->str_value(k, &v);
        if (found >= 0) bf_run(ctx, (unsigned char *)(uintptr_t)v.ptr, v.len, ops, n);
    } else if (ro) {
        str_api->reply_error(ctx, "ERR BITFIELD_RO only supports the GET subcommand");
    } else {
        size_t len;
        char *p = str_bits_prepare(ctx, &argv[1], (uint64_t)maxbit, &len);
        if (p != NULL) {
            bf_run(ctx, (unsigned char *)p, len, ops, n);
            str_touched(ctx, &argv[1], "setbit");
        }
    }
    str_api->free(ops);
}

void str_cmd_bitfield(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    bitfield_generic(ctx, argc, argv, 0);
}

void str_cmd_bitfield_ro(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    bitfield_generic(ctx, argc, argv, 1);
}
