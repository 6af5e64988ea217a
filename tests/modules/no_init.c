/*
 * no_init.c: refusal test module with a valid descriptor but no dfm_module_init entry point.
 */
#include <dragonfly/module.h>

DFM_DESCRIPTOR("noinit", "1.0.0");
