/*
 * compile.c: turning a script body into a function in a thread's Lua state. The function is
 * kept in the registry as "f_<sha>" (not as a global: the globals are read-only) and runs with
 * the sandbox's proxy environment. Compiled with the chunk name "@user_script", so errors read
 * "user_script:LINE: ..." as on Redis; a shebang line is left out but its newline kept, so
 * line numbers stay those of the body.
 */
#include <lauxlib.h>
#include <stdio.h>

#include "scripting.h"

int sc_load_chunk(sc_thread_t *t, lua_State *L, const char *p, size_t n, const char *chunk,
                  const char *what, char *err, size_t cap) {
    sc_mem_cap(t, L, 1);
    int rc = luaL_loadbuffer(L, p, n, chunk);
    sc_mem_cap(t, L, 0);
    if (rc != 0) {
        snprintf(err, cap, "%s: %s", what, lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "sc_env");
    lua_setfenv(L, -2);
    return 0;
}

/* Compile body into registry["f_<sha>"] on t: 0 with *flags, or -1 with err. */
static int sc_load(sc_thread_t *t, const char *sha, const char *body, size_t len, int *flags,
                   char *err, size_t cap) {
    size_t skip;
    if (sc_shebang(body, len, &skip, flags, err, cap) < 0) return -1;
    lua_State *L = t->L;
    if (sc_load_chunk(t, L, body + skip, len - skip, "@user_script",
                      "ERR Error compiling script (new function)", err, cap) < 0)
        return -1;
    char name[SC_SHA_LEN + 3];
    snprintf(name, sizeof name, "f_%s", sha);
    lua_setfield(L, LUA_REGISTRYINDEX, name);
    return 0;
}

int sc_compile(sc_thread_t *t, sc_script_t *s, char *err, size_t cap) {
    if (s->compiled) return 0;
    if (sc_load(t, s->sha, s->body, s->len, &s->flags, err, cap) < 0) return -1;
    s->compiled = 1;
    return 0;
}

/* EVAL and SCRIPT LOAD: compile, then cache here and on every other thread. NULL with err
   when it does not compile (nothing is cached then, as on Redis). */
sc_script_t *sc_learn(sc_thread_t *t, const char *sha, const char *body, size_t len, char *err,
                      size_t cap) {
    int flags;
    if (sc_load(t, sha, body, len, &flags, err, cap) < 0) return NULL;
    sc_script_t *s = sc_cache_add(t, sha, body, len);
    s->compiled = 1;
    s->flags = flags;
    sc_cache_broadcast(sha, body, len);
    return s;
}
