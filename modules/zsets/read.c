/*
 * read.c: the read-only point queries: ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK, and the range
 * counts ZCOUNT and ZLEXCOUNT (two rank look-ups, no walk).
 */
#include "zsets.h"

/* ZCARD key */
void zs_cmd_zcard(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    zset_t *z;
    int found = zs_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &z);
    if (found >= 0) zs_api->reply_int(ctx, found ? (long long)z->length : 0);
}

/* ZSCORE key member */
void zs_cmd_zscore(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    zset_t *z;
    int found = zs_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &z);
    if (found < 0) return;
    zs_node_t *n = found ? zs_find(z, argv[2].ptr, argv[2].len) : NULL;
    if (n)
        zs_api->reply_double(ctx, n->score);
    else
        zs_api->reply_null(ctx);
}

/* ZMSCORE key member [member ...]: a score or null per member. */
void zs_cmd_zmscore(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    zset_t *z;
    int found = zs_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &z);
    if (found < 0) return;
    zs_api->reply_array(ctx, argc - 2);
    for (int i = 2; i < argc; i++) {
        zs_node_t *n = found ? zs_find(z, argv[i].ptr, argv[i].len) : NULL;
        if (n)
            zs_api->reply_double(ctx, n->score);
        else
            zs_api->reply_null(ctx);
    }
}

/* ZRANK / ZREVRANK key member */
static void zrank_generic(dfm_ctx_t *ctx, const dfm_str_t *argv, int rev) {
    zset_t *z;
    int found = zs_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &z);
    if (found < 0) return;
    zs_node_t *n = found ? zs_find(z, argv[2].ptr, argv[2].len) : NULL;
    if (!n) {
        zs_api->reply_null(ctx);
        return;
    }
    size_t r = zs_rank(z, n);
    zs_api->reply_int(ctx, (long long)(rev ? z->length - 1 - r : r));
}

void zs_cmd_zrank(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) { zrank_generic(ctx, argv, 0); }
void zs_cmd_zrevrank(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    zrank_generic(ctx, argv, 1);
}

/* Members between two nodes of z (inclusive), 0 if either is NULL. */
static long long span_count(const zset_t *z, const zs_node_t *first, const zs_node_t *last) {
    if (!first || !last) return 0;
    size_t a = zs_rank(z, first), b = zs_rank(z, last);
    return b < a ? 0 : (long long)(b - a + 1); /* lex order may disagree with scores */
}

/* ZCOUNT key min max */
void zs_cmd_zcount(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    zs_range_t r;
    if (zs_parse_range(&argv[2], &argv[3], &r) < 0) {
        zs_api->reply_error(ctx, ZS_ERR_NOTFLOAT);
        return;
    }
    zset_t *z;
    int found = zs_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &z);
    if (found < 0) return;
    long long n = found ? span_count(z, zs_first_in_range(z, &r), zs_last_in_range(z, &r)) : 0;
    zs_api->reply_int(ctx, n);
}

/* ZLEXCOUNT key min max */
void zs_cmd_zlexcount(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    zs_lexrange_t r;
    if (zs_parse_lex(&argv[2], &argv[3], &r) < 0) {
        zs_api->reply_error(ctx, ZS_ERR_LEX);
        return;
    }
    zset_t *z;
    int found = zs_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &z);
    if (found < 0) return;
    long long n = found ? span_count(z, zs_first_in_lex(z, &r), zs_last_in_lex(z, &r)) : 0;
    zs_api->reply_int(ctx, n);
}
