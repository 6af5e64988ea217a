/*
 * strings.h: what the files of the strings module share: the core's API table, the size limit,
 * small helpers for looking up string keys, and the handlers and multi-shard descriptors that
 * module.c puts in its command table. Internal to the module; nothing here is exported.
 */
#ifndef DF_STRINGS_H
#define DF_STRINGS_H

#include <dragonfly/module.h>

/* Every handler has the dfm_cmd_fn signature; many have no use for argc. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

/* The core's services, kept by dfm_module_init. */
extern const dfm_api_t *str_api;

/* Redis's default proto-max-bulk-len: the largest string value. */
#define STR_MAX_LEN (512LL * 1024 * 1024)

/*
 * Look up `key` and check it holds a string. Returns 1 and sets *k when it does, 0 when the key
 * is missing (*k = NULL), -1 after replying WRONGTYPE.
 */
static inline int str_lookup(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, dfm_key_t **k) {
    *k = str_api->lookup(ctx, key, flags);
    if (*k == NULL) return 0;
    if (str_api->key_type(*k) != DFM_TYPE_STRING) {
        str_api->reply_wrongtype(ctx);
        return -1;
    }
    return 1;
}

/* Reply the value of string key k as a bulk string. */
static inline void str_reply_value(dfm_ctx_t *ctx, const dfm_key_t *k) {
    dfm_str_t v;
    str_api->str_value(k, &v);
    str_api->reply_bulk(ctx, v.ptr, v.len);
}

/* After a write: WATCH/stats, then the keyspace event. */
static inline void str_touched(dfm_ctx_t *ctx, const dfm_str_t *key, const char *event) {
    str_api->signal_modified(ctx, key);
    str_api->notify(ctx, event, key, '$');
}

/* Replies the proto-max-bulk-len error and returns -1 when len + add exceeds the limit. */
int str_check_length(dfm_ctx_t *ctx, long long len, long long add);

/*
 * Expiry options shared by SET and GETEX (Redis's "extended string arguments").
 * str_parse_ext reads argv[start..argc-1]; `cmd` is "set" or "getex" (which words are allowed
 * and the name in the error). On success fills *o and returns 0; on error replies, returns -1.
 */
#define STR_NX 0x01
#define STR_XX 0x02
#define STR_GET 0x04
#define STR_KEEPTTL 0x08
#define STR_PERSIST 0x10
#define STR_EX 0x20
#define STR_PX 0x40
#define STR_EXAT 0x80
#define STR_PXAT 0x100
#define STR_ANY_EXPIRE (STR_EX | STR_PX | STR_EXAT | STR_PXAT)

typedef struct str_ext_opts {
    int flags;
    int64_t expire_ms; /* absolute unix ms when a STR_ANY_EXPIRE flag is set */
} str_ext_opts_t;

int str_parse_ext(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int start, const char *cmd,
                  str_ext_opts_t *o);
/* Turn an EX/PX/EXAT/PXAT argument into absolute ms; replies Redis's error and returns -1. */
int str_parse_expire(dfm_ctx_t *ctx, const dfm_str_t *arg, int unit_flag, const char *cmd,
                     int64_t *out);

/*
 * Bit offsets as SETBIT/GETBIT/BITFIELD read them. With `hash` set, "#N" means N * bits.
 * Replies "ERR bit offset is not an integer or out of range" and returns -1 on error.
 */
int str_parse_bit_offset(dfm_ctx_t *ctx, const dfm_str_t *arg, int hash, int bits,
                         uint64_t *out);
/*
 * Get a string key ready for writing bits up to bit `maxbit`: creates it or grows it (zero
 * filled). Returns the writable bytes and sets *len, or NULL after replying WRONGTYPE.
 */
char *str_bits_prepare(dfm_ctx_t *ctx, const dfm_str_t *key, uint64_t maxbit, size_t *len);

/* Handlers (single-shard). */
void str_cmd_get(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_getdel(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_getex(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_strlen(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_set(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_setnx(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_setex(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_psetex(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_getset(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_incr(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_decr(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_incrby(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_decrby(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_incrbyfloat(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_append(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_getrange(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_setrange(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_setbit(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_getbit(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_bitcount(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_bitpos(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_bitfield(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void str_cmd_bitfield_ro(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);

/* Cross-shard commands. */
extern const dfm_multi_t str_mget_multi;
extern const dfm_multi_t str_mset_multi;
extern const dfm_multi_t str_msetnx_multi;
extern const dfm_multi_t str_bitop_multi;
extern const dfm_multi_t str_lcs_multi;

#endif
