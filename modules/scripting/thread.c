/*
 * thread.c: each worker thread's scripting state (its Lua states and script cache), created on
 * the thread's first script and freed at shutdown. Only the owning thread touches it while the
 * server runs, so nothing here takes a lock. Also sc_retire, the grace period that frees what
 * other threads may still be reading (the functions registry's old snapshots).
 */
#include <lauxlib.h>
#include <stdatomic.h>

#include "functions.h"

static sc_thread_t *sc_threads[SC_MAX_THREADS];

/* This worker thread's state; creates it (and its Lua state) on first use. */
sc_thread_t *sc_thread(void) {
    int id = sc_api->thread_id();
    if (id < 0 || id >= SC_MAX_THREADS) id = 0; /* not a worker: never happens for commands */
    sc_thread_t *t = sc_threads[id];
    if (t) return t;
    t = sc_api->alloc(sizeof *t);
    *t = (sc_thread_t){.id = id, .nbuckets = 64};
    t->buckets = sc_api->alloc(t->nbuckets * sizeof *t->buckets);
    for (size_t i = 0; i < t->nbuckets; i++) t->buckets[i] = NULL;
    sc_rand_seed(t, 0); /* math.random before any math.randomseed */
    t->L = sc_env_new(t);
    sc_threads[id] = t;
    return t;
}

/* A fresh Lua state (SCRIPT FLUSH: the old scripts' functions and globals go with it). */
void sc_thread_reset_lua(sc_thread_t *t) {
    lua_close(t->L);
    t->L = sc_env_new(t);
}

/* Main thread, after every worker stopped. */
void sc_shutdown(void) {
    sc_reg_shutdown();
    for (int i = 0; i < SC_MAX_THREADS; i++) {
        sc_thread_t *t = sc_threads[i];
        if (!t) continue;
        sc_cache_flush(t);
        lua_close(t->L);
        if (t->fL) lua_close(t->fL);
        if (t->pending) sc_api->free(t->pending); /* a reply whose conversion raised */
        if (t->argv) sc_api->free(t->argv);
        sc_api->free(t->buckets);
        sc_api->free(t);
        sc_threads[i] = NULL;
    }
}

/* A pointer waiting for every worker to run a post sent after it was unpublished. */
typedef struct sc_retired {
    atomic_int left;
    void *p;
    void (*fn)(void *);
} sc_retired_t;

static void sc_retire_step(void *arg) {
    sc_retired_t *r = arg;
    if (atomic_fetch_sub(&r->left, 1) != 1) return;
    r->fn(r->p);
    sc_api->free(r);
}

void sc_retire(void *p, void (*fn)(void *)) {
    int n = sc_api->num_threads();
    sc_retired_t *r = sc_api->alloc(sizeof *r);
    atomic_init(&r->left, n);
    r->p = p;
    r->fn = fn;
    for (int i = 0; i < n; i++) sc_api->post(i, sc_retire_step, r);
}
