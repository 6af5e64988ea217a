/*
 * alloc.h: the accounted allocator. Every byte of keys and values goes through here so that
 * used_memory, MEMORY USAGE and maxmemory are exact. Counters are per thread (each shard is
 * owned by one thread, so a thread's counter is its shards' accounting); a block freed on
 * another thread than the one that allocated it moves bytes between counters, and the sum
 * stays exact. jemalloc by default; libc malloc with --with-allocator=libc and in ASan builds.
 */
#ifndef DF_ALLOC_H
#define DF_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *df_malloc(size_t n);  /* never returns NULL: aborts on out-of-memory */
void *df_calloc(size_t n);
void *df_realloc(void *p, size_t n);
void df_free(void *p);
char *df_strdup(const char *s);
char *df_memdup(const void *p, size_t n); /* adds a NUL */
size_t df_usable_size(void *p);

/* Bytes allocated through df_* by the calling thread, net of frees (may be negative). */
int64_t df_thread_allocated(void);
/* Sum over all threads that ever allocated (relaxed reads; exact once threads are quiet). */
int64_t df_total_allocated(void);
/* Process-wide heap bytes in use (jemalloc stats.allocated, or the df_* sum), RSS. */
size_t df_heap_allocated(void);
size_t df_rss_bytes(void);
/* jemalloc's stats.allocated / active / resident (without jemalloc: heap and RSS). */
void df_allocator_stats(size_t *allocated, size_t *active, size_t *resident);
const char *df_allocator_name(void);
/* Return the calling thread's cached free blocks to the shared arenas. */
void df_thread_flush(void);
/* Hand unused pages back to the OS (MEMORY PURGE, after big frees). */
void df_purge(void);

#endif
