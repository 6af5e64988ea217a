/*
 * module_loader.h: finding, checking and initialising modules at start-up.
 *
 * Sources: every bundled module found in the module directory (--module_dir, else the build
 * tree's modules/ when the binary runs from it, else the installed $(pkglibdir)/modules),
 * narrowed by --modules=a,b; INI manifests in modules.d/ ([module] name, path, args,
 * enabled); --loadmodule PATH [args] (repeatable, also "loadmodule" in a config file).
 * Each file's descriptor is checked before any of its code runs; modules initialise in
 * dependency order; any refusal stops start-up with a message naming the file, the versions
 * and the reason. Main thread only.
 */
#ifndef DF_MODULE_LOADER_H
#define DF_MODULE_LOADER_H

#include "dragonfly/module.h"

struct dfm_module {
    char *name;
    char *path;
    char *version;
    void *handle;
    const dfm_descriptor_t *desc;
    dfm_init_fn init;
    int argc;
    char **argv;
    int state; /* 0 found, 1 initialising, 2 loaded */
    char *error;
};

/* Load everything configured. 0, or -1 with *err (malloc'd). */
int modules_load_all(const char *argv0, char **err);
void module_set_error(dfm_module_t *m, const char *msg);
int modules_count(void);
const dfm_module_t *modules_at(int i);
void modules_unload_all(void);

#endif
