/*
 * rdb_load.h: load an RDB file into the shards at start-up (main thread, workers not started).
 */
#ifndef DF_RDB_LOAD_H
#define DF_RDB_LOAD_H

#include <stddef.h>

/* 1 loaded, 0 no such file, -1 error (message in err). */
int rdb_load_file(const char *path, char *err, size_t errcap);

#endif
