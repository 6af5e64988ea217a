/*
 * cmsgpack.c: the `cmsgpack` table Redis 7.0 gives scripts (lua-cmsgpack 0.4.0's interface):
 * pack(v1, ...) -> the MessagePack encodings of its arguments, concatenated; unpack(s) -> every
 * value in s; unpack_one(s [, offset]) and unpack_limit(s, limit [, offset]) -> the next
 * offset (0-based, -1 at the end) and the values read. Written here from the MessagePack
 * specification, with the choices Redis makes where the format leaves room: integral numbers
 * take the smallest integer form, other numbers a float32 when it holds them exactly; tables
 * whose keys are exactly 1..n are arrays, other tables maps; tables nested 16 deep, functions
 * and userdata encode as nil; bin and ext types do not decode ("Bad data format in input.").
 * Runs inside lua_pcall on the script's thread. The output buffer is a Lua userdata, so an
 * error raised midway (a memory cap, a stack limit) leaks nothing.
 */
#include <lauxlib.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "scripting.h"

#define MP_MAX_NESTING 16

/* ---- encoding ---- */

/* The output: a userdata block at stack index slot, replaced by a bigger one as it grows. */
typedef struct mp_out {
    lua_State *L;
    int slot;
    unsigned char *b;
    size_t len, cap;
} mp_out_t;

static void mp_reserve(mp_out_t *o, size_t n) {
    if (o->cap - o->len >= n) return;
    if (n > SIZE_MAX / 4 - o->len) luaL_error(o->L, "MessagePack output too large");
    size_t cap = o->cap * 2 > o->len + n ? o->cap * 2 : o->len + n;
    unsigned char *nb = lua_newuserdata(o->L, cap);
    memcpy(nb, o->b, o->len);
    lua_replace(o->L, o->slot);
    o->b = nb;
    o->cap = cap;
}

static void mp_put(mp_out_t *o, const void *p, size_t n) {
    mp_reserve(o, n);
    memcpy(o->b + o->len, p, n);
    o->len += n;
}

/* A type byte followed by the n low bytes of v, big-endian. */
static void mp_put_be(mp_out_t *o, unsigned char type, uint64_t v, int n) {
    unsigned char b[9];
    b[0] = type;
    for (int i = n; i >= 1; i--, v >>= 8) b[i] = (unsigned char)(v & 0xff);
    mp_put(o, b, (size_t)n + 1);
}

static void mp_put_int(mp_out_t *o, int64_t n) {
    if (n >= 0) {
        if (n <= 127) mp_put_be(o, (unsigned char)n, 0, 0);
        else if (n <= 0xff) mp_put_be(o, 0xcc, (uint64_t)n, 1);
        else if (n <= 0xffff) mp_put_be(o, 0xcd, (uint64_t)n, 2);
        else if (n <= 0xffffffffLL) mp_put_be(o, 0xce, (uint64_t)n, 4);
        else mp_put_be(o, 0xcf, (uint64_t)n, 8);
    } else {
        if (n >= -32) mp_put_be(o, (unsigned char)(n & 0xff), 0, 0);
        else if (n >= -128) mp_put_be(o, 0xd0, (uint64_t)n, 1);
        else if (n >= -32768) mp_put_be(o, 0xd1, (uint64_t)n, 2);
        else if (n >= INT32_MIN) mp_put_be(o, 0xd2, (uint64_t)n, 4);
        else mp_put_be(o, 0xd3, (uint64_t)n, 8);
    }
}

static void mp_put_number(mp_out_t *o, lua_Number d) {
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == (lua_Number)(int64_t)d) {
        mp_put_int(o, (int64_t)d);
        return;
    }
    float f = (float)d;
    if ((double)f == d) { /* holds it exactly (infinities too; NaN never) */
        uint32_t u;
        memcpy(&u, &f, sizeof u);
        mp_put_be(o, 0xca, u, 4);
    } else {
        uint64_t u;
        memcpy(&u, &d, sizeof u);
        mp_put_be(o, 0xcb, u, 8);
    }
}

static void mp_put_string(mp_out_t *o, const char *s, size_t n) {
    if (n < 32) mp_put_be(o, (unsigned char)(0xa0 | n), 0, 0);
    else if (n <= 0xff) mp_put_be(o, 0xd9, n, 1);
    else if (n <= 0xffff) mp_put_be(o, 0xda, n, 2);
    else if (n <= 0xffffffffu) mp_put_be(o, 0xdb, n, 4);
    else luaL_error(o->L, "MessagePack string too long");
    mp_put(o, s, n);
}

/* A container header: the fix form (fix | n) below 16, else the 16- or 32-bit form. */
static void mp_put_header(mp_out_t *o, unsigned char fix, unsigned char b16, size_t n) {
    if (n > 0xffffffffu) luaL_error(o->L, "MessagePack table too big");
    if (n < 16) mp_put_be(o, (unsigned char)(fix | n), 0, 0);
    else if (n <= 0xffff) mp_put_be(o, b16, n, 2);
    else mp_put_be(o, (unsigned char)(b16 + 1), n, 4);
}

/* Whether the table on top has exactly the keys 1..n (an empty one too). */
static int mp_is_array(lua_State *L) {
    lua_Number max = 0, count = 0;
    luaL_checkstack(L, 2, "in function table_is_an_array");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        lua_Number k = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : 0;
        if (!(k > 0 && k <= INT_MAX && k == floor(k))) {
            lua_pop(L, 1);
            return 0;
        }
        if (k > max) max = k;
        count++;
    }
    return max == count;
}

static void mp_encode(mp_out_t *o, int level);

static void mp_encode_table(mp_out_t *o, int level) {
    lua_State *L = o->L;
    if (mp_is_array(L)) {
        size_t n = lua_objlen(L, -1);
        mp_put_header(o, 0x90, 0xdc, n);
        luaL_checkstack(L, 1, "in function mp_encode_lua_table_as_array");
        for (size_t i = 1; i <= n; i++) {
            lua_rawgeti(L, -1, (int)i);
            mp_encode(o, level + 1);
        }
        return;
    }
    size_t n = 0;
    luaL_checkstack(L, 3, "in function mp_encode_lua_table_as_map");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        n++;
    }
    mp_put_header(o, 0x80, 0xde, n);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        mp_encode(o, level + 1); /* the key's copy */
        mp_encode(o, level + 1); /* the value */
    }
}

/* Append the encoding of the value on top, and pop it. */
static void mp_encode(mp_out_t *o, int level) {
    lua_State *L = o->L;
    int type = lua_type(L, -1);
    if (type == LUA_TTABLE && level == MP_MAX_NESTING) type = LUA_TNIL;
    switch (type) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        mp_put_string(o, s, n);
        break;
    }
    case LUA_TBOOLEAN: mp_put_be(o, lua_toboolean(L, -1) ? 0xc3 : 0xc2, 0, 0); break;
    case LUA_TNUMBER: mp_put_number(o, lua_tonumber(L, -1)); break;
    case LUA_TTABLE: mp_encode_table(o, level); break;
    default: mp_put_be(o, 0xc0, 0, 0); break;
    }
    lua_pop(L, 1);
}

static int mp_pack(lua_State *L) {
    int n = lua_gettop(L);
    if (n == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
    luaL_checkstack(L, 4, "in function mp_pack");
    mp_out_t o = {.L = L, .slot = n + 1, .cap = 64};
    o.b = lua_newuserdata(L, o.cap);
    for (int i = 1; i <= n; i++) {
        lua_pushvalue(L, i);
        mp_encode(&o, 0);
    }
    lua_pushlstring(L, (const char *)o.b, o.len);
    return 1;
}

/* ---- decoding ---- */

enum { MP_OK, MP_EOF, MP_BADFMT };

typedef struct mp_in {
    const unsigned char *p;
    size_t left;
    int err;
} mp_in_t;

/* The n bytes after the type byte as a big-endian number. */
static uint64_t mp_be(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = 1; i <= n; i++) v = v << 8 | p[i];
    return v;
}

static void mp_decode(lua_State *L, mp_in_t *c);

static void mp_decode_array(lua_State *L, mp_in_t *c, size_t n) {
    lua_newtable(L);
    luaL_checkstack(L, 1, "in function mp_decode_to_lua_array");
    for (size_t i = 1; i <= n; i++) {
        lua_pushnumber(L, (lua_Number)i);
        mp_decode(L, c);
        if (c->err) return;
        lua_settable(L, -3);
    }
}

static void mp_decode_map(lua_State *L, mp_in_t *c, size_t n) {
    lua_newtable(L);
    while (n--) {
        mp_decode(L, c);
        if (c->err) return;
        mp_decode(L, c);
        if (c->err) return;
        lua_settable(L, -3); /* a nil or NaN key raises Lua's own error, as on Redis */
    }
}

/* Read the lb-byte length after the type byte into *n and skip both; 0 when truncated. */
static int mp_take_len(mp_in_t *c, int lb, size_t *n) {
    if (c->left < (size_t)lb + 1) {
        c->err = MP_EOF;
        return 0;
    }
    *n = (size_t)mp_be(c->p, lb);
    c->p += lb + 1;
    c->left -= (size_t)lb + 1;
    return 1;
}

static void mp_decode_str(lua_State *L, mp_in_t *c, size_t n) {
    if (c->left < n) {
        c->err = MP_EOF;
        return;
    }
    lua_pushlstring(L, (const char *)c->p, n);
    c->p += n;
    c->left -= n;
}

/* A scalar of `size` bytes after the type byte; pushes it. */
static void mp_decode_scalar(lua_State *L, mp_in_t *c, unsigned char t, int size) {
    if (c->left < (size_t)size + 1) {
        c->err = MP_EOF;
        return;
    }
    uint64_t v = mp_be(c->p, size);
    switch (t) {
    case 0xca: {
        uint32_t u = (uint32_t)v;
        float f;
        memcpy(&f, &u, sizeof f);
        lua_pushnumber(L, f);
        break;
    }
    case 0xcb: {
        double d;
        memcpy(&d, &v, sizeof d);
        lua_pushnumber(L, d);
        break;
    }
    case 0xd0: lua_pushnumber(L, (int8_t)v); break;
    case 0xd1: lua_pushnumber(L, (int16_t)v); break;
    case 0xd2: lua_pushnumber(L, (int32_t)v); break;
    case 0xcf: /* Redis reads uint64 as signed */
    case 0xd3: lua_pushnumber(L, (lua_Number)(int64_t)v); break;
    default: lua_pushnumber(L, (lua_Number)v); break; /* 0xcc, 0xcd, 0xce */
    }
    c->p += size + 1;
    c->left -= (size_t)size + 1;
}

/* Decode one value at c and push it; on truncated or unknown input set c->err instead. */
static void mp_decode(lua_State *L, mp_in_t *c) {
    if (c->left < 1) {
        c->err = MP_EOF;
        return;
    }
    luaL_checkstack(L, 1, "too many return values at once; use unpack_one or unpack_limit instead.");
    unsigned char t = c->p[0];
    size_t n;
    switch (t) {
    case 0xc0: lua_pushnil(L); break;
    case 0xc2: lua_pushboolean(L, 0); break;
    case 0xc3: lua_pushboolean(L, 1); break;
    case 0xcc: case 0xd0: mp_decode_scalar(L, c, t, 1); return;
    case 0xcd: case 0xd1: mp_decode_scalar(L, c, t, 2); return;
    case 0xce: case 0xd2: case 0xca: mp_decode_scalar(L, c, t, 4); return;
    case 0xcf: case 0xd3: case 0xcb: mp_decode_scalar(L, c, t, 8); return;
    case 0xd9: if (mp_take_len(c, 1, &n)) mp_decode_str(L, c, n); return;
    case 0xda: if (mp_take_len(c, 2, &n)) mp_decode_str(L, c, n); return;
    case 0xdb: if (mp_take_len(c, 4, &n)) mp_decode_str(L, c, n); return;
    case 0xdc: if (mp_take_len(c, 2, &n)) mp_decode_array(L, c, n); return;
    case 0xdd: if (mp_take_len(c, 4, &n)) mp_decode_array(L, c, n); return;
    case 0xde: if (mp_take_len(c, 2, &n)) mp_decode_map(L, c, n); return;
    case 0xdf: if (mp_take_len(c, 4, &n)) mp_decode_map(L, c, n); return;
    default:
        if (t < 0x80 || t >= 0xe0) {
            lua_pushnumber(L, (int8_t)t); /* fixints: 0..127 and -32..-1 */
        } else if ((t & 0xe0) == 0xa0) {
            c->p++, c->left--;
            mp_decode_str(L, c, t & 0x1f);
            return;
        } else if ((t & 0xf0) == 0x90) {
            c->p++, c->left--;
            mp_decode_array(L, c, t & 0x0f);
            return;
        } else if ((t & 0xf0) == 0x80) {
            c->p++, c->left--;
            mp_decode_map(L, c, t & 0x0f);
            return;
        } else {
            c->err = MP_BADFMT;
            return;
        }
    }
    c->p++, c->left--;
}

/* Decode up to limit values of the string at 1 from byte offset on (every value when both
   are 0: then no offset is returned); the stack holds only the string. */
static int mp_unpack_full(lua_State *L, int limit, int offset) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int all = !limit && !offset;
    if (offset < 0 || limit < 0)
        return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.",
                          offset, (int)len);
    if ((size_t)offset > len)
        return luaL_error(L, "Start offset %d greater than input length %d.", offset, (int)len);
    if (all) limit = INT_MAX;
    mp_in_t c = {.p = (const unsigned char *)s + offset, .left = len - (size_t)offset};
    int count = 0;
    for (; c.left > 0 && count < limit; count++) {
        mp_decode(L, &c);
        if (c.err == MP_EOF) return luaL_error(L, "Missing bytes in input.");
        if (c.err == MP_BADFMT) return luaL_error(L, "Bad data format in input.");
    }
    if (all) return count;
    luaL_checkstack(L, 1, "in function mp_unpack_full");
    lua_pushinteger(L, c.left == 0 ? -1 : (lua_Integer)(len - c.left));
    lua_insert(L, 2);
    return count + 1;
}

static int mp_unpack(lua_State *L) { return mp_unpack_full(L, 0, 0); }

static int mp_unpack_one(lua_State *L) {
    int offset = (int)luaL_optinteger(L, 2, 0);
    if (lua_gettop(L) > 1) lua_settop(L, 1); /* none stays none, for the argument error */
    return mp_unpack_full(L, 1, offset);
}

static int mp_unpack_limit(lua_State *L) {
    int limit = (int)luaL_checkinteger(L, 2);
    int offset = (int)luaL_optinteger(L, 3, 0);
    lua_settop(L, 1);
    return mp_unpack_full(L, limit, offset);
}

void sc_open_cmsgpack(lua_State *L) {
    static const luaL_Reg fns[] = {{"pack", mp_pack},
                                   {"unpack", mp_unpack},
                                   {"unpack_one", mp_unpack_one},
                                   {"unpack_limit", mp_unpack_limit},
                                   {NULL, NULL}};
    luaL_register(L, "cmsgpack", fns);
    lua_pushliteral(L, "cmsgpack");
    lua_setfield(L, -2, "_NAME");
    lua_pushliteral(L, "lua-cmsgpack 0.4.0");
    lua_setfield(L, -2, "_VERSION");
    lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
    lua_setfield(L, -2, "_COPYRIGHT");
    lua_pushliteral(L, "MessagePack C implementation for Lua");
    lua_setfield(L, -2, "_DESCRIPTION");
    lua_pop(L, 1);
}
