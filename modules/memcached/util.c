/*
 * util.c: small helpers of the memcached module: number parsing with memcached's rules,
 * exptime to an absolute deadline, the per-shard CAS counters and the per-thread counters.
 */
#include <stdatomic.h>
#include <string.h>

#include "mc.h"

_Atomic long mc_curr_conns, mc_total_conns;

/* One CAS counter per shard, each on its own cache line; only the shard's thread writes it. */
static struct {
    _Alignas(64) uint64_t next;
} mc_cas[MC_MAX_SHARDS];

static mc_stats_t mc_stats_per_thread[256];

int mc_parse_u64(const dfm_str_t *s, uint64_t *out) {
    if (s->len == 0 || s->len > 20) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < s->len; i++) {
        unsigned d = (unsigned)(s->ptr[i] - '0');
        if (d > 9 || v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int mc_parse_i64(const dfm_str_t *s, int64_t *out) {
    int neg = s->len > 0 && s->ptr[0] == '-';
    dfm_str_t digits = {s->ptr + neg, s->len - (size_t)neg};
    uint64_t v;
    if (mc_parse_u64(&digits, &v) < 0 || v > (uint64_t)INT64_MAX) return -1;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

/* memcached's realtime(): 0 never; negative: already expired; up to 30 days: seconds from
   now; beyond: a unix time (one in the past: already expired). Returns absolute ms or -1. */
int64_t mc_expire_ms(int64_t exptime) {
    if (exptime == 0) return -1;
    if (exptime < 0) return 0;
    if (exptime > MC_REALTIME_MAXDELTA) return exptime * 1000;
    return mc_api->now_ms() + exptime * 1000;
}

int mc_expired(int64_t at_ms) { return at_ms >= 0 && at_ms <= mc_api->now_ms(); }

uint64_t mc_next_cas(dfm_ctx_t *ctx) {
    int sid = mc_api->shard_id(ctx);
    if (sid < 0 || sid >= MC_MAX_SHARDS) sid = 0;
    return ++mc_cas[sid].next;
}

void mc_reply(dfm_ctx_t *ctx, const char *line) {
    mc_api->reply_raw(ctx, line, strlen(line));
    mc_api->reply_raw(ctx, "\r\n", 2);
}

int mc_noreply(const dfm_str_t *flag) { return flag->len != 0; }

mc_stats_t *mc_stats_here(void) {
    int t = mc_api->thread_id();
    return &mc_stats_per_thread[t >= 0 && t < 256 ? t : 255];
}

void mc_count(uint64_t *field) {
    __atomic_store_n(field, __atomic_load_n(field, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

/* The sum of one counter over every thread (offset of the field in mc_stats_t). */
uint64_t mc_stats_sum(size_t offset) {
    uint64_t n = 0;
    for (int t = 0; t < 256; t++)
        n += __atomic_load_n((uint64_t *)((char *)&mc_stats_per_thread[t] + offset), __ATOMIC_RELAXED);
    return n;
}

int mc_meta_next(dfm_str_t *span, dfm_str_t *tok) {
    size_t i = 0;
    while (i < span->len && span->ptr[i] == ' ') i++;
    size_t s = i;
    while (i < span->len && span->ptr[i] != ' ') i++;
    *tok = (dfm_str_t){span->ptr + s, i - s};
    span->ptr += i;
    span->len -= i;
    return tok->len > 0;
}

int mc_meta_has(dfm_str_t span, char flag, dfm_str_t *token) {
    dfm_str_t tok;
    while (mc_meta_next(&span, &tok)) {
        if (tok.ptr[0] != flag) continue;
        if (token) *token = (dfm_str_t){tok.ptr + 1, tok.len - 1};
        return 1;
    }
    return 0;
}
