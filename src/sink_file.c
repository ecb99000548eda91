/*
 * sink_file.c - owns the output fd and the writer thread.
 *
 * The event loop hands whole records over with sink_file_write() (a memcpy under a mutex);
 * the writer thread swaps the queue out and writes it with one write() per batch. The
 * reopen on SIGHUP happens in the writer thread too: if the file lies on a filesystem with
 * a permission mark, its open() waits for the event loop's answer, which the loop can give
 * because it is not the one waiting. Knows nothing of events or JSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sink_file.h"

static int open_output(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
		      0640);

	return fd < 0 ? -errno : fd;
}

int sink_file_open(struct sink_file *s, const char *path)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	pthread_condattr_t attr;
	int r;

	if (pthread_mutex_init(&s->lock, NULL) || pthread_condattr_init(&attr))
		return -ENOMEM;
	/* Linger deadlines are monotonic: a clock step must not hold records back. */
	r = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (r == 0)
		r = pthread_cond_init(&s->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (r)
		return -r;
	if (strcmp(path, "-") == 0) {
		s->fd = STDOUT_FILENO;
		return 0;
	}
	s->path = strdup(path);
	if (!s->path)
		return -ENOMEM;
	s->fd = open_output(path);
	return s->fd < 0 ? s->fd : 0;
}

static void write_all(struct sink_file *s, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(s->fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			s->write_errors++;
			log_rl(LOG_LEVEL_ERR, "output: write failed: %s; %zu bytes lost",
			       strerror(errno), len);
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

static void do_reopen(struct sink_file *s)
{
	int fd;

	if (!s->path)
		return;
	fd = open_output(s->path);
	if (fd < 0) {
		log_rl(LOG_LEVEL_ERR, "output: cannot reopen %s: %s; keeping the old file", s->path,
		       strerror(-fd));
		return;
	}
	if (s->on_open)
		s->on_open(s->on_open_arg, fd);
	(void)close(s->fd); /* everything was written with write(): nothing buffered */
	s->fd = fd;
	log_info("output: reopened %s", s->path);
}

static void *writer(void *arg)
{
	struct sink_file *s = arg;
	char *mine = NULL;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		/* Small batches wait up to SINK_FILE_LINGER_MS for more: one wake-up and one
		 * write() per linger period instead of one per event. */
		while (!s->stop && !s->reopen && s->pending_len < SINK_FILE_BATCH) {
			struct timespec until = s->pending_since;

			if (!s->pending_len) {
				pthread_cond_wait(&s->cond, &s->lock);
				continue;
			}
			until.tv_nsec += SINK_FILE_LINGER_MS * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			if (pthread_cond_timedwait(&s->cond, &s->lock, &until) == ETIMEDOUT)
				break;
		}
		if (s->pending_len) {
			/* Swap buffers: the loop keeps appending while we write. */
			char *p = s->pending;
			size_t len = s->pending_len, cap = s->pending_cap;

			s->pending = mine;
			s->pending_cap = s->writer_cap;
			s->pending_len = 0;
			mine = p;
			s->writer_cap = cap;
			pthread_mutex_unlock(&s->lock);
			write_all(s, mine, len);
			pthread_mutex_lock(&s->lock);
			continue;
		}
		if (s->reopen) {
			s->reopen = false;
			pthread_mutex_unlock(&s->lock);
			do_reopen(s);
			pthread_mutex_lock(&s->lock);
			continue;
		}
		if (s->stop)
			break;
	}
	pthread_mutex_unlock(&s->lock);
	free(mine);
	return NULL;
}

int sink_file_start(struct sink_file *s)
{
	int r = pthread_create(&s->thread, NULL, writer, s);

	if (r)
		return -r;
	s->started = true;
	return 0;
}

void sink_file_mem(struct sink_file *s, size_t *buf_bytes, size_t *backlog_max)
{
	pthread_mutex_lock(&s->lock);
	*buf_bytes = s->pending_cap + s->writer_cap;
	*backlog_max = s->backlog_max;
	pthread_mutex_unlock(&s->lock);
}

int sink_file_write(struct sink_file *s, const void *data, size_t len)
{
	int r = 0;

	pthread_mutex_lock(&s->lock);
	if (s->pending_len + len > SINK_FILE_PENDING_MAX) {
		s->dropped_bytes += len;
		r = -ENOBUFS;
	} else {
		if (s->pending_len + len > s->pending_cap) {
			size_t cap = s->pending_cap ? s->pending_cap : 65536;
			char *p;

			while (cap < s->pending_len + len)
				cap *= 2;
			p = realloc(s->pending, cap);
			if (!p) {
				r = -ENOBUFS;
				s->dropped_bytes += len;
				goto out;
			}
			s->pending = p;
			s->pending_cap = cap;
		}
		/* Wake the writer to start its linger timer, or when a batch is full. */
		bool wake = !s->pending_len ||
			    (s->pending_len < SINK_FILE_BATCH && s->pending_len + len >= SINK_FILE_BATCH);

		if (!s->pending_len)
			(void)clock_gettime(CLOCK_MONOTONIC, &s->pending_since); /* cannot fail */
		memcpy(s->pending + s->pending_len, data, len);
		s->pending_len += len;
		if (s->pending_len > s->backlog_max)
			s->backlog_max = s->pending_len;
		if (wake)
			pthread_cond_signal(&s->cond);
	}
out:
	pthread_mutex_unlock(&s->lock);
	if (!s->started && r == 0) {
		/* No thread (start-up or shutdown path): write synchronously. */
		write_all(s, s->pending, s->pending_len);
		s->pending_len = 0;
	}
	return r;
}

void sink_file_reopen(struct sink_file *s)
{
	pthread_mutex_lock(&s->lock);
	s->reopen = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void sink_file_close(struct sink_file *s)
{
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_cond_signal(&s->cond);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
		s->started = false;
	}
	if (s->fd > STDOUT_FILENO)
		(void)close(s->fd); /* all data went through write() already */
	s->fd = -1;
	free(s->pending);
	s->pending = NULL;
	s->pending_len = s->pending_cap = s->writer_cap = 0;
	free(s->path);
	s->path = NULL;
}
