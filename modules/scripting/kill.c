/*
 * kill.c: the script time limit (busy-reply-threshold, alias lua-time-limit), SCRIPT KILL and
 * FUNCTION KILL, Redis 7.0's semantics in a server with one script per thread.
 *
 * While a script runs, a Lua count hook looks at the clock every SC_HOOK_EVERY instructions.
 * Past the threshold the script is "busy": api->set_busy makes every other thread answer
 * commands not flagged allow_busy with Redis's BUSY error, and SCRIPT KILL (FUNCTION KILL for
 * a function) from a client of another thread may stop it. The busy thread itself serves
 * nothing until the script returns (its clients wait), so at --threads 1 only a SIGTERM (or
 * the script's end) frees it.
 *
 * Each worker publishes its script's state in one atomic word (sc_slots): RUNNING, BUSY,
 * FUNCTION, KILL (asked by another thread) and DIRTY (the script ran a write command). A kill
 * and the first write race through compare-and-swap on that word: SCRIPT KILL sets KILL only
 * while DIRTY is clear, the script sets DIRTY only while KILL is clear, so a killed script has
 * written nothing (atomicity holds) and a script that wrote is UNKILLABLE. No lock.
 */
#include <lauxlib.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "scripting.h"

#define SC_HOOK_EVERY 10000 /* Lua VM instructions between two looks at the clock */

#define SC_RUNNING 0x1u
#define SC_BUSY 0x2u
#define SC_FUNCTION 0x4u
#define SC_KILL 0x8u
#define SC_DIRTY 0x10u
#define SC_MASTER 0x20u /* sent by our master over replication: never killed (Redis) */

int64_t sc_busy_ms = 5000;

static _Atomic unsigned sc_slots[SC_MAX_THREADS];

/* A busy function as FUNCTION STATS shows it: published by its thread when it turns busy,
   read by other threads within one command, retired (sc_retire) when it ends. */
typedef struct sc_running {
    int64_t start_ms;
    char *name;
    int argc;
    dfm_str_t argv[];
} sc_running_t;

static _Atomic(sc_running_t *) sc_running[SC_MAX_THREADS];

static const char sc_busy_eval[] =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
static const char sc_busy_function[] =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

static int64_t sc_clock_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sc_slot_id(void) {
    int id = sc_api->thread_id();
    return id < 0 || id >= SC_MAX_THREADS ? 0 : id;
}

static _Atomic unsigned *sc_slot(void) { return &sc_slots[sc_slot_id()]; }

/* Publish the running function (its name, command and start) for FUNCTION STATS. */
static void sc_running_publish(const sc_thread_t *t) {
    const sc_run_t *run = t->run;
    size_t size = sizeof(sc_running_t) + sizeof(dfm_str_t) * (size_t)run->argc +
                  strlen(run->name) + 1;
    for (int i = 0; i < run->argc; i++) size += run->argv[i].len;
    sc_running_t *r = sc_api->alloc(size);
    char *p = (char *)&r->argv[run->argc];
    r->start_ms = t->start_ms;
    r->argc = run->argc;
    for (int i = 0; i < run->argc; i++) {
        memcpy(p, run->argv[i].ptr, run->argv[i].len);
        r->argv[i] = (dfm_str_t){p, run->argv[i].len};
        p += run->argv[i].len;
    }
    r->name = p;
    memcpy(p, run->name, strlen(run->name) + 1);
    atomic_store(&sc_running[sc_slot_id()], r);
}

static void sc_running_free(void *p) { sc_api->free(p); }

void sc_kill_reply_running(dfm_ctx_t *ctx) {
    for (int i = 0; i < sc_api->num_threads() && i < SC_MAX_THREADS; i++) {
        const sc_running_t *r = atomic_load(&sc_running[i]);
        if (!r) continue;
        sc_api->reply_map(ctx, 3);
        sc_api->reply_cstr(ctx, "name");
        sc_api->reply_cstr(ctx, r->name);
        sc_api->reply_cstr(ctx, "command");
        sc_api->reply_array(ctx, r->argc);
        for (int j = 0; j < r->argc; j++) sc_api->reply_bulk(ctx, r->argv[j].ptr, r->argv[j].len);
        sc_api->reply_cstr(ctx, "duration_ms");
        sc_api->reply_int(ctx, sc_clock_ms() - r->start_ms);
        return;
    }
    sc_api->reply_null(ctx);
}

/* Raise err in the script; from now on the hook fires on every instruction, so a pcall in
   the script cannot catch the error for good. */
static void sc_hook_raise(lua_State *L, lua_Hook hook, const char *err) {
    lua_sethook(L, hook, LUA_MASKCOUNT, 1);
    sc_thread()->mem_capped = 0; /* the error must be raised, near the memory limit too */
    sc_push_error(L, err);
    lua_error(L);
}

/* The count hook: kill, shutdown, or the first time past the threshold. */
static void sc_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    sc_thread_t *t = sc_thread();
    _Atomic unsigned *slot = sc_slot();
    unsigned st = atomic_load(slot);
    if (st & SC_KILL) sc_hook_raise(L, sc_hook, "Script killed by user with SCRIPT KILL...");
    int down = sc_api->shutdown_pending();
    if (down == 2 || (down == 1 && !(st & SC_DIRTY)))
        sc_hook_raise(L, sc_hook, "Script killed by the server shutting down");
    if ((st & SC_BUSY) || sc_clock_ms() - t->start_ms < sc_busy_ms) return;
    if (st & SC_FUNCTION) sc_running_publish(t);
    atomic_fetch_or(slot, SC_BUSY);
    sc_api->set_busy((st & SC_FUNCTION) ? sc_busy_function : sc_busy_eval);
    sc_api->log(DFM_LOG_WARNING,
                "Slow script detected: still in execution after %lld milliseconds. You can try "
                "killing the script using the %s command. Script name is: %s.",
                (long long)(sc_clock_ms() - t->start_ms),
                (st & SC_FUNCTION) ? "FUNCTION KILL" : "SCRIPT KILL", t->run ? t->run->name : "?");
}

void sc_kill_begin(sc_thread_t *t, lua_State *L) {
    t->start_ms = sc_clock_ms();
    int master = DFM_HAS(sc_api, from_master) && sc_api->from_master(t->run->ctx);
    atomic_store(sc_slot(), SC_RUNNING | (t->run->is_function ? SC_FUNCTION : 0) |
                                (master ? SC_MASTER : 0));
    lua_sethook(L, sc_hook, LUA_MASKCOUNT, SC_HOOK_EVERY);
}

void sc_kill_end(sc_thread_t *t, lua_State *L) {
    (void)t;
    lua_sethook(L, NULL, 0, 0);
    unsigned st = atomic_exchange(sc_slot(), 0);
    if (st & SC_BUSY) sc_api->set_busy(NULL);
    sc_running_t *r = atomic_exchange(&sc_running[sc_slot_id()], NULL);
    if (r) sc_retire(r, sc_running_free);
}

int sc_kill_dirty(void) { return (atomic_load(sc_slot()) & SC_DIRTY) != 0; }

int sc_kill_mark_dirty(void) {
    _Atomic unsigned *slot = sc_slot();
    unsigned st = atomic_load(slot);
    do {
        if (st & SC_KILL) return -1;
    } while (!atomic_compare_exchange_weak(slot, &st, st | SC_DIRTY));
    return 0;
}

/* Ask the busy script of one thread to stop: 0 asked, else why not (1 it came from our
   master, 2 it wrote, 3 it is of the other kind, 4 none busy there). */
static int sc_kill_one(_Atomic unsigned *slot, int function) {
    unsigned st = atomic_load(slot);
    do {
        if (!(st & SC_BUSY)) return 4;
        if (st & SC_MASTER) return 1;
        if (st & SC_DIRTY) return 2;
        if (!(st & SC_FUNCTION) != !function) return 3;
    } while (!atomic_compare_exchange_weak(slot, &st, st | SC_KILL));
    return 0;
}

/* SCRIPT KILL (function 0) and FUNCTION KILL (1): every busy script of that kind that has not
   written is asked to stop; the reply is OK if one was, else Redis's reason. */
void sc_kill_command(dfm_ctx_t *ctx, int function) {
    int best = 4, n = sc_api->num_threads();
    for (int i = 0; i < n && i < SC_MAX_THREADS; i++) {
        int r = sc_kill_one(&sc_slots[i], function);
        if (r < best) best = r;
    }
    switch (best) {
    case 0:
        sc_api->reply_ok(ctx);
        break;
    case 1:
        sc_api->reply_error(ctx, "UNKILLABLE The busy script was sent by a master instance in "
                                 "the context of replication and cannot be killed.");
        break;
    case 2:
        sc_api->reply_error(ctx, "UNKILLABLE Sorry the script already executed write commands "
                                 "against the dataset. You can either wait the script termination "
                                 "or kill the server in a hard way using the SHUTDOWN NOSAVE "
                                 "command.");
        break;
    case 3:
        sc_api->reply_error(ctx, function ? sc_busy_eval : sc_busy_function);
        break;
    default:
        sc_api->reply_error(ctx, "NOTBUSY No scripts in execution right now.");
    }
}

void sc_cmd_script_kill(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    sc_kill_command(ctx, 0);
}
