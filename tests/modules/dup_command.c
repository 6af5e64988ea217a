/*
 * dup_command.c: refusal test module that registers "get", which the strings module owns.
 * Start-up must fail with a message naming both modules.
 */
#include <dragonfly/module.h>

DFM_DESCRIPTOR("dupget", "1.0.0");

static void dup_get(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)ctx, (void)argc, (void)argv;
}

static const dfm_command_t dup_cmd = {
    .name = "get", .arity = 2, .flags = "readonly fast", .first_key = 1, .last_key = 1,
    .key_step = 1, .handler = dup_get};

DFM_EXPORT int dfm_module_init(dfm_module_t *self, const dfm_api_t *api, int argc, char **argv) {
    (void)argc, (void)argv;
    return api->register_command(self, &dup_cmd);
}
