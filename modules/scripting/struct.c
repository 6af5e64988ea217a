/*
 * struct.c: the `struct` table Redis 7.0 gives scripts (Roberto Ierusalimschy's struct
 * library's interface): pack(fmt, ...) -> binary string, unpack(fmt, s [, pos]) -> values and
 * the next position, size(fmt) -> bytes. Written here from the format's description:
 *   > < endianness (little by default)     ![n] alignment (n a power of 2; 8 without n)
 *   b B h H l L T  char, short, long, size_t (lower case signed)
 *   i[n] I[n]      integers of n bytes (1..32; the size of int without n)
 *   c[n]           n bytes (1 without n; c0: the whole string, or when unpacking the length
 *                  read just before)          s  a zero-terminated string
 *   f d            float, double              x  one zero byte        ' ' ignored
 * Integers wider than 64 bits keep 64 significant bits, as Redis's do on x86-64; the error
 * texts are Redis's. Runs inside lua_pcall on the script's thread.
 */
#include <ctype.h>
#include <lauxlib.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "scripting.h"

#define ST_MAX_INT 32   /* widest integer option */
#define ST_MAX_ALIGN 8  /* '!' without a number */

typedef struct st_fmt {
    const char *p;
    int big;   /* big-endian */
    int align; /* a power of 2 */
} st_fmt_t;

/* The decimal number at f->p (skipped), or dflt when there is none. */
static int st_number(lua_State *L, st_fmt_t *f, int dflt) {
    if (!isdigit((unsigned char)*f->p)) return dflt;
    int n = 0;
    do {
        int d = *f->p++ - '0';
        if (n > INT_MAX / 10 || n * 10 > INT_MAX - d) luaL_error(L, "integral size overflow");
        n = n * 10 + d;
    } while (isdigit((unsigned char)*f->p));
    return n;
}

/* The size in bytes of option opt (its count, if any, read from f); 0 for the others. */
static size_t st_size(lua_State *L, int opt, st_fmt_t *f) {
    switch (opt) {
    case 'b': case 'B': case 'x': return 1;
    case 'h': case 'H': return sizeof(short);
    case 'l': case 'L': return sizeof(long);
    case 'T': return sizeof(size_t);
    case 'f': return sizeof(float);
    case 'd': return sizeof(double);
    case 'c': return (size_t)st_number(L, f, 1);
    case 'i': case 'I': {
        int n = st_number(L, f, sizeof(int));
        if (n > ST_MAX_INT)
            luaL_error(L, "integral size %d is larger than limit of %d", n, ST_MAX_INT);
        return (size_t)n;
    }
    default: return 0;
    }
}

/* Padding that puts an item of size bytes at offset pos on its alignment. Sizes that are not
   powers of 2 give the format's historical (odd) padding, kept for compatibility. */
static size_t st_pad(size_t pos, const st_fmt_t *f, int opt, size_t size) {
    if (size == 0 || opt == 'c') return 0;
    if (size > (size_t)f->align) size = (size_t)f->align;
    return (size - (pos & (size - 1))) & (size - 1);
}

/* A non-data option: spaces, endianness, alignment; anything else is an error. */
static void st_control(lua_State *L, int opt, st_fmt_t *f) {
    switch (opt) {
    case ' ': return;
    case '>': f->big = 1; return;
    case '<': f->big = 0; return;
    case '!': {
        int a = st_number(L, f, ST_MAX_ALIGN);
        if (a <= 0 || (a & (a - 1))) luaL_error(L, "alignment %d is not a power of 2", a);
        f->align = a;
        return;
    }
    default: {
        char msg[32];
        snprintf(msg, sizeof msg, "invalid format option '%c'", opt);
        luaL_argerror(L, 1, msg);
    }
    }
}

/* The number as the 64-bit pattern a C cast gives on x86-64 (out-of-range values included:
   the library has always packed what that cast yields). */
static uint64_t st_bits(lua_Number n) {
    const lua_Number two63 = 9223372036854775808.0;
    if (n < 0) return n >= -two63 ? (uint64_t)(int64_t)n : UINT64_C(1) << 63;
    if (n >= two63) {
        n -= two63;
        return (n < two63 ? (uint64_t)(int64_t)n : UINT64_C(1) << 63) ^ UINT64_C(1) << 63;
    }
    return n == n ? (uint64_t)(int64_t)n : UINT64_C(1) << 63; /* NaN: the cast's sentinel */
}

static void st_put_int(luaL_Buffer *b, uint64_t v, int big, size_t size) {
    char buf[ST_MAX_INT];
    for (size_t i = 0; i < size; i++, v >>= 8) buf[big ? size - 1 - i : i] = (char)(v & 0xff);
    luaL_addlstring(b, buf, size);
}

/* Copy n bytes of a float or double in the format's byte order. */
static void st_copy(char *dst, const void *src, size_t n, int big) {
    const char *s = src;
    for (size_t i = 0; i < n; i++) dst[i] = big ? s[n - 1 - i] : s[i];
}

static int st_pack(lua_State *L) {
    st_fmt_t f = {.p = luaL_checkstring(L, 1), .align = 1};
    int arg = 2;
    size_t total = 0;
    luaL_Buffer b;
    lua_pushnil(L); /* keeps the buffer's pieces apart from the arguments: a missing one is nil */
    luaL_buffinit(L, &b);
    while (*f.p) {
        int opt = (unsigned char)*f.p++;
        size_t size = st_size(L, opt, &f);
        for (size_t pad = st_pad(total, &f, opt, size); pad > 0; pad--, total++)
            luaL_addchar(&b, '\0');
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
            st_put_int(&b, st_bits(luaL_checknumber(L, arg++)), f.big, size);
            break;
        case 'x': luaL_addchar(&b, '\0'); break;
        case 'f': {
            float v = (float)luaL_checknumber(L, arg++);
            char buf[sizeof v];
            st_copy(buf, &v, sizeof v, f.big);
            luaL_addlstring(&b, buf, sizeof v);
            break;
        }
        case 'd': {
            double v = luaL_checknumber(L, arg++);
            char buf[sizeof v];
            st_copy(buf, &v, sizeof v, f.big);
            luaL_addlstring(&b, buf, sizeof v);
            break;
        }
        case 'c': case 's': {
            size_t len;
            const char *s = luaL_checklstring(L, arg++, &len);
            if (size == 0) size = len;
            luaL_argcheck(L, len >= size, arg, "string too short");
            luaL_addlstring(&b, s, size);
            if (opt == 's') {
                luaL_addchar(&b, '\0');
                size++;
            }
            break;
        }
        default: st_control(L, opt, &f);
        }
        total += size;
    }
    luaL_pushresult(&b);
    return 1;
}

/* The size-byte integer at p, sign-extended from its top bit when sgn (the top bit of the low
   64 that x86-64's shift picks for wider ones). */
static lua_Number st_get_int(const unsigned char *p, int big, int sgn, size_t size) {
    uint64_t v = 0;
    for (size_t i = 0; i < size; i++) v = v << 8 | p[big ? i : size - 1 - i];
    if (!sgn) return (lua_Number)v;
    uint64_t mask = ~UINT64_C(0) << ((size * 8 - 1) & 63);
    if (v & mask) v |= mask;
    return (lua_Number)(int64_t)v;
}

/* The byte count a 'c0' takes from the number just unpacked (popped); SIZE_MAX when it is
   no count at all (negative, huge), which no data is long enough for. */
static size_t st_prev_count(lua_State *L, int n) {
    if (n == 0 || !lua_isnumber(L, -1)) luaL_error(L, "format 'c0' needs a previous size");
    lua_Number c = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return c >= 0 && c < 18446744073709551616.0 ? (size_t)c : SIZE_MAX;
}

/* Push the item of option opt (size bytes at data + pos); returns the values pushed and
   updates *size for the variable-length ones. */
static int st_unpack_item(lua_State *L, int opt, st_fmt_t *f, const char *data, size_t ld,
                          size_t pos, size_t *size, int n) {
    const unsigned char *p = (const unsigned char *)data + pos;
    switch (opt) {
    case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
        lua_pushnumber(L, st_get_int(p, f->big, islower(opt), *size));
        return 1;
    case 'f': {
        float v;
        st_copy((char *)&v, p, sizeof v, f->big);
        lua_pushnumber(L, v);
        return 1;
    }
    case 'd': {
        double v;
        st_copy((char *)&v, p, sizeof v, f->big);
        lua_pushnumber(L, v);
        return 1;
    }
    case 'c':
        if (*size == 0) {
            *size = st_prev_count(L, n);
            luaL_argcheck(L, *size <= ld && pos <= ld - *size, 2, "data string too short");
            lua_pushlstring(L, data + pos, *size);
            return 0; /* replaced the count */
        }
        lua_pushlstring(L, data + pos, *size);
        return 1;
    case 's': {
        const char *e = memchr(data + pos, '\0', ld - pos);
        if (!e) luaL_error(L, "unfinished string in data");
        *size = (size_t)(e - (data + pos)) + 1;
        lua_pushlstring(L, data + pos, *size - 1);
        return 1;
    }
    case 'x': return 0;
    default: st_control(L, opt, f); return 0;
    }
}

static int st_unpack(lua_State *L) {
    st_fmt_t f = {.p = luaL_checkstring(L, 1), .align = 1};
    size_t ld;
    const char *data = luaL_checklstring(L, 2, &ld);
    size_t pos = (size_t)luaL_optinteger(L, 3, 1);
    luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
    pos--;
    int n = 0;
    while (*f.p) {
        int opt = (unsigned char)*f.p++;
        size_t size = st_size(L, opt, &f);
        pos += st_pad(pos, &f, opt, size);
        luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
        luaL_checkstack(L, 2, "too many results");
        n += st_unpack_item(L, opt, &f, data, ld, pos, &size, n);
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)(pos + 1));
    return n + 1;
}

static int st_size_fn(lua_State *L) {
    st_fmt_t f = {.p = luaL_checkstring(L, 1), .align = 1};
    size_t pos = 0;
    while (*f.p) {
        int opt = (unsigned char)*f.p++;
        size_t size = st_size(L, opt, &f);
        pos += st_pad(pos, &f, opt, size);
        if (opt == 's') luaL_argerror(L, 1, "option 's' has no fixed size");
        else if (opt == 'c' && size == 0) luaL_argerror(L, 1, "option 'c0' has no fixed size");
        if (!isalnum(opt)) st_control(L, opt, &f);
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos);
    return 1;
}

void sc_open_struct(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"pack", st_pack}, {"unpack", st_unpack}, {"size", st_size_fn}, {NULL, NULL}};
    luaL_register(L, "struct", fns);
    lua_pop(L, 1);
}
