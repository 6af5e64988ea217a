/*
 * push.c: adding elements: LPUSH, RPUSH, LPUSHX, RPUSHX and LINSERT. Every push wakes clients
 * blocked on the key (the core serves them after the handler returns).
 */
#include "lists.h"

/*
 * The body of the four push commands: push argv[2..] at `where`, creating the list unless
 * `only_existing` (the X variants, which answer 0 for a missing key). Replies the new length.
 */
static void push_generic(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int where,
                         int only_existing) {
    ql_t *l;
    int found = lst_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, NULL, &l);
    if (found < 0) return;
    if (!found) {
        if (only_existing) {
            lst_api->reply_int(ctx, 0);
            return;
        }
        l = ql_new();
        lst_api->obj_set(ctx, &argv[1], lst_type_id, l, DFM_EXPIRE_NONE);
    }
    for (int i = 2; i < argc; i++) ql_push(l, where, argv[i].ptr, argv[i].len);
    lst_api->reply_int(ctx, (long long)l->count);
    lst_pushed(ctx, &argv[1], where == QL_HEAD ? "lpush" : "rpush");
}

/* LPUSH key element [element ...] */
void lst_cmd_lpush(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    push_generic(ctx, argc, argv, QL_HEAD, 0);
}

/* RPUSH key element [element ...] */
void lst_cmd_rpush(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    push_generic(ctx, argc, argv, QL_TAIL, 0);
}

/* LPUSHX key element [element ...] */
void lst_cmd_lpushx(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    push_generic(ctx, argc, argv, QL_HEAD, 1);
}

/* RPUSHX key element [element ...] */
void lst_cmd_rpushx(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    push_generic(ctx, argc, argv, QL_TAIL, 1);
}

/* Find the first element equal to v from the head; 0 if none. */
static int find_elem(ql_t *l, const dfm_str_t *v, ql_iter_t *it) {
    dfm_str_t e;
    for (ql_seek(l, 0, it); ql_iter_get(it, &e); ql_iter_next(it))
        if (lst_str_eq(&e, v)) return 1;
    return 0;
}

/*
 * LINSERT key BEFORE|AFTER pivot element: the new length, -1 when the pivot is not there,
 * 0 when the key is missing.
 */
void lst_cmd_linsert(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    int after;
    if (lst_api->arg_eq(&argv[2], "after")) after = 1;
    else if (lst_api->arg_eq(&argv[2], "before")) after = 0;
    else {
        lst_api->reply_syntax_error(ctx);
        return;
    }
    ql_t *l;
    int found = lst_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, NULL, &l);
    if (found <= 0) {
        if (found == 0) lst_api->reply_int(ctx, 0);
        return;
    }
    ql_iter_t it;
    if (!find_elem(l, &argv[3], &it)) {
        lst_api->reply_int(ctx, -1);
        return;
    }
    ql_iter_insert(&it, after, argv[4].ptr, argv[4].len);
    lst_api->reply_int(ctx, (long long)l->count);
    lst_api->signal_modified(ctx, &argv[1]);
    lst_api->notify(ctx, "linsert", &argv[1], 'l');
}
