/* notify.c: see notify.h. */
#include "notify.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"

enum {
    NOTIFY_KEYSPACE = 1 << 0, /* K */
    NOTIFY_KEYEVENT = 1 << 1, /* E */
    NOTIFY_CLASSES = 2,       /* class letter i of notify_letters is bit NOTIFY_CLASSES + i */
};

/* The class letters in Redis's display order; 'A' is g$lshzxetd (neither m nor n). */
static const char notify_letters[] = "g$lshzxetdmn";
#define NOTIFY_ALL_LETTERS 10

dfm_publish_hook_fn g_notify_publish;
atomic_int g_notify_flags;

static int notify_class_bit(int cls) {
    const char *p = cls ? strchr(notify_letters, cls) : NULL;
    return p ? 1 << (NOTIFY_CLASSES + (int)(p - notify_letters)) : 0;
}

/* The flags of a value, or -1 for an unknown letter. */
static int notify_parse(const char *v) {
    int flags = 0;
    for (; *v; v++) {
        if (*v == 'K')
            flags |= NOTIFY_KEYSPACE;
        else if (*v == 'E')
            flags |= NOTIFY_KEYEVENT;
        else if (*v == 'A')
            for (int i = 0; i < NOTIFY_ALL_LETTERS; i++) flags |= 1 << (NOTIFY_CLASSES + i);
        else if (notify_class_bit(*v))
            flags |= notify_class_bit(*v);
        else
            return -1;
    }
    return flags;
}

const char *notify_validate(const char *value) {
    return notify_parse(value) < 0 ? "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
                                   : NULL;
}

/* Redis's form: A (or the letters of A set), K, E, then m; n is kept but not shown. A value
   naming no class, or neither K nor E, publishes nothing. */
const char *notify_normalize(const char *value) {
    static _Thread_local char out[32];
    int flags = notify_parse(value), all = 1, n = 0;
    if (flags < 0) flags = 0;
    for (int i = 0; i < NOTIFY_ALL_LETTERS; i++) all &= (flags >> (NOTIFY_CLASSES + i)) & 1;
    if (all) out[n++] = 'A';
    for (int i = 0; i < NOTIFY_ALL_LETTERS && !all; i++)
        if (flags & (1 << (NOTIFY_CLASSES + i))) out[n++] = notify_letters[i];
    if (flags & NOTIFY_KEYSPACE) out[n++] = 'K';
    if (flags & NOTIFY_KEYEVENT) out[n++] = 'E';
    if (flags & notify_class_bit('m')) out[n++] = 'm';
    out[n] = '\0';
    int on = (flags & (NOTIFY_KEYSPACE | NOTIFY_KEYEVENT)) && (flags >> NOTIFY_CLASSES);
    atomic_store(&g_notify_flags, on ? flags : 0);
    return out;
}

/* Publish "<prefix><db>__:<name>" -> message. */
static void notify_send(const char *prefix, int db, const char *name, size_t nlen,
                        const char *msg, size_t mlen) {
    char stack[256];
    size_t plen = strlen(prefix), cap = plen + 16 + nlen;
    char *ch = cap <= sizeof stack ? stack : df_malloc(cap);
    int head = snprintf(ch, cap, "%s%d__:", prefix, db);
    memcpy(ch + head, name, nlen);
    dfm_str_t channel = {ch, (size_t)head + nlen}, message = {msg, mlen};
    g_notify_publish(&channel, &message);
    if (ch != stack) df_free(ch);
}

void notify_publish(int db, const char *event, const char *key, size_t klen, int cls) {
    int flags = atomic_load_explicit(&g_notify_flags, memory_order_relaxed);
    if (!g_notify_publish || !(flags & notify_class_bit(cls))) return;
    if (flags & NOTIFY_KEYSPACE) notify_send("__keyspace@", db, key, klen, event, strlen(event));
    if (flags & NOTIFY_KEYEVENT) notify_send("__keyevent@", db, event, strlen(event), key, klen);
}
