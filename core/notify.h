/*
 * notify.h: keyspace events (notify-keyspace-events). A write on a shard's thread reports
 * what happened to a key: Redis's event name ("del", "expire", "expired", "rename_from",
 * "lpush" ...) and its class letter (g $ l s h z x e t m d n). When the class is selected,
 * the core builds Redis's messages (__keyspace@<db>__:<key> -> event, __keyevent@<db>__:<event>
 * -> key, as K and E ask) and hands them to the publisher a module registered (the pubsub
 * module). With nothing selected an event costs one load and a branch.
 */
#ifndef DF_NOTIFY_H
#define DF_NOTIFY_H

#include <stdatomic.h>

#include "dragonfly/module.h"

extern dfm_publish_hook_fn g_notify_publish;
extern atomic_int g_notify_flags; /* NOTIFY_* bits of notify-keyspace-events */

/* Publish an event whose class is selected (see notify_key). */
void notify_publish(int db, const char *event, const char *key, size_t klen, int cls);

/* Report an event on key (klen bytes) in db, on the shard's thread, after the change (a
   deleted key is reported before its bytes are freed). */
static inline void notify_key(int db, const char *event, const void *key, size_t klen, int cls) {
    if (__builtin_expect(atomic_load_explicit(&g_notify_flags, memory_order_relaxed) != 0, 0))
        notify_publish(db, event, (const char *)key, klen, cls);
}

/* notify-keyspace-events: NULL if every letter is known, else Redis's complaint. */
const char *notify_validate(const char *value);
/* Apply a valid value; returns Redis's normal form of it ("KEA" -> "AKE"). */
const char *notify_normalize(const char *value);

#endif
