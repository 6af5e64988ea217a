/*
 * rdb.c: the hash type in Redis's RDB formats. We write RDB_TYPE_HASH (4: a length, then
 * field and value strings), which every Redis reads; we read that and RDB_TYPE_HASH_LISTPACK
 * (16: one string holding a listpack of field, value, ...), which Redis 7.0 writes for small
 * hashes. Runs on the thread that DUMPs or RESTOREs.
 */
#include "hashes.h"
#include "rdbpack.h"

#define RDB_TYPE_HASH 4
#define RDB_TYPE_HASH_LISTPACK 16

/* Saving (dfm_rdb_slicer_t): a cursor over the pairs, written a slice at a time by snapshots
   and all at once by rdb_save. The hash does not change meanwhile (the core sees to it). */
typedef struct hs_save {
    const hobj_t *h;
    hobj_iter_t it;
    int started;
} hs_save_t;

static size_t hs_save_weight(const void *obj) { return ((const hobj_t *)obj)->count; }

static void *hs_save_begin(const void *obj, int *rdb_type) {
    hs_save_t *c = hs_api->alloc(sizeof *c);
    c->h = obj;
    c->started = 0;
    hobj_iter_init(&c->it, c->h);
    *rdb_type = RDB_TYPE_HASH;
    return c;
}

/* RDB_TYPE_HASH: the pair count, then field and value strings. */
static int hs_save_step(void *cursor, dfm_rdb_t *rdb, size_t max_elems, size_t max_bytes) {
    hs_save_t *c = cursor;
    dfm_str_t f, v;
    size_t n = 0, bytes = 0;
    if (!c->started) {
        hs_api->rdb_save_len(rdb, c->h->count);
        c->started = 1;
    }
    while (n++ < max_elems && bytes < max_bytes) {
        if (!hobj_iter_next(&c->it, &f, &v)) {
            hs_api->free(c);
            return 1;
        }
        hs_api->rdb_save_string(rdb, f.ptr, f.len);
        hs_api->rdb_save_string(rdb, v.ptr, v.len);
        bytes += f.len + v.len;
    }
    return 0;
}

const dfm_rdb_slicer_t hs_rdb_slicer = {sizeof(dfm_rdb_slicer_t), hs_save_weight, hs_save_begin,
                                        hs_save_step, NULL};

int hs_rdb_save(const void *obj, dfm_rdb_t *rdb) {
    return dfm_rdb_save_sliced(&hs_rdb_slicer, obj, rdb);
}

/* Type 4: len pairs of strings. NULL when malformed or empty. */
static hobj_t *hs_load_plain(dfm_rdb_t *rdb) {
    uint64_t n;
    if (hs_api->rdb_load_len(rdb, &n) < 0 || n == 0) return NULL;
    hobj_t *h = hobj_new();
    for (uint64_t i = 0; i < n; i++) {
        size_t fl, vl;
        char *f = hs_api->rdb_load_string(rdb, &fl);
        char *v = f ? hs_api->rdb_load_string(rdb, &vl) : NULL;
        if (v) hobj_set(h, &(dfm_str_t){f, fl}, &(dfm_str_t){v, vl});
        hs_api->free(f);
        hs_api->free(v);
        if (!v) goto fail;
    }
    if (h->count != n) goto fail; /* duplicate fields: Redis refuses them too */
    return h;
fail:
    hobj_free(h);
    return NULL;
}

/* Type 16: a listpack of alternating fields and values. */
static hobj_t *hs_load_listpack(dfm_rdb_t *rdb) {
    size_t len;
    char *blob = hs_api->rdb_load_string(rdb, &len);
    rp_reader_t r;
    hobj_t *h = NULL;
    if (blob == NULL || rp_open(&r, blob, len) < 0) goto out;
    h = hobj_new();
    for (;;) {
        char fb[21], vb[21];
        dfm_str_t f, v;
        int rc = rp_next(&r, fb, &f.ptr, &f.len);
        if (rc == 0) break;
        if (rc < 0 || rp_next(&r, vb, &v.ptr, &v.len) <= 0 || !hobj_set(h, &f, &v)) {
            hobj_free(h);
            h = NULL;
            goto out;
        }
    }
    if (h->count == 0) {
        hobj_free(h);
        h = NULL;
    }
out:
    hs_api->free(blob);
    return h;
}

void *hs_rdb_load(int rdb_type, dfm_rdb_t *rdb) {
    if (rdb_type == RDB_TYPE_HASH) return hs_load_plain(rdb);
    if (rdb_type == RDB_TYPE_HASH_LISTPACK) return hs_load_listpack(rdb);
    return NULL;
}
