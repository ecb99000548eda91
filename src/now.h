/*
 * now.h - the clocks, read one way everywhere: CLOCK_MONOTONIC for deadlines and
 * latencies (a clock step moves nothing), CLOCK_REALTIME for record time stamps.
 */
#ifndef FANOTIFYD_NOW_H
#define FANOTIFYD_NOW_H

#include <stdint.h>
#include <time.h>

static inline uint64_t now_mono_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts); /* cannot fail for CLOCK_MONOTONIC */
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static inline uint64_t now_mono_ms(void)
{
	return now_mono_ns() / 1000000;
}

/* Wall-clock milliseconds since the epoch (ts_ms). */
static inline uint64_t now_real_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts); /* cannot fail for CLOCK_REALTIME */
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
