/*
 * lazyfree.h: freeing big values off the event loops. A module object whose memory is above
 * LAZYFREE_THRESHOLD is handed to one background thread when its key is deleted or
 * overwritten, so DEL/UNLINK of a 10-million-element value does not stall a shard's thread.
 * The object is detached from the keyspace before it is handed over: no shard data is shared.
 */
#ifndef DF_LAZYFREE_H
#define DF_LAZYFREE_H

#include <stddef.h>

#include "dragonfly/module.h"

#define LAZYFREE_THRESHOLD (256 * 1024)

int lazyfree_start(void);
/* Drain what is queued, then stop the thread (at shutdown, after the workers). */
void lazyfree_stop(void);
/* Free obj with t->free, on the background thread when it is big (any thread). */
void lazyfree_object(const dfm_type_t *t, void *obj);
/* Objects handed over so far (INFO lazyfree_pending_objects uses the difference). */
long lazyfree_pending(void);

#endif
