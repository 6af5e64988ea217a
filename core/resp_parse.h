/*
 * resp_parse.h: incremental, zero-copy parser for client requests: RESP multibulk
 * ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") and inline commands ("GET k\r\n", as telnet sends).
 *
 * The caller keeps the unparsed bytes in one buffer and calls resp_parse() with the start of
 * the current command and the number of bytes available. The parser remembers how far it got
 * (as offsets, so the caller may move the buffer between calls, keeping the same start).
 * On RESP_OK, argv[0..argc) point into buf and *consumed says how many bytes the command took;
 * the parser resets for the next command. Inline commands are unescaped in place (buf is
 * writable). Empty inline lines and "*0"/"*-1" multibulks are skipped (they are consumed and
 * parsing goes on).
 *
 * Limits and errors are Redis 7.0's; err holds the message without "-ERR " prefix, e.g.
 * "Protocol error: invalid multibulk length". After RESP_ERROR the caller replies -ERR <err>
 * and closes the connection.
 *
 * Single-threaded; one parser per connection.
 */
#ifndef DF_RESP_PARSE_H
#define DF_RESP_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include "dragonfly/module.h"

#define RESP_OK 0
#define RESP_INCOMPLETE 1
#define RESP_ERROR (-1)
#define RESP_CLOSE (-2) /* not the parser's: a request protocol asked to close (conn.c) */

#define RESP_INLINE_MAX (64 * 1024)  /* PROTO_INLINE_MAX_SIZE */
#define RESP_MBULK_MAX 2147483647 /* multibulk count limit: INT_MAX, as Redis 7.0 */

typedef struct resp_arg_off {
    size_t off, len;
} resp_arg_off_t;

typedef struct resp_parser {
    /* limits, set by the caller (defaults from resp_parser_init) */
    long long max_bulk_len;  /* proto-max-bulk-len, default 512 MB */
    /* outputs */
    dfm_str_t *argv;
    int argc;
    const char *err;
    /* internal state */
    int argv_cap;
    resp_arg_off_t *offs;
    int offs_cap;
    int state;
    long long mbulk_left;
    long long bulk_len;
    size_t pos; /* bytes of the current command already parsed */
} resp_parser_t;

void resp_parser_init(resp_parser_t *p);
void resp_parser_free(resp_parser_t *p);
/* Forget any partial command (after an error or a connection reset). */
void resp_parser_reset(resp_parser_t *p);
/* Parse the next command. See the file comment. buf is writable for inline unescaping. */
int resp_parse(resp_parser_t *p, char *buf, size_t len, size_t *consumed);
/* After RESP_INCOMPLETE: total bytes (from the command start) needed before progress is
   possible, when known (inside a large bulk), else 0. Lets the caller grow its buffer once. */
size_t resp_parser_need(const resp_parser_t *p);

#endif
