/*
 * write.c: the hash commands that change a hash: HSET, HMSET, HSETNX, HDEL, HINCRBY and
 * HINCRBYFLOAT. Shard thread.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "hashes.h"

/* HSET / HMSET: key field value [field value ...]; replies the new fields or OK. */
static void hset_generic(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int reply_ok) {
    dfm_key_t *k;
    hobj_t *h;
    if (argc % 2 == 1) {
        hs_api->reply_errorf(ctx, "ERR wrong number of arguments for '%s' command",
                             reply_ok ? "hmset" : "hset");
        return;
    }
    if (hs_lookup_create(ctx, &argv[1], &k, &h) < 0) return;
    long long added = 0;
    for (int i = 2; i < argc; i += 2) added += hobj_set(h, &argv[i], &argv[i + 1]);
    hs_changed(ctx, &argv[1], k, h, "hset");
    if (reply_ok)
        hs_api->reply_ok(ctx);
    else
        hs_api->reply_int(ctx, added);
}

void hs_cmd_hset(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    hset_generic(ctx, argc, argv, 0);
}

void hs_cmd_hmset(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    hset_generic(ctx, argc, argv, 1);
}

void hs_cmd_hsetnx(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    dfm_key_t *k;
    hobj_t *h;
    dfm_str_t v;
    if (hs_lookup_create(ctx, &argv[1], &k, &h) < 0) return;
    if (h->count > 0 && hobj_get(h, &argv[2], &v)) {
        hs_api->reply_int(ctx, 0);
        return;
    }
    hobj_set(h, &argv[2], &argv[3]);
    hs_changed(ctx, &argv[1], k, h, "hset");
    hs_api->reply_int(ctx, 1);
}

void hs_cmd_hdel(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    dfm_key_t *k;
    hobj_t *h;
    int found = hs_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, &k, &h);
    if (found <= 0) {
        if (found == 0) hs_api->reply_int(ctx, 0);
        return;
    }
    long long gone = 0;
    for (int i = 2; i < argc && h->count > 0; i++) gone += hobj_del(h, &argv[i]);
    if (gone) hs_changed(ctx, &argv[1], k, h, "hdel");
    hs_api->reply_int(ctx, gone);
}

void hs_cmd_hincrby(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    long long incr, cur = 0;
    dfm_key_t *k;
    hobj_t *h;
    dfm_str_t v;
    if (hs_api->arg_ll(ctx, &argv[3], &incr) < 0) return;
    if (hs_lookup_create(ctx, &argv[1], &k, &h) < 0) return;
    if (hobj_get(h, &argv[2], &v) && hs_api->str_to_ll(v.ptr, v.len, &cur) < 0) {
        hs_api->reply_error(ctx, "ERR hash value is not an integer");
        goto out;
    }
    if ((incr < 0 && cur < 0 && incr < LLONG_MIN - cur) ||
        (incr > 0 && cur > 0 && incr > LLONG_MAX - cur)) {
        hs_api->reply_error(ctx, "ERR increment or decrement would overflow");
        goto out;
    }
    char buf[32];
    cur += incr;
    int n = hs_api->ll_to_str(buf, sizeof buf, cur);
    hobj_set(h, &argv[2], &(dfm_str_t){buf, (size_t)n});
    hs_changed(ctx, &argv[1], k, h, "hincrby");
    hs_api->reply_int(ctx, cur);
    return;
out: /* an empty hash we may have just created must not stay */
    hs_changed(ctx, &argv[1], k, h, NULL);
}

void hs_cmd_hincrbyfloat(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    long double incr, cur = 0;
    dfm_key_t *k;
    hobj_t *h;
    dfm_str_t v;
    if (hs_api->str_to_ld(argv[3].ptr, argv[3].len, &incr) < 0) {
        hs_api->reply_error(ctx, "ERR value is not a valid float");
        return;
    }
    if (isnan(incr) || isinf(incr)) {
        hs_api->reply_error(ctx, "ERR value is NaN or Infinity");
        return;
    }
    if (hs_lookup_create(ctx, &argv[1], &k, &h) < 0) return;
    if (hobj_get(h, &argv[2], &v) && hs_api->str_to_ld(v.ptr, v.len, &cur) < 0) {
        hs_api->reply_error(ctx, "ERR hash value is not a float");
        goto out;
    }
    cur += incr;
    if (isnan(cur) || isinf(cur)) {
        hs_api->reply_error(ctx, "ERR increment would produce NaN or Infinity");
        goto out;
    }
    char buf[5 * 1024];
    int n = hs_api->ld_to_str(buf, sizeof buf, cur, 1);
    hobj_set(h, &argv[2], &(dfm_str_t){buf, (size_t)n});
    hs_changed(ctx, &argv[1], k, h, "hincrbyfloat");
    hs_api->reply_bulk(ctx, buf, (size_t)n);
    return;
out:
    hs_changed(ctx, &argv[1], k, h, NULL);
}
