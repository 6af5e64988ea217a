/*
 * opts.c: argument parsing shared by several string commands: the SET/GETEX expiry options
 * (NX XX GET KEEPTTL PERSIST EX PX EXAT PXAT), the proto-max-bulk-len check and bit offsets.
 * The rules follow Redis 7.0: syntax is checked over all words first, the expiry value after.
 */
#include <limits.h>

#include "strings.h"

int str_check_length(dfm_ctx_t *ctx, long long len, long long add) {
    if (len > STR_MAX_LEN || add > STR_MAX_LEN - len) { /* no len + add: it may overflow */
        str_api->reply_error(ctx, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return -1;
    }
    return 0;
}

/* Which expiry unit flag, if any, the word `a` names. */
static int ext_expire_word(const dfm_str_t *a) {
    if (str_api->arg_eq(a, "ex")) return STR_EX;
    if (str_api->arg_eq(a, "px")) return STR_PX;
    if (str_api->arg_eq(a, "exat")) return STR_EXAT;
    if (str_api->arg_eq(a, "pxat")) return STR_PXAT;
    return 0;
}

/*
 * Apply one option word to *flags. Returns how many extra argv entries it consumed (0 or 1),
 * or -1 when the word is not allowed here. *expire_arg receives an expiry value argument.
 */
static int ext_word(const dfm_str_t *a, int has_next, int is_set, int *flags,
                    const dfm_str_t **expire_arg) {
    int f = *flags, unit;
    if (is_set && str_api->arg_eq(a, "nx") && !(f & STR_XX)) {
        *flags |= STR_NX;
    } else if (is_set && str_api->arg_eq(a, "xx") && !(f & STR_NX)) {
        *flags |= STR_XX;
    } else if (is_set && str_api->arg_eq(a, "get")) {
        *flags |= STR_GET;
    } else if (is_set && str_api->arg_eq(a, "keepttl") && !(f & STR_ANY_EXPIRE)) {
        *flags |= STR_KEEPTTL;
    } else if (!is_set && str_api->arg_eq(a, "persist") && !(f & STR_ANY_EXPIRE)) {
        *flags |= STR_PERSIST;
    } else if ((unit = ext_expire_word(a)) != 0 && has_next &&
               !(f & (STR_KEEPTTL | STR_PERSIST)) && !(f & STR_ANY_EXPIRE & ~unit)) {
        *flags |= unit;
        *expire_arg = a + 1;
        return 1;
    } else {
        return -1;
    }
    return 0;
}

int str_parse_ext(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int start, const char *cmd,
                  str_ext_opts_t *o) {
    const dfm_str_t *expire_arg = NULL;
    int is_set = cmd[0] == 's';
    o->flags = 0;
    o->expire_ms = DFM_EXPIRE_NONE;
    for (int i = start; i < argc; i++) {
        int used = ext_word(&argv[i], i + 1 < argc, is_set, &o->flags, &expire_arg);
        if (used < 0) {
            str_api->reply_syntax_error(ctx);
            return -1;
        }
        i += used;
    }
    if (expire_arg == NULL) return 0;
    return str_parse_expire(ctx, expire_arg, o->flags & STR_ANY_EXPIRE, cmd, &o->expire_ms);
}

int str_parse_expire(dfm_ctx_t *ctx, const dfm_str_t *arg, int unit_flag, const char *cmd,
                     int64_t *out) {
    long long v;
    if (str_api->arg_ll(ctx, arg, &v) < 0) return -1;
    int seconds = unit_flag & (STR_EX | STR_EXAT);
    if (v <= 0 || (seconds && v > LLONG_MAX / 1000)) goto bad;
    if (seconds) v *= 1000;
    if ((unit_flag & (STR_EX | STR_PX)) && __builtin_add_overflow(v, str_api->now_ms(), &v))
        goto bad;
    *out = v;
    return 0;
bad:
    str_api->reply_errorf(ctx, "ERR invalid expire time in '%s' command", cmd);
    return -1;
}

int str_parse_bit_offset(dfm_ctx_t *ctx, const dfm_str_t *arg, int hash, int bits,
                         uint64_t *out) {
    long long v;
    int skip = hash && arg->len > 1 && arg->ptr[0] == '#';
    if (str_api->str_to_ll(arg->ptr + skip, arg->len - skip, &v) < 0) goto bad;
    if (skip && __builtin_mul_overflow(v, (long long)bits, &v)) goto bad;
    if (v < 0 || (v >> 3) >= STR_MAX_LEN) goto bad;
    *out = (uint64_t)v;
    return 0;
bad:
    str_api->reply_error(ctx, "ERR bit offset is not an integer or out of range");
    return -1;
}
