/*
 * cache.c - owns the allow cache: which inodes were allowed once, and the evictable inode
 * ignore marks it adds to the permission group (borrowed from fan.c) for those allowed
 * again, with their counters.
 *
 * Must not: decide whether an event may be cached (pipeline.c does: a policy verdict, no
 * containment, no canary, one name), or keep event fds: the fd it is handed is only marked.
 * Runs after the answer, so a refused mark costs a later open a question, never a verdict.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "cache.h"
#include "log.h"

void cache_init(struct cache *c, bool on, int group_fd, uint64_t mask)
{
	c->on = on;
	c->group_fd = group_fd;
	c->mask = mask & CACHE_EVENTS;
}

/* Whether this inode was allowed before (a table of CACHE_SEEN slots; a collision only
 * delays or brings forward one mark, never a decision). */
static bool seen_before(struct cache *c, dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t)dev * 0x9e3779b97f4a7c15ull) ^
		     ((uint64_t)ino * 0xc2b2ae3d27d4eb4full);
	uint64_t *slot = &c->seen[(h >> 32) & (CACHE_SEEN - 1)];

	h |= 1; /* 0 = empty slot */
	if (*slot == h)
		return true;
	*slot = h;
	return false;
}

void cache_flush(struct cache *c)
{
	if (!c->on)
		return;
	/* Without MOUNT/FILESYSTEM: every inode mark of the group, i.e. the ignore marks
	 * (config_validate() refuses --allow-cache with --watch inode marks). */
	if (fanotify_mark(c->group_fd, FAN_MARK_FLUSH, 0, AT_FDCWD, NULL) < 0)
		log_rl_errno(LOG_LEVEL_WARN, errno, "allow_cache: flushing the marks failed");
	else
		c->flushes++;
}

/* A file is marked the second time it is allowed: most files opened once (an extraction,
 * a build's outputs) then cost no mark at all. */
void cache_allow(struct cache *c, int fd, dev_t dev, ino_t ino)
{
	int err;

	if (!c->on || !seen_before(c, dev, ino))
		return;
	/* IGNORE_SURV: writes do not end it (no decision depends on the content);
	 * EVICTABLE: the mark does not pin the inode, memory pressure may drop it. */
	if (fanotify_mark(c->group_fd, FAN_MARK_ADD | FAN_MARK_IGNORE_SURV | FAN_MARK_EVICTABLE,
			  c->mask, fd, NULL) == 0) {
		c->marks++;
		return;
	}
	err = errno;
	c->errors++;
	if (err == ENOSPC) {
		/* The user's mark limit (max_user_marks) is reached: start over. */
		cache_flush(c);
	} else if (err == EINVAL) {
		log_warnx("allow_cache: the kernel refuses evictable ignore marks; cache off");
		c->on = false;
	} else {
		log_rl_errno(LOG_LEVEL_WARN, err, "allow_cache: cannot mark a file");
	}
}

void cache_stats(const struct cache *c, struct stats *s)
{
	s->cache_marks = c->marks;
	s->cache_errors = c->errors;
	s->cache_flushes = c->flushes;
}
