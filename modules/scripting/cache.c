/*
 * cache.c: the script cache, sha -> body, one copy per worker thread. A script new to one
 * thread (EVAL, SCRIPT LOAD) is posted to every other thread (api->post, which runs before
 * that thread reads its next request, so a client that got the reply finds the script on
 * every thread); SCRIPT FLUSH is posted the same way. Functions are compiled lazily into each
 * thread's Lua state on first use there.
 */
#include <stdatomic.h>
#include <string.h>

#include "scripting.h"

static size_t sc_hash(const char *sha) {
    size_t h = 0;
    for (int i = 0; i < 16; i++) h = h * 31 + (unsigned char)sha[i];
    return h;
}

sc_script_t *sc_cache_find(sc_thread_t *t, const char *sha) {
    for (sc_script_t *s = t->buckets[sc_hash(sha) & (t->nbuckets - 1)]; s; s = s->next)
        if (memcmp(s->sha, sha, SC_SHA_LEN) == 0) return s;
    return NULL;
}

static void sc_cache_grow(sc_thread_t *t) {
    size_t n = t->nbuckets * 2;
    sc_script_t **b = sc_api->alloc(n * sizeof *b);
    for (size_t i = 0; i < n; i++) b[i] = NULL;
    for (size_t i = 0; i < t->nbuckets; i++) {
        sc_script_t *s = t->buckets[i], *next;
        for (; s; s = next) {
            next = s->next;
            size_t h = sc_hash(s->sha) & (n - 1);
            s->next = b[h];
            b[h] = s;
        }
    }
    sc_api->free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
}

/* Add (or find) a script; the body is copied. */
sc_script_t *sc_cache_add(sc_thread_t *t, const char *sha, const char *body, size_t len) {
    sc_script_t *s = sc_cache_find(t, sha);
    if (s) return s;
    if (t->count >= t->nbuckets) sc_cache_grow(t);
    s = sc_api->alloc(sizeof *s);
    memcpy(s->sha, sha, SC_SHA_LEN + 1);
    s->body = sc_api->alloc(len + 1);
    memcpy(s->body, body, len);
    s->body[len] = '\0';
    s->len = len;
    s->compiled = 0;
    s->flags = 0;
    size_t h = sc_hash(sha) & (t->nbuckets - 1);
    s->next = t->buckets[h];
    t->buckets[h] = s;
    t->count++;
    atomic_store_explicit(&sc_pub_scripts[t->id], t->count, memory_order_relaxed);
    atomic_fetch_add_explicit(&sc_pub_script_bytes[t->id], len + sizeof *s, memory_order_relaxed);
    return s;
}

/* Drop every script of this thread (their functions stay in the Lua state until it is
   replaced: SCRIPT FLUSH does both). */
void sc_cache_flush(sc_thread_t *t) {
    for (size_t i = 0; i < t->nbuckets; i++) {
        sc_script_t *s = t->buckets[i], *next;
        for (; s; s = next) {
            next = s->next;
            sc_api->free(s->body);
            sc_api->free(s);
        }
        t->buckets[i] = NULL;
    }
    t->count = 0;
    atomic_store_explicit(&sc_pub_scripts[t->id], 0, memory_order_relaxed);
    atomic_store_explicit(&sc_pub_script_bytes[t->id], 0, memory_order_relaxed);
}

/* A message to the other threads: one copy, freed by the last thread that used it. */
typedef struct sc_post {
    atomic_int refs;
    int flush;
    char sha[SC_SHA_LEN + 1];
    size_t len;
    char body[];
} sc_post_t;

static void sc_post_run(void *arg) {
    sc_post_t *p = arg;
    sc_thread_t *t = sc_thread();
    if (p->flush) {
        sc_cache_flush(t);
        sc_thread_reset_lua(t);
    } else {
        sc_cache_add(t, p->sha, p->body, p->len);
    }
    if (atomic_fetch_sub(&p->refs, 1) == 1) sc_api->free(p);
}

/* Post p to every worker but the calling one (frees p when there is none). */
static void sc_post_others(sc_post_t *p) {
    int n = sc_api->num_threads(), self = sc_api->thread_id(), targets = 0;
    for (int i = 0; i < n; i++) targets += i != self;
    if (targets == 0) {
        sc_api->free(p);
        return;
    }
    atomic_store(&p->refs, targets);
    for (int i = 0; i < n; i++)
        if (i != self) sc_api->post(i, sc_post_run, p);
}

/* Tell the other threads about a script this thread just cached. */
void sc_cache_broadcast(const char *sha, const char *body, size_t len) {
    sc_post_t *p = sc_api->alloc(sizeof *p + len + 1);
    p->flush = 0;
    memcpy(p->sha, sha, SC_SHA_LEN + 1);
    memcpy(p->body, body, len);
    p->body[len] = '\0';
    p->len = len;
    sc_post_others(p);
}

/* SCRIPT FLUSH on the other threads. */
void sc_cache_broadcast_flush(void) {
    sc_post_t *p = sc_api->alloc(sizeof *p + 1);
    p->flush = 1;
    p->len = 0;
    sc_post_others(p);
}
