/*
 * fan.h - fanotify groups, marks, ignore marks, feature probes, answers.
 */
#ifndef FANOTIFYD_FAN_H
#define FANOTIFYD_FAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event.h"

#define FAN_FS_MAX 64		/* distinct filesystems we mark */
#define FAN_VIEWS_MAX 8		/* mounts per filesystem used to name its objects */
#define FAN_SCOPES_MAX 256	/* --mount / --watch scopes used to filter a filesystem mark */

/* A scope that limits which directory-entry events of a filtered filesystem are kept. */
struct fan_scope {
	char *path;		/* owned; absolute, no trailing '/' except "/" itself */
	bool tree;		/* true: anything under path (--mount); false: path or its
				 * direct entries (--watch) */
};

/* One filesystem that holds a mark: the fd used to decode its file handles. */
struct fan_fs {
	uint64_t fsid;
	int view_fd[FAN_VIEWS_MAX];	/* owned; O_RDONLY fds on marked directories, one per
					 * distinct mount, in the order of the marks */
	uint64_t view_mnt_id[FAN_VIEWS_MAX];
	size_t n_views;
	bool whole_view;	/* a view through a mount of the filesystem's root was added */
	unsigned dev_major, dev_minor;
	bool filtered;		/* its directory-entry events come from a filesystem mark added
				 * for --mount, so only events inside a scope are kept */
	bool real_fs_mark;	/* the user asked for --filesystem on it */
};

struct fan {
	int fid_fd;		/* FID notification group, or -1 */
	int fd_fd;		/* FD-mode group (observe --no-fid, or permission), or -1 */
	bool fd_is_perm;	/* fd_fd is a FAN_CLASS_CONTENT group */
	bool pidfd;		/* the groups report pidfds (FAN_REPORT_PIDFD) */
	uint64_t fid_mask;	/* events asked of the FID group */
	uint64_t fd_mask;	/* events asked of the FD group */
	struct fan_fs fs[FAN_FS_MAX];
	size_t n_fs;
	struct fan_scope scopes[FAN_SCOPES_MAX];
	size_t n_scopes;
};

/* Sets f to "nothing open". */
void fan_init(struct fan *f);

/*
 * Creates the groups the config needs and adds every mark. On failure returns negative
 * errno with "PATH: reason" (or the group's error) in msg; whatever was opened stays in f
 * for fan_close(). Says at -v which group serves which mark, and at notice level which
 * events a mark cannot deliver on this kernel.
 */
int fan_open(struct fan *f, const struct config *c, char *msg, size_t msg_len);

/*
 * Puts an ignore mark for every event on the file open at fd, in every group, surviving
 * modification (FAN_MARK_IGNORED_SURV_MODIFY), so the daemon's own output never reaches
 * userspace. Returns 0 or negative errno. Safe to call from the output thread.
 */
int fan_ignore_fd(const struct fan *f, int fd);

/*
 * A path a reload needs marked or unmarked, made ready by fan_watch_prepare() in the reload
 * reader thread: every lookup, stat and open that could wait on a filesystem (a permission
 * mark, FUSE, NFS) happens there, never on the loop thread that answers permission events.
 * The loop marks the object through /proc/self/fd/N of path_fd, a link that resolves to
 * the object without a lookup on its filesystem.
 */
struct fan_watch {
	enum config_mark_kind kind;	/* CONFIG_MARK_INODE for a --watch */
	char *path;		/* owned; absolute, resolved */
	int path_fd;		/* owned; O_PATH on the object; -1 = not prepared */
	int view_fd;		/* owned; O_RDONLY on it (or its directory) for file handles;
				 * -1 = none */
	bool is_dir;
	uint64_t fsid, mnt_id;
	unsigned dev_major, dev_minor;
	char *mount_point;	/* owned; a mount mark's mount point (its scope), or NULL */
	int whole_fd;		/* owned; with a view, one through a mount of the filesystem's
				 * root when the view is not one (as fan_open() adds); -1 = none */
	uint64_t whole_mnt_id;	/* that mount's id; 0 = no mount of the root was found */
};

/* Off the loop thread: opens path (O_PATH), stats it and, when full, opens a view fd for
 * its filesystem (FID mode). Returns 0 or negative errno; w is fan_watch_free()-able
 * either way. */
int fan_watch_prepare(struct fan_watch *w, const char *path, bool full);

/*
 * The same for a --mount or --filesystem mark (kind): its ids always (a mark the running
 * config has is matched by them), a mount mark's mount point (from mountinfo) in FID
 * mode, and a view when view. Returns 0 or negative errno.
 */
int fan_mark_prepare(struct fan_watch *w, enum config_mark_kind kind, const char *path,
		     bool fid, bool view);

/*
 * On a live daemon, for a reload: places every mount and filesystem mark, in every group,
 * that the marks in now need and the marks in before do not (as fan_open() would: a
 * --mount in FID mode takes a filesystem mark in the FID group for its directory-entry
 * events). A kernel mark two marks share (a mount reached through two paths, the FID
 * group's filesystem mark) is matched by its mount or device id. Needs CAP_SYS_ADMIN
 * effective. Returns 0 or negative errno with the reason in msg; on failure, what it
 * placed is taken back (fan_marks_remove(f, now, before)).
 */
int fan_marks_add(struct fan *f, const struct fan_watch *before, size_t n_before,
		  const struct fan_watch *now, size_t n_now, char *msg, size_t msg_len);

/* Removes what before needs and now does not: a shared kernel mark goes only when no mark
 * of now needs it, and only the events none needs. Needs CAP_SYS_ADMIN effective. Best
 * effort, logged; returns 0 or the last negative errno. */
int fan_marks_remove(struct fan *f, const struct fan_watch *before, size_t n_before,
		     const struct fan_watch *now, size_t n_now);

/* After both: takes the views of now's new marks (their view fds), and makes the --mount
 * scopes and each filesystem's filtering follow now, every mount and filesystem mark of
 * the new config. */
void fan_marks_commit(struct fan *f, struct fan_watch *now, size_t n_now);

/* Closes and frees what w holds; safe on a zeroed or freed one (path_fd -1 or 0 fields). */
void fan_watch_free(struct fan_watch *w);

/*
 * On a live daemon: adds the inode marks of a --watch (as fan_open() would) in every group,
 * its scope, and its filesystem's view (taking w->view_fd). Returns 0 or negative errno
 * with the reason in msg; on failure nothing of it stays marked.
 */
int fan_watch_add(struct fan *f, struct fan_watch *w, char *msg, size_t msg_len);

/* Removes a --watch's inode marks and scope. keep_move_self: the object is still a
 * directory above another watch, so its FAN_MOVE_SELF mark stays. Returns 0 or -errno. */
int fan_watch_remove(struct fan *f, const struct fan_watch *w, bool keep_move_self);

/* Adds (or removes) the FAN_MOVE_SELF mark on a directory at or above a --watch (as
 * fan_open() does for every one): best effort, logged. */
void fan_move_mark(const struct fan *f, const struct fan_watch *w, bool add);

/* Writes the answer to a permission event without closing its fd. Returns 0 or -errno.
 * Called only by pipeline.c's respond(), which answers each event exactly once. */
int fan_respond(int group_fd, int fd, bool allow);

/* The filesystem an event's fsid belongs to, or NULL. */
const struct fan_fs *fan_fs_find(const struct fan *f, uint64_t fsid);

/* True when a directory-entry event at path (dir: its parent directory's path) on fs must be
 * dropped because fs is marked only to serve a --mount and path lies outside every scope, or
 * is unknown (then nothing shows it lies inside). */
bool fan_out_of_scope(const struct fan *f, const struct fan_fs *fs, const char *path,
		      const char *dir);

/* Closes the groups (the kernel allows any pending permission event) and fds; idempotent. */
void fan_close(struct fan *f);

#endif
