/*
 * rand.c: the hash commands that sample or walk a hash: HRANDFIELD and HSCAN. Shard thread.
 */
#include <limits.h>
#include <string.h>

#include "hashes.h"
#include "mscan.h"

/* A growable array of field/value pairs pointing into a hash. */
typedef struct pairs {
    dfm_str_t *el; /* field, value, field, value ... */
    long n, cap;   /* pairs */
} pairs_t;

static void pairs_push(pairs_t *p, const dfm_str_t *f, const dfm_str_t *v) {
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->el = hs_api->realloc(p->el, sizeof(dfm_str_t) * 2 * (size_t)p->cap);
    }
    p->el[2 * p->n] = *f;
    p->el[2 * p->n + 1] = *v;
    p->n++;
}

/* Reply one field (and its value): RESP3 nests each pair in an array of 2. */
static void hrand_reply_pair(dfm_ctx_t *ctx, const dfm_str_t *f, const dfm_str_t *v,
                             int withvalues) {
    if (withvalues && hs_api->resp_version(ctx) > 2) hs_api->reply_array(ctx, 2);
    hs_api->reply_bulk(ctx, f->ptr, f->len);
    if (withvalues) hs_api->reply_bulk(ctx, v->ptr, v->len);
}

static void hrand_reply_len(dfm_ctx_t *ctx, long n, int withvalues) {
    hs_api->reply_array(ctx, withvalues && hs_api->resp_version(ctx) == 2 ? 2 * n : n);
}

/* Every pair of h, in iteration order. */
static void hrand_collect(const hobj_t *h, pairs_t *p) {
    hobj_iter_t it;
    dfm_str_t f, v;
    hobj_iter_init(&it, h);
    while (hobj_iter_next(&it, &f, &v)) pairs_push(p, &f, &v);
}

/* count distinct random pairs, count < h->count: a partial Fisher-Yates over all pairs. */
static void hrand_distinct(const hobj_t *h, long count, pairs_t *p) {
    hrand_collect(h, p);
    for (long i = 0; i < count; i++) {
        long j = i + (long)(sd_rand() % (uint64_t)(p->n - i));
        dfm_str_t f = p->el[2 * i], v = p->el[2 * i + 1];
        p->el[2 * i] = p->el[2 * j], p->el[2 * i + 1] = p->el[2 * j + 1];
        p->el[2 * j] = f, p->el[2 * j + 1] = v;
    }
    p->n = count;
}

/* HRANDFIELD key count [WITHVALUES]: negative counts may repeat fields. */
static void hrand_count(dfm_ctx_t *ctx, const dfm_str_t *key, long long count, int withvalues) {
    hobj_t *h;
    pairs_t p = {0};
    dfm_str_t f, v;
    int found = hs_lookup(ctx, key, DFM_LOOKUP_READ, NULL, &h);
    if (found <= 0 || count == 0) {
        if (found >= 0) hs_api->reply_array(ctx, 0);
        return;
    }
    if (count < 0) {
        hrand_reply_len(ctx, (long)-count, withvalues);
        for (long long i = 0; i < -count; i++) {
            hobj_random(h, &f, &v);
            hrand_reply_pair(ctx, &f, &v, withvalues);
        }
        return;
    }
    if ((size_t)count >= h->count)
        hrand_collect(h, &p);
    else
        hrand_distinct(h, (long)count, &p);
    hrand_reply_len(ctx, p.n, withvalues);
    for (long i = 0; i < p.n; i++) hrand_reply_pair(ctx, &p.el[2 * i], &p.el[2 * i + 1], withvalues);
    hs_api->free(p.el);
}

void hs_cmd_hrandfield(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    long long count;
    hobj_t *h;
    dfm_str_t f, v;
    if (argc == 2) {
        int found = hs_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &h);
        if (found == 0) hs_api->reply_null(ctx);
        if (found <= 0) return;
        hobj_random(h, &f, &v);
        hs_api->reply_bulk(ctx, f.ptr, f.len);
        return;
    }
    if (hs_api->arg_ll(ctx, &argv[2], &count) < 0) return;
    if (count < -LONG_MAX) {
        hs_api->reply_errorf(ctx, "ERR value is out of range, value must between %ld and %ld",
                             -LONG_MAX, LONG_MAX);
        return;
    }
    if (argc > 4 || (argc == 4 && !hs_api->arg_eq(&argv[3], "withvalues"))) {
        hs_api->reply_syntax_error(ctx);
        return;
    }
    if (argc == 4 && (count < -LONG_MAX / 2 || count > LONG_MAX / 2)) {
        hs_api->reply_error(ctx, "ERR value is out of range");
        return;
    }
    hrand_count(ctx, &argv[1], count, argc == 4);
}

/* ---------------------------------------------------------------- HSCAN */

typedef struct hscan_walk {
    pairs_t p;
    const dfm_str_t *match;
    long visited; /* before MATCH filtering, as Redis counts toward COUNT */
} hscan_walk_t;

static void hscan_visit(void *arg, const sd_entry_t *e) {
    hscan_walk_t *w = arg;
    dfm_str_t f = sd_key(e), v = sd_val(e);
    w->visited++;
    if (w->match && !ms_glob(w->match->ptr, w->match->len, f.ptr, f.len)) return;
    pairs_push(&w->p, &f, &v);
}

/* HSCAN key cursor [MATCH pattern] [COUNT count]: small hashes come whole with cursor 0. */
void hs_cmd_hscan(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    uint64_t cursor;
    ms_opts_t o;
    hobj_t *h;
    if (ms_parse_cursor(ctx, hs_api, &argv[2], &cursor) < 0) return;
    int found = hs_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &h);
    if (found == 0) ms_reply(ctx, hs_api, 0, NULL, 0);
    if (found <= 0) return;
    if (ms_parse_opts(ctx, hs_api, argc, argv, 3, &o) < 0) return;
    hscan_walk_t w = {.match = o.match};
    if (h->enc == HOBJ_LISTPACK) {
        hobj_iter_t it;
        dfm_str_t f, v;
        hobj_iter_init(&it, h);
        while (hobj_iter_next(&it, &f, &v))
            if (!o.match || ms_glob(o.match->ptr, o.match->len, f.ptr, f.len))
                pairs_push(&w.p, &f, &v);
        cursor = 0;
    } else {
        long budget = o.count * 10;
        do {
            cursor = sd_scan(h->ht, cursor, hscan_visit, &w);
        } while (cursor && budget-- > 0 && w.visited < o.count);
    }
    ms_reply(ctx, hs_api, cursor, w.p.el, 2 * w.p.n);
    hs_api->free(w.p.el);
}
