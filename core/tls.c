/*
 * tls.c: see tls.h.
 */
#include "tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>

#include "config.h"
#include "log.h"

static SSL_CTX *tls_ctx;

/* The first OpenSSL error as text (for the start-up log). */
static const char *tls_error(void) {
    static char buf[256];
    unsigned long e = ERR_get_error();
    if (!e) return "unknown error";
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

static int tls_load_ca(SSL_CTX *ctx) {
    const char *ca = g_config.tls_ca_cert_file;
    if (!ca || !ca[0]) return 0;
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
        log_error("Failed to configure CA certificate(s) file/directory: %s", tls_error());
        return -1;
    }
    int mode = (int)g_config.tls_auth_clients;
    if (mode == 1) SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    if (mode == 2) SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return 0;
}

int tls_init(void) {
    if (g_config.tls_port <= 0) return 0;
    const char *cert = g_config.tls_cert_file, *key = g_config.tls_key_file;
    if (!cert || !cert[0] || !key || !key[0]) {
        log_error("Failed to configure TLS: tls-port needs tls-cert-file and tls-key-file");
        return -1;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        log_error("Failed to create the TLS context: %s", tls_error());
        return -1;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        log_error("Failed to load certificate %s / private key %s: %s", cert, key, tls_error());
        SSL_CTX_free(ctx);
        return -1;
    }
    if (tls_load_ca(ctx) < 0) {
        SSL_CTX_free(ctx);
        return -1;
    }
    tls_ctx = ctx;
    return 0;
}

void tls_free(void) {
    if (tls_ctx) SSL_CTX_free(tls_ctx);
    tls_ctx = NULL;
}

void *tls_new(int fd) {
    if (!tls_ctx) return NULL;
    SSL *ssl = SSL_new(tls_ctx);
    if (!ssl) return NULL;
    SSL_set_fd(ssl, fd);
    SSL_set_accept_state(ssl);
    return ssl;
}

void tls_close(void *p) {
    SSL *ssl = p;
    if (!ssl) return;
    if (SSL_is_init_finished(ssl)) SSL_shutdown(ssl); /* one try: the socket is non-blocking */
    SSL_free(ssl);
    ERR_clear_error();
}

/* An OpenSSL result r of a read or write as read()/write() would return it. */
static ssize_t tls_result(SSL *ssl, int r) {
    if (r > 0) return r;
    int e = SSL_get_error(ssl, r);
    ERR_clear_error();
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (errno == 0) return 0; /* EOF without close_notify */
        return -1;
    default:
        errno = EIO;
        return -1;
    }
}

ssize_t tls_read(void *ssl, void *buf, size_t n) {
    errno = 0;
    return tls_result(ssl, SSL_read(ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n));
}

ssize_t tls_write(void *ssl, const void *buf, size_t n) {
    errno = 0;
    return tls_result(ssl, SSL_write(ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n));
}

int tls_pending(void *ssl) { return SSL_pending(ssl); }
