/*
 * rdb.c: the stream type's RDB encoding. Not written yet: saving refuses (DUMP replies an
 * error, snapshots skip stream keys with a warning) and loading fails, so nothing Redis
 * cannot read is ever emitted.
 */
#include "streams.h"

int xs_rdb_save(const void *obj, dfm_rdb_t *rdb) {
    (void)obj, (void)rdb;
    return -1;
}

void *xs_rdb_load(int rdb_type, dfm_rdb_t *rdb) {
    (void)rdb_type, (void)rdb;
    return NULL;
}
