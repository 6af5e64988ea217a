/*
 * add.c: ZADD (NX|XX, GT|LT, CH, INCR), ZINCRBY (ZADD's INCR form) and ZREM. As in Redis, all
 * scores are parsed before the set is touched, so a bad score changes nothing.
 */
#include <math.h>

#include "zsets.h"

#define ZADD_NX 0x01
#define ZADD_XX 0x02
#define ZADD_GT 0x04
#define ZADD_LT 0x08
#define ZADD_CH 0x10
#define ZADD_INCR 0x20

/* What one zadd_one call did. */
enum { ZADD_NOP, ZADD_ADDED, ZADD_UPDATED, ZADD_SAME, ZADD_NAN };

/* Parse the option words from argv[2]; returns the index of the first score. */
static int zadd_flags(int argc, const dfm_str_t *argv, int *flags) {
    static const struct { const char *word; int flag; } words[] = {
        {"nx", ZADD_NX}, {"xx", ZADD_XX}, {"gt", ZADD_GT},
        {"lt", ZADD_LT}, {"ch", ZADD_CH}, {"incr", ZADD_INCR},
    };
    int i = 2;
    *flags = 0;
    for (; i < argc; i++) {
        size_t w = 0;
        const size_t nwords = sizeof(words) / sizeof(words[0]);
        while (w < nwords && !zs_api->arg_eq(&argv[i], words[w].word)) w++;
        if (w == nwords) break;
        *flags |= words[w].flag;
    }
    return i;
}

/* Check the option combination and the pair count; replies and returns -1 on error. */
static int zadd_check(dfm_ctx_t *ctx, int flags, int elements) {
    const char *err = NULL;
    if (elements % 2 || elements == 0)
        err = "ERR syntax error";
    else if ((flags & ZADD_NX) && (flags & ZADD_XX))
        err = "ERR XX and NX options at the same time are not compatible";
    else if (((flags & ZADD_NX) && (flags & (ZADD_GT | ZADD_LT))) ||
             ((flags & ZADD_GT) && (flags & ZADD_LT)))
        err = "ERR GT, LT, and/or NX options at the same time are not compatible";
    else if ((flags & ZADD_INCR) && elements > 2)
        err = "ERR INCR option supports a single increment-element pair";
    if (err) zs_api->reply_error(ctx, err);
    return err ? -1 : 0;
}

/* Add or update one member under the flags; *score becomes the member's resulting score. */
static int zadd_one(zset_t *z, int flags, double *score, const dfm_str_t *m) {
    zs_node_t *n = zs_find(z, m->ptr, m->len);
    if (!n) {
        if (flags & ZADD_XX) return ZADD_NOP;
        zs_node_t *x = zs_insert(z, *score, m->ptr, m->len);
        zs_note_size(z, m->len);
        if (!z->big && x->score == 0) x->score = 0.0; /* listpack text: -0 is kept as "0" */
        return ZADD_ADDED;
    }
    if (flags & ZADD_NX) return ZADD_NOP;
    double s = (flags & ZADD_INCR) ? n->score + *score : *score;
    if (isnan(s)) return ZADD_NAN;
    if (((flags & ZADD_LT) && s >= n->score) || ((flags & ZADD_GT) && s <= n->score))
        return ZADD_NOP;
    *score = s;
    if (s == n->score) return ZADD_SAME;
    zs_set_score(z, n, (!z->big && s == 0) ? 0.0 : s); /* the reply keeps -0 (*score) */
    return ZADD_UPDATED;
}

/* Find or create the set for ZADD; NULL (nothing replied) when XX finds no key, or after
   replying WRONGTYPE (*err set). */
static zset_t *zadd_target(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, int npairs,
                           size_t maxlen, dfm_key_t **k, int *err) {
    zset_t *z;
    *err = 0;
    int found = zs_lookup(ctx, key, DFM_LOOKUP_WRITE, k, &z);
    if (found < 0) *err = 1;
    if (found != 0 || (flags & ZADD_XX)) return z;
    z = zs_new();
    z->big = (int64_t)npairs > zs_max_entries || (int64_t)maxlen > zs_max_value;
    *k = zs_api->obj_set(ctx, key, zs_type_id, z, DFM_EXPIRE_NONE);
    return z;
}

/* The reply for ZADD / ZINCRBY: a count, or (INCR) the new score or null. */
static void zadd_reply(dfm_ctx_t *ctx, int flags, long long added, long long updated,
                       int processed, double score) {
    if (!(flags & ZADD_INCR))
        zs_api->reply_int(ctx, (flags & ZADD_CH) ? added + updated : added);
    else if (processed)
        zs_api->reply_double(ctx, score);
    else
        zs_api->reply_null(ctx);
}

/* The body of ZADD and ZINCRBY once the flags are known; argv[first..argc) are the pairs. */
static void zadd_generic(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int first, int flags) {
    int npairs = (argc - first) / 2, processed = 0, err;
    long long added = 0, updated = 0;
    double *scores = zs_api->alloc(sizeof(double) * (size_t)npairs), score = 0;
    size_t maxlen = 0;
    for (int j = 0; j < npairs; j++) {
        if (zs_api->arg_double(ctx, &argv[first + 2 * j], &scores[j]) < 0) goto done;
        if (argv[first + 2 * j + 1].len > maxlen) maxlen = argv[first + 2 * j + 1].len;
    }
    dfm_key_t *k;
    zset_t *z = zadd_target(ctx, &argv[1], flags, npairs, maxlen, &k, &err);
    if (err) goto done;
    for (int j = 0; z && j < npairs; j++) {
        score = scores[j];
        int r = zadd_one(z, flags, &score, &argv[first + 2 * j + 1]);
        if (r == ZADD_NAN) {
            zs_api->reply_error(ctx, "ERR resulting score is not a number (NaN)");
            goto changed;
        }
        added += r == ZADD_ADDED;
        updated += r == ZADD_UPDATED;
        processed += r != ZADD_NOP;
    }
    zadd_reply(ctx, flags, added, updated, processed, score);
changed:
    if (z && (added || updated)) {
        zs_changed(ctx, &argv[1], k, z, (flags & ZADD_INCR) ? "zincr" : "zadd");
        zs_api->signal_key_ready(ctx, &argv[1]); /* BZPOPMIN/BZPOPMAX waiters */
    }
    else if (z && z->length == 0)
        zs_api->key_delete(ctx, k); /* created for nothing (NX/GT/LT skipped everything) */
done:
    zs_api->free(scores);
}

void zs_cmd_zadd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    int flags;
    int first = zadd_flags(argc, argv, &flags);
    if (zadd_check(ctx, flags, argc - first) < 0) return;
    zadd_generic(ctx, argc, argv, first, flags);
}

/* ZINCRBY key increment member */
void zs_cmd_zincrby(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    zadd_generic(ctx, argc, argv, 2, ZADD_INCR);
}

/* ZREM key member [member ...] */
void zs_cmd_zrem(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    dfm_key_t *k;
    zset_t *z;
    int found = zs_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, &k, &z);
    if (found < 0) return;
    long long removed = 0;
    for (int i = 2; found && i < argc && z->length; i++)
        removed += zs_delete(z, argv[i].ptr, argv[i].len);
    if (removed) zs_changed(ctx, &argv[1], k, z, "zrem");
    zs_api->reply_int(ctx, removed);
}
