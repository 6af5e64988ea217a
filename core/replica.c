/*
 * replica.c: following a master (see replica.h).
 *
 * Shared state lives in g_repl: the target, the link and the cached master under mu, the rest
 * atomic. `gen` counts REPLICAOF changes: a replication thread works for one generation and
 * gives up as soon as it is no longer current, so a REPLICAOF never waits for the old thread.
 *
 * The cached master (Redis's name for it) is where our data stands in the master's stream:
 * the replication id (replid.h), the offset of the last byte applied and the database the
 * stream had selected. A lost link leaves it behind (conn_master_applied), and the next sync
 * asks "PSYNC <id> <offset+1>": "+CONTINUE" resumes the stream on the data as it is, and only
 * "+FULLRESYNC" replaces the data.
 */
#include "replica.h"
#include "tracking.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc.h"
#include "cmdtab.h"
#include "config.h"
#include "conn.h"
#include "backlog.h"
#include "db.h"
#include "failover.h"
#include "fanout.h"
#include "info.h"
#include "log.h"
#include "master.h"
#include "rdb_load.h"
#include "replid.h"
#include "supervise.h"
#include "server.h"
#include "snapshot.h"
#include "sockio.h"
#include "tls.h"
#include "util.h"
#include "worker.h"

/* REPL_PROMOTING: REPLICAOF NO ONE waits for the link to close (clients still get READONLY). */
enum { REPL_NONE, REPL_CONNECT, REPL_CONNECTING, REPL_TRANSFER, REPL_CONNECTED, REPL_PROMOTING };
static const char *const repl_state_names[] = {"none", "connect", "connecting", "sync", "connected",
                                               "connected"};


typedef struct repl {
    pthread_mutex_t mu;
    char host[256]; /* under mu; "" when not a replica */
    int port;
    conn_t *link;           /* under mu; touched only on its worker's thread */
    int sync_fd;            /* under mu; the thread's socket before the hand-over, or -1 */
    int cache_ok;           /* under mu: the cached master below is valid */
    long long cache_off;    /* under mu: the last stream byte our data has applied */
    int cache_db;           /* under mu: the db the stream had selected (-1: none yet) */
    int cache_self;         /* under mu: a master now following: cache our own history */
    atomic_uint gen;
    atomic_int state;
    atomic_int threads;
    _Atomic int64_t offset; /* stream bytes read (the applied offset once the link is lost) */
    _Atomic int64_t last_io_ms;
    _Atomic int64_t last_ack_ms;
    _Atomic int64_t down_since_ms; /* when the link was lost (0: never up) */
} repl_t;

static repl_t g_repl = {.mu = PTHREAD_MUTEX_INITIALIZER, .sync_fd = -1};

const char *const replica_readonly_error = "READONLY You can't write against a read only replica.";
const char *const replica_loading_error = "LOADING Redis is loading the dataset in memory";

int replica_active(void) { return atomic_load_explicit(&g_repl.state, memory_order_relaxed) != REPL_NONE; }
int replica_link_up(void) { return atomic_load(&g_repl.state) == REPL_CONNECTED; }
int replica_loading(void) { return atomic_load_explicit(&g_server.loading, memory_order_relaxed) != 0; }

static atomic_llong g_repl_in; /* bytes read from masters (INFO total_net_repl_input_bytes) */

long long replica_repl_input_bytes(void) { return atomic_load(&g_repl_in); }

void replica_stream_read(size_t n) {
    atomic_fetch_add(&g_repl_in, (long long)n);
    atomic_fetch_add(&g_repl.offset, (int64_t)n);
    atomic_store(&g_repl.last_io_ms, server_now_ms());
}

/* ------------------------------------------------------------------------------------ */
/* I/O on the replication thread (waits, with a time limit: sockio.h)                     */

typedef struct rd {
    sockio_t io; /* the socket to the master, with its TLS session when tls-replication */
    size_t pos, len;
    char buf[64 * 1024];
} rd_t;

static int rd_fill(rd_t *r) {
    if (r->pos == r->len) r->pos = r->len = 0;
    if (r->len == sizeof r->buf) return -1;
    ssize_t n = sockio_read(&r->io, r->buf + r->len, sizeof r->buf - r->len);
    if (n <= 0) return -1;
    atomic_fetch_add(&g_repl_in, (long long)n);
    r->len += (size_t)n;
    atomic_store(&g_repl.last_io_ms, util_now_ms());
    return 0;
}

/* The next non-empty line (the master sends bare newlines as keep-alives), without CRLF. */
static int rd_line(rd_t *r, char *out, size_t cap) {
    for (;;) {
        char *nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
        if (!nl) {
            if (r->pos > 0) {
                memmove(r->buf, r->buf + r->pos, r->len - r->pos);
                r->len -= r->pos;
                r->pos = 0;
            }
            if (rd_fill(r) < 0) return -1;
            continue;
        }
        size_t n = (size_t)(nl - (r->buf + r->pos));
        const char *p = r->buf + r->pos;
        r->pos += n + 1;
        if (n && p[n - 1] == '\r') n--;
        if (n == 0) continue;
        if (n >= cap) n = cap - 1;
        memcpy(out, p, n);
        out[n] = '\0';
        return (int)n;
    }
}

/* Send a command (NULL-terminated words) and read its one-line reply into line. */
static int repl_cmd(rd_t *r, char *line, size_t cap, const char *const *words) {
    dfm_str_t argv[8];
    int argc = 0;
    for (; words[argc] && argc < 8; argc++) argv[argc] = (dfm_str_t){words[argc], strlen(words[argc])};
    rbuf_t b = {0};
    rbuf_append_command(&b, argc, argv);
    int rc = sockio_write_all(&r->io, b.data, b.len);
    rbuf_free(&b);
    return rc < 0 ? -1 : rd_line(r, line, cap);
}

/* A blocking TCP connection to host:port (the connect waits up to repl-timeout), or -1. */
static int repl_tcp_connect(const char *host, int port) {
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, ports, &hints, &res) != 0) return -1;
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) continue;
        struct timeval tv = {config_repl_timeout_ms() / 1000, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* Connect r to the master; the socket is non-blocking from here on (sockio.h). 0 or -1. */
static int repl_connect(rd_t *r, const char *host, int port) {
    r->io = (sockio_t){.fd = repl_tcp_connect(host, port), .timeout_ms = config_repl_timeout_ms()};
    if (r->io.fd < 0) return -1;
    fcntl(r->io.fd, F_SETFL, fcntl(r->io.fd, F_GETFL) | O_NONBLOCK);
    return 0;
}

/* With tls-replication, a TLS session over r's socket whose handshake verified the master's
   certificate (r->io.ssl, freed with the socket). 0, or -1 logged. Replication thread. */
static int repl_tls_start(rd_t *r, const char *host, int port) {
    if (!config_tls_replication()) return 0;
    char err[256] = "";
    if ((r->io.ssl = tls_client_new(r->io.fd, err, sizeof err)) && sockio_handshake(&r->io, err, sizeof err) == 0)
        return 0;
    log_warning("Replication: TLS connection to MASTER %s:%d failed: %s", host, port, err);
    return -1;
}

/* ------------------------------------------------------------------------------------ */
/* Handshake and transfer                                                                 */

/* The master's answer to PSYNC: a full resync (its id and offset), or a continuation (the
   id it goes on with, "" when it sent none). */
typedef struct psync_reply {
    int full;
    char replid[REPLID_LEN + 1];
    long long offset;
} psync_reply_t;

/* Parse a PSYNC reply line. 0, or -1 for anything else (an error, a master not ready). */
static int repl_parse_psync(const char *line, psync_reply_t *out) {
    memset(out, 0, sizeof *out);
    if (strncmp(line, "+CONTINUE", 9) == 0 && (line[9] == '\0' || line[9] == ' ')) {
        if (sscanf(line + 9, " %40s", out->replid) == 1 && strlen(out->replid) != REPLID_LEN)
            out->replid[0] = '\0';
        return 0;
    }
    out->full = 1;
    if (sscanf(line, "+FULLRESYNC %40s %lld", out->replid, &out->offset) != 2 ||
        strlen(out->replid) != REPLID_LEN)
        return -1;
    return 0;
}

/* AUTH, PING, REPLCONF, then PSYNC with id and offset ("?" "-1": a full sync), flagged
   FAILOVER when we hand over to this master. 0; -1 if anything before PSYNC's answer failed;
   -2 if the answer was neither +FULLRESYNC nor +CONTINUE. */
static int repl_handshake(rd_t *r, const char *id, const char *offset, int failover, psync_reply_t *out) {
    char line[512], port[16];
    if (g_config.masterauth && g_config.masterauth[0]) {
        const char *auth[] = {"AUTH", g_config.masterauth, NULL};
        if (repl_cmd(r, line, sizeof line, auth) < 0 || line[0] == '-') goto bad;
    }
    const char *ping[] = {"PING", NULL};
    if (repl_cmd(r, line, sizeof line, ping) < 0 || line[0] == '-') goto bad;
    /* the port a master (FAILOVER, Sentinel) reaches us on: the TLS one with tls-replication */
    int tls = config_tls_replication() && g_config.tls_port > 0;
    int announce = (int)config_compat_num(C_REPLICA_ANNOUNCE_PORT);
    snprintf(port, sizeof port, "%d", announce ? announce : tls ? (int)g_config.tls_port : g_server.tcp_port);
    const char *lport[] = {"REPLCONF", "listening-port", port, NULL};
    if (repl_cmd(r, line, sizeof line, lport) < 0) goto bad;
    const char *aip = config_compat_str(C_REPLICA_ANNOUNCE_IP);
    const char *ipaddr[] = {"REPLCONF", "ip-address", aip, NULL};
    if (aip && aip[0] && repl_cmd(r, line, sizeof line, ipaddr) < 0) goto bad;
    const char *capa[] = {"REPLCONF", "capa", "eof", "capa", "psync2", NULL};
    if (repl_cmd(r, line, sizeof line, capa) < 0) goto bad;
    const char *psync[] = {"PSYNC", id, offset, failover ? "FAILOVER" : NULL, NULL};
    if (repl_cmd(r, line, sizeof line, psync) < 0) goto bad;
    if (repl_parse_psync(line, out) < 0) {
        log_warning("Replication: the master refused PSYNC: %s", line);
        return -2;
    }
    return 0;
bad:
    log_warning("Replication: the master refused the handshake: %s", line);
    return -1;
}

/* The rest of a "$<len>" payload into fd. Bytes after it stay in r. */
static int recv_sized(rd_t *r, int fd, uint64_t len) {
    while (len) {
        if (r->pos == r->len && rd_fill(r) < 0) return -1;
        size_t n = r->len - r->pos;
        if (n > len) n = (size_t)len;
        if (util_write_all(fd, r->buf + r->pos, n) < 0) return -1;
        r->pos += n;
        len -= n;
    }
    return 0;
}

/* An EOF-marked (diskless) payload into fd: everything up to the 40-byte mark. */
static int recv_marked(rd_t *r, int fd, const char *mark) {
    char prev[40];
    size_t k = 0;       /* bytes of prev (the stream's last written bytes, up to 39) */
    uint64_t total = 0; /* bytes written */
    for (;;) {
        if (r->pos == r->len && rd_fill(r) < 0) return -1;
        size_t n = r->len - r->pos;
        char *chunk = r->buf + r->pos;
        char comb[40 + sizeof r->buf];
        memcpy(comb, prev, k);
        memcpy(comb + k, chunk, n);
        char *hit = memmem(comb, k + n, mark, 40);
        if (hit) {
            size_t q = (size_t)(hit - comb);
            if (q >= k) {
                if (util_write_all(fd, chunk, q - k) < 0) return -1;
            } else if (ftruncate(fd, (off_t)(total - (k - q))) < 0) {
                return -1;
            }
            r->pos += q + 40 - k;
            return 0;
        }
        if (util_write_all(fd, chunk, n) < 0) return -1;
        total += n;
        r->pos += n;
        size_t keep = k + n < 39 ? k + n : 39;
        memmove(prev, comb + k + n - keep, keep);
        k = keep;
    }
}

/* The full-sync payload into path. */
static int repl_receive(rd_t *r, const char *path) {
    char line[128];
    if (rd_line(r, line, sizeof line) < 0 || line[0] != '$') return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        log_warning("Replication: cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    int rc;
    if (strncmp(line, "$EOF:", 5) == 0 && strlen(line) == 45) {
        rc = recv_marked(r, fd, line + 5);
    } else {
        char *end;
        unsigned long long len = strtoull(line + 1, &end, 10);
        rc = *end ? -1 : recv_sized(r, fd, len);
    }
    if (close(fd) < 0) rc = -1;
    return rc;
}

/* ------------------------------------------------------------------------------------ */
/* Loading: the owners empty their shards, then insert the file's keys                    */

/* Replace the keyspace with the file's keys. */
static int repl_load(const char *path) {
    db_flush_everything();
    char err[256];
    uint64_t loaded = 0, expired = 0;
    int rc = rdb_load_into_shards(path, &loaded, &expired, NULL, err, sizeof err);
    if (rc < 0) log_warning("Replication: %s", err);
    else log_notice("MASTER <-> REPLICA sync: Finished with success (%llu keys)", (unsigned long long)loaded);
    if (rc >= 0)
        supervise_status("MASTER <-> REPLICA sync: Finished with success. Ready to accept "
                         "connections in read-write mode.");
    return rc < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------------------------ */
/* The hand-over to worker 0 and the link's life                                          */

typedef struct repl_adopt {
    int fd;
    void *ssl; /* the TLS session over fd, or NULL */
    unsigned gen;
    long long offset; /* the stream offset after pre */
    int db;
    size_t n;
    char pre[];
} repl_adopt_t;

/* An ack the link's socket took only part of: the rest goes before any new one (and a TLS
   session must be offered the same bytes again). The link's thread only; reset per link. */
static struct {
    char buf[96];
    size_t len, off;
} g_ack;

/* REPLCONF ACK with the offset of what the link has applied (a WAIT on the master counts on
   it; the caller makes sure no command of the stream is still away on another shard). A full
   socket keeps the rest of this ack for the next call (the next second's ack waits). Link's
   thread. */
static void repl_send_ack(conn_t *c) {
    if (g_ack.off == g_ack.len) {
        char num[24];
        snprintf(num, sizeof num, "%lld", conn_master_applied(c));
        int n = snprintf(g_ack.buf, sizeof g_ack.buf, "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$%zu\r\n%s\r\n",
                         strlen(num), num);
        g_ack.len = (size_t)n;
        g_ack.off = 0;
    }
    while (g_ack.off < g_ack.len) {
        ssize_t w = conn_write_raw(c, g_ack.buf + g_ack.off, g_ack.len - g_ack.off);
        if (w <= 0) return; /* full (or failed: the read side closes the link) */
        g_ack.off += (size_t)w;
    }
}

static void repl_adopt(void *arg) {
    repl_adopt_t *a = arg;
    pthread_mutex_lock(&g_repl.mu);
    int current = atomic_load(&g_repl.gen) == a->gen;
    pthread_mutex_unlock(&g_repl.mu);
    if (!current) {
        tls_close(a->ssl);
        close(a->fd);
        free(a);
        return;
    }
    fcntl(a->fd, F_SETFL, fcntl(a->fd, F_GETFL) | O_NONBLOCK);
    struct timeval none = {0, 0};
    setsockopt(a->fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
    setsockopt(a->fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
    g_ack.len = g_ack.off = 0; /* a new socket: nothing half sent on it */
    conn_t *c = conn_adopt_master(tl_worker, a->fd, a->ssl, a->pre, a->n, a->offset, a->db);
    free(a);
    if (c->flags & CONN_CLOSING) return;
    pthread_mutex_lock(&g_repl.mu);
    g_repl.link = c;
    g_repl.cache_ok = 0; /* the link carries the position now; its close leaves it behind */
    atomic_store(&g_repl.state, REPL_CONNECTED);
    pthread_mutex_unlock(&g_repl.mu);
    repl_send_ack(c); /* a diskless master starts the stream on the first ack */
}

/* Under mu: we stopped following a master, our data having applied its stream up to offset:
   the history goes on under a new id of ours (Redis's shiftReplicationId), the master's id
   staying valid up to there for its other replicas, and our stream starts there. */
static void repl_promote_locked(long long offset) {
    g_repl.cache_ok = 0;
    replid_shift(NULL, offset);
    backlog_promote(offset);
    atomic_store(&g_repl.state, REPL_NONE);
}

void replica_master_closed(conn_t *c, long long applied) {
    pthread_mutex_lock(&g_repl.mu);
    if (g_repl.link == c) {
        g_repl.link = NULL;
        if (atomic_load(&g_repl.state) == REPL_PROMOTING) {
            repl_promote_locked(applied);
        } else {
            g_repl.cache_ok = 1;
            g_repl.cache_off = applied;
            g_repl.cache_db = c->db;
        }
        atomic_store(&g_repl.offset, applied);
        atomic_store(&g_repl.down_since_ms, util_now_ms());
        if (atomic_load(&g_repl.state) == REPL_CONNECTED) atomic_store(&g_repl.state, REPL_CONNECT);
        log_warning("Connection with master lost.");
    }
    pthread_mutex_unlock(&g_repl.mu);
}

/* On the link's worker: close it (REPLICAOF elsewhere, NO ONE, shutdown); the close leaves
   the cached master behind (replica_master_closed). */
static void repl_close_link(void *arg) {
    (void)arg;
    pthread_mutex_lock(&g_repl.mu);
    conn_t *c = g_repl.link && g_repl.link->w == tl_worker ? g_repl.link : NULL;
    pthread_mutex_unlock(&g_repl.mu);
    if (c) conn_close(c);
}

/* repl-timeout: a link with nothing from the master (not even its PINGs) for that long is
   dropped, as Redis does; the replication thread then connects again (PSYNC). Worker 0. */
static void repl_check_timeout(int64_t now) {
    int64_t io = atomic_load(&g_repl.last_io_ms);
    if (atomic_load(&g_repl.state) != REPL_CONNECTED || !io || now - io <= config_repl_timeout_ms())
        return;
    log_warning("MASTER timeout: no data nor PING received...");
    atomic_store(&g_repl.last_io_ms, now); /* once */
    pthread_mutex_lock(&g_repl.mu);
    if (g_repl.link) worker_post(g_repl.link->w->id, repl_close_link, NULL);
    pthread_mutex_unlock(&g_repl.mu);
}

void replica_cron(worker_t *w) {
    if (w->id != 0 || !replica_active()) return;
    int64_t now = util_now_ms();
    repl_check_timeout(now);
    if (now - atomic_load(&g_repl.last_ack_ms) < 1000) return;
    atomic_store(&g_repl.last_ack_ms, now);
    pthread_mutex_lock(&g_repl.mu);
    conn_t *c = g_repl.link;
    pthread_mutex_unlock(&g_repl.mu);
    /* not while a command of the stream is away on another shard: it is not applied yet */
    if (c && c->w == w && !(c->flags & CONN_CLOSING) && !c->pending) repl_send_ack(c);
}

/* ------------------------------------------------------------------------------------ */
/* The replication thread                                                                 */

static int repl_current(unsigned gen) { return atomic_load(&g_repl.gen) == gen; }

/* Wait (up to 2 s) until the previous link is closed: its close leaves the cached master
   behind. */
static void repl_wait_link_closed(void) {
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&g_repl.mu);
        int open = g_repl.link != NULL;
        pthread_mutex_unlock(&g_repl.mu);
        if (!open) return;
        usleep(10000);
    }
}

/* A master that starts following: its own stream, once every write pushed is in it, is the
   cached master (no valid history without one). Its replicas go, as their offsets will not
   be our new master's. */
static void repl_cache_myself(unsigned gen) {
    pthread_mutex_lock(&g_repl.mu);
    int self = g_repl.cache_self;
    pthread_mutex_unlock(&g_repl.mu);
    if (!self) return;
    backlog_settle();
    pthread_mutex_lock(&g_repl.mu);
    if (g_repl.cache_self && repl_current(gen)) { /* else REPLICAOF NO ONE came: still a master */
        g_repl.cache_self = 0;
        g_repl.cache_ok = backlog_on();
        g_repl.cache_off = backlog_offset();
        g_repl.cache_db = -1;
        atomic_store(&g_repl.offset, g_repl.cache_off);
        backlog_stop();
    }
    pthread_mutex_unlock(&g_repl.mu);
}

/* PSYNC's arguments: the cached master's id and the offset of the next byte it needs, or
   "?" "-1" (a full sync) without one. */
static void repl_psync_args(char id[REPLID_LEN + 1], char off[24]) {
    pthread_mutex_lock(&g_repl.mu);
    int ok = g_repl.cache_ok;
    long long next = g_repl.cache_off + 1;
    pthread_mutex_unlock(&g_repl.mu);
    if (!ok) {
        snprintf(id, REPLID_LEN + 1, "?");
        snprintf(off, 24, "-1");
        return;
    }
    replid_get(id, NULL, NULL);
    snprintf(off, 24, "%lld", next);
}

/* A full sync: the payload into a temporary file, then the keyspace replaced by it. */
static int repl_full(rd_t *r, unsigned gen, const psync_reply_t *rep) {
    char *path = snapshot_path();
    size_t plen = strlen(path) + 32;
    char *tmp = malloc(plen);
    snprintf(tmp, plen, "%s.repl-%d.tmp", path, (int)getpid());
    free(path);
    atomic_store(&g_repl.state, REPL_TRANSFER);
    log_notice("Full resync from master: %s:%lld", rep->replid, rep->offset);
    int rc = repl_receive(r, tmp);
    if (rc == 0 && repl_current(gen)) {
        pthread_mutex_lock(&g_repl.mu);
        g_repl.cache_ok = 0; /* the data is being replaced */
        pthread_mutex_unlock(&g_repl.mu);
        backlog_stop(); /* our own replicas (chained) must sync again from the new data */
        atomic_fetch_add(&g_server.loading, 1);
        rc = repl_load(tmp);
        atomic_fetch_sub(&g_server.loading, 1);
    }
    unlink(tmp);
    free(tmp);
    return rc;
}

/* Under mu: hand the socket, with what was read past the payload, to worker 0 as the link.
   A continuation goes on from the cached master (in a new history when the master names a
   new id); a full sync from the offset the master gave. */
static void repl_hand_over(rd_t *r, unsigned gen, const psync_reply_t *rep) {
    long long offset = rep->offset;
    int db = 0;
    if (rep->full) {
        replid_set(rep->replid);
    } else {
        char id[REPLID_LEN + 1];
        replid_get(id, NULL, NULL);
        if (rep->replid[0] && strcmp(rep->replid, id) != 0) replid_shift(rep->replid, g_repl.cache_off);
        offset = g_repl.cache_off;
        db = g_repl.cache_db < 0 ? 0 : g_repl.cache_db;
        log_notice("Successful partial resynchronization with master.");
    }
    repl_adopt_t *a = malloc(sizeof *a + (r->len - r->pos));
    a->fd = r->io.fd;
    a->ssl = r->io.ssl;
    a->gen = gen;
    a->n = r->len - r->pos;
    a->offset = offset + (long long)a->n;
    a->db = db;
    memcpy(a->pre, r->buf + r->pos, a->n);
    atomic_store(&g_repl.offset, a->offset);
    worker_post(0, repl_adopt, a);
    r->io.fd = -1;
    r->io.ssl = NULL;
}

/* One synchronisation, partial when the master can continue our stream; on success the socket
   now belongs to worker 0. */
static int repl_sync(unsigned gen, const char *host, int port) {
    atomic_store(&g_repl.state, REPL_CONNECTING);
    repl_wait_link_closed();
    repl_cache_myself(gen);
    rd_t *r = calloc(1, sizeof *r);
    if (repl_connect(r, host, port) < 0) {
        free(r);
        return -1;
    }
    pthread_mutex_lock(&g_repl.mu);
    g_repl.sync_fd = r->io.fd;
    pthread_mutex_unlock(&g_repl.mu);
    char id[REPLID_LEN + 1], off[24];
    repl_psync_args(id, off);
    psync_reply_t rep;
    int failover = failover_in_progress();
    int rc = repl_tls_start(r, host, port);
    if (rc == 0) rc = repl_handshake(r, id, off, failover, &rep);
    if (failover && rc != -1) failover_psync_answered(rc == 0);
    if (rc == 0 && rep.full && repl_current(gen)) rc = repl_full(r, gen, &rep);
    pthread_mutex_lock(&g_repl.mu);
    g_repl.sync_fd = -1;
    if (rc == 0 && repl_current(gen)) repl_hand_over(r, gen, &rep);
    pthread_mutex_unlock(&g_repl.mu);
    if (r->io.fd >= 0) {
        tls_close(r->io.ssl);
        close(r->io.fd);
    }
    free(r);
    return rc == 0 && repl_current(gen) ? 0 : -1;
}

typedef struct repl_target {
    unsigned gen;
    int port;
    char host[256];
} repl_target_t;

static void *repl_thread(void *arg) {
    repl_target_t *t = arg;
    while (repl_current(t->gen) && !atomic_load(&g_server.shutting_down)) {
        log_notice("Connecting to MASTER %s:%d", t->host, t->port);
        if (repl_sync(t->gen, t->host, t->port) == 0) {
            while (repl_current(t->gen) && atomic_load(&g_repl.state) != REPL_CONNECT) usleep(20000);
            continue;
        }
        if (repl_current(t->gen)) atomic_store(&g_repl.state, REPL_CONNECT);
        for (int i = 0; i < 50 && repl_current(t->gen); i++) usleep(20000); /* 1 s, or sooner */
    }
    free(t);
    atomic_fetch_sub(&g_repl.threads, 1);
    return NULL;
}

/* Under mu: stop following the current master (its thread sees the new generation); the link
   is closed on its worker, by a message when post_close. */
static void repl_detach_locked(int post_close) {
    atomic_fetch_add(&g_repl.gen, 1);
    if (g_repl.sync_fd >= 0) shutdown(g_repl.sync_fd, SHUT_RDWR); /* wakes a blocked read */
    if (g_repl.link && post_close) worker_post(g_repl.link->w->id, repl_close_link, NULL);
}

/* Follow host:port. A master keeps its own history as the cached master (Redis's
   replicationCacheMasterUsingMyself), so a replica promoted in its place can continue it. */
void replica_follow(const char *host, int port) {
    pthread_mutex_lock(&g_repl.mu);
    if (atomic_load(&g_repl.state) == REPL_NONE) g_repl.cache_self = 1;
    repl_detach_locked(1);
    snprintf(g_repl.host, sizeof g_repl.host, "%s", host);
    g_repl.port = port;
    atomic_store(&g_repl.state, REPL_CONNECT);
    repl_target_t *t = calloc(1, sizeof *t);
    t->gen = atomic_load(&g_repl.gen);
    t->port = port;
    snprintf(t->host, sizeof t->host, "%s", host);
    pthread_mutex_unlock(&g_repl.mu);
    atomic_fetch_add(&g_repl.threads, 1);
    if (util_thread_detached(repl_thread, t) != 0) {
        atomic_fetch_sub(&g_repl.threads, 1);
        free(t);
    }
}

/* Stop following (REPLICAOF NO ONE, PSYNC FAILOVER, shutdown). With promote, we become a
   master when the link is closed (its worker, at the offset it has applied; post_close: by a
   message, else the caller closes it), or at once when there is none; until then clients
   still get READONLY. */
static void repl_unfollow(int promote, int post_close) {
    pthread_mutex_lock(&g_repl.mu);
    int was = atomic_load(&g_repl.state) != REPL_NONE;
    if (g_repl.cache_self) was = 0; /* a master that had not left its history yet */
    repl_detach_locked(post_close);
    g_repl.host[0] = '\0';
    g_repl.cache_self = 0;
    if (!was || !promote)
        atomic_store(&g_repl.state, REPL_NONE);
    else if (g_repl.link)
        atomic_store(&g_repl.state, REPL_PROMOTING);
    else
        repl_promote_locked(g_repl.cache_ok ? g_repl.cache_off : (long long)atomic_load(&g_repl.offset));
    pthread_mutex_unlock(&g_repl.mu);
}

void replica_start_from_config(void) {
    char host[256];
    int port;
    if (g_config.replicaof && sscanf(g_config.replicaof, "%255s %d", host, &port) == 2)
        replica_follow(host, port);
}

void replica_promote(const char *who) {
    if (!replica_active()) return;
    repl_unfollow(1, 1);
    log_notice("MASTER MODE enabled (failover request from '%s')", who);
}

void replica_shutdown(void) {
    repl_unfollow(0, 1);
    for (int i = 0; i < 500 && atomic_load(&g_repl.threads) > 0; i++) usleep(10000);
}

/* ------------------------------------------------------------------------------------ */
/* INFO, ROLE, REPLICAOF, REPLCONF                                                        */

/* INFO replication's lines about our master (we are a replica). */
static void replica_info_link(rbuf_t *b, int state) {
    int64_t off = atomic_load(&g_repl.offset), now = util_now_ms();
    pthread_mutex_lock(&g_repl.mu);
    info_line(b, "role:slave");
    info_line(b, "master_host:%s", g_repl.host);
    info_line(b, "master_port:%d", g_repl.port);
    pthread_mutex_unlock(&g_repl.mu);
    info_line(b, "master_link_status:%s", state == REPL_CONNECTED ? "up" : "down");
    int64_t io = atomic_load(&g_repl.last_io_ms);
    info_line(b, "master_last_io_seconds_ago:%lld", io ? (long long)((now - io) / 1000) : -1LL);
    info_line(b, "master_sync_in_progress:%d", state == REPL_TRANSFER);
    info_line(b, "slave_read_repl_offset:%lld", (long long)off);
    info_line(b, "slave_repl_offset:%lld", (long long)off);
    if (state != REPL_CONNECTED) {
        int64_t down = atomic_load(&g_repl.down_since_ms);
        info_line(b, "master_link_down_since_seconds:%lld", down ? (long long)((now - down) / 1000) : -1LL);
    }
    info_line(b, "slave_priority:%d", config_replica_priority());
    info_line(b, "slave_read_only:%d", (int)g_config.replica_read_only);
    info_line(b, "replica_announced:1");
}

void replica_info(rbuf_t *b) {
    int state = atomic_load(&g_repl.state);
    if (state == REPL_NONE)
        info_line(b, "role:master");
    else
        replica_info_link(b, state);
    master_info(b);
    info_line(b, "master_failover_state:%s", failover_state_name());
    char id[REPLID_LEN + 1], id2[REPLID_LEN + 1];
    long long second;
    replid_get(id, id2, &second);
    info_line(b, "master_replid:%s", id);
    info_line(b, "master_replid2:%s", id2);
    info_line(b, "master_repl_offset:%lld",
              state == REPL_NONE ? master_offset() : (long long)atomic_load(&g_repl.offset));
    info_line(b, "second_repl_offset:%lld", second);
    backlog_info(b);
}

static void role_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    int state = atomic_load(&g_repl.state);
    if (state == REPL_NONE) {
        master_role(ctx);
        return;
    }
    pthread_mutex_lock(&g_repl.mu);
    reply_array(ctx, 5);
    reply_cstr(ctx, "slave");
    reply_cstr(ctx, g_repl.host);
    reply_int(ctx, g_repl.port);
    pthread_mutex_unlock(&g_repl.mu);
    reply_cstr(ctx, repl_state_names[state]);
    reply_int(ctx, state == REPL_CONNECTED ? (long long)atomic_load(&g_repl.offset) : -1);
}

/* fanout: the worker holding the link closes it, which completes the promotion. */
static void repl_close_link_here(worker_t *w, rbuf_t *out, void *arg) {
    (void)w, (void)out;
    repl_close_link(arg);
}

static void repl_promoted_reply(dfm_ctx_t *ctx, rbuf_t *parts, int n, void *arg) {
    (void)parts, (void)n, (void)arg;
    reply_ok(ctx);
}

/* REPLICAOF NO ONE answers once we are a master: every worker has run (the link's worker
   closed the link and promoted us). Inside MULTI or a script it answers at once and the
   promotion follows a message later. */
static void replicaof_no_one(dfm_ctx_t *ctx) {
    if (!replica_active()) {
        reply_ok(ctx);
        return;
    }
    int wait = ctx->conn && !ctx->tx;
    repl_unfollow(1, !wait);
    log_notice("MASTER MODE enabled (user request from '%s')", ctx->conn ? ctx->conn->addr : "?");
    if (wait)
        fanout_run(ctx, repl_close_link_here, repl_promoted_reply, NULL, NULL);
    else
        reply_ok(ctx);
}

static void replicaof_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    if (failover_busy()) {
        reply_error(ctx, "ERR REPLICAOF not allowed while failing over.");
        return;
    }
    if (util_eq_nocase(argv[1].ptr, argv[1].len, "no") && util_eq_nocase(argv[2].ptr, argv[2].len, "one")) {
        replicaof_no_one(ctx);
        return;
    }
    long long port;
    if (util_str2ll(argv[2].ptr, argv[2].len, &port) < 0 || port < 0 || port > 65535) {
        reply_error(ctx, "ERR Invalid master port");
        return;
    }
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)(argv[1].len < 255 ? argv[1].len : 255), argv[1].ptr);
    pthread_mutex_lock(&g_repl.mu);
    int same = replica_active() && g_repl.port == port && strcmp(g_repl.host, host) == 0;
    pthread_mutex_unlock(&g_repl.mu);
    if (same) {
        reply_simple(ctx, "OK Already connected to specified master");
        return;
    }
    replica_follow(host, (int)port);
    log_notice("REPLICAOF %s:%lld enabled", host, port);
    reply_ok(ctx);
}

/* REPLCONF: options a replica announces are accepted; GETACK from our master is answered
   with an ack on the link (our replies to the master are otherwise dropped). */
static void replconf_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    if (argc % 2 == 0) {
        reply_syntax_error(ctx);
        return;
    }
    long long port;
    if (argc < 3) {
        reply_ok(ctx); /* REPLCONF alone: nothing to set (Redis answers OK too) */
        return;
    }
    if (util_eq_nocase(argv[1].ptr, argv[1].len, "listening-port") && ctx->conn &&
        util_str2ll(argv[2].ptr, argv[2].len, &port) == 0 && port > 0 && port < 65536)
        ctx->conn->repl_port = (int)port;
    if (util_eq_nocase(argv[1].ptr, argv[1].len, "ip-address") && ctx->conn && argv[2].len &&
        argv[2].len < 64) { /* replica-announce-ip */
        df_free(ctx->conn->repl_ip);
        ctx->conn->repl_ip = df_memdup(argv[2].ptr, argv[2].len);
    }
    if (util_eq_nocase(argv[1].ptr, argv[1].len, "getack") && ctx->conn &&
        (ctx->conn->flags & CONN_MASTER)) {
        repl_send_ack(ctx->conn);
        return;
    }
    reply_ok(ctx);
}

static const dfm_command_t replica_cmds[] = {
    {.name = "replicaof", .arity = 3, .flags = "admin noscript stale", .acl_categories = "@admin @slow @dangerous",
     .summary = "Configures a server as replica of another, or promotes it to a master.", .since = "5.0.0",
     .group = "server", .complexity = "O(1)", .args_doc = "host port", .handler = replicaof_cmd},
    {.name = "slaveof", .arity = 3, .flags = "admin noscript stale", .acl_categories = "@admin @slow @dangerous",
     .summary = "Sets a Redis server as a replica of another, or promotes it to being a master.",
     .since = "1.0.0", .group = "server", .complexity = "O(1)", .args_doc = "host port", .handler = replicaof_cmd},
    {.name = "replconf", .arity = -1, .flags = "admin noscript loading stale", .acl_categories = "@admin @slow @dangerous",
     .summary = "An internal command for configuring the replication stream.", .since = "3.0.0",
     .group = "server", .complexity = "O(1)", .handler = replconf_cmd},
    {.name = "role", .arity = 1, .flags = "noscript loading stale fast", .acl_categories = "@admin @fast @dangerous",
     .summary = "Returns the replication role.", .since = "2.8.12", .group = "server",
     .complexity = "O(1)", .handler = role_cmd},
};

void cmd_replica_register(void) { cmdtab_register(replica_cmds, CMDTAB_COUNT(replica_cmds)); }
