/*
 * functions.h: Redis 7.0's functions (FUNCTION LOAD|DELETE|FLUSH|LIST|STATS|KILL|DUMP|RESTORE,
 * FCALL, FCALL_RO) on top of the scripting module.
 *
 * Libraries are global: one registry (fn_registry.c), an immutable snapshot that writers on
 * any thread replace by compare-and-swap and that readers use within one command. A replaced
 * snapshot is freed once every worker has run a post sent after the swap (it then runs no
 * command that could still hold it): no lock, and no thread waits for another.
 *
 * Each worker runs functions in a Lua state of its own (separate from EVAL's, as in Redis),
 * into which it loads a library lazily, the first time one of its functions is called there
 * (or at once, on the thread that ran FUNCTION LOAD), by running the library's code again.
 * A library's top-level state (its local variables) is therefore per thread.
 */
#ifndef DF_SCRIPTING_FUNCTIONS_H
#define DF_SCRIPTING_FUNCTIONS_H

#include <stdatomic.h>

#include "scripting.h"

#define SC_FN_OPCODE 245 /* RDB_OPCODE_FUNCTION2: one library's code as an RDB string */

typedef struct sc_fn {
    char *name; /* as registered (lookups ignore case) */
    char *desc; /* NULL: none */
    int flags;  /* SC_FLAG_* bits (sc_flag_names) */
} sc_fn_t;

/* One loaded library, immutable once published; shared by the registries that list it. */
typedef struct sc_lib {
    atomic_int refs;
    uint64_t gen; /* unique per load: a thread's copy of the library is current if it matches */
    char *name;
    char *code; /* the whole FUNCTION LOAD body, shebang line included */
    size_t code_len;
    int nfns;
    sc_fn_t *fns;
} sc_lib_t;

typedef struct sc_reg_slot {
    sc_lib_t *lib;
    int fn;
} sc_reg_slot_t;

/* A registry snapshot: every library, and an index of their functions by name. */
typedef struct sc_reg {
    uint64_t version; /* changes with every published snapshot */
    int nlibs, nfns;
    sc_lib_t **libs;
    size_t mask; /* slots: open addressing, case-insensitive function names */
    sc_reg_slot_t *slots;
} sc_reg_t;

/* How sc_reg_change combines new libraries with the current ones. */
enum {
    SC_REG_LOAD,         /* a library of the same name: "Library 'x' already exists" */
    SC_REG_LOAD_REPLACE, /* ... is replaced */
    SC_REG_APPEND,       /* FUNCTION RESTORE APPEND: "Library x already exists" */
    SC_REG_REPLACE,      /* FUNCTION RESTORE REPLACE */
    SC_REG_FLUSH,        /* the new libraries are all there is (FLUSH, RESTORE FLUSH, a load) */
    SC_REG_DELETE,       /* remove the library named del: "Library not found" */
};

/* fn_registry.c */
sc_lib_t *sc_lib_new(const char *name, size_t nlen, const char *code, size_t len);
void sc_lib_unref(sc_lib_t *lib);
/* The current snapshot (never NULL): valid until the calling worker's command returns. */
const sc_reg_t *sc_reg_get(void);
sc_lib_t *sc_reg_lib(const sc_reg_t *r, const char *name, size_t len);
const sc_fn_t *sc_reg_fn(const sc_reg_t *r, const char *name, size_t len, sc_lib_t **lib);
/* Publish the current snapshot changed by mode (a worker thread): 0, or -1 with err (Redis's
   text without "ERR "); the registry takes its own references to add[]. */
int sc_reg_change(int mode, sc_lib_t **add, int nadd, const char *del, size_t dlen, char *err,
                  size_t cap);
void sc_reg_shutdown(void);

/* fn_load.c */
/* Parse "#!lua name=<lib>" (Redis's rules and texts): 0 with the name (into body) and the
   code's offset (its first newline, kept so line numbers hold), or -1 with err. */
int sc_fn_meta(const char *body, size_t len, const char **name, size_t *nlen, size_t *code_off,
               char *err, size_t cap);
/* This worker's function Lua state (created on first use). */
lua_State *sc_fn_state(sc_thread_t *t);
/* Run library body (FUNCTION LOAD's argument) on t's function state in load mode: a new
   library (refs 1, gen set) with the functions it registered, and its callbacks table pushed
   on the state's stack; or NULL with err (Redis's text, without "ERR "), nothing pushed. */
sc_lib_t *sc_fn_create(sc_thread_t *t, const char *body, size_t len, char *err, size_t cap);
/* Install the callbacks table on top of the stack as t's copy of lib (popped). */
void sc_fn_install(sc_thread_t *t, const sc_lib_t *lib);
/* Push the callback of fn (of lib) on t's function state, loading lib there if its copy is
   missing or stale: 0, or -1 with err. */
int sc_fn_push(sc_thread_t *t, const sc_reg_t *r, const sc_lib_t *lib, const sc_fn_t *fn,
               char *err, size_t cap);

/* fn_rdb.c */
void sc_fn_save(dfm_rdb_t *rdb);             /* every library as an RDB FUNCTION2 record */
extern const dfm_rdb_aux_t sc_fn_rdb_aux;    /* snapshots and RDB loading */
void sc_cmd_function_dump(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_function_restore(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);

/* fn_cmd.c, fn_list.c, fcall.c */
/* "ERR unknown subcommand or wrong number of arguments for '<sub>'. Try FUNCTION HELP." */
void sc_fn_syntax_error(dfm_ctx_t *ctx, const dfm_str_t *sub);
void sc_cmd_function_load(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_function_delete(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_function_flush(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_function_kill(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_function_help(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_function_list(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_function_stats(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_fcall(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void sc_cmd_fcall_ro(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);

#endif
