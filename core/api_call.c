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
#include <string.h>

#include "alloc.h"
#include "api.h"
#include "config.h"
#include "db.h"
#include "dispatch.h"
#include "reply.h"
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

/* Checks in Redis's order for a script: known, arity, allowed from scripts, writes. */
static int call_check(const cmd_t *cmd, int flags, int argc) {
    if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) return DFM_CALL_ARITY;
    if ((cmd->flags & CMD_NOSCRIPT) ||
        ((cmd->flags & CMD_CONN) && strcmp(cmd->name, "select") != 0))
        return DFM_CALL_NOSCRIPT;
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
    if (rc == DFM_CALL_OK) rc = call_check(cmd, call->flags, argc);
    if (rc != DFM_CALL_OK) return rc;
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
        if (cmd->flags & CMD_CONN)
            call_select(&in, call, &argv[1]);
        else
            call_run(&in, cmd, argc, argv, kidx, nk);
        cmd_stats_t *st = &cmd->stats[tl_worker ? tl_worker->id : 0];
        st->calls++;
        if (in.errors) st->failed++;
    }
    if (kidx != stack) df_free(kidx);
    return rc;
}
