/*
 * aof_hold.c: appendfsync always, as Redis promises it: a client's reply to a write leaves
 * only once the write is on disk.
 *
 * server_prepare marks a client that runs a write (c->aof_hold) while the AOF writes with
 * appendfsync always. When its replies are about to be written (conn_flush), everything it
 * ran is finished and journaled, so a stream mark queued then (backlog_mark) lands after its
 * writes. The client is parked (pending, so it runs nothing more) in its worker's list until
 * the AOF thread has fsynced the stream up to the mark (aof_hold_synced), then its replies
 * go. The worker never waits: it looks again when the AOF thread posts it after an fsync,
 * and every millisecond while a client is parked (a mark's offset may be set after the
 * fsync that covers it).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <event2/event.h>

#include "aof.h"
#include "alloc.h"
#include "backlog.h"
#include "conn.h"
#include "dispatch.h"
#include "worker.h"

atomic_int g_aof_always;
static _Atomic long long g_synced = -1;
static atomic_int g_parked[CMD_MAX_WORKERS]; /* clients parked per worker (its own writes) */
static atomic_int g_posted[CMD_MAX_WORKERS]; /* a check is on its way to the worker */

static _Thread_local struct {
    conn_t **v;
    int n, cap;
    struct event *tick;
} tl_hold;

static void hold_check(void);

static void hold_on_tick(evutil_socket_t fd, short what, void *arg) {
    (void)fd, (void)what, (void)arg;
    hold_check();
}

static void hold_arm(void) {
    if (!tl_hold.tick) tl_hold.tick = evtimer_new(tl_worker->base, hold_on_tick, NULL);
    struct timeval tv = {0, 1000};
    evtimer_add(tl_hold.tick, &tv);
}

/* 1 once c's mark is on disk (or there is nothing to wait for any more). */
static int hold_done(const conn_t *c) {
    if ((c->flags & CONN_CLOSING) || !atomic_load_explicit(&g_aof_always, memory_order_relaxed))
        return 1;
    long long off = backlog_mark_offset(c->aof_mark);
    return off >= 0 && atomic_load(&g_synced) >= off;
}

static void hold_end(conn_t *c) {
    backlog_mark_release(c->aof_mark);
    c->aof_mark = NULL;
    c->aof_hold = 0;
}

int aof_hold_reply(conn_t *c) {
    if (c->aof_mark) return 1; /* parked: released by hold_check */
    if (!atomic_load_explicit(&g_aof_always, memory_order_relaxed) || (c->flags & CONN_MASTER)) {
        c->aof_hold = 0;
        return 0;
    }
    c->aof_mark = backlog_mark(0);
    if (hold_done(c)) {
        hold_end(c);
        return 0;
    }
    if (tl_hold.n == tl_hold.cap) {
        tl_hold.cap = tl_hold.cap ? tl_hold.cap * 2 : 16;
        tl_hold.v = df_realloc(tl_hold.v, sizeof(conn_t *) * (size_t)tl_hold.cap);
    }
    tl_hold.v[tl_hold.n++] = c;
    atomic_fetch_add(&g_parked[c->w->id], 1);
    c->pending++;
    worker_awaiting_add(c->w, 1); /* a stopping worker waits for it (a closed one is let go) */
    hold_arm();
    return 1;
}

/* Release the parked clients whose writes are on disk: their replies go, their input runs. */
static void hold_check(void) {
    conn_t *done[64];
    int nd = 0;
    for (int i = 0; i < tl_hold.n && nd < 64;) {
        conn_t *c = tl_hold.v[i];
        if (!hold_done(c)) {
            i++;
            continue;
        }
        tl_hold.v[i] = tl_hold.v[--tl_hold.n];
        done[nd++] = c;
    }
    if (nd) atomic_fetch_sub(&g_parked[tl_worker->id], nd);
    for (int i = 0; i < nd; i++) { /* a resumed client may park again: the list is settled */
        conn_t *c = done[i];
        hold_end(c);
        c->pending--;
        worker_awaiting_add(c->w, -1);
        if (!(c->flags & CONN_CLOSING)) conn_flush(c);
        conn_resume(c);
    }
    if (tl_hold.n) hold_arm();
}

static void hold_on_post(void *arg) {
    (void)arg;
    atomic_store(&g_posted[tl_worker->id], 0);
    hold_check();
}

void aof_hold_synced(long long off) {
    atomic_store(&g_synced, off);
    for (int i = 0; i < g_nworkers && i < CMD_MAX_WORKERS; i++)
        if (atomic_load(&g_parked[i]) && !atomic_exchange(&g_posted[i], 1)) worker_post(i, hold_on_post, NULL);
}

void aof_hold_worker_exit(void) {
    for (int i = 0; i < tl_hold.n; i++) { /* the clients are closed and freed with the worker */
        backlog_mark_release(tl_hold.v[i]->aof_mark);
        tl_hold.v[i]->aof_mark = NULL;
    }
    df_free(tl_hold.v);
    tl_hold.v = NULL;
    tl_hold.n = tl_hold.cap = 0;
    if (tl_hold.tick) event_free(tl_hold.tick);
    tl_hold.tick = NULL;
}
