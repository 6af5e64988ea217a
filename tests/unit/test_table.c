/*
 * test_table.c: unit tests for the keyspace hash table (core/table.c).
 *
 * Entries are built with plain malloc in entry.h's layout (header, optional expiry, key,
 * value); the value holds the entry's index in the test's array so callbacks can mark what
 * they saw. Key sets are random bytes from a fixed-seed generator, so runs are repeatable.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

/* Defined in core/table.c, named by table.h's comment; proposed for table.h. */
uint32_t table_bucket_version(table_t *t, const table_slot_t *slot);

#define BIG_TIMEOUT 300

static uint64_t rng_state;

static uint64_t rng(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void setup(void) {
    rng_state = 1;
    table_set_seed(0x5eed);
}

/* A malloc'd entry holding key and, as its value, the 8-byte index idx. */
static entry_t *mk_entry(const void *key, size_t klen, uint64_t idx, int has_expire) {
    entry_t *e = malloc(entry_alloc_size(klen, sizeof idx, has_expire));
    ck_assert_ptr_nonnull(e);
    memset(e, 0, sizeof *e);
    e->flags = has_expire ? ENTRY_F_EXPIRE : 0;
    e->klen = (uint32_t)klen;
    e->vlen = sizeof idx;
    if (has_expire) {
        int64_t when = 1700000000000;
        memcpy(e->data, &when, 8);
    }
    memcpy(e->data + (has_expire ? 8 : 0), key, klen);
    memcpy(entry_val(e), &idx, sizeof idx);
    return e;
}

static uint64_t entry_idx(const entry_t *e) {
    uint64_t v;
    memcpy(&v, entry_cval(e), sizeof v);
    return v;
}

/* A random key of 8..23 bytes; the index is spelled into it so keys are distinct. */
static entry_t *mk_random(uint64_t idx) {
    unsigned char k[24];
    size_t len = 8 + rng() % 16;
    for (size_t i = 0; i < len; i++) k[i] = (unsigned char)rng();
    memcpy(k, &idx, 8 > len ? len : 8);
    return mk_entry(k, len, idx, 0);
}

static entry_t **mk_many(size_t n, uint64_t first_idx) {
    entry_t **es = malloc(n * sizeof *es);
    for (size_t i = 0; i < n; i++) es[i] = mk_random(first_idx + i);
    return es;
}

static uint64_t ehash(const entry_t *e) { return table_hash(entry_key(e), e->klen); }

static table_slot_t *find_e(table_t *t, const entry_t *e) {
    return table_find(t, ehash(e), entry_key(e), e->klen);
}

static table_slot_t *insert_e(table_t *t, entry_t *e) { return table_insert(t, ehash(e), e); }

static void free_cb(entry_t *e, void *arg) {
    (*(size_t *)arg)++;
    free(e);
}

static void free_all(entry_t **es, size_t n) {
    for (size_t i = 0; i < n; i++) free(es[i]);
    free(es);
}

/* ---- basics ---- */

START_TEST(test_hash_seeded) {
    uint64_t a = table_hash("hello", 5);
    ck_assert_uint_eq(a, table_hash("hello", 5));
    ck_assert_uint_ne(a, table_hash("hellp", 5));
    table_set_seed(99);
    ck_assert_uint_ne(a, table_hash("hello", 5));
}
END_TEST

START_TEST(test_new_empty) {
    table_t *t = table_new();
    ck_assert_uint_eq(table_size(t), 0);
    ck_assert_uint_eq(table_capacity(t), TABLE_SEG_BUCKETS * TABLE_BUCKET_SLOTS);
    ck_assert_uint_gt(table_mem_usage(t), 4096);
    ck_assert_ptr_null(table_find(t, table_hash("x", 1), "x", 1));
    ck_assert_ptr_null(table_random(t, 123));
    table_free(t, NULL, NULL);
    table_free(NULL, NULL, NULL);
}
END_TEST

START_TEST(test_insert_returns_slot) {
    table_t *t = table_new();
    entry_t *e = mk_entry("key", 3, 0, 0);
    table_slot_t *s = insert_e(t, e);
    ck_assert_ptr_eq(slot_entry(*s), e);
    ck_assert_int_eq(slot_has_expire(*s), 0);
    ck_assert_ptr_eq(find_e(t, e), s);
    ck_assert_uint_eq(table_size(t), 1);
    ck_assert_ptr_null(table_find(t, table_hash("kez", 3), "kez", 3));
    ck_assert_ptr_null(table_find(t, table_hash("ke", 2), "ke", 2));
    size_t freed = 0;
    table_free(t, free_cb, &freed);
    ck_assert_uint_eq(freed, 1);
}
END_TEST

START_TEST(test_expire_tag) {
    table_t *t = table_new();
    entry_t *e = mk_entry("ttl-key", 7, 0, 1);
    table_slot_t *s = insert_e(t, e);
    ck_assert_int_eq(slot_has_expire(*s), 1);
    ck_assert_ptr_eq(find_e(t, e), s);
    ck_assert_ptr_eq(table_find(t, table_hash("ttl-key", 7), "ttl-key", 7), s);
    size_t freed = 0;
    table_free(t, free_cb, &freed);
}
END_TEST

START_TEST(test_binary_keys) {
    table_t *t = table_new();
    const char k1[] = {'a', 0, 'b'}, k2[] = {'a', 0, 'c'}, k3[] = {0, 0, 0, 0};
    char big[1000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (char)(i * 7);
    entry_t *es[] = {mk_entry(k1, 3, 0, 0), mk_entry(k2, 3, 1, 0), mk_entry(k3, 4, 2, 0),
                     mk_entry(k3, 3, 3, 0), mk_entry("", 0, 4, 0), mk_entry(big, 1000, 5, 1)};
    size_t n = sizeof es / sizeof es[0];
    for (size_t i = 0; i < n; i++) insert_e(t, es[i]);
    for (size_t i = 0; i < n; i++) ck_assert_ptr_eq(slot_entry(*find_e(t, es[i])), es[i]);
    ck_assert_ptr_null(table_find(t, table_hash(k3, 2), k3, 2));
    table_erase(t, find_e(t, es[4]));
    ck_assert_ptr_null(find_e(t, es[4]));
    free(es[4]);
    ck_assert_ptr_eq(slot_entry(*find_e(t, es[3])), es[3]);
    size_t freed = 0;
    table_free(t, free_cb, &freed);
    ck_assert_uint_eq(freed, n - 1);
}
END_TEST

/* ---- bulk ---- */

static void check_all(table_t *t, entry_t **es, size_t n, int present) {
    for (size_t i = 0; i < n; i++) {
        table_slot_t *s = find_e(t, es[i]);
        if (present) {
            ck_assert_ptr_nonnull(s);
            ck_assert_ptr_eq(slot_entry(*s), es[i]);
        } else {
            ck_assert_ptr_null(s);
        }
    }
}

START_TEST(test_million_insert_find_erase) {
    size_t n = 1000000;
    entry_t **es = mk_many(n, 0);
    table_t *t = table_new();
    for (size_t i = 0; i < n; i++) ck_assert_ptr_eq(slot_entry(*insert_e(t, es[i])), es[i]);
    ck_assert_uint_eq(table_size(t), n);
    ck_assert_uint_le(table_size(t), table_capacity(t));
    check_all(t, es, n, 1);
    for (size_t i = 0; i < n; i += 2) table_erase(t, find_e(t, es[i]));
    ck_assert_uint_eq(table_size(t), n / 2);
    for (size_t i = 0; i < n; i++) ck_assert_int_eq(find_e(t, es[i]) != NULL, (int)(i & 1));
    for (size_t i = 1; i < n; i += 2) table_erase(t, find_e(t, es[i]));
    ck_assert_uint_eq(table_size(t), 0);
    check_all(t, es, n, 0);
    ck_assert_ptr_null(table_random(t, 77));
    table_free(t, NULL, NULL);
    free_all(es, n);
}
END_TEST

START_TEST(test_erase_reinsert_churn) {
    size_t n = 50000;
    entry_t **es = mk_many(n, 0);
    table_t *t = table_new();
    for (size_t i = 0; i < n; i++) insert_e(t, es[i]);
    for (int round = 0; round < 5; round++) {
        for (size_t i = 0; i < n; i++) {
            if (rng() % 3) continue;
            table_erase(t, find_e(t, es[i]));
            insert_e(t, es[i]);
        }
    }
    ck_assert_uint_eq(table_size(t), n);
    check_all(t, es, n, 1);
    table_free(t, NULL, NULL);
    free_all(es, n);
}
END_TEST

START_TEST(test_mem_usage_per_key) {
    size_t n = 1000000;
    entry_t **es = mk_many(n, 0);
    table_t *t = table_new();
    for (size_t i = 0; i < n; i++) insert_e(t, es[i]);
    double per_key = (double)table_mem_usage(t) / (double)n;
    /* oscillates between ~10.5 (just before a split wave) and ~16 (just after) */
    ck_assert_double_gt(per_key, 9.0);
    ck_assert_double_lt(per_key, 17.0);
    double load = (double)table_size(t) / (double)table_capacity(t);
    ck_assert_double_gt(load, 0.5);
    table_free(t, NULL, NULL);
    free_all(es, n);
}
END_TEST

/* ---- collisions and splits ---- */

/* Random keys whose hash has the given low 6 bits (same home bucket). */
static entry_t **mk_same_home(size_t n, unsigned home) {
    entry_t **es = malloc(n * sizeof *es);
    for (size_t i = 0; i < n;) {
        entry_t *e = mk_random(i);
        if ((ehash(e) & (TABLE_SEG_BUCKETS - 1)) == home) {
            es[i++] = e;
        } else {
            free(e);
        }
    }
    return es;
}

START_TEST(test_same_home_forces_splits) {
    size_t n = 400; /* far beyond TABLE_PROBE * TABLE_BUCKET_SLOTS = 32 */
    entry_t **es = mk_same_home(n, 5);
    table_t *t = table_new();
    for (size_t i = 0; i < n; i++) {
        insert_e(t, es[i]);
        check_all(t, es, i + 1, 1);
    }
    ck_assert_uint_gt(table_capacity(t), 8 * TABLE_SEG_BUCKETS * TABLE_BUCKET_SLOTS);
    for (size_t i = 0; i < n; i += 3) table_erase(t, find_e(t, es[i]));
    for (size_t i = 0; i < n; i++) ck_assert_int_eq(find_e(t, es[i]) != NULL, i % 3 != 0);
    size_t freed = 0;
    table_free(t, free_cb, &freed);
    for (size_t i = 0; i < n; i += 3) free(es[i]);
    free(es);
}
END_TEST

/* Finds two distinct keys whose hashes agree in bits 0..21 (home bucket and fingerprint). */
static void find_fp_pair(entry_t **a, entry_t **b) {
    size_t n = 1 << 16, mask = (1u << 22) - 1;
    entry_t **es = mk_many(n, 0);
    uint32_t *seen = calloc(mask + 1, sizeof *seen); /* low 22 bits -> index + 1 */
    *a = *b = NULL;
    for (size_t i = 0; i < n && !*a; i++) {
        size_t low = ehash(es[i]) & mask;
        if (seen[low]) {
            *a = es[seen[low] - 1];
            *b = es[i];
        }
        seen[low] = (uint32_t)i + 1;
    }
    for (size_t i = 0; i < n; i++)
        if (es[i] != *a && es[i] != *b) free(es[i]);
    free(es);
    free(seen);
    ck_assert_ptr_nonnull(*a);
}

START_TEST(test_fingerprint_collision) {
    entry_t *a, *b;
    find_fp_pair(&a, &b);
    ck_assert_uint_ne(ehash(a), ehash(b));
    table_t *t = table_new();
    table_slot_t *sa = insert_e(t, a);
    ck_assert_ptr_null(find_e(t, b)); /* same fingerprint, different key: a miss */
    table_slot_t *sb = insert_e(t, b);
    ck_assert_ptr_ne(sa, sb);
    ck_assert_ptr_eq(slot_entry(*find_e(t, a)), a);
    ck_assert_ptr_eq(slot_entry(*find_e(t, b)), b);
    table_erase(t, find_e(t, a));
    ck_assert_ptr_null(find_e(t, a));
    ck_assert_ptr_eq(slot_entry(*find_e(t, b)), b);
    free(a);
    size_t freed = 0;
    table_free(t, free_cb, &freed);
    ck_assert_uint_eq(freed, 1);
}
END_TEST

/* ---- slot_set ---- */

START_TEST(test_slot_set_realloc) {
    table_t *t = table_new();
    size_t n = 5000;
    entry_t **es = mk_many(n, 0);
    for (size_t i = 0; i < n; i++) insert_e(t, es[i]);
    /* replace each entry by a fresh copy (as realloc would), freeing the old one first */
    for (size_t i = 0; i < n; i++) {
        table_slot_t *s = find_e(t, es[i]);
        entry_t *copy = mk_entry(entry_key(es[i]), es[i]->klen, i, (int)(i & 1));
        free(es[i]);
        es[i] = copy;
        table_slot_set(t, s, copy);
        ck_assert_ptr_eq(slot_entry(*s), copy);
        ck_assert_int_eq(slot_has_expire(*s), (int)(i & 1));
    }
    check_all(t, es, n, 1);
    ck_assert_uint_eq(table_size(t), n);
    table_free(t, NULL, NULL);
    free_all(es, n);
}
END_TEST

START_TEST(test_slot_set_cold_locate) {
    /* slot_set and erase on a slot found before other lookups moved the table's hint */
    table_t *t = table_new();
    size_t n = 20000;
    entry_t **es = mk_many(n, 0);
    for (size_t i = 0; i < n; i++) insert_e(t, es[i]);
    table_slot_t *s0 = find_e(t, es[0]);
    for (size_t i = 1; i < n; i += 97) find_e(t, es[i]);
    entry_t *copy = mk_entry(entry_key(es[0]), es[0]->klen, 0, 1);
    free(es[0]);
    es[0] = copy;
    table_slot_set(t, s0, copy);
    ck_assert_ptr_eq(find_e(t, copy), s0);
    table_slot_t *s1 = find_e(t, es[1]);
    for (size_t i = 2; i < n; i += 89) find_e(t, es[i]);
    table_erase(t, s1);
    ck_assert_ptr_null(find_e(t, es[1]));
    ck_assert_uint_eq(table_size(t), n - 1);
    check_all(t, es + 2, n - 2, 1);
    table_free(t, NULL, NULL);
    free_all(es, n);
}
END_TEST

/* ---- scan ---- */

typedef struct visits {
    uint32_t *count; /* by entry index */
    size_t calls;
} visits_t;

static void visit_cb(void *arg, table_slot_t *slot) {
    visits_t *v = arg;
    ck_assert_uint_ne(*slot, 0);
    v->count[entry_idx(slot_entry(*slot))]++;
    v->calls++;
}

START_TEST(test_scan_static_exactly_once) {
    size_t n = 100000;
    entry_t **es = mk_many(n, 0);
    table_t *t = table_new();
    for (size_t i = 0; i < n; i++) insert_e(t, es[i]);
    visits_t v = {calloc(n, sizeof(uint32_t)), 0};
    uint64_t cur = 0;
    size_t steps = 0;
    do {
        cur = table_scan(t, cur, visit_cb, &v);
        steps++;
    } while (cur != 0);
    for (size_t i = 0; i < n; i++) ck_assert_uint_eq(v.count[i], 1);
    ck_assert_uint_eq(v.calls, n);
    ck_assert_uint_eq(steps, table_capacity(t) / TABLE_BUCKET_SLOTS); /* one per bucket */
    free(v.count);
    table_free(t, NULL, NULL);
    free_all(es, n);
}
END_TEST

START_TEST(test_scan_empty_ends) {
    table_t *t = table_new();
    visits_t v = {NULL, 0};
    uint64_t cur = table_scan(t, 0, visit_cb, &v);
    ck_assert_uint_ne(cur, 0);
    size_t steps = 1;
    while (cur) {
        cur = table_scan(t, cur, visit_cb, &v);
        steps++;
    }
    ck_assert_uint_eq(steps, TABLE_SEG_BUCKETS);
    ck_assert_uint_eq(v.calls, 0);
    table_free(t, NULL, NULL);
}
END_TEST

START_TEST(test_scan_foreign_cursor) {
    size_t n = 3000;
    entry_t **es = mk_many(n, 0);
    table_t *t = table_new();
    for (size_t i = 0; i < n; i++) insert_e(t, es[i]);
    visits_t v = {calloc(n, sizeof(uint32_t)), 0};
    for (int i = 0; i < 1000; i++) {
        uint64_t cur = table_scan(t, rng(), visit_cb, &v);
        for (int k = 0; k < 100 && cur; k++) cur = table_scan(t, cur, visit_cb, &v);
    }
    ck_assert_uint_eq(table_scan(t, UINT64_MAX, visit_cb, &v), 0);
    free(v.count);
    table_free(t, NULL, NULL);
    free_all(es, n);
}
END_TEST

/* Scans while inserting new keys (splits, directory doublings) and erasing others; every key
   present for the whole scan must be seen at least once. */
static void scan_with_churn(size_t kept, size_t churn_per_step, int erase) {
    size_t extra = 400000;
    entry_t **keep = mk_many(kept, 0);
    entry_t **more = mk_many(extra, kept);
    table_t *t = table_new();
    for (size_t i = 0; i < kept; i++) insert_e(t, keep[i]);
    size_t doomed = erase ? kept / 2 : 0; /* more[0..doomed) are inserted now, erased later */
    for (size_t i = 0; i < doomed; i++) insert_e(t, more[i]);
    size_t cap0 = table_capacity(t), next = doomed, gone = 0;
    visits_t v = {calloc(kept + extra, sizeof(uint32_t)), 0};
    uint64_t cur = 0;
    do {
        cur = table_scan(t, cur, visit_cb, &v);
        for (size_t k = 0; k < churn_per_step && next < extra; k++) insert_e(t, more[next++]);
        if (gone < doomed) table_erase(t, find_e(t, more[gone++]));
    } while (cur != 0);
    for (size_t i = 0; i < kept; i++) ck_assert_uint_ge(v.count[i], 1);
    ck_assert_uint_ge(table_capacity(t), 4 * cap0); /* grew through several doublings */
    free(v.count);
    size_t freed = 0;
    table_free(t, free_cb, &freed);
    for (size_t i = 0; i < gone; i++) free(more[i]);
    for (size_t i = next; i < extra; i++) free(more[i]);
    free(keep);
    free(more);
}

START_TEST(test_scan_with_inserts) { scan_with_churn(2000, 60, 0); }
END_TEST

START_TEST(test_scan_with_inserts_and_erases) { scan_with_churn(20000, 40, 1); }
END_TEST

START_TEST(test_scan_cursor_shape) {
    table_t *t = table_new();
    visits_t v = {NULL, 0};
    /* cursor - 1 = prefix << 6 | bucket; one segment covers the whole prefix space */
    ck_assert_uint_eq(table_scan(t, 0, visit_cb, &v), 2);
    ck_assert_uint_eq(table_scan(t, 2, visit_cb, &v), 3);
    ck_assert_uint_eq(table_scan(t, 63, visit_cb, &v), 64);
    ck_assert_uint_eq(table_scan(t, 64, visit_cb, &v), 0);
    table_free(t, NULL, NULL);
}
END_TEST

/* ---- random ---- */

START_TEST(test_random_occupied) {
    size_t n = 2000;
    entry_t **es = mk_many(n, 0);
    table_t *t = table_new();
    for (size_t i = 0; i < n; i++) insert_e(t, es[i]);
    uint32_t *seen = calloc(n, sizeof *seen);
    size_t distinct = 0;
    for (int i = 0; i < 100000; i++) {
        table_slot_t *s = table_random(t, rng());
        ck_assert_ptr_nonnull(s);
        ck_assert_uint_ne(*s, 0);
        uint64_t idx = entry_idx(slot_entry(*s));
        ck_assert_uint_lt(idx, n);
        ck_assert_ptr_eq(slot_entry(*s), es[idx]);
        distinct += seen[idx]++ == 0;
    }
    ck_assert_uint_gt(distinct, n * 9 / 10);
    free(seen);
    table_free(t, NULL, NULL);
    free_all(es, n);
}
END_TEST

START_TEST(test_random_sparse) {
    size_t n = 100000;
    entry_t **es = mk_many(n, 0);
    table_t *t = table_new();
    for (size_t i = 0; i < n; i++) insert_e(t, es[i]);
    for (size_t i = 0; i < n - 1; i++) table_erase(t, find_e(t, es[i]));
    for (int i = 0; i < 200; i++) ck_assert_ptr_eq(slot_entry(*table_random(t, rng())), es[n - 1]);
    table_free(t, NULL, NULL);
    free_all(es, n);
}
END_TEST

/* ---- clear, free, versions ---- */

START_TEST(test_clear) {
    size_t n = 30000;
    entry_t **es = mk_many(n, 0);
    table_t *t = table_new();
    size_t mem0 = table_mem_usage(t);
    for (size_t i = 0; i < n; i++) insert_e(t, es[i]);
    size_t freed = 0;
    table_clear(t, free_cb, &freed);
    ck_assert_uint_eq(freed, n);
    ck_assert_uint_eq(table_size(t), 0);
    ck_assert_uint_le(table_mem_usage(t), mem0 + 64); /* usable sizes may differ a little */
    ck_assert_ptr_null(table_random(t, 5));
    free(es);
    es = mk_many(n, 0);
    for (size_t i = 0; i < n; i++) insert_e(t, es[i]);
    check_all(t, es, n, 1);
    freed = 0;
    table_free(t, free_cb, &freed);
    ck_assert_uint_eq(freed, n);
    free(es);
}
END_TEST

START_TEST(test_free_calls_each_once) {
    size_t n = 70000;
    entry_t **es = mk_many(n, 0);
    table_t *t = table_new();
    for (size_t i = 0; i < n; i++) insert_e(t, es[i]);
    size_t freed = 0;
    table_free(t, free_cb, &freed); /* ASan catches a double free */
    ck_assert_uint_eq(freed, n);
    free(es);
}
END_TEST

START_TEST(test_versions) {
    table_t *t = table_new();
    uint64_t v1 = table_next_version(t), v2 = table_next_version(t);
    ck_assert_uint_gt(v2, v1);
    entry_t *e = mk_entry("k", 1, 0, 0);
    table_slot_t *s = insert_e(t, e);
    uint32_t after_insert = table_bucket_version(t, s);
    ck_assert_uint_gt(after_insert, v2);
    find_e(t, e);
    ck_assert_uint_eq(table_bucket_version(t, s), after_insert); /* reads change nothing */
    entry_t *copy = mk_entry("k", 1, 0, 1);
    free(e);
    table_slot_set(t, s, copy);
    uint32_t after_set = table_bucket_version(t, s);
    ck_assert_uint_gt(after_set, after_insert);
    table_erase(t, s);
    ck_assert_uint_gt(table_bucket_version(t, s), after_set);
    ck_assert_uint_gt(table_next_version(t), after_set);
    free(copy);
    table_free(t, NULL, NULL);
}
END_TEST

START_TEST(test_versions_untouched_buckets) {
    size_t n = 1000;
    entry_t **es = mk_same_home(n, 9);
    table_t *t = table_new();
    entry_t *other = NULL;
    while (!other) { /* a key with a home bucket far from 9 */
        entry_t *e = mk_random(n);
        if ((ehash(e) & 63) == 40) other = e; else free(e);
    }
    table_slot_t *so = insert_e(t, other);
    uint32_t v = table_bucket_version(t, so);
    for (size_t i = 0; i < 20; i++) insert_e(t, es[i]); /* fits in buckets 9..12: no split */
    so = find_e(t, other);
    ck_assert_uint_eq(table_bucket_version(t, so), v);
    table_free(t, NULL, NULL);
    for (size_t i = 20; i < n; i++) free(es[i]);
    for (size_t i = 0; i < 20; i++) free(es[i]);
    free(es);
    free(other);
}
END_TEST


/* ---- point-in-time snapshots ---- */

typedef struct snap_seen {
    size_t n_orig;
    unsigned char *seen; /* per original index: times passed to the snapshot */
    size_t late;         /* entries inserted after the cut that were passed (must stay 0) */
} snap_seen_t;

static int snap_cb(void *arg, const entry_t *e, int may_hold) {
    snap_seen_t *ss = arg;
    uint64_t idx = entry_idx(e);
    (void)may_hold;
    if (idx < ss->n_orig)
        ss->seen[idx]++;
    else
        ss->late++;
    return 0;
}

/*
 * A snapshot interleaved with inserts (splits, hopscotch moves), erases and finds: every
 * entry present at the cut is passed exactly once, before it is erased or handed out by a
 * find; nothing inserted after the cut is passed.
 */
START_TEST(test_snapshot_point_in_time) {
    const size_t n = 20000, extra = 30000;
    table_t *t = table_new();
    entry_t **es = mk_many(n, 0), **more = mk_many(extra, n);
    for (size_t i = 0; i < n; i++) insert_e(t, es[i]);
    snap_seen_t ss = {n, calloc(n, 1), 0};
    table_snap_begin(t, snap_cb, NULL, &ss);
    ck_assert(table_snap_active(t));
    uint64_t cursor = 0;
    size_t next_new = 0;
    int done = 0;
    while (!done) {
        done = table_snap_step(t, &cursor, 8);
        for (int k = 0; k < 20 && next_new < extra; k++) insert_e(t, more[next_new++]);
        size_t i = rng() % n;
        if (es[i]) {
            table_slot_t *sl = find_e(t, es[i]);
            ck_assert_ptr_nonnull(sl);
            ck_assert_uint_eq(ss.seen[i], 1); /* written out before the caller may change it */
            if (rng() % 2) {
                table_erase(t, sl);
                free(es[i]);
                es[i] = NULL;
            }
        }
    }
    table_snap_end(t);
    ck_assert(!table_snap_active(t));
    for (size_t i = 0; i < n; i++) ck_assert_uint_eq(ss.seen[i], 1);
    ck_assert_uint_eq(ss.late, 0);
    table_free(t, NULL, NULL);
    for (size_t i = 0; i < n; i++) free(es[i]);
    for (size_t i = 0; i < extra; i++) free(more[i]);
    free(es);
    free(more);
    free(ss.seen);
}
END_TEST

/* A second snapshot of the same table starts over: every entry once again. */
START_TEST(test_snapshot_twice) {
    const size_t n = 5000;
    table_t *t = table_new();
    entry_t **es = mk_many(n, 0);
    for (size_t i = 0; i < n; i++) insert_e(t, es[i]);
    for (int round = 0; round < 2; round++) {
        snap_seen_t ss = {n, calloc(n, 1), 0};
        table_snap_begin(t, snap_cb, NULL, &ss);
        uint64_t cursor = 0;
        while (!table_snap_step(t, &cursor, 3)) {
        }
        table_snap_end(t);
        for (size_t i = 0; i < n; i++) ck_assert_uint_eq(ss.seen[i], 1);
        free(ss.seen);
    }
    table_free(t, NULL, NULL);
    for (size_t i = 0; i < n; i++) free(es[i]);
    free(es);
}
END_TEST

/* Holding: the snapshot keeps every third entry to write later. A held entry is released
   (written) before a find hands it out or an erase removes it, never twice, and survives
   splits and moves; the rest are unheld by the "snapshot" at the end. */
typedef struct snap_hold {
    snap_seen_t seen;
    unsigned char *held;   /* per original index: 1 while held */
    size_t released;
} snap_hold_t;

static int hold_cb(void *arg, const entry_t *e, int may_hold) {
    snap_hold_t *h = arg;
    uint64_t idx = entry_idx(e);
    ck_assert_uint_lt(idx, h->seen.n_orig);
    ck_assert_uint_eq(h->seen.seen[idx], 0);
    if (may_hold && idx % 3 == 0) {
        h->held[idx] = 1;
        return 1;
    }
    h->seen.seen[idx]++;
    return 0;
}

static void hold_release(void *arg, const entry_t *e) {
    snap_hold_t *h = arg;
    uint64_t idx = entry_idx(e);
    ck_assert_uint_eq(h->held[idx], 1);
    ck_assert(!(e->flags & ENTRY_F_SNAP)); /* the table clears the mark first */
    h->held[idx] = 0;
    h->seen.seen[idx]++;
    h->released++;
}

START_TEST(test_snapshot_hold_release) {
    const size_t n = 20000, extra = 30000;
    table_t *t = table_new();
    entry_t **es = mk_many(n, 0), **more = mk_many(extra, n);
    for (size_t i = 0; i < n; i++) insert_e(t, es[i]);
    snap_hold_t h = {{n, calloc(n, 1), 0}, calloc(n, 1), 0};
    table_snap_begin(t, hold_cb, hold_release, &h);
    uint64_t cursor = 0;
    size_t next_new = 0;
    while (!table_snap_step(t, &cursor, 8)) {
        for (int k = 0; k < 20 && next_new < extra; k++) insert_e(t, more[next_new++]);
        size_t i = rng() % n;
        if (!es[i]) continue;
        table_slot_t *sl = find_e(t, es[i]);
        ck_assert_uint_eq(h.seen.seen[i], 1); /* written, held or not, before it is handed out */
        ck_assert_uint_eq(h.held[i], 0);
        if (rng() % 2) {
            table_erase(t, sl);
            free(es[i]);
            es[i] = NULL;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!h.held[i]) continue;
        ck_assert(es[i]->flags & ENTRY_F_SNAP);
        table_snap_unhold(t, es[i]);
        ck_assert(!(es[i]->flags & ENTRY_F_SNAP));
        h.held[i] = 0;
        h.seen.seen[i]++;
    }
    table_snap_end(t);
    ck_assert_uint_gt(h.released, 0);
    for (size_t i = 0; i < n; i++) ck_assert_uint_eq(h.seen.seen[i], 1);
    table_free(t, NULL, NULL);
    for (size_t i = 0; i < n; i++) free(es[i]);
    for (size_t i = 0; i < extra; i++) free(more[i]);
    free(es);
    free(more);
    free(h.seen.seen);
    free(h.held);
}
END_TEST

static Suite *table_suite(void) {
    Suite *s = suite_create("table");
    TCase *basic = tcase_create("basic");
    tcase_add_checked_fixture(basic, setup, NULL);
    tcase_add_test(basic, test_hash_seeded);
    tcase_add_test(basic, test_new_empty);
    tcase_add_test(basic, test_insert_returns_slot);
    tcase_add_test(basic, test_expire_tag);
    tcase_add_test(basic, test_binary_keys);
    tcase_add_test(basic, test_fingerprint_collision);
    tcase_add_test(basic, test_same_home_forces_splits);
    tcase_add_test(basic, test_slot_set_realloc);
    tcase_add_test(basic, test_slot_set_cold_locate);
    tcase_add_test(basic, test_versions);
    tcase_add_test(basic, test_versions_untouched_buckets);
    tcase_add_test(basic, test_clear);
    tcase_add_test(basic, test_free_calls_each_once);
    suite_add_tcase(s, basic);

    TCase *scan = tcase_create("scan_random");
    tcase_add_checked_fixture(scan, setup, NULL);
    tcase_set_timeout(scan, BIG_TIMEOUT);
    tcase_add_test(scan, test_scan_static_exactly_once);
    tcase_add_test(scan, test_scan_empty_ends);
    tcase_add_test(scan, test_scan_cursor_shape);
    tcase_add_test(scan, test_scan_foreign_cursor);
    tcase_add_test(scan, test_scan_with_inserts);
    tcase_add_test(scan, test_scan_with_inserts_and_erases);
    tcase_add_test(scan, test_random_occupied);
    tcase_add_test(scan, test_random_sparse);
    tcase_add_test(scan, test_snapshot_point_in_time);
    tcase_add_test(scan, test_snapshot_twice);
    tcase_add_test(scan, test_snapshot_hold_release);
    suite_add_tcase(s, scan);

    TCase *big = tcase_create("bulk");
    tcase_add_checked_fixture(big, setup, NULL);
    tcase_set_timeout(big, BIG_TIMEOUT);
    tcase_add_test(big, test_million_insert_find_erase);
    tcase_add_test(big, test_erase_reinsert_churn);
    tcase_add_test(big, test_mem_usage_per_key);
    suite_add_tcase(s, big);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(table_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
