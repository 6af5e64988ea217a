/*
 * zset.c: the skiplist + hash table sorted set (see zset.h). The skiplist keeps per-level
 * spans so ranks are found on the way down; the hash table chains through the nodes' hnext,
 * doubles when it holds more members than buckets and halves when it is an eighth full, and is
 * rehashed at once (sets are small enough that an incremental rehash is not worth its code).
 */
#include <string.h>

#include "zsets.h"

/* ---------------------------------------------------------------- nodes */

static size_t node_size(uint32_t level, size_t len) {
    return sizeof(zs_node_t) + level * sizeof(struct zs_level) + len;
}

static zs_node_t *node_new(uint32_t level, double score, const char *p, size_t len) {
    zs_node_t *n = zs_api->alloc(node_size(level, len));
    n->score = score;
    n->backward = NULL;
    n->hnext = NULL;
    n->hash = 0;
    n->len = (uint32_t)len;
    n->level = level;
    for (uint32_t i = 0; i < level; i++) n->lv[i] = (struct zs_level){NULL, 0};
    if (len) memcpy((char *)&n->lv[level], p, len);
    return n;
}

/* Levels are geometric with p = 1/4, from a per-thread xorshift generator. */
static uint32_t random_level(void) {
    static __thread uint64_t seed;
    if (seed == 0) seed = (uint64_t)(uintptr_t)&seed ^ 0x9e3779b97f4a7c15ull;
    uint32_t level = 1;
    for (;;) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        if ((seed & 3) != 0 || level >= ZS_MAXLEVEL) break;
        level++;
    }
    return level;
}

/* Byte-wise compare, the shorter string first on a common prefix (Redis's sdscmp). */
static int lexcmp(const char *a, size_t alen, const char *b, size_t blen) {
    size_t m = alen < blen ? alen : blen;
    int c = m ? memcmp(a, b, m) : 0;
    if (c) return c;
    return alen < blen ? -1 : alen > blen;
}

/* Order of node n against (score, p): <0, 0, >0. */
static int node_cmp(const zs_node_t *n, double score, const char *p, size_t len) {
    if (n->score < score) return -1;
    if (n->score > score) return 1;
    return lexcmp(zs_ele(n), n->len, p, len);
}

/* ---------------------------------------------------------------- hash table */

static uint64_t hash_bytes(const char *p, size_t len) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static void hash_resize(zset_t *z, size_t nb) {
    zs_node_t **b = zs_api->alloc(nb * sizeof(*b));
    memset(b, 0, nb * sizeof(*b));
    for (size_t i = 0; i < z->nbuckets; i++) {
        zs_node_t *n = z->buckets[i];
        while (n) {
            zs_node_t *next = n->hnext;
            n->hnext = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
            n = next;
        }
    }
    zs_api->free(z->buckets);
    z->buckets = b;
    z->nbuckets = nb;
}

static void hash_add(zset_t *z, zs_node_t *n) {
    if (z->length + 1 > z->nbuckets) hash_resize(z, z->nbuckets ? z->nbuckets * 2 : 4);
    size_t i = n->hash & (z->nbuckets - 1);
    n->hnext = z->buckets[i];
    z->buckets[i] = n;
}

static void hash_remove(zset_t *z, zs_node_t *n) {
    zs_node_t **pp = &z->buckets[n->hash & (z->nbuckets - 1)];
    while (*pp != n) pp = &(*pp)->hnext;
    *pp = n->hnext;
}

/* After a removal (length already decremented): give memory back to a sparse table. */
static void hash_maybe_shrink(zset_t *z) {
    if (z->length == 0) {
        zs_api->free(z->buckets);
        z->buckets = NULL;
        z->nbuckets = 0;
    } else if (z->nbuckets > 4 && z->length < z->nbuckets / 8) {
        hash_resize(z, z->nbuckets / 2);
    }
}

zs_node_t *zs_find(const zset_t *z, const char *p, size_t len) {
    if (z->nbuckets == 0) return NULL;
    uint64_t h = hash_bytes(p, len);
    for (zs_node_t *n = z->buckets[h & (z->nbuckets - 1)]; n; n = n->hnext)
        if (n->hash == h && n->len == len && (len == 0 || memcmp(zs_ele(n), p, len) == 0))
            return n;
    return NULL;
}

/* ---------------------------------------------------------------- the set */

zset_t *zs_new(void) {
    zset_t *z = zs_api->alloc(sizeof(*z));
    memset(z, 0, sizeof(*z));
    z->header = node_new(ZS_MAXLEVEL, 0, NULL, 0);
    z->level = 1;
    return z;
}

void zs_free(zset_t *z) {
    if (!z) return;
    zs_node_t *n = zs_first(z);
    while (n) {
        zs_node_t *next = zs_next(n);
        zs_api->free(n);
        n = next;
    }
    zs_api->free(z->header);
    zs_api->free(z->buckets);
    zs_api->free(z);
}

zset_t *zs_copy(const zset_t *z) {
    zset_t *c = zs_new();
    for (const zs_node_t *n = zs_last(z); n; n = zs_prev(n))
        zs_insert(c, n->score, zs_ele(n), n->len);
    c->big = z->big;
    return c;
}

size_t zs_mem(const zset_t *z) {
    return sizeof(*z) + node_size(ZS_MAXLEVEL, 0) + z->nbuckets * sizeof(zs_node_t *) + z->bytes;
}

/* Fill update[] (the last node before (score, p) on every level) and rank[] (its rank). */
static void find_path(const zset_t *z, double score, const char *p, size_t len,
                      zs_node_t **update, size_t *rank) {
    zs_node_t *x = z->header;
    for (int i = z->level - 1; i >= 0; i--) {
        rank[i] = i == z->level - 1 ? 0 : rank[i + 1];
        while (x->lv[i].forward && node_cmp(x->lv[i].forward, score, p, len) < 0) {
            rank[i] += x->lv[i].span;
            x = x->lv[i].forward;
        }
        update[i] = x;
    }
}

zs_node_t *zs_insert(zset_t *z, double score, const char *p, size_t len) {
    zs_node_t *update[ZS_MAXLEVEL];
    size_t rank[ZS_MAXLEVEL];
    find_path(z, score, p, len, update, rank);
    int level = (int)random_level();
    for (int i = z->level; i < level; i++) {
        rank[i] = 0;
        update[i] = z->header;
        update[i]->lv[i].span = z->length;
    }
    if (level > z->level) z->level = level;
    zs_node_t *x = node_new((uint32_t)level, score, p, len);
    for (int i = 0; i < level; i++) {
        x->lv[i].forward = update[i]->lv[i].forward;
        update[i]->lv[i].forward = x;
        x->lv[i].span = update[i]->lv[i].span - (rank[0] - rank[i]);
        update[i]->lv[i].span = (rank[0] - rank[i]) + 1;
    }
    for (int i = level; i < z->level; i++) update[i]->lv[i].span++;
    x->backward = update[0] == z->header ? NULL : update[0];
    if (x->lv[0].forward)
        x->lv[0].forward->backward = x;
    else
        z->tail = x;
    x->hash = hash_bytes(p, len);
    hash_add(z, x);
    z->length++;
    z->bytes += node_size((uint32_t)level, len);
    return x;
}

/* Unlink x from the skiplist given its predecessors. */
static void unlink_node(zset_t *z, zs_node_t *x, zs_node_t **update) {
    for (int i = 0; i < z->level; i++) {
        if (update[i]->lv[i].forward == x) {
            update[i]->lv[i].span += x->lv[i].span - 1;
            update[i]->lv[i].forward = x->lv[i].forward;
        } else {
            update[i]->lv[i].span -= 1;
        }
    }
    if (x->lv[0].forward)
        x->lv[0].forward->backward = x->backward;
    else
        z->tail = x->backward;
    while (z->level > 1 && z->header->lv[z->level - 1].forward == NULL) z->level--;
}

void zs_delete_node(zset_t *z, zs_node_t *n) {
    zs_node_t *update[ZS_MAXLEVEL];
    size_t rank[ZS_MAXLEVEL];
    find_path(z, n->score, zs_ele(n), n->len, update, rank);
    unlink_node(z, n, update);
    hash_remove(z, n);
    z->length--;
    z->bytes -= node_size(n->level, n->len);
    zs_api->free(n);
    hash_maybe_shrink(z);
}

int zs_delete(zset_t *z, const char *p, size_t len) {
    zs_node_t *n = zs_find(z, p, len);
    if (!n) return 0;
    zs_delete_node(z, n);
    return 1;
}

zs_node_t *zs_set_score(zset_t *z, zs_node_t *n, double score) {
    zs_node_t *prev = zs_prev(n), *next = zs_next(n);
    if ((!prev || prev->score < score) && (!next || next->score > score)) {
        n->score = score; /* still in place */
        return n;
    }
    zs_node_t *update[ZS_MAXLEVEL];
    size_t rank[ZS_MAXLEVEL];
    find_path(z, n->score, zs_ele(n), n->len, update, rank);
    unlink_node(z, n, update);
    hash_remove(z, n);
    z->length--;
    z->bytes -= node_size(n->level, n->len);
    zs_node_t *x = zs_insert(z, score, zs_ele(n), n->len);
    zs_api->free(n);
    return x;
}

size_t zs_rank(const zset_t *z, const zs_node_t *n) {
    const zs_node_t *x = z->header;
    size_t rank = 0;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->lv[i].forward && node_cmp(x->lv[i].forward, n->score, zs_ele(n), n->len) <= 0) {
            rank += x->lv[i].span;
            x = x->lv[i].forward;
        }
        if (x == n) return rank - 1;
    }
    return rank - 1; /* not reached for a member of z */
}

zs_node_t *zs_at(const zset_t *z, size_t r) {
    zs_node_t *x = z->header;
    size_t traversed = 0, want = r + 1;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->lv[i].forward && traversed + x->lv[i].span <= want) {
            traversed += x->lv[i].span;
            x = x->lv[i].forward;
        }
        if (traversed == want) return x;
    }
    return NULL;
}

/* ---------------------------------------------------------------- score ranges */

static int gte_min(const zs_range_t *r, double v) { return r->minex ? v > r->min : v >= r->min; }
static int lte_max(const zs_range_t *r, double v) { return r->maxex ? v < r->max : v <= r->max; }

int zs_range_empty(const zs_range_t *r) {
    return r->min > r->max || (r->min == r->max && (r->minex || r->maxex));
}

int zs_in_range(const zs_range_t *r, double score) {
    return gte_min(r, score) && lte_max(r, score);
}

zs_node_t *zs_first_in_range(const zset_t *z, const zs_range_t *r) {
    if (zs_range_empty(r)) return NULL;
    zs_node_t *x = z->header;
    for (int i = z->level - 1; i >= 0; i--)
        while (x->lv[i].forward && !gte_min(r, x->lv[i].forward->score)) x = x->lv[i].forward;
    x = x->lv[0].forward;
    return x && lte_max(r, x->score) ? x : NULL;
}

zs_node_t *zs_last_in_range(const zset_t *z, const zs_range_t *r) {
    if (zs_range_empty(r)) return NULL;
    zs_node_t *x = z->header;
    for (int i = z->level - 1; i >= 0; i--)
        while (x->lv[i].forward && lte_max(r, x->lv[i].forward->score)) x = x->lv[i].forward;
    return x != z->header && gte_min(r, x->score) ? x : NULL;
}

/* ---------------------------------------------------------------- lex ranges */

/* Compare two bounds as values ("-" lowest, "+" highest). */
static int bound_cmp(const zs_lexbound_t *a, const zs_lexbound_t *b) {
    if (a->inf || b->inf) return a->inf == b->inf ? 0 : (a->inf < b->inf ? -1 : 1);
    return lexcmp(a->p, a->len, b->p, b->len);
}

/* Compare a member with a bound. */
static int ele_bound_cmp(const zs_node_t *n, const zs_lexbound_t *b) {
    if (b->inf) return -b->inf;
    return lexcmp(zs_ele(n), n->len, b->p, b->len);
}

static int lex_gte_min(const zs_lexrange_t *r, const zs_node_t *n) {
    int c = ele_bound_cmp(n, &r->min);
    return r->min.ex ? c > 0 : c >= 0;
}

static int lex_lte_max(const zs_lexrange_t *r, const zs_node_t *n) {
    int c = ele_bound_cmp(n, &r->max);
    return r->max.ex ? c < 0 : c <= 0;
}

int zs_lex_empty(const zs_lexrange_t *r) {
    int c = bound_cmp(&r->min, &r->max);
    return c > 0 || (c == 0 && (r->min.ex || r->max.ex));
}

int zs_in_lex(const zs_lexrange_t *r, const zs_node_t *n) {
    return lex_gte_min(r, n) && lex_lte_max(r, n);
}

zs_node_t *zs_first_in_lex(const zset_t *z, const zs_lexrange_t *r) {
    if (zs_lex_empty(r)) return NULL;
    zs_node_t *x = z->header;
    for (int i = z->level - 1; i >= 0; i--)
        while (x->lv[i].forward && !lex_gte_min(r, x->lv[i].forward)) x = x->lv[i].forward;
    x = x->lv[0].forward;
    return x && lex_lte_max(r, x) ? x : NULL;
}

zs_node_t *zs_last_in_lex(const zset_t *z, const zs_lexrange_t *r) {
    if (zs_lex_empty(r)) return NULL;
    zs_node_t *x = z->header;
    for (int i = z->level - 1; i >= 0; i--)
        while (x->lv[i].forward && lex_lte_max(r, x->lv[i].forward)) x = x->lv[i].forward;
    return x != z->header && lex_gte_min(r, x) ? x : NULL;
}

/* ---------------------------------------------------------------- scan */

static uint64_t rev64(uint64_t v) {
    uint64_t r = 0;
    for (int i = 0; i < 64; i++, v >>= 1) r = (r << 1) | (v & 1);
    return r;
}

uint64_t zs_scan(const zset_t *z, uint64_t cursor, void (*fn)(void *arg, const zs_node_t *n),
                 void *arg) {
    if (z->nbuckets == 0) return 0;
    uint64_t mask = z->nbuckets - 1;
    for (const zs_node_t *n = z->buckets[cursor & mask]; n; n = n->hnext) fn(arg, n);
    cursor |= ~mask;
    cursor = rev64(cursor);
    cursor++;
    return rev64(cursor);
}
