/* block.c: blocking clients (placeholder until the blocking framework lands). */
#include "block.h"

#include "reply.h"

void block_on_keys(dfm_ctx_t *ctx, const int *keys, int nkeys, int64_t timeout_ms,
                   dfm_unblock_fn on_ready) {
    (void)keys, (void)nkeys, (void)timeout_ms, (void)on_ready;
    reply_null_array(ctx);
}
void block_signal_key(shard_t *s, int db, const char *key, size_t len) { (void)s, (void)db, (void)key, (void)len; }
void block_cancel(conn_t *c) { (void)c; }
int block_unblock(conn_t *c, int with_error) { (void)c, (void)with_error; return 0; }
void block_shard_free(shard_t *s) { (void)s; }
void block_cron(worker_t *w) { (void)w; }
long block_count(void) { return 0; }
