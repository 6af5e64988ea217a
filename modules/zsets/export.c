/*
 * export.c: the zsets module's read API for other modules (zsets_api.h): the type id, the
 * size, a walk over the members in rank order from a given rank, and SORT's conversion of the
 * encoding to "skiplist".
 */
#include "zsets.h"
#include "zsets_api.h"

static int zs_export_type_id(void) { return zs_type_id; }
static size_t zs_export_count(const void *obj) { return ((const zset_t *)obj)->length; }

/* Walk from rank `start` of the (rev ? descending : ascending) order while fn asks for more. */
static void zs_export_each(const void *obj, int rev, size_t start, zsets_each_fn fn, void *arg) {
    const zset_t *z = obj;
    if (start >= z->length) return;
    const zs_node_t *n = zs_at(z, rev ? z->length - 1 - start : start);
    while (n) {
        dfm_str_t m = {zs_ele(n), n->len};
        if (!fn(arg, &m, n->score)) return;
        n = rev ? zs_prev(n) : zs_next(n);
    }
}

/* Report obj as "skiplist" from now on (the members are untouched). */
static void zs_export_to_skiplist(void *obj) { ((zset_t *)obj)->big = 1; }

static const zsets_api_t zs_export = {zs_export_type_id, zs_export_count, zs_export_each,
                                      zs_export_to_skiplist};

int zs_export_register(dfm_module_t *self) {
    return zs_api->export_api(self, ZSETS_API_NAME, &zs_export);
}
