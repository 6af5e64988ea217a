/*
 * migrate.h: MIGRATE (core/migrate.c) and its conversation with the target server
 * (core/migrate_link.c).
 *
 * An exchange sends one pipelined request (AUTH when asked, SELECT when the connection has
 * another db selected, then the caller's commands) and reads one reply line per command, as
 * Redis's MIGRATE does. Everything runs on the calling worker's event loop: a nonblocking
 * socket, libevent events, an inactivity timeout; the thread never waits. Connections are
 * cached per worker (at most 64, closed after 10 s idle: Redis's migrate_cached_sockets) and
 * remember the db they last selected. A connection that fails before any reply to the
 * caller's commands was read is reopened once and the request sent again (a cached
 * connection may have been closed by the target meanwhile), except after a timeout.
 */
#ifndef DF_MIGRATE_H
#define DF_MIGRATE_H

#include <stdint.h>

#include "reply.h"

/* How an exchange ended; MIGRATE's IOERR texts tell the failures apart. */
typedef enum {
    MLINK_OK,       /* every reply line read */
    MLINK_ECONNECT, /* the name did not resolve, or no socket could be started */
    MLINK_EWRITE,   /* connecting or writing failed or timed out */
    MLINK_EREAD,    /* reading failed or timed out */
} mlink_status_t;

/* What a reply line answers: AUTH, SELECT, or (>= 0) the index of a caller's command. */
enum { MLINK_LINE_AUTH = -1, MLINK_LINE_SELECT = -2 };

typedef struct mlink_req {
    const char *host; /* copied */
    size_t hostlen;
    int port;
    int64_t timeout_ms; /* inactivity limit of each step (connect, write, read) */
    rbuf_t auth;        /* an AUTH command, or empty; taken over by the exchange */
    long long db;       /* SELECTed first unless the connection has it selected already */
    rbuf_t body;        /* the caller's commands; taken over by the exchange */
    int nbody;
    /* One reply line (CRLF stripped, at most 1023 bytes), in order as it is read. After a
       reopen the lines of the request come again from the first. */
    void (*on_line)(void *arg, int what, const char *line, size_t len);
    /* The end, exactly once, from the event loop (never inside mlink_start): the status and
       how many replies to the caller's commands were read. */
    void (*done)(void *arg, mlink_status_t st, int nbody_read);
    void *arg;
} mlink_req_t;

/* Start an exchange on this worker. The req struct itself may go once this returns. */
void mlink_start(mlink_req_t *req);
/* INFO migrate_cached_sockets: cached connections of every worker. Any thread. */
int mlink_cached_count(void);
/* Close this worker's cached connections idle for 10 s (worker cron). */
void mlink_cron(int64_t now_ms);
/* Shutdown: end this worker's running exchanges now, as failed (their transactions finish
   and release their keys). */
void mlink_abort_all(void);
/* Worker exit: close every connection; exchanges still running are dropped unanswered. */
void mlink_worker_exit(void);

#endif
