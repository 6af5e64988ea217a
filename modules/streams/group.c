/*
 * group.c: consumer groups of a stream: the group list (sorted by name), each group's
 * consumers (sorted by name) and its pending entries list (sorted by id), plus Redis 7.0's
 * entries-read bookkeeping (lag). Shard thread, except xg_free (any thread, like free).
 */
#include <string.h>

#include "streams.h"

static int name_cmp(const char *a, size_t alen, const dfm_str_t *b) {
    size_t n = alen < b->len ? alen : b->len;
    int c = memcmp(a, b->ptr, n);
    if (c) return c;
    return alen < b->len ? -1 : alen > b->len;
}

/* Generic lower bound over an array of pointers to structs starting with (char *, size_t). */
typedef struct named {
    char *name;
    size_t len;
} named_t;

static size_t named_seek(void *const *arr, size_t n, const dfm_str_t *name) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const named_t *x = arr[mid];
        if (name_cmp(x->name, x->len, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void *named_get(void *const *arr, size_t n, const dfm_str_t *name) {
    size_t i = named_seek(arr, n, name);
    if (i < n) {
        const named_t *x = arr[i];
        if (name_cmp(x->name, x->len, name) == 0) return arr[i];
    }
    return NULL;
}

/* Insert p at its place in *arr (n entries, capacity *cap). */
static void named_insert(void ***arr, size_t *n, size_t *cap, void *p, const dfm_str_t *name) {
    size_t i = named_seek(*arr, *n, name);
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        *arr = xs_api->realloc(*arr, sizeof(void *) * *cap);
    }
    memmove(*arr + i + 1, *arr + i, sizeof(void *) * (*n - i));
    (*arr)[i] = p;
    (*n)++;
}

xgroup_t *xg_find(const stream_t *s, const dfm_str_t *name) {
    return named_get((void *const *)s->groups, s->ngroups, name);
}

xgroup_t *xg_create(stream_t *s, const dfm_str_t *name, const sid_t *id, long long read) {
    if (xg_find(s, name)) return NULL;
    xgroup_t *g = xs_api->alloc(sizeof *g);
    memset(g, 0, sizeof *g);
    g->name = xs_dup(name);
    g->len = name->len;
    g->last_id = *id;
    g->entries_read = read;
    size_t cap = s->ngroups;
    named_insert((void ***)&s->groups, &s->ngroups, &cap, g, name);
    return g;
}

void xg_free(xgroup_t *g) {
    for (size_t i = 0; i < g->ncons; i++) {
        xs_api->free(g->cons[i]->name);
        xs_api->free(g->cons[i]);
    }
    xs_api->free(g->cons);
    xs_api->free(g->pel);
    xs_api->free(g->name);
    xs_api->free(g);
}

xgroup_t *xg_copy(const xgroup_t *src) {
    xgroup_t *g = xs_api->alloc(sizeof *g);
    *g = *src;
    g->name = xs_dup(&(dfm_str_t){src->name, src->len});
    g->cappel = src->npel;
    g->pel = src->npel ? xs_api->alloc(sizeof(xnack_t) * src->npel) : NULL;
    g->capcons = src->ncons;
    g->cons = src->ncons ? xs_api->alloc(sizeof(xcons_t *) * src->ncons) : NULL;
    for (size_t i = 0; i < src->ncons; i++) {
        g->cons[i] = xs_api->alloc(sizeof(xcons_t));
        *g->cons[i] = *src->cons[i];
        g->cons[i]->name = xs_dup(&(dfm_str_t){src->cons[i]->name, src->cons[i]->len});
    }
    for (size_t i = 0; i < src->npel; i++) {
        g->pel[i] = src->pel[i];
        dfm_str_t n = {src->pel[i].owner->name, src->pel[i].owner->len};
        g->pel[i].owner = xg_consumer(g, &n);
    }
    return g;
}

xcons_t *xg_consumer(const xgroup_t *g, const dfm_str_t *name) {
    return named_get((void *const *)g->cons, g->ncons, name);
}

xcons_t *xg_consumer_add(xgroup_t *g, const dfm_str_t *name, int *created) {
    xcons_t *c = xg_consumer(g, name);
    if (created) *created = c == NULL;
    if (c) return c;
    c = xs_api->alloc(sizeof *c);
    c->name = xs_dup(name);
    c->len = name->len;
    c->seen_ms = xs_api->now_ms();
    c->npending = 0;
    named_insert((void ***)&g->cons, &g->ncons, &g->capcons, c, name);
    return c;
}

/* The consumer `name` of g, created (with Redis's "xgroup-createconsumer" event on key) when
   missing; its seen time becomes now. XREADGROUP, XCLAIM and XAUTOCLAIM use it. */
xcons_t *xg_consumer_seen(dfm_ctx_t *ctx, const dfm_str_t *key, xgroup_t *g,
                          const dfm_str_t *name) {
    int created;
    xcons_t *c = xg_consumer_add(g, name, &created);
    if (created) xs_api->notify(ctx, "xgroup-createconsumer", key, 't');
    c->seen_ms = xs_api->now_ms();
    return c;
}

/* Remove consumer c and its pending entries; returns how many were pending. */
long long xg_consumer_del(xgroup_t *g, xcons_t *c) {
    long long n = (long long)c->npending;
    size_t w = 0;
    for (size_t i = 0; i < g->npel; i++)
        if (g->pel[i].owner != c) g->pel[w++] = g->pel[i];
    g->npel = w;
    dfm_str_t name = {c->name, c->len};
    size_t i = named_seek((void *const *)g->cons, g->ncons, &name);
    memmove(&g->cons[i], &g->cons[i + 1], sizeof(void *) * (g->ncons - i - 1));
    g->ncons--;
    xs_api->free(c->name);
    xs_api->free(c);
    return n;
}

size_t xg_pel_seek(const xgroup_t *g, const sid_t *id) {
    size_t lo = 0, hi = g->npel;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sid_cmp(&g->pel[mid].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

xnack_t *xg_pel_find(const xgroup_t *g, const sid_t *id) {
    size_t i = xg_pel_seek(g, id);
    return i < g->npel && sid_cmp(&g->pel[i].id, id) == 0 ? &g->pel[i] : NULL;
}

/* Deliver id to owner: a new pending entry, or the existing one moved to owner and reset. */
void xg_pel_put(xgroup_t *g, const sid_t *id, xcons_t *owner, int64_t now) {
    size_t i = xg_pel_seek(g, id);
    if (i < g->npel && sid_cmp(&g->pel[i].id, id) == 0) {
        g->pel[i].owner->npending--;
    } else {
        if (g->npel == g->cappel) {
            g->cappel = g->cappel ? g->cappel * 2 : 4;
            g->pel = xs_api->realloc(g->pel, sizeof(xnack_t) * g->cappel);
        }
        memmove(&g->pel[i + 1], &g->pel[i], sizeof(xnack_t) * (g->npel - i));
        g->npel++;
    }
    g->pel[i] = (xnack_t){*id, owner, now, 1};
    owner->npending++;
}

int xg_pel_del(xgroup_t *g, const sid_t *id) {
    size_t i = xg_pel_seek(g, id);
    if (i >= g->npel || sid_cmp(&g->pel[i].id, id) != 0) return 0;
    g->pel[i].owner->npending--;
    memmove(&g->pel[i], &g->pel[i + 1], sizeof(xnack_t) * (g->npel - i - 1));
    g->npel--;
    return 1;
}

/* Redis's streamRangeHasTombstones(s, start, NULL). */
int xs_has_tombstones(const stream_t *s, const sid_t *start) {
    if (!s->len || sid_is_zero(&s->max_deleted)) return 0;
    if (sid_cmp(&s->first_id, &s->max_deleted) > 0) return 0;
    sid_t lo = start ? *start : (sid_t){0, 0};
    return sid_cmp(&lo, &s->max_deleted) <= 0;
}

/* Redis's streamEstimateDistanceFromFirstEverEntry. */
long long xs_estimate_read(const stream_t *s, const sid_t *id) {
    if (!s->entries_added) return 0;
    if (!s->len && sid_cmp(id, &s->last_id) < 1) return (long long)s->entries_added;
    int cmp_last = sid_cmp(id, &s->last_id);
    if (cmp_last == 0) return (long long)s->entries_added;
    if (cmp_last > 0) return XS_INVALID_READ;
    int cmp_first = sid_cmp(id, &s->first_id);
    if (sid_is_zero(&s->max_deleted) || sid_cmp(&s->max_deleted, &s->first_id) < 0) {
        if (cmp_first < 0) return (long long)(s->entries_added - s->len);
        if (cmp_first == 0) return (long long)(s->entries_added - s->len + 1);
    }
    return XS_INVALID_READ;
}

/* The group delivered entry id (XREADGROUP ">"): advance last_id and entries_read. */
void xg_delivered(const stream_t *s, xgroup_t *g, const sid_t *id) {
    if (sid_cmp(id, &g->last_id) <= 0) return;
    if (g->entries_read != XS_INVALID_READ && !xs_has_tombstones(s, id))
        g->entries_read++;
    else if (s->entries_added)
        g->entries_read = xs_estimate_read(s, id);
    g->last_id = *id;
}
