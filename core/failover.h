/*
 * failover.h: Redis 7.0's coordinated failover, FAILOVER [TO host port [FORCE]] [ABORT]
 * [TIMEOUT ms], on the master's side:
 *
 *   waiting-for-sync      client writes are paused (a pause of its own, which CLIENT UNPAUSE
 *                         leaves alone); worker 0's cron waits until the target replica (or,
 *                         without TO, any replica) acknowledges every write queued before the
 *                         pause and everything the stream has since.
 *   failover-in-progress  we follow the target (REPLICAOF, keeping our own history as the
 *                         cached master), and the replication thread sends
 *                         "PSYNC <our id> <offset+1> FAILOVER": the target becomes a master and
 *                         answers +CONTINUE (or +FULLRESYNC). Then the pause ends.
 *
 * An error answer to that PSYNC, ABORT, or TIMEOUT without FORCE rolls back: we are a master
 * again (after a demotion, under a new id, as Redis's replicationUnsetMaster), unpaused. The
 * other side, a replica receiving PSYNC ... FAILOVER, is in master.c.
 */
#ifndef DF_FAILOVER_H
#define DF_FAILOVER_H

struct worker;

/* INFO's master_failover_state: "no-failover", "waiting-for-sync", "failover-in-progress". */
const char *failover_state_name(void);
/* 1 while a FAILOVER runs (REPLICAOF is refused, replicas may not sync). Any thread. */
int failover_busy(void);
/* 1 once we follow the target: PSYNC must carry FAILOVER. Any thread. */
int failover_in_progress(void);
/* The target answered PSYNC ... FAILOVER: accepted (+CONTINUE / +FULLRESYNC) or not.
   Replication thread. */
void failover_psync_answered(int accepted);
/* Worker cron: watch the replicas' acks and the timeout (worker 0). */
void failover_cron(struct worker *w);

#endif
