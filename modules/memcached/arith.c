/*
 * arith.c: incr and decr (argv: name key delta noreply). The value must be a decimal
 * unsigned 64-bit number (trailing spaces allowed, as memcached's own padding leaves them);
 * incr wraps at 2^64, decr stops at 0. The item keeps its flags and TTL and gets a new CAS.
 * Unlike memcached, a shorter result is stored without space padding (a Redis GET of it is
 * then a plain integer). Shard thread.
 */
#include <stdio.h>

#include "mc.h"

/* The value as a number: 0, or -1 when it is not one. */
static int mc_value_u64(const dfm_str_t *v, uint64_t *out) {
    dfm_str_t digits = *v;
    while (digits.len > 0 && digits.ptr[digits.len - 1] == ' ') digits.len--;
    return mc_parse_u64(&digits, out);
}

static void mc_arith(dfm_ctx_t *ctx, const dfm_str_t *argv, int incr) {
    mc_stats_t *st = mc_stats_here();
    uint64_t delta, v;
    mc_parse_u64(&argv[2], &delta);
    dfm_key_t *k = mc_api->lookup(ctx, &argv[1], DFM_LOOKUP_WRITE);
    if (!k) {
        mc_count(incr ? &st->incr_misses : &st->decr_misses);
        mc_answer(ctx, &argv[3], "NOT_FOUND");
        return;
    }
    dfm_str_t cur = {"", 0};
    if (mc_api->key_type(k) == DFM_TYPE_STRING) mc_api->str_value(k, &cur);
    if (mc_api->key_type(k) != DFM_TYPE_STRING || mc_value_u64(&cur, &v) < 0) {
        mc_answer(ctx, &argv[3], "CLIENT_ERROR cannot increment or decrement non-numeric value");
        return;
    }
    mc_count(incr ? &st->incr_hits : &st->decr_hits);
    v = incr ? v + delta : (delta > v ? 0 : v - delta);
    uint32_t flags = 0;
    uint64_t cas;
    mc_api->str_meta(k, &flags, &cas);
    char num[24];
    int n = snprintf(num, sizeof num, "%llu", (unsigned long long)v);
    mc_put(ctx, &argv[1], num, (size_t)n, DFM_EXPIRE_KEEP, flags);
    mc_answer(ctx, &argv[3], num);
}

/* incr or decr: which one is in the name (argv[0]: "mc.incr" / "mc.decr"). */
void mc_cmd_arith(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    mc_arith(ctx, argv, argv[0].len > 3 && argv[0].ptr[3] == 'i');
}
