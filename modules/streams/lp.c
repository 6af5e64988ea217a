/*
 * lp.c: the listpack codec of lp.h. Layout: a 4-byte total size and a 2-byte element count
 * (little endian), the elements, then 0xFF. Each element is an encoding byte (small ints,
 * 13/16/24/32/64-bit ints, 6/12/32-bit length strings), its data, and a "backlen" holding
 * the size of both in 1-5 bytes of 7 bits.
 */
#include <string.h>

#include "lp.h"
#include "streams.h"

static void w_reserve(lp_writer_t *w, size_t n) {
    if (w->len + n <= w->cap) return;
    while (w->cap < w->len + n) w->cap = w->cap ? w->cap * 2 : 256;
    w->buf = xs_api->realloc(w->buf, w->cap);
}

static void put_le(unsigned char *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put_backlen(lp_writer_t *w, size_t l) {
    unsigned char b[5];
    int n = l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
    /* most significant 7 bits first; every byte but the first has the high bit set */
    for (int i = 0; i < n; i++)
        b[i] = (unsigned char)(((l >> (7 * (n - 1 - i))) & 127) | (i ? 128 : 0));
    w_reserve(w, 5);
    memcpy(w->buf + w->len, b, (size_t)n);
    w->len += (size_t)n;
    w->count++;
}

void lp_begin(lp_writer_t *w) {
    *w = (lp_writer_t){0};
    w_reserve(w, 6);
    w->len = 6;
}

void lp_put_int(lp_writer_t *w, int64_t v) {
    unsigned char b[9];
    size_t n;
    if (v >= 0 && v <= 127) {
        b[0] = (unsigned char)v, n = 1;
    } else if (v >= -4096 && v <= 4095) {
        uint64_t u = v < 0 ? (uint64_t)((1 << 13) + v) : (uint64_t)v;
        b[0] = (unsigned char)(0xC0 | (u >> 8)), b[1] = (unsigned char)u, n = 2;
    } else if (v >= INT16_MIN && v <= INT16_MAX) {
        b[0] = 0xF1, put_le(b + 1, (uint64_t)v, 2), n = 3;
    } else if (v >= -8388608 && v <= 8388607) {
        b[0] = 0xF2, put_le(b + 1, (uint64_t)v, 3), n = 4;
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        b[0] = 0xF3, put_le(b + 1, (uint64_t)v, 4), n = 5;
    } else {
        b[0] = 0xF4, put_le(b + 1, (uint64_t)v, 8), n = 9;
    }
    w_reserve(w, n);
    memcpy(w->buf + w->len, b, n);
    w->len += n;
    put_backlen(w, n);
}

void lp_put_str(lp_writer_t *w, const void *p, size_t len) {
    unsigned char b[5];
    size_t h;
    if (len < 64) {
        b[0] = (unsigned char)(0x80 | len), h = 1;
    } else if (len < 4096) {
        b[0] = (unsigned char)(0xE0 | (len >> 8)), b[1] = (unsigned char)len, h = 2;
    } else {
        b[0] = 0xF0, put_le(b + 1, len, 4), h = 5;
    }
    w_reserve(w, h + len);
    memcpy(w->buf + w->len, b, h);
    memcpy(w->buf + w->len + h, p, len);
    w->len += h + len;
    put_backlen(w, h + len);
}

void lp_end(lp_writer_t *w) {
    w_reserve(w, 1);
    w->buf[w->len++] = 0xFF;
    put_le(w->buf, w->len, 4);
    put_le(w->buf + 4, w->count < 65535 ? w->count : 65535, 2);
}

static uint64_t get_le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int64_t sign(uint64_t u, int bits) {
    uint64_t m = (uint64_t)1 << (bits - 1);
    return bits == 64 ? (int64_t)u : (int64_t)((u ^ m) - m);
}

int lp_open(lp_reader_t *r, const unsigned char *buf, size_t len) {
    if (len < 7 || get_le(buf, 4) != len || buf[len - 1] != 0xFF) return -1;
    r->p = buf + 6;
    r->end = buf + len - 1;
    return 0;
}

/* Decode the header at p: header size, data size, and int width (0 for strings). */
static int decode_head(const unsigned char *p, size_t avail, size_t *h, size_t *d, int *ibits) {
    unsigned b = p[0];
    *ibits = 0;
    if (!(b & 0x80)) *h = 1, *d = 0, *ibits = 7;
    else if ((b & 0xC0) == 0x80) *h = 1, *d = b & 0x3F;
    else if ((b & 0xE0) == 0xC0) *h = 1, *d = 1, *ibits = 13;
    else if ((b & 0xF0) == 0xE0) *h = 2, *d = avail >= 2 ? ((b & 0x0F) << 8 | p[1]) : 0;
    else if (b == 0xF0) *h = 5, *d = avail >= 5 ? get_le(p + 1, 4) : 0;
    else if (b >= 0xF1 && b <= 0xF4)
        *h = 1, *d = (size_t[]){2, 3, 4, 8}[b - 0xF1], *ibits = (int)*d * 8;
    else return -1;
    return *h <= avail ? 0 : -1;
}

int lp_next(lp_reader_t *r, lp_elem_t *e) {
    if (r->p >= r->end) return 0;
    size_t avail = (size_t)(r->end - r->p), h, d;
    int ibits;
    if (decode_head(r->p, avail, &h, &d, &ibits) < 0 || d > avail - h) return -1;
    const unsigned char *p = r->p;
    if (ibits == 7) e->v = p[0] & 0x7F, e->str = NULL;
    else if (ibits == 13) e->v = sign((uint64_t)(p[0] & 0x1F) << 8 | p[1], 13), e->str = NULL;
    else if (ibits) e->v = sign(get_le(p + 1, ibits / 8), ibits), e->str = NULL;
    else e->str = (const char *)p + h, e->len = d;
    size_t l = h + d, bl = l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
    if (bl > avail - l) return -1;
    r->p += l + bl;
    return 1;
}

int lp_next_int(lp_reader_t *r, int64_t *v) {
    lp_elem_t e;
    long long ll;
    if (lp_next(r, &e) != 1) return -1;
    if (!e.str) {
        *v = e.v;
        return 0;
    }
    if (xs_api->str_to_ll(e.str, e.len, &ll) < 0) return -1;
    *v = ll;
    return 0;
}
