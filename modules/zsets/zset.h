/*
 * zset.h: the sorted set behind the "zset" type: a skiplist ordered by (score, member) whose
 * nodes carry rank spans (ZRANK, ZRANGE by index in O(log n)), plus a chained hash table from
 * member to node threaded through the same nodes (ZSCORE in O(1)). Every allocation goes
 * through the module's accounted allocator. A zset_t belongs to one thread at a time.
 */
#ifndef DF_ZSET_H
#define DF_ZSET_H

#include <stddef.h>
#include <stdint.h>

#define ZS_MAXLEVEL 32

typedef struct zs_node zs_node_t;

struct zs_node {
    double score;
    zs_node_t *backward; /* previous node in order, NULL for the first */
    zs_node_t *hnext;    /* next node in the same hash bucket */
    uint64_t hash;
    uint32_t len;        /* member length; the member bytes follow lv[level] */
    uint32_t level;
    struct zs_level {
        zs_node_t *forward;
        size_t span; /* nodes skipped by following forward at this level */
    } lv[];
};

typedef struct zset {
    zs_node_t *header; /* ZS_MAXLEVEL levels, no member */
    zs_node_t *tail;
    size_t length;
    int level;
    zs_node_t **buckets;
    size_t nbuckets; /* 0 or a power of two */
    size_t bytes;    /* bytes held by the member nodes */
    int big;         /* reported as "skiplist": outgrew the listpack limits once */
} zset_t;

/* A score interval; minex/maxex: the bound is exclusive. */
typedef struct zs_range {
    double min, max;
    int minex, maxex;
} zs_range_t;

/* A lexicographic bound: inf -1 is "-", +1 is "+", 0 is the string p[0..len). */
typedef struct zs_lexbound {
    const char *p;
    size_t len;
    int inf;
    int ex;
} zs_lexbound_t;

typedef struct zs_lexrange {
    zs_lexbound_t min, max;
} zs_lexrange_t;

static inline const char *zs_ele(const zs_node_t *n) { return (const char *)&n->lv[n->level]; }
static inline zs_node_t *zs_first(const zset_t *z) { return z->header->lv[0].forward; }
static inline zs_node_t *zs_last(const zset_t *z) { return z->tail; }
static inline zs_node_t *zs_next(const zs_node_t *n) { return n->lv[0].forward; }
static inline zs_node_t *zs_prev(const zs_node_t *n) { return n->backward; }

zset_t *zs_new(void);
void zs_free(zset_t *z);
zset_t *zs_copy(const zset_t *z);
size_t zs_mem(const zset_t *z);

/* The node of member p[0..len), or NULL. */
zs_node_t *zs_find(const zset_t *z, const char *p, size_t len);
/* Add a member that is not in z yet; returns its node. */
zs_node_t *zs_insert(zset_t *z, double score, const char *p, size_t len);
/* Give n a new score; returns the (possibly different) node now holding the member. */
zs_node_t *zs_set_score(zset_t *z, zs_node_t *n, double score);
/* Unlink and free n. */
void zs_delete_node(zset_t *z, zs_node_t *n);
/* Remove member p[0..len); 1 if it was there. */
int zs_delete(zset_t *z, const char *p, size_t len);

/* 0-based rank of n in ascending order. */
size_t zs_rank(const zset_t *z, const zs_node_t *n);
/* The node at 0-based rank r (< length). */
zs_node_t *zs_at(const zset_t *z, size_t r);

/* 1 if the range can hold no score at all. */
int zs_range_empty(const zs_range_t *r);
int zs_in_range(const zs_range_t *r, double score);
/* First / last node whose score is inside r, or NULL. */
zs_node_t *zs_first_in_range(const zset_t *z, const zs_range_t *r);
zs_node_t *zs_last_in_range(const zset_t *z, const zs_range_t *r);

int zs_lex_empty(const zs_lexrange_t *r);
int zs_in_lex(const zs_lexrange_t *r, const zs_node_t *n);
zs_node_t *zs_first_in_lex(const zset_t *z, const zs_lexrange_t *r);
zs_node_t *zs_last_in_lex(const zset_t *z, const zs_lexrange_t *r);

/*
 * One step of a SCAN over the hash table: calls fn for every node of the bucket(s) at
 * `cursor` and returns the next cursor (0 when done). Reverse-binary cursors, so members
 * present for the whole scan are reported at least once even if the table is resized.
 */
uint64_t zs_scan(const zset_t *z, uint64_t cursor, void (*fn)(void *arg, const zs_node_t *n),
                 void *arg);

#endif
