/*
 * config_compat.c: the rest of Redis 7.0's parameters, so that a redis.conf (Debian's stock
 * one, a production one) starts us unchanged and CONFIG GET / SET of any Redis parameter
 * answers as Redis does.
 *
 * Three kinds of entries:
 *  - applied: protected-mode, tcp-backlog, replica-priority, and TLS settings
 *    (tls-replication, tls-ca-cert-dir, tls-client-cert-file / -key-file, the key
 *    passphrases, tls-ciphers, tls-ciphersuites, tls-protocols, tls-prefer-server-ciphers),
 *    at the indexes config.h names (read where they act: conn.c, server.c, replica.c, tls.c,
 *    through config_compat_num / _str and the like);
 *  - inert: tuning that has no counterpart in this design (encodings, defragmentation,
 *    io-threads, cluster bus, CPU lists...): any valid
 *    value is accepted and shown, and changes nothing; their help says so;
 *  - refused away from the default: a value that asks for behaviour we do not have
 *    (syslog, masteruser, client eviction...) fails with a
 *    message.
 * Values are stored here (g_compat_num / compat_str); the core's own table is in config.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"

#define INERT "accepted for Redis compatibility; no effect here"

typedef struct compat_def {
    const char *name;
    int kind;
    const char *def;
    int64_t lo, hi;
    const char *const *enums;
    const char *unsupported; /* non-NULL: only the default is accepted */
    const char *help;        /* NULL: INERT */
} compat_def_t;

static const char *const e_supervised[] = {"upstart", "systemd", "auto", "no", NULL};
static const char *const e_diskless_load[] = {"disabled", "on-empty-db", "swapdb", NULL};
static const char *const e_propagation[] = {"ignore", "panic", "panic-on-replicas", NULL};
static const char *const e_endpoint[] = {"ip", "hostname", "unknown-endpoint", NULL};
static const char *const e_facility[] = {"user", "local0", "local1", "local2", "local3",
                                         "local4", "local5", "local6", "local7", NULL};
static const char *const e_oom[] = {"no", "yes", "relative", "absolute", NULL};
static const char *const e_sanitize[] = {"no", "yes", "clients", NULL};
static const char *const e_yes_no_local[] = {"no", "yes", "local", NULL};
static const char *const e_pubsub_default[] = {"allchannels", "resetchannels", NULL};

#define B(n, d) {n, DFM_CONF_BOOL, d, 0, 0, NULL, NULL, NULL}
#define I(n, d, lo, hi) {n, DFM_CONF_INT, d, lo, hi, NULL, NULL, NULL}
#define Z(n, d) {n, DFM_CONF_SIZE, d, 0, INT64_MAX, NULL, NULL, NULL}
#define S(n, d) {n, DFM_CONF_STRING, d, 0, 0, NULL, NULL, NULL}
#define E(n, vals, d) {n, DFM_CONF_ENUM, d, 0, 0, vals, NULL, NULL}
#define NO(n, kind, d, why) {n, DFM_CONF_##kind, d, 0, INT64_MAX, NULL, why, why}

static const compat_def_t compat_defs[] = {
    /* applied: at the indexes named in config_compat_applied_t */
    [C_PROTECTED_MODE] = {"protected-mode", DFM_CONF_BOOL, "no", 0, 0, NULL, NULL,
     "yes: without a password for the default user, refuse clients that are not local"},
    [C_TCP_BACKLOG] = {"tcp-backlog", DFM_CONF_INT, "511", 0, INT32_MAX, NULL, NULL, "listen() backlog"},
    [C_REPLICA_PRIORITY] = {"replica-priority", DFM_CONF_INT, "100", 0, INT32_MAX, NULL, NULL,
     "Sentinel's promotion priority of this replica (INFO slave_priority); 0: never"},
    [C_TLS_REPLICATION] = {"tls-replication", DFM_CONF_BOOL, "no", 0, 0, NULL, NULL,
     "yes: connect to the master over TLS (verified with tls-ca-cert-file / tls-ca-cert-dir)"},
    [C_TLS_CA_CERT_DIR] = {"tls-ca-cert-dir", DFM_CONF_STRING, "", 0, 0, NULL, NULL,
     "directory of CA certificates (c_rehash form), with or instead of tls-ca-cert-file"},
    [C_TLS_CLIENT_CERT] = {"tls-client-cert-file", DFM_CONF_STRING, "", 0, 0, NULL, NULL,
     "certificate shown to a master over TLS (default: tls-cert-file)"},
    [C_TLS_CLIENT_KEY] = {"tls-client-key-file", DFM_CONF_STRING, "", 0, 0, NULL, NULL,
     "private key of tls-client-cert-file"},
    [C_TLS_KEY_PASS] = {"tls-key-file-pass", DFM_CONF_STRING, "", 0, 0, NULL, NULL,
     "passphrase of an encrypted tls-key-file"},
    [C_TLS_CLIENT_KEY_PASS] = {"tls-client-key-file-pass", DFM_CONF_STRING, "", 0, 0, NULL, NULL,
     "passphrase of an encrypted tls-client-key-file"},
    [C_TLS_CIPHERS] = {"tls-ciphers", DFM_CONF_STRING, "", 0, 0, NULL, NULL,
     "OpenSSL cipher list for TLS 1.2 and below; empty: OpenSSL's default"},
    [C_TLS_CIPHERSUITES] = {"tls-ciphersuites", DFM_CONF_STRING, "", 0, 0, NULL, NULL,
     "TLS 1.3 cipher suites, colon separated; empty: OpenSSL's default"},
    [C_TLS_PROTOCOLS] = {"tls-protocols", DFM_CONF_STRING, "", 0, 0, NULL, NULL,
     "TLS versions allowed, e.g. \"TLSv1.2 TLSv1.3\" (the default when empty)"},
    [C_TLS_PREFER_SERVER_CIPHERS] = {"tls-prefer-server-ciphers", DFM_CONF_BOOL, "no", 0, 0, NULL, NULL,
     "yes: the server's cipher order wins over the client's"},
    [C_AOF_TIMESTAMP] = {"aof-timestamp-enabled", DFM_CONF_BOOL, "no", 0, 0, NULL, NULL,
     "yes: annotate the AOF with #TS:<unix time> lines, one per second that has writes"},
    [C_SUPERVISED] = {"supervised", DFM_CONF_ENUM, "no", 0, 0, e_supervised, NULL,
     "tell systemd (NOTIFY_SOCKET) or upstart when ready and stopping; auto: whichever is there"},
    [C_REPL_TIMEOUT] = {"repl-timeout", DFM_CONF_INT, "60", 1, INT32_MAX, NULL, NULL,
     "seconds without data or PING before a replica drops its master link (and a master a replica)"},
    [C_REPL_PING_PERIOD] = {"repl-ping-replica-period", DFM_CONF_INT, "10", 1, INT32_MAX, NULL, NULL,
     "seconds between the PINGs a master sends its replicas"},
    [C_REPLICA_SERVE_STALE] = {"replica-serve-stale-data", DFM_CONF_BOOL, "yes", 0, 0, NULL, NULL,
     "no: while the master link is down, answer MASTERDOWN to data commands"},
    [C_MAXMEMORY_SAMPLES] = {"maxmemory-samples", DFM_CONF_INT, "5", 1, 64, NULL, NULL,
     "keys sampled per eviction (more: closer to true LRU/LFU, slower)"},
    [C_LFU_LOG_FACTOR] = {"lfu-log-factor", DFM_CONF_INT, "10", 0, INT32_MAX, NULL, NULL,
     "LFU counter growth: a higher factor needs more accesses per step"},
    [C_LFU_DECAY_TIME] = {"lfu-decay-time", DFM_CONF_INT, "1", 0, INT32_MAX, NULL, NULL,
     "minutes without access for the LFU counter to lose one (0: never)"},
    [C_MIN_REPLICAS_TO_WRITE] = {"min-replicas-to-write", DFM_CONF_INT, "0", 0, INT32_MAX, NULL, NULL,
     "refuse writes (NOREPLICAS) with fewer replicas acknowledging within min-replicas-max-lag"},
    [C_MIN_REPLICAS_MAX_LAG] = {"min-replicas-max-lag", DFM_CONF_INT, "10", 0, INT32_MAX, NULL, NULL,
     "seconds since a replica's last acknowledgement for it to count (min-replicas-to-write)"},
    [C_REPLICA_ANNOUNCE_IP] = {"replica-announce-ip", DFM_CONF_STRING, "", 0, 0, NULL, NULL,
     "the IP a replica tells its master to show (INFO, ROLE, Sentinel), behind NAT"},
    [C_REPLICA_ANNOUNCE_PORT] = {"replica-announce-port", DFM_CONF_INT, "0", 0, 65535, NULL, NULL,
     "the port a replica tells its master to show; 0: the one it listens on"},
    [C_SHUTDOWN_TIMEOUT] = {"shutdown-timeout", DFM_CONF_INT, "10", 0, INT32_MAX, NULL, NULL,
     "seconds a shutdown waits (writes paused) for replicas to acknowledge everything"},
    /* refused away from the default */
    E("enable-module-command", e_yes_no_local, "no"), /* modules load at start-up only */
    NO("syslog-enabled", BOOL, "no", "logging to syslog is not supported; use logfile"),
    NO("masteruser", STRING, "", "replication as an ACL user (masteruser) is not supported yet; "
                                  "use masterauth with the default user"),
    NO("maxmemory-clients", SIZE, "0", "client eviction (maxmemory-clients) is not supported"),
    NO("shutdown-on-sigint", STRING, "default", "only the default shutdown on SIGINT is supported"),
    NO("shutdown-on-sigterm", STRING, "default", "only the default shutdown on SIGTERM is supported"),
    {"acl-pubsub-default", DFM_CONF_ENUM, "resetchannels", 0, 0, e_pubsub_default,
     "only resetchannels (Redis 7's default) is supported",
     "only resetchannels (Redis 7's default) is supported"},
    NO("acllog-max-len", INT, "128", "the ACL log keeps the last 128 entries"),
    /* inert */
    I("active-defrag-cycle-max", "25", 1, 99), I("active-defrag-cycle-min", "1", 1, 99),
    Z("active-defrag-ignore-bytes", "104857600"), I("active-defrag-max-scan-fields", "1000", 1, INT64_MAX),
    I("active-defrag-threshold-lower", "10", 0, 1000), I("active-defrag-threshold-upper", "100", 0, 1000),
    B("activedefrag", "no"), I("active-expire-effort", "1", 1, 10), B("activerehashing", "yes"),
    B("always-show-logo", "no"), B("aof-disable-auto-gc", "no"),
    B("aof-rewrite-incremental-fsync", "yes"),
    B("no-appendfsync-on-rewrite", "no"), S("aof_rewrite_cpulist", ""), S("bgsave_cpulist", ""),
    S("bio_cpulist", ""), S("server_cpulist", ""), S("bind-source-addr", ""),
    S("client-output-buffer-limit",
      "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
    B("cluster-allow-pubsubshard-when-down", "yes"), B("cluster-allow-reads-when-down", "no"),
    B("cluster-allow-replica-migration", "yes"), I("cluster-announce-bus-port", "0", 0, 65535),
    S("cluster-announce-hostname", ""), S("cluster-announce-ip", ""),
    I("cluster-announce-port", "0", 0, 65535), I("cluster-announce-tls-port", "0", 0, 65535),
    S("cluster-config-file", "nodes.conf"), Z("cluster-link-sendbuf-limit", "0"),
    I("cluster-migration-barrier", "1", 0, INT32_MAX), I("cluster-node-timeout", "15000", 0, INT64_MAX),
    I("cluster-port", "0", 0, 65535), E("cluster-preferred-endpoint-type", e_endpoint, "ip"),
    B("cluster-replica-no-failover", "no"), I("cluster-replica-validity-factor", "10", 0, INT32_MAX),
    B("cluster-require-full-coverage", "yes"), B("crash-log-enabled", "yes"),
    B("crash-memcheck-enabled", "yes"), B("disable-thp", "yes"), B("dynamic-hz", "yes"),
    S("ignore-warnings", ""), I("io-threads", "1", 1, 128), B("io-threads-do-reads", "no"),
    B("jemalloc-bg-thread", "yes"), B("lazyfree-lazy-eviction", "no"), B("lazyfree-lazy-expire", "no"),
    B("lazyfree-lazy-server-del", "no"), B("lazyfree-lazy-user-flush", "no"),
    I("list-compress-depth", "0", 0, INT32_MAX), I("list-max-listpack-size", "-2", INT32_MIN, INT32_MAX),
    I("maxmemory-eviction-tenacity", "10", 0, 100),
    E("oom-score-adj", e_oom, "no"),
    S("oom-score-adj-values", "0 200 800"), S("proc-title-template", "{title} {listen-addr} {server-mode}"),
    E("propagation-error-behavior", e_propagation, "ignore"), B("rdb-del-sync-files", "no"),
    B("rdb-save-incremental-fsync", "yes"), B("repl-disable-tcp-nodelay", "no"),
    E("repl-diskless-load", e_diskless_load, "disabled"), B("repl-diskless-sync", "yes"),
    I("repl-diskless-sync-delay", "5", 0, INT32_MAX), I("repl-diskless-sync-max-replicas", "0", 0, INT32_MAX),
    B("replica-announced", "yes"),
    B("replica-ignore-disk-write-errors", "no"), B("replica-ignore-maxmemory", "yes"),
    B("replica-lazy-flush", "no"),
    E("sanitize-dump-payload", e_sanitize, "no"), B("set-proc-title", "yes"),
I("socket-mark-id", "0", 0, UINT32_MAX),
    Z("stream-node-max-bytes", "4096"), I("stream-node-max-entries", "100", 0, INT32_MAX),
    E("syslog-facility", e_facility, "local0"),
    S("syslog-ident", "redis"),
    B("tls-cluster", "no"), S("tls-dh-params-file", ""),
    I("tls-session-cache-size", "20480", 0, INT32_MAX), I("tls-session-cache-timeout", "300", 0, INT32_MAX),
    B("tls-session-caching", "yes"),
};

#define COMPAT_N (sizeof compat_defs / sizeof compat_defs[0])

/* client-output-buffer-limit: "<class> <hard> <soft> <seconds>" groups; a value changes only
   the classes it names (replica = slave), shown in bytes, as Redis merges repeated lines. */
static const char *const obuf_classes[3] = {"normal", "slave", "pubsub"};
static long long obuf_limits[3][3] = {{0, 0, 0}, {268435456, 67108864, 60}, {33554432, 8388608, 60}};

static int obuf_class(const char *w) {
    if (!strcasecmp(w, "replica")) return 1;
    for (int i = 0; i < 3; i++)
        if (!strcasecmp(w, obuf_classes[i])) return i;
    return -1;
}

/* Parse v into out (a copy of the current limits); NULL or why not. */
static const char *obuf_parse(const char *v, long long out[3][3]) {
    char words[64][32];
    int n = 0, used;
    memcpy(out, obuf_limits, sizeof obuf_limits);
    while (n < 64 && sscanf(v, "%31s%n", words[n], &used) == 1) {
        v += used;
        n++;
    }
    if (n == 0 || n % 4 || n == 64) return "Wrong number of arguments in buffer limit configuration.";
    for (int i = 0; i < n; i += 4) {
        int c = obuf_class(words[i]);
        if (c < 0) return "Invalid client class specified in buffer limit configuration.";
        for (int k = 0; k < 3; k++) {
            int64_t x;
            if (config_parse_size(words[i + 1 + k], &x) != 0 || x < 0)
                return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            out[c][k] = (long long)x;
        }
    }
    return NULL;
}

static const char *obuf_validate(const char *v) {
    long long tmp[3][3];
    return obuf_parse(v, tmp);
}

static const char *obuf_normalize(const char *v) {
    static char shown[256];
    long long tmp[3][3];
    if (obuf_parse(v, tmp) == NULL) /* read by every worker (config_obuf_limits) */
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < 3; k++) __atomic_store_n(&obuf_limits[c][k], tmp[c][k], __ATOMIC_RELAXED);
    snprintf(shown, sizeof shown, "normal %lld %lld %lld slave %lld %lld %lld pubsub %lld %lld %lld",
             obuf_limits[0][0], obuf_limits[0][1], obuf_limits[0][2], obuf_limits[1][0],
             obuf_limits[1][1], obuf_limits[1][2], obuf_limits[2][0], obuf_limits[2][1],
             obuf_limits[2][2]);
    return shown;
}

int64_t g_compat_num[COMPAT_N];
static char *compat_str[COMPAT_N];

void config_compat_register(void) {
    for (size_t i = 0; i < COMPAT_N; i++) {
        const compat_def_t *c = &compat_defs[i];
        dfm_config_t d = {.name = c->name, .kind = c->kind, .default_value = c->def,
                          .min = c->lo, .max = c->hi, .enum_values = c->enums,
                          .mutable_at_runtime = 1, .help = c->help ? c->help : INERT};
        if (c->kind == DFM_CONF_BOOL || c->kind == DFM_CONF_ENUM) d.min = d.max = 0;
        d.storage = c->kind == DFM_CONF_STRING ? (void *)&compat_str[i] : (void *)&g_compat_num[i];
        int obuf = !strcmp(c->name, "client-output-buffer-limit");
        config_add_builtin(&d, c->unsupported, obuf ? obuf_validate : NULL,
                           obuf ? obuf_normalize : NULL);
    }
}

void config_obuf_limits(int cls, long long out[3]) {
    for (int k = 0; k < 3; k++) out[k] = __atomic_load_n(&obuf_limits[cls][k], __ATOMIC_RELAXED);
}

/* The applied entries sit at their config_compat_applied_t index. Strings are read from any
   thread: a CONFIG SET retires the old copy rather than freeing it (config.c). */
int config_protected_mode(void) { return (int)g_compat_num[C_PROTECTED_MODE]; }
int config_tcp_backlog(void) { return (int)g_compat_num[C_TCP_BACKLOG]; }
int config_replica_priority(void) { return (int)g_compat_num[C_REPLICA_PRIORITY]; }
int config_tls_replication(void) { return (int)__atomic_load_n(&g_compat_num[C_TLS_REPLICATION], __ATOMIC_RELAXED); }
const char *config_compat_str(config_compat_applied_t i) { return __atomic_load_n(&compat_str[i], __ATOMIC_ACQUIRE); }
const char *config_tls_ca_cert_dir(void) { return config_compat_str(C_TLS_CA_CERT_DIR); }
const char *config_tls_client_cert_file(void) { return config_compat_str(C_TLS_CLIENT_CERT); }
const char *config_tls_client_key_file(void) { return config_compat_str(C_TLS_CLIENT_KEY); }
