/*
 * rdb.c: the set type in Redis's RDB formats. We write RDB_TYPE_SET (2: a length, then the
 * members as strings), which every Redis reads; we read that and RDB_TYPE_SET_INTSET (11: one
 * string holding an intset: u32 width 2/4/8, u32 count, then count little-endian signed
 * integers of that width), which Redis writes for small integer sets.
 */
#include <stdio.h>

#include "sets.h"

#define RDB_TYPE_SET 2
#define RDB_TYPE_SET_INTSET 11

/* Saving (dfm_rdb_slicer_t): a cursor over the members, written a slice at a time by
   snapshots and all at once by rdb_save. The set does not change meanwhile (the core sees to
   it). */
typedef struct ss_save {
    const sobj_t *s;
    sobj_iter_t it;
    int started;
} ss_save_t;

static size_t ss_save_weight(const void *obj) { return ((const sobj_t *)obj)->count; }

static void *ss_save_begin(const void *obj, int *rdb_type) {
    ss_save_t *c = ss_api->alloc(sizeof *c);
    c->s = obj;
    c->started = 0;
    sobj_iter_init(&c->it, c->s);
    *rdb_type = RDB_TYPE_SET;
    return c;
}

/* RDB_TYPE_SET: the member count, then the members as strings. */
static int ss_save_step(void *cursor, dfm_rdb_t *rdb, size_t max_elems, size_t max_bytes) {
    ss_save_t *c = cursor;
    dfm_str_t m;
    size_t n = 0, bytes = 0;
    if (!c->started) {
        ss_api->rdb_save_len(rdb, c->s->count);
        c->started = 1;
    }
    while (n++ < max_elems && bytes < max_bytes) {
        if (!sobj_iter_next(&c->it, &m)) {
            ss_api->free(c);
            return 1;
        }
        ss_api->rdb_save_string(rdb, m.ptr, m.len);
        bytes += m.len;
    }
    return 0;
}

const dfm_rdb_slicer_t ss_rdb_slicer = {sizeof(dfm_rdb_slicer_t), ss_save_weight, ss_save_begin,
                                        ss_save_step, NULL};

int ss_rdb_save(const void *obj, dfm_rdb_t *rdb) {
    return dfm_rdb_save_sliced(&ss_rdb_slicer, obj, rdb);
}

static sobj_t *ss_load_plain(dfm_rdb_t *rdb) {
    uint64_t n;
    if (ss_api->rdb_load_len(rdb, &n) < 0 || n == 0) return NULL;
    sobj_t *s = sobj_new();
    for (uint64_t i = 0; i < n; i++) {
        size_t len;
        char *m = ss_api->rdb_load_string(rdb, &len);
        int added = m && sobj_add(s, &(dfm_str_t){m, len});
        ss_api->free(m);
        if (!added) { /* malformed, or a duplicate member (Redis refuses those too) */
            sobj_free(s);
            return NULL;
        }
    }
    return s;
}

static uint64_t le(const unsigned char *p, unsigned n) {
    uint64_t u = 0;
    for (unsigned i = 0; i < n; i++) u |= (uint64_t)p[i] << (8 * i);
    return u;
}

/* The intset blob's members, added one by one (they convert past set-max-intset-entries). */
static sobj_t *ss_load_intset(dfm_rdb_t *rdb) {
    size_t len;
    unsigned char *b = (unsigned char *)ss_api->rdb_load_string(rdb, &len);
    sobj_t *s = NULL;
    if (b == NULL || len < 8) goto out;
    unsigned w = (unsigned)le(b, 4);
    uint64_t n = le(b + 4, 4);
    if ((w != 2 && w != 4 && w != 8) || n == 0 || len != 8 + n * w) goto out;
    s = sobj_new();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t u = le(b + 8 + i * w, w);
        if (w < 8 && (u >> (8 * w - 1)) & 1) u |= ~(uint64_t)0 << (8 * w);
        char buf[SOBJ_BUF];
        int k = snprintf(buf, sizeof buf, "%lld", (long long)(int64_t)u);
        if (!sobj_add(s, &(dfm_str_t){buf, (size_t)k})) {
            sobj_free(s);
            s = NULL;
            goto out;
        }
    }
out:
    ss_api->free(b);
    return s;
}

void *ss_rdb_load(int rdb_type, dfm_rdb_t *rdb) {
    if (rdb_type == RDB_TYPE_SET) return ss_load_plain(rdb);
    if (rdb_type == RDB_TYPE_SET_INTSET) return ss_load_intset(rdb);
    return NULL;
}
