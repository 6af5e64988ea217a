/*
 * fn_load.c: running a library's code, as FUNCTION LOAD does, on a worker's function state:
 * the "#!lua name=<lib>" line, the load-time sandbox (env.c: only redis.register_function,
 * redis.log and the constants exist), redis.register_function with Redis 7.0's argument
 * checks and texts, a 500 ms limit, and each thread's lazily loaded copies of the libraries
 * (the registry table "sc_libs": name -> {gen = ..., fns = {lower-cased name -> callback}}).
 */
#include <ctype.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "functions.h"

#define SC_LOAD_TIMEOUT_MS 500 /* Redis's LOAD_TIMEOUT_MS */

/* The library whose code runs now on a thread (t->loading). */
typedef struct sc_fn_loading {
    sc_lib_t *lib;       /* the callbacks go to the registry's "sc_loading" table */
    int64_t deadline_ms;
} sc_fn_loading_t;

static const char sc_bad_name[] = "Library names can only contain letters, numbers, or "
                                  "underscores(_) and must be at least one character long";

static int sc_name_ok(const char *p, size_t n) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)p[i]) && p[i] != '_') return 0;
    return 1;
}

static int64_t sc_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The words of the shebang line [p, e): "name=" once, nothing else. */
static int sc_fn_meta_words(const char *p, const char *e, const char **name, size_t *nlen,
                            char *err, size_t cap) {
    *name = NULL;
    while (p < e) {
        while (p < e && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
        const char *w = p;
        while (p < e && *p != ' ' && *p != '\t' && *p != '\r') p++;
        if (p == w) break;
        if (p - w >= 5 && strncasecmp(w, "name=", 5) == 0) {
            if (*name) {
                snprintf(err, cap, "Invalid metadata value, name argument was given multiple times");
                return -1;
            }
            *name = w + 5;
            *nlen = (size_t)(p - w) - 5;
            continue;
        }
        snprintf(err, cap, "Invalid metadata value given: %.*s", (int)(p - w), w);
        return -1;
    }
    if (!*name) {
        snprintf(err, cap, "Library name was not given");
        return -1;
    }
    return 0;
}

int sc_fn_meta(const char *body, size_t len, const char **name, size_t *nlen, size_t *code_off,
               char *err, size_t cap) {
    if (len < 2 || body[0] != '#' || body[1] != '!') {
        snprintf(err, cap, "Missing library metadata");
        return -1;
    }
    const char *nl = memchr(body, '\n', len);
    if (!nl) {
        snprintf(err, cap, "Invalid library metadata");
        return -1;
    }
    const char *eng = body + 2, *eng_end = eng;
    while (eng_end < nl && *eng_end != ' ' && *eng_end != '\t' && *eng_end != '\r') eng_end++;
    if (sc_fn_meta_words(eng_end, nl, name, nlen, err, cap) < 0) return -1;
    if (!sc_name_ok(*name, *nlen)) {
        snprintf(err, cap, "%s", sc_bad_name);
        return -1;
    }
    if (eng_end - eng != 3 || strncasecmp(eng, "lua", 3) != 0) {
        snprintf(err, cap, "Engine '%.*s' not found", (int)(eng_end - eng), eng);
        return -1;
    }
    *code_off = (size_t)(nl - body);
    return 0;
}

/* ---- redis.register_function ---- */

/* Push s[0..n) lower-cased: the key of a callback (Lua strings may not be changed). */
static void sc_push_lower(lua_State *L, const char *s, size_t n) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < n; i++) luaL_addchar(&b, (char)tolower((unsigned char)s[i]));
    luaL_pushresult(&b);
}

static int sc_reg_fail(lua_State *L, const char *msg) {
    sc_push_error(L, msg);
    return lua_error(L);
}

/* The flags table at idx: 0 with *flags, or -1 (an unknown flag). */
static int sc_reg_flags(lua_State *L, int idx, int *flags) {
    *flags = 0;
    for (int i = 1;; i++) {
        lua_rawgeti(L, idx, i);
        if (lua_isnil(L, -1)) break;
        size_t n;
        const char *w = lua_isstring(L, -1) ? lua_tolstring(L, -1, &n) : NULL;
        int bit = w ? sc_flag_bit(w, n, 1) : 0;
        lua_pop(L, 1);
        if (!bit) return -1;
        *flags |= bit;
    }
    lua_pop(L, 1);
    return 0;
}

/* The named form, {function_name = ..., callback = ..., flags = ..., description = ...}:
   replaces the arguments with name (1), callback (2), description (3), flags (4). */
static void sc_reg_named(lua_State *L) {
    if (!lua_istable(L, 1))
        sc_reg_fail(L, "calling redis.register_function with a single argument is only "
                       "applicable to Lua table (representing named arguments).");
    lua_settop(L, 1);
    lua_pushnil(L), lua_pushnil(L), lua_pushnil(L), lua_pushinteger(L, 0); /* 2..5 */
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pushvalue(L, -2); /* a copy: tostring must not change the key lua_next walks */
        const char *key = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL;
        if (!key) sc_reg_fail(L, "named argument key given to redis.register_function is not a string");
        int flags, slot = 0;
        if (strcasecmp(key, "function_name") == 0) {
            if (!lua_isstring(L, -2))
                sc_reg_fail(L, "function_name argument given to redis.register_function must be a string");
            slot = 2;
        } else if (strcasecmp(key, "description") == 0) {
            if (!lua_isstring(L, -2))
                sc_reg_fail(L, "description argument given to redis.register_function must be a string");
            slot = 4;
        } else if (strcasecmp(key, "callback") == 0) {
            if (!lua_isfunction(L, -2))
                sc_reg_fail(L, "callback argument given to redis.register_function must be a function");
            slot = 3;
        } else if (strcasecmp(key, "flags") == 0) {
            if (!lua_istable(L, -2))
                sc_reg_fail(L, "flags argument to redis.register_function must be a table "
                               "representing function flags");
            if (sc_reg_flags(L, lua_gettop(L) - 1, &flags) < 0) sc_reg_fail(L, "unknown flag given");
            lua_pushinteger(L, flags);
            lua_replace(L, -3);
            slot = 5;
        } else {
            sc_reg_fail(L, "unknown argument given to redis.register_function");
        }
        lua_pop(L, 1);
        lua_replace(L, slot); /* the value */
    }
    if (lua_isnil(L, 2)) sc_reg_fail(L, "redis.register_function must get a function name argument");
    if (lua_isnil(L, 3)) sc_reg_fail(L, "redis.register_function must get a callback argument");
    lua_remove(L, 1);
}

/* Record the function: name (1), callback (2), description (3), flags (4). */
static void sc_reg_add(lua_State *L, sc_fn_loading_t *ld) {
    size_t n;
    const char *name = lua_tolstring(L, 1, &n);
    if (!sc_name_ok(name, n)) sc_reg_fail(L, sc_bad_name);
    sc_lib_t *lib = ld->lib;
    for (int i = 0; i < lib->nfns; i++)
        if (strlen(lib->fns[i].name) == n && strncasecmp(lib->fns[i].name, name, n) == 0)
            sc_reg_fail(L, "Function already exists in the library");
    lua_getfield(L, LUA_REGISTRYINDEX, "sc_loading");
    sc_push_lower(L, name, n);
    lua_pushvalue(L, 2);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    size_t dn = 0;
    const char *desc = lua_isnil(L, 3) ? NULL : lua_tolstring(L, 3, &dn);
    lib->fns = sc_api->realloc(lib->fns, sizeof *lib->fns * (size_t)(lib->nfns + 1));
    sc_fn_t *f = &lib->fns[lib->nfns++];
    f->name = sc_api->alloc(n + 1);
    memcpy(f->name, name, n + 1);
    f->desc = NULL;
    if (desc) {
        f->desc = sc_api->alloc(dn + 1);
        memcpy(f->desc, desc, dn + 1);
    }
    f->flags = (int)lua_tointeger(L, 4);
}

/* redis.register_function(name, callback) or redis.register_function{...}. */
static int sc_lua_register_function(lua_State *L) {
    sc_fn_loading_t *ld = sc_thread()->loading;
    if (!ld) return sc_reg_fail(L, "redis.register_function can only be called on FUNCTION LOAD command");
    int argc = lua_gettop(L);
    if (argc < 1 || argc > 2) return sc_reg_fail(L, "wrong number of arguments to redis.register_function");
    if (argc == 1) {
        sc_reg_named(L);
    } else {
        if (!lua_isstring(L, 1))
            sc_reg_fail(L, "first argument to redis.register_function must be a string");
        if (!lua_isfunction(L, 2))
            sc_reg_fail(L, "second argument to redis.register_function must be a function");
        lua_pushnil(L);
        lua_pushinteger(L, 0);
    }
    sc_reg_add(L, ld);
    return 0;
}

/* ---- the function state and running a library ---- */

lua_State *sc_fn_state(sc_thread_t *t) {
    if (t->fL) return t->fL;
    lua_State *L = sc_env_new(t);
    if (!L) return NULL;
    sc_env_load_api(L, sc_lua_register_function);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "sc_libs");
    t->fL = L;
    return L;
}

static void sc_load_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    sc_fn_loading_t *ld = sc_thread()->loading;
    if (ld && sc_now_ms() > ld->deadline_ms) {
        lua_sethook(L, sc_load_hook, LUA_MASKCOUNT, 1); /* a pcall in the code cannot catch it */
        sc_reg_fail(L, "FUNCTION LOAD timeout");
    }
}

/* Run the compiled chunk on top of L in load mode, callbacks into ld: the pcall's result. */
static int sc_fn_run_chunk(sc_thread_t *t, lua_State *L, sc_fn_loading_t *ld) {
    int chunk = lua_gettop(L);
    lua_pushcfunction(L, sc_error_handler);
    lua_insert(L, chunk);
    ld->deadline_ms = sc_now_ms() + SC_LOAD_TIMEOUT_MS;
    t->loading = ld;
    sc_env_load_mode(L, 1);
    lua_sethook(L, sc_load_hook, LUA_MASKCOUNT, 10000);
    sc_mem_cap(t, L, 1);
    int rc = lua_pcall(L, 0, 0, chunk);
    sc_mem_cap(t, L, 0);
    lua_sethook(L, NULL, 0, 0);
    sc_env_load_mode(L, 0);
    t->loading = NULL;
    return rc;
}

/* The error of a failed run on top of L (the handler's table, or memory's string), popped. */
static void sc_fn_run_error(lua_State *L, char *err, size_t cap) {
    const char *msg = "ERR unknown error";
    if (lua_istable(L, -1)) {
        lua_pushstring(L, "err");
        lua_rawget(L, -2);
        if (lua_isstring(L, -1)) msg = lua_tostring(L, -1);
    } else if (lua_isstring(L, -1)) {
        msg = lua_tostring(L, -1);
    }
    snprintf(err, cap, "Error registering functions: %s", msg);
    lua_settop(L, lua_gettop(L) - (lua_istable(L, -2) ? 2 : 1));
}

sc_lib_t *sc_fn_create(sc_thread_t *t, const char *body, size_t len, char *err, size_t cap) {
    const char *name;
    size_t nlen, off;
    if (sc_fn_meta(body, len, &name, &nlen, &off, err, cap) < 0) return NULL;
    lua_State *L = sc_fn_state(t);
    if (!L) {
        snprintf(err, cap, "scripting engine unavailable");
        return NULL;
    }
    if (sc_load_chunk(t, L, body + off, len - off, "@user_function", "Error compiling function",
                      err, cap) < 0)
        return NULL;
    sc_fn_loading_t ld = {.lib = sc_lib_new(name, nlen, body, len)};
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "sc_loading");
    lua_insert(L, -2); /* callbacks, chunk */
    int base = lua_gettop(L) - 2;
    int rc = sc_fn_run_chunk(t, L, &ld);
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "sc_loading");
    if (rc != 0) {
        sc_fn_run_error(L, err, cap);
    } else if (ld.lib->nfns == 0) {
        snprintf(err, cap, "No functions registered");
    } else {
        lua_settop(L, base + 1); /* the callbacks stay on top */
        return ld.lib;
    }
    lua_settop(L, base);
    sc_lib_unref(ld.lib);
    return NULL;
}

void sc_fn_install(sc_thread_t *t, const sc_lib_t *lib) {
    lua_State *L = t->fL;
    lua_getfield(L, LUA_REGISTRYINDEX, "sc_libs");
    lua_pushstring(L, lib->name);
    lua_createtable(L, 0, 2);
    lua_pushnumber(L, (lua_Number)lib->gen);
    lua_setfield(L, -2, "gen");
    lua_pushvalue(L, -4);
    lua_setfield(L, -2, "fns");
    lua_rawset(L, -3);
    lua_pop(L, 2);
}

/* Drop t's copies of libraries the registry no longer has (or has newer). */
static void sc_fn_sweep(sc_thread_t *t, const sc_reg_t *r) {
    if (t->fn_version == r->version) return;
    lua_State *L = t->fL;
    lua_getfield(L, LUA_REGISTRYINDEX, "sc_libs");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        size_t n;
        const char *name = lua_tolstring(L, -2, &n); /* keys are strings: no conversion */
        sc_lib_t *lib = sc_reg_lib(r, name, n);
        lua_getfield(L, -1, "gen");
        int stale = !lib || (lua_Number)lib->gen != lua_tonumber(L, -1);
        lua_pop(L, 2);
        if (stale) { /* clearing an existing field during lua_next is allowed */
            lua_pushvalue(L, -1);
            lua_pushnil(L);
            lua_rawset(L, -4);
        }
    }
    lua_pop(L, 1);
    t->fn_version = r->version;
}

/* Push t's callbacks table of lib, loading lib if needed: 0, or -1 with err. */
static int sc_fn_callbacks(sc_thread_t *t, const sc_lib_t *lib, char *err, size_t cap) {
    lua_State *L = t->fL;
    lua_getfield(L, LUA_REGISTRYINDEX, "sc_libs");
    lua_getfield(L, -1, lib->name);
    lua_remove(L, -2);
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "gen");
        int current = lua_tonumber(L, -1) == (lua_Number)lib->gen;
        lua_pop(L, 1);
        if (current) {
            lua_getfield(L, -1, "fns");
            lua_remove(L, -2);
            return 0;
        }
    }
    lua_pop(L, 1);
    sc_lib_t *copy = sc_fn_create(t, lib->code, lib->code_len, err, cap);
    if (!copy) return -1;
    sc_lib_unref(copy); /* only its callbacks are kept here; the registry has the metadata */
    sc_fn_install(t, lib);
    lua_getfield(L, LUA_REGISTRYINDEX, "sc_libs");
    lua_getfield(L, -1, lib->name);
    lua_getfield(L, -1, "fns");
    lua_replace(L, -3);
    lua_pop(L, 1);
    return 0;
}

int sc_fn_push(sc_thread_t *t, const sc_reg_t *r, const sc_lib_t *lib, const sc_fn_t *fn,
               char *err, size_t cap) {
    if (!sc_fn_state(t)) {
        snprintf(err, cap, "scripting engine unavailable");
        return -1;
    }
    lua_State *L = t->fL;
    sc_fn_sweep(t, r);
    if (sc_fn_callbacks(t, lib, err, cap) < 0) return -1;
    sc_push_lower(L, fn->name, strlen(fn->name));
    lua_rawget(L, -2);
    lua_remove(L, -2);
    if (lua_isfunction(L, -1)) return 0;
    lua_pop(L, 1);
    snprintf(err, cap, "Function not found"); /* the library registered others this time */
    return -1;
}
