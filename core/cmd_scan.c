/*
 * cmd_scan.c: SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] over the keyspace.
 *
 * The keyspace is split in shards, each with its own table per db, so a SCAN cursor names a
 * shard and a position in that shard's table:
 *
 *     cursor = (table_cursor << SCAN_SHARD_BITS) | shard
 *
 * Cursor 0 is shard 0 at the start; the walk finishes one shard's table before the next
 * shard's, and 0 is returned after the last shard. table_scan cursors stay below 2^39, so
 * cursors stay below 2^49 (Redis clients treat them as unsigned 64-bit). Because a key
 * always lives in the shard its hash names and table_scan visits an entry present for the
 * whole walk at least once even while segments split, SCAN keeps Redis's guarantee.
 *
 * SCAN is "@allshards": its phase runs on every shard, but only the shard the cursor names
 * (and, when that one runs out before COUNT, the shards after it) does any work; the others
 * return at once. The matching keys travel in the phase state as ready-made RESP bulks.
 */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "alloc.h"
#include "cmdtab.h"
#include "db.h"
#include "glob.h"
#include "reply.h"
#include "util.h"

#define SCAN_SHARD_BITS 10
#define SCAN_SHARD_MASK ((1ull << SCAN_SHARD_BITS) - 1)
#define SCAN_DEFAULT_COUNT 10

/* Pure helpers, exported for the unit tests (tests/unit/test_core.c). */
uint64_t scan_cursor_make(int shard, uint64_t table_cursor);
int scan_cursor_shard(uint64_t cursor);
uint64_t scan_cursor_table(uint64_t cursor);
int scan_parse_cursor(const char *p, size_t len, uint64_t *out);

uint64_t scan_cursor_make(int shard, uint64_t table_cursor) {
    return (table_cursor << SCAN_SHARD_BITS) | (uint64_t)shard;
}
int scan_cursor_shard(uint64_t cursor) { return (int)(cursor & SCAN_SHARD_MASK); }
uint64_t scan_cursor_table(uint64_t cursor) { return cursor >> SCAN_SHARD_BITS; }

/*
 * Parse a cursor as Redis does (strtoul: optional sign, decimal digits, no leading space,
 * no trailing garbage, no overflow; "" is 0). Returns 0 or -1 ("ERR invalid cursor").
 */
int scan_parse_cursor(const char *p, size_t len, uint64_t *out) {
    size_t i = 0;
    int neg = 0;
    if (len == 0) {
        *out = 0;
        return 0;
    }
    if (isspace((unsigned char)p[0])) return -1;
    if (p[0] == '+' || p[0] == '-') neg = p[i++] == '-';
    if (i == len) return -1;
    uint64_t v = 0;
    for (; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = neg ? (uint64_t)0 - v : v;
    return 0;
}

typedef struct scan_state {
    const char *err;          /* error to reply, or NULL */
    long count;
    const dfm_str_t *match;   /* NULL: every key */
    const dfm_str_t *type;    /* NULL: every type */
    int shard;                /* next position: shard and its table cursor */
    uint64_t tcur;
    int done;                 /* every shard walked: reply cursor 0 */
    int stop;                 /* COUNT reached */
    long visited;
    int64_t now;
    rbuf_t buf;               /* matching keys as RESP bulks */
    long n;
} scan_state_t;

/* Fill st from argv (cursor, MATCH, COUNT, TYPE); st->err says what is wrong. */
static void scan_parse(scan_state_t *st, int argc, const dfm_str_t *argv) {
    uint64_t cursor;
    st->count = SCAN_DEFAULT_COUNT;
    if (scan_parse_cursor(argv[1].ptr, argv[1].len, &cursor) < 0) {
        st->err = "ERR invalid cursor";
        return;
    }
    for (int i = 2; i < argc && !st->err; i += 2) {
        const dfm_str_t *a = &argv[i];
        long long n;
        if (i + 1 >= argc) {
            st->err = "ERR syntax error";
        } else if (util_eq_nocase(a->ptr, a->len, "count")) {
            if (util_str2ll(argv[i + 1].ptr, argv[i + 1].len, &n) < 0)
                st->err = "ERR value is not an integer or out of range";
            else if (n < 1)
                st->err = "ERR syntax error";
            else
                st->count = (long)n;
        } else if (util_eq_nocase(a->ptr, a->len, "match")) {
            st->match = (argv[i + 1].len == 1 && argv[i + 1].ptr[0] == '*') ? NULL : &argv[i + 1];
        } else if (util_eq_nocase(a->ptr, a->len, "type")) {
            st->type = &argv[i + 1];
        } else {
            st->err = "ERR syntax error";
        }
    }
    st->shard = scan_cursor_shard(cursor);
    st->tcur = scan_cursor_table(cursor);
    st->done = st->shard >= g_nshards;
}

/* table_scan visitor: append live keys that pass MATCH and TYPE. */
static void scan_visit(void *arg, table_slot_t *slot) {
    scan_state_t *st = arg;
    entry_t *e = slot_entry(*slot);
    st->visited++;
    if (slot_has_expire(*slot) && entry_expire(e) <= st->now) return;
    if (st->match && !glob_match(st->match->ptr, st->match->len, entry_key(e), e->klen, 0)) return;
    if (st->type && !util_eq_nocase(st->type->ptr, st->type->len, db_type_name(e->type))) return;
    dfm_ctx_t tmp = {.out = &st->buf, .resp = 2};
    reply_bulk(&tmp, entry_key(e), e->klen);
    st->n++;
}

/*
 * Walk this shard's table from st->tcur until COUNT entries were seen (or 10x COUNT buckets,
 * for sparse tables) or the table ends; at its end the position moves to the next shard.
 */
static void scan_shard(scan_state_t *st, table_t *t) {
    long buckets = 0, max_buckets = st->count > LONG_MAX / 10 ? LONG_MAX : st->count * 10;
    st->now = util_now_ms();
    while (st->visited < st->count && buckets++ < max_buckets) {
        st->tcur = table_scan(t, st->tcur, scan_visit, st);
        if (st->tcur == 0) {
            st->done = ++st->shard >= g_nshards;
            return;
        }
    }
    st->stop = 1;
}

static int scan_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                      const int *keys, int nkeys) {
    (void)phase, (void)keys, (void)nkeys;
    if (!*state) {
        scan_state_t *n = df_calloc(sizeof *n);
        scan_parse(n, argc, argv);
        *state = n;
    }
    scan_state_t *st = *state;
    if (st->err) return -1;
    if (st->done || st->stop || ctx->shard->id != st->shard) return 0;
    scan_shard(st, ctx->shard->dbs[ctx->db].t);
    return 0;
}

static void scan_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    scan_state_t *st = *state;
    if (!st) { /* no phase ran: only the arguments can be judged */
        st = df_calloc(sizeof *st);
        scan_parse(st, argc, argv);
        st->done = 1;
    }
    if (st->err) {
        reply_error(ctx, st->err);
    } else {
        char num[32];
        uint64_t next = st->done ? 0 : scan_cursor_make(st->shard, st->tcur);
        int len = snprintf(num, sizeof num, "%llu", (unsigned long long)next);
        reply_array(ctx, 2);
        reply_bulk(ctx, num, (size_t)len);
        reply_array(ctx, st->n);
        if (st->buf.len) reply_raw(ctx, st->buf.data, st->buf.len);
    }
    rbuf_free(&st->buf);
    df_free(st);
    *state = NULL;
}

static const dfm_multi_t scan_multi = {1, scan_phase, scan_reply};

static const dfm_command_t scan_cmds[] = {
    {.name = "scan", .arity = -2, .flags = "readonly @allshards",
     .acl_categories = "@keyspace @read @slow", .summary = "Iterates over the key names in the database.",
     .since = "2.8.0", .group = "generic", .complexity = "O(1) for every call. O(N) for a complete iteration.",
     .args_doc = "cursor [MATCH pattern] [COUNT count] [TYPE type]", .multi = &scan_multi},
};

void cmd_scan_register(void) { cmdtab_register(scan_cmds, CMDTAB_COUNT(scan_cmds)); }
