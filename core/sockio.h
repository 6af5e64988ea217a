/*
 * sockio.h: I/O with a time limit on a non-blocking socket, plain or TLS, for the threads of
 * replication that are not workers (the replica's replication thread, a master's sender
 * threads). They wait in poll() for the direction the socket (or the TLS session) needs, so
 * a stalled peer costs at most the time limit, and shutdown() of the socket by another
 * thread ends any wait at once. Event-loop threads never use these calls.
 */
#ifndef DF_SOCKIO_H
#define DF_SOCKIO_H

#include <stddef.h>
#include <sys/types.h>

typedef struct sockio {
    int fd;         /* non-blocking */
    void *ssl;      /* the TLS session over fd (tls.h), or NULL: plain */
    int timeout_ms; /* the longest wait for the socket in one call */
} sockio_t;

/* Finish a TLS session's handshake (nothing to do without one): 0, or -1 with why in err. */
int sockio_handshake(sockio_t *s, char *err, size_t cap);
/* Up to n bytes, waiting for the first: >0 bytes, 0 the peer closed, -1 an error or the
   time limit (errno ETIMEDOUT). */
ssize_t sockio_read(sockio_t *s, void *buf, size_t n);
/* Up to n bytes already there: >0, 0 the peer closed, -1 errno EAGAIN (none yet) or an error. */
ssize_t sockio_read_nowait(sockio_t *s, void *buf, size_t n);
/* All n bytes: 0, or -1 (the peer went away, or took none for the time limit). A TLS session
   is only retried with the same bytes, as OpenSSL requires. */
int sockio_write_all(sockio_t *s, const void *buf, size_t n);

#endif
