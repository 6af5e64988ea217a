/*
 * bad_flag.c: refusal test module whose command carries an unknown flag ("bogusflag").
 * Start-up must fail with a message naming the flag.
 */
#include <dragonfly/module.h>

DFM_DESCRIPTOR("badflag", "1.0.0");

static void badflag_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)ctx, (void)argc, (void)argv;
}

static const dfm_command_t bad_cmd = {
    .name = "badflag.cmd", .arity = 2, .flags = "write bogusflag", .first_key = 1,
    .last_key = 1, .key_step = 1, .handler = badflag_cmd};

DFM_EXPORT int dfm_module_init(dfm_module_t *self, const dfm_api_t *api, int argc, char **argv) {
    (void)argc, (void)argv;
    return api->register_command(self, &bad_cmd);
}
