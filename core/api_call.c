/*
 * api_call.c: api->call (ABI 1.6), running a command from inside another command's handler,
 * on the handler's shard: the engine of the scripting module's redis.call / redis.pcall.
 *
 * A script runs as one single-shard command on the thread that owns its declared keys, so
 * whatever it calls must stay on that shard: every key of the called command is checked
 * against ctx->shard before anything runs (Redis Cluster refuses a script's access to a key of
 * another node the same way). Nothing here waits, hops or takes a lock: the caller already
 * holds its shard (it runs inline there, or inside the transaction that routed it), so the
 * called command is as atomic as the script around it.
 *
 * The called command sees no client (ctx.conn and ctx.client are NULL): blocking commands
 * answer as inside MULTI, connection commands are refused, SELECT is emulated on call->db.
 */
#include <stdio.h>
#include <string.h>

#include "acl.h"
#include "alloc.h"
#include "api.h"
#include "master.h"
#include "monitor.h"
#include "config.h"
#include "conn.h"
#include "db.h"
#include "dispatch.h"
#include "reply.h"
#include "tracking.h"
#include "util.h"
#include "worker.h"

_Static_assert(sizeof(dfm_buf_t) == sizeof(rbuf_t), "dfm_buf_t mirrors rbuf_t");
_Static_assert(offsetof(dfm_buf_t, len) == offsetof(rbuf_t, len), "dfm_buf_t mirrors rbuf_t");

/* The command argv names (subcommands resolved) into *out: DFM_CALL_OK, DFM_CALL_UNKNOWN, or
   DFM_CALL_ARITY for a container without its subcommand. */
static int call_lookup(int argc, const dfm_str_t *argv, const cmd_t **out) {
    const cmd_t *cmd = dispatch_lookup(argv[0].ptr, argv[0].len);
    *out = NULL;
    if (!cmd) return DFM_CALL_UNKNOWN;
    if (cmd->nsubs && !cmd->handler && !cmd->multi) {
        if (argc < 2) return DFM_CALL_ARITY;
        cmd = dispatch_lookup_sub(cmd, argv[1].ptr, argv[1].len);
        if (!cmd) return DFM_CALL_UNKNOWN;
    }
    *out = cmd;
    return cmd->handler || cmd->multi ? DFM_CALL_OK : DFM_CALL_UNKNOWN;
}

/* SELECT for the calling script only: validates like SELECT and moves call->db. */
static void call_select(dfm_ctx_t *ctx, dfm_call_t *call, const dfm_str_t *arg) {
    long long db;
    if (util_str2ll(arg->ptr, arg->len, &db) < 0)
        reply_error(ctx, "ERR value is not an integer or out of range");
    else if (db < 0 || db >= g_config.dbnum)
        reply_error(ctx, "ERR DB index is out of range");
    else {
        call->db = (int)db;
        reply_ok(ctx);
    }
}

/* DFM_CALL_OK when every key of the call is in ctx's shard; the keys go to *kidx (the
   caller frees it when it is not stack). */
static int call_keys_local(dfm_ctx_t *ctx, const cmd_t *cmd, int argc, const dfm_str_t *argv,
                           int *kidx, int *nk) {
    *nk = 0;
    int n = dispatch_keys(cmd, argc, argv, kidx, argc);
    if (cmd->flags & CMD_ALL_SHARDS) {
        *nk = n < 0 ? 0 : n;
        return g_nshards == 1 && ctx->shard ? DFM_CALL_OK : DFM_CALL_NONLOCAL;
    }
    if (n <= 0) return DFM_CALL_OK; /* keyless, or a bad key spec its handler reports */
    for (int i = 0; i < n; i++)
        if (!ctx->shard || db_shard_of(argv[kidx[i]].ptr, argv[kidx[i]].len) != ctx->shard->id)
            return DFM_CALL_NONLOCAL;
    *nk = n;
    return DFM_CALL_OK;
}

/* Run cmd against the inner context: the handler, or every phase then the reply step. */
static void call_run(dfm_ctx_t *in, const cmd_t *cmd, int argc, const dfm_str_t *argv,
                     int *kidx, int nk) {
    if (!cmd->multi) {
        cmd->handler(in, argc, argv);
        return;
    }
    void *state = NULL;
    for (int p = 0; p < cmd->multi->nphases && in->shard; p++)
        if (cmd->multi->phase(in, p, &state, argc, argv, kidx, nk) < 0) break;
    cmd->multi->reply(in, &state, argc, argv);
}

/* The client line of an ACL LOG entry: CLIENT LIST's on the client's own thread; elsewhere
   (a script routed to another shard's thread) only what cannot change while the client
   waits for this command. */
static void call_acl_client_info(conn_t *c, rbuf_t *out) {
    if (c->w == tl_worker) {
        conn_describe(c, out);
        if (out->len) out->len--; /* the newline */
        return;
    }
    char line[512];
    int n = snprintf(line, sizeof line, "id=%llu addr=%s laddr=%s name=%s db=%d user=%s resp=%d",
                     (unsigned long long)c->id, c->addr, c->laddr, c->name ? c->name : "", c->db,
                     c->user->name, c->resp);
    rbuf_append(out, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
}

/* DFM_CALL_ACL: may the client the caller runs for run cmd with these arguments? A denial
   is logged in ACL LOG with context "lua", as Redis logs a script's. */
int api_from_master(dfm_ctx_t *ctx) {
    const conn_t *c = ctx->conn ? ctx->conn : ctx->client; /* waiting for this command: stable */
    return c && (c->flags & CONN_MASTER) != 0;
}

static int call_acl(dfm_ctx_t *ctx, const cmd_t *cmd, int argc, const dfm_str_t *argv) {
    conn_t *c = ctx->conn ? ctx->conn : ctx->client; /* waiting for this command: stable */
    if (!c || (c->flags & CONN_MASTER)) return DFM_CALL_OK;
    const acl_user_t *u = acl_current(c->user);
    if (u && (u->flags & ACL_U_FAST)) return DFM_CALL_OK;
    int bad = 0, rc = acl_check(u, cmd, argc, argv, &bad);
    if (rc == ACL_OK) return DFM_CALL_OK;
    const char *obj = cmd->fullname ? cmd->fullname : cmd->name;
    size_t olen = strlen(obj);
    if (rc != ACL_DENIED_CMD) {
        obj = argv[bad].ptr;
        olen = argv[bad].len;
    }
    rbuf_t info = {0};
    call_acl_client_info(c, &info);
    rbuf_append(&info, "", 1);
    acl_log_add(rc, "lua", obj, olen, c->user->name, strlen(c->user->name), info.data);
    rbuf_free(&info);
    return rc == ACL_DENIED_CMD ? DFM_CALL_NOPERM_CMD
           : rc == ACL_DENIED_KEY ? DFM_CALL_NOPERM_KEY
                                  : DFM_CALL_NOPERM_CHANNEL;
}

/* Checks in Redis's order for a script: known, arity, allowed from scripts, the user's
   permissions, writes. */
static int call_check(dfm_ctx_t *ctx, const cmd_t *cmd, int flags, int argc,
                      const dfm_str_t *argv) {
    if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) return DFM_CALL_ARITY;
    if ((cmd->flags & CMD_NOSCRIPT) || cmd->await ||
        ((cmd->flags & CMD_CONN) && strcmp(cmd->name, "select") != 0))
        return DFM_CALL_NOSCRIPT;
    int rc = (flags & DFM_CALL_ACL) ? call_acl(ctx, cmd, argc, argv) : DFM_CALL_OK;
    if (rc != DFM_CALL_OK) return rc;
    if ((flags & DFM_CALL_NO_WRITES) && (cmd->flags & CMD_WRITE)) return DFM_CALL_WRITE;
    return DFM_CALL_OK;
}

/*
 * api->call. ctx: the calling handler's context (its shard thread). Appends the reply to
 * call->out (api->realloc'd, owned by the caller) and returns DFM_CALL_OK, or a refusal with
 * nothing appended. Counts the command in INFO commandstats like a client's call.
 */
int api_call(dfm_ctx_t *ctx, dfm_call_t *call, int argc, const dfm_str_t *argv) {
    if (argc < 1) return DFM_CALL_ARITY;
    const cmd_t *cmd;
    int rc = call_lookup(argc, argv, &cmd);
    if (rc == DFM_CALL_OK) rc = call_check(ctx, cmd, call->flags, argc, argv);
    if (rc != DFM_CALL_OK) return rc;
    if ((cmd->flags & CMD_WRITE) && !api_from_master(ctx) && !master_enough_replicas()) {
        dfm_ctx_t in; /* min-replicas-to-write: the script's write gets Redis's error */
        memset(&in, 0, sizeof in);
        in.out = (rbuf_t *)&call->out;
        in.resp = call->resp == 3 ? 3 : 2;
        reply_error(&in, master_noreplicas_error);
        return DFM_CALL_OK;
    }
    int stack[32], nk = 0;
    int *kidx = argc <= 32 ? stack : df_malloc(sizeof(int) * (size_t)argc);
    rc = call_keys_local(ctx, cmd, argc, argv, kidx, &nk);
    if (rc == DFM_CALL_OK) {
        dfm_ctx_t in;
        memset(&in, 0, sizeof in);
        in.out = (rbuf_t *)&call->out;
        in.shard = ctx->shard;
        in.cmd = cmd;
        in.resp = call->resp == 3 ? 3 : 2;
        in.db = call->db;
        in.tx = ctx->tx;
        in.argc = argc;
        in.argv = argv;
        int fx = (cmd->flags & CMD_WRITE) && ctx->shard && master_journaling();
        uint64_t dirty0 = fx ? atomic_load_explicit(&ctx->shard->dirty, memory_order_relaxed) : 0;
        size_t out0 = call->out.len;
        if (cmd->flags & CMD_CONN)
            call_select(&in, call, &argv[1]);
        else
            call_run(&in, cmd, argc, argv, kidx, nk);
        if (fx && atomic_load_explicit(&ctx->shard->dirty, memory_order_relaxed) != dirty0)
            master_effects_add(ctx->shard, in.db, argc, argv, call->out.data + out0,
                               call->out.len >= out0 ? call->out.len - out0 : 0);
        if (in.shard) tracking_inner_read(in.shard, cmd, argc, argv, kidx, nk);
        cmd_stats_t *st = &cmd->stats[tl_worker ? tl_worker->id : 0];
        st->calls++;
        if (in.errors) st->failed++;
        if (atomic_load_explicit(&g_monitors, memory_order_relaxed) &&
            !(cmd->flags & (CMD_SKIP_MONITOR | CMD_ADMIN)))
            monitor_feed_script(call->db, argc, argv);
    }
    if (kidx != stack) df_free(kidx);
    return rc;
}
