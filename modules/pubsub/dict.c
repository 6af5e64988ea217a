/*
 * dict.c: a small hash table of byte-string keys (binary safe, empty keys allowed) for the
 * registries and the clients' subscription sets. Separate chaining over a power-of-two bucket
 * array that doubles when there are more entries than buckets and halves when they fall
 * below an eighth; an empty table holds no memory. Entries also form a list in insertion
 * order, which iteration (head/next) follows, so a client's patterns are matched, and its
 * subscriptions dropped, in the order it made them.
 */
#include <string.h>

#include "pubsub.h"

#define PS_MIN_BUCKETS 8

static uint64_t ps_seed = 0x243f6a8885a308d3ull;

/* Set the hash seed; only before any table holds an entry (module init). */
void ps_hash_seed(uint64_t seed) { ps_seed ^= seed; }

static uint64_t ps_mix(uint64_t x) {
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ull;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dull;
    x ^= x >> 33;
    return x;
}

/* A seeded hash of len bytes, eight at a time; the length goes into the last word. */
uint64_t ps_hash(const char *p, size_t len) {
    uint64_t h = ps_seed, w;
    size_t n = len;
    while (n >= 8) {
        memcpy(&w, p, 8);
        h = ps_mix(h ^ w) + 0x9e3779b97f4a7c15ull;
        p += 8;
        n -= 8;
    }
    w = 0;
    if (n) memcpy(&w, p, n);
    return ps_mix(h ^ w ^ ((uint64_t)len << 56) ^ (uint64_t)len);
}

/* Move every entry into a table of nbuckets (a power of two); on allocation failure the
   table keeps its old size (api->alloc aborts on OOM, so this does not happen in practice). */
static void ps_dict_resize(ps_dict_t *d, size_t nbuckets) {
    ps_entry_t **b = ps_api->alloc(nbuckets * sizeof *b);
    if (!b) return;
    memset(b, 0, nbuckets * sizeof *b);
    for (ps_entry_t *e = d->head; e; e = e->next) {
        size_t i = e->hash & (nbuckets - 1);
        e->chain = b[i];
        b[i] = e;
    }
    ps_api->free(d->buckets);
    d->buckets = b;
    d->mask = nbuckets - 1;
}

/* The entry for key[0..len), or NULL. */
ps_entry_t *ps_dict_find(const ps_dict_t *d, const char *key, size_t len) {
    if (!d->count) return NULL;
    uint64_t h = ps_hash(key, len);
    for (ps_entry_t *e = d->buckets[h & d->mask]; e; e = e->chain)
        if (e->hash == h && e->len == len && (len == 0 || memcmp(e->key, key, len) == 0))
            return e;
    return NULL;
}

/* The entry for key[0..len), added (with val NULL, at the end of the order) if missing;
   *created says which. The key is copied. */
ps_entry_t *ps_dict_insert(ps_dict_t *d, const char *key, size_t len, int *created) {
    ps_entry_t *e = ps_dict_find(d, key, len);
    *created = 0;
    if (e) return e;
    if (!d->buckets) ps_dict_resize(d, PS_MIN_BUCKETS);
    else if (d->count >= d->mask + 1) ps_dict_resize(d, (d->mask + 1) * 2);
    e = ps_api->alloc(sizeof *e + len + 1);
    if (len) memcpy(e->key, key, len);
    e->key[len] = '\0';
    e->len = len;
    e->hash = ps_hash(key, len);
    e->val = NULL;
    size_t i = e->hash & d->mask;
    e->chain = d->buckets[i];
    d->buckets[i] = e;
    e->next = NULL;
    e->prev = d->tail;
    if (d->tail) d->tail->next = e;
    else d->head = e;
    d->tail = e;
    d->count++;
    *created = 1;
    return e;
}

/* Unlink e (an entry of d) and free it; e->val is the caller's. The last removal frees the
   buckets; a table far larger than its entries shrinks. */
void ps_dict_remove(ps_dict_t *d, ps_entry_t *e) {
    ps_entry_t **pp = &d->buckets[e->hash & d->mask];
    while (*pp != e) pp = &(*pp)->chain;
    *pp = e->chain;
    if (e->prev) e->prev->next = e->next;
    else d->head = e->next;
    if (e->next) e->next->prev = e->prev;
    else d->tail = e->prev;
    d->count--;
    ps_api->free(e);
    if (d->count == 0) {
        ps_api->free(d->buckets);
        d->buckets = NULL;
        d->mask = 0;
    } else if (d->mask + 1 > PS_MIN_BUCKETS && d->count * 8 < d->mask + 1) {
        ps_dict_resize(d, (d->mask + 1) / 2);
    }
}

/* Remove every entry, passing each non-NULL val to free_val (if given). */
void ps_dict_clear(ps_dict_t *d, void (*free_val)(void *)) {
    ps_entry_t *e = d->head;
    while (e) {
        ps_entry_t *next = e->next;
        if (free_val && e->val) free_val(e->val);
        ps_api->free(e);
        e = next;
    }
    ps_api->free(d->buckets);
    memset(d, 0, sizeof *d);
}
