/*
 * dispatch.h: the command table. Core commands and module commands register through the
 * same call (dispatch_register, behind api->register_command); the table is frozen after
 * start-up and then only read, by every thread, without locks.
 *
 * Names are case-insensitive. "parent|sub" registers a subcommand (CONFIG GET is
 * "config|get"); the parent container is created on first use.
 */
#ifndef DF_DISPATCH_H
#define DF_DISPATCH_H

#include <stdatomic.h>
#include <stdint.h>
#include "dragonfly/module.h"

#define CMD_WRITE (1u << 0)
#define CMD_READONLY (1u << 1)
#define CMD_DENYOOM (1u << 2)
#define CMD_FAST (1u << 3)
#define CMD_ADMIN (1u << 4)
#define CMD_PUBSUB (1u << 5)
#define CMD_NOSCRIPT (1u << 6)
#define CMD_BLOCKING (1u << 7)
#define CMD_LOADING (1u << 8)
#define CMD_STALE (1u << 9)
#define CMD_SKIP_MONITOR (1u << 10)
#define CMD_NO_AUTH (1u << 11)
#define CMD_MAY_REPLICATE (1u << 12)
#define CMD_ALLOW_BUSY (1u << 13)
#define CMD_NO_MULTI (1u << 14)
#define CMD_SKIP_SLOWLOG (1u << 15)
#define CMD_PROTO (1u << 16) /* issued only by a request protocol's parser (memcached) */
#define CMD_NO_MANDATORY_KEYS (1u << 17) /* may run without keys (EVAL ... 0): GETKEYS is [] */
/* internal (core only) */
#define CMD_ALL_SHARDS (1u << 20) /* runs its multi phases on every shard (FLUSHALL, KEYS) */
#define CMD_CONN (1u << 21)       /* touches connection state: runs on the client's thread */
#define CMD_MULTI_OK (1u << 22)   /* runs even inside MULTI (EXEC, DISCARD, ...) */
#define CMD_MONITOR_SELF (1u << 23) /* shows itself to MONITOR when done (EXEC, after its commands) */

#define CMD_MAX_WORKERS 256

/* One worker's counters for one command, a cache line each: workers never share a line. */
typedef struct cmd_stats {
    _Alignas(64) uint64_t calls;
    uint64_t usec /* in util_cycles() units */, rejected, failed;
    /* LATENCY HISTOGRAM's buckets (latency.c): allocated by the worker at its first call,
       read by others (acquire); NULL before. */
    _Atomic(uint64_t *) hist;
} cmd_stats_t;

struct tx;
/* An asynchronous step of a multi-shard core command (see tx.h, tx_resume). */
typedef int (*cmd_await_fn)(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv,
                            struct tx *t);

typedef struct cmd {
    char name[48];     /* lower case, "get" or "config|get" */
    char *fullname;
    int arity;
    uint32_t flags;
    int first_key, last_key, key_step, keynum_index;
    const char *key_keyword;
    dfm_keys_fn keys_fn; /* set_command_keys: overrides the key spec above (SORT) */
    dfm_keys_fn route_fn; /* set_command_route: what a call without keys is routed by */
    const char *acl;
    const char *summary, *since, *group, *complexity, *args_doc;
    dfm_cmd_fn handler;
    const dfm_multi_t *multi;
    cmd_await_fn await; /* core only (MIGRATE): runs after phase await_after, locks held */
    int await_after;
    const char *module; /* owner: "core" or the module name */
    struct cmd **subs;
    int nsubs;
    struct cmd *parent;
    int id;             /* dense index over commands and subcommands, set by dispatch_freeze */
    cmd_stats_t *stats; /* [CMD_MAX_WORKERS], each worker writes its own */
    void *stats_mem;    /* the allocation stats is aligned in */
} cmd_t;

/* Register a command; owner names the module (for duplicate errors). 0 or -1 with *err. */
int dispatch_register(const dfm_command_t *c, const char *owner, char **err);
/* Build the lookup index. After this the table is read-only. */
void dispatch_freeze(void);
/* Number of command ids (commands and subcommands) after dispatch_freeze; ids are 0..n-1
   in table order, a container's subcommands right after it. */
int dispatch_nids(void);
/* Find by name (any case). NULL if unknown. */
const cmd_t *dispatch_lookup(const char *name, size_t len);
/* Find a "protocol" command (any case): request-protocol connections only. */
const cmd_t *dispatch_lookup_proto(const char *name, size_t len);
/* Find a subcommand of a container (any case). */
const cmd_t *dispatch_lookup_sub(const cmd_t *parent, const char *name, size_t len);
/* Parse a flags string; -1 with *bad set to the unknown word. */
int dispatch_parse_flags(const char *s, uint32_t *out, char *bad, size_t badcap);
/*
 * Key positions of a call: fills idx[] with argv indexes (up to max), returns the count, or
 * -1 if the key spec cannot be applied (bad numkeys: the handler reports the error).
 */
int dispatch_keys(const cmd_t *c, int argc, const dfm_str_t *argv, int *idx, int max);
/* Let fn find the keys of the top-level command `name` registered by `owner`: 0, or -1 with
   *err (unknown command, or another owner's). Registration time only. */
int dispatch_set_keys_fn(const char *name, const char *owner, dfm_keys_fn fn, char **err);
/* Let fn name the argument a call of `name` without keys is routed by (EVAL's script): the
   same contract. */
int dispatch_set_route_fn(const char *name, const char *owner, dfm_keys_fn fn, char **err);
/* Give the core command `name` (a multi-shard one) an asynchronous step after its phase
   `after` (tx.h): 0, or -1 with *err. Registration time only. */
int dispatch_set_await(const char *name, cmd_await_fn fn, int after, char **err);
/* What a call is routed and locked by: its keys, or when it has none, what its route
   function names. (ACL and COMMAND GETKEYS see dispatch_keys: the keys only.) */
int dispatch_route_keys(const cmd_t *c, int argc, const dfm_str_t *argv, int *idx, int max);
/* Iterate the top-level commands COMMAND and INFO list (not the "protocol" ones). */
int dispatch_count(void);
const cmd_t *dispatch_at(int i);
void dispatch_free(void);

#endif
