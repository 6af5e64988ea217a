/*
 * list.h: the list value: a deque of byte strings in a doubly linked chain of packed nodes
 * (Redis's quicklist idea). Each node holds up to QL_NODE_MAX bytes of entries laid out as
 *
 *     [len varint][bytes][len varint, bytes reversed]
 *
 * so an entry can be stepped over from either side. Pushing and popping at either end touch one
 * node (O(1) amortised, a memmove of at most QL_NODE_MAX bytes); index access walks nodes from
 * the nearer end. An element larger than a node gets a node of its own. Per element this costs
 * 2 bytes for strings under 128 bytes, as Redis's listpack does.
 *
 * Memory comes from the core's accounted allocator (lst_api). Not thread-safe: a list belongs to
 * one shard and is touched only on that shard's thread.
 */
#ifndef DF_LISTS_LIST_H
#define DF_LISTS_LIST_H

#include <stddef.h>
#include <stdint.h>

#include <dragonfly/module.h>

/* Bytes of entries per node before a new node is started (Redis's list-max-listpack-size -2). */
#define QL_NODE_MAX 8192

typedef struct ql_node ql_node_t;

typedef struct ql {
    ql_node_t *head, *tail;
    size_t count; /* elements */
    size_t nodes;
} ql_t;

/* A position in a list: an entry (node, byte offset) or the end (node NULL). A change to the
   list invalidates every iterator except the one the change went through, as documented. */
typedef struct ql_iter {
    ql_t *l;
    ql_node_t *node;
    size_t off;
} ql_iter_t;

#define QL_HEAD 0
#define QL_TAIL 1

ql_t *ql_new(void);
void ql_free(ql_t *l);
ql_t *ql_copy(const ql_t *l);
/* Bytes held by l, as the allocator counts them. */
size_t ql_mem(const ql_t *l);

/* Add a copy of p[0..len) at the head or tail (QL_HEAD / QL_TAIL). */
void ql_push(ql_t *l, int where, const void *p, size_t len);
/* The element at an end, pointing into the list (valid until the next change). 0 if empty. */
int ql_peek(const ql_t *l, int where, dfm_str_t *out);
/* Remove n elements (at most count) from an end. */
void ql_pop(ql_t *l, int where, size_t n);

/* Point *it at element `index` (0-based from the head; 0 <= index < count), or at the end. */
void ql_seek(ql_t *l, size_t index, ql_iter_t *it);
/* The element under it (pointing into the list); 0 at the end. */
int ql_iter_get(const ql_iter_t *it, dfm_str_t *out);
void ql_iter_next(ql_iter_t *it);
void ql_iter_prev(ql_iter_t *it);
/* Insert a copy of p before (after = 0) or after the element under it. it becomes invalid. */
void ql_iter_insert(ql_iter_t *it, int after, const void *p, size_t len);
/* Replace the element under it with a copy of p. it becomes invalid. */
void ql_iter_replace(ql_iter_t *it, const void *p, size_t len);
/* Delete the element under it; it then points at the next element (forward) or the previous
   one (backward), or the end. */
void ql_iter_delete(ql_iter_t *it, int forward);

#endif
