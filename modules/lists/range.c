/*
 * range.c: the reading commands: LLEN, LRANGE, LINDEX and LPOS. Indexes follow Redis: negative
 * ones count from the tail, ranges are clamped to the list.
 */
#include <limits.h>

#include "lists.h"

/* LLEN key: 0 for a missing key. */
void lst_cmd_llen(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    ql_t *l;
    int found = lst_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &l);
    if (found < 0) return;
    lst_api->reply_int(ctx, found ? (long long)l->count : 0);
}

/*
 * Turn Redis's [start, stop] (negative from the tail, inclusive) into a clamped range of
 * `len` elements. Returns the number of elements, 0 for an empty range (then *first is 0).
 */
static size_t clamp_range(long long start, long long stop, size_t len, size_t *first) {
    long long n = (long long)len;
    if (start < 0) start += n;
    if (stop < 0) stop += n;
    if (start < 0) start = 0;
    *first = 0;
    if (start > stop || start >= n) return 0;
    if (stop >= n) stop = n - 1;
    *first = (size_t)start;
    return (size_t)(stop - start + 1);
}

/* LRANGE key start stop */
void lst_cmd_lrange(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    long long start, stop;
    if (lst_api->arg_ll(ctx, &argv[2], &start) < 0) return;
    if (lst_api->arg_ll(ctx, &argv[3], &stop) < 0) return;
    ql_t *l;
    int found = lst_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &l);
    if (found < 0) return;
    size_t first, n = found ? clamp_range(start, stop, l->count, &first) : 0;
    lst_api->reply_array(ctx, (long)n);
    ql_iter_t it;
    dfm_str_t v;
    if (n == 0) return;
    ql_seek(l, first, &it);
    for (size_t i = 0; i < n && ql_iter_get(&it, &v); i++, ql_iter_next(&it))
        lst_api->reply_bulk(ctx, v.ptr, v.len);
}

/* See lists.h. */
long long lst_index(long long index, size_t len) {
    if (index < 0) index += (long long)len;
    return index < 0 || index >= (long long)len ? -1 : index;
}

/* LINDEX key index: the element or null. */
void lst_cmd_lindex(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    ql_t *l;
    int found = lst_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &l);
    if (found <= 0) {
        if (found == 0) lst_api->reply_null(ctx);
        return;
    }
    long long index;
    if (lst_api->arg_ll(ctx, &argv[2], &index) < 0) return;
    index = lst_index(index, l->count);
    ql_iter_t it;
    dfm_str_t v;
    if (index < 0) {
        lst_api->reply_null(ctx);
        return;
    }
    ql_seek(l, (size_t)index, &it);
    ql_iter_get(&it, &v);
    lst_api->reply_bulk(ctx, v.ptr, v.len);
}

/* LPOS options; count -1 means "no COUNT given" (a single index or null is replied). */
typedef struct lpos_opts {
    long long rank, count, maxlen;
} lpos_opts_t;

/* Parse one non-negative option value or reply `msg`. */
static int lpos_nonneg(dfm_ctx_t *ctx, const dfm_str_t *a, const char *msg, long long *out) {
    if (lst_api->str_to_ll(a->ptr, a->len, out) == 0 && *out >= 0) return 0;
    lst_api->reply_error(ctx, msg);
    return -1;
}

/* Parse LPOS's [RANK r] [COUNT n] [MAXLEN m]; replies the error and returns -1 on failure. */
static int lpos_parse(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, lpos_opts_t *o) {
    *o = (lpos_opts_t){.rank = 1, .count = -1, .maxlen = 0};
    for (int j = 3; j < argc; j++) {
        int more = j + 1 < argc;
        if (more && lst_api->arg_eq(&argv[j], "rank")) {
            if (lst_api->arg_ll(ctx, &argv[++j], &o->rank) < 0) return -1;
            if (o->rank == 0) {
                lst_api->reply_error(ctx, "ERR RANK can't be zero: use 1 to start from the "
                                          "first match, 2 from the second ... or use negative "
                                          "to start from the end of the list");
                return -1;
            }
        } else if (more && lst_api->arg_eq(&argv[j], "count")) {
            if (lpos_nonneg(ctx, &argv[++j], "ERR COUNT can't be negative", &o->count) < 0)
                return -1;
        } else if (more && lst_api->arg_eq(&argv[j], "maxlen")) {
            if (lpos_nonneg(ctx, &argv[++j], "ERR MAXLEN can't be negative", &o->maxlen) < 0)
                return -1;
        } else {
            lst_api->reply_syntax_error(ctx);
            return -1;
        }
    }
    if (o->rank == LLONG_MIN) {
        /* Redis negates the rank into itself (still negative): every match from the tail
           counts and its COUNT test (matches - rank + 1 >= count) never stops the scan. */
        o->rank = -1;
        if (o->count > 0) o->count = 0;
    }
    return 0;
}

/*
 * Scan l for `ele` as LPOS does and store matching indexes in out[] (capacity cap, which is
 * the most the reply can hold). Returns how many were stored.
 */
static size_t lpos_scan(ql_t *l, const dfm_str_t *ele, const lpos_opts_t *o, long long *out,
                        size_t cap) {
    int backward = o->rank < 0;
    long long rank = backward ? -o->rank : o->rank, matches = 0;
    size_t n = 0, scanned = 0;
    ql_iter_t it;
    dfm_str_t v;
    ql_seek(l, backward ? l->count - 1 : 0, &it);
    while (n < cap && ql_iter_get(&it, &v) && (o->maxlen == 0 || scanned < (size_t)o->maxlen)) {
        if (lst_str_eq(&v, ele) && ++matches >= rank)
            out[n++] = backward ? (long long)(l->count - 1 - scanned) : (long long)scanned;
        scanned++;
        if (backward) ql_iter_prev(&it);
        else ql_iter_next(&it);
    }
    return n;
}

/* LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] */
void lst_cmd_lpos(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    lpos_opts_t o;
    if (lpos_parse(ctx, argc, argv, &o) < 0) return;
    ql_t *l;
    int found = lst_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &l);
    if (found < 0) return;
    size_t cap = o.count == -1 ? 1 : o.count == 0 ? (found ? l->count : 0) : (size_t)o.count;
    if (!found) cap = 1; /* nothing to find: never size a buffer by the client's COUNT */
    else if (cap > l->count) cap = l->count;
    long long one, *idx = cap <= 1 ? &one : lst_api->alloc(cap * sizeof(*idx));
    size_t n = found ? lpos_scan(l, &argv[2], &o, idx, cap) : 0;
    if (o.count == -1) {
        if (n) lst_api->reply_int(ctx, idx[0]);
        else lst_api->reply_null(ctx);
    } else {
        lst_api->reply_array(ctx, (long)n);
        for (size_t i = 0; i < n; i++) lst_api->reply_int(ctx, idx[i]);
    }
    if (idx != &one) lst_api->free(idx);
}
