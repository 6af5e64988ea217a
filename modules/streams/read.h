/*
 * read.h: what XREAD (read.c) and XREADGROUP (readgroup.c) share: their parsed options, the
 * state their phases fill, and the reply and parking steps. Internal to the module.
 */
#ifndef DF_STREAMS_READ_H
#define DF_STREAMS_READ_H

#include "streams.h"

typedef struct xread_opts {
    long long count;  /* 0 = no limit */
    int64_t block_ms; /* -1 = do not block, 0 = forever */
    int streams;      /* argv index of the first key */
    int n;            /* number of streams */
    int group;        /* argv index of GROUP's group name, 0 for XREAD */
    int noack;
} xread_opts_t;

typedef struct xread_res {
    int served;    /* the stream is part of the reply (even with no entries) */
    size_t n;
    xent_t **ents; /* owned copies; npairs == XS_DELETED: an id without its entry */
} xread_res_t;

#define XS_DELETED UINT32_MAX

typedef struct xread_state {
    xread_opts_t o;
    char *err;   /* the first error in argument order (owned), or NULL */
    int err_idx; /* its stream index */
    xread_res_t *res;
    sid_t *ids; /* the id each stream is read after ("$" resolved; ">" is all ones) */
} xread_state_t;

const char *xr_parse_opts(int argc, const dfm_str_t *argv, xread_opts_t *o, int group);
xread_state_t *xr_state_new(int argc, const dfm_str_t *argv, int group);
void xr_state_free(xread_state_t *st);
void xr_note_error(xread_state_t *st, int j, const char *text);
int xr_find_key(const xread_opts_t *o, const dfm_str_t *argv, const dfm_str_t *key);
void xr_push(xread_res_t *r, const xent_t *e, const sid_t *deleted_id);
void xr_reply_one(dfm_ctx_t *ctx, const dfm_str_t *key, const xread_res_t *r);
void xr_reply(dfm_ctx_t *ctx, xread_state_t *st, const dfm_str_t *argv, dfm_unblock_fn on_ready);

#endif
