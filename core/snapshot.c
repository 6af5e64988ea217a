/*
 * snapshot.c: fork-less point-in-time RDB snapshots (see snapshot.h).
 *
 * Threads. The job (snap_job_t) is shared: its chunk queues and waiter list under job->mu, its
 * counters atomic. Each shard's part (shard_snap_t) is touched only by the shard's thread:
 * the cut phase starts it, table hooks and the worker's stepping event fill its buffer. The
 * writer thread owns the file. No event-loop thread ever waits: shards only push chunks
 * (a pointer append under the mutex) and stop stepping while the writer is far behind.
 *
 * Big values. A value of a type with a slicer (dfm_rdb_slicer_t) weighing SNAP_BIG_WEIGHT
 * or more is not written when the pass reaches it: the table holds it (ENTRY_F_SNAP) and the
 * part queues it; the stepping event then writes it a slice at a time into a buffer of its
 * own (the part's other records keep going to the ordinary buffer), and the table pass waits
 * until the queue is empty. A held value cannot change: a find or erase of it first makes the
 * table call snap_release, which writes the rest at once (today's cost, once). A record
 * bigger than a chunk goes to the writer in pieces: the first on the main queue marked open,
 * the rest on the shard's continuation queue, which the writer drains before it takes any
 * other chunk, so the record stays contiguous in the file.
 */
#include "snapshot.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "api.h"
#include "cmdtab.h"
#include "config.h"
#include "conn.h"
#include "crc64.h"
#include "db.h"
#include "dump.h"
#include "info.h"
#include "log.h"
#include "server.h"
#include "tx.h"
#include "util.h"
#include "worker.h"

#define SNAP_CHUNK_BYTES (256 * 1024)      /* a shard hands its buffer over at this size */
#define SNAP_BACKLOG_BYTES (32 << 20)      /* shards pause stepping above this backlog */
#define SNAP_STEP_BUCKETS 128              /* buckets per slice of a table */
#define SNAP_STEP_US 400                   /* time per stepping event */
#define SNAP_RETRY_MS 5000                 /* after a failed save, as Redis's retry delay */
#define SNAP_BIG_WEIGHT 2048               /* values of this many elements go in slices */
#define SNAP_SLICE_ELEMS 512               /* elements per slice of a big value... */
#define SNAP_SLICE_BYTES (64 * 1024)       /* ...or this much element data */

typedef struct snap_chunk {
    struct snap_chunk *next;
    rbuf_t buf;
    int shard;
    int open; /* ends inside a big record: the shard's continuation queue comes next */
} snap_chunk_t;

typedef struct snap_queue {
    snap_chunk_t *head, *tail;
} snap_queue_t;

typedef struct shard_snap shard_snap_t;
typedef struct snap_table snap_table_t;

/* A big value held in its table, to be written in slices (queued on its part). */
typedef struct snap_big {
    struct snap_big *next;
    snap_table_t *st;
    const entry_t *e;
    const dfm_rdb_slicer_t *sl;
    void *cur; /* the slicer's cursor once the record has begun (only the queue's head) */
} snap_big_t;

struct snap_table {
    table_t *t;
    int db;
    int detached; /* FLUSHDB/FLUSHALL replaced it: freed once written out */
    uint64_t cursor;
    shard_snap_t *ss;
};

struct shard_snap {
    struct snap_job *job;
    shard_t *s;
    snap_table_t *tabs;
    int ntabs, cur;
    rbuf_t buf;
    int buf_db;       /* the db the buffer's last SELECTDB named, -1 before the first */
    uint64_t keys, skipped;
    snap_big_t *bigs, **bigs_tail; /* held big values, in order; the head is being written */
    rbuf_t big;                    /* the head's record since its last piece went out */
    int big_out;                   /* a piece of the head's record went to the writer */
    uint64_t slices, sliced, finished_early; /* INFO rdb_big_value_* */
    shard_snap_t *next; /* the worker's list of running parts */
};

typedef struct snap_waiter {
    struct snap_waiter *next;
    conn_t *c;
    int worker;
    int ok;
} snap_waiter_t;

typedef struct snap_job {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    snap_queue_t main;               /* under mu */
    snap_queue_t *cont;              /* [g_nshards] under mu: pieces of an open big record */
    int open_shard;                  /* writer: the shard whose record is open, or -1 */
    snap_waiter_t *waiters;          /* under mu */
    int aborted;                     /* under mu */
    atomic_size_t backlog;           /* bytes queued for the writer */
    atomic_int shards_left;
    atomic_uint_fast64_t keys;
    shard_snap_t *parts;             /* [g_nshards], each its shard's thread's */
    char *path, *tmp;
    rbuf_t aux; /* modules' records (functions), taken at the start, written before the keys */
    int64_t start_ms;
    uint64_t dirty_at_start;
    snapshot_sink_t sink; /* sink.done set: a snapshot for a replica or an AOF base, not a save */
} snap_job_t;

/* Process-wide state: the running job and the results INFO and LASTSAVE show. */
static _Atomic(snap_job_t *) g_job;
static atomic_int g_running;
static atomic_int g_running_aof; /* an AOF base: set with the job, cleared before g_running */
static _Atomic int64_t g_lastsave_s, g_last_try_ms, g_last_duration_s = -1;
static atomic_int g_last_ok = 1;
static atomic_int g_scheduled;
static _Atomic int64_t g_job_start_ms; /* the running snapshot's start (INFO; the job itself
                                          may be freed under a reader) */ /* BGSAVE SCHEDULE during a snapshot: start one after it */
static atomic_uint_fast64_t g_saves, g_dirty_at_save, g_generation;
static atomic_uint_fast64_t g_load_keys, g_load_expired;
static atomic_uint_fast64_t g_big_slices, g_big_sliced, g_big_early;

static _Thread_local shard_snap_t *tl_parts; /* this worker's running parts */
static _Thread_local struct event *tl_step_ev;

static uint64_t snap_dirty_now(void) {
    uint64_t n = 0;
    for (int i = 0; i < g_nshards; i++)
        n += atomic_load_explicit(&g_shards[i].dirty, memory_order_relaxed);
    return n;
}

char *snapshot_path(void) { return config_dir_file(g_config.dbfilename); }

/* ------------------------------------------------------------------------------------ */
/* Shard side                                                                             */

/* Queue a chunk of bytes for the writer (shard thread). buf is taken over. */
static void snap_push(snap_job_t *job, snap_queue_t *q, rbuf_t *buf, int shard, int open) {
    snap_chunk_t *ch = malloc(sizeof *ch);
    ch->next = NULL;
    ch->buf = *buf;
    ch->shard = shard;
    ch->open = open;
    memset(buf, 0, sizeof *buf);
    atomic_fetch_add(&job->backlog, ch->buf.len);
    pthread_mutex_lock(&job->mu);
    if (q->tail)
        q->tail->next = ch;
    else
        q->head = ch;
    q->tail = ch;
    pthread_cond_signal(&job->cv);
    pthread_mutex_unlock(&job->mu);
}

/* Hand the part's buffer to the writer (shard thread). */
static void snap_flush(shard_snap_t *ss) {
    if (!ss->buf.len) return;
    snap_push(ss->job, &ss->job->main, &ss->buf, ss->s->id, 0);
    ss->buf_db = -1; /* the next chunk may land after another shard's: it names its db */
}

/* Hand the big record's bytes so far to the writer: the first piece on the main queue, the
   later ones on the shard's continuation queue; last: the record is complete. */
static void snap_flush_big(shard_snap_t *ss, int last) {
    snap_job_t *job = ss->job;
    snap_queue_t *q = ss->big_out ? &job->cont[ss->s->id] : &job->main;
    snap_push(job, q, &ss->big, ss->s->id, !last);
    ss->big_out = !last;
}

static void snap_select(rbuf_t *b, int db) {
    unsigned char op = RDB_OPCODE_SELECTDB;
    dfm_rdb_t r;
    rdb_writer_init(&r, b);
    rdb_save_raw(&r, &op, 1);
    rdb_save_len(&r, (uint64_t)db);
}

/* Write one entry whole into the part's buffer. */
static void snap_write_entry(snap_table_t *st, const entry_t *e) {
    shard_snap_t *ss = st->ss;
    if (ss->buf_db != st->db) {
        snap_select(&ss->buf, st->db);
        ss->buf_db = st->db;
    }
    if (rdb_save_key(&ss->buf, e) == 0)
        ss->keys++;
    else
        ss->skipped++;
    if (ss->buf.len >= SNAP_CHUNK_BYTES) snap_flush(ss);
}

/* table_snap_fn: one entry as it was at the cut (shard thread). A big one is held and
   queued when the table allows it. */
static int snap_entry(void *arg, const entry_t *e, int may_hold) {
    snap_table_t *st = arg;
    const dfm_rdb_slicer_t *sl = may_hold ? rdb_slicer_for(e, SNAP_BIG_WEIGHT) : NULL;
    if (!sl) {
        snap_write_entry(st, e);
        return 0;
    }
    shard_snap_t *ss = st->ss;
    snap_big_t *b = calloc(1, sizeof *b);
    b->st = st;
    b->e = e;
    b->sl = sl;
    *ss->bigs_tail = b;
    ss->bigs_tail = &b->next;
    return 1;
}

/* Unlink b (at *link in the part's queue) and free it; the entry becomes ordinary again. */
static void snap_big_drop(shard_snap_t *ss, snap_big_t **link) {
    snap_big_t *b = *link;
    *link = b->next;
    if (ss->bigs_tail == &b->next) ss->bigs_tail = link;
    table_snap_unhold(b->st->t, b->e);
    free(b);
}

/* Begin the head's record in ss->big: SELECTDB (its first piece may follow any chunk), then
   the key's head. -1 when the type declines: the value was written whole instead. */
static int snap_big_begin(shard_snap_t *ss) {
    snap_big_t *b = ss->bigs;
    snap_select(&ss->big, b->st->db);
    b->cur = rdb_save_key_begin(&ss->big, b->e, b->sl);
    if (b->cur) return 0;
    rbuf_free(&ss->big);
    snap_write_entry(b->st, b->e);
    snap_big_drop(ss, &ss->bigs);
    return -1;
}

/* One slice of the queue's head. 1 when its record is complete (and it left the queue). */
static int snap_big_step(shard_snap_t *ss) {
    if (!ss->bigs->cur && snap_big_begin(ss) < 0) return 1;
    snap_big_t *b = ss->bigs;
    dfm_rdb_t r;
    rdb_writer_init(&r, &ss->big);
    if (b->sl->step(b->cur, &r, SNAP_SLICE_ELEMS, SNAP_SLICE_BYTES)) {
        b->cur = NULL; /* the slicer freed it */
        snap_flush_big(ss, 1);
        ss->keys++;
        snap_big_drop(ss, &ss->bigs);
        return 1;
    }
    if (ss->big.len >= SNAP_CHUNK_BYTES) snap_flush_big(ss, 0);
    return 0;
}

/* table_snap_release_fn: held entry e is about to be handed out or erased (shard thread).
   Its record is finished now, or, if not begun, written whole. */
static void snap_release(void *arg, const entry_t *e) {
    snap_table_t *st = arg;
    shard_snap_t *ss = st->ss;
    snap_big_t **link = &ss->bigs;
    while (*link && (*link)->e != e) link = &(*link)->next;
    if (!*link) return; /* not ours: cannot happen, the table holds only what we queued */
    ss->finished_early++;
    if ((*link)->cur) { /* the head, begun */
        while (!snap_big_step(ss)) {
        }
        return;
    }
    snap_big_drop(ss, link);
    snap_write_entry(st, e);
}

/* Abandon the part's held values (the snapshot is aborted). */
static void snap_big_abort(shard_snap_t *ss) {
    while (ss->bigs) {
        if (ss->bigs->cur) rdb_slicer_abort(ss->bigs->sl, ss->bigs->cur);
        snap_big_drop(ss, &ss->bigs);
    }
    rbuf_free(&ss->big);
    ss->big_out = 0;
}

/* One shard's part is written out: release its tables, tell the writer. */
static void snap_part_done(shard_snap_t *ss) {
    snap_job_t *job = ss->job;
    atomic_fetch_add_explicit(&g_big_slices, ss->slices, memory_order_relaxed);
    atomic_fetch_add_explicit(&g_big_sliced, ss->sliced, memory_order_relaxed);
    atomic_fetch_add_explicit(&g_big_early, ss->finished_early, memory_order_relaxed);
    for (int i = 0; i < ss->ntabs; i++) {
        table_snap_end(ss->tabs[i].t);
        if (ss->tabs[i].detached) db_release_table(ss->tabs[i].t);
    }
    snap_flush(ss);
    atomic_fetch_add(&job->keys, ss->keys);
    if (ss->skipped)
        log_warning("snapshot: %llu keys of shard %d have a type that cannot be saved",
                    (unsigned long long)ss->skipped, ss->s->id);
    if (atomic_fetch_sub(&job->shards_left, 1) == 1) {
        pthread_mutex_lock(&job->mu);
        pthread_cond_signal(&job->cv);
        pthread_mutex_unlock(&job->mu);
    }
}

/* Remove ss from this worker's list. */
static void snap_unlink(shard_snap_t *ss) {
    for (shard_snap_t **p = &tl_parts; *p; p = &(*p)->next) {
        if (*p == ss) {
            *p = ss->next;
            return;
        }
    }
}

/* Write out a slice of ss: of its first big value while it holds any (the table pass waits
   for them), else of its tables. 1 when the part is complete. */
static int snap_step_part(shard_snap_t *ss) {
    if (ss->bigs) {
        ss->slices++;
        ss->sliced += (uint64_t)snap_big_step(ss);
        return 0;
    }
    while (ss->cur < ss->ntabs) {
        snap_table_t *st = &ss->tabs[ss->cur];
        if (!table_snap_step(st->t, &st->cursor, SNAP_STEP_BUCKETS)) return 0;
        ss->cur++;
    }
    return !ss->bigs;
}

static void snap_arm(int delay_ms) {
    struct timeval tv = {.tv_sec = 0, .tv_usec = delay_ms * 1000};
    evtimer_add(tl_step_ev, &tv);
}

/* The worker's stepping event: slices of every running part for SNAP_STEP_US, then back to
   the clients. A part pauses (1 ms at a time) while the writer is SNAP_BACKLOG_BYTES behind,
   unless it is inside a big record that the writer has begun: the writer waits for it. */
static void snap_step(evutil_socket_t fd, short what, void *arg) {
    (void)fd, (void)what, (void)arg;
    int64_t until = util_mono_us() + SNAP_STEP_US;
    int ran = 1;
    while (tl_parts && ran && util_mono_us() < until) {
        int behind = atomic_load(&tl_parts->job->backlog) > SNAP_BACKLOG_BYTES;
        ran = 0;
        for (shard_snap_t *ss = tl_parts, *next; ss; ss = next) {
            next = ss->next;
            if (behind && !ss->big_out) continue;
            ran = 1;
            if (!snap_step_part(ss)) continue;
            snap_unlink(ss);
            snap_part_done(ss);
        }
    }
    if (tl_parts) snap_arm(ran ? 0 : 1);
}

/* The cut, on shard s (its thread, every shard locked by the cut's transaction). */
static void snap_begin_shard(snap_job_t *job, shard_t *s) {
    shard_snap_t *ss = &job->parts[s->id];
    if (job->sink.cut) job->sink.cut(job->sink.arg, s->id);
    ss->job = job;
    ss->s = s;
    ss->buf_db = -1;
    ss->bigs_tail = &ss->bigs;
    ss->tabs = calloc((size_t)s->ndbs, sizeof *ss->tabs);
    for (int db = 0; db < s->ndbs; db++) {
        table_t *t = s->dbs[db].t;
        if (!table_size(t)) continue;
        snap_table_t *st = &ss->tabs[ss->ntabs++];
        st->t = t;
        st->db = db;
        st->ss = ss;
        table_snap_begin(t, snap_entry, snap_release, st);
    }
    if (!ss->ntabs) {
        snap_part_done(ss);
        return;
    }
    if (!tl_step_ev) tl_step_ev = evtimer_new(tl_worker->base, snap_step, NULL);
    ss->next = tl_parts;
    tl_parts = ss;
    snap_arm(0);
}

int snapshot_adopt_table(shard_t *s, table_t *t) {
    if (!table_snap_active(t)) return 0;
    for (shard_snap_t *ss = tl_parts; ss; ss = ss->next) {
        if (ss->s != s) continue;
        for (int i = 0; i < ss->ntabs; i++) {
            if (ss->tabs[i].t == t) {
                ss->tabs[i].detached = 1;
                return 1;
            }
        }
    }
    return 0;
}

void snapshot_worker_exit(worker_t *w) {
    (void)w;
    /* Only with a part of ours outstanding is the job sure to outlive this (the writer frees
       it once every shard is done). */
    snap_job_t *job = tl_parts ? atomic_load(&g_job) : NULL;
    if (job) {
        pthread_mutex_lock(&job->mu);
        job->aborted = 1;
        pthread_mutex_unlock(&job->mu);
    }
    while (tl_parts) {
        shard_snap_t *ss = tl_parts;
        tl_parts = ss->next;
        rbuf_free(&ss->buf);
        snap_big_abort(ss);
        ss->cur = ss->ntabs;
        snap_part_done(ss);
    }
    if (tl_step_ev) event_free(tl_step_ev);
    tl_step_ev = NULL;
}

/* ------------------------------------------------------------------------------------ */
/* The cut: an all-shards transaction (BGSAVE's own, or run by an internal client)        */

static int snap_job_create(conn_t *waiter);

static int snap_cut_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,
                          const dfm_str_t *argv, const int *keys, int nkeys) {
    (void)phase, (void)state, (void)argc, (void)argv, (void)keys, (void)nkeys;
    snap_job_t *job = atomic_load(&g_job);
    if (job) snap_begin_shard(job, ctx->shard);
    return 0;
}

static void snap_cut_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)state, (void)argc, (void)argv;
    reply_ok(ctx);
}

static const dfm_multi_t snap_cut_multi = {1, snap_cut_phase, snap_cut_reply};
static cmd_stats_t snap_cut_stats[CMD_MAX_WORKERS];
static cmd_t snap_cut_cmd = {.name = "snapshot-cut", .arity = 1,
                             .flags = CMD_ALL_SHARDS, .multi = &snap_cut_multi,
                             .module = "core", .stats = snap_cut_stats};

/* ------------------------------------------------------------------------------------ */
/* Writer thread                                                                          */

/* An AUX field (key and value as RDB strings) into b. */
static void snap_aux(rbuf_t *b, const char *k, const char *v) {
    dfm_rdb_t r;
    unsigned char op = RDB_OPCODE_AUX;
    rdb_writer_init(&r, b);
    rdb_save_raw(&r, &op, 1);
    rdb_save_string(&r, k, strlen(k));
    rdb_save_string(&r, v, strlen(v));
}

static void snap_header(rbuf_t *b, int aof_base) {
    char num[32];
    rbuf_append(b, "REDIS0010", 9);
    snap_aux(b, "redis-ver", DF_REDIS_VERSION);
    snap_aux(b, "redis-bits", "64");
    snprintf(num, sizeof num, "%lld", (long long)(util_now_ms() / 1000));
    snap_aux(b, "ctime", num);
    snprintf(num, sizeof num, "%lld", (long long)df_total_allocated());
    snap_aux(b, "used-mem", num);
    snap_aux(b, "aof-base", aof_base ? "1" : "0");
}

/* Next chunk for the writer, NULL when every shard is done. While a big record is open only
   its shard's continuation queue is taken (unless the job aborted: then nothing completes
   it, and its bytes no longer matter). */
static snap_chunk_t *snap_next_chunk(snap_job_t *job, int *aborted) {
    snap_queue_t *q;
    pthread_mutex_lock(&job->mu);
    for (;;) {
        q = job->open_shard >= 0 && !job->aborted ? &job->cont[job->open_shard] : &job->main;
        if (q->head || atomic_load(&job->shards_left) == 0) break;
        pthread_cond_wait(&job->cv, &job->mu);
    }
    snap_chunk_t *ch = q->head;
    if (ch) {
        q->head = ch->next;
        if (!q->head) q->tail = NULL;
        job->open_shard = ch->open ? ch->shard : -1;
    }
    *aborted = job->aborted;
    pthread_mutex_unlock(&job->mu);
    return ch;
}

/* Write the file: header, chunks as they come, EOF and CRC. 0 or -1 (errno logged). Takes
   every chunk until all shards are done even after a failure: the job outlives no shard. */
static int snap_write_file(snap_job_t *job) {
    int fd = open(job->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = -1;
    uint64_t crc = 0;
    if (fd < 0) {
        log_warning("Failed opening the temp RDB file %s (in server root dir %s) for saving: %s",
                    job->tmp, g_config.dir, strerror(errno));
    } else {
        rbuf_t head = {0};
        snap_header(&head, job->sink.aof_base);
        rbuf_append(&head, job->aux.data, job->aux.len);
        crc = crc64(0, head.data, head.len);
        rc = util_write_all(fd, head.data, head.len);
        rbuf_free(&head);
    }
    int aborted = 0;
    for (snap_chunk_t *ch; (ch = snap_next_chunk(job, &aborted)) != NULL;) {
        if (rc == 0) {
            crc = crc64(crc, ch->buf.data, ch->buf.len);
            rc = util_write_all(fd, ch->buf.data, ch->buf.len);
        }
        atomic_fetch_sub(&job->backlog, ch->buf.len);
        rbuf_free(&ch->buf);
        free(ch);
    }
    unsigned char tail[9] = {RDB_OPCODE_EOF};
    crc = g_config.rdbchecksum ? crc64(crc, tail, 1) : 0; /* 0: readers skip the check */
    for (int i = 0; i < 8; i++) tail[1 + i] = (unsigned char)(crc >> (8 * i));
    if (fd < 0) return -1;
    if (rc == 0 && !aborted) rc = util_write_all(fd, tail, sizeof tail);
    if (rc == 0 && !aborted) rc = fsync(fd);
    if (rc < 0) log_warning("Write error saving DB on disk: %s", strerror(errno));
    if (close(fd) < 0) rc = -1;
    if (rc == 0 && !aborted && rename(job->tmp, job->path) < 0) {
        log_warning("Error moving temp DB file %s on the final destination %s: %s", job->tmp,
                    job->path, strerror(errno));
        rc = -1;
    }
    if (rc < 0 || aborted) unlink(job->tmp);
    return aborted ? -1 : rc;
}

/* On the waiter's thread: answer SAVE and let the client go on. */
static void snap_answer(void *arg) {
    snap_waiter_t *wt = arg;
    conn_t *c = wt->c;
    if (!(c->flags & CONN_CLOSING)) {
        const char *r = wt->ok ? "+OK\r\n" : "-ERR\r\n";
        rbuf_append(&c->obuf, r, strlen(r));
    }
    free(wt);
    c->pending--;
    conn_resume(c);
}

static void snap_queue_free(snap_queue_t *q) {
    while (q->head) {
        snap_chunk_t *ch = q->head;
        q->head = ch->next;
        rbuf_free(&ch->buf);
        free(ch);
    }
}

static void snap_job_free(snap_job_t *job) {
    snap_queue_free(&job->main); /* leftovers of an aborted job */
    for (int i = 0; i < g_nshards; i++) snap_queue_free(&job->cont[i]);
    free(job->cont);
    for (int i = 0; i < g_nshards; i++) free(job->parts[i].tabs);
    free(job->parts);
    free(job->path);
    free(job->tmp);
    rbuf_free(&job->aux);
    pthread_mutex_destroy(&job->mu);
    pthread_cond_destroy(&job->cv);
    free(job);
}

/* A sink's snapshot (a replica's, an AOF base): tell the sink, keep the save statistics as
   they are. */
static void snap_sink_done(snap_job_t *job, int rc) {
    snapshot_sink_t sink = job->sink;
    atomic_store(&g_running_aof, 0);
    atomic_store(&g_job, NULL);
    snap_job_free(job);
    atomic_fetch_add(&g_generation, 1);
    atomic_store(&g_running, 0);
    sink.done(sink.arg, rc == 0);
}

static void *snap_writer(void *arg) {
    snap_job_t *job = arg;
    int rc = snap_write_file(job);
    if (job->sink.done) {
        snap_sink_done(job, rc);
        return NULL;
    }
    int64_t now = util_now_ms();
    atomic_store(&g_last_ok, rc == 0);
    atomic_store(&g_last_duration_s, (now - job->start_ms + 500) / 1000);
    if (rc == 0) {
        atomic_store(&g_lastsave_s, now / 1000);
        atomic_store(&g_dirty_at_save, job->dirty_at_start);
        atomic_fetch_add(&g_saves, 1);
        log_notice("DB saved on disk (%llu keys, %lld ms)", (unsigned long long)atomic_load(&job->keys),
                   (long long)(now - job->start_ms));
    } else {
        log_warning("Background saving error");
    }
    pthread_mutex_lock(&job->mu);
    snap_waiter_t *w = job->waiters;
    job->waiters = NULL;
    pthread_mutex_unlock(&job->mu);
    while (w) {
        snap_waiter_t *next = w->next;
        w->ok = rc == 0;
        worker_post(w->worker, snap_answer, w);
        w = next;
    }
    atomic_store(&g_job, NULL);
    snap_job_free(job);
    atomic_fetch_add(&g_generation, 1);
    atomic_store(&g_running, 0);
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Starting                                                                               */

static snap_job_t *snap_job_new(void) {
    snap_job_t *job = calloc(1, sizeof *job);
    pthread_mutex_init(&job->mu, NULL);
    pthread_cond_init(&job->cv, NULL);
    atomic_init(&job->shards_left, g_nshards);
    job->parts = calloc((size_t)g_nshards, sizeof *job->parts);
    job->cont = calloc((size_t)g_nshards, sizeof *job->cont);
    job->open_shard = -1;
    job->path = snapshot_path();
    char tmp[40];
    snprintf(tmp, sizeof tmp, "temp-%d.rdb", (int)getpid());
    job->tmp = config_dir_file(tmp);
    job->start_ms = util_now_ms();
    atomic_store(&g_job_start_ms, job->start_ms);
    job->dirty_at_start = snap_dirty_now();
    api_rdb_aux_save(&job->aux); /* a worker thread, as the savers need */
    return job;
}

/* Claim the one snapshot slot, build the job and start its writer. 0, -1 (one is running)
   or -2 (no thread). The cut is the caller's to run. */
static int snap_job_create(conn_t *waiter) {
    int idle = 0;
    if (!atomic_compare_exchange_strong(&g_running, &idle, 1)) return -1;
    atomic_store(&g_last_try_ms, util_now_ms());
    snap_job_t *job = snap_job_new();
    if (waiter) {
        snap_waiter_t *w = calloc(1, sizeof *w);
        w->c = waiter;
        w->worker = waiter->w->id;
        job->waiters = w;
    }
    atomic_store(&g_job, job);
    int err = util_thread_detached(snap_writer, job);
    if (err) {
        log_warning("Can't save in background: %s", strerror(err));
        atomic_store(&g_job, NULL);
        job->waiters = NULL;
        snap_job_free(job);
        atomic_store(&g_last_ok, 0);
        atomic_store(&g_running, 0);
        return -2;
    }
    log_notice("Background saving started");
    return 0;
}

int snapshot_start_for(const snapshot_sink_t *sink, const char *path) {
    int rc = snap_job_create(NULL);
    if (rc < 0) return rc;
    snap_job_t *job = atomic_load(&g_job);
    job->sink = *sink;
    atomic_store(&g_running_aof, sink->aof_base);
    free(job->path);
    job->path = strdup(path);
    dfm_str_t argv[1] = {{"snapshot-cut", 12}};
    conn_t *c = conn_internal(tl_worker);
    tx_run_multi(c, &snap_cut_cmd, 1, argv, NULL, 0);
    if (!c->pending) conn_release(c);
    return 0;
}

int snapshot_start(conn_t *waiter) {
    int rc = snap_job_create(waiter);
    if (rc < 0) return rc;
    dfm_str_t argv[1] = {{"snapshot-cut", 12}};
    conn_t *c = conn_internal(tl_worker);
    tx_run_multi(c, &snap_cut_cmd, 1, argv, NULL, 0);
    /* Delivered already (all shards local)? Then no later delivery frees the client. */
    if (!c->pending) conn_release(c);
    return 0;
}

int snapshot_running(void) { return atomic_load(&g_running); }

void snapshot_after_flushall(void) {
    if (g_config.save && g_config.save[0]) atomic_store(&g_scheduled, 1);
}

int snapshot_refuses_writes(void) {
    if (__builtin_expect(atomic_load_explicit(&g_last_ok, memory_order_relaxed), 1)) return 0;
    return g_config.stop_writes_on_bgsave_error && g_config.save && g_config.save[0];
}

const char *const snapshot_misconf_error =
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to "
    "disk. Commands that may modify the data set are disabled, because this instance is "
    "configured to report errors during writes if RDB snapshotting fails "
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the "
    "RDB error.";

/* ------------------------------------------------------------------------------------ */
/* Save points, shutdown, INFO                                                            */

/* 1 if a `save` pair <seconds> <changes> is reached. */
static int snap_due(const char *save, uint64_t changes, int64_t since_s) {
    const char *p = save;
    while (p && *p) {
        char *end;
        long long secs = strtoll(p, &end, 10);
        if (end == p) return 0;
        long long n = strtoll(end, &end, 10);
        if (changes >= (uint64_t)n && since_s > secs) { /* Redis: strictly more seconds */
            log_notice("%lld changes in %lld seconds. Saving...", n, secs);
            return 1;
        }
        p = end;
    }
    return 0;
}

void snapshot_cron(worker_t *w) {
    if (w->id != 0 || atomic_load(&g_running) || atomic_load(&g_server.shutting_down)) return;
    if (atomic_exchange(&g_scheduled, 0)) {
        snapshot_start(NULL);
        return;
    }
    const char *save = g_config.save;
    if (!save || !save[0]) return;
    int64_t now = util_now_ms();
    if (!atomic_load(&g_last_ok) && now - atomic_load(&g_last_try_ms) < SNAP_RETRY_MS) return;
    uint64_t changes = snap_dirty_now() - atomic_load(&g_dirty_at_save);
    if (!changes) return;
    /* since the last save, or the start (as Redis: a fresh server waits a whole period) */
    if (snap_due(save, changes, now / 1000 - snapshot_lastsave())) snapshot_start(NULL);
}

static void snap_start_on_worker(void *arg) {
    atomic_int *rc = arg;
    atomic_store(rc, snapshot_start(NULL) == 0 ? 1 : -1);
}

void snapshot_wait_idle(void) {
    while (atomic_load(&g_running)) usleep(1000);
}

int snapshot_save_and_wait(void) {
    while (atomic_load(&g_running)) usleep(1000); /* a BGSAVE in flight finishes first */
    uint64_t gen = atomic_load(&g_generation);
    int prev_ok = atomic_load(&g_last_ok);
    atomic_int started = 0;
    worker_post(0, snap_start_on_worker, &started);
    while (!atomic_load(&started)) usleep(1000);
    if (atomic_load(&started) < 0) return -1;
    while (atomic_load(&g_generation) == gen) usleep(1000);
    int ok = atomic_load(&g_last_ok);
    atomic_store(&g_last_ok, prev_ok); /* a foreground save, as Redis's at shutdown: no MISCONF */
    return ok ? 0 : -1;
}

int64_t snapshot_lastsave(void) {
    int64_t s = atomic_load(&g_lastsave_s);
    return s ? s : g_server.start_ms / 1000;
}

void snapshot_note_load(uint64_t loaded, uint64_t expired) {
    atomic_store(&g_load_keys, loaded);
    atomic_store(&g_load_expired, expired);
    atomic_store(&g_dirty_at_save, snap_dirty_now());
}

void snapshot_info(rbuf_t *b) {
    int running = atomic_load(&g_running);
    int64_t now = util_now_ms(), start = atomic_load(&g_job_start_ms);
    info_line(b, "rdb_changes_since_last_save:%llu",
              (unsigned long long)(snap_dirty_now() - atomic_load(&g_dirty_at_save)));
    info_line(b, "rdb_bgsave_in_progress:%d", running);
    info_line(b, "rdb_last_save_time:%lld", (long long)snapshot_lastsave());
    info_line(b, "rdb_last_bgsave_status:%s", atomic_load(&g_last_ok) ? "ok" : "err");
    info_line(b, "rdb_last_bgsave_time_sec:%lld", (long long)atomic_load(&g_last_duration_s));
    info_line(b, "rdb_current_bgsave_time_sec:%lld",
              running && start ? (long long)((now - start) / 1000) : -1LL);
    info_line(b, "rdb_saves:%llu", (unsigned long long)atomic_load(&g_saves));
    info_line(b, "rdb_last_cow_size:0");
    info_line(b, "rdb_last_load_keys_expired:%llu", (unsigned long long)atomic_load(&g_load_expired));
    info_line(b, "rdb_last_load_keys_loaded:%llu", (unsigned long long)atomic_load(&g_load_keys));
    /* ours: big values written in slices, the slices, and those a command finished early */
    info_line(b, "rdb_big_values_sliced:%llu", (unsigned long long)atomic_load(&g_big_sliced));
    info_line(b, "rdb_big_value_slices:%llu", (unsigned long long)atomic_load(&g_big_slices));
    info_line(b, "rdb_big_values_finished_early:%llu", (unsigned long long)atomic_load(&g_big_early));
}

/* ------------------------------------------------------------------------------------ */
/* Commands                                                                               */

/* SAVE: the client waits for the file (other clients go on: no fork, no global stall). */
static void save_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    conn_t *c = ctx->conn;
    if (!c || ctx->tx) {
        reply_error(ctx, "ERR Command not allowed inside a transaction");
        return;
    }
    int rc = snapshot_start(c);
    if (rc == -1) {
        reply_error(ctx, "ERR Background save already in progress");
        return;
    }
    if (rc < 0) {
        reply_error(ctx, "ERR");
        return;
    }
    c->pending++;
}

/* 1 while the running snapshot is an AOF rewrite's base. Any thread. */
static int snap_running_aof(void) { return atomic_load(&g_running) && atomic_load(&g_running_aof); }

/* BGSAVE's state between its shards: what the first shard decided (as a small integer). */
enum { BG_STARTED = 1, BG_BUSY, BG_FAILED, BG_SYNTAX };

/* BGSAVE [SCHEDULE] is itself the cut: its first shard claims the job, every shard starts its
   part, and the reply follows the cut, so any command the client sends after the reply is
   not in the snapshot (as with Redis's fork). */
static int bgsave_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                        const int *keys, int nkeys) {
    (void)phase, (void)keys, (void)nkeys;
    if (!*state) {
        int rc = -2;
        if (argc > 2 || (argc == 2 && !util_eq_nocase(argv[1].ptr, argv[1].len, "schedule")))
            rc = -3;
        else
            rc = snap_job_create(NULL);
        *state = (void *)(uintptr_t)(rc == 0 ? BG_STARTED : rc == -1 ? BG_BUSY : rc == -2 ? BG_FAILED : BG_SYNTAX);
        if (rc < 0) return -1;
    }
    snap_begin_shard(atomic_load(&g_job), ctx->shard);
    return 0;
}

static void bgsave_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)argv;
    switch ((uintptr_t)*state) {
    case BG_STARTED: reply_simple(ctx, "Background saving started"); break;
    case BG_BUSY:
        if (argc == 2) {
            atomic_store(&g_scheduled, 1);
            reply_simple(ctx, "Background saving scheduled");
        } else if (snap_running_aof()) { /* Redis's text when its AOF child runs */
            reply_error(ctx, "ERR Another child process is active (AOF?): can't BGSAVE right now. "
                             "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
        } else {
            reply_error(ctx, "ERR Background save already in progress");
        }
        break;
    case BG_SYNTAX: reply_syntax_error(ctx); break;
    default: reply_error(ctx, "ERR"); break;
    }
}

static const dfm_multi_t bgsave_multi = {1, bgsave_phase, bgsave_reply};

static const dfm_command_t snapshot_cmds[] = {
    {.name = "save", .arity = 1, .flags = "admin noscript no_multi", .acl_categories = "@admin @slow @dangerous",
     .summary = "Synchronously saves the database(s) to disk", .since = "1.0.0", .group = "server",
     .complexity = "O(N) where N is the total number of keys in all databases", .handler = save_cmd},
    {.name = "bgsave", .arity = -1, .flags = "admin noscript @allshards", .acl_categories = "@admin @slow @dangerous",
     .summary = "Asynchronously saves the database(s) to disk", .since = "1.0.0", .group = "server",
     .complexity = "O(1)", .args_doc = "[SCHEDULE]", .multi = &bgsave_multi},
};

void cmd_snapshot_register(void) { cmdtab_register(snapshot_cmds, CMDTAB_COUNT(snapshot_cmds)); }
