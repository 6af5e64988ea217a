/*
 * table_bench.c: micro-benchmark of the keyspace table (core/table.c) on its own.
 *
 * Inserts N keys ("key:<n>", 16-byte values) one by one, timing every insert to find the
 * worst single stall (a segment split or a directory doubling), then times finds of present
 * keys in random order and of absent keys. Prints ns/op and table bytes per key at 1M and N.
 *
 * Build (standalone, not part of make):
 *   gcc -std=gnu11 -O2 -I core bench/table_bench.c core/table.c core/alloc.c \
 *       $(pkg-config --cflags --libs libxxhash) -o /tmp/table_bench
 *   /tmp/table_bench [N=5000000]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "table.h"

#define BENCH_KSTRIDE 24

static uint64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t bench_rand(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static entry_t *bench_entry(size_t n) {
    char key[32];
    int klen = snprintf(key, sizeof key, "key:%zu", n);
    entry_t *e = malloc(entry_alloc_size((size_t)klen, 16, 0));
    memset(e, 0, sizeof *e);
    e->klen = (uint32_t)klen;
    e->vlen = 16;
    memcpy(e->data, key, (size_t)klen);
    memset(e->data + klen, 'v', 16);
    return e;
}

static void bench_report_mem(const table_t *t) {
    printf("  size %zu: table %zu bytes = %.2f B/key, load %.3f\n", table_size(t),
           table_mem_usage(t), (double)table_mem_usage(t) / (double)table_size(t),
           (double)table_size(t) / (double)table_capacity(t));
}

/* Inserts all entries, returning the slowest single insert in ns; prints how many inserts
   took over 10us / 100us / 1ms and the range of bytes per key sampled every 50k inserts. */
static uint64_t bench_insert(table_t *t, entry_t **es, size_t n, uint64_t *total) {
    uint64_t worst = 0, slow[3] = {0, 0, 0}, t0 = bench_now_ns();
    double lo = 1e9, hi = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t a = bench_now_ns();
        table_insert(t, table_hash(entry_key(es[i]), es[i]->klen), es[i]);
        uint64_t d = bench_now_ns() - a;
        if (d > worst) worst = d;
        slow[0] += d > 10000;
        slow[1] += d > 100000;
        slow[2] += d > 1000000;
        if (i + 1 == 1000000) bench_report_mem(t);
        if ((i + 1) % 50000 == 0 && i + 1 >= 100000) {
            double bpk = (double)table_mem_usage(t) / (double)(i + 1);
            lo = bpk < lo ? bpk : lo;
            hi = bpk > hi ? bpk : hi;
        }
    }
    *total = bench_now_ns() - t0;
    printf("  inserts over 10us: %llu, over 100us: %llu, over 1ms: %llu\n",
           (unsigned long long)slow[0], (unsigned long long)slow[1], (unsigned long long)slow[2]);
    printf("  bytes/key from 100k on, sampled every 50k: min %.2f max %.2f\n", lo, hi);
    return worst;
}

/* Keys to look up, generated up front into one sequential buffer (as from a network read). */
static char *bench_keys(size_t n, size_t ops, size_t hot, int absent) {
    char *buf = malloc(ops * BENCH_KSTRIDE);
    uint64_t seed = 42;
    for (size_t i = 0; i < ops; i++) {
        size_t k = (size_t)(bench_rand(&seed) % (hot ? hot : n));
        snprintf(buf + i * BENCH_KSTRIDE, BENCH_KSTRIDE, absent ? "nokey:%zu" : "key:%zu", k);
    }
    return buf;
}

/* ns per table_find (hash included) over ops keys drawn from all n or from the first hot. */
static double bench_find(table_t *t, size_t n, size_t ops, size_t hot, int absent) {
    char *keys = bench_keys(n, ops, hot, absent);
    uint64_t found = 0, t0 = bench_now_ns();
    for (size_t i = 0; i < ops; i++) {
        const char *k = keys + i * BENCH_KSTRIDE;
        size_t kl = strlen(k);
        found += table_find(t, table_hash(k, kl), k, kl) != NULL;
    }
    uint64_t el = bench_now_ns() - t0;
    if (found != (absent ? 0 : ops))
        fprintf(stderr, "find mismatch %llu\n", (unsigned long long)found);
    free(keys);
    return (double)el / (double)ops;
}

/* Reference: ns per dependent random read in a buffer as big as the table (DRAM latency). */
static double bench_dram(size_t bytes) {
    size_t n = bytes / sizeof(size_t);
    size_t *a = malloc(n * sizeof *a);
    uint64_t seed = 7;
    for (size_t i = 0; i < n; i++) a[i] = i;
    for (size_t i = n - 1; i > 0; i--) { /* one random cycle (Sattolo) */
        size_t j = (size_t)(bench_rand(&seed) % i), x = a[i];
        a[i] = a[j];
        a[j] = x;
    }
    size_t p = 0, ops = 2000000;
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < ops; i++) p = a[p];
    double r = (double)(bench_now_ns() - t0) / (double)ops;
    if (p == n) printf("?");
    free(a);
    return r;
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000;
    entry_t **es = malloc(n * sizeof *es);
    for (size_t i = 0; i < n; i++) es[i] = bench_entry(i);
    table_set_seed(0x1234567);
    table_t *t = table_new();
    uint64_t total;
    uint64_t worst = bench_insert(t, es, n, &total);
    bench_report_mem(t);
    printf("insert: %.1f ns/op (incl. timing), worst single insert %.1f us\n",
           (double)total / (double)n, (double)worst / 1000.0);
    size_t ops = 2000000;
    printf("find hit, random over all keys: %.1f ns/op\n", bench_find(t, n, ops, 0, 0));
    printf("find miss, random: %.1f ns/op\n", bench_find(t, n, ops, 0, 1));
    printf("find hit, warm (10k hot keys): %.1f ns/op\n", bench_find(t, n, ops, 10000, 0));
    printf("reference: one dependent random DRAM read over %zu MB: %.1f ns\n",
           table_mem_usage(t) >> 20, bench_dram(table_mem_usage(t)));
    table_free(t, NULL, NULL);
    /* plain insert throughput without per-op timing */
    t = table_new();
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++)
        table_insert(t, table_hash(entry_key(es[i]), es[i]->klen), es[i]);
    printf("insert (untimed loop): %.1f ns/op\n", (double)(bench_now_ns() - t0) / (double)n);
    table_free(t, NULL, NULL);
    for (size_t i = 0; i < n; i++) free(es[i]);
    free(es);
    return 0;
}
