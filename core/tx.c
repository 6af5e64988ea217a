/*
 * tx.c: the transaction engine (see tx.h): per-shard intent locks with a FIFO wait queue,
 * and the op runner that carries a tx from shard thread to shard thread and back to the
 * client.
 */
#include "tx.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "alloc.h"
#include "block.h"
#include "squash.h"
#include "log.h"
#include "reply.h"
#include "server.h"
#include "util.h"
#include "master.h"
#include "monitor.h"
#include "tracking.h"

#define LOCK_BUCKETS 4096 /* a power of two */

enum {
    OP_SHARD,
    OP_PHASE,
    OP_REPLY,
    OP_ORIGIN,
    OP_LOCK,
    OP_WATCHCHECK,
    OP_CROSSSLOT,
    OP_TRYLOCK, /* take a part's locks now or give up (tx_plan_short) */
    OP_AWAIT,   /* a command's asynchronous step, on the client's thread (tx_resume) */
};

enum { LOCK_NONE, LOCK_TAKE, LOCK_CHECK };

#define LOCK_KEY_INLINE 56 /* keys up to this long use recycled nodes */
#define LOCK_POOL_MAX 4096

typedef struct lock_node {
    struct lock_node *next;
    uint64_t hash;
    int db;
    int excl;   /* held exclusively */
    int shared; /* shared holders */
    size_t klen;
    char key[];
} lock_node_t;

typedef struct tx_locks {
    lock_node_t *buckets[LOCK_BUCKETS];
    int nheld;        /* key lock nodes present */
    int nexcl;        /* exclusive key holds */
    int whole_shared; /* whole-shard shared holders */
    int whole_excl;
    tx_t *qhead, *qtail; /* waiting transactions (and single-shard batches) */
    tx_t *retrying;      /* popped by shard_wake: goes back to the head if still blocked */
    int waking, rewake;
    lock_node_t *free; /* recycled nodes with room for LOCK_KEY_INLINE key bytes */
    int nfree;
} tx_locks_t;

typedef struct tx_op {
    uint8_t kind;
    uint8_t lock_first; /* before running: LOCK_TAKE its part's locks, or LOCK_CHECK that they
                           are free (OP_TRYLOCK: the same, without waiting) */
    int16_t phase;
    int shard;
    int cmd;
} tx_op_t;

typedef struct tx_cmd {
    const cmd_t *cmd;
    int argc;
    int avoff, kioff; /* argv and kidx: offsets into the tx's pools */
    int shard;        /* locked squash group: the command's shard */
    dfm_str_t *argv;
    void *state;
    int stopped;
    int nk;
    int *kidx;
    int *kshard; /* the shard of each key (after kidx in the key pool) */
    int jdb;     /* the db it ran in (the journal of a transaction, master.c) */
    uint8_t track; /* its reads are remembered for the client (tracking_read_flag) */
    uint8_t jset;  /* tx_journal_as was called: journal jargv instead */
    int jargc;
    dfm_str_t *jargv; /* df_malloc'd array (tx_journal_as), freed with the tx */
    /* a locked tx's write in journal form, rendered where it ran (tx->jr[jr_off, +jr_len),
       leaving the replica in db jr_db_after; jr_set: rendered, even if to nothing) */
    size_t jr_off, jr_len;
    int jr_db_after;
    uint8_t jr_set;
} tx_cmd_t;

typedef struct tx_part {
    int shard;
    int locked;
    int whole; /* 0 none, 1 shared, 2 exclusive */
    int n, cap;
    struct {
        int db;
        int excl;
        int hashed; /* hash is set */
        const char *key;
        size_t len;
        uint64_t hash; /* table_hash of the key, taken once (part_key_hash) */
        lock_node_t *node;
    } * keys;
} tx_part_t;

struct tx {
    msg_t m;
    tx_t *qnext;
    int origin;
    conn_t *c;
    int db, resp;
    int locking;
    int is_exec;
    const cmd_t *exec_cmd; /* EXEC's table entry, to show it to MONITOR when done */
    int aborted; /* EXEC: a watched key changed */
    int ncmds, nops, cur, nparts, nav, nki;
    int batch_shard;
    multi_state_t *ms; /* EXEC: the queued commands (owns their argument bytes) */
    int errors;
    void *block; /* a blocking command's wait, attached on delivery */
    int squash;  /* a batch of a squashed pipeline: the client reassembles the replies */
    _Atomic int refs;
    watch_state_t *watch;
    int handoff;    /* the finishing thread writes the squash group's replies to the client */
    size_t written; /* handoff: bytes it wrote */
    int wrote_all;  /* handoff: every byte of the group's replies */
    const char *in_lo, *in_hi; /* the span of the commands' argument bytes */
    int running; /* the command whose phase or reply runs now (tx_journal_as) */
    int journaled; /* a locked tx's writes are in the stream (tx_journal_after) */
    int njournal_as; /* commands with a jargv to free */
    /* Everything from here on is kept when the tx is recycled (tx_clear). */
    tx_cmd_t *cmds;
    tx_op_t *ops;
    tx_part_t *parts;
    /* Pools for the commands' argv copies and key indexes: cmds[i].argv / .kidx point into
       them. */
    dfm_str_t *av;
    int *ki;
    size_t *spans; /* squash: start and end offsets in out of each command's reply */
    int capcmds, capops, capparts, capav, capki, capspans;
    rbuf_t out; /* its length is reset */
    /* pushes the client got before a command of the tx ran on its thread (an UNSUBSCRIBE
       in EXEC): written before the reply; later ones after it */
    rbuf_t pre;
    rbuf_t jr; /* journal forms of a locked tx's writes (tx_cmd_t.jr_*); length reset */
};

static void tx_step(tx_t *t);
static void tx_after(tx_t *t, dfm_ctx_t *ctx, shard_t *s);

/* ------------------------------------------------------------------------------------ */
/* Locks                                                                                  */

void tx_shard_init(shard_t *s) { s->locks = calloc(1, sizeof(tx_locks_t)); }

void tx_shard_free(shard_t *s) {
    tx_locks_t *l = s->locks;
    while (l && l->free) {
        lock_node_t *n = l->free;
        l->free = n->next;
        df_free(n);
    }
    free(s->locks);
    s->locks = NULL;
}

static lock_node_t *lock_find(tx_locks_t *l, int db, const char *key, size_t len, uint64_t h) {
    for (lock_node_t *n = l->buckets[h & (LOCK_BUCKETS - 1)]; n; n = n->next)
        if (n->hash == h && n->db == db && n->klen == len && memcmp(n->key, key, len) == 0)
            return n;
    return NULL;
}

/* 1 if the key (whose table_hash is h) may be taken in this mode now. */
static int lock_key_free(tx_locks_t *l, int db, const char *key, size_t len, int excl,
                         uint64_t h) {
    if (l->whole_excl || (excl && l->whole_shared)) return 0;
    if (l->nheld == 0) return 1;
    lock_node_t *n = lock_find(l, db, key, len, h);
    if (!n) return 1;
    return excl ? (n->excl == 0 && n->shared == 0) : n->excl == 0;
}

static lock_node_t *lock_take(tx_locks_t *l, int db, const char *key, size_t len, int excl,
                              uint64_t h) {
    lock_node_t *n = lock_find(l, db, key, len, h);
    if (!n) {
        if (len <= LOCK_KEY_INLINE && l->free) {
            n = l->free;
            l->free = n->next;
            l->nfree--;
            n->excl = n->shared = 0;
        } else {
            n = df_calloc(sizeof *n + (len <= LOCK_KEY_INLINE ? LOCK_KEY_INLINE : len));
        }
        n->hash = h;
        n->db = db;
        n->klen = len;
        memcpy(n->key, key, len);
        n->next = l->buckets[h & (LOCK_BUCKETS - 1)];
        l->buckets[h & (LOCK_BUCKETS - 1)] = n;
        l->nheld++;
    }
    if (excl) {
        n->excl++;
        l->nexcl++;
    } else {
        n->shared++;
    }
    return n;
}

static void lock_drop(tx_locks_t *l, lock_node_t *n, int excl) {
    if (excl) {
        n->excl--;
        l->nexcl--;
    } else {
        n->shared--;
    }
    if (n->excl || n->shared) return;
    lock_node_t **pp = &l->buckets[n->hash & (LOCK_BUCKETS - 1)];
    while (*pp != n) pp = &(*pp)->next;
    *pp = n->next;
    l->nheld--;
    if (n->klen <= LOCK_KEY_INLINE && l->nfree < LOCK_POOL_MAX) {
        n->next = l->free;
        l->free = n;
        l->nfree++;
    } else {
        df_free(n);
    }
}

int tx_must_wait(shard_t *s, int db, const cmd_t *cmd, int argc, const dfm_str_t *argv) {
    tx_locks_t *l = s->locks;
    if (l->nheld == 0 && !l->whole_excl && !l->whole_shared) return 0;
    int excl = (cmd->flags & CMD_WRITE) != 0;
    if (l->whole_excl || (excl && l->whole_shared)) return 1;
    int kidx[64];
    int nk = dispatch_route_keys(cmd, argc, argv, kidx, 64);
    for (int i = 0; i < nk; i++) {
        const dfm_str_t *k = &argv[kidx[i]];
        if (!lock_key_free(l, db, k->ptr, k->len, excl, table_hash(k->ptr, k->len))) return 1;
    }
    return 0;
}

static uint64_t part_key_hash(tx_part_t *p, int i) {
    if (!p->keys[i].hashed) {
        p->keys[i].hash = table_hash(p->keys[i].key, p->keys[i].len);
        p->keys[i].hashed = 1;
    }
    return p->keys[i].hash;
}

static int part_can_lock(tx_locks_t *l, tx_part_t *p) {
    if (p->whole == 2) return l->nheld == 0 && !l->whole_excl && !l->whole_shared;
    if (p->whole == 1) return !l->whole_excl && l->nexcl == 0;
    if (l->whole_excl || l->whole_shared || l->nheld) {
        for (int i = 0; i < p->n; i++)
            if (!lock_key_free(l, p->keys[i].db, p->keys[i].key, p->keys[i].len, p->keys[i].excl,
                               part_key_hash(p, i)))
                return 0;
    }
    return 1;
}

static void part_lock(tx_locks_t *l, tx_part_t *p) {
    if (p->whole == 2) l->whole_excl++;
    if (p->whole == 1) l->whole_shared++;
    for (int i = 0; i < p->n && !p->whole; i++)
        p->keys[i].node = lock_take(l, p->keys[i].db, p->keys[i].key, p->keys[i].len,
                                    p->keys[i].excl, part_key_hash(p, i));
    p->locked = 1;
}

static void shard_wake(shard_t *s);

/* Release p's locks on s: first the clients blocked on keys the transaction made ready
   (block_serve_key keeps them for now), then the transactions waiting for the locks. */
static void part_unlock(shard_t *s, tx_part_t *p) {
    tx_locks_t *l = s->locks;
    if (!p->locked) return;
    if (p->whole == 2) l->whole_excl--;
    if (p->whole == 1) l->whole_shared--;
    for (int i = 0; i < p->n && !p->whole; i++) lock_drop(l, p->keys[i].node, p->keys[i].excl);
    p->locked = 0;
    if (s->block) block_process_ready(s);
    shard_wake(s);
}

int tx_key_busy(shard_t *s, int db, const char *key, size_t len) {
    tx_locks_t *l = s->locks;
    return !lock_key_free(l, db, key, len, 1, table_hash(key, len));
}

/* Every transaction queued for locks is counted in its thread's worker_t.lock_waiters, which
   other threads read (tx_finish_handoff). */
static void queue_push_front(tx_locks_t *l, tx_t *t) {
    atomic_fetch_add(&tl_worker->lock_waiters, 1);
    t->qnext = l->qhead;
    l->qhead = t;
    if (!l->qtail) l->qtail = t;
}

static void queue_push(tx_locks_t *l, tx_t *t) {
    if (l->retrying == t) {
        queue_push_front(l, t);
        return;
    }
    atomic_fetch_add(&tl_worker->lock_waiters, 1);
    t->qnext = NULL;
    if (l->qtail)
        l->qtail->qnext = t;
    else
        l->qhead = t;
    l->qtail = t;
}

/* Locks were released on s: let waiting transactions retry, in FIFO order, stopping at the
   first one still blocked. Not re-entered: a release during the loop just asks for another
   round. */
static void shard_wake(shard_t *s) {
    tx_locks_t *l = s->locks;
    if (l->waking) {
        l->rewake = 1;
        return;
    }
    l->waking = 1;
    do {
        l->rewake = 0;
        while (l->qhead) {
            tx_t *t = l->qhead;
            l->qhead = t->qnext;
            if (!l->qhead) l->qtail = NULL;
            atomic_fetch_sub(&tl_worker->lock_waiters, 1);
            l->retrying = t;
            tx_step(t);
            l->retrying = NULL;
            if (l->qhead == t) break; /* still blocked: it went back to the head */
        }
    } while (l->rewake && l->qhead);
    l->waking = 0;
}

/* ------------------------------------------------------------------------------------ */
/* Building                                                                               */

/*
 * Recycling: each thread keeps up to TX_POOL_MAX finished transactions, with their arrays
 * (commands, ops, parts, argument and key pools, reply buffer), for the next ones, so that in
 * the steady state a hop allocates nothing. A tx goes to the pool of the thread that drops its
 * last reference.
 */
#define TX_POOL_MAX 64
#define TX_OUT_KEEP (16 * 1024) /* a recycled tx keeps a reply buffer up to this size */

static _Thread_local tx_t *tl_pool;
static _Thread_local int tl_npool;

/* Zero a recycled tx's state, keeping its arrays and their capacities. */
static void tx_clear(tx_t *t) {
    memset(t, 0, offsetof(tx_t, cmds));
    t->out.len = 0;
    t->pre.len = 0;
    t->jr.len = 0;
}

static void tx_destroy(tx_t *t) {
    for (int i = 0; i < t->capparts; i++) df_free(t->parts[i].keys);
    df_free(t->parts);
    df_free(t->cmds);
    df_free(t->ops);
    df_free(t->av);
    df_free(t->ki);
    rbuf_free(&t->out);
    rbuf_free(&t->pre);
    rbuf_free(&t->jr);
    df_free(t->spans);
    df_free(t);
}

void tx_worker_exit(void) {
    while (tl_pool) {
        tx_t *t = tl_pool;
        tl_pool = t->qnext;
        tx_destroy(t);
    }
    tl_npool = 0;
}

static tx_t *tx_new(conn_t *c) {
    tx_t *t = tl_pool;
    if (t) {
        tl_pool = t->qnext;
        tl_npool--;
        tx_clear(t);
    } else {
        t = df_calloc(sizeof *t);
    }
    t->origin = c->w->id;
    t->c = c;
    t->db = c->db;
    t->resp = c->resp;
    atomic_init(&t->refs, 1);
    return t;
}

static tx_op_t *tx_add_op(tx_t *t, int kind, int shard, int cmd, int phase) {
    if (t->nops == t->capops) {
        t->capops = t->capops ? t->capops * 2 : 8;
        t->ops = df_realloc(t->ops, (size_t)t->capops * sizeof *t->ops);
    }
    tx_op_t *op = &t->ops[t->nops++];
    memset(op, 0, sizeof *op);
    op->kind = (uint8_t)kind;
    op->shard = shard;
    op->cmd = cmd;
    op->phase = (int16_t)phase;
    return op;
}

/* Room for n more argv entries in the pool; re-points the commands' argv if it moved. */
static void tx_av_reserve(tx_t *t, int n) {
    if (t->nav + n <= t->capav) return;
    int cap = t->capav ? t->capav : 32;
    while (cap < t->nav + n) cap *= 2;
    t->av = df_realloc(t->av, (size_t)cap * sizeof *t->av);
    t->capav = cap;
    for (int i = 0; i < t->ncmds; i++) t->cmds[i].argv = t->av + t->cmds[i].avoff;
}

static void tx_ki_reserve(tx_t *t, int n) {
    if (t->nki + n <= t->capki) return;
    int cap = t->capki ? t->capki : 32;
    while (cap < t->nki + n) cap *= 2;
    t->ki = df_realloc(t->ki, (size_t)cap * sizeof *t->ki);
    t->capki = cap;
    for (int i = 0; i < t->ncmds; i++)
        if (t->cmds[i].kidx) {
            t->cmds[i].kidx = t->ki + t->cmds[i].kioff;
            t->cmds[i].kshard = t->cmds[i].kidx + t->cmds[i].nk;
        }
}

/* Append a command; its argv array is copied (the bytes stay where they are). */
static int tx_add_cmd(tx_t *t, const cmd_t *cmd, int argc, const dfm_str_t *argv) {
    if (t->ncmds == t->capcmds) {
        t->capcmds = t->capcmds ? t->capcmds * 2 : 16;
        t->cmds = df_realloc(t->cmds, (size_t)t->capcmds * sizeof *t->cmds);
    }
    tx_av_reserve(t, argc);
    tx_cmd_t *tc = &t->cmds[t->ncmds];
    memset(tc, 0, sizeof *tc);
    tc->cmd = cmd;
    tc->argc = argc;
    tc->avoff = t->nav;
    tc->argv = t->av + t->nav;
    memcpy(tc->argv, argv, (size_t)argc * sizeof *argv);
    tc->track = t->c ? tracking_read_flag(t->c, cmd, !t->is_exec) : 0;
    for (int i = 0; i < argc; i++) { /* the span of argument bytes, for tx_prefetch_arrays */
        const char *p = argv[i].ptr;
        if (!t->in_lo || p < t->in_lo) t->in_lo = p;
        if (p + argv[i].len > t->in_hi) t->in_hi = p + argv[i].len;
    }
    t->nav += argc;
    return t->ncmds++;
}

static tx_part_t *tx_part(tx_t *t, int shard) {
    for (int i = 0; i < t->nparts; i++)
        if (t->parts[i].shard == shard) return &t->parts[i];
    if (t->nparts == t->capparts) {
        int cap = t->capparts ? t->capparts * 2 : 4;
        t->parts = df_realloc(t->parts, (size_t)cap * sizeof *t->parts);
        memset(t->parts + t->capparts, 0, (size_t)(cap - t->capparts) * sizeof *t->parts);
        t->capparts = cap;
    }
    tx_part_t *p = &t->parts[t->nparts++];
    void *keys = p->keys; /* a recycled slot keeps its array */
    int cap = p->cap;
    memset(p, 0, sizeof *p);
    p->keys = keys;
    p->cap = cap;
    p->shard = shard;
    return p;
}

/* Add a key to lock. A key that comes twice is locked twice (and released twice): harmless,
   and merging equal keys would make a long pipeline of multi-key commands quadratic. */
static void part_add_key(tx_part_t *p, int db, const char *key, size_t len, int excl) {
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 4;
        p->keys = df_realloc(p->keys, (size_t)p->cap * sizeof *p->keys);
    }
    p->keys[p->n].db = db;
    p->keys[p->n].excl = excl;
    p->keys[p->n].key = key;
    p->keys[p->n].len = len;
    p->keys[p->n].node = NULL;
    p->keys[p->n].hashed = 0;
    p->n++;
}

static int part_cmp(const void *a, const void *b) {
    return ((const tx_part_t *)a)->shard - ((const tx_part_t *)b)->shard;
}

/* Drop a reference; the last one recycles the tx into this thread's pool (or frees it). */
static void tx_free(tx_t *t) {
    if (atomic_fetch_sub(&t->refs, 1) != 1) return;
    for (int i = 0; t->njournal_as && i < t->ncmds; i++) df_free(t->cmds[i].jargv);
    if (t->watch) watch_state_release(t->watch);
    if (t->ms) multi_state_free(t->ms);
    t->watch = NULL;
    t->ms = NULL;
    if (tl_npool >= TX_POOL_MAX || !tl_worker) {
        tx_destroy(t);
        return;
    }
    if (t->out.cap > TX_OUT_KEEP) rbuf_free(&t->out);
    if (t->pre.cap > TX_OUT_KEEP) rbuf_free(&t->pre);
    if (t->jr.cap > TX_OUT_KEEP) rbuf_free(&t->jr);
    t->qnext = tl_pool;
    tl_pool = t;
    tl_npool++;
}

/* ------------------------------------------------------------------------------------ */
/* Running                                                                                */

static void tx_ctx(tx_t *t, dfm_ctx_t *ctx, shard_t *s, const cmd_t *cmd) {
    memset(ctx, 0, sizeof *ctx);
    ctx->out = &t->out;
    ctx->shard = s;
    ctx->resp = t->resp;
    ctx->db = t->db;
    ctx->cmd = cmd;
    ctx->tx = t;
    ctx->client = t->c;
    ctx->client_worker = t->origin;
}

/* Count tc's run in INFO commandstats and show it to MONITOR, SLOWLOG and LATENCY. */
static void tx_count(const tx_t *t, const tx_cmd_t *tc, int db, uint64_t t0, int errors) {
    cmd_stats_t *st = &tc->cmd->stats[tl_worker->id];
    st->calls++;
    uint64_t now = util_cycles();
    st->usec += now - t0; /* cycles; INFO converts */
    tl_cmd_clock = now;   /* the next command's start: one clock read per command */
    if (errors) st->failed++;
    monitor_observe(t->c, tc->cmd, db, tc->argc, tc->argv, now - t0);
}

/* A locked tx's write tc, just run on s (its thread): its journal form into t->jr (a
   script's effects, SPOP as SREM, relative TTLs pinned...), as Redis propagates a
   transaction's commands; nothing when it changed nothing. tx_journal sends it. */
static void tx_render(tx_t *t, tx_cmd_t *tc, shard_t *s, int db, int fx, int changed,
                      const char *reply, size_t rlen) {
    tc->jr_set = 1;
    tc->jr_off = t->jr.len;
    tc->jr_db_after = db;
    if (fx)
        master_effects_take(&t->jr, &tc->jr_db_after);
    else if (changed)
        master_journal_render(&t->jr, s, db, tc->argc, tc->argv, reply, rlen);
    tc->jr_len = t->jr.len - tc->jr_off;
}

static void tx_run_single(tx_t *t, tx_cmd_t *tc, shard_t *s) {
    dfm_ctx_t ctx;
    tx_ctx(t, &ctx, s, tc->cmd);
    ctx.argc = tc->argc;
    ctx.argv = tc->argv;
    tc->jdb = ctx.db;
    uint64_t t0 = tl_cmd_clock;
    /* journal: a plain batch's write goes out now; a locked tx's is rendered into t->jr
       and goes out with the whole tx (tx_journal) */
    int journal = __builtin_expect(master_journaling(), 0) && (tc->cmd->flags & CMD_WRITE);
    uint64_t dirty0 = journal ? atomic_load_explicit(&s->dirty, memory_order_relaxed) : 0;
    size_t out0 = ctx.out->len;
    monitor_before(t->c, tc->cmd, ctx.db, tc->argc, tc->argv);
    int fx = __builtin_expect(journal, 0) && (tc->cmd->flags & CMD_NO_MANDATORY_KEYS);
    if (fx) master_effects_begin(ctx.db); /* a script: its effects are replicated, not it */
    int trk = tracking_begin(s, t->c, t->origin, tc->track);
    if (tc->cmd->multi) {
        const dfm_multi_t *m = tc->cmd->multi;
        int kbuf[64];
        int *kidx = tc->argc <= 64 ? kbuf : df_malloc(sizeof(int) * (size_t)tc->argc);
        int nk = dispatch_keys(tc->cmd, tc->argc, tc->argv, kidx, tc->argc);
        if (nk > 1) db_prefetch_keys(s, t->db, tc->argv, kidx, nk);
        void *state = NULL;
        for (int p = 0; p < m->nphases; p++)
            if (m->phase(&ctx, p, &state, tc->argc, tc->argv, kidx, nk < 0 ? 0 : nk) < 0) break;
        m->reply(&ctx, &state, tc->argc, tc->argv);
        if (kidx != kbuf) df_free(kidx);
    } else {
        tc->cmd->handler(&ctx, tc->argc, tc->argv);
    }
    if (__builtin_expect(trk, 0)) tracking_end(s, tc->cmd, tc->argc, tc->argv, NULL, 0);
    t->errors += ctx.errors;
    tx_count(t, tc, ctx.db, t0, ctx.errors);
    if (__builtin_expect(journal, 0)) {
        int changed = atomic_load_explicit(&s->dirty, memory_order_relaxed) != dirty0;
        size_t rlen = ctx.out->len >= out0 ? ctx.out->len - out0 : 0;
        if (t->locking)
            tx_render(t, tc, s, ctx.db, fx, changed, ctx.out->data + out0, rlen);
        else if (fx)
            master_effects_end(s);
        else if (changed)
            master_journal_write(s, ctx.db, tc->argc, tc->argv, ctx.out->data + out0, rlen);
    }
    tx_after(t, &ctx, s);
}

/* 1 if tc has a key on shard `shard` (or needs every shard). */
static int tx_shard_has_keys(const tx_cmd_t *tc, int shard) {
    if (tc->cmd->flags & CMD_ALL_SHARDS) return 1;
    for (int i = 0; i < tc->nk; i++)
        if (tc->kshard[i] == shard) return 1;
    return 0;
}

/* The keys of tc that live on shard `shard` (argv indexes). */
static int tx_shard_keys(tx_cmd_t *tc, int shard, int *out) {
    int n = 0;
    for (int i = 0; i < tc->nk; i++)
        if ((tc->cmd->flags & CMD_ALL_SHARDS) || tc->kshard[i] == shard)
            out[n++] = tc->kidx[i];
    return n;
}

static void tx_run_phase(tx_t *t, tx_op_t *op, shard_t *s) {
    tx_cmd_t *tc = &t->cmds[op->cmd];
    if (tc->stopped) return;
    t->running = op->cmd;
    dfm_ctx_t ctx;
    tx_ctx(t, &ctx, s, tc->cmd);
    ctx.argc = tc->argc;
    ctx.argv = tc->argv;
    tc->jdb = ctx.db;
    int kbuf[64];
    int *keys = tc->nk < 64 ? kbuf : df_malloc(sizeof(int) * (size_t)(tc->nk + 1));
    int n = tx_shard_keys(tc, s->id, keys);
    if (op->phase == 0 && n > 1) db_prefetch_keys(s, t->db, tc->argv, keys, n);
    int trk = tracking_begin(s, t->c, t->origin, tc->track && op->phase == 0);
    if (tc->cmd->multi->phase(&ctx, op->phase, &tc->state, tc->argc, tc->argv, keys, n) < 0)
        tc->stopped = 1;
    if (__builtin_expect(trk, 0)) tracking_end(s, tc->cmd, tc->argc, tc->argv, keys, n);
    t->errors += ctx.errors;
    if (keys != kbuf) df_free(keys);
    tx_after(t, &ctx, s);
}

static void tx_run_reply(tx_t *t, tx_op_t *op) {
    tx_cmd_t *tc = &t->cmds[op->cmd];
    dfm_ctx_t ctx;
    tx_ctx(t, &ctx, NULL, tc->cmd);
    ctx.argc = tc->argc;
    ctx.argv = tc->argv;
    t->running = op->cmd;
    uint64_t t0 = tl_cmd_clock;
    tc->cmd->multi->reply(&ctx, &tc->state, tc->argc, tc->argv);
    t->errors += ctx.errors;
    tx_count(t, tc, ctx.db, t0, ctx.errors);
    tx_after(t, &ctx, NULL);
}

static void tx_run_origin(tx_t *t, tx_op_t *op) {
    tx_cmd_t *tc = &t->cmds[op->cmd];
    dfm_ctx_t ctx;
    conn_ctx(t->c, &ctx, NULL);
    ctx.out = &t->out;
    ctx.tx = t;
    ctx.db = t->db;
    ctx.cmd = tc->cmd;
    tc->jdb = t->db;
    uint64_t t0 = tl_cmd_clock;
    /* pushes so far came before this (un)subscription ran: they precede the transaction's
       reply; those after the last one follow the reply, as if the whole transaction ran at
       that point, between two messages (Redis runs it at once) */
    if (t->c->pushq.len && (tc->cmd->flags & CMD_PUBSUB) &&
        conn_pushes_may_lead(t->c)) {
        rbuf_append(&t->pre, t->c->pushq.data, t->c->pushq.len);
        t->c->pushq.len = 0;
    }
    tc->cmd->handler(&ctx, tc->argc, tc->argv);
    t->db = t->c->db; /* SELECT inside MULTI */
    tx_count(t, tc, t->db, t0, ctx.errors);
}

#define TX_PREFETCH_MAX 4096 /* bytes of each array */

static void prefetch_range(const void *p, size_t len, int write) {
    if (len > TX_PREFETCH_MAX) len = TX_PREFETCH_MAX;
    for (size_t off = 0; off < len; off += 64) {
        if (write)
            __builtin_prefetch((const char *)p + off, 1);
        else
            __builtin_prefetch((const char *)p + off, 0);
    }
}

/* A tx arriving from another thread: its arrays and the argument bytes were last written
   on another core. Start loading all of them at once instead of missing on each in turn. */
static void tx_prefetch_arrays(tx_t *t) {
    prefetch_range(t->ops + t->cur, (size_t)(t->nops - t->cur) * sizeof *t->ops, 0);
    prefetch_range(t->cmds, (size_t)t->ncmds * sizeof *t->cmds, 0);
    prefetch_range(t->av, (size_t)t->nav * sizeof *t->av, 0);
    prefetch_range(t->ki, (size_t)t->nki * sizeof *t->ki, 0);
    prefetch_range(t->parts, (size_t)t->nparts * sizeof *t->parts, 0);
    if (t->in_lo) prefetch_range(t->in_lo, (size_t)(t->in_hi - t->in_lo), 0);
    if (t->squash) prefetch_range(t->spans, 2 * sizeof(size_t) * (size_t)t->ncmds, 1);
    if (t->out.data) prefetch_range(t->out.data + t->out.len, 256, 1);
}

static void tx_on_msg(msg_t *m) {
    tx_t *t = (tx_t *)m;
    tx_prefetch_arrays(t);
    tx_step(t);
}

typedef struct unlock_msg {
    msg_t m;
    tx_t *t;
    int part;
} unlock_msg_t;

static void tx_on_unlock(msg_t *m) {
    unlock_msg_t *u = (unlock_msg_t *)m;
    tx_part_t *p = &u->t->parts[u->part];
    part_unlock(&g_shards[p->shard], p);
    tx_free(u->t);
    df_free(u);
}

static void tx_deliver(msg_t *m);

#define TX_GATHER_MAX (16 * 1024)

/* Small replies go out in one write() of a copy in buf (TX_GATHER_MAX bytes): the kernel's
   per-iovec cost is higher than the copy. 0 if they do not fit. */
static int tx_gather(struct iovec *iov, int n, char *buf) {
    if (n < 2) return 0;
    size_t total = 0;
    for (int i = 0; i < n; i++) total += iov[i].iov_len;
    if (total > TX_GATHER_MAX) return 0;
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    iov[0].iov_base = buf;
    iov[0].iov_len = total;
    return 1;
}

/* Write the group's replies to the client's socket from this thread (handoff); returns bytes
   written (short on EAGAIN or an error: the client's thread writes or fails the rest). */
static size_t tx_write_handoff(tx_t *t) {
    tracking_flush(); /* invalidations this thread owes go ahead of any reply it writes */
    struct iovec iov[SQ_IOV_MAX];
    int n = sq_reply_iov(t->c->sq, t, iov, SQ_IOV_MAX);
    char buf[TX_GATHER_MAX];
    if (tx_gather(iov, n, buf)) n = 1;
    size_t total = 0;
    for (int k = 0; k < n; k++) total += iov[k].iov_len;
    size_t done = 0;
    int i = 0;
    while (i < n) {
        ssize_t w = writev(t->c->fd, iov + i, n - i);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done += (size_t)w;
        while (i < n && (size_t)w >= iov[i].iov_len) w -= (ssize_t)iov[i++].iov_len;
        if (i < n) {
            iov[i].iov_base = (char *)iov[i].iov_base + w;
            iov[i].iov_len -= (size_t)w;
        }
    }
    tl_worker->stats.net_out += done;
    tl_worker->stats.writes++;
    t->wrote_all = done == total;
    return done;
}

/* Finish a handoff on the batch's thread: write the group's replies, then post the batch
   back lazily: the client's thread is woken only if one of its clients in a handoff sent more
   input or is closing, or, when the batch still holds locks there (a locked group), if
   anything on that thread waits for locks. Neither t nor its client may be touched after the
   post (the client's thread may free them at once). */
static void tx_finish_handoff(tx_t *t) {
    t->written = tx_write_handoff(t);
    worker_t *o = &g_workers[t->origin];
    int locks = 0;
    for (int i = 0; i < t->nparts && !locks; i++) locks = t->parts[i].locked;
    atomic_int *wake_if[2] = {&o->handoff_wake[t->c->id % WORKER_WAKE_SLOTS],
                              locks ? &o->lock_waiters : NULL};
    t->m.fn = tx_deliver;
    worker_post_lazy(t->origin, &t->m, wake_if, 2);
}

static void tx_unlock_mine(tx_t *t);

/* A locked transaction's writes, journaled while it still holds every lock (master.c). */
static void tx_journal(tx_t *t, int shard) {
    if (t->aborted || t->ncmds == 0) return;
    master_txcmd_t stack[16], *cmds = t->ncmds <= 16 ? stack : malloc(sizeof *cmds * (size_t)t->ncmds);
    int n = 0;
    for (int i = 0; i < t->ncmds; i++) {
        tx_cmd_t *tc = &t->cmds[i];
        if (!(tc->cmd->flags & CMD_WRITE)) continue;
        if (tc->jr_set) { /* rendered where it ran */
            if (tc->jr_len)
                cmds[n++] = (master_txcmd_t){.db = tc->jdb, .raw = t->jr.data + tc->jr_off,
                                             .rawlen = tc->jr_len, .db_after = tc->jr_db_after};
            continue;
        }
        if (tc->jset || tc->cmd->await) { /* journaled as it said, or not at all */
            if (tc->jset && tc->jargc) cmds[n++] = (master_txcmd_t){tc->jargc, tc->jargv, tc->jdb, NULL, 0, 0};
            continue;
        }
        cmds[n++] = (master_txcmd_t){tc->argc, tc->argv, tc->jdb, NULL, 0, 0};
    }
    if (n) master_journal_tx(shard, cmds, n, t->is_exec);
    if (cmds != stack) free(cmds);
}

/* After op `at` of a locked tx ran on this thread: once no op that writes or decides what is
   journaled is left, journal the writes now, from here, tagged with the shard just run.
   A snapshot's cut of that shard is an event of this thread, so the record and the op fall
   on the same side of it; the tx as a whole does too (the cut's all-shard locks never
   interleave with a tx's), so replicas get it exactly once. Journaled later, at the end
   on another thread, a shard of the tx that held no lock (the short plan's remote parts,
   the ordered plan's last part) could be cut in between: the record would follow that cut
   while the snapshot already had its effects, and replicas would apply them twice. */
static void tx_journal_after(tx_t *t, int at, int shard) {
    if (__builtin_expect(!master_journaling(), 1) || !t->locking || t->journaled) return;
    for (int i = at + 1; i < t->nops; i++) {
        int k = t->ops[i].kind;
        if (k == OP_SHARD || k == OP_PHASE || k == OP_AWAIT) return;
    }
    /* A command with an await step (MIGRATE) says what to journal in its reply step
       (tx_journal_as), and holds every lock until the end: it is journaled there. */
    for (int i = 0; i < t->ncmds; i++)
        if (t->cmds[i].cmd->await) return;
    t->journaled = 1;
    tx_journal(t, shard);
}

/* All ops done: release locks (inline for ours, by message for others), deliver. A handoff
   (finished on another thread than the client's) releases the locks of this thread; the
   client's thread releases its own on delivery. */
static void tx_finish(tx_t *t) {
    int me = tl_worker->id;
    if (__builtin_expect(master_journaling(), 0) && t->locking && !t->journaled) /* no op ran */
        tx_journal(t, t->nparts ? t->parts[0].shard : 0);
    if (t->handoff && t->origin != me) {
        tx_unlock_mine(t);
        tx_finish_handoff(t);
        return;
    }
    for (int i = 0; i < t->nparts; i++) {
        tx_part_t *p = &t->parts[i];
        if (!p->locked) continue;
        if (g_shards[p->shard].owner == me) {
            part_unlock(&g_shards[p->shard], p);
            continue;
        }
        unlock_msg_t *u = df_malloc(sizeof *u);
        u->m.fn = tx_on_unlock;
        u->t = t;
        u->part = i;
        atomic_fetch_add(&t->refs, 1);
        worker_send(g_shards[p->shard].owner, &u->m);
    }
    t->m.fn = tx_deliver;
    if (t->origin == me)
        tx_deliver(&t->m);
    else
        worker_send(t->origin, &t->m);
}

int tx_is_exec(const void *tx) { return ((const tx_t *)tx)->is_exec; }

/* After a command ran on shard s inside t: keep a block request, serve woken waiters. */
static void tx_after(tx_t *t, dfm_ctx_t *ctx, shard_t *s) {
    if (ctx->block) t->block = ctx->block;
    if (s && s->block) block_process_ready(s);
}

static void tx_deliver(msg_t *m) {
    tx_t *t = (tx_t *)m;
    conn_t *c = t->c;
    if (t->handoff) {
        tx_unlock_mine(t); /* a locked group's parts on this thread */
        conn_handoff_end(c);
    }
    if (t->squash) {
        worker_awaiting_add(c->w, -1);
        conn_squash_delivered(c, t);
        return;
    }
    if (!(c->flags & CONN_CLOSING)) {
        rbuf_append(&c->obuf, t->pre.data, t->pre.len);
        rbuf_append(&c->obuf, t->out.data, t->out.len);
    }
    if (t->block) {
        if (c->flags & CONN_CLOSING) {
            block_drop(t->block);
        } else {
            block_attach(c, t->block);
        }
        t->block = NULL;
    }
    c->pending--;
    worker_awaiting_add(c->w, -1);
    if (t->is_exec) {
        server_unwatch_all(c);
        c->track &= ~TRK_CACHING; /* a CLIENT CACHING inside ends with EXEC, as in Redis */
        static const dfm_str_t exec_argv = {.ptr = "EXEC", .len = 4};
        if (t->exec_cmd) monitor_self(c, t->exec_cmd, 1, &exec_argv);
    }
    tx_free(t);
    if (!(c->flags & CONN_IN_DISPATCH)) conn_resume(c);
}

static void tx_plan_ordered(tx_t *t);
static void tx_dispatch_planned(tx_t *t);

/* Release the locks t holds on this thread's shards. */
static void tx_unlock_mine(tx_t *t) {
    for (int i = 0; i < t->nparts; i++)
        if (g_shards[t->parts[i].shard].owner == tl_worker->id)
            part_unlock(&g_shards[t->parts[i].shard], &t->parts[i]);
}

/* Back on the client's thread after a lock could not be taken at once: release, restart. */
static void tx_on_retry(msg_t *m) {
    tx_t *t = (tx_t *)m;
    tx_unlock_mine(t);
    tx_plan_ordered(t);
    tx_step(t);
}

/* OP_TRYLOCK: take the part's locks if nothing holds or waits for them (or only check that,
   when the part runs at once and nobody could see the locks); else give up: release this
   thread's locks and restart the group on the general plan from the client's thread.
   0 = gave up (t has moved on). */
static int tx_trylock_here(tx_t *t, shard_t *s, int check_only) {
    tx_part_t *p = tx_part(t, s->id);
    tx_locks_t *l = s->locks;
    if (!l->qhead && part_can_lock(l, p)) {
        if (!check_only) part_lock(l, p);
        return 1;
    }
    tx_unlock_mine(t);
    t->m.fn = tx_on_retry;
    if (t->origin == tl_worker->id)
        tx_on_retry(&t->m);
    else
        worker_send(t->origin, &t->m);
    return 0;
}

/* Take the locks of op's shard (or, check_only, wait until they are free), or queue; 0 = must
   wait (queued). */
static int tx_lock_here(tx_t *t, shard_t *s, int check_only) {
    tx_part_t *p = tx_part(t, s->id);
    if (p->locked) return 1;
    tx_locks_t *l = s->locks;
    if ((l->qhead && l->retrying != t) || !part_can_lock(l, p)) {
        queue_push(l, t);
        return 0;
    }
    if (check_only) return 1;
    part_lock(l, p);
    if (t->watch) /* watched keys that expired since WATCH must abort the EXEC */
        for (int i = 0; i < p->n; i++) db_find(s, p->keys[i].db, p->keys[i].key, p->keys[i].len);
    return 1;
}

/* A single-shard op may need to wait for other transactions' locks. */
static int tx_single_may_run(tx_t *t, tx_cmd_t *tc, shard_t *s) {
    if (t->locking) return 1; /* holds its own locks */
    if (!tx_must_wait(s, t->db, tc->cmd, tc->argc, tc->argv)) return 1;
    queue_push(s->locks, t);
    return 0;
}

/* OP_AWAIT on the client's thread: 1 if the command's step started asynchronous work (the
   tx stays at this op, holding its locks, until tx_resume). */
static int tx_run_await(tx_t *t, tx_op_t *op) {
    tx_cmd_t *tc = &t->cmds[op->cmd];
    if (tc->stopped) return 0;
    dfm_ctx_t ctx;
    tx_ctx(t, &ctx, NULL, tc->cmd);
    ctx.argc = tc->argc;
    ctx.argv = tc->argv;
    return tc->cmd->await(&ctx, &tc->state, tc->argc, tc->argv, t);
}

void tx_resume(tx_t *t) {
    if (tl_worker->id != t->origin || t->ops[t->cur].kind != OP_AWAIT) abort(); /* invariant */
    t->cur++;
    tx_step(t);
}

void tx_journal_as(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    tx_t *t = ctx->tx;
    if (!t) return;
    tx_cmd_t *tc = &t->cmds[t->running];
    df_free(tc->jargv);
    tc->jargv = argc ? df_malloc(sizeof *argv * (size_t)argc) : NULL;
    if (argc) memcpy(tc->jargv, argv, sizeof *argv * (size_t)argc);
    tc->jargc = argc;
    tc->jset = 1;
    t->njournal_as++;
}

static int tx_op_thread(tx_t *t, tx_op_t *op) {
    if (op->kind == OP_REPLY || op->kind == OP_WATCHCHECK || op->kind == OP_CROSSSLOT)
        return tl_worker->id;
    if (op->kind == OP_ORIGIN || op->kind == OP_AWAIT) return t->origin;
    return g_shards[op->shard].owner;
}

/* EXEC after taking every lock: a watched key that changed aborts with a null reply. */
static void tx_check_watch(tx_t *t) {
    if (!t->watch || !atomic_load(&t->watch->dirty)) return;
    t->aborted = 1;
    t->out.len = 0;
    dfm_ctx_t ctx;
    tx_ctx(t, &ctx, NULL, NULL);
    reply_null_array(&ctx);
}

/* The tx just arrived on this thread: start loading the bucket, then the entry, of the first
   key of every single-shard command it runs next on the same shard (up to 32). */
static void tx_prefetch_ops(tx_t *t) {
    int cur = t->cur;
    while (cur < t->nops && t->ops[cur].kind == OP_TRYLOCK) cur++;
    if (cur == t->nops) return;
    const tx_op_t *op0 = &t->ops[cur];
    if (op0->kind != OP_SHARD || g_shards[op0->shard].owner != tl_worker->id) return;
    table_t *tab = g_shards[op0->shard].dbs[t->db].t;
    uint64_t h[32];
    int n = 0;
    for (int i = cur; i < t->nops && n < 32; i++) {
        const tx_op_t *op = &t->ops[i];
        if (op->kind != OP_SHARD || op->shard != op0->shard) break;
        const tx_cmd_t *tc = &t->cmds[op->cmd];
        const dfm_str_t *k = tc->kidx ? (tc->nk ? &tc->argv[tc->kidx[0]] : NULL)
                                      : (tc->argc >= 2 ? &tc->argv[1] : NULL);
        if (!k) continue;
        h[n] = table_hash(k->ptr, k->len);
        table_prefetch(tab, h[n++]);
    }
    for (int i = 0; i < n; i++) table_prefetch_entry(tab, h[i]);
}

/* Run ops from t->cur on this thread until one belongs elsewhere or must wait. */
static void tx_step(tx_t *t) {
    tl_cmd_clock = util_cycles();
    if (t->ncmds > 1 && t->cur < t->nops) tx_prefetch_ops(t);
    while (t->cur < t->nops) {
        tx_op_t *op = &t->ops[t->cur];
        int where = tx_op_thread(t, op);
        if (where != tl_worker->id) {
            t->m.fn = tx_on_msg;
            worker_send(where, &t->m);
            return;
        }
        shard_t *s = op->shard >= 0 && op->kind != OP_REPLY && op->kind != OP_ORIGIN &&
                             op->kind != OP_AWAIT
                         ? &g_shards[op->shard]
                         : NULL;
        if (op->kind == OP_TRYLOCK) {
            if (!tx_trylock_here(t, &g_shards[op->shard], op->lock_first == LOCK_CHECK)) return;
        } else if (s && (op->kind == OP_LOCK || op->lock_first) &&
                   !tx_lock_here(t, s, op->lock_first == LOCK_CHECK)) {
            return;
        }
        if (t->aborted && op->kind != OP_LOCK) {
            t->cur++;
            continue;
        }
        switch (op->kind) {
        case OP_SHARD:
            if (!tx_single_may_run(t, &t->cmds[op->cmd], s)) return;
            if (t->squash) t->spans[2 * op->cmd] = t->out.len;
            tx_run_single(t, &t->cmds[op->cmd], s);
            if (t->squash) t->spans[2 * op->cmd + 1] = t->out.len;
            tx_journal_after(t, t->cur, op->shard);
            break;
        case OP_PHASE:
            tx_run_phase(t, op, s);
            tx_journal_after(t, t->cur, op->shard);
            break;
        case OP_REPLY: tx_run_reply(t, op); break;
        case OP_ORIGIN: tx_run_origin(t, op); break;
        case OP_AWAIT:
            if (tx_run_await(t, op)) return; /* tx_resume goes on */
            break;
        case OP_WATCHCHECK: tx_check_watch(t); break;
        case OP_CROSSSLOT: {
            dfm_ctx_t ctx;
            tx_ctx(t, &ctx, NULL, NULL);
            reply_error(&ctx, "CROSSSLOT Keys in request don't hash to the same slot");
            break;
        }
        default: break;
        }
        t->cur++;
    }
    tx_finish(t);
}

/* ------------------------------------------------------------------------------------ */
/* Entry points                                                                           */

tx_t *tx_batch_new(conn_t *c, int shard) {
    tx_t *t = tx_new(c);
    t->batch_shard = shard;
    return t;
}

/* A squash batch's command: room for its reply span. */
static int tx_add_squash_cmd(tx_t *t, const cmd_t *cmd, int argc, const dfm_str_t *argv) {
    int i = tx_add_cmd(t, cmd, argc, argv);
    if (t->capspans < t->capcmds) {
        t->spans = df_realloc(t->spans, 2 * sizeof(size_t) * (size_t)t->capcmds);
        t->capspans = t->capcmds;
    }
    t->spans[2 * i] = t->spans[2 * i + 1] = 0;
    return i;
}

int tx_batch_add(tx_t *t, const cmd_t *cmd, int argc, const dfm_str_t *argv) {
    int i = t->squash ? tx_add_squash_cmd(t, cmd, argc, argv) : tx_add_cmd(t, cmd, argc, argv);
    tx_add_op(t, OP_SHARD, t->batch_shard, i, 0);
    return t->nops;
}

int tx_batch_shard(const tx_t *t) { return t->batch_shard; }

void tx_batch_set_squash(tx_t *t) { t->squash = 1; }

const char *tx_batch_reply(const tx_t *t, int i, size_t *len) {
    *len = t->spans[2 * i + 1] - t->spans[2 * i];
    return t->out.data + t->spans[2 * i];
}

void tx_release(tx_t *t) { tx_free(t); }

void *tx_take_block(tx_t *t) {
    void *b = t->block;
    t->block = NULL;
    return b;
}
int tx_batch_size(const tx_t *t) { return t->nops; }

void tx_dispatch(tx_t *t) {
    conn_t *c = t->c;
    uint32_t was = c->flags & CONN_IN_DISPATCH;
    c->pending++;
    worker_awaiting_add(c->w, 1);
    c->flags |= CONN_IN_DISPATCH;
    tx_step(t);
    c->flags = (c->flags & ~CONN_IN_DISPATCH) | was;
}

void tx_set_handoff_squash(tx_t *t) {
    t->handoff = 1;
    conn_handoff_begin(t->c);
}

size_t tx_handoff_written(const tx_t *t, int *all) {
    *all = t->handoff && t->wrote_all;
    return t->handoff ? t->written : 0;
}

/* Fill the parts of a multi-shard command; returns the number of shards involved. */
static void tx_plan_cmd(tx_t *t, int ci, int whole_mode) {
    tx_cmd_t *tc = &t->cmds[ci];
    int excl = (tc->cmd->flags & CMD_WRITE) != 0;
    if (tc->cmd->flags & CMD_ALL_SHARDS) {
        for (int s = 0; s < g_nshards; s++) {
            tx_part_t *p = tx_part(t, s);
            int w = excl ? 2 : 1;
            if (whole_mode && p->whole < w) p->whole = w;
        }
        return;
    }
    for (int i = 0; i < tc->nk; i++) {
        const dfm_str_t *k = &tc->argv[tc->kidx[i]];
        part_add_key(tx_part(t, tc->kshard[i]), t->db, k->ptr, k->len, excl);
    }
}

/* The key indexes of command ci and their shards (into the tx's key pool): all `sid` if it
   is known (>= 0), else hashed once here. */
static void tx_cmd_keys(tx_t *t, int ci, int sid) {
    tx_ki_reserve(t, 2 * (t->cmds[ci].argc + 1));
    tx_cmd_t *tc = &t->cmds[ci];
    tc->kioff = t->nki;
    tc->kidx = t->ki + t->nki;
    tc->nk = dispatch_route_keys(tc->cmd, tc->argc, tc->argv, tc->kidx, tc->argc + 1);
    if (tc->nk < 0) tc->nk = 0;
    tc->kshard = tc->kidx + tc->nk;
    for (int i = 0; i < tc->nk; i++)
        tc->kshard[i] = sid >= 0 ? sid : db_shard_of(tc->argv[tc->kidx[i]].ptr, tc->argv[tc->kidx[i]].len);
    t->nki += 2 * tc->nk;
}

/* Ops of one multi command over the sorted parts: phase 0 fused with locking. */
static void tx_ops_for_multi(tx_t *t, int ci, int fuse_lock) {
    tx_cmd_t *tc = &t->cmds[ci];
    for (int ph = 0; ph < tc->cmd->multi->nphases; ph++) {
        for (int i = 0; i < t->nparts; i++) {
            int s = t->parts[i].shard;
            if (!tx_shard_has_keys(tc, s)) continue;
            tx_op_t *op = tx_add_op(t, OP_PHASE, s, ci, ph);
            op->lock_first = fuse_lock && ph == 0 ? LOCK_TAKE : LOCK_NONE;
        }
        if (tc->cmd->await && ph == tc->cmd->await_after) tx_add_op(t, OP_AWAIT, -1, ci, 0);
    }
    tx_add_op(t, OP_REPLY, -1, ci, 0);
}

void tx_run_multi(conn_t *c, const cmd_t *cmd, int argc, dfm_str_t *argv, const int *kidx,
                  int nk) {
    (void)kidx;
    (void)nk;
    tx_t *t = tx_new(c);
    t->locking = 1;
    int ci = tx_add_cmd(t, cmd, argc, argv);
    tx_cmd_keys(t, ci, -1);
    tx_plan_cmd(t, ci, 1);
    if (tx_groupable(cmd)) { /* one phase: a group of one */
        tx_dispatch_planned(t);
        return;
    }
    if (t->nparts) qsort(t->parts, (size_t)t->nparts, sizeof *t->parts, part_cmp);
    tx_ops_for_multi(t, ci, 1);
    tx_dispatch(t);
}

/*
 * Groups: consecutive pipelined commands whose keys span shards and that run in a single
 * phase (MSET, MGET, DEL...) share one transaction: every key of the group is locked shard by
 * shard, each shard applies its part of every command in pipeline order, then the replies
 * follow in order. The group is atomic as a whole, which is stronger than each command alone,
 * and costs one pass over the shards instead of one per command.
 */
int tx_groupable(const cmd_t *cmd) {
    return cmd->multi && cmd->multi->nphases == 1 && !(cmd->flags & (CMD_ALL_SHARDS | CMD_BLOCKING));
}

tx_t *tx_group_new(conn_t *c) {
    tx_t *t = tx_new(c);
    t->locking = 1;
    return t;
}

int tx_group_add(tx_t *t, const cmd_t *cmd, int argc, const dfm_str_t *argv) {
    int ci = tx_add_cmd(t, cmd, argc, argv);
    tx_cmd_keys(t, ci, -1);
    tx_plan_cmd(t, ci, 1);
    return t->ncmds;
}

void tx_group_dispatch(tx_t *t) { tx_dispatch_planned(t); }

/*
 * Locked squash groups: a pipeline whose writes go to more than one shard. Its single-shard
 * commands (reads and writes, on any shard, local ones too) form one transaction: every key
 * is locked shard by shard in ascending order, each shard runs its commands in pipeline
 * order, and the client reassembles the replies in pipeline order (like a squash batch).
 * Since nothing can observe the group half done, running the shards' parts in shard order
 * instead of pipeline order cannot be told apart from Redis's order.
 */
tx_t *tx_lgroup_new(conn_t *c) {
    tx_t *t = tx_new(c);
    t->locking = 1;
    t->squash = 1;
    t->batch_shard = -1;
    return t;
}

int tx_lgroup_add(tx_t *t, const cmd_t *cmd, int argc, const dfm_str_t *argv, int sid) {
    int ci = tx_add_squash_cmd(t, cmd, argc, argv);
    tx_cmd_keys(t, ci, sid); /* single-shard: no hashing */
    tx_cmd_t *tc = &t->cmds[ci];
    tc->shard = sid;
    tx_part_t *p = tx_part(t, sid);
    int excl = (cmd->flags & CMD_WRITE) != 0;
    for (int i = 0; i < tc->nk; i++)
        part_add_key(p, t->db, tc->argv[tc->kidx[i]].ptr, tc->argv[tc->kidx[i]].len, excl);
    return ci;
}

int tx_lgroup_shards(const tx_t *t) { return t->nparts; }

/*
 * Plans of groups (locked squash groups, and multi-key commands of one phase alone or
 * grouped), chosen in tx_dispatch_planned.
 */

/* The ops of part i: its commands in pipeline order (a locked squash group's single-shard
   commands, or the phase of each grouped command with keys there); the first one's
   lock_first is `lock`. */
static void tx_part_ops(tx_t *t, int i, int lock) {
    int shard = t->parts[i].shard;
    for (int ci = 0; ci < t->ncmds; ci++) {
        if (t->squash ? t->cmds[ci].shard != shard : !tx_shard_has_keys(&t->cmds[ci], shard))
            continue;
        tx_add_op(t, t->squash ? OP_SHARD : OP_PHASE, shard, ci, 0)->lock_first = (uint8_t)lock;
        lock = 0;
    }
}

static void tx_plan_replies(tx_t *t) {
    for (int ci = 0; ci < t->ncmds && !t->squash; ci++) tx_add_op(t, OP_REPLY, -1, ci, 0);
}

/* The general plan: shard by shard in ascending order, each locked (waiting if need be) then
   run; every lock is released at the end. */
static void tx_plan_ordered(tx_t *t) {
    t->nops = t->cur = 0;
    /* The last part runs and finishes in one go once its keys are free: it only waits for
       them, taking no locks nobody could see. */
    for (int i = 0; i < t->nparts; i++)
        tx_part_ops(t, i, i == t->nparts - 1 ? LOCK_CHECK : LOCK_TAKE);
    tx_plan_replies(t);
}

/* 1 if part i's shard belongs to the client's thread. */
static int tx_part_local(const tx_t *t, int i) {
    return g_shards[t->parts[i].shard].owner == t->origin;
}

/* The owner of the parts not on the client's thread when they all have the same; -1 if there
   are none, -2 if there are several. */
static int tx_plan_remote(const tx_t *t) {
    int rt = -1;
    for (int i = 0; i < t->nparts; i++) {
        if (tx_part_local(t, i)) continue;
        int o = g_shards[t->parts[i].shard].owner;
        if (rt >= 0 && rt != o) return -2;
        rt = o;
    }
    return rt;
}

/*
 * The short plan, when the remote parts are all on one thread: one round trip. The client's
 * thread takes its parts' locks without waiting (out of the ascending order, so giving up
 * instead), the remote thread checks that its parts' keys are free the same way and runs
 * them (the client's parts stay locked until they have run too: nothing can see the group
 * half done), then the client's thread runs its parts and releases them. Whoever cannot take a
 * lock at once releases what its thread holds and the group restarts on the general plan
 * (nothing has run yet), so no thread ever waits while holding locks out of order.
 */
static void tx_plan_short(tx_t *t) {
    /* The remote parts are checked, run and done in one go on their thread: nothing runs
       there in between, so their locks would never be seen and are not taken. */
    for (int local = 1; local >= 0; local--) /* the client's parts' locks first */
        for (int i = 0; i < t->nparts; i++)
            if (tx_part_local(t, i) == local)
                tx_add_op(t, OP_TRYLOCK, t->parts[i].shard, -1, 0)->lock_first =
                    local ? LOCK_TAKE : LOCK_CHECK;
    for (int local = 0; local <= 1; local++) /* then run: remote parts, the client's */
        for (int i = 0; i < t->nparts; i++)
            if (tx_part_local(t, i) == local) tx_part_ops(t, i, LOCK_NONE);
    tx_plan_replies(t);
}

static void tx_dispatch_planned(tx_t *t) {
    if (t->nparts > 1) qsort(t->parts, (size_t)t->nparts, sizeof *t->parts, part_cmp);
    if (tx_plan_remote(t) == -2 || t->handoff)
        tx_plan_ordered(t);
    else
        tx_plan_short(t);
    tx_dispatch(t);
}

void tx_lgroup_dispatch(tx_t *t) { tx_dispatch_planned(t); }

int tx_lgroup_ends_remote(const tx_t *t) {
    if (tx_plan_remote(t) < 0) return 0;
    int max_mine = -1, min_remote = g_nshards; /* the client's shards all below the others */
    for (int i = 0; i < t->nparts; i++) {
        int sh = t->parts[i].shard;
        if (tx_part_local(t, i)) {
            if (sh > max_mine) max_mine = sh;
        } else if (sh < min_remote) {
            min_remote = sh;
        }
    }
    return max_mine < min_remote;
}

/* Keyless commands inside EXEC that are not whole-keyspace run on the client's thread. */
static void tx_ops_for_exec_cmd(tx_t *t, int ci) {
    tx_cmd_t *tc = &t->cmds[ci];
    if (tc->cmd->multi) {
        tx_ops_for_multi(t, ci, 0);
        return;
    }
    if (tc->nk == 0) {
        tx_add_op(t, OP_ORIGIN, -1, ci, 0);
        return;
    }
    int sid = tc->kshard[0];
    for (int i = 1; i < tc->nk; i++) {
        if (tc->kshard[i] != sid) {
            tx_add_op(t, OP_CROSSSLOT, -1, ci, 0);
            return;
        }
    }
    tx_add_op(t, OP_SHARD, sid, ci, 0);
}

void tx_run_exec(conn_t *c) {
    multi_state_t *ms = c->multi;
    tx_t *t = tx_new(c);
    t->locking = 1;
    t->is_exec = 1;
    t->exec_cmd = c->last_cmd;
    t->ms = ms;
    c->multi = NULL;
    /* A queued CLIENT CACHING yes|no counts for the reads after it in the transaction (as
       Redis keeps the flag through EXEC): whether each read is tracked is decided here. */
    uint32_t caching0 = c->track & TRK_CACHING;
    for (int i = 0; ms && i < ms->n; i++) {
        int ci = tx_add_cmd(t, ms->cmds[i].cmd, ms->cmds[i].argc, ms->cmds[i].argv);
        tx_cmd_keys(t, ci, -1);
        tx_plan_cmd(t, ci, 1);
        if (__builtin_expect(c->track != 0, 0) && ms->cmds[i].cmd->fullname &&
            !strcmp(ms->cmds[i].cmd->fullname, "client|caching"))
            c->track |= TRK_CACHING;
    }
    c->track = (c->track & ~TRK_CACHING) | caching0;
    watch_state_t *w = c->watch;
    if (w) {
        for (int i = 0; i < w->nkeys; i++)
            part_add_key(tx_part(t, db_shard_of(w->keys[i].key, w->keys[i].len)), w->keys[i].db,
                         w->keys[i].key, w->keys[i].len, 0);
        t->watch = w;
        atomic_fetch_add(&w->refs, 1);
    }
    if (t->nparts) qsort(t->parts, (size_t)t->nparts, sizeof *t->parts, part_cmp);
    for (int i = 0; i < t->nparts; i++) tx_add_op(t, OP_LOCK, t->parts[i].shard, -1, 0);
    tx_add_op(t, OP_WATCHCHECK, -1, -1, 0);
    dfm_ctx_t ctx;
    tx_ctx(t, &ctx, NULL, NULL);
    reply_array(&ctx, t->ncmds);
    for (int i = 0; i < t->ncmds; i++) tx_ops_for_exec_cmd(t, i);
    tx_dispatch(t);
}
