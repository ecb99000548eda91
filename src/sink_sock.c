/*
 * sink_sock.c - owns the subscriber listener, its socket file, and every subscriber
 * connection with its send buffer.
 *
 * The pipeline hands over whole records once per turn with sink_sock_write() (the bytes the
 * output file gets), which batches them: sink_sock_flush() sends the batch once it is
 * SINK_SOCK_BATCH bytes or has waited SINK_SOCK_LINGER_MS (the loop's timer calls it). The
 * loop hands over the readiness of our fds with sink_sock_handle(). Records go out with
 * non-blocking sends; what a socket does not take waits in that subscriber's buffer, at most
 * buffer_max bytes. A subscriber that falls further behind is dropped: it gets no more
 * records, and its buffer shrinks to the rest of the record it has half of plus room for one
 * {"type":"dropped",...} line. Whenever it reads again (EPOLLOUT, whether records flow or
 * not) it gets that rest and the dropped line, so its stream ends with whole lines, and then
 * it is closed. No timer closes it before that: until it reads or hangs up it keeps its slot,
 * so at most max_clients wait like this. Memory is bounded by max_clients * buffer_max (a
 * dropped one holds the rest of one record and SINK_SOCK_NOTICE_MAX) plus the batch.
 *
 * Must not: block or wait for a subscriber, log per record, interpret records beyond
 * counting newlines, or write JSON itself: a dropped subscriber's last line comes from
 * record_dropped() (record.c), with seq 0. Never sees event fds.
 *
 * Admission: SO_PEERCRED (+ SO_PEERGROUPS) against the rule connect(2) applies to the file
 * (sink_sock_peer_allowed()), so a file made reachable behind our back admits no one new. A
 * full table (max_clients) is handled by accepting and closing at once, so the peer sees EOF
 * instead of hanging in the backlog; running out of fds (EMFILE/ENFILE) stops accepting
 * until a subscriber leaves or the next records are written. A subscriber that shuts down
 * its sending side keeps receiving; EPOLLHUP/EPOLLERR or a failed send closes it, dropped
 * or not.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "now.h"
#include "nss.h"
#include "record.h"
#include "sink_sock.h"

#define DROPPED_REASON "subscriber too slow"
#define PEER_GROUPS_MAX 65536		/* NGROUPS_MAX of the kernel */

static uint64_t count_newlines(const char *p, size_t len)
{
	const char *end = p + len;
	uint64_t n = 0;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
		n++;
		p++;
	}
	return n;
}

/* ---- start-up: path checks, group, listener ---- */

/* connect() to the socket at path: 0 if something listens, else negative errno. */
static int probe_connect(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
		r = -errno;
	(void)close(fd); /* a probe: nothing was sent */
	/* EAGAIN: a listener whose backlog is full is alive too. */
	return r == -EAGAIN || r == -EINPROGRESS ? 0 : r;
}

/*
 * Makes the path free for bind(): absent is fine; a socket nobody answers is removed; a
 * live socket, a symlink or anything that is not a socket is left alone and is an error.
 */
static int clear_stale(const struct sockaddr_un *sa, char *msg, size_t msg_len)
{
	const char *path = sa->sun_path;
	struct stat st, st2;
	int r;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		r = -errno;
		snprintf(msg, msg_len, "%s: %s", path, strerror(-r));
		return r;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(msg, msg_len, "%s: exists and is not a socket", path);
		return -EEXIST;
	}
	r = probe_connect(sa);
	if (r == 0) {
		snprintf(msg, msg_len, "%s: another daemon is listening", path);
		return -EADDRINUSE;
	}
	if (r == -ENOENT)
		return 0; /* removed since lstat() */
	if (r != -ECONNREFUSED) {
		snprintf(msg, msg_len, "%s: cannot tell whether the socket is in use: %s", path,
			 strerror(-r));
		return r;
	}
	/* Narrow the window in which another file could take its place before unlink(). */
	if (lstat(path, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino) {
		snprintf(msg, msg_len, "%s: changed while being checked", path);
		return -EAGAIN;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		r = -errno;
		snprintf(msg, msg_len, "%s: cannot remove the stale socket: %s", path,
			 strerror(-r));
		return r;
	}
	log_info("socket: %s: removed a stale socket nothing was listening on", path);
	return 0;
}

/*
 * Sets group and mode of the file bind() just created, through an O_PATH fd so that a
 * file put in its place (by whoever can write to the directory) is never the one changed:
 * chmod() on a path would follow a symlink planted there. Records dev/ino for close.
 */
static int secure_file(struct sink_sock *s, char *msg, size_t msg_len)
{
	char proc_path[64];
	struct stat st;
	int fd, r = 0;

	fd = open(s->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(msg, msg_len, "%s: cannot open the new socket: %s", s->path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(msg, msg_len, "%s: %s", s->path, strerror(-r));
		goto out;
	}
	if (!S_ISSOCK(st.st_mode) || st.st_uid != s->owner) {
		snprintf(msg, msg_len, "%s: replaced while being created", s->path);
		r = -EEXIST;
		goto out;
	}
	s->bound = true;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	if (s->group_set && fchownat(fd, "", (uid_t)-1, s->gid, AT_EMPTY_PATH) < 0) {
		r = -errno;
		snprintf(msg, msg_len, "%s: cannot set group %u: %s", s->path, (unsigned)s->gid,
			 strerror(-r));
		goto out;
	}
	/* An O_PATH fd cannot be fchmod()ed; its /proc link reaches exactly that inode. */
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", fd);
	if (chmod(proc_path, s->mode) < 0) {
		r = -errno;
		if (r == -ENOENT) /* no /proc: the path, checked just above */
			r = chmod(s->path, s->mode) < 0 ? -errno : 0;
		if (r < 0) {
			snprintf(msg, msg_len, "%s: cannot set mode %04o: %s", s->path,
				 (unsigned)s->mode, strerror(-r));
			goto out;
		}
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(msg, msg_len, "%s: %s", s->path, strerror(-r));
		goto out;
	}
	s->gid = st.st_gid; /* socket_group, or the group bind() gave it */
out:
	(void)close(fd); /* O_PATH: nothing to flush */
	return r;
}

int sink_sock_open(struct sink_sock *s, const struct config *c, int ep_fd, uint64_t tag,
		   char *msg, size_t msg_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN };
	mode_t old_umask;
	int r;

	memset(s, 0, sizeof(*s));
	s->listen_fd = -1;
	s->ep_fd = ep_fd;
	s->tag = tag;
	if (!c->socket)
		return 0;
	s->path = strdup(c->socket);
	if (!s->path) {
		snprintf(msg, msg_len, "out of memory");
		return -ENOMEM;
	}
	s->owner = geteuid();
	s->mode = c->socket_mode;
	if (c->socket_group) {
		r = nss_group(c->socket_group, &s->gid);
		if (r < 0) {
			snprintf(msg, msg_len, "socket_group: %s: %s", c->socket_group,
				 r == -ENOENT ? "no such group" : strerror(-r));
			goto fail;
		}
		s->group_set = true;
	} else {
		s->gid = getegid();
	}
	s->buffer_max = (size_t)(c->socket_buffer_kb ? c->socket_buffer_kb
						     : CONFIG_SOCKET_BUFFER_KB_DEFAULT) << 10;
	s->max_clients = c->socket_max_clients ? c->socket_max_clients
					       : CONFIG_SOCKET_MAX_CLIENTS_DEFAULT;

	if (strlen(s->path) >= sizeof(sa.sun_path)) {
		snprintf(msg, msg_len, "%s: path too long for a Unix socket (at most %zu bytes)",
			 s->path, sizeof(sa.sun_path) - 1);
		r = -ENAMETOOLONG;
		goto fail;
	}
	memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
	r = clear_stale(&sa, msg, msg_len);
	if (r < 0)
		goto fail;

	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0) {
		r = -errno;
		snprintf(msg, msg_len, "%s: socket: %s", s->path, strerror(-r));
		goto fail;
	}
	/*
	 * bind() creates the file with 0777 & ~umask: with umask 0777 it is born mode 0, so
	 * nobody but root reaches it before secure_file() sets group and mode. The umask is
	 * process-wide; start-up is single-threaded here (no output or hook thread yet).
	 */
	old_umask = umask(0777);
	r = bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	(void)umask(old_umask);
	if (r < 0) {
		snprintf(msg, msg_len, "%s: bind: %s", s->path, strerror(-r));
		goto fail;
	}
	r = secure_file(s, msg, msg_len);
	if (r < 0)
		goto fail;
	if (listen(s->listen_fd, SINK_SOCK_BACKLOG) < 0) {
		r = -errno;
		snprintf(msg, msg_len, "%s: listen: %s", s->path, strerror(-r));
		goto fail;
	}
	s->clients = calloc(s->max_clients, sizeof(*s->clients));
	if (!s->clients) {
		snprintf(msg, msg_len, "out of memory");
		r = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < s->max_clients; i++)
		s->clients[i].fd = -1;
	ev.data.u64 = s->tag | (uint32_t)s->listen_fd;
	if (epoll_ctl(s->ep_fd, EPOLL_CTL_ADD, s->listen_fd, &ev) < 0) {
		r = -errno;
		snprintf(msg, msg_len, "%s: epoll: %s", s->path, strerror(-r));
		goto fail;
	}
	s->accepting = true;
	log_info("socket: %s: listening (mode %04o, group %u, %zu KiB per subscriber, "
		 "at most %u subscribers)",
		 s->path, (unsigned)s->mode, (unsigned)s->gid, s->buffer_max >> 10, s->max_clients);
	return 0;
fail:
	sink_sock_close(s);
	return r;
}

/* ---- subscribers ---- */

static void client_set_events(struct sink_sock *s, struct sink_client *c)
{
	struct epoll_event ev = { .data.u64 = s->tag | (uint32_t)c->fd };
	uint32_t want = 0;

	if (!c->rd_eof)
		want |= EPOLLIN | EPOLLRDHUP;
	if (c->off < c->len || (c->dropping && !c->notice_queued))
		want |= EPOLLOUT;
	c->want_out = want & EPOLLOUT;
	if (want == c->ep_events)
		return;
	ev.events = want;
	/* MOD of a registered fd fails only for lack of memory; EPOLLHUP still reaches us. */
	if (epoll_ctl(s->ep_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		log_rl_errno(LOG_LEVEL_WARN, errno, "socket: epoll (ignored)");
	else
		c->ep_events = want;
}

static void resume_accepting(struct sink_sock *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = s->tag | (uint32_t)s->listen_fd };

	if (s->accepting || s->listen_fd < 0)
		return;
	if (epoll_ctl(s->ep_fd, EPOLL_CTL_MOD, s->listen_fd, &ev) == 0)
		s->accepting = true;
}

static void pause_accepting(struct sink_sock *s, int err)
{
	struct epoll_event ev = { .events = 0, .data.u64 = s->tag | (uint32_t)s->listen_fd };

	/* Level-triggered: a listener we cannot accept from would wake us in a busy loop. */
	if (epoll_ctl(s->ep_fd, EPOLL_CTL_MOD, s->listen_fd, &ev) < 0)
		return;
	s->accepting = false;
	s->accept_pauses++;
	log_rl_errno(LOG_LEVEL_WARN, err, "socket: accept (not accepting subscribers until one "
		     "leaves)");
}

/* Closes and frees one subscriber; counts nothing. */
static void client_close(struct sink_sock *s, struct sink_client *c)
{
	if (c->fd < 0)
		return;
	/* DEL before close: a forked hook child may still share the open file description,
	 * which would keep the registration (and events for a dead fd number) alive. */
	(void)epoll_ctl(s->ep_fd, EPOLL_CTL_DEL, c->fd, NULL); /* registered, or already gone */
	(void)close(c->fd); /* a socket: close cannot lose anything we still care about */
	free(c->buf);
	if (c->dropping) {
		s->dropped_records += c->missed;
		s->n_dropping--;
	}
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	s->n_clients--;
	resume_accepting(s);
}

/* The subscriber went away (EOF, reset, EPIPE): close it. */
static void client_gone(struct sink_sock *s, struct sink_client *c, int err)
{
	if (!c->dropping)
		s->disconnected++;
	log_rl_errno(LOG_LEVEL_INFO, err, "socket: subscriber uid %u pid %d disconnected",
		     (unsigned)c->uid, (int)c->pid);
	client_close(s, c);
}

/* One non-blocking send: bytes taken (0 when the socket is full) or negative errno. */
static ssize_t client_send(int fd, const void *p, size_t len)
{
	for (;;) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -errno;
	}
}

static void note_sent(struct sink_client *c, const char *p, size_t n)
{
	if (n)
		c->mid_record = p[n - 1] != '\n';
}

static int client_append(struct sink_sock *s, struct sink_client *c, const char *p, size_t n)
{
	size_t pending = c->len - c->off;

	if (c->cap - c->len < n && c->off) {
		memmove(c->buf, c->buf + c->off, pending);
		c->off = 0;
		c->len = pending;
	}
	if (c->cap - c->len < n) {
		size_t need = pending + n, cap = c->cap ? c->cap : 4096;
		char *nbuf;

		while (cap < need)
			cap *= 2;
		if (cap > s->buffer_max && need <= s->buffer_max)
			cap = s->buffer_max;
		nbuf = realloc(c->buf, cap);
		if (!nbuf)
			return -ENOMEM;
		c->buf = nbuf;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	return 0;
}

static void client_reset_buf(struct sink_client *c)
{
	c->off = c->len = 0;
	if (c->cap > SINK_SOCK_KEEP_BUF) {
		free(c->buf);
		c->buf = NULL;
		c->cap = 0;
	}
}

/*
 * A dropped subscriber's last line, composed only when its socket takes some of it, so the
 * count covers every record written while it did not read. Whatever the socket does not
 * take goes into its buffer, which client_drop() left room for. Returns 0, or -1 if the
 * subscriber was closed.
 */
static int client_notice(struct sink_sock *s, struct sink_client *c)
{
	struct buf line = { 0 };
	ssize_t n;
	int r;

	/* seq 0: the line is this subscriber's alone, not one of the output's records, and
	 * takes no number of their sequence (which starts at 1). */
	r = record_dropped(&line, 0, now_real_ms(), c->missed, DROPPED_REASON);
	if (r < 0 || line.len > SINK_SOCK_NOTICE_MAX) { /* longest: 135 bytes */
		log_rl(LOG_LEVEL_WARN,
		       "socket: dropped subscriber uid %u pid %d closed without its notice: "
		       "out of memory",
		       (unsigned)c->uid, (int)c->pid);
		buf_free(&line);
		client_close(s, c);
		return -1;
	}
	n = client_send(c->fd, line.data, line.len);
	if (n < 0) {
		buf_free(&line);
		client_gone(s, c, (int)-n);
		return -1;
	}
	if (n == 0) {
		buf_free(&line);
		return 0; /* full: EPOLLOUT stays armed until it reads */
	}
	c->notice_queued = true;
	note_sent(c, line.data, (size_t)n);
	if ((size_t)n < line.len) {
		/* Only when the rest of a long record is out: its room is not needed now. */
		if (c->cap > SINK_SOCK_NOTICE_MAX) {
			char *nbuf = realloc(c->buf, SINK_SOCK_NOTICE_MAX);

			if (nbuf) { /* else the larger buffer serves */
				c->buf = nbuf;
				c->cap = SINK_SOCK_NOTICE_MAX;
			}
		}
		memcpy(c->buf, line.data + n, line.len - (size_t)n);
		c->off = 0;
		c->len = line.len - (size_t)n;
	}
	buf_free(&line);
	return 0;
}

/*
 * Sends what is buffered. Returns 0, or -1 if the subscriber was closed (gone, or a dropped
 * one whose notice is out).
 */
static int client_flush(struct sink_sock *s, struct sink_client *c)
{
	for (;;) {
		while (c->off < c->len) {
			size_t want = c->len - c->off;
			ssize_t n = client_send(c->fd, c->buf + c->off, want);

			if (n < 0) {
				client_gone(s, c, (int)-n);
				return -1;
			}
			note_sent(c, c->buf + c->off, (size_t)n);
			c->off += (size_t)n;
			if ((size_t)n < want)
				break; /* full: wait for EPOLLOUT */
		}
		if (c->off < c->len)
			break;
		if (!c->dropping) {
			client_reset_buf(c);
			break;
		}
		/* A dropped one keeps its buffer: the room its notice may need. */
		c->off = c->len = 0;
		if (c->notice_queued) {
			log_rl(LOG_LEVEL_INFO,
			       "socket: dropped subscriber uid %u pid %d closed after its notice",
			       (unsigned)c->uid, (int)c->pid);
			client_close(s, c);
			return -1;
		}
		if (client_notice(s, c) < 0)
			return -1;
		if (!c->notice_queued)
			break;
	}
	client_set_events(s, c);
	return 0;
}

/*
 * The subscriber cannot take this write (rest, rest_len: what it did not get of it): it is
 * dropped. Its buffer keeps only the end of the record it has half of, with room for the
 * dropped line after it; client_flush() sends both whenever its socket takes them, however
 * long that is, then closes it. Records it misses: every newline it does not receive.
 */
static void client_drop(struct sink_sock *s, struct sink_client *c, const char *rest,
			size_t rest_len, bool no_memory)
{
	const char *old = c->buf + c->off;
	size_t old_len = c->len - c->off, a = 0, b = 0;
	bool whole = !c->mid_record;

	c->missed = count_newlines(old, old_len) + count_newlines(rest, rest_len);
	if (c->mid_record) {
		/* Up to the first newline: the end of the record it has the start of. Records
		 * are whole lines, so that newline is buffered or in this write. */
		const char *nl = old_len ? memchr(old, '\n', old_len) : NULL;

		a = nl ? (size_t)(nl - old) + 1 : old_len;
		if (!nl && rest_len) {
			nl = memchr(rest, '\n', rest_len);
			b = nl ? (size_t)(nl - rest) + 1 : 0;
		}
		if (nl) {
			whole = true;
			c->missed--;
		}
	}
	if (a && c->off)
		memmove(c->buf, old, a);
	c->off = 0;
	c->len = a;
	if (whole && c->cap != a + b + SINK_SOCK_NOTICE_MAX) {
		/* Shrinks, or grows for what is in this write; realloc keeps the first a. */
		char *nbuf = realloc(c->buf, a + b + SINK_SOCK_NOTICE_MAX);

		if (nbuf) {
			c->buf = nbuf;
			c->cap = a + b + SINK_SOCK_NOTICE_MAX;
		} else if (c->cap < a + b + SINK_SOCK_NOTICE_MAX) {
			whole = false;
		}
	}
	if (whole && b) {
		memcpy(c->buf + a, rest, b);
		c->len = a + b;
	}
	c->dropping = true;
	s->n_dropping++;
	s->dropped_clients++;
	if (no_memory)
		log_rl(LOG_LEVEL_WARN,
		       "socket: subscriber uid %u pid %d: out of memory for its buffer: "
		       "disconnecting, %" PRIu64 " records missed",
		       (unsigned)c->uid, (int)c->pid, c->missed);
	else
		log_rl(LOG_LEVEL_WARN,
		       "socket: subscriber uid %u pid %d too slow (%zu KiB buffer full): "
		       "disconnecting, %" PRIu64 " records missed",
		       (unsigned)c->uid, (int)c->pid, s->buffer_max >> 10, c->missed);
	if (!whole) {
		/* No memory to finish its record: after half a record a notice would not
		 * start a line, and nothing else can follow. */
		log_rl(LOG_LEVEL_WARN,
		       "socket: dropped subscriber uid %u pid %d closed without its notice: "
		       "out of memory",
		       (unsigned)c->uid, (int)c->pid);
		client_close(s, c);
		return;
	}
	(void)client_flush(s, c); /* -1: closed, nothing left to do */
}

static void client_queue(struct sink_sock *s, struct sink_client *c, const char *p, size_t len,
			 unsigned n_records)
{
	if (c->dropping) {
		c->missed += n_records;
		return;
	}
	if (c->off < c->len && client_flush(s, c) < 0)
		return;
	if (c->off == c->len) {
		ssize_t n = client_send(c->fd, p, len);

		if (n < 0) {
			client_gone(s, c, (int)-n);
			return;
		}
		note_sent(c, p, (size_t)n);
		p += n;
		len -= (size_t)n;
	}
	if (len) {
		if (c->len - c->off + len > s->buffer_max) {
			client_drop(s, c, p, len, false);
			return;
		}
		if (client_append(s, c, p, len) < 0) {
			client_drop(s, c, p, len, true);
			return;
		}
	}
	client_set_events(s, c);
}

/* Reads and discards what a subscriber sends; notes when it shuts down its sending side. */
static int client_discard(struct sink_sock *s, struct sink_client *c)
{
	char buf[4096];

	for (int i = 0; i < SINK_SOCK_DISCARD_PER_EVENT; i++) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0)
			continue;
		if (n == 0) {
			/* Half-closed (shutdown(SHUT_WR), socat at stdin EOF): it can still
			 * read. A full close also raises EPOLLHUP, handled by the caller. */
			c->rd_eof = true;
			client_set_events(s, c);
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		client_gone(s, c, errno);
		return -1;
	}
	return 0;
}

/* SO_PEERGROUPS (Linux 4.13): the supplementary groups at connect(), no /proc race. */
static int peer_groups(int fd, gid_t **ret_groups, size_t *ret_n)
{
	socklen_t len = 64 * sizeof(gid_t);
	gid_t *groups = NULL;

	for (;;) {
		gid_t *g = realloc(groups, len ? len : sizeof(gid_t));

		if (!g) {
			free(groups);
			return -ENOMEM;
		}
		groups = g;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
			break;
		if (errno != ERANGE || len > PEER_GROUPS_MAX * sizeof(gid_t)) {
			int r = -errno;

			free(groups);
			return r;
		}
	}
	*ret_groups = groups;
	*ret_n = len / sizeof(gid_t);
	return 0;
}

/* Kernels before 4.13: the "Groups:" line of /proc/PID/status, best effort (the peer may
 * have exited or changed its groups since connect). */
static bool proc_in_group(pid_t pid, gid_t gid)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (getline(&line, &cap, f) > 0) {
		char *p, *end;

		if (strncmp(line, "Groups:", 7))
			continue;
		for (p = line + 7;; p = end) {
			unsigned long v;

			errno = 0;
			v = strtoul(p, &end, 10);
			if (end == p || errno)
				break;
			if (v == gid)
				found = true;
		}
		break;
	}
	free(line);
	(void)fclose(f); /* read-only */
	return found;
}

bool sink_sock_peer_allowed(const struct sink_sock *s, uid_t uid, gid_t gid,
			    const gid_t *groups, size_t n_groups)
{
	if (uid == 0 || uid == s->owner)
		return true;
	if (s->mode & S_IWOTH)
		return true;
	if (!(s->mode & S_IWGRP))
		return false;
	if (gid == s->gid)
		return true;
	for (size_t i = 0; i < n_groups; i++)
		if (groups[i] == s->gid)
			return true;
	return false;
}

static bool peer_check(const struct sink_sock *s, int fd, const struct ucred *cred)
{
	gid_t *groups = NULL;
	size_t n = 0;
	bool ok;
	int r;

	if (sink_sock_peer_allowed(s, cred->uid, cred->gid, NULL, 0))
		return true;
	if (!(s->mode & S_IWGRP))
		return false;
	r = peer_groups(fd, &groups, &n);
	if (r == -ENOPROTOOPT)
		return proc_in_group(cred->pid, s->gid);
	if (r < 0)
		return false;
	ok = sink_sock_peer_allowed(s, cred->uid, cred->gid, groups, n);
	free(groups);
	return ok;
}

static void admit(struct sink_sock *s, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct sink_client *c = NULL;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		s->refused++;
		log_rl_errno(LOG_LEVEL_WARN, errno, "socket: subscriber refused: no peer credentials");
		goto refuse;
	}
	if (!peer_check(s, fd, &cred)) {
		s->refused++;
		log_rl(LOG_LEVEL_WARN,
		       "socket: subscriber uid %u gid %u pid %d refused: "
		       "not permitted by mode %04o (group %u)",
		       (unsigned)cred.uid, (unsigned)cred.gid, (int)cred.pid, (unsigned)s->mode,
		       (unsigned)s->gid);
		goto refuse;
	}
	if (s->n_clients >= s->max_clients) {
		s->refused++;
		s->refused_full++;
		log_rl(LOG_LEVEL_WARN,
		       "socket: subscriber uid %u pid %d refused: %u subscribers connected "
		       "(socket_max_clients)",
		       (unsigned)cred.uid, (int)cred.pid, s->n_clients);
		goto refuse;
	}
	for (unsigned i = 0; i < s->max_clients; i++) {
		if (s->clients[i].fd < 0) {
			c = &s->clients[i];
			break;
		}
	}
	if (!c) { /* n_clients counts used slots: cannot happen */
		s->refused++;
		goto refuse;
	}
	ev.data.u64 = s->tag | (uint32_t)fd;
	if (epoll_ctl(s->ep_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		s->refused++;
		log_rl_errno(LOG_LEVEL_WARN, errno, "socket: subscriber uid %u pid %d refused: epoll",
			     (unsigned)cred.uid, (int)cred.pid);
		goto refuse;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->pid = cred.pid;
	c->uid = cred.uid;
	c->ep_events = ev.events;
	s->n_clients++;
	s->accepted++;
	log_rl(LOG_LEVEL_INFO, "socket: subscriber uid %u pid %d connected (%u of %u)",
	       (unsigned)cred.uid, (int)cred.pid, s->n_clients, s->max_clients);
	return;
refuse:
	(void)close(fd); /* nothing was sent: the peer reads EOF */
}

static void accept_clients(struct sink_sock *s)
{
	for (int i = 0; i < SINK_SOCK_ACCEPT_PER_EVENT; i++) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			admit(s, fd);
			continue;
		}
		switch (errno) {
		case EINTR:
		case ECONNABORTED:
			continue;
		case EAGAIN:
#if EWOULDBLOCK != EAGAIN
		case EWOULDBLOCK:
#endif
			return;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			pause_accepting(s, errno);
			return;
		default:
			log_rl_errno(LOG_LEVEL_WARN, errno, "socket: accept (ignored)");
			return;
		}
	}
}

static struct sink_client *find_client(struct sink_sock *s, int fd)
{
	if (!s->clients)
		return NULL;
	for (unsigned i = 0; i < s->max_clients; i++)
		if (s->clients[i].fd == fd)
			return &s->clients[i];
	return NULL;
}

void sink_sock_handle(struct sink_sock *s, int fd, uint32_t events)
{
	struct sink_client *c;

	if (!s->path || s->listen_fd < 0)
		return;
	if (fd == s->listen_fd) {
		if (events & EPOLLIN)
			accept_clients(s);
		return;
	}
	c = find_client(s, fd);
	if (!c)
		return; /* closed earlier in this turn */
	if (events & EPOLLERR) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		client_gone(s, c, err);
		return;
	}
	if (events & EPOLLHUP) {
		client_gone(s, c, 0);
		return;
	}
	if ((events & (EPOLLIN | EPOLLRDHUP)) && client_discard(s, c) < 0)
		return;
	if (events & EPOLLOUT)
		(void)client_flush(s, c); /* -1: closed, nothing left to do */
}

/* Queues records to every subscriber and sends what the sockets take now. */
static void send_all(struct sink_sock *s, const void *data, size_t len, unsigned n_records)
{
	if (!s->path || s->listen_fd < 0)
		return;
	resume_accepting(s);
	if (!len || !s->n_clients)
		return;
	for (unsigned i = 0; i < s->max_clients; i++)
		if (s->clients[i].fd >= 0)
			client_queue(s, &s->clients[i], data, len, n_records);
}

void sink_sock_write(struct sink_sock *s, const void *data, size_t len, unsigned n_records,
		     uint64_t now_ms)
{
	if (!len || !s->n_clients)
		return;
	/* The same lines in fewer, larger sends: each send wakes every subscriber. */
	if (!s->batch.len)
		s->batch_since_ms = now_ms;
	if (buf_append(&s->batch, data, len) == 0) {
		s->batch_records += n_records;
	} else {
		/* Out of memory: what waits goes first, then these, unbatched. */
		(void)sink_sock_flush(s, now_ms, true);
		send_all(s, data, len, n_records);
	}
	if (s->batch.len >= SINK_SOCK_BATCH)
		(void)sink_sock_flush(s, now_ms, true);
}

int sink_sock_flush(struct sink_sock *s, uint64_t now_ms, bool force)
{
	/* A clock read before the first record joined counts as no wait. */
	uint64_t waited = now_ms > s->batch_since_ms ? now_ms - s->batch_since_ms : 0;

	if (!s->batch.len)
		return -1;
	if (!force && waited < SINK_SOCK_LINGER_MS)
		return (int)(SINK_SOCK_LINGER_MS - waited);
	send_all(s, s->batch.data, s->batch.len, s->batch_records);
	s->batch.len = 0;
	s->batch_records = 0;
	return -1;
}

void sink_sock_stats(const struct sink_sock *s, struct stats *st)
{
	st->sock_clients = s->n_clients;
	st->sock_accepted = s->accepted;
	st->sock_refused = s->refused;
	st->sock_refused_full = s->refused_full;
	st->sock_disconnected = s->disconnected;
	st->sock_dropped_clients = s->dropped_clients;
	st->sock_dropped_records = s->dropped_records;
	st->sock_accept_pauses = s->accept_pauses;
}

void sink_sock_close(struct sink_sock *s)
{
	struct stat st;

	buf_free(&s->batch); /* unsent records are lost: sink_sock_flush() first */
	s->batch_records = 0;
	if (!s->path)
		return; /* zeroed, never opened, or closed already: nothing else is open */
	if (s->clients) {
		for (unsigned i = 0; i < s->max_clients; i++) {
			struct sink_client *c = &s->clients[i];

			if (c->fd < 0)
				continue;
			/* One last non-blocking try (a dropped one's notice too); what the
			 * socket does not take is lost. */
			if ((c->off < c->len || c->dropping) && client_flush(s, c) < 0)
				continue;
			client_close(s, c);
		}
		free(s->clients);
		s->clients = NULL;
	}
	if (s->listen_fd >= 0) {
		/* maybe never added */
		(void)epoll_ctl(s->ep_fd, EPOLL_CTL_DEL, s->listen_fd, NULL);
		(void)close(s->listen_fd); /* a listener: nothing to flush */
		s->listen_fd = -1;
	}
	/* Only the file we created: a successor may already have replaced it. */
	if (s->bound && lstat(s->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == s->dev &&
	    st.st_ino == s->ino && unlink(s->path) < 0)
		log_warn("socket: cannot remove %s", s->path);
	s->bound = false;
	free(s->path);
	s->path = NULL;
	s->n_clients = 0;
	s->n_dropping = 0;
}
