/*
 * scripting.h: the scripting module's shared declarations: Lua 5.1 scripts (EVAL, EVALSHA,
 * EVAL_RO, EVALSHA_RO, SCRIPT) with Redis 7.0's semantics.
 *
 * Where scripts run: EVAL is an ordinary single-shard command whose keys are its declared
 * KEYS, so the core routes it to the thread that owns them (a script with no keys is routed
 * by its body or SHA, module.c). Every worker thread has its own Lua state and its own copy of
 * the script cache (sha -> body); a script new to one thread is posted to every other thread,
 * so EVALSHA finds it wherever its keys live. redis.call runs commands inline through the
 * core's api->call, which refuses keys of other shards.
 *
 * Everything here runs on a worker thread and touches only that thread's state, except
 * sc_shutdown (main thread, after the workers stopped).
 */
#ifndef DF_SCRIPTING_H
#define DF_SCRIPTING_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "dragonfly/module.h"

extern const dfm_api_t *sc_api;

#define SC_SHA_LEN 40

/* One cached script on one thread. */
typedef struct sc_script {
    char sha[SC_SHA_LEN + 1];
    char *body; /* api->alloc'd, NUL-terminated */
    size_t len;
    int compiled; /* its function is in this thread's Lua registry as "f_<sha>" */
    int flags;    /* SC_FLAG_* from the shebang */
    struct sc_script *next;
} sc_script_t;

#define SC_FLAG_NO_WRITES 0x1

/* What redis.call needs while a script runs on this thread. */
typedef struct sc_run {
    dfm_ctx_t *ctx;
    const char *sha;
    int call_flags; /* DFM_CALL_NO_WRITES */
    int resp;       /* redis.setresp: 2 or 3 */
    int db;         /* SELECT inside the script */
} sc_run_t;

/* A thread's scripting state, created on its first script. */
typedef struct sc_thread {
    lua_State *L;
    sc_script_t **buckets;
    size_t nbuckets, count;
    sc_run_t *run; /* the running script, or NULL */
    uint64_t rand_state; /* math.random's generator (Redis's rand48) */
} sc_thread_t;

/* thread.c */
sc_thread_t *sc_thread(void); /* this worker's state (created on first use) */
void sc_shutdown(void);       /* main thread: free every thread's state */
void sc_thread_reset_lua(sc_thread_t *t);

/* cache.c */
sc_script_t *sc_cache_find(sc_thread_t *t, const char *sha);
sc_script_t *sc_cache_add(sc_thread_t *t, const char *sha, const char *body, size_t len);
void sc_cache_flush(sc_thread_t *t);
void sc_cache_broadcast(const char *sha, const char *body, size_t len);
void sc_cache_broadcast_flush(void);

/* sha1.c */
void sc_sha1_hex(const void *data, size_t len, char out[SC_SHA_LEN + 1]);

/* env.c */
lua_State *sc_env_new(sc_thread_t *t);
void sc_rand_seed(sc_thread_t *t, int32_t seed);

/* lib.c: the redis table */
void sc_lib_register(lua_State *L);
void sc_push_error(lua_State *L, const char *msg); /* push {err = msg} in Redis's form */

/* conv.c */
/* Parse one RESP2/RESP3 reply at *p (end e) and push its Lua value; returns the bytes
   consumed, or 0 if malformed (nothing pushed). */
size_t sc_resp_to_lua(lua_State *L, const char *p, const char *e);
/* Reply the Lua value at the top of the stack (popped) to ctx, Redis's rules. */
void sc_lua_to_reply(lua_State *L, dfm_ctx_t *ctx, int script_resp);

/* shebang.c */
/* Parse a "#!lua flags=..." first line: 0 with *skip = bytes to drop (the newline stays) and
   *flags set, or -1 with *err (static text) for a bad one. */
int sc_shebang(const char *body, size_t len, size_t *skip, int *flags, char *err, size_t cap);

/* compile.c */
/* Make sure script s's function is defined on t's Lua state: 0, or -1 with the compile
   error in err. */
int sc_compile(sc_thread_t *t, sc_script_t *s, char *err, size_t cap);
/* A script not cached on this thread (EVAL, SCRIPT LOAD): compile it, cache it here and post
   it to every other thread. NULL with err (a compile or shebang error): nothing cached. */
sc_script_t *sc_learn(sc_thread_t *t, const char *sha, const char *body, size_t len, char *err,
                      size_t cap);

/* eval.c, script.c */
void sc_cmd_eval(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_evalsha(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_eval_ro(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_evalsha_ro(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_script_load(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_script_exists(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_script_flush(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_script_kill(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_script_help(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
/* Keys of an EVAL-family call (set_command_keys). */
int sc_eval_keys(int argc, const dfm_str_t *argv, int *idx, int max);

#endif
