/*
 * pop.c: the set commands that sample or walk a set: SPOP, SRANDMEMBER and SSCAN. Shard
 * thread.
 */
#include <limits.h>
#include <string.h>

#include "../hashes/mscan.h"
#include "sets.h"

/* A growable array of members; `own` members are allocated copies. */
typedef struct mlist {
    dfm_str_t *el;
    long n, cap;
    int own;
} mlist_t;

static void mlist_push(mlist_t *l, const dfm_str_t *m) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->el = ss_api->realloc(l->el, sizeof(dfm_str_t) * (size_t)l->cap);
    }
    dfm_str_t v = *m;
    if (l->own) {
        char *copy = ss_api->alloc(m->len ? m->len : 1);
        memcpy(copy, m->ptr, m->len);
        v.ptr = copy;
    }
    l->el[l->n++] = v;
}

static void mlist_free(mlist_t *l) {
    if (l->own)
        for (long i = 0; i < l->n; i++) ss_api->free((void *)(uintptr_t)l->el[i].ptr);
    ss_api->free(l->el);
}

/* Every member of s (copies: intset members are formatted into a reused buffer). */
static void mlist_all(const sobj_t *s, mlist_t *l) {
    sobj_iter_t it;
    dfm_str_t m;
    sobj_iter_init(&it, s);
    while (sobj_iter_next(&it, &m)) mlist_push(l, &m);
}

/* Keep a uniformly random `count` of l's members (count < l->n), freeing the rest. */
static void mlist_sample(mlist_t *l, long count) {
    for (long i = 0; i < count; i++) {
        long j = i + (long)(sd_rand() % (uint64_t)(l->n - i));
        dfm_str_t t = l->el[i];
        l->el[i] = l->el[j];
        l->el[j] = t;
    }
    for (long i = count; i < l->n && l->own; i++) ss_api->free((void *)(uintptr_t)l->el[i].ptr);
    l->n = count;
}

static void mlist_reply(dfm_ctx_t *ctx, const mlist_t *l, int as_set) {
    if (as_set)
        ss_api->reply_set(ctx, l->n);
    else
        ss_api->reply_array(ctx, l->n);
    for (long i = 0; i < l->n; i++) ss_api->reply_bulk(ctx, l->el[i].ptr, l->el[i].len);
}

/* ---------------------------------------------------------------- SPOP */

/* SPOP key count: a RESP3 set of up to count distinct members, removed from the set. */
static void spop_count(dfm_ctx_t *ctx, const dfm_str_t *argv) {
    long long count;
    dfm_key_t *k;
    sobj_t *s;
    mlist_t l = {.own = 1};
    if (ss_api->str_to_ll(argv[2].ptr, argv[2].len, &count) < 0 || count < 0) {
        ss_api->reply_error(ctx, "ERR value is out of range, must be positive");
        return;
    }
    int found = ss_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, &k, &s);
    if (found == 0 || (found == 1 && count == 0)) ss_api->reply_set(ctx, 0);
    if (found <= 0 || count == 0) return;
    mlist_all(s, &l);
    if (count < l.n) mlist_sample(&l, (long)count);
    for (long i = 0; i < l.n; i++) sobj_rem(s, &l.el[i]);
    ss_changed(ctx, &argv[1], k, s, "spop");
    mlist_reply(ctx, &l, 1);
    mlist_free(&l);
}

void ss_cmd_spop(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    dfm_key_t *k;
    sobj_t *s;
    char buf[SOBJ_BUF], *copy;
    dfm_str_t m;
    if (argc == 3) {
        spop_count(ctx, argv);
        return;
    }
    if (argc > 3) {
        ss_api->reply_syntax_error(ctx);
        return;
    }
    int found = ss_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, &k, &s);
    if (found == 0) ss_api->reply_null(ctx);
    if (found <= 0) return;
    sobj_random(s, buf, &m);
    copy = ss_api->alloc(m.len ? m.len : 1);
    memcpy(copy, m.ptr, m.len);
    m.ptr = copy;
    sobj_rem(s, &m);
    ss_changed(ctx, &argv[1], k, s, "spop");
    ss_api->reply_bulk(ctx, copy, m.len);
    ss_api->free(copy);
}

/* ---------------------------------------------------------------- SRANDMEMBER */

/* SRANDMEMBER key count: distinct members, or |count| members with repeats when negative. */
static void srandmember_count(dfm_ctx_t *ctx, const dfm_str_t *argv) {
    long long count;
    sobj_t *s;
    char buf[SOBJ_BUF];
    dfm_str_t m;
    if (ss_api->arg_ll(ctx, &argv[2], &count) < 0) return;
    if (count < -LONG_MAX) {
        ss_api->reply_errorf(ctx, "ERR value is out of range, value must between %ld and %ld",
                             -LONG_MAX, LONG_MAX);
        return;
    }
    int found = ss_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &s);
    if (found == 0 || (found == 1 && count == 0)) ss_api->reply_array(ctx, 0);
    if (found <= 0 || count == 0) return;
    if (count < 0) {
        ss_api->reply_array(ctx, (long)-count);
        for (long long i = 0; i < -count; i++) {
            sobj_random(s, buf, &m);
            ss_api->reply_bulk(ctx, m.ptr, m.len);
        }
        return;
    }
    mlist_t l = {.own = 1};
    mlist_all(s, &l);
    if (count < l.n) mlist_sample(&l, (long)count);
    mlist_reply(ctx, &l, 0);
    mlist_free(&l);
}

void ss_cmd_srandmember(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    sobj_t *s;
    char buf[SOBJ_BUF];
    dfm_str_t m;
    if (argc == 3) {
        srandmember_count(ctx, argv);
        return;
    }
    if (argc > 3) {
        ss_api->reply_syntax_error(ctx);
        return;
    }
    int found = ss_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &s);
    if (found == 0) ss_api->reply_null(ctx);
    if (found <= 0) return;
    sobj_random(s, buf, &m);
    ss_api->reply_bulk(ctx, m.ptr, m.len);
}

/* ---------------------------------------------------------------- SSCAN */

typedef struct sscan_walk {
    mlist_t l;
    const dfm_str_t *match;
    long visited; /* before MATCH filtering, as Redis counts toward COUNT */
} sscan_walk_t;

static void sscan_add(sscan_walk_t *w, const dfm_str_t *m) {
    w->visited++;
    if (w->match && !ms_glob(w->match->ptr, w->match->len, m->ptr, m->len)) return;
    mlist_push(&w->l, m);
}

static void sscan_visit(void *arg, const sd_entry_t *e) {
    dfm_str_t m = sd_key(e);
    sscan_add(arg, &m);
}

/* SSCAN key cursor [MATCH pattern] [COUNT count]: intsets come whole with cursor 0. */
void ss_cmd_sscan(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    uint64_t cursor;
    ms_opts_t o;
    sobj_t *s;
    if (ms_parse_cursor(ctx, ss_api, &argv[2], &cursor) < 0) return;
    int found = ss_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &s);
    if (found == 0) ms_reply(ctx, ss_api, 0, NULL, 0);
    if (found <= 0) return;
    if (ms_parse_opts(ctx, ss_api, argc, argv, 3, &o) < 0) return;
    sscan_walk_t w = {.l = {.own = 1}, .match = o.match};
    if (s->enc == SOBJ_INTSET) {
        sobj_iter_t it;
        dfm_str_t m;
        sobj_iter_init(&it, s);
        while (sobj_iter_next(&it, &m)) sscan_add(&w, &m);
        cursor = 0;
    } else {
        long budget = o.count * 10;
        do {
            cursor = sd_scan(s->ht, cursor, sscan_visit, &w);
        } while (cursor && budget-- > 0 && w.visited < o.count);
    }
    ms_reply(ctx, ss_api, cursor, w.l.el, w.l.n);
    mlist_free(&w.l);
}
