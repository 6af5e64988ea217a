/*
 * test_aof_walk.c: unit tests for aof_walk (core/aof_walk.c): command boundaries in RESP fed
 * in pieces, as the AOF writer (stream blocks) and the loader (file reads) feed it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aof.h"

static const char two[] = "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";

/* Walk buf fed `step` bytes at a time; the lengths of the whole commands in lens (n of
   them); returns the walker's last result. */
static int walk_pieces(const char *buf, size_t len, size_t step, size_t *lens, int *n) {
    aof_walk_t w;
    aof_walk_init(&w);
    size_t start = 0, have = 0, got;
    int r = 0;
    *n = 0;
    while (start < len) {
        have = have + step > len ? len : have + step;
        while ((r = aof_walk(&w, buf + start, have - start, &got)) == 1) {
            lens[(*n)++] = got;
            start += got;
        }
        if (r < 0 || have == len) break;
    }
    return r;
}

START_TEST(test_boundaries_any_piece_size)
{
    size_t len = sizeof two - 1;
    for (size_t step = 1; step <= len; step++) {
        size_t lens[4];
        int n;
        walk_pieces(two, len, step, lens, &n);
        ck_assert_int_eq(n, 2);
        ck_assert_uint_eq(lens[0], 23);
        ck_assert_uint_eq(lens[1], len - 23);
    }
}
END_TEST

START_TEST(test_name_of_the_command)
{
    aof_walk_t w;
    aof_walk_init(&w);
    size_t got;
    ck_assert_int_eq(aof_walk(&w, two + 23, sizeof two - 1 - 23, &got), 1);
    ck_assert_uint_eq(w.name_len, 3);
    ck_assert(memcmp(two + 23 + w.name_off, "SET", 3) == 0);
}
END_TEST

START_TEST(test_incomplete_is_zero)
{
    aof_walk_t w;
    aof_walk_init(&w);
    size_t got;
    ck_assert_int_eq(aof_walk(&w, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc", 32, &got), 0);
    ck_assert_int_eq(aof_walk(&w, "", 0, &got), 0);
}
END_TEST

START_TEST(test_malformed)
{
    static const char *const bad[] = {
        "PING\r\n", "*0\r\n", "*-1\r\n", "*1\r\n+OK\r\n", "*1\r\n$-1\r\n", "*1\r\n$3\r\nabcX\r\n",
        "*1\r\n$3\r\nabc\rX", "*1x\r\n", "*1\n", "*99999999999999999999\r\n", "*1\r\n$1\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        aof_walk_t w;
        aof_walk_init(&w);
        size_t got;
        int r = aof_walk(&w, bad[i], strlen(bad[i]), &got);
        if (i == sizeof bad / sizeof bad[0] - 1)
            ck_assert_int_eq(r, 0); /* "$1\r\n" then nothing: incomplete, not bad */
        else
            ck_assert_msg(r == -1, "case %zu gave %d", i, r);
    }
}
END_TEST

START_TEST(test_annotation_line)
{
    static const char buf[] = "#TS:1700000000\r\n*1\r\n$4\r\nPING\r\n";
    aof_walk_t w;
    aof_walk_init(&w);
    size_t got;
    ck_assert_int_eq(aof_walk(&w, buf, sizeof buf - 1, &got), 1);
    ck_assert_uint_eq(got, 16);
    ck_assert_uint_eq(w.name_len, 0);
    ck_assert_int_eq(aof_walk(&w, buf + got, sizeof buf - 1 - got, &got), 1);
    ck_assert_uint_eq(w.name_len, 4);
}
END_TEST

START_TEST(test_many_arguments_walked_once)
{
    /* a command of 200000 arguments fed 7 bytes at a time finishes (resumable walk) */
    size_t nargs = 200000, cap = nargs * 8 + 32, len = 0;
    char *buf = malloc(cap);
    len += (size_t)snprintf(buf, cap, "*%zu\r\n", nargs);
    for (size_t i = 0; i < nargs; i++) {
        memcpy(buf + len, "$1\r\nx\r\n", 7);
        len += 7;
    }
    size_t lens[2];
    int n;
    ck_assert_int_eq(walk_pieces(buf, len, 7, lens, &n), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_uint_eq(lens[0], len);
    free(buf);
}
END_TEST

static Suite *aof_walk_suite(void)
{
    Suite *s = suite_create("aof_walk");
    TCase *tc = tcase_create("walk");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_boundaries_any_piece_size);
    tcase_add_test(tc, test_name_of_the_command);
    tcase_add_test(tc, test_incomplete_is_zero);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_annotation_line);
    tcase_add_test(tc, test_many_arguments_walked_once);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(aof_walk_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
