/*
 * list.c: the packed-node deque behind the list type (see list.h for the layout). Entries are
 * [varint len][bytes][varint len reversed]; the reversed copy lets us step backwards, which
 * RPOP, LINDEX -1 and LPOS RANK -1 need. Nodes are sized to what they hold (the allocator's
 * usable size is the capacity), split in two when an insert in the middle grows them past
 * QL_NODE_MAX, and freed when they become empty.
 */
#include <string.h>

#include "lists.h"

struct ql_node {
    ql_node_t *prev, *next;
    uint32_t count; /* entries */
    uint32_t used;  /* bytes of data in use */
    unsigned char data[];
};

/* ---------------------------------------------------------------- entry encoding */

static size_t vlen(size_t n) {
    size_t k = 1;
    while (n >= 128) {
        n >>= 7;
        k++;
    }
    return k;
}

/* Bytes an entry of `len` payload bytes takes in a node. */
static size_t esize(size_t len) { return 2 * vlen(len) + len; }

/* Write the entry for p[0..len) at dst (esize(len) bytes). */
static void encode(unsigned char *dst, const void *p, size_t len) {
    size_t k = vlen(len), n = len;
    for (size_t i = 0; i < k; i++, n >>= 7) {
        unsigned char b = (unsigned char)((n & 0x7f) | (i + 1 < k ? 0x80 : 0));
        dst[i] = b;                 /* header: low group first */
        dst[2 * k + len - 1 - i] = b; /* trailer: mirrored, so the low group is last */
    }
    if (len) memcpy(dst + k, p, len);
}

/* Decode the entry starting at p: payload in *out; returns the entry's size. */
static size_t decode_at(const unsigned char *p, dfm_str_t *out) {
    size_t len = 0, k = 0;
    unsigned char b;
    do {
        b = p[k];
        len |= (size_t)(b & 0x7f) << (7 * k);
        k++;
    } while (b & 0x80);
    out->ptr = (const char *)p + k;
    out->len = len;
    return 2 * k + len;
}

/* Size of the entry that ends just before `end`. */
static size_t size_before(const unsigned char *end) {
    size_t len = 0, k = 0;
    unsigned char b;
    do {
        b = end[-1 - (ptrdiff_t)k];
        len |= (size_t)(b & 0x7f) << (7 * k);
        k++;
    } while (b & 0x80);
    return 2 * k + len;
}

static size_t entry_size(const ql_node_t *n, size_t off) {
    dfm_str_t s;
    return decode_at(n->data + off, &s);
}

/* ---------------------------------------------------------------- nodes */

static size_t node_cap(ql_node_t *n) { return lst_api->usable_size(n) - sizeof(*n); }

/* A node able to hold `bytes` bytes of data, not linked. */
static ql_node_t *node_new(size_t bytes) {
    ql_node_t *n = lst_api->alloc(sizeof(*n) + (bytes ? bytes : 1));
    n->prev = n->next = NULL;
    n->count = n->used = 0;
    return n;
}

/* Make room for `need` bytes of data in total; the node may move (its neighbours are fixed). */
static ql_node_t *node_reserve(ql_t *l, ql_node_t *n, size_t need) {
    if (need <= node_cap(n)) return n;
    ql_node_t *m = lst_api->realloc(n, sizeof(*n) + need);
    if (m == n) return m;
    if (m->prev) m->prev->next = m; else l->head = m;
    if (m->next) m->next->prev = m; else l->tail = m;
    return m;
}

/* Link n after `at` (NULL: at the head). */
static void node_link(ql_t *l, ql_node_t *at, ql_node_t *n) {
    n->prev = at;
    n->next = at ? at->next : l->head;
    if (n->next) n->next->prev = n; else l->tail = n;
    if (at) at->next = n; else l->head = n;
    l->nodes++;
}

static void node_unlink_free(ql_t *l, ql_node_t *n) {
    if (n->prev) n->prev->next = n->next; else l->head = n->next;
    if (n->next) n->next->prev = n->prev; else l->tail = n->prev;
    l->nodes--;
    lst_api->free(n);
}

/* Insert an entry at byte offset off of n (n may move; returns it). */
static ql_node_t *node_insert(ql_t *l, ql_node_t *n, size_t off, const void *p, size_t len) {
    size_t es = esize(len);
    n = node_reserve(l, n, n->used + es);
    memmove(n->data + off + es, n->data + off, n->used - off);
    encode(n->data + off, p, len);
    n->used += (uint32_t)es;
    n->count++;
    l->count++;
    return n;
}

/* Remove the entry at byte offset off of n; frees n when it empties. Returns 1 if freed. */
static int node_remove(ql_t *l, ql_node_t *n, size_t off) {
    size_t es = entry_size(n, off);
    memmove(n->data + off, n->data + off + es, n->used - off - es);
    n->used -= (uint32_t)es;
    n->count--;
    l->count--;
    if (n->count > 0) return 0;
    node_unlink_free(l, n);
    return 1;
}

/* Split a node grown past QL_NODE_MAX into two at an entry boundary near its middle. */
static void node_maybe_split(ql_t *l, ql_node_t *n) {
    if (n->used <= QL_NODE_MAX || n->count < 2) return;
    size_t off = 0, k = 0;
    while (off < n->used / 2 && k + 1 < n->count) {
        off += entry_size(n, off);
        k++;
    }
    if (k == 0) k = 1, off = entry_size(n, 0);
    ql_node_t *m = node_new(n->used - off);
    memcpy(m->data, n->data + off, n->used - off);
    m->used = (uint32_t)(n->used - off);
    m->count = (uint32_t)(n->count - k);
    n->used = (uint32_t)off;
    n->count = (uint32_t)k;
    node_link(l, n, m);
}

/* ---------------------------------------------------------------- whole list */

ql_t *ql_new(void) {
    ql_t *l = lst_api->alloc(sizeof(*l));
    memset(l, 0, sizeof(*l));
    return l;
}

void ql_free(ql_t *l) {
    if (l == NULL) return;
    for (ql_node_t *n = l->head, *next; n; n = next) {
        next = n->next;
        lst_api->free(n);
    }
    lst_api->free(l);
}

ql_t *ql_copy(const ql_t *l) {
    ql_t *c = ql_new();
    for (const ql_node_t *n = l->head; n; n = n->next) {
        ql_node_t *m = node_new(n->used);
        memcpy(m->data, n->data, n->used);
        m->used = n->used;
        m->count = n->count;
        node_link(c, c->tail, m);
    }
    c->count = l->count;
    return c;
}

size_t ql_mem(const ql_t *l) {
    size_t sum = lst_api->usable_size((void *)(uintptr_t)l);
    for (ql_node_t *n = l->head; n; n = n->next) sum += lst_api->usable_size(n);
    return sum;
}

void ql_push(ql_t *l, int where, const void *p, size_t len) {
    ql_node_t *n = where == QL_HEAD ? l->head : l->tail;
    if (n == NULL || n->used + esize(len) > QL_NODE_MAX) {
        ql_node_t *m = node_new(esize(len));
        node_link(l, where == QL_HEAD ? NULL : l->tail, m);
        n = m;
    }
    node_insert(l, n, where == QL_HEAD ? 0 : n->used, p, len);
}

int ql_peek(const ql_t *l, int where, dfm_str_t *out) {
    if (l->count == 0) return 0;
    const ql_node_t *n = where == QL_HEAD ? l->head : l->tail;
    size_t off = where == QL_HEAD ? 0 : n->used - size_before(n->data + n->used);
    decode_at(n->data + off, out);
    return 1;
}

/* Drop the first k entries of n (k < n->count) with one memmove. */
static void node_drop_head(ql_t *l, ql_node_t *n, size_t k) {
    size_t off = 0;
    for (size_t i = 0; i < k; i++) off += entry_size(n, off);
    memmove(n->data, n->data + off, n->used - off);
    n->used -= (uint32_t)off;
    n->count -= (uint32_t)k;
    l->count -= k;
}

/* Drop the last k entries of n (k < n->count). */
static void node_drop_tail(ql_t *l, ql_node_t *n, size_t k) {
    for (size_t i = 0; i < k; i++) n->used -= (uint32_t)size_before(n->data + n->used);
    n->count -= (uint32_t)k;
    l->count -= k;
}

void ql_pop(ql_t *l, int where, size_t n) {
    while (n > 0 && l->count > 0) {
        ql_node_t *node = where == QL_HEAD ? l->head : l->tail;
        if (node->count <= n) {
            n -= node->count;
            l->count -= node->count;
            node_unlink_free(l, node);
        } else {
            if (where == QL_HEAD) node_drop_head(l, node, n);
            else node_drop_tail(l, node, n);
            n = 0;
        }
    }
}

/* ---------------------------------------------------------------- iterators */

void ql_seek(ql_t *l, size_t index, ql_iter_t *it) {
    it->l = l;
    it->node = NULL;
    it->off = 0;
    if (index >= l->count) return;
    ql_node_t *n;
    if (index < l->count / 2) {
        for (n = l->head; index >= n->count; n = n->next) index -= n->count;
    } else {
        size_t back = l->count - 1 - index; /* 0 = the last element */
        for (n = l->tail; back >= n->count; n = n->prev) back -= n->count;
        index = n->count - 1 - back;
    }
    it->node = n;
    if (index < n->count / 2) {
        for (size_t i = 0; i < index; i++) it->off += entry_size(n, it->off);
    } else {
        it->off = n->used;
        for (size_t i = n->count; i > index; i--) it->off -= size_before(n->data + it->off);
    }
}

int ql_iter_get(const ql_iter_t *it, dfm_str_t *out) {
    if (it->node == NULL) return 0;
    decode_at(it->node->data + it->off, out);
    return 1;
}

void ql_iter_next(ql_iter_t *it) {
    if (it->node == NULL) return;
    it->off += entry_size(it->node, it->off);
    if (it->off >= it->node->used) {
        it->node = it->node->next;
        it->off = 0;
    }
}

void ql_iter_prev(ql_iter_t *it) {
    if (it->node == NULL) return;
    if (it->off == 0) {
        it->node = it->node->prev;
        if (it->node == NULL) return;
        it->off = it->node->used;
    }
    it->off -= size_before(it->node->data + it->off);
}

void ql_iter_insert(ql_iter_t *it, int after, const void *p, size_t len) {
    ql_node_t *n = it->node;
    size_t off = after ? it->off + entry_size(n, it->off) : it->off;
    n = node_insert(it->l, n, off, p, len);
    node_maybe_split(it->l, n);
    it->node = NULL;
}

void ql_iter_replace(ql_iter_t *it, const void *p, size_t len) {
    ql_node_t *n = it->node;
    size_t old = entry_size(n, it->off), es = esize(len);
    if (es > old) n = node_reserve(it->l, n, n->used + es - old);
    memmove(n->data + it->off + es, n->data + it->off + old, n->used - it->off - old);
    encode(n->data + it->off, p, len);
    n->used = (uint32_t)(n->used - old + es);
    node_maybe_split(it->l, n);
    it->node = NULL;
}

void ql_iter_delete(ql_iter_t *it, int forward) {
    ql_node_t *n = it->node, *prev = n->prev, *next = n->next;
    if (node_remove(it->l, n, it->off)) {
        it->node = forward ? next : prev;
        it->off = 0;
        if (!forward && prev) {
            it->off = prev->used;
            ql_iter_prev(it);
        }
        return;
    }
    if (forward) {
        if (it->off >= n->used) {
            it->node = next;
            it->off = 0;
        }
    } else {
        ql_iter_prev(it);
    }
}
