/*
 * cmd_expire.c: key time-to-live commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with Redis
 * 7's NX|XX|GT|LT conditions), TTL, PTTL, EXPIRETIME, PEXPIRETIME and PERSIST.
 *
 * Every command has one key, so each handler runs on the thread that owns the key's shard.
 * Expiry times are absolute unix milliseconds kept in the entry (db_set_expire); a time that
 * has already passed deletes the key at once, as Redis does on a master.
 */
#include <limits.h>
#include <stdint.h>

#include "cmdtab.h"
#include "db.h"
#include "dispatch.h"
#include "reply.h"
#include "util.h"
#include "notify.h"

#define EXP_NX 0x1
#define EXP_XX 0x2
#define EXP_GT 0x4
#define EXP_LT 0x8

/* Look up a key for reading (keyspace hits/misses counted, LRU left alone). Shard thread. */
static table_slot_t *expire_lookup_read(dfm_ctx_t *ctx, const dfm_str_t *key) {
    shard_t *s = ctx->shard;
    table_slot_t *slot = db_find(s, ctx->db, key->ptr, key->len);
    if (slot) {
        s->stats.hits++;
    } else {
        s->stats.misses++;
        notify_key(ctx->db, "keymiss", key->ptr, key->len, 'm');
    }
    return slot;
}

/*
 * Parse the NX|XX|GT|LT words from argv[3] on into *flags. Replies with Redis's error and
 * returns -1 on an unknown word or an incompatible combination.
 */
static int expire_parse_flags(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int *flags) {
    static const struct {
        const char *word;
        int flag;
    } words[] = {{"nx", EXP_NX}, {"xx", EXP_XX}, {"gt", EXP_GT}, {"lt", EXP_LT}};
    *flags = 0;
    for (int i = 3; i < argc; i++) {
        int found = 0;
        for (size_t w = 0; w < sizeof words / sizeof words[0] && !found; w++) {
            if (util_eq_nocase(argv[i].ptr, argv[i].len, words[w].word)) {
                *flags |= words[w].flag;
                found = 1;
            }
        }
        if (!found) {
            reply_errorf(ctx, "ERR Unsupported option %.*s", (int)argv[i].len, argv[i].ptr);
            return -1;
        }
    }
    if ((*flags & EXP_NX) && (*flags & (EXP_XX | EXP_GT | EXP_LT))) {
        reply_error(ctx, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return -1;
    }
    if ((*flags & EXP_GT) && (*flags & EXP_LT)) {
        reply_error(ctx, "ERR GT and LT options at the same time are not compatible");
        return -1;
    }
    return 0;
}

/*
 * Turn the time argument into absolute ms: when * unit_ms + base_ms, refusing overflow with
 * "invalid expire time in '<cmd>' command". Replies and returns -1 on failure.
 */
static int expire_parse_when(dfm_ctx_t *ctx, const dfm_str_t *arg, int64_t base_ms,
                             int64_t unit_ms, int64_t *out) {
    long long when;
    if (util_str2ll(arg->ptr, arg->len, &when) < 0) {
        reply_error(ctx, "ERR value is not an integer or out of range");
        return -1;
    }
    int bad = 0;
    if (unit_ms == 1000) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000)
            bad = 1;
        else
            when *= 1000;
    }
    if (!bad && when > LLONG_MAX - base_ms) bad = 1;
    if (bad) {
        reply_errorf(ctx, "ERR invalid expire time in '%s' command", ctx->cmd->name);
        return -1;
    }
    *out = when + base_ms;
    return 0;
}

/* 1 if the NX|XX|GT|LT conditions allow replacing expiry `cur` (-1: none) with `when`. */
static int expire_allowed(int flags, int64_t cur, int64_t when) {
    if ((flags & EXP_NX) && cur != -1) return 0;
    if ((flags & EXP_XX) && cur == -1) return 0;
    if ((flags & EXP_GT) && (cur == -1 || when <= cur)) return 0;
    if ((flags & EXP_LT) && cur != -1 && when >= cur) return 0;
    return 1;
}

/*
 * EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT key time [NX|XX|GT|LT]: relative commands pass the
 * current time as base. Replies 1 when the TTL was set (or the key deleted because the
 * time is past), 0 when the key is missing or a condition failed.
 */
static void expire_generic(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int relative,
                           int64_t unit_ms) {
    int flags;
    int64_t now = util_now_ms(), when;
    if (expire_parse_flags(ctx, argc, argv, &flags) < 0) return;
    if (expire_parse_when(ctx, &argv[2], relative ? now : 0, unit_ms, &when) < 0) return;
    shard_t *s = ctx->shard;
    table_slot_t *slot = db_find(s, ctx->db, argv[1].ptr, argv[1].len);
    if (!slot || !expire_allowed(flags, entry_expire(slot_entry(*slot)), when)) {
        reply_int(ctx, 0);
        return;
    }
    if (when <= now)
        db_delete_slot(s, ctx->db, slot);
    else
        db_set_expire(s, ctx->db, slot, when);
    db_signal_modified(s, ctx->db, argv[1].ptr, argv[1].len);
    notify_key(ctx->db, when <= now ? "del" : "expire", argv[1].ptr, argv[1].len, 'g');
    reply_int(ctx, 1);
}

static void expire_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    expire_generic(ctx, argc, argv, 1, 1000);
}
static void pexpire_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    expire_generic(ctx, argc, argv, 1, 1);
}
static void expireat_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    expire_generic(ctx, argc, argv, 0, 1000);
}
static void pexpireat_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    expire_generic(ctx, argc, argv, 0, 1);
}

/*
 * TTL/PTTL/EXPIRETIME/PEXPIRETIME: -2 for a missing key, -1 without expiry, else the
 * remaining (or absolute, when absolute=1) time in ms or rounded seconds.
 */
static void ttl_generic(dfm_ctx_t *ctx, const dfm_str_t *key, int in_ms, int absolute) {
    table_slot_t *slot = expire_lookup_read(ctx, key);
    if (!slot) {
        reply_int(ctx, -2);
        return;
    }
    int64_t at = entry_expire(slot_entry(*slot));
    if (at < 0) {
        reply_int(ctx, -1);
        return;
    }
    int64_t v = absolute ? at : at - util_now_ms();
    if (v < 0) v = 0;
    if (!in_ms) v = v > LLONG_MAX - 500 ? v / 1000 : (v + 500) / 1000;
    reply_int(ctx, v);
}

static void ttl_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    ttl_generic(ctx, &argv[1], 0, 0);
}
static void pttl_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    ttl_generic(ctx, &argv[1], 1, 0);
}
static void expiretime_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    ttl_generic(ctx, &argv[1], 0, 1);
}
static void pexpiretime_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    ttl_generic(ctx, &argv[1], 1, 1);
}

/* PERSIST key: 1 if a TTL was removed, 0 if the key is missing or had none. */
static void persist_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    shard_t *s = ctx->shard;
    table_slot_t *slot = db_find(s, ctx->db, argv[1].ptr, argv[1].len);
    if (!slot || !slot_has_expire(*slot)) {
        reply_int(ctx, 0);
        return;
    }
    db_set_expire(s, ctx->db, slot, -1);
    db_signal_modified(s, ctx->db, argv[1].ptr, argv[1].len);
    notify_key(ctx->db, "persist", argv[1].ptr, argv[1].len, 'g');
    reply_int(ctx, 1);
}

#define EXPIRE_CMD(NAME, SUMMARY, SINCE, ARGS, FN)                                               \
    {.name = NAME, .arity = -3, .flags = "write fast", .first_key = 1, .last_key = 1,          \
     .key_step = 1, .acl_categories = "@keyspace @write @fast", .summary = SUMMARY,            \
     .since = SINCE, .group = "generic", .complexity = "O(1)", .args_doc = ARGS, .handler = FN}
#define TTL_CMD(NAME, SUMMARY, SINCE, FN)                                                        \
    {.name = NAME, .arity = 2, .flags = "readonly fast", .first_key = 1, .last_key = 1,        \
     .key_step = 1, .acl_categories = "@keyspace @read @fast", .summary = SUMMARY,             \
     .since = SINCE, .group = "generic", .complexity = "O(1)", .args_doc = "key", .handler = FN}

static const dfm_command_t expire_cmds[] = {
    EXPIRE_CMD("expire", "Sets the expiration time of a key in seconds.", "1.0.0",
               "key seconds [NX|XX|GT|LT]", expire_cmd),
    EXPIRE_CMD("pexpire", "Sets the expiration time of a key in milliseconds.", "2.6.0",
               "key milliseconds [NX|XX|GT|LT]", pexpire_cmd),
    EXPIRE_CMD("expireat", "Sets the expiration time of a key to a Unix timestamp.", "1.2.0",
               "key unix-time-seconds [NX|XX|GT|LT]", expireat_cmd),
    EXPIRE_CMD("pexpireat", "Sets the expiration time of a key to a Unix milliseconds timestamp.",
               "2.6.0", "key unix-time-milliseconds [NX|XX|GT|LT]", pexpireat_cmd),
    TTL_CMD("ttl", "Returns the expiration time in seconds of a key.", "1.0.0", ttl_cmd),
    TTL_CMD("pttl", "Returns the expiration time in milliseconds of a key.", "2.6.0", pttl_cmd),
    TTL_CMD("expiretime", "Returns the expiration time of a key as a Unix timestamp.", "7.0.0",
            expiretime_cmd),
    TTL_CMD("pexpiretime", "Returns the expiration time of a key as a Unix milliseconds timestamp.",
            "7.0.0", pexpiretime_cmd),
    {.name = "persist", .arity = 2, .flags = "write fast", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@keyspace @write @fast",
     .summary = "Removes the expiration time of a key.", .since = "2.2.0", .group = "generic",
     .complexity = "O(1)", .args_doc = "key", .handler = persist_cmd},
};

void cmd_expire_register(void) { cmdtab_register(expire_cmds, CMDTAB_COUNT(expire_cmds)); }
