/*
 * fdio.h - the one loop that writes a whole buffer to an fd, for the writers that must not
 * lose part of one (sink_file.c's output thread, the --subscribe client); and the one check
 * that a file could be created at a path (--check-config, for the output, pid file, socket).
 */
#ifndef FANOTIFYD_FDIO_H
#define FANOTIFYD_FDIO_H

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Writes len bytes of p to fd across EINTR and short writes. Returns 0, or negative errno
 * of the write that failed (-EIO for a write that took nothing; -EAGAIN on a full
 * non-blocking fd, which the caller may wait on and resume). *done (if not NULL) gets the
 * bytes written, on failure too.
 */
static inline int fdio_write_all(int fd, const void *p, size_t len, size_t *done)
{
	const char *c = p;
	size_t off = 0;
	int r = 0;

	while (off < len) {
		ssize_t n = write(fd, c + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	if (done)
		*done = off;
	return r;
}

/*
 * The length of the directory above the absolute path p[0..n) ("/a/b" -> 2, "/a" -> 1, the
 * root; "/" stays 1). A walk up to the root: cut at the result until n <= 1. The one walk of
 * fan.c's FAN_MOVE_SELF marks and reload.c's list of them.
 */
static inline size_t fdio_parent_len(const char *p, size_t n)
{
	while (n > 1 && p[n - 1] != '/')
		n--;
	if (n > 1)
		n--; /* the slash, unless it is the root */
	return n;
}

/*
 * Whether a file could be created at path: its directory (written into dir, dir_len bytes)
 * exists, is a directory and lets us add entries (access(2), which also sees a read-only
 * mount). Creates and opens nothing. Returns 0 or negative errno.
 */
static inline int fdio_dir_writable(const char *path, char *dir, size_t dir_len)
{
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (!slash)
		snprintf(dir, dir_len, ".");
	else
		snprintf(dir, dir_len, "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (stat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return access(dir, W_OK | X_OK) < 0 ? -errno : 0;
}

#endif
