/*
 * export.c: the zsets module's APIs for other modules. The read API (zsets_api.h): the type
 * id, the size, a walk over the members in rank order from a given rank, and SORT's conversion
 * of the encoding to "skiplist". The write API (zsets_write_api.h), for modules whose values
 * are sorted sets (geo): key lookup, ZADD with NX/XX, score look-up, a walk over a score
 * range, and detached result sets stored as the *STORE commands do.
 */
#include "zsets.h"
#include "zsets_api.h"
#include "zsets_write_api.h"

static int zs_export_type_id(void) { return zs_type_id; }
static size_t zs_export_count(const void *obj) { return ((const zset_t *)obj)->length; }

/* Walk from rank `start` of the (rev ? descending : ascending) order while fn asks for more. */
static void zs_export_each(const void *obj, int rev, size_t start, zsets_each_fn fn, void *arg) {
    const zset_t *z = obj;
    if (start >= z->length) return;
    const zs_node_t *n = zs_at(z, rev ? z->length - 1 - start : start);
    while (n) {
        dfm_str_t m = {zs_ele(n), n->len};
        if (!fn(arg, &m, n->score)) return;
        n = rev ? zs_prev(n) : zs_next(n);
    }
}

/* Report obj as "skiplist" from now on (the members are untouched). */
static void zs_export_to_skiplist(void *obj) { ((zset_t *)obj)->big = 1; }

static const zsets_api_t zs_export = {zs_export_type_id, zs_export_count, zs_export_each,
                                      zs_export_to_skiplist};

/* ---------------------------------------------------------------- the write API */

static int zs_w_find(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, void **obj) {
    zset_t *z;
    int found = zs_find_key(ctx, key, flags, NULL, &z);
    *obj = z;
    return found;
}

/* ZADD's per-member step under NX/XX (no GT/LT/INCR): 1 added, 2 updated, 0 nothing. */
static int zs_w_add_one(zset_t *z, int flags, double score, const dfm_str_t *m) {
    zs_node_t *n = zs_find(z, m->ptr, m->len);
    if (!n) {
        if (flags & ZSETS_ADD_XX) return 0;
        zs_node_t *x = zs_insert(z, score, m->ptr, m->len);
        zs_note_size(z, m->len);
        if (!z->big && x->score == 0) x->score = 0.0; /* listpack text: -0 is kept as "0" */
        return 1;
    }
    if ((flags & ZSETS_ADD_NX) || score == n->score) return 0;
    zs_set_score(z, n, (!z->big && score == 0) ? 0.0 : score);
    return 2;
}

/* ZADD key [NX|XX] pairs..., as add.c does it for the client (the same creation size hint,
   events and clean-up), without the reply. */
static int zs_w_add(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, int n,
                    const double *scores, const dfm_str_t *members, long long *added,
                    long long *updated) {
    dfm_key_t *k;
    zset_t *z;
    *added = *updated = 0;
    int found = zs_find_key(ctx, key, DFM_LOOKUP_WRITE, &k, &z);
    if (found < 0) return -1;
    if (!found) {
        if ((flags & ZSETS_ADD_XX) || n <= 0) return 0;
        size_t maxlen = 0;
        for (int j = 0; j < n; j++)
            if (members[j].len > maxlen) maxlen = members[j].len;
        z = zs_new();
        z->big = (int64_t)n > zs_max_entries || (int64_t)maxlen > zs_max_value;
        k = zs_api->obj_set(ctx, key, zs_type_id, z, DFM_EXPIRE_NONE);
    }
    for (int j = 0; j < n; j++) {
        int r = zs_w_add_one(z, flags, scores[j], &members[j]);
        *added += r == 1;
        *updated += r == 2;
    }
    if (*added || *updated) {
        zs_changed(ctx, key, k, z, "zadd");
        zs_api->signal_key_ready(ctx, key); /* BZPOPMIN/BZPOPMAX waiters */
    } else if (z->length == 0) {
        zs_api->key_delete(ctx, k); /* created for nothing (NX skipped everything) */
    }
    return 0;
}

static int zs_w_score(const void *obj, const dfm_str_t *member, double *score) {
    const zs_node_t *n = zs_find(obj, member->ptr, member->len);
    if (n) *score = n->score;
    return n != NULL;
}

static void zs_w_each_in_range(const void *obj, double min, double max, int maxex,
                               zsets_each_fn fn, void *arg) {
    const zs_range_t r = {min, max, 0, maxex};
    for (const zs_node_t *n = zs_first_in_range(obj, &r); n && zs_in_range(&r, n->score);
         n = zs_next(n)) {
        dfm_str_t m = {zs_ele(n), n->len};
        if (!fn(arg, &m, n->score)) return;
    }
}

static void *zs_w_set_new(void) { return zs_new(); }

static void zs_w_set_add(void *set, double score, const dfm_str_t *member) {
    zs_node_t *n = zs_find(set, member->ptr, member->len);
    if (!n)
        zs_insert(set, score, member->ptr, member->len);
    else if (n->score != score)
        zs_set_score(set, n, score);
}

static void zs_w_set_free(void *set) { zs_free(set); }

static long long zs_w_store(dfm_ctx_t *ctx, const dfm_str_t *dst, void *set, const char *event) {
    if (set) zs_fix_encoding(set);
    return zs_store(ctx, dst, set, event);
}

static const zsets_write_api_t zs_write_export = {
    zs_w_find,   zs_w_add,    zs_w_score,    zs_w_each_in_range, zs_w_set_new,
    zs_w_set_add, zs_w_set_free, zs_w_store,
};

int zs_export_register(dfm_module_t *self) {
    if (zs_api->export_api(self, ZSETS_API_NAME, &zs_export) < 0) return -1;
    return zs_api->export_api(self, ZSETS_WRITE_API_NAME, &zs_write_export);
}
