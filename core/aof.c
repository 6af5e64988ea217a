/*
 * aof.c: the AOF thread: appends the replication stream to the current incr file, fsyncs,
 * and rewrites (a new base from a snapshot cut, a new incr file from the same cut). See aof.h.
 *
 * Threads. Everything named th_* and the fields marked "thread" are the AOF thread's alone.
 * Requests (CONFIG SET, BGREWRITEAOF, the start-up hand-over) arrive under mu and ring efd;
 * the snapshot's callbacks run on shard threads (cut) and its writer thread (done) and touch
 * only the next reader and atomics. INFO reads atomics.
 */
#include "aof.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backlog.h"
#include "cmdtab.h"
#include "config.h"
#include "info.h"
#include "log.h"
#include "replica.h"
#include "server.h"
#include "snapshot.h"
#include "util.h"
#include "worker.h"

enum { RW_NONE, RW_WAIT_CUT, RW_WAIT_DONE };
enum { SNAP_PENDING, SNAP_OK, SNAP_FAILED, SNAP_BUSY };

static struct {
    pthread_mutex_t mu;
    pthread_once_t once, init_once;
    pthread_t thread;
    int started, efd;
    atomic_int stop;
    /* under mu */
    int req_rewrite;
    int req_open;             /* the start-up hand-over is waiting */
    aof_manifest_t *open_m;   /* its manifest (NULL: none on disk) */
    long long open_pos;       /* where its reader was attached */
    /* thread */
    aof_manifest_t m;         /* as on disk */
    backlog_reader_t rd[2];
    int cur;                  /* rd[cur] feeds fd while writing */
    int writing, fd;
    long long pos;            /* stream offset of rd[cur]'s next byte */
    size_t unsent;            /* bytes of the last read taken, for the next backlog_read */
    rbuf_t stage, out;
    aof_walk_t walk;
    int64_t last_fsync_ms;
    int dirty;                /* written since the last fsync */
    int rw, rw_stream;        /* rewrite state; rd[!cur] waits for its cut */
    int rw_enabling;          /* the rewrite turns the AOF on: no manifest until it is done */
    int rw_abandon;           /* appendonly went off meanwhile: the result is dropped */
    int rw_first;             /* the first base of a start without an AOF: no "rewrite" */
    char *rw_tmp;
    aof_file_t rw_incr;       /* the incr file begun at the cut */
    int64_t retry_ms;         /* a rewrite to start at this time (busy, failed, reset) */
    int64_t last_data_ms;     /* when the stream last had bytes for us */
    long long last_ts;        /* the last #TS: annotation's second (aof-timestamp-enabled) */
    long long size_at_rw;     /* aof_current_size after the last rewrite */
    /* atomics for INFO and the snapshot's callbacks */
    atomic_int snap;
    atomic_int in_progress, scheduled, last_rw_ok, last_write_ok;
    atomic_int writing_pub;   /* writing, for other threads (g_aof_always) */
    _Atomic int64_t rw_start_ms, last_rw_sec;
    _Atomic long long rewrites, failures, cur_size, base_size, buffered;
} g_aof = {.mu = PTHREAD_MUTEX_INITIALIZER, .once = PTHREAD_ONCE_INIT, .init_once = PTHREAD_ONCE_INIT, .efd = -1, .fd = -1,
           .last_rw_ok = 1, .last_write_ok = 1, .last_rw_sec = -1};

static void *aof_thread(void *arg);

static void aof_ring(void) {
    uint64_t one = 1;
    if (g_aof.efd >= 0 && write(g_aof.efd, &one, sizeof one) < 0) { /* a full counter wakes too */ }
}

static void aof_init(void) {
    g_aof.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    backlog_reader_init(&g_aof.rd[0]);
    backlog_reader_init(&g_aof.rd[1]);
}

static void aof_init_once(void) { pthread_once(&g_aof.init_once, aof_init); }

static void aof_thread_start(void) {
    aof_init_once();
    if (pthread_create(&g_aof.thread, NULL, aof_thread, NULL) == 0)
        g_aof.started = 1;
    else
        log_warning("AOF: cannot start the AOF thread");
}

static void aof_ensure_thread(void) { pthread_once(&g_aof.once, aof_thread_start); }

/* ------------------------------------------------------------------------------------ */
/* Files                                                                                  */

static int th_mkdir(void) {
    char *dir = aof_dir_path();
    int rc = (dir && (mkdir(dir, 0755) == 0 || errno == EEXIST)) ? 0 : -1;
    if (rc < 0) log_warning("Can't create the AOF directory %s: %s", dir ? dir : "?", strerror(errno));
    free(dir);
    return rc;
}

static long long file_size(const char *name) {
    char *p = aof_file_path(name);
    struct stat st;
    long long n = (p && stat(p, &st) == 0) ? (long long)st.st_size : 0;
    free(p);
    return n;
}

static int open_incr(const char *name, int append) {
    char *p = aof_file_path(name);
    int fd = p ? open(p, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644) : -1;
    if (fd < 0) log_warning("Can't open the append-only file %s: %s", p ? p : "?", strerror(errno));
    free(p);
    return fd;
}

static void unlink_name(const char *name) {
    char *p = aof_file_path(name);
    if (p && unlink(p) == 0) log_notice("Removing the history file %s", name);
    free(p);
}

/* Temporary bases a stopped server left behind. */
static void th_remove_temps(void) {
    char *dir = aof_dir_path();
    DIR *d = dir ? opendir(dir) : NULL;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;)
        if (!strncmp(e->d_name, "temp-rewriteaof-", 16)) unlink_name(e->d_name);
    if (d) closedir(d);
    free(dir);
}

static void th_sync(void) {
    if (g_aof.fd >= 0 && g_aof.dirty) {
        if (fdatasync(g_aof.fd) == 0) {
            g_aof.dirty = 0;
        } else if (g_config.appendfsync == 0) { /* Redis: replies promised the disk */
            log_warning("Can't persist AOF for fsync error when the AOF fsync policy is 'always': "
                        "%s. Exiting...", strerror(errno));
            _exit(1);
        }
    }
    g_aof.last_fsync_ms = util_now_ms();
}

static void th_close_incr(void) {
    if (g_aof.fd < 0) return;
    th_sync();
    close(g_aof.fd);
    g_aof.fd = -1;
}

/* ------------------------------------------------------------------------------------ */
/* Writing                                                                                */

/* aof-timestamp-enabled: "#TS:<unix seconds>" ahead of the commands of a new second, as
   Redis writes it (loaders skip it; redis-check-aof --truncate-to-timestamp uses it). */
static void th_timestamp(void) {
    if (!config_compat_num(C_AOF_TIMESTAMP)) return;
    long long now = util_now_ms() / 1000;
    if (now == g_aof.last_ts) return;
    g_aof.last_ts = now;
    char line[32];
    int n = snprintf(line, sizeof line, "#TS:%lld\r\n", now);
    rbuf_append(&g_aof.out, line, (size_t)n);
}

/* Whole commands into out (a timestamp first when a new second began). */
static void th_keep(const char *p, size_t n) {
    if (!n) return;
    th_timestamp();
    rbuf_append(&g_aof.out, p, n);
}

/* Complete commands of stage into out, leaving out the stream's keep-alives (PING) and
   acknowledgement requests (REPLCONF). */
static void th_filter(void) {
    size_t done = 0, run = 0, len; /* run: where the kept commands not yet in out begin */
    int r;
    while ((r = aof_walk(&g_aof.walk, g_aof.stage.data + done, g_aof.stage.len - done, &len)) == 1) {
        const char *name = g_aof.stage.data + done + g_aof.walk.name_off;
        size_t nl = g_aof.walk.name_len;
        if (util_eq_nocase(name, nl, "ping") || util_eq_nocase(name, nl, "replconf")) {
            th_keep(g_aof.stage.data + run, done - run);
            run = done + len;
        }
        done += len;
    }
    th_keep(g_aof.stage.data + run, done - run); /* one copy per run, not per command */
    if (r < 0) { /* never from our own stream; keep the bytes rather than lose them */
        log_warning("AOF: unexpected bytes in the replication stream");
        rbuf_append(&g_aof.out, g_aof.stage.data + done, g_aof.stage.len - done);
        done = g_aof.stage.len;
        aof_walk_init(&g_aof.walk);
    }
    memmove(g_aof.stage.data, g_aof.stage.data + done, g_aof.stage.len - done);
    g_aof.stage.len -= done;
}

static void th_write_out(void) {
    if (!g_aof.out.len || g_aof.fd < 0) return;
    if (util_write_all(g_aof.fd, g_aof.out.data, g_aof.out.len) < 0) {
        if (g_config.appendfsync == 0) { /* as Redis: clients wait for it, it cannot be kept */
            log_warning("Can't recover from AOF write error when the AOF fsync policy is 'always'. "
                        "Exiting...");
            _exit(1);
        }
        if (atomic_exchange(&g_aof.last_write_ok, 0))
            log_warning("Error writing to the AOF file: %s", strerror(errno));
        return; /* kept: written again on the next round */
    }
    if (!atomic_exchange(&g_aof.last_write_ok, 1)) log_notice("AOF write error looks solved.");
    atomic_fetch_add(&g_aof.cur_size, (long long)g_aof.out.len);
    g_aof.out.len = 0;
    g_aof.dirty = 1;
    if (g_config.appendfsync == 0) th_sync();
}

/* Move what the stream holds for rd[cur] (up to `limit`) into the file. 1 if bytes came,
   0 none, -1 the reader was dropped (the stream was reset under it). */
static int th_pump(long long limit) {
    const char *p = NULL;
    long long n = backlog_read(&g_aof.rd[g_aof.cur], g_aof.unsent, &p, LLONG_MAX);
    g_aof.unsent = 0;
    if (n < 0) return -1;
    if (limit - g_aof.pos < n) n = limit - g_aof.pos;
    if (n > 0) {
        g_aof.last_data_ms = util_now_ms();
        rbuf_append(&g_aof.stage, p, (size_t)n);
        g_aof.unsent = (size_t)n;
        g_aof.pos += n;
        th_filter();
    }
    th_write_out();
    atomic_store(&g_aof.buffered, (long long)(g_aof.stage.len + g_aof.out.len));
    if (g_config.appendfsync == 0 && !g_aof.out.len && !g_aof.dirty) /* all on disk */
        aof_hold_synced(g_aof.pos - (long long)g_aof.stage.len);
    return n > 0;
}

/* Stop appending (appendonly no, a reset stream, shutdown): what came is written and synced. */
static void th_stop_writing(void) {
    if (!g_aof.writing) return;
    th_write_out();
    th_close_incr();
    backlog_detach(&g_aof.rd[g_aof.cur]);
    g_aof.writing = 0;
    g_aof.unsent = 0;
    g_aof.stage.len = g_aof.out.len = 0;
    aof_walk_init(&g_aof.walk);
}

/* Start appending to incr file f (a new file unless append) from rd[idx] at offset pos. */
static int th_start_writing(int idx, const aof_file_t *f, long long pos, int append) {
    g_aof.fd = open_incr(f->name, append);
    if (g_aof.fd < 0) return -1;
    g_aof.cur = idx;
    g_aof.pos = pos;
    g_aof.unsent = 0;
    g_aof.writing = 1;
    g_aof.last_fsync_ms = util_now_ms();
    aof_walk_init(&g_aof.walk);
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Rewriting                                                                              */

static backlog_reader_t *rw_reader(void) { return &g_aof.rd[!g_aof.cur]; }

/* Snapshot callbacks: a shard passed the cut (its thread); the base is written (writer).
   arg: the reader waiting for the cut, or NULL (a rewrite with the AOF off). */
static void aof_sink_cut(void *arg, int shard) {
    if (arg) backlog_cut(arg, shard);
}

static void aof_sink_done(void *arg, int ok) {
    (void)arg;
    atomic_store(&g_aof.snap, ok ? SNAP_OK : SNAP_FAILED);
    aof_ring();
}

static void aof_start_snapshot(void *arg) {
    snapshot_sink_t sink = {aof_sink_cut, aof_sink_done, arg, 1};
    if (snapshot_start_for(&sink, g_aof.rw_tmp) < 0) {
        atomic_store(&g_aof.snap, SNAP_BUSY);
        aof_ring();
    }
}

static void th_retry_later(int64_t ms) {
    g_aof.retry_ms = util_now_ms() + ms;
    atomic_store(&g_aof.scheduled, 1);
}

/* Begin a rewrite: the next reader waits for the cut of a snapshot into a temporary base.
   A replica loading its master's data, or a snapshot under way, postpones it. */
static void th_rewrite_begin(void) {
    if (replica_loading() || snapshot_running() || th_mkdir() < 0) {
        th_retry_later(100);
        return;
    }
    g_aof.retry_ms = 0;
    if (!g_aof.m.base.name && !g_aof.m.nincr) { /* the AOF was off since start: files may exist */
        char err[256];
        if (aof_manifest_load(&g_aof.m, err, sizeof err) < 0) memset(&g_aof.m, 0, sizeof g_aof.m);
    }
    g_aof.rw_stream = g_aof.writing || g_config.appendonly;
    g_aof.rw_enabling = !g_aof.writing && g_config.appendonly;
    g_aof.rw_abandon = 0;
    if (g_aof.rw_stream) {
        backlog_enable(!replica_active());
        if (backlog_attach_cut(rw_reader()) < 0) {
            th_retry_later(100);
            return;
        }
    }
    free(g_aof.rw_tmp);
    char name[64];
    snprintf(name, sizeof name, "temp-rewriteaof-bg-%d.rdb", (int)getpid());
    g_aof.rw_tmp = aof_file_path(name);
    atomic_store(&g_aof.snap, SNAP_PENDING);
    g_aof.rw = g_aof.rw_stream ? RW_WAIT_CUT : RW_WAIT_DONE;
    atomic_store(&g_aof.scheduled, 0);
    atomic_store(&g_aof.in_progress, 1);
    atomic_store(&g_aof.rw_start_ms, util_now_ms());
    log_notice("Background append only file rewriting started");
    worker_post(0, aof_start_snapshot, g_aof.rw_stream ? rw_reader() : NULL);
}

static void th_rewrite_end(int ok) {
    g_aof.rw = RW_NONE;
    atomic_store(&g_aof.in_progress, 0);
    if (ok && g_aof.rw_first) { /* Redis makes that base in the foreground: no statistics */
        g_aof.rw_first = 0;
        return;
    }
    atomic_store(&g_aof.last_rw_ok, ok);
    atomic_store(&g_aof.last_rw_sec, (util_now_ms() - atomic_load(&g_aof.rw_start_ms) + 500) / 1000);
    if (ok) {
        atomic_fetch_add(&g_aof.rewrites, 1);
        atomic_store(&g_aof.failures, 0);
    } else {
        atomic_fetch_add(&g_aof.failures, 1);
    }
}

/* The cut is known: the old incr file gets everything before it, the new one what follows. */
static void th_rewrite_cut(void) {
    long long cut = atomic_load(&rw_reader()->cut);
    g_aof.rw = RW_WAIT_DONE;
    if (g_aof.rw_abandon) { /* appendonly went off meanwhile */
        backlog_detach(rw_reader());
        return;
    }
    if (g_aof.writing) {
        while (g_aof.pos < cut && th_pump(cut) >= 0) {}
        th_stop_writing();
    }
    int idx = !g_aof.cur;
    aof_manifest_next_incr(&g_aof.m, &g_aof.rw_incr);
    if (!g_aof.rw_incr.name || th_start_writing(idx, &g_aof.rw_incr, cut, 0) < 0) {
        backlog_detach(&g_aof.rd[idx]);
        free(g_aof.rw_incr.name);
        g_aof.rw_incr.name = NULL;
        g_aof.rw_abandon = 1; /* the base alone would miss what follows the cut */
    } else if (!g_aof.rw_enabling) { /* old base + old incr files + the new one replay fully */
        aof_manifest_add_incr(&g_aof.m, g_aof.rw_incr);
        g_aof.rw_incr.name = strdup(g_aof.rw_incr.name);
        aof_manifest_save(&g_aof.m);
    }
}

static void th_rewrite_failed(void);

/* The new base is written: it and the incr file begun at the cut replace everything. */
static int th_rewrite_install(void) {
    aof_manifest_t nm = {0};
    nm.base_seq = g_aof.m.base_seq;
    nm.incr_seq = g_aof.m.incr_seq;
    aof_manifest_next_base(&nm, &nm.base);
    char *path = nm.base.name ? aof_file_path(nm.base.name) : NULL;
    if (!path || rename(g_aof.rw_tmp, path) < 0) {
        log_warning("Can't rename the temporary AOF base into %s: %s", path ? path : "?", strerror(errno));
        free(path);
        aof_manifest_free(&nm);
        return -1;
    }
    free(path);
    if (g_aof.writing) aof_manifest_add_incr(&nm, (aof_file_t){strdup(g_aof.rw_incr.name), g_aof.rw_incr.seq});
    if (aof_manifest_save(&nm) < 0) {
        aof_manifest_free(&nm);
        return -1;
    }
    if (g_aof.m.base.name) unlink_name(g_aof.m.base.name);
    for (int i = 0; i < g_aof.m.nincr; i++)
        if (!g_aof.writing || strcmp(g_aof.m.incr[i].name, g_aof.rw_incr.name) != 0)
            unlink_name(g_aof.m.incr[i].name);
    aof_manifest_free(&g_aof.m);
    g_aof.m = nm;
    long long size = file_size(nm.base.name);
    atomic_store(&g_aof.base_size, size);
    atomic_store(&g_aof.cur_size, size + (g_aof.writing ? file_size(g_aof.rw_incr.name) : 0));
    g_aof.size_at_rw = atomic_load(&g_aof.cur_size);
    return 0;
}

static void th_rewrite_done(void) {
    int snap = atomic_load(&g_aof.snap), ok = 0;
    if (snap == SNAP_OK && !g_aof.rw_abandon) ok = th_rewrite_install() == 0;
    if (!ok) unlink(g_aof.rw_tmp);
    th_rewrite_end(ok);
    if (ok) log_notice("Background AOF rewrite finished successfully");
    else th_rewrite_failed();
    free(g_aof.rw_incr.name);
    g_aof.rw_incr.name = NULL;
}

/* A rewrite failed or was given up: an incr file no manifest names goes; try again. */
static void th_rewrite_failed(void) {
    if (!g_aof.rw_abandon) log_warning("Background AOF rewrite failed");
    if (g_aof.rw_enabling && g_aof.rw_incr.name) { /* no manifest names its incr file */
        th_stop_writing();
        unlink_name(g_aof.rw_incr.name);
    }
    if (g_config.appendonly) th_retry_later(g_aof.rw_abandon ? 0 : 1000);
}

/* One step of a rewrite under way. */
static void th_rewrite_step(void) {
    int snap = atomic_load(&g_aof.snap);
    if (g_aof.rw == RW_WAIT_CUT && snap == SNAP_BUSY) { /* another snapshot runs: after it */
        backlog_detach(rw_reader());
        g_aof.rw = RW_NONE;
        atomic_store(&g_aof.in_progress, 0);
        th_retry_later(100);
        return;
    }
    if (g_aof.rw == RW_WAIT_CUT && snap == SNAP_FAILED) {
        backlog_detach(rw_reader());
        g_aof.rw = RW_WAIT_DONE;
    }
    if (g_aof.rw == RW_WAIT_CUT && atomic_load(&rw_reader()->cut) >= 0) th_rewrite_cut();
    if (g_aof.rw == RW_WAIT_DONE && snap != SNAP_PENDING) th_rewrite_done();
}

/* ------------------------------------------------------------------------------------ */
/* The thread                                                                             */

/* The start-up hand-over: append to the loaded AOF's last incr file (a new one when it has
   none); without an AOF, the first rewrite makes one. */
static void th_open(aof_manifest_t *m, long long pos) {
    th_remove_temps();
    if (!m) {
        g_aof.rw_first = g_config.appendonly != 0;
        return; /* the loop starts the rewrite */
    }
    g_aof.m = *m;
    free(m);
    long long size = g_aof.m.base.name ? file_size(g_aof.m.base.name) : 0;
    atomic_store(&g_aof.base_size, size);
    for (int i = 0; i < g_aof.m.nincr; i++) size += file_size(g_aof.m.incr[i].name);
    atomic_store(&g_aof.cur_size, size);
    g_aof.size_at_rw = size;
    if (!g_config.appendonly) return;
    aof_file_t f;
    int append = g_aof.m.nincr > 0;
    if (append) {
        f = g_aof.m.incr[g_aof.m.nincr - 1];
    } else {
        aof_manifest_next_incr(&g_aof.m, &f);
        aof_manifest_add_incr(&g_aof.m, f);
        aof_manifest_save(&g_aof.m);
    }
    if (th_start_writing(0, &f, pos, append) < 0) backlog_detach(&g_aof.rd[0]);
}

/* Requests, appendonly turned on or off, automatic rewrites. */
static void th_requests(void) {
    pthread_mutex_lock(&g_aof.mu);
    int rewrite = g_aof.req_rewrite, open = g_aof.req_open;
    aof_manifest_t *m = g_aof.open_m;
    long long pos = g_aof.open_pos;
    g_aof.req_rewrite = g_aof.req_open = 0;
    g_aof.open_m = NULL;
    pthread_mutex_unlock(&g_aof.mu);
    if (open) th_open(m, pos);
    int on = g_config.appendonly != 0;
    if (!on && (g_aof.writing || g_aof.rw_enabling)) { /* CONFIG SET appendonly no */
        th_stop_writing();
        if (g_aof.rw != RW_NONE) g_aof.rw_abandon = 1;
        g_aof.rw_enabling = 0;
        g_aof.retry_ms = 0;
        atomic_store(&g_aof.scheduled, 0);
    }
    if (g_aof.rw != RW_NONE) return;
    int64_t now = util_now_ms();
    long long size = atomic_load(&g_aof.cur_size);
    int grown = g_aof.writing && g_config.auto_aof_rewrite_percentage > 0 &&
                size >= g_config.auto_aof_rewrite_min_size && g_aof.size_at_rw > 0 &&
                (size - g_aof.size_at_rw) * 100 / g_aof.size_at_rw >= g_config.auto_aof_rewrite_percentage;
    if (grown) log_notice("Starting automatic rewriting of AOF on %lld%% growth",
                          (size - g_aof.size_at_rw) * 100 / g_aof.size_at_rw);
    if (rewrite || grown || (g_aof.retry_ms && now >= g_aof.retry_ms) ||
        (on && !g_aof.writing && !g_aof.retry_ms))
        th_rewrite_begin();
}

/* Wait for a request, new stream bytes or a cut, up to ms. While writes keep coming (and
   appendfsync is not always) the stream does not ring us for each one: we look every
   AOF_BATCH_MS, so a busy server pays a few wake-ups per second for its AOF, not one per
   write. */
#define AOF_BATCH_MS 2
static void th_wait(int ms) {
    struct pollfd p[3] = {{g_aof.efd, POLLIN, 0}, {g_aof.rd[0].efd, POLLIN, 0}, {g_aof.rd[1].efd, POLLIN, 0}};
    int batch = g_aof.writing && g_config.appendfsync != 0 && util_now_ms() - g_aof.last_data_ms < 100;
    if (batch) ms = AOF_BATCH_MS;
    atomic_store(&g_aof.rd[0].sleeping, !batch || g_aof.cur != 0);
    atomic_store(&g_aof.rd[1].sleeping, !batch || g_aof.cur != 1);
    if (poll(p, 3, ms) > 0) {
        uint64_t v;
        for (int i = 0; i < 3; i++)
            if ((p[i].revents & POLLIN) && read(p[i].fd, &v, sizeof v) < 0) { /* drained */ }
    }
    atomic_store(&g_aof.rd[0].sleeping, 0);
    atomic_store(&g_aof.rd[1].sleeping, 0);
}

/* Shutdown: every write pushed so far is in the stream, then in the file, then on disk. */
static void th_drain(void) {
    if (!g_aof.writing) return;
    backlog_settle();
    while (th_pump(LLONG_MAX) > 0) {}
    th_stop_writing();
}

static void *aof_thread(void *arg) {
    (void)arg;
    while (!atomic_load(&g_aof.stop)) {
        th_requests();
        atomic_store(&g_aof.writing_pub, g_aof.writing);
        atomic_store(&g_aof_always, g_aof.writing && g_config.appendfsync == 0);
        if (g_aof.rw != RW_NONE) th_rewrite_step();
        int got = 0;
        if (g_aof.writing) {
            got = th_pump(LLONG_MAX);
            if (got < 0) { /* the stream was reset (a role change): a new base is needed */
                log_notice("AOF: the replication stream was reset; rewriting the AOF");
                th_stop_writing();
                if (g_aof.rw != RW_NONE) g_aof.rw_abandon = 1; /* its incr file misses writes */
                got = 0;
            }
        }
        if (g_aof.writing && g_aof.dirty && g_config.appendfsync == 1 &&
            util_now_ms() - g_aof.last_fsync_ms >= 1000)
            th_sync();
        if (!got) th_wait(g_aof.writing && g_aof.dirty ? 50 : 100);
    }
    th_drain();
    atomic_store(&g_aof_always, 0); /* clients still parked go */
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Entry points                                                                           */

void aof_open_at_start(aof_manifest_t *m) {
    aof_manifest_t *own = NULL;
    if (m) {
        own = malloc(sizeof *own);
        *own = *m;
    }
    aof_init_once();
    pthread_mutex_lock(&g_aof.mu);
    g_aof.req_open = 1;
    g_aof.open_m = own;
    if (g_config.appendonly && own) { /* before LOADING ends: no client write comes first */
        backlog_enable(!replica_active());
        if (backlog_attach_end(&g_aof.rd[0], &g_aof.open_pos) < 0) log_warning("AOF: no stream to follow");
    }
    pthread_mutex_unlock(&g_aof.mu);
    aof_ensure_thread(); /* after the hand-over is queued: its first round takes it */
    aof_ring();
}

void aof_config_changed(void) {
    /* appendfsync always holds replies from the next write on, not from the thread's next round */
    atomic_store(&g_aof_always, atomic_load(&g_aof.writing_pub) && g_config.appendfsync == 0);
    aof_ensure_thread();
    aof_ring();
}

int aof_rewrite_request(void) {
    if (atomic_load(&g_aof.in_progress)) return -1;
    aof_ensure_thread();
    pthread_mutex_lock(&g_aof.mu);
    g_aof.req_rewrite = 1;
    pthread_mutex_unlock(&g_aof.mu);
    int busy = snapshot_running();
    if (busy) atomic_store(&g_aof.scheduled, 1);
    aof_ring();
    return busy ? 1 : 0;
}

void aof_shutdown(void) {
    if (!g_aof.started) return;
    atomic_store(&g_aof.stop, 1);
    aof_ring();
    pthread_join(g_aof.thread, NULL);
    g_aof.started = 0;
    rbuf_free(&g_aof.stage);
    rbuf_free(&g_aof.out);
    aof_manifest_free(&g_aof.m);
}

void aof_info(rbuf_t *b) {
    int64_t start = atomic_load(&g_aof.rw_start_ms);
    int running = atomic_load(&g_aof.in_progress);
    info_line(b, "aof_enabled:%d", g_config.appendonly ? 1 : 0);
    info_line(b, "aof_rewrite_in_progress:%d", running);
    info_line(b, "aof_rewrite_scheduled:%d", atomic_load(&g_aof.scheduled));
    info_line(b, "aof_last_rewrite_time_sec:%lld", (long long)atomic_load(&g_aof.last_rw_sec));
    info_line(b, "aof_current_rewrite_time_sec:%lld",
              running ? (long long)((util_now_ms() - start) / 1000) : -1LL);
    info_line(b, "aof_last_bgrewrite_status:%s", atomic_load(&g_aof.last_rw_ok) ? "ok" : "err");
    info_line(b, "aof_rewrites:%lld", atomic_load(&g_aof.rewrites));
    info_line(b, "aof_rewrites_consecutive_failures:%lld", atomic_load(&g_aof.failures));
    info_line(b, "aof_last_write_status:%s", atomic_load(&g_aof.last_write_ok) ? "ok" : "err");
    info_line(b, "aof_last_cow_size:0");
    info_line(b, "module_fork_in_progress:0");
    info_line(b, "module_fork_last_cow_size:0");
    if (!g_config.appendonly) return;
    info_line(b, "aof_current_size:%lld", atomic_load(&g_aof.cur_size));
    info_line(b, "aof_base_size:%lld", atomic_load(&g_aof.base_size));
    info_line(b, "aof_pending_rewrite:%d", atomic_load(&g_aof.scheduled));
    info_line(b, "aof_buffer_length:%lld", atomic_load(&g_aof.buffered));
    info_line(b, "aof_pending_bio_fsync:0");
    info_line(b, "aof_delayed_fsync:0");
}

/* ------------------------------------------------------------------------------------ */
/* BGREWRITEAOF                                                                           */

static void bgrewriteaof_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    int rc = aof_rewrite_request();
    if (rc < 0)
        reply_error(ctx, "ERR Background append only file rewriting already in progress");
    else if (rc > 0)
        reply_simple(ctx, "Background append only file rewriting scheduled");
    else
        reply_simple(ctx, "Background append only file rewriting started");
}

static const dfm_command_t aof_cmds[] = {
    {.name = "bgrewriteaof", .arity = 1, .flags = "admin noscript",
     .acl_categories = "@admin @slow @dangerous", .summary = "Asynchronously rewrites the append-only file",
     .since = "1.0.0", .group = "server", .complexity = "O(1)", .handler = bgrewriteaof_cmd},
};

void cmd_aof_register(void) { cmdtab_register(aof_cmds, CMDTAB_COUNT(aof_cmds)); }
