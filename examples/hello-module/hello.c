/*
 * hello.c: an example dragonfly module, built out of tree against the installed
 * <dragonfly/module.h> (see README.md and docs/modules.md).
 *
 * It shows every registration path a small module needs:
 *   HELLO.GREET name          keyless command: "<hello-greeting>, <name>!"
 *   HELLO.COUNTER key         single-shard write on a custom data type ("hellotype")
 *   HELLO.SUM key [key ...]   cross-shard read with dfm_multi_t (keys may live on any shard)
 *   HELLO.WAIT key timeout    blocking read: waits until key holds a counter (BLPOP-style)
 *   config parameter hello-greeting (string, default "Hello", set at start-up only)
 *   INFO section "hello", and shard hooks that count the shards.
 *
 * Threads: GREET runs on the client's thread; COUNTER, WAIT and the phases of SUM run on the
 * thread that owns the shard of their keys. The only state shared between threads are the
 * statistics counters, which are atomic.
 */
#include <dragonfly/module.h>

#include <stdatomic.h>
#include <string.h>

DFM_DESCRIPTOR("hello", "1.0.0");

static const dfm_api_t *api;
static int hello_type_id;      /* the id register_type gave "hellotype" */
static char *hello_greeting;   /* storage of hello-greeting: owned by the core */
static int hello_nargs;        /* module arguments (manifest args= or --loadmodule) */
static atomic_long hello_greets, hello_shards;

/* ------------------------------------------------------------------------------------------ */
/* The data type: one 64-bit counter per key, allocated through the core's allocator.           */

typedef struct hello_counter {
    long long value;
} hello_counter_t;

static void hello_type_free(void *obj) { api->free(obj); }

/* COPY and friends: a deep copy, on the shard thread of the destination. */
static void *hello_type_copy(const void *obj) {
    hello_counter_t *c = api->alloc(sizeof *c);
    if (c) *c = *(const hello_counter_t *)obj;
    return c;
}

/* MEMORY USAGE and used_memory: the bytes the allocator really handed out (usable_size
   takes a non-const pointer but does not write through it). */
static size_t hello_type_mem_usage(const void *obj) {
    return api->usable_size((void *)(uintptr_t)obj);
}

static const char *const hello_encodings[] = {"counter", NULL};

static int hello_type_encoding(const void *obj) {
    (void)obj;
    return 0;
}

static const dfm_type_t hello_type = {
    .name = "hellotype",
    .encodings = hello_encodings,
    .encoding = hello_type_encoding,
    .free = hello_type_free,
    .copy = hello_type_copy,
    .mem_usage = hello_type_mem_usage,
    /* No rdb_save/rdb_load: SAVE and DUMP skip or refuse keys of this type. */
};

/*
 * The counter stored at key, or NULL if the key does not exist. *wrongtype is set (and NULL
 * returned) when the key holds another type. Shard thread of key.
 */
static hello_counter_t *hello_lookup(dfm_ctx_t *ctx, const dfm_str_t *key, int flags,
                                     int *wrongtype) {
    dfm_key_t *k = api->lookup(ctx, key, flags);
    *wrongtype = 0;
    if (!k) return NULL;
    if (api->key_type(k) != hello_type_id) {
        *wrongtype = 1;
        return NULL;
    }
    return api->obj_value(k);
}

/* ------------------------------------------------------------------------------------------ */
/* Commands                                                                                     */

/* HELLO.GREET name: keyless, so it runs on the client's own thread. */
static void hello_cmd_greet(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    size_t glen = strlen(hello_greeting), len = glen + 2 + argv[1].len + 1;
    char *buf = api->alloc(len);
    memcpy(buf, hello_greeting, glen);
    memcpy(buf + glen, ", ", 2);
    memcpy(buf + glen + 2, argv[1].ptr, argv[1].len);
    buf[len - 1] = '!';
    api->reply_bulk(ctx, buf, len);
    api->free(buf);
    atomic_fetch_add(&hello_greets, 1);
}

/* HELLO.COUNTER key: create or increment the counter; replies the new value. */
static void hello_cmd_counter(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    int wrongtype;
    hello_counter_t *c = hello_lookup(ctx, &argv[1], DFM_LOOKUP_WRITE, &wrongtype);
    if (wrongtype) {
        api->reply_wrongtype(ctx);
        return;
    }
    if (!c) {
        c = api->alloc(sizeof *c);
        c->value = 0;
        api->obj_set(ctx, &argv[1], hello_type_id, c, DFM_EXPIRE_NONE); /* takes c */
    }
    c->value++;
    api->signal_modified(ctx, &argv[1]);  /* WATCH, keyspace stats */
    api->signal_key_ready(ctx, &argv[1]); /* clients parked in HELLO.WAIT */
    api->reply_int(ctx, c->value);
}

/*
 * HELLO.SUM key [key ...]: the sum of the counters (missing keys count 0). One phase: on each
 * shard that owns some of the keys, add them to the running total in *state. The core runs
 * the phases shard after shard with the keys locked, so *state needs no lock; reply() runs
 * on the client's thread and frees it.
 */
typedef struct hello_sum {
    long long total;
    int wrongtype;
} hello_sum_t;

static int hello_sum_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,
                           const dfm_str_t *argv, const int *keys, int nkeys) {
    (void)phase;
    (void)argc;
    hello_sum_t *st = *state;
    if (!st) {
        st = *state = api->alloc(sizeof *st);
        st->total = 0;
        st->wrongtype = 0;
    }
    for (int i = 0; i < nkeys; i++) {
        int wrongtype;
        hello_counter_t *c = hello_lookup(ctx, &argv[keys[i]], DFM_LOOKUP_READ, &wrongtype);
        if (wrongtype) {
            st->wrongtype = 1;
            return -1; /* skip the shards that remain */
        }
        if (c) st->total += c->value;
    }
    return 0;
}

static void hello_sum_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)argc;
    (void)argv;
    hello_sum_t *st = *state;
    if (st && st->wrongtype)
        api->reply_wrongtype(ctx);
    else
        api->reply_int(ctx, st ? st->total : 0);
    api->free(st);
    *state = NULL;
}

static const dfm_multi_t hello_sum_multi = {
    .nphases = 1,
    .phase = hello_sum_phase,
    .reply = hello_sum_reply,
};

/*
 * HELLO.WAIT key timeout: reply the counter at key now if there is one, else park the client
 * until HELLO.COUNTER creates it (or timeout seconds pass, 0 = forever; the core then
 * replies a null array). on_ready runs on the key's shard thread after each signal.
 */
static int hello_wait_ready(dfm_ctx_t *ctx, const dfm_str_t *key, int argc,
                            const dfm_str_t *argv) {
    (void)argc;
    (void)argv;
    int wrongtype;
    hello_counter_t *c = hello_lookup(ctx, key, DFM_LOOKUP_READ, &wrongtype);
    if (!c) return 0; /* keep waiting */
    api->reply_int(ctx, c->value);
    return 1;
}

static void hello_cmd_wait(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    long long timeout;
    if (api->arg_ll(ctx, &argv[2], &timeout) < 0) return;
    if (timeout < 0) {
        api->reply_error(ctx, "ERR timeout is negative");
        return;
    }
    int wrongtype;
    hello_counter_t *c = hello_lookup(ctx, &argv[1], DFM_LOOKUP_READ, &wrongtype);
    if (wrongtype) {
        api->reply_wrongtype(ctx);
        return;
    }
    if (c) {
        api->reply_int(ctx, c->value);
        return;
    }
    static const int keys[] = {1};
    api->block_on_keys(ctx, keys, 1, timeout * 1000, hello_wait_ready); /* no reply here */
}

static const dfm_command_t hello_commands[] = {
    {.name = "hello.greet", .arity = 2, .flags = "fast", .acl_categories = "@fast",
     .summary = "Greets someone with the configured greeting", .since = "1.0.0",
     .group = "module", .complexity = "O(1)", .args_doc = "name", .handler = hello_cmd_greet},
    {.name = "hello.counter", .arity = 2, .flags = "write denyoom fast", .first_key = 1,
     .last_key = 1, .key_step = 1, .acl_categories = "@fast",
     .summary = "Increments the counter stored at key", .since = "1.0.0", .group = "module",
     .complexity = "O(1)", .args_doc = "key", .handler = hello_cmd_counter},
    {.name = "hello.sum", .arity = -2, .flags = "readonly", .first_key = 1, .last_key = -1,
     .key_step = 1, .acl_categories = "@slow",
     .summary = "Sums the counters stored at the keys", .since = "1.0.0", .group = "module",
     .complexity = "O(N) where N is the number of keys", .args_doc = "key [key ...]",
     .multi = &hello_sum_multi},
    {.name = "hello.wait", .arity = 3, .flags = "readonly blocking", .first_key = 1,
     .last_key = 1, .key_step = 1, .acl_categories = "@slow @blocking",
     .summary = "Waits until key holds a counter and returns it", .since = "1.0.0",
     .group = "module", .complexity = "O(1)", .args_doc = "key timeout",
     .handler = hello_cmd_wait},
    {.name = NULL},
};

/* ------------------------------------------------------------------------------------------ */
/* Config, INFO, shard hooks                                                                    */

static const dfm_config_t hello_config = {
    .name = "hello-greeting",
    .kind = DFM_CONF_STRING,
    .default_value = "Hello",
    .help = "the word HELLO.GREET starts with",
    .storage = &hello_greeting,
    /* Read by every thread without a lock, so only settable at start-up. */
    .mutable_at_runtime = 0,
};

/* INFO hello: runs on whichever thread serves INFO; reads atomics and start-up values. */
static void hello_info(dfm_info_t *info) {
    api->info_field(info, "hello_greeting", "%s", hello_greeting);
    api->info_field(info, "hello_greets", "%ld", atomic_load(&hello_greets));
    api->info_field(info, "hello_shards", "%ld", atomic_load(&hello_shards));
    api->info_field(info, "hello_args", "%d", hello_nargs);
}

/* Called once per shard on that shard's thread when it starts. */
static void hello_shard_init(int shard_id) {
    (void)shard_id;
    atomic_fetch_add(&hello_shards, 1);
}

/* ------------------------------------------------------------------------------------------ */

/* The entry point: main thread, once, before any client connects. 0 ok, -1 refuses start-up. */
DFM_EXPORT int dfm_module_init(dfm_module_t *self, const dfm_api_t *core, int argc,
                               char **argv) {
    (void)argv;
    api = core;
    hello_nargs = argc;
    /* DFM_DESCRIPTOR asks for the minor of the header we were built with, so the core has
       already checked this; a module declaring an older minor by hand tests like this. */
    if (!DFM_HAS(core, block_on_keys)) {
        core->log(DFM_LOG_WARNING, "hello: this core has no blocking support");
        return -1;
    }
    if (api->register_type(self, &hello_type, &hello_type_id) < 0) return -1;
    for (const dfm_command_t *c = hello_commands; c->name; c++)
        if (api->register_command(self, c) < 0) return -1;
    if (api->register_config(self, &hello_config) < 0) return -1;
    if (api->register_info(self, "hello", hello_info) < 0) return -1;
    if (api->register_shard_hooks(self, hello_shard_init, NULL) < 0) return -1;
    return 0;
}
