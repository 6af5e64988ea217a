/*
 * api.c: the function table handed to modules (see module.h for each function's contract)
 * and the small registries behind it. Key handles (dfm_key_t *) are table slots of the
 * current shard: valid until the next insert or erase in that table.
 */
#include "api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>

#include "alloc.h"
#include "info.h"
#include "evict.h"
#include "block.h"
#include "busy.h"
#include "config.h"
#include "db.h"
#include "dispatch.h"
#include "dump.h"
#include "glob.h"
#include "log.h"
#include "notify.h"
#include "module_loader.h"
#include "server.h"
#include "util.h"

#define API_MAX_HOOKS 64
#define API_MAX_INFO 64
#define API_MAX_EXPORTS 64

static dfm_module_t *api_registering;
static struct {
    char *section;
    dfm_info_fn fn;
} api_infos[API_MAX_INFO];
static int api_ninfos;
static struct {
    dfm_shard_hook_fn init, exit;
} api_hooks[API_MAX_HOOKS];
static int api_nhooks;
static struct {
    char *name;
    const void *table;
} api_exports[API_MAX_EXPORTS];
static int api_nexp;

void api_set_registering(dfm_module_t *m) { api_registering = m; }

int api_check_open(dfm_module_t *m, const char *what) {
    if (api_registering && api_registering == m) return 0;
    log_error("module %s: %s outside of dfm_module_init is refused (tables are frozen)",
              m ? api_module_name(m) : "?", what);
    return -1;
}

static int api_register_command(dfm_module_t *m, const dfm_command_t *cmd) {
    if (api_check_open(m, "register_command")) return -1;
    char *err = NULL;
    if (dispatch_register(cmd, api_module_name(m), &err) < 0) {
        module_set_error(m, err);
        free(err);
        return -1;
    }
    return 0;
}

/* set_command_keys (route 0) and set_command_route (route 1). */
static int api_set_key_fn(dfm_module_t *m, const char *command, dfm_keys_fn fn, int route) {
    if (api_check_open(m, route ? "set_command_route" : "set_command_keys")) return -1;
    char *err = NULL;
    const char *owner = api_module_name(m);
    if ((route ? dispatch_set_route_fn(command, owner, fn, &err)
               : dispatch_set_keys_fn(command, owner, fn, &err)) < 0) {
        module_set_error(m, err);
        free(err);
        return -1;
    }
    return 0;
}

static int api_set_command_keys(dfm_module_t *m, const char *command, dfm_keys_fn fn) {
    return api_set_key_fn(m, command, fn, 0);
}

static int api_set_command_route(dfm_module_t *m, const char *command, dfm_keys_fn fn) {
    return api_set_key_fn(m, command, fn, 1);
}

static int api_register_type(dfm_module_t *m, const dfm_type_t *t, int *id) {
    if (api_check_open(m, "register_type")) return -1;
    if (strcmp(t->name, "string") == 0) { /* the built-in string storage */
        g_types[DFM_TYPE_STRING] = t;
        if (id) *id = DFM_TYPE_STRING;
        return 0;
    }
    for (int i = 0; i < g_ntypes; i++) {
        if (g_types[i] && strcmp(g_types[i]->name, t->name) == 0) {
            char msg[256];
            snprintf(msg, sizeof msg, "data type '%s' is already registered", t->name);
            module_set_error(m, msg);
            return -1;
        }
    }
    int r = db_register_type(t);
    if (r < 0) return -1;
    if (id) *id = r;
    return 0;
}

static int api_register_config(dfm_module_t *m, const dfm_config_t *c) {
    if (api_check_open(m, "register_config")) return -1;
    char *err = NULL;
    if (config_register(c, api_module_name(m), &err) < 0) {
        module_set_error(m, err ? err : "config registration failed");
        free(err);
        return -1;
    }
    return 0;
}

static int api_register_info(dfm_module_t *m, const char *section, dfm_info_fn fn) {
    if (api_check_open(m, "register_info") || api_ninfos == API_MAX_INFO) return -1;
    api_infos[api_ninfos].section = strdup(section);
    api_infos[api_ninfos++].fn = fn;
    return 0;
}

static int api_register_protocol(dfm_module_t *m, const dfm_protocol_t *p) {
    if (api_check_open(m, "register_protocol")) return -1;
    return server_add_protocol(p);
}

static int api_register_request_protocol(dfm_module_t *m, const dfm_request_protocol_t *p) {
    if (api_check_open(m, "register_request_protocol")) return -1;
    if (!p || p->size < sizeof *p || !p->name || !p->port || !p->parse) {
        module_set_error(m, "register_request_protocol: incomplete descriptor");
        return -1;
    }
    return server_add_request_protocol(p);
}

static int api_register_shard_hooks(dfm_module_t *m, dfm_shard_hook_fn init, dfm_shard_hook_fn exit) {
    if (api_check_open(m, "register_shard_hooks") || api_nhooks == API_MAX_HOOKS) return -1;
    api_hooks[api_nhooks].init = init;
    api_hooks[api_nhooks++].exit = exit;
    return 0;
}

static int api_export_api(dfm_module_t *m, const char *name, const void *table) {
    if (api_check_open(m, "export_api") || api_nexp == API_MAX_EXPORTS) return -1;
    api_exports[api_nexp].name = strdup(name);
    api_exports[api_nexp++].table = table;
    return 0;
}

const void *api_find_export(const char *name) {
    for (int i = 0; i < api_nexp; i++)
        if (strcmp(api_exports[i].name, name) == 0) return api_exports[i].table;
    return NULL;
}

int api_nexports(void) { return api_nexp; }

static const void *api_import_api(dfm_module_t *m, const char *name) {
    (void)m;
    return api_find_export(name);
}

static void api_log(int level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}

static int api_arg_ll(dfm_ctx_t *ctx, const dfm_str_t *a, long long *out) {
    if (util_str2ll(a->ptr, a->len, out) == 0) return 0;
    reply_error(ctx, "ERR value is not an integer or out of range");
    return -1;
}

static int api_arg_double(dfm_ctx_t *ctx, const dfm_str_t *a, double *out) {
    if (util_str2d(a->ptr, a->len, out) == 0) return 0;
    reply_error(ctx, "ERR value is not a valid float");
    return -1;
}

static int api_arg_eq(const dfm_str_t *a, const char *word) { return util_eq_nocase(a->ptr, a->len, word); }
static int api_str_to_ll(const char *p, size_t len, long long *out) { return util_str2ll(p, len, out); }
static int api_str_to_ld(const char *p, size_t len, long double *out) { return util_str2ld(p, len, out); }
static int api_ll_to_str(char *b, size_t cap, long long v) { return util_ll2str(b, cap, v); }
static int api_ld_to_str(char *b, size_t cap, long double v, int h) { return util_ld2str(b, cap, v, h); }

/* --- keyspace ---------------------------------------------------------------------- */

static inline table_slot_t *SLOT(const dfm_key_t *k) { return (table_slot_t *)(uintptr_t)k; }

static dfm_key_t *api_lookup(dfm_ctx_t *ctx, const dfm_str_t *key, int flags) {
    shard_t *s = ctx->shard;
    table_slot_t *slot = db_find(s, ctx->db, key->ptr, key->len);
    if (flags & DFM_LOOKUP_READ) {
        if (slot) {
            s->stats.hits++;
        } else {
            s->stats.misses++;
            notify_key(ctx->db, "keymiss", key->ptr, key->len, 'm');
        }
    }
    if (slot && !(flags & DFM_LOOKUP_NOTOUCH)) entry_touch(slot_entry(*slot));
    return (dfm_key_t *)slot;
}

static int api_key_type(const dfm_key_t *k) { return slot_entry(*SLOT(k))->type; }

static void api_str_value(const dfm_key_t *k, dfm_str_t *out) {
    entry_t *e = slot_entry(*SLOT(k));
    out->ptr = entry_cval(e);
    out->len = e->vlen;
}

/* Overwrite a string entry in place when its block is big enough and the TTL layout stays. */
static int api_str_overwrite(entry_t *e, const void *val, size_t len, int64_t exp) {
    if ((e->flags & ENTRY_F_OBJ) || ((exp >= 0) != ((e->flags & ENTRY_F_EXPIRE) != 0))) return 0;
    size_t need = entry_alloc_size(e->klen, len, exp >= 0);
    size_t have = df_usable_size(e);
    if (need > have || have - need > 32) return 0; /* keep blocks tight */
    if (exp >= 0) memcpy(e->data, &exp, 8);
    memmove(entry_val(e), val, len);
    e->vlen = (uint32_t)len;
    e->flags = (uint8_t)((e->flags & ~(ENTRY_ENC_MASK | ENTRY_F_META)) | db_str_encoding(val, len));
    return 1;
}

dfm_key_t *api_put_entry(dfm_ctx_t *ctx, uint64_t h, table_slot_t *slot, entry_t *e) {
    /* an overwritten key keeps its LFU counter, as Redis's dbOverwrite does */
    e->lru = slot && evict_lfu() ? slot_entry(*slot)->lru : entry_access_new();
    if (slot) {
        db_replace_in_slot(ctx->shard, ctx->db, slot, e);
        return (dfm_key_t *)slot;
    }
    db_t *d = &ctx->shard->dbs[ctx->db];
    if (e->flags & ENTRY_F_EXPIRE) d->nexpires++;
    return (dfm_key_t *)table_insert(d->t, h, e);
}

static dfm_key_t *api_str_set(dfm_ctx_t *ctx, const dfm_str_t *key, const void *val, size_t len,
                              int64_t expire_ms) {
    shard_t *s = ctx->shard;
    db_t *d = &s->dbs[ctx->db];
    uint64_t h = table_hash(key->ptr, key->len);
    table_slot_t *slot = table_find(d->t, h, key->ptr, key->len);
    if (expire_ms == DFM_EXPIRE_KEEP)
        expire_ms = slot ? entry_expire(slot_entry(*slot)) : -1;
    if (expire_ms < 0) expire_ms = -1;
    if (slot && api_str_overwrite(slot_entry(*slot), val, len, expire_ms)) {
        if (expire_ms >= 0) table_slot_set(d->t, slot, slot_entry(*slot));
        return (dfm_key_t *)slot;
    }
    return api_put_entry(ctx, h, slot, db_entry_new_str(key->ptr, key->len, val, len, expire_ms));
}

static char *api_str_resize(dfm_ctx_t *ctx, dfm_key_t **k, size_t newlen) {
    table_slot_t *slot = SLOT(*k);
    entry_t *e = slot_entry(*slot);
    size_t old = e->vlen;
    size_t need = entry_alloc_size(e->klen, newlen, (e->flags & ENTRY_F_EXPIRE) != 0);
    if (need > df_usable_size(e) || need + 4096 < df_usable_size(e)) {
        size_t alloc = need;
        if (newlen > old && newlen > 44) alloc += need < (1u << 20) ? need / 2 : (1u << 20);
        entry_t *n = df_realloc(e, alloc);
        if (n != e) {
            table_slot_set(ctx->shard->dbs[ctx->db].t, slot, n);
            e = n;
        }
    }
    if (newlen > old) memset(entry_val(e) + old, 0, newlen - old);
    e->vlen = (uint32_t)newlen;
    e->flags = (uint8_t)((e->flags & ~(ENTRY_ENC_MASK | ENTRY_F_META)) | ENTRY_ENC_RAW);
    return entry_val(e);
}

static void *api_obj_value(const dfm_key_t *k) { return entry_obj(slot_entry(*SLOT(k))); }

static dfm_key_t *api_obj_set(dfm_ctx_t *ctx, const dfm_str_t *key, int type, void *obj,
                              int64_t expire_ms) {
    shard_t *s = ctx->shard;
    if (expire_ms == DFM_EXPIRE_KEEP) {
        table_slot_t *old = db_find_raw(s, ctx->db, key->ptr, key->len);
        expire_ms = old ? entry_expire(slot_entry(*old)) : -1;
    }
    entry_t *e = db_entry_new_obj(key->ptr, key->len, type, obj, expire_ms < 0 ? -1 : expire_ms);
    e->lru = entry_access_new();
    return (dfm_key_t *)db_set_entry(s, ctx->db, e);
}

static void api_key_delete(dfm_ctx_t *ctx, dfm_key_t *k) { db_delete_slot(ctx->shard, ctx->db, SLOT(k)); }
static int64_t api_expire_get(const dfm_key_t *k) { return entry_expire(slot_entry(*SLOT(k))); }

static void api_expire_set(dfm_ctx_t *ctx, dfm_key_t **k, int64_t at) {
    db_set_expire(ctx->shard, ctx->db, SLOT(*k), at);
}

static void api_signal_modified(dfm_ctx_t *ctx, const dfm_str_t *key) {
    db_signal_modified(ctx->shard, ctx->db, key->ptr, key->len);
}

static void api_notify(dfm_ctx_t *ctx, const char *ev, const dfm_str_t *key, int cls) {
    notify_key(ctx->db, ev, key->ptr, key->len, cls);
}

static int64_t api_now_ms(void) { return util_now_ms(); }
static int api_shard_id(dfm_ctx_t *ctx) { return ctx->shard ? ctx->shard->id : -1; }
static int api_db_index(dfm_ctx_t *ctx) { return ctx->db; }

static void api_info_field(dfm_info_t *info, const char *name, const char *fmt, ...) {
    rbuf_t *b = (rbuf_t *)info;
    char val[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(val, sizeof val, fmt, ap);
    va_end(ap);
    rbuf_append(b, name, strlen(name));
    rbuf_append(b, ":", 1);
    rbuf_append(b, val, (size_t)(n < (int)sizeof val ? n : (int)sizeof val - 1));
    rbuf_append(b, "\r\n", 2);
}

static void api_info_field_human(dfm_info_t *info, const char *name, uint64_t bytes) {
    char h[32];
    info_bytes_human(h, sizeof h, bytes);
    api_info_field(info, name, "%s", h);
}


/* A core section a module adds fields to (api_info_fields), rather than a section of its own. */
static int api_core_section(const char *s) { return strcasecmp(s, "memory") == 0; }

void api_info_fields(rbuf_t *out, const char *section) {
    for (int i = 0; i < api_ninfos; i++)
        if (strcasecmp(section, api_infos[i].section) == 0) api_infos[i].fn((dfm_info_t *)out);
}

void api_info_sections(rbuf_t *out, const char *section, int all) {
    for (int i = 0; i < api_ninfos; i++) {
        if (api_core_section(api_infos[i].section)) continue;
        if (!all && section && strcasecmp(section, api_infos[i].section) != 0) continue;
        char title[128];
        snprintf(title, sizeof title, "\r\n# %c%s\r\n", (char)toupper(api_infos[i].section[0]),
                 api_infos[i].section + 1);
        rbuf_append(out, title, strlen(title));
        api_infos[i].fn((dfm_info_t *)out);
    }
}

int api_info_has_section(const char *section) {
    for (int i = 0; i < api_ninfos; i++)
        if (strcasecmp(section, api_infos[i].section) == 0 && !api_core_section(section)) return 1;
    return 0;
}

void api_run_shard_init(int shard) {
    for (int i = 0; i < api_nhooks; i++)
        if (api_hooks[i].init) api_hooks[i].init(shard);
}

void api_run_shard_exit(int shard) {
    for (int i = 0; i < api_nhooks; i++)
        if (api_hooks[i].exit) api_hooks[i].exit(shard);
}

void api_free(void) {
    for (int i = 0; i < api_ninfos; i++) free(api_infos[i].section);
    for (int i = 0; i < api_nexp; i++) free(api_exports[i].name);
    api_ninfos = api_nexp = api_nhooks = 0;
}

static void api_conn_write(dfm_conn_t *c, const void *p, size_t len) { server_proto_write(c, p, len); }
static void api_conn_close(dfm_conn_t *c) { server_proto_close(c); }
static const char *api_type_name(int id) { return db_type_name(id); }

static int api_can_block(dfm_ctx_t *ctx) { return block_can_block(ctx); }

static void api_signal_key_ready(dfm_ctx_t *ctx, const dfm_str_t *key) {
    block_signal_key(ctx->shard, ctx->db, key->ptr, key->len);
}

const dfm_api_t g_api = {
    .size = sizeof(dfm_api_t),
    .abi_major = DFM_ABI_MAJOR,
    .abi_minor = DFM_ABI_MINOR,
    .register_command = api_register_command,
    .register_type = api_register_type,
    .register_config = api_register_config,
    .register_info = api_register_info,
    .register_protocol = api_register_protocol,
    .register_shard_hooks = api_register_shard_hooks,
    .export_api = api_export_api,
    .import_api = api_import_api,
    .log = api_log,
    .alloc = df_malloc,
    .realloc = df_realloc,
    .free = df_free,
    .usable_size = df_usable_size,
    .reply_ok = reply_ok,
    .reply_simple = reply_simple,
    .reply_error = reply_error,
    .reply_errorf = reply_errorf,
    .reply_int = reply_int,
    .reply_bulk = reply_bulk,
    .reply_cstr = reply_cstr,
    .reply_null = reply_null,
    .reply_null_array = reply_null_array,
    .reply_array = reply_array,
    .reply_map = reply_map,
    .reply_set = reply_set,
    .reply_double = reply_double,
    .reply_bool = reply_bool,
    .reply_verbatim = reply_verbatim,
    .reply_wrongtype = reply_wrongtype,
    .reply_syntax_error = reply_syntax_error,
    .resp_version = reply_resp_version,
    .arg_ll = api_arg_ll,
    .arg_double = api_arg_double,
    .arg_eq = api_arg_eq,
    .str_to_ll = api_str_to_ll,
    .str_to_ld = api_str_to_ld,
    .ll_to_str = api_ll_to_str,
    .ld_to_str = api_ld_to_str,
    .lookup = api_lookup,
    .key_type = api_key_type,
    .str_value = api_str_value,
    .str_set = api_str_set,
    .str_resize = api_str_resize,
    .obj_value = api_obj_value,
    .obj_set = api_obj_set,
    .key_delete = api_key_delete,
    .expire_get = api_expire_get,
    .expire_set = api_expire_set,
    .signal_modified = api_signal_modified,
    .notify = api_notify,
    .now_ms = api_now_ms,
    .shard_id = api_shard_id,
    .db_index = api_db_index,
    .type_name = api_type_name,
    .info_field = api_info_field,
    .conn_write = api_conn_write,
    .conn_close = api_conn_close,
    .block_on_keys = block_on_keys,
    .signal_key_ready = api_signal_key_ready,
    .rdb_save_len = rdb_save_len,
    .rdb_save_string = rdb_save_string,
    .rdb_save_raw = rdb_save_raw,
    .rdb_load_len = rdb_load_len,
    .rdb_load_string = rdb_load_string,
    .rdb_load_raw = rdb_load_raw,
    .can_block = api_can_block,
    .set_command_keys = api_set_command_keys,
    .register_client_slot = api_register_client_slot,
    .client = api_client,
    .client_get = api_client_get,
    .client_set = api_client_set,
    .client_set_pubsub = api_client_set_pubsub,
    .client_context = api_client_context,
    .reply_push = reply_push,
    .each_thread = api_each_thread,
    .thread_id = api_thread_id,
    .num_threads = api_num_threads,
    .glob_match = glob_match,
    .register_publish_hook = api_register_publish_hook,
    .post = api_post,
    .register_shutdown = api_register_shutdown,
    .register_pubsub_stats = api_register_pubsub_stats,
    .register_request_protocol = api_register_request_protocol,
    .reply_raw = reply_raw,
    .str_set_meta = api_str_set_meta,
    .str_meta = api_str_meta,
    .str_meta_set = api_str_meta_set,
    .db_flush = api_db_flush,
    .db_keys = api_db_keys,
    .call = api_call,
    .set_busy = busy_set,
    .shutdown_pending = busy_shutdown_pending,
    .set_command_route = api_set_command_route,
    .register_rdb_aux = api_register_rdb_aux,
    .rdb_writer_new = api_rdb_writer_new,
    .rdb_writer_payload = api_rdb_writer_payload,
    .rdb_payload_reader = api_rdb_payload_reader,
    .rdb_at_end = api_rdb_at_end,
    .rdb_free = api_rdb_free,
    .register_rdb_slicer = api_register_rdb_slicer,
    .from_master = api_from_master,
    .info_field_human = api_info_field_human,
};
