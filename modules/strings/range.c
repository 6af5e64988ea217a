/*
 * range.c: commands that read or write part of a string: GETRANGE (and its old name SUBSTR),
 * SETRANGE and APPEND. Writes grow the value in place through the core's str_resize.
 */
#include <string.h>

#include "strings.h"

/*
 * Clamp Redis-style inclusive indexes (negative = from the end) to a value of length len.
 * Returns 0 and the range in *start..*end, or -1 when the range is empty.
 */
static int range_clamp(long long len, long long *start, long long *end) {
    if (*start < 0 && *end < 0 && *start > *end) return -1;
    if (*start < 0) *start += len;
    if (*end < 0) *end += len;
    if (*start < 0) *start = 0;
    if (*end < 0) *end = 0;
    if (*end >= len) *end = len - 1;
    if (*start > *end || len == 0) return -1;
    return 0;
}

/* GETRANGE key start end (also SUBSTR) */
void str_cmd_getrange(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    long long start, end;
    dfm_key_t *k;
    if (str_api->arg_ll(ctx, &argv[2], &start) < 0) return;
    if (str_api->arg_ll(ctx, &argv[3], &end) < 0) return;
    int found = str_lookup(ctx, &argv[1], DFM_LOOKUP_READ, &k);
    if (found < 0) return;
    dfm_str_t v = {"", 0};
    if (found) str_api->str_value(k, &v);
    if (range_clamp((long long)v.len, &start, &end) < 0) {
        str_api->reply_bulk(ctx, "", 0);
        return;
    }
    str_api->reply_bulk(ctx, v.ptr + start, (size_t)(end - start + 1));
}

/*
 * Make the string at key at least `need` bytes long (creating it if k is NULL) and return its
 * writable bytes. The core zero-fills the new bytes.
 */
static char *range_grow(dfm_ctx_t *ctx, const dfm_str_t *key, dfm_key_t *k, size_t need) {
    if (k == NULL) k = str_api->str_set(ctx, key, "", 0, DFM_EXPIRE_NONE);
    dfm_str_t v;
    str_api->str_value(k, &v);
    return str_api->str_resize(ctx, &k, need > v.len ? need : v.len);
}

/* SETRANGE key offset value: reply the length after the write. */
void str_cmd_setrange(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    long long off;
    dfm_key_t *k;
    const dfm_str_t *val = &argv[3];
    if (str_api->arg_ll(ctx, &argv[2], &off) < 0) return;
    if (off < 0) {
        str_api->reply_error(ctx, "ERR offset is out of range");
        return;
    }
    int found = str_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, &k);
    if (found < 0) return;
    dfm_str_t cur = {"", 0};
    if (found) str_api->str_value(k, &cur);
    if (val->len == 0) {
        str_api->reply_int(ctx, (long long)cur.len);
        return;
    }
    if (str_check_length(ctx, off, (long long)val->len) < 0) return;
    size_t newlen = (size_t)off + val->len;
    if (newlen < cur.len) newlen = cur.len;
    char *p = range_grow(ctx, &argv[1], k, newlen);
    memcpy(p + off, val->ptr, val->len);
    str_touched(ctx, &argv[1], "setrange");
    str_api->reply_int(ctx, (long long)newlen);
}

/* APPEND key value: reply the new length. */
void str_cmd_append(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    dfm_key_t *k;
    const dfm_str_t *val = &argv[2];
    int found = str_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, &k);
    if (found < 0) return;
    if (!found) {
        str_api->str_set(ctx, &argv[1], val->ptr, val->len, DFM_EXPIRE_NONE);
        str_touched(ctx, &argv[1], "append");
        str_api->reply_int(ctx, (long long)val->len);
        return;
    }
    dfm_str_t cur;
    str_api->str_value(k, &cur);
    size_t oldlen = cur.len;
    if (str_check_length(ctx, (long long)oldlen, (long long)val->len) < 0) return;
    char *p = str_api->str_resize(ctx, &k, oldlen + val->len);
    memcpy(p + oldlen, val->ptr, val->len);
    str_touched(ctx, &argv[1], "append");
    str_api->reply_int(ctx, (long long)(oldlen + val->len));
}
