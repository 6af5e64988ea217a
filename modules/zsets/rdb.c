/*
 * rdb.c: the zset type's RDB encoding (DUMP, RESTORE, snapshots), in Redis's formats:
 *
 *   save:  RDB_TYPE_ZSET_2 (5): length, then per member (highest score first, as Redis writes
 *          them) the member as an RDB string and the score as a little-endian binary double;
 *   load:  type 5 as above, and RDB_TYPE_ZSET_LISTPACK (17), what Redis 7.0 writes for small
 *          sets: one RDB string holding a listpack of member, score, member, score ...
 *
 * Loaders reject what Redis rejects (NaN scores, duplicate members, empty sets, malformed
 * listpacks) by returning NULL; the caller then fails the whole load.
 */
#include <math.h>
#include <stdlib.h>

#include "zsets.h"

#define RDB_TYPE_ZSET_2 5
#define RDB_TYPE_ZSET_LISTPACK 17

/* The host is assumed little-endian unless the compiler says otherwise. */
static void double_to_le(double d, unsigned char out[8]) {
    uint64_t u;
    memcpy(&u, &d, 8);
    for (int i = 0; i < 8; i++) out[i] = (unsigned char)(u >> (8 * i));
}

static double le_to_double(const unsigned char in[8]) {
    uint64_t u = 0;
    for (int i = 0; i < 8; i++) u |= (uint64_t)in[i] << (8 * i);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* Saving (dfm_rdb_slicer_t): a cursor at the next member to write, highest score first,
   written a slice at a time by snapshots and all at once by rdb_save. The set does not
   change meanwhile (the core sees to it). */
typedef struct zs_save {
    const zset_t *z;
    const zs_node_t *n;
    int started;
} zs_save_t;

static size_t zs_save_weight(const void *obj) { return ((const zset_t *)obj)->length; }

static void *zs_save_begin(const void *obj, int *rdb_type) {
    zs_save_t *c = zs_api->alloc(sizeof *c);
    c->z = obj;
    c->n = zs_last(c->z);
    c->started = 0;
    *rdb_type = RDB_TYPE_ZSET_2;
    return c;
}

/* RDB_TYPE_ZSET_2: the length, then per member its string and its score as a binary
   double. */
static int zs_save_step(void *cursor, dfm_rdb_t *rdb, size_t max_elems, size_t max_bytes) {
    zs_save_t *c = cursor;
    size_t n = 0, bytes = 0;
    if (!c->started) {
        zs_api->rdb_save_len(rdb, c->z->length);
        c->started = 1;
    }
    for (; c->n && n < max_elems && bytes < max_bytes; c->n = zs_prev(c->n), n++) {
        unsigned char b[8];
        zs_api->rdb_save_string(rdb, zs_ele(c->n), c->n->len);
        double_to_le(c->n->score, b);
        zs_api->rdb_save_raw(rdb, b, 8);
        bytes += c->n->len + 8;
    }
    if (c->n) return 0;
    zs_api->free(c);
    return 1;
}

const dfm_rdb_slicer_t zs_rdb_slicer = {sizeof(dfm_rdb_slicer_t), zs_save_weight, zs_save_begin,
                                        zs_save_step, NULL};

int zs_rdb_save(const void *obj, dfm_rdb_t *rdb) {
    return dfm_rdb_save_sliced(&zs_rdb_slicer, obj, rdb);
}

/* Add a loaded pair; -1 on NaN or a duplicate member. */
static int load_add(zset_t *z, const char *p, size_t len, double score) {
    if (isnan(score) || zs_find(z, p, len)) return -1;
    zs_insert(z, score, p, len);
    return 0;
}

static zset_t *load_zset2(dfm_rdb_t *rdb) {
    uint64_t len;
    if (zs_api->rdb_load_len(rdb, &len) < 0 || len == 0) return NULL;
    zset_t *z = zs_new();
    for (uint64_t i = 0; i < len; i++) {
        size_t mlen;
        unsigned char b[8];
        char *m = zs_api->rdb_load_string(rdb, &mlen);
        if (!m) goto fail;
        int bad = zs_api->rdb_load_raw(rdb, b, 8) < 0 || load_add(z, m, mlen, le_to_double(b));
        zs_api->free(m);
        if (bad) goto fail;
    }
    return z;
fail:
    zs_free(z);
    return NULL;
}

/* ---------------------------------------------------------------- listpack reading */

/* One listpack entry: a string (p, len) or, when p is NULL, the integer v. */
typedef struct lp_entry {
    const unsigned char *p;
    size_t len;
    long long v;
} lp_entry_t;

static uint64_t get_le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Sign-extend the low `bits` bits of u. */
static long long sext(uint64_t u, int bits) {
    uint64_t m = 1ull << (bits - 1);
    u &= bits == 64 ? ~0ull : (1ull << bits) - 1;
    return (long long)((u ^ m) - m);
}

/* Bytes of the back-length field for an entry of `size` bytes (encoding + data). */
static size_t backlen_size(size_t size) {
    return size < 128 ? 1 : size < 16384 ? 2 : size < 2097152 ? 3 : size < 268435456 ? 4 : 5;
}

/* Decode the entry at *pp (< end); advance past it. -1 when malformed. */
static int lp_next(const unsigned char **pp, const unsigned char *end, lp_entry_t *e) {
    const unsigned char *p = *pp;
    size_t avail = (size_t)(end - p), hdr, dlen = 0;
    unsigned char b = p[0];
    int is_str = 0;
    e->p = NULL;
    if ((b & 0x80) == 0) {
        hdr = 1;
        e->v = b & 0x7f;
    } else if ((b & 0xc0) == 0x80) {
        hdr = 1;
        dlen = b & 0x3f;
        is_str = 1;
    } else if ((b & 0xe0) == 0xc0) {
        if (avail < 2) return -1;
        hdr = 2;
        e->v = sext(((uint64_t)(b & 0x1f) << 8) | p[1], 13);
    } else if ((b & 0xf0) == 0xe0) {
        if (avail < 2) return -1;
        hdr = 2;
        dlen = ((size_t)(b & 0x0f) << 8) | p[1];
        is_str = 1;
    } else if (b == 0xf0) {
        if (avail < 5) return -1;
        hdr = 5;
        dlen = (size_t)get_le(p + 1, 4);
        is_str = 1;
    } else if (b >= 0xf1 && b <= 0xf4) {
        static const int widths[] = {2, 3, 4, 8};
        int w = widths[b - 0xf1];
        if (avail < (size_t)(1 + w)) return -1;
        hdr = 1 + (size_t)w;
        e->v = sext(get_le(p + 1, w), 8 * w);
    } else {
        return -1;
    }
    if (dlen > avail - hdr) return -1;
    if (is_str) {
        e->p = p + hdr;
        e->len = dlen;
    }
    size_t size = hdr + dlen, total = size + backlen_size(size);
    if (total > avail) return -1;
    *pp = p + total;
    return 0;
}

/* The entry as a string: strings as they are, integers in decimal (into buf). */
static void lp_str(const lp_entry_t *e, char *buf, size_t cap, const char **p, size_t *len) {
    if (e->p) {
        *p = (const char *)e->p;
        *len = e->len;
    } else {
        *len = (size_t)zs_api->ll_to_str(buf, cap, e->v);
        *p = buf;
    }
}

/* A score entry: an integer, or a string strtod accepts entirely. -1 when bad. */
static int lp_score(const lp_entry_t *e, double *out) {
    if (!e->p) {
        *out = (double)e->v;
        return 0;
    }
    char buf[128];
    if (e->len == 0 || e->len >= sizeof buf) return -1;
    memcpy(buf, e->p, e->len);
    buf[e->len] = '\0';
    char *end;
    *out = strtod(buf, &end);
    return *end == '\0' ? 0 : -1;
}

/* Parse a whole listpack of member/score pairs into a new set, NULL when malformed. */
static zset_t *parse_listpack(const unsigned char *lp, size_t size) {
    if (size < 7 || get_le(lp, 4) != size || lp[size - 1] != 0xff) return NULL;
    const unsigned char *p = lp + 6, *end = lp + size - 1;
    zset_t *z = zs_new();
    while (p < end) {
        lp_entry_t m, s;
        char nbuf[32];
        const char *mp;
        size_t mlen;
        double score;
        if (lp_next(&p, end, &m) < 0 || p >= end || lp_next(&p, end, &s) < 0) goto fail;
        lp_str(&m, nbuf, sizeof nbuf, &mp, &mlen);
        if (lp_score(&s, &score) < 0 || load_add(z, mp, mlen, score) < 0) goto fail;
    }
    if (z->length == 0) goto fail;
    return z;
fail:
    zs_free(z);
    return NULL;
}

static zset_t *load_listpack(dfm_rdb_t *rdb) {
    size_t len;
    char *blob = zs_api->rdb_load_string(rdb, &len);
    if (!blob) return NULL;
    zset_t *z = parse_listpack((const unsigned char *)blob, len);
    zs_api->free(blob);
    return z;
}

void *zs_rdb_load(int rdb_type, dfm_rdb_t *rdb) {
    zset_t *z = NULL;
    if (rdb_type == RDB_TYPE_ZSET_2)
        z = load_zset2(rdb);
    else if (rdb_type == RDB_TYPE_ZSET_LISTPACK)
        z = load_listpack(rdb);
    if (z) zs_fix_encoding(z);
    return z;
}
