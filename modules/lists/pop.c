/*
 * pop.c: LPOP and RPOP, with Redis 6.2's optional count. A list emptied by a pop is deleted.
 */
#include "lists.h"

/*
 * Parse POP's count: a non-negative integer, else "ERR value is out of range, must be
 * positive" (Redis uses that one message for both bad syntax and a negative number).
 */
static int parse_count(dfm_ctx_t *ctx, const dfm_str_t *a, long long *out) {
    if (lst_api->str_to_ll(a->ptr, a->len, out) == 0 && *out >= 0) return 0;
    lst_api->reply_error(ctx, "ERR value is out of range, must be positive");
    return -1;
}

/* Reply the first n elements from `where` (in pop order) as an array, then remove them. */
static void reply_popped(dfm_ctx_t *ctx, ql_t *l, int where, size_t n) {
    ql_iter_t it;
    dfm_str_t v;
    lst_api->reply_array(ctx, (long)n);
    ql_seek(l, where == QL_HEAD ? 0 : l->count - 1, &it);
    for (size_t i = 0; i < n && ql_iter_get(&it, &v); i++) {
        lst_api->reply_bulk(ctx, v.ptr, v.len);
        if (where == QL_HEAD) ql_iter_next(&it);
        else ql_iter_prev(&it);
    }
    ql_pop(l, where, n);
}

/*
 * LPOP/RPOP key [count]: without count, the element or null; with count, an array of up to
 * count elements, or a null array for a missing key.
 */
static void pop_generic(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int where) {
    long long count = 1;
    if (argc > 3) {
        lst_api->reply_errorf(ctx, "ERR wrong number of arguments for '%s' command",
                              where == QL_HEAD ? "lpop" : "rpop");
        return;
    }
    if (argc == 3 && parse_count(ctx, &argv[2], &count) < 0) return;
    dfm_key_t *k;
    ql_t *l;
    int found = lst_lookup(ctx, &argv[1], DFM_LOOKUP_READ | DFM_LOOKUP_WRITE, &k, &l);
    if (found < 0) return;
    if (!found) {
        if (argc == 3) lst_api->reply_null_array(ctx);
        else lst_api->reply_null(ctx);
        return;
    }
    if (argc == 3 && count == 0) {
        lst_api->reply_array(ctx, 0);
        return;
    }
    if (argc == 3) {
        reply_popped(ctx, l, where, (size_t)count < l->count ? (size_t)count : l->count);
    } else {
        dfm_str_t v;
        ql_peek(l, where, &v);
        lst_api->reply_bulk(ctx, v.ptr, v.len);
        ql_pop(l, where, 1);
    }
    lst_changed(ctx, &argv[1], k, l, where == QL_HEAD ? "lpop" : "rpop");
}

/* LPOP key [count] */
void lst_cmd_lpop(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    pop_generic(ctx, argc, argv, QL_HEAD);
}

/* RPOP key [count] */
void lst_cmd_rpop(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    pop_generic(ctx, argc, argv, QL_TAIL);
}
