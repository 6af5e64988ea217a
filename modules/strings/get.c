/*
 * get.c: the reading side of plain strings: GET, GETDEL, GETEX and STRLEN.
 * GET is the hottest command of the server: one lookup, one reply, no allocation.
 */
#include "strings.h"

/* GET key */
void str_cmd_get(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    dfm_key_t *k = str_api->lookup(ctx, &argv[1], DFM_LOOKUP_READ);
    if (k == NULL) {
        str_api->reply_null(ctx);
    } else if (str_api->key_type(k) != DFM_TYPE_STRING) {
        str_api->reply_wrongtype(ctx);
    } else {
        dfm_str_t v;
        str_api->str_value(k, &v);
        str_api->reply_bulk(ctx, v.ptr, v.len);
    }
}

/* GETDEL key: the value, then the key is gone. */
void str_cmd_getdel(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    dfm_key_t *k;
    int found = str_lookup(ctx, &argv[1], DFM_LOOKUP_READ | DFM_LOOKUP_WRITE, &k);
    if (found < 0) return;
    if (!found) {
        str_api->reply_null(ctx);
        return;
    }
    str_reply_value(ctx, k);
    str_api->key_delete(ctx, k);
    str_api->signal_modified(ctx, &argv[1]);
    str_api->notify(ctx, "del", &argv[1], 'g');
}

/* Apply GETEX's expiry change to k: a time in the past deletes the key. */
static void getex_apply(dfm_ctx_t *ctx, const dfm_str_t *key, dfm_key_t *k,
                        const str_ext_opts_t *o) {
    if (o->flags & STR_ANY_EXPIRE) {
        if (o->expire_ms <= str_api->now_ms()) {
            str_api->key_delete(ctx, k);
            str_api->signal_modified(ctx, key);
            str_api->notify(ctx, "del", key, 'g');
            return;
        }
        str_api->expire_set(ctx, &k, o->expire_ms);
        str_api->signal_modified(ctx, key);
        str_api->notify(ctx, "expire", key, 'g');
    } else if ((o->flags & STR_PERSIST) && str_api->expire_get(k) >= 0) {
        str_api->expire_set(ctx, &k, -1);
        str_api->signal_modified(ctx, key);
        str_api->notify(ctx, "persist", key, 'g');
    }
}

/* GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST] */
void str_cmd_getex(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    str_ext_opts_t o;
    dfm_key_t *k;
    if (str_parse_ext(ctx, argc, argv, 2, "getex", &o) < 0) return;
    int found = str_lookup(ctx, &argv[1], DFM_LOOKUP_READ | DFM_LOOKUP_WRITE, &k);
    if (found < 0) return;
    if (!found) {
        str_api->reply_null(ctx);
        return;
    }
    str_reply_value(ctx, k);
    getex_apply(ctx, &argv[1], k, &o);
}

/* STRLEN key: 0 for a missing key. */
void str_cmd_strlen(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    dfm_key_t *k;
    int found = str_lookup(ctx, &argv[1], DFM_LOOKUP_READ, &k);
    if (found < 0) return;
    dfm_str_t v = {0};
    if (found) str_api->str_value(k, &v);
    str_api->reply_int(ctx, (long long)v.len);
}
