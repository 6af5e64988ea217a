/*
 * search.c: the body shared by GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and
 * their _RO forms, as Redis 7.0's georadiusGeneric runs it:
 *
 *   1. look the source up (WRONGTYPE first; a missing source is not an error yet);
 *   2. parse the centre and the shape (GEORADIUS*: fixed positions; GEOSEARCH*: FROMMEMBER /
 *      FROMLONLAT / BYRADIUS / BYBOX among the options) and the options, each error at the
 *      point Redis finds it; a FROMMEMBER of a missing source is not looked up;
 *   3. check the combinations (STORE with WITH*, the missing FROM / BY, ANY without COUNT);
 *   4. scan the nine geohash cells around the centre (geohash.c), keeping the members inside
 *      the shape, stopping early for COUNT n ANY;
 *   5. sort by distance when asked (COUNT alone implies ASC) and cut to COUNT.
 *
 * It runs on the source's shard and records everything in a geo_search_t; replying and
 * storing are search_cmd.c's.
 */
#include <string.h>

#include "geo.h"

geo_search_t *geo_search_new(int flags, int src) {
    geo_search_t *s = geo_api->alloc(sizeof(*s));
    memset(s, 0, sizeof(*s));
    s->flags = flags;
    s->src = src;
    if (flags & GEO_SEARCHSTORE) s->store = 1;
    return s;
}

void geo_search_free(geo_search_t *s) {
    if (!s) return;
    for (size_t i = 0; i < s->npts; i++) geo_api->free(s->pts[i].member);
    geo_api->free(s->pts);
    geo_api->free(s->err_owned);
    geo_api->free(s);
}

/* ---------------------------------------------------------------- parsing */

/* Record a static error; returns -1 for the callers' convenience. */
static int fail(geo_search_t *s, const char *err) {
    s->err = err;
    return -1;
}

/* The centre from a member of z. */
static int centre_from_member(geo_search_t *s, const void *z, const dfm_str_t *m) {
    double score;
    if (!geo_zs->score(z, m, &score)) return fail(s, GEO_ERR_MEMBER);
    double xy[2];
    geo_decode_score(score, xy);
    s->shape.lon = xy[0];
    s->shape.lat = xy[1];
    return 0;
}

/* The centre from a longitude and latitude at a[0], a[1]. */
static int centre_from_lonlat(geo_search_t *s, const dfm_str_t *a) {
    double xy[2];
    const char *err = geo_parse_lonlat(a, xy, &s->err_owned);
    if (err) return fail(s, err);
    s->shape.lon = xy[0];
    s->shape.lat = xy[1];
    return 0;
}

/* "radius unit" at a[0], a[1]. */
static int parse_radius(geo_search_t *s, const dfm_str_t *a) {
    double r;
    if (geo_parse_double(&a[0], &r) < 0) return fail(s, "ERR need numeric radius");
    if (r < 0) return fail(s, "ERR radius cannot be negative");
    double unit = geo_unit(&a[1]);
    if (unit < 0) return fail(s, GEO_ERR_UNIT);
    s->shape.box = 0;
    s->shape.radius = r;
    s->shape.conversion = unit;
    return 0;
}

/* "width height unit" at a[0..2]. */
static int parse_box(geo_search_t *s, const dfm_str_t *a) {
    double w, h;
    if (geo_parse_double(&a[0], &w) < 0) return fail(s, "ERR need numeric width");
    if (geo_parse_double(&a[1], &h) < 0) return fail(s, "ERR need numeric height");
    if (h < 0 || w < 0) return fail(s, "ERR height or width cannot be negative");
    double unit = geo_unit(&a[2]);
    if (unit < 0) return fail(s, GEO_ERR_UNIT);
    s->shape.box = 1;
    s->shape.width = w;
    s->shape.height = h;
    s->shape.conversion = unit;
    return 0;
}

/* The fixed arguments of GEORADIUS* (centre, radius); returns the index of the first
   option, or -1 after an error. z is the source or NULL. */
static int parse_fixed(geo_search_t *s, const void *z, const dfm_str_t *argv) {
    if (s->flags & GEO_FROM_COORDS) {
        if (centre_from_lonlat(s, &argv[2]) < 0 || parse_radius(s, &argv[4]) < 0) return -1;
        return 6;
    }
    if (s->flags & GEO_FROM_MEMBER) {
        /* Without a source Redis parses the options only, to pick the reply. */
        if (z && (centre_from_member(s, z, &argv[2]) < 0 || parse_radius(s, &argv[3]) < 0))
            return -1;
        return 5;
    }
    return (s->flags & GEO_SEARCHSTORE) ? 3 : 2;
}

/* What the options loop has seen of GEOSEARCH's centre and shape. */
typedef struct seen {
    int frommember, fromlonlat, byradius, bybox;
} seen_t;

/* One GEOSEARCH-only option at argv[*i] (left: the arguments after it). 1 parsed, 0 not
   one of them, -1 error. */
static int parse_search_option(geo_search_t *s, const void *z, const dfm_str_t *argv, int *i,
                               int left, seen_t *seen) {
    const dfm_str_t *a = &argv[*i];
    if (!(s->flags & GEO_SEARCH)) return 0;
    if (geo_api->arg_eq(a, "frommember") && left >= 1 && !seen->fromlonlat) {
        if (z && centre_from_member(s, z, &argv[*i + 1]) < 0) return -1;
        seen->frommember = 1;
        *i += 1;
    } else if (geo_api->arg_eq(a, "fromlonlat") && left >= 2 && !seen->frommember) {
        if (centre_from_lonlat(s, &argv[*i + 1]) < 0) return -1;
        seen->fromlonlat = 1;
        *i += 2;
    } else if (geo_api->arg_eq(a, "byradius") && left >= 2 && !seen->bybox) {
        if (parse_radius(s, &argv[*i + 1]) < 0) return -1;
        seen->byradius = 1;
        *i += 2;
    } else if (geo_api->arg_eq(a, "bybox") && left >= 3 && !seen->byradius) {
        if (parse_box(s, &argv[*i + 1]) < 0) return -1;
        seen->bybox = 1;
        *i += 3;
    } else {
        return 0;
    }
    return 1;
}

/* The options from argv[first], then the checks of their combinations. 0 or -1. */
static int parse_options(geo_search_t *s, const void *z, int argc, const dfm_str_t *argv,
                         int first) {
    seen_t seen = {0, 0, 0, 0};
    int can_store = !(s->flags & (GEO_NOSTORE | GEO_SEARCH));
    for (int i = first; i < argc; i++) {
        const dfm_str_t *a = &argv[i];
        int left = argc - i - 1;
        if (geo_api->arg_eq(a, "withdist")) {
            s->withdist = 1;
        } else if (geo_api->arg_eq(a, "withhash")) {
            s->withhash = 1;
        } else if (geo_api->arg_eq(a, "withcoord")) {
            s->withcoord = 1;
        } else if (geo_api->arg_eq(a, "any")) {
            s->any = 1;
        } else if (geo_api->arg_eq(a, "asc")) {
            s->sort = GEO_SORT_ASC;
        } else if (geo_api->arg_eq(a, "desc")) {
            s->sort = GEO_SORT_DESC;
        } else if (geo_api->arg_eq(a, "count") && left >= 1) {
            if (geo_api->str_to_ll(argv[i + 1].ptr, argv[i + 1].len, &s->count) < 0)
                return fail(s, "ERR value is not an integer or out of range");
            if (s->count <= 0) return fail(s, "ERR COUNT must be > 0");
            i++;
        } else if ((geo_api->arg_eq(a, "store") || geo_api->arg_eq(a, "storedist")) &&
                   left >= 1 && can_store) {
            s->store = i + 1;
            s->storedist = geo_api->arg_eq(a, "storedist");
            i++;
        } else if (geo_api->arg_eq(a, "storedist") && (s->flags & GEO_SEARCHSTORE)) {
            s->storedist = 1;
        } else {
            int r = parse_search_option(s, z, argv, &i, left, &seen);
            if (r < 0) return -1;
            if (r == 0) return fail(s, "ERR syntax error");
        }
    }
    if (s->store && (s->withdist || s->withhash || s->withcoord)) {
        s->err_owned = geo_strdupf(
            "ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
            (s->flags & GEO_SEARCHSTORE) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS");
        return fail(s, s->err_owned);
    }
    if ((s->flags & GEO_SEARCH) && !(seen.frommember || seen.fromlonlat)) {
        s->err_owned = geo_strdupf("ERR exactly one of FROMMEMBER or FROMLONLAT can be "
                                   "specified for %.*s", (int)argv[0].len, argv[0].ptr);
        return fail(s, s->err_owned);
    }
    if ((s->flags & GEO_SEARCH) && !(seen.byradius || seen.bybox)) {
        s->err_owned = geo_strdupf("ERR exactly one of BYRADIUS and BYBOX can be specified "
                                   "for %.*s", (int)argv[0].len, argv[0].ptr);
        return fail(s, s->err_owned);
    }
    if (s->any && !s->count) return fail(s, "ERR the ANY argument requires COUNT argument");
    return 0;
}

/* ---------------------------------------------------------------- the scan */

typedef struct collect {
    geo_search_t *s;
    unsigned long long limit; /* COUNT n ANY: stop at n matches; 0: no limit */
} collect_t;

static int limit_reached(const collect_t *c) {
    return c->s->npts && c->limit && c->s->npts >= c->limit;
}

/* zsets_each_fn over a cell's score range: keep the member if it lies inside the shape. */
static int collect_member(void *arg, const dfm_str_t *m, double score) {
    collect_t *c = arg;
    geo_search_t *s = c->s;
    double xy[2], dist = 0;
    geo_decode_score(score, xy);
    if (geo_in_shape(&s->shape, xy, &dist)) {
        if (s->npts == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 16;
            s->pts = geo_api->realloc(s->pts, s->cap * sizeof(*s->pts));
        }
        geo_point_t *p = &s->pts[s->npts++];
        p->lon = xy[0];
        p->lat = xy[1];
        p->dist = dist;
        p->score = score;
        p->len = m->len;
        p->member = geo_api->alloc(m->len ? m->len : 1);
        memcpy(p->member, m->ptr, m->len);
    }
    return !limit_reached(c);
}

/* Scan the cells in Redis's order, skipping zeroed cells and a cell equal to the one scanned
   just before it (huge radii make neighbours coincide; only adjacent repeats are caught, and
   never against the centre cell, as in Redis). */
static void collect_cells(geo_search_t *s, const void *z, unsigned long long limit) {
    geo_cell_t cells[9];
    collect_t c = {s, limit};
    geo_cells_for_shape(&s->shape, cells);
    int last = 0;
    for (int i = 0; i < 9; i++) {
        if (cells[i].bits == 0 && cells[i].step == 0) continue;
        if (last && cells[i].bits == cells[last].bits && cells[i].step == cells[last].step)
            continue;
        if (limit_reached(&c)) break;
        uint64_t min, max;
        geo_cell_range(cells[i], &min, &max);
        geo_zs->each_in_range(z, (double)min, (double)max, 1, collect_member, &c);
        last = i;
    }
}

/* ---------------------------------------------------------------- sorting */

/* 1 when a must come after b. */
static int after(const geo_point_t *a, const geo_point_t *b, int desc) {
    return desc ? a->dist < b->dist : a->dist > b->dist;
}

/* Stable merge sort of p[0..n) by distance (tmp: room for n points). */
static void sort_points(geo_point_t *p, geo_point_t *tmp, size_t n, int desc) {
    if (n < 2) return;
    size_t half = n / 2;
    sort_points(p, tmp, half, desc);
    sort_points(p + half, tmp, n - half, desc);
    size_t i = 0, j = half, k = 0;
    while (i < half && j < n) tmp[k++] = after(&p[i], &p[j], desc) ? p[j++] : p[i++];
    while (i < half) tmp[k++] = p[i++];
    while (j < n) tmp[k++] = p[j++];
    memcpy(p, tmp, n * sizeof(*p));
}

/* ---------------------------------------------------------------- the run */

void geo_search_run(dfm_ctx_t *ctx, geo_search_t *s, int argc, const dfm_str_t *argv) {
    void *z = NULL;
    s->ran = 1;
    if (geo_zs->find(ctx, &argv[s->src], DFM_LOOKUP_READ, &z) < 0) {
        s->wrongtype = 1;
        return;
    }
    int first = parse_fixed(s, z, argv);
    if (first < 0 || parse_options(s, z, argc, argv, first) < 0) return;
    if (!z) return; /* nothing found: an empty reply, or the destination is deleted */
    if (s->count && s->sort == GEO_SORT_NONE && !s->any) s->sort = GEO_SORT_ASC;
    collect_cells(s, z, s->any ? (unsigned long long)s->count : 0);
    if (s->sort != GEO_SORT_NONE && s->npts > 1) {
        geo_point_t *tmp = geo_api->alloc(s->npts * sizeof(*tmp));
        sort_points(s->pts, tmp, s->npts, s->sort == GEO_SORT_DESC);
        geo_api->free(tmp);
    }
    s->returned = (s->count == 0 || (long long)s->npts < s->count) ? (long long)s->npts
                                                                  : s->count;
}
