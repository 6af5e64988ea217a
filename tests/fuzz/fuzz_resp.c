/*
 * fuzz_resp.c: libFuzzer target for the client request parser (core/resp_parse.c).
 *
 * The input is a short header followed by a byte stream as a client would send it. The stream
 * is parsed twice: once in a single buffer, and once the way the network layer sees it, in
 * chunks whose sizes come from the header, with the buffer reallocated (so moved) before every
 * call. Besides the sanitizers' checks this asserts the parser's contract: consumed within the
 * buffer, argv inside the consumed bytes, need() beyond what is there, errors named, and, the
 * point of the exercise, that chunking never changes the commands or the outcome (except that
 * a "too big" limit can trip earlier when a long line arrives piecemeal, as in Redis).
 *
 * Header: byte 0 picks max_bulk_len (>= 200: a tiny limit byte-200, else the default);
 * bytes 1-4 are the chunk sizes (each 1 + value), used in turn.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp_parse.h"

#define FUZZ_HDR 5

#define FUZZ_CHECK(cond)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "fuzz_resp: check failed: %s (line %d)\n", #cond, __LINE__);      \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

/* A growable byte log of parsed commands, for comparing the two runs. */
typedef struct fuzz_log {
    unsigned char *b;
    size_t len, cap;
} fuzz_log_t;

static void fuzz_log_put(fuzz_log_t *l, const void *src, size_t n)
{
    if (l->len + n > l->cap) {
        size_t cap = l->cap ? l->cap : 256;
        while (cap < l->len + n)
            cap *= 2;
        l->b = realloc(l->b, cap);
        FUZZ_CHECK(l->b != NULL);
        l->cap = cap;
    }
    memcpy(l->b + l->len, src, n);
    l->len += n;
}

/* Checks a RESP_OK result against buf[0..len) and appends the command to the log. */
static void fuzz_check_cmd(const resp_parser_t *p, const char *buf, size_t len, size_t used,
                           fuzz_log_t *log)
{
    FUZZ_CHECK(used > 0 && used <= len);
    FUZZ_CHECK(p->argc > 0);
    fuzz_log_put(log, &p->argc, sizeof(p->argc));
    for (int i = 0; i < p->argc; i++) {
        const char *a = p->argv[i].ptr;
        size_t n = p->argv[i].len;
        FUZZ_CHECK(a >= buf && a <= buf + used && n <= (size_t)(buf + used - a));
        fuzz_log_put(log, &n, sizeof(n));
        fuzz_log_put(log, a, n);
    }
}

static int fuzz_is_too_big(const char *err)
{
    return err != NULL && strstr(err, "too big") != NULL;
}

/* Outcome of one run: RESP_INCOMPLETE at the end of the stream, or RESP_ERROR with err. */
typedef struct fuzz_run {
    fuzz_log_t log;
    int rc;
    const char *err;
} fuzz_run_t;

static void fuzz_check_error(const resp_parser_t *p, size_t used, fuzz_run_t *r)
{
    FUZZ_CHECK(used == 0);
    FUZZ_CHECK(p->err != NULL && strncmp(p->err, "Protocol error: ", 16) == 0);
    r->rc = RESP_ERROR;
    r->err = p->err;
}

/* Parses the whole stream from one buffer. */
static void fuzz_run_whole(const uint8_t *data, size_t size, long long max_bulk, fuzz_run_t *r)
{
    resp_parser_t p;
    resp_parser_init(&p);
    p.max_bulk_len = max_bulk;
    char *buf = malloc(size ? size : 1);
    FUZZ_CHECK(buf != NULL);
    memcpy(buf, data, size);
    size_t off = 0, used;
    for (;;) {
        int rc = resp_parse(&p, buf + off, size - off, &used);
        if (rc == RESP_OK) {
            fuzz_check_cmd(&p, buf + off, size - off, used, &r->log);
            off += used;
        } else if (rc == RESP_ERROR) {
            fuzz_check_error(&p, used, r);
            break;
        } else {
            FUZZ_CHECK(used <= size - off);
            size_t need = resp_parser_need(&p);
            FUZZ_CHECK(need == 0 || need > size - off);
            r->rc = RESP_INCOMPLETE;
            break;
        }
    }
    free(buf);
    resp_parser_free(&p);
}

/* Returns a fresh copy of buf[0..have) with room for `extra` more bytes, freeing buf: the
   parser must never rely on the buffer staying put. */
static char *fuzz_move(char *buf, size_t have, size_t extra)
{
    char *n = malloc(have + extra ? have + extra : 1);
    FUZZ_CHECK(n != NULL);
    if (have > 0)
        memcpy(n, buf, have);
    free(buf);
    return n;
}

/* Drains complete commands from buf[0..*have); returns 0 to go on reading, -1 on error. */
static int fuzz_drain(resp_parser_t *p, char *buf, size_t *have, fuzz_run_t *r)
{
    for (;;) {
        size_t used;
        int rc = resp_parse(p, buf, *have, &used);
        if (rc == RESP_ERROR) {
            fuzz_check_error(p, used, r);
            return -1;
        }
        if (rc == RESP_OK)
            fuzz_check_cmd(p, buf, *have, used, &r->log);
        else
            FUZZ_CHECK(used <= *have);
        memmove(buf, buf + used, *have - used);
        *have -= used;
        if (rc == RESP_INCOMPLETE) {
            size_t need = resp_parser_need(p);
            FUZZ_CHECK(need == 0 || need > *have);
            r->rc = RESP_INCOMPLETE;
            return 0;
        }
    }
}

/* Parses the stream as it would arrive from the network, in chunks. */
static void fuzz_run_chunked(const uint8_t *data, size_t size, long long max_bulk,
                             const uint8_t *sizes, fuzz_run_t *r)
{
    resp_parser_t p;
    resp_parser_init(&p);
    p.max_bulk_len = max_bulk;
    char *buf = NULL;
    size_t have = 0, off = 0;
    r->rc = RESP_INCOMPLETE;
    for (unsigned k = 0; off < size; k++) {
        size_t chunk = 1 + (size_t)sizes[k % 4];
        if (chunk > size - off)
            chunk = size - off;
        buf = fuzz_move(buf, have, chunk);
        memcpy(buf + have, data + off, chunk);
        have += chunk;
        off += chunk;
        if (fuzz_drain(&p, buf, &have, r) < 0)
            break;
    }
    free(buf);
    resp_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < FUZZ_HDR)
        return 0;
    long long max_bulk = data[0] >= 200 ? data[0] - 200 : 512LL * 1024 * 1024;
    const uint8_t *sizes = data + 1;
    data += FUZZ_HDR;
    size -= FUZZ_HDR;

    fuzz_run_t whole = {0}, chunked = {0};
    fuzz_run_whole(data, size, max_bulk, &whole);
    fuzz_run_chunked(data, size, max_bulk, sizes, &chunked);

    if (chunked.rc == RESP_ERROR && fuzz_is_too_big(chunked.err)) {
        FUZZ_CHECK(chunked.log.len <= whole.log.len);
        FUZZ_CHECK(memcmp(chunked.log.b, whole.log.b, chunked.log.len) == 0 ||
                   chunked.log.len == 0);
    } else {
        FUZZ_CHECK(chunked.rc == whole.rc);
        FUZZ_CHECK(chunked.err == whole.err);
        FUZZ_CHECK(chunked.log.len == whole.log.len);
        FUZZ_CHECK(chunked.log.len == 0 || memcmp(chunked.log.b, whole.log.b, whole.log.len) == 0);
    }
    free(whole.log.b);
    free(chunked.log.b);
    return 0;
}
