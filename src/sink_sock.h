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

struct sink_client {
	int fd;				/* owned; -1 = free slot */
	pid_t pid;			/* peer credentials at connect (SO_PEERCRED) */
	uid_t uid;
	char *buf;			/* owned; bytes not yet sent */
	size_t len, cap;
	uint64_t sent_records;		/* whole records queued or sent to this client */
	bool want_out;			/* EPOLLOUT armed */
};

struct sink_sock {
	char *path;			/* owned; NULL = no socket */
	int listen_fd;			/* owned */
	int ep_fd;			/* borrowed: the loop's epoll */
	uint64_t tag;			/* OR-ed with an fd into epoll_event.data.u64 */
	mode_t mode;			/* socket file mode (default 0600) */
	gid_t gid;			/* group allowed when mode gives the group access */
	bool group_set;
	uid_t owner;			/* the daemon's euid, always allowed */
	size_t buffer_max;		/* bytes per client (socket_buffer_kb * 1024) */
	unsigned max_clients;
	struct sink_client *clients;	/* owned; max_clients entries */
	unsigned n_clients;
	bool accepting;			/* listener registered for EPOLLIN */
	uint64_t accepted;
	uint64_t refused;		/* peer-credential or max_clients refusals */
	uint64_t dropped_clients;	/* disconnected for falling behind */
	uint64_t dropped_records;	/* records those clients missed */
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

/* Queues whole records (len bytes, records newline-separated, n_records of them) to every
 * subscriber and sends what the sockets take now. Never blocks. */
void sink_sock_write(struct sink_sock *s, const void *data, size_t len, unsigned n_records);

/* Closes every subscriber and the listener, removes the socket file; safe twice. */
void sink_sock_close(struct sink_sock *s);

/* Client mode (--subscribe PATH): connects and copies the stream to stdout until the daemon
 * closes it. Returns the process exit status (0, or 1 with a message on stderr). */
int sink_sock_subscribe(const char *path);

#endif
