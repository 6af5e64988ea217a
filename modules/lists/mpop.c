/*
 * mpop.c: LMPOP and BLMPOP (Redis 7.0): pop up to COUNT elements from the first non-empty
 * list among numkeys keys, which may live in several shards. Like BLPOP (block.c), two
 * phases: phase 0 on every shard notes the first non-empty list and the first key of another
 * type (in argument order), phase 1 pops on the shard of the chosen key; the reply is
 * [key, [element, ...]], a null array, or (BLMPOP) the client parks on every key.
 */
#include "lists.h"

/* Where each command's arguments start. */
typedef struct mpop_kind {
    int numkeys_at; /* argv index of numkeys */
    int blocking;   /* the timeout is argv[1] */
} mpop_kind_t;

typedef struct mpop_args {
    const char *err; /* NULL, or the error to reply (static string) */
    int where;       /* QL_HEAD / QL_TAIL */
    long long count;
    int64_t timeout_ms;
} mpop_args_t;

typedef struct mpop_state {
    mpop_args_t a;
    int wrong;      /* smallest argv index of a key of another type, 0 = none */
    int ready;      /* smallest argv index of a non-empty list, 0 = none */
    size_t n;       /* elements popped into vals */
    dfm_str_t *vals; /* owned copies */
} mpop_state_t;

/* Parse in Redis's order: numkeys, the direction, COUNT, then (BLMPOP) the timeout. */
static void mpop_parse(const mpop_kind_t *kind, int argc, const dfm_str_t *argv, mpop_args_t *a) {
    long long numkeys;
    memset(a, 0, sizeof(*a));
    a->count = -1;
    if (lst_api->str_to_ll(argv[kind->numkeys_at].ptr, argv[kind->numkeys_at].len, &numkeys) < 0 ||
        numkeys < 1) {
        a->err = "ERR numkeys should be greater than 0";
        return;
    }
    if (numkeys >= argc - kind->numkeys_at - 1) { /* no room for the direction */
        a->err = "ERR syntax error";
        return;
    }
    int at = kind->numkeys_at + 1 + (int)numkeys;
    if (lst_api->arg_eq(&argv[at], "left")) a->where = QL_HEAD;
    else if (lst_api->arg_eq(&argv[at], "right")) a->where = QL_TAIL;
    else a->err = "ERR syntax error";
    for (int j = at + 1; j < argc && !a->err; j++) {
        if (a->count == -1 && lst_api->arg_eq(&argv[j], "count") && j + 1 < argc) {
            j++;
            if (lst_api->str_to_ll(argv[j].ptr, argv[j].len, &a->count) < 0 || a->count < 1)
                a->err = "ERR count should be greater than 0";
        } else {
            a->err = "ERR syntax error";
        }
    }
    if (a->count == -1) a->count = 1;
    if (!a->err && kind->blocking) a->err = lst_parse_timeout(&argv[1], &a->timeout_ms);
}

/* Reply [key, [elements]] from `n` values. */
static void reply_key_vals(dfm_ctx_t *ctx, const dfm_str_t *key, const dfm_str_t *vals, size_t n) {
    lst_api->reply_array(ctx, 2);
    lst_api->reply_bulk(ctx, key->ptr, key->len);
    lst_api->reply_array(ctx, (long)n);
    for (size_t i = 0; i < n; i++) lst_api->reply_bulk(ctx, vals[i].ptr, vals[i].len);
}

/* Pop up to count elements of key's list into fresh copies; *n gets how many. */
static dfm_str_t *mpop_take(dfm_ctx_t *ctx, const dfm_str_t *key, dfm_key_t *k, ql_t *l,
                            const mpop_args_t *a, size_t *n) {
    size_t want = (unsigned long long)a->count < l->count ? (size_t)a->count : l->count;
    dfm_str_t *vals = lst_api->alloc(sizeof(*vals) * (want ? want : 1));
    for (*n = 0; *n < want && lst_pop_copy(l, a->where, &vals[*n]); (*n)++) {
    }
    lst_changed(ctx, key, k, l, a->where == QL_HEAD ? "lpop" : "rpop");
    return vals;
}

static void free_vals(dfm_str_t *vals, size_t n) {
    for (size_t i = 0; i < n; i++) lst_api->free((void *)(uintptr_t)vals[i].ptr);
    lst_api->free(vals);
}

static int mpop_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                      const int *keys, int nkeys, const mpop_kind_t *kind) {
    mpop_state_t *st = *state;
    if (st == NULL) {
        *state = st = lst_api->alloc(sizeof(*st));
        memset(st, 0, sizeof(*st));
        mpop_parse(kind, argc, argv, &st->a);
        if (st->a.err) return -1;
    }
    if (phase == 0) {
        for (int i = 0; i < nkeys; i++) {
            ql_t *l;
            int idx = keys[i], found = lst_find(ctx, &argv[idx], DFM_LOOKUP_WRITE, NULL, &l);
            if (found < 0 && (st->wrong == 0 || idx < st->wrong)) st->wrong = idx;
            if (found > 0 && l->count > 0 && (st->ready == 0 || idx < st->ready)) st->ready = idx;
        }
        return 0;
    }
    if (st->ready == 0 || (st->wrong && st->wrong < st->ready)) return -1;
    for (int i = 0; i < nkeys && !st->vals; i++) {
        dfm_key_t *k;
        ql_t *l;
        if (keys[i] != st->ready || lst_find(ctx, &argv[keys[i]], DFM_LOOKUP_WRITE, &k, &l) <= 0)
            continue;
        st->vals = mpop_take(ctx, &argv[keys[i]], k, l, &st->a, &st->n);
    }
    return 0;
}

/* A push to one of a parked BLMPOP's keys: serve it from that key. Key's shard thread. */
static int blmpop_ready(dfm_ctx_t *ctx, const dfm_str_t *key, int argc, const dfm_str_t *argv) {
    static const mpop_kind_t kind = {2, 1};
    mpop_args_t a;
    dfm_key_t *k;
    ql_t *l;
    mpop_parse(&kind, argc, argv, &a);
    if (a.err || lst_find(ctx, key, DFM_LOOKUP_WRITE, &k, &l) <= 0 || l->count == 0) return 0;
    size_t n;
    dfm_str_t *vals = mpop_take(ctx, key, k, l, &a, &n);
    reply_key_vals(ctx, key, vals, n);
    free_vals(vals, n);
    return 1;
}

/* Park the client on every key (the core replies a null array on timeout). */
static void mpop_block(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, const mpop_kind_t *kind,
                       int64_t timeout_ms) {
    long long numkeys;
    lst_api->str_to_ll(argv[kind->numkeys_at].ptr, argv[kind->numkeys_at].len, &numkeys);
    int *keys = lst_api->alloc(sizeof(int) * (size_t)numkeys);
    for (int i = 0; i < (int)numkeys; i++) keys[i] = kind->numkeys_at + 1 + i;
    lst_api->block_on_keys(ctx, keys, (int)numkeys, timeout_ms, blmpop_ready);
    lst_api->free(keys);
}

/* Client's thread: the error, the popped elements, a null array, or park; frees the state. */
static void mpop_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv,
                       const mpop_kind_t *kind) {
    mpop_state_t *st = *state;
    mpop_args_t a;
    if (st == NULL) { /* no phase ran: the keys could not be found (a bad numkeys) */
        mpop_parse(kind, argc, argv, &a);
        if (a.err) lst_api->reply_error(ctx, a.err);
        else lst_api->reply_null_array(ctx);
        return;
    }
    if (st->a.err)
        lst_api->reply_error(ctx, st->a.err);
    else if (st->wrong && (st->ready == 0 || st->wrong < st->ready))
        lst_api->reply_wrongtype(ctx);
    else if (st->vals)
        reply_key_vals(ctx, &argv[st->ready], st->vals, st->n);
    else if (kind->blocking)
        mpop_block(ctx, argc, argv, kind, st->a.timeout_ms);
    else
        lst_api->reply_null_array(ctx);
    if (st->vals) free_vals(st->vals, st->n);
    lst_api->free(st);
    *state = NULL;
}

#define MPOP_COMMAND(NAME, NUMKEYS_AT, BLOCKING)                                               \
    static const mpop_kind_t NAME##_kind = {NUMKEYS_AT, BLOCKING};                             \
    static int NAME##_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,                 \
                            const dfm_str_t *argv, const int *keys, int nkeys) {               \
        return mpop_phase(ctx, phase, state, argc, argv, keys, nkeys, &NAME##_kind);           \
    }                                                                                          \
    static void NAME##_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {  \
        mpop_reply(ctx, state, argc, argv, &NAME##_kind);                                      \
    }                                                                                          \
    const dfm_multi_t lst_##NAME##_multi = {.nphases = 2, .phase = NAME##_phase,              \
                                            .reply = NAME##_reply};

MPOP_COMMAND(lmpop, 1, 0)  /* LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count] */
MPOP_COMMAND(blmpop, 2, 1) /* BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count] */
