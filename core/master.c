/*
 * master.c: feeding replicas (see master.h).
 *
 * A replica (rep_t) lives in a slot of g_reps from its PSYNC until shutdown: a dropped one is
 * marked dead and never freed while the server runs, so a writer that read the slot a moment
 * before may still push into it safely (the sender frees nothing a pusher can reach).
 * The queue is Vyukov's intrusive MPSC queue: producers swap the tail (one atomic exchange
 * per record), the sender alone pops.
 */
#include "master.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmdtab.h"
#include "config.h"
#include "conn.h"
#include "db.h"
#include "info.h"
#include "log.h"
#include "replica.h"
#include "server.h"
#include "snapshot.h"
#include "util.h"
#include "worker.h"

#define MASTER_MAX_REPLICAS 16
#define MASTER_LAG_LIMIT ((size_t)256 << 20) /* client-output-buffer-limit replica 256mb */
#define MASTER_PING_MS 10000

enum { REP_WAIT_SNAPSHOT, REP_SEND_RDB, REP_ONLINE, REP_DEAD };
static const char *const rep_state_names[] = {"wait_bgsave", "send_bulk", "online", "dead"};

typedef struct jrec {
    struct jrec *_Atomic next;
    int db;       /* the db the record's first command needs */
    int db_after; /* the db its last command leaves selected */
    size_t len;
    char data[];
} jrec_t;

typedef struct rep {
    atomic_int state;
    int fd, efd;
    atomic_int sleeping;
    _Atomic(jrec_t *) tail; /* producers */
    jrec_t *head;           /* sender */
    jrec_t stub;
    atomic_size_t queued;
    atomic_uchar *cut; /* [g_nshards]: this shard's journal feeds us */
    atomic_int snap_ok; /* 0 pending, 1 written, -1 failed */
    _Atomic long long offset;   /* stream bytes written (after the snapshot) */
    _Atomic long long enq_total; /* journal bytes queued, ever */
    _Atomic long long done_total; /* journal bytes written, ever */
    _Atomic long long ack;       /* the replica's last REPLCONF ACK (its offset space) */
    long long base;              /* the FULLRESYNC offset: ack = base + stream bytes it has */
    atomic_int want_ack;         /* a WAIT asks: send REPLCONF GETACK */
    int port;
    char addr[64];
    char path[512];
    char hello[128]; /* "+FULLRESYNC ..." for PSYNC, sent by the sender thread */
    int hello_len;
    struct rep *grave; /* replaced in its slot after dying: freed at shutdown */
} rep_t;

atomic_int g_master_nreplicas;
static _Atomic(rep_t *) g_reps[MASTER_MAX_REPLICAS];
static _Atomic long long g_offset;
static atomic_int g_threads;
static rep_t *g_graves; /* under g_reg_mu */
static pthread_mutex_t g_reg_mu = PTHREAD_MUTEX_INITIALIZER;

/* ------------------------------------------------------------------------------------ */
/* Queue                                                                                  */

static void rep_push(rep_t *r, jrec_t *rec) {
    atomic_store_explicit(&rec->next, NULL, memory_order_relaxed);
    jrec_t *prev = atomic_exchange_explicit(&r->tail, rec, memory_order_acq_rel);
    atomic_store_explicit(&prev->next, rec, memory_order_release);
    atomic_fetch_add(&r->queued, rec->len);
    atomic_fetch_add(&r->enq_total, (long long)rec->len);
    if (atomic_load(&r->sleeping)) {
        uint64_t one = 1;
        ssize_t w = write(r->efd, &one, sizeof one);
        (void)w;
    }
}

/* Next record or NULL (sender only). A producer between its exchange and its link makes
   the queue look empty for a moment: the caller retries after a short wait. */
static jrec_t *rep_pop(rep_t *r) {
    jrec_t *head = r->head, *next = atomic_load_explicit(&head->next, memory_order_acquire);
    if (head == &r->stub) {
        if (!next) return NULL;
        r->head = next;
        head = next;
        next = atomic_load_explicit(&next->next, memory_order_acquire);
    }
    if (next) {
        r->head = next;
        return head;
    }
    if (head != atomic_load(&r->tail)) return NULL;
    rep_push(r, &r->stub);
    next = atomic_load_explicit(&head->next, memory_order_acquire);
    if (!next) return NULL;
    r->head = next;
    return head;
}

/* ------------------------------------------------------------------------------------ */
/* Journal                                                                                */

static void put_select(rbuf_t *b, int db) {
    char num[16];
    int n = snprintf(num, sizeof num, "%d", db);
    dfm_str_t argv[2] = {{"SELECT", 6}, {num, (size_t)n}};
    rbuf_append_command(b, 2, argv);
}

/* Copy the record to every replica whose journal has started on shard. */
static void journal_push(int shard, int db, int db_after, const rbuf_t *b) {
    atomic_fetch_add(&g_offset, (long long)b->len);
    for (int i = 0; i < MASTER_MAX_REPLICAS; i++) {
        rep_t *r = atomic_load(&g_reps[i]);
        if (!r || atomic_load(&r->state) == REP_DEAD || !atomic_load(&r->cut[shard])) continue;
        jrec_t *rec = malloc(sizeof *rec + b->len);
        rec->db = db;
        rec->db_after = db_after;
        rec->len = b->len;
        memcpy(rec->data, b->data, b->len);
        rep_push(r, rec);
    }
}

void master_journal_cmd(int shard, int db, int argc, const dfm_str_t *argv) {
    if (!master_journaling()) return;
    rbuf_t b = {0};
    rbuf_append_command(&b, argc, argv);
    journal_push(shard, db, db, &b);
    rbuf_free(&b);
}

/* SPOP's reply (a bulk, or an array / RESP3 set of bulks) as SREM key members. 0 if it
   popped nothing or the reply is not one of those. */
static int spop_as_srem(rbuf_t *b, const dfm_str_t *key, const char *r, size_t n) {
    const char *end = r + n, *p = r;
    long count = 1;
    if (n && (*p == '*' || *p == '~')) {
        count = strtol(p + 1, NULL, 10);
        p = memchr(p, '\n', (size_t)(end - p));
        if (!p) return 0;
        p++;
    }
    if (count <= 0 || count > 1 << 20) return 0;
    dfm_str_t *argv = malloc(sizeof *argv * (size_t)(count + 2));
    argv[0] = (dfm_str_t){"SREM", 4};
    argv[1] = *key;
    int argc = 2;
    for (long i = 0; i < count && p < end && *p == '$'; i++) {
        long len = strtol(p + 1, NULL, 10);
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (len < 0 || !nl || nl + 1 + len > end) break;
        argv[argc++] = (dfm_str_t){nl + 1, (size_t)len};
        p = nl + 1 + len + 2;
    }
    if (argc > 2) rbuf_append_command(b, argc, argv);
    free(argv);
    return argc > 2;
}

/* Commands whose effect depends on the clock or chance, as Redis rewrites them: SPOP as
   SREM of what it popped; a relative TTL pinned to the absolute time it gave the key. */
void master_journal_write(struct shard *s, int db, int argc, const dfm_str_t *argv,
                          const char *reply, size_t rlen) {
    if (!master_journaling()) return;
    const dfm_str_t *name = &argv[0];
    rbuf_t b = {0};
    if (util_eq_nocase(name->ptr, name->len, "spop") && argc >= 2) {
        if (spop_as_srem(&b, &argv[1], reply, rlen)) journal_push(s->id, db, db, &b);
        rbuf_free(&b);
        return;
    }
    rbuf_append_command(&b, argc, argv);
    static const char *const ttl_cmds[] = {"expire", "pexpire", "setex", "psetex", "set",
                                           "getex", "restore", NULL};
    int ttl = 0;
    for (int i = 0; ttl_cmds[i] && argc >= 2; i++) ttl |= util_eq_nocase(name->ptr, name->len, ttl_cmds[i]);
    table_slot_t *slot = ttl ? db_find_raw(s, db, argv[1].ptr, argv[1].len) : NULL;
    int64_t at = slot ? entry_expire(slot_entry(*slot)) : -1;
    if (at >= 0) {
        char num[24];
        int n = snprintf(num, sizeof num, "%lld", (long long)at);
        dfm_str_t pin[3] = {{"PEXPIREAT", 9}, argv[1], {num, (size_t)n}};
        rbuf_append_command(&b, 3, pin);
    }
    journal_push(s->id, db, db, &b);
    rbuf_free(&b);
}

void master_journal_del(int shard, int db, const char *key, size_t len) {
    if (!master_journaling()) return;
    dfm_str_t argv[2] = {{"DEL", 3}, {key, len}};
    master_journal_cmd(shard, db, 2, argv);
}

void master_journal_tx(int shard, const master_txcmd_t *cmds, int n, int exec) {
    if (!master_journaling() || n == 0) return;
    rbuf_t b = {0};
    dfm_str_t word[1] = {{"MULTI", 5}};
    if (exec) rbuf_append_command(&b, 1, word);
    int db = cmds[0].db;
    for (int i = 0; i < n; i++) {
        if (cmds[i].db != db) put_select(&b, cmds[i].db);
        db = cmds[i].db;
        rbuf_append_command(&b, cmds[i].argc, cmds[i].argv);
    }
    word[0] = (dfm_str_t){"EXEC", 4};
    if (exec) rbuf_append_command(&b, 1, word);
    journal_push(shard, cmds[0].db, db, &b);
    rbuf_free(&b);
}

void master_cut_shard(void *replicas, int shard) {
    rep_t *r = replicas;
    atomic_store(&r->cut[shard], 1);
}

void master_snapshot_done(void *replicas, int ok) {
    rep_t *r = replicas;
    atomic_store(&r->snap_ok, ok ? 1 : -1);
    uint64_t one = 1;
    ssize_t w = write(r->efd, &one, sizeof one);
    (void)w;
}

/* ------------------------------------------------------------------------------------ */
/* Sender thread                                                                          */

static int rep_write(rep_t *r, const void *p, size_t n) {
    if (util_write_all(r->fd, p, n) < 0) return -1;
    atomic_fetch_add(&r->offset, (long long)n);
    return 0;
}

/* The offsets of "REPLCONF ACK <n>" commands in what the replica sent (an ack cut in two by
   the socket is lost; the replica sends another within a second). */
static void rep_parse_acks(rep_t *r, char *buf, size_t n) {
    buf[n] = '\0';
    for (char *p = buf; (p = strstr(p, "ACK\r\n$")) != NULL; p += 6) {
        char *nl = strstr(p + 6, "\r\n");
        if (!nl) break;
        long long v = strtoll(nl + 2, NULL, 10);
        if (v > atomic_load(&r->ack)) atomic_store(&r->ack, v);
    }
}

/* Wait up to ms for the doorbell or input (acks, read and dropped); -1 if the socket closed. */
static int rep_wait(rep_t *r, int ms) {
    struct pollfd p[2] = {{r->efd, POLLIN, 0}, {r->fd, POLLIN, 0}};
    atomic_store(&r->sleeping, 1);
    int n = poll(p, 2, ms);
    atomic_store(&r->sleeping, 0);
    char buf[4096];
    if (n > 0 && (p[0].revents & POLLIN)) {
        ssize_t rd = read(r->efd, buf, 8);
        (void)rd;
    }
    if (n > 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t rd = recv(r->fd, buf, sizeof buf - 1, MSG_DONTWAIT);
        if (rd == 0 || (rd < 0 && errno != EAGAIN && errno != EINTR)) return -1;
        if (rd > 0) rep_parse_acks(r, buf, (size_t)rd);
    }
    return 0;
}

static void rep_start_snapshot(void *arg) {
    rep_t *r = arg;
    if (snapshot_start_for(r, r->path) < 0) atomic_store(&r->snap_ok, 2); /* busy: retry */
}

/* The snapshot for r, then its bytes as "$<len>\r\n<bytes>". */
static int rep_send_snapshot(rep_t *r) {
    for (;;) {
        atomic_store(&r->snap_ok, 0);
        worker_post(0, rep_start_snapshot, r);
        while (atomic_load(&r->snap_ok) == 0 && !atomic_load(&g_server.shutting_down)) {
            if (rep_wait(r, 1000) < 0 || write(r->fd, "\n", 1) != 1) return -1; /* keep-alive */
        }
        int ok = atomic_load(&r->snap_ok);
        if (ok == 1) break;
        if (ok != 2) return -1;
        usleep(100000); /* another snapshot runs: ours after it */
    }
    atomic_store(&r->state, REP_SEND_RDB);
    int fd = open(r->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) return -1;
    char buf[64 * 1024];
    int n = snprintf(buf, sizeof buf, "$%lld\r\n", (long long)st.st_size);
    int rc = util_write_all(r->fd, buf, (size_t)n);
    for (ssize_t got; rc == 0 && (got = read(fd, buf, sizeof buf)) > 0;)
        rc = util_write_all(r->fd, buf, (size_t)got);
    close(fd);
    unlink(r->path);
    return rc;
}

/* Stream the journal until the replica goes away or lags too far. */
static void rep_stream(rep_t *r) {
    int db = -1;
    int64_t last = util_now_ms();
    while (!atomic_load(&g_server.shutting_down)) {
        jrec_t *rec = rep_pop(r);
        if (!rec) {
            if (atomic_load(&r->queued) > MASTER_LAG_LIMIT) break;
            if (atomic_exchange(&r->want_ack, 0) &&
                rep_write(r, "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n", 37) < 0)
                break;
            if (util_now_ms() - last >= MASTER_PING_MS) {
                if (rep_write(r, "*1\r\n$4\r\nPING\r\n", 14) < 0) break;
                last = util_now_ms();
            }
            if (rep_wait(r, 100) < 0) break;
            continue;
        }
        atomic_fetch_sub(&r->queued, rec->len);
        int rc = 0;
        if (rec->db != db) {
            rbuf_t b = {0};
            put_select(&b, rec->db);
            rc = rep_write(r, b.data, b.len);
            rbuf_free(&b);
        }
        if (rc == 0) rc = rep_write(r, rec->data, rec->len);
        if (rc == 0) atomic_fetch_add(&r->done_total, (long long)rec->len);
        db = rec->db_after;
        free(rec);
        last = util_now_ms();
        if (rc < 0) break;
    }
}

static void *rep_thread(void *arg) {
    rep_t *r = arg;
    if ((r->hello_len == 0 || util_write_all(r->fd, r->hello, (size_t)r->hello_len) == 0) &&
        rep_send_snapshot(r) == 0) {
        atomic_store(&r->state, REP_ONLINE);
        log_notice("Synchronization with replica %s succeeded", r->addr);
        rep_stream(r);
    }
    log_notice("Connection with replica %s lost.", r->addr);
    atomic_store(&r->state, REP_DEAD);
    atomic_fetch_sub(&g_master_nreplicas, 1);
    shutdown(r->fd, SHUT_RDWR);
    close(r->fd);
    for (jrec_t *rec; (rec = rep_pop(r)) != NULL;) free(rec); /* late pushes: at shutdown */
    atomic_fetch_sub(&g_threads, 1);
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* SYNC / PSYNC                                                                           */

static rep_t *rep_new(conn_t *c, int fd) {
    rep_t *r = calloc(1, sizeof *r);
    r->fd = fd;
    r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    atomic_store(&r->tail, &r->stub);
    r->head = &r->stub;
    r->cut = calloc((size_t)g_nshards, sizeof *r->cut);
    r->port = c->repl_port;
    snprintf(r->addr, sizeof r->addr, "%s", c->addr);
    char *base = snapshot_path();
    snprintf(r->path, sizeof r->path, "%s.replica-%llu.tmp", base, (unsigned long long)c->id);
    free(base);
    return r;
}

static int rep_register(rep_t *r) {
    pthread_mutex_lock(&g_reg_mu);
    for (int i = 0; i < MASTER_MAX_REPLICAS; i++) {
        rep_t *old = atomic_load(&g_reps[i]);
        if (old && atomic_load(&old->state) != REP_DEAD) continue;
        if (old) { /* a pusher may still hold it: kept until shutdown */
            old->grave = g_graves;
            g_graves = old;
        }
        atomic_store(&g_reps[i], r);
        atomic_fetch_add(&g_master_nreplicas, 1);
        pthread_mutex_unlock(&g_reg_mu);
        return 0;
    }
    pthread_mutex_unlock(&g_reg_mu);
    return -1;
}

static void rep_free(rep_t *r) {
    close(r->efd);
    free(r->cut);
    free(r);
}

static void sync_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    conn_t *c = ctx->conn;
    if (!c || ctx->tx || (c->flags & CONN_MASTER) || c->ssl) { /* no replication over TLS yet */
        reply_error(ctx, "ERR Replica can't interact with the keyspace");
        return;
    }
    int fd = dup(c->fd);
    rep_t *r = fd < 0 ? NULL : rep_new(c, fd);
    if (!r || rep_register(r) < 0) {
        if (fd >= 0) close(fd);
        reply_error(ctx, "ERR too many replicas");
        return;
    }
    r->base = atomic_load(&g_offset);
    if (argc >= 3) /* PSYNC: always a full resynchronisation */
        r->hello_len = snprintf(r->hello, sizeof r->hello, "+FULLRESYNC %s %lld\r\n",
                                info_run_replid(), r->base);
    /* blocking from now on: only the sender thread writes to it */
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    struct timeval tv = {60, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    log_notice("Replica %s asks for synchronization", c->addr);
    conn_close(c); /* the socket lives on as fd, the sender thread's */
    pthread_t tid;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    atomic_fetch_add(&g_threads, 1);
    if (pthread_create(&tid, &attr, rep_thread, r) != 0) {
        atomic_fetch_sub(&g_threads, 1);
        atomic_store(&r->state, REP_DEAD);
        atomic_fetch_sub(&g_master_nreplicas, 1);
        close(fd);
    }
    pthread_attr_destroy(&attr);
}

/* ------------------------------------------------------------------------------------ */
/* WAIT numreplicas timeout                                                               */

/* A client in WAIT: per replica slot, the journal bytes it must have written (queued when
   WAIT came) and then the offset its ack must reach (the stream position once they were
   written; -1 until then). Lives on the client's thread. */
typedef struct waiter {
    conn_t *c;
    int need;
    int64_t deadline_ms; /* 0: none */
    struct event *ev;
    rep_t *rep[MASTER_MAX_REPLICAS];
    long long target[MASTER_MAX_REPLICAS], need_ack[MASTER_MAX_REPLICAS];
} waiter_t;

/* Replicas that have acknowledged everything queued before the WAIT. */
static int wait_count(waiter_t *w) {
    int n = 0;
    for (int i = 0; i < MASTER_MAX_REPLICAS; i++) {
        rep_t *r = w->rep[i];
        if (!r || atomic_load(&r->state) != REP_ONLINE) continue;
        if (w->need_ack[i] < 0 && atomic_load(&r->done_total) >= w->target[i])
            w->need_ack[i] = r->base + atomic_load(&r->offset);
        if (w->need_ack[i] >= 0 && atomic_load(&r->ack) >= w->need_ack[i]) n++;
    }
    return n;
}

static void wait_ask_acks(waiter_t *w) {
    for (int i = 0; i < MASTER_MAX_REPLICAS; i++) {
        rep_t *r = w->rep[i];
        if (!r || atomic_load(&r->state) != REP_ONLINE) continue;
        atomic_store(&r->want_ack, 1);
        uint64_t one = 1;
        ssize_t x = write(r->efd, &one, sizeof one);
        (void)x;
    }
}

static void wait_tick(evutil_socket_t fd, short what, void *arg) {
    (void)fd, (void)what;
    waiter_t *w = arg;
    conn_t *c = w->c;
    int n = wait_count(w);
    int done = n >= w->need || (w->deadline_ms && util_now_ms() >= w->deadline_ms) ||
               (c->flags & CONN_CLOSING);
    if (!done) {
        struct timeval tv = {0, 10000};
        evtimer_add(w->ev, &tv);
        return;
    }
    if (!(c->flags & CONN_CLOSING)) {
        char line[32];
        int len = snprintf(line, sizeof line, ":%d\r\n", n);
        rbuf_append(&c->obuf, line, (size_t)len);
    }
    event_free(w->ev);
    free(w);
    c->pending--;
    conn_resume(c);
}

static void wait_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    long long need, timeout;
    if (util_str2ll(argv[1].ptr, argv[1].len, &need) < 0) {
        reply_error(ctx, "ERR value is not an integer or out of range");
        return;
    }
    if (util_str2ll(argv[2].ptr, argv[2].len, &timeout) < 0) {
        reply_error(ctx, "ERR timeout is not an integer or out of range");
        return;
    }
    if (timeout < 0) {
        reply_error(ctx, "ERR timeout is negative");
        return;
    }
    if (replica_active()) {
        reply_error(ctx, "ERR WAIT cannot be used with replica instances. Please also note that since "
                         "Redis 4.0 if a replica is configured to be writable (which is not the "
                         "default) writes to replicas are just local and are not propagated.");
        return;
    }
    waiter_t *w = calloc(1, sizeof *w);
    w->need = need > MASTER_MAX_REPLICAS ? MASTER_MAX_REPLICAS + 1 : (int)need;
    for (int i = 0; i < MASTER_MAX_REPLICAS; i++) {
        w->rep[i] = atomic_load(&g_reps[i]);
        w->target[i] = w->rep[i] ? atomic_load(&w->rep[i]->enq_total) : 0;
        w->need_ack[i] = -1;
    }
    int n = wait_count(w);
    if (n >= w->need || ctx->tx || !ctx->conn) { /* inside MULTI: at once, as Redis */
        free(w);
        reply_int(ctx, n);
        return;
    }
    wait_ask_acks(w);
    w->c = ctx->conn;
    w->deadline_ms = timeout ? util_now_ms() + timeout : 0;
    w->ev = evtimer_new(ctx->conn->w->base, wait_tick, w);
    struct timeval tv = {0, 1000};
    evtimer_add(w->ev, &tv);
    ctx->conn->pending++;
}

/* ------------------------------------------------------------------------------------ */
/* INFO, shutdown                                                                         */

long long master_offset(void) { return atomic_load(&g_offset); }

void master_info(rbuf_t *b) {
    int n = 0;
    for (int i = 0; i < MASTER_MAX_REPLICAS; i++) {
        rep_t *r = atomic_load(&g_reps[i]);
        if (r && atomic_load(&r->state) != REP_DEAD) n++;
    }
    info_line(b, "connected_slaves:%d", n);
    n = 0;
    for (int i = 0; i < MASTER_MAX_REPLICAS; i++) {
        rep_t *r = atomic_load(&g_reps[i]);
        if (!r || atomic_load(&r->state) == REP_DEAD) continue;
        char ip[64];
        snprintf(ip, sizeof ip, "%s", r->addr);
        char *colon = strrchr(ip, ':');
        if (colon) *colon = '\0';
        info_line(b, "slave%d:ip=%s,port=%d,state=%s,offset=%lld,lag=0", n++, ip, r->port,
                  rep_state_names[atomic_load(&r->state)], (long long)atomic_load(&r->offset));
    }
}

void master_shutdown(void) {
    for (int i = 0; i < 300 && atomic_load(&g_threads) > 0; i++) {
        for (int j = 0; j < MASTER_MAX_REPLICAS; j++) {
            rep_t *r = atomic_load(&g_reps[j]);
            if (r && atomic_load(&r->state) != REP_DEAD) shutdown(r->fd, SHUT_RDWR);
        }
        usleep(10000);
    }
    for (int j = 0; j < MASTER_MAX_REPLICAS; j++) {
        rep_t *r = atomic_exchange(&g_reps[j], NULL);
        if (r && atomic_load(&r->state) == REP_DEAD) rep_free(r);
    }
    while (g_graves) {
        rep_t *r = g_graves;
        g_graves = r->grave;
        rep_free(r);
    }
}

static const dfm_command_t master_cmds[] = {
    {.name = "wait", .arity = 3, .flags = "noscript", .acl_categories = "@slow @connection",
     .summary = "Blocks until the asynchronous replication of all preceding write commands sent "
                "by the connection is completed.",
     .since = "3.0.0", .group = "generic", .complexity = "O(1)", .args_doc = "numreplicas timeout",
     .handler = wait_cmd},
    {.name = "sync", .arity = 1, .flags = "admin noscript no_multi", .acl_categories = "@admin @slow @dangerous",
     .summary = "An internal command used in replication.", .since = "1.0.0", .group = "server",
     .complexity = "O(N)", .handler = sync_cmd},
    {.name = "psync", .arity = -3, .flags = "admin noscript no_multi", .acl_categories = "@admin @slow @dangerous",
     .summary = "An internal command used in replication.", .since = "2.8.0", .group = "server",
     .complexity = "O(N)", .args_doc = "replicationid offset", .handler = sync_cmd},
};

void cmd_master_register(void) { cmdtab_register(master_cmds, CMDTAB_COUNT(master_cmds)); }
