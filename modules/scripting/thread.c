/*
 * thread.c: each worker thread's scripting state (its Lua state and script cache), created on
 * the thread's first script and freed at shutdown. Only the owning thread touches it while the
 * server runs, so nothing here takes a lock.
 */
#include <lauxlib.h>

#include "scripting.h"

#define SC_MAX_THREADS 256

static sc_thread_t *sc_threads[SC_MAX_THREADS];

/* This worker thread's state; creates it (and its Lua state) on first use. */
sc_thread_t *sc_thread(void) {
    int id = sc_api->thread_id();
    if (id < 0 || id >= SC_MAX_THREADS) id = 0; /* not a worker: never happens for commands */
    sc_thread_t *t = sc_threads[id];
    if (t) return t;
    t = sc_api->alloc(sizeof *t);
    t->run = NULL;
    t->nbuckets = 64;
    t->count = 0;
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
    for (int i = 0; i < SC_MAX_THREADS; i++) {
        sc_thread_t *t = sc_threads[i];
        if (!t) continue;
        sc_cache_flush(t);
        lua_close(t->L);
        sc_api->free(t->buckets);
        sc_api->free(t);
        sc_threads[i] = NULL;
    }
}
