/*
 * config.c: the registry of every configuration parameter (the core's and the modules'),
 * and the readers that fill it: a redis.conf-style file, DFLY_<name> environment variables,
 * command-line flags and --flagfile files, plus CONFIG GET / CONFIG SET.
 *
 * Why one registry for everything: modules declare parameters with the same dfm_config_t the
 * core uses, so `--list-max-listpack-size`, `CONFIG GET list-*` and `--help` treat module
 * and core parameters alike. Modules are loaded after the core flags that choose them are
 * read, so a (name, value) pair whose parameter is not registered yet is kept as "pending"
 * and applied by config_apply_pending() once modules are in; an unknown name fails only then.
 *
 * Names compare case-insensitively with '-' and '_' equal. Values are parsed like Redis:
 * sizes with memtoll() units, booleans (plus true/false/on/off/1/0), enums by name.
 * Parameters of features that are not built yet are registered with a reason string: giving
 * them their default is accepted (so migrated redis.conf files still start), anything else
 * fails naming the feature. Clearing the reason in the table enables the parameter.
 *
 * Memory: plain malloc/free (this runs before the accounted allocator matters). Errors are
 * malloc'd strings in *err that the caller frees. Main thread only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glob.h"
#include "notify.h"

/* DF_VERSION comes from the build (Makefile.am passes PACKAGE_VERSION). */
#ifndef DF_MODULES_CONF_DIR
#define DF_MODULES_CONF_DIR "/etc/dragonfly/modules.d"
#endif
#ifndef DF_VERSION
#define DF_VERSION "0.1.0"
#endif


#define CONFIG__MAX_DEPTH 8     /* nested flagfile / include */

/* Parameter flags (core table only; module parameters have none). */
#define CONFIG__F_HIDDEN 0x1    /* not in CONFIG GET (loadmodule) */
#define CONFIG__F_PROTECTED 0x10 /* CONFIG SET only as enable-protected-configs allows */
#define CONFIG__F_ACCUM 0x2     /* repeated lines of one source append (save) */
#define CONFIG__F_LIST 0x4      /* every value is appended to g_config.loadmodules */
#define CONFIG__F_OCTAL 0x8     /* INT parsed and shown in base 8 (unixsocketperm) */

/* Where a (name, value) pair came from: decides the wording of errors. */
enum { CONFIG__ARGV, CONFIG__FILE, CONFIG__ENV };

/* Why a value was refused; turned into text for start-up or for CONFIG SET. */
enum { CONFIG__OK, CONFIG__BAD_INT, CONFIG__BAD_SIZE, CONFIG__BAD_BOOL, CONFIG__BAD_ENUM,
       CONFIG__RANGE, CONFIG__BAD_CUSTOM };

typedef struct config__param {
    dfm_config_t d;          /* name, default_value and help point at the copies below */
    char *name, *default_value, *help, *owner; /* owned copies; owner: "core" or a module */
    unsigned flags;
    const char *unsupported; /* non-NULL: the feature is missing, this says so */
    const char *(*validate)(const char *value); /* extra check for strings: NULL or why */
    /* strings: the form stored (and shown) for a valid value, e.g. "AKE" for "KEA"; may
       also apply it. NULL: stored as given. */
    const char *(*normalize)(const char *value);
    int last_source;         /* for CONFIG__F_ACCUM */
} config__param_t;

/* One entry of the core's table. */
typedef struct config__def {
    dfm_config_t d;
    unsigned flags;
    const char *unsupported;
    const char *(*validate)(const char *value);
    const char *(*normalize)(const char *value);
} config__def_t;

typedef struct config__pair {
    char *name, *value, *label;
    int origin, source;
} config__pair_t;

typedef struct config__input {
    int origin;        /* CONFIG__ARGV / FILE / ENV */
    int source;        /* accumulation group: one per file, one for argv, one for env */
    const char *label; /* how errors name the pair */
} config__input_t;

df_config_t g_config;

const char *const config_maxmemory_policies[] = {
    "volatile-lru", "allkeys-lru", "volatile-lfu", "allkeys-lfu", "volatile-random",
    "allkeys-random", "volatile-ttl", "noeviction", NULL};
const char *const config_loglevels[] = {
    "debug", "verbose", "info", "notice", "warning", "error", NULL};
static const char *const config__debug_values[] = {"no", "yes", "local", NULL};
static const char *const config__tls_auth_values[] = {"no", "yes", "optional", NULL};
static const char *const config__cluster_modes[] = {"no", "emulated", NULL};

static config__param_t **config__params;
static size_t config__nparams, config__cap;
static config__pair_t *config__pending;
static size_t config__npending, config__pending_cap;
static int config__inited;
static int config__next_source = 1;
static char *config__file_abs; /* the config file given at start-up, absolute; or NULL */

/* Alternative names: flags from Dragonfly and Redis that mean one of ours. */
static const struct {
    const char *alias, *name;
    int listed; /* a Redis name: CONFIG GET patterns list it too, as Redis does */
} config__aliases[] = {
    {"proactor_threads", "threads", 0},
    {"dbnum", "databases", 0},
    {"slaveof", "replicaof", 1},
    /* Redis's own aliases */
    {"slave-read-only", "replica-read-only", 1},
    {"slave-serve-stale-data", "replica-serve-stale-data", 1},
    {"slave-priority", "replica-priority", 1},
    {"slave-announce-ip", "replica-announce-ip", 1},
    {"slave-announce-port", "replica-announce-port", 1},
    {"slave-lazy-flush", "replica-lazy-flush", 1},
    {"slave-ignore-maxmemory", "replica-ignore-maxmemory", 1},
    {"min-slaves-to-write", "min-replicas-to-write", 1},
    {"min-slaves-max-lag", "min-replicas-max-lag", 1},
    {"repl-ping-slave-period", "repl-ping-replica-period", 1},
    {"cluster-slave-validity-factor", "cluster-replica-validity-factor", 1},
    {"cluster-slave-no-failover", "cluster-replica-no-failover", 1},
    {"hash-max-ziplist-entries", "hash-max-listpack-entries", 1},
    {"hash-max-ziplist-value", "hash-max-listpack-value", 1},
    {"zset-max-ziplist-entries", "zset-max-listpack-entries", 1},
    {"zset-max-ziplist-value", "zset-max-listpack-value", 1},
    {"list-max-ziplist-size", "list-max-listpack-size", 1},
};

/* ---------------------------------------------------------------------------------------- */
/* Small helpers                                                                             */

/* Set *err to a malloc'd formatted message (if err is not NULL). Always returns -1. */
static int DFM_PRINTF(2, 3) config__errf(char **err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return -1;
    va_start(ap, fmt);
    if (vasprintf(err, fmt, ap) < 0)
        *err = NULL;
    va_end(ap);
    return -1;
}

static char *config__strdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (d == NULL)
        abort();
    return d;
}

static int config__fold(int c)
{
    if (c == '_')
        return '-';
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Names are equal ignoring ASCII case, with '-' and '_' the same. */
static bool config__name_eq(const char *a, const char *b)
{
    while (*a && config__fold(*a) == config__fold(*b)) {
        a++;
        b++;
    }
    return *a == '\0' && *b == '\0';
}

static config__param_t *config__find_exact(const char *name)
{
    for (size_t i = 0; i < config__nparams; i++)
        if (config__name_eq(config__params[i]->d.name, name))
            return config__params[i];
    return NULL;
}

/* Find a parameter by name or alias; NULL if none is registered (yet). */
static config__param_t *config__find(const char *name)
{
    config__param_t *p = config__find_exact(name);

    for (size_t i = 0; p == NULL && i < sizeof(config__aliases) / sizeof(config__aliases[0]); i++)
        if (config__name_eq(config__aliases[i].alias, name))
            p = config__find_exact(config__aliases[i].name);
    return p;
}

/* ---------------------------------------------------------------------------------------- */
/* Value parsing                                                                             */

/* Strict base-10 (or base-8) integer: optional '-', digits, nothing else. */
static int config__parse_int(const char *s, int base, int64_t *out)
{
    char *end;
    long long v;

    if (*s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
        return -1;
    errno = 0;
    v = strtoll(s, &end, base);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

/*
 * config_parse_size: Redis's memtoll(): an optional '-', digits, then no unit or one of
 * b, k (1000), kb (1024), m (1e6), mb (2^20), g (1e9), gb (2^30), case-insensitive.
 * "1.5gb" and "" are refused; so is a result that overflows int64.
 */
int config_parse_size(const char *s, int64_t *out)
{
    static const struct {
        const char *unit;
        int64_t mul;
    } units[] = {{"", 1}, {"b", 1}, {"k", 1000}, {"kb", 1024}, {"m", 1000 * 1000},
                 {"mb", 1024 * 1024}, {"g", 1000LL * 1000 * 1000}, {"gb", 1024LL * 1024 * 1024}};
    const char *u = s + (*s == '-');
    char digits[32];
    int64_t v;

    while (*u >= '0' && *u <= '9')
        u++;
    if (u == s + (*s == '-') || (size_t)(u - s) >= sizeof(digits))
        return -1;
    memcpy(digits, s, (size_t)(u - s));
    digits[u - s] = '\0';
    if (config__parse_int(digits, 10, &v) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(u, units[i].unit) == 0) {
            if (__builtin_mul_overflow(v, units[i].mul, out))
                return -1;
            return 0;
        }
    }
    return -1;
}

/* config_parse_bool: yes/no, true/false, on/off, 1/0 (any case) into 1/0. */
int config_parse_bool(const char *s, int64_t *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

static int config__parse_enum(const char *const *values, const char *s, int64_t *out)
{
    for (int64_t i = 0; values[i] != NULL; i++) {
        if (strcasecmp(values[i], s) == 0) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

static bool config__bounded(const config__param_t *p)
{
    return p->d.min != 0 || p->d.max != 0;
}

/* Parse a non-string value of p into *out. Returns CONFIG__OK or the reason it failed. */
static int config__parse_number(const config__param_t *p, const char *s, int64_t *out)
{
    switch (p->d.kind) {
    case DFM_CONF_BOOL:
        return config_parse_bool(s, out) < 0 ? CONFIG__BAD_BOOL : CONFIG__OK;
    case DFM_CONF_ENUM:
        return config__parse_enum(p->d.enum_values, s, out) < 0 ? CONFIG__BAD_ENUM : CONFIG__OK;
    case DFM_CONF_SIZE:
        if (config_parse_size(s, out) < 0)
            return CONFIG__BAD_SIZE;
        break;
    default:
        if (config__parse_int(s, (p->flags & CONFIG__F_OCTAL) ? 8 : 10, out) < 0)
            return CONFIG__BAD_INT;
        break;
    }
    if (config__bounded(p) && (*out < p->d.min || *out > p->d.max))
        return CONFIG__RANGE;
    return CONFIG__OK;
}

/* "a, b, c" from a NULL-terminated list; malloc'd. */
static char *config__join_enum(const char *const *values)
{
    size_t len = 1;
    char *s;

    for (size_t i = 0; values[i]; i++)
        len += strlen(values[i]) + 2;
    s = malloc(len);
    if (s == NULL)
        abort();
    s[0] = '\0';
    for (size_t i = 0; values[i]; i++) {
        if (i > 0)
            strcat(s, ", ");
        strcat(s, values[i]);
    }
    return s;
}

/*
 * Describe why value v of p was refused (code from config__parse_number, or CUSTOM with
 * the validator's text in custom). redis_style picks the CONFIG SET wording. malloc'd.
 */
static char *config__why(const config__param_t *p, int code, const char *custom, bool redis_style)
{
    char *s = NULL, *list;

    switch (code) {
    case CONFIG__BAD_INT:
        return config__strdup(redis_style ? "argument couldn't be parsed into an integer"
                                          : "not an integer");
    case CONFIG__BAD_SIZE:
        return config__strdup(redis_style ? "argument must be a memory value"
                                          : "not a size (like 100000, 512mb or 4gb)");
    case CONFIG__BAD_BOOL:
        return config__strdup(redis_style ? "argument must be 'yes' or 'no'"
                                          : "not a boolean (yes/no, true/false, on/off, 1/0)");
    case CONFIG__BAD_ENUM:
        list = config__join_enum(p->d.enum_values);
        if (asprintf(&s, "%s%s", redis_style ? "argument(s) must be one of the following: "
                                             : "must be one of: ", list) < 0)
            s = NULL;
        free(list);
        return s;
    case CONFIG__RANGE:
        if (asprintf(&s, "%s between %lld and %lld%s", redis_style ? "argument must be" : "must be",
                     (long long)p->d.min, (long long)p->d.max, redis_style ? " inclusive" : "") < 0)
            s = NULL;
        return s;
    default:
        return config__strdup(custom);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Validators for string parameters                                                          */

/* save: "" or pairs of <seconds> <changes>, both non-negative integers. */
static const char *config__validate_save(const char *v)
{
    const char *bad = "Invalid save parameters";
    char *copy = config__strdup(v), *tok, *save_ptr = NULL;
    int n = 0;
    int64_t x;

    for (tok = strtok_r(copy, " \t", &save_ptr); tok; tok = strtok_r(NULL, " \t", &save_ptr)) {
        if (config__parse_int(tok, 10, &x) < 0 || x < 0) {
            n = -1;
            break;
        }
        n++;
    }
    free(copy);
    return (n < 0 || n % 2 != 0) ? bad : NULL;
}

char *config_dir_file(const char *name)
{
    const char *dir = g_config.dir && g_config.dir[0] ? g_config.dir : ".";
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

const char *config_check_dir(const char *v)
{
    struct stat st;
    if (stat(v, &st) < 0)
        return strerror(errno);
    return S_ISDIR(st.st_mode) ? NULL : "Not a directory";
}

static const char *const config__fsync_modes[] = {"always", "everysec", "no", NULL};

static const char *config__validate_aof_filename(const char *v)
{
    return (!*v || strchr(v, '/')) ? "appendfilename can't be a path, just a filename" : NULL;
}

static const char *config__validate_aof_dirname(const char *v)
{
    return (!*v || strchr(v, '/')) ? "appenddirname can't be a path, just a dirname" : NULL;
}

/* replicaof: "" or "<host> <port>". */
static const char *config__validate_replicaof(const char *v)
{
    char host[256];
    int port, n = 0;
    if (*v == '\0')
        return NULL;
    if (sscanf(v, "%255s %d%n", host, &port, &n) != 2 || v[n] != '\0' || port <= 0 || port > 65535)
        return "replicaof takes <host> <port>";
    return NULL;
}

static const char *config__validate_dbfilename(const char *v)
{
    if (*v == '\0')
        return "dbfilename can't be empty";
    return strchr(v, '/') ? "dbfilename can't be a path, just a filename" : NULL;
}

/* latency-tracking-info-percentiles: numbers from 0 to 100, space separated. */
static const char *config__validate_percentiles(const char *v)
{
    while (*v) {
        char *end;
        double d = strtod(v, &end);
        if (end == v || d < 0 || d > 100 || (*end && *end != ' '))
            return "Invalid latency-tracking-info-percentiles parameters";
        v = end;
        while (*v == ' ')
            v++;
    }
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* The core's parameters                                                                     */

#define CONFIG__P(n, k, def, lo, hi, field, mut, h)                                          \
    {.d = {.name = n, .kind = DFM_CONF_##k, .default_value = def, .min = lo, .max = hi,       \
           .storage = &g_config.field, .mutable_at_runtime = mut, .help = h}}
#define CONFIG__E(n, vals, def, field, mut, h)                                               \
    {.d = {.name = n, .kind = DFM_CONF_ENUM, .default_value = def, .enum_values = vals,       \
           .storage = &g_config.field, .mutable_at_runtime = mut, .help = h}}
#define CONFIG__STR(n, def, field, mut, h) CONFIG__P(n, STRING, def, 0, 0, field, mut, h)
#define CONFIG__BOOL(n, def, field, mut, h) CONFIG__P(n, BOOL, def, 0, 0, field, mut, h)
#define CONFIG__NO(n, k, def, field, why)                                                    \
    {.d = {.name = n, .kind = DFM_CONF_##k, .default_value = def, .storage = &g_config.field, \
           .help = "(" why ")"},                                                              \
     .unsupported = why}


static const config__def_t config__core[] = {
    CONFIG__P("port", INT, "6379", 0, 65535, port, 0, "TCP port to listen on (0: no TCP)"),
    CONFIG__STR("bind", "", bind, 0, "addresses to listen on, space separated; empty: all"),
    CONFIG__STR("unixsocket", "", unixsocket, 0, "path of a unix socket to listen on"),
    {.d = {.name = "unixsocketperm", .kind = DFM_CONF_INT, .default_value = "0", .min = 0,
           .max = 0777, .storage = &g_config.unixsocketperm, .help = "unix socket mode, octal"},
     .flags = CONFIG__F_OCTAL},
    CONFIG__P("threads", INT, "0", 0, 1024, threads, 0, "worker threads; 0: one per CPU"),
    CONFIG__P("num_shards", INT, "0", 0, 1024, num_shards, 0, "keyspace shards; 0: one per thread"),
    CONFIG__P("maxclients", INT, "10000", 1, 4294967295LL, maxclients, 1, "max connected clients"),
    CONFIG__STR("requirepass", "", requirepass, 1, "password of the default user"),
    CONFIG__STR("aclfile", "", aclfile, 0, "users file for ACL LOAD / ACL SAVE, read at start"),
    CONFIG__P("databases", INT, "16", 1, 1 << 16, dbnum, 0, "number of databases"),
    CONFIG__P("timeout", INT, "0", 0, 2147483647, timeout, 1, "close idle clients after N s"),
    CONFIG__P("tcp-keepalive", INT, "300", 0, 2147483647, tcp_keepalive, 1,
              "TCP keepalive interval, seconds"),
    CONFIG__E("loglevel", config_loglevels, "notice", loglevel, 1, "log verbosity"),
    CONFIG__STR("logfile", "", logfile, 0, "log file; empty: standard error"),
    CONFIG__STR("pidfile", "", pidfile, 0, "write the process id to this file"),
    {.d = {.name = "dir", .kind = DFM_CONF_STRING, .default_value = ".", .storage = &g_config.dir,
           .mutable_at_runtime = 1, .help = "directory of the snapshot file"},
     .flags = CONFIG__F_PROTECTED},
    CONFIG__P("hz", INT, "10", 1, 500, hz, 1, "background task frequency"),
    CONFIG__P("proto-max-bulk-len", SIZE, "512mb", 1024 * 1024, INT64_MAX, proto_max_bulk_len,
              1, "largest bulk string a client may send"),
    CONFIG__P("client-query-buffer-limit", SIZE, "1gb", 1024 * 1024, INT64_MAX,
              client_query_buffer_limit, 1, "max query buffer per client"),
    CONFIG__P("maxmemory", SIZE, "0", 0, INT64_MAX, maxmemory, 1, "memory limit; 0: none"),
    CONFIG__E("maxmemory-policy", config_maxmemory_policies, "noeviction", maxmemory_policy, 1,
              "what to evict at maxmemory"),
    CONFIG__E("enable-protected-configs", config__debug_values, "no", enable_protected_configs, 0,
              "allow CONFIG SET of dir and dbfilename: no, yes, or local"),
    CONFIG__E("enable-debug-command", config__debug_values, "local", enable_debug_command, 0,
              "allow DEBUG: no, yes, or local (unix socket and loopback only)"),
    CONFIG__STR("module_dir", "", module_dir, 0, "directory of the bundled modules"),
    CONFIG__STR("modules", "", modules, 0, "comma separated modules to load; empty: all found"),
    CONFIG__STR("modules_conf_dir", DF_MODULES_CONF_DIR, modules_conf_dir, 0, "directory of module manifests"),
    {.d = {.name = "loadmodule", .kind = DFM_CONF_STRING, .default_value = "",
           .help = "load a module: \"path [args...]\"; repeatable"},
     .flags = CONFIG__F_LIST | CONFIG__F_HIDDEN},
    CONFIG__BOOL("daemonize", "no", daemonize, 0, "run in the background"),
    CONFIG__BOOL("lazyfree-lazy-user-del", "no", lazyfree_lazy_user_del, 1,
                 "DEL behaves like UNLINK"),
    CONFIG__BOOL("active-expire-enabled", "yes", active_expire_enabled, 1,
                 "expire keys in the background"),
    CONFIG__P("slowlog-log-slower-than", INT, "10000", -1, INT64_MAX, slowlog_log_slower_than,
              1, "log commands slower than N microseconds; -1: never"),
    CONFIG__P("slowlog-max-len", INT, "128", 0, INT64_MAX, slowlog_max_len, 1,
              "slow log length"),
    CONFIG__P("latency-monitor-threshold", INT, "0", 0, INT64_MAX, latency_monitor_threshold,
              1, "record latency events of N milliseconds or more; 0: off"),
    CONFIG__BOOL("latency-tracking", "yes", latency_tracking, 1,
                 "per-command latency histograms (LATENCY HISTOGRAM, INFO latencystats)"),
    {.d = {.name = "latency-tracking-info-percentiles", .kind = DFM_CONF_STRING,
           .default_value = "50 99 99.9", .storage = &g_config.latency_tracking_info_percentiles,
           .mutable_at_runtime = 1, .help = "percentiles INFO latencystats shows"},
     .validate = config__validate_percentiles},
    {.d = {.name = "save", .kind = DFM_CONF_STRING, .default_value = "3600 1 300 100 60 10000",
           .storage = &g_config.save, .mutable_at_runtime = 1,
           .help = "snapshot after <seconds> if <changes>; pairs, repeatable; \"\": never"},
     .flags = CONFIG__F_ACCUM, .validate = config__validate_save},
    {.d = {.name = "dbfilename", .kind = DFM_CONF_STRING, .default_value = "dump.rdb",
           .storage = &g_config.dbfilename, .mutable_at_runtime = 1,
           .help = "snapshot file name, inside dir"},
     .flags = CONFIG__F_PROTECTED, .validate = config__validate_dbfilename},
    CONFIG__BOOL("cache-mode", "no", cache_mode, 1, "evict keys like a cache near maxmemory"),
    CONFIG__P("tracking-table-max-keys", INT, "1000000", 0, INT64_MAX, tracking_table_max_keys, 1,
              "keys remembered for CLIENT TRACKING (shared out between the shards); 0: no limit"),
    CONFIG__BOOL("stop-writes-on-bgsave-error", "yes", stop_writes_on_bgsave_error, 1,
                 "refuse writes (MISCONF) while the last snapshot failed and save points are set"),
    CONFIG__BOOL("rdbcompression", "yes", rdbcompression, 1, "LZF-compress long strings in snapshots"),
    CONFIG__BOOL("rdbchecksum", "yes", rdbchecksum, 0, "end snapshots with a CRC-64"),
    {.d = {.name = "notify-keyspace-events", .kind = DFM_CONF_STRING, .default_value = "",
           .storage = &g_config.notify_keyspace_events, .mutable_at_runtime = 1,
           .help = "keyspace events published (Redis's letters: K E g $ l s h z x e t m d n A)"},
     .validate = notify_validate, .normalize = notify_normalize},
    CONFIG__P("tls-port", INT, "0", 0, 65535, tls_port, 0, "TLS port for clients; 0: none"),
    CONFIG__STR("tls-cert-file", "", tls_cert_file, 1, "server certificate (PEM, chain)"),
    CONFIG__STR("tls-key-file", "", tls_key_file, 1, "server private key (PEM)"),
    CONFIG__STR("tls-ca-cert-file", "", tls_ca_cert_file, 1, "CA certificates to check clients and masters with"),
    CONFIG__E("tls-auth-clients", config__tls_auth_values, "yes", tls_auth_clients, 1,
              "with a CA: clients must show a certificate (yes), may (optional), or not (no)"),
    {.d = {.name = "replicaof", .kind = DFM_CONF_STRING, .default_value = "",
           .storage = &g_config.replicaof,
           .help = "\"host port\" of a master to replicate at start (REPLICAOF changes it)"},
     .validate = config__validate_replicaof},
    CONFIG__STR("masterauth", "", masterauth, 1, "password sent to the master (AUTH)"),
    CONFIG__BOOL("replica-read-only", "yes", replica_read_only, 1,
                 "refuse writes from clients while replicating"),
    CONFIG__P("repl-backlog-size", SIZE, "1mb", 1, INT64_MAX, repl_backlog_size, 1,
              "replication stream kept for replicas that reconnect (PSYNC)"),
    CONFIG__P("repl-backlog-ttl", INT, "3600", 0, 2147483647, repl_backlog_ttl, 1,
              "seconds without replicas before the backlog is freed; 0: never"),
    CONFIG__P("metrics-port", INT, "0", 0, 65535, metrics_port, 0,
              "HTTP port of the Prometheus endpoint (GET /metrics) on the bind addresses; 0: none"),
    CONFIG__BOOL("appendonly", "no", appendonly, 1,
                 "append-only file: every write also goes to dir/appenddirname (Redis 7 multi-part AOF)"),
    CONFIG__E("appendfsync", config__fsync_modes, "everysec", appendfsync, 1,
              "fsync of the AOF: always (after every batch), everysec, no (the kernel decides)"),
    {.d = {.name = "appendfilename", .kind = DFM_CONF_STRING, .default_value = "appendonly.aof",
           .storage = &g_config.appendfilename, .help = "base name of the AOF files"},
     .validate = config__validate_aof_filename},
    {.d = {.name = "appenddirname", .kind = DFM_CONF_STRING, .default_value = "appendonlydir",
           .storage = &g_config.appenddirname, .help = "directory of the AOF files, inside dir"},
     .validate = config__validate_aof_dirname},
    CONFIG__BOOL("aof-load-truncated", "yes", aof_load_truncated, 1,
                 "load an AOF whose last command is cut short (and drop that command)"),
    CONFIG__BOOL("aof-use-rdb-preamble", "yes", aof_use_rdb_preamble, 1,
                 "accepted; an AOF rewrite's base file is always an RDB snapshot here"),
    CONFIG__P("auto-aof-rewrite-percentage", INT, "100", 0, INT32_MAX, auto_aof_rewrite_percentage, 1,
              "rewrite the AOF when it grew by this percentage since the last rewrite; 0: never"),
    CONFIG__P("auto-aof-rewrite-min-size", SIZE, "64mb", 0, INT64_MAX, auto_aof_rewrite_min_size, 1,
              "no automatic AOF rewrite below this size"),
    CONFIG__BOOL("cluster-enabled", "no", cluster_enabled, 0,
                 "Redis Cluster protocol as one node owning every slot (= cluster_mode emulated)"),
    CONFIG__E("cluster_mode", config__cluster_modes, "no", cluster_mode, 0,
              "emulated: answer Redis Cluster's commands as one node owning every slot"),
};

/* ---------------------------------------------------------------------------------------- */
/* Registration                                                                              */

static void config__push_param(config__param_t *p)
{
    if (config__nparams == config__cap) {
        config__cap = config__cap ? 2 * config__cap : 64;
        config__params = realloc(config__params, config__cap * sizeof(*config__params));
        if (config__params == NULL)
            abort();
    }
    config__params[config__nparams++] = p;
}

static void config__free_param(config__param_t *p)
{
    if (p->d.kind == DFM_CONF_STRING && p->d.storage != NULL) {
        free(*(char **)p->d.storage);
        *(char **)p->d.storage = NULL;
    }
    free(p->name);
    free(p->default_value);
    free(p->help);
    free(p->owner);
    free(p);
}

/* Store a parsed value: strings are copied, the old copy freed. */
/*
 * A string value replaced at run time may still be read by another thread (AUTH reading
 * requirepass, a CONFIG GET elsewhere): the old copy is retired, not freed, until
 * config_free. CONFIG SET and GET themselves are serialized by config__lock.
 */
static char **config__retired;
static size_t config__nretired, config__capretired;
static pthread_mutex_t config__lock = PTHREAD_MUTEX_INITIALIZER;

static void config__retire(char *old)
{
    if (old == NULL)
        return;
    if (config__nretired == config__capretired) {
        config__capretired = config__capretired ? 2 * config__capretired : 16;
        config__retired = realloc(config__retired, config__capretired * sizeof(char *));
        if (config__retired == NULL)
            abort();
    }
    config__retired[config__nretired++] = old;
}

static void config__store_string(config__param_t *p, const char *v)
{
    char **slot = p->d.storage;
    char *copy = config__strdup(p->normalize ? p->normalize(v) : v);

    config__retire(*slot);
    *slot = copy;
}

/*
 * Check and store value v into p (no unsupported/mutability checks). source > 0 groups
 * repeated lines of one file for CONFIG__F_ACCUM parameters. Returns CONFIG__OK or a reason;
 * *custom gets a validator's text for CONFIG__BAD_CUSTOM.
 */
static int config__assign(config__param_t *p, const char *v, int source, const char **custom)
{
    int64_t n;
    int code;

    if (p->d.kind != DFM_CONF_STRING) {
        code = config__parse_number(p, v, &n);
        if (code == CONFIG__OK)
            *(int64_t *)p->d.storage = n;
        return code;
    }
    if (p->validate && (*custom = p->validate(v)) != NULL)
        return CONFIG__BAD_CUSTOM;
    if (p->flags & CONFIG__F_LIST) {
        if (g_config.nloadmodules >= DF_MAX_LOADMODULES) {
            *custom = "too many modules to load";
            return CONFIG__BAD_CUSTOM;
        }
        g_config.loadmodules[g_config.nloadmodules++] = config__strdup(v);
    } else if ((p->flags & CONFIG__F_ACCUM) && source > 0 && source == p->last_source &&
               **(char **)p->d.storage != '\0' && *v != '\0') {
        char *joined;
        if (asprintf(&joined, "%s %s", *(char **)p->d.storage, v) < 0)
            abort();
        config__retire(*(char **)p->d.storage);
        *(char **)p->d.storage = joined;
    } else {
        config__store_string(p, v);
    }
    p->last_source = source;
    return CONFIG__OK;
}

/* Create, store the default, and add a parameter. -1 with *err on a bad descriptor. */
static int config__add(const dfm_config_t *c, const char *owner, unsigned flags,
                       const char *unsupported, const char *(*validate)(const char *), char **err)
{
    config__param_t *existing = config__find(c->name ? c->name : "");
    config__param_t *p;
    const char *custom = NULL;
    int code;

    if (c->name == NULL || c->name[0] == '\0' || (c->kind == DFM_CONF_ENUM && !c->enum_values) ||
        (c->storage == NULL && !(flags & CONFIG__F_LIST)) || c->kind > DFM_CONF_ENUM)
        return config__errf(err, "bad config parameter descriptor '%s' from '%s'",
                            c->name ? c->name : "(null)", owner);
    if (existing != NULL)
        return config__errf(err, "config parameter '%s' of '%s' is already registered by '%s'",
                            c->name, owner, existing->owner);
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        abort();
    p->d = *c;
    p->d.name = p->name = config__strdup(c->name);
    p->d.default_value = p->default_value = config__strdup(c->default_value);
    p->d.help = p->help = config__strdup(c->help);
    p->owner = config__strdup(owner);
    p->flags = flags;
    p->unsupported = unsupported;
    p->validate = validate;
    if (!(flags & CONFIG__F_LIST) &&
        (code = config__assign(p, p->d.default_value, 0, &custom)) != CONFIG__OK) {
        char *why = config__why(p, code, custom, false);
        config__errf(err, "bad default '%s' for config parameter '%s' of '%s': %s",
                     p->d.default_value, p->d.name, owner, why ? why : "");
        free(why);
        p->d.storage = NULL;
        config__free_param(p);
        return -1;
    }
    config__push_param(p);
    return 0;
}

/* config_register: add a module's parameter; see config.h. */
int config_register(const dfm_config_t *c, const char *owner, char **err)
{
    if (c == NULL)
        return config__errf(err, "no config parameter descriptor from '%s'", owner);
    return config__add(c, owner ? owner : "(unknown)", 0, NULL, NULL, err);
}

/* config_init: register the core's parameters with their defaults (idempotent until
   config_free). A failure here is a bug in the table, so it aborts. */
void config_init(void)
{
    char *err = NULL;

    if (config__inited)
        return;
    config__inited = 1;
    for (size_t i = 0; i < sizeof(config__core) / sizeof(config__core[0]); i++) {
        const config__def_t *d = &config__core[i];
        if (config__add(&d->d, "core", d->flags, d->unsupported, d->validate, &err) < 0) {
            fprintf(stderr, "config_init: %s\n", err ? err : "out of memory");
            abort();
        }
        config__params[config__nparams - 1]->normalize = d->normalize;
    }
    config_compat_register();
}

/* config_add_builtin: see config.h. */
void config_add_builtin(const dfm_config_t *d, const char *unsupported,
                        const char *(*validate)(const char *), const char *(*normalize)(const char *))
{
    char *err = NULL;

    if (config__add(d, "core", 0, unsupported, validate, &err) < 0) {
        fprintf(stderr, "config_init: %s\n", err ? err : "out of memory");
        abort();
    }
    config__params[config__nparams - 1]->normalize = normalize;
}

/* config_free: see config.h. */
void config_free(void)
{
    for (size_t i = 0; i < config__nretired; i++)
        free(config__retired[i]);
    free(config__retired);
    config__retired = NULL;
    config__nretired = config__capretired = 0;
    for (size_t i = 0; i < config__nparams; i++)
        config__free_param(config__params[i]);
    free(config__params);
    config__params = NULL;
    config__nparams = config__cap = 0;
    for (size_t i = 0; i < config__npending; i++) {
        free(config__pending[i].name);
        free(config__pending[i].value);
        free(config__pending[i].label);
    }
    free(config__pending);
    config__pending = NULL;
    config__npending = config__pending_cap = 0;
    for (int i = 0; i < g_config.nloadmodules; i++)
        free(g_config.loadmodules[i]);
    memset(&g_config, 0, sizeof(g_config));
    config__inited = 0;
    config__next_source = 1;
    free(config__file_abs);
    config__file_abs = NULL;
}

const char *df_version_string(void)
{
    return DF_VERSION;
}

/* ---------------------------------------------------------------------------------------- */
/* Applying (name, value) pairs from files, the environment and argv                        */

/* Does v parse to p's default? (Used to let unsupported parameters keep their default.) */
static bool config__is_default(const config__param_t *p, const char *v)
{
    int64_t a, b;

    if (p->d.kind == DFM_CONF_STRING)
        return strcmp(v, p->d.default_value) == 0;
    return config__parse_number(p, v, &a) == CONFIG__OK &&
           config__parse_number(p, p->d.default_value, &b) == CONFIG__OK && a == b;
}

/*
 * Apply one pair to a known parameter at start-up. value NULL means the flag was given
 * without one: "yes" for booleans, an error otherwise. label names the pair in errors
 * ("--port", "'port' at file:3", "DFLY_port"). 0 or -1 with *err.
 */
static int config__apply(config__param_t *p, const char *value, const char *label, int source,
                         char **err)
{
    const char *custom = NULL;
    char *why;
    int code;

    if (value == NULL) {
        if (p->d.kind != DFM_CONF_BOOL)
            return config__errf(err, "missing value for %s", label);
        value = "yes";
    }
    if (p->unsupported != NULL) {
        if (config__is_default(p, value))
            return 0;
        return config__errf(err, "%s: %s", label, p->unsupported);
    }
    code = config__assign(p, value, source, &custom);
    if (code == CONFIG__OK)
        return 0;
    why = config__why(p, code, custom, false);
    config__errf(err, "invalid value '%s' for %s: %s", value, label, why ? why : "");
    free(why);
    return -1;
}

static void config__push_pending(const char *name, const char *value, const char *label,
                                 const config__input_t *in)
{
    config__pair_t *pr;

    if (config__npending == config__pending_cap) {
        config__pending_cap = config__pending_cap ? 2 * config__pending_cap : 16;
        config__pending = realloc(config__pending, config__pending_cap * sizeof(*pr));
        if (config__pending == NULL)
            abort();
    }
    pr = &config__pending[config__npending++];
    pr->name = config__strdup(name);
    pr->value = value ? config__strdup(value) : NULL;
    pr->label = config__strdup(label);
    pr->origin = in->origin;
    pr->source = in->source;
}

/* Route one pair: apply it if its parameter exists, else keep it for config_apply_pending. */
static int config__feed(const char *name, const char *value, const char *label,
                        const config__input_t *in, char **err)
{
    config__param_t *p = config__find(name);

    if (p == NULL) {
        config__push_pending(name, value, label, in);
        return 0;
    }
    return config__apply(p, value, label, in->source, err);
}

/* config_apply_pending: see config.h. Unknown DFLY_ variables are ignored (the environment
   may hold unrelated ones); any other unknown name is an error. */
int config_apply_pending(char **err)
{
    int rc = 0;

    for (size_t i = 0; i < config__npending && rc == 0; i++) {
        config__pair_t *pr = &config__pending[i];
        config__param_t *p = config__find(pr->name);

        if (p != NULL)
            rc = config__apply(p, pr->value, pr->label, pr->source, err);
        else if (pr->origin == CONFIG__ARGV)
            rc = config__errf(err, "unknown flag: %s", pr->label);
        else if (pr->origin == CONFIG__FILE)
            rc = config__errf(err, "unknown config directive %s", pr->label);
    }
    for (size_t i = 0; i < config__npending; i++) {
        free(config__pending[i].name);
        free(config__pending[i].value);
        free(config__pending[i].label);
    }
    config__npending = 0;
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Files: redis.conf style ("name value...") and flagfile style ("--name=value")             */

/* A growable byte buffer for the tokenizer. */
typedef struct config__buf {
    char *p;
    size_t len, cap;
} config__buf_t;

static void config__buf_put(config__buf_t *b, char c)
{
    if (b->len + 2 > b->cap) {
        b->cap = b->cap ? 2 * b->cap : 32;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL)
            abort();
    }
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

/* Start an empty, NUL-terminated buffer. */
static void config__buf_init(config__buf_t *b)
{
    b->p = NULL;
    b->len = b->cap = 0;
    config__buf_put(b, 'x');
    b->len = 0;
    b->p[0] = '\0';
}

static int config__hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Read one escape after '\' in a double-quoted word at *s; advances *s. */
static char config__unescape(const char **s)
{
    const char *q = *s;

    if (q[0] == 'x' && config__hex(q[1]) >= 0 && config__hex(q[2]) >= 0) {
        *s = q + 3;
        return (char)(config__hex(q[1]) * 16 + config__hex(q[2]));
    }
    *s = q + 1;
    switch (q[0]) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'b': return '\b';
    case 'a': return '\a';
    default: return q[0];
    }
}

/*
 * Read one word at *s the way redis.conf does (sdssplitargs): bare, "double quoted" with
 * \n \t \xHH escapes, or 'single quoted' with \'. A closing quote must end the word.
 * Returns the word (malloc'd) and advances *s, or NULL on unbalanced quotes.
 */
static char *config__word(const char **s)
{
    config__buf_t b;
    const char *q = *s;
    char quote = 0;

    config__buf_init(&b);
    for (;;) {
        if (*q == '\0') {
            if (quote)
                goto fail;
            break;
        }
        if (!quote && (*q == ' ' || *q == '\t')) {
            break;
        } else if (!quote && (*q == '"' || *q == '\'')) {
            quote = *q++;
        } else if (quote && *q == quote) {
            q++;
            if (*q != '\0' && *q != ' ' && *q != '\t')
                goto fail;
            break;
        } else if (quote == '"' && *q == '\\' && q[1] != '\0') {
            q++;
            config__buf_put(&b, config__unescape(&q));
        } else if (quote == '\'' && q[0] == '\\' && q[1] == '\'') {
            config__buf_put(&b, '\'');
            q += 2;
        } else {
            config__buf_put(&b, *q++);
        }
    }
    *s = q;
    return b.p;
fail:
    free(b.p);
    return NULL;
}

static void config__free_words(char **words, int n)
{
    for (int i = 0; i < n; i++)
        free(words[i]);
    free(words);
}

/* Split a line into words (see config__word). Returns the count with *words a malloc'd
   array of malloc'd strings (free with config__free_words), or -1 on bad quoting. */
static int config__split(const char *line, char ***words)
{
    int n = 0;

    *words = NULL;
    for (;;) {
        char *w;
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '\0')
            return n;
        w = config__word(&line);
        if (w == NULL) {
            config__free_words(*words, n);
            *words = NULL;
            return -1;
        }
        *words = realloc(*words, (size_t)(n + 1) * sizeof(char *));
        if (*words == NULL)
            abort();
        (*words)[n++] = w;
    }
}

/* Words from..n-1 joined by single spaces; malloc'd. */
static char *config__join(char **words, int from, int n)
{
    config__buf_t b;

    config__buf_init(&b);
    for (int i = from; i < n; i++) {
        if (i > from)
            config__buf_put(&b, ' ');
        for (const char *c = words[i]; *c; c++)
            config__buf_put(&b, *c);
    }
    return b.p;
}

static int config__load_file(const char *path, int depth, char **err);

/* Handle one (name, value) from a file; "include" and "flagfile" read another file. */
static int config__file_pair(const char *name, const char *value, const char *path, int lineno,
                             int depth, const config__input_t *proto, char **err)
{
    config__input_t in = *proto;
    char *label;
    int rc;

    if (strcasecmp(name, "include") == 0 || config__name_eq(name, "flagfile")) {
        if (value == NULL || *value == '\0')
            return config__errf(err, "missing file name for '%s' at %s:%d", name, path, lineno);
        return config__load_file(value, depth + 1, err);
    }
    if (asprintf(&label, "'%s' at %s:%d", name, path, lineno) < 0)
        abort();
    in.label = label;
    rc = config__feed(name, value, label, &in, err);
    free(label);
    return rc;
}

/* A flagfile line "--name=value", "--name value" or "--name". */
static int config__dash_line(char *line, const char *path, int lineno, int depth,
                             const config__input_t *in, char **err)
{
    char *name = line + strspn(line, "-"), *value = NULL, *end;
    size_t len;

    end = name + strcspn(name, "= \t");
    if (*end != '\0') {
        value = end + 1 + (*end != '=' ? strspn(end + 1, " \t") : 0);
        *end = '\0';
        len = strlen(value);
        if (len >= 2 && (value[0] == '"' || value[0] == '\'') && value[len - 1] == value[0]) {
            value[len - 1] = '\0';
            value++;
        }
    }
    if (*name == '\0')
        return config__errf(err, "bad line at %s:%d", path, lineno);
    return config__file_pair(name, value, path, lineno, depth, in, err);
}

/* A redis.conf line "name value..." (also "name=value"). */
static int config__conf_line(const char *line, const char *path, int lineno, int depth,
                             const config__input_t *in, char **err)
{
    char **words, *value = NULL, *eq;
    int n = config__split(line, &words), rc;

    if (n <= 0)
        return config__errf(err, "unbalanced quotes at %s:%d", path, lineno);
    eq = strchr(words[0], '=');
    if (eq != NULL) {
        *eq = '\0';
        value = config__join(words, 1, n);
        if (n > 1) {
            char *v2;
            if (asprintf(&v2, "%s %s", eq + 1, value) < 0)
                abort();
            free(value);
            value = v2;
        } else {
            free(value);
            value = config__strdup(eq + 1);
        }
    } else if (n > 1) {
        value = config__join(words, 1, n);
    }
    rc = config__file_pair(words[0], value, path, lineno, depth, in, err);
    free(value);
    config__free_words(words, n);
    return rc;
}

/* Strip trailing newline/CR and leading blanks; NULL for blank and comment lines. */
static char *config__trim(char *line)
{
    size_t len = strlen(line);

    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                       line[len - 1] == '\t'))
        line[--len] = '\0';
    line += strspn(line, " \t");
    return (*line == '\0' || *line == '#') ? NULL : line;
}

/*
 * Read a config file or flagfile: each line is either "--name=value" (flagfile style) or
 * "name value..." (redis.conf style), '#' comments and blank lines skipped. Pairs are fed in
 * order; repeated lines of an accumulating parameter (save) add up within this file.
 */
static int config__load_file(const char *path, int depth, char **err)
{
    config__input_t in = {.origin = CONFIG__FILE, .source = config__next_source++};
    char *buf = NULL, *line;
    size_t cap = 0;
    int lineno = 0, rc = 0;
    FILE *f;

    if (depth > CONFIG__MAX_DEPTH)
        return config__errf(err, "config files nested too deep at '%s'", path);
    f = fopen(path, "r");
    if (f == NULL)
        return config__errf(err, "can't open config file '%s': %s", path, strerror(errno));
    while (rc == 0 && getline(&buf, &cap, f) >= 0) {
        lineno++;
        if ((line = config__trim(buf)) == NULL)
            continue;
        if (line[0] == '-')
            rc = config__dash_line(line, path, lineno, depth, &in, err);
        else
            rc = config__conf_line(line, path, lineno, depth, &in, err);
    }
    free(buf);
    fclose(f);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Environment and command line                                                              */

/* DFLY_<name>=value for every variable with that prefix (unknown ones are dropped later). */
static int config__load_env(char **err)
{
    config__input_t in = {.origin = CONFIG__ENV, .source = config__next_source++};

    for (char **e = environ; e && *e; e++) {
        char *eq = strchr(*e, '='), *name, *label;
        int rc;

        if (strncmp(*e, "DFLY_", 5) != 0 || eq == NULL || eq == *e + 5)
            continue;
        label = strndup(*e, (size_t)(eq - *e));
        if (label == NULL)
            abort();
        name = label + 5;
        in.label = label;
        rc = config__feed(name, eq + 1, label, &in, err);
        free(label);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Is this argv word a flag rather than a value? ("-1" and "-" are values.) */
static bool config__looks_like_flag(const char *a)
{
    return a[0] == '-' && a[1] != '\0' && !(a[1] >= '0' && a[1] <= '9') && a[1] != '.';
}

static bool config__is_help(const char *a)
{
    return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 || strcmp(a, "-help") == 0 ||
           strcmp(a, "--helpfull") == 0;
}

static bool config__is_version(const char *a)
{
    return strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0 || strcmp(a, "-version") == 0;
}

/*
 * Decide the value of a flag given without '=': for a boolean the next word if it is a
 * boolean, for another known parameter the next word, for an unknown (maybe a module's)
 * parameter the next word unless it looks like a flag. Advances *i when a word is taken.
 */
static const char *config__next_value(const char *name, int argc, char **argv, int *i)
{
    config__param_t *p = config__find(name);
    const char *next = *i + 1 < argc ? argv[*i + 1] : NULL;
    int64_t b;

    if (next == NULL)
        return NULL;
    if (p != NULL && p->d.kind == DFM_CONF_BOOL && config_parse_bool(next, &b) < 0)
        return NULL;
    if (p == NULL && config__looks_like_flag(next))
        return NULL;
    (*i)++;
    return next;
}

/* One argv flag at argv[*i] ("--name", "-name", "--name=value"); advances *i past it. */
static int config__argv_flag(int argc, char **argv, int *i, const config__input_t *proto,
                             char **err)
{
    const char *arg = argv[*i], *name = arg + strspn(arg, "-"), *eq = strchr(name, '=');
    config__input_t in = *proto;
    char *label, *nm;
    const char *value;
    int rc;

    if (*name == '\0' || eq == name)
        return config__errf(err, "bad flag '%s'", arg);
    label = strndup(arg, eq ? (size_t)(eq - arg) : strlen(arg));
    nm = strndup(name, eq ? (size_t)(eq - name) : strlen(name));
    if (label == NULL || nm == NULL)
        abort();
    value = eq ? eq + 1 : config__next_value(nm, argc, argv, i);
    in.label = label;
    if (config__name_eq(nm, "flagfile"))
        rc = value ? config__load_file(value, 1, err)
                   : config__errf(err, "missing value for %s", label);
    else
        rc = config__feed(nm, value, label, &in, err);
    free(label);
    free(nm);
    return rc;
}

static int config__load_argv(int argc, char **argv, char **err)
{
    config__input_t in = {.origin = CONFIG__ARGV, .source = config__next_source++};

    for (int i = 1; i < argc; i++) {
        if (i == 1 && argv[1][0] != '-')
            continue; /* the config file, already read */
        if (!config__looks_like_flag(argv[i]) || strcmp(argv[i], "--") == 0)
            return config__errf(err, "unexpected argument '%s' (only the first argument may "
                                     "be a config file)", argv[i]);
        if (config__argv_flag(argc, argv, &i, &in, err) < 0)
            return -1;
    }
    return 0;
}

static void config__remember_file(const char *path)
{
    char *abs = realpath(path, NULL);

    free(config__file_abs);
    config__file_abs = abs ? abs : config__strdup(path);
}

const char *config_file_path(void)
{
    return config__file_abs ? config__file_abs : "";
}

/* config_parse: see config.h. The config file (argv[1] if it is not a flag) comes first,
   then DFLY_ variables, then argv in order (flagfiles read where they appear). */
int config_parse(int argc, char **argv, char **err)
{
    config_init();
    for (int i = 1; i < argc; i++) {
        if (config__is_help(argv[i])) {
            config_print_help(stdout);
            return 1;
        }
        if (config__is_version(argv[i])) {
            printf("dragonfly v%s\n", df_version_string());
            return 1;
        }
    }
    if (argc > 1 && argv[1][0] != '-') {
        if (config__load_file(argv[1], 0, err) < 0)
            return -1;
        config__remember_file(argv[1]);
    }
    if (config__load_env(err) < 0)
        return -1;
    return config__load_argv(argc, argv, err);
}

/* ---------------------------------------------------------------------------------------- */
/* CONFIG GET / SET, --help                                                                  */

/* The value of p as CONFIG GET shows it; may point into buf. */
static const char *config__format(const config__param_t *p, char *buf, size_t size)
{
    int64_t v;

    if (p->d.kind == DFM_CONF_STRING) {
        const char *s = *(char *const *)p->d.storage;
        return s ? s : "";
    }
    v = *(const int64_t *)p->d.storage;
    if (p->d.kind == DFM_CONF_BOOL)
        return v ? "yes" : "no";
    if (p->d.kind == DFM_CONF_ENUM) {
        for (int64_t i = 0; p->d.enum_values[i] != NULL; i++)
            if (i == v)
                return p->d.enum_values[i];
        return "";
    }
    snprintf(buf, size, (p->flags & CONFIG__F_OCTAL) ? "%llo" : "%lld", (long long)v);
    return buf;
}

#define CONFIG__FAILED "ERR CONFIG SET failed (possibly related to argument '%s') - %s"

/* config_set: CONFIG SET one parameter; Redis's error texts (without '-') in *err. */
static int config__set_locked(const char *name, const char *value, char **err);

int config_set(const char *name, const char *value, char **err)
{
    pthread_mutex_lock(&config__lock);
    int r = config__set_locked(name, value, err);
    pthread_mutex_unlock(&config__lock);
    return r;
}

int config_is_protected(const char *name)
{
    config__param_t *p = config__find(name);
    return p && (p->flags & CONFIG__F_PROTECTED);
}

static int config__set_locked(const char *name, const char *value, char **err)
{
    config__param_t *p = config__find(name);
    const char *custom = NULL;
    char *why;
    int code;

    if (p == NULL || (p->flags & CONFIG__F_HIDDEN))
        return config__errf(err, "ERR Unknown option or number of arguments for CONFIG SET - "
                                 "'%s'", name);
    if (p->unsupported != NULL && !config__is_default(p, value))
        return config__errf(err, CONFIG__FAILED, name, p->unsupported);
    if (!p->d.mutable_at_runtime)
        return config__errf(err, CONFIG__FAILED, name, "can't set immutable config");
    if (p->unsupported != NULL)
        return 0;
    code = config__assign(p, value, -1, &custom);
    if (code == CONFIG__OK)
        return 0;
    why = config__why(p, code, custom, true);
    config__errf(err, CONFIG__FAILED, name, why ? why : "");
    free(why);
    return -1;
}

/* Name with '_' as '-', lower case, into buf (for pattern matching). */
static size_t config__dashed(const char *s, char *buf, size_t size)
{
    size_t n = 0;

    for (; *s && n + 1 < size; s++)
        buf[n++] = (char)config__fold(*s);
    buf[n] = '\0';
    return n;
}

/* config_get: see config.h. A pattern without glob characters is a name (or alias) and is
   answered under the name as asked, like Redis 7. */
static void config__get_locked(const char *pattern,
                               void (*fn)(const char *name, const char *value, void *arg),
                               void *arg);

void config_get(const char *pattern, void (*fn)(const char *name, const char *value, void *arg),
                void *arg)
{
    pthread_mutex_lock(&config__lock);
    config__get_locked(pattern, fn, arg);
    pthread_mutex_unlock(&config__lock);
}

static void config__get_locked(const char *pattern,
                               void (*fn)(const char *name, const char *value, void *arg),
                               void *arg)
{
    char buf[32], pat[256], nm[256];
    size_t plen;

    if (strpbrk(pattern, "*?[\\") == NULL) {
        config__param_t *p = config__find(pattern);
        if (p != NULL && !(p->flags & CONFIG__F_HIDDEN))
            fn(pattern, config__format(p, buf, sizeof(buf)), arg);
        return;
    }
    plen = config__dashed(pattern, pat, sizeof(pat));
    for (size_t i = 0; i < config__nparams; i++) {
        config__param_t *p = config__params[i];
        size_t nlen = config__dashed(p->d.name, nm, sizeof(nm));
        if (!(p->flags & CONFIG__F_HIDDEN) && glob_match(pat, plen, nm, nlen, 1))
            fn(p->d.name, config__format(p, buf, sizeof(buf)), arg);
    }
    for (size_t i = 0; i < sizeof(config__aliases) / sizeof(config__aliases[0]); i++) {
        config__param_t *p = config__find_exact(config__aliases[i].name);
        const char *a = config__aliases[i].alias;
        if (p && config__aliases[i].listed && glob_match(pat, plen, a, strlen(a), 1))
            fn(a, config__format(p, buf, sizeof(buf)), arg);
    }
}

static const char *config__kind_name(const config__param_t *p)
{
    static const char *const names[] = {"int", "bool", "string", "size", "enum"};
    return names[p->d.kind];
}

/* config_print_help: usage, then one line per parameter with kind, default and help. */
void config_print_help(FILE *out)
{
    fprintf(out, "Usage: dragonfly [config-file] [--flag value | --flag=value]...\n\n"
                 "'-' and '_' are interchangeable in names; DFLY_<name>=value sets one from the\n"
                 "environment. Sizes take units (100k, 512mb, 4gb); booleans yes/no, true/false.\n"
                 "Order: config file, environment, then flags (later wins).\n\n"
                 "  --flagfile FILE    read flags from FILE (--name=value or 'name value' lines)\n"
                 "  --help, --version\n\n");
    for (size_t i = 0; i < config__nparams; i++) {
        const config__param_t *p = config__params[i];
        char def[256];
        if (p->d.kind == DFM_CONF_ENUM) {
            char *list = config__join_enum(p->d.enum_values);
            snprintf(def, sizeof(def), "%s; one of %s", p->d.default_value, list);
            free(list);
        } else {
            snprintf(def, sizeof(def), "\"%s\"", p->d.default_value);
        }
        fprintf(out, "  --%-26s %s (%s, default %s)\n", p->d.name, p->d.help,
                config__kind_name(p), def);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* CONFIG REWRITE                                                                            */

/* Is this redis.conf line about parameter p? (first word, '-'/'_' and case folded) */
static config__param_t *config__line_param(const char *line)
{
    char name[128];
    size_t n = strcspn(line + strspn(line, " \t"), " \t\r\n");
    const char *w = line + strspn(line, " \t");

    if (*w == '#' || *w == '-' || n == 0 || n >= sizeof(name))
        return NULL;
    memcpy(name, w, n);
    name[n] = '\0';
    return config__find(name);
}

/* Write "name value" for p, quoting the value when it is empty or has spaces. */
static void config__write_param(FILE *f, const config__param_t *p)
{
    char buf[32];
    const char *v = config__format(p, buf, sizeof(buf));

    if (*v == '\0' || strpbrk(v, " \t\"'\\") != NULL) {
        fprintf(f, "%s \"", p->d.name);
        for (; *v; v++)
            fprintf(f, (*v == '"' || *v == '\\') ? "\\%c" : "%c", *v);
        fprintf(f, "\"\n");
        return;
    }
    fprintf(f, "%s %s\n", p->d.name, v);
}

/* Has p's current value moved away from its default? */
static bool config__changed(const config__param_t *p)
{
    char buf[32];
    int64_t d;

    if (p->d.kind == DFM_CONF_STRING)
        return strcmp(config__format(p, buf, sizeof(buf)), p->d.default_value) != 0;
    if (config__parse_number(p, p->d.default_value, &d) != CONFIG__OK)
        return true;
    return *(const int64_t *)p->d.storage != d;
}

/*
 * config_rewrite: see config.h. Lines naming a mutable parameter get its current value (the
 * first such line; repeats are dropped), other lines are kept as they are, and mutable
 * parameters that differ from their default but had no line are appended. Written to a
 * temporary file in the same directory, then renamed over the original.
 */
int config_rewrite(char **err)
{
    FILE *in, *out;
    char *tmp = NULL, *line = NULL;
    size_t cap = 0;
    bool *seen;

    if (config__file_abs == NULL)
        return config__errf(err, "ERR The server is running without a config file");
    in = fopen(config__file_abs, "r");
    if (asprintf(&tmp, "%s.rewrite.tmp", config__file_abs) < 0 || (out = fopen(tmp, "w")) == NULL) {
        config__errf(err, "ERR Rewriting config file: %s", strerror(errno));
        if (in)
            fclose(in);
        free(tmp);
        return -1;
    }
    seen = calloc(config__nparams + 1, sizeof(*seen));
    while (in && getline(&line, &cap, in) >= 0) {
        config__param_t *p = config__line_param(line);
        size_t idx = 0;
        while (p && idx < config__nparams && config__params[idx] != p)
            idx++;
        if (p == NULL || !p->d.mutable_at_runtime || (p->flags & CONFIG__F_HIDDEN) ||
            p->d.storage == NULL) {
            fputs(line, out);
            if (line[0] && line[strlen(line) - 1] != '\n')
                fputc('\n', out);
            continue;
        }
        if (!seen[idx])
            config__write_param(out, p);
        seen[idx] = true;
    }
    bool header = false;
    for (size_t i = 0; i < config__nparams; i++) {
        config__param_t *p = config__params[i];
        if (seen[i] || !p->d.mutable_at_runtime || (p->flags & CONFIG__F_HIDDEN) ||
            p->d.storage == NULL || p->unsupported != NULL || !config__changed(p))
            continue;
        if (!header)
            fputs("# Generated by CONFIG REWRITE\n", out);
        header = true;
        config__write_param(out, p);
    }
    free(seen);
    free(line);
    if (in)
        fclose(in);
    if (fclose(out) != 0 || rename(tmp, config__file_abs) != 0) {
        config__errf(err, "ERR Rewriting config file: %s", strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}
