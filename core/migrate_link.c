/*
 * migrate_link.c: MIGRATE's conversation with a target server (see migrate.h), asynchronous
 * on the calling worker's event loop.
 *
 * An exchange goes resolve -> connect -> write -> read. A numeric address needs no lookup; a
 * name is resolved by evdns (a resolver per worker, made on first use), so no step blocks.
 * Reading starts as soon as the socket is connected, so a target answering early never stalls
 * on a full socket. Completion always goes through a zero-delay event, so the caller's
 * callback never runs inside mlink_start. The error categories follow what redis-server 7.0
 * answers: a name that does not resolve or a socket that cannot be started is a connect
 * error; a refused or timed-out connection shows up as a write error (Redis finds it when it
 * writes).
 *
 * All state is the worker's own (thread-local): its cache of connections and its live
 * exchanges.
 */
#include "migrate.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "alloc.h"
#include "util.h"
#include "worker.h"

#define MLINK_CACHE_MAX 64
#define MLINK_IDLE_MS 10000
#define MLINK_LINE_MAX 1023
#define MLINK_IN_MAX (1 << 20) /* a reply line longer than this is a read error */

/* A connection to a target, in the worker's cache or private to one exchange. */
typedef struct mlink {
    char *name; /* "host:port" as given */
    int fd;
    long long db; /* selected db, -1 when unknown */
    int64_t last_use_ms;
    int busy;
} mlink_t;

enum { X_RESOLVE, X_CONNECT, X_WRITE, X_READ };

typedef struct mlx {
    mlink_req_t r;
    char *host; /* NUL-terminated copy */
    char *name;
    mlink_t *link;
    int cached; /* link is in the cache */
    int stage, retried, select, expect, nlines, nbody_read, saw_error, extra, finished;
    mlink_status_t status;
    rbuf_t head; /* this attempt's AUTH and SELECT */
    size_t wpos; /* bytes of head + body written */
    rbuf_t in;   /* reply bytes not yet split into lines */
    struct event *ev_rd, *ev_wr, *ev_to, *ev_done;
    struct evdns_getaddrinfo_request *dns;
    int in_dns_call, dns_answered, dns_failed;
    struct sockaddr_storage addr;
    socklen_t alen;
    struct mlx *prev, *next; /* the worker's live exchanges */
} mlx_t;

static _Thread_local mlink_t *tl_cache[MLINK_CACHE_MAX];
static _Thread_local int tl_ncache;
static _Thread_local mlx_t *tl_live;
static _Thread_local struct evdns_base *tl_dns;

static void x_resolve(mlx_t *x);
static void x_begin_write(mlx_t *x);

/* ---- the cache ---------------------------------------------------------------------- */

static void link_close(mlink_t *l) {
    if (l->fd >= 0) close(l->fd);
    df_free(l->name);
    df_free(l);
}

static atomic_int g_ncached; /* every worker's cached connections (INFO) */

int mlink_cached_count(void) { return atomic_load(&g_ncached); }

static void cache_remove(int i) {
    atomic_fetch_sub(&g_ncached, 1);
    link_close(tl_cache[i]);
    tl_cache[i] = tl_cache[--tl_ncache];
}

/* An idle cached connection to name, now busy; NULL if there is none. */
static mlink_t *cache_take(const char *name) {
    for (int i = 0; i < tl_ncache; i++) {
        mlink_t *l = tl_cache[i];
        if (!l->busy && strcmp(l->name, name) == 0) {
            l->busy = 1;
            return l;
        }
    }
    return NULL;
}

/* Put a new (busy) connection in the cache, dropping an idle one when full. 0 if every slot
   is busy: the connection stays private to its exchange. */
static int cache_put(mlink_t *l) {
    if (tl_ncache == MLINK_CACHE_MAX) {
        int victim = -1;
        for (int i = 0; i < tl_ncache && victim < 0; i++)
            if (!tl_cache[i]->busy) victim = i;
        if (victim < 0) return 0;
        cache_remove(victim);
    }
    tl_cache[tl_ncache++] = l;
    atomic_fetch_add(&g_ncached, 1);
    return 1;
}

/* A new connection (not yet open) for x, cached when there is room. */
static void x_new_link(mlx_t *x) {
    mlink_t *l = df_calloc(sizeof *l);
    l->fd = -1;
    l->db = -1;
    l->busy = 1;
    l->name = df_malloc(strlen(x->name) + 1);
    strcpy(l->name, x->name);
    x->link = l;
    x->cached = cache_put(l);
}

/* Done with x's connection: back to the cache when reusable, else closed. */
static void x_release_link(mlx_t *x, int reusable) {
    mlink_t *l = x->link;
    x->link = NULL;
    if (!l) return;
    if (x->cached) {
        for (int i = 0; i < tl_ncache; i++) {
            if (tl_cache[i] != l) continue;
            if (!reusable) {
                cache_remove(i);
                return;
            }
            l->busy = 0;
            l->last_use_ms = util_now_ms();
            return;
        }
    }
    link_close(l);
}

void mlink_cron(int64_t now_ms) {
    for (int i = 0; i < tl_ncache;) {
        if (!tl_cache[i]->busy && now_ms - tl_cache[i]->last_use_ms > MLINK_IDLE_MS)
            cache_remove(i);
        else
            i++;
    }
}

/* ---- finishing ---------------------------------------------------------------------- */

static void x_stop_io(mlx_t *x) {
    if (x->ev_rd) event_free(x->ev_rd);
    if (x->ev_wr) event_free(x->ev_wr);
    x->ev_rd = x->ev_wr = NULL;
    if (x->dns) evdns_getaddrinfo_cancel(x->dns); /* its callback sees the cancel and returns */
    x->dns = NULL;
}

/* Free x (unlinked from the live list); the caller is not told. */
static void x_free(mlx_t *x) {
    x_stop_io(x);
    if (x->prev)
        x->prev->next = x->next;
    else
        tl_live = x->next;
    if (x->next) x->next->prev = x->prev;
    event_free(x->ev_to);
    event_free(x->ev_done);
    rbuf_free(&x->r.auth);
    rbuf_free(&x->r.body);
    rbuf_free(&x->head);
    rbuf_free(&x->in);
    df_free(x->host);
    df_free(x->name);
    df_free(x);
}

/* End the exchange with st; the caller hears of it from the event loop (x_on_done). */
static void x_finish(mlx_t *x, mlink_status_t st) {
    if (x->finished) return;
    x->finished = 1;
    x->status = st;
    x_stop_io(x);
    evtimer_del(x->ev_to);
    event_active(x->ev_done, EV_TIMEOUT, 0);
}

static void x_on_done(evutil_socket_t fd, short what, void *arg) {
    (void)fd, (void)what;
    mlx_t *x = arg;
    if (x->status == MLINK_OK && x->link) x->link->db = x->saw_error ? -1 : x->r.db;
    x_release_link(x, x->status == MLINK_OK && !x->extra);
    mlink_req_t r = x->r;
    mlink_status_t st = x->status;
    int nread = x->nbody_read;
    x_free(x);
    r.done(r.arg, st, nread);
}

/* (Re)arm the inactivity timeout: each step has timeout_ms to make progress. */
static void x_touch(mlx_t *x) {
    struct timeval tv = {(time_t)(x->r.timeout_ms / 1000),
                         (suseconds_t)(x->r.timeout_ms % 1000) * 1000};
    evtimer_add(x->ev_to, &tv);
}

static void x_on_timeout(evutil_socket_t fd, short what, void *arg) {
    (void)fd, (void)what;
    mlx_t *x = arg;
    x_finish(x, x->stage == X_READ      ? MLINK_EREAD
                : x->stage == X_RESOLVE ? MLINK_ECONNECT
                                        : MLINK_EWRITE);
}

/* The connection failed (not a timeout): reopen it once if no reply to the caller's commands
   has been read, else give up with the step's error. */
static void x_socket_error(mlx_t *x) {
    if (x->retried || x->nbody_read > 0) {
        x_finish(x, x->stage == X_READ ? MLINK_EREAD : MLINK_EWRITE);
        return;
    }
    x->retried = 1;
    x_stop_io(x);
    x_release_link(x, 0);
    x_new_link(x);
    x_resolve(x); /* the first attempt may have used a cached connection */
}

/* ---- reading ------------------------------------------------------------------------ */

/* What the next reply line answers. */
static int x_line_what(const mlx_t *x) {
    int i = x->nlines;
    if (x->r.auth.len) {
        if (i == 0) return MLINK_LINE_AUTH;
        i--;
    }
    if (x->select) {
        if (i == 0) return MLINK_LINE_SELECT;
        i--;
    }
    return i;
}

/* Hand the complete lines in x->in to the caller. 1 when every expected line was read. */
static int x_split_lines(mlx_t *x) {
    size_t pos = 0;
    while (x->nlines < x->expect) {
        char *nl = memchr(x->in.data + pos, '\n', x->in.len - pos);
        if (!nl) break;
        const char *line = x->in.data + pos;
        size_t len = (size_t)(nl - line);
        pos += len + 1;
        if (len && line[len - 1] == '\r') len--;
        int what = x_line_what(x);
        if (len && line[0] == '-') x->saw_error = 1;
        x->nlines++;
        if (what >= 0) x->nbody_read++;
        x->r.on_line(x->r.arg, what, line, len > MLINK_LINE_MAX ? MLINK_LINE_MAX : len);
    }
    memmove(x->in.data, x->in.data + pos, x->in.len - pos);
    x->in.len -= pos;
    if (x->nlines < x->expect) return 0;
    if (x->in.len) x->extra = 1; /* more than we asked for: the connection is not reused */
    return 1;
}

static void x_on_read(evutil_socket_t fd, short what, void *arg) {
    (void)what;
    mlx_t *x = arg;
    rbuf_grow(&x->in, 16384);
    ssize_t n = read(fd, x->in.data + x->in.len, x->in.cap - x->in.len);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
        x_socket_error(x);
        return;
    }
    x->in.len += (size_t)n;
    x_touch(x);
    if (x_split_lines(x)) {
        if (x->stage == X_READ) x_finish(x, MLINK_OK);
        return;
    }
    if (x->in.len > MLINK_IN_MAX) x_finish(x, MLINK_EREAD);
}

/* ---- writing ------------------------------------------------------------------------ */

/* Write what the socket takes of head + body; on to reading when all is out. */
static void x_write_some(mlx_t *x) {
    for (;;) {
        struct iovec iov[2];
        int n = 0;
        size_t hl = x->head.len, total = hl + x->r.body.len;
        if (x->wpos >= total) break;
        if (x->wpos < hl) iov[n++] = (struct iovec){x->head.data + x->wpos, hl - x->wpos};
        size_t boff = x->wpos > hl ? x->wpos - hl : 0;
        if (boff < x->r.body.len)
            iov[n++] = (struct iovec){x->r.body.data + boff, x->r.body.len - boff};
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(x->link->fd, &mh, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            event_add(x->ev_wr, NULL);
            return;
        }
        if (w < 0) {
            x_socket_error(x);
            return;
        }
        x->wpos += (size_t)w;
        x_touch(x);
    }
    event_del(x->ev_wr);
    x->stage = X_READ;
    x_touch(x);
    if (x->nlines == x->expect) x_finish(x, MLINK_OK); /* answered before we were done */
}

static void x_on_writable(evutil_socket_t fd, short what, void *arg) {
    (void)what;
    mlx_t *x = arg;
    if (x->stage == X_CONNECT) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
        if (err) {
            x_socket_error(x); /* refused: Redis reports it as a write error, and retries */
            return;
        }
        event_del(x->ev_wr);
        x_begin_write(x);
        return;
    }
    x_write_some(x);
}

/* The connection is up: make this attempt's AUTH / SELECT and send everything. */
static void x_begin_write(mlx_t *x) {
    struct event_base *base = tl_worker->base;
    int fd = x->link->fd;
    if (!x->ev_rd) x->ev_rd = event_new(base, fd, EV_READ | EV_PERSIST, x_on_read, x);
    if (!x->ev_wr) x->ev_wr = event_new(base, fd, EV_WRITE | EV_PERSIST, x_on_writable, x);
    x->stage = X_WRITE;
    x->head.len = 0;
    x->in.len = 0;
    x->wpos = 0;
    x->nlines = x->nbody_read = x->saw_error = x->extra = 0;
    rbuf_append(&x->head, x->r.auth.data, x->r.auth.len);
    x->select = x->link->db != x->r.db;
    if (x->select) {
        char num[24];
        int n = snprintf(num, sizeof num, "%lld", x->r.db);
        dfm_str_t argv[2] = {{"SELECT", 6}, {num, (size_t)n}};
        rbuf_append_command(&x->head, 2, argv);
    }
    x->expect = (x->r.auth.len ? 1 : 0) + x->select + x->r.nbody;
    event_add(x->ev_rd, NULL);
    x_touch(x);
    x_write_some(x);
}

/* ---- connecting --------------------------------------------------------------------- */

static void x_connect(mlx_t *x) {
    x->stage = X_CONNECT;
    x_touch(x);
    int fd = socket(x->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        x_finish(x, MLINK_ECONNECT);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    x->link->fd = fd;
    if (connect(fd, (struct sockaddr *)&x->addr, x->alen) == 0) {
        x_begin_write(x);
        return;
    }
    if (errno != EINPROGRESS) {
        x_finish(x, MLINK_ECONNECT);
        return;
    }
    x->ev_wr = event_new(tl_worker->base, fd, EV_WRITE | EV_PERSIST, x_on_writable, x);
    event_add(x->ev_wr, NULL);
}

static void x_after_resolve(mlx_t *x) {
    if (x->dns_failed)
        x_finish(x, MLINK_ECONNECT);
    else
        x_connect(x);
}

static void x_on_resolved(int err, struct evutil_addrinfo *res, void *arg) {
    if (err == EVUTIL_EAI_CANCEL) return; /* x_stop_io cancelled it and frees x itself */
    mlx_t *x = arg;
    x->dns = NULL;
    if (err || !res || res->ai_addrlen > sizeof x->addr) {
        x->dns_failed = 1;
    } else {
        memcpy(&x->addr, res->ai_addr, res->ai_addrlen);
        x->alen = (socklen_t)res->ai_addrlen;
    }
    if (res) evutil_freeaddrinfo(res);
    if (x->in_dns_call) { /* answered at once (hosts file): x_resolve goes on */
        x->dns_answered = 1;
        return;
    }
    x_after_resolve(x);
}

/* x->addr from a numeric host (IPv4 or IPv6): 1, or 0 when the host is a name. */
static int x_numeric_addr(mlx_t *x) {
    struct sockaddr_in *v4 = (struct sockaddr_in *)&x->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&x->addr;
    uint16_t port = htons((uint16_t)x->r.port);
    if (inet_pton(AF_INET, x->host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = port;
        x->alen = sizeof *v4;
    } else if (inet_pton(AF_INET6, x->host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = port;
        x->alen = sizeof *v6;
    } else {
        return 0;
    }
    return 1;
}

/* The target's address: numeric at once, else through this worker's resolver. */
static void x_resolve(mlx_t *x) {
    x->stage = X_RESOLVE;
    if (x->r.port < 0 || x->r.port > 65535) { /* no such service: Redis cannot resolve it */
        x_finish(x, MLINK_ECONNECT);
        return;
    }
    if (x_numeric_addr(x)) {
        x_connect(x);
        return;
    }
    if (!tl_dns)
        tl_dns = evdns_base_new(tl_worker->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                                      EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (!tl_dns) {
        x_finish(x, MLINK_ECONNECT);
        return;
    }
    x_touch(x);
    char port[16];
    snprintf(port, sizeof port, "%d", x->r.port);
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                    .ai_protocol = IPPROTO_TCP};
    x->in_dns_call = 1;
    struct evdns_getaddrinfo_request *q = evdns_getaddrinfo(tl_dns, x->host, port, &hints,
                                                            x_on_resolved, x);
    x->in_dns_call = 0;
    if (x->dns_answered)
        x_after_resolve(x);
    else
        x->dns = q;
}

/* ---- starting ----------------------------------------------------------------------- */

void mlink_start(mlink_req_t *req) {
    mlx_t *x = df_calloc(sizeof *x);
    x->r = *req;
    memset(&req->auth, 0, sizeof req->auth);
    memset(&req->body, 0, sizeof req->body);
    x->host = df_malloc(req->hostlen + 1);
    memcpy(x->host, req->host, req->hostlen);
    x->host[req->hostlen] = '\0';
    x->r.host = x->host;
    x->name = df_malloc(req->hostlen + 16);
    snprintf(x->name, req->hostlen + 16, "%s:%d", x->host, req->port);
    struct event_base *base = tl_worker->base;
    x->ev_to = evtimer_new(base, x_on_timeout, x);
    x->ev_done = evtimer_new(base, x_on_done, x);
    x->next = tl_live;
    if (tl_live) tl_live->prev = x;
    tl_live = x;
    x->link = cache_take(x->name);
    if (x->link) {
        x->cached = 1;
        x_begin_write(x);
        return;
    }
    x_new_link(x);
    x_resolve(x);
}

void mlink_abort_all(void) {
    for (mlx_t *x = tl_live; x; x = x->next)
        x_finish(x, x->stage == X_READ ? MLINK_EREAD : MLINK_EWRITE);
}

void mlink_worker_exit(void) {
    while (tl_live) {
        mlx_t *x = tl_live;
        x_stop_io(x);
        x_release_link(x, 0);
        x_free(x);
    }
    while (tl_ncache) cache_remove(tl_ncache - 1);
    if (tl_dns) evdns_base_free(tl_dns, 0);
    tl_dns = NULL;
}
