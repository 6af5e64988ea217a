/*
 * failover.c: the FAILOVER command and its progress (see failover.h).
 *
 * The state is g_fo's, under its mutex (taken on control paths only: the command, worker 0's
 * cron, the replication thread's PSYNC answer); the state alone is also atomic for INFO.
 */
#include "failover.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "backlog.h"
#include "cmdtab.h"
#include "log.h"
#include "master.h"
#include "replica.h"
#include "reply.h"
#include "server.h"
#include "util.h"
#include "worker.h"

enum { FO_NONE, FO_WAIT_FOR_SYNC, FO_IN_PROGRESS };
static const char *const fo_state_names[] = {"no-failover", "waiting-for-sync", "failover-in-progress"};

static struct {
    pthread_mutex_t mu;
    atomic_int state;
    char host[256];       /* the target; "" while any replica will do */
    int port;
    int64_t end_ms;       /* TIMEOUT's deadline; 0: none */
    int force;
    backlog_mark_t *mark; /* after every write queued before the pause */
} g_fo = {.mu = PTHREAD_MUTEX_INITIALIZER};

const char *failover_state_name(void) { return fo_state_names[atomic_load(&g_fo.state)]; }
int failover_busy(void) { return atomic_load(&g_fo.state) != FO_NONE; }
int failover_in_progress(void) { return atomic_load(&g_fo.state) == FO_IN_PROGRESS; }

/* Under mu: back to no failover, writes unpaused. */
static void fo_clear_locked(void) {
    atomic_store(&g_fo.state, FO_NONE);
    g_fo.host[0] = '\0';
    g_fo.port = 0;
    g_fo.end_ms = 0;
    g_fo.force = 0;
    if (g_fo.mark) backlog_mark_release(g_fo.mark);
    g_fo.mark = NULL;
    server_unpause(SERVER_PAUSE_FAILOVER);
}

/* Under mu: give up; once demoted, become a master again. */
static void fo_abort_locked(const char *why) {
    if (g_fo.host[0])
        log_notice("FAILOVER to %s:%d aborted: %s", g_fo.host, g_fo.port, why);
    else
        log_notice("FAILOVER to any replica aborted: %s", why);
    if (atomic_load(&g_fo.state) == FO_IN_PROGRESS) replica_promote("failover abort");
    fo_clear_locked();
}

/* Under mu: demote ourselves and hand over to the target. */
static void fo_hand_over_locked(void) {
    atomic_store(&g_fo.state, FO_IN_PROGRESS);
    replica_follow(g_fo.host, g_fo.port);
}

void failover_psync_answered(int accepted) {
    pthread_mutex_lock(&g_fo.mu);
    if (atomic_load(&g_fo.state) == FO_IN_PROGRESS) {
        if (accepted) {
            log_notice("FAILOVER to %s:%d completed", g_fo.host, g_fo.port);
            fo_clear_locked();
        } else {
            fo_abort_locked("Failover target rejected psync request");
        }
    }
    pthread_mutex_unlock(&g_fo.mu);
}

/* Under mu: the offset a target must have acknowledged: every write queued before the pause
   and whatever the stream has since. -1 until the feeder has reached the mark. */
static long long fo_needed_offset(void) {
    long long off = backlog_mark_offset(g_fo.mark), end = backlog_offset();
    return off < 0 ? -1 : off > end ? off : end;
}

/* Under mu: a replica that has everything (the target, or the first one that does). */
static int fo_target_synced(long long off) {
    long long ack;
    if (g_fo.host[0]) return master_replica_ack(g_fo.host, g_fo.port, &ack) == 1 && ack >= off;
    return master_caught_up_replica(off, g_fo.host, sizeof g_fo.host, &g_fo.port) == 0;
}

void failover_cron(worker_t *w) {
    if (w->id != 0 || atomic_load(&g_fo.state) != FO_WAIT_FOR_SYNC) return;
    pthread_mutex_lock(&g_fo.mu);
    if (atomic_load(&g_fo.state) != FO_WAIT_FOR_SYNC) goto out;
    if (g_fo.end_ms && util_now_ms() >= g_fo.end_ms) {
        if (!g_fo.force) {
            fo_abort_locked("Replica never caught up before timeout");
            goto out;
        }
        log_notice("FAILOVER to %s:%d time out exceeded, failing over.", g_fo.host, g_fo.port);
        fo_hand_over_locked();
        goto out;
    }
    long long off = fo_needed_offset();
    if (off >= 0 && fo_target_synced(off)) {
        log_notice("Failover target %s:%d is synced, failing over.", g_fo.host, g_fo.port);
        fo_hand_over_locked();
    }
out:
    pthread_mutex_unlock(&g_fo.mu);
}

/* ------------------------------------------------------------------------------------ */
/* FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]                         */

typedef struct fo_args {
    const dfm_str_t *host;
    long long port, timeout;
    int force;
} fo_args_t;

/* The options, as Redis parses them; 0, or -1 after replying. */
static int fo_parse(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, fo_args_t *a) {
    memset(a, 0, sizeof *a);
    for (int j = 1; j < argc; j++) {
        const dfm_str_t *o = &argv[j];
        if (util_eq_nocase(o->ptr, o->len, "timeout") && j + 1 < argc && !a->timeout) {
            if (util_str2ll(argv[j + 1].ptr, argv[j + 1].len, &a->timeout) < 0) goto nan;
            if (a->timeout <= 0) {
                reply_error(ctx, "ERR FAILOVER timeout must be greater than 0");
                return -1;
            }
            j++;
        } else if (util_eq_nocase(o->ptr, o->len, "to") && j + 2 < argc && !a->host) {
            if (util_str2ll(argv[j + 2].ptr, argv[j + 2].len, &a->port) < 0) goto nan;
            a->host = &argv[j + 1];
            j += 2;
        } else if (util_eq_nocase(o->ptr, o->len, "force") && !a->force) {
            a->force = 1;
        } else {
            reply_syntax_error(ctx);
            return -1;
        }
    }
    return 0;
nan:
    reply_error(ctx, "ERR value is not an integer or out of range");
    return -1;
}

/* The checks after parsing, in Redis's order; the error to reply, or NULL. Under mu. */
static const char *fo_refusal(const fo_args_t *a, char *host, size_t cap) {
    if (atomic_load(&g_fo.state) != FO_NONE) return "ERR FAILOVER already in progress.";
    if (replica_active()) return "ERR FAILOVER is not valid when server is a replica.";
    if (master_replica_count() == 0) return "ERR FAILOVER requires connected replicas.";
    if (a->force && (!a->timeout || !a->host))
        return "ERR FAILOVER with force option requires both a timeout and target HOST and IP.";
    if (!a->host) return NULL;
    snprintf(host, cap, "%.*s", (int)(a->host->len < cap - 1 ? a->host->len : cap - 1), a->host->ptr);
    long long ack;
    int st = a->port < 0 || a->port > 65535 ? -1 : master_replica_ack(host, (int)a->port, &ack);
    if (st < 0) return "ERR FAILOVER target HOST and PORT is not a replica.";
    if (st == 0) return "ERR FAILOVER target replica is not online.";
    return NULL;
}

static void fo_abort_cmd(dfm_ctx_t *ctx) {
    pthread_mutex_lock(&g_fo.mu);
    int none = atomic_load(&g_fo.state) == FO_NONE;
    if (!none) fo_abort_locked("Failover manually aborted");
    pthread_mutex_unlock(&g_fo.mu);
    if (none)
        reply_error(ctx, "ERR No failover in progress.");
    else
        reply_ok(ctx);
}

static void failover_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    if (cluster_enabled()) {
        reply_error(ctx, "ERR FAILOVER not allowed in cluster mode.");
        return;
    }
    if (argc == 2 && util_eq_nocase(argv[1].ptr, argv[1].len, "abort")) {
        fo_abort_cmd(ctx);
        return;
    }
    fo_args_t a;
    if (fo_parse(ctx, argc, argv, &a) < 0) return;
    char host[256] = "";
    pthread_mutex_lock(&g_fo.mu);
    const char *err = fo_refusal(&a, host, sizeof host);
    if (!err) {
        snprintf(g_fo.host, sizeof g_fo.host, "%s", host);
        g_fo.port = (int)a.port;
        g_fo.end_ms = a.timeout ? util_now_ms() + a.timeout : 0;
        g_fo.force = a.force;
        server_pause(SERVER_PAUSE_FAILOVER, INT64_MAX, 0);
        g_fo.mark = backlog_mark(0); /* after the pause: every write queued before it */
        atomic_store(&g_fo.state, FO_WAIT_FOR_SYNC);
        if (host[0])
            log_notice("FAILOVER requested to %s:%lld.", host, a.port);
        else
            log_notice("FAILOVER requested to any replica.");
    }
    pthread_mutex_unlock(&g_fo.mu);
    if (err)
        reply_error(ctx, err);
    else
        reply_ok(ctx);
}

static const dfm_command_t failover_cmds[] = {
    {.name = "failover", .arity = -1, .flags = "admin noscript stale", .acl_categories = "@admin @slow @dangerous",
     .summary = "Starts a coordinated failover from a server to one of its replicas.", .since = "6.2.0",
     .group = "server", .complexity = "O(1)",
     .args_doc = "[TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]", .handler = failover_cmd},
};

void cmd_failover_register(void) { cmdtab_register(failover_cmds, CMDTAB_COUNT(failover_cmds)); }
