/*
 * pubsub.h: the pubsub module's internal interface.
 *
 * Shared nothing: every worker thread keeps its own registry (channel -> its clients subscribed
 * to it, pattern -> clients, shard channel -> clients) that only that thread touches; a client
 * keeps the set of its own subscriptions in a per-client slot. Subscribing and unsubscribing
 * change only the client's own thread. PUBLISH runs a delivery on every thread (api
 * each_thread) and adds up the receivers; PUBSUB's subcommands gather every thread's view the
 * same way and merge it (NUMSUB sums, CHANNELS unions).
 *
 *   dict.c       a small binary-safe hash table with insertion order
 *   registry.c   per-thread registries and per-client subscription sets
 *   subscribe.c  (P|S)SUBSCRIBE and (P|S)UNSUBSCRIBE
 *   publish.c    PUBLISH, SPUBLISH and delivery to a thread's subscribers
 *   introspect.c PUBSUB CHANNELS / NUMSUB / NUMPAT / SHARDCHANNELS / SHARDNUMSUB / HELP
 *   module.c     descriptor, command table, init
 */
#ifndef DF_PUBSUB_H
#define DF_PUBSUB_H

#include <dragonfly/module.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* The largest thread count the registries are sized for (the core's worker limit). */
#define PS_MAX_THREADS 256

/* The three kinds of subscription. A client's SUBSCRIBE/PSUBSCRIBE confirmations count its
   channels and patterns together; SSUBSCRIBE's count its shard channels alone (Redis 7.0). */
enum { PS_CHANNEL = 0, PS_PATTERN = 1, PS_SHARD = 2, PS_NKINDS = 3 };

extern const dfm_api_t *ps_api;
extern int ps_slot;

/* ---------------------------------------------------------------------------- dict.c */

typedef struct ps_entry ps_entry_t;
struct ps_entry {
    ps_entry_t *chain;       /* next entry in the same bucket */
    ps_entry_t *prev, *next; /* insertion order */
    uint64_t hash;
    void *val;
    size_t len;
    char key[]; /* len bytes, then a NUL */
};

/* A zero-initialised ps_dict_t is an empty table. Not thread safe: one owner thread. */
typedef struct ps_dict {
    ps_entry_t **buckets; /* NULL while empty */
    size_t mask;          /* bucket count - 1 */
    size_t count;
    ps_entry_t *head, *tail;
} ps_dict_t;

void ps_hash_seed(uint64_t seed);
uint64_t ps_hash(const char *p, size_t len); /* the seeded hash of a name */
ps_entry_t *ps_dict_find(const ps_dict_t *d, const char *key, size_t len);
ps_entry_t *ps_dict_insert(ps_dict_t *d, const char *key, size_t len, int *created);
void ps_dict_remove(ps_dict_t *d, ps_entry_t *e);
void ps_dict_clear(ps_dict_t *d, void (*free_val)(void *));

/* ---------------------------------------------------------------------------- registry.c */

/* The clients of one thread subscribed to one name, in subscription order. */
typedef struct ps_subs {
    int n, cap;
    dfm_client_t *c[];
} ps_subs_t;

/* One worker thread's registry: name -> ps_subs_t*, per kind. */
typedef struct ps_thread {
    ps_dict_t d[PS_NKINDS];
} ps_thread_t;

/* One client's subscriptions: names (values unused), per kind, in subscription order. */
typedef struct ps_client {
    ps_dict_t d[PS_NKINDS];
} ps_client_t;

ps_thread_t *ps_thread(int thread);
ps_client_t *ps_client_state(dfm_client_t *c);
int ps_subscribe(dfm_client_t *c, int kind, const char *name, size_t len);
int ps_unsubscribe(dfm_client_t *c, int kind, const char *name, size_t len);
int ps_count(const ps_client_t *st, int kind);
void ps_client_sync(dfm_client_t *c);
void ps_client_release(dfm_client_t *c, void *data);
/* How many subscriptions of a kind thread t holds, and how many distinct names (any thread
   may ask). */
long ps_thread_subs(int t, int kind);
long ps_thread_names(int t, int kind);

/* Redis's pattern match for channels: glob rules, except that an empty name matches only an
   empty pattern (Redis's stringmatchlen; KEYS and SCAN special-case "*", pub/sub does not). */
static inline int ps_match(const char *pat, size_t plen, const char *s, size_t slen) {
    return slen == 0 ? plen == 0 : ps_api->glob_match(pat, plen, s, slen, 0);
}

/* ---------------------------------------------------------------------------- hint.c */

/* The calling thread's subscribers of (kind, name) went up or down by delta (channels and
   shard channels; the registry calls this). */
void ps_hint_add(int kind, const char *name, size_t len, long delta);
/* The calling thread's registry of kind is empty: its hint may start over. */
void ps_hint_reset(int kind);
/* Thread t's subscribers of (kind, name hash), or -1 if t cannot say (ask it). Any thread. */
long ps_hint_count(int t, int kind, uint64_t hash);
void ps_hint_free_all(void); /* shutdown, main thread */
/* Distinct names of kind subscribed on any thread (INFO); any thread. */
long ps_hint_distinct(int kind);
void ps_info_counts(long long counts[3]);

/* ---------------------------------------------------------------------------- args and names */

/* A copy of some arguments that outlives the command (each_thread runs later elsewhere). */
typedef struct ps_args {
    atomic_int refs; /* posted deliveries still to run (ps_publish_fast) */
    int kind;
    int n;
    dfm_str_t v[]; /* n strings; their bytes follow the array */
} ps_args_t;

ps_args_t *ps_args_new(int kind, int n, const dfm_str_t *v);
void ps_args_free(void *args);
void ps_free(void *p);
void ps_free_nothing(void *p);

/* ---------------------------------------------------------------------------- commands */

void ps_cmd_subscribe(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ps_cmd_psubscribe(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ps_cmd_ssubscribe(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ps_cmd_unsubscribe(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ps_cmd_punsubscribe(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ps_cmd_sunsubscribe(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ps_cmd_publish(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ps_cmd_spublish(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ps_publish_hook(const dfm_str_t *channel, const dfm_str_t *message);
void ps_cmd_channels(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ps_cmd_shardchannels(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ps_cmd_numsub(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ps_cmd_shardnumsub(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ps_cmd_numpat(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);
void ps_cmd_help(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);

#endif /* DF_PUBSUB_H */
