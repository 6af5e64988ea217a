/*
 * dump.h: Redis RDB value encoding (the primitives DUMP/RESTORE use today and snapshots will
 * reuse), and the DUMP payload format.
 *
 * An RDB stream (dfm_rdb_t, opaque to modules) is either a writer appending to an rbuf_t or a
 * reader walking a byte range. Readers carry a sticky error flag: after the first short read
 * or bad encoding every later load fails too, so a type's rdb_load may check once at the end.
 *
 * Encodings, as Redis writes them:
 *   length: 00xxxxxx (6 bits) | 01xxxxxx yyyyyyyy (14 bits, big endian) |
 *           0x80 + 4 bytes big endian | 0x81 + 8 bytes big endian |
 *           11xxxxxx: a special string encoding follows (xxxxxx = RDB_ENC_*)
 *   string: length + bytes | 0xc0 int8 | 0xc1 int16 LE | 0xc2 int32 LE |
 *           0xc3 compressed-length uncompressed-length LZF-data
 * DUMP payload: [rdb type][value][RDB version, 2 bytes LE][CRC-64 of all before, 8 bytes LE].
 */
#ifndef DF_DUMP_H
#define DF_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "dragonfly/module.h"
#include "reply.h"

#define RDB_VERSION 10 /* what Redis 7.0 writes; payloads up to this version are accepted */

#define RDB_TYPE_STRING 0

#define RDB_ENC_INT8 0
#define RDB_ENC_INT16 1
#define RDB_ENC_INT32 2
#define RDB_ENC_LZF 3

/* Core-internal layout; modules only ever hold a pointer. */
struct dfm_rdb {
    rbuf_t *out;                  /* writer: bytes are appended here; NULL for a reader */
    const unsigned char *p, *end; /* reader: the unread bytes */
    int error;                    /* reader: sticky failure flag */
};

/* Start a writer appending to out (not owned) or a reader over [p, p + len) (not copied). */
void rdb_writer_init(dfm_rdb_t *r, rbuf_t *out);
void rdb_reader_init(dfm_rdb_t *r, const void *p, size_t len);

/* Writers never fail (the buffer grows, allocation failure aborts). */
void rdb_save_raw(dfm_rdb_t *r, const void *p, size_t len);
void rdb_save_type(dfm_rdb_t *r, int type);
void rdb_save_len(dfm_rdb_t *r, uint64_t len);
/* A string the way Redis saves it: integer-encoded when it is a canonical int32, LZF
   compressed when longer than 20 bytes and it saves space (builds with liblzf), else raw. */
void rdb_save_string(dfm_rdb_t *r, const void *p, size_t len);

/* Readers return 0, or -1 (and set r->error) on a short read or bad encoding. */
int rdb_load_raw(dfm_rdb_t *r, void *buf, size_t len);
int rdb_load_type(dfm_rdb_t *r);  /* the type byte, or -1 */
int rdb_load_len(dfm_rdb_t *r, uint64_t *len);
/* Any string encoding; returns a df_malloc'd buffer (NUL-terminated, caller frees with
   df_free) and its length in *len, or NULL on error. */
char *rdb_load_string(dfm_rdb_t *r, size_t *len);

/* Length encoding with the "special encoding" flag (for readers of ziplists etc.). */
int rdb__load_len_enc(dfm_rdb_t *r, uint64_t *len, int *encoded);

/* Decompress LZF data into out (exactly outlen bytes expected). Returns 0 or -1. */
int rdb__lzf_decode(const void *in, size_t inlen, void *out, size_t outlen);
/* Our own decoder (used when built without liblzf; always built, for the unit tests). */
int rdb__lzf_decode_builtin(const void *in, size_t inlen, void *out, size_t outlen);

/* RDB file opcodes (rdb_save_key writes the expiry one; snapshot.c and rdb_load.c the rest). */
#define RDB_OPCODE_FUNCTION2 245
#define RDB_OPCODE_MODULE_AUX 247
#define RDB_OPCODE_IDLE 248
#define RDB_OPCODE_FREQ 249
#define RDB_OPCODE_AUX 250
#define RDB_OPCODE_RESIZEDB 251
#define RDB_OPCODE_EXPIRETIME_MS 252
#define RDB_OPCODE_EXPIRETIME 253
#define RDB_OPCODE_SELECTDB 254
#define RDB_OPCODE_EOF 255

struct entry;
/* Append one key the way an RDB file holds it: [EXPIRETIME_MS ms][type][key][value].
   Returns -1, out unchanged, when the value's type cannot be saved. Shard thread. */
int rdb_save_key(rbuf_t *out, const struct entry *e);
/*
 * Saving a big value in slices (snapshot.c). rdb_slicer_for: the slicer of e's type when e
 * weighs at least min_weight (dfm_rdb_slicer_t.weight), else NULL. rdb_save_key_begin appends
 * e's record head ([EXPIRETIME_MS ms][type][key]) and returns the slicer's cursor; the
 * slicer's steps then append the value (rdb_save_key's bytes, in pieces). NULL (out
 * unchanged) when the type declines: save it with rdb_save_key. Shard thread; e must not
 * change until the last step.
 */
int rdb_register_slicer(int type, const dfm_rdb_slicer_t *s); /* start-up; 0 or -1 */
const dfm_rdb_slicer_t *rdb_slicer_for(const struct entry *e, size_t min_weight);
void *rdb_save_key_begin(rbuf_t *out, const struct entry *e, const dfm_rdb_slicer_t *s);
/* Free an unfinished cursor (its abort, or the core's free when the type has none). */
void rdb_slicer_abort(const dfm_rdb_slicer_t *s, void *cursor);
/* Read a value of RDB type `type` (already read) into a new entry for key, expiring at at_ms
   (-1: none). NULL on bad data or an unknown type. The caller owns the entry. */
struct entry *rdb_load_value(dfm_rdb_t *r, int type, const char *key, size_t klen,
                             int64_t at_ms);
/* 1 if some registered type (or the string type) reads RDB type id `type`. */
int rdb_type_known(int type);

/* Append e's value as a DUMP payload (type, value, footer) to out. Returns -1, out unchanged,
   when the value's type cannot be saved. Shard thread (reads the entry). */
int dump_payload(const struct entry *e, rbuf_t *out);
/* Append the DUMP footer (version + CRC of everything in out) to out. */
void dump_payload_seal(rbuf_t *out);
/* Check the footer of a DUMP payload; returns 0 if the version and CRC are acceptable. */
int dump_payload_verify(const void *p, size_t len);

#endif
