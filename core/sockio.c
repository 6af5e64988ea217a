/*
 * sockio.c: see sockio.h.
 */
#include "sockio.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tls.h"
#include "util.h"

/* Wait until the socket is ready for what the last call wanted: 0 ready (or closed: the next
   call finds out), -1 errno ETIMEDOUT. writing: the call was a write (a TLS session may
   want the other direction). */
static int sockio_wait(sockio_t *s, int writing) {
    int out = writing;
    if (s->ssl) out = tls_wants_write(s->ssl);
    struct pollfd p = {s->fd, (short)(out ? POLLOUT : POLLIN), 0};
    int64_t end = util_now_ms() + s->timeout_ms;
    for (;;) {
        int64_t left = end - util_now_ms();
        int n = poll(&p, 1, left > 0 ? (int)left : 0);
        if (n > 0) return 0;
        if (n == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (errno != EINTR) return -1;
    }
}

int sockio_handshake(sockio_t *s, char *err, size_t cap) {
    if (!s->ssl) return 0;
    for (;;) {
        if (tls_handshake(s->ssl, err, cap) == 0) return 0;
        if (errno != EAGAIN) return -1;
        if (sockio_wait(s, 0) < 0) {
            snprintf(err, cap, "TLS handshake: %s", strerror(errno));
            return -1;
        }
    }
}

ssize_t sockio_read_nowait(sockio_t *s, void *buf, size_t n) {
    for (;;) {
        ssize_t r = s->ssl ? tls_read(s->ssl, buf, n) : read(s->fd, buf, n);
        if (r >= 0 || errno != EINTR) return r;
    }
}

ssize_t sockio_read(sockio_t *s, void *buf, size_t n) {
    for (;;) {
        ssize_t r = sockio_read_nowait(s, buf, n);
        if (r >= 0 || errno != EAGAIN) return r;
        if (sockio_wait(s, 0) < 0) return -1;
    }
}

int sockio_write_all(sockio_t *s, const void *buf, size_t n) {
    const char *p = buf;
    while (n) {
        ssize_t w = s->ssl ? tls_write(s->ssl, p, n) : write(s->fd, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w == 0 || errno != EAGAIN || sockio_wait(s, 1) < 0) return -1;
    }
    return 0;
}
