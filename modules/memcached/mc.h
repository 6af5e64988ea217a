/*
 * mc.h: the memcached module's shared declarations.
 *
 * The text protocol's requests are parsed on the connection's thread (parse.c) into internal
 * commands ("mc.set", "mc.get" ...) registered with the "protocol" flag, which the core routes
 * to the key's shard like any Redis command and whose handlers write memcached's replies
 * (store.c, get.c, arith.c, admin.c). Items are ordinary string keys: memcached's flags and
 * CAS unique live in the core's string meta (api str_set_meta), only on keys that need them.
 */
#ifndef MC_H
#define MC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <dragonfly/module.h>

#define MC_KEY_MAX 250           /* KEY_MAX_LENGTH */
#define MC_ITEM_MAX (1024 * 1024) /* memcached's default -I: item header + key + value */
/* 1 if an item of this value and key would pass the limit (~64 bytes of item header). */
static inline int mc_too_big(size_t vlen, size_t klen) { return vlen + klen + 64 > MC_ITEM_MAX; }
#define MC_REALTIME_MAXDELTA (60 * 60 * 24 * 30) /* exptimes above are unix times */
#define MC_VERSION "1.6.18"
#define MC_MAX_SHARDS 1024

extern const dfm_api_t *mc_api;
extern int64_t mc_port;

/* Per-thread counters (written by their thread only, read by stats with relaxed loads). */
typedef struct mc_stats {
    _Alignas(64) uint64_t cmd_get, cmd_set, get_hits, get_misses, cmd_touch, touch_hits,
        touch_misses, delete_hits, delete_misses, incr_hits, incr_misses, decr_hits,
        decr_misses, cas_hits, cas_misses, cas_badval, get_expired, cmd_flush;
} mc_stats_t;

#define MC_STAT_FIELDS 18
mc_stats_t *mc_stats_here(void); /* the calling worker's counters */
void mc_count(uint64_t *field);  /* +1, single writer */
uint64_t mc_stats_sum(size_t offset); /* one counter summed over the threads */
extern _Atomic long mc_curr_conns, mc_total_conns;

/* The parser (parse.c). */
void *mc_conn_new(void);
void mc_conn_free(void *state);
int mc_parse(void *state, char *buf, size_t len, dfm_request_t *req);

/* Helpers (util.c). */
int mc_parse_u64(const dfm_str_t *s, uint64_t *out);   /* decimal, no sign; 0 or -1 */
int mc_parse_i64(const dfm_str_t *s, int64_t *out);    /* decimal, optional '-'; 0 or -1 */
int64_t mc_expire_ms(int64_t exptime);                 /* -1 none; <= now: already expired */
int mc_expired(int64_t at_ms);                         /* 1 if at_ms is set and passed */
uint64_t mc_next_cas(dfm_ctx_t *ctx);                  /* the shard's next CAS unique */
void mc_reply(dfm_ctx_t *ctx, const char *line);       /* line + "\r\n" */
int mc_noreply(const dfm_str_t *flag);                 /* 1 if the request said noreply */
/* The next space-separated token of *span into *tok (span advances); 0 at the end. */
int mc_meta_next(dfm_str_t *span, dfm_str_t *tok);
int mc_meta_has(dfm_str_t span, char flag, dfm_str_t *token); /* 1 and its token if present */

/* Handlers. */
void mc_cmd_store(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv); /* set ... cas */
void mc_cmd_get(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv); /* get gets gat gats */
void mc_cmd_touch(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void mc_cmd_delete(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void mc_cmd_toolarge(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
dfm_key_t *mc_lookup_str(dfm_ctx_t *ctx, const dfm_str_t *key, int flags); /* string or NULL */
void mc_answer(dfm_ctx_t *ctx, const dfm_str_t *noreply, const char *line);
void mc_put(dfm_ctx_t *ctx, const dfm_str_t *key, const char *val, size_t len, int64_t expire_ms,
            uint32_t flags);
void mc_remove(dfm_ctx_t *ctx, const dfm_str_t *key);
void mc_cmd_arith(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv); /* incr decr */
void mc_cmd_text(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void mc_cmd_mg(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void mc_cmd_ms(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void mc_cmd_md(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
extern const dfm_multi_t mc_flush_multi, mc_stats_multi;

#endif
