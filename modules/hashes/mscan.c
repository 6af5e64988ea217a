/*
 * mscan.c: SCAN-family argument parsing, glob matching and the reply shape, for HSCAN and
 * SSCAN. Pure functions apart from the replies; any thread.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "mscan.h"

int ms_parse_cursor(dfm_ctx_t *ctx, const dfm_api_t *api, const dfm_str_t *a, uint64_t *out) {
    const char *p = a->ptr;
    size_t i = 0, len = a->len;
    int neg = 0;
    uint64_t v = 0;
    const char *nul = memchr(p, '\0', len);
    if (nul) len = (size_t)(nul - p); /* Redis's strtoul reads up to a NUL byte */
    if (len > 0 && isspace((unsigned char)p[0])) goto fail;
    if (len > 0 && (p[0] == '+' || p[0] == '-')) neg = p[i++] == '-';
    if (len > 0 && i == len) goto fail;
    for (; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') goto fail;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) goto fail;
        v = v * 10 + d;
    }
    *out = neg ? (uint64_t)0 - v : v;
    return 0;
fail:
    api->reply_error(ctx, "ERR invalid cursor");
    return -1;
}

int ms_parse_opts(dfm_ctx_t *ctx, const dfm_api_t *api, int argc, const dfm_str_t *argv,
                  int first, ms_opts_t *o) {
    o->count = 10;
    o->match = NULL;
    for (int i = first; i < argc; i += 2) {
        long long n;
        if (i + 1 < argc && api->arg_eq(&argv[i], "count")) {
            if (api->arg_ll(ctx, &argv[i + 1], &n) < 0) return -1;
            if (n < 1) goto syntax;
            o->count = n > 1000000000 ? 1000000000 : (long)n;
        } else if (i + 1 < argc && api->arg_eq(&argv[i], "match")) {
            const dfm_str_t *m = &argv[i + 1];
            o->match = (m->len == 1 && m->ptr[0] == '*') ? NULL : m;
        } else {
            goto syntax;
        }
    }
    return 0;
syntax:
    api->reply_syntax_error(ctx);
    return -1;
}

/*
 * Match one bracket class starting after '[' at p[*i]; advances *i past the closing ']' (or
 * to the end when unclosed, where Redis treats the rest as the class). 1 when c is in it.
 */
static int ms_class(const char *p, size_t plen, size_t *i, unsigned char c) {
    int neg = 0, hit = 0;
    size_t j = *i;
    if (j < plen && p[j] == '^') neg = 1, j++;
    while (j < plen && p[j] != ']') {
        if (p[j] == '\\' && j + 1 < plen) {
            j++;
            if ((unsigned char)p[j] == c) hit = 1;
        } else if (j + 2 < plen && p[j + 1] == '-') {
            unsigned char lo = (unsigned char)p[j], hi = (unsigned char)p[j + 2];
            if (lo > hi) {
                unsigned char t = lo;
                lo = hi, hi = t;
            }
            if (c >= lo && c <= hi) hit = 1;
            j += 2;
        } else if ((unsigned char)p[j] == c) {
            hit = 1;
        }
        j++;
    }
    if (j >= plen) j = plen - 1; /* unclosed: stays on the last char */
    *i = j;
    return neg ? !hit : hit;
}

/* One pattern position against s[si]: 1 when it matches; *pi moves to the last byte used. */
static int ms_one(const char *p, size_t plen, size_t *pi, unsigned char c) {
    switch (p[*pi]) {
    case '?':
        return 1;
    case '[':
        (*pi)++;
        if (*pi >= plen) return 0;
        return ms_class(p, plen, pi, c);
    case '\\':
        if (*pi + 1 < plen) (*pi)++;
        /* fall through */
    default:
        return (unsigned char)p[*pi] == c;
    }
}

/* Greedy matching with one backtrack point (the last '*'): linear in practice, never
   exponential. */
int ms_glob(const char *p, size_t plen, const char *s, size_t slen) {
    size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;
    while (si < slen) {
        if (pi < plen && p[pi] == '*') {
            star_p = ++pi;
            star_s = si;
            continue;
        }
        size_t next = pi;
        if (pi < plen && ms_one(p, plen, &next, (unsigned char)s[si])) {
            pi = next + 1;
            si++;
            continue;
        }
        if (star_p == (size_t)-1) return 0;
        pi = star_p;
        si = ++star_s;
    }
    while (pi < plen && p[pi] == '*') pi++;
    return pi == plen;
}

void ms_reply(dfm_ctx_t *ctx, const dfm_api_t *api, uint64_t cursor, const dfm_str_t *el,
              long n) {
    char buf[24];
    int len = snprintf(buf, sizeof buf, "%llu", (unsigned long long)cursor);
    api->reply_array(ctx, 2);
    api->reply_bulk(ctx, buf, (size_t)len);
    api->reply_array(ctx, n);
    for (long i = 0; i < n; i++) api->reply_bulk(ctx, el[i].ptr, el[i].len);
}
