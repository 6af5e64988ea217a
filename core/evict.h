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
 * the worst of maxmemory-samples random keys of the worker's shards under the policy (LRU: the
 * oldest access clock, LFU: the lowest access frequency, TTL: the nearest expiry, random: the
 * first; volatile-*: only keys with a TTL), never a key a transaction holds. A command is refused only when memory is over
 * and every worker found nothing to evict lately. Each worker's cron also evicts from its own
 * shards while memory is over (a lowered maxmemory). cache_mode (Dragonfly's flag) turns
 * noeviction into allkeys-lru.
 *
 * Access bookkeeping (entry_t.lru): the LRU clock (seconds, wrapping), or under an LFU policy
 * Redis's logarithmic frequency counter in the low byte (5 for a new key, raised on access
 * with probability 1/((counter-5)*lfu-log-factor+1)) and, in the high byte, the minute
 * (wrapping) it was last decayed: it loses one per lfu-decay-time minutes without access.
 * Switching policy reinterprets the field, as Redis warns ("will take some time to adjust").
 */
#ifndef DF_EVICT_H
#define DF_EVICT_H

#include "config.h"
#include "dispatch.h"
#include "entry.h"
#include "server.h"

struct worker;

/* maxmemory-policy is volatile-lfu or allkeys-lfu (config_maxmemory_policies' order). */
static inline int evict_lfu(void) {
    int p = (int)g_config.maxmemory_policy;
    return p == 2 || p == 3;
}
/* An access under an LFU policy: decay, then maybe count it (shard thread). */
void evict_lfu_touch(entry_t *e);
/* A new key's LFU field: counter 5, this minute. */
uint16_t evict_lfu_new(void);
/* The counter after decay, without counting an access (OBJECT FREQ). */
unsigned evict_lfu_freq(const entry_t *e);

/* A key was read or written (not OBJECT, not a NOTOUCH lookup). */
static inline void entry_touch(entry_t *e) {
    if (__builtin_expect(evict_lfu(), 0))
        evict_lfu_touch(e);
    else
        e->lru = server_lru_clock();
}
/* The field of a key created now. */
static inline uint16_t entry_access_new(void) {
    return __builtin_expect(evict_lfu(), 0) ? evict_lfu_new() : server_lru_clock();
}

/* 0: the command may run; -1: refuse it with OOM. Client's thread, maxmemory set. */
int evict_before_command(int worker, const cmd_t *cmd);
/* The worker cron's share of eviction. */
void evict_cron(int worker);
/* Redis's OOM error. */
extern const char evict_oom_error[];

#endif
