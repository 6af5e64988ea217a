/*
 * block.c: clients parked by blocking commands (see block.h).
 *
 * Life of a wait (a block_wait_t, "W"):
 *   1. A handler (or a multi command's reply step) finds nothing to serve and calls
 *      api->block_on_keys: W is created with a copy of the arguments and left in the ctx.
 *   2. On the client's thread the core attaches W (block_attach): the client stops processing
 *      input, a timer starts, and W is registered on the shard of each of its keys, in a FIFO
 *      list per key. Registration then tries to serve W at once, which closes the window
 *      between the handler's look and the registration.
 *   3. A write that may serve waiters calls signal_key_ready; after the command the shard walks
 *      that key's FIFO: each W is claimed with a CAS (0 waiting -> 1 serving), its on_ready
 *      runs on the shard's thread writing into W's own reply buffer, and if it served, W is
 *      done (2) and travels back to the client's thread; if not, W goes back to waiting.
 *   4. Timeout, CLIENT UNBLOCK and disconnect also claim W; only one path ever finishes it.
 *      Every shard holding W drops it by message; W is freed when the last reference goes.
 */
#include "master.h"
#include "block.h"

#include <event2/event.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "reply.h"
#include "server.h"
#include "tx.h"
#include "util.h"

#define BLOCK_BUCKETS 256

enum { W_WAITING = 0, W_SERVING = 1, W_DONE = 2 };

typedef struct block_wait {
    msg_t m;
    _Atomic int state;
    _Atomic int refs;
    conn_t *c;
    int worker;
    int db, resp;
    int argc;
    dfm_str_t *argv; /* argv and bytes in one block */
    int nkeys;
    int *keys;
    dfm_unblock_fn on_ready;
    int64_t timeout_ms;
    int64_t deadline_ms; /* when the timeout fires (0 = never), for a rerun's new wait */
    struct event *timer;
    int rerun; /* on_ready said DFM_UNBLOCK_RERUN: no reply, run the command again */
    rbuf_t out;
} block_wait_t;

typedef struct block_entry {
    struct block_entry *next;
    uint64_t hash;
    int db;
    size_t len;
    char *key;
    int n, cap;
    block_wait_t **waits;
} block_entry_t;

typedef struct ready_key {
    int db;
    size_t len;
    char *key;
} ready_key_t;

typedef struct block_table {
    block_entry_t *b[BLOCK_BUCKETS];
    int nready, capready;
    ready_key_t *ready; /* keys signalled since the last block_process_ready */
} block_table_t;

static atomic_long block_blocked;

long block_count(void) { return atomic_load(&block_blocked); }

static void wait_release(block_wait_t *w) {
    if (atomic_fetch_sub(&w->refs, 1) != 1) return;
    rbuf_free(&w->out);
    df_free(w->argv);
    df_free(w->keys);
    df_free(w);
}

static int wait_claim(block_wait_t *w) {
    int expect = W_WAITING;
    return atomic_compare_exchange_strong(&w->state, &expect, W_SERVING);
}

/* --- creation (any thread, inside a command) ------------------------------------------ */

int block_can_block(const dfm_ctx_t *ctx) {
    /* the AOF loader's client never blocks (Redis: CLIENT_DENY_BLOCKING): nothing would wake it */
    return !(ctx->tx && tx_is_exec(ctx->tx)) && ctx->client && !(ctx->client->born & CONN_AOF);
}

void block_on_keys(dfm_ctx_t *ctx, const int *keys, int nkeys, int64_t timeout_ms,
                   dfm_unblock_fn on_ready) {
    if (!block_can_block(ctx) || nkeys <= 0) {
        reply_null_array(ctx); /* inside MULTI a blocking command does not block */
        return;
    }
    block_wait_t *w = df_calloc(sizeof *w);
    size_t bytes = (size_t)ctx->argc * sizeof(dfm_str_t);
    for (int i = 0; i < ctx->argc; i++) bytes += ctx->argv[i].len + 1;
    w->argv = df_malloc(bytes);
    char *p = (char *)(w->argv + ctx->argc);
    for (int i = 0; i < ctx->argc; i++) {
        memcpy(p, ctx->argv[i].ptr, ctx->argv[i].len);
        p[ctx->argv[i].len] = '\0';
        w->argv[i].ptr = p;
        w->argv[i].len = ctx->argv[i].len;
        p += ctx->argv[i].len + 1;
    }
    w->argc = ctx->argc;
    w->keys = df_malloc(sizeof(int) * (size_t)nkeys);
    memcpy(w->keys, keys, sizeof(int) * (size_t)nkeys);
    w->nkeys = nkeys;
    w->on_ready = on_ready;
    conn_t *rc = ctx->client; /* read on its own thread only (a rerun's reply step runs there) */
    if (ctx->client_worker == tl_worker->id && rc->rerun_deadline_ms > 0) {
        /* a re-run command blocks again: only what was left of its wait */
        int64_t left = rc->rerun_deadline_ms - util_now_ms();
        timeout_ms = left > 0 ? left : 1;
    }
    w->timeout_ms = timeout_ms;
    w->deadline_ms = timeout_ms > 0 ? util_now_ms() + timeout_ms : 0;
    w->c = ctx->client;
    w->worker = ctx->client_worker;
    w->db = ctx->db;
    w->resp = ctx->resp;
    atomic_init(&w->refs, 1);
    ctx->blocked = 1;
    ctx->block = w;
}

/* --- per-shard tables (shard thread) --------------------------------------------------- */

static block_entry_t **entry_slot(block_table_t *t, int db, const char *key, size_t len, uint64_t h) {
    block_entry_t **pp = &t->b[h % BLOCK_BUCKETS];
    while (*pp && !((*pp)->hash == h && (*pp)->db == db && (*pp)->len == len &&
                    memcmp((*pp)->key, key, len) == 0))
        pp = &(*pp)->next;
    return pp;
}

static void entry_remove_at(block_entry_t **pp, block_entry_t *e, int i) {
    wait_release(e->waits[i]);
    memmove(&e->waits[i], &e->waits[i + 1], sizeof(*e->waits) * (size_t)(e->n - i - 1));
    e->n--;
    if (e->n == 0) {
        *pp = e->next;
        df_free(e->key);
        df_free(e->waits);
        df_free(e);
    }
}

static void block_finish(block_wait_t *w);

/* Try to serve waiters of one key, FIFO. Stops at the first that could not be served. The
   entry is looked up again after each serve: finishing a wait may unregister it inline. */
static void block_serve_key(shard_t *s, int db, const char *key, size_t len) {
    block_table_t *t = s->block;
    if (!t) return;
    if (tx_key_busy(s, db, key, len)) { /* inside a transaction: served when it unlocks */
        block_signal_key(s, db, key, len);
        return;
    }
    uint64_t h = table_hash(key, len);
    int i = 0;
    for (;;) {
        block_entry_t **pp = entry_slot(t, db, key, len, h);
        block_entry_t *e = *pp;
        if (!e || i >= e->n) return;
        block_wait_t *w = e->waits[i];
        if (atomic_load(&w->state) == W_DONE) {
            entry_remove_at(pp, e, i);
            continue;
        }
        if (!wait_claim(w)) {
            i++;
            continue;
        }
        dfm_ctx_t ctx = {.out = &w->out, .shard = s, .resp = w->resp, .db = db,
                         .argc = w->argc, .argv = w->argv, .client = w->c,
                         .client_worker = w->worker};
        dfm_str_t k = {key, len};
        int served = w->on_ready(&ctx, &k, w->argc, w->argv);
        if (!served) {
            w->out.len = 0;
            atomic_store(&w->state, W_WAITING);
            return;
        }
        int rerun = w->rerun = served == DFM_UNBLOCK_RERUN;
        if (!rerun) master_journal_cmd(s->id, db, w->argc, w->argv); /* replays unblocked */
        if (rerun) w->out.len = 0;
        atomic_store(&w->state, W_DONE);
        atomic_fetch_add(&w->refs, 1);
        entry_remove_at(pp, e, i);
        block_finish(w); /* w may be gone after this */
        if (rerun) return; /* the command signals the key again if it leaves elements */
    }
}

void block_signal_key(shard_t *s, int db, const char *key, size_t len) {
    block_table_t *t = s->block;
    if (!t) return; /* nobody ever blocked on this shard */
    for (int i = 0; i < t->nready; i++)
        if (t->ready[i].db == db && t->ready[i].len == len && memcmp(t->ready[i].key, key, len) == 0)
            return;
    if (t->nready == t->capready) {
        t->capready = t->capready ? t->capready * 2 : 8;
        t->ready = df_realloc(t->ready, sizeof(*t->ready) * (size_t)t->capready);
    }
    t->ready[t->nready].db = db;
    t->ready[t->nready].len = len;
    t->ready[t->nready].key = df_memdup(key, len);
    t->nready++;
}

/* SWAPDB gave db of shard s other contents: every key of db with waiters may now serve them
   (served by the next block_process_ready; a waiter whose key is still empty keeps waiting). */
void block_signal_db(shard_t *s, int db) {
    block_table_t *t = s->block;
    if (!t) return;
    for (int b = 0; b < BLOCK_BUCKETS; b++)
        for (block_entry_t *e = t->b[b]; e; e = e->next)
            if (e->db == db) block_signal_key(s, db, e->key, e->len);
}

/* Serve the waiters of every key signalled so far, oldest signal first. A key that a
   transaction holds is signalled again (block_serve_key) and served when it unlocks. */
void block_process_ready(shard_t *s) {
    block_table_t *t = s->block;
    if (!t || t->nready == 0) return;
    int n = t->nready;
    ready_key_t *keys = t->ready;
    t->ready = NULL;
    t->nready = t->capready = 0;
    for (int i = 0; i < n; i++) {
        block_serve_key(s, keys[i].db, keys[i].key, keys[i].len);
        df_free(keys[i].key);
    }
    df_free(keys);
}

/* --- registration and removal (messages to shards) ------------------------------------ */

typedef struct block_msg {
    msg_t m;
    block_wait_t *w;
    int shard;
} block_msg_t;

static void block_register_here(block_wait_t *w, shard_t *s) {
    if (!s->block) s->block = df_calloc(sizeof(block_table_t));
    block_table_t *t = s->block;
    for (int i = 0; i < w->nkeys; i++) {
        const dfm_str_t *k = &w->argv[w->keys[i]];
        if (db_shard_of(k->ptr, k->len) != s->id) continue;
        block_entry_t **pp = entry_slot(t, w->db, k->ptr, k->len, table_hash(k->ptr, k->len));
        block_entry_t *e = *pp;
        if (!e) {
            e = df_calloc(sizeof *e);
            e->hash = table_hash(k->ptr, k->len);
            e->db = w->db;
            e->len = k->len;
            e->key = df_memdup(k->ptr, k->len);
            *pp = e;
        }
        if (e->n == e->cap) {
            e->cap = e->cap ? e->cap * 2 : 4;
            e->waits = df_realloc(e->waits, sizeof(*e->waits) * (size_t)e->cap);
        }
        e->waits[e->n++] = w;
        atomic_fetch_add(&w->refs, 1);
    }
    /* A push may have landed between the command's look and now. */
    for (int i = 0; i < w->nkeys && atomic_load(&w->state) == W_WAITING; i++) {
        const dfm_str_t *k = &w->argv[w->keys[i]];
        if (db_shard_of(k->ptr, k->len) == s->id) block_serve_key(s, w->db, k->ptr, k->len);
    }
}

static void block_on_register(msg_t *m) {
    block_msg_t *bm = (block_msg_t *)m;
    if (atomic_load(&bm->w->state) != W_DONE) block_register_here(bm->w, &g_shards[bm->shard]);
    wait_release(bm->w);
    df_free(bm);
}

static void block_unregister_here(block_wait_t *w, shard_t *s) {
    block_table_t *t = s->block;
    if (!t) return;
    for (int i = 0; i < w->nkeys; i++) {
        const dfm_str_t *k = &w->argv[w->keys[i]];
        if (db_shard_of(k->ptr, k->len) != s->id) continue;
        block_entry_t **pp = entry_slot(t, w->db, k->ptr, k->len, table_hash(k->ptr, k->len));
        block_entry_t *e = *pp;
        for (int j = 0; e && j < e->n; j++) {
            if (e->waits[j] != w) continue;
            entry_remove_at(pp, e, j);
            break;
        }
    }
}

static void block_on_unregister(msg_t *m) {
    block_msg_t *bm = (block_msg_t *)m;
    block_unregister_here(bm->w, &g_shards[bm->shard]);
    wait_release(bm->w);
    df_free(bm);
}

/* Send fn to every shard that holds one of w's keys (inline for our own shards). */
static void block_each_shard(block_wait_t *w, msg_fn fn) {
    /* Our own reference for the walk: fn runs inline for our shards, and registering there
       may serve w at once and drop every other reference. */
    atomic_fetch_add(&w->refs, 1);
    for (int s = 0; s < g_nshards; s++) {
        int has = 0;
        for (int i = 0; i < w->nkeys && !has; i++)
            has = db_shard_of(w->argv[w->keys[i]].ptr, w->argv[w->keys[i]].len) == s;
        if (!has) continue;
        block_msg_t *bm = df_malloc(sizeof *bm);
        bm->m.fn = fn;
        bm->w = w;
        bm->shard = s;
        atomic_fetch_add(&w->refs, 1);
        if (g_shards[s].owner == tl_worker->id)
            fn(&bm->m);
        else
            worker_send(g_shards[s].owner, &bm->m);
    }
    wait_release(w);
}

/* --- the client's side ------------------------------------------------------------------ */

/* W is done: on the client's thread, hand its reply to the client and clean up. */
static void block_on_done(msg_t *m) {
    block_wait_t *w = (block_wait_t *)m;
    conn_t *c = w->c;
    if (w->timer) {
        event_free(w->timer);
        w->timer = NULL;
    }
    if (c && c->blocked == (struct block_wait *)w) {
        c->blocked = NULL;
        c->flags &= ~CONN_BLOCKED;
        atomic_fetch_sub(&block_blocked, 1);
        if (w->rerun)
            conn_rerun(c, w->argc, w->argv, w->deadline_ms);
        else
            rbuf_append(&c->obuf, w->out.data, w->out.len);
        block_each_shard(w, block_on_unregister);
        wait_release(w); /* the client's reference */
        conn_resume(c);
    }
    wait_release(w); /* the reference block_finish took */
}

static void block_finish(block_wait_t *w) {
    w->m.fn = block_on_done;
    if (w->worker == tl_worker->id)
        block_on_done(&w->m);
    else
        worker_send(w->worker, &w->m);
}

/* Claim w from the client's side (timeout, unblock); retried while a shard is serving it. */
static int block_claim_local(block_wait_t *w) {
    for (int spin = 0; spin < 1000; spin++) {
        if (wait_claim(w)) return 1;
        if (atomic_load(&w->state) == W_DONE) return 0;
    }
    return 0;
}

static void block_on_timeout(evutil_socket_t fd, short what, void *arg) {
    (void)fd, (void)what;
    block_wait_t *w = arg;
    if (!block_claim_local(w)) {
        if (atomic_load(&w->state) != W_DONE) {
            struct timeval tv = {0, 1000};
            evtimer_add(w->timer, &tv);
        }
        return;
    }
    dfm_ctx_t ctx = {.out = &w->out, .resp = w->resp};
    reply_null_array(&ctx);
    atomic_store(&w->state, W_DONE);
    atomic_fetch_add(&w->refs, 1);
    block_on_done(&w->m);
}

void block_attach(conn_t *c, void *wp) {
    block_wait_t *w = wp;
    c->blocked = (struct block_wait *)w;
    c->flags |= CONN_BLOCKED;
    atomic_fetch_add(&block_blocked, 1);
    if (w->timeout_ms > 0) {
        w->timer = evtimer_new(c->w->base, block_on_timeout, w);
        struct timeval tv = {(time_t)(w->timeout_ms / 1000), (suseconds_t)((w->timeout_ms % 1000) * 1000)};
        evtimer_add(w->timer, &tv);
    }
    block_each_shard(w, block_on_register);
}

void block_drop(void *wp) { wait_release(wp); }

void block_cancel(conn_t *c) {
    block_wait_t *w = (block_wait_t *)c->blocked;
    if (!w) return;
    c->blocked = NULL;
    c->flags &= ~CONN_BLOCKED;
    atomic_fetch_sub(&block_blocked, 1);
    if (w->timer) {
        event_free(w->timer);
        w->timer = NULL;
    }
    while (!block_claim_local(w) && atomic_load(&w->state) == W_SERVING) {
    }
    atomic_store(&w->state, W_DONE);
    w->c = NULL;
    block_each_shard(w, block_on_unregister);
    wait_release(w);
}

int block_unblock(conn_t *c, int with_error) {
    block_wait_t *w = (block_wait_t *)c->blocked;
    if (!w || !block_claim_local(w)) return 0;
    dfm_ctx_t ctx = {.out = &w->out, .resp = w->resp};
    if (with_error)
        reply_error(&ctx, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
    else
        reply_null_array(&ctx);
    atomic_store(&w->state, W_DONE);
    atomic_fetch_add(&w->refs, 1);
    block_on_done(&w->m);
    return 1;
}

void block_shard_free(shard_t *s) {
    block_table_t *t = s->block;
    if (!t) return;
    for (int b = 0; b < BLOCK_BUCKETS; b++) {
        for (block_entry_t *e = t->b[b], *n; e; e = n) {
            n = e->next;
            for (int i = 0; i < e->n; i++) wait_release(e->waits[i]);
            df_free(e->key);
            df_free(e->waits);
            df_free(e);
        }
    }
    for (int i = 0; i < t->nready; i++) df_free(t->ready[i].key);
    df_free(t->ready);
    df_free(t);
    s->block = NULL;
}

void block_cron(worker_t *w) { (void)w; }
