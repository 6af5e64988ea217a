/*
 * members.c: the single-key set commands that add, remove and test members: SADD, SREM,
 * SMEMBERS, SISMEMBER, SMISMEMBER and SCARD. Shard thread.
 */
#include "sets.h"

void ss_cmd_sadd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    dfm_key_t *k;
    sobj_t *s;
    if (ss_lookup_create(ctx, &argv[1], &k, &s) < 0) return;
    long long added = 0;
    for (int i = 2; i < argc; i++) added += sobj_add(s, &argv[i]);
    ss_changed(ctx, &argv[1], k, s, added ? "sadd" : NULL);
    ss_api->reply_int(ctx, added);
}

void ss_cmd_srem(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    dfm_key_t *k;
    sobj_t *s;
    int found = ss_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, &k, &s);
    if (found == 0) ss_api->reply_int(ctx, 0);
    if (found <= 0) return;
    long long gone = 0;
    for (int i = 2; i < argc && s->count > 0; i++) gone += sobj_rem(s, &argv[i]);
    if (gone) ss_changed(ctx, &argv[1], k, s, "srem");
    ss_api->reply_int(ctx, gone);
}

void ss_cmd_smembers(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    sobj_t *s;
    if (ss_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &s) >= 0) ss_reply_members(ctx, s);
}

void ss_cmd_sismember(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    sobj_t *s;
    int found = ss_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &s);
    if (found >= 0) ss_api->reply_int(ctx, found && sobj_has(s, &argv[2]));
}

void ss_cmd_smismember(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    sobj_t *s;
    int found = ss_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &s);
    if (found < 0) return;
    ss_api->reply_array(ctx, argc - 2);
    for (int i = 2; i < argc; i++) ss_api->reply_int(ctx, found && sobj_has(s, &argv[i]));
}

void ss_cmd_scard(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    sobj_t *s;
    int found = ss_lookup(ctx, &argv[1], DFM_LOOKUP_READ, NULL, &s);
    if (found >= 0) ss_api->reply_int(ctx, found ? (long long)s->count : 0);
}
