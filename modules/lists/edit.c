/*
 * edit.c: changing a list in place: LSET, LTRIM and LREM. A list left empty is deleted.
 */
#include <limits.h>

#include "lists.h"

/* LSET key index element: OK, "ERR no such key" or "ERR index out of range". */
void lst_cmd_lset(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    ql_t *l;
    int found = lst_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, NULL, &l);
    if (found <= 0) {
        if (found == 0) lst_api->reply_error(ctx, "ERR no such key");
        return;
    }
    long long index;
    if (lst_api->arg_ll(ctx, &argv[2], &index) < 0) return;
    index = lst_index(index, l->count);
    if (index < 0) {
        lst_api->reply_error(ctx, "ERR index out of range");
        return;
    }
    ql_iter_t it;
    ql_seek(l, (size_t)index, &it);
    ql_iter_replace(&it, argv[3].ptr, argv[3].len);
    lst_api->reply_ok(ctx);
    lst_api->signal_modified(ctx, &argv[1]);
    lst_api->notify(ctx, "lset", &argv[1], 'l');
}

/* LTRIM key start stop: keep only [start, stop]; an empty range deletes the key. */
void lst_cmd_ltrim(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    long long start, stop;
    if (lst_api->arg_ll(ctx, &argv[2], &start) < 0) return;
    if (lst_api->arg_ll(ctx, &argv[3], &stop) < 0) return;
    dfm_key_t *k;
    ql_t *l;
    int found = lst_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, &k, &l);
    if (found <= 0) {
        if (found == 0) lst_api->reply_ok(ctx);
        return;
    }
    long long n = (long long)l->count, ltrim, rtrim;
    if (start < 0) start += n;
    if (stop < 0) stop += n;
    if (start < 0) start = 0;
    if (start > stop || start >= n) {
        ltrim = n;
        rtrim = 0;
    } else {
        if (stop >= n) stop = n - 1;
        ltrim = start;
        rtrim = n - stop - 1;
    }
    ql_pop(l, QL_HEAD, (size_t)ltrim);
    ql_pop(l, QL_TAIL, (size_t)rtrim);
    lst_changed(ctx, &argv[1], k, l, "ltrim");
    lst_api->reply_ok(ctx);
}

/*
 * Remove up to `max` (0: all) elements equal to v, scanning from the head (forward) or the
 * tail. Returns how many were removed.
 */
static long long rem_matches(ql_t *l, const dfm_str_t *v, long long max, int forward) {
    ql_iter_t it;
    dfm_str_t e;
    long long removed = 0;
    ql_seek(l, forward ? 0 : l->count - 1, &it);
    while (ql_iter_get(&it, &e) && (max == 0 || removed < max)) {
        if (lst_str_eq(&e, v)) {
            ql_iter_delete(&it, forward);
            removed++;
        } else if (forward) {
            ql_iter_next(&it);
        } else {
            ql_iter_prev(&it);
        }
    }
    return removed;
}

/* LREM key count element: count > 0 from the head, < 0 from the tail, 0 all. */
void lst_cmd_lrem(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    long long count;
    if (lst_api->arg_ll(ctx, &argv[2], &count) < 0) return;
    dfm_key_t *k;
    ql_t *l;
    int found = lst_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, &k, &l);
    if (found <= 0) {
        if (found == 0) lst_api->reply_int(ctx, 0);
        return;
    }
    /* how many to remove; LLONG_MIN cannot be negated, and no list is that long anyway */
    long long max = count == LLONG_MIN ? LLONG_MAX : count < 0 ? -count : count;
    long long removed = rem_matches(l, &argv[3], max, count >= 0);
    lst_api->reply_int(ctx, removed);
    if (removed) lst_changed(ctx, &argv[1], k, l, "lrem");
}
