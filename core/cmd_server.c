/*
 * cmd_server.c: connection and server commands: PING, ECHO, QUIT, RESET, SELECT, AUTH,
 * HELLO, TIME, SHUTDOWN, DBSIZE, FLUSHDB, FLUSHALL, LASTSAVE, FUNCTION FLUSH, MODULE.
 * Whole-keyspace commands (DBSIZE, FLUSH*) run their phase on every shard under the
 * transaction engine's whole-shard locks, so their answer is one consistent moment.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "alloc.h"
#include "block.h"
#include "busy.h"
#include "cmdtab.h"
#include "config.h"
#include "conn.h"
#include "db.h"
#include "dispatch.h"
#include "info.h"
#include "log.h"
#include "module_loader.h"
#include "monitor.h"
#include "server.h"
#include "snapshot.h"
#include "tracking.h"
#include "tx.h"
#include "util.h"

void cmdtab_register(const dfm_command_t *cmds, int n) {
    for (int i = 0; i < n; i++) {
        char *err = NULL;
        if (dispatch_register(&cmds[i], "core", &err) < 0) {
            log_error("core command table: %s", err);
            abort();
        }
    }
}

void commands_register_core(void) {
    cmd_server_register();
    cmd_client_register();
    cmd_tracking_register();
    cmd_config_register();
    cmd_keys_register();
    cmd_expire_register();
    cmd_scan_register();
    cmd_multi_register();
    cmd_debug_register();
    cmd_memory_register();
    cmd_command_register();
    cmd_info_register();
    cmd_dump_register();
    cmd_migrate_register();
    cmd_snapshot_register();
    cmd_aof_register();
    cmd_replica_register();
    cmd_master_register();
    cmd_failover_register();
    cmd_cluster_register();
    cmd_monitor_register();
    cmd_slowlog_register();
    cmd_latency_register();
    cmd_acl_register();
}

static void ping_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    if (argc > 2) {
        reply_error(ctx, "ERR wrong number of arguments for 'ping' command");
        return;
    }
    if (ctx->conn && ctx->resp == 2 && conn_subscribed(ctx->conn)) { /* Redis's form */
        reply_array(ctx, 2);
        reply_cstr(ctx, "pong");
        reply_bulk(ctx, argc == 2 ? argv[1].ptr : "", argc == 2 ? argv[1].len : 0);
    } else if (argc == 2) {
        reply_bulk(ctx, argv[1].ptr, argv[1].len);
    } else {
        rbuf_append(ctx->out, "+PONG\r\n", 7);
    }
}

static void echo_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    reply_bulk(ctx, argv[1].ptr, argv[1].len);
}

static void quit_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    (void)argv;
    reply_ok(ctx);
    if (!(ctx->conn->flags & CONN_AOF)) /* in an AOF being loaded QUIT does nothing (Redis) */
        ctx->conn->flags |= CONN_CLOSE_AFTER_REPLY;
}

static void select_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    long long db;
    if (util_str2ll(argv[1].ptr, argv[1].len, &db) < 0) {
        reply_error(ctx, "ERR value is not an integer or out of range");
        return;
    }
    if (db < 0 || db >= g_config.dbnum) {
        reply_error(ctx, "ERR DB index is out of range");
        return;
    }
    ctx->conn->db = (int)db;
    reply_ok(ctx);
}

/* Authenticate c as user (NULL: default) with pass. 1 on success; 0 after logging the
   failure in ACL LOG (object: the command name as sent). Client's thread. */
static int auth_check(conn_t *c, const dfm_str_t *cmdname, const dfm_str_t *user,
                      const dfm_str_t *pass) {
    const char *name = user ? user->ptr : "default";
    size_t nlen = user ? user->len : 7;
    acl_slot_t *s = acl_authenticate(name, nlen, pass->ptr, pass->len);
    if (s) {
        c->user = s;
        c->authed = 1;
        return 1;
    }
    rbuf_t info = {0};
    conn_describe(c, &info);
    if (info.len) info.data[info.len - 1] = '\0'; /* the newline */
    acl_log_add(ACL_DENIED_AUTH, "toplevel", cmdname->ptr, cmdname->len, name, nlen,
                info.data ? info.data : "");
    rbuf_free(&info);
    return 0;
}

static void auth_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    if (argc > 3) {
        reply_syntax_error(ctx);
        return;
    }
    if (argc == 2 && (acl_current(acl_default())->flags & ACL_U_NOPASS)) {
        reply_error(ctx, "ERR AUTH <password> called without any password configured for the "
                         "default user. Are you sure your configuration is correct?");
        return;
    }
    if (!auth_check(ctx->conn, &argv[0], argc == 3 ? &argv[1] : NULL, &argv[argc - 1])) {
        reply_error(ctx, "WRONGPASS invalid username-password pair or user is disabled.");
        return;
    }
    reply_ok(ctx);
}

static void hello_reply(dfm_ctx_t *ctx, conn_t *c) {
    reply_map(ctx, 7);
    reply_cstr(ctx, "server");
    reply_cstr(ctx, "redis");
    reply_cstr(ctx, "version");
    reply_cstr(ctx, DF_REDIS_VERSION);
    reply_cstr(ctx, "proto");
    reply_int(ctx, c->resp);
    reply_cstr(ctx, "id");
    reply_int(ctx, (long long)c->id);
    reply_cstr(ctx, "mode");
    reply_cstr(ctx, "standalone");
    reply_cstr(ctx, "role");
    reply_cstr(ctx, "master");
    reply_cstr(ctx, "modules");
    reply_array(ctx, 0);
}

static void hello_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    conn_t *c = ctx->conn;
    long long ver = c->resp;
    if (argc >= 2 && (util_str2ll(argv[1].ptr, argv[1].len, &ver) < 0 || ver < 2 || ver > 3)) {
        if (util_str2ll(argv[1].ptr, argv[1].len, &ver) < 0)
            reply_error(ctx, "ERR Protocol version is not an integer or out of range");
        else
            reply_error(ctx, "NOPROTO unsupported protocol version");
        return;
    }
    const dfm_str_t *user = NULL, *pass = NULL, *name = NULL;
    for (int i = 2; i < argc; i++) {
        int more = argc - i - 1;
        if (util_eq_nocase(argv[i].ptr, argv[i].len, "auth") && more >= 2) {
            user = &argv[i + 1];
            pass = &argv[i + 2];
            i += 2;
        } else if (util_eq_nocase(argv[i].ptr, argv[i].len, "setname") && more >= 1) {
            name = &argv[++i];
        } else {
            reply_errorf(ctx, "ERR Syntax error in HELLO option '%.*s'", (int)argv[i].len, argv[i].ptr);
            return;
        }
    }
    if (pass && !auth_check(c, &argv[0], user, pass)) {
        reply_error(ctx, "WRONGPASS invalid username-password pair or user is disabled.");
        return;
    }
    if (!c->authed) {
        reply_error(ctx, "NOAUTH HELLO must be called with the client already authenticated, "
                         "otherwise the HELLO <proto> AUTH <user> <pass> option can be used to "
                         "authenticate the client and select the RESP protocol version at the same time");
        return;
    }
    if (name) {
        for (size_t i = 0; i < name->len; i++) {
            if (name->ptr[i] <= ' ' || name->ptr[i] > '~') {
                reply_error(ctx, "ERR Client names cannot contain spaces, newlines or special characters.");
                return;
            }
        }
        df_free(c->name);
        c->name = name->len ? df_memdup(name->ptr, name->len) : NULL;
    }
    c->resp = (int)ver;
    ctx->resp = (int)ver;
    hello_reply(ctx, c);
}

static void reset_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    (void)argv;
    conn_t *c = ctx->conn;
    if (c->multi) {
        multi_state_free(c->multi);
        c->multi = NULL;
    }
    c->flags &= ~(CONN_MULTI | CONN_DIRTY_EXEC);
    if (c->watch) server_unwatch_all(c);
    conn_release_slots(c); /* subscriptions and other modules' client state */
    monitor_remove(c);
    tracking_disable(c);
    c->db = 0;
    c->resp = 2;
    df_free(c->name);
    c->name = NULL;
    c->user = acl_default();
    c->authed = acl_default_open();
    rbuf_append(ctx->out, "+RESET\r\n", 8);
}

static void time_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    (void)argv;
    int64_t us = util_now_us();
    char buf[32];
    reply_array(ctx, 2);
    int n = util_ll2str(buf, sizeof buf, us / 1000000);
    reply_bulk(ctx, buf, (size_t)n);
    n = util_ll2str(buf, sizeof buf, us % 1000000);
    reply_bulk(ctx, buf, (size_t)n);
}

static void shutdown_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    int save = -1;
    for (int i = 1; i < argc; i++) {
        if (util_eq_nocase(argv[i].ptr, argv[i].len, "nosave")) save = save == 1 ? 2 : 0;
        if (util_eq_nocase(argv[i].ptr, argv[i].len, "save")) save = save == 0 ? 2 : 1;
        if (!util_eq_nocase(argv[i].ptr, argv[i].len, "nosave") &&
            !util_eq_nocase(argv[i].ptr, argv[i].len, "save") &&
            !util_eq_nocase(argv[i].ptr, argv[i].len, "now") &&
            !util_eq_nocase(argv[i].ptr, argv[i].len, "force") &&
            !util_eq_nocase(argv[i].ptr, argv[i].len, "abort")) {
            reply_syntax_error(ctx);
            return;
        }
    }
    if (save == 2) {
        reply_syntax_error(ctx);
        return;
    }
    const char *busy = busy_error();
    if (busy && save != 0) { /* a busy script: only SHUTDOWN NOSAVE goes (Redis) */
        reply_error(ctx, busy);
        return;
    }
    int force = 0, now = 0, abort_ = 0;
    for (int i = 1; i < argc; i++) {
        force |= util_eq_nocase(argv[i].ptr, argv[i].len, "force");
        now |= util_eq_nocase(argv[i].ptr, argv[i].len, "now");
        abort_ |= util_eq_nocase(argv[i].ptr, argv[i].len, "abort");
    }
    if (abort_) { /* alone, as Redis: stop a shutdown that waits for replicas */
        if (argc != 2)
            reply_syntax_error(ctx);
        else if (server_shutdown_abort() < 0)
            reply_error(ctx, "ERR No shutdown in progress.");
        else
            reply_ok(ctx);
        return;
    }
    log_notice("User requested shutdown...");
    if (ctx->conn && !ctx->tx) {
        server_shutdown_from(ctx->conn, save, force, now);
        return;
    }
    atomic_store(&g_server.shutdown_save, save);
    atomic_store(&g_server.shutdown_force, force);
    atomic_store(&g_server.shutdown_now, now);
    server_request_shutdown(0);
}

static void lastsave_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    (void)argv;
    reply_int(ctx, snapshot_lastsave());
}

/* --- whole keyspace ------------------------------------------------------------------- */

static int dbsize_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                        const int *keys, int nkeys) {
    (void)phase, (void)argc, (void)argv, (void)keys, (void)nkeys;
    *state = (void *)((uintptr_t)*state + db_size(ctx->shard, ctx->db));
    return 0;
}

static void dbsize_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    reply_int(ctx, (long long)(uintptr_t)*state);
}

/* FLUSHDB/FLUSHALL [ASYNC|SYNC]: the option is checked in the reply (state bit 1 = bad). */
static int flush_bad_args(int argc, const dfm_str_t *argv) {
    if (argc == 1) return 0;
    if (argc > 2) return 1;
    return !util_eq_nocase(argv[1].ptr, argv[1].len, "async") &&
           !util_eq_nocase(argv[1].ptr, argv[1].len, "sync");
}

static int flushdb_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                         const int *keys, int nkeys) {
    (void)phase, (void)state, (void)keys, (void)nkeys;
    if (flush_bad_args(argc, argv)) return -1;
    db_flush(ctx->shard, ctx->db);
    return 0;
}

static int flushall_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                          const int *keys, int nkeys) {
    (void)phase, (void)state, (void)keys, (void)nkeys;
    if (flush_bad_args(argc, argv)) return -1;
    db_flush(ctx->shard, -1);
    return 0;
}

static void flush_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)state;
    if (flush_bad_args(argc, argv))
        reply_syntax_error(ctx);
    else
        reply_ok(ctx);
}

static void flushall_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    flush_reply(ctx, state, argc, argv);
    if (!flush_bad_args(argc, argv)) snapshot_after_flushall();
}

static const dfm_multi_t dbsize_multi = {1, dbsize_phase, dbsize_reply};
static const dfm_multi_t flushdb_multi = {1, flushdb_phase, flush_reply};
static const dfm_multi_t flushall_multi = {1, flushall_phase, flushall_reply};

/* --- MODULE (FUNCTION is the scripting module's) ----------------------------------------- */

static void module_help_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    static const char *const help[] = {
        "LIST",
        "    Return a list of loaded modules.",
        "LOAD <path> [<arg> ...]",
        "    Load a module library from <path>, passing to it any optional arguments.",
        "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
        "    Load a module library from <path>, while passing it module configurations and "
        "optional arguments.",
        "UNLOAD <name>",
        "    Unload a module.",
        NULL,
    };
    command_reply_help(ctx, "MODULE", help);
}

/* LOLWUT [VERSION v]: a small drawing and the version, as Redis ends its own with. */
static void lolwut_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    if (argc != 1 && !(argc == 3 && util_eq_nocase(argv[1].ptr, argv[1].len, "version"))) {
        reply_syntax_error(ctx);
        return;
    }
    static const char art[] =
        "  __\n"
        " /  \\__   shards that share nothing,\n"
        " \\__/  \\  threads that never wait.\n"
        "    \\__/\n"
        "\n"
        "Redis ver. " DF_REDIS_VERSION "\n";
    reply_verbatim(ctx, art, sizeof art - 1);
}

static void module_list_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    int n = modules_count();
    reply_array(ctx, n);
    for (int i = 0; i < n; i++) {
        const dfm_module_t *m = modules_at(i);
        reply_map(ctx, 4);
        reply_cstr(ctx, "name");
        reply_cstr(ctx, m->name);
        reply_cstr(ctx, "ver");
        /* Redis reports an integer version: 1.2.3 -> 10203 */
        int a = 0, b = 0, c = 0;
        sscanf(m->version, "%d.%d.%d", &a, &b, &c);
        reply_int(ctx, a * 10000 + b * 100 + c);
        reply_cstr(ctx, "path");
        reply_cstr(ctx, m->path);
        reply_cstr(ctx, "args");
        reply_array(ctx, m->argc);
        for (int j = 0; j < m->argc; j++) reply_cstr(ctx, m->argv[j]);
    }
}

static void module_load_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    reply_error(ctx, "ERR MODULE LOAD/UNLOAD are not supported at runtime: modules load at "
                     "start-up (--loadmodule, --modules, modules.d manifests)");
}

static const dfm_command_t server_cmds[] = {
    {.name = "ping", .arity = -1, .flags = "fast", .acl_categories = "@fast @connection",
     .summary = "Returns the server's liveliness response.", .since = "1.0.0", .group = "connection",
     .complexity = "O(1)", .args_doc = "[message]", .handler = ping_cmd},
    {.name = "echo", .arity = 2, .flags = "fast loading stale", .acl_categories = "@fast @connection",
     .summary = "Returns the given string.", .since = "1.0.0", .group = "connection",
     .complexity = "O(1)", .args_doc = "message", .handler = echo_cmd},
    {.name = "quit", .arity = -1, .flags = "allow_busy no_auth fast loading noscript stale @conn @multiok",
     .acl_categories = "@fast @connection", .summary = "Closes the connection.", .since = "1.0.0",
     .group = "connection", .complexity = "O(1)", .handler = quit_cmd},
    {.name = "select", .arity = 2, .flags = "loading stale fast @conn",
     .acl_categories = "@fast @connection", .summary = "Changes the selected database.",
     .since = "1.0.0", .group = "connection", .complexity = "O(1)", .args_doc = "index",
     .handler = select_cmd},
    {.name = "auth", .arity = -2, .flags = "noscript loading stale fast no_auth allow_busy @conn",
     .acl_categories = "@fast @connection", .summary = "Authenticates the connection.",
     .since = "1.0.0", .group = "connection", .complexity = "O(N)",
     .args_doc = "[username] password", .handler = auth_cmd},
    {.name = "hello", .arity = -1, .flags = "noscript loading stale fast no_auth allow_busy @conn",
     .acl_categories = "@fast @connection", .summary = "Handshakes with the Redis server.",
     .since = "6.0.0", .group = "connection", .complexity = "O(1)",
     .args_doc = "[protover [AUTH username password] [SETNAME clientname]]", .handler = hello_cmd},
    {.name = "reset", .arity = 1, .flags = "noscript loading stale fast no_auth allow_busy @conn @multiok",
     .acl_categories = "@fast @connection", .summary = "Resets the connection.", .since = "6.2.0",
     .group = "connection", .complexity = "O(1)", .handler = reset_cmd},
    {.name = "time", .arity = 1, .flags = "loading stale fast", .acl_categories = "@fast",
     .summary = "Returns the server time.", .since = "2.6.0", .group = "server",
     .complexity = "O(1)", .handler = time_cmd},
    {.name = "shutdown", .arity = -1, .flags = "admin noscript loading stale no_multi allow_busy",
     .acl_categories = "@admin @slow @dangerous", .summary = "Synchronously saves the database(s) to disk and shuts down the Redis server.",
     .since = "1.0.0", .group = "server", .complexity = "O(N)",
     .args_doc = "[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]", .handler = shutdown_cmd},
    {.name = "lastsave", .arity = 1, .flags = "loading stale fast", .acl_categories = "@fast @admin @dangerous",
     .summary = "Returns the Unix timestamp of the last successful save to disk.", .since = "1.0.0",
     .group = "server", .complexity = "O(1)", .handler = lastsave_cmd},
    {.name = "dbsize", .arity = 1, .flags = "readonly fast @allshards", .acl_categories = "@keyspace @read @fast",
     .summary = "Returns the number of keys in the database.", .since = "1.0.0", .group = "server",
     .complexity = "O(1)", .multi = &dbsize_multi},
    {.name = "flushdb", .arity = -1, .flags = "write @allshards", .acl_categories = "@keyspace @write @slow @dangerous",
     .summary = "Remove all keys from the current database.", .since = "1.0.0", .group = "server",
     .complexity = "O(N)", .args_doc = "[ASYNC|SYNC]", .multi = &flushdb_multi},
    {.name = "flushall", .arity = -1, .flags = "write @allshards", .acl_categories = "@keyspace @write @slow @dangerous",
     .summary = "Removes all keys from all databases.", .since = "1.0.0", .group = "server",
     .complexity = "O(N)", .args_doc = "[ASYNC|SYNC]", .multi = &flushall_multi},
    {.name = "module|help", .arity = 2, .flags = "loading stale", .acl_categories = "@slow",
     .summary = "Show helpful text about the different subcommands", .since = "5.0.0",
     .group = "server", .complexity = "O(1)", .handler = module_help_cmd},
    {.name = "lolwut", .arity = -1, .flags = "readonly fast", .acl_categories = "@read @fast",
     .summary = "Display some computer art and the Redis version", .since = "5.0.0",
     .group = "server", .complexity = "", .args_doc = "[VERSION version]", .handler = lolwut_cmd},
    {.name = "module|list", .arity = 2, .flags = "admin noscript", .acl_categories = "@admin @slow @dangerous",
     .summary = "Returns all loaded modules.", .since = "4.0.0", .group = "server",
     .complexity = "O(N)", .handler = module_list_cmd},
    {.name = "module|load", .arity = -3, .flags = "admin noscript no_multi", .acl_categories = "@admin @slow @dangerous",
     .summary = "Loads a module.", .since = "4.0.0", .group = "server", .complexity = "O(1)",
     .args_doc = "path [arg ...]", .handler = module_load_cmd},
    {.name = "module|loadex", .arity = -3, .flags = "admin noscript no_multi", .acl_categories = "@admin @slow @dangerous",
     .summary = "Loads a module using extended parameters.", .since = "7.0.0", .group = "server",
     .complexity = "O(1)", .handler = module_load_cmd},
    {.name = "module|unload", .arity = 3, .flags = "admin noscript no_multi", .acl_categories = "@admin @slow @dangerous",
     .summary = "Unloads a module.", .since = "4.0.0", .group = "server", .complexity = "O(1)",
     .args_doc = "name", .handler = module_load_cmd},
};

void cmd_server_register(void) { cmdtab_register(server_cmds, CMDTAB_COUNT(server_cmds)); }
