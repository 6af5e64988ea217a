/*
 * eval.c: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO.
 *
 * The core routes these by their declared KEYS (numkeys, the key spec), or without keys by the
 * script or its sha (sc_eval_route), so the handler runs on the thread owning that shard and
 * the whole script is one single-shard command: atomic like any other. Declared keys on
 * several shards never get here: the core answers CROSSSLOT. A bad numkeys finds no keys and
 * no route; the handler then runs keyless on the client's thread and replies Redis's error.
 */
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "scripting.h"

long long sc_numkeys(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, const char *not_int) {
    long long nk;
    const char *err = NULL;
    if (sc_api->str_to_ll(argv[2].ptr, argv[2].len, &nk) < 0)
        err = not_int;
    else if (nk > argc - 3)
        err = "ERR Number of keys can't be greater than number of args";
    else if (nk < 0)
        err = "ERR Number of keys can't be negative";
    if (!err) return nk;
    sc_api->reply_error(ctx, err);
    return -1;
}

int sc_eval_route(int argc, const dfm_str_t *argv, int *idx, int max) {
    long long nk;
    if (argc < 3 || sc_api->str_to_ll(argv[2].ptr, argv[2].len, &nk) < 0 || nk != 0 || max < 1)
        return -1;
    idx[0] = 1; /* no keys: the script (or its sha) decides the shard */
    return 1;
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

/* Run cached script s with the call's KEYS and ARGV and reply its result. */
static void sc_run(sc_thread_t *t, sc_script_t *s, dfm_ctx_t *ctx, int argc,
                   const dfm_str_t *argv, int nk, int ro) {
    lua_State *L = t->L;
    char name[SC_SHA_LEN + 3];
    snprintf(name, sizeof name, "f_%s", s->sha);
    lua_getfield(L, LUA_REGISTRYINDEX, name);
    sc_set_args(L, "KEYS", argv, 3, 3 + nk);
    sc_set_args(L, "ARGV", argv, 3 + nk, argc);
    sc_run_t run = {.ctx = ctx, .where = s->sha, .name = name, .argc = argc, .argv = argv,
                    .call_flags = (ro || (s->flags & SC_FLAG_NO_WRITES)) ? DFM_CALL_NO_WRITES : 0};
    sc_exec(t, L, 0, &run);
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
    long long nk = sc_numkeys(ctx, argc, argv, "ERR value is not an integer or out of range");
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
