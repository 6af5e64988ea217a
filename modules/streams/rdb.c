/*
 * rdb.c: the stream type's RDB encoding, Redis 7.0's RDB_TYPE_STREAM_LISTPACKS_2 (19), so
 * DUMP/RESTORE and snapshots interoperate with redis-server:
 *
 *   len nodes, then per node: string master id (16 bytes: ms, seq big endian), string
 *     listpack [count, deleted, nfields, field..., 0, then per entry: flags, ms-diff,
 *     seq-diff, (flags & SAMEFIELDS ? values : nfields, field, value, ...), lp-count];
 *   len length, last id (2 lens), first id, max deleted id, entries added;
 *   len groups, per group: string name, last id, entries read, len pel, per pending entry
 *     raw 16-byte id, 8-byte little-endian delivery ms, len delivery count; len consumers,
 *     per consumer: string name, 8-byte seen ms, len pending, raw 16-byte ids.
 *
 * Saving writes one listpack per node (streams.h) with explicit fields; loading accepts
 * any valid node (same-field entries, deleted entries, integer-encoded strings).
 */
#include <string.h>

#include "lp.h"
#include "streams.h"

#define RDB_TYPE_STREAM_LISTPACKS_2 19
#define F_DELETED 1
#define F_SAMEFIELDS 2

static void put_id(unsigned char b[16], const sid_t *id) {
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(id->ms >> (56 - 8 * i));
        b[8 + i] = (unsigned char)(id->seq >> (56 - 8 * i));
    }
}

static sid_t get_id(const unsigned char b[16]) {
    sid_t id = {0, 0};
    for (int i = 0; i < 8; i++) {
        id.ms = id.ms << 8 | b[i];
        id.seq = id.seq << 8 | b[8 + i];
    }
    return id;
}

static void save_ms(dfm_rdb_t *rdb, int64_t ms) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)ms >> (8 * i));
    xs_api->rdb_save_raw(rdb, b, 8);
}

static void save_sid(dfm_rdb_t *rdb, const sid_t *id) {
    xs_api->rdb_save_len(rdb, id->ms);
    xs_api->rdb_save_len(rdb, id->seq);
}

/* Node k: its live entries [a, a + n), the first one's id as master. Returns the
   listpack's size. */
static size_t save_node(dfm_rdb_t *rdb, const stream_t *s, size_t k, size_t a) {
    size_t n = stream_node_live(s, k, NULL, NULL);
    const xent_t *m = stream_at(s, a);
    sid_t master = m->id;
    unsigned char key[16];
    lp_writer_t w;
    dfm_str_t v;
    size_t off = 0;
    put_id(key, &master);
    lp_begin(&w);
    lp_put_int(&w, (int64_t)n);
    lp_put_int(&w, 0);
    lp_put_int(&w, m->npairs);
    for (int odd = 0; xent_next(m, &off, &v); odd = !odd)
        if (!odd) lp_put_str(&w, v.ptr, v.len); /* the fields of the master entry */
    lp_put_int(&w, 0);
    for (size_t i = a; i < a + n; i++) {
        const xent_t *e = stream_at(s, i); /* m is not used past this point */
        lp_put_int(&w, 0);
        lp_put_int(&w, (int64_t)(e->id.ms - master.ms));
        lp_put_int(&w, (int64_t)(e->id.seq - master.seq));
        lp_put_int(&w, e->npairs);
        off = 0;
        while (xent_next(e, &off, &v)) lp_put_str(&w, v.ptr, v.len);
        lp_put_int(&w, (int64_t)e->npairs * 2 + 4);
    }
    lp_end(&w);
    xs_api->rdb_save_string(rdb, key, sizeof key);
    xs_api->rdb_save_string(rdb, w.buf, w.len);
    xs_api->free(w.buf);
    return w.len;
}

static void save_group(const xgroup_t *g, dfm_rdb_t *rdb) {
    unsigned char raw[16];
    xs_api->rdb_save_string(rdb, g->name, g->len);
    save_sid(rdb, &g->last_id);
    xs_api->rdb_save_len(rdb, (uint64_t)g->entries_read);
    xs_api->rdb_save_len(rdb, g->npel);
    for (size_t i = 0; i < g->npel; i++) {
        put_id(raw, &g->pel[i].id);
        xs_api->rdb_save_raw(rdb, raw, 16);
        save_ms(rdb, g->pel[i].time_ms);
        xs_api->rdb_save_len(rdb, g->pel[i].count);
    }
    xs_api->rdb_save_len(rdb, g->ncons);
    for (size_t c = 0; c < g->ncons; c++) {
        const xcons_t *con = g->cons[c];
        xs_api->rdb_save_string(rdb, con->name, con->len);
        save_ms(rdb, con->seen_ms);
        xs_api->rdb_save_len(rdb, con->npending);
        for (size_t i = 0; i < g->npel; i++) {
            if (g->pel[i].owner != con) continue;
            put_id(raw, &g->pel[i].id);
            xs_api->rdb_save_raw(rdb, raw, 16);
        }
    }
}

/* What follows the nodes: length, ids, entries added, the groups. */
static void save_tail(const stream_t *s, dfm_rdb_t *rdb) {
    xs_api->rdb_save_len(rdb, s->len);
    save_sid(rdb, &s->last_id);
    save_sid(rdb, &s->first_id);
    save_sid(rdb, &s->max_deleted);
    xs_api->rdb_save_len(rdb, s->entries_added);
    xs_api->rdb_save_len(rdb, s->ngroups);
    for (size_t i = 0; i < s->ngroups; i++) save_group(s->groups[i], rdb);
}

/* Saving (dfm_rdb_slicer_t): a cursor at the next node, written a node at a time in slices
   by snapshots (the groups with the last slice) and all at once by rdb_save. The stream does
   not change meanwhile (the core sees to it). */
typedef struct xs_save {
    const stream_t *s;
    size_t k, base; /* the next node, the live index of its first entry */
    int started;
} xs_save_t;

static size_t xs_save_weight(const void *obj) { return ((const stream_t *)obj)->len; }

static void *xs_save_begin(const void *obj, int *rdb_type) {
    xs_save_t *c = xs_api->alloc(sizeof *c);
    *c = (xs_save_t){.s = obj};
    *rdb_type = RDB_TYPE_STREAM_LISTPACKS_2;
    return c;
}

static int xs_save_step(void *cursor, dfm_rdb_t *rdb, size_t max_elems, size_t max_bytes) {
    xs_save_t *c = cursor;
    size_t n = 0, bytes = 0, nodes = stream_nodes(c->s);
    if (!c->started) {
        xs_api->rdb_save_len(rdb, nodes);
        c->started = 1;
    }
    for (; c->k < nodes && n < max_elems && bytes < max_bytes; c->k++) {
        size_t live = stream_node_live(c->s, c->k, NULL, NULL);
        bytes += save_node(rdb, c->s, c->k, c->base);
        c->base += live;
        n += live;
    }
    if (c->k < nodes) return 0;
    save_tail(c->s, rdb);
    xs_api->free(c);
    return 1;
}

const dfm_rdb_slicer_t xs_rdb_slicer = {sizeof(dfm_rdb_slicer_t), xs_save_weight, xs_save_begin,
                                        xs_save_step, NULL};

int xs_rdb_save(const void *obj, dfm_rdb_t *rdb) {
    return dfm_rdb_save_sliced(&xs_rdb_slicer, obj, rdb);
}

/* ------------------------------------------------------------------------------ loading */

#define MAX_FIELDS 65536

typedef char num_t[24]; /* the text of an integer-encoded element */

/* The next element as a string; an integer is written as text into *num. */
static int next_str(lp_reader_t *r, num_t *num, dfm_str_t *out) {
    lp_elem_t e;
    if (lp_next(r, &e) != 1) return -1;
    if (e.str) {
        *out = (dfm_str_t){e.str, e.len};
    } else {
        int len = xs_api->ll_to_str(*num, sizeof *num, e.v);
        *out = (dfm_str_t){*num, (size_t)len};
    }
    return 0;
}

typedef struct node_ctx {
    stream_t *s;
    sid_t master;
    int64_t nmaster;
    dfm_str_t *master_f; /* the master entry's fields */
    num_t *master_nums;
} node_ctx_t;

/* The pairs of one entry into pairs[0 .. 2*nf), integer texts in nums. */
static int load_pairs(lp_reader_t *r, const node_ctx_t *n, int same, int64_t nf,
                      dfm_str_t *pairs, num_t *nums) {
    for (int64_t i = 0; i < nf; i++) {
        if (same)
            pairs[2 * i] = n->master_f[i];
        else if (next_str(r, &nums[2 * i], &pairs[2 * i]) < 0)
            return -1;
        if (next_str(r, &nums[2 * i + 1], &pairs[2 * i + 1]) < 0) return -1;
    }
    return 0;
}

/* One entry of a node; appended to the stream unless deleted. */
static int load_entry(lp_reader_t *r, node_ctx_t *n, int first_of_node) {
    int64_t flags, dms, dseq, nf, lpcount;
    if (lp_next_int(r, &flags) < 0 || lp_next_int(r, &dms) < 0 || lp_next_int(r, &dseq) < 0)
        return -1;
    if (flags & F_SAMEFIELDS) nf = n->nmaster;
    else if (lp_next_int(r, &nf) < 0 || nf < 0 || nf > MAX_FIELDS) return -1;
    dfm_str_t *pairs = xs_api->alloc(sizeof(dfm_str_t) * (size_t)(nf * 2 + 1));
    num_t *nums = xs_api->alloc(sizeof(num_t) * (size_t)(nf * 2 + 1));
    int rc = load_pairs(r, n, flags & F_SAMEFIELDS, nf, pairs, nums);
    if (rc == 0) rc = lp_next_int(r, &lpcount);
    if (rc == 0 && !(flags & F_DELETED)) {
        xent_t *e = stream_entry_new(pairs, (size_t)nf);
        e->id = (sid_t){n->master.ms + (uint64_t)dms, n->master.seq + (uint64_t)dseq};
        if (n->s->len && sid_cmp(&e->id, &n->s->last_id) <= 0) {
            xs_api->free(e);
            rc = -1;
        } else {
            stream_append(n->s, e, first_of_node);
        }
    }
    xs_api->free(nums);
    xs_api->free(pairs);
    return rc;
}

/* The master part of a node: count, deleted, master fields, the 0 terminator. */
static int load_master(lp_reader_t *r, node_ctx_t *n, int64_t *total) {
    int64_t count, deleted, zero;
    if (lp_next_int(r, &count) < 0 || lp_next_int(r, &deleted) < 0 ||
        lp_next_int(r, &n->nmaster) < 0 || count < 0 || deleted < 0 || n->nmaster < 0 ||
        n->nmaster > MAX_FIELDS)
        return -1;
    n->master_f = xs_api->alloc(sizeof(dfm_str_t) * (size_t)(n->nmaster + 1));
    n->master_nums = xs_api->alloc(sizeof(num_t) * (size_t)(n->nmaster + 1));
    for (int64_t i = 0; i < n->nmaster; i++)
        if (next_str(r, &n->master_nums[i], &n->master_f[i]) < 0) return -1;
    if (count > INT64_MAX - deleted) return -1; /* both from the payload */
    *total = count + deleted;
    return lp_next_int(r, &zero) < 0 || zero != 0 ? -1 : 0;
}

static int load_node(stream_t *s, const char *key, size_t klen, const char *lp, size_t len) {
    if (klen != 16) return -1;
    node_ctx_t n = {.s = s, .master = get_id((const unsigned char *)key)};
    lp_reader_t r;
    int64_t total = 0;
    int rc = lp_open(&r, (const unsigned char *)lp, len) < 0 ? -1 : load_master(&r, &n, &total);
    for (int64_t i = 0; rc == 0 && i < total; i++) rc = load_entry(&r, &n, i == 0);
    lp_elem_t e;
    if (rc == 0 && lp_next(&r, &e) != 0) rc = -1;
    xs_api->free(n.master_nums);
    xs_api->free(n.master_f);
    return rc;
}

static int load_len(dfm_rdb_t *rdb, uint64_t *v) { return xs_api->rdb_load_len(rdb, v); }

static int load_sid(dfm_rdb_t *rdb, sid_t *id) {
    return load_len(rdb, &id->ms) < 0 || load_len(rdb, &id->seq) < 0 ? -1 : 0;
}

static int load_ms(dfm_rdb_t *rdb, int64_t *ms) {
    unsigned char b[8];
    if (xs_api->rdb_load_raw(rdb, b, 8) < 0) return -1;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
    *ms = (int64_t)v;
    return 0;
}

static int load_nodes(stream_t *s, dfm_rdb_t *rdb) {
    uint64_t nodes;
    if (load_len(rdb, &nodes) < 0) return -1;
    while (nodes--) {
        size_t klen, len;
        char *key = xs_api->rdb_load_string(rdb, &klen);
        char *lp = key ? xs_api->rdb_load_string(rdb, &len) : NULL;
        int rc = lp ? load_node(s, key, klen, lp, len) : -1;
        xs_api->free(key);
        xs_api->free(lp);
        if (rc < 0) return -1;
    }
    return 0;
}

static int load_pel(xgroup_t *g, dfm_rdb_t *rdb) {
    uint64_t n;
    if (load_len(rdb, &n) < 0) return -1;
    while (n--) {
        unsigned char raw[16];
        xnack_t nk = {.owner = NULL};
        if (xs_api->rdb_load_raw(rdb, raw, 16) < 0 || load_ms(rdb, &nk.time_ms) < 0 ||
            load_len(rdb, &nk.count) < 0)
            return -1;
        if (nk.time_ms < 0) nk.time_ms = 0; /* idle = now - time_ms must not overflow */
        nk.id = get_id(raw);
        if (g->npel && sid_cmp(&nk.id, &g->pel[g->npel - 1].id) <= 0) return -1;
        if (g->npel == g->cappel) {
            g->cappel = g->cappel ? g->cappel * 2 : 4;
            g->pel = xs_api->realloc(g->pel, sizeof(xnack_t) * g->cappel);
        }
        g->pel[g->npel++] = nk;
    }
    return 0;
}

static int load_consumer(xgroup_t *g, dfm_rdb_t *rdb) {
    size_t len;
    char *name = xs_api->rdb_load_string(rdb, &len);
    if (!name) return -1;
    int created;
    xcons_t *c = xg_consumer_add(g, &(dfm_str_t){name, len}, &created);
    xs_api->free(name);
    uint64_t n;
    if (!created || load_ms(rdb, &c->seen_ms) < 0 || load_len(rdb, &n) < 0) return -1;
    while (n--) {
        unsigned char raw[16];
        if (xs_api->rdb_load_raw(rdb, raw, 16) < 0) return -1;
        sid_t id = get_id(raw);
        xnack_t *nk = xg_pel_find(g, &id);
        if (!nk || nk->owner) return -1;
        nk->owner = c;
        c->npending++;
    }
    return 0;
}

static int load_group(stream_t *s, dfm_rdb_t *rdb) {
    size_t len;
    char *name = xs_api->rdb_load_string(rdb, &len);
    sid_t id;
    uint64_t read, ncons;
    if (!name) return -1;
    xgroup_t *g = NULL;
    if (load_sid(rdb, &id) == 0 && load_len(rdb, &read) == 0)
        g = xg_create(s, &(dfm_str_t){name, len}, &id, (long long)read);
    xs_api->free(name);
    if (!g || load_pel(g, rdb) < 0 || load_len(rdb, &ncons) < 0) return -1;
    while (ncons--)
        if (load_consumer(g, rdb) < 0) return -1;
    for (size_t i = 0; i < g->npel; i++)
        if (!g->pel[i].owner) return -1; /* every pending entry needs its consumer */
    return 0;
}

static int load_meta(stream_t *s, dfm_rdb_t *rdb) {
    uint64_t length, added, ngroups;
    sid_t last, first, maxdel;
    if (load_len(rdb, &length) < 0 || load_sid(rdb, &last) < 0 || load_sid(rdb, &first) < 0 ||
        load_sid(rdb, &maxdel) < 0 || load_len(rdb, &added) < 0 || load_len(rdb, &ngroups) < 0)
        return -1;
    if (length != s->len || (s->len && sid_cmp(&last, &s->last_id) < 0)) return -1;
    s->last_id = last;
    s->first_id = first;
    s->max_deleted = maxdel;
    s->entries_added = added;
    while (ngroups--)
        if (load_group(s, rdb) < 0) return -1;
    return 0;
}

void *xs_rdb_load(int rdb_type, dfm_rdb_t *rdb) {
    if (rdb_type != RDB_TYPE_STREAM_LISTPACKS_2) return NULL;
    stream_t *s = stream_new();
    if (load_nodes(s, rdb) < 0 || load_meta(s, rdb) < 0) {
        stream_free(s);
        return NULL;
    }
    return s;
}
