/*
 * test_config.c: unit tests for the configuration registry (core/config.c): value parsing
 * (Redis's memtoll sizes, booleans), every way of giving a flag (argv forms, flagfiles of both
 * styles, redis.conf files including the user's example dragonfly.conf, DFLY_ variables),
 * error texts, aliases, module parameters, late (pending) parameters and CONFIG GET / SET.
 *
 * Each test runs in its own forked process, with config_init() before and config_free()
 * after, so the global registry starts fresh every time.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Not "config.h": from here that name finds autoconf's header in the build directory. */
#include "../../core/config.h"

/* The example dragonfly.conf from the user's reference, verbatim (TLS section included). */
static const char seed_conf[] =
    "# Network\n"
    "port 6379\n"
    "bind 0.0.0.0\n"
    "requirepass {{ redis_password }}\n"
    "maxclients 10000\n"
    "\n"
    "# Memory\n"
    "maxmemory 8gb\n"
    "maxmemory-policy allkeys-lru\n"
    "\n"
    "# Persistence\n"
    "dir /var/lib/dragonfly\n"
    "dbfilename dump.rdb\n"
    "save 900 1\n"
    "save 300 10\n"
    "save 60 10000\n"
    "\n"
    "# Performance\n"
    "threads 8\n"
    "cache-mode true\n"
    "\n"
    "# Logging\n"
    "loglevel info\n"
    "logfile /var/log/dragonfly/dragonfly.log\n"
    "\n"
    "# TLS (optional)\n"
    "tls-port 6380\n"
    "tls-cert-file /etc/dragonfly/cert.pem\n"
    "tls-key-file /etc/dragonfly/key.pem\n"
    "tls-ca-cert-file /etc/dragonfly/ca.pem\n";

static char *err;

static void setup(void)
{
    err = NULL;
    unsetenv("DFLY_port");
    unsetenv("DFLY_maxmemory_policy");
    config_init();
}

static void teardown(void)
{
    free(err);
    err = NULL;
    config_free();
}

/* config_parse with argv = {"dragonfly", args...} (NULL-terminated list of args). */
static int parse(const char *first, ...)
{
    char *argv[64];
    int argc = 0, rc;
    va_list ap;

    argv[argc++] = strdup("dragonfly");
    va_start(ap, first);
    for (const char *a = first; a != NULL && argc < 63; a = va_arg(ap, const char *))
        argv[argc++] = strdup(a);
    va_end(ap);
    argv[argc] = NULL;
    free(err);
    err = NULL;
    rc = config_parse(argc, argv, &err);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return rc;
}

/* Write text to a fresh temporary file; returns its malloc'd path. */
static char *write_tmp(const char *text)
{
    char *path = strdup("/tmp/test_config_XXXXXX");
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* Collects what config_get reports. */
typedef struct got {
    int n;
    char names[64][64];
    char values[64][128];
} got_t;

static void collect(const char *name, const char *value, void *arg)
{
    got_t *g = arg;

    if (g->n < 64) {
        snprintf(g->names[g->n], sizeof(g->names[0]), "%s", name);
        snprintf(g->values[g->n], sizeof(g->values[0]), "%s", value);
        g->n++;
    }
}

/* The single value CONFIG GET returns for name, or NULL. */
static const char *get1(const char *name)
{
    static got_t g;

    memset(&g, 0, sizeof(g));
    config_get(name, collect, &g);
    return g.n == 1 ? g.values[0] : NULL;
}

/* ---------------------------------------------------------------------------------------- */

START_TEST(test_size_memtoll)
{
    static const struct {
        const char *s;
        int64_t v;
    } ok[] = {{"0", 0}, {"1", 1}, {"1b", 1}, {"1B", 1}, {"1k", 1000}, {"1K", 1000},
              {"1kb", 1024}, {"1KB", 1024}, {"1kB", 1024}, {"2m", 2000000}, {"2mb", 2097152},
              {"3g", 3000000000LL}, {"3gb", 3221225472LL}, {"512mb", 536870912}, {"-1", -1},
              {"4GB", 4294967296LL}};
    static const char *const bad[] = {"", "1.5gb", "abc", "10xb", "gb", "1 gb", " 1", "+1",
                                      "1tb", "9999999999999gb", "-", "1kbb"};
    int64_t v;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ck_assert_msg(config_parse_size(ok[i].s, &v) == 0, "'%s' refused", ok[i].s);
        ck_assert_msg(v == ok[i].v, "'%s' gave %lld", ok[i].s, (long long)v);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(config_parse_size(bad[i], &v) < 0, "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(test_bool_values)
{
    static const char *const yes[] = {"yes", "YES", "true", "True", "1", "on", "ON"};
    static const char *const no[] = {"no", "No", "false", "FALSE", "0", "off"};
    int64_t v;

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        ck_assert_int_eq(config_parse_bool(yes[i], &v), 0);
        ck_assert_int_eq(v, 1);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        ck_assert_int_eq(config_parse_bool(no[i], &v), 0);
        ck_assert_int_eq(v, 0);
    }
    ck_assert_int_lt(config_parse_bool("maybe", &v), 0);
    ck_assert_int_lt(config_parse_bool("", &v), 0);
    ck_assert_int_lt(config_parse_bool("2", &v), 0);
}
END_TEST

START_TEST(test_defaults)
{
    ck_assert_int_eq(g_config.port, 6379);
    ck_assert_str_eq(g_config.bind, "");
    ck_assert_int_eq(g_config.dbnum, 16);
    ck_assert_int_eq(g_config.maxclients, 10000);
    ck_assert_int_eq(g_config.tcp_keepalive, 300);
    ck_assert_int_eq(g_config.loglevel, 3);
    ck_assert_str_eq(config_loglevels[g_config.loglevel], "notice");
    ck_assert_str_eq(config_maxmemory_policies[g_config.maxmemory_policy], "noeviction");
    ck_assert_int_eq(g_config.maxmemory_policy, 7);
    ck_assert_str_eq(g_config.dir, ".");
    ck_assert_int_eq(g_config.hz, 10);
    ck_assert_int_eq(g_config.proto_max_bulk_len, 512LL * 1024 * 1024);
    ck_assert_int_eq(g_config.client_query_buffer_limit, 1024LL * 1024 * 1024);
    ck_assert_int_eq(g_config.enable_debug_command, 2);
    ck_assert_int_eq(g_config.active_expire_enabled, 1);
    ck_assert_int_eq(g_config.daemonize, 0);
    ck_assert_int_eq(g_config.slowlog_log_slower_than, 10000);
    ck_assert_int_eq(g_config.slowlog_max_len, 128);
    ck_assert_str_eq(g_config.save, "3600 1 300 100 60 10000");
    ck_assert_str_eq(g_config.dbfilename, "dump.rdb");
    ck_assert_int_eq(g_config.cache_mode, 0);
    ck_assert_int_eq(g_config.nloadmodules, 0);
}
END_TEST

START_TEST(test_flag_forms)
{
    ck_assert_int_eq(parse("--port", "7000", NULL), 0);
    ck_assert_int_eq(g_config.port, 7000);
    ck_assert_int_eq(parse("--port=7001", NULL), 0);
    ck_assert_int_eq(g_config.port, 7001);
    ck_assert_int_eq(parse("-port", "7002", NULL), 0);
    ck_assert_int_eq(g_config.port, 7002);
    ck_assert_int_eq(parse("-port=7003", "--hz", "20", NULL), 0);
    ck_assert_int_eq(g_config.port, 7003);
    ck_assert_int_eq(g_config.hz, 20);
    ck_assert_int_eq(parse("--requirepass=", NULL), 0);
    ck_assert_str_eq(g_config.requirepass, "");
    ck_assert_int_eq(parse("--slowlog-log-slower-than", "-1", NULL), 0);
    ck_assert_int_eq(g_config.slowlog_log_slower_than, -1);
}
END_TEST

START_TEST(test_dash_underscore_case)
{
    ck_assert_int_eq(parse("--maxmemory_policy", "allkeys-lru", NULL), 0);
    ck_assert_str_eq(config_maxmemory_policies[g_config.maxmemory_policy], "allkeys-lru");
    ck_assert_int_eq(parse("--maxmemory-policy=volatile-ttl", NULL), 0);
    ck_assert_str_eq(config_maxmemory_policies[g_config.maxmemory_policy], "volatile-ttl");
    ck_assert_int_eq(parse("--MaxMemory_Policy", "ALLKEYS-LFU", "--tcp_keepalive", "60", NULL), 0);
    ck_assert_int_eq(g_config.maxmemory_policy, 3);
    ck_assert_int_eq(g_config.tcp_keepalive, 60);
    ck_assert_int_eq(parse("--num-shards", "4", NULL), 0);
    ck_assert_int_eq(g_config.num_shards, 4);
}
END_TEST

START_TEST(test_bool_flag_without_value)
{
    ck_assert_int_eq(parse("--daemonize", "--port", "1", NULL), 0);
    ck_assert_int_eq(g_config.daemonize, 1);
    ck_assert_int_eq(g_config.port, 1);
    ck_assert_int_eq(parse("--daemonize", "no", NULL), 0);
    ck_assert_int_eq(g_config.daemonize, 0);
    ck_assert_int_eq(parse("--lazyfree-lazy-user-del", NULL), 0);
    ck_assert_int_eq(g_config.lazyfree_lazy_user_del, 1);
    ck_assert_int_eq(parse("--cache-mode", "true", "--active_expire_enabled=off", NULL), 0);
    ck_assert_int_eq(g_config.cache_mode, 1);
    ck_assert_int_eq(g_config.active_expire_enabled, 0);
}
END_TEST

START_TEST(test_sizes_on_flags)
{
    ck_assert_int_eq(parse("--maxmemory", "4gb", "--proto-max-bulk-len", "1mb", NULL), 0);
    ck_assert_int_eq(g_config.maxmemory, 4LL << 30);
    ck_assert_int_eq(g_config.proto_max_bulk_len, 1 << 20);
    ck_assert_int_eq(parse("--maxmemory=100k", NULL), 0);
    ck_assert_int_eq(g_config.maxmemory, 100000);
    ck_assert_int_eq(parse("--maxmemory", "1.5gb", NULL), -1);
    ck_assert_ptr_nonnull(strstr(err, "invalid value '1.5gb' for --maxmemory"));
}
END_TEST

START_TEST(test_flagfile_dash_style)
{
    char *path = write_tmp("# a flagfile\n"
                           "--port=7100\n"
                           "\n"
                           "  --maxmemory_policy=allkeys-random\n"
                           "--daemonize\n"
                           "--maxmemory 2gb\n"
                           "--requirepass=\"with space\"\n");
    char *arg;

    ck_assert_int_ne(asprintf(&arg, "--flagfile=%s", path), -1);
    ck_assert_int_eq(parse(arg, NULL), 0);
    ck_assert_int_eq(g_config.port, 7100);
    ck_assert_str_eq(config_maxmemory_policies[g_config.maxmemory_policy], "allkeys-random");
    ck_assert_int_eq(g_config.daemonize, 1);
    ck_assert_int_eq(g_config.maxmemory, 2LL << 30);
    ck_assert_str_eq(g_config.requirepass, "with space");
    /* Flags after the flagfile win; so does the spaced form of --flagfile. */
    ck_assert_int_eq(parse("--flagfile", path, "--port", "7200", NULL), 0);
    ck_assert_int_eq(g_config.port, 7200);
    unlink(path);
    free(path);
    free(arg);
}
END_TEST

START_TEST(test_flagfile_redis_style)
{
    char *path = write_tmp("port 7300\nmaxmemory-policy volatile-lfu\nhz=50\n");
    char *arg;

    ck_assert_int_ne(asprintf(&arg, "--flagfile=%s", path), -1);
    ck_assert_int_eq(parse(arg, NULL), 0);
    ck_assert_int_eq(g_config.port, 7300);
    ck_assert_str_eq(config_maxmemory_policies[g_config.maxmemory_policy], "volatile-lfu");
    ck_assert_int_eq(g_config.hz, 50);
    unlink(path);
    free(path);
    free(arg);
}
END_TEST

/* The seed's file without its TLS section starts with every value as written. */
START_TEST(test_seed_example_conf)
{
    char *text = strdup(seed_conf), *path;

    *strstr(text, "# TLS") = '\0';
    path = write_tmp(text);
    ck_assert_int_eq(parse(path, NULL), 0);
    ck_assert_int_eq(config_apply_pending(&err), 0);
    ck_assert_int_eq(g_config.port, 6379);
    ck_assert_str_eq(g_config.bind, "0.0.0.0");
    ck_assert_str_eq(g_config.requirepass, "{{ redis_password }}");
    ck_assert_int_eq(g_config.maxclients, 10000);
    ck_assert_int_eq(g_config.maxmemory, 8LL << 30);
    ck_assert_str_eq(config_maxmemory_policies[g_config.maxmemory_policy], "allkeys-lru");
    ck_assert_str_eq(g_config.dir, "/var/lib/dragonfly");
    ck_assert_str_eq(g_config.dbfilename, "dump.rdb");
    ck_assert_str_eq(g_config.save, "900 1 300 10 60 10000");
    ck_assert_int_eq(g_config.threads, 8);
    ck_assert_int_eq(g_config.cache_mode, 1);
    ck_assert_str_eq(config_loglevels[g_config.loglevel], "info");
    ck_assert_str_eq(g_config.logfile, "/var/log/dragonfly/dragonfly.log");
    ck_assert_str_eq(get1("save"), "900 1 300 10 60 10000");
    ck_assert_str_eq(get1("maxmemory"), "8589934592");
    ck_assert_str_eq(get1("cache-mode"), "yes");
    unlink(path);
    free(path);
    free(text);
}
END_TEST

/* The seed's file verbatim, TLS section included, parses; the same file through --flagfile
   (the seed's systemd unit) too. */
START_TEST(test_seed_example_conf_tls)
{
    char *path = write_tmp(seed_conf), *arg;

    ck_assert_int_eq(parse(path, NULL), 0);
    ck_assert_int_eq(g_config.threads, 8);
    ck_assert_int_eq(g_config.tls_port, 6380);
    ck_assert_str_eq(g_config.tls_cert_file, "/etc/dragonfly/cert.pem");
    ck_assert_str_eq(g_config.tls_ca_cert_file, "/etc/dragonfly/ca.pem");
    ck_assert_int_ne(asprintf(&arg, "--flagfile=%s", path), -1);
    ck_assert_int_eq(parse(arg, NULL), 0);
    ck_assert_str_eq(g_config.tls_key_file, "/etc/dragonfly/key.pem");
    unlink(path);
    free(path);
    free(arg);
}
END_TEST

START_TEST(test_conf_file_then_argv)
{
    char *path = write_tmp("port 7400\nhz 20\n");

    ck_assert_int_eq(parse(path, "--port", "7401", NULL), 0);
    ck_assert_int_eq(g_config.port, 7401);
    ck_assert_int_eq(g_config.hz, 20);
    ck_assert_int_eq(parse(path, "extra", NULL), -1);
    ck_assert_ptr_nonnull(strstr(err, "unexpected argument 'extra'"));
    ck_assert_int_eq(parse("--port", "1", "stray", NULL), -1);
    ck_assert_ptr_nonnull(strstr(err, "unexpected argument 'stray'"));
    ck_assert_int_eq(parse("/nonexistent/dragonfly.conf", NULL), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/dragonfly.conf"));
    unlink(path);
    free(path);
}
END_TEST

START_TEST(test_conf_quoting)
{
    char *path = write_tmp("requirepass \"a b\\x41\\n\"\n"
                           "dir 'it\\'s here'\n"
                           "   # indented comment\n"
                           "bind 127.0.0.1 ::1\n"
                           "logfile \"\"\n");
    char *bad = write_tmp("port 1\nrequirepass \"unterminated\n");
    char *bad2 = write_tmp("requirepass \"x\"y\n");

    ck_assert_int_eq(parse(path, NULL), 0);
    ck_assert_str_eq(g_config.requirepass, "a bA\n");
    ck_assert_str_eq(g_config.dir, "it's here");
    ck_assert_str_eq(g_config.bind, "127.0.0.1 ::1");
    ck_assert_str_eq(g_config.logfile, "");
    ck_assert_int_eq(parse(bad, NULL), -1);
    ck_assert_ptr_nonnull(strstr(err, "unbalanced quotes"));
    ck_assert_ptr_nonnull(strstr(err, ":2"));
    ck_assert_int_eq(parse(bad2, NULL), -1);
    unlink(path);
    unlink(bad);
    unlink(bad2);
    free(path);
    free(bad);
    free(bad2);
}
END_TEST

START_TEST(test_save_accumulates)
{
    char *path = write_tmp("save 900 1\nsave 300 10\n");
    char *off = write_tmp("save 900 1\nsave \"\"\n");

    ck_assert_int_eq(parse(path, NULL), 0);
    ck_assert_str_eq(g_config.save, "900 1 300 10");
    /* argv replaces what the file said, and its own repeats add up. */
    ck_assert_int_eq(parse(path, "--save", "60 5", "--save=30 1", NULL), 0);
    ck_assert_str_eq(g_config.save, "60 5 30 1");
    ck_assert_int_eq(parse(off, NULL), 0);
    ck_assert_str_eq(g_config.save, "");
    ck_assert_int_eq(parse("--save", "900", NULL), -1);
    ck_assert_str_eq(err, "invalid value '900' for --save: Invalid save parameters");
    unlink(path);
    unlink(off);
    free(path);
    free(off);
}
END_TEST

START_TEST(test_env_vars)
{
    char *path = write_tmp("port 7500\nmaxmemory-policy volatile-lru\nhz 30\n");

    setenv("DFLY_port", "7501", 1);
    setenv("DFLY_maxmemory_policy", "allkeys-lru", 1);
    setenv("DFLY_unrelated_thing", "x", 1);
    ck_assert_int_eq(parse(path, NULL), 0);
    ck_assert_int_eq(config_apply_pending(&err), 0); /* unknown DFLY_ ignored */
    ck_assert_int_eq(g_config.port, 7501);            /* env beats file */
    ck_assert_str_eq(config_maxmemory_policies[g_config.maxmemory_policy], "allkeys-lru");
    ck_assert_int_eq(g_config.hz, 30);
    ck_assert_int_eq(parse(path, "--port", "7502", NULL), 0);
    ck_assert_int_eq(g_config.port, 7502);            /* argv beats env */
    setenv("DFLY_port", "notanumber", 1);
    ck_assert_int_eq(parse(NULL), -1);
    ck_assert_str_eq(err, "invalid value 'notanumber' for DFLY_port: not an integer");
    unlink(path);
    free(path);
}
END_TEST

START_TEST(test_unknown_flag)
{
    ck_assert_int_eq(parse("--bogus-flag", "--port", "7600", NULL), 0);
    ck_assert_int_eq(g_config.port, 7600);
    ck_assert_int_eq(config_apply_pending(&err), -1);
    ck_assert_str_eq(err, "unknown flag: --bogus-flag");
}
END_TEST

START_TEST(test_unknown_directive_in_file)
{
    char *path = write_tmp("port 1\n\n# c\nbogus-directive 12\n"), *expect;

    ck_assert_int_ne(asprintf(&expect, "unknown config directive 'bogus-directive' at %s:4", path),
                     -1);
    ck_assert_int_eq(parse(path, NULL), 0);
    ck_assert_int_eq(config_apply_pending(&err), -1);
    ck_assert_str_eq(err, expect);
    unlink(path);
    free(path);
    free(expect);
}
END_TEST

START_TEST(test_bad_values)
{
    ck_assert_int_eq(parse("--port", "abc", NULL), -1);
    ck_assert_str_eq(err, "invalid value 'abc' for --port: not an integer");
    ck_assert_int_eq(parse("--port=70000", NULL), -1);
    ck_assert_str_eq(err, "invalid value '70000' for --port: must be between 0 and 65535");
    ck_assert_int_eq(parse("--daemonize=maybe", NULL), -1);
    ck_assert_ptr_nonnull(strstr(err, "invalid value 'maybe' for --daemonize: not a boolean"));
    ck_assert_int_eq(parse("--loglevel", "loud", NULL), -1);
    ck_assert_str_eq(err, "invalid value 'loud' for --loglevel: must be one of: debug, verbose, "
                          "info, notice, warning, error");
    ck_assert_int_eq(parse("--hz", "0", NULL), -1);
    ck_assert_int_eq(parse("--dbfilename", "a/b.rdb", NULL), -1);
    ck_assert_ptr_nonnull(strstr(err, "can't be a path"));
    ck_assert_int_eq(parse("--port", NULL), -1);
    ck_assert_str_eq(err, "missing value for --port");
}
END_TEST

START_TEST(test_unsupported_features)
{
    ck_assert_int_eq(parse("--tls-port", "6380", "--tls_cert_file=/x.pem", NULL), 0);
    ck_assert_int_eq(parse("--tls-auth-clients", "maybe", NULL), -1);
    ck_assert_int_eq(parse("--replicaof", "master.example.com", NULL), -1);
    ck_assert_ptr_nonnull(strstr(err, "replicaof takes <host> <port>"));
    ck_assert_int_eq(parse("--replicaof", "master.example.com 6379", NULL), 0);
    ck_assert_str_eq(g_config.replicaof, "master.example.com 6379");
    ck_assert_int_eq(parse("--cluster_mode=emulated", NULL), 0);
    ck_assert_int_eq(g_config.cluster_mode, 1);
    ck_assert_int_eq(parse("--cluster_mode=multi", NULL), -1);
    ck_assert_int_eq(parse("--appendonly", "yes", NULL), 0);
    ck_assert_int_eq(g_config.appendonly, 1);
    ck_assert_int_eq(parse("--appendfilename", "dir/a.aof", NULL), -1);
    ck_assert_ptr_nonnull(strstr(err, "appendfilename can't be a path, just a filename"));
    ck_assert_int_eq(parse("--appenddirname", "../x", NULL), -1);
    ck_assert_int_eq(parse("--appendfsync", "sometimes", NULL), -1);
    /* Their defaults are accepted, so redis.conf files that spell them out still work. */
    ck_assert_int_eq(parse("--appendonly", "no", "--tls-port", "0", NULL), 0);
    ck_assert_str_eq(get1("tls-port"), "0");
    ck_assert_str_eq(get1("appendonly"), "no");
}
END_TEST

/* metrics-port: a port read at start (the metrics listener), refused by CONFIG SET. */
START_TEST(test_metrics_port)
{
    ck_assert_int_eq(parse("--metrics-port", "6378", NULL), 0);
    ck_assert_int_eq(g_config.metrics_port, 6378);
    ck_assert_str_eq(get1("metrics-port"), "6378");
    ck_assert_int_eq(parse("--metrics_port=70000", NULL), -1);
    ck_assert_ptr_nonnull(strstr(err, "metrics_port"));
}
END_TEST

START_TEST(test_aliases)
{
    ck_assert_int_eq(parse("--proactor_threads", "4", NULL), 0);
    ck_assert_int_eq(g_config.threads, 4);
    ck_assert_int_eq(parse("--proactor-threads=3", NULL), 0);
    ck_assert_int_eq(g_config.threads, 3);
    ck_assert_int_eq(parse("--threads", "2", "--dbnum", "5", NULL), 0);
    ck_assert_int_eq(g_config.threads, 2);
    ck_assert_int_eq(g_config.dbnum, 5);
    ck_assert_int_eq(parse("--databases=7", NULL), 0);
    ck_assert_int_eq(g_config.dbnum, 7);
    ck_assert_str_eq(get1("dbnum"), "7");
    ck_assert_str_eq(get1("proactor_threads"), "2");
}
END_TEST

START_TEST(test_loadmodule_repeatable)
{
    char *path = write_tmp("loadmodule /m/a.so\nloadmodule /m/b.so x 'y z'\n");

    ck_assert_int_eq(parse(path, "--loadmodule", "/m/c.so", "--loadmodule=/m/d.so 1", NULL), 0);
    ck_assert_int_eq(g_config.nloadmodules, 4);
    ck_assert_str_eq(g_config.loadmodules[0], "/m/a.so");
    ck_assert_str_eq(g_config.loadmodules[1], "/m/b.so x y z");
    ck_assert_str_eq(g_config.loadmodules[2], "/m/c.so");
    ck_assert_str_eq(g_config.loadmodules[3], "/m/d.so 1");
    ck_assert_ptr_null(get1("loadmodule"));
    unlink(path);
    free(path);
}
END_TEST

static const char *const colors[] = {"red", "green", "blue", NULL};
static int64_t mod_int, mod_bool, mod_size, mod_enum;
static char *mod_str;

static void register_mod_params(void)
{
    const dfm_config_t params[] = {
        {.name = "mymod-port", .kind = DFM_CONF_INT, .default_value = "11211", .min = 0,
         .max = 65535, .storage = &mod_int, .help = "port", .mutable_at_runtime = 0},
        {.name = "mymod_flag", .kind = DFM_CONF_BOOL, .default_value = "yes", .storage = &mod_bool,
         .mutable_at_runtime = 1},
        {.name = "mymod-name", .kind = DFM_CONF_STRING, .default_value = "hello",
         .storage = &mod_str, .mutable_at_runtime = 1},
        {.name = "mymod-mem", .kind = DFM_CONF_SIZE, .default_value = "64mb", .storage = &mod_size,
         .mutable_at_runtime = 1},
        {.name = "mymod-color", .kind = DFM_CONF_ENUM, .default_value = "green",
         .enum_values = colors, .storage = &mod_enum, .mutable_at_runtime = 1},
    };

    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        ck_assert_int_eq(config_register(&params[i], "mymod", &err), 0);
    }
}

START_TEST(test_module_register)
{
    dfm_config_t dup = {.name = "mymod_port", .kind = DFM_CONF_INT, .default_value = "1",
                        .storage = &mod_int};
    dfm_config_t core_dup = {.name = "PORT", .kind = DFM_CONF_INT, .default_value = "1",
                             .storage = &mod_int};
    dfm_config_t bad_default = {.name = "other", .kind = DFM_CONF_INT, .default_value = "x",
                                .storage = &mod_int};

    register_mod_params();
    ck_assert_int_eq(mod_int, 11211);
    ck_assert_int_eq(mod_bool, 1);
    ck_assert_str_eq(mod_str, "hello");
    ck_assert_int_eq(mod_size, 64 << 20);
    ck_assert_int_eq(mod_enum, 1);
    ck_assert_int_eq(config_register(&dup, "othermod", &err), -1);
    ck_assert_str_eq(err, "config parameter 'mymod_port' of 'othermod' is already registered "
                          "by 'mymod'");
    free(err);
    err = NULL;
    ck_assert_int_eq(config_register(&core_dup, "othermod", &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "already registered by 'core'"));
    free(err);
    err = NULL;
    ck_assert_int_eq(config_register(&bad_default, "othermod", &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "bad default"));
    ck_assert_int_eq(mod_int, 11211);
}
END_TEST

START_TEST(test_apply_pending_late_params)
{
    char *path = write_tmp("mymod-name \"from file\"\nmymod-mem 1gb\n");

    ck_assert_int_eq(parse(path, "--mymod_port", "11311", "--mymod-flag", "--mymod-color=blue",
                           NULL), 0);
    ck_assert_int_eq(config_apply_pending(&err), -1); /* not registered: unknown */
    ck_assert_int_eq(parse(path, "--mymod_port", "11311", "--mymod-flag", "--mymod-color=blue",
                           NULL), 0);
    register_mod_params();
    ck_assert_int_eq(mod_int, 11211);
    ck_assert_int_eq(config_apply_pending(&err), 0);
    ck_assert_int_eq(mod_int, 11311);
    ck_assert_int_eq(mod_bool, 1);
    ck_assert_str_eq(mod_str, "from file");
    ck_assert_int_eq(mod_size, 1LL << 30);
    ck_assert_int_eq(mod_enum, 2);
    ck_assert_int_eq(parse("--mymod-port", "99999", NULL), -1);
    ck_assert_str_eq(err, "invalid value '99999' for --mymod-port: must be between 0 and 65535");
    unlink(path);
    free(path);
}
END_TEST

START_TEST(test_config_set)
{
    ck_assert_int_eq(config_set("maxmemory", "1gb", &err), 0);
    ck_assert_int_eq(g_config.maxmemory, 1LL << 30);
    ck_assert_int_eq(config_set("MAXMEMORY-POLICY", "allkeys-lru", &err), 0);
    ck_assert_int_eq(g_config.maxmemory_policy, 1);
    ck_assert_int_eq(config_set("lazyfree-lazy-user-del", "yes", &err), 0);
    ck_assert_int_eq(g_config.lazyfree_lazy_user_del, 1);
    ck_assert_int_eq(config_set("requirepass", "pw", &err), 0);
    ck_assert_str_eq(g_config.requirepass, "pw");
    ck_assert_int_eq(config_set("save", "10 1", &err), 0);
    ck_assert_int_eq(config_set("save", "20 2", &err), 0);
    ck_assert_str_eq(g_config.save, "20 2");
}
END_TEST

/* notify-keyspace-events is stored in Redis's normal form (checked with redis-server 7.0). */
START_TEST(test_notify_keyspace_events)
{
    static const struct {
        const char *in, *out;
    } cases[] = {{"KEA", "AKE"}, {"Elg", "glE"},   {"$szK", "$szK"}, {"KEAmn", "AKEm"},
                 {"Kd", "dK"},   {"", ""},         {"g$lshzxetdK", "AK"}, {"xeE", "xeE"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_int_eq(config_set("notify-keyspace-events", cases[i].in, &err), 0);
        ck_assert_str_eq(g_config.notify_keyspace_events, cases[i].out);
    }
    ck_assert_int_eq(config_set("notify-keyspace-events", "KQ", &err), -1);
    ck_assert_str_eq(err, "ERR CONFIG SET failed (possibly related to argument "
                          "'notify-keyspace-events') - Invalid event class character. Use "
                          "'Ag$lshzxeKEtmdn'.");
    ck_assert_str_eq(g_config.notify_keyspace_events, "xeE");
}
END_TEST

START_TEST(test_config_set_errors)
{
    static const struct {
        const char *name, *value, *err;
    } cases[] = {
        {"bogus", "1", "ERR Unknown option or number of arguments for CONFIG SET - 'bogus'"},
        {"loadmodule", "/x.so", "ERR Unknown option or number of arguments for CONFIG SET - "
                                "'loadmodule'"},
        {"databases", "3", "ERR CONFIG SET failed (possibly related to argument 'databases') - "
                           "can't set immutable config"},
        {"port", "7000", "ERR CONFIG SET failed (possibly related to argument 'port') - can't "
                         "set immutable config"},
        {"hz", "abc", "ERR CONFIG SET failed (possibly related to argument 'hz') - argument "
                      "couldn't be parsed into an integer"},
        {"maxmemory", "1.5gb", "ERR CONFIG SET failed (possibly related to argument 'maxmemory') "
                               "- argument must be a memory value"},
        {"lazyfree-lazy-user-del", "maybe", "ERR CONFIG SET failed (possibly related to argument "
                                            "'lazyfree-lazy-user-del') - argument must be 'yes' "
                                            "or 'no'"},
        {"maxmemory-policy", "foo", "ERR CONFIG SET failed (possibly related to argument "
                                    "'maxmemory-policy') - argument(s) must be one of the "
                                    "following: volatile-lru, allkeys-lru, volatile-lfu, "
                                    "allkeys-lfu, volatile-random, allkeys-random, volatile-ttl, "
                                    "noeviction"},
        {"timeout", "-1", "ERR CONFIG SET failed (possibly related to argument 'timeout') - "
                          "argument must be between 0 and 2147483647 inclusive"},
        {"save", "900 1 300", "ERR CONFIG SET failed (possibly related to argument 'save') - "
                              "Invalid save parameters"},
        {"tls-port", "6380", "ERR CONFIG SET failed (possibly related to argument 'tls-port') - "
                             "can't set immutable config"},
        {"metrics-port", "6378", "ERR CONFIG SET failed (possibly related to argument "
                                 "'metrics-port') - can't set immutable config"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_int_eq(config_set(cases[i].name, cases[i].value, &err), -1);
        ck_assert_str_eq(err, cases[i].err);
        free(err);
        err = NULL;
    }
    ck_assert_int_eq(g_config.hz, 10);
    ck_assert_str_eq(g_config.save, "3600 1 300 100 60 10000");
}
END_TEST

START_TEST(test_config_get)
{
    got_t g;

    memset(&g, 0, sizeof(g));
    config_get("maxmemory*", collect, &g); /* with Redis's maxmemory-samples, -clients... */
    ck_assert_int_eq(g.n, 5);
    ck_assert_str_eq(g.names[0], "maxmemory");
    ck_assert_str_eq(g.values[0], "0");
    ck_assert_str_eq(g.names[1], "maxmemory-policy");
    ck_assert_str_eq(g.values[1], "noeviction");
    ck_assert_str_eq(get1("proto-max-bulk-len"), "536870912");
    ck_assert_str_eq(get1("active-expire-enabled"), "yes");
    ck_assert_str_eq(get1("daemonize"), "no");
    ck_assert_str_eq(get1("enable-debug-command"), "local");
    ck_assert_str_eq(get1("save"), "3600 1 300 100 60 10000");
    ck_assert_str_eq(get1("bind"), "");
    ck_assert_ptr_null(get1("no-such-parameter"));
    /* An exact name is answered under the name as asked, like Redis. */
    memset(&g, 0, sizeof(g));
    config_get("MAXMEMORY", collect, &g);
    ck_assert_int_eq(g.n, 1);
    ck_assert_str_eq(g.names[0], "MAXMEMORY");
    /* Patterns ignore case and treat '_' as '-'. */
    memset(&g, 0, sizeof(g));
    config_get("SLOWLOG_*", collect, &g);
    ck_assert_int_eq(g.n, 2);
    memset(&g, 0, sizeof(g));
    config_get("*", collect, &g);
    ck_assert_int_ge(g.n, 40);
}
END_TEST

START_TEST(test_octal_and_range)
{
    ck_assert_int_eq(parse("--unixsocketperm", "700", NULL), 0);
    ck_assert_int_eq(g_config.unixsocketperm, 0700);
    ck_assert_str_eq(get1("unixsocketperm"), "700");
    ck_assert_int_eq(parse("--unixsocketperm", "800", NULL), -1);
    ck_assert_int_eq(parse("--proto-max-bulk-len", "1000", NULL), -1);
    ck_assert_int_eq(parse("--maxmemory", "-5", NULL), -1);
}
END_TEST

START_TEST(test_include_and_nested_flagfile)
{
    char *inner = write_tmp("port 7700\n--hz=40\n"), *outer_text, *outer;

    ck_assert_int_ne(asprintf(&outer_text, "include %s\nmaxclients 50\n", inner), -1);
    outer = write_tmp(outer_text);
    ck_assert_int_eq(parse(outer, NULL), 0);
    ck_assert_int_eq(g_config.port, 7700);
    ck_assert_int_eq(g_config.hz, 40);
    ck_assert_int_eq(g_config.maxclients, 50);
    unlink(inner);
    unlink(outer);
    free(inner);
    free(outer);
    free(outer_text);
}
END_TEST

START_TEST(test_help_and_version)
{
    int saved = dup(STDOUT_FILENO), rc1, rc2, rc3;

    fflush(stdout);
    ck_assert_ptr_nonnull(freopen("/dev/null", "w", stdout));
    rc1 = parse("--port", "1", "--help", NULL);
    rc2 = parse("-h", NULL);
    rc3 = parse("--version", NULL);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    ck_assert_int_eq(rc1, 1);
    ck_assert_int_eq(rc2, 1);
    ck_assert_int_eq(rc3, 1);
    ck_assert_int_eq(g_config.port, 6379); /* nothing applied after --help */
    ck_assert_str_eq(df_version_string(), "0.1.0");
}
END_TEST

START_TEST(test_help_lists_everything)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    config_print_help(f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "--port"));
    ck_assert_ptr_nonnull(strstr(buf, "6379"));
    ck_assert_ptr_nonnull(strstr(buf, "--maxmemory-policy"));
    ck_assert_ptr_nonnull(strstr(buf, "noeviction"));
    ck_assert_ptr_nonnull(strstr(buf, "--flagfile"));
    ck_assert_ptr_nonnull(strstr(buf, "--appendonly"));
    ck_assert_ptr_nonnull(strstr(buf, "Redis 7 multi-part AOF"));
    free(buf);
}
END_TEST

START_TEST(test_free_and_reinit)
{
    ck_assert_int_eq(parse("--port", "1234", "--requirepass", "x", "--loadmodule", "/a.so", NULL),
                     0);
    config_free();
    ck_assert_ptr_null(g_config.requirepass);
    ck_assert_int_eq(g_config.nloadmodules, 0);
    config_init();
    ck_assert_int_eq(g_config.port, 6379);
    ck_assert_str_eq(g_config.requirepass, "");
    register_mod_params(); /* module names are free again */
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_size_memtoll);
    tcase_add_test(tc, test_bool_values);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_flag_forms);
    tcase_add_test(tc, test_dash_underscore_case);
    tcase_add_test(tc, test_bool_flag_without_value);
    tcase_add_test(tc, test_sizes_on_flags);
    tcase_add_test(tc, test_flagfile_dash_style);
    tcase_add_test(tc, test_flagfile_redis_style);
    tcase_add_test(tc, test_seed_example_conf);
    tcase_add_test(tc, test_seed_example_conf_tls);
    tcase_add_test(tc, test_conf_file_then_argv);
    tcase_add_test(tc, test_conf_quoting);
    tcase_add_test(tc, test_save_accumulates);
    tcase_add_test(tc, test_env_vars);
    tcase_add_test(tc, test_unknown_flag);
    tcase_add_test(tc, test_unknown_directive_in_file);
    tcase_add_test(tc, test_bad_values);
    tcase_add_test(tc, test_unsupported_features);
    tcase_add_test(tc, test_metrics_port);
    tcase_add_test(tc, test_aliases);
    tcase_add_test(tc, test_loadmodule_repeatable);
    tcase_add_test(tc, test_module_register);
    tcase_add_test(tc, test_apply_pending_late_params);
    tcase_add_test(tc, test_config_set);
    tcase_add_test(tc, test_config_set_errors);
    tcase_add_test(tc, test_notify_keyspace_events);
    tcase_add_test(tc, test_config_get);
    tcase_add_test(tc, test_octal_and_range);
    tcase_add_test(tc, test_include_and_nested_flagfile);
    tcase_add_test(tc, test_help_and_version);
    tcase_add_test(tc, test_help_lists_everything);
    tcase_add_test(tc, test_free_and_reinit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
