/*
 * rdbpack.h: a reader for Redis's listpack blobs (the body of RDB_TYPE_HASH_LISTPACK and
 * friends), so RESTORE accepts what Redis 7.0 DUMPs for small hashes. The sets module reads
 * intsets itself. Pure functions; any thread.
 */
#ifndef DF_RDBPACK_H
#define DF_RDBPACK_H

#include <stddef.h>

typedef struct rp_reader {
    const unsigned char *p;
    size_t len, off;
    unsigned count; /* elements the header announces (65535: unknown) */
} rp_reader_t;

/* Check the header of blob; 0 or -1 when malformed. */
int rp_open(rp_reader_t *r, const void *blob, size_t len);
/* The next element as bytes: strings point into the blob, integers are written as decimal
   into buf (>= 21 bytes). Returns 1, 0 at the end marker, -1 when malformed. */
int rp_next(rp_reader_t *r, char *buf, const char **p, size_t *n);

#endif
