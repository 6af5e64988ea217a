/*
 * newer_minor.c: refusal test module that needs a newer ABI minor than the core has
 * (DFM_ABI_MINOR + 1): the core must refuse it, naming the file and both versions.
 */
#include <dragonfly/module.h>

DFM_EXPORT const dfm_descriptor_t dfm_module_descriptor = {
    DFM_MAGIC, sizeof(dfm_descriptor_t), DFM_ABI_MAJOR, DFM_ABI_MINOR + 1, "newminor", "1.0.0",
    {0}};

/* Never called: the descriptor check comes first. */
DFM_EXPORT int dfm_module_init(dfm_module_t *self, const dfm_api_t *api, int argc, char **argv) {
    (void)self, (void)api, (void)argc, (void)argv;
    return 0;
}
