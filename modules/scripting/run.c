/*
 * run.c: one run of a script (EVAL) or a function (FCALL) on its thread: the Lua call under
 * the time limit's hook (kill.c) and the memory cap (env.c), then its reply: the value by
 * Redis's conversion rules (conv.c), or the error in Redis 7.0's form.
 */
#include <lauxlib.h>
#include <string.h>

#include "scripting.h"

/* lua_pcall's message handler: the error becomes {err = ..., source = ..., line = ...}, the
   place being the innermost Lua function (a C function such as redis.call is skipped). */
int sc_error_handler(lua_State *L) {
    sc_thread()->mem_capped = 0; /* the error must be reported, near the limit too */
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
   "<err> script: <sha or function>, on <source>:<line>." */
static void sc_reply_failure(lua_State *L, dfm_ctx_t *ctx, const sc_run_t *run) {
    if (!lua_istable(L, -1)) {
        sc_api->reply_errorf(ctx, "ERR Error running script %s, %.100s", run->name,
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
        lua_pushfstring(L, "%s script: %s, on %s:%d.", err, run->where, lua_tostring(L, -2),
                        (int)lua_tointeger(L, -1));
        err = lua_tostring(L, -1);
    }
    sc_api->reply_error(ctx, err);
}

void sc_exec(sc_thread_t *t, lua_State *L, int nargs, sc_run_t *run) {
    int base = lua_gettop(L) - nargs - 1;
    lua_pushcfunction(L, sc_error_handler);
    lua_insert(L, base + 1);
    run->resp = 2;
    run->db = sc_api->db_index(run->ctx);
    sc_run_t *outer = t->run;
    t->run = run;
    sc_kill_begin(t, L);
    sc_mem_cap(t, L, 1);
    int rc = lua_pcall(L, nargs, 1, base + 1);
    sc_mem_cap(t, L, 0);
    sc_kill_end(t, L);
    t->run = outer;
    if (t->pending) { /* a reply Lua had no memory to convert */
        sc_api->free(t->pending);
        t->pending = NULL;
    }
    if (rc == LUA_ERRMEM) lua_gc(L, LUA_GCCOLLECT, 0); /* the garbage that hit the limit */
    if (rc == 0)
        sc_lua_to_reply(L, run->ctx, run->resp);
    else
        sc_reply_failure(L, run->ctx, run);
    lua_settop(L, base);
}
