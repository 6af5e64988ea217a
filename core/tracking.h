/*
 * tracking.h: client-side caching (CLIENT TRACKING), Redis 7.0's server side.
 *
 * Default mode: a read-only command of a tracking client remembers its keys in the keys'
 * shard (a table key -> client ids, touched only by the shard's owner thread). A later
 * change of the key (db_signal_modified: any write, expiry, eviction) sends an `invalidate`
 * to each remembered client and forgets them; FLUSHDB/FLUSHALL empty every table and send a
 * null invalidation to every tracking client. BCAST mode: each worker keeps a copy of the
 * clients' prefixes; every change of a key under a prefix notifies its clients.
 *
 * Invalidations are records gathered per thread during an event-loop iteration and sent at
 * its end, one message per target worker (tracking_flush). The client's worker finds the
 * client by id (a client gone by then is skipped), applies NOLOOP and the mode, and renders
 * the push (RESP3), or forwards it to the REDIRECT client's worker, which renders it as a
 * push or as a `__redis__:invalidate` message (RESP2, subscribed); a REDIRECT client gone is
 * reported back to the tracking client (`tracking-redir-broken`). A record only ever travels
 * later than the write that caused it, so a client never sees an invalidation ahead of an
 * older value it may cache.
 *
 * Cost while nobody tracks: the client's `track` word (0) per command on its thread, the
 * shard's `track` pointer (NULL) per command and per changed key on the shard's thread, one
 * thread-local test per loop iteration. No atomics.
 */
#ifndef DF_TRACKING_H
#define DF_TRACKING_H

#include <stdint.h>

#include "conn.h"
#include "db.h"
#include "dispatch.h"

/* conn_t.track: the mode (0 while tracking is off). */
#define TRK_ON (1u << 0)
#define TRK_BCAST (1u << 1)
#define TRK_OPTIN (1u << 2)
#define TRK_OPTOUT (1u << 3)
#define TRK_NOLOOP (1u << 4)
#define TRK_CACHING (1u << 5) /* CLIENT CACHING yes/no given for the next command */
#define TRK_BROKEN (1u << 6)  /* the REDIRECT client is gone */

/* What the command running on this thread is, for the shard side (tracking_begin/end). */
typedef struct track_cur {
    uint64_t writer;     /* client id whose command runs now (NOLOOP), 0 for none */
    uint64_t reader;     /* client whose reads are remembered now, 0 for none */
    int reader_worker;
} track_cur_t;

extern _Thread_local track_cur_t tracking__cur;
extern _Thread_local int tracking__pending;

void tracking_init(void);      /* main thread, after shards and workers exist */
void tracking_free_all(void);  /* main thread, after the workers stopped */

/* ---- client's thread ---- */

/* 1 if the reads of c's command are remembered (default mode; OPTIN after CLIENT CACHING
   yes, OPTOUT unless CLIENT CACHING no). consume: the command is committed, so a CACHING
   given for it is used up (not by CLIENT itself, nor while queueing MULTI). */
uint8_t tracking__read_flag(conn_t *c, const cmd_t *cmd, int consume);
static inline uint8_t tracking_read_flag(conn_t *c, const cmd_t *cmd, int consume) {
    return __builtin_expect(c->track != 0, 0) ? tracking__read_flag(c, cmd, consume) : 0;
}
/* After an inline command: use up a pending CLIENT CACHING (see tracking__read_flag). */
void tracking__consume(conn_t *c, const cmd_t *cmd);
static inline void tracking_after_inline(conn_t *c, const cmd_t *cmd) {
    if (__builtin_expect((c->track & TRK_CACHING) != 0, 0)) tracking__consume(c, cmd);
}
/* c closes or RESETs: tracking off, prefixes dropped everywhere; on close also leaves its
   worker's id index. */
void tracking__conn_closed(conn_t *c);
static inline void tracking_conn_closed(conn_t *c) {
    if (__builtin_expect(c->track || c->trk, 0)) tracking__conn_closed(c);
}
void tracking_disable(conn_t *c);
/* The keyspace was emptied: every tracking client gets a null invalidation. Any thread. */
void tracking_flushed(void);

/* ---- shard's thread ---- */

/* Around a command on shard s for client c of worker `worker` (c is only read when
   something tracks); read: its tracking_read_flag. tracking_end (only when tracking_begin
   returned 1) remembers the keys of a read-only command (keys: argv indexes of those on s,
   or NULL to find them all). */
void tracking__begin(shard_t *s, const conn_t *c, int worker, int read);
static inline int tracking_begin(shard_t *s, const conn_t *c, int worker, int read) {
    if (__builtin_expect(!read && !s->track, 1)) return 0;
    tracking__begin(s, c, worker, read);
    return 1;
}
void tracking_end(shard_t *s, const cmd_t *cmd, int argc, const dfm_str_t *argv, const int *keys,
                  int nk);
/* A command called from a script (api->call) read keys on s: remembered for the script's
   client when it tracks. */
void tracking_inner_remember(shard_t *s, const cmd_t *cmd, int argc, const dfm_str_t *argv,
                             const int *keys, int nk);
static inline void tracking_inner_read(shard_t *s, const cmd_t *cmd, int argc,
                                       const dfm_str_t *argv, const int *keys, int nk) {
    if (__builtin_expect(tracking__cur.reader != 0, 0) && (cmd->flags & CMD_READONLY))
        tracking_inner_remember(s, cmd, argc, argv, keys, nk);
}
/* Key changed on s (db_signal_modified). */
void tracking__modified(shard_t *s, const char *key, size_t klen);
static inline void tracking_modified(shard_t *s, const char *key, size_t klen) {
    if (__builtin_expect(s->track != NULL, 0)) tracking__modified(s, key, klen);
}
/* s is being emptied (db_flush): forget its keys; the last shard's flush sends every
   tracking client a null invalidation (tracking_flushed). */
void tracking_shard_flush(shard_t *s);
/* Worker cron: shards over tracking-table-max-keys evict tracked keys. */
void tracking_cron(worker_t *w);

/* ---- end of an event-loop iteration (worker.c) ---- */
void tracking__flush(void);
static inline void tracking_flush(void) {
    if (__builtin_expect(tracking__pending, 0)) tracking__flush();
}
void tracking_worker_exit(void);

/* CLIENT LIST / INFO: the flag letters of tracking (t R B) written at f (returns the end),
   and the redir= field (-1 while not tracking). Client's thread. */
char *tracking_describe_flags(const conn_t *c, char *f);
long long tracking_describe_redir(const conn_t *c);

/* INFO */
long tracking_clients(void);
void tracking_totals(long long *keys, long long *items, long long *prefixes);

#endif
