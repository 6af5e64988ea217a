/*
 * sdict.h: a chained hash table of byte-string keys, each with an optional byte-string value,
 * shared by the hashes module (field -> value) and the sets module (members, no values).
 * The sets module compiles sdict.c from this directory, so each module has its own copy of
 * the code and of sd_api.
 *
 * Buckets are a power of two; the table doubles when it holds more entries than buckets and
 * halves when it holds fewer than an eighth, all at once. sd_scan walks buckets in
 * reverse-binary order, so a cursor survives resizes between calls: every entry present for
 * the whole scan is reported at least once (entries may repeat).
 *
 * Memory comes from sd_api->alloc. Not thread-safe: a table belongs to one shard, or to a
 * multi-shard command's state, and is touched by one thread at a time.
 */
#ifndef DF_SDICT_H
#define DF_SDICT_H

#include <stddef.h>
#include <stdint.h>

#include <dragonfly/module.h>

/* The core's API, set by the module's init before any table is made. */
extern const dfm_api_t *sd_api;

typedef struct sd_entry {
    struct sd_entry *next;
    uint32_t klen, vlen;
    char data[]; /* key bytes, then value bytes */
} sd_entry_t;

typedef struct sd {
    sd_entry_t **b;
    size_t nb;    /* buckets, a power of two */
    size_t count; /* entries */
} sd_t;

typedef struct sd_iter {
    size_t b;
    sd_entry_t *e;
} sd_iter_t;

/* Seed the hash function (once, at init, before any table exists). */
void sd_seed(uint64_t seed);
/* A fast per-thread pseudo-random number (not for cryptography). */
uint64_t sd_rand(void);

sd_t *sd_new(size_t hint);
void sd_free(sd_t *d);
sd_t *sd_copy(const sd_t *d);
/* Bytes held, as the allocator counts them. */
size_t sd_mem(const sd_t *d);

/* The entry of key k, or NULL. Valid until the next change of d. */
sd_entry_t *sd_find(const sd_t *d, const void *k, size_t klen);
/* Insert or replace k's value with a copy of v (vlen may be 0). 1 = added, 0 = replaced. */
int sd_set(sd_t *d, const void *k, size_t klen, const void *v, size_t vlen);
/* Remove k: 1 if it was there. */
int sd_del(sd_t *d, const void *k, size_t klen);
/* A random entry (d must not be empty). */
const sd_entry_t *sd_random(const sd_t *d);

/* Iterate: sd_iter_init, then sd_iter_next until NULL. d must not change meanwhile. */
void sd_iter_init(sd_iter_t *it);
const sd_entry_t *sd_iter_next(const sd_t *d, sd_iter_t *it);

/* Visit the entries of the bucket(s) that cursor names; returns the next cursor, 0 = done. */
uint64_t sd_scan(const sd_t *d, uint64_t cursor, void (*fn)(void *arg, const sd_entry_t *e),
                 void *arg);

static inline dfm_str_t sd_key(const sd_entry_t *e) { return (dfm_str_t){e->data, e->klen}; }
static inline dfm_str_t sd_val(const sd_entry_t *e) {
    return (dfm_str_t){e->data + e->klen, e->vlen};
}

#endif
