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

/* Redis's addReplyHelp: "<NAME> <subcommand> ... Subcommands are:", lines, then HELP. */
void command_reply_help(dfm_ctx_t *ctx, const char *name, const char *const *lines);

/* Append one "name:value\r\n" line (INFO sections). */
void DFM_PRINTF(2, 3) info_line(rbuf_t *b, const char *fmt, ...);

/* Redis's bytesToHuman: "1.50M" style into buf. */
void info_bytes_human(char *buf, size_t cap, uint64_t n);

#endif
