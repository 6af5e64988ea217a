/*
 * fn_rdb.c: functions in RDB form, as Redis 7.0 writes them: each library is a record
 * [RDB_OPCODE_FUNCTION2 (245)][its FUNCTION LOAD body as an RDB string]. FUNCTION DUMP is those
 * records framed like DUMP (RDB version, CRC-64), FUNCTION RESTORE reads them back, snapshots
 * write them before the keys and loading an RDB file (ours or Redis's) replaces the libraries
 * with the file's (register_rdb_aux).
 *
 * Loading runs on the core's loader thread, which has no Lua state: it only collects the
 * bodies; at the end of the file worker 0 runs them and publishes the libraries, while the
 * loader waits (clients get LOADING meanwhile).
 */
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "functions.h"

#define SC_FN_OPCODE_PREGA 246 /* RDB_OPCODE_FUNCTION, Redis 7.0's release candidates */

void sc_fn_save(dfm_rdb_t *rdb) {
    const sc_reg_t *reg = sc_reg_get();
    unsigned char op = SC_FN_OPCODE;
    for (int i = 0; i < reg->nlibs; i++) {
        sc_api->rdb_save_raw(rdb, &op, 1);
        sc_api->rdb_save_string(rdb, reg->libs[i]->code, reg->libs[i]->code_len);
    }
}

void sc_cmd_function_dump(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    dfm_rdb_t *w = sc_api->rdb_writer_new();
    sc_fn_save(w);
    size_t len;
    char *p = sc_api->rdb_writer_payload(w, &len);
    sc_api->reply_bulk(ctx, p, len);
    sc_api->free(p);
}

/* ---- FUNCTION RESTORE ---- */

/* A library from one body, as RESTORE creates it: not named like one of libs[0..n). */
static sc_lib_t *sc_fn_restore_one(sc_thread_t *t, const char *body, size_t len,
                                   sc_lib_t **libs, int n, char *err, size_t cap) {
    const char *name;
    size_t nlen, off;
    if (sc_fn_meta(body, len, &name, &nlen, &off, err, cap) < 0) return NULL;
    for (int i = 0; i < n; i++) {
        if (strlen(libs[i]->name) != nlen || memcmp(libs[i]->name, name, nlen) != 0) continue;
        snprintf(err, cap, "Library '%.*s' already exists", (int)nlen, name);
        return NULL;
    }
    sc_lib_t *lib = sc_fn_create(t, body, len, err, cap);
    if (lib) lua_pop(t->fL, 1); /* callbacks: threads load the library when it is called */
    return lib;
}

/* The libraries of a payload's records: their count (libs[] filled, refs 1), or -1 with err
   (nothing kept). */
static int sc_fn_restore_read(sc_thread_t *t, dfm_rdb_t *r, sc_lib_t ***libs, char *err,
                              size_t cap) {
    int n = 0;
    *libs = NULL;
    while (!sc_api->rdb_at_end(r)) {
        unsigned char op;
        const char *why = NULL;
        if (sc_api->rdb_load_raw(r, &op, 1) < 0)
            why = "can not read data type";
        else if (op == SC_FN_OPCODE_PREGA)
            why = "Pre-GA function format not supported";
        else if (op != SC_FN_OPCODE)
            why = "given type is not a function";
        size_t len;
        char *body = why ? NULL : sc_api->rdb_load_string(r, &len);
        if (!why && !body) why = "Failed loading library payload";
        sc_lib_t *lib = why ? NULL : sc_fn_restore_one(t, body, len, *libs, n, err, cap);
        sc_api->free(body);
        if (why) snprintf(err, cap, "%s", why);
        if (!lib) {
            while (n > 0) sc_lib_unref((*libs)[--n]);
            sc_api->free(*libs);
            return -1;
        }
        *libs = sc_api->realloc(*libs, sizeof **libs * (size_t)(n + 1));
        (*libs)[n++] = lib;
    }
    return n;
}

void sc_cmd_function_restore(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    if (argc > 4) {
        sc_fn_syntax_error(ctx, &argv[1]);
        return;
    }
    int mode = SC_REG_APPEND;
    if (argc == 4) {
        if (sc_api->arg_eq(&argv[3], "flush"))
            mode = SC_REG_FLUSH;
        else if (sc_api->arg_eq(&argv[3], "replace"))
            mode = SC_REG_REPLACE;
        else if (!sc_api->arg_eq(&argv[3], "append")) {
            sc_api->reply_error(ctx, "ERR Wrong restore policy given, value should be either "
                                     "FLUSH, APPEND or REPLACE.");
            return;
        }
    }
    dfm_rdb_t *r = sc_api->rdb_payload_reader(argv[2].ptr, argv[2].len);
    if (!r) {
        sc_api->reply_error(ctx, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    sc_lib_t **libs;
    char err[512];
    int n = sc_fn_restore_read(sc_thread(), r, &libs, err, sizeof err);
    sc_api->rdb_free(r);
    if (n >= 0 && sc_reg_change(mode, libs, n, NULL, 0, err, sizeof err) == 0)
        sc_api->reply_ok(ctx);
    else
        sc_api->reply_errorf(ctx, "ERR %s", err);
    for (int i = 0; i < n; i++) sc_lib_unref(libs[i]);
    if (n >= 0) sc_api->free(libs);
}

/* ---- RDB files ---- */

/* The bodies read from the file being loaded (the loader thread's until load_end). */
typedef struct sc_fn_loaded {
    int n;
    dfm_str_t *bodies;
    atomic_int done;
} sc_fn_loaded_t;

static sc_fn_loaded_t sc_loaded;

static void sc_fn_loaded_clear(void) {
    for (int i = 0; i < sc_loaded.n; i++) sc_api->free((char *)(uintptr_t)sc_loaded.bodies[i].ptr);
    sc_api->free(sc_loaded.bodies);
    sc_loaded.bodies = NULL;
    sc_loaded.n = 0;
}

static void sc_fn_load_begin(void) { sc_fn_loaded_clear(); }

static int sc_fn_load_record(dfm_rdb_t *rdb) {
    size_t len;
    char *body = sc_api->rdb_load_string(rdb, &len);
    if (!body) return -1;
    sc_loaded.bodies = sc_api->realloc(sc_loaded.bodies,
                                       sizeof *sc_loaded.bodies * (size_t)(sc_loaded.n + 1));
    sc_loaded.bodies[sc_loaded.n++] = (dfm_str_t){body, len};
    return 0;
}

/* On worker 0: the file's libraries replace the current ones. One that fails to load (or
   clashes with an earlier one) is left out, with a warning. */
static void sc_fn_adopt(void *arg) {
    (void)arg;
    char err[512];
    sc_reg_change(SC_REG_FLUSH, NULL, 0, NULL, 0, err, sizeof err);
    sc_thread_t *t = sc_thread();
    for (int i = 0; i < sc_loaded.n; i++) {
        const dfm_str_t *b = &sc_loaded.bodies[i];
        sc_lib_t *lib = sc_fn_create(t, b->ptr, b->len, err, sizeof err);
        if (lib) lua_pop(t->fL, 1);
        if (!lib || sc_reg_change(SC_REG_LOAD, &lib, 1, NULL, 0, err, sizeof err) < 0)
            sc_api->log(DFM_LOG_WARNING, "Failed loading library from the RDB file: %s", err);
        sc_lib_unref(lib);
    }
    atomic_store(&sc_loaded.done, 1);
}

static void sc_fn_load_end(int ok) {
    if (ok) {
        atomic_store(&sc_loaded.done, 0);
        sc_api->post(0, sc_fn_adopt, NULL);
        while (!atomic_load(&sc_loaded.done)) usleep(1000); /* the loader thread may wait */
    }
    sc_fn_loaded_clear();
}

const dfm_rdb_aux_t sc_fn_rdb_aux = {
    .size = sizeof(dfm_rdb_aux_t),
    .opcode = SC_FN_OPCODE,
    .save = sc_fn_save,
    .load_begin = sc_fn_load_begin,
    .load = sc_fn_load_record,
    .load_end = sc_fn_load_end,
};
