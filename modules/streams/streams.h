/*
 * streams.h: the streams module's shared declarations: the "stream" value (stream.c), stream
 * ids (id.c), consumer groups (group.c), and the command handlers of the other files.
 *
 * A stream keeps its entries in nodes the way Redis keeps listpacks: a node holds up to 100
 * entries (or about 4 KiB) packed one after another (flags, id as deltas from the node's first
 * id, then the values, with the field names only when they differ from the node's first
 * entry's). Deleting marks an entry; a node goes when its last live entry does. So "~"
 * trimming drops exactly the whole nodes Redis would, and RDB writes one listpack per node.
 * Callers see entries one at a time as a detached xent_t (stream_at / stream_find), which is
 * also the form new entries are built in. Everything is allocated through the core's
 * accounted allocator and touched only on the thread owning the key's shard.
 */
#ifndef DF_STREAMS_H
#define DF_STREAMS_H

#include <stddef.h>
#include <stdint.h>

#include <dragonfly/module.h>

extern const dfm_api_t *xs_api;
extern int xs_type_id;

typedef struct sid {
    uint64_t ms, seq;
} sid_t;

/* An entry on its own: the id, then field/value pairs as varint length + bytes. */
typedef struct xent {
    sid_t id;
    uint32_t node;   /* index of its node (entries read from a stream) */
    uint32_t npairs; /* field/value pairs */
    uint32_t size;   /* bytes of data */
    unsigned char data[];
} xent_t;

typedef struct xnode xnode_t; /* stream.c */

typedef struct xcons {
    char *name;
    size_t len;
    int64_t seen_ms;
    size_t npending;
} xcons_t;

typedef struct xnack {
    sid_t id;
    xcons_t *owner;
    int64_t time_ms;
    uint64_t count;
} xnack_t;

#define XS_INVALID_READ (-1LL)

typedef struct xgroup {
    char *name;
    size_t len;
    sid_t last_id;
    long long entries_read;
    xnack_t *pel; /* sorted by id */
    size_t npel, cappel;
    xcons_t **cons; /* sorted by name */
    size_t ncons, capcons;
} xgroup_t;

typedef struct stream {
    xnode_t **nodes; /* by id */
    size_t nnodes, capnodes;
    size_t len;       /* live entries */
    size_t bytes;     /* bytes allocated for the nodes, for MEMORY USAGE */
    uint64_t version; /* process-unique, new at every write (stream_at's cursor) */
    sid_t last_id, first_id, max_deleted;
    uint64_t entries_added;
    xgroup_t **groups; /* sorted by name */
    size_t ngroups;
} stream_t;

/* ---- ids (id.c) */
int sid_cmp(const sid_t *a, const sid_t *b);
int sid_incr(sid_t *id); /* -1 on overflow */
int sid_decr(sid_t *id);
int sid_is_zero(const sid_t *id);
int sid_fmt(char *buf, size_t cap, const sid_t *id);
void xs_reply_id(dfm_ctx_t *ctx, const sid_t *id);
/* Parse as Redis's streamGenericParseIDOrReply: "-" / "+" unless strict, "ms[-seq]" with a
   missing seq = missing_seq, "ms-*" when seq_given is not NULL (*seq_given = 0). Replies
   "ERR Invalid stream ID ..." and returns -1 on failure. */
int xs_parse_id(dfm_ctx_t *ctx, const dfm_str_t *a, sid_t *id, uint64_t missing_seq, int strict,
                int *seq_given);
int xs_parse_id_quiet(const dfm_str_t *a, sid_t *id, uint64_t missing_seq, int strict,
                      int *seq_given);
extern const char *const XS_ERR_ID;
/* A range bound (XRANGE, XPENDING): "(" = exclusive (a strict id, stepped past itself).
   start: a missing seq is 0, else UINT64_MAX. Replies and returns -1 on error. */
int xs_parse_bound(dfm_ctx_t *ctx, const dfm_str_t *a, sid_t *id, int start);

/* ---- the value (stream.c) */
/* A version no other stream, living or freed, has had (stream.c). */
uint64_t stream_next_version(void);
stream_t *stream_new(void);
void stream_free(void *obj);
void *stream_copy(const void *obj);
size_t stream_mem(const void *obj);
xent_t *stream_entry_new(const dfm_str_t *pairs, size_t npairs);
/* Append e (its id > last_id), in a new node when fresh (RDB keeps Redis's nodes); frees e. */
void stream_append(stream_t *s, xent_t *e, int fresh);
/* Live index of the first entry with id >= id (s->len if none). O(nodes). */
size_t stream_seek(const stream_t *s, const sid_t *id);
/* Entry i (live index) or the entry with id: a view in this thread's buffer, valid until the
   next stream_at / stream_find on the thread. Walking i up or down is O(1) per step. */
const xent_t *stream_at(const stream_t *s, size_t i);
const xent_t *stream_find(const stream_t *s, const sid_t *id);
const xent_t *stream_last(const stream_t *s);
int stream_delete(stream_t *s, const sid_t *id); /* 1 deleted (max_deleted follows) */
void stream_drop_front(stream_t *s, size_t n);   /* the first n live entries (trimming) */
size_t stream_nodes(const stream_t *s);
/* Node k: live entries, the live index of its first one (O(k): only when first is not NULL),
   the id of its last (even deleted). */
size_t stream_node_live(const stream_t *s, size_t k, size_t *first, sid_t *last);
/* Iterate an entry's pairs: returns 1 and the next string, 0 at the end. */
int xent_next(const xent_t *e, size_t *off, dfm_str_t *out);
void xs_reply_entry(dfm_ctx_t *ctx, const xent_t *e);

/* ---- trimming (add.c) */
typedef struct xtrim_args {
    int strategy; /* 0 none, 1 maxlen, 2 minid */
    int approx;
    long long maxlen, limit;
    sid_t minid;
} xtrim_args_t;
long long stream_trim(stream_t *s, const xtrim_args_t *t);

/* ---- groups (group.c) */
xgroup_t *xg_find(const stream_t *s, const dfm_str_t *name);
xgroup_t *xg_create(stream_t *s, const dfm_str_t *name, const sid_t *id, long long read);
void xg_free(xgroup_t *g);
xgroup_t *xg_copy(const xgroup_t *g);
xcons_t *xg_consumer(const xgroup_t *g, const dfm_str_t *name);
xcons_t *xg_consumer_add(xgroup_t *g, const dfm_str_t *name, int *created);
xcons_t *xg_consumer_seen(dfm_ctx_t *ctx, const dfm_str_t *key, xgroup_t *g,
                          const dfm_str_t *name);
long long xg_consumer_del(xgroup_t *g, xcons_t *c);
xnack_t *xg_pel_find(const xgroup_t *g, const sid_t *id);
size_t xg_pel_seek(const xgroup_t *g, const sid_t *id);
void xg_pel_put(xgroup_t *g, const sid_t *id, xcons_t *owner, int64_t now);
int xg_pel_del(xgroup_t *g, const sid_t *id);
long long xs_estimate_read(const stream_t *s, const sid_t *id);
int xs_has_tombstones(const stream_t *s, const sid_t *start);
void xg_delivered(const stream_t *s, xgroup_t *g, const sid_t *id);

/* ---- the per-thread read cursor (cursor.c): freed at each shard thread's exit */
void xs_cursor_release(int shard_id);

/* ---- helpers (module.c) */
/* 1 found (*s set), 0 missing, -1 wrong type (replied when reply is set). */
int xs_lookup(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, stream_t **s, int reply);
int xs_arg_ull(const dfm_str_t *a, unsigned long long *out);
char *xs_dup(const dfm_str_t *a);

/* ---- handlers */
void xs_cmd_xadd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void xs_cmd_xtrim(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void xs_cmd_xdel(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void xs_cmd_xlen(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void xs_cmd_xsetid(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void xs_cmd_xrange(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void xs_cmd_xrevrange(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
extern const dfm_multi_t xs_xread_multi, xs_xreadgroup_multi;
int xs_read_keys(int argc, const dfm_str_t *argv, int *idx, int max);
void xs_cmd_xgroup_create(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void xs_cmd_xgroup_destroy(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void xs_cmd_xgroup_setid(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void xs_cmd_xgroup_createconsumer(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void xs_cmd_xgroup_delconsumer(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void xs_cmd_xgroup_help(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void xs_cmd_xinfo_help(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void xs_cmd_xack(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void xs_cmd_xpending(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void xs_cmd_xclaim(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void xs_cmd_xautoclaim(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void xs_cmd_xinfo_stream(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void xs_cmd_xinfo_groups(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void xs_info_full_tail(dfm_ctx_t *ctx, const stream_t *s, long long count);
void xs_reply_group_progress(dfm_ctx_t *ctx, const stream_t *s, const xgroup_t *g);
void xs_cmd_xinfo_consumers(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);

/* ---- RDB (rdb.c) */
int xs_rdb_save(const void *obj, dfm_rdb_t *rdb);
void *xs_rdb_load(int rdb_type, dfm_rdb_t *rdb);
/* ... and the same save a slice at a time, for snapshots (ABI 1.9). */
extern const dfm_rdb_slicer_t xs_rdb_slicer;

#endif
