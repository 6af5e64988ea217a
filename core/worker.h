/*
 * worker.h: the thread-per-core runtime.
 *
 * N worker threads each run one libevent event_base. Threads talk only through messages:
 * worker_send() pushes onto the target's lock-free inbox (a Treiber stack the target drains
 * and reverses, so each sender's messages stay FIFO). A worker drains its inbox after every
 * batch of events, so a sender rings the target's eventfd only when the inbox was empty and
 * the target says it is going to sleep: under load, hops cost no system call. A message is a msg_t embedded at the start of a bigger struct; its fn runs
 * on the target thread and owns the message from then on (usually it sends it back).
 *
 * Shards are spread over workers (shard i belongs to worker i % N); each worker owns its
 * connections and never touches another worker's shards or connections.
 */
#ifndef DF_WORKER_H
#define DF_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct event_base;
struct event;
struct conn;

typedef struct msg msg_t;
typedef void (*msg_fn)(msg_t *m);
struct msg {
    msg_t *next;
    msg_fn fn;
};

typedef struct worker_stats {
    uint64_t conns_received;
    uint64_t commands;
    uint64_t net_in, net_out;
    uint64_t reads, writes; /* read / write calls that moved bytes (total_*_processed) */
    uint64_t rejected_conns;
    uint64_t hops;    /* messages sent to another thread */
    uint64_t wakeups; /* eventfd writes to wake a sleeping thread */
} worker_stats_t;

#define WORKER_WAKE_SLOTS 256
#define WORKER_MAX_LISTENERS 50 /* 16 addresses x (RESP + 2 protocols), the unix socket */

typedef struct worker {
    int id;
    pthread_t tid;
    struct event_base *base;
    int efd;
    struct event *ev_inbox;
    struct event *ev_cron;
    _Atomic(msg_t *) inbox;
    _Atomic(msg_t *) lazy; /* messages that need no wake-up (worker_post_lazy) */
    atomic_int sleeping; /* about to wait in epoll: senders must ring the eventfd */
    int nlisteners;
    struct event *listeners[WORKER_MAX_LISTENERS];
    int listen_fds[WORKER_MAX_LISTENERS];
    int8_t listen_kind[WORKER_MAX_LISTENERS]; /* server.c's LISTEN_* */
    struct conn *conns; /* doubly linked list of this worker's clients */
    struct conn *wq;    /* clients with replies to write at the end of the iteration */
    struct conn *closed; /* closed clients to free at the end of the iteration (conn_release) */
    int nconns;
    worker_stats_t stats;
    msg_t *out_head[256]; /* messages sent during this loop iteration, per target, newest first */
    msg_t *out_tail[256];
    int stopping;
    atomic_int clients_closed; /* stopping, and its clients are closed: it sends nothing new */
    int64_t stop_deadline_ms;
    atomic_int awaiting; /* this worker's clients waiting for a reply from another thread:
                            written by the worker only, read by others at shutdown */
    /* Clients in a reply handoff that need its message promptly, counted in slot
       (client id % WORKER_WAKE_SLOTS): the posting thread reads its client's slot (a shared
       slot only costs an unneeded wake-up). */
    atomic_int handoff_wake[WORKER_WAKE_SLOTS];
    /* Transactions queued for locks on this worker's shards (tx.c; written by the worker):
       a lazy post that releases locks here must wake it when some wait. */
    atomic_int lock_waiters;
    /* Messages this worker sent and ran (written by the worker only, release stores): at
       shutdown no worker leaves while a message is still on its way (worker_done). */
    _Atomic uint64_t sent, ran;
    /* Set by worker_post_now after its push: the worker runs its inbox before it next reads
       a client (worker_run_urgent), so what was posted before a client's request is seen
       first. Own line: written only when something is posted that way. */
    _Alignas(64) atomic_int urgent;
} worker_t;

extern worker_t *g_workers;
extern int g_nworkers;
extern _Thread_local worker_t *tl_worker;
extern atomic_int g_nclients; /* all workers */

int workers_create(int n);
int workers_start(void);
void workers_join(void);
void workers_destroy(void);
/* Add d to w->awaiting (w's own thread). */
static inline void worker_awaiting_add(worker_t *w, int d) {
    atomic_store_explicit(&w->awaiting, atomic_load_explicit(&w->awaiting, memory_order_relaxed) + d,
                          memory_order_relaxed);
}
static inline int worker_awaiting(worker_t *w) {
    return atomic_load_explicit(&w->awaiting, memory_order_relaxed);
}
/* Queue m to run m->fn on worker `target`. Any thread. From a worker thread the message
   leaves at the end of the current loop iteration, together with every other message for
   the same target (one inbox push, at most one wake-up per target and iteration). */
void worker_send(int target, msg_t *m);
/* Push m onto target's lazy inbox now (any thread). The target runs it when it next wakes,
   or before it sleeps; it is woken only if one of the n flags (may be NULL) is set when
   looked at after the push. The flags' setters, on the target's thread, set them before
   that thread's next check of its inboxes, so a message it waits for is never left behind. */
void worker_post_lazy(int target, msg_t *m, atomic_int *const *wake_if, int n);
/* Run fn(arg) on every worker (async, fire and forget; arg must outlive it). */
void worker_broadcast(void (*fn)(void *arg), void *arg);
/* Run fn(arg) on every worker and return once all have run it. Never a worker (it waits). */
void worker_broadcast_wait(void (*fn)(void *arg), void *arg);
/* Run fn(arg) on worker target, after what this thread sent it before (any thread). */
void worker_post(int target, void (*fn)(void *arg), void *arg);
/* Same, pushed onto target's inbox at once (not at the end of this iteration), and run there
   before the target next reads from a client: whatever a client learns after this call (a
   reply written later), a request it then sends to that worker comes after fn. */
void worker_post_now(int target, void (*fn)(void *arg), void *arg);
/* worker_send, pushed at once with worker_post_now's guarantee. */
void worker_send_now(int target, msg_t *m);
/* From a worker about to read a client: run what worker_post_now queued for it. */
void worker_run_urgent(void);

#endif
