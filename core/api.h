/*
 * api.h: the core's dfm_api_t (the function table modules receive) and the registries
 * behind its registration calls: INFO sections, shard hooks, exported inter-module APIs.
 */
#ifndef DF_API_H
#define DF_API_H

#include "dragonfly/module.h"
#include "reply.h"

extern const dfm_api_t g_api;

/* Registration is open only while modules initialise (main thread). */
void api_set_registering(dfm_module_t *m);
const char *api_module_name(const dfm_module_t *m);

/* INFO sections registered by modules: append "# Name\r\n" + fields for `section`
   (or all when section is NULL). */
void api_info_sections(rbuf_t *out, const char *section, int all);
int api_info_has_section(const char *section);
/* Per-shard hooks, run on the owning thread at start and at exit. */
void api_run_shard_init(int shard);
void api_run_shard_exit(int shard);
/* Exported APIs, by name. */
const void *api_find_export(const char *name);
int api_nexports(void);
void api_free(void);

#endif
