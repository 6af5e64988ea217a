/*
 * rdbpack.c: the listpack reader of rdbpack.h. Layout (from Redis's listpack spec): a 4-byte
 * total size, a 2-byte element count, entries, 0xFF. An entry is an encoding byte (7-bit
 * uint, 6/12/32-bit string lengths, 13/16/24/32/64-bit signed ints), its data, and a
 * "backlen" of 1-5 bytes giving the entry's size for backward walks, which we skip.
 */
#include <stdint.h>
#include <stdio.h>

#include "rdbpack.h"

int rp_open(rp_reader_t *r, const void *blob, size_t len) {
    r->p = blob;
    r->len = len;
    r->off = 6;
    if (len < 7) return -1;
    uint32_t total = r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
                     (uint32_t)r->p[3] << 24;
    r->count = r->p[4] | (unsigned)r->p[5] << 8;
    return total == len && r->p[len - 1] == 0xFF ? 0 : -1;
}

static size_t rp_backlen_size(size_t l) {
    return l < 128 ? 1 : l < 16384 ? 2 : l < 2097152 ? 3 : l < 268435456 ? 4 : 5;
}

/* Little-endian signed integer of `bytes` bytes at q. */
static int64_t rp_int(const unsigned char *q, int bytes) {
    uint64_t u = 0;
    for (int i = 0; i < bytes; i++) u |= (uint64_t)q[i] << (8 * i);
    if (bytes < 8 && (u >> (8 * bytes - 1)) & 1) u |= ~(uint64_t)0 << (8 * bytes);
    return (int64_t)u;
}

int rp_next(rp_reader_t *r, char *buf, const char **p, size_t *n) {
    if (r->off >= r->len) return -1;
    const unsigned char *q = r->p + r->off;
    size_t avail = r->len - r->off, hdr, dlen = 0;
    unsigned b = q[0];
    int64_t v = 0;
    int is_int = 1;
    if (b == 0xFF) return 0;
    if (!(b & 0x80)) {
        hdr = 1, v = b;
    } else if ((b & 0xC0) == 0x80) {
        hdr = 1, dlen = b & 0x3F, is_int = 0;
    } else if ((b & 0xE0) == 0xC0) {
        if (avail < 2) return -1;
        hdr = 2, v = ((b & 0x1F) << 8) | q[1];
        if (v >= 4096) v -= 8192;
    } else if ((b & 0xF0) == 0xE0) {
        if (avail < 2) return -1;
        hdr = 2, dlen = ((b & 0x0F) << 8) | q[1], is_int = 0;
    } else if (b == 0xF0) {
        if (avail < 5) return -1;
        hdr = 5, dlen = (size_t)rp_int(q + 1, 4) & 0xFFFFFFFFu, is_int = 0;
    } else if (b >= 0xF1 && b <= 0xF4) {
        static const int widths[] = {2, 3, 4, 8};
        int w = widths[b - 0xF1];
        if (avail < (size_t)w + 1) return -1;
        hdr = 1, dlen = (size_t)w, v = rp_int(q + 1, w);
    } else {
        return -1;
    }
    size_t entry = hdr + dlen;
    if (entry > avail || entry + rp_backlen_size(entry) > avail) return -1;
    if (is_int) {
        *n = (size_t)snprintf(buf, 21, "%lld", (long long)v);
        *p = buf;
    } else {
        *p = (const char *)q + hdr;
        *n = dlen;
    }
    r->off += entry + rp_backlen_size(entry);
    return 1;
}
