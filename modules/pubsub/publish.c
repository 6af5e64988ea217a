/*
 * publish.c: PUBLISH and SPUBLISH, and the argument copies commands hand to other threads.
 *
 * A message goes to every thread (api->each_thread); each thread delivers it to its own
 * subscribers and returns how many deliveries it made, and the publisher's thread replies the
 * sum: one per subscription that matched, so a client subscribed to the channel and to two
 * matching patterns counts three times, as in Redis. Within one subscriber the channel's
 * "message" comes first, then a "pmessage" per matching pattern in the order the thread's
 * patterns were first subscribed. Messages reach a client through its push context: the core
 * writes them between replies, never inside one.
 *
 * Keyspace events (notify-keyspace-events) come through the publish hook: the core calls it on
 * the thread of the shard that changed, and the message goes to every thread the same way,
 * without waiting for a count.
 */
#include <stdatomic.h>
#include <string.h>

#include "pubsub.h"

/* Copy n strings (for a command that finishes on other threads) into one allocation. */
ps_args_t *ps_args_new(int kind, int n, const dfm_str_t *v) {
    size_t bytes = sizeof(ps_args_t) + (size_t)n * sizeof(dfm_str_t);
    for (int i = 0; i < n; i++) bytes += v[i].len + 1;
    ps_args_t *a = ps_api->alloc(bytes);
    atomic_init(&a->refs, 1);
    a->kind = kind;
    a->n = n;
    char *p = (char *)(a->v + n);
    for (int i = 0; i < n; i++) {
        if (v[i].len) memcpy(p, v[i].ptr, v[i].len);
        p[v[i].len] = '\0';
        a->v[i].ptr = p;
        a->v[i].len = v[i].len;
        p += v[i].len + 1;
    }
    return a;
}

void ps_args_free(void *args) { ps_api->free(args); }
void ps_free(void *p) { ps_api->free(p); }
void ps_free_nothing(void *p) { (void)p; }

/* Queue one message frame to subscriber c: word, [pattern,] channel, payload. */
static void ps_push(dfm_client_t *c, const char *word, const ps_entry_t *pattern,
                    const dfm_str_t *ch, const dfm_str_t *msg) {
    dfm_ctx_t *ctx = ps_api->client_context(c);
    ps_api->reply_push(ctx, pattern ? 4 : 3);
    ps_api->reply_cstr(ctx, word);
    if (pattern) ps_api->reply_bulk(ctx, pattern->key, pattern->len);
    ps_api->reply_bulk(ctx, ch->ptr, ch->len);
    ps_api->reply_bulk(ctx, msg->ptr, msg->len);
}

/* Deliver msg on channel ch to the subscribers registered on `thread` (the calling thread):
   shard channel subscribers for SPUBLISH, else channel subscribers then pattern matches.
   Returns the number of deliveries. */
static long ps_deliver(int thread, int shard, const dfm_str_t *ch, const dfm_str_t *msg) {
    ps_thread_t *r = ps_thread(thread);
    long n = 0;
    if (!r) return 0;
    ps_entry_t *e = ps_dict_find(&r->d[shard ? PS_SHARD : PS_CHANNEL], ch->ptr, ch->len);
    if (e) {
        ps_subs_t *s = e->val;
        const char *word = shard ? "smessage" : "message";
        for (int i = 0; i < s->n; i++) ps_push(s->c[i], word, NULL, ch, msg);
        n += s->n;
    }
    if (shard) return n;
    for (e = r->d[PS_PATTERN].head; e; e = e->next) {
        if (!ps_match(e->key, e->len, ch->ptr, ch->len)) continue;
        ps_subs_t *s = e->val;
        for (int i = 0; i < s->n; i++) ps_push(s->c[i], "pmessage", e, ch, msg);
        n += s->n;
    }
    return n;
}

/* each_thread callback: deliver on this thread; the count travels as the pointer value. */
static void *ps_publish_each(int thread, void *arg) {
    ps_args_t *a = arg;
    return (void *)(intptr_t)ps_deliver(thread, a->kind == PS_SHARD, &a->v[0], &a->v[1]);
}

/* Reply the total number of deliveries (threads without a result count 0). */
static void ps_publish_done(dfm_ctx_t *ctx, void **results, int n, void *arg) {
    (void)arg;
    long long total = 0;
    for (int i = 0; i < n; i++) total += (intptr_t)results[i];
    ps_api->reply_int(ctx, total);
}

/* The other threads' subscribers of (kind, ch), from their hints (hint.c): the sum, with
   targets[t] set for every thread that has some; -1 when a thread must be asked (it has
   pattern subscriptions, or its hint cannot say). */
static long ps_remote_count(int me, int kind, const dfm_str_t *ch, unsigned char *targets) {
    int n = ps_api->num_threads(), hashed = 0;
    uint64_t h = 0;
    long total = 0;
    for (int t = 0; t < n && t < PS_MAX_THREADS; t++) {
        targets[t] = 0;
        if (t == me) continue;
        if (kind == PS_CHANNEL && ps_thread_subs(t, PS_PATTERN) > 0) return -1;
        if (ps_thread_subs(t, kind) == 0) continue;
        if (!hashed) h = ps_hash(ch->ptr, ch->len), hashed = 1;
        long c = ps_hint_count(t, kind, h);
        if (c < 0) return -1;
        targets[t] = c > 0;
        total += c;
    }
    return total;
}

/* A posted delivery on a thread the hint named; the last one frees the copy. */
static void ps_post_deliver(void *arg) {
    ps_args_t *a = arg;
    ps_deliver(ps_api->thread_id(), a->kind == PS_SHARD, &a->v[0], &a->v[1]);
    if (atomic_fetch_sub(&a->refs, 1) == 1) ps_args_free(a);
}

/* Publish without waiting for anyone: deliver here now, post to the threads whose hints
   count subscribers, and return the total; -1 (nothing done) if a thread must be asked. */
static long ps_publish_fast(int me, int kind, const dfm_str_t *ch, const dfm_str_t *msg) {
    unsigned char targets[PS_MAX_THREADS];
    long remote = ps_remote_count(me, kind, ch, targets);
    if (remote < 0) return -1;
    long local = ps_deliver(me, kind == PS_SHARD, ch, msg);
    if (remote > 0) {
        dfm_str_t v[2] = {*ch, *msg};
        ps_args_t *a = ps_args_new(kind, 2, v);
        int n = ps_api->num_threads(), posts = 0;
        for (int t = 0; t < n && t < PS_MAX_THREADS; t++) posts += targets[t];
        atomic_store(&a->refs, posts);
        for (int t = 0; t < n && t < PS_MAX_THREADS; t++)
            if (targets[t]) ps_api->post(t, ps_post_deliver, a);
    }
    return local + remote;
}

/* PUBLISH channel message / SPUBLISH shardchannel message (arity 3, checked by the core).
   Usually no hop (ps_publish_fast). A publisher subscribed itself goes through each_thread,
   which writes its own messages ahead of the reply (Redis's order), as does a publish some
   thread must count itself. */
static void ps_publish_cmd(dfm_ctx_t *ctx, int kind, const dfm_str_t *argv) {
    int me = ps_api->thread_id();
    dfm_client_t *c = ps_api->client(ctx);
    if (me >= 0 && !(c && ps_client_state(c))) {
        long n = ps_publish_fast(me, kind, &argv[1], &argv[2]);
        if (n >= 0) {
            ps_api->reply_int(ctx, n);
            return;
        }
    }
    ps_args_t *a = ps_args_new(kind, 2, &argv[1]);
    ps_api->each_thread(ctx, ps_publish_each, ps_publish_done, ps_free_nothing, a, ps_args_free);
}

void ps_cmd_publish(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    ps_publish_cmd(ctx, PS_CHANNEL, argv);
}

void ps_cmd_spublish(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    ps_publish_cmd(ctx, PS_SHARD, argv);
}

/* The core's keyspace-event publisher (api->register_publish_hook): deliver on this thread
   now and on the others later (each_thread without done); the strings are copied. */
void ps_publish_hook(const dfm_str_t *channel, const dfm_str_t *message) {
    int me = ps_api->thread_id();
    if (me >= 0 && ps_publish_fast(me, PS_CHANNEL, channel, message) >= 0) return;
    dfm_str_t v[2] = {*channel, *message};
    ps_args_t *a = ps_args_new(PS_CHANNEL, 2, v);
    ps_api->each_thread(NULL, ps_publish_each, NULL, ps_free_nothing, a, ps_args_free);
}
