/*
 * add.c: the writing commands of a plain stream: XADD, XTRIM (and the trimming both share,
 * including Redis's "~" node-granular rule), XDEL, XLEN and XSETID. Shard thread.
 */
#include <string.h>

#include "streams.h"

/*
 * Trim s by t (Redis 7.0's streamTrim): whole nodes go first; under "~" trimming
 * stops at the first node that cannot go whole (and at `limit` entries). Returns the number
 * of entries removed.
 */
long long stream_trim(stream_t *s, const xtrim_args_t *t) {
    long long removed = 0;
    while (s->len) {
        if (t->strategy == 1 && s->len <= (size_t)t->maxlen) break;
        sid_t last;
        size_t n = stream_node_live(s, 0, NULL, &last);
        if (t->limit && removed + (long long)n > t->limit) break;
        int whole = t->strategy == 1 ? s->len - n >= (size_t)t->maxlen
                                     : sid_cmp(&last, &t->minid) < 0;
        if (!whole) {
            if (t->approx) break;
            size_t cut = t->strategy == 1 ? s->len - (size_t)t->maxlen : stream_seek(s, &t->minid);
            stream_drop_front(s, cut);
            removed += (long long)cut;
            break;
        }
        stream_drop_front(s, n);
        removed += (long long)n;
    }
    return removed;
}

static int trim_set_strategy(dfm_ctx_t *ctx, xtrim_args_t *t, int strategy) {
    if (t->strategy) {
        xs_api->reply_error(ctx, "ERR syntax error, MAXLEN and MINID options at the same time "
                                 "are not compatible");
        return -1;
    }
    t->strategy = strategy;
    return 0;
}

/* MAXLEN|MINID [=|~] threshold at argv[i]; returns the index of its last argument or -1. */
static int parse_threshold(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int i,
                           xtrim_args_t *t) {
    int maxlen = xs_api->arg_eq(&argv[i], "maxlen");
    if (trim_set_strategy(ctx, t, maxlen ? 1 : 2) < 0) return -1;
    int more = argc - 1 - i;
    const dfm_str_t *next = &argv[i + 1];
    if (more >= 2 && next->len == 1 && (next->ptr[0] == '~' || next->ptr[0] == '=')) {
        t->approx = next->ptr[0] == '~';
        i++;
    }
    i++;
    if (!maxlen) return xs_parse_id(ctx, &argv[i], &t->minid, 0, 1, NULL) < 0 ? -1 : i;
    if (xs_api->arg_ll(ctx, &argv[i], &t->maxlen) < 0) return -1;
    if (t->maxlen < 0) {
        xs_api->reply_error(ctx, "ERR The MAXLEN argument must be >= 0.");
        return -1;
    }
    return i;
}

typedef struct add_args {
    xtrim_args_t trim;
    int nomkstream, id_given, seq_given;
    sid_t id;
} add_args_t;

static int parse_limit(dfm_ctx_t *ctx, const dfm_str_t *a, xtrim_args_t *t) {
    if (xs_api->arg_ll(ctx, a, &t->limit) < 0) return -1;
    if (t->limit < 0) {
        xs_api->reply_error(ctx, "ERR The LIMIT argument must be >= 0.");
        return -1;
    }
    return 0;
}

static int finish_trim_args(dfm_ctx_t *ctx, xtrim_args_t *t, int xadd, int limit_given) {
    if (t->limit && !t->strategy) {
        xs_api->reply_error(ctx, "ERR syntax error, LIMIT cannot be used without specifying a "
                                 "trimming strategy");
        return -1;
    }
    if (!xadd && !t->strategy) {
        xs_api->reply_error(ctx, "ERR syntax error, XTRIM must be called with a trimming strategy");
        return -1;
    }
    if (limit_given && !t->approx) {
        xs_api->reply_error(ctx, "ERR syntax error, LIMIT cannot be used without the special ~ "
                                 "option");
        return -1;
    }
    if (!limit_given) t->limit = t->approx ? 10000 : 0;
    return 0;
}

/* Redis's streamParseAddOrTrimArgsOrReply from argv[2]: the index of the id (XADD) or -1. */
static int parse_add_or_trim(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, add_args_t *a,
                             int xadd) {
    memset(a, 0, sizeof *a);
    int i, limit_given = 0;
    for (i = 2; i < argc; i++) {
        int more = argc - 1 - i;
        const dfm_str_t *o = &argv[i];
        if (xadd && o->len == 1 && o->ptr[0] == '*') break;
        if ((xs_api->arg_eq(o, "maxlen") || xs_api->arg_eq(o, "minid")) && more) {
            if ((i = parse_threshold(ctx, argc, argv, i, &a->trim)) < 0) return -1;
        } else if (xs_api->arg_eq(o, "limit") && more) {
            if (parse_limit(ctx, &argv[++i], &a->trim) < 0) return -1;
            limit_given = 1;
        } else if (xadd && xs_api->arg_eq(o, "nomkstream")) {
            a->nomkstream = 1;
        } else if (xadd) {
            if (xs_parse_id(ctx, o, &a->id, 0, 1, &a->seq_given) < 0) return -1;
            a->id_given = 1;
            break;
        } else {
            xs_api->reply_syntax_error(ctx);
            return -1;
        }
    }
    if (finish_trim_args(ctx, &a->trim, xadd, limit_given) < 0) return -1;
    return i;
}

/* The id XADD gives its entry (Redis's streamAppendItem), or -1 if it would not grow. */
static int next_id(const stream_t *s, const add_args_t *a, sid_t *id) {
    if (!a->id_given) {
        uint64_t now = (uint64_t)xs_api->now_ms();
        *id = s->last_id;
        if (now > s->last_id.ms)
            *id = (sid_t){now, 0};
        else if (sid_incr(id) < 0)
            return -1;
    } else if (!a->seq_given && s->last_id.ms == a->id.ms) {
        if (s->last_id.seq == UINT64_MAX) return -1;
        *id = s->last_id;
        id->seq++;
    } else {
        *id = a->id;
    }
    return sid_cmp(id, &s->last_id) > 0 ? 0 : -1;
}

/* Look up key for writing, creating an empty stream unless nomk. 1 ok, 0 missing, -1 error. */
static int lookup_or_create(dfm_ctx_t *ctx, const dfm_str_t *key, int nomk, stream_t **s) {
    int found = xs_lookup(ctx, key, DFM_LOOKUP_WRITE, s, 1);
    if (found != 0) return found;
    if (nomk) return 0;
    *s = stream_new();
    xs_api->obj_set(ctx, key, xs_type_id, *s, DFM_EXPIRE_NONE);
    return 1;
}

/* XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value ... */
void xs_cmd_xadd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    add_args_t a;
    int i = parse_add_or_trim(ctx, argc, argv, &a, 1);
    if (i < 0) return;
    if (argc - i < 3 || (argc - i) % 2 == 0) {
        xs_api->reply_error(ctx, "ERR wrong number of arguments for 'xadd' command");
        return;
    }
    if (a.id_given && a.seq_given && sid_is_zero(&a.id)) {
        xs_api->reply_error(ctx, "ERR The ID specified in XADD must be greater than 0-0");
        return;
    }
    stream_t *s;
    int found = lookup_or_create(ctx, &argv[1], a.nomkstream, &s);
    if (found < 0) return;
    if (found == 0) {
        xs_api->reply_null(ctx);
        return;
    }
    if (s->last_id.ms == UINT64_MAX && s->last_id.seq == UINT64_MAX) {
        xs_api->reply_error(ctx, "ERR The stream has exhausted the last possible ID, unable to "
                                 "add more items");
        return;
    }
    sid_t id;
    if (next_id(s, &a, &id) < 0) {
        xs_api->reply_error(ctx, "ERR The ID specified in XADD is equal or smaller than the "
                                 "target stream top item");
        return;
    }
    xent_t *e = stream_entry_new(&argv[i + 1], (size_t)(argc - i - 1) / 2);
    e->id = id;
    stream_append(s, e, 0);
    xs_reply_id(ctx, &id);
    xs_api->signal_modified(ctx, &argv[1]);
    xs_api->notify(ctx, "xadd", &argv[1], 't');
    if (a.trim.strategy && stream_trim(s, &a.trim)) xs_api->notify(ctx, "xtrim", &argv[1], 't');
    xs_api->signal_key_ready(ctx, &argv[1]);
}

/* XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count] */
void xs_cmd_xtrim(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    add_args_t a;
    if (parse_add_or_trim(ctx, argc, argv, &a, 0) < 0) return;
    stream_t *s;
    int found = xs_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, &s, 1);
    if (found < 0) return;
    if (found == 0) {
        xs_api->reply_int(ctx, 0);
        return;
    }
    long long n = stream_trim(s, &a.trim);
    if (n) {
        xs_api->notify(ctx, "xtrim", &argv[1], 't');
        xs_api->signal_modified(ctx, &argv[1]);
    }
    xs_api->reply_int(ctx, n);
}

/* XDEL key id [id ...] */
void xs_cmd_xdel(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    sid_t id;
    stream_t *s;
    int found = xs_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, &s, 1);
    if (found <= 0) {
        if (found == 0) xs_api->reply_int(ctx, 0);
        return;
    }
    for (int i = 2; i < argc; i++) /* all ids are checked before any is deleted */
        if (xs_parse_id(ctx, &argv[i], &id, 0, 1, NULL) < 0) return;
    long long n = 0;
    for (int i = 2; i < argc; i++) {
        xs_parse_id_quiet(&argv[i], &id, 0, 1, NULL);
        n += stream_delete(s, &id);
    }
    if (n) {
        xs_api->notify(ctx, "xdel", &argv[1], 't');
        xs_api->signal_modified(ctx, &argv[1]);
    }
    xs_api->reply_int(ctx, n);
}

/* XLEN key */
void xs_cmd_xlen(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    stream_t *s;
    int found = xs_lookup(ctx, &argv[1], DFM_LOOKUP_READ, &s, 1);
    if (found >= 0) xs_api->reply_int(ctx, found ? (long long)s->len : 0);
}

typedef struct setid_args {
    sid_t id, max_deleted;
    long long added;
} setid_args_t;

static int parse_setid(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, setid_args_t *a) {
    *a = (setid_args_t){.added = -1};
    if (xs_parse_id(ctx, &argv[2], &a->id, 0, 1, NULL) < 0) return -1;
    for (int i = 3; i < argc; i += 2) {
        int more = argc - 1 - i;
        if (xs_api->arg_eq(&argv[i], "entriesadded") && more) {
            if (xs_api->arg_ll(ctx, &argv[i + 1], &a->added) < 0) return -1;
            if (a->added < 0) {
                xs_api->reply_error(ctx, "ERR entries_added must be positive");
                return -1;
            }
        } else if (xs_api->arg_eq(&argv[i], "maxdeletedid") && more) {
            if (xs_parse_id(ctx, &argv[i + 1], &a->max_deleted, 0, 1, NULL) < 0) return -1;
            if (sid_cmp(&a->id, &a->max_deleted) < 0) {
                xs_api->reply_error(ctx, "ERR The ID specified in XSETID is smaller than the "
                                         "provided max_deleted_entry_id");
                return -1;
            }
        } else {
            xs_api->reply_syntax_error(ctx);
            return -1;
        }
    }
    return 0;
}

/* Redis 7.0 checks only against the last live entry (not the current max deleted id). */
static const char *setid_check(const stream_t *s, const setid_args_t *a) {
    if (s->len == 0) return NULL;
    if (sid_cmp(&a->id, &stream_last(s)->id) < 0)
        return "ERR The ID specified in XSETID is smaller than the target stream top item";
    if (a->added != -1 && s->len > (size_t)a->added)
        return "ERR The entries_added specified in XSETID is smaller than the target stream "
               "length";
    return NULL;
}

/* XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id] */
void xs_cmd_xsetid(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    setid_args_t a;
    if (parse_setid(ctx, argc, argv, &a) < 0) return;
    stream_t *s;
    int found = xs_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, &s, 1);
    if (found <= 0) {
        if (found == 0) xs_api->reply_error(ctx, "ERR no such key");
        return;
    }
    const char *err = setid_check(s, &a);
    if (err) {
        xs_api->reply_error(ctx, err);
        return;
    }
    s->last_id = a.id;
    if (a.added != -1) s->entries_added = (uint64_t)a.added;
    if (!sid_is_zero(&a.max_deleted)) s->max_deleted = a.max_deleted;
    xs_api->signal_modified(ctx, &argv[1]);
    xs_api->notify(ctx, "xsetid", &argv[1], 't');
    xs_api->reply_ok(ctx);
}
