/*
 * range.c: XRANGE and XREVRANGE: inclusive or "(" exclusive bounds, "-" "+", COUNT. Shard
 * thread.
 */
#include "streams.h"

/* One bound: "(" makes it exclusive (strict id); step it past itself. Replies on error. */
int xs_parse_bound(dfm_ctx_t *ctx, const dfm_str_t *a, sid_t *id, int start) {
    int excl = a->len > 1 && a->ptr[0] == '(';
    uint64_t missing = start ? 0 : UINT64_MAX;
    if (excl) {
        dfm_str_t rest = {a->ptr + 1, a->len - 1};
        if (xs_parse_id(ctx, &rest, id, missing, 1, NULL) < 0) return -1;
        if ((start ? sid_incr(id) : sid_decr(id)) < 0) {
            xs_api->reply_error(ctx, start ? "ERR invalid start ID for the interval"
                                           : "ERR invalid end ID for the interval");
            return -1;
        }
        return 0;
    }
    return xs_parse_id(ctx, a, id, missing, 0, NULL);
}

static void reply_range(dfm_ctx_t *ctx, const stream_t *s, const sid_t *lo, const sid_t *hi,
                        long long count, int rev) {
    size_t a = stream_seek(s, lo), b = a;
    sid_t after = *hi;
    if (sid_cmp(lo, hi) <= 0) b = sid_incr(&after) < 0 ? s->len : stream_seek(s, &after);
    size_t n = b - a;
    if (count > 0 && (size_t)count < n) n = (size_t)count;
    xs_api->reply_array(ctx, (long)n);
    for (size_t i = 0; i < n; i++) xs_reply_entry(ctx, stream_at(s, rev ? b - 1 - i : a + i));
}

static void range_generic(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int rev) {
    sid_t lo, hi;
    long long count = -1;
    if (xs_parse_bound(ctx, &argv[rev ? 3 : 2], &lo, 1) < 0) return;
    if (xs_parse_bound(ctx, &argv[rev ? 2 : 3], &hi, 0) < 0) return;
    for (int j = 4; j < argc; j++) {
        if (xs_api->arg_eq(&argv[j], "count") && j + 1 < argc) {
            if (xs_api->arg_ll(ctx, &argv[++j], &count) < 0) return;
            if (count < 0) count = 0;
        } else {
            xs_api->reply_syntax_error(ctx);
            return;
        }
    }
    stream_t *s;
    int found = xs_lookup(ctx, &argv[1], DFM_LOOKUP_READ, &s, 1);
    if (found < 0) return;
    if (found == 0) {
        xs_api->reply_array(ctx, 0);
    } else if (count == 0) {
        xs_api->reply_null_array(ctx);
    } else {
        reply_range(ctx, s, &lo, &hi, count, rev);
    }
}

/* XRANGE key start end [COUNT count] */
void xs_cmd_xrange(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    range_generic(ctx, argc, argv, 0);
}

/* XREVRANGE key end start [COUNT count] */
void xs_cmd_xrevrange(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    range_generic(ctx, argc, argv, 1);
}
