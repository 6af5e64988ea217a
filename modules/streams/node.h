/*
 * node.h: a stream node (stream.c, cursor.c): up to NODE_MAX_ENTRIES entries packed in one
 * allocation, as Redis packs a listpack. Layout of data[]: the first entry's field names
 * (varint count, then varint length + bytes each), then every entry: a flags byte, varint
 * (ms - master.ms), varint seq, varint npairs, then field and value strings, or only the
 * values when NODE_SAME says the fields are the master's. Internal to the module.
 */
#ifndef DF_STREAMS_NODE_H
#define DF_STREAMS_NODE_H

#include "streams.h"

#define NODE_MAX_ENTRIES 100 /* Redis's stream-node-max-entries */
#define NODE_MAX_BYTES 4096  /* and stream-node-max-bytes */
#define NODE_DELETED 1
#define NODE_SAME 2

struct xnode {
    sid_t master;      /* the id of the node's first entry: ids are stored as deltas */
    sid_t last;        /* the id of its last entry, deleted or not */
    uint32_t live;     /* entries not deleted */
    uint32_t total;    /* all entries */
    uint32_t body;     /* offset of the first entry (after the master fields) */
    uint32_t len, cap; /* bytes used and allocated in data */
    unsigned char data[];
};

/* One decoded entry header. */
typedef struct nd_ent {
    int flags;
    sid_t id;
    uint32_t npairs;
    uint32_t at;    /* offset of the flags byte (to mark it deleted) */
    uint32_t pairs; /* offset of its strings */
    uint32_t next;  /* offset of the next entry */
} nd_ent_t;

uint64_t nd_varint(const unsigned char **p);
unsigned char *nd_put_varint(unsigned char *p, uint64_t v);
size_t nd_varint_len(uint64_t v);
void nd_decode(const xnode_t *n, uint32_t off, nd_ent_t *e);
size_t nd_seek(const stream_t *s, const sid_t *id); /* first node with last >= id */
/* Offsets of node n's live entries into offs (at most NODE_MAX_ENTRIES); returns how many. */
uint32_t nd_live_offsets(const xnode_t *n, uint32_t *offs);
/* The entry at off as a detached entry, written into *buf (grown with api->realloc). */
xent_t *nd_flatten(const xnode_t *n, uint32_t off, uint32_t index, xent_t **buf, size_t *cap);

#endif
