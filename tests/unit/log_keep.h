/*
 * log_keep.h - for unit tests that link log.c: a log sink keeping every line, one per
 * '\n', in log_all (log_setup(2, false); log_set_sink(log_keep); reset with log_reset()).
 */
#ifndef FANOTIFYD_TEST_LOG_KEEP_H
#define FANOTIFYD_TEST_LOG_KEEP_H

#include <stdio.h>

#include "log.h"

static char log_all[1 << 16];
static size_t log_len;

static void log_keep(enum log_level level, const char *text)
{
	size_t room;
	int n;

	(void)level;
	if (log_len >= sizeof(log_all) - 2)
		return;
	room = sizeof(log_all) - log_len - 1;
	n = snprintf(log_all + log_len, room, "%s", text);
	if (n > 0)
		log_len += (size_t)n < room ? (size_t)n : room - 1;
	log_all[log_len++] = '\n';
	log_all[log_len] = '\0';
}

static inline void log_reset(void)
{
	log_len = 0;
	log_all[0] = '\0';
}

#endif
