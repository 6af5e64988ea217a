/*
 * hash.c: element hashing. MurmurHash64A (Austin Appleby's public-domain algorithm, 64-bit
 * version A) with Redis's seed, read little-endian so every host hashes alike.
 */
#include <string.h>

#include "hll.h"

#define HLL_SEED 0xadc83b19ULL

static uint64_t load64le(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

uint64_t hll_murmur64a(const void *key, size_t len, uint64_t seed) {
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    const int r = 47;
    uint64_t h = seed ^ (len * m);
    const unsigned char *p = key;
    const unsigned char *end = p + (len & ~(size_t)7);

    for (; p != end; p += 8) {
        uint64_t k = load64le(p);
        k *= m;
        k ^= k >> r;
        k *= m;
        h ^= k;
        h *= m;
    }
    switch (len & 7) {
    case 7: h ^= (uint64_t)p[6] << 48; /* fall through */
    case 6: h ^= (uint64_t)p[5] << 40; /* fall through */
    case 5: h ^= (uint64_t)p[4] << 32; /* fall through */
    case 4: h ^= (uint64_t)p[3] << 24; /* fall through */
    case 3: h ^= (uint64_t)p[2] << 16; /* fall through */
    case 2: h ^= (uint64_t)p[1] << 8;  /* fall through */
    case 1:
        h ^= (uint64_t)p[0];
        h *= m;
    }
    h ^= h >> r;
    h *= m;
    h ^= h >> r;
    return h;
}

/* The low P bits pick the register; the value is 1 + the number of zero bits that follow
   (counting from the least significant), capped at Q + 1 by a sentinel bit. */
int hll_pattern(const void *ele, size_t len, long *index) {
    uint64_t hash = hll_murmur64a(ele, len, HLL_SEED);
    *index = (long)(hash & (HLL_REGISTERS - 1));
    hash >>= HLL_P;
    hash |= 1ULL << HLL_Q;
    return __builtin_ctzll(hash) + 1;
}
