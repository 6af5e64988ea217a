/*
 * hashes_api.h: what the hashes module exports to other modules (api->export_api under
 * HASHES_API_NAME): read access to one field of its "hash" objects, for commands that read
 * hash fields named by a pattern (SORT ... BY weight_*->field, GET data_*->field). An importer
 * looks the table up with api->import_api(self, HASHES_API_NAME) and gets NULL when the
 * hashes module is absent. Calls run on the shard thread owning the object, which must not
 * change meanwhile.
 */
#ifndef DF_HASHES_API_H
#define DF_HASHES_API_H

#include <dragonfly/module.h>

#define HASHES_API_NAME "hashes.read/1"

typedef struct hashes_api {
    /* The type id of hashes (compare with api->key_type). */
    int (*type_id)(void);
    /* The value of `field` in obj into *value (pointing into obj, valid until it changes):
       1 found, 0 not. */
    int (*get)(const void *obj, const dfm_str_t *field, dfm_str_t *value);
} hashes_api_t;

#endif
