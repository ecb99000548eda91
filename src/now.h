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

/*
 * When a source's batches come: the end of the last one and an EWMA of the idle gaps
 * between one batch's end and the next one's start. pipeline.c keeps one for the
 * permission group (every read of it counts); loop.c spins on it.
 */
struct now_batches {
	uint64_t end_ns;		/* end of the last batch; 0 = none yet */
	int64_t gap_ewma_ns;		/* from one batch's end to the next one's start */
};

/* A batch started at start_ns: its gap from the last one's end enters the average. */
static inline void now_batch_start(struct now_batches *b, uint64_t start_ns)
{
	if (b->end_ns)
		b->gap_ewma_ns += ((int64_t)(start_ns - b->end_ns) - b->gap_ewma_ns) / 8;
}

static inline void now_batch_end(struct now_batches *b, uint64_t end_ns)
{
	b->end_ns = end_ns;
}

#endif
