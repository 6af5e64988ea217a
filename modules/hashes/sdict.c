/*
 * sdict.c: the chained hash table of sdict.h. Entries are single allocations (header, key,
 * value), so replacing a value reallocates the entry in place in its chain.
 */
#include <string.h>

#include "sdict.h"

const dfm_api_t *sd_api;

static uint64_t sd_hash_seed = 0x9e3779b97f4a7c15ull;
static __thread uint64_t sd_rand_state;

#define SD_MIN_BUCKETS 4

void sd_seed(uint64_t seed) { sd_hash_seed ^= seed; }

/* splitmix64 steps over a per-thread state, seeded from the clock and the state's address. */
uint64_t sd_rand(void) {
    if (sd_rand_state == 0)
        sd_rand_state = (uint64_t)sd_api->now_ms() ^ (uint64_t)(uintptr_t)&sd_rand_state;
    uint64_t z = (sd_rand_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t sd_mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 29;
    return x;
}

/* A seeded 64-bit hash: 8-byte words folded with multiply-rotate, then a final avalanche. */
static uint64_t sd_hash(const void *p, size_t len) {
    const unsigned char *s = p;
    uint64_t h = sd_hash_seed ^ (len * 0xc2b2ae3d27d4eb4full);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ sd_mix(w * 0x165667b19e3779f9ull)) * 0x9e3779b97f4a7c15ull;
        h = (h << 29) | (h >> 35);
        s += 8;
        len -= 8;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < len; i++) w |= (uint64_t)s[i] << (8 * i);
    h = (h ^ sd_mix(w + 0x27d4eb2f165667c5ull)) * 0x9e3779b97f4a7c15ull;
    return sd_mix(h ^ (h >> 31));
}

static size_t sd_bucket(const sd_t *d, const void *k, size_t klen) {
    return (size_t)sd_hash(k, klen) & (d->nb - 1);
}

static sd_entry_t **sd_buckets_new(size_t nb) {
    sd_entry_t **b = sd_api->alloc(sizeof(*b) * nb);
    memset(b, 0, sizeof(*b) * nb);
    return b;
}

sd_t *sd_new(size_t hint) {
    sd_t *d = sd_api->alloc(sizeof(*d));
    d->nb = SD_MIN_BUCKETS;
    while (d->nb < hint) d->nb *= 2;
    d->b = sd_buckets_new(d->nb);
    d->count = 0;
    return d;
}

void sd_free(sd_t *d) {
    if (d == NULL) return;
    for (size_t i = 0; i < d->nb; i++) {
        for (sd_entry_t *e = d->b[i], *next; e; e = next) {
            next = e->next;
            sd_api->free(e);
        }
    }
    sd_api->free(d->b);
    sd_api->free(d);
}

static sd_entry_t *sd_entry_new(const void *k, size_t klen, const void *v, size_t vlen) {
    sd_entry_t *e = sd_api->alloc(sizeof(*e) + klen + vlen);
    e->next = NULL;
    e->klen = (uint32_t)klen;
    e->vlen = (uint32_t)vlen;
    if (klen) memcpy(e->data, k, klen);
    if (vlen) memcpy(e->data + klen, v, vlen);
    return e;
}

/* Rehash every entry into nb buckets. */
static void sd_resize(sd_t *d, size_t nb) {
    sd_entry_t **b = sd_buckets_new(nb);
    for (size_t i = 0; i < d->nb; i++) {
        for (sd_entry_t *e = d->b[i], *next; e; e = next) {
            next = e->next;
            size_t j = (size_t)sd_hash(e->data, e->klen) & (nb - 1);
            e->next = b[j];
            b[j] = e;
        }
    }
    sd_api->free(d->b);
    d->b = b;
    d->nb = nb;
}

sd_t *sd_copy(const sd_t *d) {
    sd_t *c = sd_new(d->nb);
    for (size_t i = 0; i < d->nb; i++) {
        for (const sd_entry_t *e = d->b[i]; e; e = e->next) {
            sd_entry_t *n = sd_entry_new(e->data, e->klen, e->data + e->klen, e->vlen);
            n->next = c->b[i]; /* same size and seed: same bucket */
            c->b[i] = n;
        }
    }
    c->count = d->count;
    return c;
}

size_t sd_mem(const sd_t *d) {
    size_t sum = sd_api->usable_size((void *)(uintptr_t)d) + sd_api->usable_size(d->b);
    for (size_t i = 0; i < d->nb; i++)
        for (const sd_entry_t *e = d->b[i]; e; e = e->next)
            sum += sd_api->usable_size((void *)(uintptr_t)e);
    return sum;
}

/* The link that points at k's entry (or the NULL at the end of its chain). */
static sd_entry_t **sd_link(const sd_t *d, const void *k, size_t klen) {
    sd_entry_t **pe = &d->b[sd_bucket(d, k, klen)];
    for (; *pe; pe = &(*pe)->next)
        if ((*pe)->klen == klen && (klen == 0 || memcmp((*pe)->data, k, klen) == 0)) break;
    return pe;
}

sd_entry_t *sd_find(const sd_t *d, const void *k, size_t klen) { return *sd_link(d, k, klen); }

int sd_set(sd_t *d, const void *k, size_t klen, const void *v, size_t vlen) {
    sd_entry_t **pe = sd_link(d, k, klen);
    sd_entry_t *n = sd_entry_new(k, klen, v, vlen);
    if (*pe) { /* replace: same place in the chain */
        n->next = (*pe)->next;
        sd_api->free(*pe);
        *pe = n;
        return 0;
    }
    *pe = n;
    d->count++;
    if (d->count > d->nb) sd_resize(d, d->nb * 2);
    return 1;
}

int sd_del(sd_t *d, const void *k, size_t klen) {
    sd_entry_t **pe = sd_link(d, k, klen);
    sd_entry_t *e = *pe;
    if (e == NULL) return 0;
    *pe = e->next;
    sd_api->free(e);
    d->count--;
    if (d->nb > SD_MIN_BUCKETS && d->count < d->nb / 8) sd_resize(d, d->nb / 2);
    return 1;
}

const sd_entry_t *sd_random(const sd_t *d) {
    const sd_entry_t *e;
    do {
        e = d->b[sd_rand() & (d->nb - 1)];
    } while (e == NULL);
    size_t len = 0;
    for (const sd_entry_t *x = e; x; x = x->next) len++;
    for (size_t i = sd_rand() % len; i > 0; i--) e = e->next;
    return e;
}

void sd_iter_init(sd_iter_t *it) {
    it->b = 0;
    it->e = NULL;
}

const sd_entry_t *sd_iter_next(const sd_t *d, sd_iter_t *it) {
    if (it->e) it->e = it->e->next;
    while (it->e == NULL && it->b < d->nb) it->e = d->b[it->b++];
    return it->e;
}

static uint64_t sd_rev(uint64_t v) {
    uint64_t r = 0;
    for (int i = 0; i < 64; i++, v >>= 1) r = (r << 1) | (v & 1);
    return r;
}

uint64_t sd_scan(const sd_t *d, uint64_t cursor, void (*fn)(void *arg, const sd_entry_t *e),
                 void *arg) {
    uint64_t mask = d->nb - 1;
    for (const sd_entry_t *e = d->b[cursor & mask]; e; e = e->next) fn(arg, e);
    /* Increment the bits above the mask in reversed order. */
    cursor |= ~mask;
    cursor = sd_rev(cursor);
    cursor++;
    return sd_rev(cursor);
}
