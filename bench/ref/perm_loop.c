/*
 * perm_loop - reference allow-all permission listener for the fanotifyd benchmark.
 *
 * The physical limit of a userspace permission daemon on this kernel: one
 * FAN_CLASS_CONTENT group in FD mode, a mount mark on TARGET for FAN_OPEN_PERM and
 * FAN_OPEN_EXEC_PERM, large reads, FAN_ALLOW for every event, event fds closed,
 * nothing else (no paths, no /proc, no output).
 *
 * usage: perm_loop TARGET READY_FILE
 * READY_FILE is created once the mark is in place. On SIGTERM or SIGINT the loop stops
 * and prints its counters to stdout as one line of key=value pairs.
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
#include <sys/resource.h>
#include <unistd.h>

/* 64 KiB hold up to 2730 FD-mode events (24 bytes each, no info records); every one of
 * them carries an fd, so RLIMIT_NOFILE is raised above that before the first read. */
#define READ_BUF (64u << 10)
#define NOFILE_WANT 8192

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

int main(int argc, char **argv)
{
	static unsigned char buf[READ_BUF] __attribute__((aligned(8)));
	uint64_t events = 0, reads = 0, open_perm = 0, exec_perm = 0, other = 0, errors = 0;
	struct sigaction sa;
	struct rlimit rl;
	int fan;

	if (argc != 3) {
		fprintf(stderr, "usage: %s TARGET READY_FILE\n", argv[0]);
		return 2;
	}
	rl.rlim_cur = rl.rlim_max = NOFILE_WANT;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		fprintf(stderr, "perm_loop: setrlimit(NOFILE, %d): %s\n", NOFILE_WANT,
			strerror(errno));
		return 1;
	}

	/* No SA_RESTART: a blocking read() returns EINTR and the loop sees stop. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0) {
		perror("perm_loop: sigaction");
		return 1;
	}

	fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY | O_LARGEFILE);
	if (fan < 0) {
		perror("perm_loop: fanotify_init");
		return 1;
	}
	if (fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM,
			  AT_FDCWD, argv[1]) < 0) {
		fprintf(stderr, "perm_loop: fanotify_mark(%s): %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (write_ready(argv[2]) < 0) {
		fprintf(stderr, "perm_loop: ready file %s: %s\n", argv[2], strerror(errno));
		return 1;
	}

	while (!stop) {
		ssize_t n = read(fan, buf, sizeof(buf));
		struct fanotify_event_metadata *m;

		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			perror("perm_loop: read");
			return 1;
		}
		reads++;
		for (m = (struct fanotify_event_metadata *)buf; FAN_EVENT_OK(m, n);
		     m = FAN_EVENT_NEXT(m, n)) {
			if (m->vers != FANOTIFY_METADATA_VERSION) {
				fprintf(stderr, "perm_loop: metadata version %u\n", m->vers);
				return 1;
			}
			events++;
			/* Counted per bit: one event may carry both permission bits. */
			open_perm += !!(m->mask & FAN_OPEN_PERM);
			exec_perm += !!(m->mask & FAN_OPEN_EXEC_PERM);
			other += !(m->mask & (FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM));
			if (m->fd >= 0) {
				struct fanotify_response r = { .fd = m->fd, .response = FAN_ALLOW };

				/* The kernel takes one response per write(). */
				if (m->mask & (FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM) &&
				    write(fan, &r, sizeof(r)) != sizeof(r))
					errors++;
				(void)close(m->fd); /* nothing to do about a failed close */
			}
		}
	}
	printf("events=%llu reads=%llu open_perm=%llu open_exec_perm=%llu other=%llu "
	       "answer_errors=%llu\n",
	       (unsigned long long)events, (unsigned long long)reads,
	       (unsigned long long)open_perm, (unsigned long long)exec_perm,
	       (unsigned long long)other, (unsigned long long)errors);
	return 0;
}
