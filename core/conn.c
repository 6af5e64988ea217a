/*
 * conn.c: client connections: accept, read, parse, route, reply (see conn.h).
 *
 * Routing of one command (conn_execute):
 *   - keyless commands run here, on the client's thread;
 *   - commands whose keys are all in one shard owned by this thread run inline, unless a
 *     transaction holds one of their keys (then they wait in that shard's queue);
 *   - a command for a remote shard opens a squash group: following single-shard commands
 *     join it with one batch (one hop) per shard, within the ordering rules of squash.c;
 *     anything else sends the group and waits for it before running;
 *   - commands whose keys span shards, or need every shard, become a transaction (tx.c).
 */
#include "conn.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "acl.h"
#include "alloc.h"
#include "aof.h"
#include "block.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "monitor.h"
#include "tls.h"
#include "replica.h"
#include "server.h"
#include "squash.h"
#include "tx.h"
#include "util.h"
#include "table.h"
#include "tracking.h"

#define CONN_IBUF_INIT (16 * 1024)
#define CONN_READ_MIN 4096
#define CONN_OBUF_FLUSH (64 * 1024)

static _Atomic uint64_t conn_next_id = 1;

static void conn_on_read(evutil_socket_t fd, short what, void *arg);
static void conn_on_write(evutil_socket_t fd, short what, void *arg);
static void conn_process(conn_t *c);
static _Thread_local struct event *tl_pause_ev; /* CLIENT PAUSE: the worker's release timer */

static void conn_addr(int fd, int peer, char *buf, size_t cap, int is_unix) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
                 : getsockname(fd, (struct sockaddr *)&ss, &len);
    if (r < 0 || is_unix) {
        snprintf(buf, cap, "%s", is_unix ? (peer ? "/unixsocket:0" : g_config.unixsocket) : "?:0");
        return;
    }
    char ip[INET6_ADDRSTRLEN];
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        snprintf(buf, cap, "%s:%d", ip, ntohs(a->sin6_port));
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        snprintf(buf, cap, "%s:%d", ip, ntohs(a->sin_port));
    }
}

/* A request-protocol connection (memcached): its own parser, replies in its own format
   (resp 0), no AUTH, db 0. */
static void conn_proto_init(conn_t *c, const dfm_request_protocol_t *proto) {
    c->proto = proto;
    c->pstate = proto->conn_new ? proto->conn_new() : NULL;
    c->resp = 0;
    c->authed = 1;
}

/* The protocol's next request as a RESP_* code (RESP_CLOSE: close after the replies so far);
   *argc / *argv: the command to run (argc 0: none). */
static int conn_proto_parse(conn_t *c, size_t *used, int *argc, dfm_str_t **argv) {
    dfm_request_t req = {0, 0, 0, NULL};
    int r = c->proto->parse(c->pstate, c->ibuf + c->ipos, c->ilen - c->ipos, &req);
    size_t avail = c->ilen - c->ipos;
    *used = req.used <= avail ? req.used : avail;
    *argc = req.argc;
    *argv = (dfm_str_t *)req.argv;
    c->pneed = 0;
    if (r == DFM_PARSE_MORE) {
        c->pneed = req.need;
        return RESP_INCOMPLETE;
    }
    return r == DFM_PARSE_OK ? RESP_OK : RESP_CLOSE;
}

/* A client on fd (accepted or handed over), registered with w and reading. w's thread. */
static conn_t *conn_new(worker_t *w, int fd, int is_unix, const dfm_request_protocol_t *proto) {
    if (!is_unix) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (g_config.tcp_keepalive > 0) setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    }
    conn_t *c = df_calloc(sizeof *c);
    c->w = w;
    c->fd = fd;
    c->id = atomic_fetch_add(&conn_next_id, 1);
    c->resp = 2;
    c->user = acl_default();
    c->authed = acl_default_open();
    c->flags = is_unix ? CONN_UNIX : 0;
    c->born = c->flags;
    c->ctime_ms = c->last_ms = util_now_ms();
    conn_addr(fd, 1, c->addr, sizeof c->addr, is_unix);
    conn_addr(fd, 0, c->laddr, sizeof c->laddr, is_unix);
    resp_parser_init(&c->parser);
    /* Entries store key and value lengths in 32 bits: no bulk may exceed that, whatever
       proto-max-bulk-len says. */
    c->parser.max_bulk_len = g_config.proto_max_bulk_len < (int64_t)UINT32_MAX
                                 ? g_config.proto_max_bulk_len
                                 : (int64_t)UINT32_MAX;
    if (proto) conn_proto_init(c, proto);
    c->ev_read = event_new(w->base, fd, EV_READ | EV_PERSIST, conn_on_read, c);
    c->ev_write = event_new(w->base, fd, EV_WRITE | EV_PERSIST, conn_on_write, c);
    event_add(c->ev_read, NULL);
    c->next = w->conns;
    if (w->conns) w->conns->prev = c;
    w->conns = c;
    w->nconns++;
    w->stats.conns_received++;
    atomic_fetch_add(&g_nclients, 1);
    return c;
}

static int conn_protected_refuses(const conn_t *c);
static const char conn_protected_error[];

/* Called on w's thread with a listening socket that is readable. */
void conn_accept(worker_t *w, int lfd, int is_unix, const dfm_request_protocol_t *proto, int tls) {
    for (int i = 0; i < 64; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        if (atomic_load(&g_nclients) >= g_config.maxclients) {
            const char *msg = proto ? "SERVER_ERROR max number of clients reached\r\n"
                                    : "-ERR max number of clients reached\r\n";
            ssize_t n = write(fd, msg, strlen(msg));
            (void)n;
            close(fd);
            w->stats.rejected_conns++;
            continue;
        }
        conn_t *c = conn_new(w, fd, is_unix, proto);
        if (tls && !(c->ssl = tls_new(fd))) {
            conn_close(c);
        } else if (!proto && conn_protected_refuses(c)) {
            rbuf_append(&c->obuf, conn_protected_error, strlen(conn_protected_error));
            c->flags |= CONN_CLOSE_AFTER_REPLY;
            conn_flush(c);
        }
    }
}

static void conn_tls_more(conn_t *c);

conn_t *conn_adopt_master(worker_t *w, int fd, void *ssl, const void *pre, size_t n, long long offset, int db) {
    conn_t *c = conn_new(w, fd, 0, NULL);
    c->ssl = ssl;
    c->flags |= CONN_MASTER;
    c->parser.max_bulk_len = UINT32_MAX; /* Redis exempts its master from proto-max-bulk-len */
    c->db = db;
    c->repl.end = offset;
    c->authed = 1;
    c->user = acl_default();
    c->name = df_memdup("master", 6);
    if (n) {
        c->ibuf = df_malloc(n + CONN_IBUF_INIT);
        c->icap = n + CONN_IBUF_INIT;
        memcpy(c->ibuf, pre, n);
        c->ilen = n;
        conn_process(c);
    }
    conn_tls_more(c); /* the session may hold stream bytes it decrypted on the old thread */
    return c;
}

conn_t *conn_adopt_aof(worker_t *w, int fd) {
    conn_t *c = conn_adopt_master(w, fd, NULL, NULL, 0, 0, 0);
    c->flags |= CONN_AOF;
    c->born |= CONN_AOF; /* before its first command: shards see it never blocks */
    df_free(c->name);
    c->name = df_memdup("aof-loader", 10);
    return c;
}

int conn_aof_idle(const conn_t *c, long long bytes) {
    return c->repl.end >= bytes && c->ipos == c->ilen && !c->pending && !c->deferred_argc &&
           conn_master_applied(c) >= bytes && !(c->flags & (CONN_MULTI | CONN_BLOCKED));
}

static void conn_wq_remove(conn_t *c) {
    if (!(c->flags & CONN_IN_WQ)) return;
    if (c->wprev)
        c->wprev->wnext = c->wnext;
    else
        c->w->wq = c->wnext;
    if (c->wnext) c->wnext->wprev = c->wprev;
    c->wprev = c->wnext = NULL;
    c->flags &= ~CONN_IN_WQ;
}

void conn_flush_later(conn_t *c) {
    if (c->flags & (CONN_IN_WQ | CONN_CLOSING)) return;
    c->flags |= CONN_IN_WQ;
    c->wprev = NULL;
    c->wnext = c->w->wq;
    if (c->w->wq) c->w->wq->wprev = c;
    c->w->wq = c;
}

/* Free the clients closed during this iteration that nothing refers to any more. */
static void conn_reap(worker_t *w) {
    while (w->closed) {
        conn_t *c = w->closed;
        w->closed = c->wnext;
        conn_free(c);
    }
}

void conn_flush_pending(worker_t *w) {
    while (w->wq) {
        conn_t *c = w->wq;
        conn_wq_remove(c);
        if (c->flags & CONN_PUSH_KILL) {
            conn_close(c);
        } else if (!(c->flags & CONN_CLOSING)) {
            conn_take_pushes(c, 0);
            conn_flush(c);
        }
    }
    conn_reap(w);
}

void conn_release(conn_t *c) {
    if (c->pending || c->sq || (c->flags & CONN_FREEING)) return;
    conn_wq_remove(c);
    c->flags |= CONN_FREEING;
    c->wnext = c->w->closed;
    c->w->closed = c;
}

/* Redis's protected mode: no password for the default user, and a client from elsewhere. */
static int conn_protected_refuses(const conn_t *c) {
    return config_protected_mode() && acl_default_open() && !conn_is_local(c);
}

static const char conn_protected_error[] =
    "-DENIED Redis is running in protected mode because protected mode is enabled and no "
    "password is set for the default user. In this mode connections are only accepted from "
    "the loopback interface. If you want to connect from external computers to Redis you may "
    "adopt one of the following solutions: 1) Just disable protected mode sending the command "
    "'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from "
    "the same host the server is running, however MAKE SURE Redis is not publicly accessible "
    "from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) "
    "Alternatively you can just disable the protected mode by editing the Redis configuration "
    "file, and setting the protected mode option to 'no', and then restarting the server. 3) "
    "If you started the server manually just for testing, restart it with the "
    "'--protected-mode no' option. 4) Set up an authentication password for the default "
    "user. NOTE: You only need to do one of the above things in order for the server to "
    "start accepting connections from the outside.\r\n";

int conn_is_local(const conn_t *c) {
    return (c->flags & CONN_UNIX) || strncmp(c->addr, "127.", 4) == 0 ||
           strncmp(c->addr, "::1:", 4) == 0 || strncmp(c->addr, "::ffff:127.", 11) == 0;
}

conn_t *conn_internal(worker_t *w) {
    conn_t *c = df_calloc(sizeof *c);
    c->w = w;
    c->fd = -1;
    c->resp = 2;
    c->authed = 1;
    c->user = acl_default();
    c->flags = CONN_CLOSING | CONN_INTERNAL;
    c->born = CONN_INTERNAL;
    return c;
}

void conn_free(conn_t *c) {
    worker_t *w = c->w;
    conn_wq_remove(c);
    if (!(c->flags & CONN_INTERNAL)) {
        if (c->prev)
            c->prev->next = c->next;
        else
            w->conns = c->next;
        if (c->next) c->next->prev = c->prev;
        w->nconns--;
    }
    resp_parser_free(&c->parser);
    if (c->proto && c->proto->conn_free) c->proto->conn_free(c->pstate);
    df_free(c->ibuf);
    rbuf_free(&c->obuf);
    rbuf_free(&c->pushq);
    conn_release_slots(c); /* nothing set after the close may outlive the client */
    tracking_conn_closed(c);
    df_free(c->deferred_argv);
    df_free(c->rerun_argv);
    df_free(c->name);
    df_free(c->lib_name);
    df_free(c->lib_ver);
    df_free(c->repl_ip);
    if (c->multi) multi_state_free(c->multi);
    if (c->watch) server_unwatch_all(c);
    if (c->ssl) tls_close(c->ssl);
    if (c->fd >= 0) close(c->fd);
    df_free(c);
}

int conn_handoff_ok(const conn_t *c) {
    /* a subscribed client's pushes from the batch's thread must precede its replies: they
       come back through the client's thread (conn_squash_delivered) */
    return c->ipos == c->ilen && c->deferred_argc == 0 && !c->ssl && /* TLS: one thread */
           !c->aof_hold && /* its replies wait for the AOF's fsync, on its own thread */
           !(c->nsub | c->npsub | c->nssub) &&
           !(c->flags & (CONN_CLOSE_AFTER_REPLY | CONN_CLOSING | CONN_WRITE_WAIT | CONN_BLOCKED |
                         CONN_MASTER));
}

int conn_obuf_over(conn_t *c) {
    long long lim[3];
    config_obuf_limits(conn_subscribed(c) ? 2 : 0, lim);
    if (!lim[0] && !lim[1]) return 0;
    size_t used = c->obuf.len - c->opos + c->pushq.len;
    int over = lim[0] && used >= (size_t)lim[0];
    if (!over && lim[1] && used >= (size_t)lim[1]) {
        int64_t now = util_now_ms();
        if (!c->obuf_soft_ms) c->obuf_soft_ms = now;
        over = lim[2] < INT64_MAX / 1000 && now - c->obuf_soft_ms > lim[2] * 1000; /* no overflow */
    } else if (!over) {
        c->obuf_soft_ms = 0;
    }
    if (over)
        log_warning("Client id=%llu addr=%s closed for overcoming of output buffer limits.",
                    (unsigned long long)c->id, c->addr);
    return over;
}

void conn_handoff_begin(conn_t *c) { c->handoff = 1; }

/* The client's thread needs the handoff's message promptly: count it in the worker's flag,
   which the posting thread reads after its push (worker_post_lazy). */
static void conn_handoff_need_wake(conn_t *c) {
    if (!c->handoff || c->wake_counted) return;
    c->wake_counted = 1;
    atomic_fetch_add(&c->w->handoff_wake[c->id % WORKER_WAKE_SLOTS], 1);
}

void conn_handoff_end(conn_t *c) {
    if (c->wake_counted) atomic_fetch_sub(&c->w->handoff_wake[c->id % WORKER_WAKE_SLOTS], 1);
    c->wake_counted = 0;
    c->handoff = 0;
}

/* Close the socket now; free the struct once nothing in flight refers to it. */
void conn_close(conn_t *c) {
    if (c->flags & CONN_CLOSING) return;
    c->flags |= CONN_CLOSING;
    long long applied = (c->flags & CONN_MASTER) ? conn_master_applied(c) : 0; /* before drops */
    conn_release_slots(c);
    monitor_remove(c);
    tracking_conn_closed(c);
    if (c->blocked) block_cancel(c);
    if (c->sq && !sq_was_sent(c->sq)) {
        sq_free(c->sq);
        c->sq = NULL;
    }
    if (c->mg) {
        tx_release(c->mg);
        c->mg = NULL;
    }
    event_free(c->ev_read);
    event_free(c->ev_write);
    c->ev_read = c->ev_write = NULL;
    if (c->handoff) { /* another thread may still write the reply: the fd closes in conn_free */
        shutdown(c->fd, SHUT_RDWR);
        conn_handoff_need_wake(c);
    } else {
        if (c->ssl) tls_close(c->ssl);
        c->ssl = NULL;
        close(c->fd);
        c->fd = -1;
    }
    atomic_fetch_sub(&g_nclients, 1);
    if ((c->flags & (CONN_MASTER | CONN_AOF)) == CONN_MASTER) replica_master_closed(c, applied);
    conn_release(c);
}

ssize_t conn_write_raw(conn_t *c, const void *p, size_t n) {
    return c->ssl ? tls_write(c->ssl, p, n) : write(c->fd, p, n);
}

void conn_flush(conn_t *c) {
    tracking_flush(); /* invalidations this thread owes go ahead of any reply it writes */
    if (__builtin_expect(c->flags & CONN_MASTER, 0)) c->opos = c->obuf.len; /* never answered */
    if (__builtin_expect(c->aof_hold, 0) && c->opos < c->obuf.len && aof_hold_reply(c)) return;
    while (c->opos < c->obuf.len) {
        ssize_t n = conn_write_raw(c, c->obuf.data + c->opos, c->obuf.len - c->opos);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                if (conn_obuf_over(c)) { /* a client that does not read its replies */
                    conn_close(c);
                    return;
                }
                if (!(c->flags & CONN_WRITE_WAIT)) {
                    c->flags |= CONN_WRITE_WAIT;
                    event_add(c->ev_write, NULL);
                }
                return;
            }
            conn_close(c);
            return;
        }
        c->opos += (size_t)n;
        c->w->stats.net_out += (uint64_t)n;
        c->w->stats.writes++;
    }
    c->opos = c->obuf.len = 0;
    c->obuf_soft_ms = 0; /* caught up: a later soft-limit period starts afresh */
    if (c->obuf.cap > 256 * 1024) rbuf_free(&c->obuf);
    if (c->flags & CONN_WRITE_WAIT) {
        c->flags &= ~CONN_WRITE_WAIT;
        event_del(c->ev_write);
    }
    if (c->flags & CONN_CLOSE_AFTER_REPLY) conn_close(c);
}

static void conn_on_write(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    conn_t *c = arg;
    conn_flush(c);
    if (!(c->flags & (CONN_CLOSING | CONN_WRITE_WAIT))) conn_resume(c);
}

/* The input buffer may move only when no parsed command still points into it. */
static int conn_ibuf_movable(const conn_t *c) {
    return c->pending == 0 && c->sq == NULL && c->mg == NULL;
}

static void conn_send_mgroup(conn_t *c) {
    tx_t *t = c->mg;
    c->mg = NULL;
    tx_group_dispatch(t);
}

/* Make room to read; returns bytes free at the tail (0 = cannot read now). */
static size_t conn_ibuf_room(conn_t *c) {
    if (conn_ibuf_movable(c) && c->ipos > 0) {
        memmove(c->ibuf, c->ibuf + c->ipos, c->ilen - c->ipos);
        c->ilen -= c->ipos;
        c->ipos = 0;
    }
    size_t need = CONN_READ_MIN;
    size_t want = c->proto ? c->pneed : resp_parser_need(&c->parser);
    if (want > c->ilen - c->ipos) need = want - (c->ilen - c->ipos);
    if (c->icap - c->ilen >= need || !conn_ibuf_movable(c)) return c->icap - c->ilen;
    size_t cap = c->icap ? c->icap : CONN_IBUF_INIT;
    while (cap - c->ilen < need) cap *= 2;
    c->ibuf = df_realloc(c->ibuf, cap);
    c->icap = cap;
    return cap - c->ilen;
}

static void conn_pause_read(conn_t *c) {
    if (!(c->flags & CONN_READ_PAUSED)) {
        c->flags |= CONN_READ_PAUSED;
        event_del(c->ev_read);
    }
}

/* Bytes OpenSSL already decrypted do not make the socket readable again: run the read
   callback once more for them. */
static void conn_tls_more(conn_t *c) {
    if (c->ssl && c->ev_read && !(c->flags & (CONN_CLOSING | CONN_READ_PAUSED)) &&
        tls_pending(c->ssl) > 0)
        event_active(c->ev_read, EV_READ, 0);
}

static void conn_on_read(evutil_socket_t fd, short what, void *arg) {
    (void)what;
    conn_t *c = arg;
    size_t room = conn_ibuf_room(c);
    if (room == 0) {
        conn_pause_read(c);
        return;
    }
    ssize_t n = c->ssl ? tls_read(c->ssl, c->ibuf + c->ilen, room) : read(fd, c->ibuf + c->ilen, room);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        conn_close(c);
        return;
    }
    c->ilen += (size_t)n;
    c->w->stats.net_in += (uint64_t)n;
    c->w->stats.reads++;
    if (c->flags & CONN_MASTER) {
        c->repl.end += n;
        if (!(c->flags & CONN_AOF)) replica_stream_read((size_t)n);
    }
    c->last_ms = server_now_ms();
    if ((int64_t)(c->ilen - c->ipos) > g_config.client_query_buffer_limit && !(c->flags & CONN_MASTER)) {
        log_warning("closing client %s: query buffer limit reached", c->addr);
        conn_close(c);
        return;
    }
    conn_handoff_need_wake(c); /* a handoff in flight must wake us when it is done */
    worker_run_urgent(); /* messages published before this request was sent come first */
    conn_tls_more(c);
    if (c->pending || (c->flags & (CONN_BLOCKED | CONN_CLOSING))) return;
    conn_process(c);
}

void conn_ctx(conn_t *c, dfm_ctx_t *ctx, struct shard *s) {
    memset(ctx, 0, sizeof *ctx);
    ctx->out = &c->obuf;
    ctx->shard = s;
    ctx->conn = c;
    ctx->resp = c->resp;
    ctx->db = c->db;
    ctx->client = c;
    ctx->client_worker = c->w->id;
}

void conn_defer(conn_t *c, int argc, const dfm_str_t *argv) {
    if (argc > c->deferred_cap) {
        c->deferred_cap = argc;
        c->deferred_argv = df_realloc(c->deferred_argv, (size_t)argc * sizeof *argv);
    }
    memcpy(c->deferred_argv, argv, (size_t)argc * sizeof *argv);
    c->deferred_argc = argc;
    c->repl.deferred = c->repl.cur; /* the master link's bookkeeping; unused elsewhere */
}

void conn_rerun(conn_t *c, int argc, const dfm_str_t *argv, int64_t deadline_ms) {
    size_t bytes = (size_t)argc * sizeof *argv;
    for (int i = 0; i < argc; i++) bytes += argv[i].len + 1;
    df_free(c->rerun_argv); /* its command is over: the client was blocked */
    c->rerun_argv = df_malloc(bytes);
    char *p = (char *)(c->rerun_argv + argc);
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i].ptr, argv[i].len);
        p[argv[i].len] = '\0';
        c->rerun_argv[i].ptr = p;
        c->rerun_argv[i].len = argv[i].len;
        p += argv[i].len + 1;
    }
    conn_defer(c, argc, c->rerun_argv);
    c->rerun_deadline_ms = deadline_ms;
}

/*
 * Lookahead for pipelines: the keyspace is memory-bound (a bucket and an entry miss per key),
 * so before running the next commands, parse up to CONN_LOOKAHEAD of them a second time
 * (multibulk only: that parse does not modify the buffer) and prefetch the buckets, then the
 * entries, of their first keys in shards this thread owns. The misses then overlap.
 */
#define CONN_LOOKAHEAD 16

static _Thread_local resp_parser_t conn_ahead_parser;
static _Thread_local int conn_ahead_ready;

void conn_worker_exit(void) {
    if (tl_worker) conn_reap(tl_worker);
    if (tl_pause_ev) event_free(tl_pause_ev);
    tl_pause_ev = NULL;
    conn_push_worker_exit();
    if (conn_ahead_ready) resp_parser_free(&conn_ahead_parser);
    conn_ahead_ready = 0;
}

static int conn_lookahead(conn_t *c) {
    resp_parser_t *pp = &conn_ahead_parser;
    if (!conn_ahead_ready) {
        resp_parser_init(pp);
        conn_ahead_ready = 1;
    }
    table_t *tabs[CONN_LOOKAHEAD];
    uint64_t hashes[CONN_LOOKAHEAD];
    int n = 0;
    size_t pos = c->ipos;
    for (int i = 0; i < CONN_LOOKAHEAD && pos < c->ilen && c->ibuf[pos] == '*'; i++) {
        size_t used = 0;
        if (resp_parse(pp, c->ibuf + pos, c->ilen - pos, &used) != RESP_OK) break;
        pos += used;
        if (pp->argc < 2) continue;
        const dfm_str_t *k = &pp->argv[1];
        shard_t *s = &g_shards[db_shard_and_hash(k->ptr, k->len, &hashes[n])];
        if (s->owner != c->w->id) continue;
        tabs[n] = s->dbs[c->db].t;
        table_prefetch(tabs[n], hashes[n]);
        n++;
    }
    resp_parser_reset(pp);
    for (int i = 0; i < n; i++) table_prefetch_entry(tabs[i], hashes[i]);
    return n;
}

/* A RESP protocol error: its reply follows the replies of the commands before it. */
static void conn_protocol_error(conn_t *c) {
    dfm_ctx_t ctx;
    conn_ctx(c, &ctx, NULL);
    if (c->sq && !sq_was_sent(c->sq)) {
        ctx.out = sq_local_reply(c);
        reply_errorf(&ctx, "ERR %s", c->parser.err);
        sq_local_reply_end(c);
        sq_send(c);
    } else {
        reply_errorf(&ctx, "ERR %s", c->parser.err);
    }
}

/* Parse and run commands until input runs out or something is in flight. */
/* ---- The master link's applied offset ---- */

/* The master link's group of commands parsed but not sent yet (a squash group or a
   multi-shard group), or NULL. A group is only ever started while none is held. */
static const void *conn_master_group(const conn_t *c) {
    if (c->sq && !sq_was_sent(c->sq)) return c->sq;
    return c->mg;
}

long long conn_master_applied(const conn_t *c) {
    long long off = c->repl.end - (long long)(c->ilen - c->ipos);
    if (c->deferred_argc && c->repl.deferred < off) off = c->repl.deferred;
    if (conn_master_group(c) && c->repl.group < off) off = c->repl.group;
    if ((c->flags & CONN_MULTI) && c->repl.multi < off) off = c->repl.multi;
    if ((c->flags & CONN_BLOCKED) && c->repl.cur < off) off = c->repl.cur; /* dropped at close */
    return off;
}

/* conn_execute for the master link, noting where the command starts in the stream and where
   what it leaves held (a group it starts, a MULTI it opens) begins. */
static void conn_master_execute(conn_t *c, int argc, dfm_str_t *argv, long long start) {
    int had_group = conn_master_group(c) != NULL, had_multi = (c->flags & CONN_MULTI) != 0;
    c->repl.cur = start;
    conn_execute(c, argc, argv);
    if (!had_group && conn_master_group(c)) c->repl.group = start;
    if (!had_multi && (c->flags & CONN_MULTI)) c->repl.multi = start;
}

static void conn_process(conn_t *c) {
    int ahead = 0;
    if (c->pushq.len) conn_take_pushes(c, 0); /* pushes queued so far precede new replies */
    tl_cmd_clock = util_cycles();
    while (!c->pending && !(c->flags & (CONN_CLOSING | CONN_CLOSE_AFTER_REPLY | CONN_BLOCKED))) {
        if (ahead-- == 0 && c->ilen - c->ipos > 64) {
            /* Keyless pipelines (PING) gain nothing: after a window with no local key, skip
               the next few windows. */
            if (c->ahead_skip)
                c->ahead_skip--;
            else if (conn_lookahead(c) == 0)
                c->ahead_skip = 8;
            ahead = CONN_LOOKAHEAD - 1;
        }
        if (c->deferred_argc) {
            int argc = c->deferred_argc;
            c->deferred_argc = 0;
            if (__builtin_expect(c->flags & CONN_MASTER, 0))
                conn_master_execute(c, argc, c->deferred_argv, c->repl.deferred);
            else
                conn_execute(c, argc, c->deferred_argv);
            continue;
        }
        if (c->ipos >= c->ilen) break;
        size_t used = 0;
        int r, argc;
        dfm_str_t *argv;
        if (__builtin_expect(c->proto == NULL, 1)) {
            r = resp_parse(&c->parser, c->ibuf + c->ipos, c->ilen - c->ipos, &used);
            argc = c->parser.argc;
            argv = c->parser.argv;
        } else {
            r = conn_proto_parse(c, &used, &argc, &argv);
        }
        if (r == RESP_INCOMPLETE) {
            c->ipos += used; /* empty lines skipped ahead of a partial command */
            break;
        }
        size_t start = c->ipos;
        c->ipos += used;
        if (r < 0) { /* RESP_CLOSE (a protocol's quit) only closes after the replies so far */
            if (r == RESP_ERROR) conn_protocol_error(c);
            c->flags |= CONN_CLOSE_AFTER_REPLY;
            break;
        }
        c->rerun_deadline_ms = 0; /* the rerun, if any, is over */
        if (__builtin_expect(c->flags & CONN_MASTER, 0) && argc > 0)
            conn_master_execute(c, argc, argv, c->repl.end - (long long)(c->ilen - start));
        else if (argc > 0)
            conn_execute(c, argc, argv);
        if (c->obuf.len - c->opos > CONN_OBUF_FLUSH && !c->sq && !c->mg) conn_flush(c);
    }
    if (c->flags & CONN_CLOSING) {
        conn_release(c); /* closed on the way (a failed write, QUIT...) */
        return;
    }
    if (c->sq && !sq_was_sent(c->sq)) sq_send(c);
    if (c->mg && !c->pending) conn_send_mgroup(c);
    if (!c->pending && !c->sq && !c->mg && c->ipos == c->ilen) {
        c->ipos = c->ilen = 0;
        if (c->icap > 4 * CONN_IBUF_INIT) { /* a big request is done: give the buffer back */
            df_free(c->ibuf);
            c->ibuf = NULL;
            c->icap = 0;
        }
    }
    if (!c->pending && (c->obuf.len > c->opos || (c->flags & CONN_CLOSE_AFTER_REPLY))) {
        /* A thread that waits on no other thread batches its writes to the end of the
           iteration (fewer wake-ups for clients); one with hops in flight writes at once, so
           its clients are not held behind a slower iteration. */
        if (worker_awaiting(c->w) == 0)
            conn_flush_later(c);
        else
            conn_flush(c);
    }
}

void conn_resume(conn_t *c) {
    if (c->flags & CONN_CLOSING) {
        conn_release(c);
        return;
    }
    if (c->pending) return;
    if (c->pushq.len && conn_take_pushes(c, 0)) conn_flush_later(c);
    if ((c->flags & CONN_READ_PAUSED) && !(c->flags & CONN_WRITE_WAIT)) {
        c->flags &= ~CONN_READ_PAUSED;
        event_add(c->ev_read, NULL);
        conn_tls_more(c);
    }
    conn_process(c);
}

/* Route a command that runs on exactly one shard. */
static void conn_route_single(conn_t *c, const cmd_t *cmd, int argc, dfm_str_t *argv, int sid) {
    shard_t *s = &g_shards[sid];
    if (c->sq) {
        if (sq_join(c, cmd, argc, argv, sid)) return;
        conn_defer(c, argc, argv);
        sq_send(c);
        return;
    }
    if (s->owner == c->w->id && !tx_must_wait(s, c->db, cmd, argc, argv)) {
        server_call(c, cmd, argc, argv, s);
        return;
    }
    sq_start(c, cmd, argc, argv, sid);
}

/* ---- CLIENT PAUSE ---- */

/* 1 if a pause is on and holds this command: every command of a client (ALL), or those that
   may write (WRITE: write commands, EVAL/EVALSHA, PUBLISH, PFCOUNT, WAIT, as Redis). The
   master link and replicas are never paused. */
static int conn_pause_hits(conn_t *c, int argc, const dfm_str_t *argv) {
    int64_t until = atomic_load_explicit(&g_server.pause_until_ms, memory_order_relaxed);
    if (__builtin_expect(!until, 1) || (c->flags & CONN_MASTER)) return 0;
    int64_t now = util_now_ms();
    if (now >= until) return 0;
    int writes = 0; /* some pause holds at least the writes */
    for (int p = 0; p < SERVER_PAUSE_N; p++) {
        if (now >= atomic_load(&g_server.pause_end[p])) continue;
        if (atomic_load(&g_server.pause_all[p])) return 1;
        writes = 1;
    }
    if (!writes) return 0;
    const cmd_t *cmd = server_peek(c, argc, argv);
    if (!cmd) return 0;
    if (cmd->flags & CMD_WRITE) return 1;
    static const char *const may_write[] = {"eval", "evalsha", "publish", "pfcount", "wait", "exec", NULL};
    for (int i = 0; may_write[i]; i++)
        if (strcmp(cmd->name, may_write[i]) == 0) return 1;
    return 0;
}

/* The worker's pause timer: let paused clients go once no pause holds their command (a
   pause may end, or narrow from ALL to WRITE). */
static void conn_pause_tick(evutil_socket_t fd, short what, void *arg) {
    (void)fd, (void)what, (void)arg;
    int held = 0;
    for (conn_t *c = tl_worker->conns, *next; c; c = next) {
        next = c->next;
        if (!(c->flags & CONN_PAUSED)) continue;
        if (conn_pause_hits(c, c->deferred_argc, c->deferred_argv)) {
            held = 1;
            continue;
        }
        c->flags &= ~CONN_PAUSED;
        c->pending--;
        conn_resume(c);
    }
    if (held) {
        struct timeval tv = {0, 10000};
        evtimer_add(tl_pause_ev, &tv);
    }
}

/* Park the command: it runs first when the pause is over (the input buffer stays put while
   the client is pending). */
static void conn_pause(conn_t *c, int argc, const dfm_str_t *argv) {
    conn_defer(c, argc, argv);
    c->flags |= CONN_PAUSED;
    c->pending++;
    if (!tl_pause_ev) tl_pause_ev = evtimer_new(c->w->base, conn_pause_tick, NULL);
    if (!evtimer_pending(tl_pause_ev, NULL)) {
        struct timeval tv = {0, 10000};
        evtimer_add(tl_pause_ev, &tv);
    }
}

void conn_execute(conn_t *c, int argc, dfm_str_t *argv) {
    if (__builtin_expect(atomic_load_explicit(&g_server.pause_until_ms, memory_order_relaxed) != 0, 0) &&
        conn_pause_hits(c, argc, argv)) {
        if (c->sq || c->mg) { /* the group goes first; this command runs (or waits) after it */
            conn_defer(c, argc, argv);
            if (c->sq)
                sq_send(c);
            else
                conn_send_mgroup(c);
        } else {
            conn_pause(c, argc, argv);
        }
        return;
    }
    if ((c->sq || c->mg) && !server_peek(c, argc, argv)) { /* its error follows the group */
        conn_defer(c, argc, argv);
        if (c->sq)
            sq_send(c);
        else
            conn_send_mgroup(c);
        return;
    }
    const cmd_t *cmd = server_prepare(c, argc, argv);
    if (!cmd) return;
    int kidx[8];
    int nk = (cmd->flags & (CMD_CONN | CMD_ALL_SHARDS)) ? 0 : dispatch_route_keys(cmd, argc, argv, kidx, 8);
    int sid = -1, multi = (cmd->flags & CMD_ALL_SHARDS) != 0;
    for (int i = 0; i < nk && !multi; i++) {
        int s = db_shard_of(argv[kidx[i]].ptr, argv[kidx[i]].len);
        if (sid >= 0 && s != sid) multi = 1;
        sid = s;
    }
    if (cmd->await && nk > 0) multi = 1; /* holds its keys' locks across its await step */
    if (!multi && nk == 8) { /* more keys than we looked at: check them all */
        int *all = df_malloc(sizeof(int) * (size_t)argc);
        int n = dispatch_route_keys(cmd, argc, argv, all, argc);
        for (int i = 0; i < n && !multi; i++)
            multi = db_shard_of(argv[all[i]].ptr, argv[all[i]].len) != sid;
        df_free(all);
    }
    if ((multi || sid < 0) && c->sq) { /* keep reply order: the group goes first */
        conn_defer(c, argc, argv);
        sq_send(c);
        return;
    }
    if (c->mg) { /* only more groupable commands may join */
        if (multi && tx_groupable(cmd) && tx_group_add(c->mg, cmd, argc, argv) < 64) return;
        if (!(multi && tx_groupable(cmd))) conn_defer(c, argc, argv);
        conn_send_mgroup(c);
        return;
    }
    if (multi && !cmd->multi && !(cmd->flags & CMD_ALL_SHARDS)) {
        /* A handler without cross-shard phases can only see one shard. */
        dfm_ctx_t ctx;
        conn_ctx(c, &ctx, NULL);
        reply_error(&ctx, "CROSSSLOT Keys in request don't hash to the same slot");
        return;
    }
    if (multi && tx_groupable(cmd)) {
        c->mg = tx_group_new(c);
        tx_group_add(c->mg, cmd, argc, argv);
        return;
    }
    if (multi) {
        tx_run_multi(c, cmd, argc, argv, kidx, nk);
        return;
    }
    if (sid < 0) {
        server_call(c, cmd, argc, argv, NULL);
        return;
    }
    conn_route_single(c, cmd, argc, argv, sid);
}

void conn_describe(conn_t *c, rbuf_t *out) {
    char line[1024];
    int64_t now = util_now_ms();
    char flags[16], *f = flags; /* Redis's letters, in its order */
    if (c->flags & CONN_MONITOR) *f++ = 'O';
    if (c->flags & CONN_MASTER) *f++ = 'M';
    if (conn_subscribed(c)) *f++ = 'P';
    if (c->flags & CONN_MULTI) *f++ = 'x';
    if (c->flags & CONN_BLOCKED) *f++ = 'b';
    f = tracking_describe_flags(c, f);
    if (f == flags) *f++ = 'N';
    *f = '\0';
    int n = snprintf(line, sizeof line,
                     "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d "
                     "sub=%d psub=%d ssub=%d multi=%d qbuf=%zu qbuf-free=%zu argv-mem=0 "
                     "multi-mem=0 rbs=%zu rbp=%zu obl=%zu oll=0 omem=%zu tot-mem=%zu events=r "
                     "cmd=%s user=%s redir=%lld resp=%d lib-name=%s lib-ver=%s\n",
                     (unsigned long long)c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "",
                     (long long)((now - c->ctime_ms) / 1000), (long long)((now - c->last_ms) / 1000),
                     flags, c->db, c->nsub, c->npsub, c->nssub, c->multi ? c->multi->n : -1, c->ilen - c->ipos,
                     c->icap - c->ilen, c->icap, c->icap, c->obuf.len,
                     c->obuf.len - c->opos + c->pushq.len, c->icap + c->obuf.cap + c->pushq.cap + sizeof *c,
                     c->last_cmd ? (c->last_cmd->fullname ? c->last_cmd->fullname : c->last_cmd->name) : "NULL",
                     c->user ? c->user->name : "default", tracking_describe_redir(c),
                     c->resp, c->lib_name ? c->lib_name : "", c->lib_ver ? c->lib_ver : "");
    rbuf_append(out, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
}

void conn_close_all(worker_t *w) {
    conn_t *c = w->conns;
    while (c) {
        conn_t *next = c->next;
        if (!(c->flags & CONN_CLOSING)) {
            if (c->obuf.len > c->opos && !(c->flags & CONN_MASTER)) {
                ssize_t n = conn_write_raw(c, c->obuf.data + c->opos, c->obuf.len - c->opos);
                (void)n;
            }
            conn_close(c);
        }
        if (c->flags & CONN_PAUSED) { /* its command will not run: let it be freed */
            c->flags &= ~CONN_PAUSED;
            c->pending--;
            conn_release(c);
        }
        c = next;
    }
}

void conn_cron(worker_t *w) {
    if (g_config.timeout <= 0) return;
    int64_t now = server_now_ms();
    for (conn_t *c = w->conns, *next; c; c = next) {
        next = c->next;
        /* as in Redis, blocked and subscribed clients are not idle */
        if (c->flags & (CONN_CLOSING | CONN_BLOCKED | CONN_MASTER) || c->pending || conn_subscribed(c))
            continue;
        if (now - c->last_ms > g_config.timeout * 1000) conn_close(c);
    }
}
