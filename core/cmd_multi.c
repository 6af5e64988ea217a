/*
 * cmd_multi.c: MULTI, EXEC, DISCARD, WATCH, UNWATCH and the per-shard watch tables.
 *
 * WATCH registers the client's watch_state on each key's shard (through an internal
 * multi-shard command, so the registration is done before +OK is sent). Every write to a
 * watched key, its expiry, FLUSHDB/FLUSHALL and SWAPDB set the state's dirty flag (an
 * atomic: the state is shared by the client's thread and the shards). EXEC takes the locks
 * of its queued commands' keys and of the watched keys first, then reads the flag, so a
 * change either happened before (abort) or waits until EXEC is done.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cmdtab.h"
#include "conn.h"
#include "db.h"
#include "monitor.h"
#include "reply.h"
#include "server.h"
#include "tracking.h"
#include "tx.h"
#include "util.h"

#define WATCH_BUCKETS 1024

typedef struct watch_entry {
    struct watch_entry *next;
    uint64_t hash;
    int db;
    size_t len;
    char *key;
    int n, cap;
    watch_state_t **states;
} watch_entry_t;

typedef struct watch_table {
    watch_entry_t *b[WATCH_BUCKETS];
    size_t count;
} watch_table_t;

void multi_state_free(multi_state_t *m) {
    for (int i = 0; i < m->n; i++) df_free(m->cmds[i].argv);
    df_free(m->cmds);
    df_free(m);
}

void watch_state_release(watch_state_t *w) {
    if (atomic_fetch_sub(&w->refs, 1) != 1) return;
    for (int i = 0; i < w->nkeys; i++) df_free(w->keys[i].key);
    df_free(w->keys);
    df_free(w);
}

static watch_entry_t **watch_slot(watch_table_t *t, int db, const char *key, size_t len, uint64_t h) {
    watch_entry_t **pp = &t->b[h % WATCH_BUCKETS];
    while (*pp && !((*pp)->hash == h && (*pp)->db == db && (*pp)->len == len &&
                    memcmp((*pp)->key, key, len) == 0))
        pp = &(*pp)->next;
    return pp;
}

void watch_add(shard_t *s, int db, const char *key, size_t len, watch_state_t *w) {
    if (!s->watch) s->watch = df_calloc(sizeof(watch_table_t));
    watch_table_t *t = s->watch;
    uint64_t h = table_hash(key, len);
    watch_entry_t **pp = watch_slot(t, db, key, len, h);
    watch_entry_t *e = *pp;
    if (!e) {
        e = df_calloc(sizeof *e);
        e->hash = h;
        e->db = db;
        e->len = len;
        e->key = df_memdup(key, len);
        *pp = e;
    }
    for (int i = 0; i < e->n; i++)
        if (e->states[i] == w) return;
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 2;
        e->states = df_realloc(e->states, (size_t)e->cap * sizeof *e->states);
    }
    e->states[e->n++] = w;
    atomic_fetch_add(&w->refs, 1);
    t->count++;
}

void watch_remove(shard_t *s, int db, const char *key, size_t len, watch_state_t *w) {
    watch_table_t *t = s->watch;
    if (!t) return;
    watch_entry_t **pp = watch_slot(t, db, key, len, table_hash(key, len));
    watch_entry_t *e = *pp;
    if (!e) return;
    for (int i = 0; i < e->n; i++) {
        if (e->states[i] != w) continue;
        e->states[i] = e->states[--e->n];
        t->count--;
        watch_state_release(w);
        break;
    }
    if (e->n == 0) {
        *pp = e->next;
        df_free(e->key);
        df_free(e->states);
        df_free(e);
    }
}

void watch_shard_free(shard_t *s) {
    watch_table_t *t = s->watch;
    if (!t) return;
    for (int b = 0; b < WATCH_BUCKETS; b++) {
        for (watch_entry_t *e = t->b[b], *n; e; e = n) {
            n = e->next;
            for (int i = 0; i < e->n; i++) watch_state_release(e->states[i]);
            df_free(e->key);
            df_free(e->states);
            df_free(e);
        }
    }
    df_free(t);
    s->watch = NULL;
}

/* Flag every client watching entry e. */
static void watch_entry_dirty(watch_entry_t *e) {
    for (int i = 0; i < e->n; i++) atomic_store(&e->states[i]->dirty, 1);
}

/* Whether e's key is in db's table now, expired or not (a flush or swap changes it). */
static int watch_key_present(shard_t *s, int db, const watch_entry_t *e) {
    return table_find(s->dbs[db].t, e->hash, e->key, e->len) != NULL;
}

void db_signal_modified(shard_t *s, int db, const char *key, size_t klen) {
    db_dirty_add(s, 1);
    tracking_modified(s, key, klen);
    watch_table_t *t = s->watch;
    if (!t || !t->count) return;
    watch_entry_t *e = *watch_slot(t, db, key, klen, table_hash(key, klen));
    if (e) watch_entry_dirty(e);
}

/*
 * A flush of db (-1: all) is about to empty it: flag the watchers of the keys it holds.
 * A watched key that does not exist is not changed by the flush, so its EXEC still runs
 * (as in Redis 7.0). Called by db_flush before it empties the table.
 */
void db_signal_flush(shard_t *s, int db) {
    watch_table_t *t = s->watch;
    if (!t || !t->count) return;
    for (int b = 0; b < WATCH_BUCKETS; b++)
        for (watch_entry_t *e = t->b[b]; e; e = e->next)
            if ((db < 0 || e->db == db) && watch_key_present(s, e->db, e)) watch_entry_dirty(e);
}

/* SWAPDB a b on this shard (before or after the swap): a key watched in either db changes
   when it exists in either of them; one that exists in neither does not. */
void watch_signal_swap(shard_t *s, int a, int b) {
    watch_table_t *t = s->watch;
    if (!t || !t->count) return;
    for (int i = 0; i < WATCH_BUCKETS; i++)
        for (watch_entry_t *e = t->b[i]; e; e = e->next)
            if ((e->db == a || e->db == b) && (watch_key_present(s, a, e) || watch_key_present(s, b, e)))
                watch_entry_dirty(e);
}

/* --- unwatch: one message per shard that holds some of the keys ----------------------- */

typedef struct unwatch_msg {
    msg_t m;
    watch_state_t *w;
    int shard;
} unwatch_msg_t;

static void unwatch_on_shard(msg_t *m) {
    unwatch_msg_t *u = (unwatch_msg_t *)m;
    watch_state_t *w = u->w;
    for (int i = 0; i < w->nkeys; i++)
        if (db_shard_of(w->keys[i].key, w->keys[i].len) == u->shard)
            watch_remove(&g_shards[u->shard], w->keys[i].db, w->keys[i].key, w->keys[i].len, w);
    watch_state_release(w);
    df_free(u);
}

void server_unwatch_all(conn_t *c) {
    watch_state_t *w = c->watch;
    if (!w) return;
    c->watch = NULL;
    for (int s = 0; s < g_nshards; s++) {
        int has = 0;
        for (int i = 0; i < w->nkeys && !has; i++) has = db_shard_of(w->keys[i].key, w->keys[i].len) == s;
        if (!has) continue;
        unwatch_msg_t *u = df_malloc(sizeof *u);
        u->m.fn = unwatch_on_shard;
        u->w = w;
        u->shard = s;
        atomic_fetch_add(&w->refs, 1);
        worker_send(g_shards[s].owner, &u->m);
    }
    watch_state_release(w);
}

/* --- WATCH registration as an internal multi-shard command ---------------------------- */

/* argv: ["watch", <pointer bytes>, key...]: the state pointer travels as argument 1. */
static watch_state_t *watch_state_arg(const dfm_str_t *argv) {
    watch_state_t *w;
    memcpy(&w, argv[1].ptr, sizeof w);
    return w;
}

static int watchreg_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                          const int *keys, int nkeys) {
    (void)phase, (void)state, (void)argc;
    watch_state_t *w = watch_state_arg(argv);
    for (int i = 0; i < nkeys; i++) {
        const dfm_str_t *k = &argv[keys[i]];
        watch_add(ctx->shard, ctx->db, k->ptr, k->len, w);
        db_find(ctx->shard, ctx->db, k->ptr, k->len); /* an already expired key goes now */
    }
    return 0;
}

static void watchreg_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)state, (void)argc;
    watch_state_release(watch_state_arg(argv));
    reply_ok(ctx);
}

static const dfm_multi_t watchreg_multi = {1, watchreg_phase, watchreg_reply};
static cmd_t watchreg_cmd;

static void watch_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    conn_t *c = ctx->conn;
    if (c->flags & CONN_MULTI) {
        reply_error(ctx, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    if (!c->watch) {
        c->watch = df_calloc(sizeof(watch_state_t));
        atomic_init(&c->watch->refs, 1);
    }
    watch_state_t *w = c->watch;
    for (int i = 1; i < argc; i++) {
        if (w->nkeys == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 4;
            w->keys = df_realloc(w->keys, (size_t)w->cap * sizeof *w->keys);
        }
        w->keys[w->nkeys].db = c->db;
        w->keys[w->nkeys].len = argv[i].len;
        w->keys[w->nkeys].key = df_memdup(argv[i].ptr, argv[i].len);
        w->nkeys++;
    }
    /* Register through the transaction engine; it replies +OK when every shard has it. The
       state pointer rides as argument 1, pointing at w->self (alive: we hold a reference that
       the reply step drops). */
    dfm_str_t *args = df_malloc(sizeof(dfm_str_t) * (size_t)(argc + 1));
    atomic_fetch_add(&w->refs, 1);
    w->self = w;
    args[0] = argv[0];
    args[1].ptr = (const char *)&w->self;
    args[1].len = sizeof w;
    for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
    tx_run_multi(c, &watchreg_cmd, argc + 1, args, NULL, 0);
    df_free(args);
}

static void unwatch_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    server_unwatch_all(ctx->conn);
    reply_ok(ctx);
}

/* --- MULTI / EXEC / DISCARD ---------------------------------------------------------- */

static void multi_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    conn_t *c = ctx->conn;
    if (c->flags & CONN_MULTI) {
        reply_error(ctx, "ERR MULTI calls can not be nested");
        return;
    }
    c->flags |= CONN_MULTI;
    c->flags &= ~CONN_DIRTY_EXEC;
    c->multi = df_calloc(sizeof(multi_state_t));
    reply_ok(ctx);
}

void multi_discard(conn_t *c) {
    if (c->multi) multi_state_free(c->multi);
    c->multi = NULL;
    c->flags &= ~(CONN_MULTI | CONN_DIRTY_EXEC);
    server_unwatch_all(c);
}

static void discard_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    conn_t *c = ctx->conn;
    if (!(c->flags & CONN_MULTI)) {
        reply_error(ctx, "ERR DISCARD without MULTI");
        return;
    }
    multi_discard(c);
    reply_ok(ctx);
}

static void exec_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    conn_t *c = ctx->conn;
    if (!(c->flags & CONN_MULTI)) {
        reply_error(ctx, "ERR EXEC without MULTI");
        monitor_self(c, ctx->cmd, argc, argv);
        return;
    }
    if (c->flags & CONN_DIRTY_EXEC) {
        multi_discard(c);
        reply_error(ctx, "EXECABORT Transaction discarded because of previous errors.");
        monitor_self(c, ctx->cmd, argc, argv);
        return;
    }
    c->flags &= ~(CONN_MULTI | CONN_DIRTY_EXEC);
    tx_run_exec(c); /* takes c->multi; unwatches when done */
}

static const dfm_command_t multi_cmds[] = {
    {.name = "multi", .arity = 1, .flags = "noscript loading stale fast allow_busy @conn @multiok",
     .acl_categories = "@fast @transaction", .summary = "Starts a transaction.", .since = "1.2.0",
     .group = "transactions", .complexity = "O(1)", .handler = multi_cmd},
    {.name = "exec", .arity = 1, .flags = "noscript loading stale skip_slowlog @conn @multiok @monitorself",
     .acl_categories = "@slow @transaction", .summary = "Executes all commands in a transaction.",
     .since = "1.2.0", .group = "transactions", .complexity = "O(N)", .handler = exec_cmd},
    {.name = "discard", .arity = 1, .flags = "noscript loading stale fast allow_busy @conn @multiok",
     .acl_categories = "@fast @transaction", .summary = "Discards a transaction.", .since = "2.0.0",
     .group = "transactions", .complexity = "O(N)", .handler = discard_cmd},
    {.name = "watch", .arity = -2, .flags = "noscript loading stale fast allow_busy @conn @multiok",
     .first_key = 1, .last_key = -1, .key_step = 1, .acl_categories = "@fast @transaction",
     .summary = "Monitors changes to keys to determine the execution of a transaction.",
     .since = "2.2.0", .group = "transactions", .complexity = "O(1) for every key.",
     .args_doc = "key [key ...]", .handler = watch_cmd},
    {.name = "unwatch", .arity = 1, .flags = "noscript loading stale fast allow_busy @conn",
     .acl_categories = "@fast @transaction", .summary = "Forgets about watched keys of a transaction.",
     .since = "2.2.0", .group = "transactions", .complexity = "O(1)", .handler = unwatch_cmd},
};

void cmd_multi_register(void) {
    cmdtab_register(multi_cmds, CMDTAB_COUNT(multi_cmds));
    strcpy(watchreg_cmd.name, "watch");
    watchreg_cmd.fullname = watchreg_cmd.name;
    watchreg_cmd.arity = -3;
    watchreg_cmd.flags = CMD_READONLY;
    watchreg_cmd.first_key = 2;
    watchreg_cmd.last_key = -1;
    watchreg_cmd.key_step = 1;
    watchreg_cmd.multi = &watchreg_multi;
    watchreg_cmd.module = "core";
    static cmd_stats_t stats[CMD_MAX_WORKERS];
    watchreg_cmd.stats = stats;
}
