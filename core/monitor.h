/*
 * monitor.h: MONITOR, the slow log (SLOWLOG) and the latency monitor (LATENCY): what the
 * server tells about the commands it runs.
 *
 * Every executed command passes through monitor_observe() once, on the thread that ran it,
 * with its duration. With no MONITOR client, the slow log off or the command fast, and no
 * latency threshold, that costs two loads and three compares. Each thread keeps its own slow
 * log and latency events; SLOWLOG / LATENCY read them through a fan-out. MONITOR clients are
 * listed per worker; a command's line is sent to every worker that has one.
 */
#ifndef DF_MONITOR_H
#define DF_MONITOR_H

#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "conn.h"
#include "dispatch.h"
#include "worker.h"

extern atomic_int g_monitors; /* MONITOR clients, all workers */

/* The duration (cycles) from which a command goes into the slow log or the latency
   monitor, per thread; follows CONFIG SET at the next command. */
extern _Thread_local uint64_t tl_observe_cycles;
extern _Thread_local int64_t tl_observe_conf[2];

extern _Thread_local uint64_t tl_hist_mult; /* 2^32 / cycles per 1024 ns */

#define LAT_HIST_BUCKETS 40 /* bucket k: up to 1024 << k ns */

void monitor_refresh(void);
uint64_t *latency_hist_new(cmd_stats_t *st);

/* Count a run of `cycles` in the command's LATENCY HISTOGRAM (this worker's stats). */
static inline void latency_track(cmd_stats_t *st, uint64_t cycles) {
    uint64_t *h = atomic_load_explicit(&st->hist, memory_order_relaxed);
    if (__builtin_expect(!h, 0)) h = latency_hist_new(st);
    uint64_t q = (uint64_t)(((unsigned __int128)cycles * tl_hist_mult) >> 32);
    int k = q ? 64 - __builtin_clzll(q) : 0;
    h[k < LAT_HIST_BUCKETS ? k : LAT_HIST_BUCKETS - 1]++;
}
void monitor_record(const conn_t *c, const cmd_t *cmd, int db, int argc, const dfm_str_t *argv,
                    uint64_t cycles);
void monitor_feed(const conn_t *c, const cmd_t *cmd, int db, int argc, const dfm_str_t *argv);
/* AUTH's and HELLO's secrets as "(redacted)": fills out (at most max) and returns the new
   argc, or 0 when cmd shows its arguments as they are. */
int monitor_redact(const cmd_t *cmd, int argc, const dfm_str_t *argv, dfm_str_t *out, int max);

/*
 * Called once per executed command, on the thread that ran it. c: the client (may belong
 * to another thread: only its immutable address and its name are read; NULL for the
 * server's own work), db, argv: the command as run, cycles: its duration.
 */
static inline void monitor_observe(const conn_t *c, const cmd_t *cmd, int db, int argc,
                                   const dfm_str_t *argv, uint64_t cycles) {
    if (__builtin_expect(tl_observe_conf[0] != g_config.slowlog_log_slower_than ||
                             tl_observe_conf[1] != g_config.latency_monitor_threshold,
                         0))
        monitor_refresh();
    if (__builtin_expect(g_config.latency_tracking, 1) && tl_worker)
        latency_track(&cmd->stats[tl_worker->id], cycles);
    if (__builtin_expect(cycles >= tl_observe_cycles, 0))
        monitor_record(c, cmd, db, argc, argv, cycles);
    if (__builtin_expect(atomic_load_explicit(&g_monitors, memory_order_relaxed), 0) &&
        !(cmd->flags & (CMD_SKIP_MONITOR | CMD_ADMIN | CMD_MONITOR_SELF)))
        monitor_feed(c, cmd, db, argc, argv);
}

/* Before a command runs: scripts (skip_monitor: EVAL, FCALL...) are shown first, so that
   the commands they call follow them, as Redis does. */
static inline void monitor_before(const conn_t *c, const cmd_t *cmd, int db, int argc,
                                  const dfm_str_t *argv) {
    if (__builtin_expect(atomic_load_explicit(&g_monitors, memory_order_relaxed), 0) &&
        (cmd->flags & CMD_SKIP_MONITOR) && !(cmd->flags & CMD_ADMIN))
        monitor_feed(c, cmd, db, argc, argv);
}

/* A @monitorself command shows itself (EXEC: when its transaction is done). Client's thread. */
static inline void monitor_self(const conn_t *c, const cmd_t *cmd, int argc, const dfm_str_t *argv) {
    if (__builtin_expect(atomic_load_explicit(&g_monitors, memory_order_relaxed), 0))
        monitor_feed(c, cmd, c->db, argc, argv);
}

/* A command run by a script (redis.call): shown to MONITOR as "[db lua]". */
void monitor_feed_script(int db, int argc, const dfm_str_t *argv);

/* A client leaves MONITOR mode (closed, or RESET). Its own thread. */
void monitor_remove(conn_t *c);

/* Record a latency event (ms) in this thread's latency monitor when over the threshold
   (expire-cycle, eviction-cycle...). */
void latency_add_sample(const char *event, uint64_t ms);

/* Free this thread's slow log and latency events (worker exit). */
void monitor_worker_exit(void);
void latency_worker_exit(void);
void monitor_worker_exit_lines(void);
/* LATENCY HISTOGRAM [command ...] (latency.c). */
void latency_histogram_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
/* INFO latencystats (latency.c): one line per command that ran. */
void latency_info(rbuf_t *out);
/* CONFIG RESETSTAT: zero this worker's histograms. */
void latency_reset_hist(int worker);


#endif
