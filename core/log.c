/* log.c: see log.h. */
#include "log.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = DFM_LOG_NOTICE;
static atomic_int log_fd = 2;
static char log_path[4096];

void log_set_level(int level) { atomic_store(&log_level, level); }

int log_open(const char *path) {
    if (!path || !*path) {
        log_path[0] = '\0';
        atomic_store(&log_fd, 2);
        return 0;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    snprintf(log_path, sizeof log_path, "%s", path);
    int old = atomic_exchange(&log_fd, fd);
    if (old > 2) close(old);
    return 0;
}

void log_reopen(void) {
    if (log_path[0]) log_open(log_path);
}

void log_vmsg(int level, const char *fmt, va_list ap) {
    static const char marks[] = ".-*#!E";
    if (level < atomic_load_explicit(&log_level, memory_order_relaxed)) return;
    char buf[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    int n = snprintf(buf, sizeof buf, "%d:M ", (int)getpid());
    n += (int)strftime(buf + n, sizeof buf - (size_t)n, "%d %b %Y %H:%M:%S", &tm);
    n += snprintf(buf + n, sizeof buf - (size_t)n, ".%03d %c ", (int)(tv.tv_usec / 1000),
                  marks[level < 0 ? 0 : level > 5 ? 5 : level]);
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    n = (m < 0) ? n : (n + m >= (int)sizeof buf - 1) ? (int)sizeof buf - 2 : n + m;
    buf[n++] = '\n';
    ssize_t w = write(atomic_load(&log_fd), buf, (size_t)n);
    (void)w;
}

void log_msg(int level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}
