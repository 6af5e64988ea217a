/*
 * fn_registry.c: the global registry of function libraries (see functions.h). Writers build a
 * new immutable snapshot from the current one and publish it by compare-and-swap (retrying if
 * another thread published first); the old one is retired (sc_retire: freed after every
 * worker ran a later post). Readers load the pointer and use it within their command.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "functions.h"

static _Atomic(sc_reg_t *) sc_reg_cur; /* NULL: no library */
static sc_reg_t sc_reg_empty;
static atomic_uint_fast64_t sc_reg_versions, sc_lib_gens;

static char *sc_strndup(const char *p, size_t n) {
    char *s = sc_api->alloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

sc_lib_t *sc_lib_new(const char *name, size_t nlen, const char *code, size_t len) {
    sc_lib_t *lib = sc_api->alloc(sizeof *lib);
    atomic_init(&lib->refs, 1);
    lib->gen = atomic_fetch_add(&sc_lib_gens, 1) + 1;
    lib->name = sc_strndup(name, nlen);
    lib->code = sc_strndup(code, len);
    lib->code_len = len;
    lib->nfns = 0;
    lib->fns = NULL;
    return lib;
}

void sc_lib_unref(sc_lib_t *lib) {
    if (!lib || atomic_fetch_sub(&lib->refs, 1) != 1) return;
    for (int i = 0; i < lib->nfns; i++) {
        sc_api->free(lib->fns[i].name);
        sc_api->free(lib->fns[i].desc);
    }
    sc_api->free(lib->fns);
    sc_api->free(lib->name);
    sc_api->free(lib->code);
    sc_api->free(lib);
}

static size_t sc_name_hash(const char *p, size_t n) {
    size_t h = 5381;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        h = h * 33 + (c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    return h;
}

const sc_reg_t *sc_reg_get(void) {
    sc_reg_t *r = atomic_load(&sc_reg_cur);
    return r ? r : &sc_reg_empty;
}

sc_lib_t *sc_reg_lib(const sc_reg_t *r, const char *name, size_t len) {
    for (int i = 0; i < r->nlibs; i++)
        if (strlen(r->libs[i]->name) == len && memcmp(r->libs[i]->name, name, len) == 0)
            return r->libs[i];
    return NULL;
}

/* The slot of function name in r: its entry, or the empty slot where it would go. */
static sc_reg_slot_t *sc_reg_slot(const sc_reg_t *r, const char *name, size_t len) {
    for (size_t i = sc_name_hash(name, len) & r->mask;; i = (i + 1) & r->mask) {
        sc_reg_slot_t *s = &r->slots[i];
        if (!s->lib) return s;
        const char *fn = s->lib->fns[s->fn].name;
        if (strlen(fn) == len && strncasecmp(fn, name, len) == 0) return s;
    }
}

const sc_fn_t *sc_reg_fn(const sc_reg_t *r, const char *name, size_t len, sc_lib_t **lib) {
    if (!r->slots) return NULL;
    sc_reg_slot_t *s = sc_reg_slot(r, name, len);
    if (!s->lib) return NULL;
    *lib = s->lib;
    return &s->lib->fns[s->fn];
}

static void sc_reg_free(void *arg) {
    sc_reg_t *r = arg;
    for (int i = 0; i < r->nlibs; i++) sc_lib_unref(r->libs[i]);
    sc_api->free(r->libs);
    sc_api->free(r->slots);
    sc_api->free(r);
}

/* A snapshot of libs[0..n) (the array is taken; references are taken only on success), or
   NULL with err when two of their functions share a name. */
static sc_reg_t *sc_reg_new(sc_lib_t **libs, int n, char *err, size_t cap) {
    sc_reg_t *r = sc_api->alloc(sizeof *r);
    *r = (sc_reg_t){.version = atomic_fetch_add(&sc_reg_versions, 1) + 1, .libs = libs,
                    .nlibs = n};
    for (int i = 0; i < n; i++) r->nfns += libs[i]->nfns;
    size_t nslots = 8;
    while (nslots < 2 * (size_t)r->nfns) nslots *= 2;
    r->mask = nslots - 1;
    r->slots = sc_api->alloc(nslots * sizeof *r->slots);
    memset(r->slots, 0, nslots * sizeof *r->slots);
    for (int i = 0; i < n; i++) {
        for (int f = 0; f < libs[i]->nfns; f++) {
            const char *name = libs[i]->fns[f].name;
            sc_reg_slot_t *s = sc_reg_slot(r, name, strlen(name));
            if (s->lib) {
                snprintf(err, cap, "Function %s already exists", name);
                r->nlibs = 0; /* no references were taken */
                sc_reg_free(r);
                return NULL;
            }
            *s = (sc_reg_slot_t){libs[i], f};
        }
    }
    for (int i = 0; i < n; i++) atomic_fetch_add(&libs[i]->refs, 1);
    return r;
}

/* Is lib replaced or removed by this change? */
static int sc_reg_drops(const sc_lib_t *lib, int mode, sc_lib_t **add, int nadd,
                        const char *del, size_t dlen) {
    if (mode == SC_REG_DELETE)
        return strlen(lib->name) == dlen && memcmp(lib->name, del, dlen) == 0;
    if (mode != SC_REG_LOAD_REPLACE && mode != SC_REG_REPLACE) return 0;
    for (int i = 0; i < nadd; i++)
        if (strcmp(add[i]->name, lib->name) == 0) return 1;
    return 0;
}

/* cur changed by mode, or NULL with err. */
static sc_reg_t *sc_reg_build(const sc_reg_t *cur, int mode, sc_lib_t **add, int nadd,
                              const char *del, size_t dlen, char *err, size_t cap) {
    if (mode == SC_REG_DELETE && !sc_reg_lib(cur, del, dlen)) {
        snprintf(err, cap, "Library not found");
        return NULL;
    }
    for (int i = 0; (mode == SC_REG_LOAD || mode == SC_REG_APPEND) && i < nadd; i++) {
        if (!sc_reg_lib(cur, add[i]->name, strlen(add[i]->name))) continue;
        snprintf(err, cap, mode == SC_REG_LOAD ? "Library '%s' already exists"
                                               : "Library %s already exists", add[i]->name);
        return NULL;
    }
    sc_lib_t **libs = sc_api->alloc(sizeof *libs * (size_t)(cur->nlibs + nadd + 1));
    int n = 0;
    for (int i = 0; mode != SC_REG_FLUSH && i < cur->nlibs; i++)
        if (!sc_reg_drops(cur->libs[i], mode, add, nadd, del, dlen)) libs[n++] = cur->libs[i];
    for (int i = 0; i < nadd; i++) libs[n++] = add[i];
    return sc_reg_new(libs, n, err, cap);
}

static void sc_reg_retire(sc_reg_t *r) {
    if (r) sc_retire(r, sc_reg_free);
}

int sc_reg_change(int mode, sc_lib_t **add, int nadd, const char *del, size_t dlen, char *err,
                  size_t cap) {
    for (;;) {
        sc_reg_t *cur = atomic_load(&sc_reg_cur);
        sc_reg_t *next = sc_reg_build(cur ? cur : &sc_reg_empty, mode, add, nadd, del, dlen,
                                      err, cap);
        if (!next) return -1;
        if (atomic_compare_exchange_strong(&sc_reg_cur, &cur, next)) {
            sc_reg_retire(cur);
            return 0;
        }
        sc_reg_free(next); /* another thread published first: again, from its snapshot */
    }
}

void sc_reg_shutdown(void) {
    sc_reg_t *r = atomic_exchange(&sc_reg_cur, NULL);
    if (r) sc_reg_free(r);
}
