/*
 * hint.c: what a thread tells publishers on the other threads about its subscribers, so
 * that PUBLISH needs no round trip to count them.
 *
 * For channels and shard channels, thread t keeps a table of (name hash -> how many of its
 * clients are subscribed). Only t writes it; any publisher reads it with atomics. A hash,
 * once in a slot, stays there until t's registry of that kind is empty, when t clears the
 * table inside a generation bump (odd while clearing): a reader that sees the generation odd
 * or changed across its lookup, or a table with no room for a name, or no table, gets -1 and
 * asks t itself (each_thread), as it does for pattern subscriptions, which only t can match.
 *
 * A subscription is counted here before its confirmation is written, so a publish that
 * starts after a client saw its confirmation counts (and reaches) that client. Two names with
 * the same 64-bit hash would share a count: a message is still delivered only to the name's
 * subscribers, the reply could overcount.
 */
#include <stdatomic.h>
#include <string.h>

#include "pubsub.h"

#define PS_HINT_SLOTS 4096 /* per thread and kind; a power of two */
#define PS_HINT_PROBES 32

typedef struct ps_hint_slot {
    _Atomic uint64_t hash; /* 0: empty */
    atomic_long count;
} ps_hint_slot_t;

typedef struct ps_hint {
    _Alignas(64) atomic_ulong gen;
    atomic_int overflowed; /* a name found no slot since the last clear */
    ps_hint_slot_t slot[PS_HINT_SLOTS];
} ps_hint_t;

/* [thread][kind]; allocated by the owner, freed at shutdown. Patterns have one too, for
   INFO's distinct counts only (publishers must ask a thread that has patterns). */
static _Atomic(ps_hint_t *) ps_hints[PS_MAX_THREADS][PS_NKINDS];

static int ps_hint_kind(int kind) { return kind; }

static uint64_t ps_hint_key(uint64_t h) { return h ? h : 1; }

/* The owner's table, created on first use. */
static ps_hint_t *ps_hint_mine(int kind) {
    int t = ps_api->thread_id();
    if (t < 0 || t >= PS_MAX_THREADS) return NULL;
    ps_hint_t *h = atomic_load(&ps_hints[t][ps_hint_kind(kind)]);
    if (!h) {
        h = ps_api->alloc(sizeof *h);
        memset(h, 0, sizeof *h);
        atomic_store(&ps_hints[t][ps_hint_kind(kind)], h);
    }
    return h;
}

void ps_hint_add(int kind, const char *name, size_t len, long delta) {
    ps_hint_t *h = ps_hint_mine(kind);
    if (!h) return;
    uint64_t key = ps_hint_key(ps_hash(name, len));
    for (int i = 0; i < PS_HINT_PROBES; i++) {
        ps_hint_slot_t *s = &h->slot[(key + (uint64_t)i) & (PS_HINT_SLOTS - 1)];
        uint64_t cur = atomic_load_explicit(&s->hash, memory_order_relaxed);
        if (cur == key) {
            atomic_fetch_add(&s->count, delta);
            return;
        }
        if (cur == 0 && delta > 0) {
            atomic_store(&s->count, delta);
            atomic_store(&s->hash, key); /* release: the count is there first */
            return;
        }
    }
    /* no room: readers probing for this name find no empty slot and ask this thread */
    if (delta > 0) atomic_store(&h->overflowed, 1);
}

void ps_hint_reset(int kind) {
    ps_hint_t *h = ps_hint_mine(kind);
    if (!h) return;
    atomic_fetch_add(&h->gen, 1); /* odd: readers give up */
    for (int i = 0; i < PS_HINT_SLOTS; i++) {
        atomic_store_explicit(&h->slot[i].hash, 0, memory_order_relaxed);
        atomic_store_explicit(&h->slot[i].count, 0, memory_order_relaxed);
    }
    atomic_store(&h->overflowed, 0);
    atomic_fetch_add(&h->gen, 1);
}

long ps_hint_count(int t, int kind, uint64_t hash) {
    if (t < 0 || t >= PS_MAX_THREADS) return -1;
    ps_hint_t *h = atomic_load(&ps_hints[t][ps_hint_kind(kind)]);
    if (!h) return ps_thread_subs(t, kind) == 0 ? 0 : -1;
    unsigned long g = atomic_load(&h->gen);
    if (g & 1) return -1;
    uint64_t key = ps_hint_key(hash);
    long n = -1;
    for (int i = 0; i < PS_HINT_PROBES; i++) {
        ps_hint_slot_t *s = &h->slot[(key + (uint64_t)i) & (PS_HINT_SLOTS - 1)];
        uint64_t cur = atomic_load(&s->hash);
        if (cur == key) {
            n = atomic_load(&s->count);
            break;
        }
        if (cur == 0) {
            n = 0;
            break;
        }
    }
    return atomic_load(&h->gen) == g ? n : -1;
}

/*
 * How many distinct names of kind have subscribers on any thread (INFO's pubsub_channels,
 * pubsub_patterns, pubsubshard_channels): the union of the threads' hashes with a count.
 * A thread whose table overflowed reports at least its own number of names (distinct), so
 * the figure is exact up to PS_HINT_SLOTS names per thread and a lower bound beyond.
 * Any thread; a table changing meanwhile gives a figure from around that time.
 */
long ps_hint_distinct(int kind) {
    int n = ps_api->num_threads();
    size_t cap = 2 * (size_t)PS_HINT_SLOTS * (size_t)(n > 0 ? n : 1), count = 0;
    uint64_t *set = ps_api->alloc(cap * sizeof *set);
    memset(set, 0, cap * sizeof *set);
    long floor = 0;
    for (int t = 0; t < n && t < PS_MAX_THREADS; t++) {
        ps_hint_t *h = atomic_load(&ps_hints[t][ps_hint_kind(kind)]);
        if (!h) continue;
        if (atomic_load(&h->overflowed) && ps_thread_names(t, kind) > floor)
            floor = ps_thread_names(t, kind);
        for (int i = 0; i < PS_HINT_SLOTS; i++) {
            uint64_t key = atomic_load(&h->slot[i].hash);
            if (!key || atomic_load(&h->slot[i].count) <= 0) continue;
            size_t j = key % cap;
            while (set[j] && set[j] != key) j = (j + 1) % cap;
            if (!set[j]) set[j] = key, count++;
        }
    }
    ps_api->free(set);
    return (long)count > floor ? (long)count : floor;
}

void ps_hint_free_all(void) {
    for (int t = 0; t < PS_MAX_THREADS; t++)
        for (int k = 0; k < PS_NKINDS; k++) {
            ps_api->free(atomic_load(&ps_hints[t][k]));
            atomic_store(&ps_hints[t][k], NULL);
        }
}

/* INFO's pubsub_channels, pubsub_patterns, pubsubshard_channels (api register_pubsub_stats). */
void ps_info_counts(long long counts[3]) {
    counts[0] = ps_hint_distinct(PS_CHANNEL);
    counts[1] = ps_hint_distinct(PS_PATTERN);
    counts[2] = ps_hint_distinct(PS_SHARD);
}
