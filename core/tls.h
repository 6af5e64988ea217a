/*
 * tls.h: TLS for client connections on --tls-port (OpenSSL), Redis's settings: tls-port,
 * tls-cert-file, tls-key-file, tls-ca-cert-file, tls-auth-clients (yes: clients must show a
 * certificate the CA signed; optional: checked when shown; no).
 *
 * One SSL_CTX for the process (built at start-up, read-only afterwards); each TLS client has
 * its own SSL object, touched only by its worker. Connections use these calls instead of
 * read()/write(): the handshake happens inside the first reads and writes, and OpenSSL's
 * "want read / want write" come back as EAGAIN, so the event loop code stays the same.
 */
#ifndef DF_TLS_H
#define DF_TLS_H

#include <stddef.h>
#include <sys/types.h>

/* Main thread, start-up: 0 (or nothing to do without tls-port), -1 after logging why. */
int tls_init(void);
void tls_free(void);
/* A server-side TLS session on fd (NULL on failure). */
void *tls_new(int fd);
void tls_close(void *ssl); /* sends close_notify when it can, frees */
/* read()/write() semantics: bytes, 0 at the peer's close, -1 with errno (EAGAIN: try when
   the socket is ready again; EIO: the session failed). */
ssize_t tls_read(void *ssl, void *buf, size_t n);
ssize_t tls_write(void *ssl, const void *buf, size_t n);
/* Decrypted bytes OpenSSL holds that the socket will not signal again. */
int tls_pending(void *ssl);

#endif
