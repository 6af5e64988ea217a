/*
 * backlog.h: the replication stream, one ordered byte stream in one offset space
 * (master_repl_offset) that every replica reads at its own offset, and the backlog: the
 * stream's last repl-backlog-size bytes kept so that a replica that lost its link can continue
 * with PSYNC instead of a full sync.
 *
 * Writers (worker threads, wherever a write runs) push records with one atomic exchange onto
 * a lock-free MPSC queue and never wait; a worker wakes the feeder at most once per loop
 * iteration (backlog_ring_pending), the feeder its readers once per batch. One feeder thread takes them in queue order, inserts
 * SELECT when the db changes, and appends them to a list of 16 KB blocks. A replica's sender
 * thread (master.c) reads the blocks at its own offset and writes them to its socket; a block
 * is freed once it is older than the backlog and every reader is past it. Only the feeder and
 * the senders take the stream's mutex, never a worker.
 *
 * A full sync's snapshot cut runs shard by shard; each shard pushes a cut marker there. Until
 * the last marker, the feeder holds back records of shards already cut (after their cut, so
 * not in the snapshot) and appends those of shards not cut yet (in the snapshot): the offset
 * at the last marker splits the stream exactly into what the snapshot has and what follows
 * it. Records of different shards commute (single-shard writes touch different keys, and no
 * multi-shard write can run while the cut holds every shard), so the reordering is invisible.
 *
 * While no backlog exists (no replica since start, or for repl-backlog-ttl seconds) writers
 * pay one relaxed load (backlog_on) and push nothing.
 */
#ifndef DF_BACKLOG_H
#define DF_BACKLOG_H

#include <stdatomic.h>
#include <stddef.h>

#include "reply.h"

extern atomic_int g_backlog_on;

/* 1 while the stream exists: writers must push their writes. Any thread, one relaxed load. */
static inline int backlog_on(void) { return atomic_load_explicit(&g_backlog_on, memory_order_relaxed); }

/* A reader of the stream (a replica's sender thread). The fields under the stream's mutex are
   the stream's; the sender only calls the functions below. */
typedef struct backlog_reader {
    long long pos;          /* under the mutex: the next byte to send */
    void *blk;              /* under the mutex: the block holding pos, or NULL */
    int attached, dead;     /* under the mutex: registered; the stream was reset under it */
    _Atomic long long cut;  /* a full sync's first offset, -1 until its snapshot's cut closed */
    int efd;                /* doorbell (eventfd): new bytes, the cut */
    atomic_int sleeping;    /* the sender waits on efd */
} backlog_reader_t;

/* Make the stream exist (a replica asks for it): a new one starts at the current offset, under
   a fresh replication id when fresh_id (a master with no history to keep). Any thread. */
void backlog_enable(int fresh_id);
/* A write (RESP in b) that ran on shard `shard` in db `db`, leaving db_after selected. Writer
   thread; b is copied. Pushes nothing while the stream is off. */
void backlog_push(int shard, int db, int db_after, const rbuf_t *b);
/* A worker's pushes leave the feeder unrung; the worker calls this once per loop iteration
   (before it sleeps), so a busy worker rings at most once per batch. Worker thread. */
void backlog_ring_pending(void);
/* Shard `shard` passed the snapshot cut of the full sync that reader r waits for (the shard's
   thread, in the cut phase). */
void backlog_cut(backlog_reader_t *r, int shard);

/* Readers (sender threads; attaching waits for a promotion under way). attach_at: from
   offset pos (a PSYNC's offset - 1) if the stream still holds it: 0, else -1. attach_cut:
   from the next cut (backlog_cut), -1 if the stream is off. read: advance by `sent` bytes, then the next contiguous bytes at the reader's
   offset (*p, their count; 0 when there are none yet), or -1 when the reader must stop (the
   stream was reset, or the reader lags more than `limit` bytes). */
int backlog_attach_at(backlog_reader_t *r, long long pos);
int backlog_attach_cut(backlog_reader_t *r);
/* attach_end: from the stream's end (its offset in *pos), with a SELECT before the next
   write (a reader that knows no db yet: the AOF at start-up). 0, or -1 if the stream is off. */
int backlog_attach_end(backlog_reader_t *r, long long *pos);
long long backlog_read(backlog_reader_t *r, size_t sent, const char **p, long long limit);
void backlog_detach(backlog_reader_t *r);
void backlog_reader_init(backlog_reader_t *r);
void backlog_reader_free(backlog_reader_t *r);

/* WAIT: a mark queued after every write pushed so far. Its offset (-1 until the feeder reached
   it) is the stream offset those writes end at; with want_ack the feeder asks the replicas for
   an ack right after it. Release it when done (the feeder may still hold it). Any thread. */
typedef struct backlog_mark backlog_mark_t;
backlog_mark_t *backlog_mark(int want_ack);
long long backlog_mark_offset(const backlog_mark_t *m);
void backlog_mark_release(backlog_mark_t *m);

/* Becoming a master after following one up to `offset`: the stream restarts there, empty,
   every reader is dropped, and the next write is preceded by SELECT. Any thread. */
void backlog_promote(long long offset);
/* Becoming a replica: the stream goes away (writers stop pushing), readers are dropped. */
void backlog_stop(void);
/* Wait (up to 1 s) until the feeder has taken every record pushed so far. Never a worker. */
void backlog_settle(void);

/* master_repl_offset. Any thread. */
long long backlog_offset(void);
/* INFO replication's repl_backlog_* lines. Any thread. */
void backlog_info(rbuf_t *b);
/* Shutdown (main thread, workers stopped): stop the feeder, free everything. */
void backlog_shutdown(void);

/* INFO: bytes the backlog holds (its history). Any thread. */
long long backlog_histlen(void);

#endif
