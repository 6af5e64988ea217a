/*
 * stream.c: the stream value (streams.h, node.h): creating, copying, freeing and measuring
 * it, building detached entries, appending into nodes as Redis fills listpacks, deleting
 * (marking) entries and dropping emptied nodes. Shard thread, except free (any thread: it
 * touches only the object and the allocator).
 */
#include <stdatomic.h>
#include <string.h>

#include "node.h"

/* Versions are unique in the process (not per stream): stream_at's cursor trusts
   (address, version), and a freed stream's address comes back for a new one, maybe made
   by another thread. Each thread takes them in blocks from a shared counter. */
static _Atomic uint64_t stream_version_blocks;
static _Thread_local uint64_t tl_version_next, tl_version_end;

uint64_t stream_next_version(void) {
    if (tl_version_next == tl_version_end) {
        tl_version_next = atomic_fetch_add(&stream_version_blocks, 1) << 24;
        tl_version_end = tl_version_next + (1u << 24);
        tl_version_next += tl_version_next == 0; /* 0 is never a version */
    }
    return tl_version_next++;
}

stream_t *stream_new(void) {
    stream_t *s = xs_api->alloc(sizeof *s);
    memset(s, 0, sizeof *s);
    s->version = stream_next_version();
    return s;
}

static size_t node_size(const xnode_t *n) { return sizeof(*n) + n->cap; }

void stream_free(void *obj) {
    stream_t *s = obj;
    for (size_t i = 0; i < s->nnodes; i++) xs_api->free(s->nodes[i]);
    xs_api->free(s->nodes);
    for (size_t i = 0; i < s->ngroups; i++) xg_free(s->groups[i]);
    xs_api->free(s->groups);
    xs_api->free(s);
}

void *stream_copy(const void *obj) {
    const stream_t *src = obj;
    stream_t *s = xs_api->alloc(sizeof *s);
    *s = *src;
    s->version = stream_next_version();
    s->capnodes = src->nnodes;
    s->nodes = src->nnodes ? xs_api->alloc(sizeof(xnode_t *) * src->nnodes) : NULL;
    for (size_t i = 0; i < src->nnodes; i++) {
        s->nodes[i] = xs_api->alloc(node_size(src->nodes[i]));
        memcpy(s->nodes[i], src->nodes[i], node_size(src->nodes[i]));
    }
    s->groups = src->ngroups ? xs_api->alloc(sizeof(xgroup_t *) * src->ngroups) : NULL;
    for (size_t i = 0; i < src->ngroups; i++) s->groups[i] = xg_copy(src->groups[i]);
    return s;
}

size_t stream_mem(const void *obj) {
    const stream_t *s = obj;
    size_t n = sizeof(*s) + s->bytes + s->capnodes * sizeof(xnode_t *);
    for (size_t i = 0; i < s->ngroups; i++) {
        const xgroup_t *g = s->groups[i];
        n += sizeof(*g) + g->len + g->cappel * sizeof(xnack_t) + g->capcons * sizeof(xcons_t *);
        for (size_t j = 0; j < g->ncons; j++) n += sizeof(xcons_t) + g->cons[j]->len;
    }
    return n;
}

/* A detached entry holding copies of pairs[0 .. 2*npairs) (the id is set by the caller). */
xent_t *stream_entry_new(const dfm_str_t *pairs, size_t npairs) {
    size_t size = 0;
    for (size_t i = 0; i < npairs * 2; i++) size += nd_varint_len(pairs[i].len) + pairs[i].len;
    xent_t *e = xs_api->alloc(sizeof(*e) + size);
    memset(e, 0, sizeof *e);
    e->npairs = (uint32_t)npairs;
    e->size = (uint32_t)size;
    unsigned char *p = e->data;
    for (size_t i = 0; i < npairs * 2; i++) {
        p = nd_put_varint(p, pairs[i].len);
        memcpy(p, pairs[i].ptr, pairs[i].len);
        p += pairs[i].len;
    }
    return e;
}

int xent_next(const xent_t *e, size_t *off, dfm_str_t *out) {
    if (*off >= e->size) return 0;
    const unsigned char *p = e->data + *off;
    uint64_t len = nd_varint(&p);
    out->ptr = (const char *)p;
    out->len = len;
    *off = (size_t)(p - e->data) + len;
    return 1;
}

/* [id, [field, value, ...]] */
void xs_reply_entry(dfm_ctx_t *ctx, const xent_t *e) {
    xs_api->reply_array(ctx, 2);
    xs_reply_id(ctx, &e->id);
    xs_api->reply_array(ctx, (long)e->npairs * 2);
    size_t off = 0;
    dfm_str_t v;
    while (xent_next(e, &off, &v)) xs_api->reply_bulk(ctx, v.ptr, v.len);
}

/* ------------------------------------------------------------------ appending */

/* Room for `need` more bytes in node k (which may move). */
static xnode_t *node_reserve(stream_t *s, size_t k, size_t need) {
    xnode_t *n = s->nodes[k];
    if (n->len + need <= n->cap) return n;
    size_t cap = n->len + need;
    cap += cap / 4 + 32;
    s->bytes += cap - n->cap;
    n = s->nodes[k] = xs_api->realloc(n, sizeof(*n) + cap);
    n->cap = (uint32_t)cap;
    return n;
}

/* Give the last node back its unused bytes (it will not grow any more). */
static void node_shrink(stream_t *s, size_t k) {
    xnode_t *n = s->nodes[k];
    if (n->cap == n->len) return;
    s->bytes -= n->cap - n->len;
    n = s->nodes[k] = xs_api->realloc(n, sizeof(*n) + n->len);
    n->cap = n->len;
}

/* A new last node whose master is e: its field names are stored once. */
static void node_open(stream_t *s, const xent_t *e) {
    if (s->nnodes) node_shrink(s, s->nnodes - 1);
    if (s->nnodes == s->capnodes) {
        s->capnodes = s->capnodes ? s->capnodes * 2 : 4;
        s->nodes = xs_api->realloc(s->nodes, sizeof(xnode_t *) * s->capnodes);
    }
    xnode_t *n = xs_api->alloc(sizeof(*n));
    *n = (xnode_t){.master = e->id};
    s->bytes += sizeof(*n);
    s->nodes[s->nnodes++] = n;
    size_t off = 0, fields = nd_varint_len(e->npairs);
    dfm_str_t v;
    for (int odd = 0; xent_next(e, &off, &v); odd = !odd)
        if (!odd) fields += nd_varint_len(v.len) + v.len;
    n = node_reserve(s, s->nnodes - 1, fields);
    unsigned char *p = nd_put_varint(n->data, e->npairs);
    off = 0;
    for (int odd = 0; xent_next(e, &off, &v); odd = !odd) {
        if (odd) continue;
        p = nd_put_varint(p, v.len);
        memcpy(p, v.ptr, v.len);
        p += v.len;
    }
    n->body = n->len = (uint32_t)(p - n->data);
}

/* 1 when e's field names are those stored at the head of node n. */
static int same_fields(const xnode_t *n, const xent_t *e) {
    const unsigned char *f = n->data;
    if (nd_varint(&f) != e->npairs) return 0;
    size_t off = 0;
    dfm_str_t v;
    for (int odd = 0; xent_next(e, &off, &v); odd = !odd) {
        if (odd) continue;
        uint64_t len = nd_varint(&f);
        if (len != v.len || memcmp(f, v.ptr, v.len) != 0) return 0;
        f += len;
    }
    return 1;
}

/* Encode e at the end of the last node. */
static void node_put(stream_t *s, const xent_t *e) {
    xnode_t *n = s->nodes[s->nnodes - 1];
    int same = same_fields(n, e);
    size_t need = 1 + nd_varint_len(e->id.ms - n->master.ms) + nd_varint_len(e->id.seq) +
                  nd_varint_len(e->npairs) + e->size;
    n = node_reserve(s, s->nnodes - 1, need);
    unsigned char *p = n->data + n->len;
    *p++ = same ? NODE_SAME : 0;
    p = nd_put_varint(p, e->id.ms - n->master.ms);
    p = nd_put_varint(p, e->id.seq);
    p = nd_put_varint(p, e->npairs);
    size_t off = 0;
    dfm_str_t v;
    for (int odd = 0; xent_next(e, &off, &v); odd = !odd) {
        if (same && !odd) continue;
        p = nd_put_varint(p, v.len);
        memcpy(p, v.ptr, v.len);
        p += v.len;
    }
    n->len = (uint32_t)(p - n->data);
    n->last = e->id;
    n->live++;
    n->total++;
}

void stream_append(stream_t *s, xent_t *e, int fresh) {
    const xnode_t *last = s->nnodes ? s->nodes[s->nnodes - 1] : NULL;
    if (fresh || !last || last->total >= NODE_MAX_ENTRIES ||
        last->len + e->size + 16 > NODE_MAX_BYTES)
        node_open(s, e);
    node_put(s, e);
    s->len++;
    s->version = stream_next_version();
    s->last_id = e->id;
    s->entries_added++;
    if (s->len == 1) s->first_id = e->id;
    xs_api->free(e);
}

/* ------------------------------------------------------------------ deleting */

static void node_remove(stream_t *s, size_t k) {
    s->bytes -= node_size(s->nodes[k]);
    xs_api->free(s->nodes[k]);
    memmove(&s->nodes[k], &s->nodes[k + 1], sizeof(xnode_t *) * (s->nnodes - k - 1));
    s->nnodes--;
}

static void update_first(stream_t *s) {
    nd_ent_t e;
    uint32_t off[NODE_MAX_ENTRIES];
    if (!s->len) {
        s->first_id = (sid_t){0, 0};
        return;
    }
    nd_live_offsets(s->nodes[0], off);
    nd_decode(s->nodes[0], off[0], &e);
    s->first_id = e.id;
}

/* Mark the entry at off of node k deleted; the node goes with its last live entry. */
static void mark_deleted(stream_t *s, size_t k, uint32_t off) {
    xnode_t *n = s->nodes[k];
    n->data[off] |= NODE_DELETED;
    n->live--;
    s->len--;
    s->version = stream_next_version();
    if (n->live == 0) node_remove(s, k);
}

int stream_delete(stream_t *s, const sid_t *id) {
    size_t k = nd_seek(s, id);
    if (k == s->nnodes || sid_cmp(&s->nodes[k]->master, id) > 0) return 0;
    const xnode_t *n = s->nodes[k];
    nd_ent_t e;
    for (uint32_t off = n->body; off < n->len; off = e.next) {
        nd_decode(n, off, &e);
        if (sid_cmp(&e.id, id) != 0) continue;
        if (e.flags & NODE_DELETED) return 0;
        int first = sid_cmp(id, &s->first_id) == 0;
        mark_deleted(s, k, off);
        if (sid_cmp(id, &s->max_deleted) > 0) s->max_deleted = *id;
        if (first) update_first(s);
        return 1;
    }
    return 0;
}

void stream_drop_front(stream_t *s, size_t count) {
    while (count && s->nnodes) {
        xnode_t *n = s->nodes[0];
        if (count >= n->live) {
            count -= n->live;
            s->len -= n->live;
            node_remove(s, 0);
            continue;
        }
        uint32_t off[NODE_MAX_ENTRIES];
        nd_live_offsets(n, off);
        for (uint32_t i = 0; i < count; i++) mark_deleted(s, 0, off[i]);
        count = 0;
    }
    s->version = stream_next_version();
    update_first(s);
}

size_t stream_nodes(const stream_t *s) { return s->nnodes; }

size_t stream_node_live(const stream_t *s, size_t k, size_t *first, sid_t *last) {
    if (first) {
        size_t base = 0;
        for (size_t j = 0; j < k; j++) base += s->nodes[j]->live;
        *first = base;
    }
    if (last) *last = s->nodes[k]->last;
    return s->nodes[k]->live;
}
