/*
 * introspect.c: PUBSUB CHANNELS, SHARDCHANNELS, NUMSUB, SHARDNUMSUB, NUMPAT and HELP.
 *
 * Each thread knows only its own clients, so every subcommand asks every thread
 * (api->each_thread) and merges on the client's thread: CHANNELS and SHARDCHANNELS union the
 * names (a channel with subscribers on two threads is listed once), NUMPAT counts the union of
 * patterns (Redis counts distinct patterns), NUMSUB and SHARDNUMSUB add the per-thread counts.
 * Inside MULTI/EXEC only the calling thread's view is available (see api->each_thread).
 */
#include <string.h>

#include "pubsub.h"

/* Names copied out of a thread's registry (result of an each_thread call). */
typedef struct ps_names {
    size_t n;
    dfm_str_t v[]; /* bytes follow */
} ps_names_t;

/* The names of d matching pattern (every name when pattern is NULL) in one allocation, or
   NULL when none matches. */
static ps_names_t *ps_names_of(const ps_dict_t *d, const dfm_str_t *pattern) {
    size_t n = 0, bytes = 0;
    for (ps_entry_t *e = d->head; e; e = e->next) {
        if (pattern && !ps_match(pattern->ptr, pattern->len, e->key, e->len))
            continue;
        n++;
        bytes += e->len;
    }
    if (!n) return NULL;
    ps_names_t *r = ps_api->alloc(sizeof *r + n * sizeof(dfm_str_t) + bytes);
    char *p = (char *)(r->v + n);
    r->n = 0;
    for (ps_entry_t *e = d->head; e; e = e->next) {
        if (pattern && !ps_match(pattern->ptr, pattern->len, e->key, e->len))
            continue;
        if (e->len) memcpy(p, e->key, e->len);
        r->v[r->n].ptr = p;
        r->v[r->n].len = e->len;
        r->n++;
        p += e->len;
    }
    return r;
}

/* each_thread: this thread's names of the kind in args (channels matching args' optional
   pattern, shard channels, or patterns). */
static void *ps_names_each(int thread, void *arg) {
    ps_args_t *a = arg;
    ps_thread_t *r = ps_thread(thread);
    return r ? ps_names_of(&r->d[a->kind], a->n ? &a->v[0] : NULL) : NULL;
}

/* Union every thread's names into u (values unused) and free the results. */
static void ps_names_union(ps_dict_t *u, void **results, int n) {
    int created;
    for (int i = 0; i < n; i++) {
        ps_names_t *r = results[i];
        if (!r) continue;
        for (size_t j = 0; j < r->n; j++) ps_dict_insert(u, r->v[j].ptr, r->v[j].len, &created);
        ps_api->free(r);
    }
}

/* Reply the union of the names as an array. */
static void ps_names_reply(dfm_ctx_t *ctx, void **results, int n, void *arg) {
    (void)arg;
    ps_dict_t u = {0};
    ps_names_union(&u, results, n);
    ps_api->reply_array(ctx, (long)u.count);
    for (ps_entry_t *e = u.head; e; e = e->next) ps_api->reply_bulk(ctx, e->key, e->len);
    ps_dict_clear(&u, NULL);
}

/* Reply the size of the union of the names. */
static void ps_names_count_reply(dfm_ctx_t *ctx, void **results, int n, void *arg) {
    (void)arg;
    ps_dict_t u = {0};
    ps_names_union(&u, results, n);
    ps_api->reply_int(ctx, (long long)u.count);
    ps_dict_clear(&u, NULL);
}

/* each_thread: this thread's subscriber count for each name in args (an array of a->n
   counts), or NULL when it has none of them. */
static void *ps_numsub_each(int thread, void *arg) {
    ps_args_t *a = arg;
    ps_thread_t *r = ps_thread(thread);
    long long *counts = NULL;
    if (!r || !r->d[a->kind].count) return NULL;
    for (int i = 0; i < a->n; i++) {
        ps_entry_t *e = ps_dict_find(&r->d[a->kind], a->v[i].ptr, a->v[i].len);
        if (!e) continue;
        if (!counts) {
            counts = ps_api->alloc((size_t)a->n * sizeof *counts);
            memset(counts, 0, (size_t)a->n * sizeof *counts);
        }
        counts[i] = ((ps_subs_t *)e->val)->n;
    }
    return counts;
}

/* Reply name, summed count, for each name asked about, in the order asked. */
static void ps_numsub_reply(dfm_ctx_t *ctx, void **results, int n, void *arg) {
    ps_args_t *a = arg;
    ps_api->reply_array(ctx, (long)a->n * 2);
    for (int i = 0; i < a->n; i++) {
        long long total = 0;
        for (int t = 0; t < n; t++)
            if (results[t]) total += ((long long *)results[t])[i];
        ps_api->reply_bulk(ctx, a->v[i].ptr, a->v[i].len);
        ps_api->reply_int(ctx, total);
    }
    for (int t = 0; t < n; t++) ps_api->free(results[t]);
}

/* Redis's error for a subcommand called with the wrong number of arguments. */
static void ps_subcommand_error(dfm_ctx_t *ctx, const dfm_str_t *argv) {
    ps_api->reply_errorf(ctx,
                         "ERR unknown subcommand or wrong number of arguments for '%.*s'. "
                         "Try PUBSUB HELP.",
                         (int)(argv[1].len < 128 ? argv[1].len : 128), argv[1].ptr);
}

/* PUBSUB CHANNELS [pattern] / SHARDCHANNELS [pattern]. */
static void ps_channels_cmd(dfm_ctx_t *ctx, int kind, int argc, const dfm_str_t *argv) {
    if (argc > 3) {
        ps_subcommand_error(ctx, argv);
        return;
    }
    ps_args_t *a = ps_args_new(kind, argc - 2, &argv[2]);
    ps_api->each_thread(ctx, ps_names_each, ps_names_reply, ps_free, a, ps_args_free);
}

/* PUBSUB NUMSUB [channel ...] / SHARDNUMSUB [shardchannel ...]. */
static void ps_numsub_cmd(dfm_ctx_t *ctx, int kind, int argc, const dfm_str_t *argv) {
    if (argc == 2) {
        ps_api->reply_array(ctx, 0);
        return;
    }
    ps_args_t *a = ps_args_new(kind, argc - 2, &argv[2]);
    ps_api->each_thread(ctx, ps_numsub_each, ps_numsub_reply, ps_free, a, ps_args_free);
}

void ps_cmd_channels(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    ps_channels_cmd(ctx, PS_CHANNEL, argc, argv);
}
void ps_cmd_shardchannels(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    ps_channels_cmd(ctx, PS_SHARD, argc, argv);
}
void ps_cmd_numsub(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    ps_numsub_cmd(ctx, PS_CHANNEL, argc, argv);
}
void ps_cmd_shardnumsub(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    ps_numsub_cmd(ctx, PS_SHARD, argc, argv);
}

/* PUBSUB NUMPAT (arity 2, checked by the core): the number of distinct patterns. */
void ps_cmd_numpat(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    ps_args_t *a = ps_args_new(PS_PATTERN, 0, NULL);
    ps_api->each_thread(ctx, ps_names_each, ps_names_count_reply, ps_free, a, ps_args_free);
}

/* PUBSUB HELP: Redis's text, one status line each. */
void ps_cmd_help(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    static const char *const lines[] = {
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        ("    Return the currently active shard level channels matching a <pattern> (default: "
         "'*')."),
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    };
    (void)argc, (void)argv;
    long n = (long)(sizeof lines / sizeof lines[0]);
    ps_api->reply_array(ctx, n);
    for (long i = 0; i < n; i++) ps_api->reply_simple(ctx, lines[i]);
}
