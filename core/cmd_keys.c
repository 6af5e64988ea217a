/*
 * cmd_keys.c: the generic keyspace commands (issue #4): DEL, UNLINK, EXISTS, TOUCH, TYPE,
 * RENAME, RENAMENX, COPY, MOVE, KEYS, RANDOMKEY, OBJECT, SWAPDB and WAIT.
 *
 * Commands whose keys may live on different shards are dfm_multi_t phase machines run by the
 * transaction engine (tx.c), which holds every key's lock from the first phase to the reply,
 * so no client sees half of a RENAME. A phase only touches the keys of the shard it runs on;
 * each phase works out which of argv's keys are its own from the key's hash rather than from
 * the `keys` list, so the same code serves the inline single-shard path. Whole-keyspace
 * commands (KEYS, RANDOMKEY, SWAPDB) are "@allshards": their phase runs on every shard.
 *
 * Entries moved between keys or databases keep their value, module object and TTL: RENAME
 * rebuilds the entry under the new name and moves the object pointer, COPY deep-copies the
 * object through its type's copy callback.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "block.h"
#include "cmdtab.h"
#include "config.h"
#include "db.h"
#include "evict.h"
#include "glob.h"
#include "reply.h"
#include "server.h"
#include "util.h"
#include "notify.h"

#define KEYS_NOSUCHKEY "ERR no such key"
#define KEYS_SAMEOBJ "ERR source and destination objects are the same"
#define KEYS_DBRANGE "ERR DB index is out of range"
#define KEYS_NOTINT "ERR value is not an integer or out of range"

/* ------------------------------------------------------------------------------------ */
/* Helpers                                                                                */

/* 1 if argv key `k` belongs to the shard this phase runs on. */
static int keys_mine(const dfm_ctx_t *ctx, const dfm_str_t *k) {
    return g_nshards == 1 || db_shard_of(k->ptr, k->len) == ctx->shard->id;
}

static int keys_same(const dfm_str_t *a, const dfm_str_t *b) {
    return a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0;
}

/* Look up for reading: counts keyspace hits/misses; touch updates the LRU clock. */
static table_slot_t *keys_lookup_read(dfm_ctx_t *ctx, const dfm_str_t *k, int touch) {
    shard_t *s = ctx->shard;
    table_slot_t *slot = db_find(s, ctx->db, k->ptr, k->len);
    if (slot) {
        s->stats.hits++;
    } else {
        s->stats.misses++;
        notify_key(ctx->db, "keymiss", k->ptr, k->len, 'm');
    }
    if (slot && touch) entry_touch(slot_entry(*slot));
    return slot;
}

/* Parse a database index as Redis's getIntFromObject does: -1 if not an integer, -2 if it
   does not fit in an int. */
static int keys_parse_int(const dfm_str_t *a, int *out) {
    long long v;
    if (util_str2ll(a->ptr, a->len, &v) < 0) return -1;
    if (v < INT_MIN || v > INT_MAX) return -2;
    *out = (int)v;
    return 0;
}

static int keys_db_valid(int db) { return db >= 0 && db < (int)g_config.dbnum; }

/* Take the entry at slot out of db's table without freeing it. Shard thread. */
static entry_t *keys_detach(shard_t *s, int db, table_slot_t *slot) {
    entry_t *e = slot_entry(*slot);
    if (e->flags & ENTRY_F_EXPIRE) s->dbs[db].nexpires--;
    table_erase(s->dbs[db].t, slot);
    return e;
}

/*
 * Rebuild entry e under another key name: same type, flags, LRU, TTL and value bytes (for
 * module types the object pointer moves). Frees e's block, not its object.
 */
static entry_t *keys_entry_rekey(entry_t *e, const char *key, size_t klen) {
    size_t xs = entry_exp_size(e);
    size_t vlen = e->vlen + entry_meta_size(e); /* the meta tail moves with the value */
    entry_t *n = df_malloc(entry_alloc_size(klen, vlen, xs != 0));
    *n = *e;
    n->klen = (uint32_t)klen;
    memcpy(n->data, e->data, xs);
    memcpy(n->data + xs, key, klen);
    memcpy(entry_val(n), entry_cval(e), vlen);
    df_free(e);
    return n;
}

/*
 * A deep copy of e under key name `key`, with e's TTL and string encoding. Returns NULL when
 * e holds a module object whose type cannot copy.
 */
static entry_t *keys_entry_dup(const entry_t *e, const char *key, size_t klen) {
    entry_t *n;
    if (e->flags & ENTRY_F_OBJ) {
        const dfm_type_t *t = g_types[e->type];
        if (!t || !t->copy) return NULL;
        n = db_entry_new_obj(key, klen, e->type, t->copy(entry_obj(e)), entry_expire(e));
    } else {
        n = db_entry_new_str(key, klen, entry_cval(e), e->vlen, entry_expire(e));
        n->flags = (uint8_t)((n->flags & ~ENTRY_ENC_MASK) | (e->flags & ENTRY_ENC_MASK));
    }
    n->lru = entry_access_new();
    return n;
}

/* Store e at its key in db (replacing what is there) and tell watchers and waiters. */
static void keys_store(shard_t *s, int db, entry_t *e) {
    db_set_entry(s, db, e);
    db_signal_modified(s, db, entry_key(e), e->klen);
    if (e->flags & ENTRY_F_OBJ) block_signal_key(s, db, entry_key(e), e->klen);
}

/* Phase-state counters: *state carries a running sum. */
static void keys_state_add(void **state, long n) { *state = (void *)((uintptr_t)*state + (uintptr_t)n); }

static void keys_count_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    reply_int(ctx, (long long)(uintptr_t)*state);
}

/* ------------------------------------------------------------------------------------ */
/* DEL / UNLINK / EXISTS / TOUCH: one phase per shard, summing counts                     */

/* Deletes this shard's keys among argv[1..]; a repeated key is deleted (and counted) once. */
static int del_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                     const int *keys, int nkeys) {
    (void)phase, (void)keys, (void)nkeys;
    shard_t *s = ctx->shard;
    long n = 0;
    for (int i = 1; i < argc; i++) {
        if (!keys_mine(ctx, &argv[i])) continue;
        table_slot_t *slot = db_find(s, ctx->db, argv[i].ptr, argv[i].len);
        if (!slot) continue;
        db_delete_slot(s, ctx->db, slot);
        db_signal_modified(s, ctx->db, argv[i].ptr, argv[i].len);
        notify_key(ctx->db, "del", argv[i].ptr, argv[i].len, 'g');
        n++;
    }
    keys_state_add(state, n);
    return 0;
}

/* EXISTS counts a key each time it is named; TOUCH also refreshes the LRU clock. */
static int exists_generic(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv, int touch) {
    long n = 0;
    for (int i = 1; i < argc; i++)
        if (keys_mine(ctx, &argv[i]) && keys_lookup_read(ctx, &argv[i], touch)) n++;
    keys_state_add(state, n);
    return 0;
}

static int exists_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                        const int *keys, int nkeys) {
    (void)phase, (void)keys, (void)nkeys;
    return exists_generic(ctx, state, argc, argv, 0);
}

static int touch_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                       const int *keys, int nkeys) {
    (void)phase, (void)keys, (void)nkeys;
    return exists_generic(ctx, state, argc, argv, 1);
}

static const dfm_multi_t del_multi = {1, del_phase, keys_count_reply};
static const dfm_multi_t exists_multi = {1, exists_phase, keys_count_reply};
static const dfm_multi_t touch_multi = {1, touch_phase, keys_count_reply};

/* TYPE key: the type name as a status reply, "none" when missing. */
static void type_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    table_slot_t *slot = keys_lookup_read(ctx, &argv[1], 0);
    reply_simple(ctx, slot ? db_type_name(slot_entry(*slot)->type) : "none");
}

/* ------------------------------------------------------------------------------------ */
/* RENAME / RENAMENX: check (both shards), detach (source shard), store (target shard)    */

typedef struct rename_state {
    int src_exists, dst_exists;
    entry_t *moved; /* detached source entry, rebuilt under the new name */
} rename_state_t;

/* 1 if the rename goes ahead once both keys were checked. */
static int rename_go(const rename_state_t *st, const dfm_str_t *argv, int nx) {
    return st->src_exists && !keys_same(&argv[1], &argv[2]) && !(nx && st->dst_exists);
}

static int rename_phase_generic(dfm_ctx_t *ctx, int phase, void **state, const dfm_str_t *argv,
                                int nx) {
    shard_t *s = ctx->shard;
    if (!*state) *state = df_calloc(sizeof(rename_state_t));
    rename_state_t *st = *state;
    if (phase == 0) {
        if (keys_mine(ctx, &argv[1]))
            st->src_exists = db_find(s, ctx->db, argv[1].ptr, argv[1].len) != NULL;
        if (keys_mine(ctx, &argv[2]))
            st->dst_exists = db_find(s, ctx->db, argv[2].ptr, argv[2].len) != NULL;
        return 0;
    }
    if (!rename_go(st, argv, nx)) return -1;
    if (phase == 1 && keys_mine(ctx, &argv[1])) {
        table_slot_t *slot = db_find(s, ctx->db, argv[1].ptr, argv[1].len);
        if (!slot) return -1; /* cannot happen: the key is locked since phase 0 */
        st->moved = keys_entry_rekey(keys_detach(s, ctx->db, slot), argv[2].ptr, argv[2].len);
        db_signal_modified(s, ctx->db, argv[1].ptr, argv[1].len);
        notify_key(ctx->db, "rename_from", argv[1].ptr, argv[1].len, 'g');
    } else if (phase == 2 && keys_mine(ctx, &argv[2]) && st->moved) {
        keys_store(s, ctx->db, st->moved);
        st->moved = NULL;
        notify_key(ctx->db, "rename_to", argv[2].ptr, argv[2].len, 'g');
    }
    return 0;
}

static int rename_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                        const int *keys, int nkeys) {
    (void)argc, (void)keys, (void)nkeys;
    return rename_phase_generic(ctx, phase, state, argv, 0);
}

static int renamenx_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,
                          const dfm_str_t *argv, const int *keys, int nkeys) {
    (void)argc, (void)keys, (void)nkeys;
    return rename_phase_generic(ctx, phase, state, argv, 1);
}

static void rename_reply_generic(dfm_ctx_t *ctx, void **state, const dfm_str_t *argv, int nx) {
    rename_state_t *st = *state;
    if (!st || !st->src_exists)
        reply_error(ctx, KEYS_NOSUCHKEY);
    else if (!rename_go(st, argv, nx))
        nx ? reply_int(ctx, 0) : reply_ok(ctx);
    else
        nx ? reply_int(ctx, 1) : reply_ok(ctx);
    if (st && st->moved) db_entry_free(st->moved); /* only if a phase was skipped */
    df_free(st);
    *state = NULL;
}

static void rename_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)argc;
    rename_reply_generic(ctx, state, argv, 0);
}

static void renamenx_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)argc;
    rename_reply_generic(ctx, state, argv, 1);
}

static const dfm_multi_t rename_multi = {3, rename_phase, rename_reply};
static const dfm_multi_t renamenx_multi = {3, renamenx_phase, renamenx_reply};

/* ------------------------------------------------------------------------------------ */
/* COPY source destination [DB n] [REPLACE]: copy (source shard), store (target shard)    */

typedef struct copy_state {
    const char *err; /* an error reply, or NULL */
    int dstdb, replace, result;
    entry_t *copy;
} copy_state_t;

/* Parse COPY's options; returns NULL or the error to reply. */
static const char *copy_parse(int argc, const dfm_str_t *argv, int srcdb, int *dstdb, int *replace) {
    *dstdb = srcdb;
    *replace = 0;
    for (int i = 3; i < argc; i++) {
        if (util_eq_nocase(argv[i].ptr, argv[i].len, "replace")) {
            *replace = 1;
        } else if (util_eq_nocase(argv[i].ptr, argv[i].len, "db") && i + 1 < argc) {
            long long db;
            if (util_str2ll(argv[i + 1].ptr, argv[i + 1].len, &db) < 0) return KEYS_NOTINT;
            if (!keys_db_valid(db < 0 || db > INT_MAX ? -1 : (int)db)) return KEYS_DBRANGE;
            *dstdb = (int)db;
            i++;
        } else {
            return "ERR syntax error";
        }
    }
    if (*dstdb == srcdb && keys_same(&argv[1], &argv[2])) return KEYS_SAMEOBJ;
    return NULL;
}

static int copy_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                      const int *keys, int nkeys) {
    (void)keys, (void)nkeys;
    shard_t *s = ctx->shard;
    if (!*state) {
        copy_state_t *n = df_calloc(sizeof *n);
        n->err = copy_parse(argc, argv, ctx->db, &n->dstdb, &n->replace);
        *state = n;
    }
    copy_state_t *st = *state;
    if (st->err) return -1;
    if (phase == 0 && keys_mine(ctx, &argv[1])) {
        table_slot_t *slot = keys_lookup_read(ctx, &argv[1], 1);
        if (!slot) return -1;
        st->copy = keys_entry_dup(slot_entry(*slot), argv[2].ptr, argv[2].len);
        if (!st->copy) st->err = "ERR not supported for this module key";
        return st->copy ? 0 : -1;
    }
    if (phase == 1 && keys_mine(ctx, &argv[2]) && st->copy) {
        if (db_find(s, st->dstdb, argv[2].ptr, argv[2].len) && !st->replace) return 0;
        keys_store(s, st->dstdb, st->copy);
        st->copy = NULL;
        st->result = 1;
        notify_key(st->dstdb, "copy_to", argv[2].ptr, argv[2].len, 'g');
    }
    return 0;
}

static void copy_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    copy_state_t *st = *state;
    int dstdb, replace;
    const char *err = st ? st->err : copy_parse(argc, argv, ctx->db, &dstdb, &replace);
    if (err)
        reply_error(ctx, err);
    else
        reply_int(ctx, st ? st->result : 0);
    if (st && st->copy) db_entry_free(st->copy);
    df_free(st);
    *state = NULL;
}

static const dfm_multi_t copy_multi = {2, copy_phase, copy_reply};

/* ------------------------------------------------------------------------------------ */
/* MOVE key db: same shard, another database                                              */

static void move_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    shard_t *s = ctx->shard;
    int dst, r = keys_parse_int(&argv[2], &dst);
    if (r < 0) {
        reply_error(ctx, r == -1 ? KEYS_NOTINT
                                 : "ERR value is out of range, value must between -2147483648 "
                                   "and 2147483647");
        return;
    }
    if (!keys_db_valid(dst)) {
        reply_error(ctx, KEYS_DBRANGE);
        return;
    }
    if (dst == ctx->db) {
        reply_error(ctx, KEYS_SAMEOBJ);
        return;
    }
    table_slot_t *slot = db_find(s, ctx->db, argv[1].ptr, argv[1].len);
    if (!slot || db_find(s, dst, argv[1].ptr, argv[1].len)) {
        reply_int(ctx, 0);
        return;
    }
    keys_store(s, dst, keys_detach(s, ctx->db, slot));
    db_signal_modified(s, ctx->db, argv[1].ptr, argv[1].len);
    notify_key(ctx->db, "move_from", argv[1].ptr, argv[1].len, 'g');
    notify_key(dst, "move_to", argv[1].ptr, argv[1].len, 'g');
    reply_int(ctx, 1);
}

/* ------------------------------------------------------------------------------------ */
/* KEYS pattern: every shard appends its matches as bulk strings to one buffer            */

typedef struct keylist {
    rbuf_t buf; /* RESP bulk strings, one per key */
    long n;
    const dfm_str_t *pattern;
    int all;
    int64_t now;
} keylist_t;

static void keys_visit(void *arg, table_slot_t *slot) {
    keylist_t *kl = arg;
    entry_t *e = slot_entry(*slot);
    if (slot_has_expire(*slot) && entry_expire(e) <= kl->now) return;
    if (!kl->all && !glob_match(kl->pattern->ptr, kl->pattern->len, entry_key(e), e->klen, 0)) return;
    dfm_ctx_t tmp = {.out = &kl->buf, .resp = 2};
    reply_bulk(&tmp, entry_key(e), e->klen);
    kl->n++;
}

static int keys_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                      const int *keys, int nkeys) {
    (void)phase, (void)argc, (void)keys, (void)nkeys;
    if (!*state) *state = df_calloc(sizeof(keylist_t));
    keylist_t *kl = *state;
    kl->pattern = &argv[1];
    kl->all = argv[1].len == 1 && argv[1].ptr[0] == '*';
    kl->now = util_now_ms();
    table_t *t = ctx->shard->dbs[ctx->db].t;
    uint64_t cur = 0;
    do cur = table_scan(t, cur, keys_visit, kl);
    while (cur);
    return 0;
}

static void keys_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    keylist_t *kl = *state;
    reply_array(ctx, kl ? kl->n : 0);
    if (kl) {
        if (kl->buf.len) reply_raw(ctx, kl->buf.data, kl->buf.len);
        rbuf_free(&kl->buf);
        df_free(kl);
    }
    *state = NULL;
}

static const dfm_multi_t keys_multi = {1, keys_phase, keys_reply};

/* ------------------------------------------------------------------------------------ */
/* RANDOMKEY: weighted reservoir over shards (a shard with n keys wins with n/total)      */

typedef struct randkey_state {
    uint64_t total;
    char *key;
    size_t len;
} randkey_state_t;

/* A random live key of this shard's db, deleting expired ones met on the way; NULL if none. */
static entry_t *randkey_pick(shard_t *s, int db) {
    table_t *t = s->dbs[db].t;
    int64_t now = util_now_ms();
    for (int tries = 0; tries < 100; tries++) {
        table_slot_t *slot = table_random(t, util_rand64());
        if (!slot) return NULL;
        entry_t *e = slot_entry(*slot);
        if (!slot_has_expire(*slot) || entry_expire(e) > now) return e;
        db_signal_modified(s, db, entry_key(e), e->klen);
        notify_key(db, "expired", entry_key(e), e->klen, 'x');
        db_delete_slot(s, db, slot);
        s->stats.expired++;
    }
    return NULL;
}

static int randkey_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                         const int *keys, int nkeys) {
    (void)phase, (void)argc, (void)argv, (void)keys, (void)nkeys;
    if (!*state) *state = df_calloc(sizeof(randkey_state_t));
    randkey_state_t *st = *state;
    uint64_t n = db_size(ctx->shard, ctx->db);
    if (!n) return 0;
    st->total += n;
    if (util_rand64() % st->total >= n) return 0;
    entry_t *e = randkey_pick(ctx->shard, ctx->db);
    if (!e) return 0;
    df_free(st->key);
    st->key = df_memdup(entry_key(e), e->klen);
    st->len = e->klen;
    return 0;
}

static void randkey_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    randkey_state_t *st = *state;
    if (st && st->key)
        reply_bulk(ctx, st->key, st->len);
    else
        reply_null(ctx);
    if (st) df_free(st->key);
    df_free(st);
    *state = NULL;
}

static const dfm_multi_t randkey_multi = {1, randkey_phase, randkey_reply};

/* ------------------------------------------------------------------------------------ */
/* OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ|HELP                                            */

/* The key for OBJECT (no LRU touch, no stats); replies null and returns NULL if missing. */
static entry_t *object_lookup(dfm_ctx_t *ctx, const dfm_str_t *key) {
    table_slot_t *slot = db_find(ctx->shard, ctx->db, key->ptr, key->len);
    if (!slot) reply_null(ctx);
    return slot ? slot_entry(*slot) : NULL;
}

static int object_lfu_policy(void) {
    return strstr(config_maxmemory_policies[g_config.maxmemory_policy], "lfu") != NULL;
}

static void object_encoding_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    entry_t *e = object_lookup(ctx, &argv[2]);
    if (e) reply_cstr(ctx, db_encoding_name(e));
}

/* Redis shares the integers 0..9999 (refcount INT_MAX); everything else is unshared. */
static void object_refcount_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    entry_t *e = object_lookup(ctx, &argv[2]);
    if (!e) return;
    long long v;
    int shared = e->type == DFM_TYPE_STRING && (e->flags & ENTRY_ENC_MASK) == ENTRY_ENC_INT &&
                 util_str2ll(entry_cval(e), e->vlen, &v) == 0 && v >= 0 && v < 10000;
    reply_int(ctx, shared ? INT_MAX : 1);
}

static void object_idletime_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    entry_t *e = object_lookup(ctx, &argv[2]);
    if (!e) return;
    if (object_lfu_policy()) {
        reply_error(ctx, "ERR An LFU maxmemory policy is selected, idle time not tracked. Please "
                         "note that when switching between policies at runtime LRU and LFU data "
                         "will take some time to adjust.");
        return;
    }
    reply_int(ctx, (uint16_t)(server_lru_clock() - e->lru));
}

static void object_freq_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    entry_t *e = object_lookup(ctx, &argv[2]);
    if (!e) return;
    if (!object_lfu_policy()) {
        reply_error(ctx, "ERR An LFU maxmemory policy is not selected, access frequency not "
                         "tracked. Please note that when switching between policies at runtime "
                         "LRU and LFU data will take some time to adjust.");
        return;
    }
    reply_int(ctx, evict_lfu_freq(e));
}

static void object_help_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    static const char *const lines[] = {
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    };
    long n = (long)(sizeof lines / sizeof lines[0]);
    reply_array(ctx, n);
    for (long i = 0; i < n; i++) reply_simple(ctx, lines[i]);
}

/* ------------------------------------------------------------------------------------ */
/* SWAPDB a b: every shard swaps its two tables                                           */

/* NULL, or the error SWAPDB replies for these arguments. */
static const char *swapdb_parse(const dfm_str_t *argv, int *a, int *b) {
    if (keys_parse_int(&argv[1], a) < 0) return "ERR invalid first DB index";
    if (keys_parse_int(&argv[2], b) < 0) return "ERR invalid second DB index";
    if (!keys_db_valid(*a) || !keys_db_valid(*b)) return KEYS_DBRANGE;
    return NULL;
}

static int swapdb_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                        const int *keys, int nkeys) {
    (void)phase, (void)state, (void)argc, (void)keys, (void)nkeys;
    int a, b;
    if (swapdb_parse(argv, &a, &b)) return -1;
    if (a == b) return 0;
    shard_t *s = ctx->shard;
    db_t tmp = s->dbs[a];
    s->dbs[a] = s->dbs[b];
    s->dbs[b] = tmp;
    watch_signal_swap(s, a, b);
    block_signal_db(s, a);
    block_signal_db(s, b);
    return 0;
}

static void swapdb_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)state, (void)argc;
    int a, b;
    const char *err = swapdb_parse(argv, &a, &b);
    if (err)
        reply_error(ctx, err);
    else
        reply_ok(ctx);
}

static const dfm_multi_t swapdb_multi = {1, swapdb_phase, swapdb_reply};

/* ------------------------------------------------------------------------------------ */
/* WAIT numreplicas timeout: no replicas yet, so none acknowledged                        */

/* ------------------------------------------------------------------------------------ */

#define KEYS_ALL1 .first_key = 1, .last_key = -1, .key_step = 1
#define KEYS_TWO .first_key = 1, .last_key = 2, .key_step = 1
#define KEYS_ONE .first_key = 1, .last_key = 1, .key_step = 1
#define KEYS_OBJ .first_key = 2, .last_key = 2, .key_step = 1

static const dfm_command_t keys_cmds[] = {
    {.name = "del", .arity = -2, .flags = "write", KEYS_ALL1,
     .acl_categories = "@keyspace @write @slow", .summary = "Deletes one or more keys.",
     .since = "1.0.0", .group = "generic", .complexity = "O(N)", .args_doc = "key [key ...]",
     .multi = &del_multi},
    {.name = "unlink", .arity = -2, .flags = "write fast", KEYS_ALL1,
     .acl_categories = "@keyspace @write @fast",
     .summary = "Asynchronously deletes one or more keys.", .since = "4.0.0", .group = "generic",
     .complexity = "O(1) for each key removed", .args_doc = "key [key ...]", .multi = &del_multi},
    {.name = "exists", .arity = -2, .flags = "readonly fast", KEYS_ALL1,
     .acl_categories = "@keyspace @read @fast", .summary = "Determines whether one or more keys exist.",
     .since = "1.0.0", .group = "generic", .complexity = "O(N)", .args_doc = "key [key ...]",
     .multi = &exists_multi},
    {.name = "touch", .arity = -2, .flags = "readonly fast", KEYS_ALL1,
     .acl_categories = "@keyspace @read @fast",
     .summary = "Returns the number of existing keys out of those specified after updating the "
                "time they were last accessed.",
     .since = "3.2.1", .group = "generic", .complexity = "O(N)", .args_doc = "key [key ...]",
     .multi = &touch_multi},
    {.name = "type", .arity = 2, .flags = "readonly fast", KEYS_ONE,
     .acl_categories = "@keyspace @read @fast", .summary = "Determines the type of value stored at a key.",
     .since = "1.0.0", .group = "generic", .complexity = "O(1)", .args_doc = "key",
     .handler = type_cmd},
    {.name = "rename", .arity = 3, .flags = "write", KEYS_TWO,
     .acl_categories = "@keyspace @write @slow", .summary = "Renames a key and overwrites the destination.",
     .since = "1.0.0", .group = "generic", .complexity = "O(1)", .args_doc = "key newkey",
     .multi = &rename_multi},
    {.name = "renamenx", .arity = 3, .flags = "write fast", KEYS_TWO,
     .acl_categories = "@keyspace @write @fast",
     .summary = "Renames a key only when the target key name doesn't exist.", .since = "1.0.0",
     .group = "generic", .complexity = "O(1)", .args_doc = "key newkey", .multi = &renamenx_multi},
    {.name = "copy", .arity = -3, .flags = "write denyoom", KEYS_TWO,
     .acl_categories = "@keyspace @write @slow", .summary = "Copies the value of a key to a new key.",
     .since = "6.2.0", .group = "generic", .complexity = "O(N)",
     .args_doc = "source destination [DB destination-db] [REPLACE]", .multi = &copy_multi},
    {.name = "move", .arity = 3, .flags = "write fast", KEYS_ONE,
     .acl_categories = "@keyspace @write @fast", .summary = "Moves a key to another database.",
     .since = "1.0.0", .group = "generic", .complexity = "O(1)", .args_doc = "key db",
     .handler = move_cmd},
    {.name = "keys", .arity = 2, .flags = "readonly @allshards",
     .acl_categories = "@keyspace @read @slow @dangerous",
     .summary = "Returns all key names that match a pattern.", .since = "1.0.0", .group = "generic",
     .complexity = "O(N)", .args_doc = "pattern", .multi = &keys_multi},
    {.name = "randomkey", .arity = 1, .flags = "readonly @allshards",
     .acl_categories = "@keyspace @read @slow",
     .summary = "Returns a random key name from the database.", .since = "1.0.0",
     .group = "generic", .complexity = "O(1)", .multi = &randkey_multi},
    {.name = "object|encoding", .arity = 3, .flags = "readonly", KEYS_OBJ,
     .acl_categories = "@keyspace @read @slow",
     .summary = "Returns the internal encoding of a Redis object.", .since = "2.2.3",
     .group = "generic", .complexity = "O(1)", .args_doc = "key", .handler = object_encoding_cmd},
    {.name = "object|refcount", .arity = 3, .flags = "readonly", KEYS_OBJ,
     .acl_categories = "@keyspace @read @slow",
     .summary = "Returns the reference count of a value of a key.", .since = "2.2.3",
     .group = "generic", .complexity = "O(1)", .args_doc = "key", .handler = object_refcount_cmd},
    {.name = "object|idletime", .arity = 3, .flags = "readonly", KEYS_OBJ,
     .acl_categories = "@keyspace @read @slow",
     .summary = "Returns the time since the last access to a Redis object.", .since = "2.2.3",
     .group = "generic", .complexity = "O(1)", .args_doc = "key", .handler = object_idletime_cmd},
    {.name = "object|freq", .arity = 3, .flags = "readonly", KEYS_OBJ,
     .acl_categories = "@keyspace @read @slow",
     .summary = "Returns the logarithmic access frequency counter of a Redis object.",
     .since = "4.0.0", .group = "generic", .complexity = "O(1)", .args_doc = "key",
     .handler = object_freq_cmd},
    {.name = "object|help", .arity = 2, .flags = "loading stale",
     .acl_categories = "@keyspace @slow", .summary = "Returns helpful text about the different subcommands.",
     .since = "6.2.0", .group = "generic", .complexity = "O(1)", .handler = object_help_cmd},
    {.name = "swapdb", .arity = 3, .flags = "write fast @allshards",
     .acl_categories = "@keyspace @write @fast @dangerous", .summary = "Swaps two Redis databases.",
     .since = "4.0.0", .group = "server", .complexity = "O(N)", .args_doc = "index1 index2",
     .multi = &swapdb_multi},
};

void cmd_keys_register(void) { cmdtab_register(keys_cmds, CMDTAB_COUNT(keys_cmds)); }
