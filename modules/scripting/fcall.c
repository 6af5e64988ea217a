/*
 * fcall.c: FCALL and FCALL_RO. Routed like EVAL (declared keys, or the function's name when
 * there are none), so a call is one single-shard command on the thread of its keys: that
 * thread looks the function up in the registry, loads its library there if needed and calls
 * it with (keys, args), as Redis 7.0 does, with its error texts.
 */
#include <lauxlib.h>

#include "functions.h"

/* A Lua array of argv[from..to) on top of L. */
static void sc_push_args(lua_State *L, const dfm_str_t *argv, int from, int to) {
    lua_createtable(L, to - from, 0);
    for (int i = from; i < to; i++) {
        lua_pushlstring(L, argv[i].ptr, argv[i].len);
        lua_rawseti(L, -2, i - from + 1);
    }
}

static void sc_fcall_generic(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int ro) {
    const sc_reg_t *reg = sc_reg_get();
    sc_lib_t *lib;
    const sc_fn_t *fn = sc_reg_fn(reg, argv[1].ptr, argv[1].len, &lib);
    if (!fn) {
        sc_api->reply_error(ctx, "ERR Function not found");
        return;
    }
    long long nk = sc_numkeys(ctx, argc, argv, "ERR Bad number of keys provided");
    if (nk < 0) return;
    if (ro && !(fn->flags & SC_FLAG_NO_WRITES)) {
        sc_api->reply_error(ctx, "ERR Can not execute a script with write flag using *_ro command.");
        return;
    }
    sc_thread_t *t = sc_thread();
    char err[512];
    if (sc_fn_push(t, reg, lib, fn, err, sizeof err) < 0) {
        sc_api->reply_errorf(ctx, "ERR %s", err);
        return;
    }
    lua_State *L = t->fL;
    sc_push_args(L, argv, 3, 3 + (int)nk);
    sc_push_args(L, argv, 3 + (int)nk, argc);
    sc_run_t run = {.ctx = ctx, .where = fn->name, .name = fn->name, .is_function = 1,
                    .argc = argc, .argv = argv,
                    .call_flags = (fn->flags & SC_FLAG_NO_WRITES) ? DFM_CALL_NO_WRITES : 0};
    sc_exec(t, L, 2, &run);
}

void sc_cmd_fcall(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    sc_fcall_generic(ctx, argc, argv, 0);
}

void sc_cmd_fcall_ro(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    sc_fcall_generic(ctx, argc, argv, 1);
}
