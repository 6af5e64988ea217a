/*
 * snapshot.h: point-in-time RDB snapshots without fork (SAVE, BGSAVE, save points, the save
 * at shutdown), written in Redis's RDB format so redis-server and redis-check-rdb read them.
 *
 * A snapshot starts with a cut: an all-shards transaction (so no multi-shard write is half
 * in it) whose phase, on each shard, starts a point-in-time pass over the shard's tables
 * (table_snap_begin). From then on the shard's thread writes its tables out a slice at a time
 * from its event loop, and a bucket about to change is written out first, so what lands in
 * the file is the keyspace as it was at the cut while clients keep writing. Shards hand
 * finished chunks (each self-contained: it starts with SELECTDB) to a writer thread, the only
 * one that touches the disk; it appends the EOF marker and CRC-64, fsyncs and renames the
 * temporary file over dbfilename in dir.
 */
#ifndef DF_SNAPSHOT_H
#define DF_SNAPSHOT_H

#include <stdint.h>

#include "reply.h"
#include "table.h"

struct conn;
struct shard;
struct worker;

/* Start a snapshot (a worker thread). waiter: a client parked on SAVE (its pending count
   already raised) to be answered when the file is written, or NULL. 0 started, -1 one is
   already running. */
int snapshot_start(struct conn *waiter);
int snapshot_running(void);
/* Who a snapshot into a file of its own is for (a replica's full sync, an AOF rewrite's base):
   cut runs on each shard's thread in the cut phase (the stream learns where that shard's
   writes stop being in the file), done on the writer thread once path is written (ok 1) or
   failed (0). aof_base: the file is an AOF base (its aof-base aux field says 1). */
typedef struct snapshot_sink {
    void (*cut)(void *arg, int shard);
    void (*done)(void *arg, int ok);
    void *arg;
    int aof_base;
} snapshot_sink_t;
/* A snapshot into path for sink (copied). Worker thread. 0, or -1 while another runs. */
int snapshot_start_for(const snapshot_sink_t *sink, const char *path);
/* FLUSHALL: with save points set, Redis saves the emptied dataset at once (so a restart does
   not bring the keys back); we schedule a snapshot for worker 0's next cron tick. */
void snapshot_after_flushall(void);
/* 1 while the last snapshot failed, save points are set and stop-writes-on-bgsave-error is
   on: write commands (and PING, as in Redis) get snapshot_misconf_error. Any thread. */
int snapshot_refuses_writes(void);
extern const char *const snapshot_misconf_error;

/* db_flush found t (db `db` of shard s) in a running snapshot: the snapshot keeps the table
   and frees it when done. Shard thread. Returns 1 if it took the table. */
int snapshot_adopt_table(struct shard *s, table_t *t);

/* Worker 0's cron: start a BGSAVE when a save point (`save` config) is reached. */
void snapshot_cron(struct worker *w);
/* Worker exit: abandon this worker's part of a running snapshot. */
void snapshot_worker_exit(struct worker *w);

/* Main thread at shutdown, clients closed: take a snapshot and wait for it. 0 on success. */
int snapshot_save_and_wait(void);

/* Main thread: wait until no snapshot runs (before workers stop, and after). */
void snapshot_wait_idle(void);

/* LASTSAVE and INFO persistence. */
int64_t snapshot_lastsave(void);
void snapshot_info(rbuf_t *b);
/* The load at start-up sets these (rdb_load.c). */
void snapshot_note_load(uint64_t loaded, uint64_t expired);

/* Path of dir/dbfilename (malloc'd, caller frees). */
char *snapshot_path(void);


#endif
