/* sink_sock.c - placeholder until the socket sink lands (being written). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sink_sock.h"

int sink_sock_open(struct sink_sock *s, const struct config *c, int ep_fd, uint64_t tag,
		   char *msg, size_t msg_len)
{
	memset(s, 0, sizeof(*s));
	s->listen_fd = -1;
	(void)ep_fd;
	(void)tag;
	if (!c->socket)
		return 0;
	snprintf(msg, msg_len, "--socket is not implemented yet");
	return -ENOSYS;
}

void sink_sock_handle(struct sink_sock *s, int fd, uint32_t events)
{
	(void)s;
	(void)fd;
	(void)events;
}

void sink_sock_write(struct sink_sock *s, const void *data, size_t len, unsigned n_records)
{
	(void)s;
	(void)data;
	(void)len;
	(void)n_records;
}

void sink_sock_close(struct sink_sock *s)
{
	(void)s;
}

int sink_sock_subscribe(const char *path)
{
	fprintf(stderr, "fanotifyd: --subscribe %s: not implemented yet\n", path);
	return 1;
}
