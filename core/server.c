/*
 * server.c: start-up, listeners, the worker cron, running a command with its bookkeeping,
 * and graceful shutdown (see server.h).
 *
 * Listeners: every worker gets its own SO_REUSEPORT socket per bind address, so the kernel
 * spreads new connections over the threads and accept() never crosses threads. Before that,
 * a plain bind (without SO_REUSEPORT) proves the port is free, so a stale server cannot
 * silently take half of the connections.
 */
#include "server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "acl.h"
#include "alloc.h"
#include "api.h"
#include "evict.h"
#include "block.h"
#include "busy.h"
#include "cmdtab.h"
#include "config.h"
#include "conn.h"
#include "db.h"
#include "lazyfree.h"
#include "log.h"
#include "metrics.h"
#include "module_loader.h"
#include "rdb_load.h"
#include "aof.h"
#include "failover.h"
#include "master.h"
#include "info.h"
#include "migrate.h"
#include "monitor.h"
#include "replica.h"
#include "tls.h"
#include "snapshot.h"
#include "supervise.h"
#include "squash.h"
#include "table.h"
#include "tracking.h"
#include "tx.h"
#include "util.h"

server_state_t g_server;

#define SERVER_MAX_ADDRS 16

typedef struct listen_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    char text[128];
} listen_addr_t;

/* Listener kinds (worker_t.listen_kind): RESP over TCP, RESP over the unix socket, then
   request protocol i as LISTEN_PROTO + i. */
#define LISTEN_TCP 0
#define LISTEN_UNIX 1
#define LISTEN_TLS 2
#define LISTEN_PROTO 3
#define SERVER_MAX_RPROTOS 4

static const dfm_request_protocol_t *server_rprotos[SERVER_MAX_RPROTOS];
static int server_nrprotos;


static pthread_t server_loader; /* the start-up load (server_start_load) */
static int server_loader_started;

/* ------------------------------------------------------------------------------------ */
/* Commands                                                                               */

static void server_unknown(struct conn *c, int argc, dfm_str_t *argv) {
    char args[512];
    size_t n = 0;
    args[0] = '\0';
    for (int i = 1; i < argc && n < 128; i++) {
        int w = snprintf(args + n, sizeof args - n, "'%.*s' ", (int)(argv[i].len < 128 - n ? argv[i].len : 128 - n), argv[i].ptr);
        if (w < 0) break;
        n += (size_t)w;
        if (n >= sizeof args) n = sizeof args - 1;
    }
    dfm_ctx_t ctx;
    conn_ctx(c, &ctx, NULL);
    reply_errorf(&ctx, "ERR unknown command '%.*s', with args beginning with: %s",
                 (int)(argv[0].len < 128 ? argv[0].len : 128), argv[0].ptr, args);
}

static void server_reject(struct conn *c, const char *msg) {
    dfm_ctx_t ctx;
    conn_ctx(c, &ctx, NULL);
    reply_error(&ctx, msg);
    if (c->flags & CONN_MULTI) c->flags |= CONN_DIRTY_EXEC;
}

/* Reject cmd before it runs. EXEC turns the error into an EXECABORT that discards the
   transaction, as Redis does (even outside MULTI). */
static void server_reject_cmd(struct conn *c, const cmd_t *cmd, const char *msg) {
    if (strcmp(cmd->name, "exec") != 0) {
        server_reject(c, msg);
        return;
    }
    char abort_msg[256];
    snprintf(abort_msg, sizeof abort_msg, "EXECABORT Transaction discarded because of: %s",
             strncmp(msg, "ERR ", 4) == 0 ? msg + 4 : msg);
    multi_discard(c);
    dfm_ctx_t ctx;
    conn_ctx(c, &ctx, NULL);
    reply_error(&ctx, abort_msg);
}

/* Resolve "parent sub" for container commands. NULL after replying an error. */
static const cmd_t *server_resolve_sub(struct conn *c, const cmd_t *cmd, int argc, dfm_str_t *argv) {
    if (cmd->nsubs == 0 || cmd->handler || cmd->multi) return cmd;
    if (argc < 2) {
        char msg[128];
        snprintf(msg, sizeof msg, "ERR wrong number of arguments for '%s' command", cmd->name);
        server_reject(c, msg);
        return NULL;
    }
    const cmd_t *sub = dispatch_lookup_sub(cmd, argv[1].ptr, argv[1].len);
    if (!sub) {
        char up[48], name[160];
        size_t i;
        for (i = 0; cmd->name[i] && i < sizeof up - 1; i++) up[i] = (char)toupper((unsigned char)cmd->name[i]);
        up[i] = '\0';
        snprintf(name, sizeof name, "%.*s", (int)(argv[1].len < 128 ? argv[1].len : 128), argv[1].ptr);
        char msg[400];
        snprintf(msg, sizeof msg, "ERR unknown subcommand '%s'. Try %s HELP.", name, up);
        dfm_ctx_t ctx;
        conn_ctx(c, &ctx, NULL);
        reply_error(&ctx, msg);
        if (c->flags & CONN_MULTI) c->flags |= CONN_DIRTY_EXEC;
        return NULL;
    }
    return sub;
}

/* Copy a command into the MULTI queue (argv and bytes in one block). */
static void server_queue(struct conn *c, const cmd_t *cmd, int argc, dfm_str_t *argv) {
    multi_state_t *m = c->multi;
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->cmds = df_realloc(m->cmds, (size_t)m->cap * sizeof *m->cmds);
    }
    size_t bytes = (size_t)argc * sizeof(dfm_str_t);
    for (int i = 0; i < argc; i++) bytes += argv[i].len + 1;
    dfm_str_t *copy = df_malloc(bytes);
    char *p = (char *)(copy + argc);
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i].ptr, argv[i].len);
        p[argv[i].len] = '\0';
        copy[i].ptr = p;
        copy[i].len = argv[i].len;
        p += argv[i].len + 1;
    }
    m->cmds[m->n].cmd = cmd;
    m->cmds[m->n].argc = argc;
    m->cmds[m->n].argv = copy;
    m->n++;
    rbuf_append(&c->obuf, "+QUEUED\r\n", 9);
}

/* Command lookup with a one-entry cache per client: pipelines repeat their command name. */
static const cmd_t *server_lookup(struct conn *c, const dfm_str_t *name) {
    if (name->len == c->lcache_len && name->len && memcmp(name->ptr, c->lcache_name, name->len) == 0)
        return c->lcache_cmd;
    const cmd_t *cmd = c->proto ? dispatch_lookup_proto(name->ptr, name->len)
                                : dispatch_lookup(name->ptr, name->len);
    if (cmd && name->len < sizeof c->lcache_name) {
        memcpy(c->lcache_name, name->ptr, name->len);
        c->lcache_len = (uint8_t)name->len;
        c->lcache_cmd = cmd;
    }
    return cmd;
}

/* The command argv would run, or NULL if server_prepare would answer it itself (error,
   QUEUED): no reply, no side effect. Lets a pipeline keep reply order around a batch. */
const cmd_t *server_peek(struct conn *c, int argc, const dfm_str_t *argv) {
    const cmd_t *cmd = server_lookup(c, &argv[0]);
    if (!cmd) return NULL;
    if (cmd->nsubs && !cmd->handler && !cmd->multi)
        cmd = argc < 2 ? NULL : dispatch_lookup_sub(cmd, argv[1].ptr, argv[1].len);
    if (!cmd || (cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) return NULL;
    if (!c->authed && !(cmd->flags & CMD_NO_AUTH)) return NULL;
    const acl_user_t *u = acl_current(c->user);
    int bad;
    if ((!u || !(u->flags & ACL_U_FAST)) && acl_check(u, cmd, argc, argv, &bad) != ACL_OK) return NULL;
    if ((c->flags & CONN_MULTI) && !(cmd->flags & CMD_MULTI_OK)) return NULL;
    return cmd;
}

_Thread_local uint64_t tl_cmd_clock;

/* The commands a RESP2 client in subscribed mode may send (Redis's list). */
static int server_pubsub_allowed(const cmd_t *cmd) {
    static const char *const ok[] = {"ping",        "subscribe",    "ssubscribe",
                                      "unsubscribe", "sunsubscribe", "psubscribe",
                                      "punsubscribe", "quit",        "reset"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(cmd->name, ok[i]) == 0) return 1;
    return 0;
}

/* While following a master: READONLY for clients' writes (the master's own stream passes).
   1 when the command was refused (replied). */
static int server_replica_refuses(struct conn *c, const cmd_t *cmd) {
    if (c->flags & CONN_MASTER) return 0;
    const char *err = NULL;
    if (!(cmd->flags & CMD_STALE) && !config_compat_num(C_REPLICA_SERVE_STALE) && !replica_link_up())
        err = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
    else if ((cmd->flags & CMD_WRITE) && g_config.replica_read_only) err = replica_readonly_error;
    if (!err) return 0;
    cmd->stats[c->w->id].rejected++;
    server_reject_cmd(c, cmd, err);
    return 1;
}

/* The ACL check for a user not allowed everything: 1 when refused (NOPERM replied, the
   denial logged in ACL LOG). A deleted user's client is closed after the reply. Inside MULTI
   this runs when the command is queued, as in Redis; EXEC does not check again. */
static int server_acl_refuses(struct conn *c, const cmd_t *cmd, int argc, dfm_str_t *argv) {
    if (c->flags & CONN_MASTER) return 0; /* our master's stream is not a user's (Redis) */
    const acl_user_t *u = acl_current(c->user);
    int bad = 0, rc = acl_check(u, cmd, argc, argv, &bad);
    if (rc == ACL_OK) return 0;
    cmd->stats[c->w->id].rejected++;
    if (!u) c->flags |= CONN_CLOSE_AFTER_REPLY;
    const char *name = cmd->fullname ? cmd->fullname : cmd->name;
    const char *obj = name;
    size_t olen = strlen(name);
    char msg[200];
    if (rc == ACL_DENIED_CMD) {
        snprintf(msg, sizeof msg, "NOPERM this user has no permissions to run the '%s' command", name);
    } else {
        snprintf(msg, sizeof msg, "NOPERM this user has no permissions to access one of the %s "
                 "used as arguments", rc == ACL_DENIED_KEY ? "keys" : "channels");
        obj = argv[bad].ptr;
        olen = argv[bad].len;
    }
    rbuf_t info = {0};
    c->last_cmd = cmd;
    conn_describe(c, &info);
    if (info.len) info.data[info.len - 1] = '\0'; /* the newline */
    acl_log_add(rc, (c->flags & CONN_MULTI) ? "multi" : "toplevel", obj, olen, c->user->name,
                strlen(c->user->name), info.data ? info.data : "");
    rbuf_free(&info);
    server_reject_cmd(c, cmd, msg);
    return 1;
}

const cmd_t *server_prepare(struct conn *c, int argc, dfm_str_t *argv) {
    const cmd_t *cmd = server_lookup(c, &argv[0]);
    c->cmds++;
    if (!cmd) {
        server_unknown(c, argc, argv);
        if (c->flags & CONN_MULTI) c->flags |= CONN_DIRTY_EXEC;
        return NULL;
    }
    if (!(cmd = server_resolve_sub(c, cmd, argc, argv))) return NULL;
    if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) {
        cmd->stats[c->w->id].rejected++;
        char msg[160];
        snprintf(msg, sizeof msg, "ERR wrong number of arguments for '%s' command",
                 cmd->fullname ? cmd->fullname : cmd->name);
        server_reject_cmd(c, cmd, msg);
        return NULL;
    }
    if (!c->authed && !(cmd->flags & CMD_NO_AUTH)) {
        cmd->stats[c->w->id].rejected++;
        server_reject_cmd(c, cmd, "NOAUTH Authentication required.");
        return NULL;
    }
    const acl_user_t *u = acl_current(c->user); /* one load and one test for +@all ~* &* */
    if (__builtin_expect(!u || !(u->flags & ACL_U_FAST), 0) && server_acl_refuses(c, cmd, argc, argv))
        return NULL;
    if (__builtin_expect(atomic_load_explicit(&g_server.loading, memory_order_relaxed), 0) &&
        !(cmd->flags & CMD_LOADING) && !(c->flags & CONN_MASTER)) {
        cmd->stats[c->w->id].rejected++;
        server_reject_cmd(c, cmd, replica_loading_error);
        return NULL;
    }
    const char *busy = busy_error();
    if (__builtin_expect(busy != NULL, 0) && !(cmd->flags & CMD_ALLOW_BUSY) &&
        !(c->flags & CONN_MASTER)) {
        cmd->stats[c->w->id].rejected++;
        server_reject_cmd(c, cmd, busy);
        return NULL;
    }
    if (__builtin_expect(replica_active(), 0) && server_replica_refuses(c, cmd)) return NULL;
    if (__builtin_expect(config_compat_num(C_MIN_REPLICAS_TO_WRITE) != 0, 0) &&
        (cmd->flags & CMD_WRITE) && !(cmd->flags & CMD_NO_MANDATORY_KEYS) && /* scripts: per write */
        !(c->flags & CONN_MASTER) && !master_enough_replicas()) {
        cmd->stats[c->w->id].rejected++;
        server_reject_cmd(c, cmd, master_noreplicas_error);
        return NULL;
    }
    if (g_config.maxmemory > 0 && !(c->flags & CONN_MASTER) &&
        evict_before_command(c->w->id, cmd) < 0) {
        cmd->stats[c->w->id].rejected++;
        server_reject_cmd(c, cmd, evict_oom_error);
        return NULL;
    }
    if (__builtin_expect(snapshot_refuses_writes(), 0) && !replica_active() &&
        ((cmd->flags & CMD_WRITE) || strcmp(cmd->name, "ping") == 0)) {
        cmd->stats[c->w->id].rejected++;
        server_reject_cmd(c, cmd, snapshot_misconf_error);
        return NULL;
    }
    if (c->resp == 2 && conn_subscribed(c) && !server_pubsub_allowed(cmd)) {
        cmd->stats[c->w->id].rejected++;
        char msg[200];
        snprintf(msg, sizeof msg,
                 "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT "
                 "/ RESET are allowed in this context",
                 cmd->fullname ? cmd->fullname : cmd->name);
        server_reject_cmd(c, cmd, msg);
        return NULL;
    }
    if ((c->flags & CONN_MULTI) && !(cmd->flags & CMD_MULTI_OK)) {
        if (cmd->flags & CMD_NO_MULTI) {
            cmd->stats[c->w->id].rejected++;
            server_reject(c, "ERR Command not allowed inside a transaction");
            return NULL;
        }
        server_queue(c, cmd, argc, argv);
        return NULL;
    }
    c->last_cmd = cmd;
    if (__builtin_expect(atomic_load_explicit(&g_aof_always, memory_order_relaxed), 0) &&
        ((cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE)) || strcmp(cmd->name, "exec") == 0))
        c->aof_hold = 1; /* its reply waits for the fsync (aof_hold.c) */
    return cmd;
}

void server_call(struct conn *c, const cmd_t *cmd, int argc, dfm_str_t *argv, struct shard *s) {
    server_call_into(c, cmd, argc, argv, s, NULL);
}

void server_call_into(struct conn *c, const cmd_t *cmd, int argc, dfm_str_t *argv,
                      struct shard *s, rbuf_t *out) {
    dfm_ctx_t ctx;
    conn_ctx(c, &ctx, s);
    if (out) ctx.out = out;
    ctx.cmd = cmd;
    ctx.argc = argc;
    ctx.argv = argv;
    uint64_t t0 = tl_cmd_clock; /* the previous command's end: one clock read per command */
    int journal = master_journaling() && (cmd->flags & CMD_WRITE) && !cmd->await;
    uint64_t dirty0 = journal && s ? atomic_load_explicit(&s->dirty, memory_order_relaxed) : 0;
    size_t out0 = ctx.out->len;
    monitor_before(c, cmd, ctx.db, argc, argv);
    int trk = s && tracking_begin(s, c, c->w->id, tracking_read_flag(c, cmd, 0));
    int fx = __builtin_expect(journal, 0) && s && (cmd->flags & CMD_NO_MANDATORY_KEYS);
    if (fx) { /* a script: its effects are replicated, not the script */
        master_effects_begin(ctx.db);
        journal = 0;
    }
    if (cmd->multi) {
        int stack[64];
        int *kidx = argc <= 64 ? stack : df_malloc(sizeof(int) * (size_t)argc);
        int nk = dispatch_keys(cmd, argc, argv, kidx, argc);
        if (s && nk > 1) db_prefetch_keys(s, c->db, argv, kidx, nk);
        void *state = NULL;
        for (int p = 0; p < cmd->multi->nphases && s; p++)
            if (cmd->multi->phase(&ctx, p, &state, argc, argv, kidx, nk < 0 ? 0 : nk) < 0) break;
        cmd->multi->reply(&ctx, &state, argc, argv);
        if (kidx != stack) df_free(kidx);
    } else {
        cmd->handler(&ctx, argc, argv);
    }
    if (__builtin_expect(fx, 0)) master_effects_end(s);
    if (__builtin_expect(trk, 0)) tracking_end(s, cmd, argc, argv, NULL, 0);
    tracking_after_inline(c, cmd);
    cmd_stats_t *st = &cmd->stats[c->w->id];
    uint64_t now = util_cycles();
    st->calls++;
    st->usec += now - t0; /* cycles (including the command's parsing); INFO converts */
    tl_cmd_clock = now;
    if (ctx.errors) st->failed++;
    monitor_observe(c, cmd, c->db, argc, argv, now - t0); /* SELECT: shown in its new db */
    if (__builtin_expect(journal, 0) &&
        (!s || atomic_load_explicit(&s->dirty, memory_order_relaxed) != dirty0)) {
        if (s)
            master_journal_write(s, ctx.db, argc, argv, ctx.out->data + out0,
                                 ctx.out->len >= out0 ? ctx.out->len - out0 : 0);
        else
            master_journal_cmd(0, ctx.db, argc, argv);
    }
    /* pushes this command caused for its own client (keyspace events, a PUBLISH to itself)
       go before its reply, as Redis writes them; not EXEC's (its commands' pushes would go
       inside its array in Redis 7.0: they follow it, as the transaction's own do) */
    if (__builtin_expect(c->pushq.len != 0, 0) && ctx.out == &c->obuf && c->w == tl_worker &&
        !(cmd->flags & CMD_MONITOR_SELF) && conn_pushes_may_lead(c) &&
        out0 >= c->opos && !c->handoff && !(c->flags & (CONN_CLOSING | CONN_PUSH_KILL)))
        conn_push_insert(c, out0);
    if (__builtin_expect(ctx.block != NULL, 0)) block_attach(c, ctx.block);
    if (s && s->block) block_process_ready(s);
}

uint64_t server_total_commands(void) {
    uint64_t n = 0;
    for (int i = 0; i < dispatch_count(); i++) {
        const cmd_t *c = dispatch_at(i);
        for (int w = 0; w < g_nworkers; w++) n += c->stats[w].calls;
        for (int s = 0; s < c->nsubs; s++)
            for (int w = 0; w < g_nworkers; w++) n += c->subs[s]->stats[w].calls;
    }
    return n;
}

/* ------------------------------------------------------------------------------------ */
/* Listeners                                                                              */

static int server_parse_addr(const char *text, int port, listen_addr_t *a) {
    memset(a, 0, sizeof *a);
    const char *t = text;
    if (*t == '-') t++; /* redis.conf "-::*" means optional */
    if (strcmp(t, "*") == 0) t = "0.0.0.0";
    if (strcmp(t, "::*") == 0) t = "::";
    struct sockaddr_in *v4 = (struct sockaddr_in *)&a->ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a->ss;
    if (inet_pton(AF_INET, t, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        a->len = sizeof *v4;
    } else if (inet_pton(AF_INET6, t, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        a->len = sizeof *v6;
    } else if (strcmp(t, "localhost") == 0) {
        return server_parse_addr("127.0.0.1", port, a);
    } else {
        return -1;
    }
    snprintf(a->text, sizeof a->text, "%s", t);
    return 0;
}

static int server_socket(listen_addr_t *a, int reuseport) {
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (a->ss.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a->ss, a->len) < 0 || listen(fd, config_tcp_backlog()) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static void server_on_accept(evutil_socket_t fd, short what, void *arg) {
    (void)what;
    worker_t *w = arg;
    for (int i = 0; i < w->nlisteners; i++) {
        if (w->listen_fds[i] != fd) continue;
        int kind = w->listen_kind[i];
        conn_accept(w, fd, kind == LISTEN_UNIX,
                    kind >= LISTEN_PROTO ? server_rprotos[kind - LISTEN_PROTO] : NULL,
                    kind == LISTEN_TLS);
        return;
    }
}

static void server_add_listener(worker_t *w, int fd, int kind) {
    if (w->nlisteners == WORKER_MAX_LISTENERS) { /* bounded by SERVER_MAX_ADDRS per port */
        close(fd);
        return;
    }
    w->listen_fds[w->nlisteners] = fd;
    w->listen_kind[w->nlisteners] = (int8_t)kind;
    w->listeners[w->nlisteners] = event_new(w->base, fd, EV_READ | EV_PERSIST, server_on_accept, w);
    event_add(w->listeners[w->nlisteners], NULL);
    w->nlisteners++;
}

static int server_bind_unix(void) {
    const char *path = g_config.unixsocket;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        log_error("unixsocket path too long: %s", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, config_tcp_backlog()) < 0) {
        log_error("Could not create server unix socket %s: %s", path, strerror(errno));
        return -1;
    }
    if (g_config.unixsocketperm) chmod(path, (mode_t)g_config.unixsocketperm);
    server_add_listener(&g_workers[0], fd, LISTEN_UNIX);
    return 0;
}

/* The `bind` setting, or every address when it is empty. */
static const char *server_bind_list(void) {
    return g_config.bind && g_config.bind[0] ? g_config.bind : "0.0.0.0 ::";
}

/* Parse bind token tok for port into *a and bind a plain listening socket there, which also
   proves the port free. Returns the socket; -2 when the address may be left out (a "-"
   token, or no IPv6 under the default bind list); -1 after logging why, naming the
   listener `what`. Main thread, at start-up. */
static int server_bind_token(const char *tok, int port, const char *what, listen_addr_t *a) {
    if (server_parse_addr(tok, port, a) < 0) {
        log_error("Invalid bind address '%s'", tok);
        return -1;
    }
    int fd = server_socket(a, 0);
    if (fd >= 0) return fd;
    if (tok[0] == '-' || (errno == EAFNOSUPPORT && !(g_config.bind && g_config.bind[0]))) return -2;
    log_error("Could not create %s listening socket %s:%d: bind: %s", what, a->text, port,
              strerror(errno));
    return -1;
}

/* Bind every address of --bind to port on every worker (listeners of kind); -1 (logged) if
   any port is busy. */
static int server_listen_port(int port, int kind) {
    char *binds = strdup(server_bind_list());
    int rc = 0, naddrs = 0;
    const char *what = kind == LISTEN_TCP ? "server TCP" : kind == LISTEN_TLS ? "server TLS" : "protocol TCP";
    for (char *save = NULL, *tok = strtok_r(binds, " ", &save); tok && rc == 0; tok = strtok_r(NULL, " ", &save)) {
        listen_addr_t addr, *a = &addr;
        if (naddrs == SERVER_MAX_ADDRS) {
            log_error("Invalid bind address '%s'", tok);
            rc = -1;
            break;
        }
        int probe = server_bind_token(tok, port, what, a);
        if (probe == -2) continue;
        if (probe < 0) {
            rc = -1;
            break;
        }
        close(probe);
        for (int w = 0; w < g_nworkers; w++) {
            int fd = server_socket(a, 1);
            if (fd < 0) {
                log_error("Could not listen on %s:%d: %s", a->text, port, strerror(errno));
                rc = -1;
                break;
            }
            server_add_listener(&g_workers[w], fd, kind);
        }
        naddrs++;
    }
    free(binds);
    return rc;
}

/* The RESP port, each request protocol's port (when set), the unix socket. */
static int server_listen(void) {
    int rc = server_listen_port((int)g_config.port, LISTEN_TCP);
    for (int i = 0; i < server_nrprotos && rc == 0; i++) {
        int64_t port = *server_rprotos[i]->port;
        if (port <= 0) continue;
        if (port > 65535) {
            log_error("Invalid %s %lld", server_rprotos[i]->port_flag, (long long)port);
            return -1;
        }
        rc = server_listen_port((int)port, LISTEN_PROTO + i);
    }
    if (rc == 0 && g_config.tls_port > 0) rc = server_listen_port((int)g_config.tls_port, LISTEN_TLS);
    if (rc == 0 && g_config.unixsocket && g_config.unixsocket[0]) rc = server_bind_unix();
    return rc;
}

int server_listen_plain(int port, const char *what, int *fds, int max) {
    char *binds = strdup(server_bind_list());
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(binds, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        listen_addr_t a;
        int fd = n < max ? server_bind_token(tok, port, what, &a) : -1;
        if (fd == -2) continue;
        if (fd < 0) {
            while (n > 0) close(fds[--n]);
            n = -1;
            break;
        }
        fds[n++] = fd;
    }
    free(binds);
    return n;
}

/* ------------------------------------------------------------------------------------ */
/* Workers                                                                                */

void server_worker_init(worker_t *w) {
    for (int s = 0; s < g_nshards; s++)
        if (g_shards[s].owner == w->id) api_run_shard_init(s);
    int64_t hz = g_config.hz > 0 ? g_config.hz : 10;
    struct timeval tv = {.tv_sec = 0, .tv_usec = (suseconds_t)(1000000 / hz)};
    event_add(w->ev_cron, &tv);
}

void server_worker_exit(worker_t *w) {
    snapshot_worker_exit(w);
    for (int s = 0; s < g_nshards; s++)
        if (g_shards[s].owner == w->id) api_run_shard_exit(s);
    conn_worker_exit();
    sq_worker_exit();
    tx_worker_exit();
    db_worker_exit();
    monitor_worker_exit();
    tracking_worker_exit();
    mlink_worker_exit();
    master_effects_worker_exit();
    aof_hold_worker_exit();
}

/* Shutdown, first step: no new clients, the connected ones closed (their in-flight work
   still completes), so a final snapshot sees every acknowledged write. */
static void server_worker_quiesce(void *arg) {
    (void)arg;
    worker_t *w = tl_worker;
    for (int i = 0; i < w->nlisteners; i++) {
        if (w->listen_fds[i] < 0) continue;
        event_del(w->listeners[i]);
        close(w->listen_fds[i]);
        w->listen_fds[i] = -1;
    }
    conn_close_all(w);
    mlink_abort_all(); /* a MIGRATE waiting for its target ends now, releasing its keys */
    atomic_fetch_add(&g_server.quiesced, 1);
}

static void server_worker_stop(void *arg) {
    (void)arg;
    worker_t *w = tl_worker;
    if (w->stopping) return;
    w->stopping = 1;
    server_worker_quiesce(NULL);
    atomic_store(&w->clients_closed, 1);
    event_base_loopexit(w->base, NULL);
}

void server_worker_cron(worker_t *w) {
    int64_t now = util_now_ms();
    if (w->id == 0) {
        atomic_store(&g_server.now_ms, now);
        atomic_store(&g_server.lru_clock, (unsigned)(now / 1000));
        int64_t used = (int64_t)df_heap_allocated();
        if (used > atomic_load(&g_server.peak_memory)) atomic_store(&g_server.peak_memory, used);
        info_cron_sample(now);
    }
    int64_t hz = g_config.hz > 0 ? g_config.hz : 10;
    int64_t budget = 250000 / hz; /* 25% of the period */
    if (g_config.active_expire_enabled) {
        for (int s = 0; s < g_nshards; s++)
            if (g_shards[s].owner == w->id) db_active_expire(&g_shards[s], budget);
    }
    evict_cron(w->id);
    snapshot_cron(w);
    replica_cron(w);
    failover_cron(w);
    conn_cron(w);
    block_cron(w);
    tracking_cron(w);
    mlink_cron(now);
}

void server_request_shutdown(int exit_code) {
    g_server.exit_code = exit_code;
    kill(getpid(), SIGTERM);
}

/* ------------------------------------------------------------------------------------ */
/* Start-up                                                                               */

static int server_setup_config(int argc, char **argv) {
    char *err = NULL;
    config_init();
    int r = config_parse(argc, argv, &err);
    if (r == 1) return 1;
    if (r < 0) {
        fprintf(stderr, "dragonfly: %s\n", err ? err : "bad configuration");
        free(err);
        return -1;
    }
    if (g_config.threads <= 0) g_config.threads = sysconf(_SC_NPROCESSORS_ONLN);
    if (g_config.threads > CMD_MAX_WORKERS) g_config.threads = CMD_MAX_WORKERS;
    if (g_config.num_shards <= 0) g_config.num_shards = g_config.threads;
    if (g_config.num_shards > 1024) g_config.num_shards = 1024;
    log_set_level((int)g_config.loglevel);
    const char *why = config_check_dir(g_config.dir);
    if (why) {
        fprintf(stderr, "dragonfly: Can't chdir to '%s': %s\n", g_config.dir, why);
        return -1;
    }
    if (log_open(g_config.logfile) < 0) {
        fprintf(stderr, "dragonfly: cannot open log file %s: %s\n", g_config.logfile, strerror(errno));
        return -1;
    }
    return 0;
}

static int server_setup_modules(char *argv0) {
    char *err = NULL;
    commands_register_core();
    if (modules_load_all(argv0, &err) < 0 || config_apply_pending(&err) < 0) {
        fprintf(stderr, "dragonfly: %s\n", err ? err : "module loading failed");
        log_error("%s", err ? err : "module loading failed");
        free(err);
        return -1;
    }
    dispatch_freeze();
    if (acl_init(&err) < 0) {
        fprintf(stderr, "dragonfly: %s\n", err);
        log_error("%s", err);
        free(err);
        return -1;
    }
    return 0;
}

static void server_banner(void) {
    char mods[512] = "";
    for (int i = 0; i < modules_count(); i++) {
        size_t n = strlen(mods);
        snprintf(mods + n, sizeof mods - n, "%s%s", i ? "," : "", modules_at(i)->name);
    }
    log_notice("dragonfly %s starting: pid=%d threads=%d shards=%d port=%d allocator=%s modules=[%s]",
               DF_VERSION, g_server.pid, g_nworkers, g_nshards, (int)g_config.port,
               df_allocator_name(), mods);
}

static void server_write_pidfile(void) {
    if (!g_config.pidfile || !g_config.pidfile[0]) return;
    FILE *f = fopen(g_config.pidfile, "w");
    if (!f) {
        log_warning("cannot write pidfile %s", g_config.pidfile);
        return;
    }
    fprintf(f, "%d\n", g_server.pid);
    fclose(f);
}

static void server_init_state(void) {
    g_server.pid = getpid();
    g_server.start_ms = util_now_ms();
    atomic_store(&g_server.now_ms, g_server.start_ms);
    atomic_store(&g_server.lru_clock, (unsigned)(g_server.start_ms / 1000));
    for (int i = 0; i < 40; i++) g_server.run_id[i] = "0123456789abcdef"[util_rand64() & 15];
    ssize_t n = readlink("/proc/self/exe", g_server.executable, sizeof g_server.executable - 1);
    if (n > 0) g_server.executable[n] = '\0';
    g_server.tcp_port = (int)g_config.port;
    atomic_store(&g_server.shutdown_save, -1);
    table_set_seed(util_seed64());
}

/* Block the signals the main thread waits for; workers inherit the mask. */
static void server_signals(sigset_t *set) {
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, set, NULL);
}

/* Main thread, shutting down: close every client, then save if SHUTDOWN SAVE asked for it or
   save points are configured (and not SHUTDOWN NOSAVE), as Redis does. */
void server_shutdown_from(struct conn *c, int save, int force, int now) {
    c->pending++; /* answered by server_shutdown_answer if the server stays up */
    atomic_store(&g_server.shutdown_client, c);
    atomic_store(&g_server.shutdown_save, save);
    atomic_store(&g_server.shutdown_force, force);
    atomic_store(&g_server.shutdown_now, now);
    server_request_shutdown(0);
}

/* On the SHUTDOWN client's thread: the error when the server stays up (err), or just let it
   be closed with everyone. */
static void server_shutdown_reply(void *arg) {
    const char *err = arg;
    conn_t *c = atomic_exchange(&g_server.shutdown_client, NULL);
    if (!c) return;
    if (err && !(c->flags & CONN_CLOSING)) rbuf_append(&c->obuf, err, strlen(err));
    c->pending--;
    conn_resume(c);
}

static void server_shutdown_answer(const char *err) {
    conn_t *c = atomic_load(&g_server.shutdown_client);
    if (c) worker_post(c->w->id, server_shutdown_reply, (void *)err);
}

/* ---- Pauses by purpose ---- */

static pthread_mutex_t server_pause_mu = PTHREAD_MUTEX_INITIALIZER;

/* Under server_pause_mu: the latest end of every purpose, the workers' one-load gate. */
static void server_pause_publish(void) {
    int64_t until = 0;
    for (int p = 0; p < SERVER_PAUSE_N; p++) {
        int64_t end = atomic_load(&g_server.pause_end[p]);
        if (end > until) until = end;
    }
    atomic_store(&g_server.pause_until_ms, until);
}

void server_pause(int purpose, int64_t until_ms, int all) {
    pthread_mutex_lock(&server_pause_mu);
    int64_t end = atomic_load(&g_server.pause_end[purpose]);
    int live = end > util_now_ms();
    atomic_store(&g_server.pause_all[purpose], all || (live && atomic_load(&g_server.pause_all[purpose])));
    if (!live || end < until_ms) atomic_store(&g_server.pause_end[purpose], until_ms);
    server_pause_publish();
    pthread_mutex_unlock(&server_pause_mu);
}

void server_unpause(int purpose) {
    pthread_mutex_lock(&server_pause_mu);
    atomic_store(&g_server.pause_end[purpose], 0);
    atomic_store(&g_server.pause_all[purpose], 0);
    server_pause_publish();
    pthread_mutex_unlock(&server_pause_mu);
}

int server_shutdown_abort(void) {
    if (!atomic_load(&g_server.shutdown_waiting)) return -1;
    atomic_store(&g_server.shutdown_abort, 1);
    return 0;
}

/* shutdown-timeout, as Redis 7: while replicas have not acknowledged the whole stream, writes
   pause and the shutdown waits up to that many seconds (not with SHUTDOWN NOW), asking them
   for an ack (REPLCONF GETACK). -1 when SHUTDOWN ABORT stopped it (writes resume). Main. */
static int server_wait_replicas(void) {
    int64_t timeout = config_compat_num(C_SHUTDOWN_TIMEOUT);
    if (timeout <= 0 || atomic_load(&g_server.shutdown_now) || master_replica_count() == 0) return 0;
    server_pause(SERVER_PAUSE_SHUTDOWN, INT64_MAX, 0);
    backlog_mark_t *m = backlog_mark(1); /* after every write so far, and a GETACK */
    int64_t deadline = util_now_ms() + timeout * 1000;
    atomic_store(&g_server.shutdown_waiting, 1);
    int logged = 0, rc = 0;
    for (;;) {
        long long off = backlog_mark_offset(m);
        if (off >= 0 && master_replicas_acked(off)) break;
        if (atomic_exchange(&g_server.shutdown_abort, 0)) {
            rc = -1;
            break;
        }
        if (util_now_ms() >= deadline) {
            log_warning("Lagging replicas did not acknowledge the whole stream in "
                        "shutdown-timeout (%lld s): shutting down anyway.", (long long)timeout);
            break;
        }
        if (!logged++) log_notice("Waiting for replicas before shutting down.");
        usleep(10000);
    }
    atomic_store(&g_server.shutdown_waiting, 0);
    backlog_mark_release(m);
    if (rc < 0) {
        log_warning("Shutdown aborted (SHUTDOWN ABORT).");
        server_unpause(SERVER_PAUSE_SHUTDOWN);
        server_shutdown_answer("-ERR Errors trying to SHUTDOWN. Check logs.\r\n");
    }
    return rc;
}

/* Main thread, SIGTERM or SHUTDOWN: the final save when save points are set (or SHUTDOWN
   SAVE; never after NOSAVE), taken while client writes are held (CLIENT PAUSE WRITE), so no
   write is acknowledged after it. If it fails the server stays up, as Redis does (unless
   SHUTDOWN FORCE): returns -1. Else closes every client and returns 0. */
static int server_final_save(void) {
    if (server_loader_started) { /* a load in progress finishes first (its keys are posted) */
        pthread_join(server_loader, NULL);
        server_loader_started = 0;
    }
    if (server_wait_replicas() < 0) return -1;
    snapshot_wait_idle();
    int mode = atomic_load(&g_server.shutdown_save);
    int want = (mode == 1 || (mode < 0 && g_config.save && g_config.save[0])) &&
               !atomic_load(&g_server.skip_final_save);
    if (want) {
        server_pause(SERVER_PAUSE_SHUTDOWN, INT64_MAX, 0);
        log_notice("Saving the final RDB snapshot before exiting.");
        if (snapshot_save_and_wait() < 0 && !atomic_load(&g_server.shutdown_force)) {
            log_warning("Error trying to save the DB, can't exit.");
            server_unpause(SERVER_PAUSE_SHUTDOWN);
            server_shutdown_answer("-ERR Errors trying to SHUTDOWN. Check logs.\r\n");
            return -1;
        }
    }
    server_shutdown_answer(NULL);
    replica_shutdown();
    worker_broadcast(server_worker_quiesce, NULL);
    while (atomic_load(&g_server.quiesced) < g_nworkers) usleep(1000);
    return 0;
}

static void server_wait_signals(sigset_t *set) {
    for (;;) {
        int sig = 0;
        if (sigwait(set, &sig) != 0) continue;
        if (sig == SIGHUP) {
            log_reopen();
            log_notice("received SIGHUP, log file reopened");
            continue;
        }
        log_notice("received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
        atomic_store(&g_server.shutting_down, 1);
        if (server_final_save() < 0) {
            atomic_store(&g_server.shutting_down, 0);
            atomic_store(&g_server.shutdown_save, -1);
            atomic_store(&g_server.shutdown_force, 0);
            atomic_store(&g_server.shutdown_now, 0);
            log_warning("SIGTERM received but errors trying to shut down the server, check the logs for more information");
            continue;
        }
        metrics_stop(); /* its scrapes in flight need the workers */
        worker_broadcast(server_worker_stop, NULL);
        return;
    }
}

static void server_cleanup(void) {
    if (g_config.pidfile && g_config.pidfile[0]) unlink(g_config.pidfile);
    if (g_config.unixsocket && g_config.unixsocket[0]) unlink(g_config.unixsocket);
}

/* Free everything at exit so leak checkers see only real leaks. Workers have stopped. */
static void server_free_all(void) {
    api_run_shutdown(); /* workers have stopped: modules free what their threads shared */
    for (int i = 0; i < g_nshards; i++) {
        watch_shard_free(&g_shards[i]);
        block_shard_free(&g_shards[i]);
        tx_shard_free(&g_shards[i]);
    }
    tracking_free_all();
    db_free_shards();
    workers_destroy();
    acl_free();
    dispatch_free();
    api_free();
    config_free(); /* first: a module's string settings live in the module's memory */
    modules_unload_all();
    tls_free();
}

/* Loading dir/dbfilename at start-up: the listeners are open, clients get LOADING until
   the last key is in (as Redis answers while it loads). A bad file stops the server with
   exit code 1 and never lets the final save overwrite it. */
static void *server_load_thread(void *arg) {
    char *path = arg, err[1024];
    uint64_t loaded = 0, expired = 0;
    int64_t t0 = util_now_ms();
    int rc;
    if (g_config.appendonly) { /* the AOF instead of the RDB file, as Redis */
        aof_manifest_t m;
        rc = aof_load(&m, err, sizeof err);
        if (rc >= 0) aof_open_at_start(rc > 0 ? &m : NULL); /* before LOADING ends */
    } else {
        rc = rdb_load_into_shards(path, &loaded, &expired, NULL, err, sizeof err);
    }
    if (rc < 0) {
        atomic_store(&g_server.skip_final_save, 1);
        log_error("%s", err);
        fprintf(stderr, "dragonfly: %s\n", err);
        server_request_shutdown(1);
    } else if (!g_config.appendonly) {
        snapshot_note_load(loaded, expired);
        log_notice("DB loaded from disk: %.3f seconds (%llu keys, %llu expired keys skipped)",
                   (double)(util_now_ms() - t0) / 1000.0, (unsigned long long)loaded,
                   (unsigned long long)expired);
    }
    free(path);
    if (rc >= 0) atomic_fetch_sub(&g_server.loading, 1); /* a failed load answers LOADING until exit */
    if (rc >= 0) supervise_ready();
    return NULL;
}

/* Before the workers start: 1 if there is a file to load (LOADING is on from now): the AOF
   with appendonly yes (a dump file is then ignored, as by Redis), else dir/dbfilename. */
static int server_want_load(void) {
    char *path = snapshot_path();
    int exists = g_config.appendonly ? aof_exists() : access(path, F_OK) == 0;
    if (g_config.appendonly && !exists && access(path, F_OK) == 0)
        log_warning("appendonly is yes and there is no AOF yet: %s is not loaded (as Redis does); "
                    "turn the AOF on with CONFIG SET appendonly yes to keep a dump's data", path);
    free(path);
    if (exists) atomic_store(&g_server.loading, 1);
    return exists;
}

static void server_start_load(void) {
    char *path = snapshot_path();
    if (pthread_create(&server_loader, NULL, server_load_thread, path) == 0) {
        server_loader_started = 1;
        return;
    }
    free(path);
    atomic_store(&g_server.skip_final_save, 1);
    server_request_shutdown(1);
}

int server_main(int argc, char **argv) {
    sigset_t set;
    server_signals(&set);
    int r = server_setup_config(argc, argv);
    if (r != 0) return r > 0 ? 0 : 1;
    server_init_state();
    util_calibrate();
    if (server_setup_modules(argv[0]) < 0) return 1;
    db_init_shards((int)g_config.num_shards, (int)g_config.threads, (int)g_config.dbnum);
    for (int i = 0; i < g_nshards; i++) tx_shard_init(&g_shards[i]);
    int load = server_want_load();
    if (lazyfree_start() < 0 || workers_create((int)g_config.threads) < 0) return 1;
    tracking_init();
    if (tls_init() < 0 || server_listen() < 0 || metrics_start() < 0) return 1;
    server_write_pidfile();
    server_banner();
    if (workers_start() < 0) return 1;
    log_notice("Ready to accept connections");
    if (load) server_start_load();
    else if (g_config.appendonly) aof_open_at_start(NULL);
    replica_start_from_config();
    if (!load) supervise_ready(); /* else once loaded (server_load_thread) */
    server_wait_signals(&set);
    supervise_stopping();
    workers_join();
    aof_shutdown(); /* before the stream it reads goes */
    master_shutdown();
    snapshot_wait_idle();
    lazyfree_stop();
    server_cleanup();
    server_free_all();
    log_notice("dragonfly is now ready to exit, bye bye...");
    return g_server.exit_code;
}

/* ------------------------------------------------------------------------------------ */
/* Protocol modules: registered and remembered; their listeners come with that module.    */

static const dfm_protocol_t *server_protocols[8];
static int server_nprotocols;

int server_add_protocol(const dfm_protocol_t *p) {
    if (server_nprotocols == 8) return -1;
    server_protocols[server_nprotocols++] = p;
    return 0;
}

void server_proto_write(dfm_conn_t *c, const void *p, size_t len) {
    (void)c;
    (void)p;
    (void)len;
}

void server_proto_close(dfm_conn_t *c) { (void)c; }

int server_add_request_protocol(const dfm_request_protocol_t *p) {
    if (server_nrprotos == SERVER_MAX_RPROTOS) return -1;
    server_rprotos[server_nrprotos++] = p;
    return 0;
}
