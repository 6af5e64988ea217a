/*
 * tls.c: see tls.h.
 */
#include "tls.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"

#include <pthread.h>

/* The server context and whether it verifies clients (a CA is configured). Replaced whole
   by tls_reconfigure under tls_mu; a session takes its own reference (SSL_new), so the old
   context lives as long as its sessions. */
static SSL_CTX *tls_ctx;
static int tls_ctx_ca;
static pthread_mutex_t tls_mu = PTHREAD_MUTEX_INITIALIZER;

/* The first OpenSSL error of this thread as text in buf, the queue emptied. */
static const char *tls_error_into(char *buf, size_t cap) {
    unsigned long e = ERR_get_error();
    if (!e)
        snprintf(buf, cap, "unknown error");
    else
        ERR_error_string_n(e, buf, cap);
    ERR_clear_error();
    return buf;
}

/* tls-ca-cert-file and tls-ca-cert-dir into ctx's trust store. 1 loaded, 0 neither is
   set, -1 a bad file or directory (OpenSSL's error queue says why). */
static int tls_ca_locations(SSL_CTX *ctx) {
    const char *file = g_config.tls_ca_cert_file, *dir = config_tls_ca_cert_dir();
    if (file && !file[0]) file = NULL;
    if (dir && !dir[0]) dir = NULL;
    if (!file && !dir) return 0;
    return SSL_CTX_load_verify_locations(ctx, file, dir) == 1 ? 1 : -1;
}

/* The CA into ctx: 1 loaded, 0 none configured, -1 with err. */
static int tls_load_ca(SSL_CTX *ctx, char *err, size_t cap) {
    int rc = tls_ca_locations(ctx);
    if (rc < 0) {
        char why[200];
        snprintf(err, cap, "Failed to configure CA certificate(s) file/directory: %s",
                 tls_error_into(why, sizeof why));
    }
    return rc;
}

/* tls-auth-clients for a new session (read per connection, as Redis: CONFIG SET applies to
   the next client): yes, clients must show a certificate; optional, checked when shown. */
static void tls_verify_mode(SSL *ssl) {
    int mode = (int)g_config.tls_auth_clients;
    if (mode == 1) SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    else if (mode == 2) SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
    else SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
}

/* tls-protocols ("TLSv1.2 TLSv1.3", any case; empty: those two) as a version range. 0, or
   -1 for a word that is no TLS version. */
static int tls_protocol_range(int *lo, int *hi) {
    static const struct { const char *name; int v; } names[] = {
        {"tlsv1", TLS1_VERSION}, {"tlsv1.1", TLS1_1_VERSION}, {"tlsv1.2", TLS1_2_VERSION},
        {"tlsv1.3", TLS1_3_VERSION}};
    const char *p = config_compat_str(C_TLS_PROTOCOLS);
    *lo = TLS1_2_VERSION, *hi = TLS1_3_VERSION;
    if (!p || !p[0]) return 0;
    *lo = INT32_MAX, *hi = 0;
    while (*p) {
        while (*p == ' ') p++;
        size_t n = strcspn(p, " ");
        if (!n) break;
        int v = 0;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strlen(names[i].name) == n && strncasecmp(p, names[i].name, n) == 0) v = names[i].v;
        if (!v) return -1;
        if (v < *lo) *lo = v;
        if (v > *hi) *hi = v;
        p += n;
    }
    return *hi ? 0 : -1;
}

/* What both directions share: versions (tls-protocols), ciphers (tls-ciphers for TLS 1.2
   and below, tls-ciphersuites for 1.3), no compression, partial writes; the server's cipher
   order with tls-prefer-server-ciphers. 0, or -1 with err. */
static int tls_ctx_common(SSL_CTX *ctx, int server, char *err, size_t cap) {
    int lo, hi;
    const char *ciphers = config_compat_str(C_TLS_CIPHERS), *suites = config_compat_str(C_TLS_CIPHERSUITES);
    if (tls_protocol_range(&lo, &hi) < 0) {
        snprintf(err, cap, "Invalid tls-protocols specified");
        return -1;
    }
    SSL_CTX_set_min_proto_version(ctx, lo);
    SSL_CTX_set_max_proto_version(ctx, hi);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION);
    if (server && config_compat_num(C_TLS_PREFER_SERVER_CIPHERS))
        SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (ciphers && ciphers[0] && SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
        snprintf(err, cap, "Failed to configure ciphers: %s", ciphers);
        return -1;
    }
    if (suites && suites[0] && SSL_CTX_set_ciphersuites(ctx, suites) != 1) {
        snprintf(err, cap, "Failed to configure ciphersuites: %s", suites);
        return -1;
    }
    return 0;
}

/* Load cert and key into ctx, the key decrypted with pass when it is encrypted. */
static int tls_use_cert(SSL_CTX *ctx, const char *cert, const char *key, const char *pass) {
    SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)(uintptr_t)(pass && pass[0] ? pass : ""));
    int ok = SSL_CTX_use_certificate_chain_file(ctx, cert) == 1 &&
             SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1 &&
             SSL_CTX_check_private_key(ctx) == 1;
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
    return ok ? 0 : -1;
}

/* A server context from the configuration of the moment; NULL with err. *ca: it has a CA. */
static SSL_CTX *tls_server_ctx(int *ca, char *err, size_t cap) {
    const char *cert = g_config.tls_cert_file, *key = g_config.tls_key_file;
    char why[200];
    if (!cert || !cert[0] || !key || !key[0]) {
        snprintf(err, cap, "tls-port needs tls-cert-file and tls-key-file");
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, cap, "cannot create the TLS context: %s", tls_error_into(why, sizeof why));
        return NULL;
    }
    if (tls_ctx_common(ctx, 1, err, cap) < 0) goto fail;
    if (tls_use_cert(ctx, cert, key, config_compat_str(C_TLS_KEY_PASS)) < 0) {
        snprintf(err, cap, "Failed to load certificate %s / private key %s: %s", cert, key,
                 tls_error_into(why, sizeof why));
        goto fail;
    }
    if ((*ca = tls_load_ca(ctx, err, cap)) < 0) goto fail;
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

int tls_init(void) {
    if (g_config.tls_port <= 0) return 0;
    char err[512];
    tls_ctx = tls_server_ctx(&tls_ctx_ca, err, sizeof err);
    if (!tls_ctx) log_error("Failed to configure TLS: %s", err);
    return tls_ctx ? 0 : -1;
}

int tls_reconfigure(void) {
    if (g_config.tls_port <= 0) return 0; /* nothing listens: checked when it starts */
    char err[512];
    int ca = 0;
    SSL_CTX *ctx = tls_server_ctx(&ca, err, sizeof err);
    if (!ctx) {
        log_warning("Failed to configure TLS: %s", err);
        return -1;
    }
    pthread_mutex_lock(&tls_mu);
    SSL_CTX *old = tls_ctx;
    tls_ctx = ctx;
    tls_ctx_ca = ca;
    pthread_mutex_unlock(&tls_mu);
    if (old) SSL_CTX_free(old); /* its sessions hold their own references */
    log_notice("TLS configuration applied");
    return 0;
}

void tls_free(void) {
    if (tls_ctx) SSL_CTX_free(tls_ctx);
    tls_ctx = NULL;
}

void *tls_new(int fd) {
    pthread_mutex_lock(&tls_mu);
    SSL_CTX *ctx = tls_ctx;
    int ca = tls_ctx_ca;
    if (ctx) SSL_CTX_up_ref(ctx);
    pthread_mutex_unlock(&tls_mu);
    if (!ctx) return NULL;
    SSL *ssl = SSL_new(ctx);
    SSL_CTX_free(ctx); /* the session keeps its own reference */
    if (!ssl) return NULL;
    if (ca) tls_verify_mode(ssl);
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

/* ------------------------------------------------------------------------------------ */
/* Outgoing sessions (replication to a master with tls-replication yes)                   */

/* The certificate we show a master: tls-client-cert-file / tls-client-key-file when set,
   else tls-cert-file / tls-key-file, as Redis; none is fine unless the master asks. */
static int tls_client_cert(SSL_CTX *ctx, char *err, size_t cap) {
    const char *cert = config_tls_client_cert_file(), *key = config_tls_client_key_file();
    const char *pass = config_compat_str(C_TLS_CLIENT_KEY_PASS);
    if (!cert || !cert[0]) {
        cert = g_config.tls_cert_file;
        key = g_config.tls_key_file;
        pass = config_compat_str(C_TLS_KEY_PASS);
    }
    if (!cert || !cert[0]) return 0;
    if (!key || !key[0]) key = cert;
    if (tls_use_cert(ctx, cert, key, pass) == 0) return 0;
    char why[200];
    snprintf(err, cap, "cannot load the client certificate %s / key %s: %s", cert, key,
             tls_error_into(why, sizeof why));
    return -1;
}

void *tls_client_new(int fd, char *err, size_t cap) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    char why[200];
    if (!ctx) {
        snprintf(err, cap, "cannot create a TLS context: %s", tls_error_into(why, sizeof why));
        return NULL;
    }
    if (tls_ctx_common(ctx, 0, err, cap) < 0) goto fail;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    int ca = tls_ca_locations(ctx);
    if (ca <= 0) {
        if (ca == 0)
            snprintf(err, cap, "tls-replication needs tls-ca-cert-file or tls-ca-cert-dir to verify the master");
        else
            snprintf(err, cap, "cannot load the CA certificates: %s", tls_error_into(why, sizeof why));
        goto fail;
    }
    if (tls_client_cert(ctx, err, cap) < 0) goto fail;
    ssl = SSL_new(ctx);
    if (!ssl || SSL_set_fd(ssl, fd) != 1) {
        snprintf(err, cap, "cannot create a TLS session: %s", tls_error_into(why, sizeof why));
        if (ssl) SSL_free(ssl);
        ssl = NULL;
        goto fail;
    }
    SSL_set_connect_state(ssl);
fail:
    SSL_CTX_free(ctx); /* the session keeps its own reference */
    return ssl;
}

int tls_handshake(void *p, char *err, size_t cap) {
    SSL *ssl = p;
    ERR_clear_error();
    int r = SSL_do_handshake(ssl);
    if (r == 1) return 0;
    int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        errno = EAGAIN;
        return -1;
    }
    long v = SSL_get_verify_result(ssl);
    char why[200];
    if (v != X509_V_OK)
        snprintf(err, cap, "certificate verify failed: %s", X509_verify_cert_error_string(v));
    else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
        snprintf(err, cap, "%s", errno ? strerror(errno) : "connection closed during the handshake");
    else
        snprintf(err, cap, "%s", tls_error_into(why, sizeof why));
    ERR_clear_error();
    errno = EIO;
    return -1;
}

int tls_wants_write(void *ssl) { return SSL_want_write((SSL *)ssl); }

int tls_set_fd(void *ssl, int fd) { return SSL_set_fd(ssl, fd) == 1 ? 0 : -1; }
