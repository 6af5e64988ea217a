/*
 * scan.c: ZRANDMEMBER and ZSCAN, the two commands that visit members out of score order.
 * ZSCAN walks the member hash table with reverse-binary cursors; a set still in its small
 * ("listpack") encoding is returned whole with cursor 0, as Redis does. MATCH uses the glob
 * syntax of KEYS (* ? [a-z] [^x] \x).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "zsets.h"

/* ---------------------------------------------------------------- random */

static uint64_t rnd(void) {
    static __thread uint64_t s;
    if (s == 0) s = ((uint64_t)(uintptr_t)&s * 0x9e3779b97f4a7c15ull) ^ (uint64_t)zs_api->now_ms();
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

static void reply_pair(dfm_ctx_t *ctx, const zs_node_t *n, int withscores, int nested) {
    if (nested) zs_api->reply_array(ctx, 2);
    zs_reply_member(ctx, n);
    if (withscores) zs_api->reply_double(ctx, n->score);
}

/* ZRANDMEMBER's count and WITHSCORES, checked as Redis does; replies and returns -1 on error. */
static int zrand_args(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, long long *count,
                      int *withscores) {
    if (zs_api->arg_ll(ctx, &argv[2], count) < 0) return -1;
    if (*count < -LLONG_MAX) {
        zs_api->reply_errorf(ctx, "ERR value is out of range, value must between %lld and %lld",
                             -LLONG_MAX, LLONG_MAX);
        return -1;
    }
    if (argc > 4 || (argc == 4 && !zs_api->arg_eq(&argv[3], "withscores"))) {
        zs_api->reply_syntax_error(ctx);
        return -1;
    }
    *withscores = argc == 4;
    if (*withscores && (*count < -LLONG_MAX / 2 || *count > LLONG_MAX / 2)) {
        zs_api->reply_error(ctx, "ERR value is out of range");
        return -1;
    }
    return 0;
}

/* `count` distinct members (count < length): a partial Fisher-Yates over the nodes. */
static void zrand_distinct(dfm_ctx_t *ctx, const zset_t *z, size_t count, int withscores,
                           int nested) {
    const zs_node_t **all = zs_api->alloc(z->length * sizeof(*all));
    size_t i = 0;
    for (const zs_node_t *n = zs_first(z); n; n = zs_next(n)) all[i++] = n;
    for (i = 0; i < count; i++) {
        size_t j = i + (size_t)(rnd() % (z->length - i));
        const zs_node_t *t = all[i];
        all[i] = all[j];
        all[j] = t;
        reply_pair(ctx, all[i], withscores, nested);
    }
    zs_api->free(all);
}

static void zrand_count(dfm_ctx_t *ctx, const zset_t *z, long long l, int withscores) {
    int uniq = l >= 0, nested = withscores && zs_api->resp_version(ctx) >= 3;
    size_t count = l >= 0 ? (size_t)l : (size_t)-l;
    if (uniq && count > z->length) count = z->length;
    zs_api->reply_array(ctx, (long)(withscores && !nested ? count * 2 : count));
    if (!uniq) {
        for (size_t i = 0; i < count; i++)
            reply_pair(ctx, zs_at(z, (size_t)(rnd() % z->length)), withscores, nested);
    } else if (count == z->length) {
        for (const zs_node_t *n = zs_first(z); n; n = zs_next(n))
            reply_pair(ctx, n, withscores, nested);
    } else {
        zrand_distinct(ctx, z, count, withscores, nested);
    }
}

/* ZRANDMEMBER key [count [WITHSCORES]] */
void zs_cmd_zrandmember(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    long long count = 0;
    int withscores = 0;
    if (argc >= 3 && zrand_args(ctx, argc, argv, &count, &withscores) < 0) return;
    zset_t *z;
    int found = zs_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &z);
    if (found < 0) return;
    if (argc < 3) {
        if (found)
            zs_reply_member(ctx, zs_at(z, (size_t)(rnd() % z->length)));
        else
            zs_api->reply_null(ctx);
    } else if (!found || count == 0) {
        zs_api->reply_array(ctx, 0);
    } else {
        zrand_count(ctx, z, count, withscores);
    }
}

/* ---------------------------------------------------------------- ZSCAN */

/* Glob match of s against pattern p (case-sensitive). */
static int glob(const char *p, size_t plen, const char *s, size_t slen) {
    while (plen) {
        switch (*p) {
        case '*':
            while (plen > 1 && p[1] == '*') p++, plen--;
            if (plen == 1) return 1;
            for (size_t i = 0; i <= slen; i++)
                if (glob(p + 1, plen - 1, s + i, slen - i)) return 1;
            return 0;
        case '?':
            if (!slen) return 0;
            s++, slen--;
            break;
        case '[': {
            if (!slen) return 0;
            p++, plen--;
            int neg = plen && *p == '^', hit = 0;
            if (neg) p++, plen--;
            while (plen && *p != ']') {
                if (*p == '\\' && plen >= 2) {
                    p++, plen--;
                    hit |= *p == *s;
                } else if (plen >= 3 && p[1] == '-') {
                    unsigned char a = (unsigned char)p[0], b = (unsigned char)p[2];
                    unsigned char c = (unsigned char)*s;
                    if (a > b) { unsigned char t = a; a = b; b = t; }
                    hit |= c >= a && c <= b;
                    p += 2, plen -= 2;
                } else {
                    hit |= *p == *s;
                }
                p++, plen--;
            }
            if (hit == neg) return 0;
            s++, slen--;
            if (!plen) return slen == 0; /* as Redis, the pattern's end closes an open class */
            break;
        }
        case '\\':
            if (plen >= 2) p++, plen--;
            /* fall through */
        default:
            if (!slen || *p != *s) return 0;
            s++, slen--;
            break;
        }
        p++, plen--;
    }
    return slen == 0;
}

typedef struct scan_acc {
    const zs_node_t **v;
    size_t n, cap;
} scan_acc_t;

static void scan_collect(void *arg, const zs_node_t *n) {
    scan_acc_t *a = arg;
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->v = zs_api->realloc(a->v, a->cap * sizeof(*a->v));
    }
    a->v[a->n++] = n;
}

/* A SCAN cursor as Redis's strtoul reads it: [+-]digits within 64 bits ("-1" wraps); the
   empty string is cursor 0, a lone sign is not a cursor, a NUL byte ends the digits. */
static int parse_cursor(const dfm_str_t *a, uint64_t *out) {
    uint64_t v = 0;
    const char *nul = memchr(a->ptr, '\0', a->len);
    size_t len = nul ? (size_t)(nul - a->ptr) : a->len;
    size_t i = len > 0 && (a->ptr[0] == '-' || a->ptr[0] == '+');
    int neg = i && a->ptr[0] == '-';
    if (i && len == i) return -1;
    for (; i < len; i++) {
        unsigned d = (unsigned)(a->ptr[i] - '0');
        if (d > 9 || v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = neg ? 0 - v : v;
    return 0;
}

/* Parse "[MATCH pattern] [COUNT count]"; replies and returns -1 on error. */
static int zscan_args(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, const dfm_str_t **match,
                      long long *count) {
    for (int i = 3; i < argc; i += 2) {
        if (i + 1 >= argc) goto syntax;
        if (zs_api->arg_eq(&argv[i], "count")) {
            if (zs_api->arg_ll(ctx, &argv[i + 1], count) < 0) return -1;
            if (*count < 1) goto syntax;
        } else if (zs_api->arg_eq(&argv[i], "match")) {
            *match = &argv[i + 1];
        } else {
            goto syntax;
        }
    }
    return 0;
syntax:
    zs_api->reply_syntax_error(ctx);
    return -1;
}

static void zscan_reply(dfm_ctx_t *ctx, uint64_t cursor, const scan_acc_t *a,
                        const dfm_str_t *match) {
    size_t keep = 0;
    for (size_t i = 0; i < a->n; i++)
        keep += !match || glob(match->ptr, match->len, zs_ele(a->v[i]), a->v[i]->len);
    char buf[32];
    zs_api->reply_array(ctx, 2);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)cursor);
    zs_api->reply_cstr(ctx, buf);
    zs_api->reply_array(ctx, (long)keep * 2);
    for (size_t i = 0; i < a->n; i++) {
        const zs_node_t *n = a->v[i];
        if (match && !glob(match->ptr, match->len, zs_ele(n), n->len)) continue;
        zs_reply_member(ctx, n);
        int len = zs_d2string(buf, sizeof buf, n->score);
        zs_api->reply_bulk(ctx, buf, (size_t)len);
    }
}

/* ZSCAN key cursor [MATCH pattern] [COUNT count]: as Redis, the cursor is checked first,
   then the key (a missing key answers an empty scan whatever the options), then options. */
void zs_cmd_zscan(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    uint64_t cursor;
    const dfm_str_t *match = NULL;
    long long count = 10;
    if (parse_cursor(&argv[2], &cursor) < 0) {
        zs_api->reply_error(ctx, "ERR invalid cursor");
        return;
    }
    zset_t *z;
    int found = zs_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &z);
    if (found < 0) return;
    if (found && zscan_args(ctx, argc, argv, &match, &count) < 0) return;
    scan_acc_t a = {NULL, 0, 0};
    if (found && !z->big) { /* small sets come back whole */
        for (const zs_node_t *n = zs_first(z); n; n = zs_next(n)) scan_collect(&a, n);
        cursor = 0;
    } else if (found) {
        long long budget = count * 10;
        do
            cursor = zs_scan(z, cursor, scan_collect, &a);
        while (cursor && budget-- && (long long)a.n < count);
    } else {
        cursor = 0;
    }
    zscan_reply(ctx, cursor, &a, match);
    zs_api->free(a.v);
}
