/*
 * glob.c: Redis's glob-style pattern matching, used by KEYS, SCAN MATCH, CONFIG GET and
 * PSUBSCRIBE.
 *
 * The semantics are those of Redis's stringmatchlen(): '*' matches any run of bytes, '?' one
 * byte, '[...]' one byte from a class ('^' negates, 'a-z' ranges may be reversed, '\' escapes
 * inside), '\x' matches x literally, and a trailing lone '\' matches a backslash. Bytes compare
 * as signed chars (as Redis does on x86), so ranges over bytes >= 0x80 behave like Redis's.
 *
 * Why not a recursive matcher like Redis: a pattern such as "*a*a*a*a*...b" makes the
 * recursive form exponential (Redis 7.0 caps the recursion instead). Every pattern element
 * other than '*' consumes exactly one byte, so the classic greedy matcher that only
 * backtracks to the most recent '*' is exact and runs in O(pattern * string) worst case
 * with no recursion at all.
 */
#include "glob.h"

#include <stdint.h>

#define GLOB__NO_STAR SIZE_MAX

/* ASCII-only lower-casing: tolower() on negative chars is undefined, and Redis's matching is
   byte-oriented anyway. */
static int glob__lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int glob__eq(int a, int b, int nocase)
{
    return nocase ? glob__lower(a) == glob__lower(b) : a == b;
}

/*
 * Match the class starting at pat[p] == '[' against byte c. Returns 1 if c is in the class
 * (after '^' negation), 0 otherwise, and stores in *next the index just past the class.
 * An unterminated class runs to the end of the pattern, as in Redis.
 */
static int glob__class(const char *pat, size_t plen, size_t p, int c, int nocase, size_t *next)
{
    int negate, match = 0;

    p++;
    negate = p < plen && pat[p] == '^';
    if (negate)
        p++;
    for (;;) {
        if (p >= plen) {
            break;
        } else if (pat[p] == '\\' && plen - p >= 2) {
            p++;
            if ((signed char)pat[p] == c) /* escaped members ignore nocase, like Redis */
                match = 1;
        } else if (pat[p] == ']') {
            p++;
            break;
        } else if (plen - p >= 3 && pat[p + 1] == '-') {
            int lo = (signed char)pat[p], hi = (signed char)pat[p + 2], x = c;
            if (lo > hi) {
                int t = lo;
                lo = hi;
                hi = t;
            }
            if (nocase) {
                lo = glob__lower(lo);
                hi = glob__lower(hi);
                x = glob__lower(x);
            }
            if (x >= lo && x <= hi)
                match = 1;
            p += 2;
        } else if (glob__eq((signed char)pat[p], c, nocase)) {
            match = 1;
        }
        if (p < plen)
            p++;
    }
    *next = p;
    return negate ? !match : match;
}

/*
 * Match the single non-'*' element at pat[p] against byte c. Returns 1/0 and stores the index
 * of the following element in *next.
 */
static int glob__one(const char *pat, size_t plen, size_t p, int c, int nocase, size_t *next)
{
    switch (pat[p]) {
    case '?':
        *next = p + 1;
        return 1;
    case '[':
        return glob__class(pat, plen, p, c, nocase, next);
    case '\\':
        if (plen - p >= 2)
            p++;
        /* fall through */
    default:
        *next = p + 1;
        return glob__eq((signed char)pat[p], c, nocase);
    }
}

/*
 * glob_match: 1 if s[0..slen) matches pat[0..plen), 0 otherwise. Both are binary safe (NULs
 * allowed). Runs in O(plen * slen) time and O(1) space; any thread.
 */
int glob_match(const char *pat, size_t plen, const char *s, size_t slen, int nocase)
{
    size_t p = 0, i = 0, star_p = GLOB__NO_STAR, star_i = 0, next;

    while (i < slen) {
        if (p < plen && pat[p] == '*') {
            while (p < plen && pat[p] == '*')
                p++;
            if (p == plen)
                return 1;
            star_p = p;
            star_i = i;
            continue;
        }
        if (p < plen && glob__one(pat, plen, p, (signed char)s[i], nocase, &next)) {
            p = next;
            i++;
            continue;
        }
        if (star_p == GLOB__NO_STAR)
            return 0;
        /* Let the last '*' swallow one more byte and retry from just after it. */
        p = star_p;
        i = ++star_i;
    }
    while (p < plen && pat[p] == '*')
        p++;
    return p == plen;
}
