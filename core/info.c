/*
 * info.c: INFO [section ...], with Redis 7.0's sections, field names and order, plus
 * dragonfly's own fields (dragonfly_version, proactor_threads, num_shards), and the
 * error-reply counters behind INFO errorstats.
 *
 * Per-shard numbers (keys, expires, hits, misses, expired and evicted keys) live in the
 * shards and may be read only by their owner threads, so INFO is an "@allshards" command: its
 * phase runs on every shard's thread and adds that shard's numbers into the state; the reply
 * (on any thread) formats everything, reading only the state, atomics and process-wide
 * counters. One function per section. The Prometheus endpoint (metrics.c) reports the same
 * numbers through the exported pieces: info_shards_add on each shard's thread, the worker and
 * command totals from any thread.
 */
#include "info.h"
#include "monitor.h"
#include "snapshot.h"
#include "master.h"
#include "migrate.h"
#include "replica.h"
#include "lazyfree.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "alloc.h"
#include "aof.h"
#include "api.h"
#include "block.h"
#include "cmdtab.h"
#include "config.h"
#include "db.h"
#include "dispatch.h"
#include "module_loader.h"
#include "server.h"
#include "tracking.h"
#include "util.h"
#include "worker.h"

/* ------------------------------------------------------------------------------------ */
/* Error counters                                                                         */

#define INFO_MAX_ERRORS 128

static struct {
    char code[32];
    _Atomic uint64_t count;
} info_errors[INFO_MAX_ERRORS];
static atomic_int info_nerrors;
static _Atomic uint64_t info_total_errors;
static pthread_mutex_t info_errors_lock = PTHREAD_MUTEX_INITIALIZER;

/* Index of code in info_errors, or -1. Entries are published before info_nerrors grows. */
static int info_error_find(const char *code, size_t len) {
    int n = atomic_load_explicit(&info_nerrors, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (strlen(info_errors[i].code) == len && memcmp(info_errors[i].code, code, len) == 0) return i;
    return -1;
}

void info_count_error(const char *err) {
    atomic_fetch_add_explicit(&info_total_errors, 1, memory_order_relaxed);
    size_t len = strcspn(err, " ");
    if (len == 0 || len >= sizeof info_errors[0].code) return;
    int i = info_error_find(err, len);
    if (i < 0) {
        pthread_mutex_lock(&info_errors_lock);
        i = info_error_find(err, len);
        int n = atomic_load(&info_nerrors);
        if (i < 0 && n < INFO_MAX_ERRORS) {
            memcpy(info_errors[n].code, err, len);
            info_errors[n].code[len] = '\0';
            atomic_store(&info_errors[n].count, 0);
            atomic_store_explicit(&info_nerrors, n + 1, memory_order_release);
            i = n;
        }
        pthread_mutex_unlock(&info_errors_lock);
        if (i < 0) return;
    }
    atomic_fetch_add_explicit(&info_errors[i].count, 1, memory_order_relaxed);
}

void info_reset_errors(void) {
    int n = atomic_load(&info_nerrors);
    for (int i = 0; i < n; i++) atomic_store(&info_errors[i].count, 0);
    atomic_store(&info_total_errors, 0);
}

/* ------------------------------------------------------------------------------------ */
/* Formatting helpers                                                                     */

void info_bytes_human(char *buf, size_t cap, uint64_t n) {
    static const char units[] = "BKMGTPE";
    double d = (double)n;
    int u = 0;
    while (d >= 1024 && u < 6) {
        d /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, cap, "%lluB", (unsigned long long)n);
    else
        snprintf(buf, cap, "%.2f%c", d, units[u]);
}

void info_line(rbuf_t *b, const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n >= (int)sizeof line) n = (int)sizeof line - 1;
    rbuf_append(b, line, (size_t)n);
    rbuf_append(b, "\r\n", 2);
}

/* Start a section: a blank line between sections, then "# Title". */
static void info_title(rbuf_t *b, const char *title) {
    if (b->len) rbuf_append(b, "\r\n", 2);
    info_line(b, "# %s", title);
}

/* ------------------------------------------------------------------------------------ */
/* What the shards report                                                                 */

info_shards_t *info_shards_new(void) {
    info_shards_t *st = df_calloc(sizeof *st);
    st->ndbs = g_nshards ? g_shards[0].ndbs : 0;
    st->keys = df_calloc(sizeof(uint64_t) * (size_t)(st->ndbs + 1));
    st->expires = df_calloc(sizeof(uint64_t) * (size_t)(st->ndbs + 1));
    return st;
}

void info_shards_free(info_shards_t *st) {
    if (!st) return;
    df_free(st->keys);
    df_free(st->expires);
    df_free(st);
}

void info_shards_add(info_shards_t *st, shard_t *s) {
    st->hits += s->stats.hits;
    st->misses += s->stats.misses;
    st->expired += s->stats.expired;
    st->evicted += s->stats.evicted;
    size_t exp_total = 0;
    for (int d = 0; d < s->ndbs && d < st->ndbs; d++) {
        st->keys[d] += db_size(s, d);
        st->expires[d] += s->dbs[d].nexpires;
        exp_total += s->dbs[d].nexpires;
    }
    st->ttl_weighted += (double)s->stats.avg_ttl_ms * (double)exp_total;
}

/* Phase: runs on each shard's thread; adds the shard's numbers to *state. */
static int info_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                      const int *keys, int nkeys) {
    (void)phase, (void)argc, (void)argv, (void)keys, (void)nkeys;
    if (!*state) *state = info_shards_new();
    info_shards_add(*state, ctx->shard);
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Sections                                                                               */

static void info_server(rbuf_t *b) {
    struct utsname un;
    uname(&un);
    int64_t now_us = util_now_us();
    int64_t up = (now_us / 1000 - g_server.start_ms) / 1000;
    info_title(b, "Server");
    info_line(b, "redis_version:" DF_REDIS_VERSION);
    info_line(b, "dragonfly_version:%s", DF_VERSION);
    info_line(b, "redis_git_sha1:00000000");
    info_line(b, "redis_git_dirty:0");
    info_line(b, "redis_build_id:0");
    info_line(b, "redis_mode:standalone");
    info_line(b, "os:%s %s %s", un.sysname, un.release, un.machine);
    info_line(b, "arch_bits:%d", (int)(sizeof(void *) * 8));
    info_line(b, "monotonic_clock:POSIX clock_gettime");
    info_line(b, "multiplexing_api:epoll");
    info_line(b, "atomicvar_api:c11-builtin");
    info_line(b, "gcc_version:%d.%d.%d", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
    info_line(b, "process_id:%d", g_server.pid);
    info_line(b, "process_supervised:no");
    info_line(b, "run_id:%s", g_server.run_id);
    info_line(b, "tcp_port:%d", g_server.tcp_port);
    info_line(b, "server_time_usec:%lld", (long long)now_us);
    info_line(b, "uptime_in_seconds:%lld", (long long)up);
    info_line(b, "uptime_in_days:%lld", (long long)(up / 86400));
    info_line(b, "hz:%lld", (long long)g_config.hz);
    info_line(b, "configured_hz:%lld", (long long)g_config.hz);
    info_line(b, "lru_clock:%u", (unsigned)(atomic_load(&g_server.lru_clock) & 0xffffff));
    info_line(b, "executable:%s", g_server.executable);
    info_line(b, "config_file:%s", config_file_path());
    info_line(b, "io_threads_active:0");
    info_line(b, "proactor_threads:%d", g_nworkers);
    info_line(b, "num_shards:%d", g_nshards);
}

static void info_clients(rbuf_t *b) {
    info_title(b, "Clients");
    info_line(b, "connected_clients:%d", atomic_load(&g_nclients));
    info_line(b, "cluster_connections:0");
    info_line(b, "maxclients:%lld", (long long)g_config.maxclients);
    info_line(b, "client_recent_max_input_buffer:0");
    info_line(b, "client_recent_max_output_buffer:0");
    info_line(b, "blocked_clients:%ld", block_count());
    info_line(b, "tracking_clients:%ld", tracking_clients());
    info_line(b, "clients_in_timeout_table:0");
}

static void info_memory_usage(rbuf_t *b) {
    char h[32];
    size_t used = df_heap_allocated(), rss = df_rss_bytes();
    int64_t peak = atomic_load(&g_server.peak_memory);
    if ((int64_t)used > peak) peak = (int64_t)used;
    int64_t data = df_total_allocated();
    if (data < 0) data = 0;
    info_line(b, "used_memory:%zu", used);
    info_bytes_human(h, sizeof h, used);
    info_line(b, "used_memory_human:%s", h);
    info_line(b, "used_memory_rss:%zu", rss);
    info_bytes_human(h, sizeof h, rss);
    info_line(b, "used_memory_rss_human:%s", h);
    info_line(b, "used_memory_peak:%lld", (long long)peak);
    info_bytes_human(h, sizeof h, (uint64_t)peak);
    info_line(b, "used_memory_peak_human:%s", h);
    info_line(b, "used_memory_peak_perc:%.2f%%", peak ? 100.0 * (double)used / (double)peak : 100.0);
    info_line(b, "used_memory_overhead:%zu", used > (size_t)data ? used - (size_t)data : 0);
    info_line(b, "used_memory_startup:0");
    info_line(b, "used_memory_dataset:%lld", (long long)data);
    info_line(b, "used_memory_dataset_perc:%.2f%%", used ? 100.0 * (double)data / (double)used : 0.0);
}

static void info_memory(rbuf_t *b) {
    char h[32];
    info_title(b, "Memory");
    info_memory_usage(b);
    size_t used = df_heap_allocated(), rss = df_rss_bytes();
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    uint64_t total = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : 0;
    info_line(b, "total_system_memory:%llu", (unsigned long long)total);
    info_bytes_human(h, sizeof h, total);
    info_line(b, "total_system_memory_human:%s", h);
    api_info_fields(b, "memory"); /* scripting: used_memory_lua, number_of_cached_scripts... */
    info_line(b, "maxmemory:%lld", (long long)g_config.maxmemory);
    info_bytes_human(h, sizeof h, (uint64_t)g_config.maxmemory);
    info_line(b, "maxmemory_human:%s", h);
    info_line(b, "maxmemory_policy:%s", config_maxmemory_policies[g_config.maxmemory_policy]);
    size_t allocated = 0, active = 0, resident = 0;
    df_allocator_stats(&allocated, &active, &resident);
    info_line(b, "allocator_allocated:%zu", allocated);
    info_line(b, "allocator_active:%zu", active);
    info_line(b, "allocator_resident:%zu", resident);
    info_line(b, "allocator_frag_ratio:%.2f", allocated ? (double)active / (double)allocated : 0.0);
    info_line(b, "allocator_frag_bytes:%lld", (long long)active - (long long)allocated);
    info_line(b, "allocator_rss_ratio:%.2f", active ? (double)resident / (double)active : 0.0);
    info_line(b, "allocator_rss_bytes:%lld", (long long)resident - (long long)active);
    info_line(b, "rss_overhead_ratio:%.2f", resident ? (double)rss / (double)resident : 0.0);
    info_line(b, "rss_overhead_bytes:%lld", (long long)rss - (long long)resident);
    info_line(b, "mem_fragmentation_ratio:%.2f", used ? (double)rss / (double)used : 0.0);
    info_line(b, "mem_fragmentation_bytes:%lld", (long long)rss - (long long)used);
    info_line(b, "mem_not_counted_for_evict:0");
    long long backlog = backlog_histlen();
    info_line(b, "mem_replication_backlog:%lld", backlog);
    info_line(b, "mem_total_replication_buffers:%lld", backlog);
    info_line(b, "mem_clients_slaves:0");
    info_line(b, "mem_clients_normal:0");
    info_line(b, "mem_cluster_links:0");
    info_line(b, "mem_aof_buffer:0");
    info_line(b, "mem_allocator:%s", df_allocator_name());
    info_line(b, "active_defrag_running:0");
    info_line(b, "lazyfree_pending_objects:%ld", lazyfree_pending());
    info_line(b, "lazyfreed_objects:0");
}

static void info_persistence(rbuf_t *b) {
    info_title(b, "Persistence");
    info_line(b, "loading:%d", replica_loading());
    info_line(b, "async_loading:0");
    info_line(b, "current_cow_peak:0");
    info_line(b, "current_cow_size:0");
    info_line(b, "current_cow_size_age:0");
    info_line(b, "current_fork_perc:0.00");
    info_line(b, "current_save_keys_processed:0");
    info_line(b, "current_save_keys_total:0");
    snapshot_info(b);
    aof_info(b);
}

void info_worker_totals(worker_stats_t *sum) {
    memset(sum, 0, sizeof *sum);
    for (int i = 0; i < g_nworkers; i++) {
        const worker_stats_t *w = &g_workers[i].stats;
        sum->conns_received += w->conns_received;
        sum->net_in += w->net_in;
        sum->net_out += w->net_out;
        sum->reads += w->reads;
        sum->writes += w->writes;
        sum->rejected_conns += w->rejected_conns;
        sum->hops += w->hops;
        sum->wakeups += w->wakeups;
    }
}

uint64_t info_total_error_replies(void) { return atomic_load(&info_total_errors); }

/* instantaneous_*: Redis's 16 samples, one every 100 ms, of commands and network bytes per
   second (worker 0's cron takes them; INFO averages). */
#define INFO_SAMPLES 16
enum { INFO_OPS, INFO_NET_IN, INFO_NET_OUT, INFO_REPL_IN, INFO_REPL_OUT, INFO_METRICS };
static _Atomic int64_t info_samples[INFO_METRICS][INFO_SAMPLES];
static int info_sample_idx;
static int64_t info_last_ms;
static uint64_t info_last[INFO_METRICS];

void info_cron_sample(int64_t now_ms) {
    if (now_ms - info_last_ms < 100) return;
    worker_stats_t sum;
    info_worker_totals(&sum);
    uint64_t cur[INFO_METRICS] = {server_total_commands(), sum.net_in, sum.net_out,
                                  (uint64_t)replica_repl_input_bytes(),
                                  (uint64_t)master_repl_output_bytes()};
    int64_t dt = now_ms - info_last_ms;
    for (int m = 0; m < INFO_METRICS && info_last_ms; m++) {
        int64_t rate = cur[m] >= info_last[m] ? (int64_t)((cur[m] - info_last[m]) * 1000 / (uint64_t)dt) : 0;
        atomic_store_explicit(&info_samples[m][info_sample_idx], rate, memory_order_relaxed);
    }
    if (info_last_ms) info_sample_idx = (info_sample_idx + 1) % INFO_SAMPLES;
    memcpy(info_last, cur, sizeof cur);
    info_last_ms = now_ms;
}

static double info_instant(int m) {
    int64_t sum = 0;
    for (int i = 0; i < INFO_SAMPLES; i++)
        sum += atomic_load_explicit(&info_samples[m][i], memory_order_relaxed);
    return (double)sum / INFO_SAMPLES;
}

static void info_stats(rbuf_t *b, const info_shards_t *st) {
    worker_stats_t sum;
    info_worker_totals(&sum);
    info_title(b, "Stats");
    info_line(b, "total_connections_received:%llu", (unsigned long long)sum.conns_received);
    info_line(b, "total_commands_processed:%llu", (unsigned long long)server_total_commands());
    info_line(b, "instantaneous_ops_per_sec:%lld", (long long)info_instant(INFO_OPS));
    info_line(b, "total_net_input_bytes:%llu", (unsigned long long)sum.net_in);
    info_line(b, "total_net_output_bytes:%llu", (unsigned long long)sum.net_out);
    info_line(b, "total_net_repl_input_bytes:%lld", replica_repl_input_bytes());
    info_line(b, "total_net_repl_output_bytes:%lld", master_repl_output_bytes());
    info_line(b, "instantaneous_input_kbps:%.2f", info_instant(INFO_NET_IN) / 1024);
    info_line(b, "instantaneous_output_kbps:%.2f", info_instant(INFO_NET_OUT) / 1024);
    info_line(b, "instantaneous_input_repl_kbps:%.2f", info_instant(INFO_REPL_IN) / 1024);
    info_line(b, "instantaneous_output_repl_kbps:%.2f", info_instant(INFO_REPL_OUT) / 1024);
    info_line(b, "rejected_connections:%llu", (unsigned long long)sum.rejected_conns);
    long long sync[3];
    master_sync_stats(sync);
    info_line(b, "sync_full:%lld", sync[0]);
    info_line(b, "sync_partial_ok:%lld", sync[1]);
    info_line(b, "sync_partial_err:%lld", sync[2]);
    info_line(b, "expired_keys:%llu", (unsigned long long)st->expired);
    info_line(b, "expired_stale_perc:0.00");
    info_line(b, "expired_time_cap_reached_count:0");
    info_line(b, "expire_cycle_cpu_milliseconds:0");
    info_line(b, "evicted_keys:%llu", (unsigned long long)st->evicted);
    info_line(b, "evicted_clients:0");
    info_line(b, "total_eviction_exceeded_time:0");
    info_line(b, "current_eviction_exceeded_time:0");
    info_line(b, "keyspace_hits:%llu", (unsigned long long)st->hits);
    info_line(b, "keyspace_misses:%llu", (unsigned long long)st->misses);
    long long ps[3];
    api_pubsub_stats(ps);
    info_line(b, "pubsub_channels:%lld", ps[0]);
    info_line(b, "pubsub_patterns:%lld", ps[1]);
    info_line(b, "pubsubshard_channels:%lld", ps[2]);
    info_line(b, "latest_fork_usec:0");
    info_line(b, "total_forks:0");
    info_line(b, "migrate_cached_sockets:%d", mlink_cached_count());
    info_line(b, "slave_expires_tracked_keys:0");
    info_line(b, "active_defrag_hits:0"); /* no defragmentation: jemalloc's own only */
    info_line(b, "active_defrag_misses:0");
    info_line(b, "active_defrag_key_hits:0");
    info_line(b, "active_defrag_key_misses:0");
    info_line(b, "total_active_defrag_time:0");
    info_line(b, "current_active_defrag_time:0");
    long long tk, ti, tp;
    tracking_totals(&tk, &ti, &tp);
    info_line(b, "tracking_total_keys:%lld", tk);
    info_line(b, "tracking_total_items:%lld", ti);
    info_line(b, "tracking_total_prefixes:%lld", tp);
    info_line(b, "unexpected_error_replies:0");
    info_line(b, "total_error_replies:%llu", (unsigned long long)info_total_error_replies());
    info_line(b, "dump_payload_sanitizations:0");
    info_line(b, "total_reads_processed:%llu", (unsigned long long)sum.reads);
    info_line(b, "total_writes_processed:%llu", (unsigned long long)sum.writes);
    info_line(b, "io_threaded_reads_processed:0");
    info_line(b, "io_threaded_writes_processed:0");
    info_line(b, "reply_buffer_shrinks:0");
    info_line(b, "reply_buffer_expands:0");
    info_line(b, "total_hops:%llu", (unsigned long long)sum.hops);
    info_line(b, "total_thread_wakeups:%llu", (unsigned long long)sum.wakeups);
}

static void info_replication(rbuf_t *b) {
    info_title(b, "Replication");
    replica_info(b);
}

static double info_tv(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

static void info_cpu(rbuf_t *b) {
    struct rusage self, children, thread;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    getrusage(RUSAGE_THREAD, &thread);
    info_title(b, "CPU");
    info_line(b, "used_cpu_sys:%.6f", info_tv(self.ru_stime));
    info_line(b, "used_cpu_user:%.6f", info_tv(self.ru_utime));
    info_line(b, "used_cpu_sys_children:%.6f", info_tv(children.ru_stime));
    info_line(b, "used_cpu_user_children:%.6f", info_tv(children.ru_utime));
    info_line(b, "used_cpu_sys_main_thread:%.6f", info_tv(thread.ru_stime));
    info_line(b, "used_cpu_user_main_thread:%.6f", info_tv(thread.ru_utime));
}

static void info_modules(rbuf_t *b) {
    info_title(b, "Modules");
    for (int i = 0; i < modules_count(); i++) {
        const dfm_module_t *m = modules_at(i);
        int x = 0, y = 0, z = 0;
        sscanf(m->version ? m->version : "0", "%d.%d.%d", &x, &y, &z);
        info_line(b, "module:name=%s,ver=%d,api=%d,filters=0,usedby=[],using=[],options=[]",
                  m->name, x * 10000 + y * 100 + z, DFM_ABI_MAJOR);
    }
}

int info_cmd_totals(const cmd_t *c, cmd_stats_t *t) {
    memset(t, 0, sizeof *t);
    for (int w = 0; w < g_nworkers; w++) {
        t->calls += c->stats[w].calls;
        t->usec += c->stats[w].usec;
        t->rejected += c->stats[w].rejected;
        t->failed += c->stats[w].failed;
    }
    return t->calls || t->rejected || t->failed;
}

static void info_cmdstat(rbuf_t *b, const cmd_t *c) {
    cmd_stats_t t;
    if (!info_cmd_totals(c, &t)) return;
    info_line(b, "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=%llu,failed_calls=%llu",
              c->fullname ? c->fullname : c->name, (unsigned long long)t.calls,
              (unsigned long long)util_cycles_to_us(t.usec),
              t.calls ? (double)util_cycles_to_us(t.usec) / (double)t.calls : 0.0,
              (unsigned long long)t.rejected, (unsigned long long)t.failed);
}

static void info_commandstats(rbuf_t *b) {
    info_title(b, "Commandstats");
    for (int i = 0; i < dispatch_count(); i++) {
        const cmd_t *c = dispatch_at(i);
        info_cmdstat(b, c);
        for (int s = 0; s < c->nsubs; s++) info_cmdstat(b, c->subs[s]);
    }
}

static void info_errorstats(rbuf_t *b) {
    info_title(b, "Errorstats");
    int n = atomic_load_explicit(&info_nerrors, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        uint64_t v = atomic_load(&info_errors[i].count);
        if (v) info_line(b, "errorstat_%s:count=%llu", info_errors[i].code, (unsigned long long)v);
    }
}

static void info_keyspace(rbuf_t *b, const info_shards_t *st) {
    uint64_t exp_total = 0;
    for (int d = 0; d < st->ndbs; d++) exp_total += st->expires[d];
    int64_t avg = exp_total ? (int64_t)(st->ttl_weighted / (double)exp_total) : 0;
    info_title(b, "Keyspace");
    for (int d = 0; d < st->ndbs; d++) {
        if (!st->keys[d]) continue;
        info_line(b, "db%d:keys=%llu,expires=%llu,avg_ttl=%lld", d, (unsigned long long)st->keys[d],
                  (unsigned long long)st->expires[d], st->expires[d] ? (long long)avg : 0LL);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Section selection and the reply                                                        */

enum {
    INFO_SERVER = 1 << 0, INFO_CLIENTS = 1 << 1, INFO_MEMORY = 1 << 2, INFO_PERSISTENCE = 1 << 3,
    INFO_STATS = 1 << 4, INFO_REPLICATION = 1 << 5, INFO_CPU = 1 << 6, INFO_MODULES = 1 << 7,
    INFO_COMMANDSTATS = 1 << 8, INFO_ERRORSTATS = 1 << 9, INFO_CLUSTER = 1 << 10,
    INFO_KEYSPACE = 1 << 11, INFO_LATENCYSTATS = 1 << 12,
    INFO_DEFAULT = INFO_SERVER | INFO_CLIENTS | INFO_MEMORY | INFO_PERSISTENCE | INFO_STATS |
                   INFO_REPLICATION | INFO_CPU | INFO_MODULES | INFO_ERRORSTATS | INFO_CLUSTER |
                   INFO_KEYSPACE,
    INFO_ALL = INFO_DEFAULT | INFO_COMMANDSTATS | INFO_LATENCYSTATS,
};

static const struct {
    const char *name;
    int bit;
} info_names[] = {
    {"server", INFO_SERVER},           {"clients", INFO_CLIENTS},   {"memory", INFO_MEMORY},
    {"persistence", INFO_PERSISTENCE}, {"stats", INFO_STATS},       {"replication", INFO_REPLICATION},
    {"cpu", INFO_CPU},                 {"modules", INFO_MODULES},   {"commandstats", INFO_COMMANDSTATS},
    {"errorstats", INFO_ERRORSTATS},   {"cluster", INFO_CLUSTER},   {"keyspace", INFO_KEYSPACE},
    {"latencystats", INFO_LATENCYSTATS},
    {"default", INFO_DEFAULT},         {"all", INFO_ALL},           {"everything", INFO_ALL},
};

/* Bits of the core sections asked for; *everything set for "everything" (module sections). */
static int info_select(int argc, const dfm_str_t *argv, int *everything) {
    int bits = argc > 1 ? 0 : INFO_DEFAULT;
    *everything = 0;
    for (int i = 1; i < argc; i++) {
        if (util_eq_nocase(argv[i].ptr, argv[i].len, "everything")) *everything = 1;
        for (size_t k = 0; k < sizeof info_names / sizeof info_names[0]; k++)
            if (util_eq_nocase(argv[i].ptr, argv[i].len, info_names[k].name)) bits |= info_names[k].bit;
    }
    return bits;
}

/* Module-registered sections named explicitly (or all of them for "everything"). */
static void info_module_sections(rbuf_t *b, int argc, const dfm_str_t *argv, int everything) {
    if (everything) {
        api_info_sections(b, NULL, 1);
        return;
    }
    for (int i = 1; i < argc; i++) {
        char name[64];
        if (argv[i].len >= sizeof name) continue;
        util_lower(name, sizeof name, argv[i].ptr, argv[i].len);
        if (api_info_has_section(name)) api_info_sections(b, name, 0);
    }
}

/* The whole text for the selected sections (st: the shards' numbers). */
static void info_generate(rbuf_t *b, int argc, const dfm_str_t *argv, const info_shards_t *st) {
    int everything, bits = info_select(argc, argv, &everything);
    if (bits & INFO_SERVER) info_server(b);
    if (bits & INFO_CLIENTS) info_clients(b);
    if (bits & INFO_MEMORY) info_memory(b);
    if (bits & INFO_PERSISTENCE) info_persistence(b);
    if (bits & INFO_STATS) info_stats(b, st);
    if (bits & INFO_REPLICATION) info_replication(b);
    if (bits & INFO_CPU) info_cpu(b);
    if (bits & INFO_MODULES) info_modules(b);
    if (bits & INFO_COMMANDSTATS) info_commandstats(b);
    if (bits & INFO_ERRORSTATS) info_errorstats(b);
    if (bits & INFO_LATENCYSTATS) {
        info_title(b, "Latencystats");
        latency_info(b);
    }
    if (bits & INFO_CLUSTER) {
        info_title(b, "Cluster");
        info_line(b, "cluster_enabled:%d", cluster_enabled());
    }
    if (bits & INFO_KEYSPACE) info_keyspace(b, st);
    info_module_sections(b, argc, argv, everything);
}

/* Reply: runs once after every shard's phase, on any thread. Frees the state. */
static void info_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    info_shards_t *st = *state ? *state : info_shards_new();
    rbuf_t b = {0};
    info_generate(&b, argc, argv, st);
    size_t skip = (b.len >= 2 && b.data[0] == '\r') ? 2 : 0; /* a module section came first */
    reply_verbatim(ctx, b.data ? b.data + skip : "", b.len - skip);
    rbuf_free(&b);
    info_shards_free(st);
    *state = NULL;
}

static const dfm_multi_t info_multi = {1, info_phase, info_reply};

static const dfm_command_t info_cmds[] = {
    {.name = "info", .arity = -1, .flags = "loading stale @allshards",
     .acl_categories = "@slow @dangerous",
     .summary = "Returns information and statistics about the server.", .since = "1.0.0",
     .group = "server", .complexity = "O(1)", .args_doc = "[section [section ...]]",
     .multi = &info_multi},
};

void cmd_info_register(void) { cmdtab_register(info_cmds, CMDTAB_COUNT(info_cmds)); }
