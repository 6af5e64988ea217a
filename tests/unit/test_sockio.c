/*
 * test_sockio.c: unit tests for core/sockio.c (I/O with a time limit on non-blocking
 * sockets, used by the replication threads) and the refusal of an outgoing TLS session
 * without a CA to verify the master with (core/tls.c).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockio.h"
#include "tls.h"

static int sv[2];

static void setup(void) {
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    for (int i = 0; i < 2; i++) fcntl(sv[i], F_SETFL, fcntl(sv[i], F_GETFL) | O_NONBLOCK);
}

static void teardown(void) {
    close(sv[0]);
    close(sv[1]);
}

#define BIG (4 << 20)

static void *reader(void *arg) {
    sockio_t in = {.fd = sv[1], .timeout_ms = 5000};
    char *got = malloc(BIG);
    size_t n = 0;
    while (n < BIG) {
        ssize_t r = sockio_read(&in, got + n, BIG - n);
        if (r <= 0) break;
        n += (size_t)r;
    }
    *(size_t *)arg = n;
    int ok = n == BIG;
    for (size_t i = 0; ok && i < BIG; i++) ok = got[i] == (char)(i * 7);
    free(got);
    return ok ? arg : NULL;
}

/* More than the socket holds: the writer waits for the reader instead of failing. */
START_TEST(test_write_all_waits_for_room) {
    char *data = malloc(BIG);
    for (size_t i = 0; i < BIG; i++) data[i] = (char)(i * 7);
    size_t got = 0;
    pthread_t t;
    pthread_create(&t, NULL, reader, &got);
    sockio_t out = {.fd = sv[0], .timeout_ms = 5000};
    ck_assert_int_eq(sockio_write_all(&out, data, BIG), 0);
    void *res;
    pthread_join(t, &res);
    ck_assert_uint_eq(got, BIG);
    ck_assert_ptr_nonnull(res);
    free(data);
}
END_TEST

START_TEST(test_read_times_out) {
    sockio_t in = {.fd = sv[1], .timeout_ms = 50};
    char buf[8];
    ck_assert_int_eq(sockio_read(&in, buf, sizeof buf), -1);
    ck_assert_int_eq(errno, ETIMEDOUT);
    errno = 0;
    ck_assert_int_eq(sockio_read_nowait(&in, buf, sizeof buf), -1);
    ck_assert_int_eq(errno, EAGAIN);
}
END_TEST

START_TEST(test_read_sees_close) {
    sockio_t in = {.fd = sv[1], .timeout_ms = 5000};
    char buf[8];
    ck_assert_int_eq(write(sv[0], "ab", 2), 2);
    ck_assert_int_eq(sockio_read(&in, buf, sizeof buf), 2);
    shutdown(sv[0], SHUT_WR);
    ck_assert_int_eq(sockio_read(&in, buf, sizeof buf), 0);
}
END_TEST

static void *shut_later(void *arg) {
    (void)arg;
    usleep(50000);
    shutdown(sv[1], SHUT_RDWR);
    return NULL;
}

/* Another thread's shutdown() ends a wait long before its time limit (REPLICAOF elsewhere). */
START_TEST(test_shutdown_ends_a_wait) {
    sockio_t in = {.fd = sv[1], .timeout_ms = 60000};
    pthread_t t;
    pthread_create(&t, NULL, shut_later, NULL);
    char buf[8];
    ck_assert_int_le(sockio_read(&in, buf, sizeof buf), 0);
    pthread_join(t, NULL);
}
END_TEST

START_TEST(test_tls_client_needs_a_ca) {
    char err[256] = "";
    ck_assert_ptr_null(tls_client_new(sv[0], err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "tls-ca-cert-file"));
}
END_TEST

int main(void) {
    Suite *s = suite_create("sockio");
    TCase *tc = tcase_create("sockio");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_write_all_waits_for_room);
    tcase_add_test(tc, test_read_times_out);
    tcase_add_test(tc, test_read_sees_close);
    tcase_add_test(tc, test_shutdown_ends_a_wait);
    tcase_add_test(tc, test_tls_client_needs_a_ca);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
