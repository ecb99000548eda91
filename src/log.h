/*
 * log.h - diagnostics to stderr (foreground) or syslog (daemon), with a level set by -v
 * and a rate limit for messages that can repeat per event. After log_start() lines are
 * queued (bounded, drops counted) and written by a thread of their own. On a stderr that
 * $JOURNAL_STREAM names, lines carry sd-daemon(3) "<N>" priorities instead of the prefix.
 */
#ifndef FANOTIFYD_LOG_H
#define FANOTIFYD_LOG_H

#include <errno.h>
#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_NOTICE,	/* shown by default */
	LOG_LEVEL_INFO,		/* -v */
	LOG_LEVEL_DEBUG,	/* -vv */
};

#define LOG_RATELIMIT_PER_S 20	/* rate-limited messages let through per second */
#define LOG_QUEUE_BYTES (64u << 10)	/* log lines waiting for the log thread */
#define LOG_STOP_MS 1000		/* longest log_stop() waits for the destination */

/* verbose 0 shows notices and worse; each -v one level more. */
void log_setup(unsigned verbose, bool use_syslog);
/* Where finished lines go instead of stderr or syslog (the text without "fanotifyd: " and
 * level tag); NULL restores those. For tests, and a sink of another kind. */
typedef void log_sink_fn(enum log_level level, const char *text);
void log_set_sink(log_sink_fn *fn);
/* Before the first mark: loads the time zone (syslog's time stamps would open
 * /etc/localtime later) and, if the daemon will use syslog, connects to it. From now on
 * lines are queued (for the thread log_start() starts), never written by the caller. */
void log_prepare(bool will_syslog);
/* From now on lines go to syslog (after log_prepare(true)). */
void log_use_syslog(void);
/* Starts the log thread, which writes what is queued. 0 or -errno. */
int log_start(void);
/* Writes what is queued and stops the thread, waiting at most timeout_ms; if the
 * destination is stalled longer, what is queued and every later line are dropped. */
void log_stop(unsigned timeout_ms);
/* Lines dropped because the queue was full, since the start. */
unsigned long log_dropped(void);
bool log_enabled(enum log_level level);
/*
 * The error style is OpenBSD's: log_warn() and log_error() append ": " and strerror(errno)
 * (errno as it is at the call), log_warnx() and log_errorx() do not. The *_errno forms take
 * the error number instead, positive or -errno as the modules return it, at any level; 0
 * appends nothing. Call sites never format strerror() into a log line themselves.
 */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_errno(enum log_level level, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* As log_msg, but at most LOG_RATELIMIT_PER_S a second; the rest are counted and the count
 * is reported with the next message let through. */
void log_rl(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_rl_errno(enum log_level level, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* As log_rl, with a rate limit of its own: hooks' output cannot crowd out the daemon's. */
void log_rl_hook(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_errno(LOG_LEVEL_ERR, errno, __VA_ARGS__)
#define log_errorx(...) log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...) log_errno(LOG_LEVEL_WARN, errno, __VA_ARGS__)
#define log_warnx(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
