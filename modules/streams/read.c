/*
 * read.c: XREAD [COUNT n] [BLOCK ms] STREAMS key... id... Its keys may live in several
 * shards, so it is a dfm_multi_t command (module.h):
 *
 *   phase 0, on every shard with some of its keys: check each key's type, resolve its id
 *            ("$" = the stream's last id) and copy the entries after it into the state;
 *   reply,   on the client's thread: the first error in argument order, the streams that
 *            had entries (RESP2 [[key, entries]...], RESP3 a map), or park the client with
 *            api->block_on_keys when BLOCK was given. A later XADD makes the core call
 *            xread_ready on the key's shard, which replies that one stream.
 *
 * A waiter keeps nothing but its copy of the arguments, so before parking, "$" is replaced
 * by the id it stood for when the phases ran (see park): later entries are exactly those
 * after it, as in Redis.
 */
#include <string.h>

#include "streams.h"

#define XREAD_BLOCKED_COUNT 1000 /* Redis's XREAD_BLOCKED_DEFAULT_COUNT */

typedef struct xread_opts {
    long long count;  /* 0 = no limit */
    int64_t block_ms; /* -1 = do not block, 0 = forever */
    int streams;      /* argv index of the first key */
    int n;            /* number of streams */
} xread_opts_t;

typedef struct xread_res {
    size_t n;
    xent_t **ents; /* owned copies */
} xread_res_t;

typedef struct xread_state {
    xread_opts_t o;
    const char *err; /* static text of the first error, or NULL */
    int err_idx;     /* stream index of err (errors of lower index win) */
    xread_res_t *res;
    sid_t *ids; /* the id each stream is read after ("$" resolved) */
} xread_state_t;

/* Parse the options (Redis's order and messages). NULL or the error text. */
static const char *parse_opts(int argc, const dfm_str_t *argv, xread_opts_t *o) {
    *o = (xread_opts_t){.count = 0, .block_ms = -1};
    for (int i = 1; i < argc; i++) {
        int more = argc - i - 1;
        long long v;
        if (xs_api->arg_eq(&argv[i], "block") && more) {
            i++;
            if (xs_api->str_to_ll(argv[i].ptr, argv[i].len, &v) < 0)
                return "ERR timeout is not an integer or out of range";
            if (v < 0) return "ERR timeout is negative";
            o->block_ms = v;
        } else if (xs_api->arg_eq(&argv[i], "count") && more) {
            i++;
            if (xs_api->str_to_ll(argv[i].ptr, argv[i].len, &v) < 0)
                return "ERR value is not an integer or out of range";
            o->count = v < 0 ? 0 : v;
        } else if (xs_api->arg_eq(&argv[i], "streams") && more) {
            o->streams = i + 1;
            if ((argc - o->streams) % 2)
                return "ERR Unbalanced XREAD list of streams: for each stream key an ID or "
                       "'$' must be specified.";
            o->n = (argc - o->streams) / 2;
            return NULL;
        } else if (xs_api->arg_eq(&argv[i], "group") && more >= 2) {
            return "ERR The GROUP option is only supported by XREADGROUP. You called XREAD "
                   "instead.";
        } else if (xs_api->arg_eq(&argv[i], "noack")) {
            return "ERR The NOACK option is only supported by XREADGROUP. You called XREAD "
                   "instead.";
        } else {
            return "ERR syntax error";
        }
    }
    return "ERR syntax error";
}

/* The keys of an XREAD call: the first half of what follows STREAMS. Pure, any thread. */
int xs_read_keys(int argc, const dfm_str_t *argv, int *idx, int max) {
    xread_opts_t o;
    if (parse_opts(argc, argv, &o) != NULL) return 0;
    int n = 0;
    for (int i = 0; i < o.n && n < max; i++) idx[n++] = o.streams + i;
    return n;
}

/* The id after which stream j is read (NULL s: a missing key), or the error text. */
static const char *resolve_id(const stream_t *s, const dfm_str_t *a, sid_t *id) {
    if (a->len == 1 && a->ptr[0] == '$') {
        *id = s ? s->last_id : (sid_t){0, 0};
        return NULL;
    }
    if (a->len == 1 && a->ptr[0] == '>')
        return "ERR The > ID can be specified only when calling XREADGROUP using the GROUP "
               "<group> <consumer> option.";
    return xs_parse_id_quiet(a, id, 0, 1, NULL) < 0 ? XS_ERR_ID : NULL;
}

/* Copy up to count entries of s after id into r. */
static void copy_after(const stream_t *s, const sid_t *after, long long count, xread_res_t *r) {
    sid_t start = *after;
    if (sid_incr(&start) < 0) return;
    size_t a = stream_seek(s, &start), n = s->len - a;
    if (count > 0 && (size_t)count < n) n = (size_t)count;
    if (n == 0) return;
    r->ents = xs_api->alloc(sizeof(xent_t *) * n);
    for (size_t i = 0; i < n; i++) {
        const xent_t *e = stream_at(s, a + i);
        r->ents[i] = xs_api->alloc(sizeof(*e) + e->size);
        memcpy(r->ents[i], e, sizeof(*e) + e->size);
    }
    r->n = n;
}

static void note_error(xread_state_t *st, int j, const char *err) {
    if (st->err == NULL || j < st->err_idx) {
        st->err = err;
        st->err_idx = j;
    }
}

static xread_state_t *state_new(int argc, const dfm_str_t *argv) {
    xread_state_t *st = xs_api->alloc(sizeof *st);
    memset(st, 0, sizeof *st);
    st->err = parse_opts(argc, argv, &st->o);
    if (!st->err) {
        st->res = xs_api->alloc(sizeof(xread_res_t) * (size_t)st->o.n);
        memset(st->res, 0, sizeof(xread_res_t) * (size_t)st->o.n);
        st->ids = xs_api->alloc(sizeof(sid_t) * (size_t)st->o.n);
        memset(st->ids, 0, sizeof(sid_t) * (size_t)st->o.n);
    }
    return st;
}

static int xread_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                       const int *keys, int nkeys) {
    (void)phase;
    xread_state_t *st = *state;
    if (!st) *state = st = state_new(argc, argv);
    if (st->err && !st->res) return -1;
    for (int i = 0; i < nkeys; i++) {
        int j = keys[i] - st->o.streams;
        stream_t *s;
        sid_t id;
        if (xs_lookup(ctx, &argv[keys[i]], DFM_LOOKUP_READ, &s, 0) < 0) {
            note_error(st, j, "WRONGTYPE Operation against a key holding the wrong kind of value");
            continue;
        }
        const char *err = resolve_id(s, &argv[keys[i] + st->o.n], &id);
        if (err) note_error(st, j, err);
        st->ids[j] = id;
        if (!err && s) copy_after(s, &id, st->o.count, &st->res[j]);
    }
    return 0;
}

static void reply_entries(dfm_ctx_t *ctx, const dfm_str_t *key, xent_t *const *ents, size_t n) {
    if (xs_api->resp_version(ctx) < 3) xs_api->reply_array(ctx, 2);
    xs_api->reply_bulk(ctx, key->ptr, key->len);
    xs_api->reply_array(ctx, (long)n);
    for (size_t i = 0; i < n; i++) xs_reply_entry(ctx, ents[i]);
}

static void reply_header(dfm_ctx_t *ctx, long n) {
    if (xs_api->resp_version(ctx) < 3)
        xs_api->reply_array(ctx, n);
    else
        xs_api->reply_map(ctx, n);
}

static void state_free(xread_state_t *st) {
    for (int j = 0; st->res && j < st->o.n; j++) {
        for (size_t i = 0; i < st->res[j].n; i++) xs_api->free(st->res[j].ents[i]);
        xs_api->free(st->res[j].ents);
    }
    xs_api->free(st->res);
    xs_api->free(st->ids);
    xs_api->free(st);
}

/* On the shard of `key`, after an XADD signalled it: serve a parked XREAD. 1 = replied. */
static int xread_ready(dfm_ctx_t *ctx, const dfm_str_t *key, int argc, const dfm_str_t *argv) {
    xread_opts_t o;
    if (parse_opts(argc, argv, &o)) return 0;
    int j = 0;
    while (j < o.n && !(argv[o.streams + j].len == key->len &&
                        memcmp(argv[o.streams + j].ptr, key->ptr, key->len) == 0))
        j++;
    stream_t *s;
    if (j == o.n || xs_lookup(ctx, key, DFM_LOOKUP_READ, &s, 0) <= 0) return 0;
    sid_t id;
    const dfm_str_t *a = &argv[o.streams + o.n + j];
    if (xs_parse_id_quiet(a, &id, 0, 1, NULL) < 0) return 0; /* "$" was resolved in park */
    xread_res_t r = {0, NULL};
    copy_after(s, &id, o.count ? o.count : XREAD_BLOCKED_COUNT, &r);
    if (r.n == 0) return 0;
    reply_header(ctx, 1);
    reply_entries(ctx, key, r.ents, r.n);
    for (size_t i = 0; i < r.n; i++) xs_api->free(r.ents[i]);
    xs_api->free(r.ents);
    return 1;
}

static void reply_results(dfm_ctx_t *ctx, const xread_state_t *st, const dfm_str_t *argv) {
    long n = 0;
    for (int j = 0; j < st->o.n; j++) n += st->res[j].n > 0;
    reply_header(ctx, n);
    for (int j = 0; j < st->o.n; j++)
        if (st->res[j].n) reply_entries(ctx, &argv[st->o.streams + j], st->res[j].ents, st->res[j].n);
}

/*
 * Park the client on its streams. block_on_keys copies the command's arguments (the argv the
 * reply step got); for that copy each "$" is swapped for the id it resolved to, and put back
 * right after. Only done when the client can block (argv is then the connection's own,
 * writable array); otherwise block_on_keys just replies a null array.
 */
static void park(dfm_ctx_t *ctx, const xread_state_t *st, const dfm_str_t *argv) {
    const xread_opts_t *o = &st->o;
    int *keys = xs_api->alloc(sizeof(int) * (size_t)o->n);
    char(*ids)[48] = xs_api->alloc(48 * (size_t)o->n);
    dfm_str_t *args = (dfm_str_t *)(uintptr_t)argv, *saved = NULL;
    int can = xs_api->can_block(ctx);
    if (can) {
        saved = xs_api->alloc(sizeof(dfm_str_t) * (size_t)o->n);
        memcpy(saved, &args[o->streams + o->n], sizeof(dfm_str_t) * (size_t)o->n);
    }
    for (int j = 0; j < o->n; j++) {
        keys[j] = o->streams + j;
        dfm_str_t *a = &args[o->streams + o->n + j];
        if (!can || !(a->len == 1 && a->ptr[0] == '$')) continue;
        int len = sid_fmt(ids[j], sizeof ids[j], &st->ids[j]);
        *a = (dfm_str_t){ids[j], (size_t)len};
    }
    xs_api->block_on_keys(ctx, keys, o->n, o->block_ms, xread_ready);
    if (can) memcpy(&args[o->streams + o->n], saved, sizeof(dfm_str_t) * (size_t)o->n);
    xs_api->free(saved);
    xs_api->free(ids);
    xs_api->free(keys);
}

/* Client's thread: reply what the phases found, or block; frees the state. */
static void xread_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    xread_state_t *st = *state;
    *state = NULL;
    if (!st) st = state_new(argc, argv);
    if (st->err) {
        xs_api->reply_error(ctx, st->err);
    } else {
        int any = 0;
        for (int j = 0; j < st->o.n; j++) any |= st->res[j].n > 0;
        if (any) reply_results(ctx, st, argv);
        else if (st->o.block_ms >= 0) park(ctx, st, argv);
        else xs_api->reply_null_array(ctx);
    }
    state_free(st);
}

const dfm_multi_t xs_xread_multi = {.nphases = 1, .phase = xread_phase, .reply = xread_reply};
