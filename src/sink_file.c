/*
 * sink_file.c - owns the output fd and the writer thread.
 *
 * The event loop hands whole records over with sink_file_write() (a memcpy under a mutex);
 * the writer thread swaps the queue out and writes it with one write() per batch. The
 * reopen on SIGHUP happens in the writer thread too: if the file lies on a filesystem with
 * a permission mark, its open() waits for the event loop's answer, which the loop can give
 * because it is not the one waiting. A failed write loses whole records only: the writer
 * counts them and the loop reports them (sink_file_lost()) in a dropped notice. Knows
 * nothing of events or JSON beyond "a record ends with a newline".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "nss.h"
#include "sink_file.h"

/*
 * Whether an existing output file is ours alone, so that whoever else can write to its
 * directory can neither read our records nor add forged ones, nor stall us: a regular file
 * (not a FIFO or a device), owned by our euid (not one another user planted after a
 * rotation), with one link (not a hard link to a file elsewhere). The one rule for
 * open_output() and sink_file_check(). Returns 0 or negative errno with the reason in why.
 */
static int check_stat(const struct stat *st, char *why, size_t why_len)
{
	if (!S_ISREG(st->st_mode)) {
		snprintf(why, why_len, "not a regular file");
		return -EINVAL;
	}
	if (st->st_uid != geteuid()) {
		snprintf(why, why_len, "owned by uid %u, not by us (uid %u)", (unsigned)st->st_uid,
			 (unsigned)geteuid());
		return -EPERM;
	}
	if (st->st_nlink != 1) {
		snprintf(why, why_len, "has %lu links, not 1", (unsigned long)st->st_nlink);
		return -EMLINK;
	}
	return 0;
}

/*
 * Opens the output and checks it (check_stat(); O_NONBLOCK: opening a FIFO fails with
 * ENXIO when nothing reads it and returns at once when something does, never waits;
 * a symlink is refused by O_NOFOLLOW). Then what a reader gets, on every open (the first
 * and each reopen after a rotation): the mode output_mode if set, else group and others
 * lose write and exec (mode & 0640); then the group output_group if set. Mode first: an
 * existing file's wider mode never reaches the new group. Returns the fd (blocking again),
 * or negative errno with the reason in why.
 */
static int open_output(const struct sink_file *s, char *why, size_t why_len)
{
	mode_t mode;
	struct stat st;
	int fd, flags, r;

	fd = open(s->path,
		  O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY,
		  s->mode ? s->mode : 0640);
	if (fd < 0) {
		r = -errno;
		if (r == -ELOOP)
			snprintf(why, why_len, "is a symbolic link");
		else if (r == -ENXIO)
			snprintf(why, why_len, "not a regular file (a FIFO or a socket)");
		else
			snprintf(why, why_len, "%s", strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(why, why_len, "fstat: %s", strerror(-r));
		goto fail;
	}
	r = check_stat(&st, why, why_len);
	if (r < 0)
		goto fail;
	mode = s->mode ? s->mode : st.st_mode & 0640;
	if ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0) {
		r = -errno;
		snprintf(why, why_len, "fchmod %04o: %s", (unsigned)mode, strerror(-r));
		goto fail;
	}
	/* A new file's group is ours: changing it needs CAP_CHOWN, which the daemon keeps
	 * for this when output_group is set (priv.c). */
	if (s->gid_set && st.st_gid != s->gid && fchown(fd, (uid_t)-1, s->gid) < 0) {
		r = -errno;
		snprintf(why, why_len, "cannot set group %u: %s", (unsigned)s->gid, strerror(-r));
		goto fail;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
		r = -errno;
		snprintf(why, why_len, "fcntl: %s", strerror(-r));
		goto fail;
	}
	return fd;
fail:
	(void)close(fd); /* nothing written */
	return r;
}

int sink_file_check(const char *path, char *msg, size_t msg_len)
{
	char why[128], dir[PATH_MAX];
	struct stat st;
	int r;

	if (strcmp(path, "-") == 0)
		return 0;
	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode)) {
			snprintf(msg, msg_len, "output %s: is a symbolic link", path);
			return -ELOOP;
		}
		r = check_stat(&st, why, sizeof(why));
		if (r < 0)
			snprintf(msg, msg_len, "output %s: %s", path, why);
		return r;
	}
	if (errno != ENOENT) {
		r = -errno;
		snprintf(msg, msg_len, "output %s: %s", path, strerror(-r));
		return r;
	}
	/* Absent: open() will create it in its directory, which must let us. */
	r = fdio_dir_writable(path, dir, sizeof(dir));
	if (r < 0)
		snprintf(msg, msg_len, "output %s: directory %s: %s", path, dir, strerror(-r));
	return r;
}

int sink_file_open(struct sink_file *s, const char *path, mode_t mode, const char *group,
		   char *msg, size_t msg_len)
{
	memset(s, 0, sizeof(*s));
	s->fd = s->opened_fd = s->opened_efd = -1;
	pthread_condattr_t attr;
	char why[128];
	int r;

	if (pthread_mutex_init(&s->lock, NULL) || pthread_condattr_init(&attr)) {
		snprintf(msg, msg_len, "out of memory");
		return -ENOMEM;
	}
	/* Linger deadlines are monotonic: a clock step must not hold records back. */
	r = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (r == 0)
		r = pthread_cond_init(&s->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (r) {
		snprintf(msg, msg_len, "output: %s", strerror(r));
		return -r;
	}
	if (strcmp(path, "-") == 0) {
		s->fd = STDOUT_FILENO;
		return 0;
	}
	s->path = strdup(path);
	if (!s->path) {
		snprintf(msg, msg_len, "out of memory");
		return -ENOMEM;
	}
	s->mode = mode;
	if (group) {
		r = nss_group(group, &s->gid);
		if (r < 0) {
			snprintf(msg, msg_len, "output_group: %s: %s", group,
				 r == -ENOENT ? "no such group" : strerror(-r));
			return r;
		}
		s->gid_set = true;
	}
	s->opened_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->opened_efd < 0) {
		r = -errno;
		snprintf(msg, msg_len, "output: eventfd: %s", strerror(-r));
		return r;
	}
	s->fd = open_output(s, why, sizeof(why));
	if (s->fd < 0) {
		snprintf(msg, msg_len, "output %s: %s", path, why);
		return s->fd;
	}
	return 0;
}

/*
 * Writes a batch of whole records. When a write fails the rest of the batch is lost, but
 * never half a record: our own file is cut back to the end of the last whole record (it
 * is O_APPEND and ours alone, so its end is where the write stopped); stdout, which cannot
 * be cut, gets a newline before the next write. The records lost are counted for the
 * loop's dropped notice, and so is the count of a notice (notice_count > 0, at notice_off)
 * that is lost with them. The normal path is one write() per batch, nothing else.
 */
static void write_batch(struct sink_file *s, const char *p, size_t len, size_t notice_off,
			uint64_t notice_count)
{
	size_t done = 0, whole;
	uint64_t lost = 0;
	int err = 0;

	if (s->torn) {
		if (write(s->fd, "\n", 1) == 1)
			s->torn = false;
		else
			err = errno ? errno : EIO;
	}
	if (!err)
		err = -fdio_write_all(s->fd, p, len, &done);
	if (!err)
		return;
	whole = done;
	while (whole && p[whole - 1] != '\n')
		whole--;
	if (whole < done) {
		off_t end = s->path ? lseek(s->fd, 0, SEEK_END) : -1;
		off_t part = (off_t)(done - whole);

		/* ftruncate() frees blocks: it works on a full filesystem. */
		if (end < part || ftruncate(s->fd, end - part) < 0)
			s->torn = true;
	}
	for (const char *q = p + whole; (q = memchr(q, '\n', (size_t)(p + len - q))); q++)
		lost++;
	pthread_mutex_lock(&s->lock);
	s->write_errors++;
	s->lost_new += lost;
	s->lost_owed += lost + (notice_off >= whole ? notice_count : 0);
	s->lost_errno = err;
	pthread_mutex_unlock(&s->lock);
	log_rl_errno(LOG_LEVEL_ERR, err, "output: write failed, %llu records lost",
		     (unsigned long long)lost);
}

/* Gives the loop a dup of a newly opened output fd (for its ignore mark), replacing one it
 * has not taken yet. Until it is marked, our writes to it raise events the pipeline skips
 * as our own. */
static void hand_over(struct sink_file *s, int fd)
{
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	uint64_t one = 1;

	if (dup < 0) {
		log_rl_errno(LOG_LEVEL_WARN, errno, "output: cannot hand the reopened file over for "
			     "its ignore mark");
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (s->opened_fd >= 0)
		(void)close(s->opened_fd); /* a dup nobody took: nothing to flush */
	s->opened_fd = dup;
	pthread_mutex_unlock(&s->lock);
	if (write(s->opened_efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		log_rl_errno(LOG_LEVEL_WARN, errno, "output: eventfd");
}

int sink_file_opened(struct sink_file *s)
{
	uint64_t n;
	int fd;

	if (s->opened_efd >= 0 && read(s->opened_efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_rl_errno(LOG_LEVEL_WARN, errno, "output: eventfd");
	pthread_mutex_lock(&s->lock);
	fd = s->opened_fd;
	s->opened_fd = -1;
	pthread_mutex_unlock(&s->lock);
	return fd;
}

static void do_reopen(struct sink_file *s)
{
	char why[128];
	int fd;

	if (!s->path)
		return;
	fd = open_output(s, why, sizeof(why));
	if (fd < 0) {
		log_rl(LOG_LEVEL_ERR, "output: cannot reopen %s: %s; keeping the old file", s->path,
		       why);
		return;
	}
	hand_over(s, fd);
	(void)close(s->fd); /* everything was written with write(): nothing buffered */
	s->fd = fd;
	s->torn = false; /* a new file starts on a line of its own */
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
			size_t len = s->pending_len, cap = s->pending_cap, off = s->notice_off;
			uint64_t count = s->notice_count;

			s->pending = mine;
			s->pending_cap = s->writer_cap;
			s->pending_len = 0;
			s->notice_count = 0;
			s->inflight = len;
			mine = p;
			s->writer_cap = cap;
			pthread_mutex_unlock(&s->lock);
			write_batch(s, mine, len, off, count);
			pthread_mutex_lock(&s->lock);
			s->inflight = 0;
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

void sink_file_stats(struct sink_file *s, struct stats *st)
{
	pthread_mutex_lock(&s->lock);
	st->out_buf_kib = (s->pending_cap + s->writer_cap) >> 10;
	st->out_backlog_max_kib = s->backlog_max >> 10;
	st->out_write_errors = s->write_errors;
	pthread_mutex_unlock(&s->lock);
}

int sink_file_write(struct sink_file *s, const void *data, size_t len, uint64_t notice_count)
{
	int r = 0;

	pthread_mutex_lock(&s->lock);
	/* One notice per queue swap is all the writer tracks: a second one waits (as the queue
	 * full), which takes more than one loss reported within one linger period. */
	if (s->pending_len + len > SINK_FILE_PENDING_MAX || (notice_count && s->notice_count) ||
	    s->abandoned) {
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
		if (notice_count) {
			s->notice_off = s->pending_len;
			s->notice_count = notice_count;
		}
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
		write_batch(s, s->pending, s->pending_len, s->notice_off, s->notice_count);
		s->pending_len = 0;
		s->notice_count = 0;
	}
	return r;
}

uint64_t sink_file_lost(struct sink_file *s, uint64_t *ret_new, int *ret_errno)
{
	uint64_t n;

	pthread_mutex_lock(&s->lock);
	n = s->lost_owed;
	*ret_new = s->lost_new;
	*ret_errno = s->lost_errno;
	s->lost_owed = s->lost_new = 0;
	pthread_mutex_unlock(&s->lock);
	return n;
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
	if (s->abandoned)
		return;
	if (s->started) {
		struct timespec until;
		size_t left;

		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_cond_signal(&s->cond);
		pthread_mutex_unlock(&s->lock);
		/* pthread_timedjoin_np() takes a CLOCK_REALTIME deadline. */
		(void)clock_gettime(CLOCK_REALTIME, &until); /* cannot fail for CLOCK_REALTIME */
		until.tv_sec += SINK_FILE_CLOSE_MS / 1000;
		until.tv_nsec += (SINK_FILE_CLOSE_MS % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (pthread_timedjoin_np(s->thread, NULL, &until) != 0) {
			/* Stuck in write() to a pipe nobody reads, or in an open(): the permission
			 * groups are closed, so it waits on no answer of ours, and we do not wait
			 * for it. It keeps using s (and its buffers) until the process exits. */
			pthread_mutex_lock(&s->lock);
			s->abandoned = true;
			left = s->pending_len + s->inflight;
			pthread_mutex_unlock(&s->lock);
			log_errorx("output: writer stuck for %d ms; exiting without it, abandoning up "
				  "to %zu bytes", SINK_FILE_CLOSE_MS, left);
			return;
		}
		s->started = false;
	}
	if (s->fd > STDOUT_FILENO)
		(void)close(s->fd); /* all data went through write() already */
	s->fd = -1;
	if (s->opened_fd >= 0)
		(void)close(s->opened_fd); /* a dup: nothing to flush */
	if (s->opened_efd >= 0)
		(void)close(s->opened_efd);
	s->opened_fd = s->opened_efd = -1;
	free(s->pending);
	s->pending = NULL;
	s->pending_len = s->pending_cap = s->writer_cap = 0;
	free(s->path);
	s->path = NULL;
}
