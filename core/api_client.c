/*
 * api_client.c: the ABI 1.5 services for modules that keep state per client and talk to
 * clients outside a command's reply (the pubsub module): client slots, pub/sub counts,
 * push contexts, and each_thread (a function run on every worker thread for one command).
 *
 * Threads: everything here runs on the calling client's own thread, except each_thread's
 * `each`, which runs on every worker thread in turn (its own message on each).
 */
#include <stdatomic.h>
#include <string.h>

#include "alloc.h"
#include "api.h"
#include "config.h"
#include "conn.h"
#include "fanout.h"
#include "glob.h"
#include "log.h"
#include "notify.h"

int api_register_publish_hook(dfm_module_t *m, dfm_publish_hook_fn hook) {
    if (api_check_open(m, "register_publish_hook")) return -1;
    if (g_notify_publish) {
        log_error("module %s: a keyspace-event publisher is registered already",
                  api_module_name(m));
        return -1;
    }
    g_notify_publish = hook;
    return 0;
}

int api_register_client_slot(dfm_module_t *m, dfm_client_release_fn release, int *slot) {
    if (api_check_open(m, "register_client_slot")) return -1;
    int i = conn_slot_register(release);
    if (i < 0) {
        log_error("module %s: no client slot left (%d in all)", api_module_name(m), CONN_SLOTS);
        return -1;
    }
    *slot = i;
    return 0;
}

/* The client of ctx if the calling thread is its own and it is not closing (a transaction
   may still run for a client that closed: its slots were released already), else NULL. */
dfm_client_t *api_client(dfm_ctx_t *ctx) {
    conn_t *c = ctx ? ctx->conn : NULL;
    return c && tl_worker && c->w == tl_worker && !(c->flags & CONN_CLOSING) ? (dfm_client_t *)c
                                                                             : NULL;
}

void *api_client_get(dfm_client_t *c, int slot) {
    return slot >= 0 && slot < CONN_SLOTS ? ((conn_t *)c)->slots[slot] : NULL;
}

void api_client_set(dfm_client_t *c, int slot, void *data) {
    if (slot >= 0 && slot < CONN_SLOTS) ((conn_t *)c)->slots[slot] = data;
}

void api_client_set_pubsub(dfm_client_t *cl, int channels, int patterns, int shard_channels) {
    conn_t *c = (conn_t *)cl;
    c->nsub = channels;
    c->npsub = patterns;
    c->nssub = shard_channels;
}

dfm_ctx_t *api_client_context(dfm_client_t *c) { return conn_push_ctx((conn_t *)c); }

int api_thread_id(void) { return tl_worker ? tl_worker->id : -1; }

int api_num_threads(void) { return g_nworkers > 0 ? g_nworkers : (int)g_config.threads; }

/* ---------------------------------------------------------------- each_thread */

/* One each_thread call: the module's functions and argument, and how many threads still
   hold the argument (fire-and-forget form). */
typedef struct each_call {
    dfm_each_thread_fn each;
    dfm_each_done_fn done;
    void (*free_result)(void *);
    void *arg;
    void (*free_arg)(void *);
    void **results; /* fan-out form: one per thread, owned by done once it ran */
    int done_ran;
    atomic_int refs; /* fire-and-forget form */
} each_call_t;

typedef struct each_msg {
    msg_t m;
    each_call_t *e;
} each_msg_t;

static void each_call_free(each_call_t *e) {
    if (e->results && !e->done_ran && e->free_result)
        for (int i = 0; i < g_nworkers; i++)
            if (e->results[i]) e->free_result(e->results[i]);
    df_free(e->results);
    if (e->free_arg) e->free_arg(e->arg);
    df_free(e);
}

static void each_call_unref(each_call_t *e) {
    if (atomic_fetch_sub(&e->refs, 1) == 1) each_call_free(e);
}

/* Fan-out form: runs on every worker; the result travels back as a pointer. */
static void each_on_worker(worker_t *w, rbuf_t *out, void *arg) {
    each_call_t *e = arg;
    (void)out; /* the result goes to e->results[w->id]: each thread writes its own */
    e->results[w->id] = e->each(w->id, e->arg);
}

static void each_done(dfm_ctx_t *ctx, rbuf_t *parts, int n, void *arg) {
    (void)parts;
    each_call_t *e = arg;
    conn_take_pushes(ctx->conn, 1); /* a message this command published to its own client
                                       goes first, as in Redis */
    e->done_ran = 1;
    e->done(ctx, e->results, n, e->arg);
}

/* Fire-and-forget form, on a remote thread. */
static void each_remote(msg_t *m) {
    each_msg_t *em = (each_msg_t *)m;
    each_call_t *e = em->e;
    void *r = e->each(tl_worker->id, e->arg);
    if (r && e->free_result) e->free_result(r);
    df_free(em);
    each_call_unref(e);
}

/* Inside EXEC (or without a client, or without done) nothing may wait for other threads:
   run here now, send the others their call without waiting, reply (done) with this thread's
   result only. */
static void each_without_waiting(dfm_ctx_t *ctx, each_call_t *e) {
    /* off a worker thread (me = -1) every worker gets a message, none runs here */
    int n = g_nworkers > 0 ? g_nworkers : 1, me = tl_worker ? tl_worker->id : -1;
    atomic_init(&e->refs, me < 0 ? n + 1 : n);
    for (int i = 0; i < n && g_nworkers > 0; i++) {
        if (i == me) continue;
        each_msg_t *em = df_malloc(sizeof *em);
        em->m.fn = each_remote;
        em->e = e;
        worker_send_now(i, &em->m); /* same path as api_post: one sender's order holds */
    }
    void *mine = me >= 0 ? e->each(me, e->arg) : NULL;
    if (e->done) {
        void **results = df_calloc(sizeof(void *) * (size_t)n);
        if (me >= 0) results[me] = mine;
        e->done(ctx, results, n, e->arg);
        df_free(results);
    } else if (mine && e->free_result) {
        e->free_result(mine);
    }
    each_call_unref(e);
}

void api_each_thread(dfm_ctx_t *ctx, dfm_each_thread_fn each, dfm_each_done_fn done,
                     void (*free_result)(void *), void *arg, void (*free_arg)(void *)) {
    each_call_t *e = df_calloc(sizeof *e);
    e->each = each;
    e->done = done;
    e->free_result = free_result;
    e->arg = arg;
    e->free_arg = free_arg;
    if (!done || !ctx || ctx->tx || !api_client(ctx) || g_nworkers <= 0) {
        each_without_waiting(ctx, e);
        return;
    }
    e->results = df_calloc(sizeof(void *) * (size_t)g_nworkers);
    fanout_run(ctx, each_on_worker, each_done, e, (void (*)(void *))each_call_free);
}

/* ---------------------------------------------------------------- post, shutdown */

void api_post(int thread, void (*fn)(void *arg), void *arg) {
    if (thread >= 0 && thread < g_nworkers) worker_post_now(thread, fn, arg);
}

#define API_MAX_SHUTDOWN 32
static void (*api_shutdown[API_MAX_SHUTDOWN])(void);
static int api_nshutdown;

int api_register_shutdown(dfm_module_t *m, void (*fn)(void)) {
    if (api_check_open(m, "register_shutdown")) return -1;
    if (api_nshutdown == API_MAX_SHUTDOWN) return -1;
    api_shutdown[api_nshutdown++] = fn;
    return 0;
}

void api_run_shutdown(void) {
    for (int i = api_nshutdown - 1; i >= 0; i--) api_shutdown[i]();
    api_nshutdown = 0;
}

/* ---------------------------------------------------------------- INFO pub/sub counts */

static void (*api_pubsub_stats_fn)(long long counts[3]);

int api_register_pubsub_stats(dfm_module_t *m, void (*fn)(long long counts[3])) {
    if (api_check_open(m, "register_pubsub_stats")) return -1;
    api_pubsub_stats_fn = fn;
    return 0;
}

void api_pubsub_stats(long long counts[3]) {
    counts[0] = counts[1] = counts[2] = 0;
    if (api_pubsub_stats_fn) api_pubsub_stats_fn(counts);
}
