/*
 * dragonfly/module.h: the only header a dragonfly module includes.
 *
 * A module is a shared object that exports two symbols:
 *
 *   const dfm_descriptor_t dfm_module_descriptor;   (checked before any module code runs)
 *   int dfm_module_init(dfm_module_t *self, const dfm_api_t *api, int argc, char **argv);
 *
 * The core dlopen()s the file, checks the descriptor (magic, size, ABI major equal, required minor
 * <= the core's), resolves the modules it requires, then calls dfm_module_init once on the main
 * thread. During init, and only then, the module registers commands, data types, config
 * parameters, INFO sections, protocols and shard hooks. After start-up the tables are frozen.
 *
 * Threads: command handlers run on the thread that owns the shard of their keys and see only that
 * shard. They must not block and must allocate through api->alloc/realloc/free (the accounted
 * allocator). Keyless commands run on the client's own thread.
 *
 * Everything here carries the dfm_ / DFM_ prefix. Types are opaque or fixed-width.
 *
 * ABI changelog (append-only: new functions go at the end of dfm_api_t, the minor goes up):
 *   2026-11-24  1.0  first version.
 *   2026-11-24  1.1  blocking (block_on_keys, signal_key_ready), multi-shard phases docs.
 *   2026-11-24  1.2  RDB encoding helpers for data types' rdb_save/rdb_load.
 *   2026-11-24  1.3  an unblock function may return DFM_UNBLOCK_RERUN (BLMOVE); can_block.
 *   2026-11-24  1.4  set_command_keys: key positions found by a module function (SORT ... STORE).
 *   2026-11-24  1.5  clients (per-client module data, pushes to a client, pub/sub mode), running
 *                    a function on every thread, glob matching, the keyspace-event publisher,
 *                    posting to a thread, a shutdown hook, INFO's pub/sub counts (the pubsub
 *                    module).
 *   2026-11-25  1.6  request protocols (register_request_protocol: the core listens and routes,
 *                    the module parses requests into "protocol" commands; memcached), reply_raw,
 *                    flags and a version kept with a string value (str_set_meta, str_meta,
 *                    str_meta_set), db_flush / db_keys for "allshards" commands; command flags
 *                    "protocol" and "allshards".
 *   2026-11-25  1.7  call: run a command inline in a handler's shard and db, its reply into a
 *                    buffer (the scripting module's redis.call).
 *   2026-11-25  1.8  set_busy / shutdown_pending: a long command (a script past
 *                    busy-reply-threshold) makes the other threads answer BUSY, and learns
 *                    that the server is shutting down (the scripting module's SCRIPT KILL);
 *                    call's DFM_CALL_ACL flag: the calling client's ACL permissions apply;
 *                    set_command_route: what a call without keys is routed by (EVAL);
 *                    register_rdb_aux: a module's records in RDB files (functions), RDB
 *                    streams in memory framed as DUMP payloads (FUNCTION DUMP/RESTORE).
 *   2026-11-26  1.9  register_rdb_slicer: a data type saves a big value in slices, so a
 *                    snapshot does not stall the key's thread for the whole encoding.
 *   2026-11-25  1.10 from_master: whether a command runs for our master's replication link.
 */
#ifndef DRAGONFLY_MODULE_H
#define DRAGONFLY_MODULE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DFM_ABI_MAJOR 1
#define DFM_ABI_MINOR 11
#define DFM_MAGIC 0x44464d44u /* "DFMD" */

#if defined(__GNUC__)
#define DFM_EXPORT __attribute__((visibility("default")))
#define DFM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DFM_EXPORT
#define DFM_PRINTF(a, b)
#endif

/* ------------------------------------------------------------------------------------------ */
/* Opaque handles                                                                               */

typedef struct dfm_module dfm_module_t; /* the module being loaded */
typedef struct dfm_ctx dfm_ctx_t;       /* one command execution: client, db, reply sink */
typedef struct dfm_key dfm_key_t;       /* a key in the current shard; valid until the next
                                           keyspace call that may insert or delete */
typedef struct dfm_info dfm_info_t;     /* an INFO section being written */
typedef struct dfm_conn dfm_conn_t;     /* a connection of a registered protocol */
typedef struct dfm_client dfm_client_t; /* (1.5) a client connection: only its own thread may
                                           use it, until its release function has run */

/* A byte string: argv entries, values. Not NUL-terminated in general. */
typedef struct dfm_str {
    const char *ptr;
    size_t len;
} dfm_str_t;

/* ------------------------------------------------------------------------------------------ */
/* Descriptor                                                                                   */

#define DFM_MAX_REQUIRES 8

typedef struct dfm_descriptor {
    uint32_t magic;     /* DFM_MAGIC */
    uint32_t size;      /* sizeof(dfm_descriptor_t) */
    uint16_t abi_major; /* must equal the core's DFM_ABI_MAJOR */
    uint16_t abi_minor; /* the lowest core minor this module needs */
    const char *name;   /* "strings" */
    const char *version;
    const char *requires[DFM_MAX_REQUIRES]; /* names of modules (or exported APIs) needed */
} dfm_descriptor_t;

#define DFM_DESCRIPTOR(NAME, VERSION, ...)                                                      \
    DFM_EXPORT const dfm_descriptor_t dfm_module_descriptor = {                                \
        DFM_MAGIC, sizeof(dfm_descriptor_t), DFM_ABI_MAJOR, DFM_ABI_MINOR, NAME, VERSION,     \
        {__VA_ARGS__}}

struct dfm_api;
typedef int (*dfm_init_fn)(dfm_module_t *self, const struct dfm_api *api, int argc, char **argv);
/* The entry point every module defines (declared here so -Wmissing-prototypes is quiet). */
DFM_EXPORT int dfm_module_init(dfm_module_t *self, const struct dfm_api *api, int argc,
                               char **argv);

/* ------------------------------------------------------------------------------------------ */
/* Commands                                                                                     */

typedef void (*dfm_cmd_fn)(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv);

/*
 * Cross-shard commands. When a command's keys fall in more than one shard, the core locks
 * every key (in a global shard order, so there is no deadlock), then for each phase calls
 * `phase` once per shard on that shard's thread, shard after shard, with the indexes of the
 * argv entries that are keys of that shard. *state starts NULL and is passed along; the
 * module owns what it puts there. Only one thread touches *state at a time. A phase returns 0
 * to go on or -1 to skip the remaining phases. Then `reply` runs on the client's thread and
 * writes the reply (and frees *state). No other client sees the keys between the first phase
 * and the reply. When all keys are in one shard the same calls happen inline, in order.
 */
typedef struct dfm_multi {
    int nphases;
    int (*phase)(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                 const int *keys, int nkeys);
    void (*reply)(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv);
} dfm_multi_t;

typedef struct dfm_command {
    const char *name;  /* lower case, e.g. "get"; subcommands are separate: "object|encoding" */
    int arity;         /* Redis arity: N exact, -N at least N (the name counts) */
    const char *flags; /* space separated: write readonly denyoom fast admin pubsub noscript
                          blocking loading stale skip_monitor no_auth may_replicate
                          allow_busy no_multi; (1.6) protocol: only a request protocol's
                          parser can issue it (RESP clients get "unknown command", COMMAND
                          and INFO do not list it); allshards: a dfm_multi_t command whose
                          phases run on every shard (FLUSHALL-like, see db_flush);
                          (1.8) no_mandatory_keys: a call may have no keys (EVAL ... 0) */
    /* Key positions, as Redis's legacy (first, last, step); last = -1 means the last arg. */
    int first_key, last_key, key_step;
    /* keynum form: argv[keynum_index] holds the number of keys, which follow it. 0 = unused.
       With first_key set below keynum_index, argv[first_key] is a key too (a destination:
       ZUNIONSTORE dst numkeys k1 k2 -> first_key 1, keynum_index 2). */
    int keynum_index;
    /* keyword form: keys follow the first argument equal to this word (case-insensitive),
       from the word up to the end with key_step, starting the search at first_key. */
    const char *key_keyword;
    const char *acl_categories; /* space separated, e.g. "@string @fast" (@write/@read are
                                   added from flags) */
    /* COMMAND DOCS */
    const char *summary;
    const char *since;
    const char *group;
    const char *complexity;
    const char *args_doc; /* "key value [EX seconds|PX milliseconds] [NX|XX]" */
    dfm_cmd_fn handler;       /* single-shard (or keyless) body; NULL if multi is set */
    const dfm_multi_t *multi; /* set for commands whose keys may span shards */
} dfm_command_t;

/* ------------------------------------------------------------------------------------------ */
/* Data types                                                                                   */

typedef struct dfm_rdb dfm_rdb_t; /* an RDB stream being written or read (opaque) */

typedef struct dfm_type {
    const char *name;               /* what TYPE answers: "list" */
    const char *const *encodings;   /* NULL-terminated names for OBJECT ENCODING */
    const int *rdb_types;           /* Redis RDB type ids this type reads, -1 terminated */
    /* Which encoding index (into encodings) an object has now. */
    int (*encoding)(const void *obj);
    /* free may run on a background thread (big objects are freed off the event loops): it
       must touch nothing but the object, and allocate/free only through the api. */
    void (*free)(void *obj);
    void *(*copy)(const void *obj);
    size_t (*mem_usage)(const void *obj);
    /* RDB: save writes the payload after the type byte; returns the rdb type id used or -1. */
    int (*rdb_save)(const void *obj, dfm_rdb_t *rdb);
    void *(*rdb_load)(int rdb_type, dfm_rdb_t *rdb);
    void (*digest)(const void *obj, unsigned char out[20]);
} dfm_type_t;

/* The predefined string type: its bytes live inside the key's entry. */
#define DFM_TYPE_STRING 0
#define DFM_TYPE_NONE (-1)

/* (1.8) Records of a module's own in RDB files, under an opcode of its own (the scripting
 * module's function libraries: Redis's RDB_OPCODE_FUNCTION2, 245). save runs when a snapshot
 * starts, on a worker thread: it writes its records, each [opcode byte][payload], which the
 * file holds after its header and before the keys. Loading a file (any RDB, ours or Redis's;
 * on a loader thread, the workers running, clients refused with LOADING) calls load_begin,
 * then load once per record of that opcode, the opcode already read (read the payload; 0, or
 * -1 to fail the whole load), then load_end (ok: 1 when the file loaded completely). */
typedef struct dfm_rdb_aux {
    uint32_t size; /* sizeof(dfm_rdb_aux_t) */
    int opcode;    /* below 247 (the core's opcodes) and no data type's RDB id */
    void (*save)(dfm_rdb_t *rdb);
    void (*load_begin)(void); /* may be NULL */
    int (*load)(dfm_rdb_t *rdb);
    void (*load_end)(int ok); /* may be NULL */
} dfm_rdb_aux_t;

/* (1.9) Saving a big value in slices. A snapshot (SAVE, BGSAVE, a replica's full sync) writes
 * a value whose weight is 2048 or more (the core's threshold) a slice at a time from its
 * shard thread's event loop, instead of calling rdb_save once, so one huge key does not stall
 * every client of that thread for the whole encoding. Between begin and the last step (or
 * abort) the core guarantees that obj neither changes nor moves nor goes away: a command that
 * would touch it first makes the core run the remaining steps at once. The steps' bytes, one
 * after another, must be exactly what rdb_save writes after the type byte. All on the key's
 * shard thread. docs/modules.md, section 18. */
typedef struct dfm_rdb_slicer {
    uint32_t size; /* sizeof(dfm_rdb_slicer_t) */
    /* The value's elements (or comparable units of work), in O(1). */
    size_t (*weight)(const void *obj);
    /* A cursor that saves obj from its start (api->alloc'd); the RDB type id the steps will
       write in *rdb_type. Writes nothing. */
    void *(*begin)(const void *obj, int *rdb_type);
    /* The next part: at least one element (written, or only counted: a step may write
       nothing) and at most about max_elems elements or max_bytes bytes of element data; the
       first bytes written are the length prefix. 1 when the value is complete (the cursor is
       freed), else 0. */
    int (*step)(void *cursor, dfm_rdb_t *rdb, size_t max_elems, size_t max_bytes);
    /* Free an unfinished cursor (the snapshot was abandoned); NULL when the cursor is one
       api->alloc'd block, which the core then frees. */
    void (*abort)(void *cursor);
} dfm_rdb_slicer_t;

/* A type's rdb_save written with its slicer: every step at once, so both save the same bytes.
   Returns the RDB type id, or -1 when begin declines. */
static inline int dfm_rdb_save_sliced(const dfm_rdb_slicer_t *s, const void *obj,
                                      dfm_rdb_t *rdb) {
    int type = -1;
    void *cursor = s->begin(obj, &type);
    if (!cursor) return -1;
    while (!s->step(cursor, rdb, (size_t)-1, (size_t)-1)) {
    }
    return type;
}

/* ------------------------------------------------------------------------------------------ */
/* Config parameters                                                                            */

typedef enum { DFM_CONF_INT, DFM_CONF_BOOL, DFM_CONF_STRING, DFM_CONF_SIZE, DFM_CONF_ENUM } dfm_conf_kind_t;

typedef struct dfm_config {
    const char *name;   /* "list-max-listpack-size"; flags accept '-' or '_' */
    dfm_conf_kind_t kind;
    const char *default_value;
    const char *help;
    const char *const *enum_values; /* for DFM_CONF_ENUM, NULL-terminated */
    int64_t min, max;               /* for INT and SIZE */
    void *storage;                  /* int64_t* (INT, SIZE, BOOL, ENUM index) or char** */
    int mutable_at_runtime;         /* CONFIG SET allowed */
} dfm_config_t;

/* ------------------------------------------------------------------------------------------ */
/* Protocols (a listener bound to a port flag, e.g. memcached)                                  */

typedef struct dfm_protocol {
    const char *name;      /* "memcached" */
    const char *port_flag; /* config parameter naming the port, registered by the module */
    /* Parse and execute what is in buf; return bytes consumed (0 = need more, -1 = close). */
    long (*on_data)(dfm_conn_t *conn, const char *buf, size_t len);
    void *(*conn_new)(dfm_conn_t *conn);
    void (*conn_free)(void *state);
} dfm_protocol_t;

/* (1.6) A request protocol: the core owns the listener and the connections, exactly like RESP
 * clients (one worker per connection, pipelining, replies in order, routing to the key's shard).
 * The module's parser turns the input into commands the module registered with the "protocol"
 * flag; their handlers reply in the protocol's own format with reply_raw (resp_version() is 0
 * for these connections; reply_error writes "SERVER_ERROR <message>"). The connection is
 * authenticated, uses db 0 and never enters MULTI.
 *
 * parse() runs on the connection's thread with the unconsumed input (buf, len; writable).
 * It returns DFM_PARSE_OK with req->used bytes consumed and, when req->argc > 0, one command
 * to run (argv[0] names a "protocol" command); it may consume nothing and return another
 * command from the same input next time (a multi-key get split per key), keeping its place as
 * an offset into buf, since buf may move between calls while no command is in flight. The
 * argv array may be the parser's own (the core copies it before the next call); the strings
 * must point into buf or into static memory: they are used until the command's reply.
 * DFM_PARSE_MORE: nothing can be done before more input arrives; req->need is the total
 * number of bytes from buf needed, when known (0 otherwise). DFM_PARSE_CLOSE: close the
 * connection once the replies of the commands before are written.
 */
#define DFM_PARSE_OK 0
#define DFM_PARSE_MORE 1
#define DFM_PARSE_CLOSE (-1)

typedef struct dfm_request {
    size_t used;
    size_t need;
    int argc;
    const dfm_str_t *argv;
} dfm_request_t;

typedef struct dfm_request_protocol {
    uint32_t size;             /* sizeof(dfm_request_protocol_t) */
    const char *name;          /* "memcached" */
    const char *port_flag;     /* the module's port parameter, for messages */
    const int64_t *port;       /* its storage (DFM_CONF_INT): 0 = no listener */
    void *(*conn_new)(void);   /* per-connection parser state, on the connection's thread */
    void (*conn_free)(void *state);
    int (*parse)(void *state, char *buf, size_t len, dfm_request_t *req);
} dfm_request_protocol_t;

/* ------------------------------------------------------------------------------------------ */
/* Lookup flags, set flags                                                                      */

#define DFM_LOOKUP_READ 0x1   /* counts keyspace hits/misses, touches LRU */
#define DFM_LOOKUP_WRITE 0x2  /* about to modify */
#define DFM_LOOKUP_NOTOUCH 0x4

#define DFM_EXPIRE_KEEP (-2)  /* str_set: keep the existing TTL */
#define DFM_EXPIRE_NONE (-1)  /* str_set: no TTL */

#define DFM_LOG_DEBUG 0
#define DFM_LOG_VERBOSE 1
#define DFM_LOG_INFO 2
#define DFM_LOG_NOTICE 3
#define DFM_LOG_WARNING 4
#define DFM_LOG_ERROR 5

typedef void (*dfm_shard_hook_fn)(int shard_id);
typedef void (*dfm_info_fn)(dfm_info_t *info);
/* Blocking: called on the shard thread of `key` when it may be served; return 1 if the
   client was served (a reply was written), 0 to keep waiting, or (1.3) DFM_UNBLOCK_RERUN when
   the key can serve the client but the command needs keys of other shards too (BLMOVE): the
   wait ends without a reply and the core runs the command again from the client's thread, as
   if it had just arrived (if someone else took the element first, it blocks again, at the
   back of the queues). The key's other waiters wait until the command signals the key again
   (api->signal_key_ready), which it does when it leaves elements behind. */
#define DFM_UNBLOCK_RERUN 2
typedef int (*dfm_unblock_fn)(dfm_ctx_t *ctx, const dfm_str_t *key, int argc,
                              const dfm_str_t *argv);
/* (1.4) Key positions of one call, for commands whose keys no fixed spec describes (Redis's
   getkeys procs: SORT key ... STORE dst). Fill idx[] with at most max argv indexes of keys,
   in order, and return how many; -1 when none can be found. A pure function of argc/argv:
   it runs on any thread, before the command and for COMMAND GETKEYS. */
typedef int (*dfm_keys_fn)(int argc, const dfm_str_t *argv, int *idx, int max);
/* (1.5) A client's data in a module's slot goes away: the client is closing, or RESET it.
   Runs on the client's thread; afterwards the slot is NULL and, on close, the handle dead. */
typedef void (*dfm_client_release_fn)(dfm_client_t *c, void *data);
/* (1.5) each_thread: `each` runs on every worker thread (thread = its index, 0..n-1) and
   returns that thread's result; `done` then runs on the client's thread with all results
   (index = thread) and replies; it owns the results. */
typedef void *(*dfm_each_thread_fn)(int thread, void *arg);
typedef void (*dfm_each_done_fn)(dfm_ctx_t *ctx, void **results, int n, void *arg);
/* (1.5) Publish message on channel to every subscriber (the keyspace events that
   notify-keyspace-events selects): runs on the thread of the shard that changed, right after
   the change; both strings are valid for the call only. */
typedef void (*dfm_publish_hook_fn)(const dfm_str_t *channel, const dfm_str_t *message);

/* (1.6) A growable byte buffer the core appends to; data is api->realloc'd and the caller
   frees it with api->free. Start it zeroed. */
typedef struct dfm_buf {
    char *data;
    size_t len, cap;
} dfm_buf_t;

/* (1.6) One call of api->call: what the command may do and where its reply goes. */
#define DFM_CALL_NO_WRITES 0x1 /* refuse commands flagged write (EVAL_RO, no-writes) */
#define DFM_CALL_ACL 0x2       /* (1.8) check the ACL permissions of the client the handler
                                  runs for (a denial is logged in ACL LOG, context "lua") */
typedef struct dfm_call {
    int flags;     /* DFM_CALL_* */
    int resp;      /* protocol of the reply written into out: 2 or 3 */
    int db;        /* database the command runs in; SELECT changes it (and only it) */
    dfm_buf_t out; /* the command's RESP reply is appended here */
} dfm_call_t;
/* api->call's refusals (nothing ran, nothing was appended): */
#define DFM_CALL_OK 0
#define DFM_CALL_UNKNOWN (-1)  /* no such command */
#define DFM_CALL_ARITY (-2)    /* wrong number of arguments */
#define DFM_CALL_NOSCRIPT (-3) /* flagged noscript, or needs the client's connection */
#define DFM_CALL_WRITE (-4)    /* a write command under DFM_CALL_NO_WRITES */
#define DFM_CALL_NONLOCAL (-5) /* a key (or the whole keyspace) outside ctx's shard */
#define DFM_CALL_NOPERM_CMD (-6)     /* (1.8, DFM_CALL_ACL) the user may not run the command */
#define DFM_CALL_NOPERM_KEY (-7)     /* ... may not access one of its keys */
#define DFM_CALL_NOPERM_CHANNEL (-8) /* ... may not use one of its channels */

/* ------------------------------------------------------------------------------------------ */
/* The core's services. Test for a function with DFM_HAS(api, field) before calling anything
 * newer than the minor you declared.                                                            */

typedef struct dfm_api {
    uint32_t size; /* sizeof(dfm_api_t) in the running core */
    uint16_t abi_major;
    uint16_t abi_minor;

    /* --- registration: only inside dfm_module_init; return 0 or -1 (with a logged reason) */
    int (*register_command)(dfm_module_t *m, const dfm_command_t *cmd);
    int (*register_type)(dfm_module_t *m, const dfm_type_t *type, int *type_id);
    int (*register_config)(dfm_module_t *m, const dfm_config_t *conf);
    int (*register_info)(dfm_module_t *m, const char *section, dfm_info_fn fn);
    int (*register_protocol)(dfm_module_t *m, const dfm_protocol_t *proto);
    int (*register_shard_hooks)(dfm_module_t *m, dfm_shard_hook_fn init, dfm_shard_hook_fn exit);
    int (*export_api)(dfm_module_t *m, const char *name, const void *table);
    const void *(*import_api)(dfm_module_t *m, const char *name);
    void (*log)(int level, const char *fmt, ...) DFM_PRINTF(2, 3);

    /* --- accounted memory (any thread) */
    void *(*alloc)(size_t n);
    void *(*realloc)(void *p, size_t n);
    void (*free)(void *p);
    size_t (*usable_size)(void *p);

    /* --- replies (RESP2 or RESP3 chosen by the client) */
    void (*reply_ok)(dfm_ctx_t *ctx);
    void (*reply_simple)(dfm_ctx_t *ctx, const char *s);
    void (*reply_error)(dfm_ctx_t *ctx, const char *err); /* "ERR ..." / "WRONGTYPE ..." */
    void (*reply_errorf)(dfm_ctx_t *ctx, const char *fmt, ...) DFM_PRINTF(2, 3);
    void (*reply_int)(dfm_ctx_t *ctx, long long v);
    void (*reply_bulk)(dfm_ctx_t *ctx, const void *p, size_t len);
    void (*reply_cstr)(dfm_ctx_t *ctx, const char *s);  /* bulk string */
    void (*reply_null)(dfm_ctx_t *ctx);                 /* $-1 / _ */
    void (*reply_null_array)(dfm_ctx_t *ctx);           /* *-1 / _ */
    void (*reply_array)(dfm_ctx_t *ctx, long n);
    void (*reply_map)(dfm_ctx_t *ctx, long n);          /* RESP2: array of 2n */
    void (*reply_set)(dfm_ctx_t *ctx, long n);          /* RESP2: array */
    void (*reply_double)(dfm_ctx_t *ctx, double d);     /* RESP2: bulk */
    void (*reply_bool)(dfm_ctx_t *ctx, int b);          /* RESP2: :0 / :1 */
    void (*reply_verbatim)(dfm_ctx_t *ctx, const char *p, size_t len); /* RESP2: bulk */
    void (*reply_wrongtype)(dfm_ctx_t *ctx);
    void (*reply_syntax_error)(dfm_ctx_t *ctx);
    int (*resp_version)(dfm_ctx_t *ctx);

    /* --- argument parsing: on failure reply with Redis's error and return -1 */
    int (*arg_ll)(dfm_ctx_t *ctx, const dfm_str_t *a, long long *out);
    int (*arg_double)(dfm_ctx_t *ctx, const dfm_str_t *a, double *out);
    int (*arg_eq)(const dfm_str_t *a, const char *word); /* case-insensitive compare */
    /* pure parsers, no reply: 0 ok, -1 bad */
    int (*str_to_ll)(const char *p, size_t len, long long *out);
    int (*str_to_ld)(const char *p, size_t len, long double *out);
    int (*ll_to_str)(char *buf, size_t cap, long long v);
    int (*ld_to_str)(char *buf, size_t cap, long double v, int humanfriendly);

    /* --- keyspace of the current shard and db (shard thread only) */
    dfm_key_t *(*lookup)(dfm_ctx_t *ctx, const dfm_str_t *key, int flags);
    int (*key_type)(const dfm_key_t *k); /* DFM_TYPE_STRING or a registered type id */
    void (*str_value)(const dfm_key_t *k, dfm_str_t *out); /* string type only */
    /* Create or overwrite key with a string value. expire_ms: absolute unix ms,
       DFM_EXPIRE_NONE, or DFM_EXPIRE_KEEP. Encoding (int/embstr/raw) is chosen here. */
    dfm_key_t *(*str_set)(dfm_ctx_t *ctx, const dfm_str_t *key, const void *val, size_t len,
                          int64_t expire_ms);
    /* Resize a string value in place (new bytes are zero), return a writable pointer to its
       bytes; the key keeps its TTL; encoding becomes raw. *k may move. */
    char *(*str_resize)(dfm_ctx_t *ctx, dfm_key_t **k, size_t newlen);
    void *(*obj_value)(const dfm_key_t *k); /* module types */
    dfm_key_t *(*obj_set)(dfm_ctx_t *ctx, const dfm_str_t *key, int type_id, void *obj,
                          int64_t expire_ms); /* takes ownership of obj */
    void (*key_delete)(dfm_ctx_t *ctx, dfm_key_t *k);
    int64_t (*expire_get)(const dfm_key_t *k); /* absolute unix ms or -1 */
    void (*expire_set)(dfm_ctx_t *ctx, dfm_key_t **k, int64_t at_ms); /* -1 removes */
    /* A write happened: WATCH, keyspace stats, blocked clients. */
    void (*signal_modified)(dfm_ctx_t *ctx, const dfm_str_t *key);
    /* A keyspace event (Redis's name: "set", "lpush", "del" ...). type_class is the event's
       notify-keyspace-events letter: 'g' generic, '$' string, 'l' list, 's' set, 'h' hash,
       'z' sorted set, 'x' expired, 'e' evicted, 't' stream, 'm' key miss, 'n' new key. */
    void (*notify)(dfm_ctx_t *ctx, const char *event, const dfm_str_t *key, int type_class);
    int64_t (*now_ms)(void);
    int (*shard_id)(dfm_ctx_t *ctx);
    int (*db_index)(dfm_ctx_t *ctx);
    /* Module data types: access by id */
    const char *(*type_name)(int type_id);

    /* --- INFO sections. A section registered under the name of the core's "memory" section
       adds its fields inside that section (Redis's place for them) instead of a section of
       its own. */
    void (*info_field)(dfm_info_t *info, const char *name, const char *fmt, ...) DFM_PRINTF(3, 4);

    /* --- protocols */
    void (*conn_write)(dfm_conn_t *c, const void *p, size_t len);
    void (*conn_close)(dfm_conn_t *c);

    /* ---- 1.1 ---- */
    /* Park the client on keys (argv indexes) until `on_ready` serves it or timeout_ms passes
       (0 = forever); on timeout the core replies null array (RESP2 *-1). Call from a handler
       that found nothing to serve; the handler must not reply itself. */
    void (*block_on_keys)(dfm_ctx_t *ctx, const int *keys, int nkeys, int64_t timeout_ms,
                          dfm_unblock_fn on_ready);
    /* A key may now satisfy blocked clients (e.g. after a push). Shard thread. */
    void (*signal_key_ready)(dfm_ctx_t *ctx, const dfm_str_t *key);

    /* ---- 1.2 ---- */
    /* RDB value encoding, Redis's formats, for dfm_type_t.rdb_save / rdb_load (DUMP,
       RESTORE, snapshots). Savers append; loaders return -1 / NULL on malformed input (and
       every later load on the same stream fails too). */
    void (*rdb_save_len)(dfm_rdb_t *rdb, uint64_t len);
    void (*rdb_save_string)(dfm_rdb_t *rdb, const void *p, size_t len);
    void (*rdb_save_raw)(dfm_rdb_t *rdb, const void *p, size_t len);
    int (*rdb_load_len)(dfm_rdb_t *rdb, uint64_t *len);
    /* Returns an api->alloc'd buffer (NUL-terminated; free with api->free). */
    char *(*rdb_load_string)(dfm_rdb_t *rdb, size_t *len);
    int (*rdb_load_raw)(dfm_rdb_t *rdb, void *buf, size_t len);

    /* ---- 1.3 ---- */
    /* 0 when block_on_keys would not block (inside MULTI/EXEC): a command whose "nothing"
       reply is not a null array (BLMOVE: a null bulk) replies it itself instead. */
    int (*can_block)(dfm_ctx_t *ctx);

    /* ---- 1.4 ---- */
    /* Inside dfm_module_init, after registering `command` (one of this module's): its keys
       are what fn finds (locks, shard routing, WATCH, COMMAND GETKEYS) instead of what its
       first_key/last_key/key_step say; COMMAND INFO still shows that triple, and the flag
       movablekeys. 0, or -1 for an unknown command, another module's, or after init. */
    int (*set_command_keys)(dfm_module_t *m, const char *command, dfm_keys_fn fn);

    /* ---- 1.5 ---- */
    /* Inside dfm_module_init: reserve a per-client pointer slot (*slot receives its index);
       release runs when a client whose slot is set closes or RESETs. 0 or -1 (none left). */
    int (*register_client_slot)(dfm_module_t *m, dfm_client_release_fn release, int *slot);
    /* The client a keyless handler runs for, on that client's thread; NULL elsewhere (keyed
       commands on shard threads, internal calls). */
    dfm_client_t *(*client)(dfm_ctx_t *ctx);
    void *(*client_get)(dfm_client_t *c, int slot);
    void (*client_set)(dfm_client_t *c, int slot, void *data);
    /* The client's pub/sub subscription counts: with any of them non-zero a RESP2 client may
       only send (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT and RESET (Redis's rule); CLIENT
       LIST shows them (sub= psub= ssub=, flag P). */
    void (*client_set_pubsub)(dfm_client_t *c, int channels, int patterns, int shard_channels);
    /* A context whose replies go to client c (its thread only), e.g. a published message:
       written after any reply the client is still waiting for, at the end of the event-loop
       iteration. Valid until the next call on this thread. */
    dfm_ctx_t *(*client_context)(dfm_client_t *c);
    /* A push frame header (RESP3 '>n', RESP2 '*n'), followed by n replies. */
    void (*reply_push)(dfm_ctx_t *ctx, long n);
    /* From a keyless handler: run each on every thread, then done on the client's thread
       (the client waits, its thread does not). Inside MULTI/EXEC the other threads cannot be
       waited for: each runs on this thread at once, on the others later, and done sees NULL
       results for them (free_result disposes of theirs). arg is released with free_arg once
       every call has run (either may be NULL). done NULL: fire and forget from any worker
       thread, client or not (ctx may be NULL): each runs here at once, elsewhere later. */
    void (*each_thread)(dfm_ctx_t *ctx, dfm_each_thread_fn each, dfm_each_done_fn done,
                        void (*free_result)(void *), void *arg, void (*free_arg)(void *));
    int (*thread_id)(void); /* the calling worker thread's index, -1 on other threads */
    int (*num_threads)(void);
    /* Redis's glob patterns (KEYS, PSUBSCRIBE): 1 if s matches pat. */
    int (*glob_match)(const char *pat, size_t plen, const char *s, size_t slen, int nocase);
    /* Inside dfm_module_init: become the publisher of keyspace events (one in all: the
       pubsub module). The core applies notify-keyspace-events and builds the
       __keyspace@<db>__:<key> and __keyevent@<db>__:<event> messages. */
    int (*register_publish_hook)(dfm_module_t *m, dfm_publish_hook_fn hook);
    /* From a worker thread: run fn(arg) soon on worker `thread` (0..num_threads-1), in the
       order this thread posted; it runs before that worker next reads a client's request, so
       a client told of the post (a reply written after it) finds it done on that thread. */
    void (*post)(int thread, void (*fn)(void *arg), void *arg);
    /* Inside dfm_module_init: fn runs once on the main thread at shutdown, after every worker
       thread has stopped and before the module is unloaded (free what threads shared). */
    int (*register_shutdown)(dfm_module_t *m, void (*fn)(void));
    /* Inside dfm_module_init: INFO's pubsub_channels, pubsub_patterns, pubsubshard_channels
       come from fn (any thread; it fills counts[0..2]). One in all. */
    int (*register_pubsub_stats)(dfm_module_t *m, void (*fn)(long long counts[3]));

    /* ---- 1.6 ---- */
    /* Inside dfm_module_init: serve a request protocol on the port its parameter names, on
       every worker, at the server's bind addresses. 0 or -1 (bad descriptor, too many). */
    int (*register_request_protocol)(dfm_module_t *m, const dfm_request_protocol_t *proto);
    /* Append bytes to the reply as they are (a request protocol's own format). */
    void (*reply_raw)(dfm_ctx_t *ctx, const void *p, size_t len);
    /* A string value with 32-bit client flags and a 64-bit version kept beside it (12 bytes
       after the value; keys without them pay nothing): memcached's flags and CAS unique.
       Any other write of the value (str_set, str_resize, Redis commands) drops them; TTL
       changes and RENAME keep them; DUMP, snapshots and COPY do not carry them. */
    dfm_key_t *(*str_set_meta)(dfm_ctx_t *ctx, const dfm_str_t *key, const void *val,
                               size_t len, int64_t expire_ms, uint32_t flags, uint64_t version);
    /* 1 and the values if the string key k has them, else 0. */
    int (*str_meta)(const dfm_key_t *k, uint32_t *flags, uint64_t *version);
    /* Attach or replace them on the existing string key *k (which may move). */
    void (*str_meta_set)(dfm_ctx_t *ctx, dfm_key_t **k, uint32_t flags, uint64_t version);
    /* In a phase of an "allshards" command: empty the current db of the current shard
       (freed incrementally, as FLUSHDB). */
    void (*db_flush)(dfm_ctx_t *ctx);
    /* The number of keys in the current db of the current shard (shard thread). */
    int64_t (*db_keys)(dfm_ctx_t *ctx);
    /* (1.7) */
    /* From a handler (on its shard's thread): run the command argv (argv[0] its name, any
       case; "parent sub" resolved) inline, as Redis runs a script's redis.call: look it up,
       check arity, refuse noscript commands and connection commands (SELECT excepted: it
       validates and sets call->db), (1.8) under DFM_CALL_ACL refuse what the client's ACL
       user may not run, refuse writes under DFM_CALL_NO_WRITES, check that every
       key is in ctx's shard (a command that needs every shard only runs when there is one
       shard), then run its handler, or its phases and reply step in order, against ctx's
       shard and call->db, with no client: blocking commands do not block, no MULTI. The
       reply, in call->resp, is appended to call->out; an error reply is DFM_CALL_OK too.
       Returns DFM_CALL_OK or a refusal above. argv is only read during the call. */
    int (*call)(dfm_ctx_t *ctx, dfm_call_t *call, int argc, const dfm_str_t *argv);

    /* ---- 1.8 ---- */
    /* From a handler that runs long on its worker thread (a script past busy-reply-threshold):
       until set_busy(NULL) from the same thread, every thread answers commands not flagged
       allow_busy with `error` ("BUSY ..."; it must outlive the busy period: a literal), as
       Redis does while a script is too slow. The busy thread itself serves nothing until its
       handler returns: its clients, and commands already routed to its shards, wait. */
    void (*set_busy)(const char *error);
    /* 0 while the server runs; after a SHUTDOWN or SIGTERM began: 1 when a final snapshot
       will be saved, 2 when not (SHUTDOWN NOSAVE, no save points). A long handler polls it
       and stops: the server cannot stop while a worker is held. Any thread. */
    int (*shutdown_pending)(void);
    /* Inside dfm_module_init, for one of this module's commands: when a call has no keys
       (its key spec, or its set_command_keys function, finds none), fn may name one argument
       (idx[0], return 1) the call is routed by, as if it were a key: the thread of its shard
       runs it, transactions lock it (EVAL's script body: one script, one shard). It is not a
       key: ACL and COMMAND GETKEYS do not see it. fn returns 0 or -1 to run the call keyless
       on the client's thread. 0, or -1 (not this module's command, after init). */
    int (*set_command_route)(dfm_module_t *m, const char *command, dfm_keys_fn fn);
    /* Inside dfm_module_init: own an RDB opcode (dfm_rdb_aux_t above). 0 or -1. */
    int (*register_rdb_aux)(dfm_module_t *m, const dfm_rdb_aux_t *aux);
    /* RDB streams in memory, as DUMP payloads (FUNCTION DUMP/RESTORE). A writer for the
       rdb_save_* calls; rdb_writer_payload frees it and returns its bytes followed by the RDB
       version and CRC-64, as DUMP frames a value (api->alloc'd, *len). rdb_payload_reader
       checks a payload's version and CRC (NULL when wrong) and reads what precedes them;
       rdb_at_end is 1 when nothing is left; rdb_free releases a reader (or an unfinished
       writer). Any thread. */
    dfm_rdb_t *(*rdb_writer_new)(void);
    char *(*rdb_writer_payload)(dfm_rdb_t *w, size_t *len);
    dfm_rdb_t *(*rdb_payload_reader)(const void *p, size_t len);
    int (*rdb_at_end)(dfm_rdb_t *r);
    void (*rdb_free)(dfm_rdb_t *r);

    /* ---- 1.9 ---- */
    /* Inside dfm_module_init, for a type this module registered: save its big values in
       slices (dfm_rdb_slicer_t above; it must outlive the module). 0 or -1. */
    int (*register_rdb_slicer)(dfm_module_t *m, int type_id, const dfm_rdb_slicer_t *slicer);

    /* ---- 1.10 ---- */
    /* 1 if ctx's command came from our master over the replication link (a replica obeys
       it: SCRIPT KILL must not stop it), else 0. The command's thread. */
    int (*from_master)(dfm_ctx_t *ctx);

    /* ---- 1.11 ---- */
    /* An INFO field of a byte count in Redis's human form ("107.63K", "1.50M", "512B"). */
    void (*info_field_human)(dfm_info_t *info, const char *name, uint64_t bytes);
} dfm_api_t;

#define DFM_HAS(api, field)                                                                     \
    ((api)->size >= offsetof(dfm_api_t, field) + sizeof((api)->field) && (api)->field != NULL)

#ifdef __cplusplus
}
#endif
#endif /* DRAGONFLY_MODULE_H */
