/*
 * table.c: the per-shard keyspace hash table (extendible hashing, see table.h).
 *
 * Why this shape: a shard must grow from a few keys to tens of millions without a rehash stall
 * and with as few bytes per key as possible. A directory indexed by the top bits of the hash
 * points at fixed-size segments; a segment that runs out of room splits in two on its own, so
 * one insert costs at most one segment's worth of work (plus, rarely, copying the directory).
 *
 * Layout. A segment is two allocations: its 4096-byte block of slots (64 buckets x 8 slots, a
 * page-sized jemalloc class, so buckets land on cache lines there; nothing relies on it) and a
 * small header with the local depth, one version per bucket and one spill counter per bucket.
 * The directory stores both pointers so a lookup goes dir -> bucket without touching the header.
 *
 * Hash bits. Bits 0..5 pick the home bucket, bits 6..21 the fingerprint, bits 32..63 the
 * directory index (at most 32 bits of depth). The home bucket does not depend on the directory
 * bits, so a split copies each moving slot word to the same position in the new segment.
 *
 * Probing. A key sits in its home bucket or one of the next TABLE_PROBE-1 (wrapping inside the
 * segment); slot bits 1..2 record the distance. spill[b] counts entries homed at b that sit
 * further on, so a miss whose home bucket has no spill costs one cache line. When a window is
 * full, entries are shifted forward inside their own windows (hopscotch) before resorting to
 * a split, so segments split at ~0.85 load and sit at 0.5..0.85 (8.7 B/slot: ~10.5..16 B/key).
 *
 * Scan cursors walk a fixed 32-bit prefix space (not directory indexes), so splits and
 * directory doublings between calls never make a cursor skip a segment: see table_scan.
 *
 * Single-threaded: a table belongs to its shard's thread.
 */
#include "table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "alloc.h"

#define TABLE_SEG_SLOTS (TABLE_SEG_BUCKETS * TABLE_BUCKET_SLOTS)
#define TABLE_BUCKET_MASK (TABLE_SEG_BUCKETS - 1)
#define TABLE_HOME_BITS 6
#define TABLE_PTR_MASK 0x0000fffffffffff0ull
#define TABLE_FP_SHIFT 48
#define TABLE_TAG_EXPIRE 1ull
#define TABLE_DIST_SHIFT 1
#define TABLE_DIST_MASK (3ull << TABLE_DIST_SHIFT)
#define TABLE_MAX_DEPTH 32 /* the scan cursor's prefix space */
#define TABLE_PREFIX_SPACE (1ull << TABLE_MAX_DEPTH)

#define TABLE_ASSERT(c)                                                                  \
    do {                                                                                 \
        if (__builtin_expect(!(c), 0)) table__assert_fail(#c, __FILE__, __LINE__);       \
    } while (0)

typedef table_slot_t table_bucket_t[TABLE_BUCKET_SLOTS];

typedef struct table_seg {
    table_bucket_t *buckets;                  /* TABLE_SEG_BUCKETS buckets, one block */
    uint32_t version[TABLE_SEG_BUCKETS];      /* per bucket, from table_next_version */
    uint8_t spill[TABLE_SEG_BUCKETS];         /* entries homed here sitting in a later bucket */
    uint32_t depth;                           /* local depth: top bits shared by its keys */
} table_seg_t;

typedef struct table_dirent {
    table_bucket_t *buckets; /* == seg->buckets, saves a dependent load on lookups */
    table_seg_t *seg;
} table_dirent_t;

struct table {
    table_dirent_t *dir; /* 1 << depth entries */
    uint32_t depth;      /* global depth */
    size_t size;
    size_t nsegs;
    size_t mem;          /* usable bytes of dir + segments + this struct */
    uint64_t version;
    table_seg_t *hint;   /* segment of the last find/insert: erase/slot_set skip a rehash */
    table_snap_fn snap_fn; /* a snapshot is running over this table (table_snap_begin) */
    table_snap_release_fn snap_release;
    void *snap_arg;
};


static uint64_t table_seed;

static void table__assert_fail(const char *what, const char *file, int line) {
    fprintf(stderr, "dragonfly: assertion failed: %s (%s:%d)\n", what, file, line);
    abort();
}

void table_set_seed(uint64_t seed) { table_seed = seed; }

uint64_t table_hash(const void *key, size_t len) {
    return XXH3_64bits_withSeed(key, len, table_seed);
}

/* ---- slot words and hash bits ---- */

static inline uint64_t table__fp(uint64_t hash) {
    uint64_t fp = (hash >> TABLE_HOME_BITS) & 0xffff;
    return fp | (fp == 0); /* never 0: an empty slot can never match a fingerprint */
}

static inline unsigned table__home(uint64_t hash) { return (unsigned)(hash & TABLE_BUCKET_MASK); }

static inline unsigned table__dist(table_slot_t s) {
    return (unsigned)((s & TABLE_DIST_MASK) >> TABLE_DIST_SHIFT);
}

static inline table_slot_t table__expire_tag(const entry_t *e) {
    return (e->flags & ENTRY_F_EXPIRE) ? TABLE_TAG_EXPIRE : 0;
}

static inline table_slot_t table__word(uint64_t hash, const entry_t *e, unsigned dist) {
    uintptr_t p = (uintptr_t)e;
    TABLE_ASSERT((p & ~TABLE_PTR_MASK) == 0); /* 16-byte aligned, 48-bit address */
    return (table__fp(hash) << TABLE_FP_SHIFT) | p | ((table_slot_t)dist << TABLE_DIST_SHIFT) |
           table__expire_tag(e);
}

static inline uint64_t table__entry_hash(const entry_t *e) {
    return table_hash(entry_key(e), e->klen);
}

/* The top 32 bits of the hash: the space both the directory and scan cursors live in. */
static inline uint64_t table__prefix(uint64_t hash) { return hash >> 32; }

static inline size_t table__dir_index(const table_t *t, uint64_t prefix) {
    return (size_t)(prefix >> (TABLE_MAX_DEPTH - t->depth));
}

static inline table_seg_t *table__seg_of(const table_t *t, uint64_t hash) {
    return t->dir[table__dir_index(t, table__prefix(hash))].seg;
}

static inline void table__touch(table_t *t, table_seg_t *seg, unsigned b) {
    seg->version[b] = (uint32_t)table_next_version(t);
}

uint64_t table_next_version(table_t *t) { return ++t->version; }

/* Serialises bucket b of seg for the running snapshot and marks it done (version != 0).
   touch: the slot about to be handed out or erased, whose entry must be written now, or
   NULL; the snapshot may hold any other entry (ENTRY_F_SNAP) to write it later. */
static void table__snap_bucket(table_t *t, table_seg_t *seg, unsigned b,
                               const table_slot_t *touch) {
    table_slot_t *bk = seg->buckets[b];
    for (unsigned i = 0; i < TABLE_BUCKET_SLOTS; i++) {
        if (!bk[i]) continue;
        entry_t *e = slot_entry(bk[i]);
        if (t->snap_fn(t->snap_arg, e, &bk[i] != touch)) e->flags |= ENTRY_F_SNAP;
    }
    table__touch(t, seg, b);
}

/* The slow half of table__pre: write the bucket out if the snapshot has not reached it,
   else have the snapshot finish a held entry at touch. Held entries only sit in buckets
   already written out (holding happens there; moves and splits keep versions). */
static void table__snap_pre(table_t *t, table_seg_t *seg, unsigned b, const table_slot_t *touch) {
    if (seg->version[b] == 0) {
        table__snap_bucket(t, seg, b, touch);
        return;
    }
    entry_t *e = touch ? slot_entry(*touch) : NULL;
    if (e && (e->flags & ENTRY_F_SNAP)) {
        e->flags &= (uint8_t)~ENTRY_F_SNAP;
        t->snap_release(t->snap_arg, e);
    }
}

/* Before bucket b changes (or hands out the entry at touch, which may change in place):
   while a snapshot runs, a bucket it has not reached yet is written out first, as it was at
   the cut, and a held entry at touch is finished. */
static inline void table__pre(table_t *t, table_seg_t *seg, unsigned b,
                              const table_slot_t *touch) {
    if (__builtin_expect(t->snap_fn != NULL, 0)) table__snap_pre(t, seg, b, touch);
}

/* ---- segments and directory ---- */

/* A new empty segment of the given local depth; accounts its memory in t->mem. */
static table_seg_t *table__seg_new(table_t *t, uint32_t depth) {
    table_seg_t *seg = df_calloc(sizeof *seg);
    seg->buckets = df_calloc(sizeof(table_bucket_t) * TABLE_SEG_BUCKETS);
    seg->depth = depth;
    t->mem += df_usable_size(seg) + df_usable_size(seg->buckets);
    t->nsegs++;
    return seg;
}

static void table__seg_free(table_t *t, table_seg_t *seg) {
    t->mem -= df_usable_size(seg) + df_usable_size(seg->buckets);
    t->nsegs--;
    df_free(seg->buckets);
    df_free(seg);
}

/* Replaces the directory by one of 1 << depth entries all pointing at seg. */
static void table__dir_reset(table_t *t, uint32_t depth, table_seg_t *seg) {
    size_t n = (size_t)1 << depth;
    if (t->dir) {
        t->mem -= df_usable_size(t->dir);
        df_free(t->dir);
    }
    t->dir = df_malloc(n * sizeof *t->dir);
    t->mem += df_usable_size(t->dir);
    t->depth = depth;
    for (size_t i = 0; i < n; i++) t->dir[i] = (table_dirent_t){seg->buckets, seg};
}

/* Doubles the directory: entry i becomes entries 2i and 2i+1. Copies pointers only. */
static void table__dir_double(table_t *t) {
    size_t n = (size_t)1 << t->depth;
    table_dirent_t *nd = df_malloc(2 * n * sizeof *nd);
    for (size_t i = 0; i < n; i++) nd[2 * i] = nd[2 * i + 1] = t->dir[i];
    t->mem += df_usable_size(nd) - df_usable_size(t->dir);
    df_free(t->dir);
    t->dir = nd;
    t->depth++;
}

/* Moves the entries of old whose hash has bit (63 - old depth) set into nw, slot for slot. */
static void table__seg_move_upper(table_seg_t *old, table_seg_t *nw) {
    uint64_t bit = 1ull << (63 - old->depth);
    memcpy(nw->version, old->version, sizeof nw->version); /* moved entries did not change */
    for (unsigned b = 0; b < TABLE_SEG_BUCKETS; b++) {
        for (unsigned i = 0; i < TABLE_BUCKET_SLOTS; i++) {
            table_slot_t s = old->buckets[b][i];
            if (!s || !(table__entry_hash(slot_entry(s)) & bit)) continue;
            nw->buckets[b][i] = s;
            old->buckets[b][i] = 0;
            unsigned d = table__dist(s);
            if (d) {
                unsigned home = (b - d) & TABLE_BUCKET_MASK;
                old->spill[home]--;
                nw->spill[home]++;
            }
        }
    }
}

/*
 * Splits the segment at directory index idx in two (doubling the directory first if its
 * local depth equals the global depth). Aborts at depth 32: that takes 33 keys sharing 38
 * hash bits, which a seeded hash does not produce.
 */
static void table__split(table_t *t, size_t idx) {
    table_seg_t *old = t->dir[idx].seg;
    TABLE_ASSERT(old->depth < TABLE_MAX_DEPTH);
    if (old->depth == t->depth) {
        table__dir_double(t);
        idx *= 2;
    }
    table_seg_t *nw = table__seg_new(t, old->depth + 1);
    table__seg_move_upper(old, nw);
    uint32_t span_bits = t->depth - old->depth;
    size_t start = (idx >> span_bits) << span_bits;
    size_t half = (size_t)1 << (span_bits - 1);
    for (size_t i = start + half; i < start + 2 * half; i++)
        t->dir[i] = (table_dirent_t){nw->buckets, nw};
    old->depth++;
}

/* ---- public API ---- */

table_t *table_new(void) {
    table_t *t = df_calloc(sizeof *t);
    t->mem = df_usable_size(t);
    table__dir_reset(t, 0, table__seg_new(t, 0));
    return t;
}

/* Calls fn(seg) once per segment (the directory lists a segment 1 << (G - depth) times). */
static void table__each_seg(table_t *t, void (*fn)(table_t *, table_seg_t *, void *), void *arg) {
    size_t n = (size_t)1 << t->depth;
    for (size_t i = 0; i < n;) {
        table_seg_t *seg = t->dir[i].seg;
        i += (size_t)1 << (t->depth - seg->depth);
        fn(t, seg, arg);
    }
}

typedef struct table_free_ctx {
    void (*free_entry)(entry_t *e, void *arg);
    void *arg;
} table_free_ctx_t;

static void table__seg_release(table_t *t, table_seg_t *seg, void *arg) {
    table_free_ctx_t *c = arg;
    if (c->free_entry) {
        for (unsigned s = 0; s < TABLE_SEG_SLOTS; s++) {
            table_slot_t w = seg->buckets[s / TABLE_BUCKET_SLOTS][s % TABLE_BUCKET_SLOTS];
            if (w) c->free_entry(slot_entry(w), c->arg);
        }
    }
    table__seg_free(t, seg);
}

void table_free(table_t *t, void (*free_entry)(entry_t *e, void *arg), void *arg) {
    if (!t) return;
    table_free_ctx_t c = {free_entry, arg};
    table__each_seg(t, table__seg_release, &c);
    df_free(t->dir);
    df_free(t);
}

/*
 * Incremental free of a detached table: releases up to max_segs segments (and their entries)
 * per call, resuming at *cursor (a directory index, 0 to start). Returns 1 when the table is
 * gone. Nothing else may use the table meanwhile. Lets FLUSHALL of millions of keys run in
 * slices of a fraction of a millisecond instead of one long stall.
 */
int table_free_step(table_t *t, uint64_t *cursor, size_t max_segs,
                    void (*free_entry)(entry_t *e, void *arg), void *arg) {
    table_free_ctx_t c = {free_entry, arg};
    size_t n = (size_t)1 << t->depth;
    size_t i = (size_t)*cursor;
    while (i < n && max_segs--) {
        table_seg_t *seg = t->dir[i].seg;
        i += (size_t)1 << (t->depth - seg->depth);
        table__seg_release(t, seg, &c);
    }
    *cursor = i;
    if (i < n) return 0;
    df_free(t->dir);
    df_free(t);
    return 1;
}

/* O(n): frees every entry and segment, then starts over with one empty segment. Bucket
   versions restart but the table's version counter keeps increasing. */
void table_clear(table_t *t, void (*free_entry)(entry_t *e, void *arg), void *arg) {
    table_free_ctx_t c = {free_entry, arg};
    table__each_seg(t, table__seg_release, &c);
    table_seg_t *seg = table__seg_new(t, 0);
    table__dir_reset(t, 0, seg);
    t->size = 0;
    t->hint = NULL;
}

size_t table_size(const table_t *t) { return t->size; }
size_t table_mem_usage(const table_t *t) { return t->mem; }
size_t table_capacity(const table_t *t) { return t->nsegs * TABLE_SEG_SLOTS; }

/* The slot in bucket bk whose fingerprint and key match, or NULL. */
static inline table_slot_t *table__match(table_slot_t *bk, uint64_t fp, const char *key,
                                         size_t klen) {
    for (unsigned i = 0; i < TABLE_BUCKET_SLOTS; i++) {
        if ((bk[i] >> TABLE_FP_SHIFT) != fp) continue;
        const entry_t *e = slot_entry(bk[i]);
        if (e->klen == klen && memcmp(entry_key(e), key, klen) == 0) return &bk[i];
    }
    return NULL;
}

void table_prefetch(const table_t *t, uint64_t hash) {
    const table_dirent_t *de = &t->dir[table__dir_index(t, table__prefix(hash))];
    unsigned home = table__home(hash);
    __builtin_prefetch(de->buckets[home]);
    __builtin_prefetch(&de->seg->spill[home]);
}

void table_prefetch_entry(const table_t *t, uint64_t hash) {
    const table_dirent_t *de = &t->dir[table__dir_index(t, table__prefix(hash))];
    const table_slot_t *bk = de->buckets[table__home(hash)];
    uint64_t fp = table__fp(hash);
    for (unsigned i = 0; i < TABLE_BUCKET_SLOTS; i++)
        if ((bk[i] >> TABLE_FP_SHIFT) == fp) __builtin_prefetch(slot_entry(bk[i]));
}

/* Looks in the home bucket, then (only if something spilled from it) the next three. */
table_slot_t *table_find(table_t *t, uint64_t hash, const char *key, size_t klen) {
    table_dirent_t *de = &t->dir[table__dir_index(t, table__prefix(hash))];
    unsigned home = table__home(hash);
    uint64_t fp = table__fp(hash);
    table_slot_t *s = table__match(de->buckets[home], fp, key, klen);
    t->hint = de->seg;
    if (s || !de->seg->spill[home]) {
        if (s) table__pre(t, de->seg, home, s);
        return s;
    }
    for (unsigned d = 1; d < TABLE_PROBE; d++) {
        unsigned b = (home + d) & TABLE_BUCKET_MASK;
        s = table__match(de->buckets[b], fp, key, klen);
        if (s) {
            table__pre(t, de->seg, b, s);
            return s;
        }
    }
    return NULL;
}

/* Puts e in the first free slot of its probe window in seg, or returns NULL if it is full. */
static table_slot_t *table__place(table_t *t, table_seg_t *seg, uint64_t hash, entry_t *e) {
    unsigned home = table__home(hash);
    for (unsigned d = 0; d < TABLE_PROBE; d++) {
        unsigned b = (home + d) & TABLE_BUCKET_MASK;
        table_slot_t *bk = seg->buckets[b];
        for (unsigned i = 0; i < TABLE_BUCKET_SLOTS; i++) {
            if (bk[i]) continue;
            table__pre(t, seg, b, NULL);
            bk[i] = table__word(hash, e, d);
            if (d) seg->spill[home]++;
            table__touch(t, seg, b);
            t->size++;
            t->hint = seg;
            return &bk[i];
        }
    }
    return NULL;
}

/* A free slot in bucket b of seg, or NULL. */
static inline table_slot_t *table__free_slot(table_seg_t *seg, unsigned b) {
    table_slot_t *bk = seg->buckets[b & TABLE_BUCKET_MASK];
    for (unsigned i = 0; i < TABLE_BUCKET_SLOTS; i++)
        if (!bk[i]) return &bk[i];
    return NULL;
}

/* Forward distance from bucket a to bucket b inside a segment (wrapping). */
static inline unsigned table__gap(unsigned a, unsigned b) { return (b - a) & TABLE_BUCKET_MASK; }

/* Moves the slot word at src (in bucket sb) to free slot dst in bucket db, which must be in
   the entry's probe window, fixing its distance tag, the spill counts and both versions. */
static void table__move(table_t *t, table_seg_t *seg, table_slot_t *src, unsigned sb,
                        table_slot_t *dst, unsigned db) {
    table__pre(t, seg, sb, NULL);
    table__pre(t, seg, db, NULL);
    table_slot_t w = *src;
    unsigned od = table__dist(w);
    unsigned home = (sb - od) & TABLE_BUCKET_MASK;
    unsigned nd = table__gap(home, db);
    *dst = (w & ~TABLE_DIST_MASK) | ((table_slot_t)nd << TABLE_DIST_SHIFT);
    *src = 0;
    seg->spill[home] += (nd != 0) - (od != 0);
    table__touch(t, seg, db);
    table__touch(t, seg, sb);
}

/* Moves into the free slot hole (bucket hb) some entry from the TABLE_PROBE-1 buckets before
   it whose window reaches hb, the farthest first. Returns the bucket it left, or -1. */
static int table__pull_back(table_t *t, table_seg_t *seg, table_slot_t *hole, unsigned hb) {
    for (unsigned back = TABLE_PROBE - 1; back > 0; back--) {
        unsigned sb = (hb - back) & TABLE_BUCKET_MASK;
        table_slot_t *bk = seg->buckets[sb];
        for (unsigned i = 0; i < TABLE_BUCKET_SLOTS; i++) {
            if (!bk[i] || table__dist(bk[i]) + back >= TABLE_PROBE) continue; /* too far */
            table__move(t, seg, &bk[i], sb, hole, hb);
            return (int)sb;
        }
    }
    return -1;
}

/*
 * The window home..home+3 is full. Hopscotch-style: take the nearest free slot after the
 * window and walk it back by moving entries forward inside their own windows until it lands
 * in the window. Returns 1 if the window now has a free slot. This lifts the load at which
 * a segment must split from ~0.7 to ~0.85 at the cost of a few moves, only when a window fills.
 */
static int table__make_room(table_t *t, table_seg_t *seg, unsigned home) {
    unsigned hb = home + TABLE_PROBE;
    table_slot_t *hole = NULL;
    for (; hb < home + TABLE_SEG_BUCKETS && !hole; hb++) hole = table__free_slot(seg, hb);
    if (!hole) return 0;
    hb = (hb - 1) & TABLE_BUCKET_MASK;
    while (table__gap(home, hb) >= TABLE_PROBE) {
        int sb = table__pull_back(t, seg, hole, hb);
        if (sb < 0) return 0;
        hb = (unsigned)sb;
        hole = table__free_slot(seg, hb);
    }
    return 1;
}

/*
 * Inserts e (its key must be absent). Splits the key's segment when its probe window is
 * full and no neighbour can take an entry from it; in practice one split frees room, but
 * keys that all land on one side need another.
 * Slot pointers handed out earlier may move (splits): callers do not keep them across
 * inserts.
 */
table_slot_t *table_insert(table_t *t, uint64_t hash, entry_t *e) {
    for (;;) {
        size_t idx = table__dir_index(t, table__prefix(hash));
        table_seg_t *seg = t->dir[idx].seg;
        table_slot_t *s = table__place(t, seg, hash, e);
        if (s) return s;
        if (table__make_room(t, seg, table__home(hash))) return table__place(t, seg, hash, e);
        table__split(t, idx);
    }
}

/* The segment holding slot: the hint when it matches, else found through e's hash (e has the
   slot's key; it may be a new copy when the old entry was already freed). */
static table_seg_t *table__locate(table_t *t, const table_slot_t *slot, const entry_t *e) {
    table_seg_t *seg = t->hint;
    uintptr_t p = (uintptr_t)slot;
    if (!seg || p < (uintptr_t)seg->buckets ||
        p >= (uintptr_t)(seg->buckets + TABLE_SEG_BUCKETS)) {
        seg = table__seg_of(t, table__entry_hash(e));
        t->hint = seg;
        TABLE_ASSERT(p >= (uintptr_t)seg->buckets &&
                     p < (uintptr_t)(seg->buckets + TABLE_SEG_BUCKETS));
    }
    return seg;
}

static inline unsigned table__bucket_of(const table_seg_t *seg, const table_slot_t *slot) {
    return (unsigned)((size_t)(slot - seg->buckets[0]) / TABLE_BUCKET_SLOTS);
}

void table_slot_set(table_t *t, table_slot_t *slot, entry_t *e) {
    table_seg_t *seg = table__locate(t, slot, e);
    TABLE_ASSERT(((uintptr_t)e & ~TABLE_PTR_MASK) == 0);
    /* A no-op: the find before did it (and released a held entry; the old entry may be
       freed by now, so it is not looked at). */
    table__pre(t, seg, table__bucket_of(seg, slot), NULL);
    *slot = (*slot & ~(TABLE_PTR_MASK | TABLE_TAG_EXPIRE)) | (uintptr_t)e | table__expire_tag(e);
    table__touch(t, seg, table__bucket_of(seg, slot));
}

void table_erase(table_t *t, table_slot_t *slot) {
    TABLE_ASSERT(*slot != 0);
    table_seg_t *seg = table__locate(t, slot, slot_entry(*slot));
    unsigned b = table__bucket_of(seg, slot);
    table__pre(t, seg, b, slot);
    unsigned d = table__dist(*slot);
    if (d) seg->spill[(b - d) & TABLE_BUCKET_MASK]--;
    *slot = 0;
    table__touch(t, seg, b);
    t->size--;
}

uint32_t table_bucket_version(table_t *t, const table_slot_t *slot) {
    table_seg_t *seg = table__locate(t, slot, slot_entry(*slot));
    return seg->version[table__bucket_of(seg, slot)];
}

/* ---- scan and random ---- */

/* Calls cb for every entry of seg whose home bucket is home. */
static void table__visit_home(table_seg_t *seg, unsigned home, table_visit_fn cb, void *arg) {
    for (unsigned d = 0; d < TABLE_PROBE; d++) {
        if (d == 1 && !seg->spill[home]) return;
        table_slot_t *bk = seg->buckets[(home + d) & TABLE_BUCKET_MASK];
        for (unsigned i = 0; i < TABLE_BUCKET_SLOTS; i++)
            if (bk[i] && table__dist(bk[i]) == d) cb(arg, &bk[i]);
    }
}

/*
 * cursor - 1 = (prefix << 6) | home, prefix a 32-bit hash prefix at which a segment starts.
 * Visits home bucket `home` of the segment covering prefix, then moves to the next bucket,
 * or after bucket 63 to prefix + the segment's span (as it is now). Segments only split, so
 * a segment start stays a segment start; an entry whose segment split after some of its
 * buckets were visited is seen again in the upper half (duplicates, never misses).
 */
uint64_t table_scan(table_t *t, uint64_t cursor, table_visit_fn cb, void *arg) {
    uint64_t v = cursor ? cursor - 1 : 0;
    uint64_t prefix = v >> TABLE_HOME_BITS;
    unsigned home = (unsigned)(v & TABLE_BUCKET_MASK);
    if (prefix >= TABLE_PREFIX_SPACE) return 0; /* not a cursor we made */
    table_seg_t *seg = t->dir[table__dir_index(t, prefix)].seg;
    uint64_t span = TABLE_PREFIX_SPACE >> seg->depth;
    prefix &= ~(span - 1); /* normalise a foreign cursor to its segment's start */
    table__visit_home(seg, home, cb, arg);
    if (home < TABLE_BUCKET_MASK) return ((prefix << TABLE_HOME_BITS) | (home + 1)) + 1;
    prefix += span;
    if (prefix >= TABLE_PREFIX_SPACE) return 0;
    return (prefix << TABLE_HOME_BITS) + 1;
}

/*
 * A random directory entry, bucket and starting slot, then the first occupied slot from
 * there on (wrapping through the segments). Entries after long empty runs and in segments
 * with a small local depth are a little more likely: good enough for eviction sampling.
 */
table_slot_t *table_random(table_t *t, uint64_t rnd) {
    if (!t->size) return NULL;
    size_t n = (size_t)1 << t->depth;
    size_t idx = (size_t)(rnd >> 32) & (n - 1);
    unsigned b0 = (unsigned)(rnd & TABLE_BUCKET_MASK);
    unsigned i0 = (unsigned)(rnd >> TABLE_HOME_BITS) % TABLE_BUCKET_SLOTS;
    for (;; idx = (idx + 1) & (n - 1)) {
        table_bucket_t *bks = t->dir[idx].buckets;
        for (unsigned k = 0; k < TABLE_SEG_SLOTS; k++) {
            unsigned pos = (b0 * TABLE_BUCKET_SLOTS + i0 + k) % TABLE_SEG_SLOTS;
            table_slot_t *s = &bks[pos / TABLE_BUCKET_SLOTS][pos % TABLE_BUCKET_SLOTS];
            if (*s) return s;
        }
    }
}

/* ---- point-in-time snapshots ---- */

static void table__seg_zero_versions(table_t *t, table_seg_t *seg, void *arg) {
    (void)t, (void)arg;
    memset(seg->version, 0, sizeof seg->version);
}

/*
 * Bucket version 0 means "not written out yet": every bucket starts there, and the first
 * change (or table_find hit) after the cut writes it out through fn, then any touch makes it
 * non-zero. Splits copy versions, so both halves of a split segment keep the mark of the
 * entries they hold. O(segments).
 */
void table_snap_begin(table_t *t, table_snap_fn fn, table_snap_release_fn release, void *arg) {
    table__each_seg(t, table__seg_zero_versions, NULL);
    t->version = 0;
    t->snap_fn = fn;
    t->snap_release = release;
    t->snap_arg = arg;
}

int table_snap_active(const table_t *t) { return t->snap_fn != NULL; }

/* The entry is the table's element, so the table keeps its mark. */
void table_snap_unhold(table_t *t, const entry_t *e) {
    (void)t;
    ((entry_t *)(uintptr_t)e)->flags &= (uint8_t)~ENTRY_F_SNAP;
}

/* Every held entry must have been unheld (written out) by now. */
void table_snap_end(table_t *t) {
    t->snap_fn = NULL;
    t->snap_release = NULL;
    t->snap_arg = NULL;
}

/*
 * Writes out up to max_buckets buckets still at version 0, walking segments by the same
 * 32-bit prefix space as table_scan (segments only split, so none is skipped; a revisited
 * half has only written buckets). *cursor: (prefix << 6 | bucket), 0 to start. Returns 1
 * once every bucket of the table has been written out.
 */
int table_snap_step(table_t *t, uint64_t *cursor, unsigned max_buckets) {
    uint64_t prefix = *cursor >> TABLE_HOME_BITS;
    unsigned b = (unsigned)(*cursor & TABLE_BUCKET_MASK);
    while (prefix < TABLE_PREFIX_SPACE) {
        table_seg_t *seg = t->dir[table__dir_index(t, prefix)].seg;
        uint64_t span = TABLE_PREFIX_SPACE >> seg->depth;
        prefix &= ~(span - 1);
        for (; b < TABLE_SEG_BUCKETS; b++) {
            if (seg->version[b] != 0) continue;
            if (!max_buckets--) {
                *cursor = (prefix << TABLE_HOME_BITS) | b;
                return 0;
            }
            table__snap_bucket(t, seg, b, NULL);
        }
        b = 0;
        prefix += span;
    }
    *cursor = TABLE_PREFIX_SPACE << TABLE_HOME_BITS;
    return 1;
}
