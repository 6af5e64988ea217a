/*
 * hash.c: the two encodings of the hash value (see hash.h). The packed form keeps each pair
 * as [u8 flen][field][u8 vlen][value]; lengths fit a byte because anything longer than
 * hobj_max_value (at most 255, see the config's range) converts the hash to a table first.
 */
#include <string.h>

#include "hash.h"

int64_t hobj_max_entries = 512, hobj_max_value = 64;

hobj_t *hobj_new(void) {
    hobj_t *h = sd_api->alloc(sizeof(*h));
    memset(h, 0, sizeof(*h));
    h->enc = HOBJ_LISTPACK;
    return h;
}

void hobj_free(hobj_t *h) {
    if (h == NULL) return;
    sd_api->free(h->lp);
    sd_free(h->ht);
    sd_api->free(h);
}

hobj_t *hobj_copy(const hobj_t *h) {
    hobj_t *c = hobj_new();
    c->enc = h->enc;
    c->count = h->count;
    if (h->enc == HOBJ_HASHTABLE) {
        c->ht = sd_copy(h->ht);
    } else if (h->used) {
        c->lp = sd_api->alloc(h->used);
        memcpy(c->lp, h->lp, h->used);
        c->used = h->used;
    }
    return c;
}

size_t hobj_mem(const hobj_t *h) {
    size_t n = sd_api->usable_size((void *)(uintptr_t)h);
    if (h->ht) n += sd_mem(h->ht);
    if (h->lp) n += sd_api->usable_size(h->lp);
    return n;
}

/* ---------------------------------------------------------------- packed form */

/* Decode the pair at off: field and value; returns the offset of the next pair. */
static size_t lp_pair(const hobj_t *h, size_t off, dfm_str_t *f, dfm_str_t *v) {
    const unsigned char *p = h->lp + off;
    f->len = p[0];
    f->ptr = (const char *)p + 1;
    p += 1 + f->len;
    v->len = p[0];
    v->ptr = (const char *)p + 1;
    return off + 2 + f->len + v->len;
}

/* Offset of field f's pair, or (size_t)-1. */
static size_t lp_find(const hobj_t *h, const dfm_str_t *f) {
    dfm_str_t kf, kv;
    for (size_t off = 0, next; off < h->used; off = next) {
        next = lp_pair(h, off, &kf, &kv);
        if (kf.len == f->len && (f->len == 0 || memcmp(kf.ptr, f->ptr, f->len) == 0)) return off;
    }
    return (size_t)-1;
}

/* Replace the pair at off (size old bytes) by f/v; off == used appends. */
static void lp_put(hobj_t *h, size_t off, size_t old, const dfm_str_t *f, const dfm_str_t *v) {
    size_t sz = 2 + f->len + v->len, used = h->used - old + sz;
    if (used > h->used) h->lp = sd_api->realloc(h->lp, used);
    memmove(h->lp + off + sz, h->lp + off + old, h->used - off - old);
    unsigned char *p = h->lp + off;
    p[0] = (unsigned char)f->len;
    memcpy(p + 1, f->ptr, f->len);
    p[1 + f->len] = (unsigned char)v->len;
    memcpy(p + 2 + f->len, v->ptr, v->len);
    h->used = used;
}

static void lp_to_table(hobj_t *h) {
    sd_t *d = sd_new(h->count);
    dfm_str_t f, v;
    for (size_t off = 0; off < h->used;) {
        off = lp_pair(h, off, &f, &v);
        sd_set(d, f.ptr, f.len, v.ptr, v.len);
    }
    sd_api->free(h->lp);
    h->lp = NULL;
    h->used = 0;
    h->ht = d;
    h->enc = HOBJ_HASHTABLE;
}

/* ---------------------------------------------------------------- operations */

int hobj_get(const hobj_t *h, const dfm_str_t *f, dfm_str_t *v) {
    if (h->enc == HOBJ_HASHTABLE) {
        const sd_entry_t *e = sd_find(h->ht, f->ptr, f->len);
        if (e) *v = sd_val(e);
        return e != NULL;
    }
    size_t off = lp_find(h, f);
    if (off == (size_t)-1) return 0;
    dfm_str_t kf;
    lp_pair(h, off, &kf, v);
    return 1;
}

int hobj_set(hobj_t *h, const dfm_str_t *f, const dfm_str_t *v) {
    if (h->enc == HOBJ_LISTPACK &&
        (f->len > (size_t)hobj_max_value || v->len > (size_t)hobj_max_value || f->len > 255 ||
         v->len > 255))
        lp_to_table(h);
    if (h->enc == HOBJ_HASHTABLE) {
        int added = sd_set(h->ht, f->ptr, f->len, v->ptr, v->len);
        h->count = h->ht->count;
        return added;
    }
    size_t off = lp_find(h, f);
    if (off != (size_t)-1) {
        dfm_str_t kf, kv;
        lp_put(h, off, lp_pair(h, off, &kf, &kv) - off, f, v);
        return 0;
    }
    lp_put(h, h->used, 0, f, v);
    if (++h->count > (size_t)hobj_max_entries) lp_to_table(h);
    return 1;
}

int hobj_del(hobj_t *h, const dfm_str_t *f) {
    if (h->enc == HOBJ_HASHTABLE) {
        int gone = sd_del(h->ht, f->ptr, f->len);
        h->count = h->ht->count;
        return gone;
    }
    size_t off = lp_find(h, f);
    if (off == (size_t)-1) return 0;
    dfm_str_t kf, kv;
    size_t end = lp_pair(h, off, &kf, &kv);
    memmove(h->lp + off, h->lp + end, h->used - end);
    h->used -= end - off;
    h->count--;
    return 1;
}

void hobj_iter_init(hobj_iter_t *it, const hobj_t *h) {
    it->h = h;
    it->off = 0;
    sd_iter_init(&it->it);
}

int hobj_iter_next(hobj_iter_t *it, dfm_str_t *f, dfm_str_t *v) {
    if (it->h->enc == HOBJ_HASHTABLE) {
        const sd_entry_t *e = sd_iter_next(it->h->ht, &it->it);
        if (e == NULL) return 0;
        *f = sd_key(e);
        *v = sd_val(e);
        return 1;
    }
    if (it->off >= it->h->used) return 0;
    it->off = lp_pair(it->h, it->off, f, v);
    return 1;
}

void hobj_random(const hobj_t *h, dfm_str_t *f, dfm_str_t *v) {
    if (h->enc == HOBJ_HASHTABLE) {
        const sd_entry_t *e = sd_random(h->ht);
        *f = sd_key(e);
        *v = sd_val(e);
        return;
    }
    size_t off = 0;
    for (size_t i = sd_rand() % h->count; i > 0; i--) off = lp_pair(h, off, f, v);
    lp_pair(h, off, f, v);
}
