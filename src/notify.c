/*
 * notify.c - owns the socket that tells the service manager how the daemon is doing
 * ($NOTIFY_SOCKET, sd_notify(3)) and the watchdog's state. Sends; never receives.
 *
 * The protocol is one datagram of "KEY=VALUE\n" lines to an AF_UNIX address (a path, or an
 * abstract name written with a leading '@'). It is written here rather than taken from
 * libsystemd's sd_notify(): it is forty lines, and the daemon then needs no library beyond
 * libc and libseccomp, whose system calls all show in priv.c's filter and in what a
 * capability-less, seccomp-filtered process is known to do (libsystemd would bring its own
 * initialisation, and on a non-systemd host a dependency for nothing).
 *
 * Must not: block the event loop (the socket is non-blocking: a service manager that does
 * not read loses a message, the daemon never waits for it), or open a file after the marks
 * (the socket is made by notify_init() before them; sending to a unix socket's path opens
 * nothing, so it raises no fanotify event and waits on no permission answer).
 *
 * The watchdog pings (WATCHDOG=1) from the event loop's own timer, never from a thread, and
 * only as proof that the loop turns and reads what waits: a ping that comes due while a
 * source (the permission group, the proc connector) has input waiting is held until that
 * source has been read. If it never is, the pings stop and the service manager kills and
 * restarts the daemon, whose death lets the kernel allow the events it was sitting on.
 * main.c hands the sources (fd and a counter its reader moves) on each call; notify.c owns
 * no fd of theirs.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "now.h"

/* A positive decimal number, nothing else ("0", a sign, blanks or junk: false). */
static bool parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v == 0)
		return false;
	*ret = v;
	return true;
}

/* Fills n->addr from $NOTIFY_SOCKET. 0, or -EAFNOSUPPORT (not a path or '@' name: systemd
 * also knows "vsock:", for virtual machines) or -ENAMETOOLONG. */
static int parse_addr(struct notify *n, const char *s)
{
	size_t len = strlen(s);

	if (s[0] != '/' && s[0] != '@')
		return -EAFNOSUPPORT;
	if (len >= sizeof(n->addr.sun_path) + (s[0] == '@'))
		return -ENAMETOOLONG;
	memset(&n->addr, 0, sizeof(n->addr));
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, s, len);
	if (s[0] == '@') {
		/* An abstract name is the bytes after the NUL, exactly len - 1 of them. */
		n->addr.sun_path[0] = '\0';
		n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	} else {
		n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	}
	return 0;
}

void notify_init(struct notify *n)
{
	char sock[sizeof(n->addr.sun_path) + 2] = "";
	const char *s = getenv("NOTIFY_SOCKET");
	const char *wd_pid = getenv("WATCHDOG_PID");
	uint64_t usec = 0, pid = 0;
	bool have_sock = s && *s;
	bool wd_ours;
	int r;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	if (have_sock && strlen(s) >= sizeof(sock)) {
		log_warnx("notify: NOTIFY_SOCKET is too long, not notifying the service manager");
		have_sock = false;
	} else if (have_sock) {
		memcpy(sock, s, strlen(s) + 1);
	}
	/* WATCHDOG_PID names the process meant; unset means the one started (us). */
	wd_ours = !wd_pid || (parse_u64(wd_pid, &pid) && pid == (uint64_t)getpid());
	if (getenv("WATCHDOG_USEC") && !parse_u64(getenv("WATCHDOG_USEC"), &usec))
		log_warnx("notify: WATCHDOG_USEC is not a positive number, no watchdog");
	if (!wd_ours)
		usec = 0;
	/* What we start (hooks) must not talk to our service manager in our name. */
	(void)unsetenv("NOTIFY_SOCKET"); /* fails only for a name with '=' */
	(void)unsetenv("WATCHDOG_USEC");
	(void)unsetenv("WATCHDOG_PID");
	if (!have_sock)
		return;
	r = parse_addr(n, sock);
	if (r < 0) {
		log_errno(LOG_LEVEL_WARN, r, "notify: NOTIFY_SOCKET %s unusable, not notifying "
			  "the service manager", sock);
		return;
	}
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->fd < 0) {
		log_warn("notify: socket, not notifying the service manager");
		return;
	}
	n->watchdog_usec = usec;
	if (usec) {
		/* Half the service manager's timeout, as sd_watchdog_enabled(3) advises: one
		 * late ping is not yet a kill. */
		uint64_t ms = usec / 2000;

		if (ms < NOTIFY_WD_MIN_MS)
			ms = NOTIFY_WD_MIN_MS;
		if (ms > INT_MAX / 2)
			ms = INT_MAX / 2; /* the loop's timers count in int ms */
		n->wd.interval_ms = ms;
	}
	log_info("notify: service manager at %s%s", sock, usec ? ", watchdog on" : "");
	if (usec)
		log_info("notify: watchdog timeout %llu us, pinging every %llu ms",
			 (unsigned long long)usec, (unsigned long long)n->wd.interval_ms);
}

bool notify_enabled(const struct notify *n)
{
	return n->fd >= 0;
}

int notify_send(struct notify *n, const char *text)
{
	struct iovec iov = { .iov_base = (void *)text, .iov_len = strlen(text) };
	struct msghdr mh = {
		.msg_name = &n->addr,
		.msg_namelen = n->addr_len,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	char shown[NOTIFY_MSG_MAX];

	if (n->fd < 0)
		return 0;
	/* One sendmsg per message: the service manager reads one datagram as one message. */
	if (sendmsg(n->fd, &mh, MSG_NOSIGNAL) < 0) {
		int r = -errno;

		if (!n->send_failed)
			log_errno(LOG_LEVEL_WARN, r, "notify: cannot send to the service manager "
				  "(the first failure is logged, not the next ones)");
		n->send_failed = true;
		return r;
	}
	if (n->send_failed)
		log_notice("notify: the service manager takes messages again");
	n->send_failed = false;
	if (log_enabled(LOG_LEVEL_DEBUG)) {
		snprintf(shown, sizeof(shown), "%s", text);
		for (char *p = shown; *p; p++)
			if (*p == '\n')
				*p = p[1] ? ' ' : '\0';
		log_debug("notify: sent %s", shown);
	}
	return 0;
}

int notify_ready(struct notify *n, pid_t mainpid, const char *status)
{
	char msg[NOTIFY_MSG_MAX];
	int len = snprintf(msg, sizeof(msg), "READY=1\n");

	if (mainpid > 0)
		len += snprintf(msg + len, sizeof(msg) - (size_t)len, "MAINPID=%d\n", (int)mainpid);
	/* STATUS last: a text too long is cut, never the keys before it. */
	if (status)
		(void)snprintf(msg + len, sizeof(msg) - (size_t)len, "STATUS=%s\n", status);
	return notify_send(n, msg);
}

int notify_stopping(struct notify *n)
{
	return notify_send(n, "STOPPING=1\nSTATUS=stopping\n");
}

int notify_reloading(struct notify *n, const char *status)
{
	char msg[NOTIFY_MSG_MAX];

	/* MONOTONIC_USEC lets the service manager tell this reload from an earlier one
	 * (required by Type=notify-reload, systemd 253). */
	(void)snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=%s\n",
		       (unsigned long long)(now_mono_ns() / 1000), status ? status : "reloading");
	return notify_send(n, msg);
}

int notify_wd_step(struct notify_wd *wd, uint64_t now_ms, const struct notify_wd_source *src,
		   unsigned n_src, unsigned readable, int *ret_next_ms)
{
	if (!wd->interval_ms) {
		*ret_next_ms = -1;
		return 0;
	}
	if (n_src > NOTIFY_WD_SOURCES_MAX)
		n_src = NOTIFY_WD_SOURCES_MAX;
	readable &= (1u << n_src) - 1;
	if (!wd->holding) {
		if (wd->due_ms && now_ms < wd->due_ms) {
			*ret_next_ms = (int)(wd->due_ms - now_ms);
			return 0;
		}
		/* Input waiting now may have come a moment ago: not a stall yet, but the
		 * ping waits until the loop has read it. */
		if (readable) {
			wd->holding = true;
			wd->held_since_ms = now_ms;
			wd->held_mask = readable;
			wd->held_logged = false;
			for (unsigned i = 0; i < n_src; i++)
				wd->progress[i] = src[i].progress;
			wd->held++;
			*ret_next_ms = NOTIFY_WD_RECHECK_MS;
			return 0;
		}
	} else {
		/* Serviced: its reader moved its counter, or nothing waits any more (no one
		 * else reads our fds). */
		for (unsigned i = 0; i < n_src; i++)
			if ((wd->held_mask & (1u << i)) &&
			    (src[i].progress != wd->progress[i] || !(readable & (1u << i))))
				wd->held_mask &= ~(1u << i);
		if (wd->held_mask) {
			*ret_next_ms = NOTIFY_WD_RECHECK_MS;
			return 0;
		}
		wd->holding = false;
	}
	wd->due_ms = now_ms + wd->interval_ms;
	wd->pings++;
	*ret_next_ms = (int)wd->interval_ms;
	return 1;
}

int notify_watchdog(struct notify *n, uint64_t now_ms, const struct notify_wd_source *src,
		    unsigned n_src)
{
	struct notify_wd *wd = &n->wd;
	struct pollfd pfd[NOTIFY_WD_SOURCES_MAX];
	unsigned readable = 0;
	int next;

	if (!wd->interval_ms || n->fd < 0)
		return -1;
	/* Every loop turn comes here: only a due ping costs a system call. */
	if (!wd->holding && wd->due_ms && now_ms < wd->due_ms)
		return (int)(wd->due_ms - now_ms);
	if (n_src > NOTIFY_WD_SOURCES_MAX)
		n_src = NOTIFY_WD_SOURCES_MAX;
	for (unsigned i = 0; i < n_src; i++)
		pfd[i] = (struct pollfd){ .fd = src[i].fd, .events = POLLIN }; /* fd -1: skipped */
	if (poll(pfd, n_src, 0) < 0)
		return NOTIFY_WD_RECHECK_MS; /* EINTR, ENOMEM: no news is no ping */
	for (unsigned i = 0; i < n_src; i++)
		if (pfd[i].fd >= 0 && (pfd[i].revents & POLLIN))
			readable |= 1u << i;
	if (notify_wd_step(wd, now_ms, src, n_src, readable, &next) == 1) {
		(void)notify_send(n, "WATCHDOG=1\n"); /* a failure is logged there */
		return next;
	}
	if (wd->holding && !wd->held_logged && now_ms - wd->held_since_ms >= wd->interval_ms) {
		for (unsigned i = 0; i < n_src; i++)
			if (wd->held_mask & (1u << i))
				log_warnx("watchdog: %s has had input waiting for %llu ms that the "
					  "loop has not read: no WATCHDOG=1 until it does",
					  src[i].name,
					  (unsigned long long)(now_ms - wd->held_since_ms));
		wd->held_logged = true;
	}
	return next;
}

void notify_close(struct notify *n)
{
	if (n->fd >= 0)
		(void)close(n->fd); /* a datagram socket: nothing to flush */
	n->fd = -1;
}
