/*
 * store.c: set, add, replace, append, prepend, cas (and the refusal of a value too large).
 *
 * argv: name key flags exptime data noreply cas (cas "0" unless mc.cas), checked by the
 * parser. Items are string keys; flags other than 0 and CAS values live in the core's string
 * meta. Every store draws a new CAS unique from the shard's counter. Shard thread.
 */
#include <string.h>

#include "mc.h"

typedef enum { MC_SET, MC_ADD, MC_REPLACE, MC_APPEND, MC_PREPEND, MC_CAS } mc_mode_t;

/* The key's string value, or NULL (missing, or another type: memcached cannot see it). */
dfm_key_t *mc_lookup_str(dfm_ctx_t *ctx, const dfm_str_t *key, int flags) {
    dfm_key_t *k = mc_api->lookup(ctx, key, flags);
    return k && mc_api->key_type(k) == DFM_TYPE_STRING ? k : NULL;
}

/* Write the value with its flags (meta only when needed) and tell the keyspace. */
void mc_put(dfm_ctx_t *ctx, const dfm_str_t *key, const char *val, size_t len,
                   int64_t expire_ms, uint32_t flags) {
    if (flags)
        mc_api->str_set_meta(ctx, key, val, len, expire_ms, flags, mc_next_cas(ctx));
    else
        mc_api->str_set(ctx, key, val, len, expire_ms);
    mc_api->signal_modified(ctx, key);
    mc_api->notify(ctx, "set", key, '$');
}

void mc_remove(dfm_ctx_t *ctx, const dfm_str_t *key) {
    dfm_key_t *k = mc_api->lookup(ctx, key, DFM_LOOKUP_WRITE | DFM_LOOKUP_NOTOUCH);
    if (!k) return;
    mc_api->key_delete(ctx, k);
    mc_api->signal_modified(ctx, key);
    mc_api->notify(ctx, "del", key, 'g');
}

void mc_answer(dfm_ctx_t *ctx, const dfm_str_t *noreply, const char *line) {
    if (!mc_noreply(noreply)) mc_reply(ctx, line);
}

/* append / prepend: the old value's flags and TTL stay. */
static void mc_concat(dfm_ctx_t *ctx, dfm_key_t *k, const dfm_str_t *argv, int prepend) {
    dfm_str_t old;
    uint32_t flags = 0;
    uint64_t cas;
    mc_api->str_value(k, &old);
    mc_api->str_meta(k, &flags, &cas);
    size_t n = old.len + argv[4].len;
    if (mc_too_big(n, argv[1].len)) {
        mc_answer(ctx, &argv[5], "SERVER_ERROR out of memory storing object");
        return;
    }
    char *buf = mc_api->alloc(n ? n : 1);
    const dfm_str_t *first = prepend ? &argv[4] : &old, *second = prepend ? &old : &argv[4];
    memcpy(buf, first->ptr, first->len);
    memcpy(buf + first->len, second->ptr, second->len);
    mc_put(ctx, &argv[1], buf, n, DFM_EXPIRE_KEEP, flags);
    mc_api->free(buf);
    mc_answer(ctx, &argv[5], "STORED");
}

/* cas: NOT_FOUND, EXISTS (changed since the gets, or never given a CAS), or stored. */
static int mc_cas_check(dfm_ctx_t *ctx, dfm_key_t *k, const dfm_str_t *argv) {
    mc_stats_t *st = mc_stats_here();
    uint64_t want, have;
    uint32_t flags;
    mc_parse_u64(&argv[6], &want);
    if (!k) {
        mc_count(&st->cas_misses);
        mc_answer(ctx, &argv[5], "NOT_FOUND");
        return -1;
    }
    if (!mc_api->str_meta(k, &flags, &have) || have != want) {
        mc_count(&st->cas_badval);
        mc_answer(ctx, &argv[5], "EXISTS");
        return -1;
    }
    mc_count(&st->cas_hits);
    return 0;
}

static void mc_store(dfm_ctx_t *ctx, const dfm_str_t *argv, mc_mode_t mode) {
    mc_count(&mc_stats_here()->cmd_set);
    dfm_key_t *k = mc_lookup_str(ctx, &argv[1], DFM_LOOKUP_WRITE);
    if ((mode == MC_ADD && k) || ((mode == MC_REPLACE || mode == MC_APPEND || mode == MC_PREPEND) && !k)) {
        mc_answer(ctx, &argv[5], "NOT_STORED");
        return;
    }
    if (mode == MC_APPEND || mode == MC_PREPEND) {
        mc_concat(ctx, k, argv, mode == MC_PREPEND);
        return;
    }
    if (mode == MC_CAS && mc_cas_check(ctx, k, argv) < 0) return;
    uint64_t flags;
    int64_t exptime;
    mc_parse_u64(&argv[2], &flags);
    mc_parse_i64(&argv[3], &exptime);
    int64_t at = mc_expire_ms(exptime);
    if (mc_expired(at)) /* stored and gone at once, as memcached does */
        mc_remove(ctx, &argv[1]);
    else
        mc_put(ctx, &argv[1], argv[4].ptr, argv[4].len, at, (uint32_t)flags);
    mc_answer(ctx, &argv[5], "STORED");
}

/* Every storage command: the mode is in the name (argv[0]: "mc.set" ... "mc.cas"). */
void mc_cmd_store(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    static const char *const names[] = {"mc.set", "mc.add", "mc.replace", "mc.append",
                                        "mc.prepend", "mc.cas"};
    (void)argc;
    for (int m = MC_SET; m <= MC_CAS; m++) {
        if (strlen(names[m]) == argv[0].len && memcmp(names[m], argv[0].ptr, argv[0].len) == 0) {
            mc_store(ctx, argv, (mc_mode_t)m);
            return;
        }
    }
}

/* mc.toolarge key set? noreply: the value was swallowed; a set also drops the old item. */
void mc_cmd_toolarge(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    if (argv[2].len) mc_remove(ctx, &argv[1]);
    mc_answer(ctx, &argv[3], "SERVER_ERROR object too large for cache");
}

/* delete key - noreply */
void mc_cmd_delete(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    mc_stats_t *st = mc_stats_here();
    dfm_key_t *k = mc_api->lookup(ctx, &argv[1], DFM_LOOKUP_WRITE | DFM_LOOKUP_NOTOUCH);
    if (!k) {
        mc_count(&st->delete_misses);
        mc_answer(ctx, &argv[3], "NOT_FOUND");
        return;
    }
    mc_count(&st->delete_hits);
    mc_remove(ctx, &argv[1]);
    mc_answer(ctx, &argv[3], "DELETED");
}
