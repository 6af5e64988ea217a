/*
 * tls.h: TLS for client connections on --tls-port (OpenSSL), Redis's settings: tls-port,
 * tls-cert-file, tls-key-file, tls-ca-cert-file, tls-auth-clients (yes: clients must show a
 * certificate the CA signed; optional: checked when shown; no).
 *
 * One SSL_CTX for the server side (built at start-up, replaced whole when CONFIG SET changes a
 * tls-* setting, as Redis reloads certificates); each TLS client has its own SSL object,
 * touched only by its worker. Connections use these calls instead of
 * read()/write(): the handshake happens inside the first reads and writes, and OpenSSL's
 * "want read / want write" come back as EAGAIN, so the event loop code stays the same.
 *
 * Outgoing sessions (tls-replication yes: a replica connecting to its master) are built by
 * tls_client_new from the configuration of the moment (a fresh context each time, so CONFIG
 * SET of tls-ca-cert-dir or tls-client-cert-file applies to the next connection): the master
 * is verified against tls-ca-cert-file / tls-ca-cert-dir, and we show tls-client-cert-file
 * (else tls-cert-file) when set. Like Redis, the master's name is not checked, only its
 * chain. A session may move between threads with its socket, never be used by two at once.
 */
#ifndef DF_TLS_H
#define DF_TLS_H

#include <stddef.h>
#include <sys/types.h>

/* Main thread, start-up: 0 (or nothing to do without tls-port), -1 after logging why. */
int tls_init(void);
/* CONFIG SET of a tls-* setting: build the server context anew from the configuration and
   use it for the next clients (sessions keep theirs). 0, or -1 (logged) with the old one
   kept. Any thread. */
int tls_reconfigure(void);
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

/* A client-side session on the connected socket fd, for the replication to a master; NULL
   with why in err. Any thread (builds its own context from the configuration). */
void *tls_client_new(int fd, char *err, size_t cap);
/* Drive the handshake of a session on a non-blocking socket: 0 done; -1 with errno EAGAIN
   (call again when the socket is ready: tls_wants_write says for which direction), or EIO
   with why in err (a certificate the CA does not trust, a closed socket...). */
int tls_handshake(void *ssl, char *err, size_t cap);
/* After an EAGAIN: 1 if the session waits for the socket to be writable, 0 readable. */
int tls_wants_write(void *ssl);
/* The session goes on over fd (a dup() of its socket); 0 or -1. */
int tls_set_fd(void *ssl, int fd);

#endif
