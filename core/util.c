/* util.c: see util.h. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

int util_str2ll(const char *s, size_t len, long long *out) {
    if (len == 0 || len > 20) return -1;
    size_t i = 0;
    int neg = 0;
    if (len == 1 && s[0] == '0') {
        *out = 0;
        return 0;
    }
    if (s[0] == '-') {
        neg = 1;
        i = 1;
        if (len == 1) return -1;
    }
    if (s[i] < '1' || s[i] > '9') return -1;
    unsigned long long v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1) return -1;
        *out = (long long)(0 - v);
    } else {
        if (v > (unsigned long long)LLONG_MAX) return -1;
        *out = (long long)v;
    }
    return 0;
}

int util_str2ld(const char *s, size_t len, long double *out) {
    char buf[5120];
    if (len == 0 || len >= sizeof buf || memchr(s, '\0', len)) return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (isspace((unsigned char)buf[0])) return -1;
    char *end;
    errno = 0;
    long double v = strtold(buf, &end);
    if (*end != '\0' || (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || v == 0)) ||
        isnan(v))
        return -1;
    *out = v;
    return 0;
}

int util_str2d(const char *s, size_t len, double *out) {
    char buf[5120];
    if (len == 0 || len >= sizeof buf || memchr(s, '\0', len)) return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (isspace((unsigned char)buf[0])) return -1;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end != '\0' || (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || v == 0)) ||
        isnan(v))
        return -1;
    *out = v;
    return 0;
}

int util_ll2str(char *buf, size_t cap, long long v) {
    char tmp[24];
    unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
    int n = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) tmp[n++] = '-';
    if ((size_t)n + 1 > cap) return 0;
    for (int i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}

int util_ld2str(char *buf, size_t cap, long double v, int humanfriendly) {
    int n;
    if (isinf(v)) {
        if (cap < 5) return 0;
        return snprintf(buf, cap, "%s", v > 0 ? "inf" : "-inf");
    }
    if (humanfriendly) {
        n = snprintf(buf, cap, "%.17Lf", v);
        if (n < 0 || (size_t)n >= cap) return 0;
        if (strchr(buf, '.')) {
            char *p = buf + n - 1;
            while (*p == '0') p--;
            if (*p == '.') p--;
            p[1] = '\0';
            n = (int)(p - buf + 1);
        }
        if (n == 2 && buf[0] == '-' && buf[1] == '0') {
            buf[0] = '0';
            buf[1] = '\0';
            n = 1;
        }
    } else {
        n = snprintf(buf, cap, "%.17Lg", v);
        if (n < 0 || (size_t)n >= cap) return 0;
    }
    return n;
}

int util_d2str(char *buf, size_t cap, double v) {
    if (isinf(v)) return snprintf(buf, cap, "%s", v > 0 ? "inf" : "-inf");
    if (isnan(v)) return snprintf(buf, cap, "nan");
    return snprintf(buf, cap, "%.17g", v);
}

int util_eq_nocase(const char *p, size_t len, const char *word) {
    size_t i = 0;
    for (; i < len; i++) {
        if (!word[i] || tolower((unsigned char)p[i]) != tolower((unsigned char)word[i])) return 0;
    }
    return word[i] == '\0';
}

size_t util_lower(char *buf, size_t cap, const char *p, size_t len) {
    if (len >= cap) len = cap - 1;
    for (size_t i = 0; i < len; i++) buf[i] = (char)tolower((unsigned char)p[i]);
    buf[len] = '\0';
    return len;
}

uint64_t util_seed64(void) {
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, 0) != sizeof s) s = (uint64_t)util_now_us();
    return s | 1;
}

uint64_t util_rand64(void) {
    static _Thread_local uint64_t state;
    if (!state) state = util_seed64();
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ull;
}

static double util_cycles_per_us = 1000.0;

void util_calibrate(void) {
    int64_t t0 = util_mono_us();
    uint64_t c0 = util_cycles();
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    int64_t t1 = util_mono_us();
    uint64_t c1 = util_cycles();
    if (t1 > t0 && c1 > c0) util_cycles_per_us = (double)(c1 - c0) / (double)(t1 - t0);
}

uint64_t util_cycles_to_us(uint64_t cycles) { return (uint64_t)((double)cycles / util_cycles_per_us); }

uint64_t util_us_to_cycles(uint64_t us) {
    double c = (double)us * util_cycles_per_us;
    return c >= 1.8e19 ? UINT64_MAX : (uint64_t)c;
}

int util_write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int util_thread_detached(void *(*fn)(void *), void *arg) {
    pthread_t tid;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int err = pthread_create(&tid, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    return err;
}
