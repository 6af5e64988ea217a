/*
 * subscribe.c: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBE forms. They run on the
 * client's own thread (keyless) and change only that thread's registry and the client's
 * slot. Every channel named gets its own confirmation frame, a push ('>3' in RESP3, '*3' in
 * RESP2): the verb, the name, and the client's subscription count after it (see ps_count).
 */
#include "pubsub.h"

static const char *const ps_sub_verb[PS_NKINDS] = {"subscribe", "psubscribe", "ssubscribe"};
static const char *const ps_unsub_verb[PS_NKINDS] = {"unsubscribe", "punsubscribe",
                                                     "sunsubscribe"};
static const char *const ps_sub_name[PS_NKINDS] = {"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"};

/* One confirmation frame: verb, name (a null when name is NULL), count. */
static void ps_confirm(dfm_ctx_t *ctx, const char *verb, const char *name, size_t len,
                       int count) {
    ps_api->reply_push(ctx, 3);
    ps_api->reply_cstr(ctx, verb);
    if (name) ps_api->reply_bulk(ctx, name, len);
    else ps_api->reply_null(ctx);
    ps_api->reply_int(ctx, count);
}

/* SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE name [name ...]: subscribe to each name in turn
   (again is a no-op that still confirms). Without a client (not a connection) it fails with
   Redis's DENY BLOCKING error; SSUBSCRIBE fails so inside MULTI/EXEC as well, like Redis
   7.0, while SUBSCRIBE and PSUBSCRIBE are allowed there. */
static void ps_subscribe_cmd(dfm_ctx_t *ctx, int kind, int argc, const dfm_str_t *argv) {
    dfm_client_t *c = ps_api->client(ctx);
    if (!c || (kind == PS_SHARD && !ps_api->can_block(ctx))) {
        ps_api->reply_errorf(ctx, "ERR %s isn't allowed for a DENY BLOCKING client",
                             ps_sub_name[kind]);
        return;
    }
    for (int i = 1; i < argc; i++) {
        ps_subscribe(c, kind, argv[i].ptr, argv[i].len);
        ps_confirm(ctx, ps_sub_verb[kind], argv[i].ptr, argv[i].len,
                   ps_count(ps_client_state(c), kind));
    }
    ps_client_sync(c);
}

/* UNSUBSCRIBE / PUNSUBSCRIBE / SUNSUBSCRIBE [name ...]: drop each name (confirming it even
   when the client was not subscribed). Without names, drop every subscription of the kind,
   in the order they were made; a client with none gets one frame with a null name. */
static void ps_unsubscribe_cmd(dfm_ctx_t *ctx, int kind, int argc, const dfm_str_t *argv) {
    dfm_client_t *c = ps_api->client(ctx);
    const char *verb = ps_unsub_verb[kind];
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            if (c) ps_unsubscribe(c, kind, argv[i].ptr, argv[i].len);
            ps_confirm(ctx, verb, argv[i].ptr, argv[i].len,
                       c ? ps_count(ps_client_state(c), kind) : 0);
        }
    } else {
        ps_client_t *st = c ? ps_client_state(c) : NULL;
        if (!st || !st->d[kind].count) {
            ps_confirm(ctx, verb, NULL, 0, ps_count(st, kind));
        } else {
            ps_entry_t *e;
            while ((e = st->d[kind].head) != NULL) {
                /* reply first: ps_unsubscribe frees the entry holding the name */
                ps_confirm(ctx, verb, e->key, e->len, ps_count(st, kind) - 1);
                ps_unsubscribe(c, kind, e->key, e->len);
            }
        }
    }
    if (c) ps_client_sync(c);
}

void ps_cmd_subscribe(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    ps_subscribe_cmd(ctx, PS_CHANNEL, argc, argv);
}
void ps_cmd_psubscribe(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    ps_subscribe_cmd(ctx, PS_PATTERN, argc, argv);
}
void ps_cmd_ssubscribe(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    ps_subscribe_cmd(ctx, PS_SHARD, argc, argv);
}
void ps_cmd_unsubscribe(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    ps_unsubscribe_cmd(ctx, PS_CHANNEL, argc, argv);
}
void ps_cmd_punsubscribe(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    ps_unsubscribe_cmd(ctx, PS_PATTERN, argc, argv);
}
void ps_cmd_sunsubscribe(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    ps_unsubscribe_cmd(ctx, PS_SHARD, argc, argv);
}
