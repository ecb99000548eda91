/*
 * subscribe.c - the --subscribe client: connects to a running daemon's subscriber socket
 * and copies what it sends to stdout until the daemon closes the connection.
 *
 * Stands apart from the daemon, as fapolicyd-cli does from fapolicyd: it owns only its
 * socket, shares no state and no module with the daemon's loop, and knows nothing of the
 * records beyond bytes (the lines arrive whole; sink_sock.c sees to that). main.c calls it
 * before anything of the daemon is set up.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fdio.h"
#include "subscribe.h"

/* Writes all of p to fd, waiting for room when fd is non-blocking (a shell may hand us
 * such a stdout). */
static int write_all_wait(int fd, const char *p, size_t len)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		size_t done;
		int r = fdio_write_all(fd, p, len, &done);

		if (r != -EAGAIN && r != -EWOULDBLOCK)
			return r;
		p += done;
		len -= done;
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return -errno;
	}
}

int subscribe_run(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[64 << 10];
	uint64_t total = 0;
	int fd = -1, ret = 1;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "fanotifyd: %s: path too long for a Unix socket\n", path);
		return 1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "fanotifyd: socket: %s\n", strerror(errno));
		return 1;
	}
	/* A blocking connect to a Unix socket completes or fails at once; EINTR can only
	 * leave it in progress, which the next call reports as EISCONN. */
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR || errno == EALREADY)
			continue;
		if (errno == EISCONN)
			break;
		fprintf(stderr, "fanotifyd: %s: %s (is the daemon running?)\n", path,
			strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		int r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "fanotifyd: %s: %s\n", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		r = write_all_wait(STDOUT_FILENO, buf, (size_t)n);
		if (r == -EPIPE) {
			ret = 0; /* the reader is done (| head): so are we */
			goto out;
		}
		if (r < 0) {
			fprintf(stderr, "fanotifyd: stdout: %s\n", strerror(-r));
			goto out;
		}
	}
	if (!total) {
		fprintf(stderr,
			"fanotifyd: %s: the daemon closed the connection without sending anything "
			"(refused: not permitted or too many subscribers, or shutting down)\n",
			path);
		goto out;
	}
	ret = 0;
out:
	(void)close(fd); /* we only read from it */
	return ret;
}
