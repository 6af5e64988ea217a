/*
 * zsets_write_api.h: the zsets module's second exported table (api->export_api under
 * ZSETS_WRITE_API_NAME), for modules whose values are ordinary sorted sets (the geo module:
 * GEOADD is ZADD with computed scores, GEOSEARCH walks score ranges, GEOSEARCHSTORE stores a
 * result set). An importer calls api->import_api(self, ZSETS_WRITE_API_NAME) and lists "zsets"
 * in its descriptor's requires. Every call runs on the shard thread owning the key or object;
 * none of them replies to the client.
 */
#ifndef DF_ZSETS_WRITE_API_H
#define DF_ZSETS_WRITE_API_H

#include <stddef.h>

#include <dragonfly/module.h>

#include "zsets_api.h"

#define ZSETS_WRITE_API_NAME "zsets.write/1"

/* add() flags: ZADD's NX (only add new members) and XX (only update existing ones). */
#define ZSETS_ADD_NX 0x1
#define ZSETS_ADD_XX 0x2

typedef struct zsets_write_api {
    /* Look up key in the current shard: 1 and *obj when it holds a sorted set, 0 when it is
       missing, -1 when it holds another type. lookup_flags: DFM_LOOKUP_*. */
    int (*find)(dfm_ctx_t *ctx, const dfm_str_t *key, int lookup_flags, void **obj);
    /* ZADD key [NX|XX] score member [score member ...] with n pairs (scores are not NaN):
       creates the key unless XX, sets *added and *updated (what ZADD counts without and with
       CH), fires the "zadd" event, WATCH and BZPOP* waiters when something changed, and
       leaves no empty key behind. 0, or -1 (nothing done) when key holds another type. */
    int (*add)(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, int n, const double *scores,
               const dfm_str_t *members, long long *added, long long *updated);
    /* The score of member in obj: 1 and *score, or 0 when it is not there. O(1). */
    int (*score)(const void *obj, const dfm_str_t *member, double *score);
    /* Call fn for the members with min <= score < max (score <= max when maxex is 0) in
       ZRANGE order (score, then member bytes) until fn returns 0. O(log(N)) to reach the
       first, O(1) per member. */
    void (*each_in_range)(const void *obj, double min, double max, int maxex, zsets_each_fn fn,
                          void *arg);
    /* A detached, empty sorted set to build a result in (not in the keyspace). */
    void *(*set_new)(void);
    /* Give member the score in a detached set (adding it if new). */
    void (*set_add)(void *set, double score, const dfm_str_t *member);
    void (*set_free)(void *set);
    /* Store a detached set at dst as Redis's *STORE commands do and return its size: a
       non-empty set replaces dst (whatever it held, its TTL goes; `event` is fired), an empty
       or NULL one deletes dst ("del"). Takes the set. Shard thread of dst. */
    long long (*store)(dfm_ctx_t *ctx, const dfm_str_t *dst, void *set, const char *event);
} zsets_write_api_t;

#endif
