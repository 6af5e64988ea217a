/*
 * fanout.h: run a function on every worker thread on behalf of a client and answer when all
 * have run (CLIENT LIST / KILL / UNBLOCK, INFO clients). The client is pending meanwhile,
 * like a command away on a shard; its thread never waits.
 */
#ifndef DF_FANOUT_H
#define DF_FANOUT_H

#include "conn.h"
#include "reply.h"

/* Runs on worker w's thread; writes its part into out. */
typedef void (*fanout_fn)(worker_t *w, rbuf_t *out, void *arg);
/* Runs on the client's thread with every worker's part (index = worker id); replies. */
typedef void (*fanout_done_fn)(dfm_ctx_t *ctx, rbuf_t *parts, int n, void *arg);

/* Start from a handler running on the client's thread (ctx->conn set). arg is owned by the
   fan-out and released with free_arg (may be NULL) after done. */
void fanout_run(dfm_ctx_t *ctx, fanout_fn fn, fanout_done_fn done, void *arg,
                void (*free_arg)(void *));

/* fanout_run, or inside EXEC (ctx->tx: the reply must be written at once) this worker only. */
void fanout_run_or_here(dfm_ctx_t *ctx, fanout_fn fn, fanout_done_fn done, void *arg,
                        void (*free_arg)(void *));
/* Sum of the decimal counts the workers wrote into their parts (a done step's helper). */
long long fanout_sum_parts(const rbuf_t *parts, int n);

#endif
