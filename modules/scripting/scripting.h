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

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "dragonfly/module.h"

extern const dfm_api_t *sc_api;

#define SC_SHA_LEN 40
#define SC_MAX_THREADS 256 /* the core's worker limit */

/* One cached script on one thread. */
typedef struct sc_script {
    char sha[SC_SHA_LEN + 1];
    char *body; /* api->alloc'd, NUL-terminated */
    size_t len;
    int compiled; /* its function is in this thread's Lua registry as "f_<sha>" */
    int flags;    /* SC_FLAG_* from the shebang */
    struct sc_script *next;
} sc_script_t;

/* Redis's script flags, in its order (FUNCTION LIST's): bit i is sc_flag_names[i]. */
#define SC_FLAG_NO_WRITES 0x1
extern const char *const sc_flag_names[]; /* NULL-terminated */
/* The bit of flag word w (n bytes; any case if nocase), or 0 when unknown. */
int sc_flag_bit(const char *w, size_t n, int nocase);

/* One run of a script or function on this thread: what redis.call, the error replies, the
   time limit and FUNCTION STATS need. */
typedef struct sc_run {
    dfm_ctx_t *ctx;
    const char *where; /* errors' "script: <where>": the sha, or the function's name */
    const char *name;  /* "f_<sha>", or the function's name (logs, non-table errors) */
    int is_function;   /* FCALL: FUNCTION KILL stops it, FUNCTION STATS shows it */
    int argc;          /* the command (FUNCTION STATS) */
    const dfm_str_t *argv;
    int call_flags; /* DFM_CALL_NO_WRITES */
    int resp;       /* redis.setresp: 2 or 3 (set by sc_exec) */
    int db;         /* SELECT inside the script (set by sc_exec) */
} sc_run_t;

/* A thread's scripting state, created on its first script. */
typedef struct sc_thread {
    int id;  /* the worker's (its published counters below) */
    lua_State *L;
    sc_script_t **buckets;
    size_t nbuckets, count;
    sc_run_t *run; /* the running script, or NULL */
    uint64_t rand_state; /* math.random's generator (Redis's rand48) */
    int64_t start_ms;    /* when the running script started (monotonic clock) */
    size_t lua_mem;      /* bytes the Lua state holds */
    int mem_capped;      /* lua-memory-limit applies now (a script runs or compiles) */
    char *pending;       /* a redis.call reply being converted: freed if Lua raises */
    dfm_str_t *argv;     /* redis.call's arguments past 16 (grows, freed with the thread) */
    size_t argv_cap;
    lua_State *fL;       /* functions' state (functions.h), created on first use */
    uint64_t fn_version; /* the registry version fL's libraries were checked against */
    struct sc_fn_loading *loading; /* the library whose code runs now (register_function) */
} sc_thread_t;

/* What each thread publishes for INFO (written by that thread, summed by any): its Lua
   states' bytes, its cached scripts and their bodies' bytes. */
extern _Atomic size_t sc_pub_mem[SC_MAX_THREADS], sc_pub_scripts[SC_MAX_THREADS],
    sc_pub_script_bytes[SC_MAX_THREADS];
/* INFO memory's scripting fields (Redis's used_memory_lua, number_of_cached_scripts...). */
void sc_info_memory(dfm_info_t *info);

/* thread.c */
sc_thread_t *sc_thread(void); /* this worker's state (created on first use) */
void sc_shutdown(void);       /* main thread: free every thread's state */
void sc_thread_reset_lua(sc_thread_t *t);
/* Free p with fn once every worker has run a post sent now: a pointer that readers on other
   threads load and use within one command, unpublished before this call. Any thread. */
void sc_retire(void *p, void (*fn)(void *));

/* cache.c */
sc_script_t *sc_cache_find(sc_thread_t *t, const char *sha);
sc_script_t *sc_cache_add(sc_thread_t *t, const char *sha, const char *body, size_t len);
void sc_cache_flush(sc_thread_t *t);
void sc_cache_broadcast(const char *sha, const char *body, size_t len);
void sc_cache_broadcast_flush(void);

/* sha1.c */
void sc_sha1_hex(const void *data, size_t len, char out[SC_SHA_LEN + 1]);

/* env.c */
extern int64_t sc_lua_mem_limit; /* lua-memory-limit, bytes; 0 = none */
/* Apply the limit to t's states from now (on: after a full collection of L when the states
   hold more than half the limit) or no longer. */
void sc_mem_cap(sc_thread_t *t, lua_State *L, int on);
lua_State *sc_env_new(sc_thread_t *t);
/* A functions state's load-time API (the registry's "sc_load_api"): only `redis` with
   register_function, log, the LOG_* constants and the version; nothing else exists and
   nothing may be written, as Redis runs a library's code. */
void sc_env_load_api(lua_State *L, lua_CFunction register_function);
/* Scripts' globals (the "sc_env" proxy) read through the load-time API (on) or the full
   globals (off): library code and the callbacks it defines share that proxy. */
void sc_env_load_mode(lua_State *L, int on);
void sc_rand_seed(sc_thread_t *t, int32_t seed);

/* The extra libraries Redis 7.0 opens: each sets its global (cjson, cmsgpack, struct). */
void sc_open_cjson(lua_State *L);    /* cjson.c */
void sc_open_cmsgpack(lua_State *L); /* cmsgpack.c */
void sc_open_struct(lua_State *L);   /* struct.c */

/* lib.c: the redis table */
void sc_lib_register(lua_State *L);
/* Push the load-time `redis` table (functions): register_function, log, constants. */
void sc_lib_push_load_api(lua_State *L, lua_CFunction register_function);
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
/* Compile p[0..n) as chunk on L with the scripts' environment, pushed: 0, or -1 with err
   "<what>: <Lua's message>" (nothing pushed). The memory cap applies. */
int sc_load_chunk(sc_thread_t *t, lua_State *L, const char *p, size_t n, const char *chunk,
                  const char *what, char *err, size_t cap);
/* Make sure script s's function is defined on t's Lua state: 0, or -1 with the compile
   error in err. */
int sc_compile(sc_thread_t *t, sc_script_t *s, char *err, size_t cap);
/* A script not cached on this thread (EVAL, SCRIPT LOAD): compile it, cache it here and post
   it to every other thread. NULL with err (a compile or shebang error): nothing cached. */
sc_script_t *sc_learn(sc_thread_t *t, const char *sha, const char *body, size_t len, char *err,
                      size_t cap);

/* kill.c: the time limit, SCRIPT KILL, FUNCTION KILL */
extern int64_t sc_busy_ms; /* busy-reply-threshold (lua-time-limit), milliseconds */
/* Around the lua_pcall of t->run on L: the hook that watches the clock and the kill flag. */
void sc_kill_begin(sc_thread_t *t, lua_State *L);
void sc_kill_end(sc_thread_t *t, lua_State *L);
/* 1 once the running script ran a write command. */
int sc_kill_dirty(void);
/* Before the running script's first write command: 0, or -1 when a kill came first (the
   write must not run). */
int sc_kill_mark_dirty(void);
void sc_kill_command(dfm_ctx_t *ctx, int function);
/* FUNCTION STATS's running_script: a busy function of any thread, or null. */
void sc_kill_reply_running(dfm_ctx_t *ctx);

/* run.c */
/* lua_pcall's message handler: the error becomes {err = "ERR ...", source, line}. */
int sc_error_handler(lua_State *L);
/* Call the function below the nargs arguments on top of L's stack as run (its ctx, names,
   flags set), under the time limit and the memory cap, and reply its result or its error.
   Pops the function and the arguments. */
void sc_exec(sc_thread_t *t, lua_State *L, int nargs, sc_run_t *run);

/* eval.c, script.c */
/* A HELP reply: an array of status lines. */
void sc_reply_lines(dfm_ctx_t *ctx, const char *const *lines, size_t n);
/* numkeys of an EVAL or FCALL (argv[2]), checked in Redis's order (not_int: the error when it
   is no integer); -1 after replying the error. */
long long sc_numkeys(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, const char *not_int);
void sc_cmd_eval(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_evalsha(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_eval_ro(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_evalsha_ro(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_script_load(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_script_exists(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_script_flush(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_script_kill(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_script_help(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
/* What an EVAL-family call without keys is routed by (set_command_route): the script. */
int sc_eval_route(int argc, const dfm_str_t *argv, int *idx, int max);

#endif
