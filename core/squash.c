/*
 * squash.c: squashed pipelines (see squash.h).
 *
 * While a group is open, the client's single-shard commands are gathered per shard (one
 * batch, i.e. one hop, per shard) and their replies put back in pipeline order when every
 * batch is back. To keep Redis's ordering guarantees:
 *   - a read-only command may join any shard's batch, or run at once on a local shard: a
 *     read that runs earlier than the commands before it cannot be told apart;
 *   - a write joins only when every open batch is for its own shard (same-shard order is
 *     kept, and no write overtakes a pending command on another shard);
 *   - anything else closes the group: it is sent, and the command waits for it.
 * A write that had to close a group because it needed another shard (remote or its own
 * thread's: at --threads 2 the other shard is always local) marks the client: its
 * next groups are *locked* (tx.c, tx_lgroup_*): every single-shard command joins one
 * transaction that locks all their keys and runs each shard's part in pipeline order, so a
 * pipeline of writes to many shards costs one pass over the shards instead of a round trip
 * per change of shard. A locked group that turns out to touch one shard, or to write
 * nothing, clears the mark.
 */
#include "squash.h"

#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "alloc.h"
#include "block.h"
#include "db.h"
#include "server.h"
#include "tx.h"

#define SQ_MAX_SHARDS 16

typedef struct sq_seg {
    int batch;        /* index into b[], or -1: a local reply in `local` */
    int idx;          /* command index in the batch */
    size_t start, end; /* local reply bytes */
} sq_seg_t;

struct squash {
    void *block; /* a blocking command's wait, attached after the replies */
    int locked;  /* one locked group in b[0] (tx_lgroup_*) */
    int blocking; /* it ends with a blocking command */
    size_t written; /* replies already written by the batch's thread (handoff) */
    int all_written; /* ... all of them */
    int writes;  /* locked: write commands in it */
    tx_t *b[SQ_MAX_SHARDS];
    int nb;
    int sent;
    int ncmds;
    int nseg, capseg;
    sq_seg_t *segs;
    rbuf_t local;
};

int sq_was_sent(const struct squash *sq) { return sq->sent; }

static sq_seg_t *sq_add_seg(struct squash *sq) {
    if (sq->nseg == sq->capseg) {
        sq->capseg = sq->capseg ? sq->capseg * 2 : 16;
        sq->segs = df_realloc(sq->segs, sizeof(sq_seg_t) * (size_t)sq->capseg);
    }
    return &sq->segs[sq->nseg++];
}

/* Finished groups are recycled per thread, with their arrays (SQ_POOL_MAX at most). */
#define SQ_POOL_MAX 32

static _Thread_local struct squash *tl_sqpool[SQ_POOL_MAX];
static _Thread_local int tl_nsqpool;

static struct squash *sq_new(void) {
    if (tl_nsqpool > 0) return tl_sqpool[--tl_nsqpool];
    return df_calloc(sizeof(struct squash));
}

static void sq_destroy(struct squash *sq) {
    df_free(sq->segs);
    rbuf_free(&sq->local);
    df_free(sq);
}

void sq_free(struct squash *sq) {
    for (int i = 0; i < sq->nb; i++)
        if (sq->b[i]) tx_release(sq->b[i]);
    if (tl_nsqpool == SQ_POOL_MAX || sq->local.cap > 16 * 1024 || sq->capseg > 1024) {
        sq_destroy(sq);
        return;
    }
    sq_seg_t *segs = sq->segs;
    int capseg = sq->capseg;
    rbuf_t local = sq->local;
    memset(sq, 0, sizeof *sq);
    sq->segs = segs;
    sq->capseg = capseg;
    sq->local.data = local.data;
    sq->local.cap = local.cap;
    tl_sqpool[tl_nsqpool++] = sq;
}

void sq_worker_exit(void) {
    while (tl_nsqpool > 0) sq_destroy(tl_sqpool[--tl_nsqpool]);
}

/* The group's batch for shard sid (created on first use); -1 when the group is full. */
static int sq_batch(conn_t *c, int sid) {
    struct squash *sq = c->sq;
    for (int i = 0; i < sq->nb; i++)
        if (tx_batch_shard(sq->b[i]) == sid) return i;
    if (sq->nb == SQ_MAX_SHARDS) return -1;
    sq->b[sq->nb] = tx_batch_new(c, sid);
    tx_batch_set_squash(sq->b[sq->nb]);
    return sq->nb++;
}

/* 1 if every open batch is for shard sid. */
static int sq_only_shard(const struct squash *sq, int sid) {
    for (int i = 0; i < sq->nb; i++)
        if (tx_batch_shard(sq->b[i]) != sid) return 0;
    return 1;
}

int sq_reply_iov(const struct squash *sq, const tx_t *t, struct iovec *iov, int max) {
    int n = 0;
    for (int i = 0; i < sq->nseg && n < max; i++) {
        const sq_seg_t *g = &sq->segs[i];
        size_t len;
        const char *p;
        if (g->batch < 0) {
            p = sq->local.data + g->start;
            len = g->end - g->start;
        } else {
            p = tx_batch_reply(t, g->idx, &len);
        }
        if (len == 0) continue;
        iov[n].iov_base = (void *)(uintptr_t)p;
        iov[n++].iov_len = len;
    }
    return n;
}

/* Move the client's unwritten output into the group, as its first reply piece. */
static void sq_take_output(conn_t *c, struct squash *sq) {
    sq_add_seg(sq);
    memmove(sq->segs + 1, sq->segs, sizeof(sq_seg_t) * (size_t)(sq->nseg - 1));
    sq_seg_t *g = &sq->segs[0];
    g->batch = -1;
    g->start = sq->local.len;
    rbuf_append(&sq->local, c->obuf.data + c->opos, c->obuf.len - c->opos);
    g->end = sq->local.len;
    c->obuf.len = c->opos = 0;
}

void sq_send(conn_t *c) {
    struct squash *sq = c->sq;
    sq->sent = 1;
    /* One unlocked batch, or a locked group that ends on another thread: that thread can
       write the whole group's replies itself (reply handoff), after the replies still
       waiting in the output buffer, which move into the group. */
    if (sq->nb == 1 && (!sq->locked || tx_lgroup_ends_remote(sq->b[0])) &&
        sq->nseg < SQ_IOV_MAX && !sq->blocking && g_nworkers > 1 && conn_handoff_ok(c)) {
        if (c->obuf.len > c->opos) sq_take_output(c, sq);
        tx_set_handoff_squash(sq->b[0]);
    }
    if (sq->locked) {
        if (tx_lgroup_shards(sq->b[0]) < 2 || sq->writes == 0) c->sq_locked = 0;
        tx_lgroup_dispatch(sq->b[0]);
        return;
    }
    for (int i = 0; i < sq->nb && !(c->flags & CONN_CLOSING); i++) tx_dispatch(sq->b[i]);
}

/* Every batch of the group is back: replies go out in pipeline order (the first
   sq->written bytes already went, by handoff). */
static void sq_assemble(conn_t *c) {
    struct squash *sq = c->sq;
    size_t start = c->obuf.len, written = sq->written;
    int n = sq->all_written ? 0 : sq->nseg;
    for (int i = 0; i < n; i++) {
        const sq_seg_t *g = &sq->segs[i];
        if (g->batch < 0) {
            rbuf_append(&c->obuf, sq->local.data + g->start, g->end - g->start);
        } else {
            size_t len;
            const char *p = tx_batch_reply(sq->b[g->batch], g->idx, &len);
            rbuf_append(&c->obuf, p, len);
        }
    }
    if (written && n) { /* a short handoff write: the rest goes from here */
        c->opos = start + written;
        if (c->opos == c->obuf.len) c->opos = c->obuf.len = 0;
    }
    c->sq = NULL;
    sq_free(sq);
}

void conn_squash_delivered(conn_t *c, tx_t *t) {
    if (c->sq->nb == 1) /* a handoff, if any, is of the single batch */
        c->sq->written = tx_handoff_written(t, &c->sq->all_written);
    void *blk = tx_take_block(t); /* the group owns its batches */
    if (blk) {
        if (c->flags & CONN_CLOSING)
            block_drop(blk);
        else
            c->sq->block = blk;
    }
    c->pending--;
    if (c->pending) return;
    if (c->flags & CONN_CLOSING) {
        sq_free(c->sq);
        c->sq = NULL;
        conn_release(c);
        return;
    }
    void *block = c->sq->block;
    /* pushes that came meanwhile (the group's own keyspace events among them) go before
       its replies, as Redis writes an event before the reply of the command that caused
       it; not after a handoff (replies already on the wire; subscribed clients get none) */
    if (c->pushq.len && !c->sq->written && !c->sq->all_written && conn_pushes_may_lead(c) &&
        !(c->flags & CONN_CLOSING))
        conn_push_move(c);
    sq_assemble(c);
    if (block) block_attach(c, block);
    if (!(c->flags & CONN_IN_DISPATCH)) conn_resume(c);
}

/* Add a command to a locked group. */
static void sq_locked_add(struct squash *sq, const cmd_t *cmd, int argc, dfm_str_t *argv,
                          int sid) {
    sq_seg_t *g = sq_add_seg(sq);
    g->batch = 0;
    g->idx = tx_lgroup_add(sq->b[0], cmd, argc, argv, sid);
    sq->ncmds++;
    if (cmd->flags & CMD_WRITE) sq->writes++;
}

/* Try to add a single-shard command to the open group; 0 if it cannot join. */
int sq_join(conn_t *c, const cmd_t *cmd, int argc, dfm_str_t *argv, int sid) {
    struct squash *sq = c->sq;
    shard_t *s = &g_shards[sid];
    int readonly = (cmd->flags & CMD_READONLY) && !cmd->multi;
    if (sq->ncmds >= SQ_MAX_CMDS || (cmd->flags & CMD_BLOCKING)) return 0;
    if (sq->locked) {
        sq_locked_add(sq, cmd, argc, argv, sid);
        return 1;
    }
    if (s->owner == c->w->id) {
        if (!readonly) {
            c->sq_locked = 1; /* a write to another shard than the open batch's */
            return 0;
        }
        if (tx_must_wait(s, c->db, cmd, argc, argv)) return 0;
        sq_seg_t *g = sq_add_seg(sq);
        g->batch = -1;
        g->start = sq->local.len;
        server_call_into(c, cmd, argc, argv, s, &sq->local);
        g->end = sq->local.len;
        sq->ncmds++;
        return 1;
    }
    if (!readonly && !sq_only_shard(sq, sid)) {
        c->sq_locked = 1; /* writes to several shards: lock the next groups */
        return 0;
    }
    int b = sq_batch(c, sid);
    if (b < 0) return 0;
    sq_seg_t *g = sq_add_seg(sq);
    g->batch = b;
    g->idx = tx_batch_size(sq->b[b]);
    tx_batch_add(sq->b[b], cmd, argc, argv);
    sq->ncmds++;
    return 1;
}

/* The first command of a group: a remote shard, or a local one whose keys are locked. */
void sq_start(conn_t *c, const cmd_t *cmd, int argc, dfm_str_t *argv, int sid) {
    struct squash *sq = c->sq = sq_new();
    if (c->sq_locked && !(cmd->flags & CMD_BLOCKING)) {
        sq->locked = 1;
        sq->b[0] = tx_lgroup_new(c);
        sq->nb = 1;
        sq_locked_add(sq, cmd, argc, argv, sid);
        return;
    }
    int b = sq_batch(c, sid);
    sq_seg_t *g = sq_add_seg(sq);
    g->batch = b;
    g->idx = tx_batch_size(sq->b[b]);
    tx_batch_add(sq->b[b], cmd, argc, argv);
    sq->ncmds++;
    if (cmd->flags & CMD_BLOCKING) { /* nothing may follow it */
        sq->blocking = 1;
        sq_send(c);
    }
}


rbuf_t *sq_local_reply(conn_t *c) {
    sq_seg_t *g = sq_add_seg(c->sq);
    g->batch = -1;
    g->start = g->end = c->sq->local.len;
    return &c->sq->local;
}

void sq_local_reply_end(conn_t *c) { c->sq->segs[c->sq->nseg - 1].end = c->sq->local.len; }
