/*
 * good.c: the smallest valid module (one keyless command, GOOD.PING). The tests load two
 * copies of it from different paths to check that a module name can only be loaded once.
 */
#include <dragonfly/module.h>

DFM_DESCRIPTOR("good", "1.2.3");

static const dfm_api_t *api;

static void good_ping(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    api->reply_simple(ctx, "GOOD");
}

static const dfm_command_t good_cmd = {
    .name = "good.ping", .arity = 1, .flags = "fast", .handler = good_ping};

DFM_EXPORT int dfm_module_init(dfm_module_t *self, const dfm_api_t *core, int argc,
                               char **argv) {
    (void)argc, (void)argv;
    api = core;
    return api->register_command(self, &good_cmd);
}
