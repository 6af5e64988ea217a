/*
 * get.c: the hash commands that read: HGET, HMGET, HLEN, HSTRLEN, HEXISTS, HGETALL, HKEYS and
 * HVALS. Shard thread.
 */
#include "hashes.h"

/* Look up field argv[2] of hash argv[1]: 1 with *v set, 0 when absent, -1 replied. */
static int hget_field(dfm_ctx_t *ctx, const dfm_str_t *argv, dfm_str_t *v) {
    hobj_t *h;
    int found = hs_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &h);
    if (found <= 0) return found;
    return hobj_get(h, &argv[2], v);
}

void hs_cmd_hget(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    dfm_str_t v;
    int found = hget_field(ctx, argv, &v);
    if (found == 1)
        hs_api->reply_bulk(ctx, v.ptr, v.len);
    else if (found == 0)
        hs_api->reply_null(ctx);
}

void hs_cmd_hstrlen(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    dfm_str_t v;
    int found = hget_field(ctx, argv, &v);
    if (found >= 0) hs_api->reply_int(ctx, found ? (long long)v.len : 0);
}

void hs_cmd_hexists(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    dfm_str_t v;
    int found = hget_field(ctx, argv, &v);
    if (found >= 0) hs_api->reply_int(ctx, found);
}

void hs_cmd_hmget(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    hobj_t *h;
    dfm_str_t v;
    int found = hs_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &h);
    if (found < 0) return;
    hs_api->reply_array(ctx, argc - 2);
    for (int i = 2; i < argc; i++) {
        if (found && hobj_get(h, &argv[i], &v))
            hs_api->reply_bulk(ctx, v.ptr, v.len);
        else
            hs_api->reply_null(ctx);
    }
}

void hs_cmd_hlen(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    hobj_t *h;
    int found = hs_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &h);
    if (found >= 0) hs_api->reply_int(ctx, found ? (long long)h->count : 0);
}

#define HGET_KEYS 1
#define HGET_VALS 2

/* HGETALL / HKEYS / HVALS: what selects fields, values or both (a map). */
static void hgetall_generic(dfm_ctx_t *ctx, const dfm_str_t *argv, int what) {
    hobj_t *h;
    hobj_iter_t it;
    dfm_str_t f, v;
    int found = hs_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &h);
    if (found < 0) return;
    long n = found ? (long)h->count : 0;
    if (what == (HGET_KEYS | HGET_VALS))
        hs_api->reply_map(ctx, n);
    else
        hs_api->reply_array(ctx, n);
    if (!found) return;
    hobj_iter_init(&it, h);
    while (hobj_iter_next(&it, &f, &v)) {
        if (what & HGET_KEYS) hs_api->reply_bulk(ctx, f.ptr, f.len);
        if (what & HGET_VALS) hs_api->reply_bulk(ctx, v.ptr, v.len);
    }
}

void hs_cmd_hgetall(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    hgetall_generic(ctx, argv, HGET_KEYS | HGET_VALS);
}

void hs_cmd_hkeys(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    hgetall_generic(ctx, argv, HGET_KEYS);
}

void hs_cmd_hvals(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    hgetall_generic(ctx, argv, HGET_VALS);
}
