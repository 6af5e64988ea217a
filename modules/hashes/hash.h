/*
 * hash.h: the hash value. Small hashes are a packed array of [u8 len][field][u8 len][value]
 * pairs in insertion order (Redis's listpack encoding: linear search, ~2 bytes of overhead per
 * pair); a hash with more than hobj_max_entries pairs, or a field or value longer than
 * hobj_max_value bytes, turns into an sdict table for good, as Redis 7.0 does.
 *
 * Memory from the core's accounted allocator. A hash is touched by one thread at a time.
 */
#ifndef DF_HASHES_HASH_H
#define DF_HASHES_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "sdict.h"

#define HOBJ_LISTPACK 0
#define HOBJ_HASHTABLE 1

/* Conversion thresholds (config hash-max-listpack-entries / -value). Read per change. */
extern int64_t hobj_max_entries, hobj_max_value;

typedef struct hobj {
    int enc;
    size_t count;       /* pairs, both encodings */
    unsigned char *lp;  /* listpack: the packed pairs */
    size_t used;        /* listpack: bytes in use */
    sd_t *ht;           /* hashtable */
} hobj_t;

typedef struct hobj_iter {
    const hobj_t *h;
    size_t off;
    sd_iter_t it;
} hobj_iter_t;

hobj_t *hobj_new(void);
void hobj_free(hobj_t *h);
hobj_t *hobj_copy(const hobj_t *h);
size_t hobj_mem(const hobj_t *h);

/* Field f's value into *v (pointing into h, valid until h changes): 1 found, 0 not. */
int hobj_get(const hobj_t *h, const dfm_str_t *f, dfm_str_t *v);
/* Set f to v (copies both): 1 = new field, 0 = updated. May change the encoding. */
int hobj_set(hobj_t *h, const dfm_str_t *f, const dfm_str_t *v);
/* Delete f: 1 if it was there. */
int hobj_del(hobj_t *h, const dfm_str_t *f);

/* Iterate pairs (h must not change meanwhile). */
void hobj_iter_init(hobj_iter_t *it, const hobj_t *h);
int hobj_iter_next(hobj_iter_t *it, dfm_str_t *f, dfm_str_t *v);
/* A random pair (h not empty); pointers into h. */
void hobj_random(const hobj_t *h, dfm_str_t *f, dfm_str_t *v);

#endif
