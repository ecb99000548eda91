/*
 * log.c - owns the log level and destination, the only file-scope mutable state of the
 * daemon. Called after a permission event is answered, never before: a blocked opener may
 * be the process that has to drain our stderr.
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static enum log_level log_max = LOG_LEVEL_NOTICE;
static bool log_syslog;
static time_t rl_second;
static unsigned rl_used;
static unsigned long rl_suppressed;

void log_setup(unsigned verbose, bool use_syslog)
{
	unsigned lvl = LOG_LEVEL_NOTICE + verbose;

	log_max = lvl > LOG_LEVEL_DEBUG ? LOG_LEVEL_DEBUG : (enum log_level)lvl;
	if (use_syslog && !log_syslog)
		openlog("fanotifyd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = use_syslog;
}

bool log_enabled(enum log_level level)
{
	return level <= log_max;
}

static void log_v(enum log_level level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };
	static const char *const tag[] = { "error: ", "warning: ", "", "", "debug: " };

	if (log_syslog) {
		vsyslog(prio[level], fmt, ap);
		return;
	}
	fprintf(stderr, "fanotifyd: %s", tag[level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_v(level, fmt, ap);
	va_end(ap);
}

void log_rl(enum log_level level, const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	if (!log_enabled(level))
		return;
	(void)clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* cannot fail with a valid clock */
	if (ts.tv_sec != rl_second) {
		rl_second = ts.tv_sec;
		rl_used = 0;
	}
	if (rl_used >= LOG_RATELIMIT_PER_S) {
		rl_suppressed++;
		return;
	}
	rl_used++;
	if (rl_suppressed) {
		log_msg(level, "%lu similar messages suppressed", rl_suppressed);
		rl_suppressed = 0;
	}
	va_start(ap, fmt);
	log_v(level, fmt, ap);
	va_end(ap);
}
