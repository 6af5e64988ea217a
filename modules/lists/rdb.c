/*
 * rdb.c: the list type's RDB encoding (DUMP / RESTORE and snapshots), in
 * Redis's formats so that payloads travel both ways between us and Redis 7.0.
 *
 * We save what Redis 7.0 saves, RDB_TYPE_LIST_QUICKLIST_2: the number of nodes, then per node
 * its container (2 PACKED: a listpack of up to ~8 KB, as list-max-listpack-size -2; 1 PLAIN:
 * one element of 1 GB or more, Redis's default packed threshold) and the node as a string.
 * Node boundaries are chosen here, not taken from our own nodes (list.c), so the layout does
 * not leak into the format.
 *
 * We load QUICKLIST_2, the older QUICKLIST (ziplist nodes), LIST_ZIPLIST (one ziplist) and
 * plain LIST (a count and strings). Everything in a payload is checked (sizes, offsets,
 * counts, back-lengths) before it is used: bad input makes rdb_load return NULL ("ERR Bad
 * data format"), never a crash. An empty list is bad input too, as in Redis.
 *
 * Listpack: [total bytes u32 LE][count u16 LE, 65535 = unknown][entries][0xff]; an entry is
 * [encoding + data][back-length of the two, 1-5 bytes, 7 bits each, high group first, every
 * byte but the first flagged 0x80].
 * Ziplist: [total bytes u32 LE][offset of the last entry u32 LE][count u16 LE][entries][0xff];
 * an entry is [previous entry's size: 1 byte < 254, or 0xfe + u32 LE][encoding][data].
 *
 * Runs on the shard thread that owns the key (DUMP, RESTORE, snapshots).
 */
#include <stdint.h>
#include <string.h>

#include "lists.h"

#define RDB_TYPE_LIST 1
#define RDB_TYPE_LIST_ZIPLIST 10
#define RDB_TYPE_LIST_QUICKLIST 14
#define RDB_TYPE_LIST_QUICKLIST_2 18

#define QL_CONTAINER_PLAIN 1
#define QL_CONTAINER_PACKED 2

#define LP_HDR 6                    /* total bytes + count */
#define LP_EOF 0xff
#define LP_COUNT_UNKNOWN 65535
#define LP_NODE_BYTES 8192          /* a listpack node is closed before it passes this size */
#define LP_PLAIN_MIN (1ull << 30)   /* elements this large go in a PLAIN node */
#define LP_INT_BUF 24               /* room for an int64 in decimal */

#define ZL_HDR 10                   /* total bytes + tail offset + count */

/* ---------------------------------------------------------------- byte helpers */

static void put_le(unsigned char *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++, v >>= 8) p[i] = (unsigned char)v;
}

static uint64_t get_le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static uint32_t get_be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The low `bits` bits of u as a two's complement number. */
static int64_t sign_extend(uint64_t u, int bits) {
    uint64_t m = 1ull << (bits - 1);
    u &= bits == 64 ? ~0ull : (m << 1) - 1;
    return (int64_t)((u ^ m) - m);
}

/* An element that is the canonical decimal form of an int64 (what listpacks store as an
   integer): 1 with the value in *v, else 0. */
static int elem_as_int(const dfm_str_t *e, long long *v) {
    char buf[LP_INT_BUF];
    if (e->len == 0 || e->len > 20) return 0;
    if (lst_api->str_to_ll(e->ptr, e->len, v) < 0) return 0;
    int n = lst_api->ll_to_str(buf, sizeof buf, *v);
    return n == (int)e->len && memcmp(buf, e->ptr, e->len) == 0;
}

/* An integer read from a payload as the element text it stands for (in num). */
static void int_elem(int64_t v, char num[LP_INT_BUF], dfm_str_t *out) {
    out->len = (size_t)lst_api->ll_to_str(num, LP_INT_BUF, v);
    out->ptr = num;
}

/* ---------------------------------------------------------------- listpack entries */

/* One element's listpack encoding: the encoding bytes, then dlen payload bytes (0 for an
   integer), then the back-length. */
typedef struct lp_enc {
    unsigned char hdr[9];
    size_t hlen;
    size_t dlen;
} lp_enc_t;

/* Integers take the smallest of the 7-bit, 13-bit, 16, 24, 32 and 64-bit forms. */
static void lp_encode_int(lp_enc_t *enc, long long v) {
    uint64_t u = (uint64_t)v;
    if (v >= 0 && v <= 127) {
        enc->hdr[0] = (unsigned char)v;
        enc->hlen = 1;
    } else if (v >= -4096 && v <= 4095) {
        enc->hdr[0] = (unsigned char)(0xc0 | ((u >> 8) & 0x1f));
        enc->hdr[1] = (unsigned char)u;
        enc->hlen = 2;
    } else {
        int n = v >= INT16_MIN && v <= INT16_MAX       ? 2
                : v >= -(1ll << 23) && v < (1ll << 23) ? 3
                : v >= INT32_MIN && v <= INT32_MAX     ? 4
                                                       : 8;
        enc->hdr[0] = n == 2 ? 0xf1 : n == 3 ? 0xf2 : n == 4 ? 0xf3 : 0xf4;
        put_le(enc->hdr + 1, u, n);
        enc->hlen = (size_t)n + 1;
    }
    enc->dlen = 0;
}

/* Strings carry a 6-bit, 12-bit or 32-bit length (len < 4 GB: bigger ones go PLAIN). */
static void lp_encode_str(lp_enc_t *enc, size_t len) {
    if (len < 64) {
        enc->hdr[0] = (unsigned char)(0x80 | len);
        enc->hlen = 1;
    } else if (len < 4096) {
        enc->hdr[0] = (unsigned char)(0xe0 | (len >> 8));
        enc->hdr[1] = (unsigned char)len;
        enc->hlen = 2;
    } else {
        enc->hdr[0] = 0xf0;
        put_le(enc->hdr + 1, len, 4);
        enc->hlen = 5;
    }
    enc->dlen = len;
}

static void lp_encode(lp_enc_t *enc, const dfm_str_t *e) {
    long long v;
    if (elem_as_int(e, &v)) lp_encode_int(enc, v);
    else lp_encode_str(enc, e->len);
}

/* The back-length of an entry whose encoding + data take l bytes, into buf (5 bytes of room,
   Redis's size thresholds); returns its size. */
static size_t lp_backlen(unsigned char *buf, uint64_t l) {
    size_t n = l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
    for (size_t i = 0; i < n; i++)
        buf[n - 1 - i] = (unsigned char)(((l >> (7 * i)) & 127) | (i + 1 < n ? 128 : 0));
    return n;
}

/* ---------------------------------------------------------------- saving */

/* Cuts a list into nodes and writes them; with rdb NULL it only counts the nodes, so the
   count can be written before them (lst_save_step). */
typedef struct lp_packer {
    dfm_rdb_t *rdb;
    unsigned char *buf; /* the listpack being built, header first (only with rdb) */
    size_t len, cap;    /* bytes built so far (no terminator), bytes allocated */
    size_t count;       /* elements in buf */
    size_t nodes;       /* nodes written (or counted) */
} lp_packer_t;

/* Close the listpack being built, if it holds anything, and write it as a PACKED node. */
static void pk_flush(lp_packer_t *pk) {
    if (pk->count == 0) return;
    pk->nodes++;
    if (pk->rdb) {
        pk->buf[pk->len++] = LP_EOF;
        put_le(pk->buf, pk->len, 4);
        put_le(pk->buf + 4, pk->count < LP_COUNT_UNKNOWN ? pk->count : LP_COUNT_UNKNOWN, 2);
        lst_api->rdb_save_len(pk->rdb, QL_CONTAINER_PACKED);
        lst_api->rdb_save_string(pk->rdb, pk->buf, pk->len);
    }
    pk->len = LP_HDR;
    pk->count = 0;
}

/* Append one entry (enc, payload p, back-length back[0..bl)) to the listpack being built. */
static void pk_append(lp_packer_t *pk, const lp_enc_t *enc, const void *p,
                      const unsigned char *back, size_t bl) {
    size_t need = pk->len + enc->hlen + enc->dlen + bl + 1;
    if (need > pk->cap) {
        pk->cap = need > 2 * pk->cap ? need : 2 * pk->cap;
        pk->buf = lst_api->realloc(pk->buf, pk->cap);
    }
    memcpy(pk->buf + pk->len, enc->hdr, enc->hlen);
    if (enc->dlen) memcpy(pk->buf + pk->len + enc->hlen, p, enc->dlen);
    memcpy(pk->buf + pk->len + enc->hlen + enc->dlen, back, bl);
}

/* Add element e: to the current listpack, to a new one when it would grow past
   LP_NODE_BYTES, or alone in a PLAIN node when it is that big. */
static void pk_add(lp_packer_t *pk, const dfm_str_t *e) {
    if (e->len >= LP_PLAIN_MIN) {
        pk_flush(pk);
        pk->nodes++;
        if (pk->rdb) {
            lst_api->rdb_save_len(pk->rdb, QL_CONTAINER_PLAIN);
            lst_api->rdb_save_string(pk->rdb, e->ptr, e->len);
        }
        return;
    }
    lp_enc_t enc;
    unsigned char back[5];
    lp_encode(&enc, e);
    size_t bl = lp_backlen(back, enc.hlen + enc.dlen);
    size_t esz = enc.hlen + enc.dlen + bl;
    if (pk->count > 0 && pk->len + esz + 1 > LP_NODE_BYTES) pk_flush(pk);
    if (pk->rdb) pk_append(pk, &enc, e->ptr, back, bl);
    pk->len += esz;
    pk->count++;
}

/* Saving (dfm_rdb_slicer_t): two passes of a cursor over the list, the first only counting
   the nodes (their number comes first), the second writing them; a slice at a time in
   snapshots, all at once in rdb_save. The list does not change meanwhile (the core sees to
   it). */
typedef struct lst_save {
    ql_t *l;
    int writing; /* 0: counting, 1: writing */
    ql_iter_t it;
    lp_packer_t pk;
} lst_save_t;

static size_t lst_save_weight(const void *obj) { return ((const ql_t *)obj)->count; }

/* The list is only read (the iterator API takes a non-const list). */
static void *lst_save_begin(const void *obj, int *rdb_type) {
    lst_save_t *c = lst_api->alloc(sizeof *c);
    c->l = (ql_t *)(uintptr_t)obj;
    c->writing = 0;
    c->pk = (lp_packer_t){.len = LP_HDR};
    ql_seek(c->l, 0, &c->it);
    *rdb_type = RDB_TYPE_LIST_QUICKLIST_2;
    return c;
}

/* The end of a pass: after counting, write the node count and start over, writing. 1 when
   the writing pass is over (c freed). */
static int lst_save_pass_end(lst_save_t *c, dfm_rdb_t *rdb) {
    pk_flush(&c->pk);
    if (c->writing) {
        lst_api->free(c->pk.buf);
        lst_api->free(c);
        return 1;
    }
    lst_api->rdb_save_len(rdb, c->pk.nodes);
    c->writing = 1;
    c->pk = (lp_packer_t){.len = LP_HDR, .cap = LP_NODE_BYTES};
    c->pk.buf = lst_api->alloc(c->pk.cap);
    ql_seek(c->l, 0, &c->it);
    return 0;
}

/* RDB_TYPE_LIST_QUICKLIST_2: the number of nodes, then each node (pk_flush). */
static int lst_save_step(void *cursor, dfm_rdb_t *rdb, size_t max_elems, size_t max_bytes) {
    lst_save_t *c = cursor;
    dfm_str_t e;
    size_t n = 0, bytes = 0;
    c->pk.rdb = c->writing ? rdb : NULL; /* a new writer every step */
    while (n++ < max_elems && bytes < max_bytes) {
        if (!ql_iter_get(&c->it, &e)) return lst_save_pass_end(c, rdb);
        pk_add(&c->pk, &e);
        bytes += e.len;
        ql_iter_next(&c->it);
    }
    return 0;
}

static void lst_save_abort(void *cursor) {
    lst_save_t *c = cursor;
    if (c->pk.buf) lst_api->free(c->pk.buf);
    lst_api->free(c);
}

const dfm_rdb_slicer_t lst_rdb_slicer = {sizeof(dfm_rdb_slicer_t), lst_save_weight,
                                         lst_save_begin, lst_save_step, lst_save_abort};

/* dfm_type_t.rdb_save: the list as RDB_TYPE_LIST_QUICKLIST_2. */
int lst_rdb_save(const void *obj, dfm_rdb_t *rdb) {
    return dfm_rdb_save_sliced(&lst_rdb_slicer, obj, rdb);
}

/* ---------------------------------------------------------------- reading listpacks */

/*
 * Decode the encoding at p (avail bytes to the terminator): its size in *hlen, then either a
 * string of *dlen bytes (returns 0) or an integer in *v (returns 1). -1 if the encoding is
 * unknown or runs past avail.
 */
static int lp_decode_enc(const unsigned char *p, size_t avail, size_t *hlen, size_t *dlen,
                         int64_t *v) {
    static const int widths[] = {0, 2, 3, 4, 8}; /* 0xf1..0xf4 */
    if (avail == 0) return -1;
    unsigned b = p[0];
    *dlen = 0;
    *hlen = b < 0xc0    ? 1
            : b < 0xf0  ? 2
            : b == 0xf0 ? 5
            : b <= 0xf4 ? (size_t)widths[b - 0xf0] + 1
                        : 0;
    if (*hlen == 0 || *hlen > avail) return -1;
    if (b < 0x80) {
        *v = b;
        return 1;
    }
    if (b < 0xc0) *dlen = b & 0x3f;
    else if (b < 0xe0) {
        *v = sign_extend(((uint64_t)(b & 0x1f) << 8) | p[1], 13);
        return 1;
    } else if (b < 0xf0) *dlen = ((size_t)(b & 0x0f) << 8) | p[1];
    else if (b == 0xf0) *dlen = (size_t)get_le(p + 1, 4);
    else {
        *v = sign_extend(get_le(p + 1, widths[b - 0xf0]), 8 * widths[b - 0xf0]);
        return 1;
    }
    return 0;
}

/* The listpack entry at p (avail bytes to the terminator) as an element (integers written
   into num); returns the entry's size, or 0 if it is malformed. */
static size_t lp_entry(const unsigned char *p, size_t avail, char num[LP_INT_BUF],
                       dfm_str_t *out) {
    size_t hlen, dlen, bl;
    int64_t v;
    unsigned char back[5];
    int isint = lp_decode_enc(p, avail, &hlen, &dlen, &v);
    if (isint < 0 || dlen > avail - hlen) return 0;
    bl = lp_backlen(back, hlen + dlen);
    if (bl > avail - hlen - dlen || memcmp(p + hlen + dlen, back, bl) != 0) return 0;
    if (isint) int_elem(v, num, out);
    else *out = (dfm_str_t){(const char *)p + hlen, dlen};
    return hlen + dlen + bl;
}

/* Append the elements of listpack p[0..n) to l. 0, or -1 if it is malformed. */
static int lp_unpack(ql_t *l, const unsigned char *p, size_t n) {
    char num[LP_INT_BUF];
    dfm_str_t e;
    size_t off = LP_HDR, count = 0;
    if (n < LP_HDR + 1 || get_le(p, 4) != n || p[n - 1] != LP_EOF) return -1;
    while (off < n - 1) {
        size_t sz = lp_entry(p + off, n - 1 - off, num, &e);
        if (sz == 0) return -1;
        ql_push(l, QL_TAIL, e.ptr, e.len);
        off += sz;
        count++;
    }
    uint64_t want = get_le(p + 4, 2);
    return want == LP_COUNT_UNKNOWN || want == count ? 0 : -1;
}

/* ---------------------------------------------------------------- reading ziplists */

/*
 * Decode the ziplist encoding at p (avail bytes to the terminator): its size in *hlen, then
 * either a string of *dlen bytes (returns 0) or an integer in *v (returns 1). -1 if unknown
 * or past avail.
 */
static int zl_decode_enc(const unsigned char *p, size_t avail, size_t *hlen, size_t *dlen,
                         int64_t *v) {
    if (avail == 0) return -1;
    unsigned b = p[0];
    int w = b == 0xc0 ? 2 : b == 0xd0 ? 4 : b == 0xe0 ? 8 : b == 0xf0 ? 3 : b == 0xfe ? 1 : 0;
    *dlen = 0;
    *hlen = b < 0x40                ? 1
            : b < 0x80              ? 2
            : b == 0x80             ? 5
            : b < 0xc0              ? 0
            : w                     ? (size_t)w + 1
            : b > 0xf0 && b < 0xfe  ? 1 /* 4-bit immediate 0..12 */
                                    : 0;
    if (*hlen == 0 || *hlen > avail) return -1;
    if (b < 0x40) *dlen = b;
    else if (b < 0x80) *dlen = ((size_t)(b & 0x3f) << 8) | p[1];
    else if (b == 0x80) *dlen = (size_t)get_be32(p + 1);
    else {
        *v = w ? sign_extend(get_le(p + 1, w), 8 * w) : (int64_t)(b & 0x0f) - 1;
        return 1;
    }
    return 0;
}

/* The ziplist entry at p (avail bytes to the terminator), which must record prev as the size
   of the entry before it; returns its size, or 0 if it is malformed. */
static size_t zl_entry(const unsigned char *p, size_t avail, size_t prev, char num[LP_INT_BUF],
                       dfm_str_t *out) {
    size_t ps = p[0] < 0xfe ? 1 : 5, hlen, dlen;
    int64_t v;
    if (p[0] == 0xff || ps > avail) return 0;
    if ((ps == 1 ? p[0] : get_le(p + 1, 4)) != prev) return 0;
    int isint = zl_decode_enc(p + ps, avail - ps, &hlen, &dlen, &v);
    if (isint < 0 || dlen > avail - ps - hlen) return 0;
    if (isint) int_elem(v, num, out);
    else *out = (dfm_str_t){(const char *)p + ps + hlen, dlen};
    return ps + hlen + dlen;
}

/* Append the elements of ziplist p[0..n) to l. 0, or -1 if it is malformed. */
static int zl_unpack(ql_t *l, const unsigned char *p, size_t n) {
    char num[LP_INT_BUF];
    dfm_str_t e;
    size_t off = ZL_HDR, last = ZL_HDR, prev = 0, count = 0;
    if (n < ZL_HDR + 1 || get_le(p, 4) != n || p[n - 1] != 0xff) return -1;
    while (off < n - 1) {
        size_t sz = zl_entry(p + off, n - 1 - off, prev, num, &e);
        if (sz == 0) return -1;
        ql_push(l, QL_TAIL, e.ptr, e.len);
        last = off;
        prev = sz;
        off += sz;
        count++;
    }
    uint64_t want = get_le(p + 8, 2);
    if (get_le(p + 4, 4) != last) return -1;
    return want == LP_COUNT_UNKNOWN || want == count ? 0 : -1;
}

/* ---------------------------------------------------------------- loading */

typedef int (*blob_unpack_fn)(ql_t *l, const unsigned char *p, size_t n);

/* Read one node string and append its elements with unpack (NULL: the string is one PLAIN
   element). An empty string is malformed, as in Redis. 0 or -1. */
static int load_blob(ql_t *l, dfm_rdb_t *rdb, blob_unpack_fn unpack) {
    size_t n;
    char *s = lst_api->rdb_load_string(rdb, &n);
    if (s == NULL) return -1;
    int rc = n == 0 ? -1 : 0;
    if (rc == 0 && unpack) rc = unpack(l, (const unsigned char *)s, n);
    else if (rc == 0) ql_push(l, QL_TAIL, s, n);
    lst_api->free(s);
    return rc;
}

/* RDB_TYPE_LIST: a count, then that many strings (empty ones included). */
static int load_list(ql_t *l, dfm_rdb_t *rdb) {
    uint64_t n;
    size_t len;
    if (lst_api->rdb_load_len(rdb, &n) < 0) return -1;
    for (uint64_t i = 0; i < n; i++) {
        char *s = lst_api->rdb_load_string(rdb, &len);
        if (s == NULL) return -1;
        ql_push(l, QL_TAIL, s, len);
        lst_api->free(s);
    }
    return 0;
}

/* RDB_TYPE_LIST_QUICKLIST (v2 = 0: ziplist nodes) or _2 (a container before each node). */
static int load_quicklist(ql_t *l, dfm_rdb_t *rdb, int v2) {
    uint64_t n, container = QL_CONTAINER_PACKED;
    if (lst_api->rdb_load_len(rdb, &n) < 0) return -1;
    for (uint64_t i = 0; i < n; i++) {
        if (v2 && lst_api->rdb_load_len(rdb, &container) < 0) return -1;
        if (container != QL_CONTAINER_PACKED && container != QL_CONTAINER_PLAIN) return -1;
        blob_unpack_fn unpack = container == QL_CONTAINER_PLAIN ? NULL
                                : v2                            ? lp_unpack
                                                                : zl_unpack;
        if (load_blob(l, rdb, unpack) < 0) return -1;
    }
    return 0;
}

/* dfm_type_t.rdb_load: a new list from any of the list types in lst_rdb_types, or NULL if the
   payload is malformed or the list would be empty. The caller owns the list. */
void *lst_rdb_load(int rdb_type, dfm_rdb_t *rdb) {
    ql_t *l = ql_new();
    int rc = -1;
    if (rdb_type == RDB_TYPE_LIST) rc = load_list(l, rdb);
    else if (rdb_type == RDB_TYPE_LIST_ZIPLIST) rc = load_blob(l, rdb, zl_unpack);
    else if (rdb_type == RDB_TYPE_LIST_QUICKLIST) rc = load_quicklist(l, rdb, 0);
    else if (rdb_type == RDB_TYPE_LIST_QUICKLIST_2) rc = load_quicklist(l, rdb, 1);
    if (rc < 0 || l->count == 0) {
        ql_free(l);
        return NULL;
    }
    return l;
}
