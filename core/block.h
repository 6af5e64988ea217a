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
/* 0 inside MULTI/EXEC (or without a client, or for the AOF loader's client): block_on_keys
   replies a null array instead. */
int block_can_block(const dfm_ctx_t *ctx);
/* The command asked to block (ctx->block): attach the wait to the client. Client's thread. */
void block_attach(conn_t *c, void *wait);
/* Free a wait that was never attached (the client went away). */
void block_drop(void *wait);
/* Serve waiters of keys signalled during the last command on shard s. Shard thread. */
void block_process_ready(shard_t *s);
/* A key of shard s may now serve waiters (queued until block_process_ready). */
void block_signal_key(shard_t *s, int db, const char *key, size_t len);
/* SWAPDB gave db of s other contents: signal every key of db that has waiters. */
void block_signal_db(shard_t *s, int db);
/* The client is closing: forget its wait. Client's thread. */
void block_cancel(conn_t *c);
/* CLIENT UNBLOCK: 1 if the client was blocked. */
int block_unblock(conn_t *c, int with_error);
void block_shard_free(shard_t *s);
/* Timeouts, from the worker cron. */
void block_cron(worker_t *w);
long block_count(void);

#endif
