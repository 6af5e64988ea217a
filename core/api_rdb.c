/*
 * api_rdb.c: the 1.8 RDB services for modules: records of a module's own in RDB files
 * (register_rdb_aux: the scripting module's function libraries, Redis's FUNCTION2 opcode)
 * and RDB streams in memory framed as DUMP payloads (FUNCTION DUMP / RESTORE); and the 1.9
 * slicers that save big values a piece at a time (register_rdb_slicer, snapshot.c).
 *
 * Snapshots ask the registered savers for their records when a snapshot starts (on a worker
 * thread, snap_job_create) and write them after the header, before the keys, where Redis
 * writes its functions. The loader (a non-worker thread) hands each record with a registered
 * opcode to its loader, between a begin and an end call per file.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "api.h"
#include "dump.h"
#include "module_loader.h"

#define API_MAX_AUX 4

static const dfm_rdb_aux_t *api_aux[API_MAX_AUX];
static int api_naux;

int api_register_rdb_aux(dfm_module_t *m, const dfm_rdb_aux_t *aux) {
    if (api_check_open(m, "register_rdb_aux")) return -1;
    if (!aux || aux->size < sizeof *aux || !aux->save || !aux->load || aux->opcode < 0 ||
        aux->opcode >= RDB_OPCODE_MODULE_AUX || rdb_type_known(aux->opcode) || api_rdb_aux_find(aux->opcode)) {
        module_set_error(m, "register_rdb_aux: bad descriptor, or its opcode is taken");
        return -1;
    }
    if (api_naux == API_MAX_AUX) {
        module_set_error(m, "register_rdb_aux: too many");
        return -1;
    }
    api_aux[api_naux++] = aux;
    return 0;
}

/* (1.9) A data type's slicer for snapshots (dump.c keeps it). */
int api_register_rdb_slicer(dfm_module_t *m, int type_id, const dfm_rdb_slicer_t *slicer) {
    if (api_check_open(m, "register_rdb_slicer")) return -1;
    if (rdb_register_slicer(type_id, slicer) < 0) {
        module_set_error(m, "register_rdb_slicer: bad descriptor or type id");
        return -1;
    }
    return 0;
}

void api_rdb_aux_save(rbuf_t *out) {
    dfm_rdb_t r;
    rdb_writer_init(&r, out);
    for (int i = 0; i < api_naux; i++) api_aux[i]->save(&r);
}

const dfm_rdb_aux_t *api_rdb_aux_find(int opcode) {
    for (int i = 0; i < api_naux; i++)
        if (api_aux[i]->opcode == opcode) return api_aux[i];
    return NULL;
}

void api_rdb_aux_begin(void) {
    for (int i = 0; i < api_naux; i++)
        if (api_aux[i]->load_begin) api_aux[i]->load_begin();
}

void api_rdb_aux_end(int ok) {
    for (int i = 0; i < api_naux; i++)
        if (api_aux[i]->load_end) api_aux[i]->load_end(ok);
}

/* ---- streams in memory ---- */

typedef struct api_rdb_mem {
    dfm_rdb_t r; /* first: the handle modules hold */
    rbuf_t buf;  /* a writer's bytes */
} api_rdb_mem_t;

dfm_rdb_t *api_rdb_writer_new(void) {
    api_rdb_mem_t *m = df_calloc(sizeof *m);
    rdb_writer_init(&m->r, &m->buf);
    return &m->r;
}

char *api_rdb_writer_payload(dfm_rdb_t *w, size_t *len) {
    api_rdb_mem_t *m = (api_rdb_mem_t *)w;
    dump_payload_seal(&m->buf);
    char *p = m->buf.data;
    *len = m->buf.len;
    df_free(m);
    return p;
}

dfm_rdb_t *api_rdb_payload_reader(const void *p, size_t len) {
    if (dump_payload_verify(p, len) < 0) return NULL;
    api_rdb_mem_t *m = df_calloc(sizeof *m);
    rdb_reader_init(&m->r, p, len - 10); /* without the version and the CRC */
    return &m->r;
}

int api_rdb_at_end(dfm_rdb_t *r) { return r->out ? 0 : r->p >= r->end; }

void api_rdb_free(dfm_rdb_t *r) {
    if (!r) return;
    api_rdb_mem_t *m = (api_rdb_mem_t *)r;
    rbuf_free(&m->buf);
    df_free(m);
}
