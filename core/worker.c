/*
 * worker.c: worker threads, their inboxes and their periodic cron (see worker.h).
 */
#include "worker.h"

#include <errno.h>
#include <string.h>
#include <event2/event.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "alloc.h"
#include "backlog.h"
#include "log.h"
#include "conn.h"
#include "server.h"
#include "tracking.h"
#include "util.h"

worker_t *g_workers;
int g_nworkers;
_Thread_local worker_t *tl_worker;
atomic_int g_nclients;
static _Atomic uint64_t g_sent_outside; /* messages sent by threads that are not workers */

/* Count a message sent by the calling thread. */
static void worker_count_sent(void) {
    worker_t *me = tl_worker;
    if (!me) {
        atomic_fetch_add(&g_sent_outside, 1);
        return;
    }
    uint64_t n = atomic_load_explicit(&me->sent, memory_order_relaxed) + 1;
    atomic_store_explicit(&me->sent, n, memory_order_release);
}

/* Drain the inboxes: take each whole stack at once, reverse it to arrival order, run each. */
static void worker_drain(worker_t *w) {
    for (;;) {
        msg_t *m = LIFO_TAKE_ALL(msg_t, &w->inbox);
        if (!m) m = LIFO_TAKE_ALL(msg_t, &w->lazy);
        if (!m) return;
        uint64_t ran = atomic_load_explicit(&w->ran, memory_order_relaxed);
        while (m) {
            msg_t *next = m->next;
            m->fn(m);
            m = next;
            /* after fn: whatever it sent is counted before it counts as run */
            atomic_store_explicit(&w->ran, ++ran, memory_order_release);
        }
    }
}

static void worker_on_inbox(evutil_socket_t fd, short what, void *arg) {
    (void)what;
    uint64_t v;
    ssize_t n = read(fd, &v, sizeof v);
    (void)n;
    worker_drain(arg);
}

/* Wake w from its wait in epoll. */
static void worker_ring(worker_t *w) {
    uint64_t one = 1;
    ssize_t n = write(w->efd, &one, sizeof one);
    (void)n;
    if (tl_worker) tl_worker->stats.wakeups++;
}

/* Push a chain (newest first: head ... tail) onto target's inbox; ring if it sleeps. */
static void worker_push_chain(int target, msg_t *head, msg_t *tail) {
    worker_t *w = &g_workers[target];
    msg_t *old = LIFO_PUSH(msg_t, &w->inbox, head, tail);
    /* Pairs with worker_loop: either the target sees the message before it sleeps, or we
       see it sleeping and wake it (both sides use sequentially consistent operations). */
    if (old == NULL && atomic_load(&w->sleeping)) worker_ring(w);
}

void worker_post_lazy(int target, msg_t *m, atomic_int *const *wake_if, int n) {
    worker_t *w = &g_workers[target];
    worker_count_sent();
    LIFO_PUSH(msg_t, &w->lazy, m, m);
    /* Pairs with the flag setters: either the target sees the message before it sleeps, or
       we see its flag (both sides sequentially consistent). */
    if (!atomic_load(&w->sleeping)) return;
    for (int i = 0; i < n; i++) {
        if (wake_if[i] && atomic_load(wake_if[i])) {
            worker_ring(w);
            return;
        }
    }
}

void worker_send(int target, msg_t *m) {
    worker_t *me = tl_worker;
    worker_count_sent();
    if (!me || me->stopping) {
        worker_push_chain(target, m, m);
        return;
    }
    me->stats.hops++;
    m->next = me->out_head[target];
    me->out_head[target] = m;
    if (!me->out_tail[target]) me->out_tail[target] = m;
}

/* Send everything this worker queued during the iteration. */
static void worker_flush(worker_t *w) {
    for (int i = 0; i < g_nworkers; i++) {
        msg_t *head = w->out_head[i];
        if (!head) continue;
        msg_t *tail = w->out_tail[i];
        w->out_head[i] = w->out_tail[i] = NULL;
        worker_push_chain(i, head, tail);
    }
}

typedef struct bcast {
    msg_t m;
    void (*fn)(void *);
    void *arg;
} bcast_t;

static void worker_bcast_run(msg_t *m) {
    bcast_t *b = (bcast_t *)m;
    b->fn(b->arg);
    df_free(b);
}

void worker_post(int target, void (*fn)(void *arg), void *arg) {
    bcast_t *b = df_malloc(sizeof *b);
    b->m.fn = worker_bcast_run;
    b->fn = fn;
    b->arg = arg;
    worker_send(target, &b->m);
}

void worker_send_now(int target, msg_t *m) {
    worker_count_sent();
    worker_push_chain(target, m, m);
    atomic_store(&g_workers[target].urgent, 1);
}

void worker_post_now(int target, void (*fn)(void *arg), void *arg) {
    bcast_t *b = df_malloc(sizeof *b);
    b->m.fn = worker_bcast_run;
    b->fn = fn;
    b->arg = arg;
    worker_send_now(target, &b->m);
}

void worker_run_urgent(void) {
    worker_t *w = tl_worker;
    if (!w || !atomic_load_explicit(&w->urgent, memory_order_relaxed)) return;
    atomic_store(&w->urgent, 0);
    worker_drain(w);
}

void worker_broadcast(void (*fn)(void *arg), void *arg) {
    for (int i = 0; i < g_nworkers; i++) worker_post(i, fn, arg);
}

typedef struct bcast_wait {
    void (*fn)(void *);
    void *arg;
    atomic_int left;
} bcast_wait_t;

static void worker_bcast_wait_run(void *arg) {
    bcast_wait_t *b = arg;
    b->fn(b->arg);
    atomic_fetch_sub(&b->left, 1);
}

void worker_broadcast_wait(void (*fn)(void *arg), void *arg) {
    bcast_wait_t b = {fn, arg, g_nworkers};
    worker_broadcast(worker_bcast_wait_run, &b);
    while (atomic_load(&b.left) > 0) usleep(200);
}

static void worker_on_cron(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    server_worker_cron(arg);
}

int workers_create(int n) {
    g_nworkers = n;
    g_workers = calloc((size_t)n, sizeof *g_workers);
    atomic_store(&g_sent_outside, 0);
    for (int i = 0; i < n; i++) {
        worker_t *w = &g_workers[i];
        w->id = i;
        struct event_config *cfg = event_config_new();
        event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
        w->base = event_base_new_with_config(cfg);
        event_config_free(cfg);
        w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (!w->base || w->efd < 0) {
            log_error("cannot create worker %d: %s", i, errno ? strerror(errno) : "libevent");
            return -1;
        }
        atomic_init(&w->inbox, NULL);
        atomic_init(&w->lazy, NULL);
        for (int k = 0; k < WORKER_WAKE_SLOTS; k++) atomic_init(&w->handoff_wake[k], 0);
        atomic_init(&w->lock_waiters, 0);
        atomic_init(&w->sent, 0);
        atomic_init(&w->ran, 0);
        atomic_init(&w->clients_closed, 0);
        atomic_init(&w->sleeping, 1);
        w->ev_inbox = event_new(w->base, w->efd, EV_READ | EV_PERSIST, worker_on_inbox, w);
        event_add(w->ev_inbox, NULL);
        w->ev_cron = event_new(w->base, -1, EV_PERSIST, worker_on_cron, w);
    }
    return 0;
}

/* 1 if every message any thread sent has run. The run counts are read before the sent
   counts: a message running now is counted as sent before it counts as run, and so is
   anything it sends, so a message in flight can never be missed. */
static int worker_all_ran(void) {
    uint64_t ran = 0, sent = 0;
    for (int i = 0; i < g_nworkers; i++)
        ran += atomic_load_explicit(&g_workers[i].ran, memory_order_acquire);
    for (int i = 0; i < g_nworkers; i++)
        sent += atomic_load_explicit(&g_workers[i].sent, memory_order_acquire);
    sent += atomic_load(&g_sent_outside);
    return sent == ran;
}

/* 1 once the worker may leave its loop: stopping, every worker has closed its clients (so
   none sends anything new: a closing client's last messages, such as a blocked client's
   unregistering, may be for us), no client of any worker waits for a hop any more (their
   replies are dropped, but the work in flight finishes, so nothing is left half done or
   unfreed) and no message is on its way (lock releases, frees...), or two seconds have
   passed. A stopping worker looks again every half millisecond. */
static int worker_done(worker_t *w) {
    if (!w->stopping) return 0;
    if (w->stop_deadline_ms == 0) w->stop_deadline_ms = util_now_ms() + 2000;
    if (util_now_ms() > w->stop_deadline_ms) return 1;
    for (int i = 0; i < g_nworkers; i++)
        if (!atomic_load(&g_workers[i].clients_closed) || worker_awaiting(&g_workers[i]) > 0) return 0;
    return worker_all_ran();
}

/* The event loop, one batch of events at a time, with the inbox drained in between. */
static void worker_loop(worker_t *w) {
    while (!worker_done(w)) {
        worker_drain(w);
        tracking_flush();
        conn_flush_pending(w);
        worker_flush(w);
        backlog_ring_pending();
        atomic_store(&w->sleeping, 1);
        if (atomic_load(&w->inbox) != NULL || atomic_load(&w->lazy) != NULL) {
            atomic_store(&w->sleeping, 0);
            continue;
        }
        if (w->stopping) { /* waiting for the others' work to end: look again soon */
            event_base_loop(w->base, EVLOOP_NONBLOCK);
            usleep(500);
        } else {
            event_base_loop(w->base, EVLOOP_ONCE);
        }
        atomic_store(&w->sleeping, 0);
        tracking_flush();
        conn_flush_pending(w);
        worker_flush(w);
    }
    /* Let closing clients' last messages and the loop exit run. */
    tracking_flush();
    worker_flush(w);
    worker_drain(w);
    tracking_flush();
    worker_flush(w);
    event_base_loop(w->base, EVLOOP_NONBLOCK);
    backlog_ring_pending();
}

static void *worker_main(void *arg) {
    worker_t *w = arg;
    tl_worker = w;
    server_worker_init(w);
    worker_loop(w);
    server_worker_exit(w);
    return NULL;
}

int workers_start(void) {
    for (int i = 0; i < g_nworkers; i++) {
        if (pthread_create(&g_workers[i].tid, NULL, worker_main, &g_workers[i]) != 0) {
            log_error("pthread_create failed");
            return -1;
        }
    }
    return 0;
}

void workers_join(void) {
    for (int i = 0; i < g_nworkers; i++) pthread_join(g_workers[i].tid, NULL);
}

void workers_destroy(void) {
    for (int i = 0; i < g_nworkers; i++) {
        worker_t *w = &g_workers[i];
        event_free(w->ev_inbox);
        event_free(w->ev_cron);
        for (int j = 0; j < w->nlisteners; j++) event_free(w->listeners[j]);
        event_base_free(w->base);
        close(w->efd);
    }
    free(g_workers);
    g_workers = NULL;
}
