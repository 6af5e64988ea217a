/*
 * admin.c: the commands that need no key: a reply line the parser chose (mc.text: errors,
 * END, VERSION, OK), flush_all (every shard, as FLUSHDB of db 0) and stats (memcached's
 * general statistics; curr_items counts every shard's keys).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mc.h"

int64_t mc_start_ms;

/* mc.text line: the line and "\r\n", on the client's thread. */
void mc_cmd_text(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    mc_api->reply_raw(ctx, argv[1].ptr, argv[1].len);
    mc_api->reply_raw(ctx, "\r\n", 2);
}

/* mc.flush_all noreply: each shard empties db 0. A delay is not supported: it flushes now. */
static int mc_flush_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                          const int *keys, int nkeys) {
    (void)phase, (void)state, (void)argc, (void)argv, (void)keys, (void)nkeys;
    mc_api->db_flush(ctx);
    return 0;
}

static void mc_flush_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)state, (void)argc;
    mc_count(&mc_stats_here()->cmd_flush);
    mc_answer(ctx, &argv[1], "OK");
}

const dfm_multi_t mc_flush_multi = {1, mc_flush_phase, mc_flush_reply};

/* mc.stats: phase adds each shard's key count into *state (an allocated int64_t). */
static int mc_stats_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                          const int *keys, int nkeys) {
    (void)phase, (void)argc, (void)argv, (void)keys, (void)nkeys;
    if (!*state) {
        *state = mc_api->alloc(sizeof(int64_t));
        *(int64_t *)*state = 0;
    }
    *(int64_t *)*state += mc_api->db_keys(ctx);
    return 0;
}

static void mc_stat(dfm_ctx_t *ctx, const char *name, unsigned long long v) {
    char line[128];
    int n = snprintf(line, sizeof line, "STAT %s %llu\r\n", name, v);
    mc_api->reply_raw(ctx, line, (size_t)n);
}

static void mc_stats_counters(dfm_ctx_t *ctx) {
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
        {"cmd_get", offsetof(mc_stats_t, cmd_get)},       {"cmd_set", offsetof(mc_stats_t, cmd_set)},
        {"cmd_flush", offsetof(mc_stats_t, cmd_flush)},   {"cmd_touch", offsetof(mc_stats_t, cmd_touch)},
        {"get_hits", offsetof(mc_stats_t, get_hits)},     {"get_misses", offsetof(mc_stats_t, get_misses)},
        {"get_expired", offsetof(mc_stats_t, get_expired)},
        {"delete_misses", offsetof(mc_stats_t, delete_misses)},
        {"delete_hits", offsetof(mc_stats_t, delete_hits)},
        {"incr_misses", offsetof(mc_stats_t, incr_misses)},
        {"incr_hits", offsetof(mc_stats_t, incr_hits)},
        {"decr_misses", offsetof(mc_stats_t, decr_misses)},
        {"decr_hits", offsetof(mc_stats_t, decr_hits)},
        {"cas_misses", offsetof(mc_stats_t, cas_misses)}, {"cas_hits", offsetof(mc_stats_t, cas_hits)},
        {"cas_badval", offsetof(mc_stats_t, cas_badval)},
        {"touch_hits", offsetof(mc_stats_t, touch_hits)},
        {"touch_misses", offsetof(mc_stats_t, touch_misses)},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        mc_stat(ctx, fields[i].name, mc_stats_sum(fields[i].off));
}

static void mc_stats_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    int64_t now = mc_api->now_ms();
    char line[128];
    mc_stat(ctx, "pid", (unsigned long long)getpid());
    mc_stat(ctx, "uptime", (unsigned long long)((now - mc_start_ms) / 1000));
    mc_stat(ctx, "time", (unsigned long long)(now / 1000));
    int n = snprintf(line, sizeof line, "STAT version %s\r\n", MC_VERSION);
    mc_api->reply_raw(ctx, line, (size_t)n);
    mc_stat(ctx, "pointer_size", sizeof(void *) * 8);
    mc_stat(ctx, "curr_connections", (unsigned long long)atomic_load(&mc_curr_conns));
    mc_stat(ctx, "total_connections", (unsigned long long)atomic_load(&mc_total_conns));
    mc_stats_counters(ctx);
    mc_stat(ctx, "threads", (unsigned long long)mc_api->num_threads());
    mc_stat(ctx, "curr_items", *state ? (unsigned long long)*(int64_t *)*state : 0);
    mc_stat(ctx, "limit_maxbytes", 0);
    mc_api->reply_raw(ctx, "END\r\n", 5);
    mc_api->free(*state);
    *state = NULL;
}

const dfm_multi_t mc_stats_multi = {1, mc_stats_phase, mc_stats_reply};
