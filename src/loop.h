/*
 * loop.h - the event loop, in the spirit of redis's ae.c: sources (fds with a handler, run
 * in a fixed order), timers, a hook before each sleep, and the adaptive spin. Knows nothing
 * of fanotify: main.c says which source is what.
 */
#ifndef FANOTIFYD_LOOP_H
#define FANOTIFYD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "now.h"

#define LOOP_SOURCES_MAX 8		/* source ids 0..7; a lower id is handled first */
#define LOOP_TIMERS_MAX 5
#define LOOP_EVENTS_MAX 32		/* readiness events taken per epoll_wait() */
#define LOOP_SPIN_FAIR_NS 1000000	/* longest run of spins without epoll_wait() */

/* A ready fd of a source (events: EPOLL* bits). Returns the work it did (events handled):
 * the spin counts a poll that found work as a hit. */
typedef unsigned loop_fd_fn(void *arg, int fd, uint32_t events);
/* Does what is due at now_ms (CLOCK_MONOTONIC); returns ms until it is next due, or -1. */
typedef int loop_timer_fn(void *arg, uint64_t now_ms);
typedef void loop_hook_fn(void *arg);

struct loop_source {
	loop_fd_fn *fn;			/* NULL = no such source */
	void *arg;
};

struct loop_timer {
	loop_timer_fn *fn;
	void *arg;
};

struct loop {
	int ep_fd;			/* owned */
	struct loop_source src[LOOP_SOURCES_MAX];
	struct loop_timer timer[LOOP_TIMERS_MAX];
	unsigned n_timers;
	loop_hook_fn *before_sleep;	/* NULL = none */
	void *before_sleep_arg;
	/* The adaptive spin: before sleeping, poll the spin source's fd for up to spin_max_ns
	 * after its last batch, while its batches come faster than that. The source's owner
	 * keeps its batch clock (it sees every batch, also those read outside the loop). */
	unsigned spin_src;
	int spin_fd;			/* -1 = no spin */
	uint64_t spin_max_ns;
	const struct now_batches *batches; /* borrowed: the spin source's batch clock */
	uint64_t spins;			/* polls before sleeping */
	uint64_t spin_hits;		/* ... that found work */
	bool stop;			/* loop_run() returns at the end of this turn */
};

/* Creates the epoll instance. 0 or -errno; loop_close() is safe after a failure. */
int loop_init(struct loop *l);

/* Source id's handler: every fd watched under id is handed to it. */
void loop_source(struct loop *l, unsigned id, loop_fd_fn *fn, void *arg);

/* Watches fd (EPOLLIN) for source id. fd < 0 is ignored. 0 or -errno. */
int loop_watch(struct loop *l, int fd, unsigned id);

/* Watches fd of source id (loop_watch()ed) again: level-triggered, or (oneshot) for one
 * readiness only, after which its input waits, waking nobody, until the next call (the
 * owner reads it from a timer). 0 or -errno. */
int loop_rearm(struct loop *l, int fd, unsigned id, bool oneshot);
/* The epoll_event.data.u64 of an fd of source id, for a module that adds and removes its
 * own fds (the subscriber sockets) on loop->ep_fd. */
uint64_t loop_tag(unsigned id);

/* A timer: fn is called before every sleep (and returns how long the sleep may be). */
int loop_timer(struct loop *l, loop_timer_fn *fn, void *arg);

/* Spins on fd of source id for up to max_ns (0 = never) after the last batch that
 * batches (kept by the source's owner) records, while they come faster than max_ns. */
void loop_spin(struct loop *l, unsigned id, int fd, uint64_t max_ns,
	       const struct now_batches *batches);

/* Turns until l->stop. Each turn: the before-sleep hook, the timers, the spin, epoll_wait(),
 * then every ready fd, by source id. Returns 0, or -errno if epoll_wait() fails. */
int loop_run(struct loop *l);

void loop_close(struct loop *l);

#endif
