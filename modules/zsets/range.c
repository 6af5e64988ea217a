/*
 * range.c: the ZRANGE family on one parser (Redis 6.2's unified ZRANGE: BYSCORE|BYLEX, REV,
 * LIMIT, WITHSCORES; the older ZREVRANGE, Z[REV]RANGEBYSCORE and Z[REV]RANGEBYLEX fix the
 * range type and direction and accept only what they accepted before), and ZREMRANGEBYRANK,
 * ZREMRANGEBYSCORE and ZREMRANGEBYLEX.
 */
#include "zsets.h"

enum { BY_AUTO = -1, BY_RANK, BY_SCORE, BY_LEX };
enum { DIR_AUTO = -1, DIR_FWD, DIR_REV };

typedef struct zrange_opts {
    int by, rev, withscores;
    long long offset, limit; /* limit -1: no limit */
    long long start, end;    /* BY_RANK */
    zs_range_t range;        /* BY_SCORE */
    zs_lexrange_t lex;       /* BY_LEX */
} zrange_opts_t;

#define ZS_ERR_NOTINT "ERR value is not an integer or out of range"

/* A whole-string integer argument; NULL or Redis's error for it. */
static const char *zrange_ll(const dfm_str_t *a, long long *out) {
    return zs_api->str_to_ll(a->ptr, a->len, out) < 0 ? ZS_ERR_NOTINT : NULL;
}

/*
 * Parse the words after "key min max" (the key is argv[base]); ZRANGESTORE (store) takes no
 * WITHSCORES. Returns NULL or the error to reply (a static string), in Redis's order.
 */
static const char *zrange_words(int argc, const dfm_str_t *argv, int base, int store,
                                zrange_opts_t *o) {
    for (int j = base + 3; j < argc; j++) {
        const dfm_str_t *a = &argv[j];
        const char *err;
        if (!store && zs_api->arg_eq(a, "withscores")) {
            o->withscores = 1;
        } else if (zs_api->arg_eq(a, "limit") && argc - j - 1 >= 2) {
            if ((err = zrange_ll(&argv[j + 1], &o->offset)) != NULL ||
                (err = zrange_ll(&argv[j + 2], &o->limit)) != NULL)
                return err;
            j += 2;
        } else if (o->rev == DIR_AUTO && zs_api->arg_eq(a, "rev")) {
            o->rev = DIR_REV;
        } else if (o->by == BY_AUTO && zs_api->arg_eq(a, "bylex")) {
            o->by = BY_LEX;
        } else if (o->by == BY_AUTO && zs_api->arg_eq(a, "byscore")) {
            o->by = BY_SCORE;
        } else {
            return "ERR syntax error";
        }
    }
    return NULL;
}

/* Parse the min/max arguments after argv[base] for the range type (swapped for reversed
   score/lex ranges). NULL or the error to reply. */
static const char *zrange_bounds(const dfm_str_t *argv, int base, zrange_opts_t *o) {
    const dfm_str_t *min = &argv[base + 1], *max = &argv[base + 2];
    const char *err;
    if (o->rev && o->by != BY_RANK) min = &argv[base + 2], max = &argv[base + 1];
    if (o->by == BY_RANK) {
        if ((err = zrange_ll(min, &o->start)) != NULL) return err;
        return zrange_ll(max, &o->end);
    }
    if (o->by == BY_SCORE && zs_parse_range(min, max, &o->range) < 0) return ZS_ERR_NOTFLOAT;
    if (o->by == BY_LEX && zs_parse_lex(min, max, &o->lex) < 0) return ZS_ERR_LEX;
    return NULL;
}

/* Fill o from argv (the source key is argv[base]); by/rev are fixed by the legacy commands or
   BY_AUTO/DIR_AUTO for ZRANGE and ZRANGESTORE. NULL or the error to reply. */
static const char *zrange_parse(int argc, const dfm_str_t *argv, int base, int store, int by,
                                int rev, zrange_opts_t *o) {
    *o = (zrange_opts_t){.by = by, .rev = rev, .offset = 0, .limit = -1};
    const char *err = zrange_words(argc, argv, base, store, o);
    if (err) return err;
    if (o->rev == DIR_AUTO) o->rev = DIR_FWD;
    if (o->by == BY_AUTO) o->by = BY_RANK;
    if (o->limit != -1 && o->by == BY_RANK)
        return "ERR syntax error, LIMIT is only supported in combination with either BYSCORE "
               "or BYLEX";
    if (o->withscores && o->by == BY_LEX)
        return "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
    return zrange_bounds(argv, base, o);
}

/* A growing list of the nodes to reply. */
typedef struct node_vec {
    const zs_node_t **v;
    size_t n, cap;
} node_vec_t;

static void vec_push(node_vec_t *nv, const zs_node_t *n) {
    if (nv->n == nv->cap) {
        nv->cap = nv->cap ? nv->cap * 2 : 16;
        nv->v = zs_api->realloc(nv->v, nv->cap * sizeof(*nv->v));
    }
    nv->v[nv->n++] = n;
}

/* Collect by index: start/end sanitised as Redis does. */
static void collect_rank(const zset_t *z, const zrange_opts_t *o, node_vec_t *out) {
    long long len = (long long)z->length, start = o->start, end = o->end;
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (start > end || start >= len) return;
    if (end >= len) end = len - 1;
    const zs_node_t *n = zs_at(z, (size_t)(o->rev ? len - 1 - start : start));
    for (long long i = start; i <= end && n; i++) {
        vec_push(out, n);
        n = o->rev ? zs_prev(n) : zs_next(n);
    }
}

/* Collect by score or lex range, honouring REV and LIMIT. */
static void collect_range(const zset_t *z, const zrange_opts_t *o, node_vec_t *out) {
    if (o->offset < 0) return;
    const zs_node_t *n;
    if (o->by == BY_SCORE)
        n = o->rev ? zs_last_in_range(z, &o->range) : zs_first_in_range(z, &o->range);
    else
        n = o->rev ? zs_last_in_lex(z, &o->lex) : zs_first_in_lex(z, &o->lex);
    long long skip = o->offset, left = o->limit;
    for (; n && left != 0; n = o->rev ? zs_prev(n) : zs_next(n)) {
        int in = o->by == BY_SCORE ? zs_in_range(&o->range, n->score) : zs_in_lex(&o->lex, n);
        if (!in) break;
        if (skip > 0) {
            skip--;
            continue;
        }
        vec_push(out, n);
        if (left > 0) left--;
    }
}

/* Collect what o selects from z (nothing when z is NULL: a missing key). */
static void collect_nodes(const zset_t *z, const zrange_opts_t *o, node_vec_t *out) {
    if (z && o->by == BY_RANK)
        collect_rank(z, o, out);
    else if (z)
        collect_range(z, o, out);
}

/* Reply the nodes: members, or member/score pairs (nested pairs in RESP3). */
static void reply_nodes(dfm_ctx_t *ctx, const node_vec_t *nv, int withscores) {
    int nested = withscores && zs_api->resp_version(ctx) >= 3;
    zs_api->reply_array(ctx, (long)(withscores && !nested ? nv->n * 2 : nv->n));
    for (size_t i = 0; i < nv->n; i++) {
        if (nested) zs_api->reply_array(ctx, 2);
        zs_reply_member(ctx, nv->v[i]);
        if (withscores) zs_api->reply_double(ctx, nv->v[i]->score);
    }
}

static void zrange_generic(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int by, int rev) {
    zrange_opts_t o;
    const char *err = zrange_parse(argc, argv, 1, 0, by, rev, &o);
    if (err) {
        zs_api->reply_error(ctx, err);
        return;
    }
    zset_t *z;
    int found = zs_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &z);
    if (found < 0) return;
    node_vec_t nv = {NULL, 0, 0};
    collect_nodes(z, &o, &nv);
    reply_nodes(ctx, &nv, o.withscores);
    zs_api->free(nv.v);
}

void zs_cmd_zrange(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    zrange_generic(ctx, argc, argv, BY_AUTO, DIR_AUTO);
}
void zs_cmd_zrevrange(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    zrange_generic(ctx, argc, argv, BY_RANK, DIR_REV);
}
void zs_cmd_zrangebyscore(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    zrange_generic(ctx, argc, argv, BY_SCORE, DIR_FWD);
}
void zs_cmd_zrevrangebyscore(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    zrange_generic(ctx, argc, argv, BY_SCORE, DIR_REV);
}
void zs_cmd_zrangebylex(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    zrange_generic(ctx, argc, argv, BY_LEX, DIR_FWD);
}
void zs_cmd_zrevrangebylex(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    zrange_generic(ctx, argc, argv, BY_LEX, DIR_REV);
}

/* ---------------------------------------------------------------- ZRANGESTORE */

/*
 * ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]: ZRANGE's selection
 * stored at dst, which may live in another shard than src. Two phases:
 *
 *   phase 0, on src's shard: parse (first call), check src's type, copy the range into a
 *            fresh set in the state;
 *   phase 1, on dst's shard: store the copy at dst (an empty one deletes dst);
 *   reply,   on the client's thread: the error, or the number of members stored.
 */
typedef struct rangestore_state {
    zrange_opts_t o;
    const char *err; /* parse error (static string), or NULL */
    int wrong;       /* src holds another type */
    zset_t *result;  /* the range read in phase 0, owned until stored */
    long long stored;
} rangestore_state_t;

/* Phase 0: copy the selected members of src (with their scores) into st->result. */
static void rangestore_read(dfm_ctx_t *ctx, rangestore_state_t *st, const dfm_str_t *src) {
    zset_t *z;
    if (zs_find_key(ctx, src, DFM_LOOKUP_READ, NULL, &z) < 0) {
        st->wrong = 1;
        return;
    }
    node_vec_t nv = {NULL, 0, 0};
    collect_nodes(z, &st->o, &nv);
    st->result = zs_new();
    for (size_t i = 0; i < nv.n; i++)
        zs_insert(st->result, nv.v[i]->score, zs_ele(nv.v[i]), nv.v[i]->len);
    zs_api->free(nv.v);
    zs_fix_encoding(st->result);
}

static int zrangestore_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,
                             const dfm_str_t *argv, const int *keys, int nkeys) {
    rangestore_state_t *st = *state;
    if (st == NULL) {
        *state = st = zs_api->alloc(sizeof(*st));
        memset(st, 0, sizeof(*st));
        st->err = zrange_parse(argc, argv, 2, 1, BY_AUTO, DIR_AUTO, &st->o);
    }
    if (st->err || st->wrong) return -1;
    for (int i = 0; i < nkeys; i++) {
        if (phase == 0 && keys[i] == 2) rangestore_read(ctx, st, &argv[2]);
        if (phase == 1 && keys[i] == 1) {
            st->stored = zs_store(ctx, &argv[1], st->result, "zrangestore");
            st->result = NULL;
        }
    }
    return st->wrong ? -1 : 0;
}

/* Client's thread: the error or the count stored; frees the state. */
static void zrangestore_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    rangestore_state_t *st = *state;
    if (st == NULL) /* no phase ran (cannot happen with two fixed keys) */
        zs_api->reply_syntax_error(ctx);
    else if (st->err)
        zs_api->reply_error(ctx, st->err);
    else if (st->wrong)
        zs_api->reply_wrongtype(ctx);
    else
        zs_api->reply_int(ctx, st->stored);
    if (st) zs_free(st->result);
    zs_api->free(st);
    *state = NULL;
}

const dfm_multi_t zs_zrangestore_multi = {.nphases = 2, .phase = zrangestore_phase,
                                          .reply = zrangestore_reply};

/* ---------------------------------------------------------------- ZREMRANGEBY* */

/* Remove the collected nodes, reply their count, announce the change. */
static void remove_nodes(dfm_ctx_t *ctx, const dfm_str_t *key, dfm_key_t *k, zset_t *z,
                         node_vec_t *nv, const char *event) {
    for (size_t i = 0; i < nv->n; i++) zs_delete_node(z, (zs_node_t *)(uintptr_t)nv->v[i]);
    zs_api->reply_int(ctx, (long long)nv->n);
    if (nv->n) zs_changed(ctx, key, k, z, event);
    zs_api->free(nv->v);
}

static void zremrange_generic(dfm_ctx_t *ctx, const dfm_str_t *argv, int by, const char *event) {
    zrange_opts_t o = {.by = by, .rev = DIR_FWD, .offset = 0, .limit = -1};
    const char *err = zrange_bounds(argv, 1, &o);
    if (err) {
        zs_api->reply_error(ctx, err);
        return;
    }
    dfm_key_t *k;
    zset_t *z;
    int found = zs_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, &k, &z);
    if (found < 0) return;
    node_vec_t nv = {NULL, 0, 0};
    collect_nodes(z, &o, &nv);
    remove_nodes(ctx, &argv[1], k, z, &nv, event);
}

void zs_cmd_zremrangebyrank(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    zremrange_generic(ctx, argv, BY_RANK, "zremrangebyrank");
}
void zs_cmd_zremrangebyscore(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    zremrange_generic(ctx, argv, BY_SCORE, "zremrangebyscore");
}
void zs_cmd_zremrangebylex(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    zremrange_generic(ctx, argv, BY_LEX, "zremrangebylex");
}
