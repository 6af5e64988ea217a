/*
 * test_resp.c: unit tests for the client request parser (core/resp_parse.c).
 *
 * The expectations are Redis 7.0's (networking.c, sdssplitargs), checked by hand against
 * redis-server 7.0.15 where they are not obvious: error strings, skip rules, quoting. Every
 * frame is also fed split at every byte boundary, in a buffer that moves between calls, because
 * resumability is what the network layer relies on.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp_parse.h"

typedef struct exp_arg {
    const char *s;
    size_t n;
} exp_arg_t;

#define A(lit) {lit, sizeof(lit) - 1}
#define S(lit) lit, sizeof(lit) - 1

static const char E_MBULK[] = "Protocol error: invalid multibulk length";
static const char E_BULK[] = "Protocol error: invalid bulk length";
static const char E_MBULK_BIG[] = "Protocol error: too big mbulk count string";
static const char E_BULK_BIG[] = "Protocol error: too big bulk count string";
static const char E_INLINE_BIG[] = "Protocol error: too big inline request";
static const char E_QUOTES[] = "Protocol error: unbalanced quotes in request";

/* A heap copy of data (so ASan sees overreads past len). */
static char *dup_bytes(const char *data, size_t len)
{
    char *b = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(b);
    memcpy(b, data, len);
    return b;
}

static void check_args(const resp_parser_t *p, const exp_arg_t *exp, int n)
{
    ck_assert_int_eq(p->argc, n);
    for (int i = 0; i < n; i++) {
        ck_assert_uint_eq(p->argv[i].len, exp[i].n);
        ck_assert_mem_eq(p->argv[i].ptr, exp[i].s, exp[i].n);
    }
}

/* Parses one complete command from a private copy of data; returns the result code. */
static int parse_once(resp_parser_t *p, const char *data, size_t len, size_t *consumed, char **bufp)
{
    *bufp = dup_bytes(data, len);
    return resp_parse(p, *bufp, len, consumed);
}

/* Expects data to be exactly one command with the given arguments. */
static void expect_cmd(const char *data, size_t len, const exp_arg_t *exp, int n)
{
    resp_parser_t p;
    resp_parser_init(&p);
    size_t used = 99;
    char *b;
    ck_assert_int_eq(parse_once(&p, data, len, &used, &b), RESP_OK);
    ck_assert_uint_eq(used, len);
    check_args(&p, exp, n);
    free(b);
    resp_parser_free(&p);
}

/* Expects data to fail with err (possibly after INCOMPLETE rounds when fed in pieces). */
static void expect_err(const char *data, size_t len, const char *err)
{
    resp_parser_t p;
    resp_parser_init(&p);
    size_t used = 99;
    char *b;
    ck_assert_int_eq(parse_once(&p, data, len, &used, &b), RESP_ERROR);
    ck_assert_uint_eq(used, 0);
    ck_assert_str_eq(p.err, err);
    free(b);
    resp_parser_free(&p);
}

static void expect_incomplete(const char *data, size_t len)
{
    resp_parser_t p;
    resp_parser_init(&p);
    size_t used = 99;
    char *b;
    ck_assert_int_eq(parse_once(&p, data, len, &used, &b), RESP_INCOMPLETE);
    ck_assert_uint_eq(used, 0);
    free(b);
    resp_parser_free(&p);
}

/* Feeds every prefix of the frame (INCOMPLETE), then the whole frame in a fresh buffer. */
static void expect_split_everywhere(const char *data, size_t len, const exp_arg_t *exp, int n)
{
    for (size_t k = 0; k < len; k++) {
        resp_parser_t p;
        resp_parser_init(&p);
        size_t used = 99;
        char *b1 = dup_bytes(data, k);
        ck_assert_int_eq(resp_parse(&p, b1, k, &used), RESP_INCOMPLETE);
        ck_assert_uint_eq(used, 0);
        free(b1);
        char *b2 = dup_bytes(data, len);
        ck_assert_int_eq(resp_parse(&p, b2, len, &used), RESP_OK);
        ck_assert_uint_eq(used, len);
        check_args(&p, exp, n);
        free(b2);
        resp_parser_free(&p);
    }
}

/* Feeds the frame one byte more per call, each time in a newly allocated (moved) buffer. */
static void expect_byte_by_byte(const char *data, size_t len, const exp_arg_t *exp, int n)
{
    resp_parser_t p;
    resp_parser_init(&p);
    for (size_t k = 1; k <= len; k++) {
        size_t used = 99;
        char *b = dup_bytes(data, k);
        int rc = resp_parse(&p, b, k, &used);
        if (k < len) {
            ck_assert_int_eq(rc, RESP_INCOMPLETE);
            ck_assert_uint_eq(used, 0);
        } else {
            ck_assert_int_eq(rc, RESP_OK);
            ck_assert_uint_eq(used, len);
            check_args(&p, exp, n);
        }
        free(b);
    }
    resp_parser_free(&p);
}

static void expect_all_ways(const char *data, size_t len, const exp_arg_t *exp, int n)
{
    expect_cmd(data, len, exp, n);
    expect_split_everywhere(data, len, exp, n);
    expect_byte_by_byte(data, len, exp, n);
}

/* ---- multibulk --------------------------------------------------------------------------- */

START_TEST(test_mbulk_simple)
{
    static const exp_arg_t e[] = {A("SET"), A("key"), A("value")};
    expect_all_ways(S("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"), e, 3);
}
END_TEST

START_TEST(test_mbulk_single_arg)
{
    static const exp_arg_t e[] = {A("PING")};
    expect_all_ways(S("*1\r\n$4\r\nPING\r\n"), e, 1);
}
END_TEST

START_TEST(test_mbulk_empty_bulk)
{
    static const exp_arg_t e[] = {A("SET"), A(""), A("")};
    expect_all_ways(S("*3\r\n$3\r\nSET\r\n$0\r\n\r\n$0\r\n\r\n"), e, 3);
}
END_TEST

START_TEST(test_mbulk_binary)
{
    static const exp_arg_t e[] = {A("SET"), A("a\0b"), A("x\r\ny\r\n\0*1\r\n$")};
    expect_all_ways(S("*3\r\n$3\r\nSET\r\n$3\r\na\0b\r\n$12\r\nx\r\ny\r\n\0*1\r\n$\r\n"), e, 3);
}
END_TEST

START_TEST(test_mbulk_long_lengths)
{
    /* 19-digit counts are legal syntax; the value decides. Leading "0" alone is fine. */
    static const exp_arg_t e[] = {A("ab")};
    expect_all_ways(S("*1\r\n$2\r\nab\r\n"), e, 1);
    expect_err(S("*1\r\n$1000000000000000000\r\n"), E_BULK);
    expect_err(S("*1\r\n$99999999999999999999\r\n"), E_BULK);
}
END_TEST

START_TEST(test_mbulk_header_cr_not_checked)
{
    /* Like Redis, the byte after a header line's '\r' is skipped unchecked. */
    static const exp_arg_t e[] = {A("PING")};
    expect_cmd(S("*1\rX$4\rYPING\r\n"), e, 1);
}
END_TEST

START_TEST(test_mbulk_max_count_accepted)
{
    expect_incomplete(S("*1048576\r\n"));
    expect_incomplete(S("*1048576\r\n$4\r\nPING\r\n"));
}
END_TEST

/* ---- pipelines ----------------------------------------------------------------------------- */

START_TEST(test_pipeline_mbulk)
{
    static const char in[] = "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nQUIT\r\n";
    static const exp_arg_t e1[] = {A("PING")}, e2[] = {A("GET"), A("k")}, e3[] = {A("QUIT")};
    resp_parser_t p;
    resp_parser_init(&p);
    char *b = dup_bytes(in, sizeof(in) - 1);
    size_t off = 0, used;
    ck_assert_int_eq(resp_parse(&p, b, sizeof(in) - 1, &used), RESP_OK);
    check_args(&p, e1, 1);
    ck_assert_uint_eq(used, 14);
    off += used;
    ck_assert_int_eq(resp_parse(&p, b + off, sizeof(in) - 1 - off, &used), RESP_OK);
    check_args(&p, e2, 2);
    off += used;
    ck_assert_int_eq(resp_parse(&p, b + off, sizeof(in) - 1 - off, &used), RESP_OK);
    check_args(&p, e3, 1);
    off += used;
    ck_assert_uint_eq(off, sizeof(in) - 1);
    ck_assert_int_eq(resp_parse(&p, b + off, 0, &used), RESP_INCOMPLETE);
    ck_assert_uint_eq(used, 0);
    free(b);
    resp_parser_free(&p);
}
END_TEST

START_TEST(test_pipeline_mixed)
{
    static const char in[] = "PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nECHO \"a b\"\n*1\r\n$4\r\nPI";
    static const exp_arg_t e1[] = {A("PING")}, e2[] = {A("ECHO"), A("hi")},
                           e3[] = {A("ECHO"), A("a b")};
    resp_parser_t p;
    resp_parser_init(&p);
    size_t len = sizeof(in) - 1, off = 0, used;
    char *b = dup_bytes(in, len);
    ck_assert_int_eq(resp_parse(&p, b + off, len - off, &used), RESP_OK);
    check_args(&p, e1, 1);
    off += used;
    ck_assert_int_eq(resp_parse(&p, b + off, len - off, &used), RESP_OK);
    check_args(&p, e2, 2);
    off += used;
    ck_assert_int_eq(resp_parse(&p, b + off, len - off, &used), RESP_OK);
    check_args(&p, e3, 2);
    off += used;
    ck_assert_int_eq(resp_parse(&p, b + off, len - off, &used), RESP_INCOMPLETE);
    ck_assert_uint_eq(used, 0);
    free(b);
    resp_parser_free(&p);
}
END_TEST

START_TEST(test_pipeline_inline_unescape_stays_in_line)
{
    /* Unescaping one inline command must not touch the next command's bytes. */
    static const char in[] = "ECHO \"\\x41\\n\"\r\nECHO 'x'\r\n";
    static const exp_arg_t e1[] = {A("ECHO"), A("A\n")}, e2[] = {A("ECHO"), A("x")};
    resp_parser_t p;
    resp_parser_init(&p);
    size_t len = sizeof(in) - 1, used;
    char *b = dup_bytes(in, len);
    ck_assert_int_eq(resp_parse(&p, b, len, &used), RESP_OK);
    check_args(&p, e1, 2);
    ck_assert_mem_eq(b + used, "ECHO 'x'\r\n", 10);
    ck_assert_int_eq(resp_parse(&p, b + used, len - used, &used), RESP_OK);
    check_args(&p, e2, 2);
    free(b);
    resp_parser_free(&p);
}
END_TEST

/* ---- skip rules ---------------------------------------------------------------------------- */

START_TEST(test_skip_empty_lines)
{
    static const char in[] = "\r\n\n   \t\r\nPING\r\n";
    static const exp_arg_t e[] = {A("PING")};
    expect_cmd(in, sizeof(in) - 1, e, 1);
}
END_TEST

START_TEST(test_skip_mbulk_zero_and_negative)
{
    static const char in[] = "*0\r\n*-1\r\n*-9223372036854775808\r\n*1\r\n$1\r\nx\r\n";
    static const exp_arg_t e[] = {A("x")};
    expect_cmd(in, sizeof(in) - 1, e, 1);
}
END_TEST

START_TEST(test_skip_only)
{
    /* Nothing but skippable bytes: all of them may be dropped, the parser holds nothing. */
    static const char in[] = "\r\n*0\r\n  \r\n*-5\r\n";
    resp_parser_t p;
    resp_parser_init(&p);
    size_t used = 0;
    char *b = dup_bytes(in, sizeof(in) - 1);
    ck_assert_int_eq(resp_parse(&p, b, sizeof(in) - 1, &used), RESP_INCOMPLETE);
    ck_assert_uint_eq(used, sizeof(in) - 1);
    ck_assert_uint_eq(resp_parser_need(&p), 0);
    free(b);
    resp_parser_free(&p);
}
END_TEST

START_TEST(test_skip_then_partial_drop_or_reoffer)
{
    static const char in[] = "\r\n*0\r\n*1\r\n$4\r\nPI";
    static const char full[] = "\r\n*0\r\n*1\r\n$4\r\nPING\r\n";
    static const exp_arg_t e[] = {A("PING")};
    resp_parser_t p;
    resp_parser_init(&p);
    size_t used;
    char *b = dup_bytes(in, sizeof(in) - 1);
    ck_assert_int_eq(resp_parse(&p, b, sizeof(in) - 1, &used), RESP_INCOMPLETE);
    ck_assert_uint_eq(used, 6);
    free(b);
    /* caller drops the skipped bytes */
    b = dup_bytes(full + 6, sizeof(full) - 7);
    ck_assert_int_eq(resp_parse(&p, b, sizeof(full) - 7, &used), RESP_OK);
    ck_assert_uint_eq(used, sizeof(full) - 7);
    check_args(&p, e, 1);
    free(b);
    /* or offers them again */
    b = dup_bytes(in, sizeof(in) - 1);
    ck_assert_int_eq(resp_parse(&p, b, sizeof(in) - 1, &used), RESP_INCOMPLETE);
    free(b);
    b = dup_bytes(full, sizeof(full) - 1);
    ck_assert_int_eq(resp_parse(&p, b, sizeof(full) - 1, &used), RESP_OK);
    ck_assert_uint_eq(used, sizeof(full) - 1);
    check_args(&p, e, 1);
    free(b);
    resp_parser_free(&p);
}
END_TEST

/* ---- multibulk errors ---------------------------------------------------------------------- */

START_TEST(test_err_mbulk_len)
{
    expect_err(S("*abc\r\n"), E_MBULK);
    expect_err(S("*\r\n"), E_MBULK);
    expect_err(S("*+1\r\n"), E_MBULK);
    expect_err(S("*01\r\n"), E_MBULK);
    expect_err(S("*-0\r\n"), E_MBULK);
    expect_err(S("*-\r\n"), E_MBULK);
    expect_err(S("* 1\r\n"), E_MBULK);
    expect_err(S("*1 \r\n"), E_MBULK);
    expect_err(S("*2147483648\r\n"), E_MBULK); /* above INT_MAX, as Redis 7.0 */
    expect_err(S("*2147483648\r\n"), E_MBULK);
    expect_err(S("*-9223372036854775809\r\n"), E_MBULK);
    expect_err(S("*99999999999999999999\r\n"), E_MBULK);
    expect_err(S("*1\0\r\n"), E_MBULK);
}
END_TEST

START_TEST(test_err_mbulk_len_waits_for_line)
{
    /* Like Redis, nothing is decided before the whole line (and the byte after '\r') is in. */
    expect_incomplete(S("*abc"));
    expect_incomplete(S("*abc\r"));
}
END_TEST

START_TEST(test_err_bulk_len)
{
    expect_err(S("*1\r\n$-1\r\n"), E_BULK);
    expect_err(S("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n"), E_BULK);
    expect_err(S("*1\r\n$-0\r\n"), E_BULK);
    expect_err(S("*1\r\n$01\r\n"), E_BULK);
    expect_err(S("*1\r\n$blabla\r\n"), E_BULK);
    expect_err(S("*1\r\n$\r\n"), E_BULK);
    expect_err(S("*1\r\n$+4\r\n"), E_BULK);
    expect_err(S("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n"), E_BULK);
    expect_err(S("*1\r\n$536870913\r\n"), E_BULK);
}
END_TEST

START_TEST(test_bulk_len_default_limit)
{
    resp_parser_t p;
    resp_parser_init(&p);
    ck_assert_int_eq(p.max_bulk_len, 512LL * 1024 * 1024);
    resp_parser_free(&p);
    expect_incomplete(S("*1\r\n$536870912\r\n"));
}
END_TEST

START_TEST(test_bulk_len_configurable)
{
    resp_parser_t p;
    resp_parser_init(&p);
    p.max_bulk_len = 10;
    size_t used;
    char *b;
    ck_assert_int_eq(parse_once(&p, S("*1\r\n$10\r\n0123456789\r\n"), &used, &b), RESP_OK);
    free(b);
    ck_assert_int_eq(parse_once(&p, S("*1\r\n$11\r\n"), &used, &b), RESP_ERROR);
    ck_assert_str_eq(p.err, E_BULK);
    free(b);
    p.max_bulk_len = 0;
    ck_assert_int_eq(parse_once(&p, S("*1\r\n$0\r\n\r\n"), &used, &b), RESP_OK);
    free(b);
    ck_assert_int_eq(parse_once(&p, S("*1\r\n$1\r\n"), &used, &b), RESP_ERROR);
    free(b);
    resp_parser_free(&p);
}
END_TEST

START_TEST(test_err_expected_dollar)
{
    expect_err(S("*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"), "Protocol error: expected '$', got 'f'");
    expect_err(S("*1\r\nfoo\r\n"), "Protocol error: expected '$', got 'f'");
    expect_err(S("*1\r\n:1\r\n"), "Protocol error: expected '$', got ':'");
    /* Redis's reply sanitiser turns CR/LF into spaces */
    expect_err(S("*1\r\n\r\n"), "Protocol error: expected '$', got ' '");
    expect_err(S("*1\r\n\n$4\r\n"), "Protocol error: expected '$', got ' '");
    expect_err(S("*1\r\n\xff\r\n"), "Protocol error: expected '$', got '\xff'");
    expect_err(S("*1\r\n\0\r\n"), "Protocol error: expected '$', got '");
    /* decided only once the line is complete, as in Redis */
    expect_incomplete(S("*1\r\nfoo"));
}
END_TEST

START_TEST(test_err_bulk_trailer)
{
    expect_err(S("*1\r\n$4\r\nPINGxx"), E_BULK);
    expect_err(S("*1\r\n$4\r\nPING\rx"), E_BULK);
    expect_err(S("*1\r\n$3\r\nPING\r\n"), E_BULK);
    expect_incomplete(S("*1\r\n$4\r\nPING\r"));
}
END_TEST

/* A header line of `n` bytes: lead byte then digits, no '\r'. */
static char *long_line(const char *prefix, size_t plen, char lead, size_t n, size_t *len)
{
    *len = plen + n;
    char *b = malloc(*len);
    ck_assert_ptr_nonnull(b);
    memcpy(b, prefix, plen);
    b[plen] = lead;
    memset(b + plen + 1, '1', n - 1);
    return b;
}

START_TEST(test_err_too_big_mbulk_count)
{
    size_t len;
    char *b = long_line("", 0, '*', RESP_INLINE_MAX, &len);
    expect_incomplete(b, len);
    free(b);
    b = long_line("", 0, '*', RESP_INLINE_MAX + 1, &len);
    expect_err(b, len, E_MBULK_BIG);
    free(b);
}
END_TEST

START_TEST(test_err_too_big_bulk_count)
{
    size_t len;
    char *b = long_line("*1\r\n", 4, '$', RESP_INLINE_MAX, &len);
    expect_incomplete(b, len);
    free(b);
    b = long_line("*1\r\n", 4, '$', RESP_INLINE_MAX + 1, &len);
    expect_err(b, len, E_BULK_BIG);
    free(b);
    /* no '$' but no line end either: the size error wins, as in Redis */
    b = long_line("*1\r\n", 4, 'x', RESP_INLINE_MAX + 1, &len);
    expect_err(b, len, E_BULK_BIG);
    free(b);
}
END_TEST

START_TEST(test_err_too_big_count_in_chunks)
{
    /* The limit holds when the line arrives in pieces, each resumed where the scan stopped. */
    size_t len;
    char *src = long_line("", 0, '*', 3 * RESP_INLINE_MAX, &len);
    resp_parser_t p;
    resp_parser_init(&p);
    size_t used;
    int rc = RESP_INCOMPLETE;
    size_t k;
    for (k = 1000; k <= len && rc == RESP_INCOMPLETE; k += 1000) {
        char *b = dup_bytes(src, k);
        rc = resp_parse(&p, b, k, &used);
        free(b);
    }
    ck_assert_int_eq(rc, RESP_ERROR);
    ck_assert_str_eq(p.err, E_MBULK_BIG);
    ck_assert_uint_eq(k - 1000, 66000);
    free(src);
    resp_parser_free(&p);
}
END_TEST

/* ---- inline -------------------------------------------------------------------------------- */

START_TEST(test_inline_simple)
{
    static const exp_arg_t e[] = {A("SET"), A("key"), A("value")};
    expect_all_ways(S("SET key value\r\n"), e, 3);
    expect_all_ways(S("SET key value\n"), e, 3);
    expect_all_ways(S("  SET\t key   value \t \r\n"), e, 3);
}
END_TEST

START_TEST(test_inline_double_quotes)
{
    static const exp_arg_t e[] = {A("SET"), A("a b"), A("x\n\r\t\b\a\\\"y"), A("")};
    expect_all_ways(S("SET \"a b\" \"x\\n\\r\\t\\b\\a\\\\\\\"y\" \"\"\r\n"), e, 4);
}
END_TEST

START_TEST(test_inline_hex_escapes)
{
    static const exp_arg_t e[] = {A("ECHO"), A("Ax4gq\xff\0Z")};
    expect_all_ways(S("ECHO \"\\x41\\x4g\\q\\xfF\\x00\\x5a\" \r\n"), e, 2);
    static const exp_arg_t e2[] = {A("ECHO"), A("x4")};
    expect_all_ways(S("ECHO \"\\x4\"\r\n"), e2, 2);
}
END_TEST

START_TEST(test_inline_single_quotes)
{
    static const exp_arg_t e[] = {A("ECHO"), A("a'b\\n\"c"), A("")};
    expect_all_ways(S("ECHO 'a\\'b\\n\"c' ''\r\n"), e, 3);
}
END_TEST

START_TEST(test_inline_quote_inside_token)
{
    /* A quote opens in the middle of a token and the token continues with its contents. */
    static const exp_arg_t e[] = {A("ECHO"), A("foobar baz")};
    expect_all_ways(S("ECHO foo\"bar baz\"\r\n"), e, 2);
}
END_TEST

START_TEST(test_inline_unbalanced)
{
    expect_err(S("set \"\"\"test-key\"\"\" test-value\r\n"), E_QUOTES);
    expect_err(S("ECHO \"abc\r\n"), E_QUOTES);
    expect_err(S("ECHO 'abc\r\n"), E_QUOTES);
    expect_err(S("ECHO \"a\"b\r\n"), E_QUOTES);
    expect_err(S("ECHO 'a'b\r\n"), E_QUOTES);
    expect_err(S("ECHO \"\\\r\n"), E_QUOTES);
    expect_err(S("ECHO 'a\\'\r\n"), E_QUOTES);
}
END_TEST

START_TEST(test_inline_whitespace_rules)
{
    /* Between tokens and after a closing quote any isspace() byte separates; inside an
       unquoted token only space, tab, CR and LF do (so \v and \f stay in the token). */
    static const exp_arg_t e1[] = {A("ECHO"), A("a\vb")};
    expect_all_ways(S("\v\fECHO a\vb\r\n"), e1, 2);
    static const exp_arg_t e2[] = {A("ECHO"), A("a"), A("b")};
    expect_all_ways(S("ECHO \"a\"\vb\r\n"), e2, 3);
    static const exp_arg_t e3[] = {A("ECHO"), A("a"), A("b")};
    expect_all_ways(S("ECHO a\rb\r\n"), e3, 3);
}
END_TEST

START_TEST(test_inline_binary_bytes)
{
    /* NUL is an ordinary byte (Redis hangs on it; we take it literally). */
    static const exp_arg_t e[] = {A("ECHO"), A("a\0b"), A("\xff")};
    expect_all_ways(S("ECHO a\0b \xff\r\n"), e, 3);
}
END_TEST

START_TEST(test_inline_first_byte_not_star)
{
    static const exp_arg_t e[] = {A("$1"), A("*2")};
    expect_all_ways(S("$1 *2\r\n"), e, 2);
}
END_TEST

START_TEST(test_err_too_big_inline)
{
    char *b = malloc(RESP_INLINE_MAX + 2);
    ck_assert_ptr_nonnull(b);
    memset(b, 'a', RESP_INLINE_MAX + 2);
    expect_incomplete(b, RESP_INLINE_MAX);
    expect_err(b, RESP_INLINE_MAX + 1, E_INLINE_BIG);
    /* a long line whose newline is already there is accepted, as Redis does */
    b[RESP_INLINE_MAX + 1] = '\n';
    resp_parser_t p;
    resp_parser_init(&p);
    size_t used;
    ck_assert_int_eq(resp_parse(&p, b, RESP_INLINE_MAX + 2, &used), RESP_OK);
    ck_assert_int_eq(p.argc, 1);
    ck_assert_uint_eq(p.argv[0].len, RESP_INLINE_MAX + 1);
    resp_parser_free(&p);
    free(b);
}
END_TEST

START_TEST(test_inline_many_args)
{
    size_t n = 100000, len = n * 2 + 1;
    char *b = malloc(len);
    ck_assert_ptr_nonnull(b);
    for (size_t i = 0; i < n; i++) {
        b[2 * i] = (char)('a' + i % 26);
        b[2 * i + 1] = ' ';
    }
    b[len - 1] = '\n';
    resp_parser_t p;
    resp_parser_init(&p);
    size_t used;
    ck_assert_int_eq(resp_parse(&p, b, len, &used), RESP_OK);
    ck_assert_int_eq(p.argc, (int)n);
    ck_assert_uint_eq(used, len);
    ck_assert_int_eq(p.argv[n - 1].ptr[0], (char)('a' + (n - 1) % 26));
    resp_parser_free(&p);
    free(b);
}
END_TEST

/* ---- large commands, moving buffers, need() ------------------------------------------------ */

/* "*<n+1>\r\n$4\r\nMSET" followed by n args "$1\r\n<c>\r\n". */
static char *big_mset(size_t n, size_t *len)
{
    char head[64];
    int hl = snprintf(head, sizeof(head), "*%zu\r\n$4\r\nMSET\r\n", n + 1);
    *len = (size_t)hl + n * 7;
    char *b = malloc(*len);
    ck_assert_ptr_nonnull(b);
    memcpy(b, head, (size_t)hl);
    for (size_t i = 0; i < n; i++)
        memcpy(b + hl + i * 7, i % 2 ? "$1\r\nv\r\n" : "$1\r\nk\r\n", 7);
    return b;
}

START_TEST(test_large_arg_count_chunked)
{
    /* 1M args in 16 KB reads, into a buffer that is reallocated (may move) as it grows. A
       rescanning parser would take minutes here; this one scans each byte once. */
    size_t n = 1024 * 1024 - 1, len;
    char *src = big_mset(n, &len);
    resp_parser_t p;
    resp_parser_init(&p);
    char *b = NULL;
    size_t have = 0, used = 0;
    int rc = RESP_INCOMPLETE;
    while (rc == RESP_INCOMPLETE) {
        ck_assert_uint_lt(have, len);
        size_t chunk = len - have < 16384 ? len - have : 16384;
        b = realloc(b, have + chunk);
        ck_assert_ptr_nonnull(b);
        memcpy(b + have, src + have, chunk);
        have += chunk;
        rc = resp_parse(&p, b, have, &used);
    }
    ck_assert_int_eq(rc, RESP_OK);
    ck_assert_uint_eq(used, len);
    ck_assert_int_eq(p.argc, (int)n + 1);
    ck_assert_mem_eq(p.argv[0].ptr, "MSET", 4);
    ck_assert_int_eq(p.argv[1].ptr[0], 'k');
    ck_assert_int_eq(p.argv[n].ptr[0], n % 2 ? 'k' : 'v');
    ck_assert_ptr_eq(p.argv[n].ptr, b + len - 3);
    free(b);
    free(src);
    /* the next command gives the big arrays back */
    ck_assert_int_gt(p.argv_cap, 4096);
    static const exp_arg_t e[] = {A("PING")};
    ck_assert_int_eq(parse_once(&p, S("PING\r\n"), &used, &b), RESP_OK);
    check_args(&p, e, 1);
    ck_assert_int_le(p.argv_cap, 4096);
    ck_assert_int_le(p.offs_cap, 4096);
    free(b);
    resp_parser_free(&p);
}
END_TEST

START_TEST(test_buffer_moved_between_calls)
{
    static const char in[] = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
    static const exp_arg_t e[] = {A("SET"), A("key"), A("value")};
    size_t len = sizeof(in) - 1;
    resp_parser_t p;
    resp_parser_init(&p);
    size_t used;
    char *b1 = dup_bytes(in, 20);
    ck_assert_int_eq(resp_parse(&p, b1, 20, &used), RESP_INCOMPLETE);
    /* scribble over the old buffer before freeing it: nothing may still point there */
    memset(b1, 'Z', 20);
    free(b1);
    char *b2 = dup_bytes(in, len);
    ck_assert_int_eq(resp_parse(&p, b2, len, &used), RESP_OK);
    check_args(&p, e, 3);
    for (int i = 0; i < 3; i++)
        ck_assert(p.argv[i].ptr >= b2 && p.argv[i].ptr < b2 + len);
    free(b2);
    resp_parser_free(&p);
}
END_TEST

START_TEST(test_need_big_bulk)
{
    static const char head[] = "*2\r\n$3\r\nSET\r\n$100000000\r\nabc";
    resp_parser_t p;
    resp_parser_init(&p);
    size_t used;
    char *b = dup_bytes(head, 20);
    ck_assert_int_eq(resp_parse(&p, b, 20, &used), RESP_INCOMPLETE);
    ck_assert_uint_eq(resp_parser_need(&p), 0); /* length line not complete yet */
    free(b);
    b = dup_bytes(head, sizeof(head) - 1);
    ck_assert_int_eq(resp_parse(&p, b, sizeof(head) - 1, &used), RESP_INCOMPLETE);
    ck_assert_uint_eq(resp_parser_need(&p), 25 + 100000000 + 2);
    free(b);
    /* deliver the rest in one buffer of exactly that size */
    size_t total = resp_parser_need(&p);
    b = malloc(total);
    ck_assert_ptr_nonnull(b);
    memcpy(b, head, sizeof(head) - 1);
    memset(b + sizeof(head) - 1, 'x', total - (sizeof(head) - 1) - 2);
    memcpy(b + total - 2, "\r\n", 2);
    ck_assert_int_eq(resp_parse(&p, b, total - 1, &used), RESP_INCOMPLETE);
    ck_assert_uint_eq(resp_parser_need(&p), total);
    ck_assert_int_eq(resp_parse(&p, b, total, &used), RESP_OK);
    ck_assert_uint_eq(used, total);
    ck_assert_uint_eq(p.argv[1].len, 100000000);
    ck_assert_uint_eq(resp_parser_need(&p), 0);
    free(b);
    resp_parser_free(&p);
}
END_TEST

START_TEST(test_need_zero_elsewhere)
{
    resp_parser_t p;
    resp_parser_init(&p);
    ck_assert_uint_eq(resp_parser_need(&p), 0);
    size_t used;
    char *b;
    ck_assert_int_eq(parse_once(&p, S("GET ke"), &used, &b), RESP_INCOMPLETE);
    ck_assert_uint_eq(resp_parser_need(&p), 0);
    free(b);
    resp_parser_reset(&p);
    ck_assert_int_eq(parse_once(&p, S("*2\r\n$3\r\nGET\r\n$3\r\nk"), &used, &b), RESP_INCOMPLETE);
    ck_assert_uint_eq(resp_parser_need(&p), 22);
    free(b);
    resp_parser_free(&p);
}
END_TEST

/* ---- lifecycle ----------------------------------------------------------------------------- */

START_TEST(test_argv_reused)
{
    /* Steady state: the argv array is not reallocated per command. */
    resp_parser_t p;
    resp_parser_init(&p);
    size_t used;
    char *b;
    ck_assert_int_eq(parse_once(&p, S("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), &used, &b), RESP_OK);
    free(b);
    dfm_str_t *argv = p.argv;
    resp_arg_off_t *offs = p.offs;
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(parse_once(&p, S("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), &used, &b), RESP_OK);
        free(b);
        ck_assert_int_eq(parse_once(&p, S("GET k\r\n"), &used, &b), RESP_OK);
        free(b);
    }
    ck_assert_ptr_eq(p.argv, argv);
    ck_assert_ptr_eq(p.offs, offs);
    resp_parser_free(&p);
    ck_assert_ptr_null(p.argv);
    ck_assert_ptr_null(p.offs);
}
END_TEST

START_TEST(test_reset_forgets_partial)
{
    static const exp_arg_t e[] = {A("PING")};
    resp_parser_t p;
    resp_parser_init(&p);
    size_t used;
    char *b;
    ck_assert_int_eq(parse_once(&p, S("*3\r\n$3\r\nSET\r\n$1"), &used, &b), RESP_INCOMPLETE);
    free(b);
    resp_parser_reset(&p);
    ck_assert_int_eq(parse_once(&p, S("PING\r\n"), &used, &b), RESP_OK);
    check_args(&p, e, 1);
    free(b);
    resp_parser_free(&p);
}
END_TEST

START_TEST(test_error_then_fresh_state)
{
    static const exp_arg_t e[] = {A("PING")};
    resp_parser_t p;
    resp_parser_init(&p);
    size_t used;
    char *b;
    ck_assert_int_eq(parse_once(&p, S("*1\r\n$x\r\n"), &used, &b), RESP_ERROR);
    ck_assert_ptr_nonnull(p.err);
    free(b);
    ck_assert_int_eq(parse_once(&p, S("*1\r\n$4\r\nPING\r\n"), &used, &b), RESP_OK);
    ck_assert_ptr_null(p.err);
    check_args(&p, e, 1);
    free(b);
    resp_parser_free(&p);
}
END_TEST

START_TEST(test_shrunk_len_is_incomplete)
{
    /* A caller bug (fewer bytes than last time) must not make the parser read out of range. */
    static const exp_arg_t e[] = {A("PING")};
    resp_parser_t p;
    resp_parser_init(&p);
    size_t used;
    char *b;
    ck_assert_int_eq(parse_once(&p, S("*1\r\n$4\r\nPI"), &used, &b), RESP_INCOMPLETE);
    free(b);
    ck_assert_int_eq(parse_once(&p, S("*1\r\n"), &used, &b), RESP_INCOMPLETE);
    free(b);
    ck_assert_int_eq(resp_parse(&p, NULL, 0, &used), RESP_INCOMPLETE);
    ck_assert_int_eq(parse_once(&p, S("*1\r\n$4\r\nPING\r\n"), &used, &b), RESP_OK);
    check_args(&p, e, 1);
    free(b);
    resp_parser_free(&p);
}
END_TEST

START_TEST(test_empty_input)
{
    resp_parser_t p;
    resp_parser_init(&p);
    size_t used = 5;
    ck_assert_int_eq(resp_parse(&p, NULL, 0, &used), RESP_INCOMPLETE);
    ck_assert_uint_eq(used, 0);
    resp_parser_free(&p);
}
END_TEST

static Suite *resp_suite(void)
{
    Suite *s = suite_create("resp_parse");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_mbulk_simple);
    tcase_add_test(tc, test_mbulk_single_arg);
    tcase_add_test(tc, test_mbulk_empty_bulk);
    tcase_add_test(tc, test_mbulk_binary);
    tcase_add_test(tc, test_mbulk_long_lengths);
    tcase_add_test(tc, test_mbulk_header_cr_not_checked);
    tcase_add_test(tc, test_mbulk_max_count_accepted);
    tcase_add_test(tc, test_pipeline_mbulk);
    tcase_add_test(tc, test_pipeline_mixed);
    tcase_add_test(tc, test_pipeline_inline_unescape_stays_in_line);
    tcase_add_test(tc, test_skip_empty_lines);
    tcase_add_test(tc, test_skip_mbulk_zero_and_negative);
    tcase_add_test(tc, test_skip_only);
    tcase_add_test(tc, test_skip_then_partial_drop_or_reoffer);
    tcase_add_test(tc, test_err_mbulk_len);
    tcase_add_test(tc, test_err_mbulk_len_waits_for_line);
    tcase_add_test(tc, test_err_bulk_len);
    tcase_add_test(tc, test_bulk_len_default_limit);
    tcase_add_test(tc, test_bulk_len_configurable);
    tcase_add_test(tc, test_err_expected_dollar);
    tcase_add_test(tc, test_err_bulk_trailer);
    tcase_add_test(tc, test_err_too_big_mbulk_count);
    tcase_add_test(tc, test_err_too_big_bulk_count);
    tcase_add_test(tc, test_err_too_big_count_in_chunks);
    tcase_add_test(tc, test_inline_simple);
    tcase_add_test(tc, test_inline_double_quotes);
    tcase_add_test(tc, test_inline_hex_escapes);
    tcase_add_test(tc, test_inline_single_quotes);
    tcase_add_test(tc, test_inline_quote_inside_token);
    tcase_add_test(tc, test_inline_unbalanced);
    tcase_add_test(tc, test_inline_whitespace_rules);
    tcase_add_test(tc, test_inline_binary_bytes);
    tcase_add_test(tc, test_inline_first_byte_not_star);
    tcase_add_test(tc, test_err_too_big_inline);
    tcase_add_test(tc, test_inline_many_args);
    tcase_add_test(tc, test_large_arg_count_chunked);
    tcase_add_test(tc, test_buffer_moved_between_calls);
    tcase_add_test(tc, test_need_big_bulk);
    tcase_add_test(tc, test_need_zero_elsewhere);
    tcase_add_test(tc, test_argv_reused);
    tcase_add_test(tc, test_reset_forgets_partial);
    tcase_add_test(tc, test_error_then_fresh_state);
    tcase_add_test(tc, test_shrunk_len_is_incomplete);
    tcase_add_test(tc, test_empty_input);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(resp_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
