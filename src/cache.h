/*
 * cache.h - the allow cache (--allow-cache): evictable ignore marks on the permission group
 * for files allowed twice, so the kernel allows their later opens itself.
 */
#ifndef FANOTIFYD_CACHE_H
#define FANOTIFYD_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "compat.h"
#include "event.h"

#define CACHE_SEEN 4096		/* inodes allowed once, remembered (power of two) */

/* The permission events an allow-cache mark ignores. Not OPEN_EXEC_PERM: the kernel raises
 * it apart from an exec's OPEN_PERM, so every exec is still asked and reported. */
#define CACHE_EVENTS (FAN_OPEN_PERM | FAN_ACCESS_PERM)

struct cache {
	bool on;			/* from allow_cache; off if the kernel refuses */
	int group_fd;			/* borrowed: the permission group */
	uint64_t mask;			/* the group's events of CACHE_EVENTS */
	uint64_t seen[CACHE_SEEN];	/* hashes of (dev, ino) allowed once; 0 = empty */
	uint64_t marks;			/* ignore marks added */
	uint64_t errors;		/* ... refused */
	uint64_t flushes;
};

/* Turns the cache on (if on) for the permission group group_fd, whose events are mask. A
 * zeroed cache is off. */
void cache_init(struct cache *c, bool on, int group_fd, uint64_t mask);

/* A file allowed an event of CACHE_EVENTS (fd: that event's, dev and ino: its inode's):
 * marked the second time, so the kernel allows its later opens without asking. The caller
 * has checked that no decision depends on asking again (no containment, not a canary, one
 * name). A mark the kernel refuses is counted; the mark limit (ENOSPC) flushes them all,
 * a kernel without evictable marks (EINVAL) turns the cache off. */
void cache_allow(struct cache *c, int fd, dev_t dev, ino_t ino);

/* Drops every mark (FAN_MARK_FLUSH of the group's inode marks): the next open of each file
 * is asked again. Nothing when off. */
void cache_flush(struct cache *c);

/* Fills the cache's counters of s (cache_*). */
void cache_stats(const struct cache *c, struct stats *s);

#endif
