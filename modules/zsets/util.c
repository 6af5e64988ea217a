/*
 * util.c: helpers every zsets command shares: key lookup with the type check, the after-write
 * bookkeeping (events, deleting empty keys, WATCH), the listpack/skiplist encoding rule,
 * score formatting and the parsers of score and lexicographic range bounds.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "zsets.h"

int zs_find_key(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, dfm_key_t **k, zset_t **z) {
    dfm_key_t *key_ = zs_api->lookup(ctx, key, flags);
    if (k) *k = key_;
    *z = NULL;
    if (key_ == NULL) return 0;
    if (zs_api->key_type(key_) != zs_type_id) return -1;
    *z = zs_api->obj_value(key_);
    return 1;
}

int zs_lookup(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, dfm_key_t **k, zset_t **z) {
    int found = zs_find_key(ctx, key, flags, k, z);
    if (found < 0) zs_api->reply_wrongtype(ctx);
    return found;
}

void zs_note_size(zset_t *z, size_t member_len) {
    if ((int64_t)z->length > zs_max_entries || (int64_t)member_len > zs_max_value) z->big = 1;
}

void zs_fix_encoding(zset_t *z) {
    z->big = 0;
    zs_note_size(z, 0);
    for (const zs_node_t *n = zs_first(z); n && !z->big; n = zs_next(n)) zs_note_size(z, n->len);
    if (z->big) return;
    /* A listpack holds each score as printed text, and Redis prints -0 there as "0". */
    for (zs_node_t *n = zs_first(z); n; n = zs_next(n))
        if (n->score == 0) n->score = 0.0;
}

void zs_changed(dfm_ctx_t *ctx, const dfm_str_t *key, dfm_key_t *k, zset_t *z,
                const char *event) {
    zs_api->notify(ctx, event, key, 'z');
    if (k && z && z->length == 0) {
        zs_api->key_delete(ctx, k);
        zs_api->notify(ctx, "del", key, 'g');
    }
    zs_api->signal_modified(ctx, key);
}

long long zs_store(dfm_ctx_t *ctx, const dfm_str_t *dst, zset_t *z, const char *event) {
    long long n = z ? (long long)z->length : 0;
    if (n > 0) {
        zs_api->obj_set(ctx, dst, zs_type_id, z, DFM_EXPIRE_NONE);
        zs_api->notify(ctx, event, dst, 'z');
        zs_api->signal_modified(ctx, dst);
        zs_api->signal_key_ready(ctx, dst);
        return n;
    }
    zs_free(z);
    dfm_key_t *k = zs_api->lookup(ctx, dst, DFM_LOOKUP_WRITE);
    if (k) {
        zs_api->key_delete(ctx, k);
        zs_api->notify(ctx, "del", dst, 'g');
        zs_api->signal_modified(ctx, dst);
    }
    return 0;
}

void zs_reply_member(dfm_ctx_t *ctx, const zs_node_t *n) {
    zs_api->reply_bulk(ctx, zs_ele(n), n->len);
}

int zs_d2string(char *buf, size_t cap, double v) {
    if (isnan(v)) return snprintf(buf, cap, "nan");
    if (isinf(v)) return snprintf(buf, cap, "%s", v > 0 ? "inf" : "-inf");
    if (v == 0) return snprintf(buf, cap, "%s", signbit(v) ? "-0" : "0");
    if (v > -4503599627370495.0 && v < 4503599627370496.0 && v == (double)(long long)v)
        return snprintf(buf, cap, "%lld", (long long)v);
    return snprintf(buf, cap, "%.17g", v);
}

/*
 * strtod over the whole of p[0..len), as Redis parses range bounds: the text must be consumed
 * up to its end (or an embedded NUL) and must not be NaN. 0 ok, -1 bad.
 */
static int parse_double(const char *p, size_t len, double *out) {
    char stack[128];
    char *buf = len < sizeof stack ? stack : zs_api->alloc(len + 1);
    memcpy(buf, p, len);
    buf[len] = '\0';
    char *end;
    double v = strtod(buf, &end);
    int ok = *end == '\0' && !isnan(v);
    if (buf != stack) zs_api->free(buf);
    *out = v;
    return ok ? 0 : -1;
}

static int parse_score_bound(const dfm_str_t *a, double *v, int *ex) {
    *ex = a->len > 0 && a->ptr[0] == '(';
    return parse_double(a->ptr + *ex, a->len - (size_t)*ex, v);
}

int zs_parse_range(const dfm_str_t *min, const dfm_str_t *max, zs_range_t *r) {
    if (parse_score_bound(min, &r->min, &r->minex) < 0) return -1;
    return parse_score_bound(max, &r->max, &r->maxex);
}

/* "-", "+", "[x" or "(x". */
static int parse_lex_bound(const dfm_str_t *a, zs_lexbound_t *b) {
    *b = (zs_lexbound_t){NULL, 0, 0, 0};
    if (a->len == 0) return -1;
    switch (a->ptr[0]) {
    case '+':
    case '-':
        if (a->len != 1) return -1;
        b->inf = a->ptr[0] == '+' ? 1 : -1;
        return 0;
    case '(':
    case '[':
        b->ex = a->ptr[0] == '(';
        b->p = a->ptr + 1;
        b->len = a->len - 1;
        return 0;
    default:
        return -1;
    }
}

int zs_parse_lex(const dfm_str_t *min, const dfm_str_t *max, zs_lexrange_t *r) {
    if (parse_lex_bound(min, &r->min) < 0) return -1;
    return parse_lex_bound(max, &r->max);
}
