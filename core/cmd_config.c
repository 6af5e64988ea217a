/*
 * cmd_config.c: CONFIG GET, SET, RESETSTAT, REWRITE and HELP over the parameter registry of
 * config.c, with Redis 7's multi-argument forms: GET takes several patterns (each name
 * answered once), SET takes several pairs and applies all of them or none.
 *
 * GET, SET, REWRITE and HELP are keyless and run on the client's thread. RESETSTAT must
 * clear counters that belong to other threads (shard statistics, per-worker command and
 * network counters), so it is an "@allshards" command: each shard's phase clears that
 * shard's numbers and its owner worker's counters on the owning thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aof.h"
#include "acl.h"
#include "alloc.h"
#include "cmdtab.h"
#include "config.h"
#include "monitor.h"
#include "conn.h"
#include "db.h"
#include "dispatch.h"
#include "info.h"
#include "log.h"
#include "reply.h"
#include "tls.h"
#include "util.h"
#include "worker.h"

/* ------------------------------------------------------------------------------------ */
/* CONFIG GET                                                                             */

typedef struct config_pairs {
    char **names, **values;
    int n, cap;
} config_pairs_t;

/* config_get callback: keep (name, value) unless the name was already collected. */
static void config_collect(const char *name, const char *value, void *arg) {
    config_pairs_t *p = arg;
    for (int i = 0; i < p->n; i++)
        if (strcasecmp(p->names[i], name) == 0) return;
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->names = df_realloc(p->names, sizeof(char *) * (size_t)p->cap);
        p->values = df_realloc(p->values, sizeof(char *) * (size_t)p->cap);
    }
    p->names[p->n] = df_strdup(name);
    p->values[p->n++] = df_strdup(value);
}

static void config_pairs_free(config_pairs_t *p) {
    for (int i = 0; i < p->n; i++) {
        df_free(p->names[i]);
        df_free(p->values[i]);
    }
    df_free(p->names);
    df_free(p->values);
}

static void config_get_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    config_pairs_t pairs = {0};
    for (int i = 2; i < argc; i++) {
        char *pat = df_memdup(argv[i].ptr, argv[i].len);
        config_get(pat, config_collect, &pairs);
        df_free(pat);
    }
    reply_map(ctx, pairs.n);
    for (int i = 0; i < pairs.n; i++) {
        reply_cstr(ctx, pairs.names[i]);
        reply_cstr(ctx, pairs.values[i]);
    }
    config_pairs_free(&pairs);
}

/* ------------------------------------------------------------------------------------ */
/* CONFIG SET                                                                             */

/* The current value of the parameter called name (exact name), malloc'd; NULL if unknown. */
static void config_first_value(const char *name, const char *value, void *arg) {
    (void)name;
    char **out = arg;
    if (!*out) *out = df_strdup(value);
}

static char *config_current(const char *name) {
    char *v = NULL;
    if (strpbrk(name, "*?[\\")) return NULL;
    config_get(name, config_first_value, &v);
    return v;
}

/* Side effects of a changed parameter that config.c's storage alone does not cause. */
static void config_after_set(const char *name) {
    if (util_eq_nocase(name, strlen(name), "loglevel")) log_set_level((int)g_config.loglevel);
    if (util_eq_nocase(name, strlen(name), "requirepass")) acl_set_requirepass(g_config.requirepass);
    if (util_eq_nocase(name, strlen(name), "appendonly") || util_eq_nocase(name, strlen(name), "appendfsync"))
        aof_config_changed();
}

/* The first of the names whose change rebuilds the TLS context (Redis's applyTlsCfg
   settings), or NULL. Applied once after all the pairs: a new certificate and its key come
   in one CONFIG SET. */
static const char *config_tls_applied(char **names, int n) {
    static const char *const tls[] = {
        "tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-client-cert-file",
        "tls-client-key-file", "tls-client-key-file-pass", "tls-dh-params-file",
        "tls-ca-cert-file", "tls-ca-cert-dir", "tls-protocols", "tls-ciphers",
        "tls-ciphersuites", "tls-prefer-server-ciphers", "tls-session-caching",
        "tls-session-cache-size", "tls-session-cache-timeout", NULL};
    for (int i = 0; i < n; i++)
        for (int k = 0; tls[k]; k++)
            if (strcasecmp(names[i], tls[k]) == 0) return names[i];
    return NULL;
}

/* 1 if a name occurs twice among the pairs (Redis refuses that); *dup is the name. */
static int config_has_duplicate(int argc, const dfm_str_t *argv, const dfm_str_t **dup) {
    for (int i = 2; i < argc; i += 2)
        for (int j = i + 2; j < argc; j += 2)
            if (argv[i].len == argv[j].len && strncasecmp(argv[i].ptr, argv[j].ptr, argv[i].len) == 0) {
                *dup = &argv[j];
                return 1;
            }
    return 0;
}

/* Undo the first n applied pairs (old values saved in olds), newest first. */
static void config_rollback(char **names, char **olds, int n) {
    for (int i = n - 1; i >= 0; i--) {
        char *err = NULL;
        if (olds[i] && config_set(names[i], olds[i], &err) == 0) config_after_set(names[i]);
        free(err);
    }
}

/* Redis 7's protected parameters: 0 with *err set when this client may not set name. */
static int config_protected_ok(dfm_ctx_t *ctx, const char *name, const char *value, char **err) {
    char msg[300];
    const char *why = strcasecmp(name, "dir") == 0 ? config_check_dir(value) : NULL;
    if (why && (!config_is_protected(name) || g_config.enable_protected_configs == 1 ||
                (g_config.enable_protected_configs == 2 && ctx->conn && conn_is_local(ctx->conn)))) {
        snprintf(msg, sizeof msg, "ERR CONFIG SET failed (possibly related to argument '%s') - %s",
                 name, why);
        *err = strdup(msg);
        return 0;
    }
    if (!config_is_protected(name) || g_config.enable_protected_configs == 1) return 1;
    if (g_config.enable_protected_configs == 2 && ctx->conn && conn_is_local(ctx->conn)) return 1;
    snprintf(msg, sizeof msg,
             "ERR CONFIG SET failed (possibly related to argument '%s') - can't set protected "
             "config", name);
    *err = strdup(msg);
    return 0;
}

static void config_set_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    const dfm_str_t *dup;
    if ((argc - 2) % 2 != 0) {
        reply_error(ctx, "ERR wrong number of arguments for 'config|set' command");
        return;
    }
    if (config_has_duplicate(argc, argv, &dup)) {
        reply_errorf(ctx, "ERR CONFIG SET failed (possibly related to argument '%.*s') - "
                          "duplicate parameter", (int)dup->len, dup->ptr);
        return;
    }
    int npairs = (argc - 2) / 2, done = 0;
    char **names = df_calloc(sizeof(char *) * (size_t)npairs);
    char **olds = df_calloc(sizeof(char *) * (size_t)npairs);
    char *err = NULL;
    for (; done < npairs; done++) {
        const dfm_str_t *n = &argv[2 + 2 * done], *v = &argv[3 + 2 * done];
        names[done] = df_memdup(n->ptr, n->len);
        char *value = df_memdup(v->ptr, v->len);
        olds[done] = config_current(names[done]);
        int rc = config_protected_ok(ctx, names[done], value, &err) ? config_set(names[done], value, &err) : -1;
        df_free(value);
        if (rc < 0) break;
        config_after_set(names[done]);
    }
    const char *tls_name = done == npairs ? config_tls_applied(names, npairs) : NULL;
    if (tls_name && tls_reconfigure() < 0) { /* as Redis: all the pairs are undone */
        char msg[300];
        snprintf(msg, sizeof msg, "ERR CONFIG SET failed (possibly related to argument '%s') - "
                 "Unable to update TLS configuration. Check server logs.", tls_name);
        free(err);
        err = strdup(msg);
        done = 0;
        config_rollback(names, olds, npairs);
    }
    if (done < npairs) {
        config_rollback(names, olds, done);
        reply_error(ctx, err ? err : "ERR CONFIG SET failed");
    } else {
        reply_ok(ctx);
    }
    free(err);
    for (int i = 0; i < npairs; i++) {
        df_free(names[i]);
        df_free(olds[i]);
    }
    df_free(names);
    df_free(olds);
}

/* ------------------------------------------------------------------------------------ */
/* CONFIG RESETSTAT                                                                       */

/* Zero one worker's counters of one command; its histogram stays (latency_reset_hist). */
static void config_reset_stats(cmd_stats_t *st) {
    st->calls = st->usec = st->rejected = st->failed = 0;
}

/* Clear worker w's command and network counters. Best run on w's own thread. */
static void config_reset_worker(int w) {
    for (int i = 0; i < dispatch_count(); i++) {
        const cmd_t *c = dispatch_at(i);
        config_reset_stats(&c->stats[w]);
        for (int s = 0; s < c->nsubs; s++) config_reset_stats(&c->subs[s]->stats[w]);
    }
    latency_reset_hist(w);
    worker_stats_t *st = &g_workers[w].stats;
    st->conns_received = st->commands = st->net_in = st->net_out = st->rejected_conns = 0;
}

/* Phase, on each shard's thread: the shard's statistics and its worker's counters. *state
   is an array of g_nworkers flags marking the workers already cleared. */
static int resetstat_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                           const int *keys, int nkeys) {
    (void)phase, (void)argc, (void)argv, (void)keys, (void)nkeys;
    if (!*state) *state = df_calloc((size_t)g_nworkers);
    unsigned char *done = *state;
    shard_t *s = ctx->shard;
    s->stats.hits = s->stats.misses = s->stats.expired = s->stats.evicted = 0;
    s->stats.expire_cycles = 0;
    if (tl_worker && !done[tl_worker->id]) {
        config_reset_worker(tl_worker->id);
        done[tl_worker->id] = 1;
    }
    return 0;
}

/* Reply: workers that own no shard are cleared from here (their counters are plain words:
   a concurrent increment may survive the reset). */
static void resetstat_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    unsigned char *done = *state;
    for (int w = 0; w < g_nworkers; w++)
        if (!done || !done[w]) config_reset_worker(w);
    info_reset_errors();
    df_free(done);
    *state = NULL;
    reply_ok(ctx);
}

static const dfm_multi_t resetstat_multi = {1, resetstat_phase, resetstat_reply};

/* ------------------------------------------------------------------------------------ */
/* CONFIG REWRITE, HELP                                                                   */

static void config_rewrite_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    char *err = NULL;
    if (config_rewrite(&err) < 0) {
        reply_error(ctx, err ? err : "ERR Rewriting config file failed");
        free(err);
        return;
    }
    log_notice("CONFIG REWRITE executed with success.");
    reply_ok(ctx);
}

static void config_help_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    static const char *const help[] = {
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        NULL,
    };
    command_reply_help(ctx, "CONFIG", help);
}

#define CONFIG_ACL "@admin @slow @dangerous"

static const dfm_command_t config_cmds[] = {
    {.name = "config|get", .arity = -3, .flags = "admin noscript loading stale",
     .acl_categories = CONFIG_ACL, .summary = "Returns the effective values of configuration parameters.",
     .since = "2.0.0", .group = "server", .complexity = "O(N) when N is the number of configuration parameters provided",
     .args_doc = "parameter [parameter ...]", .handler = config_get_cmd},
    {.name = "config|set", .arity = -4, .flags = "admin noscript loading stale",
     .acl_categories = CONFIG_ACL, .summary = "Sets configuration parameters in-flight.",
     .since = "2.0.0", .group = "server", .complexity = "O(N) when N is the number of configuration parameters provided",
     .args_doc = "parameter value [parameter value ...]", .handler = config_set_cmd},
    {.name = "config|resetstat", .arity = 2, .flags = "admin noscript loading stale @allshards",
     .acl_categories = CONFIG_ACL, .summary = "Resets the server's statistics.", .since = "2.0.0",
     .group = "server", .complexity = "O(1)", .multi = &resetstat_multi},
    {.name = "config|rewrite", .arity = 2, .flags = "admin noscript loading stale",
     .acl_categories = CONFIG_ACL, .summary = "Persists the effective configuration to file.",
     .since = "2.8.0", .group = "server", .complexity = "O(1)", .handler = config_rewrite_cmd},
    {.name = "config|help", .arity = 2, .flags = "loading stale", .acl_categories = "@slow",
     .summary = "Returns helpful text about the different subcommands.", .since = "5.0.0",
     .group = "server", .complexity = "O(1)", .handler = config_help_cmd},
};

void cmd_config_register(void) { cmdtab_register(config_cmds, CMDTAB_COUNT(config_cmds)); }
