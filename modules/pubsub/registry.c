/*
 * registry.c: who is subscribed to what.
 *
 * ps_threads[t] is worker thread t's registry, allocated by that thread on its first
 * subscription and freed by it when its last subscription goes (there is no module exit
 * hook, so nothing may outlive the clients). Only thread t reads or writes ps_threads[t]:
 * subscriptions change on the client's own thread, and deliveries and PUBSUB's gathering run
 * on each thread through api->each_thread.
 *
 * A client's own subscriptions live in its slot (ps_slot) as a ps_client_t, allocated on its
 * first subscription and freed when it has none left, or by the core's release callback when
 * the client closes or RESETs.
 */
#include <stdatomic.h>
#include <string.h>

#include "pubsub.h"

static ps_thread_t *ps_threads[PS_MAX_THREADS];

/* How many subscriptions each thread's registry holds, written by that thread only and read
   by publishers elsewhere (ps_others_idle), each on its own cache line. A subscription is
   counted before its confirmation is written, so a publisher that starts after a client saw
   its confirmation sees the count. */
static struct {
    _Alignas(64) atomic_long n[PS_NKINDS];
    atomic_long names[PS_NKINDS];
} ps_nsubs[PS_MAX_THREADS];

long ps_thread_subs(int t, int kind) {
    return t >= 0 && t < PS_MAX_THREADS ? atomic_load(&ps_nsubs[t].n[kind]) : 0;
}

long ps_thread_names(int t, int kind) {
    return t >= 0 && t < PS_MAX_THREADS ? atomic_load(&ps_nsubs[t].names[kind]) : 0;
}

/* Thread t's registry, or NULL while nothing is subscribed there. Thread t only. */
ps_thread_t *ps_thread(int t) { return t >= 0 && t < PS_MAX_THREADS ? ps_threads[t] : NULL; }

/* The calling thread's registry, created if missing. NULL off the worker threads. */
static ps_thread_t *ps_thread_get(void) {
    int t = ps_api->thread_id();
    if (t < 0 || t >= PS_MAX_THREADS) return NULL;
    if (!ps_threads[t]) {
        ps_threads[t] = ps_api->alloc(sizeof(ps_thread_t));
        memset(ps_threads[t], 0, sizeof(ps_thread_t));
    }
    return ps_threads[t];
}

/* Free the calling thread's registry once it holds nothing. */
static void ps_thread_trim(void) {
    int t = ps_api->thread_id();
    ps_thread_t *r = ps_thread(t);
    if (!r) return;
    for (int k = 0; k < PS_NKINDS; k++)
        if (r->d[k].count) return;
    ps_api->free(r);
    ps_threads[t] = NULL;
}

/* Add c to the subscribers of (kind, name) on the calling thread, after the others. */
static void ps_registry_add(int kind, const char *name, size_t len, dfm_client_t *c) {
    ps_thread_t *r = ps_thread_get();
    if (!r) return;
    int created;
    ps_entry_t *e = ps_dict_insert(&r->d[kind], name, len, &created);
    ps_subs_t *s = e->val;
    if (!s || s->n == s->cap) {
        int n = s ? s->n : 0, cap = s ? s->cap * 2 : 4;
        s = ps_api->realloc(s, sizeof *s + (size_t)cap * sizeof s->c[0]);
        s->n = n;
        s->cap = cap;
        e->val = s;
    }
    s->c[s->n++] = c;
    atomic_fetch_add(&ps_nsubs[ps_api->thread_id()].n[kind], 1);
    if (created) atomic_fetch_add(&ps_nsubs[ps_api->thread_id()].names[kind], 1);
    ps_hint_add(kind, name, len, 1);
}

/* Remove c from the subscribers of (kind, name) on the calling thread; a name left without
   subscribers leaves the registry. Keeps the others' order. */
static void ps_registry_del(int kind, const char *name, size_t len, dfm_client_t *c) {
    ps_thread_t *r = ps_thread(ps_api->thread_id());
    if (!r) return;
    ps_entry_t *e = ps_dict_find(&r->d[kind], name, len);
    if (!e) return;
    ps_subs_t *s = e->val;
    for (int i = 0; i < s->n; i++) {
        if (s->c[i] != c) continue;
        memmove(&s->c[i], &s->c[i + 1], (size_t)(s->n - i - 1) * sizeof s->c[0]);
        s->n--;
        atomic_fetch_sub(&ps_nsubs[ps_api->thread_id()].n[kind], 1);
        ps_hint_add(kind, name, len, -1);
        break;
    }
    if (s->n == 0) {
        ps_api->free(s);
        ps_dict_remove(&r->d[kind], e);
        atomic_fetch_sub(&ps_nsubs[ps_api->thread_id()].names[kind], 1);
        if (r->d[kind].count == 0) ps_hint_reset(kind);
    } else if (s->cap > 16 && s->n * 4 < s->cap) {
        s->cap /= 2;
        e->val = ps_api->realloc(s, sizeof *s + (size_t)s->cap * sizeof s->c[0]);
    }
}

/* c's subscriptions, or NULL when it has none. */
ps_client_t *ps_client_state(dfm_client_t *c) { return ps_api->client_get(c, ps_slot); }

/* The count a confirmation of kind reports: channels and patterns together, shard channels
   alone (Redis 7.0). */
int ps_count(const ps_client_t *st, int kind) {
    if (!st) return 0;
    if (kind == PS_SHARD) return (int)st->d[PS_SHARD].count;
    return (int)(st->d[PS_CHANNEL].count + st->d[PS_PATTERN].count);
}

/* Subscribe client c (on its own thread) to (kind, name). 1 if added, 0 if it already was. */
int ps_subscribe(dfm_client_t *c, int kind, const char *name, size_t len) {
    ps_client_t *st = ps_client_state(c);
    if (!st) {
        st = ps_api->alloc(sizeof *st);
        memset(st, 0, sizeof *st);
        ps_api->client_set(c, ps_slot, st);
    }
    int created;
    ps_dict_insert(&st->d[kind], name, len, &created);
    if (created) ps_registry_add(kind, name, len, c);
    return created;
}

/* Unsubscribe client c (on its own thread) from (kind, name). 1 if it was subscribed. The
   client's state stays allocated until ps_client_sync. */
int ps_unsubscribe(dfm_client_t *c, int kind, const char *name, size_t len) {
    ps_client_t *st = ps_client_state(c);
    ps_entry_t *e = st ? ps_dict_find(&st->d[kind], name, len) : NULL;
    if (!e) return 0;
    ps_registry_del(kind, name, len, c);
    ps_dict_remove(&st->d[kind], e);
    return 1;
}

/* After changing c's subscriptions: tell the core the counts (subscribed mode, CLIENT LIST),
   and free the client's state and the thread's registry if they are now empty. */
void ps_client_sync(dfm_client_t *c) {
    ps_client_t *st = ps_client_state(c);
    int n[PS_NKINDS] = {0, 0, 0};
    if (st)
        for (int k = 0; k < PS_NKINDS; k++) n[k] = (int)st->d[k].count;
    ps_api->client_set_pubsub(c, n[PS_CHANNEL], n[PS_PATTERN], n[PS_SHARD]);
    if (st && n[0] + n[1] + n[2] == 0) {
        ps_api->client_set(c, ps_slot, NULL);
        ps_api->free(st);
        ps_thread_trim();
    }
}

/* The core's release callback (the client closes or RESETs, on its thread; the slot is
   already NULL and the core clears the counts): drop every subscription silently. */
void ps_client_release(dfm_client_t *c, void *data) {
    ps_client_t *st = data;
    for (int k = 0; k < PS_NKINDS; k++) {
        for (ps_entry_t *e = st->d[k].head; e; e = e->next) ps_registry_del(k, e->key, e->len, c);
        ps_dict_clear(&st->d[k], NULL);
    }
    ps_api->free(st);
    ps_thread_trim();
}
