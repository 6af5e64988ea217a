/*
 * bits.c: single-key bitmap commands: SETBIT, GETBIT, BITCOUNT and BITPOS, plus the helper
 * that readies a string for bit writes (shared with BITFIELD). Bits are numbered from the most
 * significant bit of byte 0, as in Redis.
 */
#include <string.h>

#include "strings.h"

char *str_bits_prepare(dfm_ctx_t *ctx, const dfm_str_t *key, uint64_t maxbit, size_t *len) {
    dfm_key_t *k;
    size_t need = (size_t)(maxbit >> 3) + 1;
    int found = str_lookup(ctx, key, DFM_LOOKUP_WRITE, &k);
    if (found < 0) return NULL;
    if (!found) k = str_api->str_set(ctx, key, "", 0, DFM_EXPIRE_NONE);
    dfm_str_t v;
    str_api->str_value(k, &v);
    *len = v.len > need ? v.len : need;
    return str_api->str_resize(ctx, &k, *len);
}

/* SETBIT key offset 0|1: reply the previous bit. */
void str_cmd_setbit(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    uint64_t off;
    long long on;
    size_t len;
    if (str_parse_bit_offset(ctx, &argv[2], 0, 0, &off) < 0) return;
    if (str_api->str_to_ll(argv[3].ptr, argv[3].len, &on) < 0 || (on & ~1LL)) {
        str_api->reply_error(ctx, "ERR bit is not an integer or out of range");
        return;
    }
    char *p = str_bits_prepare(ctx, &argv[1], off, &len);
    if (p == NULL) return;
    unsigned char mask = (unsigned char)(0x80 >> (off & 7));
    unsigned char *b = (unsigned char *)p + (off >> 3);
    int old = (*b & mask) != 0;
    *b = on ? (unsigned char)(*b | mask) : (unsigned char)(*b & ~mask);
    str_touched(ctx, &argv[1], "setbit");
    str_api->reply_int(ctx, old);
}

/* GETBIT key offset: bits past the end read as 0. */
void str_cmd_getbit(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    uint64_t off;
    dfm_key_t *k;
    if (str_parse_bit_offset(ctx, &argv[2], 0, 0, &off) < 0) return;
    int found = str_lookup(ctx, &argv[1], DFM_LOOKUP_READ, &k);
    if (found < 0) return;
    int bit = 0;
    if (found) {
        dfm_str_t v;
        str_api->str_value(k, &v);
        if ((off >> 3) < v.len) bit = ((unsigned char)v.ptr[off >> 3] >> (7 - (off & 7))) & 1;
    }
    str_api->reply_int(ctx, bit);
}

/* Count the set bits of bytes p[0..n-1]. */
static long long bits_popcount(const unsigned char *p, size_t n) {
    long long c = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        c += __builtin_popcountll(w);
    }
    for (; i < n; i++) c += __builtin_popcount(p[i]);
    return c;
}

/* Count the set bits in bit range [sb, eb] (inclusive) of p. */
static long long bits_count_range(const unsigned char *p, uint64_t sb, uint64_t eb) {
    uint64_t b0 = sb >> 3, b1 = eb >> 3;
    long long c = bits_popcount(p + b0, (size_t)(b1 - b0 + 1));
    c -= __builtin_popcount(p[b0] & ((0xff << (8 - (sb & 7))) & 0xff));
    c -= __builtin_popcount(p[b1] & (0xff >> ((eb & 7) + 1)));
    return c;
}

/* Parse BYTE|BIT; returns 1 for BIT, 0 for BYTE, -1 after replying a syntax error. */
static int bits_unit(dfm_ctx_t *ctx, const dfm_str_t *a) {
    if (str_api->arg_eq(a, "bit")) return 1;
    if (str_api->arg_eq(a, "byte")) return 0;
    str_api->reply_syntax_error(ctx);
    return -1;
}

/* Redis's index clamping: negative counts from the end; 0 if the range is empty, else 1. */
static int bits_clamp(long long total, long long *start, long long *end) {
    if (*start < 0) *start += total;
    if (*end < 0) *end += total;
    if (*start < 0) *start = 0;
    if (*end < 0) *end = 0;
    if (*end >= total) *end = total - 1;
    return *start <= *end;
}

/* BITCOUNT key [start end [BYTE|BIT]] */
void str_cmd_bitcount(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    dfm_key_t *k;
    long long start = 0, end = -1;
    int isbit = 0;
    int found = str_lookup(ctx, &argv[1], DFM_LOOKUP_READ, &k);
    if (found <= 0) {
        if (found == 0) str_api->reply_int(ctx, 0);
        return;
    }
    if (argc == 4 || argc == 5) {
        if (str_api->arg_ll(ctx, &argv[2], &start) < 0) return;
        if (str_api->arg_ll(ctx, &argv[3], &end) < 0) return;
        if (start < 0 && end < 0 && start > end) {
            str_api->reply_int(ctx, 0);
            return;
        }
        if (argc == 5 && (isbit = bits_unit(ctx, &argv[4])) < 0) return;
    } else if (argc != 2) {
        str_api->reply_syntax_error(ctx);
        return;
    }
    dfm_str_t v;
    str_api->str_value(k, &v);
    long long total = (long long)v.len << (isbit ? 3 : 0);
    if (!bits_clamp(total, &start, &end)) {
        str_api->reply_int(ctx, 0);
        return;
    }
    if (!isbit) start <<= 3, end = (end << 3) + 7;
    str_api->reply_int(ctx, bits_count_range((const unsigned char *)v.ptr, start, end));
}

/* The first bit equal to `bit` in bit range [sb, eb] of p, or -1. */
static long long bits_find(const unsigned char *p, uint64_t sb, uint64_t eb, int bit) {
    const uint64_t skipw = bit ? 0 : ~(uint64_t)0;
    uint64_t i = sb;
    while (i <= eb && (i & 7) != 0) {
        if (((p[i >> 3] >> (7 - (i & 7))) & 1) == bit) return (long long)i;
        i++;
    }
    for (uint64_t w; i + 63 <= eb; i += 64) {
        memcpy(&w, p + (i >> 3), 8);
        if (w != skipw) break;
    }
    for (; i + 7 <= eb; i += 8) {
        unsigned x = bit ? p[i >> 3] : (unsigned char)~p[i >> 3];
        if (x) return (long long)(i + __builtin_clz(x) - 24);
    }
    for (; i <= eb; i++)
        if (((p[i >> 3] >> (7 - (i & 7))) & 1) == bit) return (long long)i;
    return -1;
}

/* Parse BITPOS's optional range (bit indexes when BIT is given). Returns -1 on error. */
static int bitpos_range(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, long long len,
                        long long *start, long long *end, int *isbit) {
    *isbit = 0;
    *start = 0;
    *end = len - 1;
    if (argc == 3) return 0;
    if (argc > 6) {
        str_api->reply_syntax_error(ctx);
        return -1;
    }
    if (str_api->arg_ll(ctx, &argv[3], start) < 0) return -1;
    if (argc == 6 && (*isbit = bits_unit(ctx, &argv[5])) < 0) return -1;
    if (argc >= 5 && str_api->arg_ll(ctx, &argv[4], end) < 0) return -1;
    return 0;
}

/* BITPOS key bit [start [end [BYTE|BIT]]] */
void str_cmd_bitpos(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    long long bit, start, end;
    int isbit;
    dfm_key_t *k;
    if (str_api->arg_ll(ctx, &argv[2], &bit) < 0) return;
    if (bit != 0 && bit != 1) {
        str_api->reply_error(ctx, "ERR The bit argument must be 1 or 0.");
        return;
    }
    int found = str_lookup(ctx, &argv[1], DFM_LOOKUP_READ, &k);
    if (found <= 0) {
        if (found == 0) str_api->reply_int(ctx, bit ? -1 : 0);
        return;
    }
    dfm_str_t v;
    str_api->str_value(k, &v);
    if (bitpos_range(ctx, argc, argv, (long long)v.len, &start, &end, &isbit) < 0) return;
    if (!bits_clamp((long long)v.len << (isbit ? 3 : 0), &start, &end)) {
        str_api->reply_int(ctx, -1);
        return;
    }
    if (!isbit) start <<= 3, end = (end << 3) + 7;
    long long pos = bits_find((const unsigned char *)v.ptr, start, end, (int)bit);
    if (pos < 0 && bit == 0 && argc < 5) pos = end + 1;
    str_api->reply_int(ctx, pos);
}
