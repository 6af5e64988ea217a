/*
 * eval.c: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO.
 *
 * The core routes these by their declared KEYS (sc_eval_keys), so the handler runs on the
 * thread owning those keys' shard and the whole script is one single-shard command: atomic
 * like any other. Declared keys on several shards never get here: the core answers CROSSSLOT.
 * A bad numkeys makes sc_eval_keys find no keys; the handler then runs keyless on the client's
 * thread and replies Redis's error.
 */
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "scripting.h"

/* numkeys of argv[2], validated as Redis does; -1 after replying the error. */
static long long sc_numkeys(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    long long nk;
    if (sc_api->str_to_ll(argv[2].ptr, argv[2].len, &nk) < 0) {
        sc_api->reply_error(ctx, "ERR value is not an integer or out of range");
        return -1;
    }
    if (nk > argc - 3) {
        sc_api->reply_error(ctx, "ERR Number of keys can't be greater than number of args");
        return -1;
    }
    if (nk < 0) {
        sc_api->reply_error(ctx, "ERR Number of keys can't be negative");
        return -1;
    }
    return nk;
}

int sc_eval_keys(int argc, const dfm_str_t *argv, int *idx, int max) {
    long long nk;
    if (argc < 3 || sc_api->str_to_ll(argv[2].ptr, argv[2].len, &nk) < 0 || nk < 0 ||
        nk > argc - 3)
        return -1;
    if (nk == 0) { /* no keys: the script (or its sha) decides the shard */
        if (max < 1) return 0;
        idx[0] = 1;
        return 1;
    }
    int n = 0;
    for (int i = 3; i < 3 + nk && n < max; i++) idx[n++] = i;
    return n;
}

/* Set the global t[name] = {argv[from], ..., argv[to - 1]} (raw: the globals are read-only). */
static void sc_set_args(lua_State *L, const char *name, const dfm_str_t *argv, int from, int to) {
    lua_pushstring(L, name);
    lua_createtable(L, to - from, 0);
    for (int i = from; i < to; i++) {
        lua_pushlstring(L, argv[i].ptr, argv[i].len);
        lua_rawseti(L, -2, i - from + 1);
    }
    lua_rawset(L, LUA_GLOBALSINDEX);
}

/* lua_pcall's message handler: the error becomes {err = ..., source = ..., line = ...}, the
   place being the innermost Lua function (a C function such as redis.call is skipped). */
static int sc_error_handler(lua_State *L) {
    lua_Debug ar;
    int have = lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar);
    if (have && strcmp(ar.what, "C") == 0) have = lua_getstack(L, 2, &ar) && lua_getinfo(L, "Sl", &ar);
    if (!lua_istable(L, 1)) {
        const char *msg = lua_isstring(L, 1) ? lua_tostring(L, 1) : luaL_typename(L, 1);
        lua_newtable(L);
        lua_pushfstring(L, "ERR %s", msg);
        lua_setfield(L, -2, "err");
        lua_replace(L, 1);
    }
    if (have) {
        lua_pushstring(L, ar.source);
        lua_setfield(L, 1, "source");
        lua_pushinteger(L, ar.currentline);
        lua_setfield(L, 1, "line");
    }
    lua_settop(L, 1);
    return 1;
}

/* The error on top of the stack as Redis 7.0 replies it:
   "<err> script: <sha>, on <source>:<line>." */
static void sc_reply_failure(lua_State *L, dfm_ctx_t *ctx, const char *sha) {
    if (!lua_istable(L, -1)) {
        sc_api->reply_errorf(ctx, "ERR Error running script f_%s, %.100s", sha,
                             lua_isstring(L, -1) ? lua_tostring(L, -1) : "execution failure");
        return;
    }
    /* raw reads: a metatable on the error object must not run code here, outside pcall */
    const char *const names[] = {"err", "source", "line"};
    for (int i = 0; i < 3; i++) {
        lua_pushstring(L, names[i]);
        lua_rawget(L, -2 - i);
    }
    const char *err = lua_isstring(L, -3) ? lua_tostring(L, -3) : "ERR unknown error";
    if (lua_isstring(L, -2) && lua_isnumber(L, -1)) {
        lua_pushfstring(L, "%s script: %s, on %s:%d.", err, sha, lua_tostring(L, -2),
                        (int)lua_tointeger(L, -1));
        err = lua_tostring(L, -1);
    }
    sc_api->reply_error(ctx, err);
}

/* Run cached script s with the call's KEYS and ARGV and reply its result. */
static void sc_run(sc_thread_t *t, sc_script_t *s, dfm_ctx_t *ctx, int argc,
                   const dfm_str_t *argv, int nk, int ro) {
    lua_State *L = t->L;
    int base = lua_gettop(L);
    char name[SC_SHA_LEN + 3];
    snprintf(name, sizeof name, "f_%s", s->sha);
    lua_pushcfunction(L, sc_error_handler);
    lua_getfield(L, LUA_REGISTRYINDEX, name);
    sc_set_args(L, "KEYS", argv, 3, 3 + nk);
    sc_set_args(L, "ARGV", argv, 3 + nk, argc);
    sc_run_t run = {.ctx = ctx, .sha = s->sha, .resp = 2, .db = sc_api->db_index(ctx),
                    .call_flags = (ro || (s->flags & SC_FLAG_NO_WRITES)) ? DFM_CALL_NO_WRITES : 0};
    sc_run_t *outer = t->run;
    t->run = &run;
    int rc = lua_pcall(L, 0, 1, base + 1);
    t->run = outer;
    if (rc == 0)
        sc_lua_to_reply(L, ctx, run.resp);
    else
        sc_reply_failure(L, ctx, s->sha);
    lua_settop(L, base);
}

/* The cached script argv[1] names (EVALSHA) or holds (EVAL); NULL after replying. */
static sc_script_t *sc_find_script(sc_thread_t *t, dfm_ctx_t *ctx, const dfm_str_t *arg,
                                   int by_sha) {
    char sha[SC_SHA_LEN + 1], err[512];
    sc_script_t *s;
    if (by_sha) {
        if (arg->len != SC_SHA_LEN) goto noscript;
        for (int i = 0; i < SC_SHA_LEN; i++) {
            char ch = arg->ptr[i];
            sha[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
        }
        sha[SC_SHA_LEN] = '\0';
        if (!(s = sc_cache_find(t, sha))) goto noscript;
    } else {
        sc_sha1_hex(arg->ptr, arg->len, sha);
        s = sc_cache_find(t, sha);
        if (!s && !(s = sc_learn(t, sha, arg->ptr, arg->len, err, sizeof err))) {
            sc_api->reply_error(ctx, err);
            return NULL;
        }
    }
    if (sc_compile(t, s, err, sizeof err) < 0) {
        sc_api->reply_error(ctx, err);
        return NULL;
    }
    return s;
noscript:
    sc_api->reply_error(ctx, "NOSCRIPT No matching script. Please use EVAL.");
    return NULL;
}

static void sc_eval_generic(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int by_sha,
                            int ro) {
    long long nk = sc_numkeys(ctx, argc, argv);
    if (nk < 0) return;
    sc_thread_t *t = sc_thread();
    if (!t->L) {
        sc_api->reply_error(ctx, "ERR scripting engine unavailable");
        return;
    }
    sc_script_t *s = sc_find_script(t, ctx, &argv[1], by_sha);
    if (s) sc_run(t, s, ctx, argc, argv, (int)nk, ro);
}

void sc_cmd_eval(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    sc_eval_generic(ctx, argc, argv, 0, 0);
}

void sc_cmd_evalsha(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    sc_eval_generic(ctx, argc, argv, 1, 0);
}

void sc_cmd_eval_ro(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    sc_eval_generic(ctx, argc, argv, 0, 1);
}

void sc_cmd_evalsha_ro(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    sc_eval_generic(ctx, argc, argv, 1, 1);
}
