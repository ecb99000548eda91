/*
 * sink_prom.c - owns prometheus_file: its directory fd, its temporary file and the thread
 * that replaces the file.
 *
 * The loop renders the counters (record_stats_prom()) and hands the text over with
 * sink_prom_write() (a memcpy under a mutex, the newest text replacing one not written
 * yet). The writer thread creates NAME.tmp.PID in the directory, writes it, and renames it
 * onto NAME: node-exporter's textfile collector reads only *.prom files and always finds a
 * whole one. Must not: open, create or rename anything on the loop thread — on a filesystem
 * with a permission mark each of those waits for the loop's own answer. The directory is
 * opened before the first mark; the writer's events come from our pid, which the pipeline
 * skips (counted as self) and whose permission events it allows at once.
 * No fsync(): the file is a snapshot rewritten every stats_interval_ms; after a crash an
 * empty or older file is replaced at the next interval, and a flush per interval would put
 * a disk cache flush on the host for nothing. Knows nothing of the format beyond "text".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "sink_prom.h"

#define SINK_PROM_GROUPS_MAX 64	/* supplementary groups looked at by the mode check */

/* Splits path into its directory and name (each malloc'd). Returns 0, -EISDIR for a path
 * that names no file (ends in '/', or "."/".."), or -ENOMEM. */
static int split(const char *path, char **ret_dir, char **ret_name)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	char *dir, *n;

	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EISDIR;
	if (!slash)
		dir = strdup(".");
	else
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	n = strdup(name);
	if (!dir || !n) {
		free(dir);
		free(n);
		return -ENOMEM;
	}
	*ret_dir = dir;
	*ret_name = n;
	return 0;
}

static bool in_group(gid_t gid)
{
	gid_t groups[SINK_PROM_GROUPS_MAX];
	int n;

	if (gid == getegid())
		return true;
	n = getgroups(SINK_PROM_GROUPS_MAX, groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/*
 * The directory must take new entries from us after priv.c has dropped CAP_DAC_OVERRIDE
 * (the uid stays 0, and CAP_DAC_READ_SEARCH stays, which grants search but not write): so
 * its mode bits must give us write, as owner, group or other. access() adds what mode
 * bits cannot show: a read-only mount. ACLs are not looked at. Returns 0 or negative errno
 * with the reason in why.
 */
static int dir_check(const char *dir, char *why, size_t why_len)
{
	struct stat st;
	mode_t need;

	if (stat(dir, &st) < 0) {
		int r = -errno;

		snprintf(why, why_len, "directory %s: %s", dir, strerror(-r));
		return r;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, why_len, "%s: not a directory", dir);
		return -ENOTDIR;
	}
	if (access(dir, W_OK) < 0) {
		int r = -errno;

		snprintf(why, why_len, "directory %s: %s", dir, strerror(-r));
		return r;
	}
	need = st.st_uid == geteuid() ? S_IWUSR : in_group(st.st_gid) ? S_IWGRP : S_IWOTH;
	if (!(st.st_mode & need)) {
		snprintf(why, why_len,
			 "directory %s (mode %04o, uid %u, gid %u) is not writable by uid %u "
			 "without CAP_DAC_OVERRIDE, which the daemon drops after start",
			 dir, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
			 (unsigned)st.st_gid, (unsigned)geteuid());
		return -EACCES;
	}
	return 0;
}

int sink_prom_check(const char *path, char *msg, size_t msg_len)
{
	char why[PATH_MAX + 160];
	char *dir = NULL, *name = NULL;
	struct stat st;
	int r;

	r = split(path, &dir, &name);
	if (r < 0) {
		snprintf(msg, msg_len, "prometheus_file %s: %s", path,
			 r == -EISDIR ? "names a directory, not a file" : strerror(-r));
		return r;
	}
	r = dir_check(dir, why, sizeof(why));
	if (r < 0) {
		snprintf(msg, msg_len, "prometheus_file %s: %s", path, why);
		goto out;
	}
	/* A rename onto a directory fails (EISDIR) at every write; any other file is replaced
	 * (a symlink itself, never what it points to). */
	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(msg, msg_len, "prometheus_file %s: is a directory", path);
		r = -EISDIR;
	}
out:
	free(dir);
	free(name);
	return r;
}

void sink_prom_init(struct sink_prom *p)
{
	memset(p, 0, sizeof(*p));
	p->dir_fd = -1;
}

/* Removes our temporary file if one is there (left by a failed write). */
static void tmp_remove(const struct sink_prom *p)
{
	if (unlinkat(p->dir_fd, p->tmp, 0) < 0 && errno != ENOENT)
		log_rl_errno(LOG_LEVEL_WARN, errno, "prometheus_file: cannot remove %s/%s", p->dir,
			     p->tmp);
}

/* Creates the temporary file afresh: O_EXCL, so that nothing planted under its name (a
 * symlink, a hard link to another file) is followed or truncated. Returns the fd or
 * negative errno. */
static int tmp_create(const struct sink_prom *p)
{
	int fd;

	if (unlinkat(p->dir_fd, p->tmp, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = openat(p->dir_fd, p->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    SINK_PROM_MODE);
	if (fd < 0)
		return -errno;
	/* The umask (the unit's UMask=0077) would keep node-exporter's user out. */
	if (fchmod(fd, SINK_PROM_MODE) < 0) {
		int r = -errno;

		(void)close(fd); /* nothing written */
		return r;
	}
	return fd;
}

int sink_prom_open(struct sink_prom *p, const char *path, pid_t self, char *msg,
		   size_t msg_len)
{
	int r, fd;

	sink_prom_init(p);
	r = sink_prom_check(path, msg, msg_len);
	if (r < 0)
		return r;
	r = split(path, &p->dir, &p->name);
	if (r == 0 && asprintf(&p->tmp, "%s.tmp.%d", p->name, (int)self) < 0) {
		p->tmp = NULL;
		r = -ENOMEM;
	}
	if (r == 0 && (pthread_mutex_init(&p->lock, NULL) || pthread_cond_init(&p->cond, NULL)))
		r = -ENOMEM;
	if (r < 0) {
		snprintf(msg, msg_len, "out of memory");
		return r;
	}
	if (strlen(p->name) < 5 || strcmp(p->name + strlen(p->name) - 5, ".prom") != 0)
		log_warnx("prometheus_file %s: node-exporter's textfile collector reads only "
			  "files named *.prom", path);
	p->dir_fd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dir_fd < 0) {
		r = -errno;
		snprintf(msg, msg_len, "prometheus_file %s: directory %s: %s", path, p->dir,
			 strerror(-r));
		return r;
	}
	/* Proof that the directory takes our file, while nothing is marked yet. */
	fd = tmp_create(p);
	if (fd < 0) {
		snprintf(msg, msg_len, "prometheus_file %s: cannot create %s/%s: %s", path, p->dir,
			 p->tmp, strerror(-fd));
		return fd;
	}
	(void)close(fd); /* empty */
	if (unlinkat(p->dir_fd, p->tmp, 0) < 0) {
		r = -errno;
		snprintf(msg, msg_len, "prometheus_file %s: cannot remove %s/%s: %s", path, p->dir,
			 p->tmp, strerror(-r));
		return r;
	}
	return 0;
}

/* One file: the temporary one written whole, then renamed onto the name. A failure
 * leaves the old file in place and removes the temporary one. */
static void write_file(struct sink_prom *p, const char *text, size_t len)
{
	int fd, r;

	fd = tmp_create(p);
	if (fd < 0) {
		r = fd;
		goto fail;
	}
	r = fdio_write_all(fd, text, len, NULL);
	/* close() reports write-back errors of some filesystems (NFS). */
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(p->dir_fd, p->tmp, p->dir_fd, p->name) < 0)
		r = -errno;
	if (r < 0) {
		tmp_remove(p);
		goto fail;
	}
	pthread_mutex_lock(&p->lock);
	p->written++;
	pthread_mutex_unlock(&p->lock);
	return;
fail:
	pthread_mutex_lock(&p->lock);
	p->errors++;
	pthread_mutex_unlock(&p->lock);
	log_rl_errno(LOG_LEVEL_ERR, r, "prometheus_file: cannot write %s/%s; the old file stays",
		     p->dir, p->name);
}

static void *writer(void *arg)
{
	struct sink_prom *p = arg;
	char *mine = NULL;
	size_t mine_cap = 0;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->due && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->due) {
			/* Swap buffers: the loop may hand over the next text while we write. */
			char *text = p->next;
			size_t len = p->next_len, cap = p->next_cap;

			p->next = mine;
			p->next_cap = mine_cap;
			p->next_len = 0;
			p->due = false;
			mine = text;
			mine_cap = cap;
			pthread_mutex_unlock(&p->lock);
			write_file(p, mine, len);
			pthread_mutex_lock(&p->lock);
			continue;
		}
		break; /* stop, with nothing due */
	}
	pthread_mutex_unlock(&p->lock);
	free(mine);
	return NULL;
}

int sink_prom_start(struct sink_prom *p)
{
	int r;

	if (p->dir_fd < 0)
		return 0;
	r = pthread_create(&p->thread, NULL, writer, p);
	if (r)
		return -r;
	p->started = true;
	return 0;
}

int sink_prom_write(struct sink_prom *p, const char *text, size_t len)
{
	int r = 0;

	if (p->dir_fd < 0)
		return 0;
	pthread_mutex_lock(&p->lock);
	if (len > p->next_cap) {
		char *n = realloc(p->next, len);

		if (!n) {
			r = -ENOMEM;
			goto out;
		}
		p->next = n;
		p->next_cap = len;
	}
	memcpy(p->next, text, len);
	p->next_len = len;
	p->due = true;
	pthread_cond_signal(&p->cond);
out:
	pthread_mutex_unlock(&p->lock);
	return r;
}

void sink_prom_close(struct sink_prom *p)
{
	if (p->abandoned)
		return;
	if (p->started) {
		struct timespec until;

		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_cond_signal(&p->cond);
		pthread_mutex_unlock(&p->lock);
		/* pthread_timedjoin_np() takes a CLOCK_REALTIME deadline. */
		(void)clock_gettime(CLOCK_REALTIME, &until); /* cannot fail for CLOCK_REALTIME */
		until.tv_sec += SINK_PROM_CLOSE_MS / 1000;
		until.tv_nsec += (SINK_PROM_CLOSE_MS % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (pthread_timedjoin_np(p->thread, NULL, &until) != 0) {
			/* Stuck in an open or write (a hung NFS server): it keeps using p until
			 * the process exits, and we do not wait for it. */
			p->abandoned = true;
			log_errorx("prometheus_file: writer stuck for %d ms; exiting without it",
				   SINK_PROM_CLOSE_MS);
			return;
		}
		p->started = false;
		log_info("prometheus_file: %llu files written, %llu failed",
			 (unsigned long long)p->written, (unsigned long long)p->errors);
	}
	if (p->dir_fd >= 0)
		(void)close(p->dir_fd); /* a directory: nothing to flush */
	p->dir_fd = -1;
	free(p->next);
	free(p->dir);
	free(p->name);
	free(p->tmp);
	p->next = p->dir = p->name = p->tmp = NULL;
	p->next_len = p->next_cap = 0;
}
