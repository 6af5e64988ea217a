/*
 * db.c: shards, their databases and entries (see db.h).
 */
#include "db.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "lazyfree.h"
#include "dragonfly/module.h"
#include "util.h"
#include "worker.h"
#include "notify.h"
#include "snapshot.h"
#include "master.h"
#include "tracking.h"
#include <event2/event.h>

shard_t *g_shards;
int g_nshards;
const dfm_type_t *g_types[DB_MAX_TYPES];
int g_ntypes = 1; /* id 0 is the string type */

void db_init_shards(int nshards, int nworkers, int ndbs) {
    g_nshards = nshards;
    g_shards = aligned_alloc(64, (size_t)nshards * sizeof *g_shards); /* see shard_t */
    memset(g_shards, 0, (size_t)nshards * sizeof *g_shards);
    for (int i = 0; i < nshards; i++) {
        shard_t *s = &g_shards[i];
        s->id = i;
        s->owner = i % nworkers;
        s->ndbs = ndbs;
        s->active_expire = 1;
        s->dbs = calloc((size_t)ndbs, sizeof *s->dbs);
        for (int d = 0; d < ndbs; d++) s->dbs[d].t = table_new();
    }
}

static void db_free_entry_cb(entry_t *e, void *arg) {
    (void)arg;
    db_entry_free(e);
}

void db_free_shards(void) {
    for (int i = 0; i < g_nshards; i++) {
        shard_t *s = &g_shards[i];
        for (int d = 0; d < s->ndbs; d++) table_free(s->dbs[d].t, db_free_entry_cb, NULL);
        free(s->dbs);
    }
    free(g_shards);
    g_shards = NULL;
}

/* The {hash tag} of a key into *tag / *tlen; 0 if it has none. */
static int db_hash_tag(const char *key, size_t len, const char **tag, size_t *tlen) {
    const char *open = memchr(key, '{', len);
    if (!open) return 0;
    size_t rest = len - (size_t)(open - key) - 1;
    const char *close = memchr(open + 1, '}', rest);
    if (!close || close == open + 1) return 0;
    *tag = open + 1;
    *tlen = (size_t)(close - *tag);
    return 1;
}

static int db_shard_of_hash(uint64_t h) { return (int)((uint32_t)(h >> 20) % (uint32_t)g_nshards); }

int db_shard_of(const char *key, size_t len) {
    if (g_nshards == 1) return 0;
    db_hash_tag(key, len, &key, &len);
    return db_shard_of_hash(table_hash(key, len));
}

int db_shard_and_hash(const char *key, size_t len, uint64_t *hash) {
    *hash = table_hash(key, len);
    if (g_nshards == 1) return 0;
    const char *tag;
    size_t tlen;
    return db_shard_of_hash(db_hash_tag(key, len, &tag, &tlen) ? table_hash(tag, tlen) : *hash);
}

int db_str_encoding(const char *p, size_t len) {
    long long v;
    if (len <= 20 && util_str2ll(p, len, &v) == 0) return ENTRY_ENC_INT;
    return len <= 44 ? ENTRY_ENC_EMBSTR : ENTRY_ENC_RAW;
}

static entry_t *db_entry_alloc(const char *key, size_t klen, size_t vlen, int64_t expire_ms) {
    int has_exp = expire_ms >= 0;
    entry_t *e = df_malloc(entry_alloc_size(klen, vlen, has_exp));
    e->type = DFM_TYPE_STRING;
    e->flags = has_exp ? ENTRY_F_EXPIRE : 0;
    e->lru = 0;
    e->klen = (uint32_t)klen;
    e->vlen = (uint32_t)vlen;
    if (has_exp) memcpy(e->data, &expire_ms, 8);
    memcpy(e->data + (has_exp ? 8 : 0), key, klen);
    return e;
}

entry_t *db_entry_new_str(const char *key, size_t klen, const void *val, size_t vlen,
                          int64_t expire_ms) {
    return db_entry_new_str_tail(key, klen, val, vlen, 0, expire_ms);
}

entry_t *db_entry_new_str_tail(const char *key, size_t klen, const void *val, size_t vlen,
                               size_t tail, int64_t expire_ms) {
    entry_t *e = db_entry_alloc(key, klen, vlen + tail, expire_ms);
    e->vlen = (uint32_t)vlen;
    e->flags |= (uint8_t)db_str_encoding(val, vlen);
    if (vlen) memcpy(entry_val(e), val, vlen);
    return e;
}

entry_t *db_entry_new_obj(const char *key, size_t klen, int type, void *obj, int64_t expire_ms) {
    entry_t *e = db_entry_alloc(key, klen, sizeof(void *), expire_ms);
    e->type = (uint8_t)type;
    e->flags |= ENTRY_F_OBJ;
    memcpy(entry_val(e), &obj, sizeof obj);
    return e;
}

void db_entry_free(entry_t *e) {
    if (e->flags & ENTRY_F_OBJ) lazyfree_object(g_types[e->type], entry_obj(e));
    df_free(e);
}

size_t db_entry_mem(entry_t *e) {
    size_t n = df_usable_size(e) + sizeof(table_slot_t);
    if (e->flags & ENTRY_F_OBJ) {
        const dfm_type_t *t = g_types[e->type];
        if (t && t->mem_usage) n += t->mem_usage(entry_obj(e));
    }
    return n;
}

table_slot_t *db_find_raw(shard_t *s, int db, const char *key, size_t klen) {
    return table_find(s->dbs[db].t, table_hash(key, klen), key, klen);
}

table_slot_t *db_find(shard_t *s, int db, const char *key, size_t klen) {
    table_slot_t *slot = table_find(s->dbs[db].t, table_hash(key, klen), key, klen);
    if (slot && slot_has_expire(*slot)) {
        int64_t at = entry_expire(slot_entry(*slot));
        if (at >= 0 && at <= util_now_ms()) {
            db_delete_slot(s, db, slot);
            master_journal_del(s->id, db, key, klen);
            s->stats.expired++;
            db_signal_modified(s, db, key, klen);
            notify_key(db, "expired", key, klen, 'x');
            return NULL;
        }
    }
    return slot;
}

table_slot_t *db_set_entry(shard_t *s, int db, entry_t *e) {
    db_t *d = &s->dbs[db];
    const char *key = entry_key(e);
    uint64_t h = table_hash(key, e->klen);
    table_slot_t *slot = table_find(d->t, h, key, e->klen);
    if (slot) {
        db_replace_in_slot(s, db, slot, e);
        return slot;
    }
    if (e->flags & ENTRY_F_EXPIRE) d->nexpires++;
    return table_insert(d->t, h, e);
}

void db_replace_in_slot(shard_t *s, int db, table_slot_t *slot, entry_t *e) {
    db_t *d = &s->dbs[db];
    entry_t *old = slot_entry(*slot);
    if (old == e) return;
    d->nexpires += (size_t)((e->flags & ENTRY_F_EXPIRE) != 0) - (size_t)((old->flags & ENTRY_F_EXPIRE) != 0);
    table_slot_set(d->t, slot, e);
    db_entry_free(old);
}

void db_delete_slot(shard_t *s, int db, table_slot_t *slot) {
    db_t *d = &s->dbs[db];
    entry_t *e = slot_entry(*slot);
    if (e->flags & ENTRY_F_EXPIRE) d->nexpires--;
    table_erase(d->t, slot);
    db_entry_free(e);
}

/* Rebuild e with or without the 8-byte expiry field. */
static entry_t *db_entry_reshape(entry_t *e, int64_t at_ms) {
    int has_new = at_ms >= 0;
    size_t vlen = e->vlen + entry_meta_size(e); /* the meta tail moves with the value */
    entry_t *n = df_malloc(entry_alloc_size(e->klen, vlen, has_new));
    *n = *e;
    n->flags = (uint8_t)((e->flags & ~ENTRY_F_EXPIRE) | (has_new ? ENTRY_F_EXPIRE : 0));
    if (has_new) memcpy(n->data, &at_ms, 8);
    memcpy(n->data + (has_new ? 8 : 0), entry_key(e), e->klen + vlen);
    df_free(e); /* module object pointer moved with the value bytes */
    return n;
}

void db_set_expire(shard_t *s, int db, table_slot_t *slot, int64_t at_ms) {
    db_t *d = &s->dbs[db];
    entry_t *e = slot_entry(*slot);
    int had = (e->flags & ENTRY_F_EXPIRE) != 0;
    if (had && at_ms >= 0) {
        memcpy(e->data, &at_ms, 8);
        return;
    }
    if (!had && at_ms < 0) return;
    entry_t *n = db_entry_reshape(e, at_ms);
    d->nexpires += at_ms >= 0 ? 1 : (size_t)-1;
    table_slot_set(d->t, slot, n);
}

size_t db_size(shard_t *s, int db) { return table_size(s->dbs[db].t); }

/* Tables emptied by FLUSHDB/FLUSHALL are freed a slice at a time from the owner's loop. */
typedef struct db_grave {
    struct db_grave *next;
    table_t *t;
    uint64_t cursor;
} db_grave_t;

static _Thread_local db_grave_t *db_graves;
static _Thread_local struct event *db_reaper;

static void db_reap(evutil_socket_t fd, short what, void *arg) {
    (void)fd, (void)what, (void)arg;
    int64_t until = util_mono_us() + 500;
    while (db_graves && util_mono_us() < until) {
        db_grave_t *g = db_graves;
        if (table_free_step(g->t, &g->cursor, 4, db_free_entry_cb, NULL)) {
            db_graves = g->next;
            free(g);
        }
    }
    if (db_graves) {
        struct timeval tv = {0, 200};
        evtimer_add(db_reaper, &tv);
    } else {
        df_purge();
    }
}

void db_worker_exit(void) {
    while (db_graves) {
        db_grave_t *g = db_graves;
        db_graves = g->next;
        while (!table_free_step(g->t, &g->cursor, 1024, db_free_entry_cb, NULL)) {
        }
        free(g);
    }
    if (db_reaper) event_free(db_reaper);
    db_reaper = NULL;
}

void db_release_table(table_t *t) {
    if (table_size(t) < 1024 || !tl_worker) {
        table_free(t, db_free_entry_cb, NULL);
        return;
    }
    db_grave_t *g = calloc(1, sizeof *g);
    g->t = t;
    g->next = db_graves;
    db_graves = g;
    if (!db_reaper) db_reaper = evtimer_new(tl_worker->base, db_reap, NULL);
    struct timeval tv = {0, 0};
    evtimer_add(db_reaper, &tv);
}

size_t db_flush(shard_t *s, int db) {
    size_t n = 0;
    tracking_shard_flush(s); /* Redis forgets every tracked key, whatever the db */
    for (int i = 0; i < s->ndbs; i++) {
        if (db >= 0 && i != db) continue;
        db_signal_flush(s, i); /* while WATCH can still see which keys existed */
        n += table_size(s->dbs[i].t);
        if (!snapshot_adopt_table(s, s->dbs[i].t)) db_release_table(s->dbs[i].t);
        s->dbs[i].t = table_new();
        s->dbs[i].nexpires = 0;
        s->dbs[i].expire_cursor = 0;
    }
    db_dirty_add(s, n);
    return n;
}

int db_register_type(const dfm_type_t *t) {
    if (g_ntypes >= DB_MAX_TYPES) return -1;
    g_types[g_ntypes] = t;
    return g_ntypes++;
}

const char *db_type_name(int id) {
    if (id == DFM_TYPE_STRING) return "string";
    if (id > 0 && id < g_ntypes && g_types[id]) return g_types[id]->name;
    return "none";
}

const char *db_encoding_name(const entry_t *e) {
    if (e->type == DFM_TYPE_STRING) {
        static const char *const names[] = {"int", "embstr", "raw", "raw"};
        return names[e->flags & ENTRY_ENC_MASK];
    }
    const dfm_type_t *t = g_types[e->type];
    if (t && t->encoding && t->encodings) return t->encodings[t->encoding(entry_obj(e))];
    return "unknown";
}

void db_prefetch_keys(shard_t *s, int db, const dfm_str_t *argv, const int *keys, int n) {
    uint64_t h[32];
    table_t *t = s->dbs[db].t;
    if (n > 32) n = 32;
    for (int i = 0; i < n; i++) {
        h[i] = table_hash(argv[keys[i]].ptr, argv[keys[i]].len);
        table_prefetch(t, h[i]);
    }
    for (int i = 0; i < n; i++) table_prefetch_entry(t, h[i]);
}

static void db_flush_worker(void *arg) {
    (void)arg;
    for (int i = 0; i < g_nshards; i++)
        if (g_shards[i].owner == tl_worker->id) db_flush(&g_shards[i], -1);
}

void db_flush_everything(void) {
    worker_broadcast_wait(db_flush_worker, NULL);
    tracking_flushed(); /* once every shard is empty: no read can cache what went */
}
