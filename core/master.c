/*
 * master.c: feeding replicas (see master.h).
 *
 * A replica (rep_t) lives in a slot of g_reps from its SYNC / PSYNC until shutdown: a dropped
 * one is marked dead and kept (in the graves list once its slot is reused), so INFO or WAIT
 * reading a slot a moment before may still look at it safely. Its sender thread owns its
 * socket (non-blocking, waited on with a time limit: sockio.h) and, for a replica that came
 * in on the TLS port, the client's TLS session, which moves over with the socket: everything
 * the replica is sent (+FULLRESYNC, the RDB, the stream, keep-alives) and its acks go through
 * that session. The bytes it sends are the replication stream (backlog.c), which it reads at
 * its own offset.
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backlog.h"
#include "cmdtab.h"
#include "config.h"
#include "conn.h"
#include "db.h"
#include "failover.h"
#include "info.h"
#include "log.h"
#include "replica.h"
#include "replid.h"
#include "server.h"
#include "snapshot.h"
#include "sockio.h"
#include "tls.h"
#include "util.h"
#include "worker.h"

#define MASTER_MAX_REPLICAS 16
#define MASTER_LAG_LIMIT ((long long)256 << 20) /* client-output-buffer-limit replica 256mb */

enum { REP_WAIT_SNAPSHOT, REP_SEND_RDB, REP_ONLINE, REP_DEAD };
static const char *const rep_state_names[] = {"wait_bgsave", "send_bulk", "online", "dead"};

typedef struct rep {
    atomic_int state;
    sockio_t io; /* the socket, and the TLS session of a replica on the TLS port */
    backlog_reader_t rd;
    atomic_int snap_ok;           /* 0 pending, 1 written, -1 failed, 2 busy: try again */
    _Atomic long long ack;        /* the replica's last REPLCONF ACK */
    _Atomic int64_t ack_ms;
    int port;
    char addr[64]; /* the connection's ip:port */
    char ip[64];   /* what it announced (replica-announce-ip), else the connection's ip */
    char path[512];
    int psync;                    /* PSYNC (answered +FULLRESYNC / +CONTINUE), not SYNC */
    int failover;                 /* PSYNC ... FAILOVER: we are being promoted for it */
    char want_id[REPLID_LEN + 1]; /* what PSYNC asked for */
    long long want_off;
    struct rep *grave; /* replaced in its slot after dying: freed at shutdown */
} rep_t;

static _Atomic(rep_t *) g_reps[MASTER_MAX_REPLICAS];
static atomic_int g_threads;
static rep_t *g_graves; /* under g_reg_mu */
static pthread_mutex_t g_reg_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_llong g_sync_full, g_sync_partial_ok, g_sync_partial_err; /* INFO stats */

/* ------------------------------------------------------------------------------------ */
/* Journal: what writers push onto the stream                                             */

static void put_select(rbuf_t *b, int db) {
    char num[16];
    int n = snprintf(num, sizeof num, "%d", db);
    dfm_str_t argv[2] = {{"SELECT", 6}, {num, (size_t)n}};
    rbuf_append_command(b, 2, argv);
}

void master_journal_cmd(int shard, int db, int argc, const dfm_str_t *argv) {
    if (!master_journaling()) return;
    rbuf_t b = {0};
    rbuf_append_command(&b, argc, argv);
    backlog_push(shard, db, db, &b);
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
/* Append to b the journal form of a write (see master_journal_write). */
static void journal_render(rbuf_t *b, struct shard *s, int db, int argc, const dfm_str_t *argv,
                           const char *reply, size_t rlen) {
    const dfm_str_t *name = &argv[0];
    if (util_eq_nocase(name->ptr, name->len, "spop") && argc >= 2) {
        spop_as_srem(b, &argv[1], reply, rlen);
        return;
    }
    rbuf_append_command(b, argc, argv);
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
        rbuf_append_command(b, 3, pin);
    }
}

void master_journal_render(rbuf_t *b, struct shard *s, int db, int argc, const dfm_str_t *argv,
                           const char *reply, size_t rlen) {
    journal_render(b, s, db, argc, argv, reply, rlen);
}

void master_journal_write(struct shard *s, int db, int argc, const dfm_str_t *argv,
                          const char *reply, size_t rlen) {
    if (!master_journaling()) return;
    rbuf_t b = {0};
    journal_render(&b, s, db, argc, argv, reply, rlen);
    if (b.len) backlog_push(s->id, db, db, &b);
    rbuf_free(&b);
}

/* ---- a script's effects (Redis 7.0 replicates what a script did, not the script) ---- */

static _Thread_local struct {
    int active, n, db0, db;
    rbuf_t b;
} tl_fx;

void master_effects_begin(int db) {
    tl_fx.active = 1;
    tl_fx.n = 0;
    tl_fx.db0 = tl_fx.db = db;
    tl_fx.b.len = 0;
}

void master_effects_add(struct shard *s, int db, int argc, const dfm_str_t *argv,
                        const char *reply, size_t rlen) {
    if (!tl_fx.active) return;
    if (db != tl_fx.db) put_select(&tl_fx.b, db);
    tl_fx.db = db;
    size_t before = tl_fx.b.len;
    journal_render(&tl_fx.b, s, db, argc, argv, reply, rlen);
    tl_fx.n += tl_fx.b.len > before;
}

void master_effects_end(struct shard *s) {
    if (!tl_fx.active) return;
    tl_fx.active = 0;
    if (tl_fx.n && master_journaling()) {
        rbuf_t out = {0};
        dfm_str_t word[1] = {{"MULTI", 5}};
        if (tl_fx.n > 1) rbuf_append_command(&out, 1, word);
        rbuf_append(&out, tl_fx.b.data, tl_fx.b.len);
        word[0] = (dfm_str_t){"EXEC", 4};
        if (tl_fx.n > 1) rbuf_append_command(&out, 1, word);
        backlog_push(s->id, tl_fx.db0, tl_fx.db, &out);
        rbuf_free(&out);
    }
    if (tl_fx.b.cap > 64 * 1024) rbuf_free(&tl_fx.b);
}

int master_effects_take(rbuf_t *out, int *db_after) {
    if (!tl_fx.active) return 0;
    tl_fx.active = 0;
    *db_after = tl_fx.db;
    if (tl_fx.n) rbuf_append(out, tl_fx.b.data, tl_fx.b.len);
    if (tl_fx.b.cap > 64 * 1024) rbuf_free(&tl_fx.b);
    return tl_fx.n > 0;
}

void master_effects_worker_exit(void) { rbuf_free(&tl_fx.b); }

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
        if (cmds[i].raw) {
            rbuf_append(&b, cmds[i].raw, cmds[i].rawlen);
            db = cmds[i].db_after;
        } else {
            rbuf_append_command(&b, cmds[i].argc, cmds[i].argv);
        }
    }
    word[0] = (dfm_str_t){"EXEC", 4};
    if (exec) rbuf_append_command(&b, 1, word);
    backlog_push(shard, cmds[0].db, db, &b);
    rbuf_free(&b);
}

void master_cut_shard(void *replicas, int shard) {
    rep_t *r = replicas;
    backlog_cut(&r->rd, shard);
}

void master_snapshot_done(void *replicas, int ok) {
    rep_t *r = replicas;
    if (atomic_load(&r->state) == REP_DEAD) unlink(r->path); /* nobody sends it */
    atomic_store(&r->snap_ok, ok ? 1 : -1);
    uint64_t one = 1;
    ssize_t w = write(r->rd.efd, &one, sizeof one);
    (void)w;
}

/* ------------------------------------------------------------------------------------ */
/* Sender thread                                                                          */

static atomic_llong g_repl_out; /* bytes written to replicas (INFO total_net_repl_output_bytes) */

long long master_repl_output_bytes(void) { return atomic_load(&g_repl_out); }

/* sockio_write_all to r, counted. */
static int rep_write(rep_t *r, const void *p, size_t n) {
    int rc = sockio_write_all(&r->io, p, n);
    if (rc == 0) atomic_fetch_add(&g_repl_out, (long long)n);
    return rc;
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
        atomic_store(&r->ack_ms, util_now_ms());
    }
}

/* Wait up to ms for the doorbell or input (acks, read and dropped); -1 if the socket closed. */
static int rep_wait(rep_t *r, int ms) {
    struct pollfd p[2] = {{r->rd.efd, POLLIN, 0}, {r->io.fd, POLLIN, 0}};
    atomic_store(&r->rd.sleeping, 1);
    int n = poll(p, 2, ms);
    atomic_store(&r->rd.sleeping, 0);
    char buf[4096];
    if (n > 0 && (p[0].revents & POLLIN)) {
        ssize_t rd = read(r->rd.efd, buf, 8);
        (void)rd;
    }
    if (n > 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
        for (int i = 0; i < 16; i++) { /* what is there (a TLS session: record by record) */
            ssize_t rd = sockio_read_nowait(&r->io, buf, sizeof buf - 1);
            if (rd == 0 || (rd < 0 && errno != EAGAIN)) return -1;
            if (rd < 0) break;
            rep_parse_acks(r, buf, (size_t)rd);
        }
    }
    return 0;
}

/* Wait (a second at a time, sending Redis's newline keep-alive) until done(r) holds; -1 if the
   replica goes away, lags too far, or we shut down. */
static int rep_wait_keepalive(rep_t *r, int (*done)(rep_t *)) {
    while (!done(r)) {
        if (atomic_load(&g_server.shutting_down) || rep_wait(r, 1000) < 0 ||
            backlog_read(&r->rd, 0, NULL, MASTER_LAG_LIMIT) < 0 || rep_write(r, "\n", 1) < 0)
            return -1;
    }
    return 0;
}

static int rep_snapshot_settled(rep_t *r) { return atomic_load(&r->snap_ok) != 0; }
/* The cut is known, or will not come (the snapshot failed, or could not start: busy). */
static int rep_cut_known(rep_t *r) {
    int ok = atomic_load(&r->snap_ok);
    return atomic_load(&r->rd.cut) >= 0 || ok == -1 || ok == 2;
}

static void rep_start_snapshot(void *arg) {
    rep_t *r = arg;
    snapshot_sink_t sink = {master_cut_shard, master_snapshot_done, r, 0};
    if (snapshot_start_for(&sink, r->path) < 0) atomic_store(&r->snap_ok, 2); /* busy: retry */
}

/* Start the snapshot for r (after any other one), and wait for its cut: the stream offset
   where the replica starts. -1 if the replica or the snapshot failed meanwhile. */
static int rep_take_cut(rep_t *r) {
    for (;;) {
        atomic_store(&r->snap_ok, 0);
        worker_post(0, rep_start_snapshot, r);
        if (rep_wait_keepalive(r, rep_cut_known) < 0) return -1;
        if (atomic_load(&r->rd.cut) >= 0) return 0;
        if (atomic_load(&r->snap_ok) != 2) return -1;
        usleep(100000); /* another snapshot runs: ours after it */
    }
}

/* The id a full sync gets: ours as a master; as a replica (chained) one of its own, which
   no PSYNC ever continues, since our stream's offsets are not our master's. */
static char g_chain_id[REPLID_LEN + 1];
static pthread_once_t g_chain_once = PTHREAD_ONCE_INIT;

static void rep_chain_id_init(void) {
    for (int i = 0; i < REPLID_LEN; i++) g_chain_id[i] = "0123456789abcdef"[util_rand64() & 15];
}

static void rep_full_id(char id[REPLID_LEN + 1]) {
    if (!replica_active()) {
        replid_get(id, NULL, NULL);
        return;
    }
    pthread_once(&g_chain_once, rep_chain_id_init);
    memcpy(id, g_chain_id, REPLID_LEN + 1);
}

/* A full sync: +FULLRESYNC <id> <cut offset> (PSYNC only), then the snapshot's bytes as
   "$<len>\r\n<bytes>". The reader then stands at the cut. */
static int rep_full_sync(rep_t *r) {
    atomic_fetch_add(&g_sync_full, 1);
    backlog_enable(!replica_active());
    if (backlog_attach_cut(&r->rd) < 0 || rep_take_cut(r) < 0) return -1;
    char buf[64 * 1024];
    if (r->psync) {
        char id[REPLID_LEN + 1];
        rep_full_id(id);
        int n = snprintf(buf, sizeof buf, "+FULLRESYNC %s %lld\r\n", id, (long long)atomic_load(&r->rd.cut));
        if (rep_write(r, buf, (size_t)n) < 0) return -1;
    }
    if (rep_wait_keepalive(r, rep_snapshot_settled) < 0 || atomic_load(&r->snap_ok) != 1) return -1;
    atomic_store(&r->state, REP_SEND_RDB);
    int fd = open(r->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) return -1;
    int n = snprintf(buf, sizeof buf, "$%lld\r\n", (long long)st.st_size);
    int rc = rep_write(r, buf, (size_t)n);
    for (ssize_t got; rc == 0 && (got = read(fd, buf, sizeof buf)) > 0;)
        rc = rep_write(r, buf, (size_t)got);
    close(fd);
    unlink(r->path);
    return rc;
}

/* PSYNC <id> <offset> on a stream that still holds the offset: +CONTINUE <our id>, and the
   reader starts there. 1 done, 0 a full sync is needed, -1 the socket failed. */
static int rep_continue(rep_t *r) {
    if (!r->psync || strcmp(r->want_id, "?") == 0) return 0;
    if (r->failover) { /* the promotion it asked for: the link closes on its worker first */
        for (int i = 0; i < 500 && replica_active(); i++) usleep(10000);
        backlog_settle();
    }
    if (replica_active() || !replid_accepts(r->want_id, r->want_off) ||
        backlog_attach_at(&r->rd, r->want_off - 1) < 0) {
        log_notice("Unable to partial resync with replica %s (request was %s:%lld)", r->addr,
                   r->want_id, r->want_off);
        atomic_fetch_add(&g_sync_partial_err, 1);
        return 0;
    }
    char id[REPLID_LEN + 1], line[64];
    replid_get(id, NULL, NULL);
    int n = snprintf(line, sizeof line, "+CONTINUE %s\r\n", id);
    if (rep_write(r, line, (size_t)n) < 0) return -1;
    atomic_fetch_add(&g_sync_partial_ok, 1);
    log_notice("Partial resynchronization request from %s accepted, from offset %lld.", r->addr,
               r->want_off);
    return 1;
}

/* Stream to the replica from its reader's offset until it goes away or lags too far, or
   master_shutdown closes its socket (a shutdown first lets lagging replicas catch up:
   shutdown-timeout). */
static void rep_stream(rep_t *r) {
    size_t sent = 0;
    for (;;) {
        const char *p;
        long long n = backlog_read(&r->rd, sent, &p, MASTER_LAG_LIMIT);
        sent = 0;
        if (n < 0) break;
        if (n > 0) {
            if (rep_write(r, p, (size_t)n) < 0) break;
            sent = (size_t)n;
            continue;
        }
        if (rep_wait(r, 100) < 0) break;
    }
}

static void *rep_thread(void *arg) {
    rep_t *r = arg;
    int rc = rep_continue(r);
    if (rc == 0) rc = rep_full_sync(r) == 0 ? 1 : -1;
    if (rc > 0) {
        atomic_store(&r->state, REP_ONLINE);
        atomic_store(&r->ack_ms, util_now_ms());
        log_notice("Synchronization with replica %s succeeded", r->addr);
        rep_stream(r);
    }
    log_notice("Connection with replica %s lost.", r->addr);
    backlog_detach(&r->rd);
    tls_close(r->io.ssl);
    r->io.ssl = NULL;
    pthread_mutex_lock(&g_reg_mu); /* no killer may shut a reused fd down */
    atomic_store(&r->state, REP_DEAD);
    shutdown(r->io.fd, SHUT_RDWR);
    close(r->io.fd);
    pthread_mutex_unlock(&g_reg_mu);
    atomic_fetch_sub(&g_threads, 1);
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* SYNC / PSYNC                                                                           */

static rep_t *rep_new(conn_t *c, int fd, int argc, const dfm_str_t *argv) {
    rep_t *r = calloc(1, sizeof *r);
    r->io = (sockio_t){.fd = fd, .timeout_ms = config_repl_timeout_ms()};
    backlog_reader_init(&r->rd);
    r->port = c->repl_port;
    snprintf(r->addr, sizeof r->addr, "%s", c->addr);
    if (c->repl_ip) {
        snprintf(r->ip, sizeof r->ip, "%s", c->repl_ip);
    } else {
        snprintf(r->ip, sizeof r->ip, "%s", c->addr);
        char *colon = strrchr(r->ip, ':');
        if (colon) *colon = '\0';
    }
    char *base = snapshot_path();
    snprintf(r->path, sizeof r->path, "%s.replica-%llu.tmp", base, (unsigned long long)c->id);
    free(base);
    r->psync = argc >= 3;
    if (r->psync) {
        snprintf(r->want_id, sizeof r->want_id, "%.*s", (int)(argv[1].len < REPLID_LEN ? argv[1].len : REPLID_LEN),
                 argv[1].ptr);
        /* an offset below 1 can continue nothing (and want_off - 1 must not overflow) */
        if (util_str2ll(argv[2].ptr, argv[2].len, &r->want_off) < 0 || r->want_off < 1)
            snprintf(r->want_id, sizeof r->want_id, "?");
    }
    return r;
}

static int rep_register(rep_t *r) {
    pthread_mutex_lock(&g_reg_mu);
    for (int i = 0; i < MASTER_MAX_REPLICAS; i++) {
        rep_t *old = atomic_load(&g_reps[i]);
        if (old && atomic_load(&old->state) != REP_DEAD) continue;
        if (old) { /* INFO or WAIT may still look at it: kept until shutdown */
            old->grave = g_graves;
            g_graves = old;
        }
        atomic_store(&g_reps[i], r);
        pthread_mutex_unlock(&g_reg_mu);
        return 0;
    }
    pthread_mutex_unlock(&g_reg_mu);
    return -1;
}

static void rep_free(rep_t *r) {
    backlog_reader_free(&r->rd);
    free(r);
}

/* PSYNC <id> <offset> FAILOVER: our master hands over to us. Only for our current history;
   we stop following and become a master (the PSYNC itself then goes on). 0, or -1 after
   replying. */
static int sync_failover(dfm_ctx_t *ctx, const dfm_str_t *id) {
    char ours[REPLID_LEN + 1];
    replid_get(ours, NULL, NULL);
    if (id->len != REPLID_LEN || memcmp(id->ptr, ours, REPLID_LEN) != 0) {
        reply_error(ctx, "ERR PSYNC FAILOVER replid must match my replid.");
        return -1;
    }
    replica_promote(ctx->conn->addr);
    return 0;
}

/* The checks before a SYNC / PSYNC is served, in Redis's order; 0, or -1 after replying.
   *failover: a PSYNC ... FAILOVER we accept. */
static int sync_refused(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int *failover) {
    conn_t *c = ctx->conn;
    if (!c || ctx->tx || (c->flags & CONN_MASTER)) {
        reply_error(ctx, "ERR Replica can't interact with the keyspace");
        return -1;
    }
    *failover = argc > 3 && util_eq_nocase(argv[0].ptr, argv[0].len, "psync") &&
                util_eq_nocase(argv[3].ptr, argv[3].len, "failover");
    if (*failover && sync_failover(ctx, &argv[1]) < 0) return -1;
    if (failover_busy()) {
        reply_error(ctx, "NOMASTERLINK Can't SYNC while failing over");
        return -1;
    }
    if (!*failover && replica_active() && !replica_link_up()) {
        reply_error(ctx, "NOMASTERLINK Can't SYNC while not connected with my master");
        return -1;
    }
    return 0;
}

/* SYNC, PSYNC <replid> <offset> [FAILOVER]: the socket (a dup, still non-blocking) and the
   client's TLS session, if any, go to a sender thread of its own, which answers (+CONTINUE,
   +FULLRESYNC) and streams; the client is closed here. Client's thread. */
static void sync_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    int failover;
    if (sync_refused(ctx, argc, argv, &failover) < 0) return;
    conn_t *c = ctx->conn;
    int fd = dup(c->fd);
    rep_t *r = fd < 0 ? NULL : rep_new(c, fd, argc, argv);
    if (!r || (c->ssl && tls_set_fd(c->ssl, fd) < 0) || rep_register(r) < 0) {
        if (c->ssl) tls_set_fd(c->ssl, c->fd); /* the client keeps its session */
        if (fd >= 0) close(fd);
        if (r) rep_free(r);
        reply_error(ctx, "ERR too many replicas");
        return;
    }
    r->failover = failover;
    r->io.ssl = c->ssl; /* only the sender thread touches it from now on */
    c->ssl = NULL;
    log_notice("Replica %s asks for synchronization", c->addr);
    conn_close(c); /* the socket lives on as fd, the sender thread's */
    atomic_fetch_add(&g_threads, 1);
    if (util_thread_detached(rep_thread, r) != 0) {
        atomic_fetch_sub(&g_threads, 1);
        atomic_store(&r->state, REP_DEAD);
        tls_close(r->io.ssl);
        r->io.ssl = NULL;
        close(fd);
    }
}

/* ------------------------------------------------------------------------------------ */
/* WAIT numreplicas timeout                                                               */

/* A client in WAIT: the stream offset its writes (everything queued before the WAIT) end at,
   from the mark the feeder reaches after them; replicas count once their ack is there. Lives
   on the client's thread. */
typedef struct waiter {
    conn_t *c;
    int need;
    int64_t deadline_ms; /* 0: none */
    struct event *ev;
    backlog_mark_t *mark;
} waiter_t;

const char master_noreplicas_error[] = "NOREPLICAS Not enough good replicas to write.";

/* min-replicas-to-write: 1 if writes may go (off, or enough replicas are online and acked
   within min-replicas-max-lag seconds), as Redis's checkGoodReplicasStatus. Any thread. */
int master_enough_replicas(void) {
    long long need = config_compat_num(C_MIN_REPLICAS_TO_WRITE), lag = config_compat_num(C_MIN_REPLICAS_MAX_LAG);
    if (!need || !lag || replica_active()) return 1;
    return master_good_replicas() >= need;
}

/* Online replicas whose ack reached min_ack (-1: any) and came at most max_lag_ms ago
   (-1: any). Any thread. */
static int rep_count(long long min_ack, int64_t max_lag_ms) {
    int64_t now = max_lag_ms >= 0 ? util_now_ms() : 0;
    int n = 0;
    for (int i = 0; i < MASTER_MAX_REPLICAS; i++) {
        rep_t *r = atomic_load(&g_reps[i]);
        if (!r || atomic_load(&r->state) != REP_ONLINE) continue;
        if (min_ack >= 0 && atomic_load(&r->ack) < min_ack) continue;
        if (max_lag_ms >= 0 && now - atomic_load(&r->ack_ms) > max_lag_ms) continue;
        n++;
    }
    return n;
}

int master_replicas_acked(long long offset) { return rep_count(offset, -1) == rep_count(-1, -1); }

int master_good_replicas(void) { return rep_count(-1, config_compat_num(C_MIN_REPLICAS_MAX_LAG) * 1000); }

/* Replicas that have acknowledged everything queued before the WAIT. */
static int wait_count(const waiter_t *w) {
    long long off = backlog_mark_offset(w->mark);
    return off >= 0 ? rep_count(off, -1) : 0;
}

static void wait_free(waiter_t *w) {
    if (w->ev) event_free(w->ev);
    backlog_mark_release(w->mark);
    free(w);
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
    wait_free(w);
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
    w->mark = backlog_mark(1);
    int n = wait_count(w);
    if (n >= w->need || ctx->tx || !ctx->conn) { /* inside MULTI: at once, as Redis */
        wait_free(w);
        reply_int(ctx, n);
        return;
    }
    w->c = ctx->conn;
    w->deadline_ms = timeout ? util_now_ms() + timeout : 0;
    w->ev = evtimer_new(ctx->conn->w->base, wait_tick, w);
    struct timeval tv = {0, 1000};
    evtimer_add(w->ev, &tv);
    ctx->conn->pending++;
}

/* ------------------------------------------------------------------------------------ */
/* INFO, replicas, shutdown                                                               */

long long master_offset(void) { return backlog_offset(); }

void master_sync_stats(long long out[3]) {
    out[0] = atomic_load(&g_sync_full);
    out[1] = atomic_load(&g_sync_partial_ok);
    out[2] = atomic_load(&g_sync_partial_err);
}

long long master_kill_replicas(const char *addr) {
    long long n = 0;
    pthread_mutex_lock(&g_reg_mu);
    for (int i = 0; i < MASTER_MAX_REPLICAS; i++) {
        rep_t *r = atomic_load(&g_reps[i]);
        if (!r || atomic_load(&r->state) == REP_DEAD || (addr[0] && strcmp(addr, r->addr) != 0)) continue;
        shutdown(r->io.fd, SHUT_RDWR); /* its sender sees the socket fail and drops it */
        n++;
    }
    pthread_mutex_unlock(&g_reg_mu);
    return n;
}

int master_replica_count(void) {
    int n = 0;
    for (int i = 0; i < MASTER_MAX_REPLICAS; i++) {
        rep_t *r = atomic_load(&g_reps[i]);
        if (r && atomic_load(&r->state) != REP_DEAD) n++;
    }
    return n;
}

/* r's address is ip (as Redis's findReplica: the IP it announced, else the one it connected
   from, compared as text). */
static int rep_from(const rep_t *r, const char *ip) { return strcmp(r->ip, ip) == 0; }

int master_replica_ack(const char *ip, int port, long long *ack) {
    for (int i = 0; i < MASTER_MAX_REPLICAS; i++) {
        rep_t *r = atomic_load(&g_reps[i]);
        int state = r ? atomic_load(&r->state) : REP_DEAD;
        if (state == REP_DEAD || r->port != port || !rep_from(r, ip)) continue;
        *ack = atomic_load(&r->ack);
        return state == REP_ONLINE;
    }
    return -1;
}

int master_caught_up_replica(long long offset, char *ip, size_t cap, int *port) {
    for (int i = 0; i < MASTER_MAX_REPLICAS; i++) {
        rep_t *r = atomic_load(&g_reps[i]);
        if (!r || atomic_load(&r->state) != REP_ONLINE || atomic_load(&r->ack) < offset) continue;
        snprintf(ip, cap, "%s", r->ip);
        *port = r->port;
        return 0;
    }
    return -1;
}

void master_info(rbuf_t *b) {
    info_line(b, "connected_slaves:%d", master_replica_count());
    if (config_compat_num(C_MIN_REPLICAS_TO_WRITE) && config_compat_num(C_MIN_REPLICAS_MAX_LAG))
        info_line(b, "min_slaves_good_slaves:%d", master_good_replicas());
    int n = 0;
    int64_t now = util_now_ms();
    for (int i = 0; i < MASTER_MAX_REPLICAS; i++) {
        rep_t *r = atomic_load(&g_reps[i]);
        int state = r ? atomic_load(&r->state) : REP_DEAD;
        if (state == REP_DEAD) continue;
        int64_t ack_ms = atomic_load(&r->ack_ms);
        info_line(b, "slave%d:ip=%s,port=%d,state=%s,offset=%lld,lag=%lld", n++, r->ip, r->port,
                  rep_state_names[state], (long long)atomic_load(&r->ack),
                  ack_ms ? (long long)((now - ack_ms) / 1000) : 0LL);
    }
}

void master_role(dfm_ctx_t *ctx) {
    struct { char ip[64]; int port; long long ack; } on[MASTER_MAX_REPLICAS];
    int n = 0;
    for (int i = 0; i < MASTER_MAX_REPLICAS; i++) {
        rep_t *r = atomic_load(&g_reps[i]);
        if (!r || atomic_load(&r->state) != REP_ONLINE) continue;
        snprintf(on[n].ip, sizeof on[n].ip, "%s", r->ip);
        on[n].port = r->port;
        on[n++].ack = atomic_load(&r->ack);
    }
    reply_array(ctx, 3);
    reply_cstr(ctx, "master");
    reply_int(ctx, master_offset());
    reply_array(ctx, n);
    for (int i = 0; i < n; i++) { /* Redis: [ip, port, offset], the numbers as bulk strings */
        char num[24];
        reply_array(ctx, 3);
        reply_cstr(ctx, on[i].ip);
        snprintf(num, sizeof num, "%d", on[i].port);
        reply_cstr(ctx, num);
        snprintf(num, sizeof num, "%lld", on[i].ack);
        reply_cstr(ctx, num);
    }
}

void master_shutdown(void) {
    for (int i = 0; i < 300 && atomic_load(&g_threads) > 0; i++) {
        master_kill_replicas("");
        usleep(10000);
    }
    backlog_shutdown(); /* the feeder may still ring a reader: before they are freed */
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
