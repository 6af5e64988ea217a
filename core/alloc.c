/*
 * alloc.c: the accounted allocator (see alloc.h). Each thread keeps its own byte counter in a
 * registered slot so the INFO path can sum them without locks; counters are relaxed atomics
 * written only by their thread.
 */
#include "alloc.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#define ALLOC_MAX_THREADS 1024

static _Atomic int64_t alloc_slots[ALLOC_MAX_THREADS];
static atomic_int alloc_nslots;
static _Thread_local _Atomic int64_t *alloc_mine;

static _Atomic int64_t *alloc_slot(void) {
    if (__builtin_expect(alloc_mine == NULL, 0)) {
        int i = atomic_fetch_add(&alloc_nslots, 1);
        if (i >= ALLOC_MAX_THREADS) i = ALLOC_MAX_THREADS - 1; /* shared last slot: still sums */
        alloc_mine = &alloc_slots[i];
    }
    return alloc_mine;
}

static inline void alloc_account(int64_t delta) {
    _Atomic int64_t *s = alloc_slot();
    atomic_store_explicit(s, atomic_load_explicit(s, memory_order_relaxed) + delta,
                          memory_order_relaxed);
}

static void alloc_oom(size_t n) {
    fprintf(stderr, "dragonfly: out of memory allocating %zu bytes\n", n);
    abort();
}

size_t df_usable_size(void *p) { return p ? malloc_usable_size(p) : 0; }

void *df_malloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) alloc_oom(n);
    alloc_account((int64_t)malloc_usable_size(p));
    return p;
}

void *df_calloc(size_t n) {
    void *p = calloc(1, n ? n : 1);
    if (!p) alloc_oom(n);
    alloc_account((int64_t)malloc_usable_size(p));
    return p;
}

void *df_realloc(void *p, size_t n) {
    size_t old = p ? malloc_usable_size(p) : 0;
    void *q = realloc(p, n ? n : 1);
    if (!q) alloc_oom(n);
    alloc_account((int64_t)malloc_usable_size(q) - (int64_t)old);
    return q;
}

void df_free(void *p) {
    if (!p) return;
    alloc_account(-(int64_t)malloc_usable_size(p));
    free(p);
}

char *df_memdup(const void *p, size_t n) {
    char *q = df_malloc(n + 1);
    memcpy(q, p, n);
    q[n] = '\0';
    return q;
}

char *df_strdup(const char *s) { return df_memdup(s, strlen(s)); }

int64_t df_thread_allocated(void) {
    return atomic_load_explicit(alloc_slot(), memory_order_relaxed);
}

int64_t df_total_allocated(void) {
    int n = atomic_load(&alloc_nslots);
    if (n > ALLOC_MAX_THREADS) n = ALLOC_MAX_THREADS;
    int64_t sum = 0;
    for (int i = 0; i < n; i++) sum += atomic_load_explicit(&alloc_slots[i], memory_order_relaxed);
    return sum;
}

size_t df_heap_allocated(void) {
#ifdef HAVE_JEMALLOC
    uint64_t epoch = 1;
    size_t sz = sizeof epoch, allocated = 0, asz = sizeof allocated;
    mallctl("epoch", &epoch, &sz, &epoch, sz);
    if (mallctl("stats.allocated", &allocated, &asz, NULL, 0) == 0) return allocated;
#endif
    int64_t t = df_total_allocated();
    return t > 0 ? (size_t)t : 0;
}

void df_allocator_stats(size_t *allocated, size_t *active, size_t *resident) {
    *allocated = *active = *resident = 0;
#ifdef HAVE_JEMALLOC
    uint64_t epoch = 1;
    size_t sz = sizeof epoch, n = sizeof(size_t);
    mallctl("epoch", &epoch, &sz, &epoch, sz);
    mallctl("stats.allocated", allocated, &n, NULL, 0);
    n = sizeof(size_t);
    mallctl("stats.active", active, &n, NULL, 0);
    n = sizeof(size_t);
    mallctl("stats.resident", resident, &n, NULL, 0);
#else
    *allocated = *active = df_heap_allocated();
    *resident = df_rss_bytes();
#endif
}

size_t df_rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, rss = 0;
    if (!f) return 0;
    if (fscanf(f, "%lu %lu", &size, &rss) != 2) rss = 0;
    fclose(f);
    return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}

const char *df_allocator_name(void) {
#ifdef HAVE_JEMALLOC
    return "jemalloc-" JEMALLOC_VERSION;
#else
    return "libc";
#endif
}

void df_purge(void) {
#ifdef HAVE_JEMALLOC
    char cmd[64];
    snprintf(cmd, sizeof cmd, "arena.%u.purge", (unsigned)MALLCTL_ARENAS_ALL);
    mallctl(cmd, NULL, NULL, NULL, 0);
#else
    malloc_trim(0);
#endif
}

void df_thread_flush(void) {
#ifdef HAVE_JEMALLOC
    mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
#endif
}
