/*
 * metrics.c: the Prometheus endpoint (--metrics-port): GET /metrics over HTTP, in the text
 * exposition format 0.0.4 (`# HELP`, `# TYPE`, `name{labels} value`).
 *
 * Where it runs: a thread of its own with its own event_base and libevent's evhttp, so an
 * HTTP client (slow, malformed, or many of them) never costs a shard thread anything but
 * one short message per scrape. What it reads, and from where:
 *   - what INFO already reads from any thread (worker counters, command counters, memory,
 *     clients) it reads the same way, through info.c's functions;
 *   - the shards' numbers (keys, hits, misses, expired and evicted keys) may be read only by
 *     their owners, so a scrape travels as one message from worker 0 to worker N-1, each
 *     adding its own shards' numbers (info_shards_add, as INFO's phase does), and the last
 *     worker hands it back through a lock-free stack and an eventfd. The HTTP reply waits
 *     for that (evhttp's deferred reply); the metrics thread never waits for a worker.
 * Shutdown: metrics_stop runs before the workers stop, answers the scrapes still away, then
 * ends the thread.
 */
#include "metrics.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "alloc.h"
#include "block.h"
#include "config.h"
#include "db.h"
#include "dispatch.h"
#include "info.h"
#include "log.h"
#include "server.h"
#include "util.h"
#include "worker.h"

#define METRICS_MAX_FDS 16
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One scrape in flight: the request to answer and the shards' numbers gathered for it. */
typedef struct metrics_scrape {
    struct metrics_scrape *next; /* on metrics.done */
    struct evhttp_request *req;
    info_shards_t *shards;
} metrics_scrape_t;

static struct {
    struct event_base *base;
    struct evhttp *http;
    struct event *ev_done;
    int efd; /* rung by the last worker of a scrape */
    pthread_t tid;
    int running;
    _Atomic(metrics_scrape_t *) done; /* scrapes back from the workers */
    atomic_int stopping;
    int inflight; /* scrapes away on the workers (metrics thread only) */
} metrics = {.efd = -1};

/* ------------------------------------------------------------------------------------ */
/* Rendering (metrics thread)                                                             */

static void metrics_family(struct evbuffer *b, const char *name, const char *type, const char *help) {
    evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The process-wide numbers and the shards' sums: one sample per family. */
static void metrics_scalars(struct evbuffer *b, const info_shards_t *st) {
    worker_stats_t w;
    info_worker_totals(&w);
    int64_t up = (util_now_ms() - g_server.start_ms) / 1000;
    const struct {
        const char *name, *type, *help;
        uint64_t v;
    } m[] = {
        {"dragonfly_uptime_seconds", "gauge", "Seconds since the server started.", (uint64_t)up},
        {"dragonfly_used_memory_bytes", "gauge", "Heap bytes in use (INFO used_memory).",
         df_heap_allocated()},
        {"dragonfly_used_memory_rss_bytes", "gauge", "Resident set size of the process.",
         df_rss_bytes()},
        {"dragonfly_max_memory_bytes", "gauge", "The maxmemory limit; 0 means none.",
         (uint64_t)g_config.maxmemory},
        {"dragonfly_connected_clients", "gauge", "Clients connected.",
         (uint64_t)atomic_load(&g_nclients)},
        {"dragonfly_blocked_clients", "gauge", "Clients waiting in a blocking command.",
         (uint64_t)block_count()},
        {"dragonfly_commands_processed_total", "counter", "Commands run.", server_total_commands()},
        {"dragonfly_connections_received_total", "counter", "Connections accepted.", w.conns_received},
        {"dragonfly_rejected_connections_total", "counter", "Connections refused at maxclients.",
         w.rejected_conns},
        {"dragonfly_keyspace_hits_total", "counter", "Key lookups that found the key.", st->hits},
        {"dragonfly_keyspace_misses_total", "counter", "Key lookups that found no key.", st->misses},
        {"dragonfly_expired_keys_total", "counter", "Keys removed because their TTL passed.",
         st->expired},
        {"dragonfly_evicted_keys_total", "counter", "Keys evicted at maxmemory.", st->evicted},
        {"dragonfly_net_input_bytes_total", "counter", "Bytes read from clients.", w.net_in},
        {"dragonfly_net_output_bytes_total", "counter", "Bytes written to clients.", w.net_out},
        {"dragonfly_error_replies_total", "counter", "Error replies sent.", info_total_error_replies()},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        metrics_family(b, m[i].name, m[i].type, m[i].help);
        evbuffer_add_printf(b, "%s %llu\n", m[i].name, (unsigned long long)m[i].v);
    }
}

/* Per database that holds keys: its key count, or (expiring) its keys with a TTL. */
static void metrics_keyspace(struct evbuffer *b, const info_shards_t *st, int expiring) {
    const char *name = expiring ? "dragonfly_db_keys_expiring" : "dragonfly_db_keys";
    metrics_family(b, name, "gauge", expiring ? "Keys with a TTL, per database." : "Keys per database.");
    for (int d = 0; d < st->ndbs; d++)
        if (st->keys[d])
            evbuffer_add_printf(b, "%s{db=\"%d\"} %llu\n", name, d,
                                (unsigned long long)(expiring ? st->expires[d] : st->keys[d]));
}

/* s as a label value: Prometheus escapes backslash, double quote and newline. */
static void metrics_label(struct evbuffer *b, const char *s) {
    for (; *s; s++) {
        if (*s == '\\' || *s == '"') evbuffer_add(b, "\\", 1);
        if (*s == '\n')
            evbuffer_add(b, "\\n", 2);
        else
            evbuffer_add(b, s, 1);
    }
}

/* One sample of command c (if INFO commandstats lists it): calls, or (duration) seconds. */
static void metrics_command(struct evbuffer *b, const cmd_t *c, int duration) {
    cmd_stats_t t;
    if (!info_cmd_totals(c, &t)) return;
    evbuffer_add_printf(b, "%s{cmd=\"", duration ? "dragonfly_commands_duration_seconds_total"
                                                 : "dragonfly_commands_total");
    metrics_label(b, c->fullname ? c->fullname : c->name);
    if (duration)
        evbuffer_add_printf(b, "\"} %.6f\n", (double)util_cycles_to_us(t.usec) / 1e6);
    else
        evbuffer_add_printf(b, "\"} %llu\n", (unsigned long long)t.calls);
}

/* INFO commandstats as two families, one sample per command (and subcommand) that ran. */
static void metrics_commands(struct evbuffer *b, int duration) {
    if (duration)
        metrics_family(b, "dragonfly_commands_duration_seconds_total", "counter",
                       "Seconds spent running the command.");
    else
        metrics_family(b, "dragonfly_commands_total", "counter", "Calls of the command.");
    for (int i = 0; i < dispatch_count(); i++) {
        const cmd_t *c = dispatch_at(i);
        metrics_command(b, c, duration);
        for (int s = 0; s < c->nsubs; s++) metrics_command(b, c->subs[s], duration);
    }
}

static void metrics_render(struct evbuffer *b, const info_shards_t *st) {
    metrics_scalars(b, st);
    metrics_keyspace(b, st, 0);
    metrics_keyspace(b, st, 1);
    metrics_commands(b, 0);
    metrics_commands(b, 1);
}

/* ------------------------------------------------------------------------------------ */
/* A scrape's trip over the workers                                                       */

/* Wake the metrics thread (any thread). */
static void metrics_ring(void) {
    uint64_t one = 1;
    ssize_t n = write(metrics.efd, &one, sizeof one);
    (void)n;
}

/* A message on each worker in turn: add its shards' numbers to the scrape, then pass the
   scrape to the next worker, or hand it back to the metrics thread after the last. */
static void metrics_gather(void *arg) {
    metrics_scrape_t *sc = arg;
    int w = tl_worker->id;
    for (int s = 0; s < g_nshards; s++)
        if (g_shards[s].owner == w) info_shards_add(sc->shards, &g_shards[s]);
    if (w + 1 < g_nworkers) {
        worker_post(w + 1, metrics_gather, sc);
        return;
    }
    LIFO_PUSH(metrics_scrape_t, &metrics.done, sc, sc);
    metrics_ring();
}

/* Answer a gathered scrape and free it (metrics thread). */
static void metrics_reply(metrics_scrape_t *sc) {
    struct evbuffer *b = evbuffer_new();
    metrics_render(b, sc->shards);
    evhttp_add_header(evhttp_request_get_output_headers(sc->req), "Content-Type", METRICS_CONTENT_TYPE);
    evhttp_send_reply(sc->req, HTTP_OK, "OK", b); /* frees the request if its client left */
    evbuffer_free(b);
    info_shards_free(sc->shards);
    df_free(sc);
    metrics.inflight--;
}

/* The eventfd: answer every scrape that came back; leave the loop once stopping and none
   is away any more. */
static void metrics_on_done(evutil_socket_t fd, short what, void *arg) {
    (void)what, (void)arg;
    uint64_t v;
    ssize_t n = read(fd, &v, sizeof v);
    (void)n;
    metrics_scrape_t *sc = LIFO_TAKE_ALL(metrics_scrape_t, &metrics.done);
    while (sc) {
        metrics_scrape_t *next = sc->next;
        metrics_reply(sc);
        sc = next;
    }
    if (atomic_load(&metrics.stopping) && metrics.inflight == 0) event_base_loopbreak(metrics.base);
}

/* GET /metrics (evhttp answers other paths with 404): send the scrape on its trip. HEAD
   gets the headers at once (evhttp would send a body). */
static void metrics_on_request(struct evhttp_request *req, void *arg) {
    (void)arg;
    if (atomic_load(&metrics.stopping)) {
        evhttp_send_error(req, HTTP_SERVUNAVAIL, "shutting down");
        return;
    }
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", METRICS_CONTENT_TYPE);
        evhttp_send_reply(req, HTTP_OK, "OK", NULL);
        return;
    }
    metrics_scrape_t *sc = df_calloc(sizeof *sc);
    sc->req = req;
    sc->shards = info_shards_new();
    metrics.inflight++;
    worker_post(0, metrics_gather, sc);
}

/* ------------------------------------------------------------------------------------ */
/* Start and stop                                                                         */

static void *metrics_main(void *arg) {
    (void)arg;
    event_base_dispatch(metrics.base);
    return NULL;
}

/* The event base, the eventfd and the HTTP server on the n listening sockets (owned from
   here on). -1 if libevent fails (the sockets are closed). */
static int metrics_setup(const int *fds, int n) {
    metrics.base = event_base_new();
    metrics.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    metrics.http = metrics.base ? evhttp_new(metrics.base) : NULL;
    if (!metrics.http || metrics.efd < 0) {
        for (int i = 0; i < n; i++) close(fds[i]);
        return -1;
    }
    metrics.ev_done = event_new(metrics.base, metrics.efd, EV_READ | EV_PERSIST, metrics_on_done, NULL);
    event_add(metrics.ev_done, NULL);
    evhttp_set_allowed_methods(metrics.http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_timeout(metrics.http, 30);
    evhttp_set_max_headers_size(metrics.http, 16384);
    evhttp_set_max_body_size(metrics.http, 4096);
    evhttp_set_cb(metrics.http, "/metrics", metrics_on_request, NULL);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (rc == 0 && evhttp_accept_socket_with_handle(metrics.http, fds[i]) != NULL) continue;
        close(fds[i]);
        rc = -1;
    }
    return rc;
}

int metrics_start(void) {
    int port = (int)g_config.metrics_port, fds[METRICS_MAX_FDS];
    if (port <= 0) return 0;
    int n = server_listen_plain(port, "metrics HTTP", fds, METRICS_MAX_FDS);
    if (n <= 0) {
        if (n == 0) log_error("No address to listen on for the metrics port %d", port);
        return -1;
    }
    atomic_init(&metrics.done, NULL);
    atomic_init(&metrics.stopping, 0);
    if (metrics_setup(fds, n) < 0 || pthread_create(&metrics.tid, NULL, metrics_main, NULL) != 0) {
        log_error("Could not start the metrics HTTP server on port %d", port);
        return -1;
    }
    metrics.running = 1;
    log_notice("Serving Prometheus metrics on port %d, path /metrics", port);
    return 0;
}

void metrics_stop(void) {
    if (!metrics.running) return;
    atomic_store(&metrics.stopping, 1);
    metrics_ring();
    pthread_join(metrics.tid, NULL);
    metrics.running = 0;
    evhttp_free(metrics.http);
    event_free(metrics.ev_done);
    event_base_free(metrics.base);
    close(metrics.efd);
}
