/*
 * geo.h: what the files of the geo module share. A geo index is an ordinary sorted set (the
 * zsets module's type, reached through its exported write API) whose scores are 52-bit
 * interleaved geohashes, exactly as in Redis: geohash.c does the cell arithmetic and the
 * distances, point.c the point commands (GEOADD, GEOPOS, GEODIST, GEOHASH), search.c the
 * parsing and the search of GEOSEARCH / GEORADIUS*, search_cmd.c their replies, stores and
 * cross-shard phases, module.c the command table. Internal to the module.
 */
#ifndef DF_GEO_H
#define DF_GEO_H

#include <stddef.h>
#include <stdint.h>

#include <dragonfly/module.h>

#include "../zsets/zsets_write_api.h"

/* Every handler has the dfm_cmd_fn signature; many have no use for argc. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

extern const dfm_api_t *geo_api;
extern dfm_module_t *geo_self;
extern const zsets_write_api_t *geo_zs; /* the zsets module's write API */

/* ---------------------------------------------------------------- geohash.c */

#define GEO_LAT_MIN (-85.05112878)
#define GEO_LAT_MAX 85.05112878
#define GEO_LONG_MIN (-180.0)
#define GEO_LONG_MAX 180.0
#define GEO_STEP_MAX 26 /* 26 bits per coordinate: 52-bit scores */

/* A geohash cell: `step` bits per coordinate, interleaved (latitude in the even bits,
   longitude in the odd ones). bits 0 and step 0 is "no cell". */
typedef struct geo_cell {
    uint64_t bits;
    int step;
} geo_cell_t;

/* The area a cell covers, in degrees. */
typedef struct geo_area {
    double lon_min, lon_max, lat_min, lat_max;
} geo_area_t;

/* A search shape around (lon, lat): a circle of `radius` or a `width` x `height` box, in
   units of `conversion` metres. */
typedef struct geo_shape {
    int box;
    double lon, lat;
    double conversion;
    double radius;
    double width, height;
} geo_shape_t;

/* Encode a point at `step` bits per coordinate with latitudes scaled over [lat_min, lat_max]
   (longitudes over [-180, 180]). 0 when the point is outside Redis's limits or the range. */
int geo_encode(double lon, double lat, double lat_min, double lat_max, int step,
               geo_cell_t *out);
/* The 52-bit score of a point (Redis's GEOADD). 0 when outside the limits. */
int geo_score_of(double lon, double lat, uint64_t *score);
/* The centre of the cell a 52-bit score names, clamped to the limits: xy[0] longitude,
   xy[1] latitude (GEOPOS, WITHCOORD). */
void geo_decode_score(double score, double xy[2]);
/* The 11-character standard geohash (latitudes over [-90, 90]) of a score: GEOHASH. */
void geo_hash_string(double score, char out[12]);
/* Great-circle distance in metres (haversine, Redis's earth radius). */
double geo_distance(double lon1, double lat1, double lon2, double lat2);
/* 1 and *dist (metres from the centre) when the point xy lies inside the shape. */
int geo_in_shape(const geo_shape_t *s, const double xy[2], double *dist);
/* The nine cells to scan for a shape, in Redis's order (centre, N, S, E, W, NE, NW, SE,
   SW); cells that cannot hold a match are zeroed. */
void geo_cells_for_shape(const geo_shape_t *s, geo_cell_t cells[9]);
/* The score range [*min, *max) of the members inside a cell. */
void geo_cell_range(geo_cell_t c, uint64_t *min, uint64_t *max);

/* ---------------------------------------------------------------- parsing helpers */

/* A strict double as Redis's getDoubleFromObject: the whole string, no leading space, not
   NaN, no overflow. 0 ok, -1 bad. */
int geo_parse_double(const dfm_str_t *a, double *out);
/* Parse a longitude and a latitude (a[0], a[1]) into xy and check Redis's limits. NULL, or
   the error to reply; a formatted one is api->alloc'd and also left in *owned (else NULL). */
const char *geo_parse_lonlat(const dfm_str_t *a, double xy[2], char **owned);
/* Metres per unit of m / km / ft / mi (any case), or -1. */
double geo_unit(const dfm_str_t *a);
/* An api->alloc'd, NUL-terminated, printf-formatted message (for errors found in phases). */
char *geo_strdupf(const char *fmt, ...) DFM_PRINTF(1, 2);
/* Reply a coordinate as Redis's addReplyHumanLongDouble (RESP2: "%.17Lf" trimmed). */
void geo_reply_coord(dfm_ctx_t *ctx, double v);
/* Reply a distance as Redis does: a bulk string "%.4f". */
void geo_reply_distance(dfm_ctx_t *ctx, double d);

#define GEO_ERR_UNIT "ERR unsupported unit provided. please use M, KM, FT, MI"
#define GEO_ERR_FLOAT "ERR value is not a valid float"
#define GEO_ERR_MEMBER "ERR could not decode requested zset member"

/* ---------------------------------------------------------------- search.c */

/* Which command a search serves (Redis's georadiusGeneric flags). */
#define GEO_FROM_COORDS 0x01  /* GEORADIUS*: centre from longitude latitude */
#define GEO_FROM_MEMBER 0x02  /* GEORADIUSBYMEMBER*: centre from a member */
#define GEO_NOSTORE 0x04      /* the _RO variants: no STORE / STOREDIST */
#define GEO_SEARCH 0x08       /* GEOSEARCH syntax (FROM... / BY...) */
#define GEO_SEARCHSTORE 0x10  /* GEOSEARCHSTORE: destination at argv[1], STOREDIST flag */

enum { GEO_SORT_NONE, GEO_SORT_ASC, GEO_SORT_DESC };

/* A member found by a search. */
typedef struct geo_point {
    double lon, lat; /* cell centre */
    double dist;     /* metres from the centre of the search */
    double score;
    char *member;    /* api->alloc'd */
    size_t len;
} geo_point_t;

/* One search command: its options, then what running it found. */
typedef struct geo_search {
    int flags;      /* GEO_* above */
    int src;        /* argv index of the source key */
    int store;      /* argv index of the destination, 0: none */
    int storedist;  /* store distances instead of scores */
    int withdist, withhash, withcoord, any, sort;
    long long count; /* 0: unlimited */
    geo_shape_t shape;

    int ran;        /* geo_search_run was called */
    int wrongtype;  /* the source holds another type */
    const char *err; /* the error to reply, or NULL (err_owned when formatted) */
    char *err_owned;
    geo_point_t *pts; /* matches, sorted when asked */
    size_t npts, cap;
    long long returned; /* how many of pts the reply or the store uses */
    long long stored;
} geo_search_t;

geo_search_t *geo_search_new(int flags, int src);
void geo_search_free(geo_search_t *s);
/* On the source's shard: look the source up, parse the options in Redis's order, search,
   sort and cut to COUNT. Errors land in s (wrongtype / err); nothing is replied. */
void geo_search_run(dfm_ctx_t *ctx, geo_search_t *s, int argc, const dfm_str_t *argv);

/* ---------------------------------------------------------------- commands */

void geo_cmd_geoadd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void geo_cmd_geopos(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void geo_cmd_geodist(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void geo_cmd_geohash(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void geo_cmd_geosearch(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void geo_cmd_georadius_ro(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void geo_cmd_georadiusbymember_ro(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
extern const dfm_multi_t geo_geosearchstore_multi;
extern const dfm_multi_t geo_georadius_multi;
extern const dfm_multi_t geo_georadiusbymember_multi;
/* Key positions of GEORADIUS / GEORADIUSBYMEMBER calls (the source, then the destination
   after the last STORE / STOREDIST), as Redis's georadiusGetKeys. Any thread. */
int geo_radius_keys(int argc, const dfm_str_t *argv, int *idx, int max);

#endif
