/*
 * master.h: the master side of replication: replicas (redis-server, or ourselves) that send
 * SYNC / PSYNC get a full resynchronisation (an RDB snapshot taken for them, fork-less) and
 * then the stream of write commands.
 *
 * The journal. Every write that changes the keyspace after a replica's cut is appended, as
 * RESP, to that replica's lock-free queue by the thread that ran it: single-shard commands
 * where they run (only if they changed something), multi-shard transactions and EXEC at
 * their end while they still hold every lock (EXEC wrapped in MULTI/EXEC), expired and
 * evicted keys as DEL, blocking commands when served. Ordering: a single-shard write is
 * queued by its shard's thread in execution order; a transaction is queued while it holds
 * its keys, so any conflicting write is queued entirely before or after it. Per replica and
 * shard, a flag set in the snapshot's cut phase decides whether a write is already in the
 * snapshot (before the cut: not journaled) or must follow it.
 *
 * One sender thread per replica owns its socket once PSYNC is answered: it sends the
 * snapshot file ("$<len>" form), then the queue (inserting SELECT when the db changes), a
 * PING every 10 s, and drops the replica when it lags 256 MB behind or the socket fails.
 */
#ifndef DF_MASTER_H
#define DF_MASTER_H

#include <stdatomic.h>
#include <stddef.h>

#include "reply.h"

struct conn;
struct shard;

extern atomic_int g_master_nreplicas; /* replicas being fed (fast-path check) */

/* A write ran on shard `shard` in db `db` (its thread or a transaction's last step). */
void master_journal_cmd(int shard, int db, int argc, const dfm_str_t *argv);
static inline int master_journaling(void) {
    return atomic_load_explicit(&g_master_nreplicas, memory_order_relaxed) != 0;
}
/* A single-shard write that ran on s (its thread) with this reply: journaled as Redis
   propagates it (SPOP as SREM, relative TTLs pinned with PEXPIREAT). */
void master_journal_write(struct shard *s, int db, int argc, const dfm_str_t *argv,
                          const char *reply, size_t rlen);
/* A key removed by expiry or eviction: DEL key. */
void master_journal_del(int shard, int db, const char *key, size_t len);
/* A transaction's write commands as one record (wrapped in MULTI/EXEC when exec); shard:
   any shard it locked (the cut flag is the same on all of them). */
typedef struct master_txcmd {
    int argc;
    const dfm_str_t *argv;
    int db;
} master_txcmd_t;
void master_journal_tx(int shard, const master_txcmd_t *cmds, int n, int exec);

/* The snapshot's cut phase on shard s: replicas waiting for this snapshot start their
   journal of s here (shard thread, under the cut's locks). */
void master_cut_shard(void *replicas, int shard);
/* The snapshot for replicas is written (path) or failed. Writer thread. */
void master_snapshot_done(void *replicas, int ok);

/* INFO replication lines for connected replicas; master_repl_offset. */
void master_info(rbuf_t *b);
long long master_offset(void);
void master_shutdown(void);


#endif
