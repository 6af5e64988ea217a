/*
 * evict.h: maxmemory and its policies (Redis's semantics; no thread touches another's shards).
 *
 * used_memory (estimated as the accounted bytes, df_total_allocated, plus the heap's overhead
 * beyond them, which worker 0's cron measures) is compared with maxmemory before every command
 * flagged denyoom, on the client's thread. Over it, noeviction refuses the command with
 * Redis's OOM error. Any other policy makes one key go for the one coming in, from a shard of
 * a worker picked at random, so eviction spreads over all shards whichever thread takes the
 * writes (Redis samples one global keyspace): the client's own thread evicts at once, another
 * worker's evictions are batched to it by message (at most once a millisecond). A victim is
 * the worst of EVICT_SAMPLES random keys of the worker's shards under the policy (LRU and LFU:
 * the oldest access clock, TTL: the nearest expiry, random: the first; volatile-*: only keys
 * with a TTL), never a key a transaction holds. A command is refused only when memory is over
 * and every worker found nothing to evict lately. Each worker's cron also evicts from its own
 * shards while memory is over (a lowered maxmemory). cache_mode (Dragonfly's flag) turns
 * noeviction into allkeys-lru. LFU policies use the access clock (no frequency counters).
 */
#ifndef DF_EVICT_H
#define DF_EVICT_H

#include "dispatch.h"

struct worker;

/* 0: the command may run; -1: refuse it with OOM. Client's thread, maxmemory set. */
int evict_before_command(int worker, const cmd_t *cmd);
/* The worker cron's share of eviction. */
void evict_cron(int worker);
/* Redis's OOM error. */
extern const char evict_oom_error[];

#endif
