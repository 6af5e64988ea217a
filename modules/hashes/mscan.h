/*
 * mscan.h: what HSCAN and SSCAN share (the sets module compiles mscan.c from this directory):
 * the cursor and option parsing of Redis's SCAN family and its glob matcher.
 */
#ifndef DF_MSCAN_H
#define DF_MSCAN_H

#include <stddef.h>
#include <stdint.h>

#include <dragonfly/module.h>

typedef struct ms_opts {
    long count;             /* COUNT, default 10 */
    const dfm_str_t *match; /* MATCH pattern, NULL for every element */
} ms_opts_t;

/* Parse a cursor as Redis does (strtoul-like); replies "ERR invalid cursor" and returns -1. */
int ms_parse_cursor(dfm_ctx_t *ctx, const dfm_api_t *api, const dfm_str_t *a, uint64_t *out);
/* Parse [MATCH pattern] [COUNT count] from argv[first]; replies the error and returns -1. */
int ms_parse_opts(dfm_ctx_t *ctx, const dfm_api_t *api, int argc, const dfm_str_t *argv,
                  int first, ms_opts_t *o);
/* Redis's glob (*, ?, [a-z], [^...], \x), case-sensitive: 1 when s matches. */
int ms_glob(const char *p, size_t plen, const char *s, size_t slen);
/* Reply [cursor, elements...] for n strings (pairs count as 2 entries of el). */
void ms_reply(dfm_ctx_t *ctx, const dfm_api_t *api, uint64_t cursor, const dfm_str_t *el,
              long n);

#endif
