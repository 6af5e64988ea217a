/*
 * sha1.c: SHA-1 (FIPS 180-4) for script names and redis.sha1hex. The core links OpenSSL but a
 * module sees none of the core's symbols (RTLD_LOCAL, no ABI call for hashing), and linking
 * libcrypto into a module for one 20-byte digest of small inputs is not worth the dependency:
 * this is the whole algorithm, ~60 lines. Pure functions, any thread.
 */
#include <string.h>

#include "scripting.h"

typedef struct sha1 {
    uint32_t h[5];
    uint64_t total;
    unsigned char block[64];
    size_t used;
} sha1_t;

static uint32_t rol(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }

/* Mix one 64-byte block into h. */
static void sha1_block(uint32_t h[5], const unsigned char *p) {
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999;
        else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1;
        else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
        else f = b ^ c ^ d, k = 0xCA62C1D6;
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d, d = c, c = rol(b, 30), b = a, a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

static void sha1_update(sha1_t *s, const unsigned char *p, size_t n) {
    s->total += n;
    while (n) {
        size_t take = 64 - s->used < n ? 64 - s->used : n;
        memcpy(s->block + s->used, p, take);
        s->used += take, p += take, n -= take;
        if (s->used == 64) {
            sha1_block(s->h, s->block);
            s->used = 0;
        }
    }
}

/* SHA-1 of data as 40 lower-case hex digits and a NUL in out. */
void sc_sha1_hex(const void *data, size_t len, char out[SC_SHA_LEN + 1]) {
    sha1_t s = {{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0}, 0, {0}, 0};
    sha1_update(&s, data, len);
    uint64_t bits = s.total * 8;
    unsigned char pad[72] = {0x80};
    size_t padlen = (s.used < 56 ? 56 : 120) - s.used;
    for (int i = 0; i < 8; i++) pad[padlen + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
    sha1_update(&s, pad, padlen + 8);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 20; i++) {
        unsigned v = (s.h[i / 4] >> (24 - 8 * (i % 4))) & 0xff;
        out[2 * i] = hex[v >> 4];
        out[2 * i + 1] = hex[v & 15];
    }
    out[SC_SHA_LEN] = '\0';
}
