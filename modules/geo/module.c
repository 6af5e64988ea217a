/*
 * module.c: the geo module: Redis 7.0's geospatial commands over the zsets module's sorted
 * sets (a geo index is a zset whose scores are 52-bit geohashes, so TYPE says zset and every
 * sorted set command works on it). This file keeps the core's API table and the zsets write
 * API, and registers the command table.
 */
#include "geo.h"

DFM_DESCRIPTOR("geo", "1.0.0", "zsets");

const dfm_api_t *geo_api;
dfm_module_t *geo_self;
const zsets_write_api_t *geo_zs;

#define GEO_CMD(NAME, ARITY, FLAGS, SUMMARY, SINCE, CPLX, ARGS, FN)                            \
    {.name = NAME, .arity = ARITY, .flags = FLAGS, .first_key = 1, .last_key = 1,              \
     .key_step = 1, .acl_categories = "@geo @slow", .summary = SUMMARY, .since = SINCE,        \
     .group = "geo", .complexity = CPLX, .args_doc = ARGS, .handler = FN}

#define GEO_MULTI(NAME, ARITY, LAST, SUMMARY, SINCE, CPLX, ARGS, MULTI)                        \
    {.name = NAME, .arity = ARITY, .flags = "write denyoom", .first_key = 1, .last_key = LAST, \
     .key_step = 1, .acl_categories = "@geo @slow", .summary = SUMMARY, .since = SINCE,        \
     .group = "geo", .complexity = CPLX, .args_doc = ARGS, .multi = MULTI}

#define GEO_SEARCH_CPLX                                                                        \
    "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area "    \
    "around the shape provided as the filter and M is the number of items inside the shape"
#define GEO_RADIUS_CPLX                                                                        \
    "O(N+log(M)) where N is the number of elements inside the bounding box of the circular "  \
    "area delimited by center and radius and M is the number of items inside the index."
#define GEO_SEARCH_ARGS                                                                        \
    "FROMMEMBER member|FROMLONLAT longitude latitude BYRADIUS radius M|KM|FT|MI|BYBOX width " \
    "height M|KM|FT|MI [ASC|DESC] [COUNT count [ANY]]"
#define GEO_RADIUS_OPTS "[WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC]"
#define GEO_STORE_OPTS "[STORE key] [STOREDIST key]"

static const dfm_command_t geo_commands[] = {
    GEO_CMD("geoadd", -5, "write denyoom",
            "Add one or more geospatial items in the geospatial index represented using a "
            "sorted set", "3.2.0",
            "O(log(N)) for each item added, where N is the number of elements in the sorted "
            "set.",
            "key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]",
            geo_cmd_geoadd),
    GEO_CMD("geopos", -2, "readonly",
            "Returns longitude and latitude of members of a geospatial index", "3.2.0",
            "O(N) where N is the number of members requested.", "key [member [member ...]]",
            geo_cmd_geopos),
    GEO_CMD("geodist", -4, "readonly",
            "Returns the distance between two members of a geospatial index", "3.2.0",
            "O(log(N))", "key member1 member2 [M|KM|FT|MI]", geo_cmd_geodist),
    GEO_CMD("geohash", -2, "readonly",
            "Returns members of a geospatial index as standard geohash strings", "3.2.0",
            "O(log(N)) for each member requested, where N is the number of elements in the "
            "sorted set.",
            "key [member [member ...]]", geo_cmd_geohash),
    GEO_CMD("geosearch", -7, "readonly",
            "Query a sorted set representing a geospatial index to fetch members inside an area "
            "of a box or a circle.", "6.2.0", GEO_SEARCH_CPLX,
            "key " GEO_SEARCH_ARGS " [WITHCOORD] [WITHDIST] [WITHHASH]", geo_cmd_geosearch),
    GEO_MULTI("geosearchstore", -8, 2,
              "Query a sorted set representing a geospatial index to fetch members inside an "
              "area of a box or a circle, and store the result in another key.", "6.2.0",
              GEO_SEARCH_CPLX, "destination source " GEO_SEARCH_ARGS " [STOREDIST]",
              &geo_geosearchstore_multi),
    GEO_MULTI("georadius", -6, 1,
              "Query a sorted set representing a geospatial index to fetch members matching a "
              "given maximum distance from a point", "3.2.0", GEO_RADIUS_CPLX,
              "key longitude latitude radius M|KM|FT|MI " GEO_RADIUS_OPTS " " GEO_STORE_OPTS,
              &geo_georadius_multi),
    GEO_MULTI("georadiusbymember", -5, 1,
              "Query a sorted set representing a geospatial index to fetch members matching a "
              "given maximum distance from a member", "3.2.0", GEO_RADIUS_CPLX,
              "key member radius M|KM|FT|MI " GEO_RADIUS_OPTS " " GEO_STORE_OPTS,
              &geo_georadiusbymember_multi),
    GEO_CMD("georadius_ro", -6, "readonly", "A read-only variant for GEORADIUS", "3.2.10",
            GEO_RADIUS_CPLX, "key longitude latitude radius M|KM|FT|MI " GEO_RADIUS_OPTS,
            geo_cmd_georadius_ro),
    GEO_CMD("georadiusbymember_ro", -5, "readonly", "A read-only variant for GEORADIUSBYMEMBER",
            "3.2.10", GEO_RADIUS_CPLX, "key member radius M|KM|FT|MI " GEO_RADIUS_OPTS,
            geo_cmd_georadiusbymember_ro),
    {.name = NULL},
};

/* Called once by the core on the main thread, after the zsets module: keep the APIs,
   register the commands and the key finder of the GEORADIUS forms. */
DFM_EXPORT int dfm_module_init(dfm_module_t *self, const dfm_api_t *api, int argc, char **argv) {
    (void)argc;
    (void)argv;
    geo_api = api;
    geo_self = self;
    if (!DFM_HAS(api, set_command_keys)) {
        api->log(DFM_LOG_WARNING, "geo: the core lacks set_command_keys (ABI 1.4)");
        return -1;
    }
    geo_zs = api->import_api(self, ZSETS_WRITE_API_NAME);
    if (!geo_zs) {
        api->log(DFM_LOG_WARNING, "geo: the zsets module exports no %s", ZSETS_WRITE_API_NAME);
        return -1;
    }
    for (const dfm_command_t *c = geo_commands; c->name != NULL; c++)
        if (api->register_command(self, c) < 0) return -1;
    if (api->set_command_keys(self, "georadius", geo_radius_keys) < 0) return -1;
    return api->set_command_keys(self, "georadiusbymember", geo_radius_keys);
}
