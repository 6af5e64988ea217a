/*
 * zsets.h: what the files of the zsets module share: the core's API table, the zset type id,
 * the listpack limits (for OBJECT ENCODING), lookup / change / reply helpers and the handlers
 * and multi-shard descriptors that module.c puts in its command table. Internal to the module.
 */
#ifndef DF_ZSETS_H
#define DF_ZSETS_H

#include <string.h>

#include <dragonfly/module.h>

#include "zset.h"

/* Every handler has the dfm_cmd_fn signature; many have no use for argc. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

/* The core's services, this module's handle and our type id, kept by dfm_module_init. */
extern const dfm_api_t *zs_api;
extern dfm_module_t *zs_self;
extern int zs_type_id;
/* zset-max-listpack-entries / -value: beyond them a set reports "skiplist". */
extern int64_t zs_max_entries, zs_max_value;

/* Redis's replies that several files send. */
#define ZS_ERR_NOTFLOAT "ERR min or max is not a float"
#define ZS_ERR_LEX "ERR min or max not valid string range item"

/*
 * Look up `key` and check it holds a zset. Returns 1 and sets *z (and *k if k is not NULL)
 * when it does, 0 when the key is missing, -1 after replying WRONGTYPE. Shard thread.
 */
int zs_lookup(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, dfm_key_t **k, zset_t **z);
/* Like zs_lookup without replying: -1 means wrong type. */
int zs_find_key(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, dfm_key_t **k, zset_t **z);

/* Mark z as "skiplist" if a member of len bytes or its size passes the listpack limits. */
void zs_note_size(zset_t *z, size_t member_len);
/* Recompute the encoding of a freshly built set from scratch (RDB load, *STORE results);
   a set that stays "listpack" has its -0 scores made 0, as Redis stores them. */
void zs_fix_encoding(zset_t *z);

/* After a write to key: keyspace event, delete it when empty, WATCH. k may be NULL when the
   key was not looked up (nothing to delete then). Writers that add members also call
   signal_key_ready for BZPOP* waiters. */
void zs_changed(dfm_ctx_t *ctx, const dfm_str_t *key, dfm_key_t *k, zset_t *z,
                const char *event);

/* Store z at dst as the *STORE commands do (takes z; NULL counts as empty): a non-empty set
   replaces dst (its TTL goes) with `event`, an empty one deletes dst. Returns the size
   stored. Shard thread of dst. */
long long zs_store(dfm_ctx_t *ctx, const dfm_str_t *dst, zset_t *z, const char *event);

/* A popped member, copied out of the set (which may be deleted before the reply). */
typedef struct zs_popped {
    char *member; /* zs_api->alloc'd */
    size_t len;
    double score;
} zs_popped_t;

/* Remove the first (min) or last (max) member of the non-empty z into *out. */
void zs_pop_one(zset_t *z, int max, zs_popped_t *out);

/* Parse a blocking timeout in seconds as Redis does (a float, rounded up to ms; 0 = forever).
   Returns NULL or the error to reply (a static string). */
const char *zs_parse_timeout(const dfm_str_t *a, int64_t *ms);
/* Phase 0 of the multi-key pops (BZPOPMIN/MAX, ZMPOP, BZMPOP) on one shard: lower *wrong to
   the argv index of a key of another type and *ready to that of a non-empty zset, when
   smaller (0 = none yet). Redis looks at the keys in argument order. */
void zs_scan_first(dfm_ctx_t *ctx, const dfm_str_t *argv, const int *keys, int nkeys,
                   int *wrong, int *ready);

/* Reply a member, a score (bulk in RESP2, double in RESP3). */
void zs_reply_member(dfm_ctx_t *ctx, const zs_node_t *n);
/* Format a score as Redis's d2string does (ZSCAN): integers without exponent, else %.17g. */
int zs_d2string(char *buf, size_t cap, double v);

/* Parse score / lex range bounds; 0 ok, -1 bad (no reply). */
int zs_parse_range(const dfm_str_t *min, const dfm_str_t *max, zs_range_t *r);
int zs_parse_lex(const dfm_str_t *min, const dfm_str_t *max, zs_lexrange_t *r);

/* Handlers (single-shard). */
void zs_cmd_zadd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zincrby(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zrem(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zcard(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zscore(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zmscore(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zrank(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zrevrank(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zcount(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zlexcount(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zrange(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zrevrange(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zrangebyscore(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zrevrangebyscore(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zrangebylex(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zrevrangebylex(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zremrangebyrank(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zremrangebyscore(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zremrangebylex(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zpopmin(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zpopmax(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zrandmember(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void zs_cmd_zscan(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);

/* Cross-shard commands. */
extern const dfm_multi_t zs_zunionstore_multi;
extern const dfm_multi_t zs_zinterstore_multi;
extern const dfm_multi_t zs_zdiffstore_multi;
extern const dfm_multi_t zs_zunion_multi;
extern const dfm_multi_t zs_zinter_multi;
extern const dfm_multi_t zs_zdiff_multi;
extern const dfm_multi_t zs_bzpopmin_multi;
extern const dfm_multi_t zs_bzpopmax_multi;
extern const dfm_multi_t zs_zmpop_multi;
extern const dfm_multi_t zs_bzmpop_multi;
extern const dfm_multi_t zs_zintercard_multi;
extern const dfm_multi_t zs_zrangestore_multi;

/* Export the read API of zsets_api.h and the write API of zsets_write_api.h (export.c);
   init only. 0 or -1. */
int zs_export_register(dfm_module_t *self);

/* RDB (module.c's type table uses them). */
int zs_rdb_save(const void *obj, dfm_rdb_t *rdb);
void *zs_rdb_load(int rdb_type, dfm_rdb_t *rdb);
/* ... and the same save a slice at a time, for snapshots (ABI 1.9). */
extern const dfm_rdb_slicer_t zs_rdb_slicer;

#endif
