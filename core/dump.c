/*
 * dump.c: DUMP and RESTORE, and the RDB value encoding they are made of (dump.h).
 *
 * The encoding half (rdb_save_* / rdb_load_*) is written against Redis's RDB format so that
 * payloads travel both ways between us and Redis 7.0: we read everything Redis writes for a
 * string (raw, int8/16/32, LZF) and write what Redis would write. Snapshots and RDB loading
 * will reuse these primitives; modules reach them through their type's rdb_save/rdb_load.
 *
 * LZF: with liblzf (its header found through the LZF_CFLAGS configure adds) strings longer
 * than 20 bytes are compressed when that saves space, as Redis does, and decoding uses the
 * library. Without it we write them raw (Redis reads that) and decode with our own small
 * decoder, which is always built so the unit tests exercise it.
 *
 * Both commands run on the thread owning the key's shard (single-key commands).
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "cmdtab.h"
#include "config.h"
#include "crc64.h"
#include "db.h"
#include "evict.h"
#include "dump.h"
#include "reply.h"
#include "server.h"
#include "util.h"
#include "notify.h"

#if defined(__has_include)
#if __has_include(<lzf.h>)
#include <lzf.h>
#define DUMP_HAVE_LZF 1
#endif
#endif

/* ------------------------------------------------------------------------------------------ */
/* Writers                                                                                      */

void rdb_writer_init(dfm_rdb_t *r, rbuf_t *out) {
    memset(r, 0, sizeof *r);
    r->out = out;
}

void rdb_save_raw(dfm_rdb_t *r, const void *p, size_t len) {
    if (len) rbuf_append(r->out, p, len);
}

void rdb_save_type(dfm_rdb_t *r, int type) {
    unsigned char b = (unsigned char)type;
    rdb_save_raw(r, &b, 1);
}

/* Big-endian bytes of v (n of them) into buf. */
static void rdb__put_be(unsigned char *buf, uint64_t v, int n) {
    for (int i = n - 1; i >= 0; i--, v >>= 8) buf[i] = (unsigned char)v;
}

void rdb_save_len(dfm_rdb_t *r, uint64_t len) {
    unsigned char b[9];
    if (len < 64) {
        b[0] = (unsigned char)len;
        rdb_save_raw(r, b, 1);
    } else if (len < 16384) {
        b[0] = (unsigned char)(0x40 | (len >> 8));
        b[1] = (unsigned char)len;
        rdb_save_raw(r, b, 2);
    } else if (len <= UINT32_MAX) {
        b[0] = 0x80;
        rdb__put_be(b + 1, len, 4);
        rdb_save_raw(r, b, 5);
    } else {
        b[0] = 0x81;
        rdb__put_be(b + 1, len, 8);
        rdb_save_raw(r, b, 9);
    }
}

/*
 * Write p as an integer encoding if it is the canonical decimal form of an int32 (Redis's
 * rdbTryIntegerEncoding). Returns 1 if written, 0 if the string does not qualify.
 */
static int rdb__save_int_string(dfm_rdb_t *r, const char *p, size_t len) {
    long long v;
    char buf[24];
    unsigned char b[5];
    int n;
    if (util_str2ll(p, len, &v) < 0) return 0;
    if ((size_t)util_ll2str(buf, sizeof buf, v) != len || memcmp(buf, p, len) != 0) return 0;
    if (v >= INT8_MIN && v <= INT8_MAX) {
        b[0] = 0xc0 | RDB_ENC_INT8;
        n = 1;
    } else if (v >= INT16_MIN && v <= INT16_MAX) {
        b[0] = 0xc0 | RDB_ENC_INT16;
        n = 2;
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        b[0] = 0xc0 | RDB_ENC_INT32;
        n = 4;
    } else {
        return 0;
    }
    for (int i = 0; i < n; i++) b[1 + i] = (unsigned char)((uint64_t)v >> (8 * i));
    rdb_save_raw(r, b, (size_t)n + 1);
    return 1;
}

#ifdef DUMP_HAVE_LZF
/* Write p LZF-compressed if that comes out shorter than len - 4 bytes. Returns 1 if written. */
static int rdb__save_lzf(dfm_rdb_t *r, const char *p, size_t len) {
    if (len <= 4 || len > UINT_MAX) return 0;
    size_t cap = len - 4;
    char *c = df_malloc(cap + 1);
    unsigned clen = lzf_compress(p, (unsigned)len, c, (unsigned)cap);
    if (clen == 0) {
        df_free(c);
        return 0;
    }
    rdb_save_type(r, 0xc0 | RDB_ENC_LZF);
    rdb_save_len(r, clen);
    rdb_save_len(r, len);
    rdb_save_raw(r, c, clen);
    df_free(c);
    return 1;
}
#endif

void rdb_save_string(dfm_rdb_t *r, const void *p, size_t len) {
    if (len <= 11 && rdb__save_int_string(r, p, len)) return;
#ifdef DUMP_HAVE_LZF
    if (len > 20 && g_config.rdbcompression && rdb__save_lzf(r, p, len)) return;
#endif
    rdb_save_len(r, len);
    rdb_save_raw(r, p, len);
}

/* ------------------------------------------------------------------------------------------ */
/* Readers                                                                                      */

void rdb_reader_init(dfm_rdb_t *r, const void *p, size_t len) {
    memset(r, 0, sizeof *r);
    r->p = p;
    r->end = r->p + len;
}

/* Mark the reader failed; returns -1 for tail calls. */
static int rdb__fail(dfm_rdb_t *r) {
    r->error = 1;
    return -1;
}

int rdb_load_raw(dfm_rdb_t *r, void *buf, size_t len) {
    if (r->error || (size_t)(r->end - r->p) < len) return rdb__fail(r);
    if (len) memcpy(buf, r->p, len);
    r->p += len;
    return 0;
}

int rdb_load_type(dfm_rdb_t *r) {
    unsigned char b;
    return rdb_load_raw(r, &b, 1) < 0 ? -1 : b;
}

/* n big-endian bytes as an unsigned number into *v. */
static int rdb__load_be(dfm_rdb_t *r, int n, uint64_t *v) {
    unsigned char b[8];
    if (rdb_load_raw(r, b, (size_t)n) < 0) return -1;
    *v = 0;
    for (int i = 0; i < n; i++) *v = (*v << 8) | b[i];
    return 0;
}

int rdb__load_len_enc(dfm_rdb_t *r, uint64_t *len, int *encoded) {
    unsigned char b[2];
    *encoded = 0;
    if (rdb_load_raw(r, b, 1) < 0) return -1;
    switch (b[0] >> 6) {
    case 0:
        *len = b[0] & 0x3f;
        return 0;
    case 1:
        if (rdb_load_raw(r, b + 1, 1) < 0) return -1;
        *len = ((uint64_t)(b[0] & 0x3f) << 8) | b[1];
        return 0;
    case 3:
        *encoded = 1;
        *len = b[0] & 0x3f;
        return 0;
    default:
        if (b[0] == 0x80) return rdb__load_be(r, 4, len);
        if (b[0] == 0x81) return rdb__load_be(r, 8, len);
        return rdb__fail(r);
    }
}

int rdb_load_len(dfm_rdb_t *r, uint64_t *len) {
    int enc;
    if (rdb__load_len_enc(r, len, &enc) < 0) return -1;
    return enc ? rdb__fail(r) : 0;
}

/* An INT8/16/32 encoded string as its decimal text (df_malloc'd). */
static char *rdb__load_int_string(dfm_rdb_t *r, int enc, size_t *len) {
    static const int widths[] = {1, 2, 4};
    unsigned char b[4];
    int n = widths[enc];
    if (rdb_load_raw(r, b, (size_t)n) < 0) return NULL;
    uint32_t u = 0;
    for (int i = n - 1; i >= 0; i--) u = (u << 8) | b[i];
    long long v = n == 1 ? (int8_t)u : n == 2 ? (int16_t)u : (long long)(int32_t)u;
    char *s = df_malloc(24);
    *len = (size_t)util_ll2str(s, 24, v);
    s[*len] = '\0';
    return s;
}

/* An LZF encoded string (after its 0xc3 marker), decompressed (df_malloc'd). */
static char *rdb__load_lzf_string(dfm_rdb_t *r, size_t *len) {
    uint64_t clen, ulen;
    if (rdb_load_len(r, &clen) < 0 || rdb_load_len(r, &ulen) < 0) return NULL;
    /* An LZF back reference yields at most 264 bytes from 3 input bytes: refuse a claimed
       size the input cannot produce before allocating it. */
    if (clen > (size_t)(r->end - r->p) || ulen > UINT32_MAX || ulen > clen * 100 + 64) {
        rdb__fail(r);
        return NULL;
    }
    char *out = df_malloc(ulen + 1);
    if (rdb__lzf_decode(r->p, clen, out, ulen) < 0) {
        df_free(out);
        rdb__fail(r);
        return NULL;
    }
    r->p += clen;
    out[ulen] = '\0';
    *len = ulen;
    return out;
}

char *rdb_load_string(dfm_rdb_t *r, size_t *len) {
    uint64_t n;
    int enc;
    if (rdb__load_len_enc(r, &n, &enc) < 0) return NULL;
    if (enc) {
        if (n <= RDB_ENC_INT32) return rdb__load_int_string(r, (int)n, len);
        if (n == RDB_ENC_LZF) return rdb__load_lzf_string(r, len);
        rdb__fail(r);
        return NULL;
    }
    if (n > (uint64_t)(r->end - r->p)) {
        rdb__fail(r);
        return NULL;
    }
    char *s = df_malloc(n + 1);
    rdb_load_raw(r, s, n);
    s[n] = '\0';
    *len = n;
    return s;
}

/* ------------------------------------------------------------------------------------------ */
/* LZF decoding                                                                                 */

/*
 * LZF stream: a control byte c. c < 32: a literal run of c + 1 bytes follows. Otherwise a
 * back reference: length L = c >> 5 (7 means "add the next byte"), then one more byte; the
 * copy starts ((c & 0x1f) << 8 | that byte) + 1 bytes back and is L + 2 bytes long (it may
 * overlap its own output). Returns 0 if in decodes to exactly outlen bytes.
 */
int rdb__lzf_decode_builtin(const void *in, size_t inlen, void *out, size_t outlen) {
    const unsigned char *ip = in, *iend = ip + inlen;
    unsigned char *op = out, *oend = op + outlen;
    while (ip < iend) {
        unsigned c = *ip++;
        if (c < 32) {
            size_t run = c + 1;
            if ((size_t)(iend - ip) < run || (size_t)(oend - op) < run) return -1;
            memcpy(op, ip, run);
            ip += run;
            op += run;
            continue;
        }
        size_t n = c >> 5;
        if (n == 7) {
            if (ip >= iend) return -1;
            n += *ip++;
        }
        if (ip >= iend) return -1;
        size_t back = (((size_t)(c & 0x1f) << 8) | *ip++) + 1;
        n += 2;
        if (back > (size_t)(op - (unsigned char *)out) || (size_t)(oend - op) < n) return -1;
        for (const unsigned char *ref = op - back; n--;) *op++ = *ref++;
    }
    return op == oend ? 0 : -1;
}

int rdb__lzf_decode(const void *in, size_t inlen, void *out, size_t outlen) {
    if (outlen == 0) return inlen == 0 ? 0 : -1;
#ifdef DUMP_HAVE_LZF
    if (inlen > UINT_MAX || outlen > UINT_MAX) return -1;
    return lzf_decompress(in, (unsigned)inlen, out, (unsigned)outlen) == outlen ? 0 : -1;
#else
    return rdb__lzf_decode_builtin(in, inlen, out, outlen);
#endif
}

/* ------------------------------------------------------------------------------------------ */
/* The DUMP payload                                                                             */

void dump_payload_seal(rbuf_t *out) {
    unsigned char f[10];
    f[0] = RDB_VERSION & 0xff;
    f[1] = (RDB_VERSION >> 8) & 0xff;
    rbuf_append(out, f, 2);
    uint64_t crc = crc64(0, out->data, out->len);
    for (int i = 0; i < 8; i++) f[i] = (unsigned char)(crc >> (8 * i));
    rbuf_append(out, f, 8);
}

int dump_payload_verify(const void *p, size_t len) {
    const unsigned char *b = p;
    if (len < 10) return -1;
    unsigned ver = b[len - 10] | (unsigned)b[len - 9] << 8;
    if (ver > RDB_VERSION) return -1;
    uint64_t want = 0;
    for (int i = 7; i >= 0; i--) want = (want << 8) | b[len - 8 + (size_t)i];
    return crc64(0, p, len - 8) == want ? 0 : -1;
}

/*
 * Serialize e's value (type byte + encoded value, no footer) into out. Returns -1, leaving
 * out as it was, when the value's type cannot be saved. Shard thread (reads the entry).
 */
static int dump__serialize(const entry_t *e, rbuf_t *out) {
    dfm_rdb_t r;
    rdb_writer_init(&r, out);
    if (!(e->flags & ENTRY_F_OBJ)) {
        rdb_save_type(&r, RDB_TYPE_STRING);
        rdb_save_string(&r, entry_cval(e), e->vlen);
        return 0;
    }
    const dfm_type_t *t = g_types[e->type];
    if (!t || !t->rdb_save) return -1;
    size_t at = out->len;
    rdb_save_type(&r, 0); /* the type's rdb_save tells which type id it wrote */
    int type = t->rdb_save(entry_obj(e), &r);
    if (type < 0 || type > 255) {
        out->len = at;
        return -1;
    }
    out->data[at] = (char)type;
    return 0;
}

int dump_payload(const entry_t *e, rbuf_t *out) {
    if (dump__serialize(e, out) < 0) return -1;
    dump_payload_seal(out);
    return 0;
}

/* The registered type reading RDB type id rdb_type (its id in *id), or NULL. */
static const dfm_type_t *dump__type_for_rdb(int rdb_type, int *id) {
    for (int i = 1; i < g_ntypes && i < DB_MAX_TYPES; i++) {
        const dfm_type_t *t = g_types[i];
        if (!t || !t->rdb_types) continue;
        for (const int *rt = t->rdb_types; *rt >= 0; rt++) {
            if (*rt == rdb_type) {
                *id = i;
                return t;
            }
        }
    }
    return NULL;
}

entry_t *rdb_load_value(dfm_rdb_t *r, int type, const char *key, size_t klen, int64_t at_ms) {
    int id = 0;
    if (type == RDB_TYPE_STRING) {
        size_t n;
        char *v = rdb_load_string(r, &n);
        if (!v || n > UINT32_MAX) {
            df_free(v);
            return NULL;
        }
        entry_t *e = db_entry_new_str(key, klen, v, n, at_ms);
        df_free(v);
        return e;
    }
    const dfm_type_t *t = type < 0 ? NULL : dump__type_for_rdb(type, &id);
    if (!t || !t->rdb_load) return NULL;
    void *obj = t->rdb_load(type, r);
    if (!obj) return NULL;
    if (r->error) {
        if (t->free) t->free(obj);
        return NULL;
    }
    return db_entry_new_obj(key, klen, id, obj, at_ms);
}

int rdb_type_known(int type) {
    int id;
    return type == RDB_TYPE_STRING || (type >= 0 && dump__type_for_rdb(type, &id) != NULL);
}

/* [EXPIRETIME_MS ms][type][key] into r; returns the offset of the type byte. */
static size_t rdb__save_head(dfm_rdb_t *r, const entry_t *e, int type) {
    int64_t exp = entry_expire(e);
    if (exp >= 0) {
        unsigned char le[8];
        for (int i = 0; i < 8; i++) le[i] = (unsigned char)((uint64_t)exp >> (8 * i));
        rdb_save_type(r, RDB_OPCODE_EXPIRETIME_MS);
        rdb_save_raw(r, le, 8);
    }
    size_t at = r->out->len;
    rdb_save_type(r, type);
    rdb_save_string(r, entry_key(e), e->klen);
    return at;
}

int rdb_save_key(rbuf_t *out, const entry_t *e) {
    size_t at0 = out->len;
    dfm_rdb_t r;
    rdb_writer_init(&r, out);
    size_t at = rdb__save_head(&r, e, RDB_TYPE_STRING); /* patched below for module types */
    if (!(e->flags & ENTRY_F_OBJ)) {
        rdb_save_string(&r, entry_cval(e), e->vlen);
        return 0;
    }
    const dfm_type_t *t = g_types[e->type];
    int type = t && t->rdb_save ? t->rdb_save(entry_obj(e), &r) : -1;
    if (type < 0 || type > 255) {
        out->len = at0;
        return -1;
    }
    out->data[at] = (char)type;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Values in slices (snapshots)                                                                 */

static const dfm_rdb_slicer_t *rdb__slicers[DB_MAX_TYPES]; /* set at start-up, then read-only */

int rdb_register_slicer(int type, const dfm_rdb_slicer_t *s) {
    if (type <= DFM_TYPE_STRING || type >= g_ntypes || !s ||
        s->size < offsetof(dfm_rdb_slicer_t, abort) + sizeof s->abort || !s->weight ||
        !s->begin || !s->step)
        return -1;
    rdb__slicers[type] = s;
    return 0;
}

const dfm_rdb_slicer_t *rdb_slicer_for(const entry_t *e, size_t min_weight) {
    if (!(e->flags & ENTRY_F_OBJ)) return NULL;
    const dfm_rdb_slicer_t *s = rdb__slicers[e->type];
    return s && s->weight(entry_obj(e)) >= min_weight ? s : NULL;
}

void rdb_slicer_abort(const dfm_rdb_slicer_t *s, void *cursor) {
    if (s->abort)
        s->abort(cursor);
    else
        df_free(cursor);
}

void *rdb_save_key_begin(rbuf_t *out, const entry_t *e, const dfm_rdb_slicer_t *s) {
    int type = -1;
    void *cur = s->begin(entry_obj(e), &type);
    if (!cur) return NULL;
    if (type < 0 || type > 255) {
        rdb_slicer_abort(s, cur);
        return NULL;
    }
    dfm_rdb_t r;
    rdb_writer_init(&r, out);
    rdb__save_head(&r, e, type);
    return cur;
}

/*
 * Decode a verified payload (len includes the footer) into a new entry for key with expiry
 * at_ms (-1: none). Returns NULL on bad data. The caller owns the entry.
 */
static entry_t *dump__load_entry(const dfm_str_t *key, const void *p, size_t len,
                                 int64_t at_ms) {
    dfm_rdb_t r;
    /* Redis reads the value from the whole payload, footer included, so a value that
       overruns its body into the footer still loads there; do the same. */
    rdb_reader_init(&r, p, len);
    int type = rdb_load_type(&r);
    return rdb_load_value(&r, type, key->ptr, key->len, at_ms);
}

/* ------------------------------------------------------------------------------------------ */
/* Commands                                                                                     */

/* DUMP key: the serialized value, or a null bulk when the key does not exist. */
static void dump_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    shard_t *s = ctx->shard;
    table_slot_t *slot = db_find(s, ctx->db, argv[1].ptr, argv[1].len);
    if (!slot) {
        s->stats.misses++;
        notify_key(ctx->db, "keymiss", argv[1].ptr, argv[1].len, 'm');
        reply_null(ctx);
        return;
    }
    s->stats.hits++;
    entry_t *e = slot_entry(*slot);
    e->lru = server_lru_clock();
    rbuf_t buf = {0};
    if (dump_payload(e, &buf) < 0)
        reply_error(ctx, "ERR DUMP is not supported for this type");
    else
        reply_bulk(ctx, buf.data, buf.len);
    rbuf_free(&buf);
}

typedef struct restore_opts {
    int replace, absttl;
    long long idle, freq; /* -1 when not given */
} restore_opts_t;

/* Parse an integer argument or reply Redis's error. Returns 0 or -1 (replied). */
static int dump__int_arg(dfm_ctx_t *ctx, const dfm_str_t *a, long long *v) {
    if (util_str2ll(a->ptr, a->len, v) == 0) return 0;
    reply_error(ctx, "ERR value is not an integer or out of range");
    return -1;
}

/* RESTORE's options after the payload, in Redis's order of checks. 0 or -1 (replied). */
static int restore__parse(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, restore_opts_t *o) {
    o->replace = o->absttl = 0;
    o->idle = o->freq = -1;
    for (int j = 4; j < argc; j++) {
        int more = argc - j - 1;
        if (util_eq_nocase(argv[j].ptr, argv[j].len, "replace")) {
            o->replace = 1;
        } else if (util_eq_nocase(argv[j].ptr, argv[j].len, "absttl")) {
            o->absttl = 1;
        } else if (util_eq_nocase(argv[j].ptr, argv[j].len, "idletime") && more && o->freq < 0) {
            if (dump__int_arg(ctx, &argv[++j], &o->idle) < 0) return -1;
            if (o->idle < 0) {
                reply_error(ctx, "ERR Invalid IDLETIME value, must be >= 0");
                return -1;
            }
        } else if (util_eq_nocase(argv[j].ptr, argv[j].len, "freq") && more && o->idle < 0) {
            if (dump__int_arg(ctx, &argv[++j], &o->freq) < 0) return -1;
            if (o->freq < 0 || o->freq > 255) {
                reply_error(ctx, "ERR Invalid FREQ value, must be >= 0 and <= 255");
                return -1;
            }
        } else {
            reply_syntax_error(ctx);
            return -1;
        }
    }
    return 0;
}

/* Set the restored entry's LRU clock or LFU counter as Redis's objectSetLRUOrLFU does: FREQ
   counts under an LFU policy, IDLETIME under any other. */
static void restore__set_lru(entry_t *e, const restore_opts_t *o) {
    const char *policy = config_maxmemory_policies[g_config.maxmemory_policy];
    int lfu = strstr(policy, "lfu") != NULL;
    uint16_t clock = server_lru_clock();
    if (lfu && o->freq >= 0)
        e->lru = (uint16_t)o->freq;
    else if (!lfu && o->idle >= 0)
        e->lru = (uint16_t)(clock - (uint16_t)o->idle);
    else
        e->lru = lfu ? evict_lfu_new() : clock; /* as every other key creation does */
}

/*
 * RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]. A ttl of 0 means
 * no expiry; an expiry already in the past deletes (with REPLACE) and creates nothing.
 */
static void restore_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    shard_t *s = ctx->shard;
    restore_opts_t o;
    long long ttl;
    if (restore__parse(ctx, argc, argv, &o) < 0) return;
    table_slot_t *slot = db_find(s, ctx->db, argv[1].ptr, argv[1].len);
    if (slot && !o.replace) {
        reply_error(ctx, "BUSYKEY Target key name already exists.");
        return;
    }
    if (dump__int_arg(ctx, &argv[2], &ttl) < 0) return;
    if (ttl < 0) {
        reply_error(ctx, "ERR Invalid TTL value, must be >= 0");
        return;
    }
    if (dump_payload_verify(argv[3].ptr, argv[3].len) < 0) {
        reply_error(ctx, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    int64_t now = util_now_ms();
    /* Redis adds without an overflow check: a wrapped sum reads as already expired. */
    int64_t at = ttl == 0 ? -1 : o.absttl ? ttl : (int64_t)((uint64_t)ttl + (uint64_t)now);
    entry_t *e = dump__load_entry(&argv[1], argv[3].ptr, argv[3].len, at < 0 ? -1 : at);
    if (!e) {
        reply_error(ctx, "ERR Bad data format");
        return;
    }
    if (ttl != 0 && at <= now) {
        db_entry_free(e);
        if (slot) {
            db_delete_slot(s, ctx->db, slot);
            db_signal_modified(s, ctx->db, argv[1].ptr, argv[1].len);
            notify_key(ctx->db, "del", argv[1].ptr, argv[1].len, 'g');
        }
        reply_ok(ctx);
        return;
    }
    restore__set_lru(e, &o);
    db_set_entry(s, ctx->db, e);
    db_signal_modified(s, ctx->db, argv[1].ptr, argv[1].len);
    notify_key(ctx->db, "restore", argv[1].ptr, argv[1].len, 'g');
    reply_ok(ctx);
}

static const dfm_command_t dump_cmds[] = {
    {.name = "dump", .arity = 2, .flags = "readonly", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@keyspace @read @slow",
     .summary = "Returns a serialized representation of the value stored at a key.",
     .since = "2.6.0", .group = "generic",
     .complexity = "O(1) to access the key and additional O(N*M) to serialize it, where N is "
                   "the number of Redis objects composing the value and M their average size. "
                   "For small string values the time complexity is thus O(1)+O(1*M) where M is "
                   "small, so simply O(1).",
     .args_doc = "key", .handler = dump_cmd},
    {.name = "restore", .arity = -4, .flags = "write denyoom", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@keyspace @write @slow @dangerous",
     .summary = "Creates a key from the serialized representation of a value.",
     .since = "2.6.0", .group = "generic",
     .complexity = "O(1) to create the new key and additional O(N*M) to reconstruct the "
                   "serialized value, where N is the number of Redis objects composing the "
                   "value and M their average size. For small string values the time "
                   "complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However "
                   "for sorted set values the complexity is O(N*M*log(N)) because inserting "
                   "values into sorted sets is O(log(N)).",
     .args_doc = "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] "
                 "[FREQ frequency]",
     .handler = restore_cmd},
    {.name = "restore-asking", .arity = -4, .flags = "write denyoom", .first_key = 1,
     .last_key = 1, .key_step = 1, .acl_categories = "@keyspace @write @slow @dangerous",
     .summary = "An internal command for migrating keys in a cluster", .since = "3.0.0",
     .group = "server", .complexity = "O(1) to create the new key and additional O(N*M) to "
     "reconstruct the serialized value.", .args_doc = "key ttl serialized-value [REPLACE] "
     "[ABSTTL] [IDLETIME seconds] [FREQ frequency]", .handler = restore_cmd},
};

void cmd_dump_register(void) { cmdtab_register(dump_cmds, CMDTAB_COUNT(dump_cmds)); }
