/*
 * cmd_client.c: CLIENT ID, INFO, LIST, KILL, SETNAME, GETNAME, SETINFO, UNBLOCK, PAUSE,
 * UNPAUSE, NO-EVICT, NO-TOUCH, REPLY and HELP (TRACKING, CACHING, GETREDIR and TRACKINGINFO
 * are in cmd_tracking.c).
 *
 * All run on the client's own thread (ctx->conn). Connections belong to their worker and
 * only that thread may touch them, so LIST, KILL and UNBLOCK visit every worker through
 * fanout_run(): each worker walks its own list (w->conns) with the request's filter and
 * writes its part (CLIENT LIST lines, or a count); the client's thread then merges the parts
 * and replies. Inside EXEC (where the reply must go into the transaction's buffer at once)
 * only the client's own worker is visited.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "alloc.h"
#include "block.h"
#include "cmdtab.h"
#include "conn.h"
#include "fanout.h"
#include "info.h"
#include "reply.h"
#include "server.h"
#include "master.h"
#include "util.h"

/* ------------------------------------------------------------------------------------ */
/* Client filters (LIST, KILL, UNBLOCK)                                                   */

enum { CLIENT_NORMAL = 1, CLIENT_PUBSUB = 2, CLIENT_MASTER = 3, CLIENT_REPLICA = 4 };

typedef struct client_filter {
    conn_t *self;        /* the requester: compared by identity only, never read elsewhere */
    int type;            /* 0 any, or a CLIENT_* type (replicas are never in a worker's list:
                            their sender threads own them, master.c) */
    uint64_t *ids;       /* ID filter (LIST takes several), NULL = any */
    int nids;
    char addr[64], laddr[64];
    int skipme;
    long long maxage;    /* seconds, 0 = any */
    acl_slot_t *user;    /* USER filter, NULL = any */
    int unblock_error;   /* UNBLOCK: reply an error rather than the timeout reply */
} client_filter_t;

static client_filter_t *client_filter_new(conn_t *self) {
    client_filter_t *f = df_calloc(sizeof *f);
    f->self = self;
    f->skipme = 1;
    return f;
}

static void client_filter_free(void *arg) {
    client_filter_t *f = arg;
    df_free(f->ids);
    df_free(f);
}

static void client_filter_add_id(client_filter_t *f, uint64_t id) {
    f->ids = df_realloc(f->ids, sizeof(uint64_t) * (size_t)(f->nids + 1));
    f->ids[f->nids++] = id;
}

/* Does connection c pass filter f? Runs on c's thread. */
static int client_match(const client_filter_t *f, conn_t *c) {
    if (c->flags & CONN_CLOSING) return 0;
    int type = (c->flags & CONN_MASTER) ? CLIENT_MASTER : conn_subscribed(c) ? CLIENT_PUBSUB : CLIENT_NORMAL;
    if (f->type && f->type != type) return 0;
    if (f->ids) {
        int hit = 0;
        for (int i = 0; i < f->nids && !hit; i++) hit = f->ids[i] == c->id;
        if (!hit) return 0;
    }
    if (f->addr[0] && strcmp(f->addr, c->addr) != 0) return 0;
    if (f->laddr[0] && strcmp(f->laddr, c->laddr) != 0) return 0;
    if (f->user && f->user != c->user) return 0;
    if (f->maxage > 0 && (util_now_ms() - c->ctime_ms) / 1000 < f->maxage) return 0;
    return 1;
}

/* Run fn on every worker (or only here inside EXEC), then done on the client's thread. */
static void client_fanout(dfm_ctx_t *ctx, fanout_fn fn, fanout_done_fn done, client_filter_t *f) {
    fanout_run_or_here(ctx, fn, done, f, client_filter_free);
}

static void client_put_count(rbuf_t *out, long long n) {
    char buf[24];
    int len = util_ll2str(buf, sizeof buf, n);
    rbuf_append(out, buf, (size_t)len);
}

/* ------------------------------------------------------------------------------------ */
/* CLIENT LIST                                                                            */

static void client_list_worker(worker_t *w, rbuf_t *out, void *arg) {
    for (conn_t *c = w->conns; c; c = c->next)
        if (client_match(arg, c)) conn_describe(c, out);
}

typedef struct client_line {
    uint64_t id;
    const char *p;
    size_t len;
} client_line_t;

static int client_line_cmp(const void *a, const void *b) {
    const client_line_t *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Merge the workers' lines in id order (creation order, like Redis) and reply. */
static void client_list_done(dfm_ctx_t *ctx, rbuf_t *parts, int n, void *arg) {
    (void)arg;
    client_line_t *lines = NULL;
    int nl = 0;
    for (int i = 0; i < n; i++) {
        for (size_t off = 0; off < parts[i].len;) {
            const char *p = parts[i].data + off;
            const char *nlp = memchr(p, '\n', parts[i].len - off);
            size_t len = nlp ? (size_t)(nlp - p) + 1 : parts[i].len - off;
            lines = df_realloc(lines, sizeof *lines * (size_t)(nl + 1));
            lines[nl].id = strtoull(p + 3, NULL, 10);
            lines[nl].p = p;
            lines[nl++].len = len;
            off += len;
        }
    }
    if (nl > 1) qsort(lines, (size_t)nl, sizeof *lines, client_line_cmp);
    rbuf_t text = {0};
    for (int i = 0; i < nl; i++) rbuf_append(&text, lines[i].p, lines[i].len);
    reply_verbatim(ctx, text.data ? text.data : "", text.len);
    rbuf_free(&text);
    df_free(lines);
}

/* TYPE name: 0 ok, -1 after replying. A subscribed client is of type pubsub, not normal,
   and the master link of type master, as in Redis. */
static int client_parse_type(dfm_ctx_t *ctx, const dfm_str_t *t, client_filter_t *f) {
    static const struct { const char *name; int type; } types[] = {
        {"normal", CLIENT_NORMAL}, {"pubsub", CLIENT_PUBSUB}, {"master", CLIENT_MASTER},
        {"replica", CLIENT_REPLICA}, {"slave", CLIENT_REPLICA}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (!util_eq_nocase(t->ptr, t->len, types[i].name)) continue;
        f->type = types[i].type;
        return 0;
    }
    reply_errorf(ctx, "ERR Unknown client type '%.*s'", (int)t->len, t->ptr);
    return -1;
}

static void client_list_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    client_filter_t *f = client_filter_new(ctx->conn);
    f->skipme = 0;
    if (argc == 4 && util_eq_nocase(argv[2].ptr, argv[2].len, "type")) {
        if (client_parse_type(ctx, &argv[3], f) < 0) goto fail;
    } else if (argc >= 4 && util_eq_nocase(argv[2].ptr, argv[2].len, "id")) {
        for (int i = 3; i < argc; i++) {
            long long id;
            if (util_str2ll(argv[i].ptr, argv[i].len, &id) < 0 || id <= 0) {
                reply_error(ctx, "ERR Invalid client ID");
                goto fail;
            }
            client_filter_add_id(f, (uint64_t)id);
        }
    } else if (argc != 2) {
        reply_syntax_error(ctx);
        goto fail;
    }
    client_fanout(ctx, client_list_worker, client_list_done, f);
    return;
fail:
    client_filter_free(f);
}

/* ------------------------------------------------------------------------------------ */
/* CLIENT KILL                                                                            */

static void client_kill_worker(worker_t *w, rbuf_t *out, void *arg) {
    client_filter_t *f = arg;
    long long n = 0;
    for (conn_t *c = w->conns, *next; c; c = next) {
        next = c->next;
        if (!client_match(f, c)) continue;
        if (c == f->self) {
            if (f->skipme) continue;
            c->flags |= CONN_CLOSE_AFTER_REPLY; /* after this very reply */
        } else {
            conn_close(c);
        }
        n++;
    }
    client_put_count(out, n);
}

/* Replicas that f selects, closed (their sender threads hold them, not the workers). */
static long long client_kill_replicas(const client_filter_t *f) {
    if (f->type != CLIENT_REPLICA || f->ids || f->user || f->laddr[0] || f->maxage) return 0;
    return master_kill_replicas(f->addr);
}

static void client_kill_done_old(dfm_ctx_t *ctx, rbuf_t *parts, int n, void *arg) {
    client_filter_t *f = arg;
    f->type = CLIENT_REPLICA;
    if (fanout_sum_parts(parts, n) + client_kill_replicas(f) == 0)
        reply_error(ctx, "ERR No such client");
    else
        reply_ok(ctx);
}

static void client_kill_done(dfm_ctx_t *ctx, rbuf_t *parts, int n, void *arg) {
    reply_int(ctx, fanout_sum_parts(parts, n) + client_kill_replicas(arg));
}

static void client_copy_addr(char *dst, size_t cap, const dfm_str_t *a) {
    size_t n = a->len < cap - 1 ? a->len : cap - 1;
    memcpy(dst, a->ptr, n);
    dst[n] = '\0';
}

/* One "<option> <value>" of the new KILL form into f; -1 after replying an error. */
static int client_kill_option(dfm_ctx_t *ctx, const dfm_str_t *o, const dfm_str_t *v,
                              client_filter_t *f) {
    long long x;
    if (util_eq_nocase(o->ptr, o->len, "id")) {
        if (util_str2ll(v->ptr, v->len, &x) < 0 || x <= 0) {
            reply_error(ctx, "ERR client-id should be greater than 0");
            return -1;
        }
        client_filter_add_id(f, (uint64_t)x);
    } else if (util_eq_nocase(o->ptr, o->len, "type")) {
        return client_parse_type(ctx, v, f);
    } else if (util_eq_nocase(o->ptr, o->len, "addr")) {
        client_copy_addr(f->addr, sizeof f->addr, v);
    } else if (util_eq_nocase(o->ptr, o->len, "laddr")) {
        client_copy_addr(f->laddr, sizeof f->laddr, v);
    } else if (util_eq_nocase(o->ptr, o->len, "user")) {
        if (!(f->user = acl_lookup(v->ptr, v->len))) {
            reply_errorf(ctx, "ERR No such user '%.*s'", (int)v->len, v->ptr);
            return -1;
        }
    } else if (util_eq_nocase(o->ptr, o->len, "skipme")) {
        if (util_eq_nocase(v->ptr, v->len, "yes")) f->skipme = 1;
        else if (util_eq_nocase(v->ptr, v->len, "no")) f->skipme = 0;
        else {
            reply_syntax_error(ctx);
            return -1;
        }
    } else if (util_eq_nocase(o->ptr, o->len, "maxage")) {
        if (util_str2ll(v->ptr, v->len, &x) < 0 || x <= 0) {
            reply_error(ctx, "ERR value is not an integer or out of range");
            return -1;
        }
        f->maxage = x;
    } else {
        reply_syntax_error(ctx);
        return -1;
    }
    return 0;
}

static void client_kill_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    client_filter_t *f = client_filter_new(ctx->conn);
    if (argc == 3) { /* old form: CLIENT KILL addr:port */
        client_copy_addr(f->addr, sizeof f->addr, &argv[2]);
        f->skipme = 0;
        client_fanout(ctx, client_kill_worker, client_kill_done_old, f);
        return;
    }
    if (argc < 4 || (argc - 2) % 2 != 0) {
        reply_syntax_error(ctx);
        client_filter_free(f);
        return;
    }
    for (int i = 2; i < argc; i += 2) {
        if (client_kill_option(ctx, &argv[i], &argv[i + 1], f) < 0) {
            client_filter_free(f);
            return;
        }
    }
    client_fanout(ctx, client_kill_worker, client_kill_done, f);
}

/* ------------------------------------------------------------------------------------ */
/* CLIENT UNBLOCK                                                                         */

static void client_unblock_worker(worker_t *w, rbuf_t *out, void *arg) {
    client_filter_t *f = arg;
    long long n = 0;
    for (conn_t *c = w->conns; c; c = c->next)
        if (client_match(f, c) && (c->flags & CONN_BLOCKED)) n += block_unblock(c, f->unblock_error);
    client_put_count(out, n);
}

static void client_unblock_done(dfm_ctx_t *ctx, rbuf_t *parts, int n, void *arg) {
    (void)arg;
    reply_int(ctx, fanout_sum_parts(parts, n) > 0);
}

/* Redis's reply to a known subcommand given too many arguments (the name as the client
   spelled it), for subcommands whose handler checks the upper bound itself. */
static void client_subcommand_syntax_error(dfm_ctx_t *ctx, const dfm_str_t *sub) {
    reply_errorf(ctx, "ERR unknown subcommand or wrong number of arguments for '%.*s'. "
                      "Try CLIENT HELP.", (int)(sub->len < 128 ? sub->len : 128), sub->ptr);
}

static void client_unblock_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    if (argc > 4) {
        client_subcommand_syntax_error(ctx, &argv[1]);
        return;
    }
    int with_error = 0; /* the reason is checked before the id, as Redis does */
    if (argc == 4) {
        if (util_eq_nocase(argv[3].ptr, argv[3].len, "error")) with_error = 1;
        else if (!util_eq_nocase(argv[3].ptr, argv[3].len, "timeout")) {
            reply_error(ctx, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    long long id;
    if (util_str2ll(argv[2].ptr, argv[2].len, &id) < 0) {
        reply_error(ctx, "ERR value is not an integer or out of range");
        return;
    }
    client_filter_t *f = client_filter_new(ctx->conn);
    client_filter_add_id(f, (uint64_t)id);
    f->unblock_error = with_error;
    client_fanout(ctx, client_unblock_worker, client_unblock_done, f);
}

/* ------------------------------------------------------------------------------------ */
/* The client's own state                                                                 */

static void client_id_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    reply_int(ctx, (long long)ctx->conn->id);
}

static void client_info_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    rbuf_t line = {0};
    conn_describe(ctx->conn, &line);
    reply_verbatim(ctx, line.data ? line.data : "", line.len);
    rbuf_free(&line);
}

/* 1 if every byte is printable and not a space (Redis's validateClientAttr). */
static int client_attr_ok(const dfm_str_t *v) {
    for (size_t i = 0; i < v->len; i++)
        if (v->ptr[i] < '!' || v->ptr[i] > '~') return 0;
    return 1;
}

/* Replace *dst with a copy of v (NULL when v is empty). */
static void client_store_attr(char **dst, const dfm_str_t *v) {
    df_free(*dst);
    *dst = v->len ? df_memdup(v->ptr, v->len) : NULL;
}

static void client_setname_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    if (!client_attr_ok(&argv[2])) {
        reply_error(ctx, "ERR Client names cannot contain spaces, newlines or special characters.");
        return;
    }
    client_store_attr(&ctx->conn->name, &argv[2]);
    reply_ok(ctx);
}

static void client_getname_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    if (ctx->conn->name)
        reply_cstr(ctx, ctx->conn->name);
    else
        reply_null(ctx);
}

/* CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2). */
static void client_setinfo_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    char **dst;
    if (util_eq_nocase(argv[2].ptr, argv[2].len, "lib-name"))
        dst = &ctx->conn->lib_name;
    else if (util_eq_nocase(argv[2].ptr, argv[2].len, "lib-ver"))
        dst = &ctx->conn->lib_ver;
    else {
        reply_errorf(ctx, "ERR Unrecognized option '%.*s'", (int)argv[2].len, argv[2].ptr);
        return;
    }
    if (!client_attr_ok(&argv[3])) {
        reply_errorf(ctx, "ERR %.*s cannot contain spaces, newlines or special characters.",
                     (int)argv[2].len, argv[2].ptr);
        return;
    }
    client_store_attr(dst, &argv[3]);
    reply_ok(ctx);
}

/* NO-EVICT / NO-TOUCH on|off: accepted (eviction does not consider clients yet). */
static void client_onoff_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    if (!util_eq_nocase(argv[2].ptr, argv[2].len, "on") && !util_eq_nocase(argv[2].ptr, argv[2].len, "off")) {
        reply_syntax_error(ctx);
        return;
    }
    reply_ok(ctx);
}

static void client_reply_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    if (util_eq_nocase(argv[2].ptr, argv[2].len, "on")) {
        reply_ok(ctx);
    } else if (util_eq_nocase(argv[2].ptr, argv[2].len, "off") ||
               util_eq_nocase(argv[2].ptr, argv[2].len, "skip")) {
        reply_error(ctx, "ERR CLIENT REPLY OFF and SKIP are not supported yet");
    } else {
        reply_syntax_error(ctx);
    }
}

/* CLIENT PAUSE timeout [WRITE|ALL]: validated as Redis does (mode first); then clients'
   commands (all, or those that may write) wait until the time is up or CLIENT UNPAUSE
   (conn_pause_hits / conn_pause, conn.c). */
static void client_pause_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    if (argc > 4) {
        client_subcommand_syntax_error(ctx, &argv[1]);
        return;
    }
    if (argc == 4 && !util_eq_nocase(argv[3].ptr, argv[3].len, "write") &&
        !util_eq_nocase(argv[3].ptr, argv[3].len, "all")) {
        reply_error(ctx, "ERR CLIENT PAUSE mode must be WRITE or ALL");
        return;
    }
    long long ms;
    if (util_str2ll(argv[2].ptr, argv[2].len, &ms) < 0) {
        reply_error(ctx, "ERR timeout is not an integer or out of range");
        return;
    }
    if (ms < 0) {
        reply_error(ctx, "ERR timeout is negative");
        return;
    }
    int all = argc < 4 || util_eq_nocase(argv[3].ptr, argv[3].len, "all");
    server_pause(SERVER_PAUSE_CLIENT, util_now_ms() + (ms > INT32_MAX ? INT32_MAX : ms), all);
    reply_ok(ctx);
}

static void client_unpause_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    server_unpause(SERVER_PAUSE_CLIENT);
    reply_ok(ctx); /* the workers' pause timers let their clients go within 10 ms */
}

static void client_help_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    static const char *const help[] = {
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "    * ID <client-id>",
        "      Kill connections by client id.",
        "    * MAXAGE <maxage>",
        "      Kill connections older than the specified age.",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.",
        "    * LIB-VER: the client lib version.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "NO-TOUCH (ON|OFF)",
        "    Will not touch LRU/LFU stats when this mode is on.",
        NULL,
    };
    command_reply_help(ctx, "CLIENT", help);
}

#define CLIENT_FLAGS "noscript loading stale @conn"
#define CLIENT_ADMIN "admin noscript loading stale @conn"
#define CLIENT_ACL "@slow @connection"
#define CLIENT_ACL_ADMIN "@admin @slow @dangerous @connection"
#define CLIENT_DOC(ver, sum) .since = ver, .summary = sum, .group = "connection"

static const dfm_command_t client_cmds[] = {
    {.name = "client|id", .arity = 2, .flags = CLIENT_FLAGS, .acl_categories = CLIENT_ACL,
     CLIENT_DOC("5.0.0", "Returns the unique client ID of the connection."), .complexity = "O(1)",
     .handler = client_id_cmd},
    {.name = "client|info", .arity = 2, .flags = CLIENT_FLAGS, .acl_categories = CLIENT_ACL,
     CLIENT_DOC("6.2.0", "Returns information about the connection."), .complexity = "O(1)",
     .handler = client_info_cmd},
    {.name = "client|list", .arity = -2, .flags = CLIENT_ADMIN, .acl_categories = CLIENT_ACL_ADMIN,
     CLIENT_DOC("2.4.0", "Lists open connections."), .complexity = "O(N) where N is the number of client connections",
     .args_doc = "[TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]]",
     .handler = client_list_cmd},
    {.name = "client|kill", .arity = -3, .flags = CLIENT_ADMIN, .acl_categories = CLIENT_ACL_ADMIN,
     CLIENT_DOC("2.4.0", "Terminates open connections."), .complexity = "O(N) where N is the number of client connections",
     .args_doc = "ip:port|[ID client-id] [TYPE NORMAL|MASTER|SLAVE|REPLICA|PUBSUB] [USER username] "
                 "[ADDR ip:port] [LADDR ip:port] [SKIPME YES|NO]",
     .handler = client_kill_cmd},
    {.name = "client|setname", .arity = 3, .flags = CLIENT_FLAGS, .acl_categories = CLIENT_ACL,
     CLIENT_DOC("2.6.9", "Sets the connection name."), .complexity = "O(1)",
     .args_doc = "connection-name", .handler = client_setname_cmd},
    {.name = "client|getname", .arity = 2, .flags = CLIENT_FLAGS, .acl_categories = CLIENT_ACL,
     CLIENT_DOC("2.6.9", "Returns the name of the connection."), .complexity = "O(1)",
     .handler = client_getname_cmd},
    {.name = "client|setinfo", .arity = 4, .flags = CLIENT_FLAGS, .acl_categories = CLIENT_ACL,
     CLIENT_DOC("7.2.0", "Sets information specific to the client or connection."),
     .complexity = "O(1)", .args_doc = "LIB-NAME libname|LIB-VER libver", .handler = client_setinfo_cmd},
    {.name = "client|unblock", .arity = -3, .flags = CLIENT_ADMIN, .acl_categories = CLIENT_ACL_ADMIN,
     CLIENT_DOC("5.0.0", "Unblocks a client blocked by a blocking command from a different connection."),
     .complexity = "O(log N) where N is the number of client connections",
     .args_doc = "client-id [TIMEOUT|ERROR]", .handler = client_unblock_cmd},
    {.name = "client|pause", .arity = -3, .flags = CLIENT_ADMIN, .acl_categories = CLIENT_ACL_ADMIN,
     CLIENT_DOC("3.0.0", "Suspends commands processing."), .complexity = "O(1)",
     .args_doc = "timeout [WRITE|ALL]", .handler = client_pause_cmd},
    {.name = "client|unpause", .arity = 2, .flags = CLIENT_ADMIN, .acl_categories = CLIENT_ACL_ADMIN,
     CLIENT_DOC("6.2.0", "Resumes processing commands from paused clients."),
     .complexity = "O(N) Where N is the number of paused clients", .handler = client_unpause_cmd},
    {.name = "client|no-evict", .arity = 3, .flags = CLIENT_ADMIN, .acl_categories = CLIENT_ACL_ADMIN,
     CLIENT_DOC("7.0.0", "Sets the client eviction mode of the connection."), .complexity = "O(1)",
     .args_doc = "ON|OFF", .handler = client_onoff_cmd},
    {.name = "client|no-touch", .arity = 3, .flags = CLIENT_FLAGS, .acl_categories = CLIENT_ACL,
     CLIENT_DOC("7.2.0", "Controls whether commands sent by the client affect the LRU/LFU of accessed keys."),
     .complexity = "O(1)", .args_doc = "ON|OFF", .handler = client_onoff_cmd},
    {.name = "client|reply", .arity = 3, .flags = CLIENT_FLAGS, .acl_categories = CLIENT_ACL,
     CLIENT_DOC("3.2.0", "Instructs the server whether to reply to commands."), .complexity = "O(1)",
     .args_doc = "ON|OFF|SKIP", .handler = client_reply_cmd},
    {.name = "client|help", .arity = 2, .flags = "loading stale @conn", .acl_categories = CLIENT_ACL,
     CLIENT_DOC("5.0.0", "Returns helpful text about the different subcommands."), .complexity = "O(1)",
     .handler = client_help_cmd},
};

void cmd_client_register(void) { cmdtab_register(client_cmds, CMDTAB_COUNT(client_cmds)); }
