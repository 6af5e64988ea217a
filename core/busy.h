/*
 * busy.h: worker threads held by a long command (a script past busy-reply-threshold). While
 * any worker is busy, every thread answers commands not flagged allow_busy with the error the
 * busy worker set (Redis's BUSY), as Redis does while a script runs too long. The busy worker
 * itself reads nothing until its command returns, so its own clients, and commands already
 * on their way to its shards, wait.
 */
#ifndef DF_BUSY_H
#define DF_BUSY_H

#include <stdatomic.h>
#include <stddef.h>

extern atomic_int g_busy_workers; /* how many workers are busy now */

/* The calling worker is busy (err: the reply for other clients, e.g. "BUSY Redis is busy
   running a script. ...", a string that outlives the busy period), or no longer (NULL). */
void busy_set(const char *err);
/* The error of a busy worker, or NULL when none is busy. Any thread. */
const char *busy_error_slow(void);
static inline const char *busy_error(void) {
    if (__builtin_expect(atomic_load_explicit(&g_busy_workers, memory_order_relaxed) == 0, 1))
        return NULL;
    return busy_error_slow();
}
/* 0 while the server runs; once shutdown started: 1 if it will save a final snapshot, 2 if
   not (SHUTDOWN NOSAVE, or no save points). Any thread. */
int busy_shutdown_pending(void);

#endif
