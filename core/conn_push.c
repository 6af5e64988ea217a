/*
 * conn_push.c: what modules keep per client, and pushes to a client.
 *
 * Slots: a module reserves a slot at init (api register_client_slot) and keeps a pointer per
 * client there; its release callback runs on the client's thread when the client closes or
 * sends RESET. The pubsub module keeps a client's subscriptions this way.
 *
 * Pushes: a message published to a client is rendered into the client's push queue, never
 * straight into its output buffer, which may hold half of a reply being built (EXEC's array)
 * or belong to another thread for a while (reply handoff). The queue joins the output at the
 * next point between replies: the end of the event-loop iteration when the client waits for
 * nothing, or when its pending command returns (conn_resume). A client whose unsent output
 * passes its client-output-buffer-limit (conn_obuf_over) is closed at the end of the
 * iteration.
 */
#include <string.h>

#include "conn.h"
#include "log.h"

static dfm_client_release_fn slot_release[CONN_SLOTS];
static int conn_nslots;

static _Thread_local dfm_ctx_t push_ctx;
static _Thread_local rbuf_t push_dropped; /* pushes to a client being closed */

int conn_slot_register(dfm_client_release_fn release) {
    if (conn_nslots == CONN_SLOTS) return -1;
    slot_release[conn_nslots] = release;
    return conn_nslots++;
}

void conn_release_slots(conn_t *c) {
    for (int i = 0; i < conn_nslots; i++) {
        void *data = c->slots[i];
        if (!data) continue;
        c->slots[i] = NULL;
        if (slot_release[i]) slot_release[i]((dfm_client_t *)c, data);
    }
    c->nsub = c->npsub = c->nssub = 0;
}

/* 1 if c's output buffer holds only whole replies and is the client's thread's to extend. */
static int conn_between_replies(const conn_t *c) {
    return !c->pending && !c->sq && !c->mg && !c->handoff &&
           !(c->flags & (CONN_IN_DISPATCH | CONN_CLOSING));
}

dfm_ctx_t *conn_push_ctx(conn_t *c) {
    dfm_ctx_t *ctx = &push_ctx;
    memset(ctx, 0, sizeof *ctx);
    ctx->conn = ctx->client = c;
    ctx->client_worker = c->w->id;
    ctx->resp = c->resp;
    ctx->db = c->db;
    ctx->out = &c->pushq;
    if (c->flags & (CONN_CLOSING | CONN_PUSH_KILL)) {
        push_dropped.len = 0;
        ctx->out = &push_dropped;
        return ctx;
    }
    if (conn_obuf_over(c)) {
        c->flags |= CONN_PUSH_KILL;
        push_dropped.len = 0;
        ctx->out = &push_dropped;
    }
    conn_flush_later(c);
    return ctx;
}

void conn_push_move(conn_t *c) {
    rbuf_append(&c->obuf, c->pushq.data, c->pushq.len);
    c->pushq.len = 0;
    if (c->pushq.cap > 64 * 1024) rbuf_free(&c->pushq);
}

void conn_push_insert(conn_t *c, size_t at) {
    size_t n = c->pushq.len, tail = c->obuf.len - at;
    if (c->obuf.cap - c->obuf.len < n) rbuf_grow(&c->obuf, n);
    memmove(c->obuf.data + at + n, c->obuf.data + at, tail);
    memcpy(c->obuf.data + at, c->pushq.data, n);
    c->obuf.len += n;
    c->pushq.len = 0;
    if (c->pushq.cap > 64 * 1024) rbuf_free(&c->pushq);
}

int conn_take_pushes(conn_t *c, int pending_ok) {
    if (!c->pushq.len) return 0;
    if (pending_ok ? (c->sq || c->mg || c->handoff || (c->flags & CONN_CLOSING))
                   : !conn_between_replies(c))
        return 0;
    conn_push_move(c);
    return 1;
}

void conn_push_worker_exit(void) { rbuf_free(&push_dropped); }
