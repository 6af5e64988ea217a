/*
 * cmd_acl.c: the ACL command (Redis 7.0): CAT, DELUSER, DRYRUN, GETUSER, GENPASS, LIST,
 * LOAD, LOG, SAVE, SETUSER, USERS, WHOAMI, HELP.
 *
 * Handlers run on the client's thread. Changes go through acl.c's writers (one mutex, off
 * the data path). DELUSER and LOAD kill the clients of the users they removed: every worker
 * walks its own clients (fanout_run) and closes those whose user slot is dead; a client
 * that misses the walk (inside EXEC only this worker is walked) is refused and closed at
 * its next command (server_prepare).
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl_user.h"
#include "alloc.h"
#include "cmdtab.h"
#include "conn.h"
#include "fanout.h"
#include "util.h"

/* --- disconnecting removed users' clients ------------------------------------------ */

typedef struct acl_kill {
    conn_t *self;     /* compared by identity only */
    long long reply;  /* the integer to reply, or -1 for +OK */
} acl_kill_t;

static void acl_kill_worker(worker_t *w, rbuf_t *out, void *arg) {
    acl_kill_t *k = arg;
    (void)out;
    for (conn_t *c = w->conns, *next; c; c = next) {
        next = c->next;
        if ((c->flags & CONN_CLOSING) || !c->user || acl_current(c->user)) continue;
        if (c == k->self)
            c->flags |= CONN_CLOSE_AFTER_REPLY;
        else
            conn_close(c);
    }
}

static void acl_kill_done(dfm_ctx_t *ctx, rbuf_t *parts, int n, void *arg) {
    (void)parts, (void)n;
    acl_kill_t *k = arg;
    if (k->reply < 0)
        reply_ok(ctx);
    else
        reply_int(ctx, k->reply);
}

/* Close dead users' clients everywhere, then reply (reply < 0: +OK). */
static void acl_kill_dead(dfm_ctx_t *ctx, long long reply) {
    acl_kill_t *k = df_calloc(sizeof *k);
    k->self = ctx->conn;
    k->reply = reply;
    if (!ctx->tx && ctx->conn) {
        fanout_run(ctx, acl_kill_worker, acl_kill_done, k, df_free);
        return;
    }
    if (ctx->conn) acl_kill_worker(ctx->conn->w, NULL, k);
    acl_kill_done(ctx, NULL, 0, k);
    df_free(k);
}

/* --- users ------------------------------------------------------------------------- */

static void acl_setuser_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    char *err = NULL;
    if (acl__setuser(argv[2].ptr, argv[2].len, argc - 3, argv + 3, &err) < 0) {
        reply_error(ctx, err);
        free(err);
        return;
    }
    reply_ok(ctx);
}

static void acl_deluser_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    char *err = NULL;
    int n = acl__deluser(argc - 2, argv + 2, &err);
    if (n < 0) {
        reply_error(ctx, err);
        free(err);
        return;
    }
    acl_kill_dead(ctx, n);
}

static void reply_rbuf(dfm_ctx_t *ctx, rbuf_t *b) {
    reply_bulk(ctx, b->data ? b->data : "", b->len);
    b->len = 0;
}

static void acl_getuser_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    acl_slot_t *s = acl_lookup(argv[2].ptr, argv[2].len);
    const acl_user_t *u = s ? acl_current(s) : NULL;
    if (!u) {
        reply_null(ctx);
        return;
    }
    static const struct { uint32_t f; const char *name; } fl[] = {
        {ACL_U_ON, "on"}, {0, "off"}, {ACL_U_NOPASS, "nopass"},
        {ACL_U_SKIP_SANITIZE, "skip-sanitize-payload"}, {ACL_U_SANITIZE, "sanitize-payload"}};
    int nf = 0;
    for (size_t i = 0; i < 5; i++) nf += fl[i].f ? !!(u->flags & fl[i].f) : !(u->flags & ACL_U_ON);
    rbuf_t b = {0};
    reply_map(ctx, 6);
    reply_cstr(ctx, "flags");
    reply_set(ctx, nf);
    for (size_t i = 0; i < 5; i++)
        if (fl[i].f ? (u->flags & fl[i].f) : !(u->flags & ACL_U_ON)) reply_cstr(ctx, fl[i].name);
    reply_cstr(ctx, "passwords");
    reply_array(ctx, u->npass);
    for (int i = 0; i < u->npass; i++) reply_bulk(ctx, u->pass[i], 64);
    reply_cstr(ctx, "commands");
    acl__describe_cmds(u, &b);
    reply_rbuf(ctx, &b);
    reply_cstr(ctx, "keys");
    acl__describe_keys(u, &b);
    reply_rbuf(ctx, &b);
    reply_cstr(ctx, "channels");
    acl__describe_chans(u, &b, 0);
    reply_rbuf(ctx, &b);
    reply_cstr(ctx, "selectors");
    reply_array(ctx, 0);
    rbuf_free(&b);
}

static void acl_list_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    const acl_reg_t *r = acl__reg();
    rbuf_t b = {0};
    reply_array(ctx, r->n);
    for (int i = 0; i < r->n; i++) {
        const acl_user_t *u = acl_current(r->slots[i]);
        rbuf_append(&b, "user ", 5);
        rbuf_append(&b, r->slots[i]->name, strlen(r->slots[i]->name));
        rbuf_append(&b, " ", 1);
        if (u) acl__describe(u, &b);
        reply_rbuf(ctx, &b);
    }
    rbuf_free(&b);
}

static void acl_users_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    const acl_reg_t *r = acl__reg();
    reply_array(ctx, r->n);
    for (int i = 0; i < r->n; i++) reply_cstr(ctx, r->slots[i]->name);
}

static void acl_whoami_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    reply_cstr(ctx, ctx->conn && ctx->conn->user ? ctx->conn->user->name : "default");
}

/* --- CAT, DRYRUN, LOG, GENPASS, LOAD, SAVE, HELP ------------------------------------ */

static void acl_cat_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    if (argc == 2) {
        reply_array(ctx, acl__ncats());
        for (int i = 0; i < acl__ncats(); i++) reply_cstr(ctx, acl__cat_name(i));
        return;
    }
    int cat = acl__cat_find(argv[2].ptr, argv[2].len);
    if (cat < 0) {
        reply_errorf(ctx, "ERR Unknown category '%.*s'", (int)argv[2].len, argv[2].ptr);
        return;
    }
    int n = 0, nids = dispatch_nids();
    for (int id = 0; id < nids; id++) n += !!(acl__cmd_cats(id) & (1u << cat));
    reply_array(ctx, n);
    for (int id = 0; id < nids; id++) {
        const cmd_t *c = acl__cmd_at(id);
        if (acl__cmd_cats(id) & (1u << cat)) reply_cstr(ctx, c->fullname ? c->fullname : c->name);
    }
}

static void acl_dryrun_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    acl_slot_t *s = acl_lookup(argv[2].ptr, argv[2].len);
    const acl_user_t *u = s ? acl_current(s) : NULL;
    if (!u) {
        reply_errorf(ctx, "ERR User '%.*s' not found", (int)argv[2].len, argv[2].ptr);
        return;
    }
    const cmd_t *c = dispatch_lookup(argv[3].ptr, argv[3].len);
    if (c && c->nsubs && !c->handler && !c->multi && argc > 4)
        c = dispatch_lookup_sub(c, argv[4].ptr, argv[4].len);
    if (!c) {
        reply_errorf(ctx, "ERR Command '%.*s' not found", (int)argv[3].len, argv[3].ptr);
        return;
    }
    int cargc = argc - 3;
    if ((c->arity > 0 && cargc != c->arity) || cargc < -c->arity) {
        reply_errorf(ctx, "ERR wrong number of arguments for '%s' command", c->fullname ? c->fullname : c->name);
        return;
    }
    int bad = 0;
    int rc = acl_check(u, c, cargc, argv + 3, &bad);
    char msg[512];
    if (rc == ACL_OK) {
        reply_ok(ctx);
        return;
    }
    if (rc == ACL_DENIED_CMD)
        snprintf(msg, sizeof msg, "This user has no permissions to run the '%s' command", c->fullname ? c->fullname : c->name);
    else
        snprintf(msg, sizeof msg, "This user has no permissions to access the '%.*s' %s",
                 (int)(argv[3 + bad].len < 256 ? argv[3 + bad].len : 256), argv[3 + bad].ptr,
                 rc == ACL_DENIED_KEY ? "key" : "channel");
    reply_cstr(ctx, msg);
}

static void acl_log_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    long long count = 10;
    if (argc > 3) {
        reply_syntax_error(ctx);
        return;
    }
    if (argc == 3 && util_eq_nocase(argv[2].ptr, argv[2].len, "reset")) {
        acl__log_reset();
        reply_ok(ctx);
        return;
    }
    if (argc == 3 && util_str2ll(argv[2].ptr, argv[2].len, &count) < 0) {
        reply_error(ctx, "ERR value is not an integer or out of range");
        return;
    }
    acl__log_reply(ctx, count < 0 ? 0 : (long)(count > 1000000 ? 1000000 : count));
}

static void acl_genpass_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    long long bits = 256;
    if (argc > 3) {
        reply_syntax_error(ctx);
        return;
    }
    if (argc == 3 && (util_str2ll(argv[2].ptr, argv[2].len, &bits) < 0 || bits <= 0 || bits > 4096)) {
        reply_error(ctx, "ERR ACL GENPASS argument must be the number of bits for the output "
                         "password, a positive number up to 4096");
        return;
    }
    unsigned char raw[512];
    char hex[1025];
    size_t chars = (size_t)(bits + 3) / 4;
    if (RAND_bytes(raw, (int)((chars + 1) / 2)) != 1) {
        for (size_t i = 0; i < (chars + 1) / 2; i++) raw[i] = (unsigned char)util_rand64();
    }
    for (size_t i = 0; i < chars; i++) hex[i] = "0123456789abcdef"[(raw[i / 2] >> ((i & 1) ? 0 : 4)) & 15];
    reply_bulk(ctx, hex, chars);
}

static void acl_file_cmd(dfm_ctx_t *ctx, int load) {
    char *err = NULL;
    if ((load ? acl__load_file(&err) : acl__save_file(&err)) < 0) {
        reply_error(ctx, err);
        free(err);
        return;
    }
    if (load)
        acl_kill_dead(ctx, -1);
    else
        reply_ok(ctx);
}

static void acl_load_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    acl_file_cmd(ctx, 1);
}

static void acl_save_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    acl_file_cmd(ctx, 0);
}

static void acl_help_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    static const char *const lines[] = {
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        "HELP",
        "    Prints this help.",
    };
    reply_array(ctx, (long)(sizeof lines / sizeof lines[0]));
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) reply_simple(ctx, lines[i]);
}

#define ACL_ADMIN "admin noscript loading stale"
#define ACL_ADMIN_CATS "@admin @slow @dangerous"

static const dfm_command_t acl_cmds[] = {
    {.name = "acl|cat", .arity = -2, .flags = "noscript loading stale", .acl_categories = "@slow",
     .summary = "Lists the ACL categories, or the commands inside a category.", .since = "6.0.0",
     .group = "server", .complexity = "O(1)", .args_doc = "[category]", .handler = acl_cat_cmd},
    {.name = "acl|deluser", .arity = -3, .flags = ACL_ADMIN, .acl_categories = ACL_ADMIN_CATS,
     .summary = "Deletes ACL users, and terminates their connections.", .since = "6.0.0",
     .group = "server", .complexity = "O(1)", .args_doc = "username [username ...]",
     .handler = acl_deluser_cmd},
    {.name = "acl|dryrun", .arity = -4, .flags = ACL_ADMIN, .acl_categories = ACL_ADMIN_CATS,
     .summary = "Simulates the execution of a command by a user, without executing the command.",
     .since = "7.0.0", .group = "server", .complexity = "O(1)",
     .args_doc = "username command [arg ...]", .handler = acl_dryrun_cmd},
    {.name = "acl|genpass", .arity = -2, .flags = "noscript loading stale", .acl_categories = "@slow",
     .summary = "Generates a pseudorandom, secure password that can be used to identify ACL users.",
     .since = "6.0.0", .group = "server", .complexity = "O(1)", .args_doc = "[bits]",
     .handler = acl_genpass_cmd},
    {.name = "acl|getuser", .arity = 3, .flags = ACL_ADMIN, .acl_categories = ACL_ADMIN_CATS,
     .summary = "Lists the ACL rules of a user.", .since = "6.0.0", .group = "server",
     .complexity = "O(N)", .args_doc = "username", .handler = acl_getuser_cmd},
    {.name = "acl|help", .arity = 2, .flags = "loading stale", .acl_categories = "@slow",
     .summary = "Returns helpful text about the different subcommands.", .since = "6.0.0",
     .group = "server", .complexity = "O(1)", .handler = acl_help_cmd},
    {.name = "acl|list", .arity = 2, .flags = ACL_ADMIN, .acl_categories = ACL_ADMIN_CATS,
     .summary = "Dumps the effective rules in ACL file format.", .since = "6.0.0",
     .group = "server", .complexity = "O(N)", .handler = acl_list_cmd},
    {.name = "acl|load", .arity = 2, .flags = ACL_ADMIN, .acl_categories = ACL_ADMIN_CATS,
     .summary = "Reloads the rules from the configured ACL file.", .since = "6.0.0",
     .group = "server", .complexity = "O(N)", .handler = acl_load_cmd},
    {.name = "acl|log", .arity = -2, .flags = ACL_ADMIN, .acl_categories = ACL_ADMIN_CATS,
     .summary = "Lists recent security events generated due to ACL rules.", .since = "6.0.0",
     .group = "server", .complexity = "O(N)", .args_doc = "[count|RESET]", .handler = acl_log_cmd},
    {.name = "acl|save", .arity = 2, .flags = ACL_ADMIN, .acl_categories = ACL_ADMIN_CATS,
     .summary = "Saves the effective ACL rules in the configured ACL file.", .since = "6.0.0",
     .group = "server", .complexity = "O(N)", .handler = acl_save_cmd},
    {.name = "acl|setuser", .arity = -3, .flags = ACL_ADMIN, .acl_categories = ACL_ADMIN_CATS,
     .summary = "Creates and modifies an ACL user and its rules.", .since = "6.0.0",
     .group = "server", .complexity = "O(N)", .args_doc = "username [rule [rule ...]]",
     .handler = acl_setuser_cmd},
    {.name = "acl|users", .arity = 2, .flags = ACL_ADMIN, .acl_categories = ACL_ADMIN_CATS,
     .summary = "Lists all ACL users.", .since = "6.0.0", .group = "server",
     .complexity = "O(N)", .handler = acl_users_cmd},
    {.name = "acl|whoami", .arity = 2, .flags = "noscript loading stale", .acl_categories = "@slow",
     .summary = "Returns the authenticated username of the current connection.", .since = "6.0.0",
     .group = "server", .complexity = "O(1)", .handler = acl_whoami_cmd},
};

void cmd_acl_register(void) { cmdtab_register(acl_cmds, (int)(sizeof acl_cmds / sizeof acl_cmds[0])); }
