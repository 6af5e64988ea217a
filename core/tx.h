/*
 * tx.h: running commands on shards: single-shard hops, multi-shard transactions, EXEC.
 *
 * Everything that leaves the client's thread is a tx: a list of ops, each run on the thread
 * that owns the op's shard (consecutive ops on one thread run without a hop), followed by the
 * delivery of the reply bytes to the client's thread.
 *
 * Isolation (DESIGN.md 2.4) is strict two-phase locking with ordered acquisition: a tx that
 * spans shards takes intent locks on its keys shard by shard in ascending shard order
 * (shared for reads, exclusive for writes; whole-shard locks for FLUSHALL/KEYS-like commands),
 * may run its work on a shard as soon as it holds that shard's locks, and releases every lock
 * only after its last op. Ordered acquisition means no deadlock; a FIFO wait queue per shard
 * means no starvation. Uncontended transactions never wait. Single-shard commands take no
 * locks (they run to completion on the owning thread); they only wait while a key they touch
 * is locked by a transaction.
 */
#ifndef DF_TX_H
#define DF_TX_H

#include <stdatomic.h>
#include <stdint.h>

#include "conn.h"
#include "db.h"
#include "dispatch.h"
#include "worker.h"

typedef struct tx tx_t;

/* Free this thread's recycled transactions (worker exit). */
void tx_worker_exit(void);
/* Per-shard lock state (shard_t.locks). */
void tx_shard_init(shard_t *s);
void tx_shard_free(shard_t *s);
/* 1 if a single-shard command must wait for a transaction's locks on s. Shard thread. */
int tx_must_wait(shard_t *s, int db, const cmd_t *cmd, int argc, const dfm_str_t *argv);
/* 1 if a transaction holds a lock on the key (or on all of shard s). Shard thread. */
int tx_key_busy(shard_t *s, int db, const char *key, size_t len);

/* Run a single-shard command on shard `shard` (remote or locally waiting): batches for one
   remote shard are gathered by the connection (tx_batch_*). */
tx_t *tx_batch_new(conn_t *c, int shard);
int tx_batch_add(tx_t *t, const cmd_t *cmd, int argc, const dfm_str_t *argv);
int tx_batch_shard(const tx_t *t);
int tx_batch_size(const tx_t *t);
/* Squashed pipelines: the batch keeps each command's reply apart (tx_batch_reply) and is
   handed to conn_squash_delivered instead of appending to the client's output. */
void tx_batch_set_squash(tx_t *t);
const char *tx_batch_reply(const tx_t *t, int i, size_t *len);
void tx_release(tx_t *t);
void *tx_take_block(tx_t *t); /* a blocking command's wait, now the caller's */
/* conn.c: a squashed batch came back (client's thread). */
void conn_squash_delivered(conn_t *c, tx_t *t);
/* Send a tx on its way; the client is pending until delivery calls conn_resume(). */
void tx_dispatch(tx_t *t);
/* A command whose keys span shards (or all shards): lock, run phases, reply. */
void tx_run_multi(conn_t *c, const cmd_t *cmd, int argc, dfm_str_t *argv, const int *kidx,
                  int nk);
/*
 * Asynchronous steps (core commands only: MIGRATE). A multi-shard command whose cmd_t has an
 * `await` step (dispatch_set_await) always runs as a locked transaction, even on one shard.
 * After its phase `await_after` has run on every shard, the step runs on the client's thread
 * while the transaction still holds every lock. It returns 0 to go on at once, or 1 after
 * starting work that will call tx_resume(t) exactly once, later, from the client's thread's
 * event loop (never from inside the step). Meanwhile no thread waits: the client is pending,
 * commands of other clients on the locked keys queue for the locks, everything else runs.
 * The later phases then run shard by shard, then the reply. Inside EXEC the step holds the
 * whole EXEC. Scripts cannot call such a command (api_call refuses it as noscript).
 */
void tx_resume(tx_t *t);
/* What a locked transaction journals for the command now running (its reply step or a
   phase; ctx->tx set): argc/argv instead of the command itself, argc 0 for nothing. The
   argv array is copied, its bytes must stay valid until the transaction ends (the command's
   own arguments, or literals). Without it, a command with an await step journals nothing. */
void tx_journal_as(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
/* 1 if this tx is an EXEC (blocking commands do not block inside it). */
int tx_is_exec(const void *tx);
/* Pipelined single-phase multi-shard commands, grouped into one transaction (see tx.c). */
int tx_groupable(const cmd_t *cmd);
tx_t *tx_group_new(conn_t *c);
int tx_group_add(tx_t *t, const cmd_t *cmd, int argc, const dfm_str_t *argv);
void tx_group_dispatch(tx_t *t);
/* Reply handoff of a squash group with a single batch t (squash.c decides): the thread that
   finishes t writes the whole group's replies (sq_reply_iov). */
void tx_set_handoff_squash(tx_t *t);
/* Bytes of the replies the finishing thread wrote itself (0 without a handoff); *all: 1 if
   that was all of them. */
size_t tx_handoff_written(const tx_t *t, int *all);
/* Locked squash groups (see tx.c): single-shard commands on any shards, run atomically, the
   replies kept apart like a squash batch's (tx_batch_reply). */
tx_t *tx_lgroup_new(conn_t *c);
int tx_lgroup_add(tx_t *t, const cmd_t *cmd, int argc, const dfm_str_t *argv, int sid);
int tx_lgroup_shards(const tx_t *t);
void tx_lgroup_dispatch(tx_t *t);
/* 1 if the group can end on the remote thread, which then writes the replies (handoff): one
   other thread holds its remote shards, all above the client's thread's shards. */
int tx_lgroup_ends_remote(const tx_t *t);
/* EXEC of the client's queued commands (cmd_multi.c builds them). */
void tx_run_exec(conn_t *c);
/* The client went away: a pending tx drops its output on delivery. */


/* MULTI state: queued commands with their own copies of the arguments. */
typedef struct multi_cmd {
    const cmd_t *cmd;
    int argc;
    dfm_str_t *argv; /* argv and the bytes live in one allocation */
} multi_cmd_t;

typedef struct multi_state {
    int n, cap;
    multi_cmd_t *cmds;
} multi_state_t;

/* WATCH state of a client: shared (refcounted) with the shards' watch tables, which set
   `dirty` when a watched key changes. */
typedef struct watch_state {
    struct watch_state *self; /* WATCH passes its address as an argument */
    _Atomic int dirty;
    _Atomic int refs;
    int nkeys, cap;
    struct watch_key {
        int db;
        size_t len;
        char *key;
    } *keys;
} watch_state_t;

void multi_state_free(multi_state_t *m);
/* Leave MULTI, dropping the queued commands, and UNWATCH (DISCARD, EXECABORT). Client's
   thread. */
void multi_discard(conn_t *c);
void watch_state_release(watch_state_t *w);
/* On shard s: register / unregister a client's watch on a key. */
void watch_add(shard_t *s, int db, const char *key, size_t len, watch_state_t *w);
void watch_remove(shard_t *s, int db, const char *key, size_t len, watch_state_t *w);
void watch_shard_free(shard_t *s);

#endif
