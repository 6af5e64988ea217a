/*
 * backlog.c: the replication stream and its backlog (see backlog.h).
 *
 * Threads. Writers only push onto the record queue (Vyukov's intrusive MPSC queue: one
 * atomic exchange per record) and ring the feeder's eventfd when it sleeps. The feeder alone
 * pops, and alone appends to the blocks; it and the readers (replica sender threads) share
 * the blocks, offsets and reader table under g_bl.mu, never held across I/O. A reader copies
 * nothing: it gets a pointer into a block under the mutex and writes from it afterwards,
 * which is safe because a block is freed only once every reader is past it and bytes below
 * the stream's end never change.
 */
#include "backlog.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "info.h"
#include "log.h"
#include "replica.h"
#include "replid.h"
#include "server.h"
#include "util.h"
#include "worker.h"

#define BL_BLOCK (16 * 1024)
#define BL_MAX_READERS 16

enum { REC_DATA, REC_CUT, REC_MARK, REC_PROMOTE };

typedef struct rec {
    struct rec *_Atomic next;
    int kind;
    int shard, db, db_after; /* REC_DATA; REC_CUT: shard */
    void *ptr;               /* REC_CUT: the reader; REC_MARK: the mark */
    size_t len;
    char data[];
} rec_t;

struct backlog_mark {
    atomic_int refs;
    int want_ack; /* append REPLCONF GETACK once reached (WAIT) */
    _Atomic long long off;
};

typedef struct block {
    struct block *next;
    long long start;
    size_t len;
    char data[BL_BLOCK];
} block_t;

static struct {
    pthread_mutex_t mu;
    /* under mu */
    block_t *head, *tail;
    long long end;              /* master_repl_offset */
    int db;                     /* the db the stream has selected; -1: SELECT before the next */
    int reset_pending;          /* a promotion is queued: records before it are dropped */
    long long reset_off;
    backlog_reader_t *readers[BL_MAX_READERS];
    int nreaders;
    int64_t idle_since_ms;      /* when the stream last had no reader (repl-backlog-ttl) */
    atomic_int started;         /* set under mu, read anywhere */
    pthread_t thread;
    /* the feeder's own */
    backlog_reader_t *window;   /* the reader whose snapshot cut is under way */
    unsigned char *cut;         /* [g_nshards]: shard passed that cut */
    int ncut;
    rec_t *held, **held_end;    /* records held back during the cut */
    int64_t last_ping_ms;
    int wake_due;               /* records appended since the readers were last rung */
    /* the queue */
    _Atomic(rec_t *) qtail;
    rec_t *qhead;
    rec_t stub;
    int efd;
    atomic_int sleeping, stop;
    _Atomic long long end_seen; /* end, for INFO and backlog_offset without the mutex */
    _Atomic long long start_seen;
} g_bl = {.mu = PTHREAD_MUTEX_INITIALIZER, .db = -1, .efd = -1};

atomic_int g_backlog_on;

/* ------------------------------------------------------------------------------------ */
/* The record queue                                                                       */

static void bl__ring(int efd) {
    uint64_t one = 1;
    ssize_t w = write(efd, &one, sizeof one);
    (void)w; /* a full counter already wakes the reader */
}

/* Queue r; quiet: leave ringing the feeder to backlog_ring_pending (a worker's pushes ring
   once per loop iteration, not once per write). */
static void bl__enqueue_q(rec_t *r, int quiet) {
    atomic_store_explicit(&r->next, NULL, memory_order_relaxed);
    rec_t *prev = atomic_exchange(&g_bl.qtail, r); /* seq_cst: pairs with the feeder's sleep */
    atomic_store_explicit(&prev->next, r, memory_order_release);
    if (!quiet && atomic_load(&g_bl.sleeping)) bl__ring(g_bl.efd);
}

static void bl__enqueue(rec_t *r) { bl__enqueue_q(r, 0); }

static _Thread_local int tl_unrung; /* this worker pushed since it last rang the feeder */

void backlog_ring_pending(void) {
    if (!tl_unrung) return;
    tl_unrung = 0;
    if (atomic_load(&g_bl.sleeping)) bl__ring(g_bl.efd); /* after the pushes: seq_cst */
}

/* Next record or NULL (feeder only). NULL also while a producer is between its exchange and
   its link; the queue is then not empty (bl__queue_empty) and the feeder retries. */
static rec_t *bl__pop(void) {
    rec_t *head = g_bl.qhead, *next = atomic_load_explicit(&head->next, memory_order_acquire);
    if (head == &g_bl.stub) {
        if (!next) return NULL;
        g_bl.qhead = head = next;
        next = atomic_load_explicit(&next->next, memory_order_acquire);
    }
    if (next) {
        g_bl.qhead = next;
        return head;
    }
    if (head != atomic_load(&g_bl.qtail)) return NULL;
    bl__enqueue(&g_bl.stub);
    next = atomic_load_explicit(&head->next, memory_order_acquire);
    if (!next) return NULL;
    g_bl.qhead = next;
    return head;
}

static int bl__queue_empty(void) {
    return g_bl.qhead == &g_bl.stub && atomic_load(&g_bl.qtail) == &g_bl.stub;
}

static rec_t *bl__rec(int kind, size_t len) {
    rec_t *r = malloc(sizeof *r + len);
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->len = len;
    return r;
}

void backlog_push(int shard, int db, int db_after, const rbuf_t *b) {
    if (!backlog_on()) return;
    rec_t *r = bl__rec(REC_DATA, b->len);
    r->shard = shard;
    r->db = db;
    r->db_after = db_after;
    memcpy(r->data, b->data, b->len);
    int quiet = tl_worker != NULL;
    bl__enqueue_q(r, quiet);
    tl_unrung |= quiet;
}

void backlog_cut(backlog_reader_t *reader, int shard) {
    rec_t *r = bl__rec(REC_CUT, 0);
    r->shard = shard;
    r->ptr = reader;
    bl__enqueue(r);
}

/* ------------------------------------------------------------------------------------ */
/* Blocks (under mu)                                                                      */

static void bl__publish(void) {
    atomic_store(&g_bl.end_seen, g_bl.end);
    atomic_store(&g_bl.start_seen, g_bl.head ? g_bl.head->start : g_bl.end);
}

static void bl__append(const char *p, size_t n) {
    while (n) {
        block_t *t = g_bl.tail;
        if (!t || t->len == BL_BLOCK) {
            t = malloc(sizeof *t);
            t->next = NULL;
            t->start = g_bl.end;
            t->len = 0;
            if (g_bl.tail) g_bl.tail->next = t;
            else g_bl.head = t;
            g_bl.tail = t;
        }
        size_t k = BL_BLOCK - t->len < n ? BL_BLOCK - t->len : n;
        memcpy(t->data + t->len, p, k);
        t->len += k;
        g_bl.end += (long long)k;
        p += k;
        n -= k;
    }
}

static void bl__select(int db) {
    char num[16];
    int n = snprintf(num, sizeof num, "%d", db);
    dfm_str_t argv[2] = {{"SELECT", 6}, {num, (size_t)n}};
    rbuf_t b = {0};
    rbuf_append_command(&b, 2, argv);
    bl__append(b.data, b.len);
    rbuf_free(&b);
}

/* Drop every block: the stream starts again at end. Readers are told they must stop. */
static void bl__drop(void) {
    while (g_bl.head) {
        block_t *b = g_bl.head;
        g_bl.head = b->next;
        free(b);
    }
    g_bl.tail = NULL;
    g_bl.db = -1;
    for (int i = 0; i < g_bl.nreaders; i++) {
        backlog_reader_t *r = g_bl.readers[i];
        r->dead = 1;
        r->blk = NULL;
        bl__ring(r->efd);
    }
    bl__publish();
}

/* Free blocks older than the backlog that no reader still needs. */
static void bl__trim(void) {
    long long keep = g_bl.end - (long long)g_config.repl_backlog_size;
    for (int i = 0; i < g_bl.nreaders; i++)
        if (!g_bl.readers[i]->dead && g_bl.readers[i]->pos < keep) keep = g_bl.readers[i]->pos;
    while (g_bl.head && g_bl.head->next && g_bl.head->start + (long long)g_bl.head->len <= keep) {
        block_t *b = g_bl.head;
        g_bl.head = b->next;
        for (int i = 0; i < g_bl.nreaders; i++)
            if (g_bl.readers[i]->blk == b) g_bl.readers[i]->blk = NULL;
        free(b);
    }
}

/* Wake the readers that sleep (new bytes). */
static void bl__wake_readers(void) {
    for (int i = 0; i < g_bl.nreaders; i++)
        if (atomic_load(&g_bl.readers[i]->sleeping)) bl__ring(g_bl.readers[i]->efd);
}

/* ------------------------------------------------------------------------------------ */
/* The feeder                                                                             */

/* A write record into the stream, after a SELECT when it needs another db. */
static void bl_append_rec(const rec_t *r) {
    pthread_mutex_lock(&g_bl.mu);
    if (atomic_load(&g_backlog_on) && !g_bl.reset_pending) {
        if (r->db != g_bl.db) bl__select(r->db);
        bl__append(r->data, r->len);
        g_bl.db = r->db_after;
        bl__trim();
        bl__publish();
        g_bl.wake_due = 1; /* readers are rung once per batch of records (bl_wake_due) */
    }
    pthread_mutex_unlock(&g_bl.mu);
}

/* Ring the sleeping readers if records came since the last time (feeder). */
static void bl_wake_due(void) {
    if (!g_bl.wake_due) return;
    g_bl.wake_due = 0;
    pthread_mutex_lock(&g_bl.mu);
    bl__wake_readers();
    pthread_mutex_unlock(&g_bl.mu);
}

/* Raw bytes that need no db (PING, REPLCONF GETACK), only while someone reads, and not while
   clients are paused: like Redis, a pause (a FAILOVER's) leaves the offset where it is. */
static void bl_append_raw(const char *p, size_t n) {
    if (atomic_load(&g_server.pause_until_ms) > util_now_ms()) return;
    pthread_mutex_lock(&g_bl.mu);
    if (atomic_load(&g_backlog_on) && !g_bl.reset_pending && g_bl.nreaders) {
        bl__append(p, n);
        bl__publish();
        bl__wake_readers();
    }
    pthread_mutex_unlock(&g_bl.mu);
}

static void bl_mark_reached(backlog_mark_t *m) {
    pthread_mutex_lock(&g_bl.mu);
    long long off = g_bl.end;
    pthread_mutex_unlock(&g_bl.mu);
    int want_ack = m->want_ack;
    atomic_store(&m->off, off);
    backlog_mark_release(m);
    static const char getack[] = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";
    if (want_ack) bl_append_raw(getack, sizeof getack - 1);
}

static void bl_promoted(void) {
    pthread_mutex_lock(&g_bl.mu);
    bl__drop();
    g_bl.end = g_bl.reset_off;
    g_bl.reset_pending = 0;
    g_bl.idle_since_ms = util_now_ms();
    bl__publish();
    pthread_mutex_unlock(&g_bl.mu);
}

static void bl_process(rec_t *r);

/* The last shard passed the cut: the reader starts here, then the held records follow. */
static void bl_window_close(void) {
    backlog_reader_t *reader = g_bl.window;
    pthread_mutex_lock(&g_bl.mu);
    long long at = g_bl.end;
    g_bl.db = -1; /* the replica starts in db 0 of a fresh link: SELECT first */
    if (reader->attached && !reader->dead) {
        reader->pos = at;
        reader->blk = NULL;
    }
    pthread_mutex_unlock(&g_bl.mu);
    atomic_store(&reader->cut, at);
    bl__ring(reader->efd);
    g_bl.window = NULL;
    rec_t *held = g_bl.held;
    g_bl.held = NULL;
    g_bl.held_end = &g_bl.held;
    while (held) {
        rec_t *next = atomic_load_explicit(&held->next, memory_order_relaxed);
        bl_process(held);
        held = next;
    }
}

static void bl_window_cut(const rec_t *r) {
    if (!g_bl.window) {
        g_bl.window = r->ptr;
        memset(g_bl.cut, 0, (size_t)g_nshards);
        g_bl.ncut = 0;
    }
    if (!g_bl.cut[r->shard]) {
        g_bl.cut[r->shard] = 1;
        g_bl.ncut++;
    }
    if (g_bl.ncut == g_nshards) bl_window_close();
}

/* During a cut, writes of shards already cut (and marks) wait for its end. */
static int bl_hold(rec_t *r) {
    if (!g_bl.window || (r->kind == REC_DATA && !g_bl.cut[r->shard])) return 0;
    atomic_store_explicit(&r->next, NULL, memory_order_relaxed);
    *g_bl.held_end = r;
    g_bl.held_end = (rec_t **)&r->next;
    return 1;
}

static void bl_process(rec_t *r) {
    if ((r->kind == REC_DATA || r->kind == REC_MARK) && bl_hold(r)) return;
    switch (r->kind) {
    case REC_DATA: bl_append_rec(r); break;
    case REC_CUT: bl_window_cut(r); break;
    case REC_MARK: bl_mark_reached(r->ptr); break;
    case REC_PROMOTE: bl_promoted(); break;
    }
    free(r);
}

/* Timers: PING the replicas every 10 s; free a stream nobody read for repl-backlog-ttl s
   (a master only), under a new id since our history is lost with it (Redis does the same). */
static void bl_timers(void) {
    int64_t now = util_now_ms();
    if (now - g_bl.last_ping_ms >= config_compat_num(C_REPL_PING_PERIOD) * 1000) {
        g_bl.last_ping_ms = now;
        bl_append_raw("*1\r\n$4\r\nPING\r\n", 14);
    }
    pthread_mutex_lock(&g_bl.mu);
    int64_t ttl = g_config.repl_backlog_ttl;
    if (atomic_load(&g_backlog_on) && !g_bl.nreaders && ttl > 0 && !replica_active() &&
        now - g_bl.idle_since_ms >= ttl * 1000) {
        atomic_store(&g_backlog_on, 0);
        bl__drop();
        replid_reset();
        log_notice("Replication backlog freed after %lld seconds without replicas.", (long long)ttl);
    }
    pthread_mutex_unlock(&g_bl.mu);
}

/* Sleep until a push rings (or 100 ms for the timers), unless the queue is not empty. */
static void bl_sleep(void) {
    atomic_store(&g_bl.sleeping, 1);
    if (bl__queue_empty()) {
        struct pollfd p = {g_bl.efd, POLLIN, 0};
        if (poll(&p, 1, 100) > 0) {
            uint64_t v;
            ssize_t n = read(g_bl.efd, &v, sizeof v);
            (void)n;
        }
    } else {
        usleep(20); /* a producer is between its exchange and its link */
    }
    atomic_store(&g_bl.sleeping, 0);
}

static void *bl_feeder(void *arg) {
    (void)arg;
    for (unsigned n = 1; !atomic_load(&g_bl.stop); n++) {
        rec_t *r = bl__pop();
        if (r) {
            if (r != &g_bl.stub) bl_process(r);
            if (n % 64 == 0) bl_wake_due();
            if (n % 1024 == 0) bl_timers(); /* a stream that never pauses */
            continue;
        }
        bl_wake_due();
        bl_timers();
        bl_sleep();
    }
    return NULL;
}

/* Under mu: the feeder thread, once. */
static void bl__start_locked(void) {
    if (g_bl.started) return;
    g_bl.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    g_bl.cut = calloc((size_t)g_nshards, 1);
    g_bl.held_end = &g_bl.held;
    atomic_store(&g_bl.qtail, &g_bl.stub);
    g_bl.qhead = &g_bl.stub;
    g_bl.last_ping_ms = util_now_ms();
    if (pthread_create(&g_bl.thread, NULL, bl_feeder, NULL) != 0) {
        log_warning("Replication: cannot start the stream's feeder thread");
        return;
    }
    g_bl.started = 1;
}

/* ------------------------------------------------------------------------------------ */
/* Starting, promotion, stop                                                              */

void backlog_enable(int fresh_id) {
    pthread_mutex_lock(&g_bl.mu);
    bl__start_locked();
    if (g_bl.started && !atomic_load(&g_backlog_on)) {
        if (fresh_id) replid_reset();
        bl__drop();
        g_bl.idle_since_ms = util_now_ms();
        atomic_store(&g_backlog_on, 1);
        log_notice("Replication backlog created, starting at offset %lld", g_bl.end);
    }
    pthread_mutex_unlock(&g_bl.mu);
}

void backlog_promote(long long offset) {
    pthread_mutex_lock(&g_bl.mu);
    bl__start_locked();
    if (!g_bl.started) {
        pthread_mutex_unlock(&g_bl.mu);
        return;
    }
    g_bl.reset_pending = 1;
    g_bl.reset_off = offset;
    atomic_store(&g_bl.end_seen, offset);
    atomic_store(&g_bl.start_seen, offset);
    atomic_store(&g_backlog_on, 1);
    pthread_mutex_unlock(&g_bl.mu);
    bl__enqueue(bl__rec(REC_PROMOTE, 0)); /* what was pushed before belongs to the old history */
}

void backlog_stop(void) {
    pthread_mutex_lock(&g_bl.mu);
    atomic_store(&g_backlog_on, 0);
    bl__drop();
    g_bl.idle_since_ms = util_now_ms();
    pthread_mutex_unlock(&g_bl.mu);
}

void backlog_settle(void) {
    backlog_mark_t *m = backlog_mark(0);
    for (int i = 0; i < 1000 && backlog_mark_offset(m) < 0; i++) usleep(1000);
    backlog_mark_release(m);
}

/* ------------------------------------------------------------------------------------ */
/* Readers                                                                                */

void backlog_reader_init(backlog_reader_t *r) {
    memset(r, 0, sizeof *r);
    atomic_store(&r->cut, -1);
    r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

void backlog_reader_free(backlog_reader_t *r) {
    if (r->efd >= 0) close(r->efd);
    r->efd = -1;
}

/* Under mu: register r at pos. */
static int bl__attach(backlog_reader_t *r, long long pos) {
    if (g_bl.nreaders == BL_MAX_READERS) return -1;
    r->pos = pos;
    r->blk = NULL;
    r->dead = 0;
    r->attached = 1;
    g_bl.readers[g_bl.nreaders++] = r;
    return 0;
}

/* Under mu: wait (up to 1 s) until a queued promotion has restarted the stream, so a reader
   never attaches to the history it ends. */
static void bl__wait_reset(void) {
    for (int i = 0; i < 1000 && g_bl.reset_pending; i++) {
        pthread_mutex_unlock(&g_bl.mu);
        usleep(1000);
        pthread_mutex_lock(&g_bl.mu);
    }
}

int backlog_attach_at(backlog_reader_t *r, long long pos) {
    pthread_mutex_lock(&g_bl.mu);
    bl__wait_reset();
    long long start = g_bl.head ? g_bl.head->start : g_bl.end;
    int rc = -1;
    if (atomic_load(&g_backlog_on) && !g_bl.reset_pending && pos >= start && pos <= g_bl.end)
        rc = bl__attach(r, pos);
    pthread_mutex_unlock(&g_bl.mu);
    return rc;
}

int backlog_attach_cut(backlog_reader_t *r) {
    atomic_store(&r->cut, -1);
    pthread_mutex_lock(&g_bl.mu);
    bl__wait_reset();
    int rc = atomic_load(&g_backlog_on) && !g_bl.reset_pending ? bl__attach(r, g_bl.end) : -1;
    pthread_mutex_unlock(&g_bl.mu);
    return rc;
}

int backlog_attach_end(backlog_reader_t *r, long long *pos) {
    pthread_mutex_lock(&g_bl.mu);
    bl__wait_reset();
    int rc = -1;
    if (atomic_load(&g_backlog_on) && !g_bl.reset_pending && (rc = bl__attach(r, g_bl.end)) == 0) {
        *pos = g_bl.end;
        g_bl.db = -1;
    }
    pthread_mutex_unlock(&g_bl.mu);
    return rc;
}

void backlog_detach(backlog_reader_t *r) {
    pthread_mutex_lock(&g_bl.mu);
    for (int i = 0; i < g_bl.nreaders; i++) {
        if (g_bl.readers[i] != r) continue;
        g_bl.readers[i] = g_bl.readers[--g_bl.nreaders];
        break;
    }
    r->attached = 0;
    if (!g_bl.nreaders) g_bl.idle_since_ms = util_now_ms();
    pthread_mutex_unlock(&g_bl.mu);
}

/* Under mu: the block holding r->pos (r->pos < end). */
static block_t *bl__locate(backlog_reader_t *r) {
    block_t *b = r->blk;
    if (b && r->pos == b->start + (long long)b->len) b = b->next;
    if (!b || r->pos < b->start || r->pos >= b->start + (long long)b->len)
        for (b = g_bl.head; b && r->pos >= b->start + (long long)b->len; b = b->next) {}
    r->blk = b;
    return b;
}

long long backlog_read(backlog_reader_t *r, size_t sent, const char **p, long long limit) {
    pthread_mutex_lock(&g_bl.mu);
    long long n = -1;
    r->pos += (long long)sent;
    if (r->dead || g_bl.end - r->pos > limit) goto out;
    n = 0;
    if (!p || r->pos >= g_bl.end) goto out;
    block_t *b = bl__locate(r);
    if (!b) goto out;
    *p = b->data + (r->pos - b->start);
    n = b->start + (long long)b->len - r->pos;
out:
    pthread_mutex_unlock(&g_bl.mu);
    return n;
}

/* ------------------------------------------------------------------------------------ */
/* WAIT marks                                                                             */

backlog_mark_t *backlog_mark(int want_ack) {
    backlog_mark_t *m = malloc(sizeof *m);
    m->want_ack = want_ack;
    atomic_init(&m->off, -1);
    if (!atomic_load(&g_bl.started) || !backlog_on()) { /* no stream: nothing to wait for */
        atomic_init(&m->refs, 1);
        atomic_store(&m->off, backlog_offset());
        return m;
    }
    atomic_init(&m->refs, 2);
    rec_t *r = bl__rec(REC_MARK, 0);
    r->ptr = m;
    bl__enqueue(r);
    return m;
}

long long backlog_mark_offset(const backlog_mark_t *m) { return atomic_load(&m->off); }

void backlog_mark_release(backlog_mark_t *m) {
    if (atomic_fetch_sub(&m->refs, 1) == 1) free(m);
}

/* ------------------------------------------------------------------------------------ */
/* INFO, shutdown                                                                         */

long long backlog_offset(void) { return atomic_load(&g_bl.end_seen); }

long long backlog_histlen(void) {
    return backlog_on() ? atomic_load(&g_bl.end_seen) - atomic_load(&g_bl.start_seen) : 0;
}

void backlog_info(rbuf_t *b) {
    int on = backlog_on();
    long long end = atomic_load(&g_bl.end_seen), start = atomic_load(&g_bl.start_seen);
    info_line(b, "repl_backlog_active:%d", on);
    info_line(b, "repl_backlog_size:%lld", (long long)g_config.repl_backlog_size);
    info_line(b, "repl_backlog_first_byte_offset:%lld", on ? start + 1 : 0);
    info_line(b, "repl_backlog_histlen:%lld", on ? end - start : 0);
}

void backlog_shutdown(void) {
    if (!atomic_load(&g_bl.started)) return;
    atomic_store(&g_bl.stop, 1);
    bl__ring(g_bl.efd);
    pthread_join(g_bl.thread, NULL);
    for (rec_t *r; (r = bl__pop()) != NULL;) { /* the workers are gone: no push is half done */
        if (r == &g_bl.stub) continue;
        if (r->kind == REC_MARK) backlog_mark_release(r->ptr);
        free(r);
    }
    while (g_bl.held) {
        rec_t *r = g_bl.held;
        g_bl.held = atomic_load_explicit(&r->next, memory_order_relaxed);
        if (r->kind == REC_MARK) backlog_mark_release(r->ptr);
        free(r);
    }
    pthread_mutex_lock(&g_bl.mu);
    atomic_store(&g_backlog_on, 0);
    g_bl.nreaders = 0;
    bl__drop();
    pthread_mutex_unlock(&g_bl.mu);
    free(g_bl.cut);
    close(g_bl.efd);
}
