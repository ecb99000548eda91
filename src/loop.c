/*
 * loop.c - owns the epoll instance, the order in which ready fds are handled, the timers
 * and the adaptive spin. Knows nothing of fanotify: main.c registers the sources (their id
 * is their place in the order) and the timers.
 *
 * One turn: the before-sleep hook (hand this turn's records to the sinks); the timers,
 * each doing what is due and saying how long the sleep may last; the spin (only while the
 * spin source's batches come faster than spin_max_ns); epoll_wait(); then every ready fd,
 * lower source id first, each source's fds in the order epoll gave them.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"
#include "now.h"

int loop_init(struct loop *l)
{
	memset(l, 0, sizeof(*l));
	l->spin_fd = -1;
	l->ep_fd = epoll_create1(EPOLL_CLOEXEC);
	return l->ep_fd < 0 ? -errno : 0;
}

void loop_source(struct loop *l, unsigned id, loop_fd_fn *fn, void *arg)
{
	if (id >= LOOP_SOURCES_MAX)
		return; /* a programming error: the ids are main.c's constants */
	l->src[id].fn = fn;
	l->src[id].arg = arg;
}

uint64_t loop_tag(unsigned id)
{
	return (uint64_t)id << 32;
}

int loop_watch(struct loop *l, int fd, unsigned id)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = loop_tag(id) | (uint32_t)fd };

	if (fd < 0)
		return 0;
	return epoll_ctl(l->ep_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int loop_rearm(struct loop *l, int fd, unsigned id, bool oneshot)
{
	struct epoll_event ev = { .events = EPOLLIN | (oneshot ? EPOLLONESHOT : 0),
				  .data.u64 = loop_tag(id) | (uint32_t)fd };

	return epoll_ctl(l->ep_fd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

int loop_timer(struct loop *l, loop_timer_fn *fn, void *arg)
{
	if (l->n_timers == LOOP_TIMERS_MAX)
		return -ENOSPC;
	l->timer[l->n_timers].fn = fn;
	l->timer[l->n_timers].arg = arg;
	l->n_timers++;
	return 0;
}

void loop_spin(struct loop *l, unsigned id, int fd, uint64_t max_ns,
	       const struct now_batches *batches)
{
	l->spin_src = id;
	l->spin_fd = max_ns && batches && id < LOOP_SOURCES_MAX ? fd : -1;
	l->spin_max_ns = max_ns;
	l->batches = batches;
}

static unsigned dispatch(struct loop *l, unsigned id, int fd, uint32_t events)
{
	if (id >= LOOP_SOURCES_MAX || !l->src[id].fn)
		return 0;
	return l->src[id].fn(l->src[id].arg, fd, events);
}

/* Before sleeping: polls the spin source for up to spin_max_ns after its last batch, while
 * batches come faster than that (idle gaps between batches decide whether spinning pays);
 * an idle source (a large gap) sleeps at once, and a spin that found nothing is not
 * repeated until the next batch. True when it found work. */
static bool spin(struct loop *l)
{
	uint64_t until;

	if (l->spin_fd < 0 || !l->batches->end_ns ||
	    l->batches->gap_ewma_ns > (int64_t)l->spin_max_ns)
		return false;
	until = l->batches->end_ns + l->spin_max_ns;
	if (now_mono_ns() >= until)
		return false;
	l->spins++;
	do {
		if (dispatch(l, l->spin_src, l->spin_fd, EPOLLIN)) {
			l->spin_hits++;
			return true;
		}
	} while (now_mono_ns() < until);
	return false;
}

/* Sorts the ready fds by source id, keeping epoll's order within a source (n is small). */
static void by_source(struct epoll_event *evs, int n)
{
	for (int i = 1; i < n; i++) {
		struct epoll_event e = evs[i];
		int j = i;

		while (j > 0 && (evs[j - 1].data.u64 >> 32) > (e.data.u64 >> 32)) {
			evs[j] = evs[j - 1];
			j--;
		}
		evs[j] = e;
	}
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[LOOP_EVENTS_MAX];
	uint64_t epoll_ns = 0;

	while (!l->stop) {
		int n, timeout = -1;
		uint64_t now_ms;

		if (l->before_sleep)
			l->before_sleep(l->before_sleep_arg);
		now_ms = now_mono_ms();
		for (unsigned i = 0; i < l->n_timers; i++) {
			int t = l->timer[i].fn(l->timer[i].arg, now_ms);

			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
		}
		/* A spin that found work goes round again, but looks at everything else at
		 * least every LOOP_SPIN_FAIR_NS. */
		if (spin(l)) {
			if (now_mono_ns() - epoll_ns < LOOP_SPIN_FAIR_NS)
				continue;
			timeout = 0;
		}
		n = epoll_wait(l->ep_fd, evs, LOOP_EVENTS_MAX, timeout);
		epoll_ns = now_mono_ns();
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		by_source(evs, n);
		for (int i = 0; i < n; i++)
			(void)dispatch(l, (unsigned)(evs[i].data.u64 >> 32),
				       (int)(uint32_t)evs[i].data.u64, evs[i].events);
	}
	return 0;
}

void loop_close(struct loop *l)
{
	if (l->ep_fd >= 0)
		(void)close(l->ep_fd); /* an epoll fd: nothing to flush */
	l->ep_fd = -1;
}
