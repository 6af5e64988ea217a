/*
 * migrate.c: MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
 * [AUTH password] [AUTH2 username password] [KEYS key [key ...]], as Redis 7.0.
 *
 * Redis runs the whole command on its one thread, so no client sees a key change between its
 * DUMP and its deletion. Here it is a multi-shard command with an asynchronous step (tx.h),
 * always run as a transaction that locks its keys, even on one shard:
 *   phase 0  on each shard holding some of the keys: a DUMP payload and the remaining TTL of
 *            each key that exists;
 *   await    on the client's thread: AUTH / SELECT / RESTORE (RESTORE-ASKING in cluster mode)
 *            go to the target through migrate_link.c, and the step returns; the event loop
 *            serves everyone else while the locks stay held (commands on these keys queue);
 *   phase 1  when the replies are in, on each shard: delete the keys the target accepted
 *            (unless COPY);
 *   reply    +OK, +NOKEY, the target's error, or IOERR; replicas get DEL of the deleted keys.
 */
#include "migrate.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cmdtab.h"
#include "db.h"
#include "dispatch.h"
#include "dump.h"
#include "entry.h"
#include "log.h"
#include "master.h"
#include "notify.h"
#include "reply.h"
#include "table.h"
#include "tx.h"
#include "util.h"

static const char mig_syntax_err[] = "ERR syntax error";
static const char mig_int_err[] = "ERR value is not an integer or out of range";
static const char mig_keys_err[] =
    "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string";

typedef struct mig_opts {
    int port;
    long long db, timeout;
    int copy, replace;
    const dfm_str_t *user, *pass; /* NULL when not given */
    int first, nkeys;             /* argv index of the first key, and how many */
} mig_opts_t;

typedef struct mig_key {
    rbuf_t payload; /* phase 0's DUMP payload, until the request is built */
    long long ttl;  /* ms left, 0 for none */
    uint8_t found, acked, deleted;
} mig_key_t;

typedef struct mig_state {
    mig_opts_t o;
    const char *err; /* an argument error (static text) */
    int nfound, nsent, ndel;
    mig_key_t *keys;   /* o.nkeys, in argv order */
    int *sent;         /* request index -> key index */
    uint8_t *line_err; /* request index -> its reply was an error */
    char *auth_err, *select_err, *key_err; /* the first error lines (without '-') */
    mlink_status_t status;
    int nread;
    tx_t *tx;
} mig_state_t;

/* atoi's reading of the port (leading blanks, a sign, digits; anything else ends it), as
   Redis takes it: "abc" is port 0, which nobody listens on. */
static int mig_port(const dfm_str_t *a) {
    size_t i = 0;
    while (i < a->len && (a->ptr[i] == ' ' || (a->ptr[i] >= '\t' && a->ptr[i] <= '\r'))) i++;
    int neg = i < a->len && a->ptr[i] == '-';
    if (i < a->len && (a->ptr[i] == '-' || a->ptr[i] == '+')) i++;
    long long v = 0;
    for (; i < a->len && a->ptr[i] >= '0' && a->ptr[i] <= '9' && v < 1000000; i++)
        v = v * 10 + (a->ptr[i] - '0');
    return (int)(neg ? -v : v);
}

/* Parse the arguments in Redis's order of checks; NULL, or the error text to reply. */
static const char *mig_parse(int argc, const dfm_str_t *argv, mig_opts_t *o) {
    memset(o, 0, sizeof *o);
    o->first = 3;
    o->nkeys = 1;
    for (int j = 6; j < argc; j++) {
        int more = argc - 1 - j;
        const dfm_str_t *a = &argv[j];
        if (util_eq_nocase(a->ptr, a->len, "copy")) {
            o->copy = 1;
        } else if (util_eq_nocase(a->ptr, a->len, "replace")) {
            o->replace = 1;
        } else if (util_eq_nocase(a->ptr, a->len, "auth")) {
            if (more < 1) return mig_syntax_err;
            o->pass = &argv[++j];
        } else if (util_eq_nocase(a->ptr, a->len, "auth2")) {
            if (more < 2) return mig_syntax_err;
            o->user = &argv[++j];
            o->pass = &argv[++j];
        } else if (util_eq_nocase(a->ptr, a->len, "keys")) {
            if (argv[3].len) return mig_keys_err;
            o->first = j + 1;
            o->nkeys = argc - j - 1;
            break;
        } else {
            return mig_syntax_err;
        }
    }
    if (util_str2ll(argv[5].ptr, argv[5].len, &o->timeout) < 0 ||
        util_str2ll(argv[4].ptr, argv[4].len, &o->db) < 0)
        return mig_int_err;
    if (o->timeout <= 0) o->timeout = 1000;
    o->port = mig_port(&argv[2]);
    return NULL;
}

/* The keys: after KEYS (skipping AUTH / AUTH2 arguments on the way), else argv[3], even when
   empty (Redis migrates a key named ""). */
static int mig_keys(int argc, const dfm_str_t *argv, int *idx, int max) {
    for (int i = 6; i < argc; i++) {
        if (util_eq_nocase(argv[i].ptr, argv[i].len, "auth")) {
            i++;
        } else if (util_eq_nocase(argv[i].ptr, argv[i].len, "auth2")) {
            i += 2;
        } else if (util_eq_nocase(argv[i].ptr, argv[i].len, "keys")) {
            if (argv[3].len) return 0; /* the reply step reports it */
            int n = 0;
            for (int k = i + 1; k < argc && n < max; k++) idx[n++] = k;
            return n;
        }
    }
    if (max < 1 || argc < 4) return 0;
    idx[0] = 3;
    return 1;
}

static mig_state_t *mig_state_new(int argc, const dfm_str_t *argv) {
    mig_state_t *st = df_calloc(sizeof *st);
    st->err = mig_parse(argc, argv, &st->o);
    if (!st->err && st->o.nkeys > 0) st->keys = df_calloc(sizeof *st->keys * (size_t)st->o.nkeys);
    return st;
}

static void mig_state_free(mig_state_t *st) {
    for (int j = 0; st->keys && j < st->o.nkeys; j++) rbuf_free(&st->keys[j].payload);
    df_free(st->keys);
    df_free(st->sent);
    df_free(st->line_err);
    df_free(st->auth_err);
    df_free(st->select_err);
    df_free(st->key_err);
    df_free(st);
}

/* Phase 0 on a shard: the payload and TTL of each of its keys that exists. Shard thread. */
static void mig_dump(dfm_ctx_t *ctx, mig_state_t *st, const dfm_str_t *argv, const int *keys,
                     int nkeys) {
    int64_t now = util_now_ms();
    for (int i = 0; i < nkeys; i++) {
        mig_key_t *k = &st->keys[keys[i] - st->o.first];
        const dfm_str_t *name = &argv[keys[i]];
        table_slot_t *slot = db_find(ctx->shard, ctx->db, name->ptr, name->len);
        if (!slot) continue;
        const entry_t *e = slot_entry(*slot);
        int64_t at = entry_expire(e);
        k->ttl = at < 0 ? 0 : at - now < 1 ? 1 : at - now;
        if (dump_payload(e, &k->payload) < 0) continue; /* a type without RDB: left here */
        k->found = 1;
        st->nfound++;
    }
}

/* Phase 1 on a shard: delete its keys the target accepted. Shard thread, keys locked. */
static void mig_delete(dfm_ctx_t *ctx, mig_state_t *st, const dfm_str_t *argv, const int *keys,
                       int nkeys) {
    if (st->o.copy) return;
    for (int i = 0; i < nkeys; i++) {
        mig_key_t *k = &st->keys[keys[i] - st->o.first];
        const dfm_str_t *name = &argv[keys[i]];
        if (!k->acked) continue;
        table_slot_t *slot = db_find(ctx->shard, ctx->db, name->ptr, name->len);
        if (!slot) continue; /* named twice: gone already */
        db_delete_slot(ctx->shard, ctx->db, slot);
        db_signal_modified(ctx->shard, ctx->db, name->ptr, name->len);
        notify_key(ctx->db, "del", name->ptr, name->len, 'g');
        k->deleted = 1;
        st->ndel++;
    }
}

static int mig_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                     const int *keys, int nkeys) {
    if (!*state) *state = mig_state_new(argc, argv);
    mig_state_t *st = *state;
    if (st->err) return -1;
    if (phase == 0)
        mig_dump(ctx, st, argv, keys, nkeys);
    else
        mig_delete(ctx, st, argv, keys, nkeys);
    return 0;
}

/* ---- the exchange (client's thread) ------------------------------------------------- */

static char *mig_dup_line(const char *line, size_t len) {
    char *s = df_malloc(len + 1);
    memcpy(s, line, len);
    s[len] = '\0';
    return s;
}

/* A reply line from the target: keep whether it is an error, and the texts Redis may quote. */
static void mig_on_line(void *arg, int what, const char *line, size_t len) {
    mig_state_t *st = arg;
    int err = len > 0 && line[0] == '-';
    char **slot = what == MLINK_LINE_AUTH ? &st->auth_err
                  : what == MLINK_LINE_SELECT ? &st->select_err
                                              : NULL;
    if (slot) { /* a reopened connection answers these again */
        df_free(*slot);
        *slot = err ? mig_dup_line(line + 1, len - 1) : NULL;
        return;
    }
    st->line_err[what] = (uint8_t)err;
    if (err && !st->key_err) st->key_err = mig_dup_line(line + 1, len - 1);
}

/* The replies are in (or the connection failed): which keys the target accepted, then on to
   phase 1. As Redis: an AUTH or SELECT error fails every key; a key is accepted when its
   RESTORE answered without an error. */
static void mig_on_done(void *arg, mlink_status_t status, int nread) {
    mig_state_t *st = arg;
    st->status = status;
    st->nread = nread;
    int head_err = st->auth_err || st->select_err;
    for (int i = 0; i < nread; i++) st->keys[st->sent[i]].acked = !head_err && !st->line_err[i];
    tx_resume(st->tx);
}

/* RESTORE key ttl payload [REPLACE] for each key found, in argv order; the payloads go. */
static void mig_build_body(mig_state_t *st, const dfm_str_t *argv, rbuf_t *body) {
    const char *verb = cluster_enabled() ? "RESTORE-ASKING" : "RESTORE";
    st->sent = df_malloc(sizeof *st->sent * (size_t)st->nfound);
    st->line_err = df_calloc((size_t)st->nfound);
    for (int j = 0; j < st->o.nkeys; j++) {
        mig_key_t *k = &st->keys[j];
        if (!k->found) continue;
        char ttl[24];
        int tn = util_ll2str(ttl, sizeof ttl, k->ttl);
        dfm_str_t av[5] = {{verb, strlen(verb)}, argv[st->o.first + j], {ttl, (size_t)tn},
                           {k->payload.data, k->payload.len}, {"REPLACE", 7}};
        rbuf_append_command(body, st->o.replace ? 5 : 4, av);
        rbuf_free(&k->payload);
        st->sent[st->nsent++] = j;
    }
}

/* The await step: send the keys found, or go on at once when there are none. */
static int mig_await(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv, tx_t *t) {
    (void)ctx, (void)argc;
    mig_state_t *st = *state;
    if (!st || st->err || st->nfound == 0) return 0;
    mlink_req_t req = {.host = argv[1].ptr, .hostlen = argv[1].len, .port = st->o.port,
                       .timeout_ms = st->o.timeout, .db = st->o.db, .on_line = mig_on_line,
                       .done = mig_on_done, .arg = st};
    if (st->o.pass) {
        dfm_str_t av[3] = {{"AUTH", 4}};
        int n = 1;
        if (st->o.user) av[n++] = *st->o.user;
        av[n++] = *st->o.pass;
        rbuf_append_command(&req.auth, n, av);
    }
    mig_build_body(st, argv, &req.body);
    req.nbody = st->nsent;
    st->tx = t;
    mlink_start(&req);
    return 1;
}

/* ---- the reply ---------------------------------------------------------------------- */

/* Replicas see the deleted keys as one DEL (Redis propagates MIGRATE that way). */
static void mig_journal(dfm_ctx_t *ctx, mig_state_t *st, const dfm_str_t *argv) {
    if (!st->ndel || !master_journaling()) return;
    dfm_str_t *av = df_malloc(sizeof *av * (size_t)(st->ndel + 1));
    int n = 0;
    av[n++] = (dfm_str_t){"DEL", 3};
    for (int j = 0; j < st->o.nkeys; j++)
        if (st->keys[j].deleted) av[n++] = argv[st->o.first + j];
    tx_journal_as(ctx, n, av);
    df_free(av);
}

static void mig_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    mig_state_t *st = *state;
    if (!st) { /* no phase ran: no keys */
        mig_opts_t o;
        const char *err = mig_parse(argc, argv, &o);
        if (err)
            reply_error(ctx, err);
        else
            reply_simple(ctx, "NOKEY");
        return;
    }
    const char *target_err = st->nread ? st->auth_err ? st->auth_err
                                         : st->select_err ? st->select_err
                                                          : st->key_err
                                       : NULL;
    if (st->err)
        reply_error(ctx, st->err);
    else if (st->nfound == 0)
        reply_simple(ctx, "NOKEY");
    else if (target_err)
        reply_errorf(ctx, "ERR Target instance replied with error: %s", target_err);
    else if (st->status == MLINK_ECONNECT)
        reply_error(ctx, "IOERR error or timeout connecting to the client");
    else if (st->status == MLINK_EWRITE)
        reply_error(ctx, "IOERR error or timeout writing to target instance");
    else if (st->status == MLINK_EREAD)
        reply_error(ctx, "IOERR error or timeout reading to target instance");
    else
        reply_ok(ctx);
    mig_journal(ctx, st, argv);
    mig_state_free(st);
    *state = NULL;
}

static const dfm_multi_t migrate_multi = {2, mig_phase, mig_reply};

static const dfm_command_t migrate_cmds[] = {
    {.name = "migrate", .arity = -6, .flags = "write", .first_key = 3, .last_key = 3,
     .key_step = 1, .acl_categories = "@keyspace @write @slow @dangerous",
     .summary = "Atomically transfer a key from a Redis instance to another one.",
     .since = "2.6.0", .group = "generic",
     .complexity = "This command actually executes a DUMP+DEL in the source instance, and a "
                   "RESTORE in the target instance. See the pages of these commands for time "
                   "complexity. Also an O(N) data transfer between the two instances is "
                   "performed.",
     .args_doc = "host port key|\"\" destination-db timeout [COPY] [REPLACE] "
                 "[AUTH password|AUTH2 username password] [KEYS key [key ...]]",
     .multi = &migrate_multi},
};

void cmd_migrate_register(void) {
    cmdtab_register(migrate_cmds, CMDTAB_COUNT(migrate_cmds));
    char *err = NULL;
    if (dispatch_set_keys_fn("migrate", "core", mig_keys, &err) < 0 ||
        dispatch_set_await("migrate", mig_await, 0, &err) < 0) {
        log_warning("%s", err);
        abort();
    }
}
