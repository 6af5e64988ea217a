/*
 * sets.h: what the files of the sets module share: the core's API table, the set type id, the
 * lookup and change helpers, and the handlers and multi-shard descriptors module.c puts in its
 * command table. Internal to the module.
 */
#ifndef DF_SETS_H
#define DF_SETS_H

#include <dragonfly/module.h>

#include "set.h"

/* Every handler has the dfm_cmd_fn signature; many have no use for argc. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define SS_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"

extern const dfm_api_t *ss_api;
extern int ss_type_id;

/* Look up key without replying: 1 with *s (and *k) set, 0 missing, -1 wrong type. */
int ss_find(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, dfm_key_t **k, sobj_t **s);
/* Like ss_find, but replies WRONGTYPE for -1. Shard thread. */
int ss_lookup(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, dfm_key_t **k, sobj_t **s);
/* Like ss_lookup, but creates an empty set when the key is missing (returns 1 then). */
int ss_lookup_create(dfm_ctx_t *ctx, const dfm_str_t *key, dfm_key_t **k, sobj_t **s);
/* After a write to key: the event, deleting the key when s became empty, the signal. A NULL
   event only drops an empty set we created (nothing visible changed). */
void ss_changed(dfm_ctx_t *ctx, const dfm_str_t *key, dfm_key_t *k, sobj_t *s,
                const char *event);
/* Reply the members of s (a RESP3 set) and nothing else. */
void ss_reply_members(dfm_ctx_t *ctx, const sobj_t *s);

int ss_rdb_save(const void *obj, dfm_rdb_t *rdb);
void *ss_rdb_load(int rdb_type, dfm_rdb_t *rdb);
/* ... and the same save a slice at a time, for snapshots (ABI 1.9). */
extern const dfm_rdb_slicer_t ss_rdb_slicer;

void ss_cmd_sadd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ss_cmd_srem(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ss_cmd_smembers(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ss_cmd_sismember(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ss_cmd_smismember(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ss_cmd_scard(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ss_cmd_spop(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ss_cmd_srandmember(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ss_cmd_sscan(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);

extern const dfm_multi_t ss_smove_multi;
extern const dfm_multi_t ss_sinter_multi, ss_sunion_multi, ss_sdiff_multi;
extern const dfm_multi_t ss_sinterstore_multi, ss_sunionstore_multi, ss_sdiffstore_multi;
extern const dfm_multi_t ss_sintercard_multi;

#endif
