/*
 * module.c: the scripting module: Lua 5.1 scripts with Redis 7.0's commands and semantics
 * (EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT LOAD|EXISTS|FLUSH|KILL|HELP). See scripting.h
 * for where scripts run and docs/architecture.md ("Scripting") for the sharding rule.
 */
#include "scripting.h"

DFM_DESCRIPTOR("scripting", "1.0.0");

const dfm_api_t *sc_api;

#define SC_EVAL(NAME, FLAGS, SUMMARY, SINCE, ARGS, HANDLER)                                    \
    {.name = NAME, .arity = -3, .flags = FLAGS, .first_key = 0, .last_key = 0, .key_step = 0,   \
     .keynum_index = 2, .acl_categories = "@slow @scripting", .summary = SUMMARY,               \
     .since = SINCE, .group = "scripting", .complexity = "Depends on the script that is executed.", \
     .args_doc = ARGS, .handler = HANDLER}

#define SC_SCRIPT(NAME, ARITY, FLAGS, SUMMARY, CPLX, ARGS, HANDLER)                             \
    {.name = NAME, .arity = ARITY, .flags = FLAGS, .acl_categories = "@slow @scripting",        \
     .summary = SUMMARY, .since = "2.6.0", .group = "scripting", .complexity = CPLX,            \
     .args_doc = ARGS, .handler = HANDLER}

/* "write" on EVAL/EVALSHA (Redis shows neither write nor readonly) makes the core order and
   lock a script as the writer it may be: exclusive key locks inside MULTI/EXEC and locked
   pipeline groups. */
#define SC_EVAL_FLAGS "noscript stale skip_monitor may_replicate write"
#define SC_EVAL_RO_FLAGS "noscript stale skip_monitor readonly"

static const dfm_command_t sc_commands[] = {
    SC_EVAL("eval", SC_EVAL_FLAGS, "Execute a Lua script server side", "2.6.0",
            "script numkeys [key [key ...]] [arg [arg ...]]", sc_cmd_eval),
    SC_EVAL("evalsha", SC_EVAL_FLAGS, "Execute a Lua script server side", "2.6.0",
            "sha1 numkeys [key [key ...]] [arg [arg ...]]", sc_cmd_evalsha),
    SC_EVAL("eval_ro", SC_EVAL_RO_FLAGS, "Execute a read-only Lua script server side", "7.0.0",
            "script numkeys [key [key ...]] [arg [arg ...]]", sc_cmd_eval_ro),
    SC_EVAL("evalsha_ro", SC_EVAL_RO_FLAGS, "Execute a read-only Lua script server side",
            "7.0.0", "sha1 numkeys [key [key ...]] [arg [arg ...]]", sc_cmd_evalsha_ro),
    SC_SCRIPT("script|load", 3, "noscript stale", "Load the specified Lua script into the script cache.",
              "O(N) with N being the length in bytes of the script body.", "script",
              sc_cmd_script_load),
    SC_SCRIPT("script|exists", -3, "noscript stale",
              "Check existence of scripts in the script cache.",
              "O(N) with N being the number of scripts to check.", "sha1 [sha1 ...]",
              sc_cmd_script_exists),
    SC_SCRIPT("script|flush", -2, "noscript", "Remove all the scripts from the script cache.",
              "O(N) with N being the number of scripts in cache", "[ASYNC|SYNC]",
              sc_cmd_script_flush),
    SC_SCRIPT("script|kill", 2, "noscript allow_busy",
              "Kill the script currently in execution.", "O(1)", "", sc_cmd_script_kill),
    SC_SCRIPT("script|help", 2, "loading stale", "Show helpful text about the different subcommands",
              "O(1)", "", sc_cmd_script_help),
};

DFM_EXPORT int dfm_module_init(dfm_module_t *self, const dfm_api_t *api, int argc, char **argv) {
    (void)argc, (void)argv;
    sc_api = api;
    if (!DFM_HAS(api, call)) {
        api->log(DFM_LOG_WARNING, "scripting: the core has no api->call (ABI 1.7 needed)");
        return -1;
    }
    for (size_t i = 0; i < sizeof sc_commands / sizeof sc_commands[0]; i++)
        if (api->register_command(self, &sc_commands[i]) < 0) return -1;
    static const char *const keyed[] = {"eval", "evalsha", "eval_ro", "evalsha_ro"};
    for (size_t i = 0; i < 4; i++)
        if (api->set_command_keys(self, keyed[i], sc_eval_keys) < 0) return -1;
    return api->register_shutdown(self, sc_shutdown);
}
