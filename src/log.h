/*
 * log.h - diagnostics to stderr (foreground) or syslog (daemon), with a level set by -v
 * and a rate limit for messages that can repeat per event.
 */
#ifndef FANOTIFYD_LOG_H
#define FANOTIFYD_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_NOTICE,	/* shown by default */
	LOG_LEVEL_INFO,		/* -v */
	LOG_LEVEL_DEBUG,	/* -vv */
};

#define LOG_RATELIMIT_PER_S 20	/* rate-limited messages let through per second */

/* verbose 0 shows notices and worse; each -v one level more. */
void log_setup(unsigned verbose, bool use_syslog);
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* As log_msg, but at most LOG_RATELIMIT_PER_S a second; the rest are counted and the count
 * is reported with the next message let through. */
void log_rl(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
