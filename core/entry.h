/*
 * entry.h: one key and its value in one allocation (the compact object).
 *
 *   [entry_t header, 12 bytes][expire_ms, 8 bytes, only if ENTRY_F_EXPIRE][key][value]
 *   [meta, 12 bytes, only if ENTRY_F_META: uint32 flags, uint64 version]
 *
 * For strings the value bytes follow the key (so a 16-byte key with a 32-byte value is one
 * 64-byte jemalloc block). For module types the value is a void* to the module's object.
 * Nothing here allocates; core/db.c builds and frees entries.
 */
#ifndef DF_ENTRY_H
#define DF_ENTRY_H

#include <stdint.h>
#include <string.h>

#define ENTRY_ENC_INT 0    /* string holding a canonical 64-bit integer */
#define ENTRY_ENC_EMBSTR 1 /* string up to 44 bytes */
#define ENTRY_ENC_RAW 2    /* longer or modified in place */
#define ENTRY_ENC_MASK 0x3
#define ENTRY_F_EXPIRE 0x4 /* an 8-byte absolute unix ms expiry follows the header */
#define ENTRY_F_OBJ 0x8    /* value is a pointer to a module object */
#define ENTRY_F_META 0x10  /* string: flags and version follow the value (api str_set_meta);
                              whoever rewrites the value without keeping them clears this */
#define ENTRY_F_SNAP 0x20  /* held by a running snapshot, which writes the value in slices:
                              the table releases it before it may change (table.c) */
#define ENTRY_META_SIZE 12

typedef struct entry {
    uint8_t type;  /* DFM_TYPE_STRING (0) or a registered module type id */
    uint8_t flags; /* ENTRY_* */
    uint16_t lru;  /* LRU clock (seconds, wrapping) or LFU counter; for eviction */
    uint32_t klen;
    uint32_t vlen; /* string: value bytes; object: sizeof(void*) */
    char data[];
} entry_t;

static inline size_t entry_exp_size(const entry_t *e) { return (e->flags & ENTRY_F_EXPIRE) ? 8 : 0; }
static inline const char *entry_key(const entry_t *e) { return e->data + entry_exp_size(e); }
static inline char *entry_val(entry_t *e) { return e->data + entry_exp_size(e) + e->klen; }
static inline const char *entry_cval(const entry_t *e) { return e->data + entry_exp_size(e) + e->klen; }
static inline int64_t entry_expire(const entry_t *e) {
    int64_t v = -1;
    if (e->flags & ENTRY_F_EXPIRE) memcpy(&v, e->data, 8);
    return v;
}
static inline void *entry_obj(const entry_t *e) {
    void *p;
    memcpy(&p, entry_cval(e), sizeof p);
    return p;
}
static inline size_t entry_meta_size(const entry_t *e) {
    return (e->flags & ENTRY_F_META) ? ENTRY_META_SIZE : 0;
}
static inline char *entry_meta(entry_t *e) { return entry_val(e) + e->vlen; }
static inline size_t entry_alloc_size(size_t klen, size_t vlen, int has_expire) {
    return sizeof(entry_t) + (has_expire ? 8 : 0) + klen + vlen;
}

#endif
