/*
 * module.c: the scripting module: Lua 5.1 scripts with Redis 7.0's commands and semantics
 * (EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT LOAD|EXISTS|FLUSH|KILL|HELP) and functions
 * (FUNCTION LOAD|DELETE|FLUSH|LIST|STATS|KILL|DUMP|RESTORE|HELP, FCALL, FCALL_RO). See
 * scripting.h and functions.h for where they run and docs/architecture.md ("Scripting") for
 * the sharding rule.
 */
#include "functions.h"

DFM_DESCRIPTOR("scripting", "1.0.0");

const dfm_api_t *sc_api;

#define SC_EVAL(NAME, FLAGS, SUMMARY, SINCE, ARGS, HANDLER)                                    \
    {.name = NAME, .arity = -3, .flags = FLAGS, .first_key = 0, .last_key = 0, .key_step = 0,   \
     .keynum_index = 2, .acl_categories = "@slow @scripting", .summary = SUMMARY,               \
     .since = SINCE, .group = "scripting", .complexity = "Depends on the script that is executed.", \
     .args_doc = ARGS, .handler = HANDLER}

/* A SCRIPT (since 2.6.0) or FUNCTION (since 7.0.0) subcommand. */
#define SC_SUB(SINCE, NAME, ARITY, FLAGS, SUMMARY, CPLX, ARGS, HANDLER)                         \
    {.name = NAME, .arity = ARITY, .flags = FLAGS, .acl_categories = "@slow @scripting",        \
     .summary = SUMMARY, .since = SINCE, .group = "scripting", .complexity = CPLX,              \
     .args_doc = ARGS, .handler = HANDLER}
#define SC_SCRIPT(...) SC_SUB("2.6.0", __VA_ARGS__)
#define SC_FUNCTION(...) SC_SUB("7.0.0", __VA_ARGS__)

/* "write" on EVAL/EVALSHA (Redis shows neither write nor readonly) makes the core order and
   lock a script as the writer it may be: exclusive key locks inside MULTI/EXEC and locked
   pipeline groups. */
#define SC_EVAL_FLAGS "noscript stale skip_monitor no_mandatory_keys may_replicate write"
#define SC_EVAL_RO_FLAGS "noscript stale skip_monitor no_mandatory_keys readonly"

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
    SC_EVAL("fcall", SC_EVAL_FLAGS, "Invoke a function", "7.0.0",
            "function numkeys [key [key ...]] [arg [arg ...]]", sc_cmd_fcall),
    SC_EVAL("fcall_ro", SC_EVAL_RO_FLAGS, "Invoke a read-only function", "7.0.0",
            "function numkeys [key [key ...]] [arg [arg ...]]", sc_cmd_fcall_ro),
    SC_FUNCTION("function|load", -3, "write denyoom noscript", "Create a function library",
                "O(1) (considering compilation time is redundant)", "[REPLACE] function-code",
                sc_cmd_function_load),
    SC_FUNCTION("function|delete", 3, "write noscript", "Delete a library and all its functions.",
                "O(1)", "library-name", sc_cmd_function_delete),
    SC_FUNCTION("function|flush", -2, "write noscript", "Deleting all functions",
                "O(N) where N is the number of functions deleted", "[ASYNC|SYNC]",
                sc_cmd_function_flush),
    SC_FUNCTION("function|list", -2, "noscript", "List information about all the functions",
                "O(N) where N is the number of functions", "[LIBRARYNAME library-name-pattern] [WITHCODE]",
                sc_cmd_function_list),
    SC_FUNCTION("function|stats", 2, "noscript allow_busy",
                "Return information about the function currently running (name, description, duration)",
                "O(1)", "", sc_cmd_function_stats),
    SC_FUNCTION("function|kill", 2, "noscript allow_busy",
                "Kill the function currently in execution.", "O(1)", "", sc_cmd_function_kill),
    SC_FUNCTION("function|dump", 2, "noscript", "Dump all functions into a serialized binary payload",
                "O(N) where N is the number of functions", "", sc_cmd_function_dump),
    SC_FUNCTION("function|restore", -3, "write denyoom noscript",
                "Restore all the functions on the given payload",
                "O(N) where N is the number of functions on the payload", "serialized-value [FLUSH|APPEND|REPLACE]",
                sc_cmd_function_restore),
    SC_FUNCTION("function|help", 2, "loading stale", "Show helpful text about the different subcommands",
                "O(1)", "", sc_cmd_function_help),
};

/* Redis 7's busy-reply-threshold and its old name lua-time-limit: one value. */
#define SC_BUSY_CONF(NAME)                                                                      \
    {.name = NAME, .kind = DFM_CONF_INT, .default_value = "5000", .min = 0, .max = INT64_MAX,   \
     .help = "milliseconds a script runs before other clients get BUSY and SCRIPT KILL works",  \
     .storage = &sc_busy_ms, .mutable_at_runtime = 1}

static const dfm_config_t sc_configs[] = {
    SC_BUSY_CONF("busy-reply-threshold"),
    SC_BUSY_CONF("lua-time-limit"),
    {.name = "lua-memory-limit", .kind = DFM_CONF_SIZE, .default_value = "512mb", .min = 0,
     .max = INT64_MAX, .help = "bytes one thread's Lua state may hold while a script runs (0: no limit)",
     .storage = &sc_lua_mem_limit, .mutable_at_runtime = 1},
};

DFM_EXPORT int dfm_module_init(dfm_module_t *self, const dfm_api_t *api, int argc, char **argv) {
    (void)argc, (void)argv;
    sc_api = api;
    if (!DFM_HAS(api, shutdown_pending)) {
        api->log(DFM_LOG_WARNING, "scripting: the core is older than ABI 1.8");
        return -1;
    }
    for (size_t i = 0; i < sizeof sc_configs / sizeof sc_configs[0]; i++)
        if (api->register_config(self, &sc_configs[i]) < 0) return -1;
    for (size_t i = 0; i < sizeof sc_commands / sizeof sc_commands[0]; i++)
        if (api->register_command(self, &sc_commands[i]) < 0) return -1;
    static const char *const keyed[] = {"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall",
                                        "fcall_ro"};
    for (size_t i = 0; i < sizeof keyed / sizeof keyed[0]; i++)
        if (api->set_command_route(self, keyed[i], sc_eval_route) < 0) return -1;
    if (api->register_rdb_aux(self, &sc_fn_rdb_aux) < 0) return -1;
    if (api->register_info(self, "memory", sc_info_memory) < 0) return -1;
    return api->register_shutdown(self, sc_shutdown);
}
