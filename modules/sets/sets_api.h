/*
 * sets_api.h: what the sets module exports to other modules (api->export_api under
 * SETS_API_NAME): read access to its "set" objects, for commands that accept plain sets as
 * input (ZUNIONSTORE and friends treat each member as scored 1). An importer looks the table
 * up with api->import_api(self, SETS_API_NAME) and gets NULL when the sets module is absent.
 * Calls run on the shard thread owning the object, which must not change meanwhile.
 */
#ifndef DF_SETS_API_H
#define DF_SETS_API_H

#include <stddef.h>

#include <dragonfly/module.h>

#define SETS_API_NAME "sets.read/1"

typedef struct sets_api {
    /* The type id of sets (compare with api->key_type). */
    int (*type_id)(void);
    /* Number of members of obj. */
    size_t (*count)(const void *obj);
    /* Call fn(arg, member) for each member of obj; the member is valid during the call. */
    void (*each)(const void *obj, void (*fn)(void *arg, const dfm_str_t *member), void *arg);
} sets_api_t;

#endif
