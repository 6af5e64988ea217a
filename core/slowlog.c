/*
 * slowlog.c: the slow log (SLOWLOG GET / LEN / RESET / HELP) and the per-command check that
 * feeds it and the latency monitor (monitor_record).
 *
 * Each thread logs the slow commands it runs into its own list, newest first, at most
 * slowlog-max-len long; ids come from one process-wide counter, so SLOWLOG GET merges the
 * threads' lists (a fan-out) by id and the newest slowlog-max-len entries of the server are
 * always among them. An entry keeps its reply tail ready: the arguments (at most 32, each
 * cut at 128 bytes, as Redis), the client's address and name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "cmdtab.h"
#include "config.h"
#include "fanout.h"
#include "info.h"
#include "monitor.h"
#include "reply.h"
#include "util.h"

#define SLOWLOG_MAX_ARGC 32
#define SLOWLOG_MAX_STRING 128

typedef struct slow_entry {
    struct slow_entry *next, *prev; /* newer, older */
    uint64_t id;
    int64_t time;
    uint64_t us;
    size_t len;
    char tail[]; /* RESP: the argument array, the address, the name */
} slow_entry_t;

_Thread_local uint64_t tl_observe_cycles;
_Thread_local uint64_t tl_hist_mult;
_Thread_local int64_t tl_observe_conf[2] = {INT64_MIN, INT64_MIN};
static _Thread_local slow_entry_t *tl_newest, *tl_oldest;
static _Thread_local long tl_nslow;
static _Thread_local rbuf_t tl_render; /* an entry being rendered */
static _Atomic uint64_t slowlog_next_id;

void monitor_refresh(void) {
    int64_t slow = g_config.slowlog_log_slower_than, lat = g_config.latency_monitor_threshold;
    tl_observe_conf[0] = slow;
    tl_observe_conf[1] = lat;
    uint64_t c = UINT64_MAX;
    if (slow >= 0) c = util_us_to_cycles((uint64_t)slow);
    if (lat > 0 && lat < INT64_MAX / 1000) {
        uint64_t l = util_us_to_cycles((uint64_t)lat * 1000);
        if (l < c) c = l;
    }
    tl_observe_cycles = c;
    uint64_t per1024 = util_us_to_cycles(1024) / 1000; /* cycles per 1024 ns */
    tl_hist_mult = ((uint64_t)1 << 32) / (per1024 ? per1024 : 1);
}

static void slowlog_trim(long max) {
    while (tl_nslow > max && tl_oldest) {
        slow_entry_t *e = tl_oldest;
        tl_oldest = e->next;
        if (tl_oldest)
            tl_oldest->prev = NULL;
        else
            tl_newest = NULL;
        df_free(e);
        tl_nslow--;
    }
}

/* The RESP tail of an entry: arguments, address, name. */
static void slowlog_render(rbuf_t *b, const conn_t *c, int argc, const dfm_str_t *argv) {
    dfm_ctx_t ctx = {.out = b, .resp = 2};
    int n = argc > SLOWLOG_MAX_ARGC ? SLOWLOG_MAX_ARGC : argc;
    reply_array(&ctx, n);
    for (int j = 0; j < n; j++) {
        char more[64];
        if (n != argc && j == n - 1) {
            snprintf(more, sizeof more, "... (%d more arguments)", argc - n + 1);
            reply_cstr(&ctx, more);
        } else if (argv[j].len > SLOWLOG_MAX_STRING) {
            int m = snprintf(more, sizeof more, "... (%zu more bytes)", argv[j].len - SLOWLOG_MAX_STRING);
            char buf[SLOWLOG_MAX_STRING + 64];
            memcpy(buf, argv[j].ptr, SLOWLOG_MAX_STRING);
            memcpy(buf + SLOWLOG_MAX_STRING, more, (size_t)m);
            reply_bulk(&ctx, buf, SLOWLOG_MAX_STRING + (size_t)m);
        } else {
            reply_bulk(&ctx, argv[j].ptr, argv[j].len);
        }
    }
    reply_cstr(&ctx, c ? c->addr : "");
    reply_cstr(&ctx, c && c->name ? c->name : "");
}

static void slowlog_push(const conn_t *c, const cmd_t *cmd, int argc, const dfm_str_t *argv,
                         uint64_t us) {
    rbuf_t *b = &tl_render;
    dfm_str_t red[SLOWLOG_MAX_ARGC + 1];
    int n = monitor_redact(cmd, argc, argv, red, SLOWLOG_MAX_ARGC + 1);
    if (n) { /* AUTH and HELLO keep their passwords out of the log, as Redis */
        argv = red;
        argc = n;
    }
    b->len = 0;
    slowlog_render(b, c, argc, argv);
    slow_entry_t *e = df_malloc(sizeof *e + b->len);
    e->id = atomic_fetch_add_explicit(&slowlog_next_id, 1, memory_order_relaxed);
    e->time = (int64_t)time(NULL);
    e->us = us;
    e->len = b->len;
    memcpy(e->tail, b->data, b->len);
    if (b->cap > 64 * 1024) rbuf_free(b);
    e->next = NULL;
    e->prev = tl_newest;
    if (tl_newest)
        tl_newest->next = e;
    else
        tl_oldest = e;
    tl_newest = e;
    tl_nslow++;
    slowlog_trim(g_config.slowlog_max_len);
}

void monitor_record(const conn_t *c, const cmd_t *cmd, int db, int argc, const dfm_str_t *argv,
                    uint64_t cycles) {
    (void)db;
    uint64_t us = util_cycles_to_us(cycles);
    int64_t slow = g_config.slowlog_log_slower_than;
    if (slow >= 0 && us >= (uint64_t)slow && !(cmd->flags & CMD_SKIP_SLOWLOG) && argc > 0)
        slowlog_push(c, cmd, argc, argv, us);
    int64_t lat = g_config.latency_monitor_threshold;
    if (lat > 0 && (int64_t)(us / 1000) >= lat)
        latency_add_sample((cmd->flags & CMD_FAST) ? "fast-command" : "command", us / 1000);
}

/* ------------------------------------------------------------------------------------ */
/* SLOWLOG                                                                                */

/* A worker's part: its entries, newest first, as (id, length, RESP of the whole entry). */
static void slowlog_get_worker(worker_t *w, rbuf_t *out, void *arg) {
    (void)w;
    long max = *(long *)arg;
    long n = 0;
    for (slow_entry_t *e = tl_newest; e && (max < 0 || n < max); e = e->prev, n++) {
        char head[96];
        int h = snprintf(head, sizeof head, "*6\r\n:%llu\r\n:%lld\r\n:%llu\r\n",
                         (unsigned long long)e->id, (long long)e->time, (unsigned long long)e->us);
        uint64_t len = (uint64_t)h + e->len;
        rbuf_append(out, &e->id, sizeof e->id);
        rbuf_append(out, &len, sizeof len);
        rbuf_append(out, head, (size_t)h);
        rbuf_append(out, e->tail, e->len);
    }
}

typedef struct slow_ref {
    uint64_t id;
    const char *p;
    size_t len;
} slow_ref_t;

static int slow_ref_cmp(const void *a, const void *b) {
    uint64_t x = ((const slow_ref_t *)a)->id, y = ((const slow_ref_t *)b)->id;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void slowlog_get_done(dfm_ctx_t *ctx, rbuf_t *parts, int n, void *arg) {
    long max = *(long *)arg;
    size_t cap = 0, cnt = 0;
    slow_ref_t *refs = NULL;
    for (int i = 0; i < n; i++)
        for (size_t off = 0; off + 16 <= parts[i].len;) {
            uint64_t id, len;
            memcpy(&id, parts[i].data + off, 8);
            memcpy(&len, parts[i].data + off + 8, 8);
            if (cnt == cap) {
                cap = cap ? cap * 2 : 16;
                refs = df_realloc(refs, cap * sizeof *refs);
            }
            refs[cnt++] = (slow_ref_t){id, parts[i].data + off + 16, (size_t)len};
            off += 16 + (size_t)len;
        }
    if (cnt > 1) qsort(refs, cnt, sizeof *refs, slow_ref_cmp);
    if (max >= 0 && cnt > (size_t)max) cnt = (size_t)max;
    reply_array(ctx, (long)cnt);
    for (size_t i = 0; i < cnt; i++) reply_raw(ctx, refs[i].p, refs[i].len);
    df_free(refs);
}

static void slowlog_len_worker(worker_t *w, rbuf_t *out, void *arg) {
    (void)w;
    (void)arg;
    char buf[32];
    rbuf_append(out, buf, (size_t)snprintf(buf, sizeof buf, "%ld", tl_nslow));
}

static void slowlog_len_done(dfm_ctx_t *ctx, rbuf_t *parts, int n, void *arg) {
    (void)arg;
    long long sum = fanout_sum_parts(parts, n);
    if (sum > g_config.slowlog_max_len) sum = g_config.slowlog_max_len;
    reply_int(ctx, sum);
}

static void slowlog_reset_worker(worker_t *w, rbuf_t *out, void *arg) {
    (void)w;
    (void)out;
    (void)arg;
    slowlog_trim(0);
}

static void slowlog_ok_done(dfm_ctx_t *ctx, rbuf_t *parts, int n, void *arg) {
    (void)parts;
    (void)n;
    (void)arg;
    reply_ok(ctx);
}

static void slowlog_get_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    long long count = 10;
    if (argc == 3 && (util_str2ll(argv[2].ptr, argv[2].len, &count) != 0 || count < -1)) {
        reply_error(ctx, "ERR count should be greater than or equal to -1");
        return;
    }
    long *max = df_malloc(sizeof *max);
    *max = count == -1 || count > g_config.slowlog_max_len ? (long)g_config.slowlog_max_len
                                                            : (long)count;
    fanout_run_or_here(ctx, slowlog_get_worker, slowlog_get_done, max, df_free);
}

static void slowlog_len_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    (void)argv;
    fanout_run_or_here(ctx, slowlog_len_worker, slowlog_len_done, NULL, NULL);
}

static void slowlog_reset_here(void *arg) {
    (void)arg;
    slowlog_trim(0);
}

static void slowlog_reset_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    (void)argv;
    if (ctx->tx) { /* inside EXEC nothing may wait for other threads: reset them unwaited */
        worker_broadcast(slowlog_reset_here, NULL);
        reply_ok(ctx);
        return;
    }
    fanout_run_or_here(ctx, slowlog_reset_worker, slowlog_ok_done, NULL, NULL);
}

static void slowlog_help_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    (void)argv;
    static const char *const lines[] = {
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        NULL,
    };
    command_reply_help(ctx, "SLOWLOG", lines);
}

void monitor_worker_exit(void) {
    slowlog_trim(0);
    rbuf_free(&tl_render);
    monitor_worker_exit_lines();
    latency_worker_exit();
}

#define SLOWLOG_SUB(NAME, ARITY, FLAGS, SUMMARY, CPLX, ARGS, FN)                              \
    {.name = NAME, .arity = ARITY, .flags = FLAGS " @conn", .acl_categories = "@admin @slow @dangerous", \
     .summary = SUMMARY, .since = "2.2.12", .group = "server", .complexity = CPLX,          \
     .args_doc = ARGS, .handler = FN}

static const dfm_command_t slowlog_cmds[] = {
    SLOWLOG_SUB("slowlog|get", -2, "admin loading stale", "Get the slow log's entries",
                "O(N) where N is the number of entries returned", "[count]", slowlog_get_cmd),
    SLOWLOG_SUB("slowlog|len", 2, "admin loading stale", "Get the slow log's length", "O(1)", "",
                slowlog_len_cmd),
    SLOWLOG_SUB("slowlog|reset", 2, "admin loading stale", "Clear all entries from the slow log",
                "O(N) where N is the number of entries in the slowlog", "", slowlog_reset_cmd),
    {.name = "slowlog|help", .arity = 2, .flags = "loading stale @conn", .acl_categories = "@slow",
     .summary = "Show helpful text about the different subcommands", .since = "6.2.0",
     .group = "server", .complexity = "O(1)", .handler = slowlog_help_cmd},
};

void cmd_slowlog_register(void) { cmdtab_register(slowlog_cmds, CMDTAB_COUNT(slowlog_cmds)); }
