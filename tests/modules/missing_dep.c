/*
 * missing_dep.c: refusal test module that requires a module nobody loads ("nosuchmodule").
 */
#include <dragonfly/module.h>

DFM_DESCRIPTOR("needy", "1.0.0", "nosuchmodule");

/* Never called: the dependency is resolved first. */
DFM_EXPORT int dfm_module_init(dfm_module_t *self, const dfm_api_t *api, int argc, char **argv) {
    (void)self, (void)api, (void)argc, (void)argv;
    return 0;
}
