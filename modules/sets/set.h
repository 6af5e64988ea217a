/*
 * set.h: the set value. A set of integers (strict decimal int64, as Redis's string2ll reads
 * them) up to sobj_max_intset members is a sorted int64 array (Redis's intset: binary search,
 * 8 bytes a member); anything else is an sdict table of members, for good, as in Redis 7.0
 * (which has no listpack sets yet).
 *
 * Memory from the core's accounted allocator. A set is touched by one thread at a time.
 */
#ifndef DF_SETS_SET_H
#define DF_SETS_SET_H

#include <stddef.h>
#include <stdint.h>

#include "../hashes/sdict.h"

#define SOBJ_INTSET 0
#define SOBJ_HASHTABLE 1

/* Conversion threshold (config set-max-intset-entries). Read per change. */
extern int64_t sobj_max_intset;

typedef struct sobj {
    int enc;
    size_t count; /* members, both encodings */
    int64_t *is;  /* intset: sorted members */
    size_t cap;   /* intset: slots allocated */
    sd_t *ht;     /* hashtable */
} sobj_t;

/* Room for an integer member written as text. */
#define SOBJ_BUF 24

typedef struct sobj_iter {
    const sobj_t *s;
    size_t i;
    sd_iter_t it;
    char buf[SOBJ_BUF];
} sobj_iter_t;

sobj_t *sobj_new(void);
void sobj_free(sobj_t *s);
sobj_t *sobj_copy(const sobj_t *s);
size_t sobj_mem(const sobj_t *s);

/* Add a copy of m: 1 = added, 0 = was there. May change the encoding. */
int sobj_add(sobj_t *s, const dfm_str_t *m);
/* Remove m: 1 if it was there. */
int sobj_rem(sobj_t *s, const dfm_str_t *m);
int sobj_has(const sobj_t *s, const dfm_str_t *m);

/* Iterate members (s must not change meanwhile); *out may point into it->buf. */
void sobj_iter_init(sobj_iter_t *it, const sobj_t *s);
int sobj_iter_next(sobj_iter_t *it, dfm_str_t *out);
/* A random member (s not empty), pointing into s or buf (SOBJ_BUF bytes). */
void sobj_random(const sobj_t *s, char *buf, dfm_str_t *out);

#endif
