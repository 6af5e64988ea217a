/*
 * fn_list.c: FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE] and FUNCTION STATS, Redis 7.0's
 * replies (maps, which RESP2 clients get as flat arrays). Libraries come in the registry's
 * order (Redis's is its hash table's: clients must not rely on either).
 */
#include <string.h>

#include "functions.h"

static void sc_reply_function(dfm_ctx_t *ctx, const sc_fn_t *f) {
    sc_api->reply_map(ctx, 3);
    sc_api->reply_cstr(ctx, "name");
    sc_api->reply_cstr(ctx, f->name);
    sc_api->reply_cstr(ctx, "description");
    if (f->desc)
        sc_api->reply_cstr(ctx, f->desc);
    else
        sc_api->reply_null(ctx);
    sc_api->reply_cstr(ctx, "flags");
    long n = 0;
    for (int i = 0; sc_flag_names[i]; i++) n += (f->flags >> i) & 1;
    sc_api->reply_set(ctx, n);
    for (int i = 0; sc_flag_names[i]; i++)
        if ((f->flags >> i) & 1) sc_api->reply_simple(ctx, sc_flag_names[i]);
}

static void sc_reply_library(dfm_ctx_t *ctx, const sc_lib_t *lib, int with_code) {
    sc_api->reply_map(ctx, with_code ? 4 : 3);
    sc_api->reply_cstr(ctx, "library_name");
    sc_api->reply_cstr(ctx, lib->name);
    sc_api->reply_cstr(ctx, "engine");
    sc_api->reply_cstr(ctx, "LUA");
    sc_api->reply_cstr(ctx, "functions");
    sc_api->reply_array(ctx, lib->nfns);
    for (int i = 0; i < lib->nfns; i++) sc_reply_function(ctx, &lib->fns[i]);
    if (with_code) {
        sc_api->reply_cstr(ctx, "library_code");
        sc_api->reply_bulk(ctx, lib->code, lib->code_len);
    }
}

/* Does lib match LIBRARYNAME's pattern (any case, as Redis matches it)? */
static int sc_lib_matches(const sc_lib_t *lib, const dfm_str_t *pat) {
    return !pat || sc_api->glob_match(pat->ptr, pat->len, lib->name, strlen(lib->name), 1);
}

void sc_cmd_function_list(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    int with_code = 0;
    const dfm_str_t *pat = NULL;
    for (int i = 2; i < argc; i++) {
        if (!with_code && sc_api->arg_eq(&argv[i], "withcode")) {
            with_code = 1;
        } else if (!pat && sc_api->arg_eq(&argv[i], "libraryname")) {
            if (i == argc - 1) {
                sc_api->reply_error(ctx, "ERR library name argument was not given");
                return;
            }
            pat = &argv[++i];
        } else {
            sc_api->reply_errorf(ctx, "ERR Unknown argument %.*s", (int)argv[i].len, argv[i].ptr);
            return;
        }
    }
    const sc_reg_t *reg = sc_reg_get();
    long n = 0;
    for (int i = 0; i < reg->nlibs; i++) n += sc_lib_matches(reg->libs[i], pat);
    sc_api->reply_array(ctx, n);
    for (int i = 0; i < reg->nlibs; i++)
        if (sc_lib_matches(reg->libs[i], pat)) sc_reply_library(ctx, reg->libs[i], with_code);
}

void sc_cmd_function_stats(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    const sc_reg_t *reg = sc_reg_get();
    sc_api->reply_map(ctx, 2);
    sc_api->reply_cstr(ctx, "running_script");
    sc_kill_reply_running(ctx);
    sc_api->reply_cstr(ctx, "engines");
    sc_api->reply_map(ctx, 1);
    sc_api->reply_cstr(ctx, "LUA");
    sc_api->reply_map(ctx, 2);
    sc_api->reply_cstr(ctx, "libraries_count");
    sc_api->reply_int(ctx, reg->nlibs);
    sc_api->reply_cstr(ctx, "functions_count");
    sc_api->reply_int(ctx, reg->nfns);
}
