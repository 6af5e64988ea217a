/*
 * resp_parse.c: the client request parser (RESP multibulk and inline commands).
 *
 * Every request of every client goes through here, so the parser is a single forward pass over
 * the input: memchr for line ends, a digit loop for lengths, no copy of argument bytes (argv
 * points into the caller's buffer) and no allocation once the argv arrays have grown to the
 * connection's largest command. Its semantics are Redis 7.0's (networking.c and sdssplitargs):
 * the same limits, the same skip rules for empty commands and the same error strings, so a
 * client cannot tell the difference.
 *
 * Progress across calls is kept as offsets from the command start (p->pos, p->offs), never as
 * pointers, so the caller may grow or move its buffer between calls; a command that arrives in
 * many pieces is scanned once in total (a 1M-argument MSET read 16 KB at a time stays linear).
 *
 * Internal state, per p->state:
 *   START      nothing of the next command seen yet; pos is 0.
 *   MBULK_HDR  waiting for the "*<n>\r\n" line starting at pos; bulk_len = bytes of it already
 *              scanned without finding '\r'.
 *   BULK_HDR   waiting for a "$<len>\r\n" line starting at pos (bulk_len as above); argc
 *              arguments done, mbulk_left still to come.
 *   BULK_DATA  waiting for bulk_len bytes + "\r\n" starting at pos.
 *   INLINE     waiting for the '\n' ending the inline line starting at pos; bulk_len = bytes
 *              scanned without finding it.
 *
 * Deliberate differences from Redis, all on input no real client sends: NUL bytes are ordinary
 * bytes in header and inline lines (Redis looks for line ends with strchr, which stops at a NUL,
 * so such a request just hangs until a "too big" error), and the two bytes after a bulk payload
 * must be "\r\n" (Redis skips them unchecked; a wrong length would silently desynchronise the
 * stream, so it is refused as an invalid bulk length).
 *
 * Single-threaded per parser; the only shared data is an error-string table filled before
 * main() and read-only afterwards.
 */
#include "resp_parse.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum { ST_START = 0, ST_MBULK_HDR, ST_BULK_HDR, ST_BULK_DATA, ST_INLINE };

/* Result of one state step. */
enum { STEP_ERR = -1, STEP_NEXT = 0, STEP_MORE, STEP_SKIP, STEP_DONE };

#define RESP_DEFAULT_MAX_BULK (512LL * 1024 * 1024)
#define RESP_OFFS_PREALLOC 1024 /* never trust a count line for more than this up front */
#define RESP_ARRAYS_KEEP 4096   /* argv/offs entries kept between commands; more are freed */

static const char resp__e_mbulk_len[] = "Protocol error: invalid multibulk length";
static const char resp__e_bulk_len[] = "Protocol error: invalid bulk length";
static const char resp__e_mbulk_big[] = "Protocol error: too big mbulk count string";
static const char resp__e_bulk_big[] = "Protocol error: too big bulk count string";
static const char resp__e_inline_big[] = "Protocol error: too big inline request";
static const char resp__e_quotes[] = "Protocol error: unbalanced quotes in request";
static const char resp__e_oom[] = "Protocol error: out of memory";

/* "Protocol error: expected '$', got 'X'" for every byte X, as Redis renders it: its
   printf-style formatting stops at a NUL and its reply sanitiser turns CR and LF into spaces. */
static char resp__e_dollar[256][48];

__attribute__((constructor)) static void resp__init_dollar_errors(void)
{
    static const char head[] = "Protocol error: expected '$', got '";
    for (int c = 0; c < 256; c++) {
        char *s = resp__e_dollar[c];
        memcpy(s, head, sizeof(head) - 1);
        if (c == 0)
            continue; /* array is zeroed: the message ends right after the quote */
        s[sizeof(head) - 1] = (c == '\r' || c == '\n') ? ' ' : (char)c;
        s[sizeof(head)] = '\'';
    }
}

/* Forget the partial command but keep argc/argv/err (they may be the caller's output). */
static void resp__clear_state(resp_parser_t *p)
{
    p->state = ST_START;
    p->pos = 0;
    p->bulk_len = 0;
    p->mbulk_left = 0;
}

void resp_parser_init(resp_parser_t *p)
{
    memset(p, 0, sizeof(*p));
    p->max_bulk_len = RESP_DEFAULT_MAX_BULK;
}

void resp_parser_free(resp_parser_t *p)
{
    free(p->argv);
    free(p->offs);
    p->argv = NULL;
    p->offs = NULL;
    p->argv_cap = p->offs_cap = 0;
    p->argc = 0;
    resp__clear_state(p);
}

/* Between commands, drops argv/offs arrays grown by an unusually large command, so one big
   MSET does not pin tens of megabytes to an idle connection. */
static void resp__trim_arrays(resp_parser_t *p)
{
    if (p->argv_cap > RESP_ARRAYS_KEEP) {
        free(p->argv);
        p->argv = NULL;
        p->argv_cap = 0;
    }
    if (p->offs_cap > RESP_ARRAYS_KEEP) {
        free(p->offs);
        p->offs = NULL;
        p->offs_cap = 0;
    }
}

void resp_parser_reset(resp_parser_t *p)
{
    resp__clear_state(p);
    p->argc = 0;
    p->err = NULL;
}

size_t resp_parser_need(const resp_parser_t *p)
{
    if (p->state != ST_BULK_DATA)
        return 0;
    unsigned long long need = (unsigned long long)p->pos + (unsigned long long)p->bulk_len + 2;
    return need > SIZE_MAX ? SIZE_MAX : (size_t)need;
}

/* Grows an array of `el`-sized entries with capacity *cap to hold at least `want`, doubling.
   Returns the (possibly moved) array, or NULL on failure with the old array untouched. */
static void *resp__grow(void *arr, int *cap, size_t want, size_t el)
{
    if (want <= (size_t)*cap)
        return arr;
    if (want > INT_MAX / 2)
        return NULL;
    size_t ncap = *cap > 0 ? (size_t)*cap : 8;
    while (ncap < want)
        ncap *= 2;
    void *n = realloc(arr, ncap * el);
    if (n != NULL)
        *cap = (int)ncap;
    return n;
}

static bool resp__reserve_offs(resp_parser_t *p, size_t want)
{
    void *n = resp__grow(p->offs, &p->offs_cap, want, sizeof(*p->offs));
    if (n == NULL)
        return false;
    p->offs = n;
    return true;
}

/* Appends one argument (offset/length from the command start). False on allocation failure. */
static inline bool resp__push(resp_parser_t *p, size_t off, size_t len)
{
    if (p->argc >= p->offs_cap && !resp__reserve_offs(p, (size_t)p->argc + 1))
        return false;
    p->offs[p->argc].off = off;
    p->offs[p->argc].len = len;
    p->argc++;
    return true;
}

static int resp__fail(resp_parser_t *p, const char *err)
{
    p->err = err;
    return STEP_ERR;
}

/* Redis's string2ll: optional '-', then "0" alone or a digit 1-9 followed by digits, at most
   20 characters, within long long. No '+', spaces or leading zeros. True if s[0..n) is one. */
static bool resp__strict_ll(const char *s, size_t n, long long *out)
{
    if (n == 0 || n > 20)
        return false;
    if (n == 1 && s[0] == '0') {
        *out = 0;
        return true;
    }
    size_t i = 0;
    bool neg = s[0] == '-';
    if (neg && ++i == n)
        return false;
    if (s[i] < '1' || s[i] > '9')
        return false;
    unsigned long long v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return false;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return false;
        *out = (long long)v;
    }
    return true;
}

/* Fast path for the usual header line: lead byte, 1-18 plain digits, '\r', and at least one
   more byte present. True with the value and the '\r' index; false means "use the slow path"
   (which decides between incomplete, error and the rarer valid forms such as negatives). */
static inline bool resp__fast_num(const char *buf, size_t len, size_t line, char lead,
                                  long long *v, size_t *cr)
{
    size_t i = line + 1;
    if (i + 1 >= len || buf[line] != lead)
        return false;
    unsigned long long x = (unsigned char)buf[i] - '0';
    if (x > 9 || (x == 0 && buf[i + 1] != '\r'))
        return false;
    size_t max = i + 18;
    for (i++; i < len && i < max && buf[i] >= '0' && buf[i] <= '9'; i++)
        x = x * 10 + (unsigned)(buf[i] - '0');
    if (i + 1 >= len || buf[i] != '\r')
        return false;
    *v = (long long)x;
    *cr = i;
    return true;
}

/* Finds the '\r' of the header line starting at `line`, resuming the scan *scanned bytes in.
   Returns 1 with *cr set when the '\r' and the byte after it are present (like Redis, that byte
   is skipped unchecked), 0 when more input is needed (*scanned updated), -1 when there is no
   '\r' in the more than RESP_INLINE_MAX bytes available. */
static int resp__header_line(const char *buf, size_t len, size_t line, long long *scanned,
                             size_t *cr)
{
    size_t from = line + (size_t)*scanned;
    if (from > len)
        from = line;
    const char *q = memchr(buf + from, '\r', len - from);
    if (q == NULL) {
        *scanned = (long long)(len - line);
        return len - line > RESP_INLINE_MAX ? -1 : 0;
    }
    size_t at = (size_t)(q - buf);
    if (at + 1 >= len) {
        *scanned = (long long)(at - line);
        return 0;
    }
    *cr = at;
    return 1;
}

/* "*<n>\r\n": n <= 0 is skipped, otherwise sets up n bulk arguments. */
static int resp__step_mbulk_hdr(resp_parser_t *p, const char *buf, size_t len)
{
    long long n;
    size_t cr;
    if (!resp__fast_num(buf, len, p->pos, '*', &n, &cr)) {
        int r = resp__header_line(buf, len, p->pos, &p->bulk_len, &cr);
        if (r <= 0)
            return r < 0 ? resp__fail(p, resp__e_mbulk_big) : STEP_MORE;
        if (!resp__strict_ll(buf + p->pos + 1, cr - p->pos - 1, &n))
            return resp__fail(p, resp__e_mbulk_len);
    }
    if (n > RESP_MBULK_MAX)
        return resp__fail(p, resp__e_mbulk_len);
    p->pos = cr + 2;
    if (n <= 0) {
        p->state = ST_START;
        return STEP_SKIP;
    }
    size_t pre = n < RESP_OFFS_PREALLOC ? (size_t)n : RESP_OFFS_PREALLOC;
    if (!resp__reserve_offs(p, pre))
        return resp__fail(p, resp__e_oom);
    p->argc = 0;
    p->mbulk_left = n;
    p->bulk_len = 0;
    p->state = ST_BULK_HDR;
    return STEP_NEXT;
}

/* "$<len>\r\n": 0 <= len <= max_bulk_len. */
static int resp__step_bulk_hdr(resp_parser_t *p, const char *buf, size_t len)
{
    long long n;
    size_t cr;
    if (!resp__fast_num(buf, len, p->pos, '$', &n, &cr)) {
        int r = resp__header_line(buf, len, p->pos, &p->bulk_len, &cr);
        if (r <= 0)
            return r < 0 ? resp__fail(p, resp__e_bulk_big) : STEP_MORE;
        if (buf[p->pos] != '$')
            return resp__fail(p, resp__e_dollar[(unsigned char)buf[p->pos]]);
        if (!resp__strict_ll(buf + p->pos + 1, cr - p->pos - 1, &n) || n < 0)
            return resp__fail(p, resp__e_bulk_len);
    }
    if (n > p->max_bulk_len)
        return resp__fail(p, resp__e_bulk_len);
    p->pos = cr + 2;
    p->bulk_len = n;
    p->state = ST_BULK_DATA;
    return STEP_NEXT;
}

/* The payload of a bulk and its "\r\n". */
static int resp__step_bulk_data(resp_parser_t *p, const char *buf, size_t len)
{
    if ((unsigned long long)(len - p->pos) < (unsigned long long)p->bulk_len + 2)
        return STEP_MORE;
    size_t end = p->pos + (size_t)p->bulk_len;
    if (buf[end] != '\r' || buf[end + 1] != '\n')
        return resp__fail(p, resp__e_bulk_len);
    if (!resp__push(p, p->pos, (size_t)p->bulk_len))
        return resp__fail(p, resp__e_oom);
    p->pos = end + 2;
    p->bulk_len = 0;
    if (--p->mbulk_left == 0)
        return STEP_DONE;
    p->state = ST_BULK_HDR;
    return STEP_NEXT;
}

/* isspace() in the C locale, which sdssplitargs uses between tokens and after quotes. */
static inline bool resp__is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline int resp__hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One escape inside "double quotes" at s[*i] == '\\' with s[*i+1] present: \xHH, the C escapes
   \n \r \t \b \a, or the next byte itself. Advances *i past it and returns the byte. */
static char resp__dq_escape(const char *s, size_t n, size_t *i)
{
    size_t k = *i;
    if (k + 3 < n && s[k + 1] == 'x' && resp__hex(s[k + 2]) >= 0 && resp__hex(s[k + 3]) >= 0) {
        *i = k + 4;
        return (char)(resp__hex(s[k + 2]) * 16 + resp__hex(s[k + 3]));
    }
    *i = k + 2;
    switch (s[k + 1]) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'b': return '\b';
    case 'a': return '\a';
    default: return s[k + 1];
    }
}

/* Reads one token of an inline line s[0..n) starting at s[*i] (not a space), unescaping it in
   place from s[*i] on. Sets *i past the token and *out_len. Returns false on unbalanced quotes:
   an unterminated quote, or a closing quote followed by something other than a space. */
static bool resp__inline_token(char *s, size_t n, size_t *i, size_t *out_len)
{
    size_t r = *i, w = *i, start = *i;
    char q = 0; /* the open quote, or 0 */
    for (;;) {
        if (r >= n) {
            if (q != 0)
                return false;
            break;
        }
        char c = s[r];
        if (q == '"' && c == '\\' && r + 1 < n) {
            s[w++] = resp__dq_escape(s, n, &r);
        } else if (q == '\'' && c == '\\' && r + 1 < n && s[r + 1] == '\'') {
            s[w++] = '\'';
            r += 2;
        } else if (q != 0 && c == q) {
            if (r + 1 < n && !resp__is_space(s[r + 1]))
                return false;
            r++;
            break;
        } else if (q != 0) {
            s[w++] = c;
            r++;
        } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            r++;
            break;
        } else if (c == '"' || c == '\'') {
            q = c;
            r++;
        } else {
            s[w++] = c;
            r++;
        }
    }
    *i = r;
    *out_len = w - start;
    return true;
}

/* Splits the inline line buf[line..end) into arguments like sdssplitargs, in place. Returns
   STEP_NEXT (argc may be 0) or STEP_ERR. */
static int resp__split_inline(resp_parser_t *p, char *buf, size_t line, size_t end)
{
    char *s = buf + line;
    size_t n = end - line, i = 0;
    p->argc = 0;
    for (;;) {
        while (i < n && resp__is_space(s[i]))
            i++;
        if (i == n)
            return STEP_NEXT;
        size_t start = i, tlen;
        if (!resp__inline_token(s, n, &i, &tlen))
            return resp__fail(p, resp__e_quotes);
        if (!resp__push(p, line + start, tlen))
            return resp__fail(p, resp__e_oom);
    }
}

/* An inline command: everything up to '\n' (an optional '\r' before it is dropped), split
   into arguments. Blank lines are skipped. */
static int resp__step_inline(resp_parser_t *p, char *buf, size_t len)
{
    size_t line = p->pos, from = line + (size_t)p->bulk_len;
    if (from > len)
        from = line;
    const char *nl = memchr(buf + from, '\n', len - from);
    if (nl == NULL) {
        p->bulk_len = (long long)(len - line);
        return len - line > RESP_INLINE_MAX ? resp__fail(p, resp__e_inline_big) : STEP_MORE;
    }
    size_t eol = (size_t)(nl - buf), end = eol;
    if (end > line && buf[end - 1] == '\r')
        end--;
    if (resp__split_inline(p, buf, line, end) == STEP_ERR)
        return STEP_ERR;
    p->pos = eol + 1;
    p->bulk_len = 0;
    if (p->argc == 0) {
        p->state = ST_START;
        return STEP_SKIP;
    }
    return STEP_DONE;
}

static int resp__step(resp_parser_t *p, char *buf, size_t len)
{
    switch (p->state) {
    case ST_START:
        if (p->pos >= len)
            return STEP_MORE;
        p->state = buf[p->pos] == '*' ? ST_MBULK_HDR : ST_INLINE;
        p->bulk_len = 0;
        return STEP_NEXT;
    case ST_MBULK_HDR: return resp__step_mbulk_hdr(p, buf, len);
    case ST_BULK_HDR: return resp__step_bulk_hdr(p, buf, len);
    case ST_BULK_DATA: return resp__step_bulk_data(p, buf, len);
    default: return resp__step_inline(p, buf, len);
    }
}

/* Fills argv from the offsets of the finished command. */
static bool resp__build_argv(resp_parser_t *p, const char *buf)
{
    if (p->argc > p->argv_cap) {
        void *n = resp__grow(p->argv, &p->argv_cap, (size_t)p->argc, sizeof(*p->argv));
        if (n == NULL)
            return false;
        p->argv = n;
    }
    for (int i = 0; i < p->argc; i++) {
        p->argv[i].ptr = buf + p->offs[i].off;
        p->argv[i].len = p->offs[i].len;
    }
    return true;
}

/*
 * Parses the next command of buf[0..len). See resp_parse.h. Returns:
 *   RESP_OK          argv/argc set (pointing into buf; valid while buf is and until the next
 *                    call), *consumed = bytes of the command including skipped empty commands
 *                    before it.
 *   RESP_INCOMPLETE  call again with the same start and more bytes. *consumed is normally 0;
 *                    when empty commands (blank lines, "*0") were skipped before the partial
 *                    command it is their length and the parser has forgotten everything, so
 *                    the caller may drop those bytes (it should: a stream of blank lines then
 *                    cannot grow its buffer) or offer them again (they are skipped again).
 *   RESP_ERROR       p->err set (static string), *consumed = 0, state reset.
 * len must not shrink below what an earlier call of the same command saw (if it does, the
 * call just returns RESP_INCOMPLETE).
 */
int resp_parse(resp_parser_t *p, char *buf, size_t len, size_t *consumed)
{
    size_t skipped = 0;
    *consumed = 0;
    p->err = NULL;
    if (p->state == ST_START)
        resp__trim_arrays(p);
    if (len == 0 || p->pos > len)
        return RESP_INCOMPLETE;
    for (;;) {
        switch (resp__step(p, buf, len)) {
        case STEP_NEXT:
            break;
        case STEP_SKIP:
            skipped = p->pos;
            break;
        case STEP_MORE:
            if (skipped > 0) {
                resp__clear_state(p);
                *consumed = skipped;
            }
            return RESP_INCOMPLETE;
        case STEP_DONE:
            *consumed = p->pos;
            resp__clear_state(p);
            if (!resp__build_argv(p, buf)) {
                *consumed = 0;
                p->argc = 0;
                p->err = resp__e_oom;
                return RESP_ERROR;
            }
            return RESP_OK;
        default:
            resp__clear_state(p);
            p->argc = 0;
            return RESP_ERROR;
        }
    }
}
