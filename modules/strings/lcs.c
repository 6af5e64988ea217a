/*
 * lcs.c: LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN], the longest common
 * subsequence of two strings. The keys may be in two shards: the only phase copies the values,
 * the reply (client thread) runs the classic O(N*M) dynamic programme and walks it back from
 * the end, as Redis does, so the matches come out in the same order.
 */
#include <string.h>

#include "strings.h"

typedef struct lcs_state {
    int wrongtype;
    dfm_str_t s[2]; /* argv[1], argv[2]; ptr NULL when missing */
} lcs_state_t;

typedef struct lcs_opts {
    int len, idx, withlen;
    long long minlen;
} lcs_opts_t;

/* One run of matching bytes: a[a0..a1] == b[b0..b1]. */
typedef struct lcs_run {
    uint32_t a0, a1, b0, b1;
} lcs_run_t;

static int lcs_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                     const int *keys, int nkeys) {
    lcs_state_t *st = *state;
    if (st == NULL) {
        *state = st = str_api->alloc(sizeof(*st));
        memset(st, 0, sizeof(*st));
    }
    for (int i = 0; i < nkeys; i++) {
        dfm_key_t *k = str_api->lookup(ctx, &argv[keys[i]], DFM_LOOKUP_READ);
        if (k == NULL) continue;
        if (str_api->key_type(k) != DFM_TYPE_STRING) {
            st->wrongtype = 1;
            continue;
        }
        dfm_str_t v;
        str_api->str_value(k, &v);
        if (v.len == 0) continue;
        char *copy = str_api->alloc(v.len);
        memcpy(copy, v.ptr, v.len);
        st->s[keys[i] - 1] = (dfm_str_t){copy, v.len};
    }
    return 0;
}

/* Parse the options after the two keys; replies and returns -1 on error. */
static int lcs_parse(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, lcs_opts_t *o) {
    memset(o, 0, sizeof(*o));
    for (int i = 3; i < argc; i++) {
        if (str_api->arg_eq(&argv[i], "idx")) o->idx = 1;
        else if (str_api->arg_eq(&argv[i], "len")) o->len = 1;
        else if (str_api->arg_eq(&argv[i], "withmatchlen")) o->withlen = 1;
        else if (str_api->arg_eq(&argv[i], "minmatchlen") && i + 1 < argc) {
            if (str_api->arg_ll(ctx, &argv[++i], &o->minlen) < 0) return -1;
            if (o->minlen < 0) o->minlen = 0;
        } else {
            str_api->reply_syntax_error(ctx);
            return -1;
        }
    }
    if (o->len && o->idx) {
        str_api->reply_error(ctx, "ERR If you want both the length and indexes, please just "
                                  "use IDX.");
        return -1;
    }
    return 0;
}

/* Fill the (alen+1) x (blen+1) table: dp[i][j] = LCS length of a[0..i-1] and b[0..j-1]. */
static void lcs_table(uint32_t *dp, const unsigned char *a, uint32_t alen,
                      const unsigned char *b, uint32_t blen) {
    size_t w = (size_t)blen + 1;
    memset(dp, 0, sizeof(uint32_t) * w);
    for (uint32_t i = 1; i <= alen; i++) {
        uint32_t *row = dp + i * w, *up = row - w;
        row[0] = 0;
        for (uint32_t j = 1; j <= blen; j++) {
            if (a[i - 1] == b[j - 1]) row[j] = up[j - 1] + 1;
            else row[j] = up[j] > row[j - 1] ? up[j] : row[j - 1];
        }
    }
}

/*
 * Walk the table back from (alen, blen), writing the LCS into out (if not NULL) and the runs
 * of at least minlen bytes into runs (if not NULL). Returns the number of runs kept.
 */
static size_t lcs_walk(const uint32_t *dp, const lcs_state_t *st, long long minlen, char *out,
                       lcs_run_t *runs) {
    const unsigned char *a = (const unsigned char *)st->s[0].ptr;
    const unsigned char *b = (const unsigned char *)st->s[1].ptr;
    size_t w = st->s[1].len + 1, nruns = 0;
    uint32_t i = (uint32_t)st->s[0].len, j = (uint32_t)st->s[1].len, n = dp[i * w + j];
    lcs_run_t run = {0};
    int in_run = 0;
    while (i > 0 && j > 0) {
        int end_run = 0;
        if (a[i - 1] == b[j - 1]) {
            if (out) out[--n] = (char)a[i - 1];
            if (!in_run) run.a1 = i - 1, run.b1 = j - 1, in_run = 1;
            run.a0 = --i, run.b0 = --j;
            end_run = i == 0 || j == 0;
        } else {
            if (dp[(i - 1) * w + j] > dp[i * w + j - 1]) i--;
            else j--;
            end_run = in_run;
        }
        if (!end_run) continue;
        in_run = 0;
        if (runs && (minlen == 0 || run.a1 - run.a0 + 1 >= minlen)) runs[nruns++] = run;
    }
    return nruns;
}

/* Reply IDX style: matches (runs) and the total length. */
static void lcs_reply_idx(dfm_ctx_t *ctx, const lcs_run_t *runs, size_t n, uint32_t len,
                          int withlen) {
    str_api->reply_map(ctx, 2);
    str_api->reply_cstr(ctx, "matches");
    str_api->reply_array(ctx, (long)n);
    for (size_t i = 0; i < n; i++) {
        str_api->reply_array(ctx, 2 + withlen);
        str_api->reply_array(ctx, 2);
        str_api->reply_int(ctx, runs[i].a0);
        str_api->reply_int(ctx, runs[i].a1);
        str_api->reply_array(ctx, 2);
        str_api->reply_int(ctx, runs[i].b0);
        str_api->reply_int(ctx, runs[i].b1);
        if (withlen) str_api->reply_int(ctx, runs[i].a1 - runs[i].a0 + 1);
    }
    str_api->reply_cstr(ctx, "len");
    str_api->reply_int(ctx, len);
}

/* Compute and reply per the options; the values are in st. */
static void lcs_compute(dfm_ctx_t *ctx, const lcs_state_t *st, const lcs_opts_t *o) {
    size_t alen = st->s[0].len, blen = st->s[1].len;
    if (alen >= UINT32_MAX - 1 || blen >= UINT32_MAX - 1) {
        str_api->reply_error(ctx, "ERR String too long for LCS");
        return;
    }
    unsigned long long cells = (unsigned long long)(alen + 1) * (blen + 1);
    if (cells * sizeof(uint32_t) > (unsigned long long)STR_MAX_LEN) {
        str_api->reply_error(ctx, "ERR Insufficient memory, transient memory for LCS exceeds "
                                  "proto-max-bulk-len");
        return;
    }
    uint32_t *dp = str_api->alloc(cells * sizeof(uint32_t));
    lcs_table(dp, (const unsigned char *)st->s[0].ptr, (uint32_t)alen,
              (const unsigned char *)st->s[1].ptr, (uint32_t)blen);
    uint32_t len = dp[cells - 1];
    if (o->idx) {
        lcs_run_t *runs = str_api->alloc(sizeof(lcs_run_t) * (len + 1));
        size_t n = lcs_walk(dp, st, o->minlen, NULL, runs);
        lcs_reply_idx(ctx, runs, n, len, o->withlen);
        str_api->free(runs);
    } else if (o->len) {
        str_api->reply_int(ctx, len);
    } else {
        char *out = str_api->alloc(len + 1);
        lcs_walk(dp, st, 0, out, NULL);
        str_api->reply_bulk(ctx, out, len);
        str_api->free(out);
    }
    str_api->free(dp);
}

static void lcs_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    lcs_state_t empty = {0}, *st = *state ? *state : &empty;
    lcs_opts_t o;
    for (int i = 0; i < 2; i++)
        if (st->s[i].ptr == NULL) st->s[i].ptr = "";
    if (st->wrongtype)
        str_api->reply_error(ctx, "ERR The specified keys must contain string values");
    else if (lcs_parse(ctx, argc, argv, &o) == 0)
        lcs_compute(ctx, st, &o);
    for (int i = 0; i < 2; i++)
        if (st->s[i].len) str_api->free((void *)(uintptr_t)st->s[i].ptr);
    if (st != &empty) str_api->free(st);
    *state = NULL;
}

const dfm_multi_t str_lcs_multi = {.nphases = 1, .phase = lcs_phase, .reply = lcs_reply};
