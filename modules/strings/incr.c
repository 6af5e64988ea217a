/*
 * incr.c: counters on string values: INCR, DECR, INCRBY, DECRBY (64-bit signed, overflow is an
 * error) and INCRBYFLOAT (long double, printed the human-friendly Redis way). The TTL of the
 * key is kept, as in Redis.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "strings.h"

#define ERR_NOT_INT "ERR value is not an integer or out of range"

/* Read the value of string key k as a long long; replies and returns -1 if it is not one. */
static int incr_read_ll(dfm_ctx_t *ctx, const dfm_key_t *k, long long *out) {
    dfm_str_t v;
    str_api->str_value(k, &v);
    if (str_api->str_to_ll(v.ptr, v.len, out) < 0) {
        str_api->reply_error(ctx, ERR_NOT_INT);
        return -1;
    }
    return 0;
}

/* Add `by` to the integer at key (0 when missing), store, reply the new value. */
static void incr_generic(dfm_ctx_t *ctx, const dfm_str_t *key, long long by) {
    dfm_key_t *k;
    long long v = 0, nv;
    int found = str_lookup(ctx, key, DFM_LOOKUP_WRITE, &k);
    if (found < 0) return;
    if (found && incr_read_ll(ctx, k, &v) < 0) return;
    if (__builtin_add_overflow(v, by, &nv)) {
        str_api->reply_error(ctx, "ERR increment or decrement would overflow");
        return;
    }
    char buf[32];
    int n = str_api->ll_to_str(buf, sizeof buf, nv);
    str_api->str_set(ctx, key, buf, (size_t)n, DFM_EXPIRE_KEEP);
    str_touched(ctx, key, "incrby");
    str_api->reply_int(ctx, nv);
}

void str_cmd_incr(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    incr_generic(ctx, &argv[1], 1);
}

void str_cmd_decr(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    incr_generic(ctx, &argv[1], -1);
}

void str_cmd_incrby(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    long long by;
    if (str_api->arg_ll(ctx, &argv[2], &by) < 0) return;
    incr_generic(ctx, &argv[1], by);
}

void str_cmd_decrby(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    long long by;
    if (str_api->arg_ll(ctx, &argv[2], &by) < 0) return;
    if (by == LLONG_MIN) {
        str_api->reply_error(ctx, "ERR decrement would overflow");
        return;
    }
    incr_generic(ctx, &argv[1], -by);
}

/* Parse p as a long double the Redis way; replies and returns -1 if it is not a float. */
static int incr_parse_ld(dfm_ctx_t *ctx, const char *p, size_t len, long double *out) {
    /* A NUL inside the bytes would end strtold early: such a value is never a float. */
    if (memchr(p, '\0', len) != NULL || str_api->str_to_ld(p, len, out) < 0) {
        str_api->reply_error(ctx, "ERR value is not a valid float");
        return -1;
    }
    return 0;
}

/* INCRBYFLOAT key increment: the reply is the new value as a bulk string. */
void str_cmd_incrbyfloat(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    dfm_key_t *k;
    long double v = 0, by;
    int found = str_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, &k);
    if (found < 0) return;
    if (found) {
        dfm_str_t cur;
        str_api->str_value(k, &cur);
        if (incr_parse_ld(ctx, cur.ptr, cur.len, &v) < 0) return;
    }
    if (incr_parse_ld(ctx, argv[2].ptr, argv[2].len, &by) < 0) return;
    v += by;
    if (isnan(v) || isinf(v)) {
        str_api->reply_error(ctx, "ERR increment would produce NaN or Infinity");
        return;
    }
    char buf[5200];
    int n = str_api->ld_to_str(buf, sizeof buf, v, 1);
    if (n <= 0) {
        str_api->reply_error(ctx, "ERR value is not a valid float");
        return;
    }
    str_api->str_set(ctx, &argv[1], buf, (size_t)n, DFM_EXPIRE_KEEP);
    str_touched(ctx, &argv[1], "incrbyfloat");
    str_api->reply_bulk(ctx, buf, (size_t)n);
}
