/*
 * store.c: the set algebra commands, ZUNION / ZINTER / ZDIFF (keys: numkeys at argv[1]), their
 * *STORE forms (destination at argv[1], numkeys at argv[2]) and ZINTERCARD (numkeys at
 * argv[1], [LIMIT limit]: the size of the intersection, counted up to limit). Their keys may
 * live in several shards, so they are dfm_multi_t commands:
 *
 *   phase 0, on every shard with source keys: parse the options (first call), note a key of
 *            the wrong type, and copy each source set into the state;
 *   phase 1 (*STORE only), on the shard of the destination: compute the result once and
 *            store it there (or delete the destination when the result is empty);
 *   reply,   on the client's thread: the error, the count stored or counted, or the computed
 *            members.
 *
 * Errors come in Redis's order: numkeys, then a wrong-type source, then the options. When
 * numkeys is not a valid count the core finds no keys and runs no phase; reply() then parses
 * numkeys itself to produce the error. Sources of type "set" (plain sets) are read through
 * the sets module's exported API (sets_api.h), every member scored 1, as in Redis; without
 * that module they count as WRONGTYPE.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "zsets.h"
#include "../sets/sets_api.h"

enum { OP_UNION, OP_INTER, OP_DIFF };
enum { AGG_SUM, AGG_MIN, AGG_MAX };

typedef struct store_state {
    int op, store, card, numkeys_idx;
    long long nsrc;
    zset_t **src;     /* deep copies, NULL for missing keys */
    double *weights;
    int aggregate, withscores;
    long long limit;  /* ZINTERCARD: stop counting there (0: no limit) */
    int wrong;        /* a source holds another type */
    const char *err;  /* option error (static string), or NULL */
    zset_t *result;   /* computed at most once */
    long long stored; /* *STORE: size of the stored result */
} store_state_t;

/* A strict float as Redis's getDoubleFromObject: whole string, no leading space, no NaN. */
static int strict_double(const dfm_str_t *a, double *out) {
    char buf[128];
    if (a->len == 0 || a->len >= sizeof buf || memchr(a->ptr, '\0', a->len)) return -1;
    memcpy(buf, a->ptr, a->len);
    buf[a->len] = '\0';
    if (buf[0] == ' ' || (buf[0] >= '\t' && buf[0] <= '\r')) return -1;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end || isnan(v) || (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || v == 0)))
        return -1;
    *out = v;
    return 0;
}

/* Parse ZINTERCARD's LIMIT value at a (a non-negative integer; 0: no limit). */
static const char *parse_limit(const dfm_str_t *a, long long *limit) {
    if (zs_api->str_to_ll(a->ptr, a->len, limit) < 0 || *limit < 0)
        return "ERR LIMIT can't be negative";
    return NULL;
}

/* Parse WEIGHTS / AGGREGATE / WITHSCORES (ZINTERCARD: LIMIT) after the sources; NULL or the
   error to reply. */
static const char *parse_options(store_state_t *st, int argc, const dfm_str_t *argv) {
    int j = st->numkeys_idx + 1 + (int)st->nsrc;
    int algebra = st->op != OP_DIFF && !st->card; /* WEIGHTS and AGGREGATE apply */
    while (j < argc) {
        int remaining = argc - j;
        if (algebra && remaining >= st->nsrc + 1 && zs_api->arg_eq(&argv[j], "weights")) {
            for (long long i = 0; i < st->nsrc; i++)
                if (strict_double(&argv[++j], &st->weights[i]) < 0)
                    return "ERR weight value is not a float";
            j++;
        } else if (algebra && remaining >= 2 && zs_api->arg_eq(&argv[j], "aggregate")) {
            const dfm_str_t *a = &argv[j + 1];
            if (zs_api->arg_eq(a, "sum"))
                st->aggregate = AGG_SUM;
            else if (zs_api->arg_eq(a, "min"))
                st->aggregate = AGG_MIN;
            else if (zs_api->arg_eq(a, "max"))
                st->aggregate = AGG_MAX;
            else
                return "ERR syntax error";
            j += 2;
        } else if (!st->store && !st->card && zs_api->arg_eq(&argv[j], "withscores")) {
            st->withscores = 1;
            j++;
        } else if (st->card && remaining >= 2 && zs_api->arg_eq(&argv[j], "limit")) {
            const char *err = parse_limit(&argv[j + 1], &st->limit);
            if (err) return err;
            j += 2;
        } else {
            return "ERR syntax error";
        }
    }
    return NULL;
}

static store_state_t *state_new(int argc, const dfm_str_t *argv, int op, int store, int card) {
    store_state_t *st = zs_api->alloc(sizeof(*st));
    memset(st, 0, sizeof(*st));
    st->op = op;
    st->store = store;
    st->card = card;
    st->numkeys_idx = store ? 2 : 1;
    zs_api->str_to_ll(argv[st->numkeys_idx].ptr, argv[st->numkeys_idx].len, &st->nsrc);
    st->src = zs_api->alloc(sizeof(zset_t *) * (size_t)st->nsrc);
    st->weights = zs_api->alloc(sizeof(double) * (size_t)st->nsrc);
    for (long long i = 0; i < st->nsrc; i++) {
        st->src[i] = NULL;
        st->weights[i] = 1.0;
    }
    st->err = parse_options(st, argc, argv);
    return st;
}

static void state_free(store_state_t *st) {
    if (!st) return;
    for (long long i = 0; i < st->nsrc; i++) zs_free(st->src[i]);
    zs_free(st->result);
    zs_api->free(st->src);
    zs_api->free(st->weights);
    zs_api->free(st);
}

/* Add a plain set's member to the zset arg with score 1. */
static void add_set_member(void *arg, const dfm_str_t *m) { zs_insert(arg, 1.0, m->ptr, m->len); }

/*
 * The source at key as a zset copy in *out (NULL for a missing key; out NULL: only check the
 * type). Returns 0, or -1 when the key holds neither a zset nor a plain set.
 */
static int copy_source(dfm_ctx_t *ctx, const dfm_str_t *key, zset_t **out) {
    if (out) *out = NULL;
    dfm_key_t *k = zs_api->lookup(ctx, key, DFM_LOOKUP_READ);
    if (!k) return 0;
    int type = zs_api->key_type(k);
    if (type == zs_type_id) {
        if (out) *out = zs_copy(zs_api->obj_value(k));
        return 0;
    }
    const sets_api_t *sets = zs_api->import_api(zs_self, SETS_API_NAME);
    if (!sets || type != sets->type_id()) return -1;
    if (out) {
        *out = zs_new();
        sets->each(zs_api->obj_value(k), add_set_member, *out);
    }
    return 0;
}

/* Phase 0: copy this shard's sources (after an option error, only look for a wrong type). */
static void collect_sources(dfm_ctx_t *ctx, store_state_t *st, const dfm_str_t *argv,
                            const int *keys, int nkeys) {
    for (int i = 0; i < nkeys && !st->wrong; i++) {
        long long s = keys[i] - st->numkeys_idx - 1;
        if (s < 0 || s >= st->nsrc) continue; /* the destination */
        if (copy_source(ctx, &argv[keys[i]], st->err ? NULL : &st->src[s]) < 0) st->wrong = 1;
    }
}

/* ---------------------------------------------------------------- the algebra */

static void aggregate(int how, double *target, double v) {
    if (how == AGG_SUM) {
        *target += v;
        if (isnan(*target)) *target = 0.0;
    } else if (how == AGG_MIN) {
        *target = v < *target ? v : *target;
    } else {
        *target = v > *target ? v : *target;
    }
}

static size_t card(const zset_t *z) { return z ? z->length : 0; }

/* Source order for union / intersection: by cardinality, stable. */
static long long *sorted_sources(const store_state_t *st) {
    long long *o = zs_api->alloc(sizeof(long long) * (size_t)st->nsrc);
    for (long long i = 0; i < st->nsrc; i++) {
        long long j = i;
        while (j > 0 && card(st->src[o[j - 1]]) > card(st->src[i])) {
            o[j] = o[j - 1];
            j--;
        }
        o[j] = i;
    }
    return o;
}

static void do_union(const store_state_t *st, const long long *order, zset_t *out) {
    for (long long i = 0; i < st->nsrc; i++) {
        const zset_t *z = st->src[order[i]];
        double w = st->weights[order[i]];
        for (const zs_node_t *n = z ? zs_first(z) : NULL; n; n = zs_next(n)) {
            double v = w * n->score;
            if (isnan(v)) v = 0;
            zs_node_t *have = zs_find(out, zs_ele(n), n->len);
            if (!have) {
                zs_insert(out, v, zs_ele(n), n->len);
                continue;
            }
            double t = have->score;
            aggregate(st->aggregate, &t, v);
            if (t != have->score) zs_set_score(out, have, t);
        }
    }
}

/* Members of every source, aggregated; stops once st->limit members are found (0: all). */
static void do_inter(const store_state_t *st, const long long *order, zset_t *out) {
    const zset_t *base = st->src[order[0]];
    if (!base) return;
    for (const zs_node_t *n = zs_first(base); n; n = zs_next(n)) {
        if (st->limit > 0 && (long long)out->length >= st->limit) break;
        double score = st->weights[order[0]] * n->score;
        if (isnan(score)) score = 0;
        long long j = 1;
        for (; j < st->nsrc; j++) {
            const zset_t *z = st->src[order[j]];
            const zs_node_t *m = z ? zs_find(z, zs_ele(n), n->len) : NULL;
            if (!m) break;
            aggregate(st->aggregate, &score, st->weights[order[j]] * m->score);
        }
        if (j == st->nsrc) zs_insert(out, score, zs_ele(n), n->len);
    }
}

static void do_diff(const store_state_t *st, zset_t *out) {
    const zset_t *base = st->src[0];
    for (const zs_node_t *n = base ? zs_first(base) : NULL; n; n = zs_next(n)) {
        long long j = 1;
        while (j < st->nsrc && !(st->src[j] && zs_find(st->src[j], zs_ele(n), n->len))) j++;
        if (j == st->nsrc) zs_insert(out, n->score, zs_ele(n), n->len);
    }
}

static void compute(store_state_t *st) {
    if (st->result) return;
    st->result = zs_new();
    if (st->op == OP_DIFF) {
        do_diff(st, st->result);
    } else {
        long long *order = sorted_sources(st);
        if (st->op == OP_UNION)
            do_union(st, order, st->result);
        else
            do_inter(st, order, st->result);
        zs_api->free(order);
    }
    /* Only a stored result gets an encoding (and loses -0 scores if it is a listpack): the
       replies of ZUNION/ZINTER/ZDIFF print the computed scores, -0 included, as Redis does. */
    if (st->store) zs_fix_encoding(st->result);
}

/* ---------------------------------------------------------------- phases and replies */

static const char *const store_events[] = {"zunionstore", "zinterstore", "zdiffstore"};

/* Phase 1 of *STORE on the destination's shard: replace it with the result. */
static void store_result(dfm_ctx_t *ctx, store_state_t *st, const dfm_str_t *dst) {
    compute(st);
    st->stored = zs_store(ctx, dst, st->result, store_events[st->op]);
    st->result = NULL;
}

static int algebra_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,
                         const dfm_str_t *argv, const int *keys, int nkeys, int op, int store,
                         int card) {
    store_state_t *st = *state;
    if (!st) *state = st = state_new(argc, argv, op, store, card);
    if (phase == 0) {
        collect_sources(ctx, st, argv, keys, nkeys);
        return 0;
    }
    if (st->wrong || st->err) return -1;
    for (int i = 0; i < nkeys; i++)
        if (keys[i] == 1) store_result(ctx, st, &argv[1]);
    return 0;
}

/* No phase ran: numkeys was not a usable count. Reply Redis's error for it. */
static void reply_numkeys_error(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int idx) {
    long long n;
    if (zs_api->arg_ll(ctx, &argv[idx], &n) < 0) return;
    char name[32];
    size_t len = argv[0].len < sizeof name - 1 ? argv[0].len : sizeof name - 1;
    for (size_t i = 0; i < len; i++)
        name[i] = (char)(argv[0].ptr[i] >= 'A' && argv[0].ptr[i] <= 'Z' ? argv[0].ptr[i] + 32
                                                                         : argv[0].ptr[i]);
    name[len] = '\0';
    if (n < 1)
        zs_api->reply_errorf(ctx, "ERR at least 1 input key is needed for '%s' command", name);
    else
        zs_api->reply_syntax_error(ctx);
}

static void reply_members(dfm_ctx_t *ctx, const zset_t *z, int withscores) {
    int nested = withscores && zs_api->resp_version(ctx) >= 3;
    zs_api->reply_array(ctx, (long)(withscores && !nested ? z->length * 2 : z->length));
    for (const zs_node_t *n = zs_first(z); n; n = zs_next(n)) {
        if (nested) zs_api->reply_array(ctx, 2);
        zs_reply_member(ctx, n);
        if (withscores) zs_api->reply_double(ctx, n->score);
    }
}

static void algebra_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv,
                          int store) {
    store_state_t *st = *state;
    if (!st)
        reply_numkeys_error(ctx, argc, argv, store ? 2 : 1);
    else if (st->wrong)
        zs_api->reply_wrongtype(ctx);
    else if (st->err)
        zs_api->reply_error(ctx, st->err);
    else if (store)
        zs_api->reply_int(ctx, st->stored);
    else if (st->card) {
        compute(st);
        zs_api->reply_int(ctx, (long long)st->result->length);
    } else {
        compute(st);
        reply_members(ctx, st->result, st->withscores);
    }
    state_free(st);
    *state = NULL;
}

#define ALGEBRA(NAME, OP, STORE, CARD)                                                         \
    static int NAME##_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,                 \
                            const dfm_str_t *argv, const int *keys, int nkeys) {               \
        return algebra_phase(ctx, phase, state, argc, argv, keys, nkeys, OP, STORE, CARD);     \
    }                                                                                          \
    static void NAME##_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) { \
        algebra_reply(ctx, state, argc, argv, STORE);                                          \
    }                                                                                          \
    const dfm_multi_t zs_##NAME##_multi = {.nphases = (STORE) ? 2 : 1,                        \
                                           .phase = NAME##_phase,                             \
                                           .reply = NAME##_reply};

ALGEBRA(zunionstore, OP_UNION, 1, 0)
ALGEBRA(zinterstore, OP_INTER, 1, 0)
ALGEBRA(zdiffstore, OP_DIFF, 1, 0)
ALGEBRA(zunion, OP_UNION, 0, 0)
ALGEBRA(zinter, OP_INTER, 0, 0)
ALGEBRA(zdiff, OP_DIFF, 0, 0)
ALGEBRA(zintercard, OP_INTER, 0, 1)
