/*
 * cjson.c: the `cjson` table Redis 7.0 gives scripts: lua-cjson 2.1.0, the same release Redis
 * bundles, from Debian's liblua5.1-cjson (encode, decode, the encode_* / decode_* settings,
 * new, null, _NAME, _VERSION). Two entry points are wrapped, because Debian's 2.1.0 keeps its
 * output in an int-sized buffer that a big enough result overflows (CVE-2022-24834, fixed in
 * Redis's own copy only):
 *   encode first bounds the size of its result (every string as if each byte were escaped,
 *   array holes as null, with the table's current sparse-array and depth settings) and
 *   refuses one that could pass 1 GiB: "Cannot serialise, output too large".
 *   decode refuses input of 1 GiB or more (its scratch buffer is as long as the input).
 * cjson.new, which makes a fresh table with its own settings, is wrapped the same way. The
 * wrappers re-raise the library's errors with the caller's position, so messages read as on
 * Redis ("user_script:1: Expected value but found T_END at character 1").
 * Runs inside lua_pcall on the script's thread; the library's buffers are its own (malloc),
 * freed when the Lua state closes.
 */
#include <lauxlib.h>
#include <lua-cjson.h>
#include <math.h>
#include <stdint.h>

#include "scripting.h"

#define CJ_MAX_OUT (((size_t)1 << 30) - 4096) /* well below the library's int limits */
#define CJ_MAX_IN ((size_t)1 << 30)

/* The settings the bound needs, and the bound so far. */
typedef struct cj_walk {
    lua_State *L;
    int convert, ratio, safe, max_depth;
    int refused; /* the library will refuse the value: the walk stops, the library says why */
    size_t acc;
} cj_walk_t;

/* Add n bytes; 0 once the bound passes CJ_MAX_OUT. */
static int cj_add(cj_walk_t *w, size_t n) {
    w->acc = n > CJ_MAX_OUT ? CJ_MAX_OUT + 1 : w->acc + n;
    return w->acc <= CJ_MAX_OUT;
}

static int cj_bound_value(cj_walk_t *w, int depth);

/* Array-ness as the library decides it: every key a positive integer (max the largest and
   items their count) and the table not excessively sparse; *stop when the library refuses
   the table as excessively sparse (then nothing below it is encoded). */
static int cj_is_array(cj_walk_t *w, lua_Number *max, int *stop) {
    lua_State *L = w->L;
    lua_Number items = 0;
    *max = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        lua_Number k = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : 0;
        if (!(k >= 1 && floor(k) == k)) {
            lua_pop(L, 1);
            return 0;
        }
        if (k > *max) *max = k;
        items++;
    }
    if (w->ratio > 0 && *max > items * w->ratio && *max > w->safe) {
        *stop = !w->convert;
        return 0;
    }
    return *max > 0;
}

/* Bound the table on top (not popped) at nesting depth; 0 when over the limit or when the
   library refuses the value (w->refused: nothing more is walked, so a table holding itself
   twice costs one path, not 2^depth). */
static int cj_bound_table(cj_walk_t *w, int depth) {
    lua_State *L = w->L;
    if (depth > w->max_depth || !lua_checkstack(L, 4)) { /* the library refuses it */
        w->refused = 1;
        return 0;
    }
    lua_Number max;
    int stop = 0;
    if (cj_is_array(w, &max, &stop)) {
        /* every slot as "null," first, so a huge sparse one is refused at once */
        if (max > (lua_Number)CJ_MAX_OUT || !cj_add(w, 2 + 5 * (size_t)max)) return 0;
        for (size_t i = 1; i <= (size_t)max; i++) {
            lua_rawgeti(L, -1, (int)i);
            int ok = lua_isnil(L, -1) || cj_bound_value(w, depth);
            lua_pop(L, 1);
            if (!ok) return 0;
        }
        return 1;
    }
    if (stop) {
        w->refused = 1;
        return 0;
    }
    if (!cj_add(w, 2)) return 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        int kt = lua_type(L, -2);
        if (kt != LUA_TSTRING && kt != LUA_TNUMBER) {
            lua_pop(L, 2); /* the library refuses the key */
            w->refused = 1;
            return 0;
        }
        size_t len = kt == LUA_TSTRING ? lua_objlen(L, -2) : 0;
        size_t key = kt == LUA_TSTRING ? len * 6 + 2 : 34; /* quoted; a number's text is < 32 */
        int ok = len <= CJ_MAX_OUT && cj_add(w, key + 2) && cj_bound_value(w, depth);
        lua_pop(L, 1);
        if (!ok) {
            lua_pop(L, 1);
            return 0;
        }
    }
    return 1;
}

/* Bound the value on top (not popped), inside tables nested depth deep. */
static int cj_bound_value(cj_walk_t *w, int depth) {
    switch (lua_type(w->L, -1)) {
    case LUA_TSTRING: {
        size_t n = lua_objlen(w->L, -1);
        return n <= CJ_MAX_OUT && cj_add(w, n * 6 + 2);
    }
    case LUA_TNUMBER: return cj_add(w, 32);
    case LUA_TTABLE: return cj_bound_table(w, depth + 1);
    default: return cj_add(w, 5); /* true, false, null; the library refuses other types */
    }
}

/* Call the library function at upvalue 1 with this call's arguments. An error it raises is
   raised again from here, prefixed with the caller's position (the library's own prefix
   names this C wrapper, i.e. nothing). */
static int cj_forward(lua_State *L) {
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    int rc = lua_pcall(L, n, LUA_MULTRET, 0);
    if (rc == 0) return lua_gettop(L);
    if (rc == LUA_ERRRUN && lua_type(L, -1) == LUA_TSTRING) {
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

/* Call the setting function at upvalue idx with no arguments (a read), leaving nres results. */
static void cj_setting(lua_State *L, int idx, int nres) {
    lua_pushvalue(L, lua_upvalueindex(idx));
    lua_call(L, 0, nres);
}

/* encode(v): upvalues: the library's encode, encode_sparse_array, encode_max_depth. */
static int cj_encode(lua_State *L) {
    luaL_argcheck(L, lua_gettop(L) == 1, 1, "expected 1 argument");
    cj_walk_t w = {.L = L};
    cj_setting(L, 2, 3);
    w.convert = lua_toboolean(L, -3);
    w.ratio = (int)lua_tointeger(L, -2);
    w.safe = (int)lua_tointeger(L, -1);
    cj_setting(L, 3, 1);
    w.max_depth = (int)lua_tointeger(L, -1);
    lua_settop(L, 1);
    if (!cj_bound_value(&w, 0) && !w.refused)
        return luaL_error(L, "Cannot serialise, output too large");
    lua_settop(L, 1);
    return cj_forward(L);
}

/* decode(s): upvalue: the library's decode. */
static int cj_decode(lua_State *L) {
    size_t n;
    luaL_argcheck(L, lua_gettop(L) == 1, 1, "expected 1 argument");
    luaL_checklstring(L, 1, &n);
    if (n >= CJ_MAX_IN) return luaL_error(L, "JSON input too large");
    return cj_forward(L);
}

static void cj_guard(lua_State *L);

/* new(): upvalue: the library's new; the fresh table is guarded too. */
static int cj_new(lua_State *L) {
    lua_settop(L, 0);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_call(L, 0, 1);
    cj_guard(L);
    return 1;
}

/* Replace encode, decode and new of the cjson table on top with their wrappers. */
static void cj_guard(lua_State *L) {
    lua_getfield(L, -1, "encode");
    lua_getfield(L, -2, "encode_sparse_array");
    lua_getfield(L, -3, "encode_max_depth");
    lua_pushcclosure(L, cj_encode, 3);
    lua_setfield(L, -2, "encode");
    lua_getfield(L, -1, "decode");
    lua_pushcclosure(L, cj_decode, 1);
    lua_setfield(L, -2, "decode");
    lua_getfield(L, -1, "new");
    lua_pushcclosure(L, cj_new, 1);
    lua_setfield(L, -2, "new");
}

void sc_open_cjson(lua_State *L) {
    lua_pushcfunction(L, luaopen_cjson);
    lua_call(L, 0, 1);
    cj_guard(L);
    lua_setglobal(L, "cjson");
}
