/*
 * module.c: the memcached module: the text protocol on --memcached_port (parse.c turns
 * requests into the internal commands registered here, with the "protocol" flag, so Redis
 * clients cannot call them and COMMAND does not list them).
 */
#include <stddef.h>

#include "mc.h"

DFM_DESCRIPTOR("memcached", "1.0.0");

const dfm_api_t *mc_api;
int64_t mc_port;
extern int64_t mc_start_ms;

static const dfm_config_t mc_config = {
    .name = "memcached_port", .kind = DFM_CONF_INT, .default_value = "0",
    .help = "serve memcached's text protocol on this port (0: off)", .min = 0, .max = 65535,
    .storage = &mc_port, .mutable_at_runtime = 0};

static const dfm_request_protocol_t mc_protocol = {
    .size = sizeof(dfm_request_protocol_t), .name = "memcached", .port_flag = "memcached_port",
    .port = &mc_port, .conn_new = mc_conn_new, .conn_free = mc_conn_free, .parse = mc_parse};

#define MC_CMD(NAME, ARITY, FLAGS, KEY, HANDLER, MULTI)                                        \
    {.name = NAME, .arity = ARITY, .flags = FLAGS, .first_key = KEY, .last_key = KEY,          \
     .key_step = KEY, .acl_categories = "@fast", .summary = "memcached " NAME,                 \
     .since = "1.0.0", .group = "memcached", .complexity = "O(1)", .args_doc = "",             \
     .handler = HANDLER, .multi = MULTI}

static const dfm_command_t mc_commands[] = {
    MC_CMD("mc.set", 7, "write denyoom fast protocol", 1, mc_cmd_store, NULL),
    MC_CMD("mc.add", 7, "write denyoom fast protocol", 1, mc_cmd_store, NULL),
    MC_CMD("mc.replace", 7, "write denyoom fast protocol", 1, mc_cmd_store, NULL),
    MC_CMD("mc.append", 7, "write denyoom fast protocol", 1, mc_cmd_store, NULL),
    MC_CMD("mc.prepend", 7, "write denyoom fast protocol", 1, mc_cmd_store, NULL),
    MC_CMD("mc.cas", 7, "write denyoom fast protocol", 1, mc_cmd_store, NULL),
    MC_CMD("mc.toolarge", 4, "write fast protocol", 1, mc_cmd_toolarge, NULL),
    MC_CMD("mc.get", 3, "readonly fast protocol", 1, mc_cmd_get, NULL),
    MC_CMD("mc.gets", 3, "readonly fast protocol", 1, mc_cmd_get, NULL),
    MC_CMD("mc.gat", 3, "write fast protocol", 1, mc_cmd_get, NULL),
    MC_CMD("mc.gats", 3, "write fast protocol", 1, mc_cmd_get, NULL),
    MC_CMD("mc.touch", 4, "write fast protocol", 1, mc_cmd_touch, NULL),
    MC_CMD("mc.delete", 4, "write fast protocol", 1, mc_cmd_delete, NULL),
    MC_CMD("mc.incr", 4, "write denyoom fast protocol", 1, mc_cmd_arith, NULL),
    MC_CMD("mc.decr", 4, "write denyoom fast protocol", 1, mc_cmd_arith, NULL),
    MC_CMD("mc.text", 2, "fast protocol", 0, mc_cmd_text, NULL),
    MC_CMD("mc.mg", 3, "write fast protocol", 1, mc_cmd_mg, NULL),
    MC_CMD("mc.ms", 4, "write denyoom fast protocol", 1, mc_cmd_ms, NULL),
    MC_CMD("mc.md", 3, "write fast protocol", 1, mc_cmd_md, NULL),
    MC_CMD("mc.flush_all", 2, "write allshards protocol", 0, NULL, &mc_flush_multi),
    MC_CMD("mc.stats", 1, "readonly allshards protocol", 0, NULL, &mc_stats_multi),
    {0},
};

DFM_EXPORT int dfm_module_init(dfm_module_t *self, const dfm_api_t *api, int argc, char **argv) {
    (void)argc;
    (void)argv;
    mc_api = api;
    mc_start_ms = api->now_ms();
    if (!DFM_HAS(api, register_request_protocol)) {
        api->log(DFM_LOG_WARNING, "memcached: the core has no request protocols (ABI < 1.6)");
        return -1;
    }
    if (api->register_config(self, &mc_config) < 0) return -1;
    for (const dfm_command_t *c = mc_commands; c->name != NULL; c++)
        if (api->register_command(self, c) < 0) return -1;
    return api->register_request_protocol(self, &mc_protocol);
}
