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

int hs_rdb_save(const void *obj, dfm_rdb_t *rdb) {
    const hobj_t *h = obj;
    hobj_iter_t it;
    dfm_str_t f, v;
    hs_api->rdb_save_len(rdb, h->count);
    hobj_iter_init(&it, h);
    while (hobj_iter_next(&it, &f, &v)) {
        hs_api->rdb_save_string(rdb, f.ptr, f.len);
        hs_api->rdb_save_string(rdb, v.ptr, v.len);
    }
    return RDB_TYPE_HASH;
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
