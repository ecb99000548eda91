/*
 * sink_sock.h - Unix-socket subscribers: the same JSON lines as the output file, fanned out
 * without ever blocking the daemon; bounded buffers, drop notices, peer checks.
 */
#ifndef FANOTIFYD_SINK_SOCK_H
#define FANOTIFYD_SINK_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "event.h"
#include "record.h"

#define SINK_SOCK_BACKLOG 128		/* listen(2) backlog */
#define SINK_SOCK_ACCEPT_PER_EVENT 256	/* accept4() calls per listener event */
#define SINK_SOCK_DISCARD_PER_EVENT 16	/* 4 KiB reads of subscriber input per event */
#define SINK_SOCK_KEEP_BUF (64u << 10)	/* an emptied send buffer larger than this is freed */
#define SINK_SOCK_NOTICE_MAX 160u	/* bytes of a dropped line, at most (20-digit
					 * ts_ms and count: 135) */
#define SINK_SOCK_BATCH (64u << 10)	/* bytes that go to subscribers at once */
#define SINK_SOCK_LINGER_MS 20		/* longest a record waits for more to join it */

struct sink_client {
	int fd;				/* owned; -1 = free slot */
	pid_t pid;			/* peer credentials at connect (SO_PEERCRED) */
	uid_t uid;
	char *buf;			/* owned; bytes not yet sent: buf[off..len) */
	size_t off, len, cap;		/* cap <= buffer_max; dropping: the rest of one record
					 * + SINK_SOCK_NOTICE_MAX */
	uint64_t missed;		/* dropping: records it will never get */
	uint32_t ep_events;		/* events registered with epoll */
	bool want_out;			/* EPOLLOUT armed */
	bool mid_record;		/* what it has received so far ends inside a record */
	bool rd_eof;			/* it shut down its sending side; we only write */
	bool dropping;			/* too slow: buf holds the rest of its last record,
					 * then its dropped line; kept until it reads them or
					 * hangs up */
	bool notice_queued;		/* dropping: the dropped line is sent or in buf */
};

struct sink_sock {
	char *path;			/* owned; NULL = no socket (nothing else is open then) */
	int listen_fd;			/* owned */
	int ep_fd;			/* borrowed: the loop's epoll */
	uint64_t tag;			/* OR-ed with an fd into epoll_event.data.u64 */
	mode_t mode;			/* socket file mode (socket_mode) */
	gid_t gid;			/* the socket file's group (socket_group or as created) */
	bool group_set;
	uid_t owner;			/* the daemon's euid, always allowed */
	bool bound;			/* path is our file (dev, ino): unlinked at close */
	dev_t dev;
	ino_t ino;
	size_t buffer_max;		/* bytes per client (socket_buffer_kb * 1024) */
	unsigned max_clients;
	struct sink_client *clients;	/* owned; max_clients entries */
	unsigned n_clients;		/* slots in use, dropping ones included */
	unsigned n_dropping;		/* of those, dropped ones yet to take their notice */
	bool accepting;			/* listener registered for EPOLLIN */
	uint64_t accepted;
	uint64_t refused;		/* peer-credential or max_clients refusals */
	uint64_t refused_full;		/* of those, because max_clients were connected */
	uint64_t disconnected;		/* subscribers that went away by themselves */
	uint64_t dropped_clients;	/* disconnected for falling behind */
	uint64_t dropped_records;	/* records those clients missed */
	uint64_t accept_pauses;		/* times accepting stopped for lack of fds */
	struct buf batch;		/* records not sent to anyone yet; owned; up to
					 * SINK_SOCK_BATCH bytes (one write more) */
	unsigned batch_records;
	uint64_t batch_since_ms;	/* monotonic ms when batch became non-empty */
};

/*
 * Creates the listener at c->socket (if set) with c->socket_mode/socket_group, registered
 * on ep_fd with data.u64 = tag | fd. A stale socket file nobody answers is replaced; a
 * regular file, symlink or live socket at the path is an error. Returns 0 or negative errno
 * with a message in msg.
 */
int sink_sock_open(struct sink_sock *s, const struct config *c, int ep_fd, uint64_t tag,
		   char *msg, size_t msg_len);

/* Handles readiness of one of its fds (events from epoll). */
void sink_sock_handle(struct sink_sock *s, int fd, uint32_t events);

/* Adds whole records (len bytes, records newline-separated, n_records of them) to the batch
 * every subscriber gets, if any is connected; sends it once it reaches SINK_SOCK_BATCH bytes.
 * now_ms: monotonic. Never blocks. */
void sink_sock_write(struct sink_sock *s, const void *data, size_t len, unsigned n_records,
		     uint64_t now_ms);

/* Queues the batch to every subscriber and sends what the sockets take now; with force
 * false only once it has waited SINK_SOCK_LINGER_MS since its first record. Returns ms
 * until it must next be called, or -1 (nothing waits). Never blocks. */
int sink_sock_flush(struct sink_sock *s, uint64_t now_ms, bool force);

/* Fills the subscribers' counters of st (sock_*). */
void sink_sock_stats(const struct sink_sock *s, struct stats *st);

/* Closes every subscriber and the listener, removes the socket file; safe twice. */
void sink_sock_close(struct sink_sock *s);

/*
 * The admission rule, the one connect(2) applies to the socket file (write permission):
 * uid 0 and the daemon's euid always; members of s->gid (primary gid, or one of the n_groups
 * supplementary groups) if the mode has S_IWGRP; anyone if it has S_IWOTH.
 */
bool sink_sock_peer_allowed(const struct sink_sock *s, uid_t uid, gid_t gid,
			    const gid_t *groups, size_t n_groups);

#endif
