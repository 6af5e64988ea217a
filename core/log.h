/*
 * log.h: the server log. Levels are DFM_LOG_* (debug..error); --loglevel filters, --logfile
 * redirects (default stderr); SIGHUP reopens the file. Any thread may log; each line is one
 * write(2) so lines from threads do not interleave.
 */
#ifndef DF_LOG_H
#define DF_LOG_H

#include <stdarg.h>
#include "dragonfly/module.h"

void log_set_level(int level);
int log_open(const char *path); /* NULL or "" = stderr; -1 on failure */
void log_reopen(void);
void log_msg(int level, const char *fmt, ...) DFM_PRINTF(2, 3);
void log_vmsg(int level, const char *fmt, va_list ap);

#define log_debug(...) log_msg(DFM_LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(DFM_LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(DFM_LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(DFM_LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(DFM_LOG_ERROR, __VA_ARGS__)

#endif
