/*
 * util.c: the geo module's small shared helpers: Redis's strict float parsing, distance
 * units, formatted error messages, and the two number formats of geo replies (coordinates as
 * addReplyHumanLongDouble, distances as "%.4f").
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo.h"

int geo_parse_double(const dfm_str_t *a, double *out) {
    char stack[128];
    if (a->len == 0 || memchr(a->ptr, '\0', a->len)) return -1;
    char *buf = a->len < sizeof stack ? stack : geo_api->alloc(a->len + 1);
    memcpy(buf, a->ptr, a->len);
    buf[a->len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    int bad = isspace((unsigned char)buf[0]) || *end != '\0' || isnan(v) ||
              (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || v == 0));
    if (buf != stack) geo_api->free(buf);
    if (bad) return -1;
    *out = v;
    return 0;
}

const char *geo_parse_lonlat(const dfm_str_t *a, double xy[2], char **owned) {
    *owned = NULL;
    if (geo_parse_double(&a[0], &xy[0]) < 0 || geo_parse_double(&a[1], &xy[1]) < 0)
        return GEO_ERR_FLOAT;
    if (xy[0] < GEO_LONG_MIN || xy[0] > GEO_LONG_MAX || xy[1] < GEO_LAT_MIN ||
        xy[1] > GEO_LAT_MAX)
        return *owned = geo_strdupf("ERR invalid longitude,latitude pair %f,%f", xy[0], xy[1]);
    return NULL;
}

double geo_unit(const dfm_str_t *a) {
    if (geo_api->arg_eq(a, "m")) return 1;
    if (geo_api->arg_eq(a, "km")) return 1000;
    if (geo_api->arg_eq(a, "ft")) return 0.3048;
    if (geo_api->arg_eq(a, "mi")) return 1609.34;
    return -1;
}

char *geo_strdupf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    char *s = geo_api->alloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void geo_reply_coord(dfm_ctx_t *ctx, double v) {
    /* RESP3: a double. Redis writes it with the same 17 decimals as in RESP2; the core's
       double reply prints the same value in %.17g. */
    if (geo_api->resp_version(ctx) >= 3) {
        geo_api->reply_double(ctx, v);
        return;
    }
    char buf[128];
    int n = geo_api->ld_to_str(buf, sizeof buf, (long double)v, 1);
    geo_api->reply_bulk(ctx, buf, (size_t)n);
}

void geo_reply_distance(dfm_ctx_t *ctx, double d) {
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%.4f", d);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof buf) n = (int)sizeof buf - 1;
    geo_api->reply_bulk(ctx, buf, (size_t)n);
}
