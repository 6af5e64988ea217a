/*
 * zsets_api.h: what the zsets module exports to other modules (api->export_api under
 * ZSETS_API_NAME): read access to its "zset" objects, for commands that take sorted sets as
 * input (SORT), plus SORT's encoding conversion. An importer looks the table up with
 * api->import_api(self, ZSETS_API_NAME) and gets NULL when the zsets module is absent. Calls
 * run on the shard thread owning the object, which must not change meanwhile.
 */
#ifndef DF_ZSETS_API_H
#define DF_ZSETS_API_H

#include <stddef.h>

#include <dragonfly/module.h>

#define ZSETS_API_NAME "zsets.read/1"

/* Called per member (valid during the call) with its score; return 1 for more, 0 to stop. */
typedef int (*zsets_each_fn)(void *arg, const dfm_str_t *member, double score);

typedef struct zsets_api {
    /* The type id of sorted sets (compare with api->key_type). */
    int (*type_id)(void);
    /* Number of members of obj. */
    size_t (*count)(const void *obj);
    /* Call fn for the members of obj in ZRANGE order ((score, member) ascending; descending
       when rev is set, as ZREVRANGE), starting at 0-based rank `start` of that order, until
       fn returns 0 or the members run out. O(log(N)) to reach start, O(1) per member. */
    void (*each)(const void *obj, int rev, size_t start, zsets_each_fn fn, void *arg);
    /* Make OBJECT ENCODING report obj as "skiplist" from now on, as Redis's SORT converts any
       sorted set it sorts; the members do not change. */
    void (*to_skiplist)(void *obj);
} zsets_api_t;

#endif
