/*
 * get.c: get, gets, gat, gats (one key per call: argv name key exptime) and touch.
 *
 * A hit writes "VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n"; a miss writes nothing
 * (the parser's END closes the line). gets on an item that has no CAS yet (stored with flags
 * 0, or written by a Redis command) gives it one: any later change of the value drops it, so
 * a cas against it then fails. Shard thread.
 */
#include <stdio.h>
#include <string.h>

#include "mc.h"

static void mc_value(dfm_ctx_t *ctx, const dfm_str_t *key, dfm_key_t **k, int with_cas) {
    uint32_t flags = 0;
    uint64_t cas = 0;
    if (!mc_api->str_meta(*k, &flags, &cas) && with_cas) {
        cas = mc_next_cas(ctx);
        mc_api->str_meta_set(ctx, k, 0, cas);
    }
    dfm_str_t v;
    mc_api->str_value(*k, &v);
    char head[400];
    char num[24];
    mc_api->ll_to_str(num, sizeof num, (long long)v.len);
    int n = with_cas ? snprintf(head, sizeof head, "VALUE %.*s %u %s %llu\r\n", (int)key->len,
                                key->ptr, flags, num, (unsigned long long)cas)
                     : snprintf(head, sizeof head, "VALUE %.*s %u %s\r\n", (int)key->len,
                                key->ptr, flags, num);
    mc_api->reply_raw(ctx, head, (size_t)n);
    mc_api->reply_raw(ctx, v.ptr, v.len);
    mc_api->reply_raw(ctx, "\r\n", 2);
}

/* gat/gats: the new TTL first; an exptime already past answers the value, then drops it. */
static int mc_touch_key(dfm_ctx_t *ctx, const dfm_str_t *key, dfm_key_t **k,
                        const dfm_str_t *exptime) {
    int64_t e = 0;
    mc_parse_i64(exptime, &e);
    int64_t at = mc_expire_ms(e);
    if (mc_expired(at)) return 1;
    mc_api->expire_set(ctx, k, at);
    mc_api->signal_modified(ctx, key);
    mc_api->notify(ctx, at >= 0 ? "expire" : "persist", key, 'g');
    return 0;
}

static void mc_get_generic(dfm_ctx_t *ctx, const dfm_str_t *argv, int with_cas, int touch) {
    mc_stats_t *st = mc_stats_here();
    mc_count(&st->cmd_get);
    if (touch) mc_count(&st->cmd_touch);
    dfm_key_t *k = mc_lookup_str(ctx, &argv[1], touch ? DFM_LOOKUP_WRITE : DFM_LOOKUP_READ);
    if (!k) {
        mc_count(&st->get_misses);
        if (touch) mc_count(&st->touch_misses);
        return;
    }
    mc_count(&st->get_hits);
    if (touch) mc_count(&st->touch_hits);
    int gone = touch && mc_touch_key(ctx, &argv[1], &k, &argv[2]);
    mc_value(ctx, &argv[1], &k, with_cas);
    if (gone) mc_remove(ctx, &argv[1]);
}

/* get, gets, gat, gats: which one is in the name (argv[0]). */
void mc_cmd_get(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    const dfm_str_t *name = &argv[0];
    mc_get_generic(ctx, argv, name->ptr[name->len - 1] == 's', name->len > 4 && name->ptr[4] == 'a');
}

/* touch key exptime noreply */
void mc_cmd_touch(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    mc_stats_t *st = mc_stats_here();
    mc_count(&st->cmd_touch);
    dfm_key_t *k = mc_lookup_str(ctx, &argv[1], DFM_LOOKUP_WRITE);
    if (!k) {
        mc_count(&st->touch_misses);
        mc_answer(ctx, &argv[3], "NOT_FOUND");
        return;
    }
    mc_count(&st->touch_hits);
    if (mc_touch_key(ctx, &argv[1], &k, &argv[2])) mc_remove(ctx, &argv[1]);
    mc_answer(ctx, &argv[3], "TOUCHED");
}
