/*
 * script.c: SCRIPT LOAD, EXISTS, FLUSH, KILL and HELP. All keyless: they run on the client's
 * thread and act on that thread's cache; LOAD and FLUSH are posted to the other threads.
 */
#include <string.h>

#include "scripting.h"

void sc_cmd_script_load(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    sc_thread_t *t = sc_thread();
    char sha[SC_SHA_LEN + 1], err[512];
    sc_sha1_hex(argv[2].ptr, argv[2].len, sha);
    if (!sc_cache_find(t, sha) && !sc_learn(t, sha, argv[2].ptr, argv[2].len, err, sizeof err)) {
        sc_api->reply_error(ctx, err);
        return;
    }
    sc_api->reply_bulk(ctx, sha, SC_SHA_LEN);
}

void sc_cmd_script_exists(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    sc_thread_t *t = sc_thread();
    sc_api->reply_array(ctx, argc - 2);
    for (int i = 2; i < argc; i++) {
        char sha[SC_SHA_LEN + 1];
        int found = 0;
        if (argv[i].len == SC_SHA_LEN) {
            for (int j = 0; j < SC_SHA_LEN; j++) {
                char ch = argv[i].ptr[j];
                sha[j] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
            }
            sha[SC_SHA_LEN] = '\0';
            found = sc_cache_find(t, sha) != NULL;
        }
        sc_api->reply_int(ctx, found);
    }
}

/* SCRIPT FLUSH [ASYNC|SYNC]: both free at once (the cache is small). */
void sc_cmd_script_flush(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    if (argc > 3 || (argc == 3 && !sc_api->arg_eq(&argv[2], "sync") &&
                     !sc_api->arg_eq(&argv[2], "async"))) {
        sc_api->reply_error(ctx, "ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        return;
    }
    sc_thread_t *t = sc_thread();
    sc_cache_flush(t);
    sc_thread_reset_lua(t);
    sc_cache_broadcast_flush();
    sc_api->reply_ok(ctx);
}

void sc_reply_lines(dfm_ctx_t *ctx, const char *const *lines, size_t n) {
    sc_api->reply_array(ctx, (long)n);
    for (size_t i = 0; i < n; i++) sc_api->reply_simple(ctx, lines[i]);
}

void sc_cmd_script_help(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    static const char *const lines[] = {
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Prints this help.",
    };
    sc_reply_lines(ctx, lines, sizeof lines / sizeof lines[0]);
}
