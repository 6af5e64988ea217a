/*
 * mpop.c: ZMPOP and BZMPOP (Redis 7.0): pop up to COUNT members with the lowest (MIN) or
 * highest (MAX) scores from the first non-empty sorted set among numkeys keys, which may live
 * in several shards. Like BZPOPMIN (pop.c), two phases:
 *
 *   phase 0, on every shard with some of the keys: parse (first call), note the smallest argv
 *            index of a non-empty zset and of a key of another type (Redis looks at the keys
 *            in order and stops at the first one that exists);
 *   phase 1, on the shard of the chosen key: pop the members into the state;
 *   reply,   on the client's thread: the error, [key, [[member, score], ...]], a null array,
 *            or (BZMPOP) park the client on every key; a later ZADD makes the core call
 *            bzmpop_ready on the key's shard, which serves from that key.
 */
#include "zsets.h"

/* Where a command's arguments are. */
typedef struct zmpop_kind {
    int numkeys_at; /* argv index of numkeys */
    int blocking;   /* BZMPOP: the timeout is argv[1] */
} zmpop_kind_t;

typedef struct zmpop_args {
    const char *err; /* NULL, or the error to reply (static string) */
    int max;         /* MAX: pop the highest scores */
    long long count; /* members to pop at most, >= 1 */
    int64_t timeout_ms;
} zmpop_args_t;

typedef struct zmpop_state {
    zmpop_args_t a;
    int wrong;         /* smallest argv index of a key of another type, 0 = none */
    int ready;         /* smallest argv index of a non-empty zset, 0 = none */
    size_t n;          /* members popped into vals */
    zs_popped_t *vals; /* owned copies, NULL until phase 1 popped */
} zmpop_state_t;

/* Parse COUNT's value (Redis: an integer from 1 up, else one error). */
static const char *parse_count(const dfm_str_t *a, long long *count) {
    if (zs_api->str_to_ll(a->ptr, a->len, count) < 0 || *count < 1)
        return "ERR count should be greater than 0";
    return NULL;
}

/* The words after the keys: MIN|MAX, then at most one COUNT count. NULL or the error. */
static const char *parse_tail(int argc, const dfm_str_t *argv, int at, zmpop_args_t *a) {
    if (zs_api->arg_eq(&argv[at], "min"))
        a->max = 0;
    else if (zs_api->arg_eq(&argv[at], "max"))
        a->max = 1;
    else
        return "ERR syntax error";
    for (int j = at + 1; j < argc; j++) {
        if (a->count != -1 || !zs_api->arg_eq(&argv[j], "count") || j + 1 >= argc)
            return "ERR syntax error";
        const char *err = parse_count(&argv[++j], &a->count);
        if (err) return err;
    }
    return NULL;
}

/* Parse in Redis's order: numkeys, the direction, COUNT, then (BZMPOP) the timeout. */
static void zmpop_parse(const zmpop_kind_t *kind, int argc, const dfm_str_t *argv,
                        zmpop_args_t *a) {
    long long numkeys;
    const dfm_str_t *nk = &argv[kind->numkeys_at];
    memset(a, 0, sizeof(*a));
    a->count = -1;
    if (zs_api->str_to_ll(nk->ptr, nk->len, &numkeys) < 0 || numkeys < 1) {
        a->err = "ERR numkeys should be greater than 0";
        return;
    }
    if (numkeys >= argc - kind->numkeys_at - 1) { /* no room for MIN|MAX */
        a->err = "ERR syntax error";
        return;
    }
    a->err = parse_tail(argc, argv, kind->numkeys_at + 1 + (int)numkeys, a);
    if (a->count == -1) a->count = 1;
    if (!a->err && kind->blocking) a->err = zs_parse_timeout(&argv[1], &a->timeout_ms);
}

/* Reply [key, [[member, score], ...]] (scores are doubles in RESP3). */
static void reply_key_vals(dfm_ctx_t *ctx, const dfm_str_t *key, const zs_popped_t *vals,
                           size_t n) {
    zs_api->reply_array(ctx, 2);
    zs_api->reply_bulk(ctx, key->ptr, key->len);
    zs_api->reply_array(ctx, (long)n);
    for (size_t i = 0; i < n; i++) {
        zs_api->reply_array(ctx, 2);
        zs_api->reply_bulk(ctx, vals[i].member, vals[i].len);
        zs_api->reply_double(ctx, vals[i].score);
    }
}

/* Pop min(count, size) members of the non-empty z at key into fresh copies; *n gets how
   many. Announces the change (and deletes the key when it empties). Key's shard thread. */
static zs_popped_t *zmpop_take(dfm_ctx_t *ctx, const dfm_str_t *key, dfm_key_t *k, zset_t *z,
                               const zmpop_args_t *a, size_t *n) {
    size_t want = (unsigned long long)a->count < z->length ? (size_t)a->count : z->length;
    zs_popped_t *vals = zs_api->alloc(sizeof(*vals) * (want ? want : 1));
    for (*n = 0; *n < want; (*n)++) zs_pop_one(z, a->max, &vals[*n]);
    zs_changed(ctx, key, k, z, a->max ? "zpopmax" : "zpopmin");
    return vals;
}

static void free_vals(zs_popped_t *vals, size_t n) {
    for (size_t i = 0; i < n; i++) zs_api->free(vals[i].member);
    zs_api->free(vals);
}

/* Phase 1: pop from argv[st->ready] if this shard holds it. */
static void zmpop_pop(dfm_ctx_t *ctx, zmpop_state_t *st, const dfm_str_t *argv,
                      const int *keys, int nkeys) {
    for (int i = 0; i < nkeys && !st->vals; i++) {
        dfm_key_t *k;
        zset_t *z;
        if (keys[i] != st->ready ||
            zs_find_key(ctx, &argv[keys[i]], DFM_LOOKUP_WRITE, &k, &z) <= 0 || z->length == 0)
            continue;
        st->vals = zmpop_take(ctx, &argv[keys[i]], k, z, &st->a, &st->n);
    }
}

static int mpop_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                       const int *keys, int nkeys, const zmpop_kind_t *kind) {
    zmpop_state_t *st = *state;
    if (st == NULL) {
        *state = st = zs_api->alloc(sizeof(*st));
        memset(st, 0, sizeof(*st));
        zmpop_parse(kind, argc, argv, &st->a);
    }
    if (st->a.err) return -1;
    if (phase == 0) {
        zs_scan_first(ctx, argv, keys, nkeys, &st->wrong, &st->ready);
        return 0;
    }
    if (st->ready == 0 || (st->wrong && st->wrong < st->ready)) return -1;
    zmpop_pop(ctx, st, argv, keys, nkeys);
    return 0;
}

/* A write to one of a parked BZMPOP's keys: serve it from that key. Key's shard thread;
   1 = served (replied), 0 = keep waiting. */
static int bzmpop_ready(dfm_ctx_t *ctx, const dfm_str_t *key, int argc, const dfm_str_t *argv) {
    static const zmpop_kind_t kind = {2, 1};
    zmpop_args_t a;
    dfm_key_t *k;
    zset_t *z;
    zmpop_parse(&kind, argc, argv, &a);
    if (a.err || zs_find_key(ctx, key, DFM_LOOKUP_WRITE, &k, &z) <= 0 || z->length == 0)
        return 0;
    size_t n;
    zs_popped_t *vals = zmpop_take(ctx, key, k, z, &a, &n);
    reply_key_vals(ctx, key, vals, n);
    free_vals(vals, n);
    return 1;
}

/* Park the client on every key (the core replies a null array on timeout, and at once inside
   MULTI). The arguments were parsed, so numkeys is a valid count. */
static void zmpop_block(dfm_ctx_t *ctx, const dfm_str_t *argv, const zmpop_kind_t *kind,
                        int64_t timeout_ms) {
    long long numkeys;
    zs_api->str_to_ll(argv[kind->numkeys_at].ptr, argv[kind->numkeys_at].len, &numkeys);
    int *keys = zs_api->alloc(sizeof(int) * (size_t)numkeys);
    for (int i = 0; i < (int)numkeys; i++) keys[i] = kind->numkeys_at + 1 + i;
    zs_api->block_on_keys(ctx, keys, (int)numkeys, timeout_ms, bzmpop_ready);
    zs_api->free(keys);
}

/* Client's thread: the error, the popped members, a null array, or park; frees the state. */
static void mpop_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv,
                        const zmpop_kind_t *kind) {
    zmpop_state_t *st = *state;
    if (st == NULL) { /* no phase ran: the core found no keys (a bad numkeys) */
        zmpop_args_t a;
        zmpop_parse(kind, argc, argv, &a);
        if (a.err)
            zs_api->reply_error(ctx, a.err);
        else
            zs_api->reply_null_array(ctx);
        return;
    }
    if (st->a.err)
        zs_api->reply_error(ctx, st->a.err);
    else if (st->wrong && (st->ready == 0 || st->wrong < st->ready))
        zs_api->reply_wrongtype(ctx);
    else if (st->vals)
        reply_key_vals(ctx, &argv[st->ready], st->vals, st->n);
    else if (kind->blocking)
        zmpop_block(ctx, argv, kind, st->a.timeout_ms);
    else
        zs_api->reply_null_array(ctx);
    if (st->vals) free_vals(st->vals, st->n);
    zs_api->free(st);
    *state = NULL;
}

#define ZMPOP_COMMAND(NAME, NUMKEYS_AT, BLOCKING)                                              \
    static const zmpop_kind_t NAME##_kind = {NUMKEYS_AT, BLOCKING};                            \
    static int NAME##_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,                 \
                            const dfm_str_t *argv, const int *keys, int nkeys) {               \
        return mpop_phase(ctx, phase, state, argc, argv, keys, nkeys, &NAME##_kind);          \
    }                                                                                          \
    static void NAME##_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {  \
        mpop_reply(ctx, state, argc, argv, &NAME##_kind);                                     \
    }                                                                                          \
    const dfm_multi_t zs_##NAME##_multi = {.nphases = 2, .phase = NAME##_phase,               \
                                           .reply = NAME##_reply};

ZMPOP_COMMAND(zmpop, 1, 0)  /* ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] */
ZMPOP_COMMAND(bzmpop, 2, 1) /* BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] */
