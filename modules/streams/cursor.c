/*
 * cursor.c: reading a stream's nodes (node.h): decoding entries, and the per-thread cursor
 * behind stream_seek / stream_at / stream_find. The cursor remembers one node's live entry
 * offsets, so walking a range up or down costs O(1) per entry; any write to the stream
 * (stream_t.version) or another stream resets it. Shard threads only (a thread's cursor is
 * freed by xs_cursor_release at the shard's exit).
 */
#include <string.h>

#include "node.h"

uint64_t nd_varint(const unsigned char **p) {
    uint64_t v = 0;
    int shift = 0;
    for (;;) {
        unsigned char b = *(*p)++;
        if (shift < 64) v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) return v;
    }
}

unsigned char *nd_put_varint(unsigned char *p, uint64_t v) {
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

size_t nd_varint_len(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) v >>= 7, n++;
    return n;
}

static const unsigned char *skip_str(const unsigned char *p) {
    uint64_t len = nd_varint(&p);
    return p + len;
}

void nd_decode(const xnode_t *n, uint32_t off, nd_ent_t *e) {
    const unsigned char *p = n->data + off;
    e->at = off;
    e->flags = *p++;
    e->id.ms = n->master.ms + nd_varint(&p);
    e->id.seq = nd_varint(&p);
    e->npairs = (uint32_t)nd_varint(&p);
    e->pairs = (uint32_t)(p - n->data);
    uint32_t strs = e->flags & NODE_SAME ? e->npairs : e->npairs * 2;
    for (uint32_t i = 0; i < strs; i++) p = skip_str(p);
    e->next = (uint32_t)(p - n->data);
}

uint32_t nd_live_offsets(const xnode_t *n, uint32_t *offs) {
    uint32_t k = 0;
    nd_ent_t e;
    for (uint32_t off = n->body; off < n->len && k < NODE_MAX_ENTRIES; off = e.next) {
        nd_decode(n, off, &e);
        if (!(e.flags & NODE_DELETED)) offs[k++] = off;
    }
    return k;
}

/* Copy one varint-prefixed string from *src to *dst, advancing both. */
static void copy_str(const unsigned char **src, unsigned char **dst) {
    const unsigned char *start = *src;
    uint64_t len = nd_varint(src);
    size_t n = (size_t)(*src - start) + len;
    memcpy(*dst, start, n);
    *dst += n;
    *src = start + n;
}

xent_t *nd_flatten(const xnode_t *n, uint32_t off, uint32_t index, xent_t **buf, size_t *cap) {
    nd_ent_t e;
    nd_decode(n, off, &e);
    size_t size = e.next - e.pairs;
    const unsigned char *f = n->data;
    if (e.flags & NODE_SAME) {
        nd_varint(&f); /* the master field count */
        size += (size_t)(n->body - (f - n->data));
    }
    if (sizeof(xent_t) + size > *cap) {
        *cap = sizeof(xent_t) + size;
        *buf = xs_api->realloc(*buf, *cap);
    }
    xent_t *x = *buf;
    *x = (xent_t){.id = e.id, .node = index, .npairs = e.npairs, .size = (uint32_t)size};
    const unsigned char *v = n->data + e.pairs;
    unsigned char *d = x->data;
    for (uint32_t i = 0; i < e.npairs; i++) {
        copy_str(e.flags & NODE_SAME ? &f : &v, &d);
        copy_str(&v, &d);
    }
    return x;
}

/* ------------------------------------------------------------------ the cursor */

static _Thread_local struct cursor {
    const stream_t *s;
    uint64_t version;
    size_t node, base; /* the node cached, the live index of its first live entry */
    uint32_t n;        /* its live entries */
    uint32_t offs[NODE_MAX_ENTRIES];
    xent_t *flat; /* what stream_at returned last */
    size_t flatcap;
} cur;

void xs_cursor_release(int shard_id) {
    (void)shard_id;
    xs_api->free(cur.flat);
    cur.flat = NULL;
    cur.flatcap = 0;
    cur.s = NULL;
}

static void cursor_load(const stream_t *s, size_t node, size_t base) {
    cur.s = s;
    cur.version = s->version;
    cur.node = node;
    cur.base = base;
    cur.n = nd_live_offsets(s->nodes[node], cur.offs);
}

/* Point the cursor at the node holding live index i (< s->len). */
static void cursor_find(const stream_t *s, size_t i) {
    if (cur.s != s || cur.version != s->version) cursor_load(s, 0, 0);
    size_t node = cur.node, base = cur.base;
    while (i < base) base -= s->nodes[--node]->live;
    while (i >= base + s->nodes[node]->live) base += s->nodes[node++]->live;
    if (node != cur.node || base != cur.base) cursor_load(s, node, base);
}

const xent_t *stream_at(const stream_t *s, size_t i) {
    if (i >= s->len) return NULL;
    cursor_find(s, i);
    return nd_flatten(s->nodes[cur.node], cur.offs[i - cur.base], (uint32_t)cur.node, &cur.flat,
                      &cur.flatcap);
}

const xent_t *stream_last(const stream_t *s) { return s->len ? stream_at(s, s->len - 1) : NULL; }

/* The first node whose last id is >= id (s->nnodes if none). */
size_t nd_seek(const stream_t *s, const sid_t *id) {
    size_t lo = 0, hi = s->nnodes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sid_cmp(&s->nodes[mid]->last, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t stream_seek(const stream_t *s, const sid_t *id) {
    size_t k = nd_seek(s, id), base = 0;
    if (k == s->nnodes) return s->len;
    for (size_t j = 0; j < k; j++) base += s->nodes[j]->live;
    cursor_load(s, k, base);
    uint32_t i = 0;
    nd_ent_t e;
    for (; i < cur.n; i++) {
        nd_decode(s->nodes[k], cur.offs[i], &e);
        if (sid_cmp(&e.id, id) >= 0) break;
    }
    return base + i;
}

const xent_t *stream_find(const stream_t *s, const sid_t *id) {
    size_t i = stream_seek(s, id);
    const xent_t *e = stream_at(s, i);
    return e && sid_cmp(&e->id, id) == 0 ? e : NULL;
}
