/*
 * db.h: shards and their databases: the keyspace as the owning thread sees it.
 *
 * A shard holds `dbnum` tables (one per SELECT-able database) and its statistics; it is
 * owned by worker (id % nworkers) and touched only by that thread. Keys map to shards by a
 * seeded XXH3 hash of the key, or of its {hash tag} when it has one.
 *
 * Entries (entry.h) are built and freed here: string values inline, module objects by
 * pointer through their type's vtable. Expired keys are removed lazily by db_find() and
 * actively by db_active_expire() from the worker cron.
 */
#ifndef DF_DB_H
#define DF_DB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "table.h"

typedef struct db {
    table_t *t;
    size_t nexpires;
    uint64_t expire_cursor;
} db_t;

typedef struct shard_stats {
    uint64_t hits, misses, expired, evicted, expire_cycles;
    int64_t avg_ttl_ms;
} shard_stats_t;

struct tx_locks;
struct watch_table;
struct block_table;
struct track_shard;

/* The first cache line is read by every thread (owner) and written by none after start;
   the counters its owner writes on every command live on a line of their own. */
typedef struct shard {
    _Alignas(64) int id;
    int owner; /* worker index */
    int ndbs;
    db_t *dbs;
    struct tx_locks *locks;   /* intent locks of multi-shard transactions (tx.c) */
    struct watch_table *watch; /* WATCHed keys (cmd_multi.c) */
    struct block_table *block; /* clients blocked on keys (block.c) */
    _Alignas(64) shard_stats_t stats;
    _Atomic uint64_t dirty; /* keys changed (rdb_changes_since_last_save): owner writes */
    int active_expire;
    struct track_shard *track; /* keys remembered by CLIENT TRACKING, or NULL (tracking.c) */
} shard_t;

extern shard_t *g_shards;
extern int g_nshards;

void db_init_shards(int nshards, int nworkers, int ndbs);
void db_free_shards(void);

/* Shard of a key (honours {hash tags}). */
int db_shard_of(const char *key, size_t len);
/* Same, also giving the key's table hash (one hash instead of two for untagged keys). */
int db_shard_and_hash(const char *key, size_t len, uint64_t *hash);
static inline int db_owner_of_shard(int shard) { return g_shards[shard].owner; }

/*
 * Find key in db; an expired key is deleted (lazy expiry) and reported absent.
 * Returns the slot or NULL. The slot stays valid until the next insert or erase in that
 * table. Shard thread only.
 */
table_slot_t *db_find(shard_t *s, int db, const char *key, size_t klen);
/* Same without expiring (for DEBUG and internal use). */
table_slot_t *db_find_raw(shard_t *s, int db, const char *key, size_t klen);

/* Build a string entry (not inserted). expire_ms < 0 means none. */
entry_t *db_entry_new_str(const char *key, size_t klen, const void *val, size_t vlen,
                          int64_t expire_ms);
/* The same with `tail` uninitialised bytes reserved after the value (ENTRY_F_META). */
entry_t *db_entry_new_str_tail(const char *key, size_t klen, const void *val, size_t vlen,
                               size_t tail, int64_t expire_ms);
entry_t *db_entry_new_obj(const char *key, size_t klen, int type, void *obj, int64_t expire_ms);
/* Free an entry and its module object. */
void db_entry_free(entry_t *e);
size_t db_entry_mem(entry_t *e);
int db_str_encoding(const char *p, size_t len);

/* Insert or replace key's entry with e (which owns a copy of the key). Returns the slot. */
table_slot_t *db_set_entry(shard_t *s, int db, entry_t *e);
/* Replace the entry in an existing slot (same key), freeing the old one unless keep_old. */
void db_replace_in_slot(shard_t *s, int db, table_slot_t *slot, entry_t *e);
/* Delete the key at slot; frees the entry. */
void db_delete_slot(shard_t *s, int db, table_slot_t *slot);
/* Change the expiry of the entry at slot (-1 removes); may reallocate the entry. */
void db_set_expire(shard_t *s, int db, table_slot_t *slot, int64_t at_ms);

/* Start loading the buckets and entries of up to 32 keys (argv indexes): multi-key commands
   then miss memory in parallel instead of key by key. */
struct dfm_str;
void db_prefetch_keys(shard_t *s, int db, const struct dfm_str *argv, const int *keys, int n);
/* Keys in a db of this shard. */
size_t db_size(shard_t *s, int db);
/* Empty a db (-1: all) of this shard; returns keys removed. */
size_t db_flush(shard_t *s, int db);
/* Empty every db of every shard, each on its owner's thread, and return when all are empty
   (a non-worker thread: a replica's full sync, DEBUG RELOAD). Not journaled, no events. */
void db_flush_everything(void);
/* Free a table no db points at any more, a slice at a time from the owner's loop (or at once
   when small or off a worker). Shard thread. */
void db_release_table(table_t *t);
/* Count n key changes on s (save points, INFO rdb_changes_since_last_save). Shard thread. */
static inline void db_dirty_add(shard_t *s, uint64_t n) {
    atomic_store_explicit(&s->dirty, atomic_load_explicit(&s->dirty, memory_order_relaxed) + n,
                          memory_order_relaxed);
}
/* Free the calling worker's pending FLUSHALL garbage and its reaper (at worker exit). */
void db_worker_exit(void);
/* One active expiry cycle over this shard; budget in microseconds. */
void db_active_expire(shard_t *s, int64_t budget_us);

/* The string type id and module types (registered by the loader). */
#define DB_MAX_TYPES 64
typedef struct dfm_type dfm_type_t;
extern const dfm_type_t *g_types[DB_MAX_TYPES];
extern int g_ntypes;
int db_register_type(const dfm_type_t *t); /* returns id, -1 when full */
const char *db_type_name(int id);
const char *db_encoding_name(const entry_t *e);

/* Modification hooks: WATCH and blocking are told of every write (cmd_multi.c, block.c). */
void db_signal_modified(shard_t *s, int db, const char *key, size_t klen);
/* Before db (-1: all) of s is emptied: flags the watchers of the keys it holds. */
void db_signal_flush(shard_t *s, int db);
/* SWAPDB a b on s: flags the watchers of keys present in either db. */
void watch_signal_swap(shard_t *s, int a, int b);

#endif
