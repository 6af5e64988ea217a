/*
 * info.h: INFO, and the small services the introspection commands (INFO, CONFIG, CLIENT,
 * COMMAND, MEMORY, DEBUG) share: error-reply accounting for INFO errorstats, Redis's help
 * reply and its human-readable byte counts.
 */
#ifndef DF_INFO_H
#define DF_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "reply.h"


/*
 * Count one error reply for INFO errorstats and total_error_replies. err is the reply text
 * without the '-' ("ERR ...", "WRONGTYPE ..."); its first word is the error code. Any
 * thread; lock-free except the first time a code is seen. Meant to be called from
 * reply_error() for every error reply written to a client.
 */
void info_count_error(const char *err);
/* CONFIG RESETSTAT: forget the error counts. */
void info_reset_errors(void);

/* The shards' numbers INFO stats and keyspace report, summed over the shards added. */
typedef struct info_shards {
    uint64_t hits, misses, expired, evicted;
    double ttl_weighted; /* sum over shards of avg_ttl_ms * expires (huge TTLs: no overflow) */
    int ndbs;
    uint64_t *keys, *expires; /* [ndbs]: keys and keys with a TTL per database */
} info_shards_t;

struct shard;
struct worker_stats;
struct cmd;
struct cmd_stats;

/* A zeroed sum for every database. Any thread; free with info_shards_free. */
info_shards_t *info_shards_new(void);
void info_shards_free(info_shards_t *st);
/* Add shard s's counters and key counts to st. Only on s's owner thread (shard data). */
void info_shards_add(info_shards_t *st, struct shard *s);
/* The workers' connection and network counters, summed into *sum. Any thread: each worker
   writes only its own, these are relaxed reads of them (as INFO stats shows them). */
void info_worker_totals(struct worker_stats *sum);
/* Command c's calls, time (util_cycles() units), rejected and failed calls summed over the
   workers into *t (any thread, relaxed reads); 0 if it never ran nor failed. */
int info_cmd_totals(const struct cmd *c, struct cmd_stats *t);
/* total_error_replies of INFO stats. Any thread. */
uint64_t info_total_error_replies(void);

/* Redis's addReplyHelp: "<NAME> <subcommand> ... Subcommands are:", lines, then HELP. */
void command_reply_help(dfm_ctx_t *ctx, const char *name, const char *const *lines);

/* Append one "name:value\r\n" line (INFO sections). */
void DFM_PRINTF(2, 3) info_line(rbuf_t *b, const char *fmt, ...);

/* Redis's bytesToHuman: "1.50M" style into buf. */
void info_bytes_human(char *buf, size_t cap, uint64_t n);

/* Worker 0's cron: a sample for INFO's instantaneous_* rates (every 100 ms). */
void info_cron_sample(int64_t now_ms);

#endif
