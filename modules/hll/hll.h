/*
 * hll.h: the hll module: Redis's HyperLogLog commands over plain string values.
 *
 * A HyperLogLog is a string in Redis's own format, so GET, DUMP/RESTORE and snapshots carry
 * it unchanged between this server and redis-server:
 *
 *   "HYLL" | encoding (0 dense, 1 sparse) | 3 unused bytes | 8-byte cached cardinality
 *   (little endian; the top bit of the last byte set means "stale") | registers
 *
 * 16384 registers (P = 14) of 6 bits. Dense: 12288 bytes, register i at bit offset 6*i,
 * least significant bits first. Sparse: run-length opcodes,
 *   00xxxxxx           ZERO:  xxxxxx+1 registers at 0 (1..64)
 *   01xxxxxx yyyyyyyy  XZERO: (xxxxxx<<8 | yyyyyyyy)+1 registers at 0 (1..16384)
 *   1vvvvvxx           VAL:   xx+1 registers (1..4) at vvvvv+1 (1..32)
 * A sparse value is promoted to dense when a register needs more than 32 or the string
 * would grow past hll-sparse-max-bytes. Element hashing (MurmurHash64A, seed 0xadc83b19),
 * the register update and the cardinality estimator (Ertl's improved estimator) are Redis's,
 * so PFCOUNT answers exactly what redis-server answers for the same elements.
 *
 * Everything here runs on the shard thread that owns the key.
 */
#ifndef DF_HLL_H
#define DF_HLL_H

#include <stddef.h>
#include <stdint.h>

#include <dragonfly/module.h>

#define HLL_P 14
#define HLL_Q (64 - HLL_P)
#define HLL_REGISTERS (1 << HLL_P)
#define HLL_BITS 6
#define HLL_REGISTER_MAX ((1 << HLL_BITS) - 1)
#define HLL_HDR_SIZE 16
#define HLL_DENSE_BYTES ((HLL_REGISTERS * HLL_BITS + 7) / 8)
#define HLL_DENSE_SIZE (HLL_HDR_SIZE + HLL_DENSE_BYTES)
#define HLL_DENSE 0
#define HLL_SPARSE 1
#define HLL_SPARSE_VAL_MAX 32
#define HLL_SPARSE_VAL_MAX_LEN 4
#define HLL_SPARSE_ZERO_MAX_LEN 64
#define HLL_SPARSE_XZERO_MAX_LEN 16384
/* Bytes a sparse opcode sequence replacing one opcode can take (XZERO VAL XZERO). */
#define HLL_SPARSE_SEQ_MAX 5

#define HLL_ERR_NOT_HLL "WRONGTYPE Key is not a valid HyperLogLog string value."
#define HLL_ERR_CORRUPT "INVALIDOBJ Corrupted HLL object detected"

extern const dfm_api_t *hll_api;
extern int64_t hll_sparse_max_bytes;

/* ---- hash.c */
/* MurmurHash64A of len bytes with the given seed (the exact function Redis uses). */
uint64_t hll_murmur64a(const void *key, size_t len, uint64_t seed);
/* The register an element goes to (*index) and the value it offers (1..HLL_Q+1). */
int hll_pattern(const void *ele, size_t len, long *index);

/* ---- dense.c */
uint8_t hll_dense_get(const uint8_t *regs, long index);
void hll_dense_put(uint8_t *regs, long index, uint8_t val);
/* Raise register index to val if it is lower; 1 if it changed. */
int hll_dense_set(uint8_t *regs, long index, uint8_t val);
/* max[i] = MAX(max[i], register i). */
void hll_dense_merge(uint8_t *max, const uint8_t *regs);
/* The cardinality estimate of a register array given as a histogram of register values. */
uint64_t hll_estimate(const int *histo);
/* Histograms (HLL_Q + 2 buckets) of dense registers and of plain one-byte registers. */
void hll_dense_histo(const uint8_t *regs, int *histo);
void hll_raw_histo(const uint8_t *max, int *histo);

/* ---- sparse.c */
/* 0 when the opcodes p[0..len) cover exactly HLL_REGISTERS registers, -1 otherwise. */
int hll_sparse_valid(const uint8_t *p, size_t len);
/* The following take valid opcodes (hll_sparse_valid). */
void hll_sparse_to_regs(const uint8_t *p, size_t len, uint8_t *regs); /* dense regs, zeroed */
void hll_sparse_merge(uint8_t *max, const uint8_t *p, size_t len);
void hll_sparse_histo(const uint8_t *p, size_t len, int *histo);
/*
 * Raise register index to val (1..32) in the opcodes at buf[0..*len), which has room for
 * *len + HLL_SPARSE_SEQ_MAX bytes. Returns 1 if it changed (*len updated), 0 if the register
 * already held val or more, or -1 when the result would need more than max_len bytes in all
 * (header included, hdr_len bytes of it): the caller promotes to dense then.
 */
int hll_sparse_set(uint8_t *buf, size_t *len, long index, uint8_t val, size_t hdr_len,
                   size_t max_len);
/* PFDEBUG DECODE text of the opcodes ("Z:16384", "z:3 v:2,1 ..."); api->alloc'd. */
char *hll_sparse_decode(const uint8_t *p, size_t len, size_t *out_len);

/* ---- value.c: HLL values of keys, worked on in a private copy */
/* A value being changed: the whole string (header and registers), api->alloc'd. */
typedef struct hll_work {
    uint8_t *b;
    size_t len, cap;
} hll_work_t;

/* The bytes of a new empty HLL: sparse, one XZERO of 16384, cached count 0 (valid). */
size_t hll_new_bytes(uint8_t *out);
/* 1 if v holds a HyperLogLog Redis would accept (magic, encoding, dense size), else 0. */
int hll_is_valid(const dfm_str_t *v);
/* Look key up and check it is an HLL: 1 yes (*k set), 0 missing, or an error code:
   HLL_E_TYPE (not a string), HLL_E_NOT_HLL (a string that is no HLL). */
#define HLL_E_TYPE (-1)
#define HLL_E_NOT_HLL (-2)
#define HLL_E_CORRUPT (-3)
int hll_lookup(dfm_ctx_t *ctx, const dfm_str_t *key, int flags, dfm_key_t **k);
/* Reply the error of code (HLL_E_*). */
void hll_reply_error(dfm_ctx_t *ctx, int code);
/* Merge a valid HLL value into max[HLL_REGISTERS]; -1 if its sparse opcodes are corrupt. */
int hll_merge_value(uint8_t *max, const dfm_str_t *v);
/* Cardinality of a valid HLL value (ignoring its cache); -1 if corrupt. */
int64_t hll_count_value(const dfm_str_t *v);
/* Its cached cardinality: 1 and *card if the cache is valid, else 0. */
int hll_cached_card(const dfm_str_t *v, uint64_t *card);
/* Copy a valid HLL value (NULL: a new empty one) into w; -1 (nothing allocated) if corrupt. */
int hll_work_load(hll_work_t *w, const dfm_str_t *v);
/* Raise register index to val, turning sparse into dense when Redis would. 1 if changed. */
int hll_work_set(hll_work_t *w, long index, uint8_t val);
/* Turn a sparse copy dense (no-op when dense). */
void hll_work_to_dense(hll_work_t *w);
/* Store w into key (creating it; the string becomes raw-encoded, as in Redis) and free w.
   *k, if not NULL, receives the key. */
void hll_work_commit(dfm_ctx_t *ctx, const dfm_str_t *key, hll_work_t *w);
void hll_work_free(hll_work_t *w);
/* Mark the cached cardinality stale / store a valid one in a header. */
void hll_hdr_invalidate(uint8_t *hdr);
void hll_hdr_store_card(uint8_t *hdr, uint64_t card);

/* ---- commands */
void hll_pfadd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void hll_pfdebug(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void hll_pfselftest(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
extern const dfm_multi_t hll_pfcount_multi;
extern const dfm_multi_t hll_pfmerge_multi;

#endif
