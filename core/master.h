/*
 * master.h: the master side of replication: replicas (redis-server, or ourselves) that send
 * SYNC / PSYNC get the replication stream (backlog.h), after a full resynchronisation (an RDB
 * snapshot taken for them, fork-less) or, when the stream still holds the offset they ask
 * for, a partial one (+CONTINUE).
 *
 * The journal. Every write that changes the keyspace is pushed, as RESP, onto the stream by
 * the thread that ran it: single-shard commands where they run (only if they changed
 * something), multi-shard transactions and EXEC at their end while they still hold every lock
 * (EXEC wrapped in MULTI/EXEC), expired and evicted keys as DEL, blocking commands when
 * served. Ordering: a single-shard write is pushed by its shard's thread in execution order;
 * a transaction is pushed while it holds its keys, so any conflicting write is pushed
 * entirely before or after it.
 *
 * One sender thread per replica owns its socket once PSYNC is handed over: it answers
 * (+CONTINUE, or +FULLRESYNC at its snapshot's cut followed by the snapshot file), then
 * writes the stream from its offset, and drops the replica when it lags 256 MB behind or the
 * socket fails.
 */
#ifndef DF_MASTER_H
#define DF_MASTER_H

#include <stdatomic.h>
#include <stddef.h>

#include "backlog.h"
#include "reply.h"

struct conn;
struct shard;

/* A write ran on shard `shard` in db `db` (its thread or a transaction's last step). */
void master_journal_cmd(int shard, int db, int argc, const dfm_str_t *argv);
static inline int master_journaling(void) { return backlog_on(); }
/* A single-shard write that ran on s (its thread) with this reply: journaled as Redis
   propagates it (SPOP as SREM, relative TTLs pinned with PEXPIREAT). */
void master_journal_write(struct shard *s, int db, int argc, const dfm_str_t *argv,
                          const char *reply, size_t rlen);
/* A script runs on s's thread (EVAL, FCALL: commands without mandatory keys): between begin
   and end, the writes it calls (api->call) are collected with master_effects_add (journal
   form, SELECTs between dbs) and end pushes them as one record, in MULTI/EXEC when more
   than one, instead of the script itself, as Redis 7.0 replicates effects. Its thread. */
void master_effects_begin(int db);
void master_effects_add(struct shard *s, int db, int argc, const dfm_str_t *argv,
                        const char *reply, size_t rlen);
void master_effects_end(struct shard *s);
/* Instead of master_effects_end: append what was collected to out (no MULTI/EXEC: it goes
   into a transaction's record), ending in db *db_after; 1 if anything was collected. */
int master_effects_take(rbuf_t *out, int *db_after);
/* A write's journal form (SPOP as SREM, relative TTLs pinned) appended to b (shard thread). */
void master_journal_render(rbuf_t *b, struct shard *s, int db, int argc, const dfm_str_t *argv,
                           const char *reply, size_t rlen);
void master_effects_worker_exit(void);
/* A key removed by expiry or eviction: DEL key. */
void master_journal_del(int shard, int db, const char *key, size_t len);
/* A transaction's write commands as one record (wrapped in MULTI/EXEC when exec); shard:
   the one whose thread pushes it, with the tx's writes there done (tx_journal_after). A
   command is its argv, or raw bytes already in journal form (raw != NULL), which leave the
   replica in db_after. */
typedef struct master_txcmd {
    int argc;
    const dfm_str_t *argv;
    int db;
    const char *raw;
    size_t rawlen;
    int db_after;
} master_txcmd_t;
void master_journal_tx(int shard, const master_txcmd_t *cmds, int n, int exec);

/* The snapshot's cut phase on shard s: the stream learns where s's writes stop being in the
   replica's snapshot (shard thread, under the cut's locks). */
void master_cut_shard(void *replicas, int shard);
/* The snapshot for replicas is written (path) or failed. Writer thread. */
void master_snapshot_done(void *replicas, int ok);

/* INFO replication lines for connected replicas; master_repl_offset. */
void master_info(rbuf_t *b);
/* ROLE of a master: ["master", offset, [[ip, port, ack offset], ...]] (online replicas). */
void master_role(dfm_ctx_t *ctx);
long long master_offset(void);
/* INFO: bytes written to replicas. Any thread. */
long long master_repl_output_bytes(void);
/* INFO stats: sync_full, sync_partial_ok, sync_partial_err. Any thread. */
void master_sync_stats(long long out[3]);
/* CLIENT KILL TYPE replica [ADDR addr] ("" any): close those replicas' links; how many. */
long long master_kill_replicas(const char *addr);
/* min-replicas-to-write: replicas online that acknowledged within min-replicas-max-lag, and
   whether that is enough for a write now (1 when the option is off). Any thread. */
int master_good_replicas(void);
/* 1 if every online replica acknowledged the stream up to offset (shutdown-timeout). */
int master_replicas_acked(long long offset);
int master_enough_replicas(void);
extern const char master_noreplicas_error[];
/* FAILOVER: replicas not dropped; the one that connected from ip with listening port `port`:
   -1 none, 0 not online yet, 1 online (*ack: its last ack); the first online replica whose
   ack reached offset (its ip and port; 0), or -1. Any thread. */
int master_replica_count(void);
int master_replica_ack(const char *ip, int port, long long *ack);
int master_caught_up_replica(long long offset, char *ip, size_t cap, int *port);
/* Shutdown (main thread, workers stopped): stop the senders and the stream, free them. */
void master_shutdown(void);


#endif
