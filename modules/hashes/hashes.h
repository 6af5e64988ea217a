/*
 * hashes.h: what the files of the hashes module share: the core's API table, the hash type
 * id, the lookup and change helpers, and the handlers module.c puts in its command table.
 * Internal to the module.
 */
#ifndef DF_HASHES_H
#define DF_HASHES_H

#include <dragonfly/module.h>

#include "hash.h"

/* Every handler has the dfm_cmd_fn signature; many have no use for argc. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

extern const dfm_api_t *hs_api;
extern int hs_type_id;

/*
 * Look up key and check it holds a hash. Returns 1 and sets *h (and *k when k is not NULL)
 * when it does, 0 when the key is missing, -1 after replying WRONGTYPE. Shard thread.
 */
int hs_lookup(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, dfm_key_t **k, hobj_t **h);
/* Like hs_lookup, but creates an empty hash when the key is missing (returns 1 then too). */
int hs_lookup_create(dfm_ctx_t *ctx, const dfm_str_t *key, dfm_key_t **k, hobj_t **h);
/* After a write to key: delete it when h became empty, then the event and signal. */
void hs_changed(dfm_ctx_t *ctx, const dfm_str_t *key, dfm_key_t *k, hobj_t *h,
                const char *event);

/* Export the read API of hashes_api.h (export.c); init only. 0 or -1. */
int hs_export_register(dfm_module_t *self);

/* RDB callbacks of the type (rdb.c). */
int hs_rdb_save(const void *obj, dfm_rdb_t *rdb);
void *hs_rdb_load(int rdb_type, dfm_rdb_t *rdb);
/* ... and the same save a slice at a time, for snapshots (ABI 1.9). */
extern const dfm_rdb_slicer_t hs_rdb_slicer;

void hs_cmd_hset(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void hs_cmd_hmset(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void hs_cmd_hsetnx(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void hs_cmd_hdel(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void hs_cmd_hincrby(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void hs_cmd_hincrbyfloat(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void hs_cmd_hget(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void hs_cmd_hmget(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void hs_cmd_hlen(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void hs_cmd_hstrlen(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void hs_cmd_hexists(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void hs_cmd_hgetall(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void hs_cmd_hkeys(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void hs_cmd_hvals(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void hs_cmd_hrandfield(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void hs_cmd_hscan(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);

#endif
