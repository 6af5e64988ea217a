/*
 * cmd_debug.c: the DEBUG subset tests and tools use: POPULATE, OBJECT, SET-ACTIVE-EXPIRE,
 * SLEEP, RELOAD, JMAP, CHANGE-REPL-ID and HELP, allowed according to --enable-debug-command
 * (no / yes / local).
 *
 * Each subcommand is registered on its own so it runs where its data is: OBJECT on its key's
 * shard, POPULATE and SET-ACTIVE-EXPIRE on every shard ("@allshards": each shard creates only
 * the keys that hash to it), SLEEP on the client's thread, where it parks the client on a
 * timer instead of blocking the thread.
 *
 * "local" needs the client's address, which only the client's thread may read (ctx->conn);
 * a subcommand running on a shard thread has no connection, and then the permission follows
 * the listening addresses: local when the server listens on loopback addresses only.
 */
#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "cmdtab.h"
#include "config.h"
#include "conn.h"
#include "db.h"
#include "info.h"
#include "log.h"
#include "rdb_load.h"
#include "reply.h"
#include "server.h"
#include "snapshot.h"
#include "worker.h"
#include "util.h"

#define DEBUG_REFUSED                                                                             \
    "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you " \
    "can run it from a local connection, otherwise you need to set this option in the "          \
    "configuration file, and then restart the server."

/* 1 if every configured bind address is a loopback one (and there is at least one). */
static int debug_bound_to_loopback(void) {
    const char *b = g_config.bind;
    if (!b || !b[0]) return 0;
    char *copy = df_strdup(b), *save = NULL;
    int ok = 1;
    for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (*t == '-') t++;
        if (strncmp(t, "127.", 4) != 0 && strcmp(t, "::1") != 0 && strcmp(t, "localhost") != 0) ok = 0;
    }
    df_free(copy);
    return ok;
}

/* May this execution run DEBUG? Any thread (see the file comment for "local"). */
static int debug_allowed(const dfm_ctx_t *ctx) {
    switch (g_config.enable_debug_command) {
    case 1: return 1;
    case 2: return ctx->conn ? conn_is_local(ctx->conn) : debug_bound_to_loopback();
    default: return 0;
    }
}

/* Reply the refusal and return 0 when DEBUG is not allowed here. */
static int debug_check(dfm_ctx_t *ctx) {
    if (debug_allowed(ctx)) return 1;
    reply_error(ctx, DEBUG_REFUSED);
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* DEBUG POPULATE count [prefix] [size]                                                   */

/* Parse the arguments; 0 ok, -1 with *why set to the error. */
static int populate_args(int argc, const dfm_str_t *argv, long long *count, long long *size,
                         const char **why) {
    *size = 0;
    if (argc > 5) {
        *why = "ERR syntax error";
        return -1;
    }
    if (util_str2ll(argv[2].ptr, argv[2].len, count) < 0 || *count < 0) {
        *why = "ERR value is out of range, must be positive";
        return -1;
    }
    if (argc == 5 && (util_str2ll(argv[4].ptr, argv[4].len, size) < 0 || *size < 0)) {
        *why = "ERR value is out of range, must be positive";
        return -1;
    }
    if (*size > 512LL * 1024 * 1024) { /* one value is allocated up front */
        *why = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
        return -1;
    }
    return 0;
}

/* Create this shard's share of the keys "<prefix>:<i>" (existing keys are left alone). */
static int populate_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                          const int *keys, int nkeys) {
    (void)phase, (void)state, (void)keys, (void)nkeys;
    long long count, size;
    const char *why;
    if (!debug_allowed(ctx) || populate_args(argc, argv, &count, &size, &why) < 0) return -1;
    const char *prefix = argc >= 4 ? argv[3].ptr : "key";
    int plen = argc >= 4 ? (int)(argv[3].len < 200 ? argv[3].len : 200) : 3;
    char *val = size ? df_calloc((size_t)size) : NULL;
    shard_t *s = ctx->shard;
    for (long long i = 0; i < count; i++) {
        char key[256], vbuf[32];
        int kl = snprintf(key, sizeof key, "%.*s:%lld", plen, prefix, i);
        if (db_shard_of(key, (size_t)kl) != s->id || db_find_raw(s, ctx->db, key, (size_t)kl)) continue;
        int vl = snprintf(vbuf, sizeof vbuf, "value:%lld", i);
        const char *v = vbuf;
        if (size) {
            memset(val, 0, (size_t)size);
            memcpy(val, vbuf, (size_t)(vl < size ? vl : size));
            v = val;
            vl = (int)size;
        }
        entry_t *e = db_entry_new_str(key, (size_t)kl, v, (size_t)vl, -1);
        e->lru = server_lru_clock();
        db_set_entry(s, ctx->db, e);
    }
    df_free(val);
    return 0;
}

static void populate_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)state;
    long long count, size;
    const char *why;
    if (!debug_check(ctx)) return;
    if (populate_args(argc, argv, &count, &size, &why) < 0)
        reply_error(ctx, why);
    else
        reply_ok(ctx);
}

static const dfm_multi_t populate_multi = {1, populate_phase, populate_reply};

/* ------------------------------------------------------------------------------------ */
/* DEBUG SET-ACTIVE-EXPIRE 0|1                                                            */

static int debug_flag_arg(const dfm_str_t *a) {
    if (a->len == 1 && (a->ptr[0] == '0' || a->ptr[0] == '1')) return a->ptr[0] - '0';
    return -1;
}

static int active_expire_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                               const int *keys, int nkeys) {
    (void)phase, (void)state, (void)argc, (void)keys, (void)nkeys;
    int on = debug_flag_arg(&argv[2]);
    if (!debug_allowed(ctx) || on < 0) return -1;
    ctx->shard->active_expire = on;
    return 0;
}

static void active_expire_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)state, (void)argc;
    if (!debug_check(ctx)) return;
    if (debug_flag_arg(&argv[2]) < 0) {
        reply_syntax_error(ctx);
        return;
    }
    reply_ok(ctx);
}

static const dfm_multi_t active_expire_multi = {1, active_expire_phase, active_expire_reply};

/* ------------------------------------------------------------------------------------ */
/* DEBUG OBJECT key                                                                        */

/* Bytes the value would take in an RDB file, roughly (strings: their length). */
static size_t debug_serialized_len(entry_t *e) {
    if (!(e->flags & ENTRY_F_OBJ)) {
        if ((e->flags & ENTRY_ENC_MASK) == ENTRY_ENC_INT) return e->vlen <= 3 ? 2 : e->vlen < 6 ? 3 : 5;
        return e->vlen + (e->vlen < 64 ? 1 : e->vlen < 16384 ? 2 : 5);
    }
    return db_entry_mem(e);
}

static void debug_object_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    if (!debug_check(ctx)) return;
    table_slot_t *slot = db_find(ctx->shard, ctx->db, argv[2].ptr, argv[2].len);
    if (!slot) {
        reply_error(ctx, "ERR no such key");
        return;
    }
    entry_t *e = slot_entry(*slot);
    unsigned idle = (unsigned)(uint16_t)(server_lru_clock() - e->lru);
    char line[256];
    snprintf(line, sizeof line,
             "Value at:%p refcount:1 encoding:%s serializedlength:%zu lru:%u lru_seconds_idle:%u",
             (void *)e, db_encoding_name(e), debug_serialized_len(e), (unsigned)e->lru, idle);
    reply_simple(ctx, line);
}

/* ------------------------------------------------------------------------------------ */
/* DEBUG SLEEP seconds                                                                    */

typedef struct debug_sleep {
    conn_t *c;
} debug_sleep_t;

/* Timer callback on the client's thread: answer and let the client go on. */
static void debug_sleep_done(evutil_socket_t fd, short what, void *arg) {
    (void)fd, (void)what;
    debug_sleep_t *d = arg;
    conn_t *c = d->c;
    df_free(d);
    if (!(c->flags & CONN_CLOSING)) rbuf_append(&c->obuf, "+OK\r\n", 5);
    c->pending--;
    conn_resume(c);
}

static void debug_sleep_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    if (!debug_check(ctx)) return;
    long double secs;
    if (util_str2ld(argv[2].ptr, argv[2].len, &secs) < 0 || secs < 0) {
        reply_error(ctx, "ERR value is not a valid float");
        return;
    }
    /* Inside EXEC the reply must be written now: no pause there. */
    if (secs == 0 || ctx->tx || !ctx->conn) {
        reply_ok(ctx);
        return;
    }
    int64_t us = (int64_t)(secs * 1e6L);
    struct timeval tv = {.tv_sec = (time_t)(us / 1000000), .tv_usec = (suseconds_t)(us % 1000000)};
    debug_sleep_t *d = df_malloc(sizeof *d);
    d->c = ctx->conn;
    if (event_base_once(ctx->conn->w->base, -1, EV_TIMEOUT, debug_sleep_done, d, &tv) < 0) {
        df_free(d);
        reply_ok(ctx);
        return;
    }
    ctx->conn->pending++;
}

/* ------------------------------------------------------------------------------------ */
/* DEBUG RELOAD                                                                           */

/* DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save the dataset, empty it, load the file back.
   Redis blocks every client meanwhile; we pause them all (they wait, as they would there)
   and do the work on a thread of its own, so no worker waits; the caller is answered from
   its thread at the end. */
typedef struct debug_reload {
    conn_t *c;
    int save, flush, worker;
    const char *error; /* NULL: OK */
} debug_reload_t;

static void debug_reload_answer(void *arg) {
    debug_reload_t *d = arg;
    conn_t *c = d->c;
    if (!(c->flags & CONN_CLOSING)) {
        if (d->error) {
            rbuf_append(&c->obuf, "-", 1);
            rbuf_append(&c->obuf, d->error, strlen(d->error));
            rbuf_append(&c->obuf, "\r\n", 2);
        } else {
            rbuf_append(&c->obuf, "+OK\r\n", 5);
        }
    }
    df_free(d);
    c->pending--;
    conn_resume(c);
}

static void debug_reload_barrier(void *arg) { (void)arg; }

/* Once paused, no command starts. A message round to every worker lets each finish what it
   was running when the pause came (a command past its pause check may still be sending
   hops); then wait (up to 2 s) for the hops away on other shards, so no command lands after
   the save or the flush. */
static void debug_reload_quiesce(void) {
    worker_broadcast_wait(debug_reload_barrier, NULL);
    for (int i = 0; i < 2000; i++) {
        int busy = 0;
        for (int w = 0; w < g_nworkers; w++) busy += worker_awaiting(&g_workers[w]) > 0;
        if (!busy) return;
        usleep(1000);
    }
}

static void *debug_reload_thread(void *arg) {
    debug_reload_t *d = arg;
    server_pause(SERVER_PAUSE_RELOAD, INT64_MAX, 1);
    debug_reload_quiesce();
    if (d->save && snapshot_save_and_wait() < 0) d->error = "ERR Error trying to save the DB";
    if (!d->error) {
        char *path = snapshot_path(), err[256];
        uint64_t loaded = 0, expired = 0;
        if (d->flush) db_flush_everything();
        if (rdb_load_into_shards(path, &loaded, &expired, NULL, err, sizeof err) <= 0) {
            log_warning("DEBUG RELOAD: %s", err);
            d->error = "ERR Error trying to load the RDB dump, check server logs.";
        } else {
            log_notice("DB reloaded by DEBUG RELOAD (%llu keys)", (unsigned long long)loaded);
        }
        free(path);
    }
    server_unpause(SERVER_PAUSE_RELOAD);
    worker_post(d->worker, debug_reload_answer, d);
    return NULL;
}

static void debug_reload_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    if (!debug_check(ctx)) return;
    int save = 1, flush = 1;
    for (int i = 2; i < argc; i++) {
        if (util_eq_nocase(argv[i].ptr, argv[i].len, "nosave")) save = 0;
        else if (util_eq_nocase(argv[i].ptr, argv[i].len, "noflush")) flush = 0;
        else if (util_eq_nocase(argv[i].ptr, argv[i].len, "merge")) flush = 0;
        else {
            reply_error(ctx, "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
            return;
        }
    }
    if (ctx->tx || !ctx->conn) {
        reply_error(ctx, "ERR DEBUG RELOAD is not allowed inside a transaction or script");
        return;
    }
    debug_reload_t *d = df_calloc(sizeof *d);
    *d = (debug_reload_t){ctx->conn, save, flush, ctx->conn->w->id, NULL};
    if (util_thread_detached(debug_reload_thread, d) != 0) {
        df_free(d);
        reply_error(ctx, "ERR can't start the reload");
        return;
    }
    ctx->conn->pending++;
}

/* ------------------------------------------------------------------------------------ */
/* DEBUG JMAP, CHANGE-REPL-ID, HELP                                                       */

static void debug_ok_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    if (debug_check(ctx)) reply_ok(ctx);
}

static void debug_help_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    static const char *const help[] = {
        "CHANGE-REPL-ID",
        "    Change the replication IDs of the instance.",
        "JMAP",
        "    Accepted for compatibility; does nothing.",
        "OBJECT <key>",
        "    Show low level info about the `key` and associated value.",
        "RELOAD [option ...]",
        "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
        "    * MERGE: conflicting keys will be loaded from RDB.",
        "    * NOFLUSH: the existing database will not be removed before load, but",
        "      conflicting keys will generate an exception and kill the server.",
        "    * NOSAVE: the database will be loaded from an existing RDB file.",
        "    Examples:",
        "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
        "      the database.",
        "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
        "      existing RDB file.",
        "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
        "      file to the database.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create <count> string keys named key:<num>. If <prefix> is specified then",
        "    it is used instead of the 'key' prefix. These are not propagated to",
        "    replicas. Cluster slots are not respected so keys not belonging to the",
        "    current node can be created in cluster mode.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        NULL,
    };
    if (debug_check(ctx)) command_reply_help(ctx, "DEBUG", help);
}

#define DEBUG_FLAGS "admin noscript loading stale"
#define DEBUG_ACL "@admin @slow @dangerous"
#define DEBUG_DOC .since = "1.0.0", .group = "server", .complexity = "Depends on subcommand."

static const dfm_command_t debug_cmds[] = {
    {.name = "debug|populate", .arity = -3, .flags = DEBUG_FLAGS " write @allshards",
     .acl_categories = DEBUG_ACL, DEBUG_DOC, .summary = "Creates test keys.",
     .args_doc = "count [prefix] [size]", .multi = &populate_multi},
    {.name = "debug|set-active-expire", .arity = 3, .flags = DEBUG_FLAGS " @allshards",
     .acl_categories = DEBUG_ACL, DEBUG_DOC, .summary = "Turns active expiry on or off.",
     .args_doc = "flag", .multi = &active_expire_multi},
    {.name = "debug|object", .arity = 3, .flags = DEBUG_FLAGS " readonly", .first_key = 2,
     .last_key = 2, .key_step = 1, .acl_categories = DEBUG_ACL, DEBUG_DOC,
     .summary = "Shows low level information about a key.", .args_doc = "key",
     .handler = debug_object_cmd},
    {.name = "debug|sleep", .arity = 3, .flags = DEBUG_FLAGS " @conn", .acl_categories = DEBUG_ACL,
     DEBUG_DOC, .summary = "Delays this client's reply.", .args_doc = "seconds",
     .handler = debug_sleep_cmd},
    {.name = "debug|reload", .arity = -2, .flags = "admin noscript @conn", .acl_categories = DEBUG_ACL,
     DEBUG_DOC, .summary = "Saves the dataset, empties it and loads the file back.",
     .args_doc = "[MERGE] [NOFLUSH] [NOSAVE]", .handler = debug_reload_cmd},
    {.name = "debug|jmap", .arity = 2, .flags = DEBUG_FLAGS, .acl_categories = DEBUG_ACL, DEBUG_DOC,
     .summary = "Does nothing.", .handler = debug_ok_cmd},
    {.name = "debug|change-repl-id", .arity = 2, .flags = DEBUG_FLAGS, .acl_categories = DEBUG_ACL,
     DEBUG_DOC, .summary = "Changes the replication ids.", .handler = debug_ok_cmd},
    {.name = "debug|help", .arity = 2, .flags = "loading stale", .acl_categories = "@slow", DEBUG_DOC,
     .summary = "Returns helpful text about the different subcommands.", .handler = debug_help_cmd},
};

void cmd_debug_register(void) { cmdtab_register(debug_cmds, CMDTAB_COUNT(debug_cmds)); }
