/*
 * block.h: clients parked by blocking commands (BLPOP-style), woken by writes to the keys
 * they wait on, in FIFO order per key, or by their timeout or CLIENT UNBLOCK.
 */
#ifndef DF_BLOCK_H
#define DF_BLOCK_H

#include "conn.h"
#include "db.h"

/* Called by api->block_on_keys from a handler running on shard s. */
void block_on_keys(dfm_ctx_t *ctx, const int *keys, int nkeys, int64_t timeout_ms,
                   dfm_unblock_fn on_ready);
/* A key of shard s may now serve waiters. */
void block_signal_key(shard_t *s, int db, const char *key, size_t len);
/* The client is closing: forget its wait. Client's thread. */
void block_cancel(conn_t *c);
/* CLIENT UNBLOCK: 1 if the client was blocked. */
int block_unblock(conn_t *c, int with_error);
void block_shard_free(shard_t *s);
/* Timeouts, from the worker cron. */
void block_cron(worker_t *w);
long block_count(void);

#endif
