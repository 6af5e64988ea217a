/*
 * fn_cmd.c: FUNCTION LOAD, DELETE, FLUSH, KILL and HELP, with Redis 7.0's texts. All keyless:
 * they run on the client's thread and change the global registry (fn_registry.c); FUNCTION
 * LOAD runs the library's code on that thread, which keeps the result as its own copy.
 */
#include <lauxlib.h>

#include "functions.h"

/* "ERR unknown subcommand or wrong number of arguments for '<sub>'. Try FUNCTION HELP." */
void sc_fn_syntax_error(dfm_ctx_t *ctx, const dfm_str_t *sub) {
    sc_api->reply_errorf(ctx, "ERR unknown subcommand or wrong number of arguments for "
                              "'%.*s'. Try FUNCTION HELP.",
                         (int)(sub->len < 128 ? sub->len : 128), sub->ptr);
}

void sc_cmd_function_load(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    int replace = 0, pos = 2;
    for (; pos < argc - 1; pos++) {
        if (!sc_api->arg_eq(&argv[pos], "replace")) {
            sc_api->reply_errorf(ctx, "ERR Unknown option given: %.*s", (int)argv[pos].len,
                                 argv[pos].ptr);
            return;
        }
        replace = 1;
    }
    const dfm_str_t *body = &argv[pos];
    const char *name;
    size_t nlen, off;
    char err[512];
    if (sc_fn_meta(body->ptr, body->len, &name, &nlen, &off, err, sizeof err) < 0) {
        sc_api->reply_errorf(ctx, "ERR %s", err);
        return;
    }
    if (!replace && sc_reg_lib(sc_reg_get(), name, nlen)) {
        sc_api->reply_errorf(ctx, "ERR Library '%.*s' already exists", (int)nlen, name);
        return;
    }
    sc_thread_t *t = sc_thread();
    sc_lib_t *lib = sc_fn_create(t, body->ptr, body->len, err, sizeof err);
    if (!lib) {
        sc_api->reply_errorf(ctx, "ERR %s", err);
        return;
    }
    if (sc_reg_change(replace ? SC_REG_LOAD_REPLACE : SC_REG_LOAD, &lib, 1, NULL, 0, err,
                      sizeof err) < 0) {
        lua_pop(t->fL, 1); /* the callbacks */
        sc_api->reply_errorf(ctx, "ERR %s", err);
    } else {
        sc_fn_install(t, lib); /* this thread's copy is the one just run */
        sc_api->reply_cstr(ctx, lib->name);
    }
    sc_lib_unref(lib);
}

void sc_cmd_function_delete(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    char err[128];
    if (sc_reg_change(SC_REG_DELETE, NULL, 0, argv[2].ptr, argv[2].len, err, sizeof err) < 0)
        sc_api->reply_errorf(ctx, "ERR %s", err);
    else
        sc_api->reply_ok(ctx);
}

/* FUNCTION FLUSH [ASYNC|SYNC]: both free at once (old snapshots go after a grace period). */
void sc_cmd_function_flush(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    if (argc > 3) {
        sc_fn_syntax_error(ctx, &argv[1]);
        return;
    }
    if (argc == 3 && !sc_api->arg_eq(&argv[2], "sync") && !sc_api->arg_eq(&argv[2], "async")) {
        sc_api->reply_error(ctx, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
    }
    char err[128];
    sc_reg_change(SC_REG_FLUSH, NULL, 0, NULL, 0, err, sizeof err);
    sc_api->reply_ok(ctx);
}

void sc_cmd_function_kill(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    sc_kill_command(ctx, 1);
}

void sc_cmd_function_help(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    static const char *const lines[] = {
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        "HELP",
        "    Prints this help.",
    };
    sc_reply_lines(ctx, lines, sizeof lines / sizeof lines[0]);
}
