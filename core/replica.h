/*
 * replica.h: the replica side of Redis replication (REPLICAOF host port), so a dragonfly can
 * follow a redis-server master (a migration) or another server speaking PSYNC.
 *
 * A replication thread (one per REPLICAOF; waiting on the socket is fine there, it is not a
 * worker: sockio.h) connects, over TLS with tls-replication yes (the master's certificate
 * verified, tls.h), does the handshake (AUTH masterauth, PING, REPLCONF, PSYNC), and either
 * continues the stream where a lost link left it ("PSYNC <replid> <offset+1>" answered with
 * +CONTINUE: no data is touched) or, on +FULLRESYNC, stores the RDB (length-prefixed or
 * EOF-marked, diskless) in a temporary file in dir, empties the keyspace and loads the file,
 * posting batches of entries to each shard's owner; clients get -LOADING meanwhile. The
 * socket is then handed to worker 0 as a client whose commands run like anyone's but are
 * never answered (conn_adopt_master); worker 0's cron sends REPLCONF ACK <offset> every
 * second. A lost link makes the thread sync again, partially when the master still can.
 */
#ifndef DF_REPLICA_H
#define DF_REPLICA_H

#include <stddef.h>

#include "reply.h"

struct conn;
struct worker;

/* 1 while following a master (write commands from clients get READONLY). Any thread. */
int replica_active(void);
/* 1 while the link to our master is up (a replica of ours may sync from us). Any thread. */
int replica_link_up(void);
/* 1 while a full sync empties and loads the keyspace (clients get LOADING). Any thread. */
int replica_loading(void);
/* The master link (its worker's thread): n stream bytes read; the link closed. */
void replica_stream_read(size_t n);
/* The link closed, having applied the stream up to `applied` (conn_master_applied): the
   cached master a PSYNC continues from. */
void replica_master_closed(struct conn *c, long long applied);
/* Worker cron: REPLCONF ACK on the link's worker. */
void replica_cron(struct worker *w);
/* Follow host:port (REPLICAOF; a FAILOVER's hand-over). Any thread. */
void replica_follow(const char *host, int port);
/* Stop following and become a master, after the link has closed (PSYNC ... FAILOVER from our
   master, a FAILOVER rolled back); who: for the log. Any thread. */
void replica_promote(const char *who);
/* At start-up (workers running): follow `replicaof` from the configuration. */
void replica_start_from_config(void);
/* Shutdown (main thread): stop following, wait for the replication thread. */
void replica_shutdown(void);
/* INFO replication, ROLE. */
void replica_info(rbuf_t *b);

extern const char *const replica_readonly_error;
extern const char *const replica_loading_error;

/* INFO: bytes read from masters (handshake, RDB, stream). Any thread. */
long long replica_repl_input_bytes(void);

#endif
