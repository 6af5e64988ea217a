/*
 * config.h: every flag and config parameter (core and module ones) in one registry.
 *
 * Sources, applied in this order, later ones winning:
 *   1. a redis.conf-style file given as the first positional argument
 *      ("port 6379" lines, '#' comments, "quoted values", repeated "loadmodule" lines),
 *   2. DFLY_<name> environment variables (DFLY_port=7000, DFLY_maxmemory_policy=...),
 *   3. command-line flags: --name value, --name=value, -name; '-' and '_' are the same
 *      (--maxmemory-policy = --maxmemory_policy); --flagfile FILE reads a file line by line,
 *      each line either "--name=value" or redis.conf style "name value" (the same reader as 1).
 * A DFLY_ variable whose name is never registered is ignored; an unknown flag or file line is
 * an error reported by config_apply_pending() (modules may still register it before then).
 * Sizes take units (4gb, 512mb, 1GB, 100k); booleans true/false/yes/no/1/0/on/off.
 *
 * Modules register parameters during their init, which happens after the core flags that
 * choose the modules were read; so config_parse() records every (name, value) pair, applies
 * the core's at once, and config_apply_pending() applies the rest after modules are loaded.
 * Any name still unknown then, any bad value, or a flag of a feature not built yet fails with
 * a message naming it.
 *
 * Main thread only, except config_get_* readers of immutable values.
 */
#ifndef DF_CONFIG_H
#define DF_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include "dragonfly/module.h"

#define DF_MAX_BINDS 16
#define DF_MAX_LOADMODULES 64

/* The core's parameters, filled by config_parse(). */
typedef struct df_config {
    int64_t port;
    char *bind;          /* space separated addresses; "" (default) = all interfaces,
                            i.e. 0.0.0.0 and :: */
    char *unixsocket;
    int64_t unixsocketperm;
    int64_t threads;     /* proactor_threads / threads; 0 = number of CPUs */
    int64_t num_shards;  /* 0 = one per thread */
    int64_t maxclients;
    char *requirepass;
    char *aclfile;
    int64_t dbnum;       /* databases */
    int64_t timeout;     /* idle client timeout, seconds, 0 = none */
    int64_t tcp_keepalive;
    int64_t loglevel;    /* DFM_LOG_* index */
    char *logfile;       /* "" = stderr */
    char *pidfile;
    char *dir;
    int64_t hz;
    int64_t proto_max_bulk_len;
    int64_t client_query_buffer_limit;
    int64_t maxmemory;
    int64_t maxmemory_policy; /* index into config_maxmemory_policies */
    int64_t enable_debug_command; /* 0 no, 1 yes, 2 local */
    int64_t enable_protected_configs; /* same values: who may CONFIG SET dir, dbfilename */
    char *module_dir;
    char *modules;          /* comma separated names, "" = all found */
    char *modules_conf_dir;
    int nloadmodules;
    char *loadmodules[DF_MAX_LOADMODULES]; /* "path arg1 arg2" as given */
    int64_t daemonize;
    int64_t lazyfree_lazy_user_del;
    int64_t active_expire_enabled;
    int64_t stop_writes_on_bgsave_error;
    int64_t rdbcompression;
    int64_t rdbchecksum;
    int64_t slowlog_log_slower_than;
    int64_t slowlog_max_len;
    int64_t latency_monitor_threshold; /* ms; 0: off */
    int64_t latency_tracking;          /* per-command histograms (LATENCY HISTOGRAM) */
    char *latency_tracking_info_percentiles;
    /* Stored and shown by CONFIG GET; snapshots do not act on them yet. */
    char *save;          /* "3600 1 300 100 60 10000": <seconds> <changes> pairs, "" = off */
    char *dbfilename;
    char *notify_keyspace_events; /* normalized ("AKE"); notify.c keeps the parsed flags */
    int64_t cache_mode;
    int64_t tracking_table_max_keys; /* CLIENT TRACKING: keys remembered, 0 = no limit */
    /* Features not built yet: the parameters are known so that a non-default value fails
       with a clear message (see the table in config.c); they hold their defaults. */
    int64_t tls_port;
    char *tls_cert_file;
    char *tls_key_file;
    char *tls_ca_cert_file;
    int64_t tls_auth_clients; /* 0 no, 1 yes, 2 optional */
    char *replicaof;
    char *masterauth;
    int64_t replica_read_only;
    int64_t repl_backlog_size; /* bytes of the replication stream kept for PSYNC */
    int64_t repl_backlog_ttl;  /* seconds without replicas before it is freed; 0: never */
    int64_t metrics_port;
    int64_t appendonly;        /* AOF on (aof.h) */
    int64_t appendfsync;       /* 0 always, 1 everysec, 2 no */
    char *appendfilename;      /* the AOF files' base name (immutable) */
    char *appenddirname;       /* their directory, inside dir (immutable) */
    int64_t aof_load_truncated;
    int64_t aof_use_rdb_preamble;
    int64_t auto_aof_rewrite_percentage;
    int64_t auto_aof_rewrite_min_size;
    int64_t cluster_enabled;
    int64_t cluster_mode; /* 0 no, 1 emulated */
} df_config_t;

extern df_config_t g_config;
extern const char *const config_maxmemory_policies[];
extern const char *const config_loglevels[];

/* Register the core's parameters with their defaults (fills g_config). */
void config_init(void);
/* Register a core parameter from outside config.c's table (config_compat.c); unsupported:
   non-NULL refuses any value but the default with that text; validate / normalize as in
   config.c's table (strings). Aborts on a bad entry. */
void config_add_builtin(const dfm_config_t *d, const char *unsupported,
                        const char *(*validate)(const char *), const char *(*normalize)(const char *));
/* config_compat.c: the rest of Redis 7.0's parameters; and the ones applied elsewhere. */
void config_compat_register(void);
int config_protected_mode(void);
int config_tcp_backlog(void);
int config_replica_priority(void);
/* Replication over TLS (config_compat.c): tls-replication, and the outgoing session's
   tls-ca-cert-dir, tls-client-cert-file, tls-client-key-file ("" or NULL: unset). Any thread. */
/* Redis parameters that act, kept by config_compat.c; read with config_compat_num / _str
   (any thread). */
typedef enum {
    C_PROTECTED_MODE, C_TCP_BACKLOG, C_REPLICA_PRIORITY, C_TLS_REPLICATION, C_TLS_CA_CERT_DIR,
    C_TLS_CLIENT_CERT, C_TLS_CLIENT_KEY, C_TLS_KEY_PASS, C_TLS_CLIENT_KEY_PASS, C_TLS_CIPHERS,
    C_TLS_CIPHERSUITES, C_TLS_PROTOCOLS, C_TLS_PREFER_SERVER_CIPHERS, C_AOF_TIMESTAMP, C_SUPERVISED,
    C_REPL_TIMEOUT, C_REPL_PING_PERIOD, C_REPLICA_SERVE_STALE, C_MAXMEMORY_SAMPLES,
    C_LFU_LOG_FACTOR, C_LFU_DECAY_TIME, C_MIN_REPLICAS_TO_WRITE, C_MIN_REPLICAS_MAX_LAG,
    C_REPLICA_ANNOUNCE_IP, C_REPLICA_ANNOUNCE_PORT, C_SHUTDOWN_TIMEOUT, C_APPLIED_N
} config_compat_applied_t;
extern int64_t g_compat_num[]; /* config_compat.c's numbers, the applied ones first */
static inline int64_t config_compat_num(config_compat_applied_t i) {
    return __atomic_load_n(&g_compat_num[i], __ATOMIC_RELAXED);
}
/* repl-timeout in milliseconds, as an int wait (clamped: the setting goes up to INT32_MAX s). */
static inline int config_repl_timeout_ms(void) {
    int64_t s = config_compat_num(C_REPL_TIMEOUT);
    return s > INT32_MAX / 1000 ? INT32_MAX / 1000 * 1000 : (int)s * 1000;
}
const char *config_compat_str(config_compat_applied_t i);
int config_tls_replication(void);
/* client-output-buffer-limit of class cls (0 normal, 1 replica, 2 pubsub): hard bytes, soft
   bytes, soft seconds (0: none). Any thread. */
void config_obuf_limits(int cls, long long out[3]);
const char *config_tls_ca_cert_dir(void);
const char *config_tls_client_cert_file(void);
const char *config_tls_client_key_file(void);
/* Register one parameter; owner names the module for duplicate errors. 0 ok, -1 (err set,
   caller frees). The storage receives the default at once (strings are strdup'd and owned by
   the registry until config_free). For INT and SIZE, min == max == 0 means "no bounds". */
int config_register(const dfm_config_t *c, const char *owner, char **err);
/*
 * Parse argv (and the config file, env, flagfiles). Returns 0 to go on, 1 if it printed
 * --help or --version (caller exits 0), -1 on error with *err (malloc'd) naming the flag.
 */
int config_parse(int argc, char **argv, char **err);
/* Apply recorded pairs whose parameter was registered late (by modules). -1 on error. */
int config_apply_pending(char **err);
/* CONFIG SET name value: -1 with *err for unknown/immutable/bad. */
int config_set(const char *name, const char *value, char **err);
/* 1 if name is a protected parameter (Redis 7: dir, dbfilename): CONFIG SET needs
   enable-protected-configs yes, or local and a local client. */
int config_is_protected(const char *name);
/* dir must name an existing directory (Redis changes into it): NULL, or why not. Checked by
   CONFIG SET and at start-up, not while parsing (a file may name a directory of another
   machine). */
const char *config_check_dir(const char *v);
/* dir/name, dir being --dir or "." (malloc'd; the caller frees). Any thread. */
char *config_dir_file(const char *name);
/* CONFIG GET pattern: calls fn(name, value, arg) for each match (glob, case-insensitive),
   names as Redis shows them (with '-'). */
void config_get(const char *pattern, void (*fn)(const char *name, const char *value, void *arg),
                void *arg);
/* Print --help: every parameter with its default and help line. */
void config_print_help(FILE *out);
/* Parse helpers, exposed for tests and CONFIG SET: 0 ok, -1 bad. */
int config_parse_size(const char *s, int64_t *out);
int config_parse_bool(const char *s, int64_t *out);
/* Free every parameter, string value and pending pair and reset g_config to zeroes, so that
   config_init() may run again (tests). Call before modules owning storage are unloaded. */
void config_free(void);
/* The config file given as the first argument (absolute path), or "" when there is none. */
const char *config_file_path(void);
/* CONFIG REWRITE: write the current values of mutable parameters into the config file.
   0, or -1 with *err (malloc'd, Redis's wording, "ERR ..."). Main or any single thread. */
int config_rewrite(char **err);
/* The package version ("0.1.0"), as printed by --version. */
const char *df_version_string(void);

#endif
