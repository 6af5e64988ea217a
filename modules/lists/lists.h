/*
 * lists.h: what the files of the lists module share: the core's API table, the list type id,
 * helpers to look up list keys and to announce changes, and the handlers and multi-shard
 * descriptors that module.c puts in its command table. Internal to the module.
 */
#ifndef DF_LISTS_H
#define DF_LISTS_H

#include <string.h>

#include <dragonfly/module.h>

#include "list.h"

/* Every handler has the dfm_cmd_fn signature; many have no use for argc. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

/* The core's services and our type id, kept by dfm_module_init. */
extern const dfm_api_t *lst_api;
extern dfm_module_t *lst_self; /* for import_api (sort.c reads sets, zsets, hashes) */
extern int lst_type_id;

/*
 * Look up `key` and check it holds a list. Returns 1 and sets *l (and *k if k is not NULL) when
 * it does, 0 when the key is missing, -1 after replying WRONGTYPE. Shard thread.
 */
int lst_lookup(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, dfm_key_t **k, ql_t **l);
/* Like lst_lookup without replying: -1 means wrong type. */
int lst_find(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, dfm_key_t **k, ql_t **l);

/* After elements were added to key: WATCH/stats, keyspace event, wake blocked clients. */
void lst_pushed(dfm_ctx_t *ctx, const dfm_str_t *key, const char *event);
/* After a change that may have emptied the list behind k: delete the key if it is empty, then
   signal the write and the event(s). */
void lst_changed(dfm_ctx_t *ctx, const dfm_str_t *key, dfm_key_t *k, ql_t *l,
                 const char *event);

/* Pop one element from an end of l into a freshly allocated copy (for replies after the list
   may change). *out->ptr must be released with lst_api->free. 0 if l is empty. */
int lst_pop_copy(ql_t *l, int where, dfm_str_t *out);

/* Parse a blocking timeout in seconds as Redis does (a float, truncated to ms; 0 = forever).
   Returns NULL or the error to reply (a static string). */
const char *lst_parse_timeout(const dfm_str_t *a, int64_t *ms);

/* Normalise a Redis index (negative counts from the tail); -1 when it is out of range. */
long long lst_index(long long index, size_t len);

/* Byte-wise equality of two strings. */
static inline int lst_str_eq(const dfm_str_t *a, const dfm_str_t *b) {
    return a->len == b->len && (a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0);
}

/* Handlers (single-shard). */
void lst_cmd_lpush(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void lst_cmd_rpush(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void lst_cmd_lpushx(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void lst_cmd_rpushx(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void lst_cmd_linsert(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void lst_cmd_lpop(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void lst_cmd_rpop(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void lst_cmd_llen(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void lst_cmd_lrange(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void lst_cmd_lindex(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void lst_cmd_lpos(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void lst_cmd_lset(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void lst_cmd_ltrim(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void lst_cmd_lrem(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void lst_cmd_sort_ro(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);

/* The list type's RDB encoding (rdb.c): save writes RDB_TYPE_LIST_QUICKLIST_2 and returns
   its id; load reads any id in the type's rdb_types and returns a new list, or NULL on bad
   data. Shard thread. */
int lst_rdb_save(const void *obj, dfm_rdb_t *rdb);
void *lst_rdb_load(int rdb_type, dfm_rdb_t *rdb);
/* ... and the same save a slice at a time, for snapshots (ABI 1.9). */
extern const dfm_rdb_slicer_t lst_rdb_slicer;

/* Cross-shard (blocking) commands. */
extern const dfm_multi_t lst_blpop_multi;
extern const dfm_multi_t lst_brpop_multi;
extern const dfm_multi_t lst_lmove_multi;
extern const dfm_multi_t lst_rpoplpush_multi;
extern const dfm_multi_t lst_blmove_multi;
extern const dfm_multi_t lst_brpoplpush_multi;
extern const dfm_multi_t lst_lmpop_multi;
extern const dfm_multi_t lst_blmpop_multi;
extern const dfm_multi_t lst_sort_multi;

/* After the commands are registered: tell the core where SORT's keys are (sort.c). */
int lst_sort_register(dfm_module_t *self);

#endif
