/*
 * test_core.c: unit tests for the core's keyspace commands (core/cmd_scan.c, cmd_keys.c,
 * cmd_expire.c) without threads or sockets.
 *
 * The commands are registered as the server does (commands_register_core), then run the way
 * the transaction engine runs them: a multi command's phases go shard after shard in
 * ascending order, then its reply; a single-key handler runs with its key's shard. Replies
 * land in an rbuf and are read back with a tiny RESP2 reader. Three shards, so cross-shard
 * RENAME and SCAN really cross shards.
 */
#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cmdtab.h"
#include "config.h"
#include "db.h"
#include "dispatch.h"
#include "reply.h"
#include "table.h"

/* Defined in core/cmd_scan.c (pure helpers exported for these tests). */
uint64_t scan_cursor_make(int shard, uint64_t table_cursor);
int scan_cursor_shard(uint64_t cursor);
uint64_t scan_cursor_table(uint64_t cursor);
int scan_parse_cursor(const char *p, size_t len, uint64_t *out);

#define NSHARDS 3
#define MAX_ARGS 16

static void setup(void) {
    config_init();
    table_set_seed(0x5eed);
    db_init_shards(NSHARDS, 1, (int)g_config.dbnum);
    commands_register_core();
    dispatch_freeze();
}

static void teardown(void) { db_free_shards(); }

/* ---------------------------------------------------------------------------------------- */
/* Running commands                                                                           */

static rbuf_t out;

/* Run one command (NULL-terminated words) in db 0; the reply is left in `out`. */
static const char *run(const char *name, ...) {
    dfm_str_t argv[MAX_ARGS];
    int argc = 0;
    va_list ap;
    va_start(ap, name);
    for (const char *w = name; w && argc < MAX_ARGS; w = va_arg(ap, const char *)) {
        argv[argc].ptr = w;
        argv[argc++].len = strlen(w);
    }
    va_end(ap);
    const cmd_t *c = dispatch_lookup(argv[0].ptr, argv[0].len);
    ck_assert_ptr_nonnull(c);
    if (c->nsubs && argc > 1) c = dispatch_lookup_sub(c, argv[1].ptr, argv[1].len);
    ck_assert_ptr_nonnull(c);
    rbuf_free(&out);
    dfm_ctx_t ctx = {.out = &out, .resp = 2, .db = 0, .cmd = c};
    if (c->multi) {
        void *state = NULL;
        int stop = 0;
        for (int p = 0; p < c->multi->nphases && !stop; p++) {
            for (int s = 0; s < NSHARDS && !stop; s++) {
                ctx.shard = &g_shards[s];
                stop = c->multi->phase(&ctx, p, &state, argc, argv, NULL, 0) < 0;
            }
        }
        ctx.shard = NULL;
        c->multi->reply(&ctx, &state, argc, argv);
    } else {
        const dfm_str_t *k = &argv[c->first_key > 0 ? c->first_key : 1];
        ctx.shard = &g_shards[db_shard_of(k->ptr, k->len)];
        c->handler(&ctx, argc, argv);
    }
    rbuf_append(&out, "", 1); /* NUL for string compares */
    out.len--;
    return out.data;
}

/* Parse a RESP2 integer reply. */
static long long reply_num(void) {
    ck_assert_msg(out.len > 0 && out.data[0] == ':', "not an integer: %s", out.data);
    return strtoll(out.data + 1, NULL, 10);
}

static void put(const char *key, const char *val, int64_t expire_ms) {
    shard_t *s = &g_shards[db_shard_of(key, strlen(key))];
    db_set_entry(s, 0, db_entry_new_str(key, strlen(key), val, strlen(val), expire_ms));
}

static entry_t *get(int db, const char *key) {
    shard_t *s = &g_shards[db_shard_of(key, strlen(key))];
    table_slot_t *slot = db_find(s, db, key, strlen(key));
    return slot ? slot_entry(*slot) : NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* SCAN cursors                                                                               */

START_TEST(test_cursor_roundtrip) {
    const uint64_t tcurs[] = {0, 1, 2, 63, 64, 12345, (1ull << 38) + 1};
    for (size_t i = 0; i < sizeof tcurs / sizeof tcurs[0]; i++) {
        for (int sh = 0; sh < 1024; sh += 341) {
            uint64_t c = scan_cursor_make(sh, tcurs[i]);
            ck_assert_int_eq(scan_cursor_shard(c), sh);
            ck_assert_uint_eq(scan_cursor_table(c), tcurs[i]);
            ck_assert_uint_lt(c, 1ull << 63);
        }
    }
    ck_assert_uint_eq(scan_cursor_make(0, 0), 0); /* 0 starts */
}
END_TEST

START_TEST(test_cursor_parse) {
    uint64_t c;
    ck_assert_int_eq(scan_parse_cursor("0", 1, &c), 0);
    ck_assert_uint_eq(c, 0);
    ck_assert_int_eq(scan_parse_cursor("18446744073709551615", 20, &c), 0);
    ck_assert_uint_eq(c, UINT64_MAX);
    ck_assert_int_eq(scan_parse_cursor("-1", 2, &c), 0); /* strtoul wraps, as in Redis */
    ck_assert_uint_eq(c, UINT64_MAX);
    ck_assert_int_eq(scan_parse_cursor("", 0, &c), 0);
    ck_assert_uint_eq(c, 0);
    ck_assert_int_eq(scan_parse_cursor("18446744073709551616", 20, &c), -1);
    ck_assert_int_eq(scan_parse_cursor("abc", 3, &c), -1);
    ck_assert_int_eq(scan_parse_cursor("1.5", 3, &c), -1);
    ck_assert_int_eq(scan_parse_cursor(" 1", 2, &c), -1);
    ck_assert_int_eq(scan_parse_cursor("+", 1, &c), -1);
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* SCAN                                                                                       */

/* One SCAN call; marks seen[i] for every "k<i>" key returned; returns the next cursor. */
static uint64_t scan_once(uint64_t cursor, const char *count, unsigned char *seen, size_t nseen) {
    char cur[32];
    snprintf(cur, sizeof cur, "%llu", (unsigned long long)cursor);
    const char *p = run("SCAN", cur, "COUNT", count, NULL);
    ck_assert_msg(strncmp(p, "*2\r\n$", 5) == 0, "bad reply %s", p);
    p = strchr(p + 5, '\n') + 1;
    uint64_t next = strtoull(p, NULL, 10);
    p = strchr(p, '\n') + 1;
    ck_assert(*p == '*');
    long n = strtol(p + 1, NULL, 10);
    p = strchr(p, '\n') + 1;
    for (long i = 0; i < n; i++) {
        long len = strtol(p + 1, NULL, 10);
        p = strchr(p, '\n') + 1;
        if (p[0] == 'k') {
            size_t idx = strtoul(p + 1, NULL, 10);
            if (idx < nseen) seen[idx] = 1;
        }
        p += len + 2;
    }
    return next;
}

START_TEST(test_scan_all_shards) {
    enum { N = 3000 };
    char key[32];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "k%d", i);
        put(key, "v", -1);
    }
    for (int s = 0; s < NSHARDS; s++) ck_assert_uint_gt(db_size(&g_shards[s], 0), 0);
    unsigned char *seen = calloc(N, 1);
    uint64_t cursor = 0;
    int calls = 0;
    do {
        cursor = scan_once(cursor, "7", seen, N);
        calls++;
    } while (cursor && calls < 100000);
    ck_assert_uint_eq(cursor, 0);
    ck_assert_int_gt(calls, NSHARDS);
    for (int i = 0; i < N; i++) ck_assert_msg(seen[i], "k%d never returned", i);
    free(seen);
}
END_TEST

/* Keys present for the whole scan are returned even while the tables grow in between. */
START_TEST(test_scan_under_growth) {
    enum { N = 2000, EXTRA = 40000 };
    char key[32];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "k%d", i);
        put(key, "v", -1);
    }
    unsigned char *seen = calloc(N, 1);
    uint64_t cursor = 0;
    int extra = 0;
    do {
        cursor = scan_once(cursor, "5", seen, N);
        for (int j = 0; j < 200 && extra < EXTRA; j++, extra++) {
            snprintf(key, sizeof key, "x%d", extra);
            put(key, "v", -1);
        }
    } while (cursor);
    for (int i = 0; i < N; i++) ck_assert_msg(seen[i], "k%d never returned", i);
    free(seen);
}
END_TEST

START_TEST(test_scan_errors_and_expired) {
    ck_assert_str_eq(run("SCAN", "abc", NULL), "-ERR invalid cursor\r\n");
    ck_assert_str_eq(run("SCAN", "0", "COUNT", "0", NULL), "-ERR syntax error\r\n");
    ck_assert_str_eq(run("SCAN", "0", "COUNT", NULL), "-ERR syntax error\r\n");
    put("dead", "v", 1); /* expired long ago */
    put("live", "v", -1);
    ck_assert_str_eq(run("SCAN", "0", "COUNT", "1000", NULL), "*2\r\n$1\r\n0\r\n*1\r\n$4\r\nlive\r\n");
    ck_assert_str_eq(run("SCAN", "0", "MATCH", "l*", "TYPE", "STRING", "COUNT", "1000", NULL),
                     "*2\r\n$1\r\n0\r\n*1\r\n$4\r\nlive\r\n");
    ck_assert_str_eq(run("SCAN", "0", "TYPE", "list", "COUNT", "1000", NULL), "*2\r\n$1\r\n0\r\n*0\r\n");
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* RENAME / COPY / MOVE across shards                                                         */

/* Two key names that live on different shards. */
static void two_shards(char *a, char *b, size_t cap) {
    snprintf(a, cap, "src");
    for (int i = 0;; i++) {
        snprintf(b, cap, "dst%d", i);
        if (db_shard_of(a, strlen(a)) != db_shard_of(b, strlen(b))) return;
    }
}

START_TEST(test_rename_across_shards) {
    char a[16], b[16];
    two_shards(a, b, sizeof a);
    int64_t at = 4102444800000; /* 2100-01-01 */
    put(a, "hello", at);
    put(b, "old", -1);
    ck_assert_str_eq(run("RENAMENX", a, b, NULL), ":0\r\n");
    ck_assert_str_eq(run("RENAME", a, b, NULL), "+OK\r\n");
    ck_assert_ptr_null(get(0, a));
    entry_t *e = get(0, b);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(entry_expire(e), at);
    ck_assert_int_eq((int)e->vlen, 5);
    ck_assert(memcmp(entry_cval(e), "hello", 5) == 0);
    ck_assert_uint_eq(g_shards[db_shard_of(b, strlen(b))].dbs[0].nexpires, 1);
    ck_assert_uint_eq(g_shards[db_shard_of(a, strlen(a))].dbs[0].nexpires, 0);
    ck_assert_str_eq(run("RENAME", a, b, NULL), "-ERR no such key\r\n");
    ck_assert_str_eq(run("RENAMENX", b, a, NULL), ":1\r\n");
    ck_assert_str_eq(run("RENAME", a, a, NULL), "+OK\r\n");
}
END_TEST

START_TEST(test_copy_and_move) {
    char a[16], b[16];
    two_shards(a, b, sizeof a);
    put(a, "12345", -1);
    ck_assert_str_eq(run("COPY", a, b, NULL), ":1\r\n");
    ck_assert_str_eq(run("COPY", a, b, NULL), ":0\r\n");
    ck_assert_str_eq(run("COPY", a, b, "REPLACE", NULL), ":1\r\n");
    ck_assert_str_eq(run("COPY", a, a, NULL), "-ERR source and destination objects are the same\r\n");
    ck_assert_str_eq(run("COPY", a, b, "DB", "99", NULL), "-ERR DB index is out of range\r\n");
    ck_assert_str_eq(run("COPY", a, b, "DB", "3", NULL), ":1\r\n");
    ck_assert_ptr_nonnull(get(3, b));
    ck_assert_str_eq(run("OBJECT", "ENCODING", b, NULL), "$3\r\nint\r\n");
    ck_assert_str_eq(run("MOVE", a, "2", NULL), ":1\r\n");
    ck_assert_ptr_null(get(0, a));
    ck_assert_ptr_nonnull(get(2, a));
    ck_assert_str_eq(run("DEL", a, b, b, "nokey", NULL), ":1\r\n");
    ck_assert_str_eq(run("EXISTS", a, b, NULL), ":0\r\n");
}
END_TEST

START_TEST(test_swapdb_and_dbsize) {
    put("a", "1", -1);
    put("b", "1", -1);
    ck_assert_str_eq(run("SWAPDB", "0", "5", NULL), "+OK\r\n");
    ck_assert_ptr_null(get(0, "a"));
    ck_assert_ptr_nonnull(get(5, "a"));
    ck_assert_str_eq(run("SWAPDB", "0", "x", NULL), "-ERR invalid second DB index\r\n");
    ck_assert_str_eq(run("RANDOMKEY", NULL), "$-1\r\n");
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* EXPIRE family                                                                              */

START_TEST(test_expire_family) {
    put("k", "v", -1);
    ck_assert_str_eq(run("TTL", "k", NULL), ":-1\r\n");
    ck_assert_str_eq(run("EXPIRE", "k", "100", "XX", NULL), ":0\r\n");
    ck_assert_str_eq(run("EXPIRE", "k", "100", "NX", NULL), ":1\r\n");
    run("TTL", "k", NULL);
    ck_assert(reply_num() == 100 || reply_num() == 99);
    ck_assert_str_eq(run("EXPIRE", "k", "50", "GT", NULL), ":0\r\n");
    ck_assert_str_eq(run("EXPIRE", "k", "9223372036854775", NULL),
                     "-ERR invalid expire time in 'expire' command\r\n");
    ck_assert_str_eq(run("PEXPIREAT", "k", "4102444800000", NULL), ":1\r\n");
    ck_assert_str_eq(run("PEXPIRETIME", "k", NULL), ":4102444800000\r\n");
    ck_assert_str_eq(run("EXPIRETIME", "k", NULL), ":4102444800\r\n");
    ck_assert_str_eq(run("PERSIST", "k", NULL), ":1\r\n");
    ck_assert_str_eq(run("PERSIST", "k", NULL), ":0\r\n");
    ck_assert_str_eq(run("EXPIRE", "k", "-1", NULL), ":1\r\n");
    ck_assert_ptr_null(get(0, "k"));
    ck_assert_str_eq(run("TTL", "k", NULL), ":-2\r\n");
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* String meta (memcached's flags and CAS): kept by TTL changes and RENAME, dropped by writes */

static dfm_key_t *meta_key(dfm_ctx_t *ctx, const char *key, dfm_str_t *k) {
    *k = (dfm_str_t){key, strlen(key)};
    ctx->shard = &g_shards[db_shard_of(key, strlen(key))];
    return g_api.lookup(ctx, k, DFM_LOOKUP_WRITE);
}

static void meta_expect(const char *key, int has, uint32_t flags, uint64_t version, const char *val) {
    dfm_ctx_t ctx = {.out = &out, .resp = 2};
    dfm_str_t k, v;
    dfm_key_t *h = meta_key(&ctx, key, &k);
    ck_assert_ptr_nonnull(h);
    uint32_t f = 0;
    uint64_t ver = 0;
    ck_assert_int_eq(g_api.str_meta(h, &f, &ver), has);
    if (has) {
        ck_assert_uint_eq(f, flags);
        ck_assert_uint_eq(ver, version);
    }
    g_api.str_value(h, &v);
    ck_assert_uint_eq(v.len, strlen(val));
    ck_assert(memcmp(v.ptr, val, v.len) == 0);
}

START_TEST(test_string_meta) {
    char a[16], b[16];
    two_shards(a, b, sizeof a);
    dfm_ctx_t ctx = {.out = &out, .resp = 2};
    dfm_str_t k;
    meta_key(&ctx, a, &k);
    g_api.str_set_meta(&ctx, &k, "hello", 5, -1, 7, 99);
    meta_expect(a, 1, 7, 99, "hello");
    dfm_key_t *h = meta_key(&ctx, a, &k);
    g_api.expire_set(&ctx, &h, 4102444800000);           /* the entry grows: the tail moves */
    meta_expect(a, 1, 7, 99, "hello");
    ck_assert_str_eq(run("RENAME", a, b, NULL), "+OK\r\n");
    meta_expect(b, 1, 7, 99, "hello");
    ck_assert_int_eq(entry_expire(get(0, b)), 4102444800000);
    meta_key(&ctx, b, &k);
    g_api.str_set(&ctx, &k, "hellx", 5, DFM_EXPIRE_KEEP); /* in place */
    meta_expect(b, 0, 0, 0, "hellx");
    h = meta_key(&ctx, b, &k);
    g_api.str_meta_set(&ctx, &h, 0, 5);
    meta_expect(b, 1, 0, 5, "hellx");
    h = meta_key(&ctx, b, &k);
    g_api.str_resize(&ctx, &h, 2);
    meta_expect(b, 0, 0, 0, "he");
}
END_TEST

static Suite *core_suite(void) {
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("keys");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cursor_roundtrip);
    tcase_add_test(tc, test_cursor_parse);
    tcase_add_test(tc, test_scan_all_shards);
    tcase_add_test(tc, test_scan_under_growth);
    tcase_add_test(tc, test_scan_errors_and_expired);
    tcase_add_test(tc, test_rename_across_shards);
    tcase_add_test(tc, test_copy_and_move);
    tcase_add_test(tc, test_swapdb_and_dbsize);
    tcase_add_test(tc, test_expire_family);
    tcase_add_test(tc, test_string_meta);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(core_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
