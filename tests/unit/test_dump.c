/*
 * test_dump.c: unit tests for the RDB value encoding and the DUMP payload (core/dump.c) and
 * CRC-64/Jones (core/crc64.c): the CRC check value and agreement with a bit-by-bit reference,
 * length encodings at every boundary, string encodings as Redis 7.0 writes them (the byte
 * strings below were produced by redis-server 7.0.15's DUMP), LZF decoding with both the
 * library path and our own decoder, and refusal of truncated or hostile input.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "crc64.h"
#include "dump.h"
#include "reply.h"

/* Redis 7.0.15 DUMP of SET k "x" * 100: LZF compressed (type 0, 0xc3, clen 9, len 100). */
static const unsigned char redis_x100[] =
    "\x00\xc3\x09\x40\x64\x01\x78\x78\xe0\x57\x00\x01\x78\x78\x0a\x00\x5d\xb7\xf6\x63"
    "\xbb\x08\x62\x5f";
/* ... of "hello world, hello world, hello world!" (38 bytes, compressed to 21). */
static const unsigned char redis_hello3[] =
    "\x00\xc3\x15\x26\x0d\x68\x65\x6c\x6c\x6f\x20\x77\x6f\x72\x6c\x64\x2c\x20\x68\xe0"
    "\x0d\x0c\x01\x64\x21\x0a\x00\x95\x01\x21\x3a\xd3\xfd\xe9\x80";
/* ... of "12345" (INT16), "-2147483648" (INT32), "-129" (INT16), "2147483648" (raw). */
static const unsigned char redis_12345[] =
    "\x00\xc1\x39\x30\x0a\x00\x9d\x94\xea\x27\x93\xfc\x08\xb9";
static const unsigned char redis_int32min[] =
    "\x00\xc2\x00\x00\x00\x80\x0a\x00\xc7\x4f\x87\x3e\x33\x55\x81\x87";
static const unsigned char redis_m129[] =
    "\x00\xc1\x7f\xff\x0a\x00\x17\x60\x82\x28\x54\x80\x84\x80";
static const unsigned char redis_2p31[] =
    "\x00\x0a\x32\x31\x34\x37\x34\x38\x33\x36\x34\x38\x0a\x00\xe7\xb1\x29\xa3\x4c\x1d"
    "\x76\xee";

/* Bit-at-a-time CRC-64/Jones, the definition the tables must agree with. */
static uint64_t crc64_reference(const unsigned char *p, size_t len) {
    uint64_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++) crc = (crc & 1) ? (crc >> 1) ^ 0x95ac9329ac4bc9b5ULL : crc >> 1;
    }
    return crc;
}

START_TEST(test_crc64_check_value) {
    ck_assert_uint_eq(crc64(0, "123456789", 9), 0xe9c6d914c4b8d9caULL);
    ck_assert_uint_eq(crc64(0, "", 0), 0);
    /* continuation: crc(a ++ b) == crc64(crc(a), b) */
    ck_assert_uint_eq(crc64(crc64(0, "1234", 4), "56789", 5), 0xe9c6d914c4b8d9caULL);
}
END_TEST

START_TEST(test_crc64_matches_reference) {
    enum { N = 4099 };
    unsigned char *buf = malloc(N);
    for (size_t i = 0; i < N; i++) buf[i] = (unsigned char)(i * 131 + (i >> 7));
    /* every alignment and tail length of the 8-byte loop */
    for (size_t off = 0; off < 9; off++)
        for (size_t len = 0; len < 40; len++)
            ck_assert_uint_eq(crc64(0, buf + off, len), crc64_reference(buf + off, len));
    ck_assert_uint_eq(crc64(0, buf, N), crc64_reference(buf, N));
    free(buf);
}
END_TEST

/* Encode len, check its size and first byte, decode it back. */
static void len_round_trip(uint64_t len, size_t want_size, unsigned char want_first) {
    rbuf_t b = {0};
    dfm_rdb_t r;
    uint64_t got;
    rdb_writer_init(&r, &b);
    rdb_save_len(&r, len);
    ck_assert_uint_eq(b.len, want_size);
    ck_assert_uint_eq((unsigned char)b.data[0], want_first);
    rdb_reader_init(&r, b.data, b.len);
    ck_assert_int_eq(rdb_load_len(&r, &got), 0);
    ck_assert_uint_eq(got, len);
    ck_assert_ptr_eq(r.p, r.end);
    /* every truncation fails */
    for (size_t cut = 0; cut < b.len; cut++) {
        rdb_reader_init(&r, b.data, cut);
        ck_assert_int_eq(rdb_load_len(&r, &got), -1);
        ck_assert_int_eq(r.error, 1);
    }
    rbuf_free(&b);
}

START_TEST(test_len_boundaries) {
    len_round_trip(0, 1, 0x00);
    len_round_trip(1, 1, 0x01);
    len_round_trip(63, 1, 0x3f);
    len_round_trip(64, 2, 0x40);
    len_round_trip(300, 2, 0x41);
    len_round_trip(16383, 2, 0x7f);
    len_round_trip(16384, 5, 0x80);
    len_round_trip(UINT32_MAX, 5, 0x80);
    len_round_trip((uint64_t)UINT32_MAX + 1, 9, 0x81);
    len_round_trip(UINT64_MAX, 9, 0x81);
}
END_TEST

START_TEST(test_len_bad_forms) {
    dfm_rdb_t r;
    uint64_t v;
    int enc;
    rdb_reader_init(&r, "\x82", 1); /* 10xxxxxx other than 0x80/0x81 */
    ck_assert_int_eq(rdb_load_len(&r, &v), -1);
    rdb_reader_init(&r, "\xc3", 1); /* special encoding where a plain length is due */
    ck_assert_int_eq(rdb_load_len(&r, &v), -1);
    rdb_reader_init(&r, "\xc3", 1);
    ck_assert_int_eq(rdb__load_len_enc(&r, &v, &enc), 0);
    ck_assert_int_eq(enc, 1);
    ck_assert_uint_eq(v, RDB_ENC_LZF);
    /* sticky error: after a failure even a valid read fails */
    rdb_reader_init(&r, "\x82\x01", 2);
    ck_assert_int_eq(rdb_load_len(&r, &v), -1);
    ck_assert_int_eq(rdb_load_len(&r, &v), -1);
}
END_TEST

/* Save s, compare with the expected bytes (when given), load it back. */
static void str_round_trip(const char *s, size_t len, const char *want, size_t want_len) {
    rbuf_t b = {0};
    dfm_rdb_t r;
    size_t n;
    rdb_writer_init(&r, &b);
    rdb_save_string(&r, s, len);
    if (want) {
        ck_assert_uint_eq(b.len, want_len);
        ck_assert_mem_eq(b.data, want, want_len);
    }
    rdb_reader_init(&r, b.data, b.len);
    char *got = rdb_load_string(&r, &n);
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(n, len);
    ck_assert_mem_eq(got, s, len);
    ck_assert_int_eq(got[n], '\0');
    ck_assert_ptr_eq(r.p, r.end);
    df_free(got);
    rbuf_free(&b);
}
#define STR_RT(s, want) str_round_trip(s, sizeof(s) - 1, want, sizeof(want) - 1)
#define STR_RAW(s) str_round_trip(s, sizeof(s) - 1, NULL, 0)

START_TEST(test_string_int_encodings) {
    STR_RT("0", "\xc0\x00");
    STR_RT("-1", "\xc0\xff");
    STR_RT("127", "\xc0\x7f");
    STR_RT("-128", "\xc0\x80");
    STR_RT("128", "\xc1\x80\x00");
    STR_RT("-129", "\xc1\x7f\xff");
    STR_RT("12345", "\xc1\x39\x30");
    STR_RT("32767", "\xc1\xff\x7f");
    STR_RT("-32768", "\xc1\x00\x80");
    STR_RT("32768", "\xc2\x00\x80\x00\x00");
    STR_RT("2147483647", "\xc2\xff\xff\xff\x7f");
    STR_RT("-2147483648", "\xc2\x00\x00\x00\x80");
}
END_TEST

START_TEST(test_string_raw_encodings) {
    STR_RT("", "\x00");
    STR_RT("v", "\x01v");
    STR_RT("2147483648", "\x0a" "2147483648");   /* outside int32 */
    STR_RT("-2147483649", "\x0b" "-2147483649");
    STR_RT("007", "\x03" "007");                   /* not canonical */
    STR_RT("+1", "\x02+1");
    STR_RT("-0", "\x02-0");
    STR_RT(" 1", "\x02 1");
    STR_RT("1.5", "\x03" "1.5");
    STR_RT("hello world", "\x0bhello world");
    /* 20 bytes: never compressed */
    STR_RT("aaaaaaaaaaaaaaaaaaaa", "\x14" "aaaaaaaaaaaaaaaaaaaa");
}
END_TEST

START_TEST(test_string_long_round_trips) {
    size_t sizes[] = {21, 63, 64, 100, 16383, 16384, 100000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *rep = malloc(sizes[i]), *rnd = malloc(sizes[i]);
        uint64_t x = 88172645463325252ULL;
        for (size_t j = 0; j < sizes[i]; j++) {
            rep[j] = (char)('a' + j % 7);
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            rnd[j] = (char)x;
        }
        str_round_trip(rep, sizes[i], NULL, 0);
        str_round_trip(rnd, sizes[i], NULL, 0);
        free(rep);
        free(rnd);
    }
}
END_TEST

/* Verify a Redis payload and load its string value. */
static void redis_payload(const unsigned char *p, size_t len, const char *want, size_t want_len) {
    dfm_rdb_t r;
    size_t n;
    ck_assert_int_eq(dump_payload_verify(p, len), 0);
    rdb_reader_init(&r, p, len - 10);
    ck_assert_int_eq(rdb_load_type(&r), RDB_TYPE_STRING);
    char *got = rdb_load_string(&r, &n);
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(n, want_len);
    ck_assert_mem_eq(got, want, n);
    ck_assert_ptr_eq(r.p, r.end);
    df_free(got);
}
#define REDIS_PAYLOAD(p, s) redis_payload(p, sizeof(p) - 1, s, strlen(s))

START_TEST(test_redis_payloads) {
    char x100[101];
    memset(x100, 'x', 100);
    x100[100] = '\0';
    REDIS_PAYLOAD(redis_x100, x100);
    REDIS_PAYLOAD(redis_hello3, "hello world, hello world, hello world!");
    REDIS_PAYLOAD(redis_12345, "12345");
    REDIS_PAYLOAD(redis_int32min, "-2147483648");
    REDIS_PAYLOAD(redis_m129, "-129");
    REDIS_PAYLOAD(redis_2p31, "2147483648");
}
END_TEST

START_TEST(test_lzf_builtin_known) {
    /* The LZF data inside redis_hello3: 0x0d = 14 literals, then back references. */
    const unsigned char *lzf = redis_hello3 + 4;
    const char *want = "hello world, hello world, hello world!";
    char out[38];
    ck_assert_int_eq(rdb__lzf_decode_builtin(lzf, 21, out, 38), 0);
    ck_assert_mem_eq(out, want, 38);
    ck_assert_int_eq(rdb__lzf_decode(lzf, 21, out, 38), 0);
    ck_assert_mem_eq(out, want, 38);
    /* wrong expected size either way fails */
    ck_assert_int_eq(rdb__lzf_decode_builtin(lzf, 21, out, 37), -1);
    char big[64];
    ck_assert_int_eq(rdb__lzf_decode_builtin(lzf, 21, big, 39), -1);
    /* x100: an overlapping back reference of distance 1 */
    char x[100];
    ck_assert_int_eq(rdb__lzf_decode_builtin(redis_x100 + 5, 9, x, 100), 0);
    for (int i = 0; i < 100; i++) ck_assert_int_eq(x[i], 'x');
}
END_TEST

START_TEST(test_lzf_hostile) {
    char out[64];
    /* back reference before the start of the output */
    ck_assert_int_eq(rdb__lzf_decode_builtin("\x00" "a\x20\x05", 4, out, 4), -1);
    ck_assert_int_eq(rdb__lzf_decode("\x00" "a\x20\x05", 4, out, 4), -1);
    /* literal run longer than the input */
    ck_assert_int_eq(rdb__lzf_decode_builtin("\x05" "ab", 3, out, 6), -1);
    ck_assert_int_eq(rdb__lzf_decode("\x05" "ab", 3, out, 6), -1);
    /* truncated back reference */
    ck_assert_int_eq(rdb__lzf_decode_builtin("\x00" "a\xe0", 3, out, 10), -1);
    ck_assert_int_eq(rdb__lzf_decode_builtin("\x00" "a\x20", 3, out, 10), -1);
}
END_TEST

START_TEST(test_load_string_hostile) {
    dfm_rdb_t r;
    size_t n;
    /* raw length beyond the input */
    rdb_reader_init(&r, "\x05" "abc", 4);
    ck_assert_ptr_null(rdb_load_string(&r, &n));
    /* 64-bit length claiming 2^60 bytes: refused without allocating */
    rdb_reader_init(&r, "\x81\x10\x00\x00\x00\x00\x00\x00\x00" "a", 10);
    ck_assert_ptr_null(rdb_load_string(&r, &n));
    /* LZF claiming 1 GB from 3 bytes */
    rdb_reader_init(&r, "\xc3\x03\x80\x40\x00\x00\x00\x00" "a\xe0", 10);
    ck_assert_ptr_null(rdb_load_string(&r, &n));
    /* LZF compressed length beyond the input */
    rdb_reader_init(&r, "\xc3\x09\x05\x00" "a", 5);
    ck_assert_ptr_null(rdb_load_string(&r, &n));
    /* unknown special encoding, truncated ints */
    rdb_reader_init(&r, "\xc4", 1);
    ck_assert_ptr_null(rdb_load_string(&r, &n));
    rdb_reader_init(&r, "\xc2\x01\x02", 3);
    ck_assert_ptr_null(rdb_load_string(&r, &n));
    rdb_reader_init(&r, "", 0);
    ck_assert_ptr_null(rdb_load_string(&r, &n));
}
END_TEST

START_TEST(test_payload_seal_verify) {
    rbuf_t b = {0};
    dfm_rdb_t r;
    rdb_writer_init(&r, &b);
    rdb_save_type(&r, RDB_TYPE_STRING);
    rdb_save_string(&r, "12345", 5);
    dump_payload_seal(&b);
    /* byte-identical to what Redis 7.0 produces */
    ck_assert_uint_eq(b.len, sizeof redis_12345 - 1);
    ck_assert_mem_eq(b.data, redis_12345, b.len);
    ck_assert_int_eq(dump_payload_verify(b.data, b.len), 0);
    for (size_t i = 0; i < b.len; i++) {
        b.data[i] ^= 0x01; /* any flipped bit is caught */
        ck_assert_int_eq(dump_payload_verify(b.data, b.len), -1);
        b.data[i] ^= 0x01;
    }
    ck_assert_int_eq(dump_payload_verify(b.data, 9), -1);
    ck_assert_int_eq(dump_payload_verify("", 0), -1);
    rbuf_free(&b);
}
END_TEST

START_TEST(test_payload_versions) {
    /* a payload of a newer RDB version is refused even with a correct CRC; older accepted */
    for (unsigned ver = 1; ver <= 12; ver++) {
        rbuf_t b = {0};
        unsigned char f[10] = {(unsigned char)ver, 0};
        rbuf_append(&b, "\x00\x01v", 3);
        rbuf_append(&b, f, 2);
        uint64_t crc = crc64(0, b.data, b.len);
        for (int i = 0; i < 8; i++) f[i] = (unsigned char)(crc >> (8 * i));
        rbuf_append(&b, f, 8);
        ck_assert_int_eq(dump_payload_verify(b.data, b.len), ver <= RDB_VERSION ? 0 : -1);
        rbuf_free(&b);
    }
}
END_TEST

static Suite *dump_suite(void) {
    Suite *s = suite_create("dump");
    TCase *crc = tcase_create("crc64");
    tcase_add_test(crc, test_crc64_check_value);
    tcase_add_test(crc, test_crc64_matches_reference);
    suite_add_tcase(s, crc);

    TCase *enc = tcase_create("encoding");
    tcase_add_test(enc, test_len_boundaries);
    tcase_add_test(enc, test_len_bad_forms);
    tcase_add_test(enc, test_string_int_encodings);
    tcase_add_test(enc, test_string_raw_encodings);
    tcase_add_test(enc, test_string_long_round_trips);
    tcase_add_test(enc, test_load_string_hostile);
    suite_add_tcase(s, enc);

    TCase *lzf = tcase_create("lzf");
    tcase_add_test(lzf, test_lzf_builtin_known);
    tcase_add_test(lzf, test_lzf_hostile);
    suite_add_tcase(s, lzf);

    TCase *payload = tcase_create("payload");
    tcase_add_test(payload, test_redis_payloads);
    tcase_add_test(payload, test_payload_seal_verify);
    tcase_add_test(payload, test_payload_versions);
    suite_add_tcase(s, payload);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(dump_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
