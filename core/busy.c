/*
 * busy.c: worker threads held by a long command (see busy.h). One atomic pointer per worker,
 * written only by that worker, and a count that keeps the check on every command to one
 * relaxed load while nobody is busy.
 */
#include "busy.h"

#include "config.h"
#include "dispatch.h"
#include "server.h"
#include "worker.h"

atomic_int g_busy_workers;
static _Atomic(const char *) busy_errors[CMD_MAX_WORKERS];

void busy_set(const char *err) {
    if (!tl_worker) return;
    const char *old = atomic_exchange(&busy_errors[tl_worker->id], err);
    if (!old && err) atomic_fetch_add(&g_busy_workers, 1);
    if (old && !err) atomic_fetch_sub(&g_busy_workers, 1);
}

const char *busy_error_slow(void) {
    for (int i = 0; i < g_nworkers; i++) {
        const char *e = atomic_load(&busy_errors[i]);
        if (e) return e;
    }
    return NULL;
}

int busy_shutdown_pending(void) {
    if (!atomic_load(&g_server.shutting_down)) return 0;
    int mode = atomic_load(&g_server.shutdown_save);
    int save = mode == 1 || (mode < 0 && g_config.save && g_config.save[0]);
    return save && !atomic_load(&g_server.skip_final_save) ? 1 : 2;
}
