/*
 * reply.h: output buffers and the RESP2/RESP3 reply writer.
 *
 * rbuf_t is a growable byte buffer owned by whoever holds it (a connection's output buffer,
 * or the reply area of a message travelling to a remote shard and back). The reply_*
 * functions render one value in the protocol version of the context (ctx->resp) into
 * ctx->out. They are also the implementation of the api->reply_* functions modules call.
 */
#ifndef DF_REPLY_H
#define DF_REPLY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "dragonfly/module.h"

typedef struct rbuf {
    char *data;
    size_t len, cap;
} rbuf_t;

void rbuf_grow(rbuf_t *b, size_t need); /* ensure cap >= len + need */
void rbuf_free(rbuf_t *b);
/* Append a command as a client sends it: a RESP array of bulk strings. */
void rbuf_append_command(rbuf_t *b, int argc, const dfm_str_t *argv);
static inline void rbuf_append(rbuf_t *b, const void *p, size_t n) {
    if (n == 0) return;
    if (b->cap - b->len < n) rbuf_grow(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

struct shard;
struct conn;
struct cmd;

/* One command execution (see module.h dfm_ctx_t). Lives on the stack of whoever runs the
   command; `conn` is only safe to touch on the connection's own thread. */
struct dfm_ctx {
    rbuf_t *out;
    struct shard *shard;   /* the shard whose keys this execution may touch */
    struct conn *conn;     /* the client (its own thread only), NULL for internal calls */
    const struct cmd *cmd;
    int resp;              /* 2 or 3 */
    int db;
    int errors;            /* error replies written (for MULTI and stats) */
    int blocked;           /* the handler parked the client (block_on_keys) */
    void *tx;              /* struct tx when running inside a transaction */
    struct conn *client;   /* the client this runs for (touch only on client_worker) */
    int client_worker;
    void *block;           /* a block_wait the command asked for (block.c) */
    int argc;              /* the command's arguments (for block_on_keys) */
    const dfm_str_t *argv;
};

void reply_ok(dfm_ctx_t *ctx);
void reply_simple(dfm_ctx_t *ctx, const char *s);
void reply_error(dfm_ctx_t *ctx, const char *err);
void reply_errorf(dfm_ctx_t *ctx, const char *fmt, ...) DFM_PRINTF(2, 3);
void reply_int(dfm_ctx_t *ctx, long long v);
void reply_bulk(dfm_ctx_t *ctx, const void *p, size_t len);
void reply_cstr(dfm_ctx_t *ctx, const char *s);
void reply_null(dfm_ctx_t *ctx);
void reply_null_array(dfm_ctx_t *ctx);
void reply_array(dfm_ctx_t *ctx, long n);
void reply_map(dfm_ctx_t *ctx, long n);
void reply_set(dfm_ctx_t *ctx, long n);
void reply_push(dfm_ctx_t *ctx, long n);
void reply_double(dfm_ctx_t *ctx, double d);
void reply_bool(dfm_ctx_t *ctx, int b);
void reply_verbatim(dfm_ctx_t *ctx, const char *p, size_t len);
void reply_wrongtype(dfm_ctx_t *ctx);
void reply_syntax_error(dfm_ctx_t *ctx);
void reply_raw(dfm_ctx_t *ctx, const void *p, size_t len);
int reply_resp_version(dfm_ctx_t *ctx);

#endif
