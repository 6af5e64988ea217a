/*
 * module_loader.c: see module_loader.h.
 */
#include "module_loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "log.h"

#define MODULES_MAX 128

static dfm_module_t *mods[MODULES_MAX];
static int nmods;

void module_set_error(dfm_module_t *m, const char *msg) {
    free(m->error);
    m->error = strdup(msg);
}

int modules_count(void) { return nmods; }
const dfm_module_t *modules_at(int i) { return mods[i]; }

static int file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The bundled module directory: flag, else build tree next to the binary, else installed. */
static void module_dir(const char *argv0, char *out, size_t cap) {
    char exe[PATH_MAX];
    if (g_config.module_dir && g_config.module_dir[0]) {
        snprintf(out, cap, "%s", g_config.module_dir);
        return;
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    (void)argv0;
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char probe[PATH_MAX + 64];
            snprintf(probe, sizeof probe, "%s/modules", exe);
            char mk[PATH_MAX + 64];
            snprintf(mk, sizeof mk, "%s/Makefile", exe);
            struct stat st;
            if (stat(probe, &st) == 0 && S_ISDIR(st.st_mode) && file_exists(mk)) {
                snprintf(out, cap, "%s", probe);
                return;
            }
        }
    }
    snprintf(out, cap, "%s", DF_MODULE_DIR);
}

static dfm_module_t *module_add(const char *path, const char *args) {
    if (nmods == MODULES_MAX) return NULL;
    for (int i = 0; i < nmods; i++)
        if (strcmp(mods[i]->path, path) == 0) return mods[i];
    dfm_module_t *m = calloc(1, sizeof *m);
    m->path = strdup(path);
    m->argv = calloc(32, sizeof(char *));
    if (args) {
        char *copy = strdup(args), *save = NULL;
        for (char *tok = strtok_r(copy, " \t", &save); tok && m->argc < 31; tok = strtok_r(NULL, " \t", &save))
            m->argv[m->argc++] = strdup(tok);
        free(copy);
    }
    mods[nmods++] = m;
    return m;
}

/* Paths that a manifest switched off (enabled = no): the module-dir scan skips them. */
static char *disabled[MODULES_MAX];
static int ndisabled;

static int path_disabled(const char *path) {
    for (int i = 0; i < ndisabled; i++)
        if (strcmp(disabled[i], path) == 0) return 1;
    return 0;
}

static int name_selected(const char *file) {
    const char *sel = g_config.modules;
    if (!sel || !*sel) return 1;
    char base[256];
    snprintf(base, sizeof base, "%s", file);
    char *dot = strstr(base, ".so");
    if (dot) *dot = '\0';
    size_t bl = strlen(base);
    for (const char *p = sel; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == bl && strncmp(p, base, n) == 0) return 1;
        p = e ? e + 1 : p + n;
    }
    return 0;
}

static void modules_scan_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    char *names[MODULES_MAX];
    int n = 0;
    while ((de = readdir(d)) && n < MODULES_MAX) {
        size_t l = strlen(de->d_name);
        if (l > 3 && strcmp(de->d_name + l - 3, ".so") == 0 && name_selected(de->d_name))
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        int dup = 0;
        for (int j = 0; j < nmods; j++) {
            const char *b = strrchr(mods[j]->path, '/');
            dup |= strcmp(b ? b + 1 : mods[j]->path, names[i]) == 0;
        }
        if (!dup && !path_disabled(path)) module_add(path, NULL);
        free(names[i]);
    }
}

typedef struct manifest {
    char name[128], path[PATH_MAX], args[1024];
    int enabled, has_module;
} manifest_t;

static int manifest_cb(void *user, const char *section, const char *name, const char *value) {
    manifest_t *m = user;
    if (strcmp(section, "module") != 0) return 1;
    m->has_module = 1;
    if (strcmp(name, "name") == 0) snprintf(m->name, sizeof m->name, "%s", value);
    else if (strcmp(name, "path") == 0) snprintf(m->path, sizeof m->path, "%s", value);
    else if (strcmp(name, "args") == 0) snprintf(m->args, sizeof m->args, "%s", value);
    else if (strcmp(name, "enabled") == 0)
        m->enabled = !(strcmp(value, "no") == 0 || strcmp(value, "false") == 0 || strcmp(value, "0") == 0);
    else return 0;
    return 1;
}

static int modules_manifests(const char *dir, char **err) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) && rc == 0) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".ini") != 0) continue;
        char file[PATH_MAX + 300];
        snprintf(file, sizeof file, "%s/%s", dir, de->d_name);
        manifest_t m = {.enabled = 1};
        int r = ini_parse(file, manifest_cb, &m);
        if (r != 0 || !m.has_module || !m.path[0]) {
            asprintf(err, "module manifest %s: %s", file,
                     r > 0 ? "bad line" : r < 0 ? "cannot read" : "needs [module] with path=");
            rc = -1;
        } else if (m.enabled) {
            module_add(m.path, m.args[0] ? m.args : NULL);
        } else if (ndisabled < MODULES_MAX) {
            disabled[ndisabled++] = strdup(m.path);
        }
    }
    closedir(d);
    return rc;
}

/* Open a file and check its descriptor before running any of its code. */
static int module_open(dfm_module_t *m, char **err) {
    m->handle = dlopen(m->path, RTLD_NOW | RTLD_LOCAL);
    if (!m->handle) {
        asprintf(err, "module %s: cannot load: %s", m->path, dlerror());
        return -1;
    }
    const dfm_descriptor_t *d = dlsym(m->handle, "dfm_module_descriptor");
    m->init = (dfm_init_fn)dlsym(m->handle, "dfm_module_init");
    const char *why = NULL;
    char buf[256];
    if (!d) why = "no dfm_module_descriptor symbol (not a dragonfly module)";
    else if (d->magic != DFM_MAGIC) why = "bad descriptor magic";
    else if (d->size < sizeof *d) why = "descriptor too small";
    else if (d->abi_major != DFM_ABI_MAJOR) {
        snprintf(buf, sizeof buf, "ABI major mismatch: core has %d.%d, module needs %d.%d",
                 DFM_ABI_MAJOR, DFM_ABI_MINOR, d->abi_major, d->abi_minor);
        why = buf;
    } else if (d->abi_minor > DFM_ABI_MINOR) {
        snprintf(buf, sizeof buf, "module needs ABI %d.%d but core has %d.%d (newer minor)",
                 d->abi_major, d->abi_minor, DFM_ABI_MAJOR, DFM_ABI_MINOR);
        why = buf;
    } else if (!d->name || !d->name[0]) why = "descriptor has no name";
    else if (!m->init) why = "missing entry point dfm_module_init";
    if (why) {
        asprintf(err, "module %s refused: %s", m->path, why);
        dlclose(m->handle);
        m->handle = NULL;
        return -1;
    }
    m->desc = d;
    m->name = strdup(d->name);
    m->version = strdup(d->version ? d->version : "0");
    return 0;
}

static dfm_module_t *module_by_name(const char *name) {
    for (int i = 0; i < nmods; i++)
        if (mods[i]->name && strcmp(mods[i]->name, name) == 0) return mods[i];
    return NULL;
}

/* Initialise m after everything it requires (depth-first, cycles refused). */
static int module_init_one(dfm_module_t *m, char **err) {
    if (m->state == 2) return 0;
    if (m->state == 1) {
        asprintf(err, "module %s: dependency cycle", m->name);
        return -1;
    }
    m->state = 1;
    for (int i = 0; i < DFM_MAX_REQUIRES && m->desc->requires[i]; i++) {
        const char *need = m->desc->requires[i];
        dfm_module_t *dep = module_by_name(need);
        if (!dep) {
            asprintf(err, "module %s (%s) requires module '%s', which is not loaded", m->name,
                     m->path, need);
            return -1;
        }
        if (module_init_one(dep, err) < 0) return -1;
    }
    api_set_registering(m);
    int r = m->init(m, &g_api, m->argc, m->argv);
    api_set_registering(NULL);
    if (r != 0 || m->error) {
        asprintf(err, "module %s (%s) failed to initialise: %s", m->name, m->path,
                 m->error ? m->error : "dfm_module_init returned an error");
        return -1;
    }
    m->state = 2;
    log_info("module %s %s loaded from %s", m->name, m->version, m->path);
    return 0;
}

int modules_load_all(const char *argv0, char **err) {
    char dir[PATH_MAX + 64];
    int explicit_only = g_config.nloadmodules > 0 && !(g_config.modules && g_config.modules[0]);
    for (int i = 0; i < g_config.nloadmodules; i++) {
        char path[PATH_MAX];
        const char *sp = strpbrk(g_config.loadmodules[i], " \t");
        size_t n = sp ? (size_t)(sp - g_config.loadmodules[i]) : strlen(g_config.loadmodules[i]);
        snprintf(path, sizeof path, "%.*s", (int)n, g_config.loadmodules[i]);
        module_add(path, sp ? sp + 1 : NULL);
    }
    (void)explicit_only;
    /* Manifests before the directory scan: their args and enabled= win for files that also
       sit in the module directory (a distro package ships both). */
    if (modules_manifests(g_config.modules_conf_dir, err) < 0) return -1;
    module_dir(argv0, dir, sizeof dir);
    modules_scan_dir(dir);
    for (int i = 0; i < nmods; i++) {
        if (module_open(mods[i], err) < 0) return -1;
        for (int j = 0; j < i; j++) {
            if (strcmp(mods[j]->name, mods[i]->name) == 0) {
                asprintf(err, "module %s is loaded twice (%s and %s)", mods[i]->name,
                         mods[j]->path, mods[i]->path);
                return -1;
            }
        }
    }
    for (int i = 0; i < nmods; i++)
        if (module_init_one(mods[i], err) < 0) return -1;
    return 0;
}

void modules_unload_all(void) {
    for (int i = 0; i < nmods; i++) {
        dfm_module_t *m = mods[i];
        if (m->handle) dlclose(m->handle);
        for (int j = 0; j < m->argc; j++) free(m->argv[j]);
        free(m->argv);
        free(m->name);
        free(m->path);
        free(m->version);
        free(m->error);
        free(m);
    }
    nmods = 0;
    for (int i = 0; i < ndisabled; i++) free(disabled[i]);
    ndisabled = 0;
}

const char *api_module_name(const dfm_module_t *m) { return m->name ? m->name : m->path; }
