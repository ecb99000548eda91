/*
 * resolve.c - owns the directory-handle cache. Turns FD-mode event fds and FID-mode file
 * handles into paths. Takes no ownership of event fds; the fds it opens (O_PATH, from
 * open_by_handle_at) are closed before returning.
 *
 * Must not: open anything that could need a permission answer. O_PATH opens skip
 * fsnotify's open hooks (fs/open.c do_dentry_open), and readlink of /proc/self/fd/N only
 * walks the dentry cache, so both are safe while the daemon holds unanswered events.
 *
 * A cached directory path goes stale when that directory (or one above it) is renamed;
 * pipeline.c calls resolve_flush() on every directory rename or removal it sees.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "resolve.h"

void resolve_init(struct resolve *r)
{
	memset(r, 0, sizeof(*r));
	/* After daemonizing: /proc/self is resolved now, to this process. */
	r->fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
}

int resolve_fd_path(const struct resolve *r, int fd, char *out, size_t out_len)
{
	char link[32];
	ssize_t n;

	if (out_len < 2)
		return -ENAMETOOLONG; /* not even one byte and the NUL */
	/* readlinkat on a held /proc/self/fd saves walking "/proc/self/fd" per event. A
	 * result that fills out may have been cut: only a shorter one is whole. */
	if (r->fd_dir >= 0) {
		snprintf(link, sizeof(link), "%d", fd);
		n = readlinkat(r->fd_dir, link, out, out_len);
	} else {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, out, out_len);
	}
	if (n < 0)
		return -errno;
	if ((size_t)n >= out_len)
		return -ENAMETOOLONG;
	out[n] = '\0';
	return (int)n;
}

static uint64_t handle_hash(const struct fan_fid *fid)
{
	uint64_t h = hash_step(HASH_SEED ^ fid->fsid, (uint32_t)fid->handle_type);

	h = hash_bytes(h, fid->handle, fid->handle_bytes);
	return h ^ (h >> 29);
}

static bool entry_matches(const struct resolve_entry *e, const struct fan_fid *fid)
{
	return e->handle_bytes == fid->handle_bytes && e->fsid == fid->fsid &&
	       e->handle_type == fid->handle_type &&
	       memcmp(e->handle, fid->handle, fid->handle_bytes) == 0;
}

static int open_handle_path(const struct resolve *res, int mount_fd, const struct fan_fid *fid,
			    char *out, size_t out_len)
{
	union {
		struct file_handle fh;
		char raw[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} h;
	struct stat by_fd, by_path;
	int fd, r;

	if (fid->handle_bytes > MAX_HANDLE_SZ)
		return -EINVAL;
	h.fh.handle_bytes = fid->handle_bytes;
	h.fh.handle_type = fid->handle_type;
	memcpy(h.fh.f_handle, fid->handle, fid->handle_bytes);
	fd = open_by_handle_at(mount_fd, &h.fh, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = resolve_fd_path(res, fd, out, out_len);
	/* The path must lead back to the same inode, or this view cannot name it. */
	if (r >= 0 && (out[0] != '/' || fstat(fd, &by_fd) < 0 || lstat(out, &by_path) < 0 ||
		       by_fd.st_ino != by_path.st_ino || by_fd.st_dev != by_path.st_dev))
		r = -EXDEV;
	(void)close(fd); /* an O_PATH fd: close cannot fail meaningfully */
	return r;
}

const char *resolve_handle(struct resolve *r, const int *views, size_t n_views,
			   const struct fan_fid *fid, bool cache, char *out, size_t out_len)
{
	struct resolve_entry *e = NULL;
	int n = -ENOENT;

	if (cache && fid->handle_bytes <= RESOLVE_HANDLE_MAX) {
		e = &r->cache[handle_hash(fid) & (RESOLVE_CACHE_MAX - 1)];
		if (e->handle_bytes && entry_matches(e, fid)) {
			r->hits++;
			return e->path;
		}
		r->misses++;
	}
	for (size_t i = 0; i < n_views && n < 0; i++)
		n = open_handle_path(r, views[i], fid, out, out_len);
	if (n < 0) {
		r->failures++;
		return NULL;
	}
	if (e) {
		char *p = strdup(out);

		if (!p)
			return out; /* uncached, still correct */
		if (e->handle_bytes)
			r->evictions++;
		free(e->path);
		e->path = p;
		e->fsid = fid->fsid;
		e->handle_type = fid->handle_type;
		e->handle_bytes = fid->handle_bytes;
		memcpy(e->handle, fid->handle, fid->handle_bytes);
		return e->path;
	}
	return out;
}

void resolve_flush(struct resolve *r)
{
	for (size_t i = 0; i < RESOLVE_CACHE_MAX; i++) {
		free(r->cache[i].path);
		r->cache[i].path = NULL;
		r->cache[i].handle_bytes = 0;
	}
	r->flushes++;
}

void resolve_stats(const struct resolve *r, struct stats *s)
{
	s->dircache_hits = r->hits;
	s->dircache_misses = r->misses;
	s->dircache_evictions = r->evictions;
	s->dircache_flushes = r->flushes;
	s->resolve_failures = r->failures;
}

void resolve_free(struct resolve *r)
{
	resolve_flush(r);
	if (r->fd_dir >= 0)
		(void)close(r->fd_dir); /* a directory O_PATH fd: nothing to flush */
	r->fd_dir = -1;
}
