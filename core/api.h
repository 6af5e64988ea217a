/*
 * api.h: the core's dfm_api_t (the function table modules receive) and the registries
 * behind its registration calls: INFO sections, shard hooks, exported inter-module APIs.
 */
#ifndef DF_API_H
#define DF_API_H

#include "dragonfly/module.h"
#include "reply.h"
#include "table.h"

extern const dfm_api_t g_api;

/* Registration is open only while modules initialise (main thread). */
void api_set_registering(dfm_module_t *m);
const char *api_module_name(const dfm_module_t *m);

/* INFO sections registered by modules: append "# Name\r\n" + fields for `section`
   (or all when section is NULL). */
void api_info_sections(rbuf_t *out, const char *section, int all);
/* Modules' fields for a core section (memory), written inside it. */
void api_info_fields(rbuf_t *out, const char *section);
int api_info_has_section(const char *section);
/* Per-shard hooks, run on the owning thread at start and at exit. */
void api_run_shard_init(int shard);
void api_run_shard_exit(int shard);
/* Exported APIs, by name. */
const void *api_find_export(const char *name);
int api_nexports(void);
void api_free(void);
/* Refuse a registration outside dfm_module_init (logged); 0 when open for m. */
int api_check_open(dfm_module_t *m, const char *what);

/* The 1.5 client services (api_client.c). */
int api_register_client_slot(dfm_module_t *m, dfm_client_release_fn release, int *slot);
dfm_client_t *api_client(dfm_ctx_t *ctx);
void *api_client_get(dfm_client_t *c, int slot);
void api_client_set(dfm_client_t *c, int slot, void *data);
void api_client_set_pubsub(dfm_client_t *c, int channels, int patterns, int shard_channels);
dfm_ctx_t *api_client_context(dfm_client_t *c);
void api_each_thread(dfm_ctx_t *ctx, dfm_each_thread_fn each, dfm_each_done_fn done,
                     void (*free_result)(void *), void *arg, void (*free_arg)(void *));
int api_thread_id(void);
int api_register_publish_hook(dfm_module_t *m, dfm_publish_hook_fn hook);
void api_post(int thread, void (*fn)(void *arg), void *arg);
int api_register_shutdown(dfm_module_t *m, void (*fn)(void));
/* Run the modules' shutdown hooks (main thread, workers stopped). */
void api_run_shutdown(void);
int api_register_pubsub_stats(dfm_module_t *m, void (*fn)(long long counts[3]));
/* INFO's pub/sub counts (zeros without a pubsub module). */
void api_pubsub_stats(long long counts[3]);
int api_num_threads(void);
/* The 1.6 call (api_call.c). */
/* api->from_master (api_call.c). */
int api_from_master(dfm_ctx_t *ctx);
int api_call(dfm_ctx_t *ctx, dfm_call_t *call, int argc, const dfm_str_t *argv);

/* The 1.8 RDB services and the 1.9 slicers (api_rdb.c). */
int api_register_rdb_aux(dfm_module_t *m, const dfm_rdb_aux_t *aux);
int api_register_rdb_slicer(dfm_module_t *m, int type_id, const dfm_rdb_slicer_t *slicer);
/* Snapshot start (a worker thread): every registered saver's records, appended to out. */
void api_rdb_aux_save(rbuf_t *out);
/* Loading a file (the loader thread): the saver that owns an opcode (NULL: none), and the
   calls around one file. */
const dfm_rdb_aux_t *api_rdb_aux_find(int opcode);
void api_rdb_aux_begin(void);
void api_rdb_aux_end(int ok);
dfm_rdb_t *api_rdb_writer_new(void);
char *api_rdb_writer_payload(dfm_rdb_t *w, size_t *len);
dfm_rdb_t *api_rdb_payload_reader(const void *p, size_t len);
int api_rdb_at_end(dfm_rdb_t *r);
void api_rdb_free(dfm_rdb_t *r);

/* The 1.6 string meta and whole-shard services (api_meta.c). */
/* Put a new entry e for its key into ctx's shard and db (h: the key's hash; slot: the key's
   current slot or NULL); frees what it replaces. Shard thread. */
dfm_key_t *api_put_entry(dfm_ctx_t *ctx, uint64_t h, table_slot_t *slot, entry_t *e);
dfm_key_t *api_str_set_meta(dfm_ctx_t *ctx, const dfm_str_t *key, const void *val, size_t len,
                            int64_t expire_ms, uint32_t flags, uint64_t version);
int api_str_meta(const dfm_key_t *k, uint32_t *flags, uint64_t *version);
void api_str_meta_set(dfm_ctx_t *ctx, dfm_key_t **k, uint32_t flags, uint64_t version);
void api_db_flush(dfm_ctx_t *ctx);
int64_t api_db_keys(dfm_ctx_t *ctx);

#endif
