/*
 * test_glob.c: unit tests for glob_match (core/glob.c).
 *
 * The main table was produced by asking a real redis-server 7.0 (KEYS pattern on a database
 * holding just the string as a key), so every expectation here is Redis's own behaviour,
 * including its quirks (unterminated classes, "[a-]", reversed ranges, signed bytes).
 */
#include <check.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "glob.h"

typedef struct glob_case {
    const char *pat;
    size_t plen;
    const char *str;
    size_t slen;
    int expect;
} glob_case_t;

/* Verified against redis-server 7.0 with KEYS. */
static const glob_case_t redis_cases[] = {
    {"*", 1, "", 0, 1},
    {"*", 1, "hello", 5, 1},
    {"", 0, "", 0, 1},
    {"", 0, "a", 1, 0},
    {"a", 1, "", 0, 0},
    {"hello", 5, "hello", 5, 1},
    {"hello", 5, "hell", 4, 0},
    {"hello", 5, "helloo", 6, 0},
    {"h?llo", 5, "hello", 5, 1},
    {"h?llo", 5, "hllo", 4, 0},
    {"h?llo", 5, "heello", 6, 0},
    {"?", 1, "", 0, 0},
    {"??", 2, "ab", 2, 1},
    {"h*llo", 5, "hllo", 4, 1},
    {"h*llo", 5, "heeeello", 8, 1},
    {"h*llo", 5, "heeeelloo", 9, 0},
    {"*llo", 4, "hello", 5, 1},
    {"he*", 3, "hello", 5, 1},
    {"**a**", 5, "bab", 3, 1},
    {"*a*b*c*", 7, "xaybzc", 6, 1},
    {"*a*b*c*", 7, "xaybz", 5, 0},
    {"h[ae]llo", 8, "hello", 5, 1},
    {"h[ae]llo", 8, "hallo", 5, 1},
    {"h[ae]llo", 8, "hillo", 5, 0},
    {"h[^e]llo", 8, "hallo", 5, 1},
    {"h[^e]llo", 8, "hello", 5, 0},
    {"h[^e]llo", 8, "hllo", 4, 0},
    {"h[a-b]llo", 9, "hbllo", 5, 1},
    {"h[a-b]llo", 9, "hcllo", 5, 0},
    {"h[b-a]llo", 9, "hallo", 5, 1},
    {"h[z-a]llo", 9, "hmllo", 5, 1},
    {"[]", 2, "a", 1, 0},
    {"[]", 2, "", 0, 0},
    {"[^]", 3, "a", 1, 1},
    {"[^]a", 4, "ba", 2, 1},
    {"[a-]", 4, "a", 1, 1},
    {"[a-]", 4, "-", 1, 0},
    {"[a-]x", 5, "ax", 2, 0},
    {"[a-]]", 5, "]", 1, 1},
    {"[abc", 4, "a", 1, 1},
    {"[abc", 4, "d", 1, 0},
    {"[abc", 4, "ab", 2, 0},
    {"a[", 2, "a", 1, 0},
    {"a[", 2, "a[", 2, 0},
    {"\\*", 2, "*", 1, 1},
    {"\\*", 2, "a", 1, 0},
    {"a\\", 2, "a\\", 2, 1},
    {"a\\", 2, "a", 1, 0},
    {"\\?", 2, "?", 1, 1},
    {"\\?", 2, "x", 1, 0},
    {"\\[a]", 4, "[a]", 3, 1},
    {"\\[a]", 4, "a", 1, 0},
    {"[\\]]", 4, "]", 1, 1},
    {"[\\-]", 4, "-", 1, 1},
    {"[\\^a]", 5, "^", 1, 1},
    {"[a\\-z]", 6, "m", 1, 0},
    {"[a\\-z]", 6, "-", 1, 1},
    {"[*]", 3, "*", 1, 1},
    {"[*]", 3, "a", 1, 0},
    {"[?]", 3, "?", 1, 1},
    {"[?]", 3, "a", 1, 0},
    {"HELLO", 5, "hello", 5, 0},
    {"h[A-Z]llo", 9, "hello", 5, 0},
    {"a*b", 3, "a\x00""b", 3, 1},
    {"a?b", 3, "a\x00""b", 3, 1},
    {"a\x00""*", 3, "a\x00""xyz", 5, 1},
    {"[\x01""-\x05""]", 5, "\x03""", 1, 1},
    {"*\xff""", 2, "a\xff""", 2, 1},
    {"[\x80""-\xff""]", 5, "\x90""", 1, 1},
    {"[a-\xff""]", 5, "b", 1, 0},
    {"[a-\xff""]", 5, "\xff""", 1, 1},
    {"[a-\xff""]", 5, "\x10""", 1, 1},
    {"user:*:name", 11, "user:1000:name", 14, 1},
    {"user:*:name", 11, "user:1000:email", 15, 0},
    {"*:*:*", 5, "a:b:c", 5, 1},
    {"*:*:*", 5, "a:b", 3, 0},
    {"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", 31, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 40, 0},
    {"*?*?*", 5, "ab", 2, 1},
    {"*?*?*", 5, "a", 1, 0},
    {"[^a-c]*", 7, "d123", 4, 1},
    {"[^a-c]*", 7, "b123", 4, 0},
    {"*[0-9]", 6, "key9", 4, 1},
    {"*[0-9]", 6, "key", 3, 0},
};

#define NCASES (sizeof(redis_cases) / sizeof(redis_cases[0]))

START_TEST(test_redis_table)
{
    const glob_case_t *c = &redis_cases[_i];
    ck_assert_msg(glob_match(c->pat, c->plen, c->str, c->slen, 0) == c->expect,
                  "case %d: pattern '%s' string '%s' expected %d", _i, c->pat, c->str, c->expect);
}
END_TEST

START_TEST(test_nocase)
{
    ck_assert_int_eq(glob_match("HELLO", 5, "hello", 5, 1), 1);
    ck_assert_int_eq(glob_match("HELLO", 5, "hello", 5, 0), 0);
    ck_assert_int_eq(glob_match("max*", 4, "MAXMEMORY", 9, 1), 1);
    ck_assert_int_eq(glob_match("h[A-Z]llo", 9, "hello", 5, 1), 1);
    ck_assert_int_eq(glob_match("h[a-z]llo", 9, "HELLO", 5, 1), 1);
    ck_assert_int_eq(glob_match("h[^E]llo", 8, "hello", 5, 1), 0);
    ck_assert_int_eq(glob_match("h[E]llo", 7, "hello", 5, 1), 1);
    /* Escaped class members compare exactly even with nocase (Redis quirk). */
    ck_assert_int_eq(glob_match("[\\E]", 4, "e", 1, 1), 0);
    ck_assert_int_eq(glob_match("\\E", 2, "e", 1, 1), 1);
}
END_TEST

START_TEST(test_lengths_not_nul)
{
    /* Lengths rule, not NUL terminators: only a prefix of each buffer is used. */
    ck_assert_int_eq(glob_match("abcdef", 3, "abcxyz", 3, 0), 1);
    ck_assert_int_eq(glob_match("a*", 2, "abc", 1, 0), 1);
    ck_assert_int_eq(glob_match("[abc]", 3, "b", 1, 0), 1);
    ck_assert_int_eq(glob_match("[a-c]", 3, "b", 1, 0), 0);
}
END_TEST

static void on_alarm(int sig)
{
    (void)sig;
    _exit(3);
}

/* Pathological patterns must finish quickly (a recursive matcher would take ages). The alarm
   kills the forked test if it does not; nothing asserts on time otherwise. */
START_TEST(test_pathological_bounded)
{
    char pat[401], str[4001];
    size_t i;

    signal(SIGALRM, on_alarm);
    alarm(20);
    for (i = 0; i < 200; i++) {
        pat[2 * i] = '*';
        pat[2 * i + 1] = 'a';
    }
    pat[400] = 'b';
    memset(str, 'a', 4000);
    str[4000] = '\0';
    ck_assert_int_eq(glob_match(pat, 401, str, 4000, 0), 0);
    str[3999] = 'b';
    ck_assert_int_eq(glob_match(pat, 401, str, 4000, 0), 1);
    ck_assert_int_eq(glob_match(pat, 401, str, 4000, 1), 1);
    memset(pat, '*', 400);
    ck_assert_int_eq(glob_match(pat, 401, str, 4000, 0), 1);
    alarm(0);
}
END_TEST

static Suite *glob_suite(void)
{
    Suite *s = suite_create("glob");
    TCase *tc = tcase_create("match");

    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_redis_table, 0, (int)NCASES);
    tcase_add_test(tc, test_nocase);
    tcase_add_test(tc, test_lengths_not_nul);
    tcase_add_test(tc, test_pathological_bounded);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(glob_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
