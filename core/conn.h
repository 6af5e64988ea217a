/*
 * conn.h: client connections. A connection belongs to one worker for its whole life; only
 * that thread touches it. It owns an input buffer (parsed in place, zero-copy), a RESP
 * parser and an output buffer that collects every reply of one read so they go out in one
 * write(). While a command is away on another shard (pending), the connection parses no
 * further commands (replies keep their order) and its input buffer is never moved.
 */
#ifndef DF_CONN_H
#define DF_CONN_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "dispatch.h"
#include "reply.h"
#include "resp_parse.h"
#include "worker.h"

#define CONN_CLOSE_AFTER_REPLY (1u << 0)
#define CONN_CLOSING (1u << 1)      /* fd closed; freed when nothing is pending */
#define CONN_READ_PAUSED (1u << 2)
#define CONN_BLOCKED (1u << 3)      /* parked by a blocking command */
#define CONN_WRITE_WAIT (1u << 4)   /* output waits for EV_WRITE */
#define CONN_UNIX (1u << 5)
#define CONN_MULTI (1u << 6)        /* between MULTI and EXEC */
#define CONN_DIRTY_EXEC (1u << 7)   /* a queueing error: EXEC must abort */
#define CONN_IN_DISPATCH (1u << 8) /* a tx is being started: delivery must not resume */
#define CONN_IN_WQ (1u << 9)       /* on its worker's list of clients with replies to write */
#define CONN_FREEING (1u << 10)    /* closed and idle: freed at the end of the iteration */
#define CONN_PUSH_KILL (1u << 11)  /* over the pub/sub output limit: closed at iteration end */
#define CONN_INTERNAL (1u << 12)   /* no socket, in no list: runs one internal tx (conn_internal) */
#define CONN_MASTER (1u << 13)     /* our master's replication stream: commands, no replies */
#define CONN_PAUSED (1u << 14)     /* a command waits for CLIENT PAUSE to end (one pending) */
#define CONN_MONITOR (1u << 15)    /* in MONITOR mode (monitor.c) */
#define CONN_AOF (1u << 16)        /* with CONN_MASTER: an AOF being loaded (aof_load.c) */

#define CONN_SLOTS 4 /* module slots per client */

struct tx;
struct squash;
struct multi_state;
struct watch_state;
struct block_wait;
struct acl_slot;
struct track_client;

typedef struct conn {
    struct conn *prev, *next;
    worker_t *w;
    int fd;
    uint64_t id;
    struct event *ev_read, *ev_write;
    char *ibuf;
    size_t ilen, icap, ipos;
    resp_parser_t parser;
    rbuf_t obuf;
    size_t opos;
    int resp, db, authed;
    struct acl_slot *user;  /* the user it runs as (acl.h); never NULL */
    uint32_t flags;
    uint32_t born;          /* flags at creation (CONN_UNIX, CONN_INTERNAL; CONN_AOF, set by
                               conn_adopt_aof): never change, so other threads may read them
                               (MONITOR's address, block_can_block) */
    int pending;            /* hops in flight (one per batch of a squash group) */
    struct squash *sq;      /* a squashed pipeline group in progress (squash.c) */
    struct tx *mg;          /* pipelined multi-shard commands grouped, not yet sent */
    int deferred_argc;      /* a parsed command waiting for the batch to return */
    dfm_str_t *deferred_argv;
    int deferred_cap;
    dfm_str_t *rerun_argv;  /* conn_rerun's copy of a woken command (argv, then its bytes) */
    int64_t rerun_deadline_ms; /* its wait's end (0 = none): a re-block keeps it */
    char *name;
    char *lib_name, *lib_ver;
    char addr[64], laddr[64];
    int64_t ctime_ms, last_ms;
    int64_t obuf_soft_ms; /* when its output passed the soft limit (0: it is below) */
    const cmd_t *last_cmd;
    struct multi_state *multi;
    struct watch_state *watch;
    struct block_wait *blocked;
    uint64_t cmds;
    int ahead_skip; /* lookahead windows to skip (conn_process) */
    int sq_locked;  /* the next squash groups are locked (squash.c) */
    /* Reply handoff: the thread that finishes the client's squash batch writes the replies to
       the socket itself and tells the client's thread lazily (tx.c). While it is in flight
       the fd stays open; wake_counted: this client is counted in its worker's handoff_wake
       (input arrived, or it is closing: the lazy message must wake the worker). */
    int handoff;
    int wake_counted;
    /* appendfsync always (aof_hold.c): aof_hold, it ran a write, so its replies wait for the
       fsync; aof_mark, it is parked until the stream is on disk up to this mark. */
    int aof_hold;
    struct backlog_mark *aof_mark;
    struct conn *wprev, *wnext; /* worker's pending-write list */
    /* Modules' per-client data (api register_client_slot), pub/sub subscription counts, and
       pushes (published messages) waiting for a point between replies (conn_push_ctx). */
    void *slots[CONN_SLOTS];
    int nsub, npsub, nssub;
    int repl_port; /* REPLCONF listening-port of a replica client */
    char *repl_ip; /* REPLCONF ip-address (its replica-announce-ip), or NULL */
    /* The master link (CONN_MASTER), in stream offsets: the byte after ibuf[ilen], the command
       being run, and where the deferred command, an unsent group and an open MULTI begin (a
       link lost now has applied everything before the earliest of those: conn_master_applied). */
    struct { long long end, cur, deferred, group, multi; } repl;
    void *ssl;     /* the TLS session of a --tls-port client (tls.c), or NULL */
    rbuf_t pushq;
    uint8_t lcache_len; /* last command name as sent, and its table entry */
    char lcache_name[15];
    const cmd_t *lcache_cmd;
    /* A request protocol's connection (memcached): its parser and state; NULL for RESP. */
    const dfm_request_protocol_t *proto;
    void *pstate;
    size_t pneed; /* the parser's last DFM_PARSE_MORE need (buffer growth) */
    /* CLIENT TRACKING (tracking.h): the mode (TRK_*, 0 while off) and the rest of its state
       (NULL until the client tracks or is another's REDIRECT target). */
    uint32_t track;
    struct track_client *trk;
} conn_t;

/* Accept on a listening socket; proto: a request protocol's listener (NULL: RESP). */
void conn_accept(worker_t *w, int lfd, int is_unix, const dfm_request_protocol_t *proto, int tls);
/* A client without a socket for running one transaction on the server's own behalf (the
   snapshot cut): born closing, so the tx's reply is dropped and the client is freed after
   it. Not in the worker's client list or counts. Thread of w. */
conn_t *conn_internal(worker_t *w);
/* The replication link, handed over after the full sync (or a partial one): commands arrive
   as from a client but are never answered (replica.c writes the acks). pre: bytes already
   read after the snapshot, processed at once; offset: the stream offset just after them; db:
   the database the stream has selected; ssl: the TLS session over fd (tls-replication), or
   NULL; the client owns both. Thread of w. */
conn_t *conn_adopt_master(worker_t *w, int fd, void *ssl, const void *pre, size_t n, long long offset, int db);
/* write() on c's socket, or its TLS session's write (tls.h: retry a TLS write that took
   nothing with the same bytes). c's thread. */
ssize_t conn_write_raw(conn_t *c, const void *p, size_t n);
/* The loader's end of a socket pair as a client that runs an AOF's commands like our
   master's stream (no replies, no LOADING), and is no replication link. Its thread. */
conn_t *conn_adopt_aof(worker_t *w, int fd);
/* 1 once everything an AOF client read has run to its end (nothing parsed but not run,
   nothing away on another shard, no MULTI open). Its thread. */
int conn_aof_idle(const conn_t *c, long long bytes);
/* The master link's applied offset: every command before it has run or is on its way to its
   shard (and will run); nothing after it has. Thread of c. */
long long conn_master_applied(const conn_t *c);
/* 1 for a unix-socket or loopback client (enable-debug-command / -protected-configs local). */
int conn_is_local(const conn_t *c);
/* Execute one parsed command (routing to its shard). */
void conn_execute(conn_t *c, int argc, dfm_str_t *argv);
/* Continue after a hop returned or a block ended: process input, flush output. */
void conn_resume(conn_t *c);
void conn_close(conn_t *c);
/* Free a closed client (conn_release / the end of the iteration decide when). */
void conn_free(conn_t *c);
/* A closed client with nothing in flight is freed at the end of its worker's loop iteration,
   never at once: whoever closed it (a failed write, a command, a delivery) may still be
   using it. No-op while a hop is out; the hop's delivery calls it again. */
void conn_release(conn_t *c);
/* Park a parsed command to run first when the client resumes (its argv array is copied). */
void conn_defer(conn_t *c, int argc, const dfm_str_t *argv);
/* A blocked command woke with DFM_UNBLOCK_RERUN: copy it (the connection keeps the copy until
   the next rerun) and run it next, before more input. Client's thread. */
void conn_rerun(conn_t *c, int argc, const dfm_str_t *argv, int64_t deadline_ms);
void conn_flush(conn_t *c);
/* 1 if replies computed elsewhere may be written to the socket by the thread that computes
   them: no more input is buffered, no write is parked, nothing else depends on the client's
   thread (output not written yet must first move into what that thread writes). Client's
   thread. */
int conn_handoff_ok(const conn_t *c);
/* client-output-buffer-limit for c's class (pubsub while subscribed, else normal), as Redis:
   1 if its unsent output passed the hard limit, or the soft one for longer than its seconds
   (logged; the caller closes it). Its thread. */
int conn_obuf_over(conn_t *c);
/* Start / end a handoff (see conn_t.handoff). */
void conn_handoff_begin(conn_t *c);
void conn_handoff_end(conn_t *c);
/* Write every client of w that has replies waiting (end of an event-loop iteration): replies
   of one iteration leave together, as Redis does before it sleeps. */
void conn_flush_pending(worker_t *w);
/* Close every client of this worker (shutdown): flush what is buffered first. */
void conn_close_all(worker_t *w);
/* The client's context for running a command on its own thread. */
void conn_ctx(conn_t *c, dfm_ctx_t *ctx, struct shard *s);
/* A context whose replies are pushes to c (its own thread only): they are kept aside and
   join the output at the next point between replies (end of the iteration, or when the
   client's pending command returns). Valid until the next call on this thread. */
dfm_ctx_t *conn_push_ctx(conn_t *c);
/* Run and clear the modules' client slots (release callbacks): on close and on RESET. Also
   drops the pub/sub counts. */
void conn_release_slots(conn_t *c);
/* Move queued pushes into the output if c is between replies (its own thread); 1 if any
   moved. pending_ok: the caller knows the one pending command is about to write its reply
   (a fan-out's done step), so pushes go ahead of it. */
int conn_take_pushes(conn_t *c, int pending_ok);
/* 1 if pushes queued for c while a command ran may be written ahead of that command's reply
   (its own keyspace events, as Redis does); never for a tracking client, whose queue may
   hold an invalidation that must not precede the reply of the read it invalidates. */
static inline int conn_pushes_may_lead(const struct conn *c) { return c->track == 0; }
/* Append the queued pushes to the output now (the caller knows it is between replies). */
void conn_push_move(conn_t *c);
/* Insert the queued pushes into the output at offset `at` (a reply boundary at or after
   what is written): a command's own events go before its reply, as Redis writes them. */
void conn_push_insert(conn_t *c, size_t at);
/* Have c's output written at the end of this iteration (its own thread). */
void conn_flush_later(conn_t *c);
void conn_push_worker_exit(void);
/* Register the release callback of a new slot (main thread, module init); -1 if none left. */
int conn_slot_register(dfm_client_release_fn release);
/* 1 if a RESP2 client in subscribed mode (any subscription). */
static inline int conn_subscribed(const conn_t *c) { return (c->nsub | c->npsub | c->nssub) != 0; }
/* CLIENT LIST line for this client (appended to out). */
void conn_describe(conn_t *c, rbuf_t *out);
/* Free the calling worker's per-thread parsing state (at worker exit). */
void conn_worker_exit(void);
/* Idle timeouts etc., from the worker cron. */
void conn_cron(worker_t *w);

#endif
