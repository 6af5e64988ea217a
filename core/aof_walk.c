/*
 * aof_walk.c: command boundaries in a RESP stream fed in pieces (the AOF writer's stream
 * bytes, the loader's file), resumable so a command of a million arguments arriving 16 KB at
 * a time is walked once, not once per piece.
 */
#include "aof.h"

#include <string.h>

#define AOF_WALK_LINE_MAX 32          /* "*<count>\r\n" / "$<len>\r\n" */
#define AOF_WALK_BULK_MAX (1LL << 40) /* far above any value; keeps the sums in range */
#define AOF_WALK_NOTE_MAX 4096        /* an annotation line */

void aof_walk_init(aof_walk_t *w) {
    memset(w, 0, sizeof *w);
    w->args = -1;
    w->need = -1;
}

/* The number in the header line at p (after its type byte), ending in CRLF within n bytes:
   1 with *v and *used (the line's length), 0 incomplete, -1 malformed. */
static int walk_header(const char *p, size_t n, long long *v, size_t *used) {
    const char *nl = memchr(p, '\n', n < AOF_WALK_LINE_MAX ? n : AOF_WALK_LINE_MAX);
    if (!nl) return n < AOF_WALK_LINE_MAX ? 0 : -1;
    if (nl - p < 3 || nl[-1] != '\r') return -1;
    long long x = 0;
    for (const char *d = p + 1; d < nl - 1; d++) {
        if (*d < '0' || *d > '9' || x > AOF_WALK_BULK_MAX) return -1;
        x = x * 10 + (*d - '0');
    }
    *v = x;
    *used = (size_t)(nl - p) + 1;
    return 1;
}

/* An annotation line ("#...\n") at the command's start. */
static int walk_note(aof_walk_t *w, const char *buf, size_t n, size_t *len) {
    const char *nl = memchr(buf, '\n', n < AOF_WALK_NOTE_MAX ? n : AOF_WALK_NOTE_MAX);
    if (!nl) return n < AOF_WALK_NOTE_MAX ? 0 : -1;
    *len = (size_t)(nl - buf) + 1;
    w->name_len = 0;
    aof_walk_init(w);
    return 1;
}

int aof_walk(aof_walk_t *w, const char *buf, size_t n, size_t *len) {
    if (w->off == 0 && w->args < 0 && n > 0 && buf[0] == '#') return walk_note(w, buf, n, len);
    while (w->off < n) {
        const char *p = buf + w->off;
        size_t left = n - w->off, used;
        long long v;
        if (w->args < 0) { /* the array header */
            if (*p != '*') return -1;
            int r = walk_header(p, left, &v, &used);
            if (r <= 0) return r;
            if (v < 1 || v > (1LL << 31)) return -1;
            w->args = v;
            w->argi = 0;
            w->off += used;
            continue;
        }
        if (w->need < 0) { /* a bulk header */
            if (*p != '$') return -1;
            int r = walk_header(p, left, &v, &used);
            if (r <= 0) return r;
            w->off += used;
            w->need = v + 2;
            if (w->argi == 0) {
                w->name_off = w->off;
                w->name_len = (size_t)v;
            }
            continue;
        }
        size_t take = (unsigned long long)w->need < left ? (size_t)w->need : left;
        w->off += take;
        w->need -= (long long)take;
        if (w->need > 0) return 0;
        if (buf[w->off - 2] != '\r' || buf[w->off - 1] != '\n') return -1;
        w->need = -1;
        w->argi++;
        if (--w->args == 0) {
            *len = w->off;
            size_t name_off = w->name_off, name_len = w->name_len;
            aof_walk_init(w);
            w->name_off = name_off;
            w->name_len = name_len;
            return 1;
        }
    }
    return 0;
}
