/*
 * latency.c: the latency monitor (LATENCY LATEST / HISTORY / RESET / GRAPH / DOCTOR / HELP).
 *
 * Events ("command", "fast-command", "expire-cycle"...) of latency-monitor-threshold ms or
 * more are recorded by the thread they happen on, in its own table: per event one sample
 * per second (the worst), the last 160 seconds that had one, and the all-time worst. The
 * commands merge the threads' tables through a fan-out: same second, worst sample.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "alloc.h"
#include "cmdtab.h"
#include "config.h"
#include "fanout.h"
#include "info.h"
#include "monitor.h"
#include "reply.h"
#include "util.h"

#define LAT_SAMPLES 160
#define LAT_EVENTS 16
#define LAT_NAME 32

typedef struct lat_sample {
    int64_t time;
    uint64_t ms;
} lat_sample_t;

typedef struct lat_event {
    char name[LAT_NAME];
    lat_sample_t s[LAT_SAMPLES]; /* ring; s[idx - 1] the latest */
    int idx, n;
    uint64_t max;
} lat_event_t;

static _Thread_local lat_event_t *tl_events[LAT_EVENTS];

static lat_event_t *lat_find(const char *name, size_t len, int create) {
    if (len >= LAT_NAME) return NULL;
    for (int i = 0; i < LAT_EVENTS; i++)
        if (tl_events[i] && strlen(tl_events[i]->name) == len && !memcmp(tl_events[i]->name, name, len))
            return tl_events[i];
    if (!create) return NULL;
    for (int i = 0; i < LAT_EVENTS; i++)
        if (!tl_events[i]) {
            tl_events[i] = df_calloc(sizeof(lat_event_t));
            memcpy(tl_events[i]->name, name, len);
            return tl_events[i];
        }
    return NULL;
}

void latency_add_sample(const char *event, uint64_t ms) {
    if (!tl_worker || g_config.latency_monitor_threshold <= 0 ||
        ms < (uint64_t)g_config.latency_monitor_threshold)
        return;
    lat_event_t *e = lat_find(event, strlen(event), 1);
    if (!e) return;
    int64_t now = (int64_t)time(NULL);
    if (ms > e->max) e->max = ms;
    lat_sample_t *last = e->n ? &e->s[(e->idx + LAT_SAMPLES - 1) % LAT_SAMPLES] : NULL;
    if (last && last->time == now) {
        if (ms > last->ms) last->ms = ms;
        return;
    }
    e->s[e->idx] = (lat_sample_t){now, ms};
    e->idx = (e->idx + 1) % LAT_SAMPLES;
    if (e->n < LAT_SAMPLES) e->n++;
}

void latency_worker_exit(void) {
    for (int i = 0; i < LAT_EVENTS; i++) {
        df_free(tl_events[i]);
        tl_events[i] = NULL;
    }
}

/* ------------------------------------------------------------------------------------ */
/* Per-command histograms (LATENCY HISTOGRAM, INFO latencystats)                          */

/* Every command and subcommand (dispatch_at gives the top level only). */
#define FOR_EACH_CMD(cmd)                                                                     \
    for (int i_ = 0; i_ < dispatch_count(); i_++)                                            \
        for (int s_ = -1; s_ < dispatch_at(i_)->nsubs; s_++)                                 \
            for (const cmd_t *cmd = s_ < 0 ? dispatch_at(i_) : dispatch_at(i_)->subs[s_]; cmd; \
                 cmd = NULL)

uint64_t *latency_hist_new(cmd_stats_t *st) {
    uint64_t *h = df_calloc(sizeof(uint64_t) * LAT_HIST_BUCKETS);
    atomic_store_explicit(&st->hist, h, memory_order_release);
    return h;
}

void latency_reset_hist(int worker) {
    FOR_EACH_CMD(cmd) {
        uint64_t *h = atomic_load_explicit(&cmd->stats[worker].hist, memory_order_acquire);
        if (h) memset(h, 0, sizeof(uint64_t) * LAT_HIST_BUCKETS);
    }
}

/* Sum of every worker's buckets of cmd into b; returns the number of calls. */
static uint64_t hist_sum(const cmd_t *cmd, uint64_t *b) {
    uint64_t total = 0;
    memset(b, 0, sizeof(uint64_t) * LAT_HIST_BUCKETS);
    for (int w = 0; w < g_nworkers; w++) {
        const uint64_t *h = atomic_load_explicit(&cmd->stats[w].hist, memory_order_acquire);
        for (int k = 0; h && k < LAT_HIST_BUCKETS; k++) {
            b[k] += h[k];
            total += h[k];
        }
    }
    return total;
}

/* The upper bound of bucket k in microseconds, as Redis's histogram labels it. */
static double hist_bound_us(int k) { return (double)(1024ULL << k) / 1000.0; }

static void hist_reply(dfm_ctx_t *ctx, const cmd_t *cmd, const uint64_t *b, uint64_t total) {
    reply_cstr(ctx, cmd->fullname ? cmd->fullname : cmd->name);
    reply_map(ctx, 2);
    reply_cstr(ctx, "calls");
    reply_int(ctx, (long long)total);
    reply_cstr(ctx, "histogram_usec");
    int n = 0;
    for (int k = 0; k < LAT_HIST_BUCKETS; k++) n += b[k] > 0;
    reply_map(ctx, n);
    uint64_t cum = 0;
    for (int k = 0; k < LAT_HIST_BUCKETS; k++) {
        if (!b[k]) continue;
        cum += b[k];
        reply_int(ctx, (long long)hist_bound_us(k));
        reply_int(ctx, (long long)cum);
    }
}

/* The commands asked for (every command id when none), those with calls only. */
static int hist_wanted(int argc, const dfm_str_t *argv, const cmd_t *cmd) {
    if (argc <= 2) return 1;
    const char *name = cmd->fullname ? cmd->fullname : cmd->name;
    for (int i = 2; i < argc; i++)
        if (strlen(name) == argv[i].len && !strncasecmp(name, argv[i].ptr, argv[i].len)) return 1;
    return 0;
}

void latency_histogram_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    uint64_t b[LAT_HIST_BUCKETS];
    int n = 0;
    FOR_EACH_CMD(cmd) {
        if (hist_wanted(argc, argv, cmd) && hist_sum(cmd, b)) n++;
    }
    reply_map(ctx, n);
    FOR_EACH_CMD(cmd) {
        if (!hist_wanted(argc, argv, cmd)) continue;
        uint64_t total = hist_sum(cmd, b);
        if (total) hist_reply(ctx, cmd, b, total);
    }
}

/* The value below which a fraction p of the calls fall (the bucket's bound, in us). */
static double hist_percentile(const uint64_t *b, uint64_t total, double p) {
    uint64_t want = (uint64_t)((p / 100.0) * (double)total + 0.5), cum = 0;
    if (want < 1) want = 1;
    for (int k = 0; k < LAT_HIST_BUCKETS; k++) {
        cum += b[k];
        if (cum >= want) return hist_bound_us(k);
    }
    return hist_bound_us(LAT_HIST_BUCKETS - 1);
}

void latency_info(rbuf_t *out) {
    uint64_t b[LAT_HIST_BUCKETS];
    double pct[16];
    int np = 0;
    const char *p = g_config.latency_tracking_info_percentiles;
    char *end;
    while (p && np < 16) {
        double v = strtod(p, &end);
        if (end == p) break;
        pct[np++] = v;
        p = end;
    }
    FOR_EACH_CMD(cmd) {
        uint64_t total = hist_sum(cmd, b);
        if (!total) continue;
        char line[512];
        int n = snprintf(line, sizeof line, "latency_percentiles_usec_%s:",
                         cmd->fullname ? cmd->fullname : cmd->name);
        for (int k = 0; k < np && n < (int)sizeof line - 64; k++)
            n += snprintf(line + n, sizeof line - (size_t)n, "%sp%g=%.3f", k ? "," : "", pct[k],
                          hist_percentile(b, total, pct[k]));
        rbuf_append(out, line, (size_t)n);
        rbuf_append(out, "\r\n", 2);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Merging the threads' tables                                                            */

/* A merged event: its samples (by time, worst per second) and all-time worst. */
typedef struct lat_merged {
    char name[LAT_NAME];
    lat_sample_t s[LAT_SAMPLES * 4];
    int n;
    uint64_t max;
} lat_merged_t;

/* Worker part: per event, "name max n" then n "time ms" pairs, one record per line. */
static void lat_dump_worker(worker_t *w, rbuf_t *out, void *arg) {
    (void)w;
    (void)arg;
    for (int i = 0; i < LAT_EVENTS; i++) {
        lat_event_t *e = tl_events[i];
        if (!e) continue;
        char line[96];
        int n = snprintf(line, sizeof line, "%s %llu %d\n", e->name, (unsigned long long)e->max, e->n);
        rbuf_append(out, line, (size_t)n);
        for (int k = 0; k < e->n; k++) {
            const lat_sample_t *s = &e->s[(e->idx + LAT_SAMPLES - e->n + k) % LAT_SAMPLES];
            n = snprintf(line, sizeof line, "%lld %llu\n", (long long)s->time, (unsigned long long)s->ms);
            rbuf_append(out, line, (size_t)n);
        }
    }
}

static int lat_sample_cmp(const void *a, const void *b) {
    int64_t x = ((const lat_sample_t *)a)->time, y = ((const lat_sample_t *)b)->time;
    return x < y ? -1 : x > y;
}

static int lat_merged_cmp(const void *a, const void *b) {
    return strcmp(((const lat_merged_t *)a)->name, ((const lat_merged_t *)b)->name);
}

/* Parse every part into ev (at most LAT_EVENTS * n entries); returns how many events. */
static int lat_merge(rbuf_t *parts, int nparts, lat_merged_t *ev, int cap) {
    int nev = 0;
    for (int i = 0; i < nparts; i++) {
        rbuf_append(&parts[i], "", 1); /* NUL-terminate for sscanf */
        const char *p = parts[i].data;
        char name[LAT_NAME];
        unsigned long long max;
        int cnt, used;
        while (sscanf(p, "%31s %llu %d\n%n", name, &max, &cnt, &used) == 3) {
            p += used;
            lat_merged_t *m = NULL;
            for (int k = 0; k < nev; k++)
                if (!strcmp(ev[k].name, name)) m = &ev[k];
            if (!m && nev < cap) {
                m = &ev[nev++];
                memset(m, 0, sizeof *m);
                snprintf(m->name, sizeof m->name, "%s", name);
            }
            for (int k = 0; k < cnt; k++) {
                long long t;
                unsigned long long ms;
                if (sscanf(p, "%lld %llu\n%n", &t, &ms, &used) != 2) break;
                p += used;
                if (m && m->n < LAT_SAMPLES * 4) m->s[m->n++] = (lat_sample_t){t, ms};
            }
            if (m && max > m->max) m->max = max;
        }
    }
    for (int k = 0; k < nev; k++) { /* sort by time, one (the worst) per second, last 160 */
        lat_merged_t *m = &ev[k];
        qsort(m->s, (size_t)m->n, sizeof *m->s, lat_sample_cmp);
        int w = 0;
        for (int r = 0; r < m->n; r++) {
            if (w && m->s[w - 1].time == m->s[r].time) {
                if (m->s[r].ms > m->s[w - 1].ms) m->s[w - 1].ms = m->s[r].ms;
            } else {
                m->s[w++] = m->s[r];
            }
        }
        if (w > LAT_SAMPLES) {
            memmove(m->s, m->s + (w - LAT_SAMPLES), sizeof *m->s * LAT_SAMPLES);
            w = LAT_SAMPLES;
        }
        m->n = w;
    }
    qsort(ev, (size_t)nev, sizeof *ev, lat_merged_cmp);
    return nev;
}

/* Run done with the merged events. */
typedef void (*lat_done_fn)(dfm_ctx_t *ctx, lat_merged_t *ev, int n, const char *arg);

typedef struct lat_req {
    lat_done_fn done;
    char arg[LAT_NAME + 1];
} lat_req_t;

static void lat_fanout_done(dfm_ctx_t *ctx, rbuf_t *parts, int n, void *arg) {
    lat_req_t *r = arg;
    int cap = LAT_EVENTS * 2;
    lat_merged_t *ev = df_malloc(sizeof *ev * (size_t)cap);
    int nev = lat_merge(parts, n, ev, cap);
    r->done(ctx, ev, nev, r->arg);
    df_free(ev);
}

static void lat_gather(dfm_ctx_t *ctx, lat_done_fn done, const dfm_str_t *arg) {
    lat_req_t *r = df_calloc(sizeof *r);
    r->done = done;
    if (arg) memcpy(r->arg, arg->ptr, arg->len < LAT_NAME ? arg->len : LAT_NAME);
    fanout_run_or_here(ctx, lat_dump_worker, lat_fanout_done, r, df_free);
}

static const lat_merged_t *lat_named(const lat_merged_t *ev, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(ev[i].name, name)) return &ev[i];
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* The subcommands                                                                        */

static void latest_done(dfm_ctx_t *ctx, lat_merged_t *ev, int n, const char *arg) {
    (void)arg;
    int live = 0;
    for (int i = 0; i < n; i++) live += ev[i].n > 0;
    reply_array(ctx, live);
    for (int i = 0; i < n; i++) {
        if (!ev[i].n) continue;
        const lat_sample_t *last = &ev[i].s[ev[i].n - 1];
        reply_array(ctx, 4);
        reply_cstr(ctx, ev[i].name);
        reply_int(ctx, last->time);
        reply_int(ctx, (long long)last->ms);
        reply_int(ctx, (long long)ev[i].max);
    }
}

static void history_done(dfm_ctx_t *ctx, lat_merged_t *ev, int n, const char *arg) {
    const lat_merged_t *m = lat_named(ev, n, arg);
    reply_array(ctx, m ? m->n : 0);
    for (int i = 0; m && i < m->n; i++) {
        reply_array(ctx, 2);
        reply_int(ctx, m->s[i].time);
        reply_int(ctx, (long long)m->s[i].ms);
    }
}

/* GRAPH: one column per sample (oldest left), 4 rows of bars scaled between the lowest and
   the highest sample, then each sample's age, vertically. */
static void graph_done(dfm_ctx_t *ctx, lat_merged_t *ev, int n, const char *arg) {
    const lat_merged_t *m = lat_named(ev, n, arg);
    if (!m || !m->n) {
        reply_errorf(ctx, "ERR No samples available for event '%s'", arg);
        return;
    }
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < m->n; i++) {
        if (m->s[i].ms < lo) lo = m->s[i].ms;
        if (m->s[i].ms > hi) hi = m->s[i].ms;
    }
    rbuf_t b = {0};
    char line[160];
    int k = snprintf(line, sizeof line, "%s - high %llu ms, low %llu ms (all time high %llu ms)\n",
                     m->name, (unsigned long long)hi, (unsigned long long)lo,
                     (unsigned long long)m->max);
    rbuf_append(&b, line, (size_t)k);
    memset(line, '-', 80);
    line[80] = '\n';
    rbuf_append(&b, line, 81);
    int cols = m->n > 80 ? 80 : m->n, first = m->n - cols;
    for (int row = 3; row >= 0; row--) {
        for (int c = 0; c < cols; c++) {
            uint64_t v = m->s[first + c].ms;
            int h = hi > lo ? (int)((v - lo) * 4 / (hi - lo + 1)) : 0; /* 0..3 */
            line[c] = h > row ? '|' : h == row ? '_' : ' ';
        }
        line[cols] = '\n';
        rbuf_append(&b, line, (size_t)cols + 1);
    }
    rbuf_append(&b, "\n", 1);
    int64_t now = (int64_t)time(NULL);
    char ages[80][16];
    int depth = 0;
    for (int c = 0; c < cols; c++) {
        int64_t age = now - m->s[first + c].time;
        int len = age < 60 ? snprintf(ages[c], 16, "%llds", (long long)age)
                           : age < 3600 ? snprintf(ages[c], 16, "%lldm", (long long)(age / 60))
                                        : snprintf(ages[c], 16, "%lldh", (long long)(age / 3600));
        if (len > depth) depth = len;
    }
    for (int r = 0; r < depth; r++) {
        for (int c = 0; c < cols; c++) line[c] = r < (int)strlen(ages[c]) ? ages[c][r] : ' ';
        line[cols] = '\n';
        rbuf_append(&b, line, (size_t)cols + 1);
    }
    reply_verbatim(ctx, b.data, b.len);
    rbuf_free(&b);
}

static void doctor_done(dfm_ctx_t *ctx, lat_merged_t *ev, int n, const char *arg) {
    (void)arg;
    rbuf_t b = {0};
    char line[512];
    int live = 0;
    for (int i = 0; i < n; i++) live += ev[i].n > 0;
    if (g_config.latency_monitor_threshold <= 0 && !live) {
        snprintf(line, sizeof line,
                 "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this "
                 "Redis instance. You may use \"CONFIG SET latency-monitor-threshold "
                 "<milliseconds>.\" in order to enable it. If we weren't in a deep space "
                 "mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n");
        rbuf_append(&b, line, strlen(line));
    } else if (!live) {
        snprintf(line, sizeof line,
                 "Dave, no latency spike was observed during the lifetime of this Redis "
                 "instance, not in the slightest bit. I honestly think you ought to sit down "
                 "calmly, take a stress pill, and think things over.\n");
        rbuf_append(&b, line, strlen(line));
    } else {
        snprintf(line, sizeof line, "Dave, I have observed latency spikes in this Redis "
                                    "instance. You don't mind talking about it, do you Dave?\n\n");
        rbuf_append(&b, line, strlen(line));
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (!ev[i].n) continue;
            uint64_t sum = 0;
            for (int s = 0; s < ev[i].n; s++) sum += ev[i].s[s].ms;
            int len = snprintf(line, sizeof line,
                               "%d. %s: %d latency spikes (average %llums). Worst all time "
                               "event %llums.\n",
                               ++k, ev[i].name, ev[i].n, (unsigned long long)(sum / (uint64_t)ev[i].n),
                               (unsigned long long)ev[i].max);
            rbuf_append(&b, line, (size_t)len);
        }
        snprintf(line, sizeof line,
                 "\nI have a few advices for you:\n\n- Check your Slow Log to understand what "
                 "are the commands you are running which are too slow to execute "
                 "(SLOWLOG GET).\n- Deleting, expiring or evicting large objects is a blocking "
                 "operation on its shard's thread; fragment very large objects into smaller "
                 "ones.\n");
        rbuf_append(&b, line, strlen(line));
    }
    reply_verbatim(ctx, b.data, b.len);
    rbuf_free(&b);
}

/* RESET [event ...]: each worker drops the named events (all without names) and writes
   their names; the reply counts distinct names. */
typedef struct lat_reset {
    int argc;
    dfm_str_t *names;
} lat_reset_t;

static void reset_worker(worker_t *w, rbuf_t *out, void *arg) {
    (void)w;
    lat_reset_t *r = arg;
    for (int i = 0; i < LAT_EVENTS; i++) {
        lat_event_t *e = tl_events[i];
        if (!e) continue;
        int hit = r->argc == 0;
        for (int k = 0; k < r->argc && !hit; k++)
            hit = strlen(e->name) == r->names[k].len && !memcmp(e->name, r->names[k].ptr, r->names[k].len);
        if (!hit) continue;
        rbuf_append(out, e->name, strlen(e->name) + 1);
        df_free(e);
        tl_events[i] = NULL;
    }
}

static void reset_done(dfm_ctx_t *ctx, rbuf_t *parts, int n, void *arg) {
    (void)arg;
    const char *seen[LAT_EVENTS * 2];
    int nseen = 0;
    for (int i = 0; i < n; i++)
        for (size_t off = 0; off < parts[i].len;) {
            const char *name = parts[i].data + off;
            off += strlen(name) + 1;
            int dup = 0;
            for (int k = 0; k < nseen && !dup; k++) dup = !strcmp(seen[k], name);
            if (!dup && nseen < LAT_EVENTS * 2) seen[nseen++] = name;
        }
    reply_int(ctx, nseen);
}

static void reset_free(void *arg) {
    lat_reset_t *r = arg;
    for (int i = 0; i < r->argc; i++) df_free((char *)(uintptr_t)r->names[i].ptr);
    df_free(r->names);
    df_free(r);
}

static void latency_reset_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    lat_reset_t *r = df_calloc(sizeof *r);
    r->argc = argc - 2;
    r->names = df_calloc(sizeof(dfm_str_t) * (size_t)(r->argc + 1));
    for (int i = 0; i < r->argc; i++)
        r->names[i] = (dfm_str_t){.ptr = df_memdup(argv[i + 2].ptr, argv[i + 2].len), .len = argv[i + 2].len};
    fanout_run_or_here(ctx, reset_worker, reset_done, r, reset_free);
}

static void latency_latest_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    (void)argv;
    lat_gather(ctx, latest_done, NULL);
}

static void latency_history_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    lat_gather(ctx, history_done, &argv[2]);
}

static void latency_graph_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    lat_gather(ctx, graph_done, &argv[2]);
}

static void latency_doctor_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    (void)argv;
    lat_gather(ctx, doctor_done, NULL);
}

static void latency_help_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    (void)argv;
    static const char *const lines[] = {
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for "
        "the specified command names.",
        "    If no commands are specified then all histograms are replied.",
        NULL,
    };
    command_reply_help(ctx, "LATENCY", lines);
}

#define LAT_SUB(NAME, ARITY, SUMMARY, CPLX, ARGS, FN)                                          \
    {.name = NAME, .arity = ARITY, .flags = "admin noscript loading stale @conn",            \
     .acl_categories = "@admin @slow @dangerous", .summary = SUMMARY, .since = "2.8.13",     \
     .group = "server", .complexity = CPLX, .args_doc = ARGS, .handler = FN}

static const dfm_command_t latency_cmds[] = {
    LAT_SUB("latency|latest", 2, "Return the latest latency samples for all events.", "O(1)", "",
            latency_latest_cmd),
    LAT_SUB("latency|history", 3, "Return timestamp-latency samples for the event.", "O(1)", "event",
            latency_history_cmd),
    LAT_SUB("latency|reset", -2, "Reset latency data for one or more events.", "O(1)",
            "[event [event ...]]", latency_reset_cmd),
    LAT_SUB("latency|graph", 3, "Return a latency graph for the event.", "O(1)", "event",
            latency_graph_cmd),
    LAT_SUB("latency|doctor", 2, "Return a human readable latency analysis report.", "O(1)", "",
            latency_doctor_cmd),
    LAT_SUB("latency|histogram", -2,
            "Return the cumulative distribution of latencies of a subset of commands or all.",
            "O(N) where N is the number of commands with latency information being retrieved.",
            "[command [command ...]]", latency_histogram_cmd),
    {.name = "latency|help", .arity = 2, .flags = "loading stale @conn", .acl_categories = "@slow",
     .summary = "Show helpful text about the different subcommands.", .since = "2.8.13",
     .group = "server", .complexity = "O(1)", .handler = latency_help_cmd},
};

void cmd_latency_register(void) { cmdtab_register(latency_cmds, CMDTAB_COUNT(latency_cmds)); }
