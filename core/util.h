/*
 * util.h: small pure helpers shared by the core: number parsing and formatting with Redis's
 * exact rules, clocks, and a fast per-thread PRNG.
 */
#ifndef DF_UTIL_H
#define DF_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Redis string2ll: strict, no spaces, no leading '+', no leading zeros, fits in long long. */
int util_str2ll(const char *s, size_t len, long long *out);
/* Parse a long double the way Redis does for INCRBYFLOAT (no spaces, not NaN). */
int util_str2ld(const char *s, size_t len, long double *out);
/* Parse a double like Redis's getDoubleFromObject ("inf", "-inf" ok, no NaN, no spaces). */
int util_str2d(const char *s, size_t len, double *out);
/* Write v in decimal; returns length. buf needs 21 bytes. */
int util_ll2str(char *buf, size_t cap, long long v);
/* Redis ld2string: humanfriendly uses %.17Lf and trims zeros, else %.17Lg. */
int util_ld2str(char *buf, size_t cap, long double v, int humanfriendly);
/* Redis's RESP double formatting (%.17g, "inf", "-inf", "nan"). */
int util_d2str(char *buf, size_t cap, double v);

/* Intrusive lock-free LIFO (Treiber stack) of nodes of type T linked through `next`, on an
   _Atomic(T *) top (GNU statement expressions; the caller includes <stdatomic.h>).
   LIFO_PUSH: push the chain head..tail (already linked), yields the previous top.
   LIFO_TAKE_ALL: take the whole stack, yields it oldest first. */
#define LIFO_PUSH(T, top, head, tail)                                                      \
    ({                                                                                     \
        T *old_ = atomic_load_explicit((top), memory_order_relaxed);                       \
        do {                                                                               \
            (tail)->next = old_;                                                           \
        } while (!atomic_compare_exchange_weak((top), &old_, (head)));                     \
        old_;                                                                              \
    })
#define LIFO_TAKE_ALL(T, top)                                                              \
    ({                                                                                     \
        T *n_ = atomic_exchange_explicit((top), NULL, memory_order_acquire), *rev_ = NULL; \
        while (n_) {                                                                       \
            T *next_ = n_->next;                                                           \
            n_->next = rev_;                                                               \
            rev_ = n_;                                                                     \
            n_ = next_;                                                                    \
        }                                                                                  \
        rev_;                                                                              \
    })

static inline int64_t util_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
static inline int64_t util_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
static inline int64_t util_mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A cheap monotonic cycle counter (TSC on x86-64) for per-command timing; util_calibrate()
   measures its rate once at start-up, util_cycles_to_us converts. */
#if defined(__x86_64__)
#include <x86intrin.h>
static inline uint64_t util_cycles(void) { return __rdtsc(); }
#else
static inline uint64_t util_cycles(void) { return (uint64_t)util_mono_us() * 1000; }
#endif
void util_calibrate(void);
uint64_t util_cycles_to_us(uint64_t cycles);
uint64_t util_us_to_cycles(uint64_t us); /* saturates at UINT64_MAX */

/* ASCII case-insensitive equality of a byte string with a NUL-terminated word. */
int util_eq_nocase(const char *p, size_t len, const char *word);
/* Write all n bytes to a blocking fd (retries EINTR and short writes). 0 or -1 (errno). */
int util_write_all(int fd, const void *p, size_t n);
/* Start fn(arg) on a detached thread: 0, or the pthread_create error. */
int util_thread_detached(void *(*fn)(void *), void *arg);
/* Lowercase copy into buf (NUL-terminated, truncated to cap-1). Returns length. */
size_t util_lower(char *buf, size_t cap, const char *p, size_t len);

/* xorshift64* per thread, seeded from getrandom. */
uint64_t util_rand64(void);
uint64_t util_seed64(void);

#endif
