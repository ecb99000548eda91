/*
 * fid_loop - reference count-only FID notification listener for the fanotifyd benchmark.
 *
 * The physical limit of a userspace notification daemon that reports names: one
 * FAN_CLASS_NOTIF group with FAN_REPORT_DFID_NAME | FAN_REPORT_FID, a filesystem mark on
 * TARGET for the event set fanotifyd observes by default, large reads, and for each event
 * nothing but counting its bits (no handle resolution, no /proc, no output).
 *
 * usage: fid_loop TARGET READY_FILE
 * READY_FILE is created once the mark is in place. On SIGTERM or SIGINT the loop drains
 * what is still queued (non-blocking reads until EAGAIN), then prints its counters to
 * stdout as one line of key=value pairs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <unistd.h>

#ifndef FAN_RENAME
#define FAN_RENAME 0x10000000
#endif

#define READ_BUF (256u << 10)	/* the same read size as fanotifyd */

#define EVENT_MASK (FAN_OPEN | FAN_OPEN_EXEC | FAN_MODIFY | FAN_CLOSE_WRITE | FAN_ATTRIB | \
		    FAN_CREATE | FAN_DELETE | FAN_RENAME | FAN_ONDIR)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int write_ready(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	if (write(fd, "ready\n", 6) != 6) {
		int r = -errno;
		(void)close(fd); /* already failing */
		return r ? r : -EIO;
	}
	return close(fd) < 0 ? -errno : 0;
}

struct counts {
	uint64_t events, reads, overflow, open, open_exec, modify, close_write, attrib, create,
		delete, rename, ondir;
};

static void count_buf(struct counts *c, const unsigned char *buf, ssize_t n)
{
	const struct fanotify_event_metadata *m;

	c->reads++;
	for (m = (const void *)buf; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
		uint64_t k = m->mask;

		c->events++;
		c->overflow += !!(k & FAN_Q_OVERFLOW);
		c->open += !!(k & FAN_OPEN);
		c->open_exec += !!(k & FAN_OPEN_EXEC);
		c->modify += !!(k & FAN_MODIFY);
		c->close_write += !!(k & FAN_CLOSE_WRITE);
		c->attrib += !!(k & FAN_ATTRIB);
		c->create += !!(k & FAN_CREATE);
		c->delete += !!(k & FAN_DELETE);
		c->rename += !!(k & FAN_RENAME);
		c->ondir += !!(k & FAN_ONDIR);
		/* FID groups carry no event fd (FAN_NOFD); an overflow event has none either. */
		if (m->fd >= 0)
			(void)close(m->fd);
	}
}

int main(int argc, char **argv)
{
	static unsigned char buf[READ_BUF] __attribute__((aligned(8)));
	struct counts c = { 0 };
	struct sigaction sa;
	int fan;

	if (argc != 3) {
		fprintf(stderr, "usage: %s TARGET READY_FILE\n", argv[0]);
		return 2;
	}
	/* No SA_RESTART: a blocking read() returns EINTR and the loop sees stop. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0) {
		perror("fid_loop: sigaction");
		return 1;
	}

	fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_REPORT_DFID_NAME | FAN_REPORT_FID,
			    O_RDONLY | O_LARGEFILE);
	if (fan < 0) {
		perror("fid_loop: fanotify_init");
		return 1;
	}
	if (fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, EVENT_MASK, AT_FDCWD,
			  argv[1]) < 0) {
		fprintf(stderr, "fid_loop: fanotify_mark(%s): %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (write_ready(argv[2]) < 0) {
		fprintf(stderr, "fid_loop: ready file %s: %s\n", argv[2], strerror(errno));
		return 1;
	}

	while (!stop) {
		ssize_t n = read(fan, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			perror("fid_loop: read");
			return 1;
		}
		count_buf(&c, buf, n);
	}
	/* Drain: the workload has finished, everything it caused is queued by now. */
	if (fcntl(fan, F_SETFL, O_NONBLOCK) < 0) {
		perror("fid_loop: fcntl");
		return 1;
	}
	for (;;) {
		ssize_t n = read(fan, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			perror("fid_loop: read");
			return 1;
		}
		if (n == 0)
			break;
		count_buf(&c, buf, n);
	}
	printf("events=%llu reads=%llu overflow=%llu open=%llu open_exec=%llu modify=%llu "
	       "close_write=%llu attrib=%llu create=%llu delete=%llu rename=%llu ondir=%llu\n",
	       (unsigned long long)c.events, (unsigned long long)c.reads,
	       (unsigned long long)c.overflow, (unsigned long long)c.open,
	       (unsigned long long)c.open_exec, (unsigned long long)c.modify,
	       (unsigned long long)c.close_write, (unsigned long long)c.attrib,
	       (unsigned long long)c.create, (unsigned long long)c.delete,
	       (unsigned long long)c.rename, (unsigned long long)c.ondir);
	return 0;
}
