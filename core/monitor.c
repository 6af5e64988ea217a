/*
 * monitor.c: MONITOR. A monitoring client is listed on its own worker (tl_monitors) and
 * counted per worker (monitor_count) and in all (g_monitors). A command's line, Redis's
 * format ("+<sec>.<usec> [<db> <addr>] "arg" ..."), is rendered once on the thread that ran
 * the command and sent to every worker with a monitor, which appends it to its monitors'
 * push queues (conn_push_ctx: between replies, like published messages).
 */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "alloc.h"
#include "cmdtab.h"
#include "config.h"
#include "monitor.h"
#include "reply.h"
#include "util.h"
#include "worker.h"

atomic_int g_monitors;
static atomic_int monitor_count[CMD_MAX_WORKERS];
static _Thread_local conn_t **tl_monitors;
static _Thread_local int tl_nmonitors, tl_capmonitors;
static _Thread_local rbuf_t tl_line; /* the line being rendered */

typedef struct monitor_msg {
    msg_t m;
    size_t len;
    char line[];
} monitor_msg_t;

/* Append arg as Redis's sdscatrepr does: quoted, with \n \r \t \a \b \\ \" and \xHH. */
static void monitor_repr(rbuf_t *b, const char *p, size_t n) {
    rbuf_append(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        char esc[5];
        const char *e = NULL;
        switch (ch) {
        case '\\': e = "\\\\"; break;
        case '"': e = "\\\""; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        case '\a': e = "\\a"; break;
        case '\b': e = "\\b"; break;
        default:
            if (ch >= 0x20 && ch < 0x7f) {
                rbuf_append(b, p + i, 1);
                continue;
            }
            snprintf(esc, sizeof esc, "\\x%02x", ch);
            e = esc;
        }
        rbuf_append(b, e, strlen(e));
    }
    rbuf_append(b, "\"", 1);
}

/* Append every monitor of this thread's copy of the line. */
static void monitor_deliver(const char *line, size_t len) {
    for (int i = 0; i < tl_nmonitors; i++) {
        dfm_ctx_t *ctx = conn_push_ctx(tl_monitors[i]);
        rbuf_append(ctx->out, line, len);
    }
}

static void monitor_on_worker(msg_t *m) {
    monitor_msg_t *mm = (monitor_msg_t *)m;
    monitor_deliver(mm->line, mm->len);
    df_free(mm);
}

/* Render the line and hand it to every worker with a monitor. who: "lua", or the client. */
static void monitor_send(const char *who, int db, int argc, const dfm_str_t *argv) {
    rbuf_t *b = &tl_line;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char head[128];
    int n = snprintf(head, sizeof head, "+%ld.%06ld [%d %s]", (long)tv.tv_sec,
                     (long)tv.tv_usec, db, who);
    if (n < 0 || n >= (int)sizeof head) n = n < 0 ? 0 : (int)sizeof head - 1;
    b->len = 0;
    rbuf_append(b, head, (size_t)n);
    for (int i = 0; i < argc; i++) {
        rbuf_append(b, " ", 1);
        monitor_repr(b, argv[i].ptr, argv[i].len);
    }
    rbuf_append(b, "\r\n", 2);
    int self = tl_worker ? tl_worker->id : -1;
    for (int w = 0; w < g_nworkers; w++) {
        if (!atomic_load_explicit(&monitor_count[w], memory_order_relaxed)) continue;
        if (w == self) {
            monitor_deliver(b->data, b->len);
            continue;
        }
        monitor_msg_t *mm = df_malloc(sizeof *mm + b->len);
        mm->m.fn = monitor_on_worker;
        mm->len = b->len;
        memcpy(mm->line, b->data, b->len);
        /* at once, not at the end of this iteration: a line rendered here reaches the
           monitor's worker before anything this thread's later messages make happen
           (EXEC's line comes after the lines of the commands it ran elsewhere) */
        worker_send_now(w, &mm->m);
    }
    if (b->cap > 64 * 1024) rbuf_free(b);
}

int monitor_redact(const cmd_t *cmd, int argc, const dfm_str_t *argv, dfm_str_t *out, int max) {
    static const dfm_str_t red = {.ptr = "(redacted)", .len = 10};
    const char *name = cmd->name;
    int is_auth = !strcmp(name, "auth"), is_hello = !strcmp(name, "hello");
    int is_migrate = !strcmp(name, "migrate");
    if (!is_auth && !is_hello && !is_migrate) return 0;
    int n = argc < max ? argc : max;
    for (int i = 0; i < n; i++) out[i] = argv[i];
    for (int i = is_migrate ? 6 : 1; i < n; i++) {
        if (is_auth) {
            out[i] = red;
        } else if (is_migrate) { /* AUTH password, AUTH2 username password; keys after KEYS */
            int secrets = util_eq_nocase(argv[i].ptr, argv[i].len, "auth")    ? 1
                          : util_eq_nocase(argv[i].ptr, argv[i].len, "auth2") ? 2
                                                                              : 0;
            if (util_eq_nocase(argv[i].ptr, argv[i].len, "keys")) break;
            for (int k = 1; k <= secrets && i + k < n; k++) out[i + k] = red;
            i += secrets;
        } else if (util_eq_nocase(argv[i].ptr, argv[i].len, "auth")) {
            if (i + 1 < n) out[i + 1] = red;
            if (i + 2 < n) out[i + 2] = red;
            i += 2;
        }
    }
    return n;
}

void monitor_feed(const conn_t *c, const cmd_t *cmd, int db, int argc, const dfm_str_t *argv) {
    if (c && (c->born & CONN_INTERNAL)) return; /* the server's own work (snapshot cut) */
    dfm_str_t red[64];
    int n = monitor_redact(cmd, argc, argv, red, 64);
    if (n) {
        argv = red;
        argc = n;
    }
    char who[96];
    if (!c)
        snprintf(who, sizeof who, "server");
    else if (c->born & CONN_UNIX)
        snprintf(who, sizeof who, "unix:%s", g_config.unixsocket ? g_config.unixsocket : "");
    else
        snprintf(who, sizeof who, "%s", c->addr);
    monitor_send(who, db, argc, argv);
}

void monitor_feed_script(int db, int argc, const dfm_str_t *argv) {
    monitor_send("lua", db, argc, argv);
}

static void monitor_count_add(int d) {
    int w = tl_worker->id;
    atomic_fetch_add_explicit(&monitor_count[w], d, memory_order_relaxed);
    atomic_fetch_add_explicit(&g_monitors, d, memory_order_relaxed);
}

void monitor_remove(conn_t *c) {
    if (!(c->flags & CONN_MONITOR)) return;
    c->flags &= ~CONN_MONITOR;
    for (int i = 0; i < tl_nmonitors; i++)
        if (tl_monitors[i] == c) {
            tl_monitors[i] = tl_monitors[--tl_nmonitors];
            monitor_count_add(-1);
            break;
        }
    if (!tl_nmonitors) {
        df_free(tl_monitors);
        tl_monitors = NULL;
        tl_capmonitors = 0;
    }
}

void monitor_worker_exit_lines(void) { rbuf_free(&tl_line); }

/* MONITOR: from now on the client gets every command the server runs. */
static void monitor_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    (void)argv;
    conn_t *c = ctx->conn;
    if (c->flags & CONN_MONITOR) return; /* Redis answers nothing the second time */
    if (ctx->tx || (c->flags & CONN_MULTI)) {
        reply_error(ctx, "ERR MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    if (tl_nmonitors == tl_capmonitors) {
        tl_capmonitors = tl_capmonitors ? tl_capmonitors * 2 : 4;
        tl_monitors = df_realloc(tl_monitors, sizeof(conn_t *) * (size_t)tl_capmonitors);
    }
    tl_monitors[tl_nmonitors++] = c;
    c->flags |= CONN_MONITOR;
    monitor_count_add(1);
    reply_ok(ctx);
}

static const dfm_command_t monitor_cmds[] = {
    {.name = "monitor", .arity = 1, .flags = "admin noscript loading stale @conn",
     .acl_categories = "@admin @slow @dangerous",
     .summary = "Listen for all requests received by the server in real time.",
     .since = "1.0.0", .group = "server", .complexity = "", .handler = monitor_cmd},
};

void cmd_monitor_register(void) { cmdtab_register(monitor_cmds, CMDTAB_COUNT(monitor_cmds)); }
