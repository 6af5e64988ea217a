/*
 * algebra.c: the set commands over several keys, which may live in several shards, so each
 * is a dfm_multi_t (see module.h): SINTER, SUNION, SDIFF, their *STORE forms, SINTERCARD and
 * SMOVE.
 *
 * The algebra commands copy the source sets in phase 0, each on its own shard, into one
 * state; the result is computed from the copies, in `reply` on the client's thread, or for
 * the *STORE forms in phase 1 on the destination's shard, which stores it.
 */
#include <limits.h>
#include <string.h>

#include "sets.h"

#define OP_INTER 0
#define OP_UNION 1
#define OP_DIFF 2

typedef struct alg_state {
    const char *err;   /* error to reply, or NULL */
    int first, nsets;  /* argv index of the first source, number of sources */
    sobj_t **sets;     /* copies by source position; NULL for a missing key */
    long long stored;  /* *STORE: the result's size */
} alg_state_t;

static alg_state_t *alg_state(void **state, int first, int nsets) {
    alg_state_t *st = *state;
    if (st) return st;
    *state = st = ss_api->alloc(sizeof(*st));
    memset(st, 0, sizeof(*st));
    st->first = first;
    st->nsets = nsets;
    st->sets = ss_api->alloc(sizeof(sobj_t *) * (size_t)nsets);
    memset(st->sets, 0, sizeof(sobj_t *) * (size_t)nsets);
    return st;
}

static void alg_free(void **state) {
    alg_state_t *st = *state;
    if (st == NULL) return;
    for (int i = 0; i < st->nsets; i++) sobj_free(st->sets[i]);
    ss_api->free(st->sets);
    ss_api->free(st);
    *state = NULL;
}

/* Copy this shard's source sets (argv indexes >= st->first) into the state. */
static int alg_collect(dfm_ctx_t *ctx, alg_state_t *st, const dfm_str_t *argv, const int *keys,
                       int nkeys) {
    for (int i = 0; i < nkeys; i++) {
        int pos = keys[i] - st->first;
        sobj_t *s;
        if (pos < 0 || pos >= st->nsets) continue;
        int found = ss_find(ctx, &argv[keys[i]], DFM_LOOKUP_READ, NULL, &s);
        if (found < 0) {
            st->err = SS_WRONGTYPE;
            return -1;
        }
        if (found) st->sets[pos] = sobj_copy(s);
    }
    return 0;
}

/* ---------------------------------------------------------------- computing */

/* Index of the smallest set (a missing one counts as empty). */
static int alg_smallest(const alg_state_t *st) {
    int best = 0;
    for (int i = 0; i < st->nsets; i++) {
        size_t n = st->sets[i] ? st->sets[i]->count : 0, b = st->sets[best] ? st->sets[best]->count : 0;
        if (n < b) best = i;
    }
    return best;
}

/* Members of the smallest set found in every other set; stops at limit (0: no limit). */
static sobj_t *alg_inter(const alg_state_t *st, long long limit) {
    sobj_t *r = sobj_new();
    int small = alg_smallest(st);
    if (st->sets[small] == NULL) return r;
    sobj_iter_t it;
    dfm_str_t m;
    sobj_iter_init(&it, st->sets[small]);
    while (sobj_iter_next(&it, &m) && (limit == 0 || (long long)r->count < limit)) {
        int all = 1;
        for (int i = 0; i < st->nsets && all; i++)
            if (i != small && !sobj_has(st->sets[i], &m)) all = 0;
        if (all) sobj_add(r, &m);
    }
    return r;
}

/* Union (diff = 0) of all sets, or the first minus the others (diff = 1). */
static sobj_t *alg_union_diff(const alg_state_t *st, int diff) {
    sobj_t *r = sobj_new();
    sobj_iter_t it;
    dfm_str_t m;
    for (int i = 0; i < st->nsets; i++) {
        if (st->sets[i] == NULL) continue;
        if (diff && i > 0 && r->count == 0) break;
        sobj_iter_init(&it, st->sets[i]);
        while (sobj_iter_next(&it, &m)) {
            if (!diff || i == 0)
                sobj_add(r, &m);
            else
                sobj_rem(r, &m);
        }
    }
    return r;
}

static sobj_t *alg_compute(const alg_state_t *st, int op) {
    return op == OP_INTER ? alg_inter(st, 0) : alg_union_diff(st, op == OP_DIFF);
}

/* ---------------------------------------------------------------- SINTER / SUNION / SDIFF */

static int alg_read_phase(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv,
                          const int *keys, int nkeys) {
    return alg_collect(ctx, alg_state(state, 1, argc - 1), argv, keys, nkeys);
}

static void alg_read_reply(dfm_ctx_t *ctx, void **state, int op) {
    alg_state_t *st = *state;
    if (st && st->err) {
        ss_api->reply_error(ctx, st->err);
    } else if (st) {
        sobj_t *r = alg_compute(st, op);
        ss_reply_members(ctx, r);
        sobj_free(r);
    } else {
        ss_reply_members(ctx, NULL);
    }
    alg_free(state);
}

#define ALG_READ(NAME, OP)                                                                    \
    static int NAME##_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,                \
                            const dfm_str_t *argv, const int *keys, int nkeys) {             \
        return alg_read_phase(ctx, state, argc, argv, keys, nkeys);                           \
    }                                                                                         \
    static void NAME##_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) { \
        alg_read_reply(ctx, state, OP);                                                       \
    }                                                                                         \
    const dfm_multi_t ss_##NAME##_multi = {.nphases = 1, .phase = NAME##_phase,               \
                                           .reply = NAME##_reply};

ALG_READ(sinter, OP_INTER)
ALG_READ(sunion, OP_UNION)
ALG_READ(sdiff, OP_DIFF)

/* ---------------------------------------------------------------- *STORE */

/* Store r at dst (taking r), or delete dst when r is empty. Destination's shard. */
static void alg_store(dfm_ctx_t *ctx, const dfm_str_t *dst, sobj_t *r, const char *event) {
    if (r->count > 0) {
        ss_api->obj_set(ctx, dst, ss_type_id, r, DFM_EXPIRE_NONE);
        ss_api->notify(ctx, event, dst, 's');
        ss_api->signal_modified(ctx, dst);
        return;
    }
    sobj_free(r);
    dfm_key_t *k = ss_api->lookup(ctx, dst, DFM_LOOKUP_WRITE);
    if (k == NULL) return;
    ss_api->key_delete(ctx, k);
    ss_api->notify(ctx, "del", dst, 'g');
    ss_api->signal_modified(ctx, dst);
}

/* Phase 0 copies the sources (argv[2..]); phase 1 stores on the shard owning argv[1]. */
static int alg_store_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,
                           const dfm_str_t *argv, const int *keys, int nkeys, int op) {
    static const char *const events[] = {"sinterstore", "sunionstore", "sdiffstore"};
    alg_state_t *st = alg_state(state, 2, argc - 2);
    if (phase == 0) return alg_collect(ctx, st, argv, keys, nkeys);
    for (int i = 0; i < nkeys; i++) {
        if (keys[i] != 1) continue;
        sobj_t *r = alg_compute(st, op);
        st->stored = (long long)r->count;
        alg_store(ctx, &argv[1], r, events[op]);
    }
    return 0;
}

static void alg_store_reply(dfm_ctx_t *ctx, void **state) {
    alg_state_t *st = *state;
    if (st && st->err)
        ss_api->reply_error(ctx, st->err);
    else
        ss_api->reply_int(ctx, st ? st->stored : 0);
    alg_free(state);
}

#define ALG_STORE(NAME, OP)                                                                   \
    static int NAME##_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,                \
                            const dfm_str_t *argv, const int *keys, int nkeys) {             \
        return alg_store_phase(ctx, phase, state, argc, argv, keys, nkeys, OP);               \
    }                                                                                         \
    static void NAME##_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) { \
        alg_store_reply(ctx, state);                                                          \
    }                                                                                         \
    const dfm_multi_t ss_##NAME##_multi = {.nphases = 2, .phase = NAME##_phase,               \
                                           .reply = NAME##_reply};

ALG_STORE(sinterstore, OP_INTER)
ALG_STORE(sunionstore, OP_UNION)
ALG_STORE(sdiffstore, OP_DIFF)

/* ---------------------------------------------------------------- SINTERCARD */

/*
 * Parse SINTERCARD numkeys key [key ...] [LIMIT limit] as Redis does. Returns numkeys and sets
 * *limit, or -1 with *err set (ctx may be NULL: no reply).
 */
static int sintercard_parse(int argc, const dfm_str_t *argv, long long *limit,
                            const char **err) {
    long long numkeys;
    *limit = 0;
    if (ss_api->str_to_ll(argv[1].ptr, argv[1].len, &numkeys) < 0 || numkeys < 1) {
        *err = "ERR numkeys should be greater than 0";
        return -1;
    }
    if (numkeys > argc - 2) {
        *err = "ERR Number of keys can't be greater than number of args";
        return -1;
    }
    for (int j = 2 + (int)numkeys; j < argc; j++) {
        if (ss_api->arg_eq(&argv[j], "limit") && j + 1 < argc) {
            j++;
            if (ss_api->str_to_ll(argv[j].ptr, argv[j].len, limit) < 0 || *limit < 0) {
                *err = "ERR LIMIT can't be negative";
                return -1;
            }
        } else {
            *err = "ERR syntax error";
            return -1;
        }
    }
    return (int)numkeys;
}

static int sintercard_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,
                            const dfm_str_t *argv, const int *keys, int nkeys) {
    long long limit;
    const char *err;
    int numkeys = sintercard_parse(argc, argv, &limit, &err);
    if (numkeys < 0) return -1; /* the reply parses again and tells */
    return alg_collect(ctx, alg_state(state, 2, numkeys), argv, keys, nkeys);
}

static void sintercard_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    long long limit;
    const char *err = NULL;
    alg_state_t *st = *state;
    if (sintercard_parse(argc, argv, &limit, &err) < 0 || (st && st->err)) {
        ss_api->reply_error(ctx, err ? err : st->err);
    } else if (st == NULL) {
        ss_api->reply_int(ctx, 0);
    } else {
        sobj_t *r = alg_inter(st, limit);
        ss_api->reply_int(ctx, (long long)r->count);
        sobj_free(r);
    }
    alg_free(state);
}

const dfm_multi_t ss_sintercard_multi = {.nphases = 1, .phase = sintercard_phase,
                                         .reply = sintercard_reply};

/* ---------------------------------------------------------------- SMOVE */

/* SMOVE source destination member: phase 0 looks at both keys, phase 1 moves. */
typedef struct smove_state {
    int src_found; /* 1 set, 0 missing, -1 wrong type */
    int dst_wrong;
    int has;       /* member is in the source */
} smove_state_t;

/* 1: the member moves between two different keys (decided after phase 0). */
static int smove_moves(const smove_state_t *st, const dfm_str_t *argv) {
    int same = argv[1].len == argv[2].len && memcmp(argv[1].ptr, argv[2].ptr, argv[1].len) == 0;
    return st->src_found == 1 && !st->dst_wrong && st->has && !same;
}

static void smove_look(dfm_ctx_t *ctx, smove_state_t *st, const dfm_str_t *argv, int idx) {
    sobj_t *s;
    int found = ss_find(ctx, &argv[idx], DFM_LOOKUP_WRITE, NULL, &s);
    if (idx == 2) {
        st->dst_wrong = found < 0;
        return;
    }
    st->src_found = found;
    st->has = found == 1 && sobj_has(s, &argv[3]);
}

static void smove_apply(dfm_ctx_t *ctx, const dfm_str_t *argv, int idx) {
    dfm_key_t *k;
    sobj_t *s;
    if (idx == 1) {
        ss_find(ctx, &argv[1], DFM_LOOKUP_WRITE, &k, &s);
        sobj_rem(s, &argv[3]);
        ss_changed(ctx, &argv[1], k, s, "srem");
    } else {
        ss_lookup_create(ctx, &argv[2], &k, &s);
        sobj_add(s, &argv[3]);
        ss_changed(ctx, &argv[2], k, s, "sadd");
    }
}

static int smove_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,
                       const dfm_str_t *argv, const int *keys, int nkeys) {
    smove_state_t *st = *state;
    if (st == NULL) {
        *state = st = ss_api->alloc(sizeof(*st));
        memset(st, 0, sizeof(*st));
    }
    for (int i = 0; i < nkeys; i++) {
        if (phase == 0)
            smove_look(ctx, st, argv, keys[i]);
        else if (smove_moves(st, argv))
            smove_apply(ctx, argv, keys[i]);
    }
    return 0;
}

static void smove_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    smove_state_t *st = *state;
    if (st == NULL || st->src_found == 0)
        ss_api->reply_int(ctx, 0);
    else if (st->src_found < 0 || st->dst_wrong)
        ss_api->reply_wrongtype(ctx);
    else
        ss_api->reply_int(ctx, st->has);
    ss_api->free(st);
    *state = NULL;
}

const dfm_multi_t ss_smove_multi = {.nphases = 2, .phase = smove_phase, .reply = smove_reply};
