/*
 * env.c: a thread's Lua state, sandboxed as Redis 7.0 sandboxes its own: the base, table,
 * string, math and debug libraries without loadfile and dofile (and without os, io and
 * package, which are never opened); print does nothing (the server's output is not the
 * script's); reading an undefined global is an error and the globals are read-only. Scripts
 * run with a proxy environment whose reads fall through to the globals and whose writes fail.
 * math.random and math.randomseed use Redis's rand48 generator, reseeded with 0 before every
 * script, so a script draws the same numbers on every run, as on Redis.
 */
#include <lauxlib.h>
#include <lualib.h>
#include <math.h>
#include <stdint.h>

#include "scripting.h"

/* Lua's allocator on the core's accounted heap. */
static void *sc_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud, (void)osize;
    if (nsize == 0) {
        sc_api->free(ptr);
        return NULL;
    }
    return sc_api->realloc(ptr, nsize);
}

/* ---- rand48 (the drand48 family's generator: x = a*x + c mod 2^48, 31 bits out) ---- */

#define SC_RAND48_MASK ((UINT64_C(1) << 48) - 1)
#define SC_RAND_MAX INT32_MAX

void sc_rand_seed(sc_thread_t *t, int32_t seed) {
    t->rand_state = ((uint64_t)(uint32_t)seed << 16 | 0x330E) & SC_RAND48_MASK;
}

static int32_t sc_rand_next(sc_thread_t *t) {
    t->rand_state = (UINT64_C(0x5DEECE66D) * t->rand_state + 0xB) & SC_RAND48_MASK;
    return (int32_t)(t->rand_state >> 17);
}

/* math.random([m [, n]]): Lua 5.1's contract over rand48. */
static int sc_math_random(lua_State *L) {
    sc_thread_t *t = lua_touserdata(L, lua_upvalueindex(1));
    lua_Number r = (lua_Number)(sc_rand_next(t) % SC_RAND_MAX) / (lua_Number)SC_RAND_MAX;
    int lo = 1, hi;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, r);
        return 1;
    case 1:
        hi = luaL_checkint(L, 1);
        luaL_argcheck(L, 1 <= hi, 1, "interval is empty");
        break;
    case 2:
        lo = luaL_checkint(L, 1);
        hi = luaL_checkint(L, 2);
        luaL_argcheck(L, lo <= hi, 2, "interval is empty");
        break;
    default:
        return luaL_error(L, "wrong number of arguments");
    }
    lua_pushnumber(L, floor(r * ((lua_Number)hi - lo + 1)) + lo);
    return 1;
}

static int sc_math_randomseed(lua_State *L) {
    sc_thread_t *t = lua_touserdata(L, lua_upvalueindex(1));
    sc_rand_seed(t, (int32_t)luaL_checkint(L, 1));
    return 0;
}

/* ---- sandbox ---- */

static int sc_noop(lua_State *L) {
    (void)L;
    return 0;
}

static int sc_global_missing(lua_State *L) {
    const char *name = lua_tostring(L, 2);
    return luaL_error(L, "Script attempted to access nonexistent global variable '%s'",
                      name ? name : "?");
}

static int sc_readonly(lua_State *L) { return luaL_error(L, "Attempt to modify a readonly table"); }

static void sc_open(lua_State *L, lua_CFunction open, const char *name) {
    lua_pushcfunction(L, open);
    lua_pushstring(L, name);
    lua_call(L, 1, 0);
}

static void sc_set_math(lua_State *L, sc_thread_t *t) {
    lua_getglobal(L, "math");
    lua_pushlightuserdata(L, t);
    lua_pushcclosure(L, sc_math_random, 1);
    lua_setfield(L, -2, "random");
    lua_pushlightuserdata(L, t);
    lua_pushcclosure(L, sc_math_randomseed, 1);
    lua_setfield(L, -2, "randomseed");
    lua_pop(L, 1);
}

/* Replace the value on top (an __index: a table or a function) with a metatable that reads
   through it and refuses writes. */
static void sc_guard_meta(lua_State *L) {
    lua_newtable(L);
    lua_insert(L, -2);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, sc_readonly);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
}

/* Globals fail on unknown reads and on writes; scripts see them through a proxy (kept in
   the registry as "sc_env") that is also their _G. */
static void sc_protect(lua_State *L) {
    lua_newtable(L); /* proxy */
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    sc_guard_meta(L);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "sc_env");
    lua_setglobal(L, "_G"); /* pops the proxy */
    lua_pushcfunction(L, sc_global_missing);
    sc_guard_meta(L);
    lua_setmetatable(L, LUA_GLOBALSINDEX);
}

/* A new sandboxed state for thread t. */
lua_State *sc_env_new(sc_thread_t *t) {
    lua_State *L = lua_newstate(sc_lua_alloc, NULL);
    if (!L) return NULL;
    sc_open(L, luaopen_base, "");
    sc_open(L, luaopen_table, LUA_TABLIBNAME);
    sc_open(L, luaopen_string, LUA_STRLIBNAME);
    sc_open(L, luaopen_math, LUA_MATHLIBNAME);
    sc_open(L, luaopen_debug, LUA_DBLIBNAME);
    lua_pushnil(L);
    lua_setglobal(L, "loadfile");
    lua_pushnil(L);
    lua_setglobal(L, "dofile");
    lua_pushcfunction(L, sc_noop);
    lua_setglobal(L, "print");
    sc_set_math(L, t);
    sc_lib_register(L);
    sc_protect(L);
    return L;
}
