/*
 * conv.c: conversions between RESP replies and Lua values, Redis 7.0's rules.
 *
 * RESP -> Lua (what redis.call returns): integer -> number, bulk -> string, null bulk or
 * null array -> false, array -> table, status -> {ok = s}, error -> {err = s}; RESP3 (after
 * redis.setresp(3)): map -> {map = {k = v}}, set -> {set = {m = true}}, null -> nil, boolean
 * -> boolean, double -> {double = n}, big number -> {big_number = s}, verbatim ->
 * {verbatim_string = {format = f, string = s}}.
 *
 * Lua -> reply (what a script returns): string -> bulk, number -> integer (truncated),
 * boolean -> 1 / null (RESP2 script) or a boolean (RESP3 script), table with err / ok /
 * double / big_number / map / set fields -> that reply, other tables -> the array of
 * t[1], t[2] ... up to the first nil, anything else -> null.
 *
 * Both run on the script's thread with its Lua state.
 */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "scripting.h"

/* ---- RESP -> Lua ---- */

/* The line after the type byte at p: its length, or -1 if no CRLF before e. */
static long sc_line(const char *p, const char *e) {
    const char *cr = memchr(p, '\r', (size_t)(e - p));
    return cr && cr + 1 < e && cr[1] == '\n' ? (long)(cr - p) : -1;
}

static int sc_line_ll(const char *p, long n, long long *out) {
    return sc_api->str_to_ll(p, (size_t)n, out);
}

static long sc_resp_aggregate(lua_State *L, char type, long long n, const char *p,
                              const char *e);

/* Push {err = the text as it came}. */
static void sc_push_err_raw(lua_State *L, const char *p, size_t n) {
    lua_newtable(L);
    lua_pushlstring(L, p, n);
    lua_setfield(L, -2, "err");
}

/* A string-like payload ($ = ! verbatim) of n bytes at p. Pushes it; bytes used or 0. */
static size_t sc_resp_blob(lua_State *L, char type, long long n, const char *p, const char *e) {
    if (n < 0 || e - p < n + 2) return 0;
    if (type == '$') {
        lua_pushlstring(L, p, (size_t)n);
    } else if (type == '!') {
        sc_push_err_raw(L, p, (size_t)n);
    } else { /* '=' verbatim: "fmt:text" */
        if (n < 4) return 0;
        lua_newtable(L);
        lua_newtable(L);
        lua_pushlstring(L, p, 3);
        lua_setfield(L, -2, "format");
        lua_pushlstring(L, p + 4, (size_t)n - 4);
        lua_setfield(L, -2, "string");
        lua_setfield(L, -2, "verbatim_string");
    }
    return (size_t)n + 2;
}

/* A one-line value (+ - : , # _ ( ) whose text is p[0..n). */
static int sc_resp_simple(lua_State *L, char type, const char *p, long n) {
    long long ll;
    switch (type) {
    case '+':
        lua_newtable(L);
        lua_pushlstring(L, p, (size_t)n);
        lua_setfield(L, -2, "ok");
        return 1;
    case '-':
        sc_push_err_raw(L, p, (size_t)n);
        return 1;
    case ':':
        if (sc_line_ll(p, n, &ll) < 0) return 0;
        lua_pushnumber(L, (lua_Number)ll);
        return 1;
    case ',':
        lua_newtable(L);
        lua_pushlstring(L, p, (size_t)n);
        lua_pushnumber(L, strtod(lua_tostring(L, -1), NULL));
        lua_remove(L, -2);
        lua_setfield(L, -2, "double");
        return 1;
    case '#':
        lua_pushboolean(L, n == 1 && p[0] == 't');
        return 1;
    case '_':
        lua_pushnil(L);
        return 1;
    case '(':
        lua_newtable(L);
        lua_pushlstring(L, p, (size_t)n);
        lua_setfield(L, -2, "big_number");
        return 1;
    }
    return 0;
}

size_t sc_resp_to_lua(lua_State *L, const char *p, const char *e) {
    if (e - p < 3 || !lua_checkstack(L, 8)) return 0;
    char type = p[0];
    long n = sc_line(p + 1, e);
    if (n < 0) return 0;
    size_t head = (size_t)n + 3;
    if (strchr("$!=*%~>|", type)) {
        long long count;
        if (sc_line_ll(p + 1, n, &count) < 0) return 0;
        if (count < 0 && (type == '$' || type == '*')) {
            lua_pushboolean(L, 0);
            return head;
        }
        if (strchr("$!=", type)) {
            size_t used = sc_resp_blob(L, type, count, p + head, e);
            return used ? head + used : 0;
        }
        long used = sc_resp_aggregate(L, type, count, p + head, e);
        return used >= 0 ? head + (size_t)used : 0;
    }
    return sc_resp_simple(L, type, p + 1, n) ? head : 0;
}

/* The n elements (pairs for maps and attributes) of an aggregate at p, as one table pushed.
   Returns the bytes used, or -1 if malformed (nothing pushed). */
static long sc_resp_aggregate(lua_State *L, char type, long long n, const char *p,
                              const char *e) {
    const char *start = p;
    if (n < 0) return -1;
    lua_newtable(L);
    long long items = (type == '%' || type == '|') ? n * 2 : n;
    for (long long i = 0; i < items; i++) {
        size_t used = sc_resp_to_lua(L, p, e);
        if (!used) {
            lua_settop(L, lua_gettop(L) - 1 - ((type == '%' || type == '|') && (i & 1)));
            return -1;
        }
        p += used;
        if (type == '%' || type == '|') {
            if (i & 1) lua_settable(L, -3);
        } else if (type == '~') {
            lua_pushboolean(L, 1);
            lua_settable(L, -3);
        } else {
            lua_rawseti(L, -2, (int)i + 1);
        }
    }
    if (type == '|') { /* attributes carry no value: the reply follows */
        lua_pop(L, 1);
        size_t used = sc_resp_to_lua(L, p, e);
        return used ? (long)(p - start) + (long)used : -1;
    }
    if (type == '%' || type == '~') {
        lua_newtable(L);
        lua_insert(L, -2);
        lua_setfield(L, -2, type == '%' ? "map" : "set");
    }
    return (long)(p - start);
}

/* ---- Lua -> reply ---- */

static void sc_reply_value(lua_State *L, dfm_ctx_t *ctx, int resp);

/* A status or error text: CR/LF become spaces (one line on the wire). */
static void sc_reply_line(lua_State *L, dfm_ctx_t *ctx, int error) {
    size_t n;
    const char *s = lua_tolstring(L, -1, &n);
    char *copy = sc_api->alloc(n + 2);
    copy[0] = '-';
    for (size_t i = 0; i < n; i++) copy[i + 1] = (s[i] == '\r' || s[i] == '\n') ? ' ' : s[i];
    copy[n + 1] = '\0';
    if (error)
        sc_api->reply_error(ctx, copy + 1);
    else
        sc_api->reply_simple(ctx, copy + 1);
    sc_api->free(copy);
}

/* t[field] of the table on top if it has that type: pushed, 1; else 0 (nothing pushed). */
static int sc_field(lua_State *L, const char *field, int type) {
    lua_pushstring(L, field);
    lua_rawget(L, -2);
    if (lua_type(L, -1) == type) return 1;
    lua_pop(L, 1);
    return 0;
}

/* The map or set table on top: count its pairs, then reply them. */
static void sc_reply_pairs(lua_State *L, dfm_ctx_t *ctx, int resp, int is_map) {
    long n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        n++;
        lua_pop(L, 1);
    }
    if (is_map)
        sc_api->reply_map(ctx, n);
    else
        sc_api->reply_set(ctx, n);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        sc_reply_value(L, ctx, resp); /* the key's copy */
        if (is_map)
            sc_reply_value(L, ctx, resp);
        else
            lua_pop(L, 1);
    }
}

/* The array part of the table on top, up to the first nil. */
static void sc_reply_array(lua_State *L, dfm_ctx_t *ctx, int resp) {
    long n = 0;
    for (;;) {
        lua_rawgeti(L, -1, (int)n + 1);
        int nil = lua_isnil(L, -1);
        lua_pop(L, 1);
        if (nil) break;
        n++;
    }
    sc_api->reply_array(ctx, n);
    for (long i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, (int)i);
        sc_reply_value(L, ctx, resp);
    }
}

static void sc_reply_table(lua_State *L, dfm_ctx_t *ctx, int resp) {
    if (sc_field(L, "err", LUA_TSTRING)) {
        sc_reply_line(L, ctx, 1);
    } else if (sc_field(L, "ok", LUA_TSTRING)) {
        sc_reply_line(L, ctx, 0);
    } else if (sc_field(L, "double", LUA_TNUMBER)) {
        sc_api->reply_double(ctx, lua_tonumber(L, -1));
    } else if (sc_field(L, "big_number", LUA_TSTRING)) {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        sc_api->reply_bulk(ctx, s, n);
    } else if (sc_field(L, "map", LUA_TTABLE)) {
        sc_reply_pairs(L, ctx, resp, 1);
    } else if (sc_field(L, "set", LUA_TTABLE)) {
        sc_reply_pairs(L, ctx, resp, 0);
    } else {
        sc_reply_array(L, ctx, resp);
        return;
    }
    lua_pop(L, 1);
}

/* Reply the value on top of the stack and pop it. */
static void sc_reply_value(lua_State *L, dfm_ctx_t *ctx, int resp) {
    if (!lua_checkstack(L, 4)) {
        sc_api->reply_error(ctx, "ERR reached lua stack limit");
        lua_pop(L, 1);
        return;
    }
    size_t n;
    const char *s;
    switch (lua_type(L, -1)) {
    case LUA_TSTRING:
        s = lua_tolstring(L, -1, &n);
        sc_api->reply_bulk(ctx, s, n);
        break;
    case LUA_TBOOLEAN:
        if (resp == 3)
            sc_api->reply_bool(ctx, lua_toboolean(L, -1));
        else if (lua_toboolean(L, -1))
            sc_api->reply_int(ctx, 1);
        else
            sc_api->reply_null(ctx);
        break;
    case LUA_TNUMBER:
        sc_api->reply_int(ctx, (long long)lua_tonumber(L, -1));
        break;
    case LUA_TTABLE:
        sc_reply_table(L, ctx, resp);
        break;
    default:
        sc_api->reply_null(ctx);
    }
    lua_pop(L, 1);
}

void sc_lua_to_reply(lua_State *L, dfm_ctx_t *ctx, int script_resp) {
    sc_reply_value(L, ctx, script_resp);
}
