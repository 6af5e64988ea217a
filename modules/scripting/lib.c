/*
 * lib.c: the `redis` table scripts see: call, pcall, error_reply, status_reply, sha1hex, log,
 * setresp, set_repl, replicate_commands, breakpoint, debug and the LOG_* / REPL_* constants,
 * with Redis 7.0's argument checks and error texts. Runs on the script's thread, inside
 * lua_pcall: a raised error longjmps, so nothing allocated may be pending when one is raised.
 */
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scripting.h"

/* Push {err = msg} as Redis does: "-CODE text" keeps its code, "-text" (one word) and "text"
   get "ERR "; trailing newlines go. */
void sc_push_error(lua_State *L, const char *msg) {
    lua_newtable(L);
    if (msg[0] == '-' && strchr(msg, ' '))
        lua_pushstring(L, msg + 1);
    else
        lua_pushfstring(L, "ERR %s", msg + (msg[0] == '-'));
    size_t n;
    const char *s = lua_tolstring(L, -1, &n);
    if (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) {
        while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
        lua_pushlstring(L, s, n);
        lua_remove(L, -2);
    }
    lua_setfield(L, -2, "err");
}

/* Raise (redis.call) or return (redis.pcall) the error table on the top of the stack. */
static int sc_fail(lua_State *L, int raise) { return raise ? lua_error(L) : 1; }

/* A number argument as Redis 7 writes it: the shortest text that reads back the same. */
static void sc_number_arg(lua_State *L, int i) {
    double d = lua_tonumber(L, i);
    char buf[48];
    if (fabs(d) < 1e21 && d == floor(d)) {
        snprintf(buf, sizeof buf, "%.0f", d); /* integral: plain digits, as Redis */
    } else {
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, sizeof buf, "%.*g", prec, d);
            if (strtod(buf, NULL) == d) break;
        }
    }
    lua_pushstring(L, buf);
    lua_replace(L, i);
}

/* The call's refusals, in Redis's words. */
static const char *sc_call_refusal(int rc) {
    switch (rc) {
    case DFM_CALL_UNKNOWN: return "Unknown Redis command called from script";
    case DFM_CALL_ARITY: return "Wrong number of args calling Redis command from script";
    case DFM_CALL_NOSCRIPT: return "This Redis command is not allowed from script";
    case DFM_CALL_WRITE: return "Write commands are not allowed from read-only scripts.";
    case DFM_CALL_NOPERM_CMD:
        return "The user executing the script can't run this command or subcommand";
    case DFM_CALL_NOPERM_KEY:
        return "The user executing the script can't access at least one of the keys mentioned "
               "in the command arguments";
    case DFM_CALL_NOPERM_CHANNEL:
        return "The user executing the script can't publish to the channel mentioned in the "
               "command";
    default: return "Script attempted to access a non local key in a cluster node";
    }
}

/* api->call, with the write bookkeeping SCRIPT KILL needs: until the script's first write,
   each call is first tried with writes refused; a refused write marks the script dirty
   (unless a kill came first: then nothing runs and SC_CALL_KILLED is returned) and runs
   again. */
#define SC_CALL_KILLED 1
static int sc_call_checked(sc_run_t *run, dfm_call_t *call, int argc, const dfm_str_t *argv) {
    int flags = run->call_flags | DFM_CALL_ACL;
    *call = (dfm_call_t){.flags = flags, .resp = run->resp, .db = run->db};
    if ((flags & DFM_CALL_NO_WRITES) || sc_kill_dirty())
        return sc_api->call(run->ctx, call, argc, argv);
    call->flags |= DFM_CALL_NO_WRITES;
    int rc = sc_api->call(run->ctx, call, argc, argv);
    if (rc != DFM_CALL_WRITE) return rc;
    if (sc_kill_mark_dirty() < 0) return SC_CALL_KILLED;
    call->flags = flags;
    return sc_api->call(run->ctx, call, argc, argv);
}

/* Run the call whose arguments are on the stack; push its converted reply (or its error
   table, with *failed set). */
static void sc_call_run(lua_State *L, sc_run_t *run, int argc, int *failed) {
    sc_thread_t *t = sc_thread();
    if (t->pending) { /* an earlier reply whose conversion raised (caught by pcall) */
        sc_api->free(t->pending);
        t->pending = NULL;
    }
    dfm_str_t stack[16];
    dfm_call_t call;
    dfm_str_t *argv = stack;
    if (argc > 16) { /* the thread keeps it: nothing here leaks if Lua raises */
        if ((size_t)argc > t->argv_cap) {
            if (t->argv) sc_api->free(t->argv);
            t->argv = sc_api->alloc(sizeof *argv * (size_t)argc);
            t->argv_cap = (size_t)argc;
        }
        argv = t->argv;
    }
    for (int i = 0; i < argc; i++) argv[i].ptr = lua_tolstring(L, i + 1, &argv[i].len);
    int rc = sc_call_checked(run, &call, argc, argv);
    run->db = call.db;
    *failed = 1;
    if (rc == SC_CALL_KILLED) {
        sc_push_error(L, "Script killed by user with SCRIPT KILL...");
        lua_error(L); /* even from redis.pcall: the script must stop */
    } else if (rc != DFM_CALL_OK) {
        sc_push_error(L, sc_call_refusal(rc));
    } else {
        t->pending = call.out.data; /* if Lua raises: freed by the next call or by sc_exec */
        if (!sc_resp_to_lua(L, call.out.data, call.out.data + call.out.len))
            sc_push_error(L, "Reply from the command could not be parsed");
        else
            *failed = call.out.len > 0 && call.out.data[0] == '-';
        t->pending = NULL;
    }
    sc_api->free(call.out.data);
}

/* redis.call (raise = 1) and redis.pcall (raise = 0). */
static int sc_call_generic(lua_State *L, int raise) {
    sc_run_t *run = sc_thread()->run;
    int argc = lua_gettop(L);
    if (argc == 0) {
        sc_push_error(L, "Please specify at least one argument for this redis lib call");
        return sc_fail(L, raise);
    }
    for (int i = 1; i <= argc; i++) {
        int type = lua_type(L, i);
        if (type == LUA_TNUMBER) {
            sc_number_arg(L, i);
        } else if (type != LUA_TSTRING) {
            sc_push_error(L, "Lua redis lib command arguments must be strings or integers");
            return sc_fail(L, raise);
        }
    }
    if (!run) {
        sc_push_error(L, "redis.call is only available while a script runs");
        return sc_fail(L, raise);
    }
    int failed;
    sc_call_run(L, run, argc, &failed);
    return failed ? sc_fail(L, raise) : 1;
}

static int sc_lua_call(lua_State *L) { return sc_call_generic(L, 1); }
static int sc_lua_pcall(lua_State *L) { return sc_call_generic(L, 0); }

/* redis.error_reply(msg) / redis.status_reply(msg): {err = ...} / {ok = ...}. */
static int sc_lua_error_reply(lua_State *L) {
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
        sc_push_error(L, "wrong number or type of arguments");
        return 1;
    }
    const char *msg = lua_tostring(L, 1);
    if (msg[0] == '-') {
        sc_push_error(L, msg);
    } else {
        lua_pushfstring(L, "-%s", msg);
        sc_push_error(L, lua_tostring(L, -1));
    }
    return 1;
}

static int sc_lua_status_reply(lua_State *L) {
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
        sc_push_error(L, "wrong number or type of arguments");
        return 1;
    }
    lua_newtable(L);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "ok");
    return 1;
}

static int sc_raise(lua_State *L, const char *msg) {
    sc_push_error(L, msg);
    return lua_error(L);
}

static int sc_lua_sha1hex(lua_State *L) {
    if (lua_gettop(L) != 1) return sc_raise(L, "wrong number of arguments");
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    char hex[SC_SHA_LEN + 1];
    sc_sha1_hex(s ? s : "", s ? len : 0, hex);
    lua_pushstring(L, hex);
    return 1;
}

/* redis.log(level, ...): the arguments joined by spaces, at the server's matching level. */
static int sc_lua_log(lua_State *L) {
    static const int levels[] = {DFM_LOG_DEBUG, DFM_LOG_VERBOSE, DFM_LOG_NOTICE,
                                 DFM_LOG_WARNING};
    int argc = lua_gettop(L);
    if (argc < 2) return sc_raise(L, "redis.log() requires two arguments or more.");
    if (!lua_isnumber(L, 1)) return sc_raise(L, "First argument must be a number (log level).");
    lua_Integer level = lua_tointeger(L, 1);
    if (level < 0 || level > 3) return sc_raise(L, "Invalid debug level.");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 2; i <= argc; i++) {
        size_t n;
        const char *s = lua_tolstring(L, i, &n);
        if (!s) continue;
        if (i > 2) luaL_addchar(&b, ' ');
        luaL_addlstring(&b, s, n);
    }
    luaL_pushresult(&b);
    sc_api->log(levels[level], "%s", lua_tostring(L, -1));
    return 0;
}

static int sc_lua_setresp(lua_State *L) {
    if (lua_gettop(L) != 1) return sc_raise(L, "redis.setresp() requires one argument.");
    lua_Integer v = lua_tointeger(L, 1);
    if (v != 2 && v != 3) return sc_raise(L, "RESP version must be 2 or 3.");
    sc_run_t *run = sc_thread()->run;
    if (run) run->resp = (int)v;
    return 0;
}

/* redis.set_repl(flags): scripts replicate by effects; only the argument is checked. */
static int sc_lua_set_repl(lua_State *L) {
    if (lua_gettop(L) != 1) return sc_raise(L, "redis.set_repl() requires one argument.");
    lua_Integer v = lua_tointeger(L, 1);
    if (v < 0 || v > 3)
        return sc_raise(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or "
                           "REPL_NONE.");
    return 0;
}

static int sc_lua_true(lua_State *L) {
    lua_pushboolean(L, 1);
    return 1;
}

static int sc_lua_false(lua_State *L) {
    lua_pushboolean(L, 0);
    return 1;
}

static int sc_lua_nothing(lua_State *L) {
    (void)L;
    return 0;
}

static void sc_set_int(lua_State *L, const char *name, int v) {
    lua_pushinteger(L, v);
    lua_setfield(L, -2, name);
}

/* The constants into the table on top: all (the redis table) or LOG_* only (load time);
   and the version. */
static void sc_lib_consts(lua_State *L, int all) {
    static const struct {
        const char *name;
        int value;
    } consts[] = {{"LOG_DEBUG", 0},  {"LOG_VERBOSE", 1}, {"LOG_NOTICE", 2},   {"LOG_WARNING", 3},
                  {"REPL_NONE", 0},  {"REPL_AOF", 1},    {"REPL_SLAVE", 2},   {"REPL_REPLICA", 2},
                  {"REPL_ALL", 3}};
    for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++)
        if (all || consts[i].name[0] == 'L') sc_set_int(L, consts[i].name, consts[i].value);
    sc_set_int(L, "REDIS_VERSION_NUM", 0x07000f);
    lua_pushstring(L, "7.0.15");
    lua_setfield(L, -2, "REDIS_VERSION");
}

void sc_lib_push_load_api(lua_State *L, lua_CFunction register_function) {
    lua_newtable(L);
    lua_pushcfunction(L, register_function);
    lua_setfield(L, -2, "register_function");
    lua_pushcfunction(L, sc_lua_log);
    lua_setfield(L, -2, "log");
    sc_lib_consts(L, 0);
}

/* Define the global `redis`. */
void sc_lib_register(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"call", sc_lua_call},
        {"pcall", sc_lua_pcall},
        {"error_reply", sc_lua_error_reply},
        {"status_reply", sc_lua_status_reply},
        {"sha1hex", sc_lua_sha1hex},
        {"log", sc_lua_log},
        {"setresp", sc_lua_setresp},
        {"set_repl", sc_lua_set_repl},
        {"replicate_commands", sc_lua_true},
        {"breakpoint", sc_lua_false},
        {"debug", sc_lua_nothing},
        {NULL, NULL},
    };
    lua_newtable(L);
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
    sc_lib_consts(L, 1);
    lua_setglobal(L, "redis");
}
