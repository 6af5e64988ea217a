/* fanout.c: see fanout.h. */
#include "fanout.h"

#include <stdatomic.h>
#include <string.h>

#include "alloc.h"
#include "util.h"

typedef struct fanout {
    msg_t m; /* the final hop back to the client's thread */
    conn_t *c;
    int origin;
    atomic_int left;
    fanout_fn fn;
    fanout_done_fn done;
    void *arg;
    void (*free_arg)(void *);
    rbuf_t *parts;
    int resp, db;
} fanout_t;

typedef struct fanout_part {
    msg_t m;
    fanout_t *f;
} fanout_part_t;

static void fanout_finish(msg_t *m) {
    fanout_t *f = (fanout_t *)m;
    conn_t *c = f->c;
    if (!(c->flags & CONN_CLOSING)) {
        dfm_ctx_t ctx;
        conn_ctx(c, &ctx, NULL);
        f->done(&ctx, f->parts, g_nworkers, f->arg);
    }
    for (int i = 0; i < g_nworkers; i++) rbuf_free(&f->parts[i]);
    df_free(f->parts);
    if (f->free_arg) f->free_arg(f->arg);
    c->pending--;
    df_free(f);
    if (!(c->flags & CONN_IN_DISPATCH)) conn_resume(c);
}

static void fanout_on_worker(msg_t *m) {
    fanout_part_t *p = (fanout_part_t *)m;
    fanout_t *f = p->f;
    f->fn(tl_worker, &f->parts[tl_worker->id], f->arg);
    df_free(p);
    if (atomic_fetch_sub(&f->left, 1) != 1) return;
    f->m.fn = fanout_finish;
    if (f->origin == tl_worker->id)
        fanout_finish(&f->m);
    else
        worker_send(f->origin, &f->m);
}

void fanout_run(dfm_ctx_t *ctx, fanout_fn fn, fanout_done_fn done, void *arg,
                void (*free_arg)(void *)) {
    conn_t *c = ctx->conn;
    fanout_t *f = df_calloc(sizeof *f);
    f->c = c;
    f->origin = c->w->id;
    f->fn = fn;
    f->done = done;
    f->arg = arg;
    f->free_arg = free_arg;
    f->parts = df_calloc(sizeof(rbuf_t) * (size_t)g_nworkers);
    atomic_init(&f->left, g_nworkers);
    uint32_t was = c->flags & CONN_IN_DISPATCH;
    c->flags |= CONN_IN_DISPATCH;
    c->pending++;
    for (int i = 0; i < g_nworkers; i++) {
        fanout_part_t *p = df_malloc(sizeof *p);
        p->m.fn = fanout_on_worker;
        p->f = f;
        if (i == c->w->id)
            fanout_on_worker(&p->m);
        else
            worker_send(i, &p->m);
    }
    c->flags = (c->flags & ~CONN_IN_DISPATCH) | was;
}

void fanout_run_or_here(dfm_ctx_t *ctx, fanout_fn fn, fanout_done_fn done, void *arg,
                        void (*free_arg)(void *)) {
    if (!ctx->tx) {
        fanout_run(ctx, fn, done, arg, free_arg);
        return;
    }
    rbuf_t *parts = df_calloc(sizeof(rbuf_t) * (size_t)g_nworkers);
    fn(ctx->conn->w, &parts[ctx->conn->w->id], arg);
    done(ctx, parts, g_nworkers, arg);
    for (int i = 0; i < g_nworkers; i++) rbuf_free(&parts[i]);
    df_free(parts);
    if (free_arg) free_arg(arg);
}

long long fanout_sum_parts(const rbuf_t *parts, int n) {
    long long sum = 0, v;
    for (int i = 0; i < n; i++)
        if (parts[i].len && util_str2ll(parts[i].data, parts[i].len, &v) == 0) sum += v;
    return sum;
}
