/*
 * aof.h: the append-only file, in Redis 7.0's multi-part layout, so redis-server loads ours
 * and we load its: dir/appenddirname holds a base file (an RDB snapshot,
 * <appendfilename>.<seq>.base.rdb), incr files of commands (<appendfilename>.<seq>.incr.aof)
 * and the manifest naming them (<appendfilename>.manifest, "file <name> seq <n> type b|i|h").
 *
 * Writing. The AOF is one more reader of the replication stream (backlog.h): every write is
 * there already, as RESP, in execution order, with SELECTs. One AOF thread (never a worker)
 * reads it and appends it to the current incr file, leaving out the stream's own PING and
 * REPLCONF, and fsyncs by appendfsync (always: after every batch it writes; everysec; no).
 * A worker never waits for the disk; with always, a client's replies to its writes wait
 * until the AOF thread has fsynced them (aof_hold.c).
 *
 * Rewriting (BGREWRITEAOF, CONFIG SET appendonly yes, auto-aof-rewrite-*, a start with no
 * AOF yet, and a stream reset under us). A second reader attaches at a snapshot's cut (the
 * snapshot of a replica's full sync, written to a temporary base file); the old reader
 * writes up to the cut into the old incr file, the new one from the cut into a new incr file,
 * so base + incr files always replay to the current data. When the snapshot is written it
 * becomes the new base, the manifest is replaced (written aside, fsynced, renamed) and the
 * old files are deleted.
 *
 * Loading (aof_load.c) at start-up with appendonly yes: the base into the shards like an RDB
 * file, then each incr file's commands through a client of worker 0 fed by a socket pair,
 * answered by nobody, as our master's stream is (conn_adopt_aof). Clients get LOADING.
 */
#ifndef DF_AOF_H
#define DF_AOF_H

#include <stdatomic.h>
#include <stddef.h>

#include "reply.h"

/* ---- finding command boundaries in RESP fed in pieces (aof_walk.c) ---------------------- */

typedef struct aof_walk {
    size_t off;                /* bytes of the current command walked so far */
    long long args;            /* bulk strings left; -1: the array header is next */
    long long need;            /* bytes left of the current bulk and its CRLF; -1: header next */
    size_t name_off, name_len; /* the first argument, within the command */
    int argi;
} aof_walk_t;

void aof_walk_init(aof_walk_t *w);
/* Walk the command that starts at buf[0] (buf[0..n) holds what has come of it, and more):
   1 it is complete, its length in *len (and w is ready for the next one); 0 more bytes are
   needed (w remembers how far it got; call again with the same start and more bytes); -1 not
   a RESP array of bulk strings. A line starting with '#' (an annotation, as Redis's
   aof-timestamp-enabled writes) is a complete command with name_len 0. */
int aof_walk(aof_walk_t *w, const char *buf, size_t n, size_t *len);

/* ---- the manifest (aof_manifest.c) ------------------------------------------------------ */

typedef struct aof_file {
    char *name;
    long long seq;
} aof_file_t;

typedef struct aof_manifest {
    aof_file_t base; /* name NULL: none */
    aof_file_t *incr;
    int nincr;
    long long base_seq, incr_seq; /* the highest sequence numbers seen or used */
} aof_manifest_t;

/* dir/appenddirname (malloc'd), a file in it, the manifest (with suffix: its temporary
   twin), and dir/appendfilename (a single-file AOF of Redis before 7.0). */
char *aof_dir_path(void);
char *aof_file_path(const char *name);
char *aof_manifest_path(const char *suffix);
char *aof_legacy_path(void);
/* Read the manifest: 1 read, 0 there is none, -1 malformed (err). Caller frees with
   aof_manifest_free. */
int aof_manifest_load(aof_manifest_t *m, char *err, size_t cap);
/* Replace the manifest on disk (temporary file, fsync, rename, fsync of the directory). */
int aof_manifest_save(const aof_manifest_t *m);
void aof_manifest_free(aof_manifest_t *m);
/* The next base / incr file's name (and seq), in Redis's naming. */
void aof_manifest_next_base(aof_manifest_t *m, aof_file_t *out);
void aof_manifest_next_incr(aof_manifest_t *m, aof_file_t *out);
void aof_manifest_add_incr(aof_manifest_t *m, aof_file_t f);

/* ---- the AOF thread (aof.c) ------------------------------------------------------------- */

/* After the start-up load (the loader thread or main, workers running, LOADING still on so no
   client write comes first): with appendonly yes, append from here on. m: the manifest the
   load read (taken), or NULL when there was none (a rewrite makes the first base). */
void aof_open_at_start(aof_manifest_t *m);
/* CONFIG SET appendonly / appendfsync changed (any thread). */
void aof_config_changed(void);
/* BGREWRITEAOF: 0 started, 1 scheduled (a snapshot runs), -1 one is in progress. */
int aof_rewrite_request(void);
/* INFO persistence's aof_* lines. Any thread. */
void aof_info(rbuf_t *b);
/* Main thread, workers stopped: write and fsync what the stream still holds, stop. */
void aof_shutdown(void);

/* ---- loading (aof_load.c) --------------------------------------------------------------- */

/* With appendonly yes at start-up, before the workers start: 1 if there is an AOF to load. */
int aof_exists(void);
/* Load the manifest's files (a non-worker thread, workers running): 1 loaded (*m the
   manifest, for aof_open_at_start), 0 there is no AOF, -1 error (err). */
int aof_load(aof_manifest_t *m, char *err, size_t cap);

/* ---- appendfsync always: replies after their fsync (aof_hold.c) ------------------------- */

struct conn;
/* 1 while the AOF writes with appendfsync always (set by the AOF thread; read by anyone). */
extern atomic_int g_aof_always;
/* conn_flush of a client that ran a write (c->aof_hold), on its thread: 1 if its replies must
   wait (the client is parked: it runs nothing more until they are written), 0 to write now. */
int aof_hold_reply(struct conn *c);
/* The AOF thread: the stream is on disk up to offset off; parked clients' workers look. */
void aof_hold_synced(long long off);
void aof_hold_worker_exit(void);

#endif
