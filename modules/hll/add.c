/*
 * add.c: PFADD key [element ...]. A dense value is changed in place; a sparse one in a
 * private copy that is stored back only when a register moved (or the key is new).
 */
#include "hll.h"

typedef int (*add_fn)(void *target, long index, uint8_t val);

static int add_to_dense(void *regs, long index, uint8_t val) { return hll_dense_set(regs, index, val); }
static int add_to_work(void *w, long index, uint8_t val) { return hll_work_set(w, index, val); }

/* Add the elements argv[2..argc) through set; 1 if a register moved. */
static int add_elements(add_fn set, void *target, int argc, const dfm_str_t *argv) {
    int changed = 0;
    for (int i = 2; i < argc; i++) {
        long index;
        int val = hll_pattern(argv[i].ptr, argv[i].len, &index);
        changed |= set(target, index, (uint8_t)val);
    }
    return changed;
}

void hll_pfadd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    const dfm_str_t *key = &argv[1];
    dfm_key_t *k;
    int found = hll_lookup(ctx, key, DFM_LOOKUP_WRITE, &k);
    if (found < 0) {
        hll_reply_error(ctx, found);
        return;
    }
    dfm_str_t v;
    if (found) hll_api->str_value(k, &v);
    int changed;
    if (found && (uint8_t)v.ptr[4] == HLL_DENSE) {
        uint8_t *p = (uint8_t *)hll_api->str_resize(ctx, &k, v.len);
        changed = add_elements(add_to_dense, p + HLL_HDR_SIZE, argc, argv);
        if (changed) hll_hdr_invalidate(p);
    } else {
        hll_work_t w;
        if (hll_work_load(&w, found ? &v : NULL) < 0) {
            hll_reply_error(ctx, HLL_E_CORRUPT);
            return;
        }
        changed = add_elements(add_to_work, &w, argc, argv) || !found; /* creating the key is a change */
        if (changed) {
            hll_hdr_invalidate(w.b);
            hll_work_commit(ctx, key, &w);
        } else {
            hll_work_free(&w);
        }
    }
    if (changed) {
        hll_api->signal_modified(ctx, key);
        hll_api->notify(ctx, "pfadd", key, '$');
    }
    hll_api->reply_int(ctx, changed);
}
