/*
 * api_meta.c: the 1.6 services behind memcached items: 32-bit flags and a 64-bit version
 * (CAS unique) kept in the 12 bytes after a string value (ENTRY_F_META, core/entry.h), and
 * the whole-shard calls of "allshards" commands. Keys without meta pay nothing; any write
 * of the value by another path rebuilds or rewrites the entry and clears the flag, so a
 * stale version can never survive a change of the value. All on the shard's thread.
 */
#include "api.h"

#include <string.h>

#include "alloc.h"
#include "db.h"
#include "entry.h"
#include "server.h"

static inline table_slot_t *meta_slot(const dfm_key_t *k) { return (table_slot_t *)(uintptr_t)k; }

static void meta_write(entry_t *e, uint32_t flags, uint64_t version) {
    char *m = entry_meta(e);
    memcpy(m, &flags, 4);
    memcpy(m + 4, &version, 8);
}

dfm_key_t *api_str_set_meta(dfm_ctx_t *ctx, const dfm_str_t *key, const void *val, size_t len,
                            int64_t expire_ms, uint32_t flags, uint64_t version) {
    db_t *d = &ctx->shard->dbs[ctx->db];
    uint64_t h = table_hash(key->ptr, key->len);
    table_slot_t *slot = table_find(d->t, h, key->ptr, key->len);
    if (expire_ms == DFM_EXPIRE_KEEP) expire_ms = slot ? entry_expire(slot_entry(*slot)) : -1;
    if (expire_ms < 0) expire_ms = -1;
    entry_t *e = db_entry_new_str_tail(key->ptr, key->len, val, len, ENTRY_META_SIZE, expire_ms);
    e->flags |= ENTRY_F_META;
    meta_write(e, flags, version);
    return api_put_entry(ctx, h, slot, e);
}

int api_str_meta(const dfm_key_t *k, uint32_t *flags, uint64_t *version) {
    entry_t *e = slot_entry(*meta_slot(k));
    if (!(e->flags & ENTRY_F_META)) return 0;
    const char *m = entry_meta(e);
    memcpy(flags, m, 4);
    memcpy(version, m + 4, 8);
    return 1;
}

void api_str_meta_set(dfm_ctx_t *ctx, dfm_key_t **k, uint32_t flags, uint64_t version) {
    table_slot_t *slot = meta_slot(*k);
    entry_t *e = slot_entry(*slot);
    if (e->flags & ENTRY_F_OBJ) return;
    if (!(e->flags & ENTRY_F_META)) {
        size_t need = entry_alloc_size(e->klen, e->vlen + ENTRY_META_SIZE,
                                       (e->flags & ENTRY_F_EXPIRE) != 0);
        if (need > df_usable_size(e)) {
            entry_t *n = df_realloc(e, need);
            if (n != e) table_slot_set(ctx->shard->dbs[ctx->db].t, slot, n);
            e = n;
        }
        e->flags |= ENTRY_F_META;
    }
    meta_write(e, flags, version);
}

void api_db_flush(dfm_ctx_t *ctx) {
    if (ctx->shard) db_flush(ctx->shard, ctx->db);
}

int64_t api_db_keys(dfm_ctx_t *ctx) {
    return ctx->shard ? (int64_t)db_size(ctx->shard, ctx->db) : 0;
}
