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

/* Parse the words after "key min max". Replies and returns -1 on error. */
static int zrange_words(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, zrange_opts_t *o) {
    for (int j = 4; j < argc; j++) {
        const dfm_str_t *a = &argv[j];
        if (zs_api->arg_eq(a, "withscores")) {
            o->withscores = 1;
        } else if (zs_api->arg_eq(a, "limit") && argc - j - 1 >= 2) {
            if (zs_api->arg_ll(ctx, &argv[j + 1], &o->offset) < 0 ||
                zs_api->arg_ll(ctx, &argv[j + 2], &o->limit) < 0)
                return -1;
            j += 2;
        } else if (o->rev == DIR_AUTO && zs_api->arg_eq(a, "rev")) {
            o->rev = DIR_REV;
        } else if (o->by == BY_AUTO && zs_api->arg_eq(a, "bylex")) {
            o->by = BY_LEX;
        } else if (o->by == BY_AUTO && zs_api->arg_eq(a, "byscore")) {
            o->by = BY_SCORE;
        } else {
            zs_api->reply_syntax_error(ctx);
            return -1;
        }
    }
    return 0;
}

/* Parse the min/max arguments for the range type (swapped for reversed score/lex ranges). */
static int zrange_bounds(dfm_ctx_t *ctx, const dfm_str_t *argv, zrange_opts_t *o) {
    const dfm_str_t *min = &argv[2], *max = &argv[3];
    if (o->rev && o->by != BY_RANK) min = &argv[3], max = &argv[2];
    if (o->by == BY_RANK)
        return zs_api->arg_ll(ctx, min, &o->start) < 0 || zs_api->arg_ll(ctx, max, &o->end) < 0
                   ? -1
                   : 0;
    if (o->by == BY_SCORE && zs_parse_range(min, max, &o->range) < 0) {
        zs_api->reply_error(ctx, ZS_ERR_NOTFLOAT);
        return -1;
    }
    if (o->by == BY_LEX && zs_parse_lex(min, max, &o->lex) < 0) {
        zs_api->reply_error(ctx, ZS_ERR_LEX);
        return -1;
    }
    return 0;
}

/* Fill o from argv; by/rev are fixed by the legacy commands or BY_AUTO/DIR_AUTO for ZRANGE. */
static int zrange_parse(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int by, int rev,
                        zrange_opts_t *o) {
    *o = (zrange_opts_t){.by = by, .rev = rev, .offset = 0, .limit = -1};
    if (zrange_words(ctx, argc, argv, o) < 0) return -1;
    if (o->rev == DIR_AUTO) o->rev = DIR_FWD;
    if (o->by == BY_AUTO) o->by = BY_RANK;
    if (o->limit != -1 && o->by == BY_RANK) {
        zs_api->reply_error(ctx, "ERR syntax error, LIMIT is only supported in combination "
                                 "with either BYSCORE or BYLEX");
        return -1;
    }
    if (o->withscores && o->by == BY_LEX) {
        zs_api->reply_error(ctx,
                            "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return -1;
    }
    return zrange_bounds(ctx, argv, o);
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
    if (zrange_parse(ctx, argc, argv, by, rev, &o) < 0) return;
    zset_t *z;
    int found = zs_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &z);
    if (found < 0) return;
    node_vec_t nv = {NULL, 0, 0};
    if (found && o.by == BY_RANK)
        collect_rank(z, &o, &nv);
    else if (found)
        collect_range(z, &o, &nv);
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
    if (zrange_bounds(ctx, argv, &o) < 0) return;
    dfm_key_t *k;
    zset_t *z;
    int found = zs_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, &k, &z);
    if (found < 0) return;
    node_vec_t nv = {NULL, 0, 0};
    if (found && by == BY_RANK)
        collect_rank(z, &o, &nv);
    else if (found)
        collect_range(z, &o, &nv);
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
