/*
 * resolve.h - event fd or directory file handle -> path, through a bounded cache of
 * directory handles.
 */
#ifndef FANOTIFYD_RESOLVE_H
#define FANOTIFYD_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define RESOLVE_CACHE_MAX 1024		/* directory handles remembered (power of two) */
#define RESOLVE_HANDLE_MAX 64		/* larger handles are resolved but not cached */

struct resolve_entry {
	uint64_t fsid;
	int32_t handle_type;
	uint32_t handle_bytes;		/* 0 = empty slot */
	unsigned char handle[RESOLVE_HANDLE_MAX];
	char *path;			/* owned */
};

struct resolve {
	struct resolve_entry cache[RESOLVE_CACHE_MAX];
	uint64_t hits;
	uint64_t misses;
	uint64_t evictions;		/* entries replaced by another handle */
	uint64_t failures;		/* handles no view could name (ESTALE: gone) */
	uint64_t flushes;		/* resolve_flush() calls */
	int fd_dir;			/* owned; /proc/self/fd (O_PATH), -1 = none */
};

/* Zeroes r and opens /proc/self/fd (after any fork: it names this process); without it,
 * resolve_fd_path() reads the full /proc/self/fd/N link. */
void resolve_init(struct resolve *r);

/* Path of an FD-mode event fd (readlink of /proc/self/fd/N) into out. Returns its length
 * or negative errno. */
int resolve_fd_path(const struct resolve *r, int fd, char *out, size_t out_len);

/*
 * Path of the object behind fid (a directory handle when cache is true), decoded with
 * open_by_handle_at(view, O_PATH) through the first of the n_views mount fds whose path
 * really names the object (lstat of the path finds the same inode): a bind mount of a
 * subdirectory cannot name what lies outside it, and the kernel then makes up a path
 * relative to the filesystem's root. O_PATH opens raise no fanotify events and need no
 * permission answer. Returns a string owned by the cache (valid until the next call) or by
 * out, or NULL when the handle cannot be resolved (the object is gone or unreachable).
 */
const char *resolve_handle(struct resolve *r, const int *views, size_t n_views,
			   const struct fan_fid *fid, bool cache, char *out, size_t out_len);

/* Forgets every cached path (a directory was renamed or removed). */
void resolve_flush(struct resolve *r);

/* Fills the cache's counters of s (dircache_*, resolve_failures). */
void resolve_stats(const struct resolve *r, struct stats *s);

/* Releases the cache and fd_dir; safe after resolve_init() and twice. */
void resolve_free(struct resolve *r);

#endif
