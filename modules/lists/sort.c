/*
 * sort.c: SORT and SORT_RO over lists, sets and sorted sets, with Redis 7.0's options, replies
 * and errors:
 *
 *   SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
 *        [STORE destination]
 *
 * SORT is a dfm_multi_t in two phases, because its destination may live in another shard:
 *
 *   phase 0, on the source's shard: read the elements, look up the BY values, sort, apply
 *            LIMIT and look up the GET values, copying the result into the state;
 *   phase 1, on the destination's shard (STORE only): store the result as a list, or delete
 *            the destination when it is empty.
 *
 * The core locks both keys (the module tells it where they are: sort_keys, the twin of Redis's
 * sortGetKeys) from phase 0 to the reply, so the command is atomic. SORT_RO has one key and is
 * a plain handler running the same code.
 *
 * Keys made from BY/GET patterns are known only while sorting, so they cannot be locked in
 * advance; they are read on the source's shard, in phase 0. Hence Redis Cluster's rule: a
 * pattern that makes keys (one with a '*', other than GET #) must carry a non-empty hash tag
 * before its '*' equal to the source key's hash tag (then every key it makes lives in the
 * source's shard); otherwise SORT replies Redis Cluster's "BY/GET option of SORT denied in
 * Cluster mode." A BY without '*' (no sorting), GET # and a GET without '*' (always nil) make
 * no keys and are always allowed.
 *
 * Values are compared as Redis does: numbers (strtod, the whole string, no NaN, no ERANGE)
 * with ties broken by comparing the elements byte-wise; ALPHA compares bytes when storing
 * and, like Redis's strcoll in the C / C.UTF-8 locales, bytes up to the first NUL otherwise;
 * missing BY values sort first under ALPHA and count as 0 otherwise. The sort is a stable
 * merge sort, as glibc's qsort that Redis calls (except with BY and LIMIT: Redis's partial
 * quicksort may order equal ALPHA BY values differently).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "lists.h"
#include "../hashes/hashes_api.h"
#include "../sets/sets_api.h"
#include "../zsets/zsets_api.h"

#define SORT_ERR_BY "ERR BY option of SORT denied in Cluster mode."
#define SORT_ERR_GET "ERR GET option of SORT denied in Cluster mode."
#define SORT_ERR_INT "ERR value is not an integer or out of range"
#define SORT_ERR_SCORE "ERR One or more scores can't be converted into double"

/* ---------------------------------------------------------------- options */

typedef struct sort_opts {
    int desc, alpha;
    int dontsort;                 /* a BY pattern without '*' was given */
    int by_at;                    /* argv index of the (last) BY pattern, 0: none */
    int store_at;                 /* argv index of the (last) STORE destination, 0: none */
    long long limit_start, limit_count; /* 0, -1 without LIMIT */
    int *gets;                    /* argv indexes of the GET patterns, in order */
    int ngets;
} sort_opts_t;

/* A string in a sort_arena_t, by offset (the arena may move while it grows). */
typedef struct sort_ref {
    size_t off, len;
} sort_ref_t;

/* Bytes of every element, BY value and result of one run, appended one after another. */
typedef struct sort_arena {
    char *p;
    size_t len, cap;
} sort_arena_t;

/* One element being sorted. */
typedef struct sort_item {
    sort_ref_t elem;
    sort_ref_t cmp; /* ALPHA with BY: the BY value (has_cmp 0: missing) */
    double score;   /* numeric sort: the element's or the BY value's number */
    int has_cmp;
} sort_item_t;

/* One entry of the result: a string of the arena or, for GET of a missing value, nil. */
typedef struct sort_out {
    sort_ref_t s;
    int null;
} sort_out_t;

/* Everything a run needs and produces; lives in the multi state (SORT) or on the stack. */
typedef struct sort_state {
    sort_opts_t o;
    const char *err;     /* an error to reply (static string) */
    int wrongtype;       /* the source holds another type */
    int score_err;       /* a value was not a number (numeric sort) */
    sort_arena_t arena;
    sort_item_t *items;  /* the elements read */
    size_t nitems, capitems;
    sort_out_t *out;     /* the result, in order */
    size_t nout;
    char *keybuf;        /* scratch for keys made from patterns */
    size_t keycap;
} sort_state_t;

/* The hash tag of key (core/db.c's rule: the bytes between the first '{' and the first '}'
   after it, when not empty). 1 and *tag set, or 0 when the key has none. */
static int sort_hash_tag(const char *p, size_t len, dfm_str_t *tag) {
    const char *open = memchr(p, '{', len);
    if (!open) return 0;
    const char *close = memchr(open + 1, '}', len - (size_t)(open - p) - 1);
    if (!close || close == open + 1) return 0;
    *tag = (dfm_str_t){open + 1, (size_t)(close - open - 1)};
    return 1;
}

/* Length of a pattern as Redis reads it (a C string: up to the first NUL). */
static size_t sort_clen(const dfm_str_t *a) {
    const char *nul = memchr(a->ptr, '\0', a->len);
    return nul ? (size_t)(nul - a->ptr) : a->len;
}

/* 1 when every key that pattern makes is certain to live in the source key's shard: the
   pattern's first '{' and the first '}' after it come before its '*', enclose a non-empty
   tag, and that tag equals the source's. (The made keys start with the same bytes, so
   their tag is that one.) */
static int sort_pattern_local(const dfm_str_t *pat, const dfm_str_t *src) {
    size_t clen = sort_clen(pat);
    const char *star = memchr(pat->ptr, '*', clen);
    dfm_str_t ptag, stag;
    if (!star || !sort_hash_tag(pat->ptr, (size_t)(star - pat->ptr), &ptag)) return 0;
    if (!sort_hash_tag(src->ptr, src->len, &stag)) return 0;
    return lst_str_eq(&ptag, &stag);
}

/* 1 when the pattern is exactly "#" (GET #: the element itself). */
static int sort_is_hash(const dfm_str_t *pat) { return sort_clen(pat) == 1 && pat->ptr[0] == '#'; }

/* Apply BY pattern argv[j]: no '*' means do not sort; else it must pass the cluster rule.
   Returns NULL or the error. */
static const char *sort_opt_by(sort_opts_t *o, const dfm_str_t *argv, int j) {
    o->by_at = j;
    if (!memchr(argv[j].ptr, '*', sort_clen(&argv[j]))) {
        o->dontsort = 1;
        return NULL;
    }
    return sort_pattern_local(&argv[j], &argv[1]) ? NULL : SORT_ERR_BY;
}

/* Apply GET pattern argv[j] (kept in o->gets, which has room for every argument). */
static const char *sort_opt_get(sort_opts_t *o, const dfm_str_t *argv, int j) {
    const dfm_str_t *p = &argv[j];
    if (!sort_is_hash(p) && memchr(p->ptr, '*', sort_clen(p)) && !sort_pattern_local(p, &argv[1]))
        return SORT_ERR_GET;
    o->gets[o->ngets++] = j;
    return NULL;
}

/*
 * Parse argv[2..] into o, in Redis's order: the first bad option stops the parse with its
 * error (a static string), returned; NULL when all is well. STORE is an option only when
 * readonly is 0 (SORT_RO: a syntax error). o->gets is allocated here (free it in any case).
 */
static const char *sort_parse(sort_opts_t *o, int argc, const dfm_str_t *argv, int readonly) {
    memset(o, 0, sizeof(*o));
    o->limit_count = -1;
    o->gets = lst_api->alloc(sizeof(int) * (size_t)argc);
    const char *err = NULL;
    for (int j = 2; j < argc && !err; j++) {
        int left = argc - j - 1;
        const dfm_str_t *a = &argv[j];
        if (lst_api->arg_eq(a, "asc")) {
            o->desc = 0;
        } else if (lst_api->arg_eq(a, "desc")) {
            o->desc = 1;
        } else if (lst_api->arg_eq(a, "alpha")) {
            o->alpha = 1;
        } else if (lst_api->arg_eq(a, "limit") && left >= 2) {
            if (lst_api->str_to_ll(argv[j + 1].ptr, argv[j + 1].len, &o->limit_start) < 0 ||
                lst_api->str_to_ll(argv[j + 2].ptr, argv[j + 2].len, &o->limit_count) < 0)
                err = SORT_ERR_INT;
            j += 2;
        } else if (!readonly && lst_api->arg_eq(a, "store") && left >= 1) {
            o->store_at = ++j;
        } else if (lst_api->arg_eq(a, "by") && left >= 1) {
            err = sort_opt_by(o, argv, ++j);
        } else if (lst_api->arg_eq(a, "get") && left >= 1) {
            err = sort_opt_get(o, argv, ++j);
        } else {
            err = "ERR syntax error";
        }
    }
    return err;
}

/*
 * Key positions of a SORT call, as Redis's sortGetKeys finds them: the source, then the
 * argument after the last STORE (LIMIT skips two arguments, GET and BY one). Any thread.
 */
static int sort_keys(int argc, const dfm_str_t *argv, int *idx, int max) {
    int store = 0;
    if (argc < 2 || max < 1) return max < 1 ? 0 : -1;
    for (int i = 2; i < argc; i++) {
        if (lst_api->arg_eq(&argv[i], "limit"))
            i += 2;
        else if (lst_api->arg_eq(&argv[i], "get") || lst_api->arg_eq(&argv[i], "by"))
            i += 1;
        else if (lst_api->arg_eq(&argv[i], "store") && i + 1 < argc)
            store = i + 1;
    }
    idx[0] = 1;
    if (store && max >= 2) {
        idx[1] = store;
        return 2;
    }
    return 1;
}

/* SORT_RO's only key is the source (a function too, so COMMAND INFO says movablekeys). */
static int sort_ro_keys(int argc, const dfm_str_t *argv, int *idx, int max) {
    (void)argv;
    if (argc < 2 || max < 1) return max < 1 ? 0 : -1;
    idx[0] = 1;
    return 1;
}

/* ---------------------------------------------------------------- the arena and items */

/* Append p[0..len) to the arena; returns where it went. */
static sort_ref_t sort_keep(sort_arena_t *a, const char *p, size_t len) {
    if (a->cap - a->len < len) {
        size_t cap = a->cap ? a->cap : 256;
        while (cap - a->len < len) cap *= 2;
        a->p = lst_api->realloc(a->p, cap);
        a->cap = cap;
    }
    if (len) memcpy(a->p + a->len, p, len);
    sort_ref_t r = {a->len, len};
    a->len += len;
    return r;
}

static dfm_str_t sort_str(const sort_state_t *st, sort_ref_t r) {
    if (!st->arena.p) return (dfm_str_t){"", 0}; /* only empty strings so far: no buffer */
    return (dfm_str_t){st->arena.p + r.off, r.len};
}

/* Add a copy of an element to the items to sort (items has room: sized before loading). */
static void sort_add(sort_state_t *st, const dfm_str_t *e) {
    sort_item_t *it = &st->items[st->nitems++];
    memset(it, 0, sizeof(*it));
    it->elem = sort_keep(&st->arena, e->ptr, e->len);
}

static void sort_add_member(void *arg, const dfm_str_t *member) { sort_add(arg, member); }

/* A zset walk: take members while there is room for them. */
static int sort_add_zmember(void *arg, const dfm_str_t *member, double score) {
    (void)score;
    sort_state_t *st = arg;
    if (st->nitems == st->capitems) return 0;
    sort_add(st, member);
    return st->nitems < st->capitems;
}

/* ---------------------------------------------------------------- pattern lookups */

/* Make room for n bytes in the key scratch buffer. */
static char *sort_keybuf(sort_state_t *st, size_t n) {
    if (st->keycap < n) {
        st->keycap = n < 64 ? 64 : n;
        st->keybuf = lst_api->realloc(st->keybuf, st->keycap);
    }
    return st->keybuf;
}

/*
 * What pattern refers to for element e, as Redis's lookupKeyByPattern: "#" is e itself; else
 * the first '*' is replaced by e and the key read as a string, or, when "->field" (non-empty)
 * follows the '*', as a hash and its field. 1 and *out (valid until the keyspace changes),
 * or 0: no '*', no such key or field, or another type. Source's shard thread.
 */
static int sort_lookup(dfm_ctx_t *ctx, sort_state_t *st, const dfm_str_t *pat,
                       const dfm_str_t *e, dfm_str_t *out) {
    size_t clen = sort_clen(pat);
    if (clen == 1 && pat->ptr[0] == '#') {
        *out = *e;
        return 1;
    }
    const char *star = memchr(pat->ptr, '*', clen);
    if (!star) return 0;
    const char *end = pat->ptr + pat->len, *arrow = NULL;
    for (const char *q = star + 1; q + 2 < pat->ptr + clen; q++)
        if (q[0] == '-' && q[1] == '>') {
            arrow = q;
            break;
        }
    const char *post_end = arrow ? arrow : end;
    size_t pre = (size_t)(star - pat->ptr), post = (size_t)(post_end - star - 1);
    char *k = sort_keybuf(st, pre + e->len + post);
    memcpy(k, pat->ptr, pre);
    if (e->len) memcpy(k + pre, e->ptr, e->len);
    memcpy(k + pre + e->len, star + 1, post);
    dfm_str_t key = {k, pre + e->len + post};
    dfm_key_t *kk = lst_api->lookup(ctx, &key, DFM_LOOKUP_READ);
    if (!kk) return 0;
    if (!arrow) {
        if (lst_api->key_type(kk) != DFM_TYPE_STRING) return 0;
        lst_api->str_value(kk, out);
        return 1;
    }
    const hashes_api_t *hashes = lst_api->import_api(lst_self, HASHES_API_NAME);
    if (!hashes || lst_api->key_type(kk) != hashes->type_id()) return 0;
    dfm_str_t field = {arrow + 2, (size_t)(end - arrow - 2)};
    return hashes->get(lst_api->obj_value(kk), &field, out);
}

/* ---------------------------------------------------------------- reading and sorting */

/* Redis's score of a value: strtod over the whole (C) string; not NaN, not out of range.
   0 and *out, or -1. */
static int sort_score(sort_state_t *st, const dfm_str_t *v, double *out) {
    size_t n = v->len;
    char *buf = sort_keybuf(st, n + 1);
    memcpy(buf, v->ptr, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    *out = strtod(buf, &end);
    if (*end != '\0' || errno == ERANGE || isnan(*out)) {
        *out = 0;
        return -1;
    }
    return 0;
}

/* Byte-wise comparison, shorter first on a common prefix (Redis's compareStringObjects). */
static int sort_bytes_cmp(const dfm_str_t *a, const dfm_str_t *b) {
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->ptr, b->ptr, n) : 0;
    if (c) return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* ALPHA's comparison: bytes when storing; else as Redis's strcoll, which reads C strings
   (up to a NUL) and in the C / C.UTF-8 locales compares bytes. */
static int sort_text_cmp(const sort_state_t *st, sort_ref_t a, sort_ref_t b) {
    dfm_str_t x = sort_str(st, a), y = sort_str(st, b);
    if (!st->o.store_at) {
        x.len = sort_clen(&x);
        y.len = sort_clen(&y);
    }
    return sort_bytes_cmp(&x, &y);
}

/* Redis's sortCompare: numbers (ties by element), or ALPHA by BY value (missing first, ties
   equal) or by element; DESC reverses it all. */
static int sort_cmp(const sort_state_t *st, const sort_item_t *a, const sort_item_t *b) {
    int cmp;
    if (!st->o.alpha) {
        if (a->score != b->score) {
            cmp = a->score > b->score ? 1 : -1;
        } else {
            dfm_str_t x = sort_str(st, a->elem), y = sort_str(st, b->elem);
            cmp = sort_bytes_cmp(&x, &y);
        }
    } else if (st->o.by_at) {
        if (!a->has_cmp || !b->has_cmp) {
            cmp = a->has_cmp == b->has_cmp ? 0 : (!a->has_cmp ? -1 : 1);
        } else {
            cmp = sort_text_cmp(st, a->cmp, b->cmp);
        }
    } else {
        cmp = sort_text_cmp(st, a->elem, b->elem);
    }
    return st->o.desc ? -cmp : cmp;
}

/* Stable merge sort of v[0..n) with tmp[0..n) as scratch. */
static void sort_merge(const sort_state_t *st, sort_item_t *v, sort_item_t *tmp, size_t n) {
    if (n < 2) return;
    size_t h = n / 2;
    sort_merge(st, v, tmp, h);
    sort_merge(st, v + h, tmp, n - h);
    if (sort_cmp(st, &v[h - 1], &v[h]) <= 0) return; /* already in order */
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = sort_cmp(st, &v[j], &v[i]) < 0 ? v[j++] : v[i++];
    while (i < h) tmp[k++] = v[i++];
    while (j < n) tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof(*v));
}

/* Load the BY values (or the elements' own numbers) every item is compared by; a value that
   is not a number sets score_err (reported after sorting, as Redis does). */
static void sort_load_keys(dfm_ctx_t *ctx, sort_state_t *st, const dfm_str_t *argv) {
    for (size_t i = 0; i < st->nitems; i++) {
        sort_item_t *it = &st->items[i];
        dfm_str_t e = sort_str(st, it->elem), v = e;
        if (st->o.by_at && !sort_lookup(ctx, st, &argv[st->o.by_at], &e, &v)) continue;
        if (st->o.alpha) {
            if (!st->o.by_at) continue;
            sort_ref_t c = sort_keep(&st->arena, v.ptr, v.len); /* may move the arena */
            it->cmp = c;
            it->has_cmp = 1;
        } else if (sort_score(st, &v, &it->score) < 0) {
            st->score_err = 1;
        }
    }
}

/* The first and last positions of the result for n elements, as Redis 7.0.15 clamps LIMIT
   (no overflow for any offset/count). *end < *start: empty. */
static void sort_window(const sort_opts_t *o, long long n, long long *start, long long *end) {
    long long s = o->limit_start < 0 ? 0 : (o->limit_start > n ? n : o->limit_start);
    long long c = o->limit_count < -1 ? -1 : (o->limit_count > n ? n : o->limit_count);
    long long e = c < 0 ? n - 1 : s + c - 1;
    if (s >= n) {
        s = n - 1;
        e = n - 2;
    }
    if (e >= n) e = n - 1;
    *start = s;
    *end = e;
}

/* Read a list's elements: all, or (no sorting) just the window, from the tail under DESC. */
static void sort_read_list(sort_state_t *st, ql_t *l, long long start, long long end) {
    ql_iter_t it;
    dfm_str_t v;
    int dontsort = st->o.dontsort;
    if (dontsort && end < start) return;
    size_t first = !dontsort ? 0 : (st->o.desc ? l->count - 1 - (size_t)start : (size_t)start);
    ql_seek(l, first, &it);
    while (st->nitems < st->capitems && ql_iter_get(&it, &v)) {
        sort_add(st, &v);
        if (dontsort && st->o.desc)
            ql_iter_prev(&it);
        else
            ql_iter_next(&it);
    }
}

/*
 * Read the source (argv[1]) into st->items: its type, the number of items to read and the
 * window of the result in *start and *end (after a windowed read, relative to what was read).
 * Returns 0, or -1 with st->wrongtype. Source's shard thread.
 */
static int sort_read(dfm_ctx_t *ctx, sort_state_t *st, const dfm_str_t *argv, long long *start,
                     long long *end) {
    dfm_key_t *k = lst_api->lookup(ctx, &argv[1], DFM_LOOKUP_READ);
    int type = k ? lst_api->key_type(k) : lst_type_id;
    const sets_api_t *sets = lst_api->import_api(lst_self, SETS_API_NAME);
    const zsets_api_t *zsets = lst_api->import_api(lst_self, ZSETS_API_NAME);
    int is_set = sets && type == sets->type_id(), is_zset = zsets && type == zsets->type_id();
    if (type != lst_type_id && !is_set && !is_zset) {
        st->wrongtype = 1;
        return -1;
    }
    const void *obj = k ? lst_api->obj_value(k) : NULL;
    if (obj && is_zset) zsets->to_skiplist(lst_api->obj_value(k)); /* as Redis's SORT does */
    size_t n = !obj ? 0 : is_set ? sets->count(obj) : is_zset ? zsets->count(obj)
                                                             : ((const ql_t *)obj)->count;
    if (is_set && st->o.dontsort && st->o.store_at) { /* a stored result must be stable */
        st->o.dontsort = 0;
        st->o.alpha = 1;
        st->o.by_at = 0;
    }
    sort_window(&st->o, (long long)n, start, end);
    int windowed = st->o.dontsort && !is_set && (*start != 0 || *end != (long long)n - 1);
    st->capitems = windowed ? (size_t)(*end - *start + 1) : n;
    st->items = lst_api->alloc(sizeof(sort_item_t) * (st->capitems ? st->capitems : 1));
    if (!obj) return 0;
    if (is_set)
        sets->each(obj, sort_add_member, st);
    else if (is_zset)
        zsets->each(obj, st->o.dontsort && st->o.desc, st->o.dontsort ? (size_t)*start : 0,
                    sort_add_zmember, st);
    else
        sort_read_list(st, (ql_t *)(uintptr_t)obj, *start, *end);
    if (st->o.dontsort && !is_set) { /* read in result order, from the window's start */
        *end -= *start;
        *start = 0;
    }
    return 0;
}

/* Append one result entry (room is reserved by the caller). */
static void sort_emit(sort_state_t *st, const dfm_str_t *v) {
    sort_out_t *o = &st->out[st->nout++];
    o->null = v == NULL;
    o->s = v ? sort_keep(&st->arena, v->ptr, v->len) : (sort_ref_t){0, 0};
}

/* Build the result from items[start..end]: the elements, or each GET pattern's value. */
static void sort_output(dfm_ctx_t *ctx, sort_state_t *st, const dfm_str_t *argv,
                        long long start, long long end) {
    size_t rows = end >= start ? (size_t)(end - start + 1) : 0;
    size_t per = st->o.ngets ? (size_t)st->o.ngets : 1;
    size_t cells = rows * per; /* at most the source's size times the GET arguments */
    st->out = lst_api->alloc(sizeof(sort_out_t) * (cells > 0 ? cells : 1));
    for (long long j = start; j <= end; j++) {
        sort_ref_t r = st->items[j].elem;
        if (!st->o.ngets) {
            dfm_str_t e = sort_str(st, r);
            sort_emit(st, &e);
            continue;
        }
        for (int g = 0; g < st->o.ngets; g++) {
            dfm_str_t e = sort_str(st, r), v;
            int found = sort_lookup(ctx, st, &argv[st->o.gets[g]], &e, &v);
            if (found && v.ptr >= st->arena.p && v.ptr < st->arena.p + st->arena.len) {
                sort_ref_t self = {(size_t)(v.ptr - st->arena.p), v.len}; /* GET #: the arena */
                sort_out_t *o = &st->out[st->nout++];
                o->null = 0;
                o->s = self;
            } else {
                sort_emit(st, found ? &v : NULL);
            }
        }
    }
}

/* The whole read side: read, sort, window, GET. Leaves the result in st->out (or an error
   flag). Source's shard thread; changes nothing in the keyspace. */
static void sort_run(dfm_ctx_t *ctx, sort_state_t *st, const dfm_str_t *argv) {
    long long start, end;
    if (sort_read(ctx, st, argv, &start, &end) < 0) return;
    if (!st->o.dontsort) {
        sort_load_keys(ctx, st, argv);
        sort_item_t *tmp = lst_api->alloc(sizeof(sort_item_t) * (st->nitems ? st->nitems : 1));
        sort_merge(st, st->items, tmp, st->nitems);
        lst_api->free(tmp);
    }
    if (st->score_err) return;
    sort_output(ctx, st, argv, start, end);
}

/* ---------------------------------------------------------------- results */

static void sort_state_free(sort_state_t *st) {
    if (!st) return;
    lst_api->free(st->o.gets);
    lst_api->free(st->arena.p);
    lst_api->free(st->items);
    lst_api->free(st->out);
    lst_api->free(st->keybuf);
    lst_api->free(st);
}

/* Phase 1 on the destination's shard: the result replaces the destination as a list (its
   TTL goes, blocked clients may be served), or an empty result deletes it. */
static void sort_store(dfm_ctx_t *ctx, sort_state_t *st, const dfm_str_t *argv) {
    const dfm_str_t *dst = &argv[st->o.store_at];
    if (st->nout == 0) {
        dfm_key_t *k = lst_api->lookup(ctx, dst, DFM_LOOKUP_WRITE);
        if (!k) return;
        lst_api->key_delete(ctx, k);
        lst_api->signal_modified(ctx, dst);
        lst_api->notify(ctx, "del", dst, 'g');
        return;
    }
    ql_t *l = ql_new();
    for (size_t i = 0; i < st->nout; i++) {
        dfm_str_t v = st->out[i].null ? (dfm_str_t){"", 0} : sort_str(st, st->out[i].s);
        ql_push(l, QL_TAIL, v.ptr, v.len);
    }
    lst_api->obj_set(ctx, dst, lst_type_id, l, DFM_EXPIRE_NONE);
    lst_api->signal_modified(ctx, dst);
    lst_api->notify(ctx, "sortstore", dst, 'l');
    lst_api->signal_key_ready(ctx, dst);
}

/* Reply what a run left in st: its error, the stored count, or the result array. */
static void sort_reply_state(dfm_ctx_t *ctx, const sort_state_t *st) {
    if (st->err) {
        lst_api->reply_error(ctx, st->err);
    } else if (st->wrongtype) {
        lst_api->reply_wrongtype(ctx);
    } else if (st->score_err) {
        lst_api->reply_error(ctx, SORT_ERR_SCORE);
    } else if (st->o.store_at) {
        lst_api->reply_int(ctx, (long long)st->nout);
    } else {
        lst_api->reply_array(ctx, (long)st->nout);
        for (size_t i = 0; i < st->nout; i++) {
            if (st->out[i].null) {
                lst_api->reply_null(ctx);
            } else {
                dfm_str_t v = sort_str(st, st->out[i].s);
                lst_api->reply_bulk(ctx, v.ptr, v.len);
            }
        }
    }
}

/* A new state with the options of this call parsed (st->err set on a bad option). */
static sort_state_t *sort_state_new(int argc, const dfm_str_t *argv, int readonly) {
    sort_state_t *st = lst_api->alloc(sizeof(*st));
    memset(st, 0, sizeof(*st));
    st->err = sort_parse(&st->o, argc, argv, readonly);
    return st;
}

/* SORT's phases: 0 reads and sorts on the source's shard, 1 stores on the destination's. */
static int sort_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                      const int *keys, int nkeys) {
    sort_state_t *st = *state;
    if (!st) {
        *state = st = sort_state_new(argc, argv, 0);
        if (st->err) return -1;
    }
    for (int i = 0; i < nkeys; i++) {
        if (phase == 0 && keys[i] == 1) {
            sort_run(ctx, st, argv);
            if (st->wrongtype || st->score_err || !st->o.store_at) return -1;
        } else if (phase == 1 && keys[i] == st->o.store_at) {
            sort_store(ctx, st, argv);
        }
    }
    return 0;
}

/* Client's thread: reply and free the state. */
static void sort_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    sort_state_t *st = *state;
    if (st)
        sort_reply_state(ctx, st);
    else
        lst_api->reply_array(ctx, 0);
    sort_state_free(st);
    *state = NULL;
}

const dfm_multi_t lst_sort_multi = {2, sort_phase, sort_reply};

/* SORT_RO: the same read side, in one shard, replied at once. */
void lst_cmd_sort_ro(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    sort_state_t *st = sort_state_new(argc, argv, 1);
    if (!st->err) sort_run(ctx, st, argv);
    sort_reply_state(ctx, st);
    sort_state_free(st);
}

int lst_sort_register(dfm_module_t *self) {
    if (lst_api->set_command_keys(self, "sort", sort_keys) < 0) return -1;
    return lst_api->set_command_keys(self, "sort_ro", sort_ro_keys);
}
