/*
 * squash.h: squashed pipelines: a client's consecutive single-shard commands gathered into one
 * batch per shard, run there in one hop each, replies reassembled in pipeline order.
 * Client's thread only; c->sq is the open group.
 */
#ifndef DF_SQUASH_H
#define DF_SQUASH_H

#include "conn.h"
#include "reply.h"

struct squash;

/* Open a group with its first command (a remote shard, or a local one whose keys are locked). */
void sq_start(conn_t *c, const cmd_t *cmd, int argc, dfm_str_t *argv, int sid);
/* Add a single-shard command to the open group (may run a local read at once); 0 if it may not
   join: the caller sends the group and runs the command after it. */
int sq_join(conn_t *c, const cmd_t *cmd, int argc, dfm_str_t *argv, int sid);
/* Most reply pieces a group has (commands, plus one for a protocol error). */
#define SQ_IOV_MAX (SQ_MAX_CMDS + 1)
#define SQ_MAX_CMDS 128

/* The group's replies in pipeline order as iovecs (t: its single batch, finished); returns
   how many. Any thread, while the client waits for t. */
struct iovec;
int sq_reply_iov(const struct squash *sq, const struct tx *t, struct iovec *iov, int max);
/* Send every batch of the group; the client is pending until all are back. */
void sq_send(conn_t *c);
int sq_was_sent(const struct squash *sq);
void sq_free(struct squash *sq);
/* Free this thread's recycled groups (worker exit). */
void sq_worker_exit(void);
/* A reply written by the connection itself (a protocol error) in pipeline order:
   write into the returned buffer, then call sq_local_reply_end. */
rbuf_t *sq_local_reply(conn_t *c);
void sq_local_reply_end(conn_t *c);

#endif
