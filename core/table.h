/*
 * table.h: the per-shard, per-db hash table (extendible hashing in the manner of DashTable).
 *
 * A directory indexed by the top bits of a 64-bit hash points at segments; a segment holds
 * TABLE_SEG_BUCKETS buckets of TABLE_BUCKET_SLOTS slots (8 slots x 8 bytes = one cache line).
 * A key lives in its home bucket (chosen by low hash bits) or one of the next few (probing).
 * When a key finds no room the one segment that is full splits in two: growth never rehashes
 * the whole table, so there is no latency spike. Segments never merge.
 *
 * A slot is one 64-bit word: the entry_t pointer in bits 4..47 (entries are 16-byte aligned),
 * a hash fingerprint in bits 48..63, and tag bits 0..3 (bit 0: entry has an expiry, bits 1..2:
 * probe distance from the home bucket). Empty slot = 0.
 *
 * Each bucket carries a 32-bit version, set from table_next_version() whenever the bucket
 * changes: a point-in-time snapshot serialises a bucket before its first change after the
 * snapshot started (see table_bucket_version).
 *
 * Owned and used by one thread (the shard's). Memory comes from df_malloc.
 */
#ifndef DF_TABLE_H
#define DF_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include "entry.h"

#define TABLE_SEG_BUCKETS 64
#define TABLE_BUCKET_SLOTS 8
#define TABLE_PROBE 4 /* a key may sit in its home bucket or the next 3 */

typedef uint64_t table_slot_t;
typedef struct table table_t;

/* The process-wide seeded hash (seed drawn at start-up from getrandom: flooding protection). */
void table_set_seed(uint64_t seed);
uint64_t table_hash(const void *key, size_t len);

table_t *table_new(void);
/* Frees the table; calls free_entry(e, arg) for each entry if free_entry is not NULL. */
void table_free(table_t *t, void (*free_entry)(entry_t *e, void *arg), void *arg);
size_t table_size(const table_t *t);          /* number of entries */
size_t table_mem_usage(const table_t *t);     /* bytes of directory + segments */
size_t table_capacity(const table_t *t);      /* slots */

static inline entry_t *slot_entry(table_slot_t s) {
    return (entry_t *)(uintptr_t)(s & 0x0000fffffffffff0ull);
}
static inline int slot_has_expire(table_slot_t s) { return (int)(s & 1); }

/* Find the slot holding key (hash must be table_hash(key)). NULL if absent. */
table_slot_t *table_find(table_t *t, uint64_t hash, const char *key, size_t klen);
/* Hints for pipelines: start loading the key's bucket (and segment header), or, once the
   bucket is in cache, the entries whose fingerprint matches. Never fault, change nothing. */
void table_prefetch(const table_t *t, uint64_t hash);
void table_prefetch_entry(const table_t *t, uint64_t hash);
/* Insert an entry whose key is known to be absent. Returns its slot (never NULL: splits). */
table_slot_t *table_insert(table_t *t, uint64_t hash, entry_t *e);
/* Point a slot at a (moved/reallocated) entry of the same key, keeping fingerprint/probe;
   has_expire updates tag bit 0. */
void table_slot_set(table_t *t, table_slot_t *slot, entry_t *e);
/* Remove the entry at slot from the table (does not free the entry). */
void table_erase(table_t *t, table_slot_t *slot);

/*
 * Scanning. A cursor is (hash prefix of the segment, home bucket): 0 starts, 0 returned means
 * done. One call visits every entry whose home bucket is the cursor's, in the segment that
 * covers the prefix, then returns the next cursor. An entry present for the whole scan is
 * visited at least once even if segments split in between (entries may repeat).
 * cb may not insert or erase; collect and act afterwards.
 */
typedef void (*table_visit_fn)(void *arg, table_slot_t *slot);
uint64_t table_scan(table_t *t, uint64_t cursor, table_visit_fn cb, void *arg);

/* Uniformly-ish random occupied slot, NULL when empty. rnd: a random 64-bit value. */
table_slot_t *table_random(table_t *t, uint64_t rnd);

/* Bucket versions for snapshots. */
uint64_t table_next_version(table_t *t);

/* Free a detached table a few segments at a time (see table.c); 1 when done. */
int table_free_step(table_t *t, uint64_t *cursor, size_t max_segs,
                    void (*free_entry)(entry_t *e, void *arg), void *arg);
/* The version of the bucket holding an occupied slot (snapshots). */
uint32_t table_bucket_version(table_t *t, const table_slot_t *slot);

/*
 * Point-in-time snapshots (snapshot.c). Between begin and end, every entry as it was at begin
 * is passed to fn exactly once: either by table_snap_step walking the table, or just before
 * its bucket changes or a table_find hands it out (the caller may then change it in place).
 * Entries inserted after begin are never passed. fn must not change the table.
 *
 * Holding (big values written in slices). When may_hold is set, fn may return 1 instead of
 * writing e: the table marks e held (ENTRY_F_SNAP) and, until table_snap_unhold, calls
 * release(arg, e) before a table_find hands e out or table_erase removes it; release must
 * write e out at once. may_hold is 0 for the entry such a find or erase is about to touch.
 * A table_slot_set must follow a table_find of the same key (which released it).
 */
typedef int (*table_snap_fn)(void *arg, const entry_t *e, int may_hold);
typedef void (*table_snap_release_fn)(void *arg, const entry_t *e);
void table_snap_begin(table_t *t, table_snap_fn fn, table_snap_release_fn release, void *arg);
int table_snap_step(table_t *t, uint64_t *cursor, unsigned max_buckets);
int table_snap_active(const table_t *t);
/* The snapshot has written held entry e out: it is an ordinary entry again. */
void table_snap_unhold(table_t *t, const entry_t *e);
void table_snap_end(table_t *t);

/* Remove everything, calling free_entry for each; the table stays usable. */
void table_clear(table_t *t, void (*free_entry)(entry_t *e, void *arg), void *arg);

#endif
