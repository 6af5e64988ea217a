/*
 * rdb_load.h: load an RDB file into the shards at start-up (main thread, workers not started).
 */
#ifndef DF_RDB_LOAD_H
#define DF_RDB_LOAD_H

#include <stddef.h>
#include <stdint.h>

struct entry;
/* Receives each loaded key (db, entry owned by the sink from then on). */
typedef void (*rdb_sink_fn)(void *arg, int db, struct entry *e);

/* Walk the RDB file at path, handing every live key to sink (any thread: the sink decides
   where keys go) and modules' records to their loaders (register_rdb_aux: the scripting
   module's needs the workers running). 1 loaded (counts in *loaded, *expired; *end, when
   end is not NULL, the offset just past the RDB's checksum: an AOF may go on after it), 0
   no such file, -1 error. */
int rdb_load_path(const char *path, rdb_sink_fn sink, void *arg, uint64_t *loaded,
                  uint64_t *expired, size_t *end, char *err, size_t errcap);

/* The same with the workers running (a non-worker thread): keys go to each shard's owner in
   batches; returns once all are inserted. The caller decides about LOADING. */
int rdb_load_into_shards(const char *path, uint64_t *loaded, uint64_t *expired, size_t *end,
                         char *err, size_t errcap);

#endif
