/*
 * search_cmd.c: the search commands around search.c's geo_search_run: their replies, the
 * store of GEOSEARCHSTORE and GEORADIUS* STORE / STOREDIST, and the key positions of the
 * GEORADIUS forms.
 *
 * GEOSEARCH and the _RO forms have one key: plain handlers. The storing commands may have
 * their destination in another shard, so they are dfm_multi_t commands in two phases:
 *
 *   phase 0, on the source's shard: look up, parse, search, sort (geo_search_run);
 *   phase 1, on the destination's shard (STORE only, no error): store the result as a sorted
 *            set, or delete the destination when there is none;
 *   reply,   on the client's thread: the error, the count stored, or the members.
 *
 * GEORADIUS and GEORADIUSBYMEMBER find their destination among the options, so the core asks
 * geo_radius_keys for their keys (Redis reports them movablekeys too).
 */
#include <string.h>

#include "geo.h"

/* ---------------------------------------------------------------- replies */

/* The reply of a search without STORE: the members, each with the WITH* fields asked for. */
static void reply_points(dfm_ctx_t *ctx, const geo_search_t *s) {
    int fields = s->withdist + s->withhash + s->withcoord;
    geo_api->reply_array(ctx, (long)s->returned);
    for (long long i = 0; i < s->returned; i++) {
        const geo_point_t *p = &s->pts[i];
        if (fields) geo_api->reply_array(ctx, fields + 1);
        geo_api->reply_bulk(ctx, p->member, p->len);
        if (s->withdist) geo_reply_distance(ctx, p->dist / s->shape.conversion);
        if (s->withhash) geo_api->reply_int(ctx, (long long)p->score);
        if (s->withcoord) {
            geo_api->reply_array(ctx, 2);
            geo_reply_coord(ctx, p->lon);
            geo_reply_coord(ctx, p->lat);
        }
    }
}

/* Reply what a search left in s. */
static void reply_search(dfm_ctx_t *ctx, const geo_search_t *s) {
    if (s->wrongtype)
        geo_api->reply_wrongtype(ctx);
    else if (s->err)
        geo_api->reply_error(ctx, s->err);
    else if (s->store)
        geo_api->reply_int(ctx, s->stored);
    else
        reply_points(ctx, s);
}

/* ---------------------------------------------------------------- single-shard forms */

static void search_here(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int flags) {
    geo_search_t *s = geo_search_new(flags, 1);
    geo_search_run(ctx, s, argc, argv);
    reply_search(ctx, s);
    geo_search_free(s);
}

/* GEOSEARCH key FROMMEMBER member|FROMLONLAT lon lat BYRADIUS r unit|BYBOX w h unit
   [ASC|DESC] [COUNT n [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH] */
void geo_cmd_geosearch(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    search_here(ctx, argc, argv, GEO_SEARCH);
}

/* GEORADIUS_RO key lon lat radius unit [options] */
void geo_cmd_georadius_ro(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    search_here(ctx, argc, argv, GEO_FROM_COORDS | GEO_NOSTORE);
}

/* GEORADIUSBYMEMBER_RO key member radius unit [options] */
void geo_cmd_georadiusbymember_ro(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    search_here(ctx, argc, argv, GEO_FROM_MEMBER | GEO_NOSTORE);
}

/* ---------------------------------------------------------------- storing forms */

/* Phase 1 on the destination's shard: the result (scores, or distances in the search's
   unit for STOREDIST) replaces the destination; no result deletes it. */
static void store_result(dfm_ctx_t *ctx, geo_search_t *s, const dfm_str_t *dst) {
    void *set = NULL;
    if (s->returned > 0) {
        set = geo_zs->set_new();
        for (long long i = 0; i < s->returned; i++) {
            const geo_point_t *p = &s->pts[i];
            dfm_str_t m = {p->member, p->len};
            geo_zs->set_add(set, s->storedist ? p->dist / s->shape.conversion : p->score, &m);
        }
    }
    const char *event = (s->flags & GEO_SEARCH) ? "geosearchstore" : "georadiusstore";
    geo_zs->store(ctx, dst, set, event);
    s->stored = s->returned;
}

static int store_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,
                       const dfm_str_t *argv, const int *keys, int nkeys, int flags, int src) {
    geo_search_t *s = *state;
    if (!s) *state = s = geo_search_new(flags, src);
    for (int i = 0; i < nkeys; i++) {
        if (phase == 0 && keys[i] == s->src && !s->ran) {
            geo_search_run(ctx, s, argc, argv);
        } else if (phase == 1 && s->ran && !s->wrongtype && !s->err && s->store &&
                   keys[i] == s->store) {
            store_result(ctx, s, &argv[s->store]);
        }
    }
    return 0;
}

static void store_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    geo_search_t *s = *state;
    if (s && s->ran)
        reply_search(ctx, s);
    else
        geo_api->reply_array(ctx, 0); /* not reached: the source's shard always runs */
    geo_search_free(s);
    *state = NULL;
}

#define GEO_STORE_MULTI(NAME, FLAGS, SRC)                                                     \
    static int NAME##_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,                \
                            const dfm_str_t *argv, const int *keys, int nkeys) {              \
        return store_phase(ctx, phase, state, argc, argv, keys, nkeys, FLAGS, SRC);           \
    }                                                                                         \
    const dfm_multi_t geo_##NAME##_multi = {2, NAME##_phase, store_reply};

GEO_STORE_MULTI(geosearchstore, GEO_SEARCH | GEO_SEARCHSTORE, 2)
GEO_STORE_MULTI(georadius, GEO_FROM_COORDS, 1)
GEO_STORE_MULTI(georadiusbymember, GEO_FROM_MEMBER, 1)

/* ---------------------------------------------------------------- key positions */

/* Add argv index i to idx[0..*n) unless it is there or idx is full. */
static void add_key(int *idx, int *n, int max, int i) {
    for (int j = 0; j < *n; j++)
        if (idx[j] == i) return;
    if (*n < max) idx[(*n)++] = i;
}

/*
 * The keys of GEORADIUS (options from argv[6]) or GEORADIUSBYMEMBER (from argv[5]), as
 * Redis 7.0's key specs report them: the source, the argument after the first STORE, the one
 * after the first STOREDIST. The destination the command really uses is the one after the
 * last STORE / STOREDIST of its option parse (COUNT takes one argument); it is added when it
 * differs, so the core always locks it.
 */
int geo_radius_keys(int argc, const dfm_str_t *argv, int *idx, int max) {
    if (argc < 2 || max < 1) return max < 1 ? 0 : -1;
    int n = 0, base = geo_api->arg_eq(&argv[0], "georadiusbymember") ? 5 : 6;
    int store = 0, storedist = 0, used = 0;
    add_key(idx, &n, max, 1);
    for (int i = base; i + 1 < argc; i++) {
        if (!store && geo_api->arg_eq(&argv[i], "store")) store = i + 1;
        if (!storedist && geo_api->arg_eq(&argv[i], "storedist")) storedist = i + 1;
    }
    for (int i = base; i + 1 < argc; i++) {
        if (geo_api->arg_eq(&argv[i], "count")) {
            i++;
        } else if (geo_api->arg_eq(&argv[i], "store") || geo_api->arg_eq(&argv[i], "storedist")) {
            used = i + 1;
            i++;
        }
    }
    if (store) add_key(idx, &n, max, store);
    if (storedist) add_key(idx, &n, max, storedist);
    if (used) add_key(idx, &n, max, used);
    return n;
}
