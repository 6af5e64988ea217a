/*
 * env.c: a thread's Lua state, sandboxed as Redis 7.0 sandboxes its own: the base, table,
 * string and math libraries without loadfile, dofile, getfenv, setfenv and newproxy (and
 * without debug, os, io and package), plus Redis's extra libraries cjson (cjson.c), cmsgpack
 * (cmsgpack.c), bit (LuaBitOp, Debian's liblua5.1-bitop) and struct (struct.c); no print
 * (as Redis 7.0); reading an undefined global is an
 * error, and the globals and every table reachable from them (redis, string, cjson, ..., the
 * strings' metatable) are read-only, so no script can change what a later one (perhaps
 * another user's) runs. Scripts run with a proxy
 * environment whose reads fall through to the globals and whose writes fail.
 * math.random and math.randomseed use Redis's rand48 generator, reseeded with 0 before every
 * script, so a script draws the same numbers on every run, as on Redis. The state's memory is
 * capped while a script runs (lua-memory-limit, sc_lua_alloc).
 */
#include <lauxlib.h>
#include <lua-bitop.h>
#include <lualib.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>

#include "scripting.h"

int64_t sc_lua_mem_limit = 512 << 20;

/* Lua's allocator on the core's accounted heap. It counts the state's bytes (Lua 5.1 passes
   a block's old size) and, while the state runs a script or compiles one (t->mem_capped),
   refuses to grow past lua-memory-limit: Lua then raises "not enough memory". */
static void *sc_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    sc_thread_t *t = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        sc_api->free(ptr);
        t->lua_mem -= old;
        atomic_store_explicit(&sc_pub_mem[t->id], t->lua_mem, memory_order_relaxed);
        return NULL;
    }
    if (nsize > old && t->mem_capped && sc_lua_mem_limit > 0 &&
        t->lua_mem + (nsize - old) > (size_t)sc_lua_mem_limit)
        return NULL;
    void *p = sc_api->realloc(ptr, nsize);
    t->lua_mem += nsize - old;
    atomic_store_explicit(&sc_pub_mem[t->id], t->lua_mem, memory_order_relaxed);
    return p;
}

void sc_mem_cap(sc_thread_t *t, lua_State *L, int on) {
    if (on && sc_lua_mem_limit > 0 && t->lua_mem > (size_t)sc_lua_mem_limit / 2)
        lua_gc(L, LUA_GCCOLLECT, 0); /* earlier scripts' garbage must not count */
    t->mem_capped = on;
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

/* The table at idx fails on unknown reads and on writes. */
static void sc_protect_table(lua_State *L, int idx) {
    if (idx < 0 && idx > LUA_REGISTRYINDEX) idx = lua_gettop(L) + idx + 1;
    lua_pushcfunction(L, sc_global_missing);
    sc_guard_meta(L);
    lua_setmetatable(L, idx);
}

/* ---- read-only tables ----
   Stock Lua 5.1 cannot mark a table read-only, so every table reachable from the globals is
   replaced by an empty proxy whose metatable reads through to it (__index) and refuses writes
   (__newindex), and hides itself (__metatable). The registry's "sc_ro" holds every read-only
   table (proxies, and the tables guarded in place: the globals, the load-time API) as keys;
   rawset, setmetatable and table.insert/remove/sort refuse them, and pairs/next walk a
   proxy's backing table, so a script sees the libraries' entries as on Redis. Scripts get no
   debug library, getfenv, setfenv or newproxy (Redis 7.0 has none of them), which would reach
   the backing tables or the registry. */

static int sc_refuse(lua_State *L) {
    lua_pushliteral(L, "Attempt to modify a readonly table");
    return lua_error(L);
}

/* Mark the table at idx read-only. */
static void sc_ro_mark(lua_State *L, int idx) {
    if (idx < 0 && idx > LUA_REGISTRYINDEX) idx = lua_gettop(L) + idx + 1;
    lua_getfield(L, LUA_REGISTRYINDEX, "sc_ro");
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* Whether the value at idx (>0) is a read-only table. */
static int sc_ro_is(lua_State *L, int idx) {
    if (lua_type(L, idx) != LUA_TTABLE) return 0;
    lua_getfield(L, LUA_REGISTRYINDEX, "sc_ro");
    lua_pushvalue(L, idx);
    lua_rawget(L, -2);
    int ro = lua_toboolean(L, -1);
    lua_pop(L, 2);
    return ro;
}

/* rawset(t, k, v), refusing read-only tables (Redis's text, without a position). */
static int sc_rawset(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    if (sc_ro_is(L, 1)) return sc_refuse(L);
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

/* setmetatable(t, mt): Lua 5.1's contract, refusing read-only tables. */
static int sc_setmetatable(lua_State *L) {
    int type = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argcheck(L, type == LUA_TNIL || type == LUA_TTABLE, 2, "nil or table expected");
    if (sc_ro_is(L, 1)) return sc_refuse(L);
    if (luaL_getmetafield(L, 1, "__metatable"))
        return luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

/* A table function that writes its first argument raw (upvalue 1), refusing read-only ones. */
static int sc_table_writer(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    if (sc_ro_is(L, 1)) return sc_refuse(L);
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* next(t [, k]) over a proxy walks its backing table. */
static int sc_next(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (sc_ro_is(L, 1) && lua_getmetatable(L, 1)) {
        lua_getfield(L, -1, "__index");
        if (lua_istable(L, -1)) lua_replace(L, 1);
        else lua_pop(L, 1);
        lua_pop(L, 1);
    }
    if (lua_next(L, 1)) return 2;
    lua_pushnil(L);
    return 1;
}

/* pairs(t): sc_next (upvalue 1), t, nil. */
static int sc_pairs(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

static void sc_ro_proxy(lua_State *L, int memo);

/* Replace every table value of the table at t (>0 or a pseudo-index) with its proxy. */
static void sc_ro_fields(lua_State *L, int t, int memo) {
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (lua_istable(L, -1)) {
            sc_ro_proxy(L, memo);
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, t); /* an existing key: next() may go on */
        } else {
            lua_pop(L, 1);
        }
    }
}

/* Replace the table on top with its read-only proxy, made once per table (memo at index
   memo: table -> proxy, proxies -> themselves); its table fields are proxied first, in
   place, so the whole graph below it is read-only. */
static void sc_ro_proxy(lua_State *L, int memo) {
    lua_pushvalue(L, -1);
    lua_rawget(L, memo);
    if (!lua_isnil(L, -1)) {
        lua_replace(L, -2);
        return;
    }
    lua_pop(L, 1);
    int backing = lua_gettop(L);
    lua_newtable(L); /* the proxy */
    lua_pushvalue(L, backing);
    lua_pushvalue(L, -2);
    lua_rawset(L, memo);
    lua_pushvalue(L, -1);
    lua_pushvalue(L, -1);
    lua_rawset(L, memo);
    sc_ro_fields(L, backing, memo);
    lua_pushvalue(L, backing);
    sc_guard_meta(L);
    lua_setmetatable(L, -2);
    sc_ro_mark(L, -1);
    lua_replace(L, backing);
}

/* Every table reachable from the globals and the string metatable becomes read-only; the
   globals fail on unknown reads and on writes, and scripts see them through a proxy (kept in
   the registry as "sc_env") that is also their _G. */
static void sc_protect(lua_State *L) {
    static const char *const hidden[] = {"debug", "getfenv", "setfenv", "newproxy"};
    for (size_t i = 0; i < sizeof hidden / sizeof *hidden; i++) {
        lua_pushnil(L);
        lua_setglobal(L, hidden[i]);
    }
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "sc_ro");
    lua_pushcfunction(L, sc_next);
    lua_pushvalue(L, -1);
    lua_setglobal(L, "next");
    lua_pushcclosure(L, sc_pairs, 1);
    lua_setglobal(L, "pairs");
    lua_pushcfunction(L, sc_rawset);
    lua_setglobal(L, "rawset");
    lua_pushcfunction(L, sc_setmetatable);
    lua_setglobal(L, "setmetatable");
    static const char *const writers[] = {"insert", "remove", "sort"};
    lua_getglobal(L, "table");
    for (size_t i = 0; i < sizeof writers / sizeof *writers; i++) {
        lua_getfield(L, -1, writers[i]);
        lua_pushcclosure(L, sc_table_writer, 1);
        lua_setfield(L, -2, writers[i]);
    }
    lua_pop(L, 1);

    lua_newtable(L); /* memo */
    int memo = lua_gettop(L);
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_pushvalue(L, -1);
    lua_rawset(L, memo); /* the globals are guarded in place */
    sc_ro_fields(L, LUA_GLOBALSINDEX, memo);
    lua_pushliteral(L, ""); /* the strings' metatable: methods and itself read-only */
    lua_getmetatable(L, -1);
    lua_getfield(L, -1, "__index");
    sc_ro_proxy(L, memo);
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, -1);
    sc_ro_proxy(L, memo);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 3); /* the metatable, "" and the memo */

    lua_newtable(L); /* proxy */
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    sc_guard_meta(L);
    lua_setmetatable(L, -2);
    sc_ro_mark(L, -1);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "sc_env");
    lua_setfield(L, LUA_GLOBALSINDEX, "_G"); /* pops the proxy */
    sc_protect_table(L, LUA_GLOBALSINDEX);
    sc_ro_mark(L, LUA_GLOBALSINDEX);
}

void sc_env_load_api(lua_State *L, lua_CFunction register_function) {
    lua_newtable(L);
    sc_lib_push_load_api(L, register_function);
    sc_protect_table(L, -1);
    lua_newtable(L); /* its proxy: a guard in place would let existing entries be replaced */
    lua_insert(L, -2);
    sc_guard_meta(L);
    lua_setmetatable(L, -2);
    sc_ro_mark(L, -1);
    lua_setfield(L, -2, "redis");
    sc_protect_table(L, -1);
    sc_ro_mark(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "sc_load_api");
}

void sc_env_load_mode(lua_State *L, int on) {
    lua_getfield(L, LUA_REGISTRYINDEX, "sc_env");
    lua_getmetatable(L, -1);
    if (on)
        lua_getfield(L, LUA_REGISTRYINDEX, "sc_load_api");
    else
        lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 2);
}

/* A new sandboxed state for thread t. */
lua_State *sc_env_new(sc_thread_t *t) {
    lua_State *L = lua_newstate(sc_lua_alloc, t);
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
    lua_pushnil(L);
    lua_setglobal(L, "print"); /* Redis 7.0 has none: reading it is an error */
    sc_set_math(L, t);
    sc_lib_register(L);
    sc_open_cjson(L);
    sc_open_cmsgpack(L);
    sc_open(L, luaopen_bit, "bit");
    sc_open_struct(L);
    sc_protect(L);
    return L;
}
