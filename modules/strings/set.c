/*
 * set.c: SET and its variants SETNX, SETEX, PSETEX and GETSET. All of them end in
 * set_generic(), which does the NX/XX/GET logic and the store; the handlers only parse.
 * Plain "SET key value" takes a fast path: no lookup, no option parsing.
 */
#include "strings.h"

/*
 * Store val under key according to o (flags and absolute expiry). int_reply chooses the
 * SETNX style replies (:1/:0) over the SET style (+OK/null); with STR_GET the reply is the old
 * value instead. The old value is replied before it is overwritten. Runs on the key's shard.
 */
static void set_generic(dfm_ctx_t *ctx, const dfm_str_t *key, const dfm_str_t *val,
                        const str_ext_opts_t *o, int int_reply) {
    int found = 0;
    if (o->flags & (STR_NX | STR_XX | STR_GET)) {
        /* NX/XX only ask "exists?", of any type; GET needs a string. */
        dfm_key_t *k = str_api->lookup(ctx, key, DFM_LOOKUP_READ | DFM_LOOKUP_WRITE);
        found = k != NULL;
        if (o->flags & STR_GET) {
            if (found && str_api->key_type(k) != DFM_TYPE_STRING) {
                str_api->reply_wrongtype(ctx);
                return;
            }
            if (found) str_reply_value(ctx, k);
            else str_api->reply_null(ctx);
        }
    }
    if (((o->flags & STR_NX) && found) || ((o->flags & STR_XX) && !found)) {
        if (o->flags & STR_GET) return;
        if (int_reply) str_api->reply_int(ctx, 0);
        else str_api->reply_null(ctx);
        return;
    }
    int64_t exp = (o->flags & STR_KEEPTTL) ? DFM_EXPIRE_KEEP : o->expire_ms;
    str_api->str_set(ctx, key, val->ptr, val->len, exp);
    str_touched(ctx, key, "set");
    if (o->flags & STR_ANY_EXPIRE) str_api->notify(ctx, "expire", key, 'g');
    if (o->flags & STR_GET) return;
    if (int_reply) str_api->reply_int(ctx, 1);
    else str_api->reply_ok(ctx);
}

/* SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL] */
void str_cmd_set(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    if (argc == 3) {
        str_api->str_set(ctx, &argv[1], argv[2].ptr, argv[2].len, DFM_EXPIRE_NONE);
        str_touched(ctx, &argv[1], "set");
        str_api->reply_ok(ctx);
        return;
    }
    str_ext_opts_t o;
    if (str_parse_ext(ctx, argc, argv, 3, "set", &o) < 0) return;
    set_generic(ctx, &argv[1], &argv[2], &o, 0);
}

/* SETNX key value: :1 when set, :0 when the key existed. */
void str_cmd_setnx(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    str_ext_opts_t o = {.flags = STR_NX, .expire_ms = DFM_EXPIRE_NONE};
    set_generic(ctx, &argv[1], &argv[2], &o, 1);
}

/* SETEX/PSETEX key ttl value, with the ttl unit given by unit_flag. */
static void setex_generic(dfm_ctx_t *ctx, const dfm_str_t *argv, int unit_flag,
                          const char *cmd) {
    str_ext_opts_t o = {.flags = unit_flag};
    if (str_parse_expire(ctx, &argv[2], unit_flag, cmd, &o.expire_ms) < 0) return;
    set_generic(ctx, &argv[1], &argv[3], &o, 0);
}

void str_cmd_setex(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    setex_generic(ctx, argv, STR_EX, "setex");
}

void str_cmd_psetex(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    setex_generic(ctx, argv, STR_PX, "psetex");
}

/* GETSET key value: SET ... GET without options (clears the TTL). */
void str_cmd_getset(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    str_ext_opts_t o = {.flags = STR_GET, .expire_ms = DFM_EXPIRE_NONE};
    set_generic(ctx, &argv[1], &argv[2], &o, 0);
}
