/*
 * bad_abi_major.c: refusal test module built for a future ABI major (99). The core must
 * refuse it before running any of its code, naming the file and both versions.
 */
#include <dragonfly/module.h>

DFM_EXPORT const dfm_descriptor_t dfm_module_descriptor = {
    DFM_MAGIC, sizeof(dfm_descriptor_t), 99, 0, "badmajor", "1.0.0", {0}};

/* Never called: the descriptor check comes first. */
DFM_EXPORT int dfm_module_init(dfm_module_t *self, const dfm_api_t *api, int argc, char **argv) {
    (void)self, (void)api, (void)argc, (void)argv;
    return 0;
}
