/* reply.c: see reply.h. */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>

#include "alloc.h"
#include "info.h"
#include "util.h"

void rbuf_grow(rbuf_t *b, size_t need) {
    size_t want = b->len + need;
    if (want <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < want) cap = cap < (1u << 20) ? cap * 2 : cap + cap / 2;
    b->data = df_realloc(b->data, cap);
    b->cap = cap;
}

void rbuf_free(rbuf_t *b) {
    df_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void rbuf_append_command(rbuf_t *b, int argc, const dfm_str_t *argv) {
    char hdr[32];
    int n = snprintf(hdr, sizeof hdr, "*%d\r\n", argc);
    rbuf_append(b, hdr, (size_t)n);
    for (int i = 0; i < argc; i++) {
        n = snprintf(hdr, sizeof hdr, "$%zu\r\n", argv[i].len);
        rbuf_append(b, hdr, (size_t)n);
        rbuf_append(b, argv[i].ptr, argv[i].len);
        rbuf_append(b, "\r\n", 2);
    }
}

/* Append "<t><n>\r\n". */
static void reply_header(rbuf_t *b, char t, long long n) {
    if (b->cap - b->len < 32) rbuf_grow(b, 32);
    char *p = b->data + b->len;
    *p++ = t;
    p += util_ll2str(p, 24, n);
    *p++ = '\r';
    *p++ = '\n';
    b->len = (size_t)(p - b->data);
}

void reply_raw(dfm_ctx_t *ctx, const void *p, size_t len) { rbuf_append(ctx->out, p, len); }

void reply_ok(dfm_ctx_t *ctx) { rbuf_append(ctx->out, "+OK\r\n", 5); }

void reply_simple(dfm_ctx_t *ctx, const char *s) {
    rbuf_t *b = ctx->out;
    size_t n = strlen(s);
    rbuf_grow(b, n + 3);
    b->data[b->len++] = '+';
    rbuf_append(b, s, n);
    rbuf_append(b, "\r\n", 2);
}

/* An error the core gives a request-protocol client (resp 0: memcached): memcached's
   "SERVER_ERROR <message>", Redis's ERR prefix dropped; OOM is memcached's own text. */
static void reply_error_text(dfm_ctx_t *ctx, const char *err) {
    if (strncmp(err, "OOM ", 4) == 0) err = "out of memory storing object";
    if (strncmp(err, "ERR ", 4) == 0) err += 4;
    rbuf_append(ctx->out, "SERVER_ERROR ", 13);
    rbuf_append(ctx->out, err, strcspn(err, "\r\n"));
    rbuf_append(ctx->out, "\r\n", 2);
    ctx->errors++;
}

/* Errors are one line: CR/LF inside the message become spaces, as Redis does. */
void reply_error(dfm_ctx_t *ctx, const char *err) {
    if (__builtin_expect(ctx->resp == 0, 0)) {
        reply_error_text(ctx, err);
        return;
    }
    rbuf_t *b = ctx->out;
    size_t n = strlen(err);
    rbuf_grow(b, n + 3);
    b->data[b->len++] = '-';
    for (size_t i = 0; i < n; i++) b->data[b->len++] = (err[i] == '\r' || err[i] == '\n') ? ' ' : err[i];
    rbuf_append(b, "\r\n", 2);
    ctx->errors++;
    info_count_error(err);
}

void reply_errorf(dfm_ctx_t *ctx, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    reply_error(ctx, buf);
}

void reply_int(dfm_ctx_t *ctx, long long v) {
    if (v >= 0 && v < 10) {
        char s[4] = {':', (char)('0' + v), '\r', '\n'};
        rbuf_append(ctx->out, s, 4);
        return;
    }
    reply_header(ctx->out, ':', v);
}

void reply_bulk(dfm_ctx_t *ctx, const void *p, size_t len) {
    rbuf_t *b = ctx->out;
    if (b->cap - b->len < len + 32) rbuf_grow(b, len + 32);
    reply_header(b, '$', (long long)len);
    memcpy(b->data + b->len, p, len);
    b->len += len;
    b->data[b->len++] = '\r';
    b->data[b->len++] = '\n';
}

void reply_cstr(dfm_ctx_t *ctx, const char *s) { reply_bulk(ctx, s, strlen(s)); }

void reply_null(dfm_ctx_t *ctx) {
    if (ctx->resp >= 3)
        rbuf_append(ctx->out, "_\r\n", 3);
    else
        rbuf_append(ctx->out, "$-1\r\n", 5);
}

void reply_null_array(dfm_ctx_t *ctx) {
    if (ctx->resp >= 3)
        rbuf_append(ctx->out, "_\r\n", 3);
    else
        rbuf_append(ctx->out, "*-1\r\n", 5);
}

void reply_array(dfm_ctx_t *ctx, long n) { reply_header(ctx->out, '*', n); }

void reply_map(dfm_ctx_t *ctx, long n) {
    if (ctx->resp >= 3)
        reply_header(ctx->out, '%', n);
    else
        reply_header(ctx->out, '*', n * 2);
}

void reply_set(dfm_ctx_t *ctx, long n) { reply_header(ctx->out, ctx->resp >= 3 ? '~' : '*', n); }

void reply_push(dfm_ctx_t *ctx, long n) { reply_header(ctx->out, ctx->resp >= 3 ? '>' : '*', n); }

void reply_double(dfm_ctx_t *ctx, double d) {
    char buf[64];
    int n = util_d2str(buf, sizeof buf, d);
    if (ctx->resp >= 3) {
        rbuf_append(ctx->out, ",", 1);
        rbuf_append(ctx->out, buf, (size_t)n);
        rbuf_append(ctx->out, "\r\n", 2);
    } else {
        reply_bulk(ctx, buf, (size_t)n);
    }
}

void reply_bool(dfm_ctx_t *ctx, int v) {
    if (ctx->resp >= 3)
        rbuf_append(ctx->out, v ? "#t\r\n" : "#f\r\n", 4);
    else
        rbuf_append(ctx->out, v ? ":1\r\n" : ":0\r\n", 4);
}

void reply_verbatim(dfm_ctx_t *ctx, const char *p, size_t len) {
    if (ctx->resp < 3) {
        reply_bulk(ctx, p, len);
        return;
    }
    reply_header(ctx->out, '=', (long long)len + 4);
    rbuf_append(ctx->out, "txt:", 4);
    rbuf_append(ctx->out, p, len);
    rbuf_append(ctx->out, "\r\n", 2);
}

void reply_wrongtype(dfm_ctx_t *ctx) {
    reply_error(ctx, "WRONGTYPE Operation against a key holding the wrong kind of value");
}

void reply_syntax_error(dfm_ctx_t *ctx) { reply_error(ctx, "ERR syntax error"); }

int reply_resp_version(dfm_ctx_t *ctx) { return ctx->resp; }
