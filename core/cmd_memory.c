/*
 * cmd_memory.c: MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP.
 *
 * USAGE is an ordinary keyed command (it runs on the key's shard and asks db_entry_mem for
 * the entry, its table slot and its module object). STATS needs every shard's key count and
 * table overhead, so it is "@allshards": each shard's phase adds its numbers into the state
 * and the reply formats Redis's map. The rest are keyless and read process-wide counters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cmdtab.h"
#include "db.h"
#include "info.h"
#include "reply.h"
#include "server.h"
#include "table.h"
#include "util.h"

/* ------------------------------------------------------------------------------------ */
/* MEMORY USAGE                                                                           */

static void memory_usage_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    for (int i = 3; i < argc; i += 2) {
        long long n;
        if (!util_eq_nocase(argv[i].ptr, argv[i].len, "samples") || i + 1 >= argc) {
            reply_syntax_error(ctx);
            return;
        }
        if (util_str2ll(argv[i + 1].ptr, argv[i + 1].len, &n) < 0) {
            reply_error(ctx, "ERR value is not an integer or out of range");
            return;
        }
    }
    table_slot_t *slot = db_find(ctx->shard, ctx->db, argv[2].ptr, argv[2].len);
    if (!slot) {
        reply_null(ctx);
        return;
    }
    reply_int(ctx, (long long)db_entry_mem(slot_entry(*slot)));
}

/* ------------------------------------------------------------------------------------ */
/* MEMORY STATS                                                                           */

typedef struct memory_state {
    uint64_t keys;
    uint64_t overhead; /* hash table directories and segments */
    int ndbs;
    uint64_t *db_keys, *db_overhead, *db_expires;
} memory_state_t;

static int memory_stats_phase(dfm_ctx_t *ctx, int phase, void **state, int argc, const dfm_str_t *argv,
                              const int *keys, int nkeys) {
    (void)phase, (void)argc, (void)argv, (void)keys, (void)nkeys;
    shard_t *s = ctx->shard;
    if (!*state) {
        memory_state_t *st = df_calloc(sizeof *st);
        st->ndbs = s->ndbs;
        st->db_keys = df_calloc(sizeof(uint64_t) * (size_t)s->ndbs);
        st->db_overhead = df_calloc(sizeof(uint64_t) * (size_t)s->ndbs);
        st->db_expires = df_calloc(sizeof(uint64_t) * (size_t)s->ndbs);
        *state = st;
    }
    memory_state_t *st = *state;
    for (int d = 0; d < s->ndbs && d < st->ndbs; d++) {
        size_t n = db_size(s, d), oh = table_mem_usage(s->dbs[d].t);
        st->keys += n;
        st->overhead += oh;
        st->db_keys[d] += n;
        st->db_overhead[d] += oh;
        st->db_expires[d] += s->dbs[d].nexpires;
    }
    return 0;
}

static void memory_kv_int(dfm_ctx_t *ctx, const char *k, long long v) {
    reply_cstr(ctx, k);
    reply_int(ctx, v);
}

static void memory_kv_double(dfm_ctx_t *ctx, const char *k, double v) {
    reply_cstr(ctx, k);
    reply_double(ctx, v);
}

/* The "db.N" entries: one map per non-empty database. */
static void memory_stats_dbs(dfm_ctx_t *ctx, const memory_state_t *st) {
    for (int d = 0; d < st->ndbs; d++) {
        if (!st->db_keys[d]) continue;
        char name[32];
        snprintf(name, sizeof name, "db.%d", d);
        reply_cstr(ctx, name);
        reply_map(ctx, 2);
        memory_kv_int(ctx, "overhead.hashtable.main", (long long)st->db_overhead[d]);
        memory_kv_int(ctx, "overhead.hashtable.expires", 0);
    }
}

static int memory_nonempty_dbs(const memory_state_t *st) {
    int n = 0;
    for (int d = 0; d < st->ndbs; d++) n += st->db_keys[d] != 0;
    return n;
}

static void memory_stats_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    memory_state_t empty = {0}, *st = *state ? *state : &empty;
    long long used = (long long)df_heap_allocated(), rss = (long long)df_rss_bytes();
    long long peak = (long long)atomic_load(&g_server.peak_memory);
    if (used > peak) peak = used;
    long long overhead = (long long)st->overhead;
    long long dataset = used > overhead ? used - overhead : 0;
    reply_map(ctx, 19 + memory_nonempty_dbs(st));
    memory_kv_int(ctx, "peak.allocated", peak);
    memory_kv_int(ctx, "total.allocated", used);
    memory_kv_int(ctx, "startup.allocated", 0);
    memory_kv_int(ctx, "replication.backlog", 0);
    memory_kv_int(ctx, "clients.slaves", 0);
    memory_kv_int(ctx, "clients.normal", 0);
    memory_kv_int(ctx, "cluster.links", 0);
    memory_kv_int(ctx, "aof.buffer", 0);
    memory_kv_int(ctx, "lua.caches", 0);
    memory_kv_int(ctx, "functions.caches", 0);
    memory_stats_dbs(ctx, st);
    memory_kv_int(ctx, "overhead.total", overhead);
    memory_kv_int(ctx, "keys.count", (long long)st->keys);
    memory_kv_int(ctx, "keys.bytes-per-key", st->keys ? used / (long long)st->keys : 0);
    memory_kv_int(ctx, "dataset.bytes", dataset);
    memory_kv_double(ctx, "dataset.percentage", used ? 100.0 * (double)dataset / (double)used : 0);
    memory_kv_double(ctx, "peak.percentage", peak ? 100.0 * (double)used / (double)peak : 0);
    memory_kv_double(ctx, "fragmentation", used ? (double)rss / (double)used : 0);
    memory_kv_int(ctx, "fragmentation.bytes", rss - used);
    memory_kv_int(ctx, "allocator.allocated", used);
    if (st != &empty) {
        df_free(st->db_keys);
        df_free(st->db_overhead);
        df_free(st->db_expires);
        df_free(st);
    }
    *state = NULL;
}

static const dfm_multi_t memory_stats_multi = {1, memory_stats_phase, memory_stats_reply};

/* ------------------------------------------------------------------------------------ */
/* DOCTOR, MALLOC-STATS, PURGE, HELP                                                      */

static void memory_doctor_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    const char *text;
    if (df_heap_allocated() < 5 * 1024 * 1024)
        text = "Hi Sam, this instance is empty or is using very little memory, my issues detector "
               "can't be used in these conditions. Please, leave for your mission on Earth and fill "
               "it with some data. The new Sam and I will be back to our programming as soon as I "
               "finished rebooting.";
    else
        text = "Hi Sam, I can't find any memory issue in your instance. I can only account for "
               "what occurs on this base.";
    reply_verbatim(ctx, text, strlen(text));
}

static void memory_malloc_stats_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    char text[512];
    int n = snprintf(text, sizeof text,
                     "___ Begin malloc stats ___\nallocator: %s\nallocated: %zu\n"
                     "accounted: %lld\nresident: %zu\n--- End malloc stats ---\n",
                     df_allocator_name(), df_heap_allocated(), (long long)df_total_allocated(),
                     df_rss_bytes());
    reply_verbatim(ctx, text, (size_t)(n < (int)sizeof text ? n : (int)sizeof text - 1));
}

static void memory_purge_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    df_purge();
    reply_ok(ctx);
}

static void memory_help_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    static const char *const help[] = {
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        NULL,
    };
    command_reply_help(ctx, "MEMORY", help);
}

#define MEMORY_DOC .since = "4.0.0", .group = "server"

static const dfm_command_t memory_cmds[] = {
    {.name = "memory|usage", .arity = -3, .flags = "readonly", .first_key = 2, .last_key = 2,
     .key_step = 1, .acl_categories = "@read @slow", MEMORY_DOC,
     .summary = "Estimates the memory usage of a key.", .complexity = "O(N) where N is the number of samples.",
     .args_doc = "key [SAMPLES count]", .handler = memory_usage_cmd},
    {.name = "memory|stats", .arity = 2, .flags = "@allshards", .acl_categories = "@slow", MEMORY_DOC,
     .summary = "Returns details about memory usage.", .complexity = "O(1)", .multi = &memory_stats_multi},
    {.name = "memory|doctor", .arity = 2, .flags = "", .acl_categories = "@slow", MEMORY_DOC,
     .summary = "Outputs a memory problems report.", .complexity = "O(1)", .handler = memory_doctor_cmd},
    {.name = "memory|malloc-stats", .arity = 2, .flags = "", .acl_categories = "@slow", MEMORY_DOC,
     .summary = "Returns the allocator statistics.", .complexity = "Depends on how much memory is allocated, could be slow",
     .handler = memory_malloc_stats_cmd},
    {.name = "memory|purge", .arity = 2, .flags = "", .acl_categories = "@slow", MEMORY_DOC,
     .summary = "Asks the allocator to release memory.", .complexity = "Depends on how much memory is allocated, could be slow",
     .handler = memory_purge_cmd},
    {.name = "memory|help", .arity = 2, .flags = "loading stale", .acl_categories = "@slow", MEMORY_DOC,
     .summary = "Returns helpful text about the different subcommands.", .complexity = "O(1)",
     .handler = memory_help_cmd},
};

void cmd_memory_register(void) { cmdtab_register(memory_cmds, CMDTAB_COUNT(memory_cmds)); }
