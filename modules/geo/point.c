/*
 * point.c: the per-member geo commands: GEOADD (ZADD of computed scores), GEOPOS, GEODIST and
 * GEOHASH. All are single-key handlers: parse, look up, act, reply.
 */
#include <string.h>

#include "geo.h"

/* Reply err (and free it when it was formatted). */
static void reply_err(dfm_ctx_t *ctx, const char *err, char *owned) {
    geo_api->reply_error(ctx, err);
    geo_api->free(owned);
}

/* GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]
   Options in any order; every triple is checked before the set changes. */
void geo_cmd_geoadd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    int flags = 0, ch = 0, nx = 0, xx = 0, first = 2;
    for (; first < argc; first++) {
        if (geo_api->arg_eq(&argv[first], "nx"))
            nx = 1;
        else if (geo_api->arg_eq(&argv[first], "xx"))
            xx = 1;
        else if (geo_api->arg_eq(&argv[first], "ch"))
            ch = 1;
        else
            break;
    }
    int n = (argc - first) / 3;
    if ((argc - first) % 3 || (nx && xx) || n == 0) {
        geo_api->reply_syntax_error(ctx);
        return;
    }
    flags = (nx ? ZSETS_ADD_NX : 0) | (xx ? ZSETS_ADD_XX : 0);
    double *scores = geo_api->alloc(sizeof(double) * (size_t)n);
    dfm_str_t *members = geo_api->alloc(sizeof(dfm_str_t) * (size_t)n);
    for (int j = 0; j < n; j++) {
        double xy[2];
        char *owned;
        const char *err = geo_parse_lonlat(&argv[first + 3 * j], xy, &owned);
        if (err) {
            reply_err(ctx, err, owned);
            goto done;
        }
        uint64_t score = 0;
        geo_score_of(xy[0], xy[1], &score);
        scores[j] = (double)score;
        members[j] = argv[first + 3 * j + 2];
    }
    long long added, updated;
    if (geo_zs->add(ctx, &argv[1], flags, n, scores, members, &added, &updated) < 0)
        geo_api->reply_wrongtype(ctx);
    else
        geo_api->reply_int(ctx, ch ? added + updated : added);
done:
    geo_api->free(scores);
    geo_api->free(members);
}

/* Look up the geo set at key for reading: 1 (*obj set), 0 missing, -1 after replying
   WRONGTYPE. */
static int lookup_set(dfm_ctx_t *ctx, const dfm_str_t *key, void **obj) {
    int found = geo_zs->find(ctx, key, DFM_LOOKUP_READ, obj);
    if (found < 0) geo_api->reply_wrongtype(ctx);
    return found;
}

/* GEOPOS key [member ...]: per member its cell centre, or a null array. */
void geo_cmd_geopos(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    void *z;
    int found = lookup_set(ctx, &argv[1], &z);
    if (found < 0) return;
    geo_api->reply_array(ctx, argc - 2);
    for (int j = 2; j < argc; j++) {
        double score, xy[2];
        if (!found || !geo_zs->score(z, &argv[j], &score)) {
            geo_api->reply_null_array(ctx);
            continue;
        }
        geo_decode_score(score, xy);
        geo_api->reply_array(ctx, 2);
        geo_reply_coord(ctx, xy[0]);
        geo_reply_coord(ctx, xy[1]);
    }
}

/* GEODIST key member1 member2 [M|KM|FT|MI]: the unit is checked before the key. */
void geo_cmd_geodist(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    double to_metres = 1;
    if (argc == 5) {
        to_metres = geo_unit(&argv[4]);
        if (to_metres < 0) {
            geo_api->reply_error(ctx, GEO_ERR_UNIT);
            return;
        }
    } else if (argc > 5) {
        geo_api->reply_syntax_error(ctx);
        return;
    }
    void *z;
    int found = lookup_set(ctx, &argv[1], &z);
    if (found < 0) return;
    double s1, s2, a[2], b[2];
    if (!found || !geo_zs->score(z, &argv[2], &s1) || !geo_zs->score(z, &argv[3], &s2)) {
        geo_api->reply_null(ctx);
        return;
    }
    geo_decode_score(s1, a);
    geo_decode_score(s2, b);
    geo_reply_distance(ctx, geo_distance(a[0], a[1], b[0], b[1]) / to_metres);
}

/* GEOHASH key [member ...]: per member its 11-character geohash, or null. */
void geo_cmd_geohash(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    void *z;
    int found = lookup_set(ctx, &argv[1], &z);
    if (found < 0) return;
    geo_api->reply_array(ctx, argc - 2);
    for (int j = 2; j < argc; j++) {
        double score;
        if (!found || !geo_zs->score(z, &argv[j], &score)) {
            geo_api->reply_null(ctx);
            continue;
        }
        char buf[12];
        geo_hash_string(score, buf);
        geo_api->reply_bulk(ctx, buf, 11);
    }
}
