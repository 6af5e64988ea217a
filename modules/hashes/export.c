/*
 * export.c: the hashes module's read API for other modules (hashes_api.h): the type id and
 * the lookup of one field.
 */
#include "hashes.h"
#include "hashes_api.h"

static int hs_export_type_id(void) { return hs_type_id; }

static int hs_export_get(const void *obj, const dfm_str_t *field, dfm_str_t *value) {
    return hobj_get(obj, field, value);
}

static const hashes_api_t hs_export = {hs_export_type_id, hs_export_get};

int hs_export_register(dfm_module_t *self) {
    return hs_api->export_api(self, HASHES_API_NAME, &hs_export);
}
