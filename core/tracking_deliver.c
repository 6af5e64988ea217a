/*
 * tracking_deliver.c: the client side of client-side caching: each worker's index of its
 * clients by id (those that track, and those others redirect to), and the delivery of
 * invalidation records on the client's own thread (see tracking.h).
 *
 * A record names its client by id: a client closed meanwhile has left the index and the
 * record is dropped. The mode is checked here, when the push is due, as Redis checks it
 * when it sends: a client that turned tracking off, or switched to BCAST, gets nothing.
 */
#include <string.h>

#include "alloc.h"
#include "tracking_int.h"
#include "worker.h"

/* ------------------------------------------------------------------------------------ */
/* The id index: open addressing with linear probing, backward-shift deletion             */

static size_t map_home(uint64_t id, size_t cap) {
    return (size_t)(id * 0x9E3779B97F4A7C15ull >> 17) & (cap - 1);
}

static void map_put(track_thread_t *tt, uint64_t id, conn_t *c) {
    size_t i = map_home(id, tt->mapcap);
    while (tt->map[i].id && tt->map[i].id != id) i = (i + 1) & (tt->mapcap - 1);
    if (!tt->map[i].id) tt->mapn++;
    tt->map[i].id = id;
    tt->map[i].c = c;
}

static void map_grow(track_thread_t *tt) {
    track_slot_t *old = tt->map;
    size_t oldcap = tt->mapcap;
    tt->mapcap = oldcap ? oldcap * 2 : 16;
    tt->map = df_calloc(tt->mapcap * sizeof *tt->map);
    tt->mapn = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].id) map_put(tt, old[i].id, old[i].c);
    df_free(old);
}

void tracking__index(conn_t *c) {
    track_thread_t *tt = tracking__me();
    if (c->trk->indexed) return;
    if (2 * (tt->mapn + 1) > tt->mapcap) map_grow(tt);
    map_put(tt, c->id, c);
    c->trk->indexed = 1;
}

conn_t *tracking__lookup(uint64_t id) {
    track_thread_t *tt = tracking__me();
    if (!tt->mapn || !id) return NULL;
    for (size_t i = map_home(id, tt->mapcap); tt->map[i].id; i = (i + 1) & (tt->mapcap - 1))
        if (tt->map[i].id == id) return tt->map[i].c;
    return NULL;
}

static void map_remove(uint64_t id) {
    track_thread_t *tt = tracking__me();
    size_t mask = tt->mapcap - 1, i = map_home(id, tt->mapcap);
    while (tt->map[i].id != id) {
        if (!tt->map[i].id) return;
        i = (i + 1) & mask;
    }
    /* shift later members of the run back over the hole when their home allows it */
    for (size_t j = (i + 1) & mask; tt->map[j].id; j = (j + 1) & mask) {
        size_t h = map_home(tt->map[j].id, tt->mapcap);
        if (((j - h) & mask) >= ((j - i) & mask)) {
            tt->map[i] = tt->map[j];
            i = j;
        }
    }
    tt->map[i].id = 0;
    tt->map[i].c = NULL;
    tt->mapn--;
}

/* ------------------------------------------------------------------------------------ */
/* Rendering                                                                              */

typedef struct track_body {
    const char *p;
    size_t len;
    uint32_t n; /* keys, or TREC_NULL_KEYS */
} track_body_t;

/* The key at *off of a body; advances *off. */
static const char *body_key(const track_body_t *b, size_t *off, uint64_t *writer, uint32_t *len) {
    memcpy(writer, b->p + *off, 8);
    memcpy(len, b->p + *off + 8, 4);
    const char *k = b->p + *off + 12;
    *off += 12 + *len;
    return k;
}

static size_t body_len(const char *p, uint32_t n) {
    size_t off = 0;
    for (uint32_t i = 0; n != TREC_NULL_KEYS && i < n; i++) {
        uint32_t len;
        memcpy(&len, p + off + 8, 4);
        off += 12 + len;
    }
    return off;
}

/* One frame's head: RESP3 push `invalidate`, or (RESP2 subscriber of a redirect) a pub/sub
   message on __redis__:invalidate. */
static void render_head(dfm_ctx_t *ctx, int as_message) {
    if (as_message) {
        reply_push(ctx, 3);
        reply_cstr(ctx, "message");
        reply_cstr(ctx, "__redis__:invalidate");
    } else {
        reply_push(ctx, 2);
        reply_cstr(ctx, "invalidate");
    }
}

/* Queue the invalidation(s) for c: one frame per key (TREC_KEYS), one for all (TREC_BCAST),
   or one with null (TREC_NULL). */
static void render(conn_t *c, int mode, const track_body_t *b, int as_message) {
    dfm_ctx_t *ctx = conn_push_ctx(c);
    if (mode == TREC_NULL) {
        render_head(ctx, as_message);
        reply_null(ctx);
        return;
    }
    if (mode == TREC_BCAST) {
        render_head(ctx, as_message);
        reply_array(ctx, b->n);
    }
    size_t off = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        uint64_t writer;
        uint32_t len;
        const char *k = body_key(b, &off, &writer, &len);
        if (mode == TREC_KEYS) {
            render_head(ctx, as_message);
            reply_array(ctx, 1);
        }
        reply_bulk(ctx, k, len);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Delivery                                                                               */

static _Thread_local rbuf_t deliver_tmp; /* a body with NOLOOP's keys taken out */

/* Drop the keys c changed itself (NOLOOP); 0 if none is left. */
static int body_noloop(conn_t *c, track_body_t *b) {
    size_t off = 0;
    uint32_t keep = 0;
    deliver_tmp.len = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        uint64_t writer;
        uint32_t len;
        const char *k = body_key(b, &off, &writer, &len);
        if (writer == c->id) continue;
        tracking__put_key(&deliver_tmp, writer, k, len);
        keep++;
    }
    if (keep == b->n) return 1;
    b->p = deliver_tmp.data;
    b->len = deliver_tmp.len;
    b->n = keep;
    return keep > 0;
}

/* A record for tracking client `id` (KEYS, BCAST or NULL). */
static void deliver_tracking(uint64_t id, int kind, track_body_t *b) {
    conn_t *c = tracking__lookup(id);
    if (!c || (c->flags & CONN_CLOSING) || !(c->track & TRK_ON)) return;
    if ((kind == TREC_KEYS && (c->track & TRK_BCAST)) || (kind == TREC_BCAST && !(c->track & TRK_BCAST)))
        return; /* read before a switch of mode */
    if (kind != TREC_NULL && (c->track & TRK_NOLOOP) && !body_noloop(c, b)) return;
    if (c->trk && c->trk->redir) {
        track_rec_t f = {.kind = TREC_FWD, .mode = (uint8_t)kind, .origin_worker = (uint16_t)c->w->id,
                         .nkeys = kind == TREC_NULL ? TREC_NULL_KEYS : b->n,
                         .target = c->trk->redir, .origin = c->id};
        tracking__out(c->trk->redir_worker, &f, b->p, b->len);
        return;
    }
    if (c->resp >= 3) render(c, kind, b, 0); /* RESP2 without a redirect: nowhere to send */
}

/* A record redirected to client h->target: it renders it, or the tracking client hears that
   its redirect is gone. */
static void deliver_redirected(const track_rec_t *h, const track_body_t *b) {
    conn_t *r = tracking__lookup(h->target);
    if (!r || (r->flags & CONN_CLOSING)) {
        track_rec_t back = {.kind = TREC_BROKEN, .target = h->origin, .origin = h->target};
        tracking__out(h->origin_worker, &back, NULL, 0);
        return;
    }
    if (r->resp >= 3)
        render(r, h->mode, b, 0);
    else if (conn_subscribed(r))
        render(r, h->mode, b, 1);
}

/* The REDIRECT client of tracking client h->target is gone (Redis tells RESP3 clients). */
static void deliver_broken(const track_rec_t *h) {
    conn_t *c = tracking__lookup(h->target);
    if (!c || (c->flags & CONN_CLOSING) || !(c->track & TRK_ON) || !c->trk || c->trk->redir != h->origin)
        return;
    c->track |= TRK_BROKEN;
    if (c->resp < 3) return;
    dfm_ctx_t *ctx = conn_push_ctx(c);
    reply_push(ctx, 2);
    reply_cstr(ctx, "tracking-redir-broken");
    reply_int(ctx, (long long)h->origin);
}

void tracking__deliver(const char *p, size_t len) {
    size_t off = 0;
    while (off + sizeof(track_rec_t) <= len) {
        track_rec_t h;
        memcpy(&h, p + off, sizeof h);
        off += sizeof h;
        track_body_t b = {p + off, body_len(p + off, h.nkeys), h.nkeys};
        off += b.len;
        if (h.kind == TREC_FWD)
            deliver_redirected(&h, &b);
        else if (h.kind == TREC_BROKEN)
            deliver_broken(&h);
        else
            deliver_tracking(h.target, h.kind, &b);
    }
}

void tracking__deliver_exit(void) { rbuf_free(&deliver_tmp); }

void tracking__null_all(void) {
    track_thread_t *tt = tracking__me();
    for (size_t i = 0; i < tt->mapcap; i++) {
        if (!tt->map[i].id) continue;
        track_body_t b = {NULL, 0, TREC_NULL_KEYS};
        deliver_tracking(tt->map[i].id, TREC_NULL, &b);
    }
}

static void track_null_post(void *arg) {
    (void)arg;
    tracking__null_all();
}

void tracking_flushed(void) {
    if (!atomic_load(&tracking__nclients)) return;
    worker_broadcast(track_null_post, NULL);
}

/* ------------------------------------------------------------------------------------ */
/* A client's life                                                                        */

static void track_drop_post(void *arg) { tracking__prefix_drop((uint64_t)(uintptr_t)arg); }

void tracking_disable(conn_t *c) {
    if (c->track & TRK_BCAST) {
        /* here at once (a later registration by c here must not be undone), elsewhere by
           message, which goes ahead of anything c sends there later */
        tracking__prefix_drop(c->id);
        for (int w = 0; w < g_nworkers; w++)
            if (w != c->w->id) worker_post(w, track_drop_post, (void *)(uintptr_t)c->id);
    }
    if (c->trk) {
        for (int i = 0; i < c->trk->npfx; i++) df_free((void *)c->trk->pfx[i].ptr);
        c->trk->npfx = 0;
        c->trk->redir = 0;
    }
    if (c->track & TRK_ON) atomic_fetch_sub(&tracking__nclients, 1);
    c->track = 0;
}

void tracking__conn_closed(conn_t *c) {
    tracking_disable(c);
    if (!c->trk) return;
    if (c->trk->indexed) map_remove(c->id);
    df_free(c->trk->pfx);
    df_free(c->trk);
    c->trk = NULL;
}
