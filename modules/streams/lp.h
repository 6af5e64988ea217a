/*
 * lp.h: a minimal listpack codec (Redis's compact list format, used by stream nodes in RDB):
 * a writer that builds one listpack in an accounted buffer, and a bounds-checked reader.
 * Internal to the module; any thread.
 */
#ifndef DF_STREAMS_LP_H
#define DF_STREAMS_LP_H

#include <stddef.h>
#include <stdint.h>

typedef struct lp_writer {
    unsigned char *buf;
    size_t len, cap;
    uint32_t count;
} lp_writer_t;

void lp_begin(lp_writer_t *w);
void lp_put_int(lp_writer_t *w, int64_t v);
void lp_put_str(lp_writer_t *w, const void *p, size_t len);
/* Finish the listpack (end byte, header); w->buf/len then hold it (api->free the buffer). */
void lp_end(lp_writer_t *w);

typedef struct lp_reader {
    const unsigned char *p, *end; /* next element; the end byte */
} lp_reader_t;

/* One element: an integer (str NULL) or a string. */
typedef struct lp_elem {
    int64_t v;
    const char *str;
    size_t len;
} lp_elem_t;

int lp_open(lp_reader_t *r, const unsigned char *buf, size_t len); /* 0 or -1 (malformed) */
int lp_next(lp_reader_t *r, lp_elem_t *e);                          /* 1, 0 at end, -1 bad */
int lp_next_int(lp_reader_t *r, int64_t *v);                        /* 0 or -1 */

#endif
