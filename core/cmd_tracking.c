/*
 * cmd_tracking.c: CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO, and the per-command
 * OPTIN/OPTOUT decision (see tracking.h). Everything here runs on the client's own thread.
 *
 * CLIENT TRACKING checks its arguments in Redis's order: the options one by one (the first
 * REDIRECT's client must exist at that point: a fan-out asks every worker, and the worker that
 * has it indexes it for later deliveries), then ON/OFF and the compatibility of the options.
 * BCAST prefixes are registered on every worker before OK (a fan-out), so any write that runs
 * after the reply is seen. Inside MULTI/EXEC, where no thread may wait, the REDIRECT client
 * must be one of this thread's and the prefixes reach the other workers by message.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cmdtab.h"
#include "fanout.h"
#include "reply.h"
#include "tracking_int.h"
#include "util.h"

/* ------------------------------------------------------------------------------------ */
/* The per-command decision                                                               */

static int track_is_client_cmd(const cmd_t *cmd) {
    return cmd->parent && strcmp(cmd->parent->name, "client") == 0;
}

void tracking__consume(conn_t *c, const cmd_t *cmd) {
    if (!(c->flags & CONN_MULTI) && !track_is_client_cmd(cmd)) c->track &= ~TRK_CACHING;
}

uint8_t tracking__read_flag(conn_t *c, const cmd_t *cmd, int consume) {
    uint32_t f = c->track;
    uint8_t yes = 0;
    if ((f & TRK_ON) && !(f & TRK_BCAST)) {
        if (f & TRK_OPTIN)
            yes = (f & TRK_CACHING) != 0;
        else if (f & TRK_OPTOUT)
            yes = !(f & TRK_CACHING);
        else
            yes = 1;
    }
    if (consume && (f & TRK_CACHING)) tracking__consume(c, cmd);
    return yes;
}

/* ------------------------------------------------------------------------------------ */
/* Parsing CLIENT TRACKING                                                                */

typedef struct track_req {
    int on;          /* 1 ON, 0 OFF, -1 neither (a syntax error once the options pass) */
    uint32_t opts;   /* TRK_BCAST | TRK_OPTIN | TRK_OPTOUT | TRK_NOLOOP */
    int has_redir;   /* a REDIRECT parsed: its client must exist before `err` counts */
    long long redir;
    int redir_worker;
    const char *err; /* the first error of the option loop, after which it stopped */
    int npfx;
    dfm_str_t *pfx;  /* copies (the request outlives the command's arguments) */
    uint64_t id;     /* the client (for the fan-outs) */
    int worker;
} track_req_t;

static void track_req_free(void *arg) {
    track_req_t *r = arg;
    for (int i = 0; i < r->npfx; i++) df_free((void *)r->pfx[i].ptr);
    df_free(r->pfx);
    df_free(r);
}

static void track_req_add_prefix(track_req_t *r, const dfm_str_t *p) {
    r->pfx = df_realloc(r->pfx, (size_t)(r->npfx + 1) * sizeof *r->pfx);
    r->pfx[r->npfx].ptr = df_memdup(p->ptr, p->len ? p->len : 1);
    r->pfx[r->npfx++].len = p->len;
}

/* Redis's option loop: stops at the first error. */
static void track_parse(track_req_t *r, int argc, const dfm_str_t *argv) {
    for (int j = 3; j < argc && !r->err; j++) {
        int more = argc - 1 - j;
        const dfm_str_t *a = &argv[j];
        if (util_eq_nocase(a->ptr, a->len, "redirect") && more) {
            j++;
            if (r->has_redir)
                r->err = "ERR A client can only redirect to a single other client";
            else if (util_str2ll(argv[j].ptr, argv[j].len, &r->redir) < 0)
                r->err = "ERR value is not an integer or out of range";
            else
                r->has_redir = 1;
        } else if (util_eq_nocase(a->ptr, a->len, "bcast")) {
            r->opts |= TRK_BCAST;
        } else if (util_eq_nocase(a->ptr, a->len, "optin")) {
            r->opts |= TRK_OPTIN;
        } else if (util_eq_nocase(a->ptr, a->len, "optout")) {
            r->opts |= TRK_OPTOUT;
        } else if (util_eq_nocase(a->ptr, a->len, "noloop")) {
            r->opts |= TRK_NOLOOP;
        } else if (util_eq_nocase(a->ptr, a->len, "prefix") && more) {
            track_req_add_prefix(r, &argv[++j]);
        } else {
            r->err = "ERR syntax error";
        }
    }
    if (util_eq_nocase(argv[2].ptr, argv[2].len, "on"))
        r->on = 1;
    else if (util_eq_nocase(argv[2].ptr, argv[2].len, "off"))
        r->on = 0;
    else
        r->on = -1;
}

/* Redis's stringCheckPrefix: one is a prefix of the other. */
static int track_overlap(const dfm_str_t *a, const dfm_str_t *b) {
    size_t n = a->len < b->len ? a->len : b->len;
    return memcmp(a->ptr, b->ptr, n) == 0;
}

/* Prefixes that overlap one of the client's or each other: Redis's error, else 0. */
static int track_check_prefixes(dfm_ctx_t *ctx, const track_req_t *r) {
    const track_client_t *t = ctx->conn->trk;
    for (int i = 0; i < r->npfx; i++) {
        for (int k = 0; t && k < t->npfx; k++) {
            if (!track_overlap(&r->pfx[i], &t->pfx[k])) continue;
            reply_errorf(ctx, "ERR Prefix '%.*s' overlaps with an existing prefix '%.*s'. "
                              "Prefixes for a single client must not overlap.",
                         (int)r->pfx[i].len, r->pfx[i].ptr, (int)t->pfx[k].len, t->pfx[k].ptr);
            return -1;
        }
        for (int j = i + 1; j < r->npfx; j++) {
            if (!track_overlap(&r->pfx[i], &r->pfx[j])) continue;
            reply_errorf(ctx, "ERR Prefix '%.*s' overlaps with another provided prefix '%.*s'. "
                              "Prefixes for a single client must not overlap.",
                         (int)r->pfx[i].len, r->pfx[i].ptr, (int)r->pfx[j].len, r->pfx[j].ptr);
            return -1;
        }
    }
    return 0;
}

/* The checks of CLIENT TRACKING ON, in Redis's order; replies the error and returns -1. */
static int track_check_on(dfm_ctx_t *ctx, const track_req_t *r) {
    uint32_t cur = ctx->conn->track, o = r->opts;
    const char *err = NULL;
    if (!(o & TRK_BCAST) && r->npfx)
        err = "ERR PREFIX option requires BCAST mode to be enabled";
    else if ((cur & TRK_ON) && !!(cur & TRK_BCAST) != !!(o & TRK_BCAST))
        err = "ERR You can't switch BCAST mode on/off before disabling tracking for this client, "
              "and then re-enabling it with a different mode.";
    else if ((o & TRK_BCAST) && (o & (TRK_OPTIN | TRK_OPTOUT)))
        err = "ERR OPTIN and OPTOUT are not compatible with BCAST";
    else if ((o & TRK_OPTIN) && (o & TRK_OPTOUT))
        err = "ERR You can't specify both OPTIN mode and OPTOUT mode";
    else if (((o & TRK_OPTIN) && (cur & TRK_OPTOUT)) || ((o & TRK_OPTOUT) && (cur & TRK_OPTIN)))
        err = "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, "
              "and then re-enabling it with a different mode.";
    if (err) {
        reply_error(ctx, err);
        return -1;
    }
    return (o & TRK_BCAST) ? track_check_prefixes(ctx, r) : 0;
}

/* ------------------------------------------------------------------------------------ */
/* Enabling                                                                               */

static track_client_t *track_client(conn_t *c) {
    if (!c->trk) c->trk = df_calloc(sizeof *c->trk);
    return c->trk;
}

/* Byte order, a prefix before its extensions (the order Redis's radix tree lists them in). */
static int track_pfx_cmp(const dfm_str_t *a, const dfm_str_t *b) {
    size_t n = a->len < b->len ? a->len : b->len;
    int d = memcmp(a->ptr, b->ptr, n);
    return d ? d : (a->len > b->len) - (a->len < b->len);
}

/* Add p to the client's sorted prefixes; 0 if it was there already. */
static int track_client_add_prefix(track_client_t *t, const dfm_str_t *p) {
    int i = 0;
    while (i < t->npfx && track_pfx_cmp(&t->pfx[i], p) < 0) i++;
    if (i < t->npfx && track_pfx_cmp(&t->pfx[i], p) == 0) return 0;
    if (t->npfx == t->cappfx) {
        t->cappfx = t->cappfx ? t->cappfx * 2 : 4;
        t->pfx = df_realloc(t->pfx, (size_t)t->cappfx * sizeof *t->pfx);
    }
    memmove(&t->pfx[i + 1], &t->pfx[i], (size_t)(t->npfx - i) * sizeof *t->pfx);
    t->pfx[i].ptr = df_memdup(p->ptr, p->len ? p->len : 1);
    t->pfx[i].len = p->len;
    t->npfx++;
    return 1;
}

/* Fan-out part: register the request's new prefixes on this worker. */
static void track_register_worker(worker_t *w, rbuf_t *out, void *arg) {
    (void)w, (void)out;
    track_req_t *r = arg;
    for (int i = 0; i < r->npfx; i++) tracking__prefix_add(r->pfx[i].ptr, r->pfx[i].len, r->id, r->worker);
}

static void track_registered(dfm_ctx_t *ctx, rbuf_t *parts, int n, void *arg) {
    (void)parts, (void)n, (void)arg;
    reply_ok(ctx);
}

static void track_post_prefix(void *arg) {
    track_req_t *r = arg;
    track_register_worker(NULL, NULL, r);
    track_req_free(r);
}

/* Register the prefixes of r everywhere, then reply OK (inside EXEC: here now, elsewhere by
   message, and OK at once). r is taken. */
static void track_register(dfm_ctx_t *ctx, track_req_t *r) {
    if (!ctx->tx) {
        fanout_run(ctx, track_register_worker, track_registered, r, track_req_free);
        return;
    }
    track_register_worker(NULL, NULL, r);
    for (int w = 0; w < g_nworkers; w++) {
        if (w == r->worker) continue;
        track_req_t *copy = df_calloc(sizeof *copy);
        *copy = (track_req_t){.id = r->id, .worker = r->worker};
        for (int i = 0; i < r->npfx; i++) track_req_add_prefix(copy, &r->pfx[i]);
        worker_post(w, track_post_prefix, copy);
    }
    track_req_free(r);
    reply_ok(ctx);
}

/* CLIENT TRACKING ON with checked options (Redis's enableTracking): the mode is replaced,
   BCAST prefixes are added to the client's. r is taken. */
static void track_enable(dfm_ctx_t *ctx, track_req_t *r) {
    conn_t *c = ctx->conn;
    track_client_t *t = track_client(c);
    tracking__index(c);
    if (!(c->track & TRK_ON)) atomic_fetch_add(&tracking__nclients, 1);
    c->track = TRK_ON | (c->track & TRK_CACHING) | r->opts;
    t->redir = r->has_redir ? (uint64_t)r->redir : 0;
    t->redir_worker = r->redir_worker;
    if (!(r->opts & TRK_BCAST)) {
        track_req_free(r);
        reply_ok(ctx);
        return;
    }
    if (!r->npfx) track_req_add_prefix(r, &(dfm_str_t){"", 0});
    int fresh = 0; /* keep only the prefixes the client did not have */
    for (int i = 0; i < r->npfx; i++) {
        if (track_client_add_prefix(t, &r->pfx[i]))
            r->pfx[fresh++] = r->pfx[i];
        else
            df_free((void *)r->pfx[i].ptr);
    }
    r->npfx = fresh;
    track_register(ctx, r);
}

/* After the REDIRECT check (or without one): the rest of Redis's checks, then act. */
static void track_finish(dfm_ctx_t *ctx, track_req_t *r) {
    if (r->err || r->on < 0) {
        reply_error(ctx, r->err ? r->err : "ERR syntax error");
    } else if (!r->on) {
        tracking_disable(ctx->conn);
        reply_ok(ctx);
    } else if (track_check_on(ctx, r) == 0) {
        track_enable(ctx, r);
        return;
    }
    track_req_free(r);
}

/* Fan-out part: is the REDIRECT client one of this worker's? It is indexed here if so. */
static void track_find_worker(worker_t *w, rbuf_t *out, void *arg) {
    track_req_t *r = arg;
    for (conn_t *c = w->conns; c; c = c->next) {
        if (c->id != (uint64_t)r->redir || (c->flags & CONN_CLOSING)) continue;
        track_client(c);
        tracking__index(c);
        rbuf_append(out, "1", 1);
        return;
    }
}

static void track_found(dfm_ctx_t *ctx, rbuf_t *parts, int n, void *arg) {
    track_req_t *r = arg;
    r->redir_worker = -1;
    for (int i = 0; i < n; i++)
        if (parts[i].len) r->redir_worker = i;
    if (r->redir_worker < 0) {
        reply_error(ctx, "ERR The client ID you want redirect to does not exist");
        return;
    }
    track_req_t *mine = df_malloc(sizeof *mine);
    *mine = *r; /* the fan-out frees r: the rest goes on with a copy */
    r->pfx = NULL;
    r->npfx = 0;
    track_finish(ctx, mine);
}

static void client_tracking_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    track_req_t *r = df_calloc(sizeof *r);
    r->id = ctx->conn->id;
    r->worker = ctx->conn->w->id;
    track_parse(r, argc, argv);
    if (!r->has_redir) {
        track_finish(ctx, r);
        return;
    }
    if (!ctx->tx) {
        fanout_run(ctx, track_find_worker, track_found, r, track_req_free);
        return;
    }
    rbuf_t *parts = df_calloc(sizeof(rbuf_t) * (size_t)g_nworkers);
    track_find_worker(ctx->conn->w, &parts[r->worker], r);
    track_found(ctx, parts, g_nworkers, r);
    for (int i = 0; i < g_nworkers; i++) rbuf_free(&parts[i]);
    df_free(parts);
    track_req_free(r);
}

/* ------------------------------------------------------------------------------------ */
/* CACHING, GETREDIR, TRACKINGINFO                                                        */

static void client_caching_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    conn_t *c = ctx->conn;
    if (!(c->track & TRK_ON)) {
        reply_error(ctx, "ERR CLIENT CACHING can be called only when the client is in tracking "
                         "mode with OPTIN or OPTOUT mode enabled");
    } else if (util_eq_nocase(argv[2].ptr, argv[2].len, "yes")) {
        if (!(c->track & TRK_OPTIN)) {
            reply_error(ctx, "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
            return;
        }
        c->track |= TRK_CACHING;
        reply_ok(ctx);
    } else if (util_eq_nocase(argv[2].ptr, argv[2].len, "no")) {
        if (!(c->track & TRK_OPTOUT)) {
            reply_error(ctx, "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
            return;
        }
        c->track |= TRK_CACHING;
        reply_ok(ctx);
    } else {
        reply_syntax_error(ctx);
    }
}

/* The REDIRECT id while tracking (0: none), -1 while not. */
static long long track_redir_shown(const conn_t *c) {
    if (!(c->track & TRK_ON)) return -1;
    return c->trk ? (long long)c->trk->redir : 0;
}

static void client_getredir_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    reply_int(ctx, track_redir_shown(ctx->conn));
}

static void client_trackinginfo_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    const conn_t *c = ctx->conn;
    uint32_t f = c->track;
    const char *flags[8];
    int n = 0;
    flags[n++] = (f & TRK_ON) ? "on" : "off";
    if (f & TRK_BCAST) flags[n++] = "bcast";
    if (f & TRK_OPTIN) flags[n++] = "optin";
    if ((f & TRK_OPTIN) && (f & TRK_CACHING)) flags[n++] = "caching-yes";
    if (f & TRK_OPTOUT) flags[n++] = "optout";
    if ((f & TRK_OPTOUT) && (f & TRK_CACHING)) flags[n++] = "caching-no";
    if (f & TRK_NOLOOP) flags[n++] = "noloop";
    if (f & TRK_BROKEN) flags[n++] = "broken_redirect";
    reply_map(ctx, 3);
    reply_cstr(ctx, "flags");
    reply_set(ctx, n);
    for (int i = 0; i < n; i++) reply_cstr(ctx, flags[i]);
    reply_cstr(ctx, "redirect");
    reply_int(ctx, track_redir_shown(c));
    reply_cstr(ctx, "prefixes");
    int np = c->trk ? c->trk->npfx : 0;
    reply_array(ctx, np);
    for (int i = 0; i < np; i++) reply_bulk(ctx, c->trk->pfx[i].ptr, c->trk->pfx[i].len);
}

#define TRK_FLAGS "noscript loading stale @conn"
#define TRK_ACL "@slow @connection"
#define TRK_DOC(ver, sum) .since = ver, .summary = sum, .group = "connection"

static const dfm_command_t tracking_cmds[] = {
    {.name = "client|tracking", .arity = -3, .flags = TRK_FLAGS, .acl_categories = TRK_ACL,
     TRK_DOC("6.0.0", "Controls server-assisted client-side caching for the connection."),
     .complexity = "O(1). Some options may introduce additional complexity.",
     .args_doc = "ON|OFF [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN] "
                 "[OPTOUT] [NOLOOP]",
     .handler = client_tracking_cmd},
    {.name = "client|caching", .arity = 3, .flags = TRK_FLAGS, .acl_categories = TRK_ACL,
     TRK_DOC("6.0.0", "Instructs the server whether to track the keys in the next request."),
     .complexity = "O(1)", .args_doc = "YES|NO", .handler = client_caching_cmd},
    {.name = "client|getredir", .arity = 2, .flags = TRK_FLAGS, .acl_categories = TRK_ACL,
     TRK_DOC("6.0.0", "Returns the client ID to which the connection's tracking notifications are redirected."),
     .complexity = "O(1)", .handler = client_getredir_cmd},
    {.name = "client|trackinginfo", .arity = 2, .flags = TRK_FLAGS, .acl_categories = TRK_ACL,
     TRK_DOC("6.2.0", "Returns information about server-assisted client-side caching for the connection."),
     .complexity = "O(1)", .handler = client_trackinginfo_cmd},
};

void cmd_tracking_register(void) { cmdtab_register(tracking_cmds, CMDTAB_COUNT(tracking_cmds)); }

/* The CLIENT LIST / INFO fields of tracking: flag letters (t R B) appended at *f, and redir. */
char *tracking_describe_flags(const conn_t *c, char *f) {
    if (c->track & TRK_ON) *f++ = 't';
    if (c->track & TRK_BROKEN) *f++ = 'R';
    if (c->track & TRK_BCAST) *f++ = 'B';
    return f;
}

long long tracking_describe_redir(const conn_t *c) { return track_redir_shown(c); }
