/*
 * tracking.c: the shard side of client-side caching (see tracking.h): the per-shard table of
 * remembered keys, the per-worker copies of the BCAST prefixes, and the per-thread outbox of
 * invalidation records sent at the end of each event-loop iteration.
 *
 * The table of a shard is a core table (table.c: no rehash spike) of entries whose key is the
 * tracked key (any db: Redis's table ignores the db too) and whose value is
 *   uint32 n, uint32 cap, then cap x { uint64 client id, uint16 its worker }.
 * Everything here runs on the shard's (the worker's) own thread.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "config.h"
#include "table.h"
#include "tracking_int.h"
#include "util.h"
#include "worker.h"

#define TRK_REF 10       /* bytes of one remembered client: id, worker */
#define TRK_HEAD 8       /* n, cap */
#define TRK_DEDUP_MAX 64 /* BCAST keys of one push checked for repeats */

typedef struct track_shard {
    table_t *keys;
    int evict_rounds; /* consecutive limit checks that stayed over (more effort each time) */
} track_shard_t;

/* Per shard, read by INFO from any thread; written by the owner only. */
typedef struct track_count {
    _Alignas(64) atomic_long keys;
    atomic_long items;
} track_count_t;

track_thread_t *tracking__threads;
atomic_long tracking__nclients;
static track_count_t *track_counts;
static atomic_long track_nprefixes; /* distinct prefixes in worker 0's copy */

_Thread_local track_cur_t tracking__cur;
_Thread_local int tracking__pending;

typedef struct track_msg {
    msg_t m;
    rbuf_t recs;
} track_msg_t;

void tracking_init(void) {
    tracking__threads = calloc((size_t)g_nworkers, sizeof *tracking__threads);
    for (int i = 0; i < g_nworkers; i++)
        tracking__threads[i].out = calloc((size_t)g_nworkers, sizeof(rbuf_t));
    track_counts = aligned_alloc(64, (size_t)g_nshards * sizeof *track_counts);
    memset(track_counts, 0, (size_t)g_nshards * sizeof *track_counts);
}

track_thread_t *tracking__me(void) { return &tracking__threads[tl_worker->id]; }

static void track_counts_add(shard_t *s, long keys, long items) {
    track_count_t *c = &track_counts[s->id];
    atomic_store_explicit(&c->keys, atomic_load_explicit(&c->keys, memory_order_relaxed) + keys,
                          memory_order_relaxed);
    atomic_store_explicit(&c->items, atomic_load_explicit(&c->items, memory_order_relaxed) + items,
                          memory_order_relaxed);
}

static track_shard_t *track_shard(shard_t *s) {
    if (!s->track) {
        s->track = df_calloc(sizeof(track_shard_t));
        s->track->keys = table_new();
    }
    return s->track;
}

/* ------------------------------------------------------------------------------------ */
/* Outbox                                                                                 */

void tracking__put_key(rbuf_t *b, uint64_t writer, const char *key, size_t klen) {
    uint32_t len = (uint32_t)klen;
    rbuf_append(b, &writer, sizeof writer);
    rbuf_append(b, &len, sizeof len);
    rbuf_append(b, key, klen);
}

void tracking__out(int w, const track_rec_t *h, const void *body, size_t blen) {
    rbuf_t *b = &tracking__me()->out[w];
    rbuf_append(b, h, sizeof *h);
    rbuf_append(b, body, blen);
    tracking__pending = 1;
}

/* A default-mode invalidation of one key for client (id, worker). */
static void track_out_key(uint64_t id, int worker, uint64_t writer, const char *key, size_t klen) {
    track_rec_t h = {.kind = TREC_KEYS, .nkeys = 1, .target = id};
    rbuf_t *b = &tracking__me()->out[worker];
    rbuf_append(b, &h, sizeof h);
    tracking__put_key(b, writer, key, klen);
    tracking__pending = 1;
}

/* 1 if the body of n keys already holds key (the writer of a repeat becomes unknown: 0, so
   NOLOOP never hides a change another client made too). */
static int track_body_has(rbuf_t *b, uint32_t n, uint64_t writer, const char *key, size_t klen) {
    size_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t w;
        uint32_t len;
        memcpy(&w, b->data + off, 8);
        memcpy(&len, b->data + off + 8, 4);
        if (len == klen && memcmp(b->data + off + 12, key, klen) == 0) {
            if (w != writer) memset(b->data + off, 0, 8);
            return 1;
        }
        off += 12 + len;
    }
    return 0;
}

/* A BCAST key for client (id, worker): gathered into one push per client and iteration. */
static void track_pend_key(uint64_t id, int worker, uint64_t writer, const char *key, size_t klen) {
    track_thread_t *tt = tracking__me();
    track_pend_t *p = NULL;
    for (int i = tt->npend - 1; i >= 0 && !p; i--)
        if (tt->pend[i].id == id) p = &tt->pend[i];
    if (!p) {
        if (tt->npend == tt->cappend) {
            tt->cappend = tt->cappend ? tt->cappend * 2 : 8;
            tt->pend = df_realloc(tt->pend, (size_t)tt->cappend * sizeof *tt->pend);
            memset(tt->pend + tt->npend, 0, (size_t)(tt->cappend - tt->npend) * sizeof *tt->pend);
        }
        p = &tt->pend[tt->npend++];
        p->id = id;
        p->worker = worker;
        p->nkeys = 0;
        p->keys.len = 0;
    }
    if (p->nkeys <= TRK_DEDUP_MAX && track_body_has(&p->keys, p->nkeys, writer, key, klen)) return;
    tracking__put_key(&p->keys, writer, key, klen);
    p->nkeys++;
    tracking__pending = 1;
}

static void track_msg_run(msg_t *m) {
    track_msg_t *t = (track_msg_t *)m;
    tracking__deliver(t->recs.data, t->recs.len);
    rbuf_free(&t->recs);
    df_free(t);
}

/* Send (or deliver here) what was gathered: at the end of each loop iteration and before
   this thread writes any reply to a socket (conn_flush, handoff), each message pushed at once
   and run by its target before that target reads another request (worker_send_now). So a
   client that saw the reply of a write and then sends a request to a tracking client's
   connection gets the invalidation first, as in Redis. Deliveries here may add records
   (forwards to REDIRECT clients, broken-redirect notes): loop until none are left. */
void tracking__flush(void) {
    track_thread_t *tt = tracking__me();
    int me = tl_worker->id;
    while (tracking__pending) {
        tracking__pending = 0;
        for (int i = 0; i < tt->npend; i++) {
            track_pend_t *p = &tt->pend[i];
            track_rec_t h = {.kind = TREC_BCAST, .nkeys = p->nkeys, .target = p->id};
            tracking__out(p->worker, &h, p->keys.data, p->keys.len);
            if (p->keys.cap > 64 * 1024) rbuf_free(&p->keys);
        }
        tt->npend = 0;
        for (int w = 0; w < g_nworkers; w++) {
            if (!tt->out[w].len) continue;
            rbuf_t recs = tt->out[w];
            memset(&tt->out[w], 0, sizeof tt->out[w]);
            if (atomic_load(&g_workers[w].clients_closed)) { /* shutting down: no one to tell */
                rbuf_free(&recs);
                continue;
            }
            if (w == me) {
                tracking__deliver(recs.data, recs.len);
                rbuf_free(&recs);
                continue;
            }
            track_msg_t *m = df_malloc(sizeof *m);
            m->m.fn = track_msg_run;
            m->recs = recs;
            worker_send_now(w, &m->m); /* there before any reply this thread writes later */
        }
    }
}

void tracking_worker_exit(void) {
    if (!tracking__threads || !tl_worker) return;
    tracking__deliver_exit();
    track_thread_t *tt = tracking__me();
    for (int w = 0; w < g_nworkers; w++) rbuf_free(&tt->out[w]);
    for (int i = 0; i < tt->cappend; i++) rbuf_free(&tt->pend[i].keys);
    df_free(tt->pend);
    tt->pend = NULL;
    tt->npend = tt->cappend = 0;
    for (int i = 0; i < tt->npfx; i++) {
        df_free(tt->pfx[i].p);
        df_free(tt->pfx[i].refs);
    }
    df_free(tt->pfx);
    tt->pfx = NULL;
    tt->npfx = tt->cappfx = 0;
    df_free(tt->map);
    tt->map = NULL;
    tt->mapcap = tt->mapn = 0;
}

/* ------------------------------------------------------------------------------------ */
/* The shard's table of remembered keys                                                   */

static uint32_t trk_u32(const entry_t *e, int i) {
    uint32_t v;
    memcpy(&v, entry_cval(e) + 4 * i, 4);
    return v;
}

static void trk_set_u32(entry_t *e, int i, uint32_t v) { memcpy(entry_val(e) + 4 * i, &v, 4); }

static track_ref_t trk_ref(const entry_t *e, uint32_t i) {
    const char *p = entry_cval(e) + TRK_HEAD + (size_t)i * TRK_REF;
    track_ref_t r;
    uint16_t w;
    memcpy(&r.id, p, 8);
    memcpy(&w, p + 8, 2);
    r.worker = w;
    return r;
}

static void trk_set_ref(entry_t *e, uint32_t i, uint64_t id, int worker) {
    char *p = entry_val(e) + TRK_HEAD + (size_t)i * TRK_REF;
    uint16_t w = (uint16_t)worker;
    memcpy(p, &id, 8);
    memcpy(p + 8, &w, 2);
}

static size_t trk_entry_size(size_t klen, uint32_t cap) {
    return entry_alloc_size(klen, TRK_HEAD + (size_t)cap * TRK_REF, 0);
}

static entry_t *trk_entry_new(const char *key, size_t klen, uint32_t cap) {
    entry_t *e = df_malloc(trk_entry_size(klen, cap));
    memset(e, 0, sizeof *e);
    e->klen = (uint32_t)klen;
    e->vlen = TRK_HEAD + cap * TRK_REF;
    memcpy(e->data, key, klen);
    trk_set_u32(e, 0, 0);
    trk_set_u32(e, 1, cap);
    return e;
}

/* Remember that client (id, worker) read key on s. */
static void track_remember(shard_t *s, const char *key, size_t klen, uint64_t id, int worker) {
    track_shard_t *ts = track_shard(s);
    uint64_t h = table_hash(key, klen);
    table_slot_t *slot = table_find(ts->keys, h, key, klen);
    entry_t *e;
    if (!slot) {
        e = trk_entry_new(key, klen, 1);
        slot = table_insert(ts->keys, h, e);
        track_counts_add(s, 1, 0);
    } else {
        e = slot_entry(*slot);
    }
    uint32_t n = trk_u32(e, 0), cap = trk_u32(e, 1);
    for (uint32_t i = 0; i < n; i++)
        if (trk_ref(e, i).id == id) return;
    if (n == cap) {
        cap *= 2;
        e = df_realloc(e, trk_entry_size(klen, cap));
        e->vlen = TRK_HEAD + cap * TRK_REF;
        trk_set_u32(e, 1, cap);
        table_slot_set(ts->keys, slot, e);
    }
    trk_set_ref(e, n, id, worker);
    trk_set_u32(e, 0, n + 1);
    track_counts_add(s, 0, 1);
}

/* Send the invalidation of the entry at slot to every client it remembers, and forget it. */
static void track_invalidate_slot(shard_t *s, table_slot_t *slot, uint64_t writer) {
    entry_t *e = slot_entry(*slot);
    uint32_t n = trk_u32(e, 0);
    for (uint32_t i = 0; i < n; i++) {
        track_ref_t r = trk_ref(e, i);
        track_out_key(r.id, r.worker, writer, entry_key(e), e->klen);
    }
    table_erase(s->track->keys, slot);
    df_free(e);
    track_counts_add(s, -1, -(long)n);
}

/* tracking-table-max-keys, shared out evenly between the shards (0: no limit). */
static size_t track_shard_limit(void) {
    int64_t max = g_config.tracking_table_max_keys;
    if (max <= 0) return 0;
    size_t per = (size_t)max / (size_t)g_nshards;
    return per ? per : 1;
}

/* Over the limit: invalidate random keys, more of them each time the last call could not
   get under it (Redis's effort rule), and return. */
static void track_enforce_limit(shard_t *s) {
    track_shard_t *ts = s->track;
    size_t limit = track_shard_limit();
    if (!ts || !limit || table_size(ts->keys) <= limit) {
        if (ts) ts->evict_rounds = 0;
        return;
    }
    for (int effort = 100 * (ts->evict_rounds + 1); effort > 0; effort--) {
        table_slot_t *slot = table_random(ts->keys, util_rand64());
        if (!slot) break;
        track_invalidate_slot(s, slot, 0);
        if (table_size(ts->keys) <= limit) {
            ts->evict_rounds = 0;
            return;
        }
    }
    ts->evict_rounds++;
}

void tracking__begin(shard_t *s, const conn_t *c, int worker, int read) {
    uint64_t id = c ? c->id : 0;
    (void)s;
    tracking__cur.writer = id; /* even before s tracks anything: a script's own read may
                                  start s's table and its later write must skip a NOLOOP
                                  client */
    if (read) {
        tracking__cur.reader = id;
        tracking__cur.reader_worker = worker;
    }
}

/* Remember the keys (of those on s) a read-only command read for the current reader. */
static void track_remember_cmd(shard_t *s, const cmd_t *cmd, int argc, const dfm_str_t *argv,
                               const int *keys, int nk) {
    int stack[16];
    int *own = NULL;
    if (!keys) {
        own = argc <= 16 ? stack : df_malloc(sizeof(int) * (size_t)argc);
        nk = dispatch_keys(cmd, argc, argv, own, argc);
        keys = own;
    }
    for (int i = 0; i < nk; i++) {
        const dfm_str_t *k = &argv[keys[i]];
        if (own && db_shard_of(k->ptr, k->len) != s->id) continue;
        track_remember(s, k->ptr, k->len, tracking__cur.reader, tracking__cur.reader_worker);
    }
    if (own && own != stack) df_free(own);
    track_enforce_limit(s);
}

void tracking_end(shard_t *s, const cmd_t *cmd, int argc, const dfm_str_t *argv, const int *keys,
                  int nk) {
    /* a read-only script (EVAL_RO, FCALL_RO: no mandatory keys) is tracked by the keys its
       calls read (tracking_inner_read), not by the keys it declares, as Redis */
    if (tracking__cur.reader && (cmd->flags & CMD_READONLY) && !(cmd->flags & CMD_NO_MANDATORY_KEYS))
        track_remember_cmd(s, cmd, argc, argv, keys, nk);
    tracking__cur.writer = tracking__cur.reader = 0;
}

void tracking_inner_remember(shard_t *s, const cmd_t *cmd, int argc, const dfm_str_t *argv,
                             const int *keys, int nk) {
    track_remember_cmd(s, cmd, argc, argv, keys, nk);
}

void tracking__modified(shard_t *s, const char *key, size_t klen) {
    track_shard_t *ts = s->track;
    uint64_t writer = tracking__cur.writer;
    if (table_size(ts->keys)) {
        table_slot_t *slot = table_find(ts->keys, table_hash(key, klen), key, klen);
        if (slot) track_invalidate_slot(s, slot, writer);
    }
    track_thread_t *tt = tracking__me();
    for (int i = 0; i < tt->npfx; i++) {
        track_prefix_t *p = &tt->pfx[i];
        if (p->len > klen || memcmp(p->p, key, p->len) != 0) continue;
        for (int j = 0; j < p->n; j++) track_pend_key(p->refs[j].id, p->refs[j].worker, writer, key, klen);
    }
}

void tracking_shard_flush(shard_t *s) {
    track_shard_t *ts = s->track;
    if (ts && table_size(ts->keys)) {
        db_release_table(ts->keys);
        ts->keys = table_new();
        track_count_t *c = &track_counts[s->id];
        atomic_store_explicit(&c->keys, 0, memory_order_relaxed);
        atomic_store_explicit(&c->items, 0, memory_order_relaxed);
    }
    /* Every flush (FLUSHDB, FLUSHALL, memcached's flush_all, a replica's full sync) empties
       all shards, the last one last in a transaction's ascending order: from there on no
       read can find what was flushed, so the null invalidations go now. */
    if (s->id == g_nshards - 1) tracking_flushed();
}

void tracking_cron(worker_t *w) {
    for (int i = w->id; i < g_nshards; i += g_nworkers)
        if (g_shards[i].track) track_enforce_limit(&g_shards[i]);
}

/* ------------------------------------------------------------------------------------ */
/* BCAST prefixes: every worker keeps a copy (changed by messages from the clients' threads) */

void tracking__prefix_add(const char *p, size_t len, uint64_t id, int worker) {
    track_thread_t *tt = tracking__me();
    track_prefix_t *x = NULL;
    for (int i = 0; i < tt->npfx && !x; i++)
        if (tt->pfx[i].len == len && memcmp(tt->pfx[i].p, p, len) == 0) x = &tt->pfx[i];
    if (!x) {
        if (tt->npfx == tt->cappfx) {
            tt->cappfx = tt->cappfx ? tt->cappfx * 2 : 4;
            tt->pfx = df_realloc(tt->pfx, (size_t)tt->cappfx * sizeof *tt->pfx);
        }
        x = &tt->pfx[tt->npfx++];
        memset(x, 0, sizeof *x);
        x->p = df_malloc(len ? len : 1);
        memcpy(x->p, p, len);
        x->len = len;
        if (tl_worker->id == 0) atomic_fetch_add(&track_nprefixes, 1);
    }
    for (int i = 0; i < x->n; i++)
        if (x->refs[i].id == id) return;
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 2;
        x->refs = df_realloc(x->refs, (size_t)x->cap * sizeof *x->refs);
    }
    x->refs[x->n++] = (track_ref_t){id, worker};
    for (int i = tl_worker->id; i < g_nshards; i += g_nworkers) track_shard(&g_shards[i]);
}

void tracking__prefix_drop(uint64_t id) {
    track_thread_t *tt = tracking__me();
    for (int i = 0; i < tt->npfx;) {
        track_prefix_t *x = &tt->pfx[i];
        for (int j = 0; j < x->n;) {
            if (x->refs[j].id == id)
                x->refs[j] = x->refs[--x->n];
            else
                j++;
        }
        if (x->n) {
            i++;
            continue;
        }
        df_free(x->p);
        df_free(x->refs);
        memmove(x, x + 1, (size_t)(tt->npfx - i - 1) * sizeof *x);
        tt->npfx--;
        if (tl_worker->id == 0) atomic_fetch_sub(&track_nprefixes, 1);
    }
}

/* ------------------------------------------------------------------------------------ */
/* INFO and shutdown                                                                      */

long tracking_clients(void) { return atomic_load(&tracking__nclients); }

void tracking_totals(long long *keys, long long *items, long long *prefixes) {
    *keys = *items = 0;
    for (int i = 0; track_counts && i < g_nshards; i++) {
        *keys += atomic_load_explicit(&track_counts[i].keys, memory_order_relaxed);
        *items += atomic_load_explicit(&track_counts[i].items, memory_order_relaxed);
    }
    *prefixes = atomic_load(&track_nprefixes);
}

static void track_free_entry(entry_t *e, void *arg) {
    (void)arg;
    df_free(e);
}

void tracking_free_all(void) {
    for (int i = 0; g_shards && i < g_nshards; i++) {
        track_shard_t *ts = g_shards[i].track;
        if (!ts) continue;
        table_free(ts->keys, track_free_entry, NULL);
        df_free(ts);
        g_shards[i].track = NULL;
    }
    for (int i = 0; tracking__threads && i < g_nworkers; i++) free(tracking__threads[i].out);
    free(tracking__threads);
    tracking__threads = NULL;
    free(track_counts);
    track_counts = NULL;
}
