/* evict.c: see evict.h. */
#include "master.h"
#include "evict.h"
#include "monitor.h"

#include <stdatomic.h>

#include "alloc.h"
#include "config.h"
#include "db.h"
#include "entry.h"
#include "notify.h"
#include "server.h"
#include "table.h"
#include "tx.h"
#include "util.h"
#include "worker.h"

#define EVICT_PER_CRON 4096
#define LFU_INIT 5

const char evict_oom_error[] = "OOM command not allowed when used memory > 'maxmemory'.";

enum { POL_VOLATILE_LRU, POL_ALLKEYS_LRU, POL_VOLATILE_LFU, POL_ALLKEYS_LFU,
       POL_VOLATILE_RANDOM, POL_ALLKEYS_RANDOM, POL_VOLATILE_TTL, POL_NOEVICTION };

/* used_memory (the heap, as INFO shows it) minus the accounted data: allocator and runtime
   overhead, which changes slowly. Refreshed by worker 0's cron (the heap figure costs a
   jemalloc stats refresh), so a command only adds two loads to the accounted bytes. */
static _Atomic int64_t evict_overhead = -1;

static int64_t evict_used(void) {
    int64_t o = atomic_load_explicit(&evict_overhead, memory_order_relaxed);
    if (o < 0) { /* first use: measure once */
        o = (int64_t)df_heap_allocated() - df_total_allocated();
        atomic_store(&evict_overhead, o > 0 ? o : 0);
    }
    return df_total_allocated() + (o > 0 ? o : 0);
}

static int evict_over(void) { return g_config.maxmemory > 0 && evict_used() > g_config.maxmemory; }

/* maxmemory-policy; with cache_mode (Dragonfly's flag) noeviction evicts like allkeys-lru. */
static int evict_policy(void) {
    int pol = (int)g_config.maxmemory_policy;
    return pol == POL_NOEVICTION && g_config.cache_mode ? POL_ALLKEYS_LRU : pol;
}

static int evict_volatile_only(int pol) {
    return pol == POL_VOLATILE_LRU || pol == POL_VOLATILE_LFU || pol == POL_VOLATILE_RANDOM ||
           pol == POL_VOLATILE_TTL;
}

/* ---- LFU (Redis's counter, in 16 bits: see evict.h) ---------------------------------- */

static unsigned lfu_minute(void) { return (unsigned)(server_now_ms() / 60000) & 0xff; }

uint16_t evict_lfu_new(void) { return (uint16_t)(lfu_minute() << 8 | LFU_INIT); }

unsigned evict_lfu_freq(const entry_t *e) {
    unsigned counter = e->lru & 0xff, elapsed = (lfu_minute() - (e->lru >> 8)) & 0xff;
    int64_t period = config_compat_num(C_LFU_DECAY_TIME);
    unsigned decay = period > 0 ? (unsigned)(elapsed / period) : 0;
    return decay >= counter ? 0 : counter - decay;
}

void evict_lfu_touch(entry_t *e) {
    unsigned counter = evict_lfu_freq(e);
    if (counter < 255) {
        double base = counter > LFU_INIT ? counter - LFU_INIT : 0;
        double p = 1.0 / (base * (double)config_compat_num(C_LFU_LOG_FACTOR) + 1.0);
        if ((double)(util_rand64() >> 11) * 0x1.0p-53 < p) counter++;
    }
    e->lru = (uint16_t)(lfu_minute() << 8 | counter);
}

/* How much worse (more evictable) entry e is under pol; higher goes first. */
static uint64_t evict_score(int pol, table_slot_t slot, uint16_t clock) {
    entry_t *e = slot_entry(slot);
    if (pol == POL_VOLATILE_TTL) return UINT64_MAX - (uint64_t)entry_expire(e);
    if (pol == POL_VOLATILE_RANDOM || pol == POL_ALLKEYS_RANDOM) return 0;
    if (pol == POL_VOLATILE_LFU || pol == POL_ALLKEYS_LFU) return 255 - evict_lfu_freq(e);
    return (uint16_t)(clock - e->lru); /* idle seconds, wrapping like the clock */
}

/* Evict one key of shard s chosen by pol among a few samples; 0 if none could go. */
static int evict_one(shard_t *s, int pol) {
    table_slot_t *best = NULL;
    int best_db = 0;
    uint64_t best_score = 0;
    uint16_t clock = server_lru_clock();
    int samples = (int)config_compat_num(C_MAXMEMORY_SAMPLES);
    for (int i = 0; i < samples; i++) {
        int db = (int)(util_rand64() % (uint64_t)s->ndbs);
        table_t *t = s->dbs[db].t;
        if (table_size(t) == 0) {
            for (db = 0; db < s->ndbs && table_size(s->dbs[db].t) == 0; db++) {}
            if (db == s->ndbs) return 0;
            t = s->dbs[db].t;
        }
        table_slot_t *slot = table_random(t, util_rand64());
        if (!slot || (evict_volatile_only(pol) && !slot_has_expire(*slot))) continue;
        entry_t *e = slot_entry(*slot);
        if (tx_key_busy(s, db, entry_key(e), e->klen)) continue;
        uint64_t score = evict_score(pol, *slot, clock);
        if (!best || score > best_score) best = slot, best_db = db, best_score = score;
    }
    if (!best) return 0;
    entry_t *e = slot_entry(*best);
    db_signal_modified(s, best_db, entry_key(e), e->klen);
    notify_key(best_db, "evicted", entry_key(e), e->klen, 'e');
    master_journal_del(s->id, best_db, entry_key(e), e->klen);
    db_delete_slot(s, best_db, best);
    s->stats.evicted++;
    return 1;
}

/* Per worker: when its last try found nothing it could evict while memory was over (0:
   it found something, or memory was under), and under which policy. Written by that worker,
   read by all: a command is refused only when every worker found nothing recently under the
   current policy (Redis refuses when nothing at all can be evicted). The crons refresh it. */
#define EVICT_EXHAUSTED_MS 250

static struct {
    _Alignas(64) _Atomic int64_t at;
    atomic_int policy;
} evict_exhausted[CMD_MAX_WORKERS];

static void evict_mark(int worker, int none, int pol) {
    atomic_store_explicit(&evict_exhausted[worker].policy, pol, memory_order_relaxed);
    atomic_store_explicit(&evict_exhausted[worker].at, none ? util_now_ms() : 0,
                          memory_order_relaxed);
}

/* 1 if every worker but `except` (-1: none) found nothing to evict lately, under the current
   policy. */
static int evict_exhausted_all(int except) {
    int64_t now = util_now_ms();
    int pol = evict_policy();
    for (int w = 0; w < g_nworkers && w < CMD_MAX_WORKERS; w++) {
        if (w == except) continue;
        int64_t at = atomic_load_explicit(&evict_exhausted[w].at, memory_order_relaxed);
        if (!at || now - at > EVICT_EXHAUSTED_MS ||
            atomic_load_explicit(&evict_exhausted[w].policy, memory_order_relaxed) != pol)
            return 0;
    }
    return 1;
}

/* Evict up to `max` keys from worker's shards, stopping early once memory is under
   maxmemory if until_under; how many went. */
static int evict_some(int worker, int max, int until_under) {
    int pol = evict_policy(), n = 0, progress = 1;
    if (worker < 0 || worker >= CMD_MAX_WORKERS) return 0;
    while (pol != POL_NOEVICTION && n < max && progress && (!until_under || evict_over())) {
        progress = 0;
        for (int i = 0; i < g_nshards && n < max; i++)
            if (g_shards[i].owner == worker && evict_one(&g_shards[i], pol)) n++, progress = 1;
    }
    evict_mark(worker, n == 0 && evict_over(), pol);
    return n;
}


/* A worker asked to evict `count` keys from its shards (while memory is over). */
static void evict_requested(void *arg) {
    if (tl_worker) evict_some(tl_worker->id, (int)(intptr_t)arg, 0);
}

/* Evictions this thread owes other workers' shards, sent at most once a millisecond. */
static _Thread_local int evict_owed[CMD_MAX_WORKERS];
static _Thread_local int64_t evict_owed_ms;

static void evict_send_owed(int worker) {
    int64_t now = util_now_ms();
    if (now == evict_owed_ms) return;
    evict_owed_ms = now;
    for (int w = 0; w < g_nworkers && w < CMD_MAX_WORKERS; w++) {
        if (w == worker || !evict_owed[w]) continue;
        worker_post(w, evict_requested, (void *)(intptr_t)evict_owed[w]);
        evict_owed[w] = 0;
    }
}

/*
 * Over maxmemory before a denyoom command: one key has to go for the one coming in, from a
 * shard picked at random among the workers, so eviction spreads over every shard whichever
 * thread takes the writes (Redis samples one global keyspace). This thread's pick is evicted
 * here at once; another worker's is owed to it and sent in a batch (at most once a
 * millisecond). Refused (-1) only when memory is over and every worker found nothing to
 * evict lately.
 */
int evict_before_command(int worker, const cmd_t *cmd) {
    if (!(cmd->flags & CMD_DENYOOM) || !evict_over()) return 0;
    if (evict_policy() == POL_NOEVICTION) return -1;
    int n = g_nworkers > 0 && g_nworkers <= CMD_MAX_WORKERS ? g_nworkers : 1;
    int pick = (int)(util_rand64() % (uint64_t)n);
    if (pick != worker && evict_owed[pick] < EVICT_PER_CRON) evict_owed[pick]++;
    evict_send_owed(worker);
    if (pick == worker && evict_some(worker, 1, 0) > 0) return 0;
    if (!evict_over()) return 0;
    return evict_exhausted_all(-1) ? -1 : 0;
}

void evict_cron(int worker) {
    if (worker == 0) {
        int64_t o = (int64_t)df_heap_allocated() - df_total_allocated();
        atomic_store(&evict_overhead, o > 0 ? o : 0);
    }
    if (g_config.maxmemory > 0 && worker < CMD_MAX_WORKERS) {
        if (evict_over()) {
            int64_t start = util_mono_us();
            evict_some(worker, EVICT_PER_CRON, 1);
            if (g_config.latency_monitor_threshold > 0)
                latency_add_sample("eviction-cycle", (uint64_t)(util_mono_us() - start) / 1000);
        }
        else
            evict_mark(worker, 0, evict_policy());
    }
}
