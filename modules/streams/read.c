/*
 * read.c: XREAD [COUNT n] [BLOCK ms] STREAMS key... id..., and the parts XREADGROUP shares
 * (read.h). Their keys may live in several shards, so they are dfm_multi_t commands:
 *
 *   phases,  on every shard with some of the keys: check each key's type, resolve its id
 *            ("$" = the stream's last id) and copy what is served into the state;
 *   reply,   on the client's thread: the first error in argument order, the streams served
 *            (RESP2 [[key, entries]...], RESP3 a map), or park the client with
 *            api->block_on_keys when BLOCK was given. A later XADD makes the core call the
 *            *_ready function on the key's shard, which replies that one stream.
 *
 * A waiter keeps nothing but its copy of the arguments, so before parking, "$" is replaced
 * by the id it stood for when the phases ran (see park): later entries are exactly those
 * after it, as in Redis.
 */
#include <stdio.h>
#include <string.h>

#include "read.h"

#define XREAD_BLOCKED_COUNT 1000 /* Redis's XREAD_BLOCKED_DEFAULT_COUNT */

static const char *parse_block(const dfm_str_t *a, xread_opts_t *o) {
    long long v;
    if (xs_api->str_to_ll(a->ptr, a->len, &v) < 0)
        return "ERR timeout is not an integer or out of range";
    if (v < 0) return "ERR timeout is negative";
    o->block_ms = v;
    return NULL;
}

/* Redis 7.0 words the error the same for XREADGROUP. */
static const char *parse_streams(int argc, xread_opts_t *o, int i) {
    o->streams = i + 1;
    if ((argc - o->streams) % 2)
        return "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be "
               "specified.";
    o->n = (argc - o->streams) / 2;
    return NULL;
}

/* Parse the options in Redis's order with its messages. NULL or the error text. */
const char *xr_parse_opts(int argc, const dfm_str_t *argv, xread_opts_t *o, int group) {
    *o = (xread_opts_t){.count = 0, .block_ms = -1};
    for (int i = 1; i < argc; i++) {
        int more = argc - i - 1;
        long long v;
        const char *err = NULL;
        if (xs_api->arg_eq(&argv[i], "block") && more) {
            i++;
            err = parse_block(&argv[i], o);
        } else if (xs_api->arg_eq(&argv[i], "count") && more) {
            i++;
            if (xs_api->str_to_ll(argv[i].ptr, argv[i].len, &v) < 0)
                return "ERR value is not an integer or out of range";
            o->count = v < 0 ? 0 : v;
        } else if (xs_api->arg_eq(&argv[i], "streams") && more) {
            err = parse_streams(argc, o, i);
            if (!err && group && !o->group) err = "ERR Missing GROUP option for XREADGROUP";
            return err;
        } else if (xs_api->arg_eq(&argv[i], "group") && more >= 2) {
            if (!group)
                return "ERR The GROUP option is only supported by XREADGROUP. You called XREAD "
                       "instead.";
            o->group = i + 1;
            i += 2;
        } else if (xs_api->arg_eq(&argv[i], "noack")) {
            if (!group)
                return "ERR The NOACK option is only supported by XREADGROUP. You called XREAD "
                       "instead.";
            o->noack = 1;
        } else {
            return "ERR syntax error";
        }
        if (err) return err;
    }
    return "ERR syntax error";
}

/* The keys of an XREAD / XREADGROUP call: the first half after STREAMS. Pure, any thread. */
int xs_read_keys(int argc, const dfm_str_t *argv, int *idx, int max) {
    xread_opts_t o;
    if (xr_parse_opts(argc, argv, &o, 1) != NULL && xr_parse_opts(argc, argv, &o, 0) != NULL)
        return 0;
    int n = 0;
    for (int i = 0; i < o.n && n < max; i++) idx[n++] = o.streams + i;
    return n;
}

int xr_find_key(const xread_opts_t *o, const dfm_str_t *argv, const dfm_str_t *key) {
    for (int j = 0; j < o->n; j++) {
        const dfm_str_t *k = &argv[o->streams + j];
        if (k->len == key->len && memcmp(k->ptr, key->ptr, key->len) == 0) return j;
    }
    return -1;
}

/* Append a copy of e (or, e NULL, an entry-less deleted_id) to r. */
void xr_push(xread_res_t *r, const xent_t *e, const sid_t *deleted_id) {
    if ((r->n & (r->n - 1)) == 0)
        r->ents = xs_api->realloc(r->ents, sizeof(xent_t *) * (r->n ? r->n * 2 : 1));
    xent_t *c;
    if (e) {
        c = xs_api->alloc(sizeof(*e) + e->size);
        memcpy(c, e, sizeof(*e) + e->size);
    } else {
        c = xs_api->alloc(sizeof(*c));
        memset(c, 0, sizeof *c);
        c->id = *deleted_id;
        c->npairs = XS_DELETED;
    }
    r->ents[r->n++] = c;
}

/* Keep a copy of text as the error of stream j, unless a stream before j has one already. */
void xr_note_error(xread_state_t *st, int j, const char *text) {
    if (st->err != NULL && j >= st->err_idx) return;
    xs_api->free(st->err);
    st->err = xs_dup(&(dfm_str_t){text, strlen(text)});
    st->err_idx = j;
}

xread_state_t *xr_state_new(int argc, const dfm_str_t *argv, int group) {
    xread_state_t *st = xs_api->alloc(sizeof *st);
    memset(st, 0, sizeof *st);
    const char *err = xr_parse_opts(argc, argv, &st->o, group);
    if (err) {
        xr_note_error(st, -1, err);
        return st;
    }
    st->res = xs_api->alloc(sizeof(xread_res_t) * (size_t)st->o.n);
    memset(st->res, 0, sizeof(xread_res_t) * (size_t)st->o.n);
    st->ids = xs_api->alloc(sizeof(sid_t) * (size_t)st->o.n);
    memset(st->ids, 0, sizeof(sid_t) * (size_t)st->o.n);
    return st;
}

void xr_state_free(xread_state_t *st) {
    for (int j = 0; st->res && j < st->o.n; j++) {
        for (size_t i = 0; i < st->res[j].n; i++) xs_api->free(st->res[j].ents[i]);
        xs_api->free(st->res[j].ents);
    }
    xs_api->free(st->res);
    xs_api->free(st->ids);
    xs_api->free(st->err);
    xs_api->free(st);
}

/* Copy up to count entries of s after id into r. */
static void copy_after(const stream_t *s, const sid_t *after, long long count, xread_res_t *r) {
    sid_t start = *after;
    if (sid_incr(&start) < 0) return;
    size_t a = stream_seek(s, &start), n = s->len - a;
    if (count > 0 && (size_t)count < n) n = (size_t)count;
    for (size_t i = 0; i < n; i++) xr_push(r, stream_at(s, a + i), NULL);
    r->served = n > 0;
}

/* The id after which a stream is read (s NULL: a missing key), or the error text. */
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

static int xread_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                       const int *keys, int nkeys) {
    (void)phase;
    xread_state_t *st = *state;
    if (!st) *state = st = xr_state_new(argc, argv, 0);
    if (!st->res) return -1;
    for (int i = 0; i < nkeys; i++) {
        int j = keys[i] - st->o.streams;
        stream_t *s;
        const char *err = NULL;
        if (xs_lookup(ctx, &argv[keys[i]], DFM_LOOKUP_READ, &s, 0) < 0)
            err = "WRONGTYPE Operation against a key holding the wrong kind of value";
        else
            err = resolve_id(s, &argv[keys[i] + st->o.n], &st->ids[j]);
        if (err) xr_note_error(st, j, err);
        else if (s) copy_after(s, &st->ids[j], st->o.count, &st->res[j]);
    }
    return 0;
}

/* One stream of the reply: RESP2 [key, entries], RESP3 a map pair. */
void xr_reply_one(dfm_ctx_t *ctx, const dfm_str_t *key, const xread_res_t *r) {
    if (xs_api->resp_version(ctx) < 3) xs_api->reply_array(ctx, 2);
    xs_api->reply_bulk(ctx, key->ptr, key->len);
    xs_api->reply_array(ctx, (long)r->n);
    for (size_t i = 0; i < r->n; i++) {
        if (r->ents[i]->npairs != XS_DELETED) {
            xs_reply_entry(ctx, r->ents[i]);
            continue;
        }
        xs_api->reply_array(ctx, 2);
        xs_reply_id(ctx, &r->ents[i]->id);
        xs_api->reply_null_array(ctx);
    }
}

static void reply_header(dfm_ctx_t *ctx, long n) {
    if (xs_api->resp_version(ctx) < 3)
        xs_api->reply_array(ctx, n);
    else
        xs_api->reply_map(ctx, n);
}

/* On the shard of `key`, after an XADD signalled it: serve a parked XREAD. 1 = replied. */
static int xread_ready(dfm_ctx_t *ctx, const dfm_str_t *key, int argc, const dfm_str_t *argv) {
    xread_opts_t o;
    if (xr_parse_opts(argc, argv, &o, 0)) return 0;
    int j = xr_find_key(&o, argv, key);
    stream_t *s;
    sid_t id;
    if (j < 0 || xs_lookup(ctx, key, DFM_LOOKUP_READ, &s, 0) <= 0) return 0;
    if (xs_parse_id_quiet(&argv[o.streams + o.n + j], &id, 0, 1, NULL) < 0) return 0;
    xread_res_t r = {0, 0, NULL};
    copy_after(s, &id, o.count ? o.count : XREAD_BLOCKED_COUNT, &r);
    if (r.n) {
        reply_header(ctx, 1);
        xr_reply_one(ctx, key, &r);
    }
    for (size_t i = 0; i < r.n; i++) xs_api->free(r.ents[i]);
    xs_api->free(r.ents);
    return r.n > 0;
}

/*
 * Park the client on its streams. block_on_keys copies the command's arguments (the argv the
 * reply step got); for that copy each "$" is swapped for the id it resolved to, and put back
 * right after. Only done when the client can block (argv is then the connection's own,
 * writable array); otherwise block_on_keys just replies a null array.
 */
static void park(dfm_ctx_t *ctx, const xread_state_t *st, const dfm_str_t *argv,
                 dfm_unblock_fn on_ready) {
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
    xs_api->block_on_keys(ctx, keys, o->n, o->block_ms, on_ready);
    if (can) memcpy(&args[o->streams + o->n], saved, sizeof(dfm_str_t) * (size_t)o->n);
    xs_api->free(saved);
    xs_api->free(ids);
    xs_api->free(keys);
}

/* Client's thread: reply what the phases found, or block. */
void xr_reply(dfm_ctx_t *ctx, xread_state_t *st, const dfm_str_t *argv, dfm_unblock_fn on_ready) {
    if (st->err) {
        xs_api->reply_error(ctx, st->err);
        return;
    }
    long n = 0;
    for (int j = 0; j < st->o.n; j++) n += st->res[j].served;
    if (n) {
        reply_header(ctx, n);
        for (int j = 0; j < st->o.n; j++)
            if (st->res[j].served) xr_reply_one(ctx, &argv[st->o.streams + j], &st->res[j]);
    } else if (st->o.block_ms >= 0) {
        park(ctx, st, argv, on_ready);
    } else {
        xs_api->reply_null_array(ctx);
    }
}

static void xread_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    xread_state_t *st = *state;
    *state = NULL;
    if (!st) st = xr_state_new(argc, argv, 0);
    xr_reply(ctx, st, argv, xread_ready);
    xr_state_free(st);
}

const dfm_multi_t xs_xread_multi = {.nphases = 1, .phase = xread_phase, .reply = xread_reply};
