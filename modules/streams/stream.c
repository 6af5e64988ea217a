/*
 * stream.c: the stream value: a sorted array of entry pointers (see streams.h), with append,
 * seek by id, delete, front trimming, copy and memory accounting. Shard thread only, except
 * free (any thread: it touches only the object and the allocator).
 */
#include <string.h>

#include "streams.h"

#define NODE_MAX_ENTRIES 100 /* Redis's stream-node-max-entries */
#define NODE_MAX_BYTES 4096  /* and stream-node-max-bytes */

stream_t *stream_new(void) {
    stream_t *s = xs_api->alloc(sizeof *s);
    memset(s, 0, sizeof *s);
    return s;
}

static size_t ent_alloc_size(const xent_t *e) { return sizeof(*e) + e->size; }

void stream_free(void *obj) {
    stream_t *s = obj;
    for (size_t i = 0; i < s->len; i++) xs_api->free(s->ents[s->head + i]);
    xs_api->free(s->ents);
    for (size_t i = 0; i < s->ngroups; i++) xg_free(s->groups[i]);
    xs_api->free(s->groups);
    xs_api->free(s);
}

void *stream_copy(const void *obj) {
    const stream_t *src = obj;
    stream_t *s = xs_api->alloc(sizeof *s);
    *s = *src;
    s->head = 0;
    s->cap = src->len;
    s->ents = src->len ? xs_api->alloc(sizeof(xent_t *) * src->len) : NULL;
    for (size_t i = 0; i < src->len; i++) {
        const xent_t *e = src->ents[src->head + i];
        s->ents[i] = xs_api->alloc(ent_alloc_size(e));
        memcpy(s->ents[i], e, ent_alloc_size(e));
    }
    s->groups = src->ngroups ? xs_api->alloc(sizeof(xgroup_t *) * src->ngroups) : NULL;
    for (size_t i = 0; i < src->ngroups; i++) s->groups[i] = xg_copy(src->groups[i]);
    return s;
}

size_t stream_mem(const void *obj) {
    const stream_t *s = obj;
    size_t n = sizeof(*s) + s->bytes + s->cap * sizeof(xent_t *);
    for (size_t i = 0; i < s->ngroups; i++) {
        const xgroup_t *g = s->groups[i];
        n += sizeof(*g) + g->len + g->cappel * sizeof(xnack_t) + g->capcons * sizeof(xcons_t *);
        for (size_t j = 0; j < g->ncons; j++) n += sizeof(xcons_t) + g->cons[j]->len;
    }
    return n;
}

static size_t varint_len(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) v >>= 7, n++;
    return n;
}

static unsigned char *varint_put(unsigned char *p, uint64_t v) {
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

/* A detached entry holding copies of pairs[0 .. 2*npairs) (the id is set by the caller). */
xent_t *stream_entry_new(const dfm_str_t *pairs, size_t npairs) {
    size_t size = 0;
    for (size_t i = 0; i < npairs * 2; i++) size += varint_len(pairs[i].len) + pairs[i].len;
    xent_t *e = xs_api->alloc(sizeof(*e) + size);
    memset(e, 0, sizeof *e);
    e->npairs = (uint32_t)npairs;
    e->size = (uint32_t)size;
    unsigned char *p = e->data;
    for (size_t i = 0; i < npairs * 2; i++) {
        p = varint_put(p, pairs[i].len);
        memcpy(p, pairs[i].ptr, pairs[i].len);
        p += pairs[i].len;
    }
    return e;
}

int xent_next(const xent_t *e, size_t *off, dfm_str_t *out) {
    if (*off >= e->size) return 0;
    uint64_t len = 0;
    int shift = 0;
    const unsigned char *p = e->data + *off;
    for (;;) {
        len |= (uint64_t)(*p & 0x7f) << shift;
        shift += 7;
        if (!(*p++ & 0x80)) break;
    }
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

/* Decide the entry's virtual node as Redis fills listpack nodes (or start one: fresh). */
static void assign_node(stream_t *s, xent_t *e, int fresh) {
    size_t bytes = e->size + 8;
    if (fresh || s->len == 0 || s->node_count >= NODE_MAX_ENTRIES ||
        s->node_bytes + bytes > NODE_MAX_BYTES) {
        s->last_node++;
        s->node_count = 0;
        s->node_bytes = 0;
    }
    s->node_count++;
    s->node_bytes += bytes;
    e->node = s->last_node;
}

int stream_append(stream_t *s, xent_t *e) { return stream_append_node(s, e, 0); }

int stream_append_node(stream_t *s, xent_t *e, int fresh) {
    if (s->head + s->len == s->cap) {
        if (s->head > 0 && s->head >= s->len) {
            memmove(s->ents, s->ents + s->head, sizeof(xent_t *) * s->len);
            s->head = 0;
        } else {
            s->cap = s->cap ? s->cap * 2 : 4;
            s->ents = xs_api->realloc(s->ents, sizeof(xent_t *) * s->cap);
        }
    }
    assign_node(s, e, fresh);
    s->ents[s->head + s->len++] = e;
    s->bytes += ent_alloc_size(e);
    s->last_id = e->id;
    s->entries_added++;
    if (s->len == 1) s->first_id = e->id;
    return 0;
}

size_t stream_seek(const stream_t *s, const sid_t *id) {
    size_t lo = 0, hi = s->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sid_cmp(&s->ents[s->head + mid]->id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

xent_t *stream_at(const stream_t *s, size_t i) { return i < s->len ? s->ents[s->head + i] : NULL; }

xent_t *stream_find(const stream_t *s, const sid_t *id) {
    xent_t *e = stream_at(s, stream_seek(s, id));
    return e && sid_cmp(&e->id, id) == 0 ? e : NULL;
}

void stream_update_first(stream_t *s) {
    s->first_id = s->len ? s->ents[s->head]->id : (sid_t){0, 0};
}

int stream_delete(stream_t *s, const sid_t *id) {
    size_t i = stream_seek(s, id);
    xent_t *e = stream_at(s, i);
    if (!e || sid_cmp(&e->id, id) != 0) return 0;
    s->bytes -= ent_alloc_size(e);
    xs_api->free(e);
    memmove(&s->ents[s->head + i], &s->ents[s->head + i + 1],
            sizeof(xent_t *) * (s->len - i - 1));
    s->len--;
    if (sid_cmp(id, &s->max_deleted) > 0) s->max_deleted = *id;
    if (i == 0) stream_update_first(s);
    return 1;
}

void stream_drop_front(stream_t *s, size_t n) {
    for (size_t i = 0; i < n && s->len; i++) {
        xent_t *e = s->ents[s->head];
        s->bytes -= ent_alloc_size(e);
        xs_api->free(e);
        s->head++;
        s->len--;
    }
    if (s->len == 0) s->head = 0;
    stream_update_first(s);
}
