/*
 * fan.c - owns the fanotify group fds, the per-filesystem fds used to decode file handles,
 * and the scopes that filter filesystem marks added on behalf of --mount.
 *
 * Must not: read events (pipeline.c does), log on the answering path, or open anything
 * after the marks are in place (a permission mark on a filesystem we open from would make
 * the daemon wait for its own verdict).
 *
 * Groups (DESIGN.md "fanotify groups and marks"):
 *   observe, FID (default): one FAN_CLASS_NOTIF group reporting DFID_NAME + FID.
 *   observe, --no-fid:      one FAN_CLASS_NOTIF group in FD mode.
 *   --perm:                 one FAN_CLASS_CONTENT group in FD mode for the permission
 *                           events only, plus (unless --no-fid) an FID group for every
 *                           other event, as in observe mode; with --no-fid the content
 *                           group also takes the path events (MODIFY, CLOSE_WRITE...).
 * The kernel refuses directory-entry events (CREATE, DELETE, RENAME, ATTRIB) on mount marks
 * of FID groups and on every mark of FD groups (fs/notify/fanotify/fanotify_user.c, still so
 * on 6.18). For --mount in an FID group they come from a filesystem mark on the same
 * filesystem, and pipeline.c keeps only those inside the mount (fan_out_of_scope()).
 *
 * fan_respond() writes a permission response; pipeline.c's respond() is its only caller.
 *
 * A reload (reload.c) changes marks through fds its reader thread opened: fan_watch_*() for
 * --watch, fan_marks_*() for --mount and --filesystem, whose kernel marks are matched by
 * group and mount id or device, so that one two config lines share stays while either
 * needs it. fan_marks_add() and fan_marks_remove() need CAP_SYS_ADMIN effective: reload.c
 * raises it around them (priv_admin(); fan.c may not include priv.h, its own layer).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "compat.h"
#include "fan.h"
#include "fdio.h"
#include "log.h"
#include "record.h"

/* Events an FD group can receive ("path events"), and the ones that need FID reporting. */
#define FAN_PATH_EVENTS                                                                      \
	(FAN_ACCESS | FAN_MODIFY | FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE | FAN_OPEN | FAN_OPEN_EXEC)
#define FAN_DIRENT_EVENTS (FAN_ATTRIB | FAN_CREATE | FAN_DELETE | FAN_RENAME)
/* fanotify_init(2): every group this daemon makes (FID, permission, mount and filesystem
 * marks) needs CAP_SYS_ADMIN in the initial user namespace; EPERM means we lack it. */
#define FAN_NEEDS_ROOT " (fanotify needs root or CAP_SYS_ADMIN)"

void fan_init(struct fan *f)
{
	memset(f, 0, sizeof(*f));
	f->fid_fd = -1;
	f->fd_fd = -1;
}

static int group_init(unsigned class_flags, bool fid, bool *ret_pidfd)
{
	unsigned flags = class_flags | FAN_CLOEXEC | FAN_NONBLOCK;
	int fd;

	if (fid)
		flags |= FAN_REPORT_DFID_NAME | FAN_REPORT_FID;
	/* FAN_REPORT_PIDFD (5.15) tells a live process from one whose pid may be reused. FD
	 * groups go without: their permission events pin the process, their other events
	 * are served by the proc connector, and a pidfd is one more fd per event to create,
	 * count against RLIMIT_NOFILE and close. */
	if (!fid) {
		*ret_pidfd = false;
		fd = fanotify_init(flags, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	fd = fanotify_init(flags | FAN_REPORT_PIDFD, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (fd >= 0) {
		*ret_pidfd = true;
		return fd;
	}
	if (errno != EINVAL)
		return -errno;
	*ret_pidfd = false;
	fd = fanotify_init(flags, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* An fd on the directory path names (or that holds the file path names). open_by_handle_at()
 * wants a real fd on the filesystem: fdget() refuses O_PATH. */
static int open_view(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 && errno == ENOTDIR) {
		char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;

		if (!dir)
			return -ENOMEM;
		if (slash)
			*(slash == dir ? slash + 1 : slash) = '\0';
		fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		free(dir);
	}
	return fd < 0 ? -errno : fd;
}

/*
 * The filesystem holding path, with a view (an fd on its mount) for each distinct mount the
 * marks reach it through: a handle is turned into a path through the first view that can
 * name the object (a bind mount of a subdirectory cannot name what lies outside it).
 */
static int fs_add(struct fan *f, const char *path, struct fan_fs **ret)
{
	struct statx stx;
	struct statfs sfs;
	struct fan_fs *fs = NULL;
	uint64_t fsid;
	int fd;

	if (statfs(path, &sfs) < 0)
		return -errno;
	if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &stx) < 0)
		return -errno;
	if (!(stx.stx_mask & STATX_MNT_ID))
		stx.stx_mnt_id = 0;
	fsid = (uint64_t)(uint32_t)sfs.f_fsid.__val[0] |
	       (uint64_t)(uint32_t)sfs.f_fsid.__val[1] << 32;
	for (size_t i = 0; i < f->n_fs; i++)
		if (f->fs[i].fsid == fsid)
			fs = &f->fs[i];
	if (!fs) {
		if (f->n_fs == FAN_FS_MAX)
			return -ENOSPC;
		fs = &f->fs[f->n_fs++];
		fs->fsid = fsid;
		fs->dev_major = stx.stx_dev_major;
		fs->dev_minor = stx.stx_dev_minor;
	}
	*ret = fs;
	for (size_t i = 0; i < fs->n_views; i++)
		if (fs->view_mnt_id[i] == stx.stx_mnt_id)
			return 0;
	if (fs->n_views == FAN_VIEWS_MAX)
		return 0; /* enough ways in; objects only the others can name stay unnamed */
	fd = open_view(path);
	if (fd < 0)
		return fd;
	fs->view_fd[fs->n_views] = fd;
	fs->view_mnt_id[fs->n_views++] = stx.stx_mnt_id;
	return 0;
}

/* Turns a mountinfo field's \ooo escapes back into bytes, in place. */
static void unescape_mountinfo(char *s)
{
	char *o = s;

	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

/* One line of /proc/self/mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT ...". */
struct mountinfo {
	unsigned long long id;
	unsigned maj, min;
	char root[4096];	/* unescaped */
	char mp[4096];		/* unescaped */
};

/*
 * Calls fn for each mount of this namespace until fn returns nonzero. Returns what fn
 * returned, 0 when every line was read, or negative errno if mountinfo cannot be opened.
 */
static int mountinfo_walk(int (*fn)(const struct mountinfo *m, void *arg), void *arg)
{
	struct mountinfo m;
	char line[8192];
	FILE *fp = fopen("/proc/self/mountinfo", "re");
	int r = 0;

	if (!fp)
		return -errno;
	while (!r && fgets(line, sizeof(line), fp)) {
		/* ' ', '\t', '\n' and '\\' in ROOT and MOUNTPOINT are written as \ooo. */
		if (sscanf(line, "%llu %*u %u:%u %4095s %4095s", &m.id, &m.maj, &m.min, m.root,
			   m.mp) != 5)
			continue;
		unescape_mountinfo(m.root);
		unescape_mountinfo(m.mp);
		r = fn(&m, arg);
	}
	(void)fclose(fp); /* read-only */
	return r;
}

/*
 * After the marked views, one view per filesystem through a mount of its root, if this
 * namespace has one: it names objects outside every marked bind mount (which a filesystem
 * mark reports, and which a --mount scope must be able to tell apart).
 */
static int add_whole_view(const struct mountinfo *m, void *arg)
{
	struct fan *f = arg;

	if (strcmp(m->root, "/") != 0)
		return 0;
	for (size_t i = 0; i < f->n_fs; i++) {
		struct fan_fs *fs = &f->fs[i];
		bool have = false;
		int fd;

		if (fs->dev_major != m->maj || fs->dev_minor != m->min || fs->whole_view ||
		    fs->n_views == FAN_VIEWS_MAX)
			continue;
		for (size_t v = 0; v < fs->n_views; v++)
			have |= fs->view_mnt_id[v] == m->id;
		fs->whole_view = true;
		if (have)
			continue; /* a marked view is already the whole filesystem */
		fd = open_view(m->mp);
		if (fd < 0)
			continue; /* over-mounted or gone: the marked views still serve */
		fs->view_fd[fs->n_views] = fd;
		fs->view_mnt_id[fs->n_views++] = m->id;
	}
	return 0;
}

struct mount_point_query {
	uint64_t mnt_id;
	char *out;
	size_t out_len;
};

static int mount_point_match(const struct mountinfo *m, void *arg)
{
	struct mount_point_query *q = arg;
	size_t n = strlen(m->mp);

	if (m->id != q->mnt_id)
		return 0;
	if (n >= q->out_len)
		return -ENOENT;
	memcpy(q->out, m->mp, n + 1);
	return 1;
}

/* The mount point of mount mnt_id, from /proc/self/mountinfo. */
static int mount_point_by_id(uint64_t mnt_id, char *out, size_t out_len)
{
	struct mount_point_query q = { .mnt_id = mnt_id, .out = out, .out_len = out_len };
	int r = mountinfo_walk(mount_point_match, &q);

	return r > 0 ? 0 : r == 0 ? -ENOENT : r;
}

/* The mount point of the mount holding path. */
static int mount_point_of(const char *path, char *out, size_t out_len)
{
	struct statx stx;

	if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &stx) < 0)
		return -errno;
	if (!(stx.stx_mask & STATX_MNT_ID))
		return -EOPNOTSUPP;
	return mount_point_by_id(stx.stx_mnt_id, out, out_len);
}

static int scope_add(struct fan *f, const char *path, bool tree)
{
	char *p;
	size_t n;

	if (f->n_scopes == FAN_SCOPES_MAX)
		return -ENOSPC;
	p = strdup(path);
	if (!p)
		return -ENOMEM;
	n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	f->scopes[f->n_scopes].path = p;
	f->scopes[f->n_scopes].tree = tree;
	f->n_scopes++;
	return 0;
}

/* msg for a mark that could not be added: path, what, why, and a hint where there is one. */
static void mark_failed(int r, unsigned flags, const char *path, const char *what, char *msg,
			size_t msg_len)
{
	if (r == -EXDEV || r == -ENODEV || r == -EOPNOTSUPP)
		snprintf(msg, msg_len,
			 "%s: cannot add %s: %s (the filesystem cannot report file handles; "
			 "--no-fid uses FD mode)",
			 path, what, strerror(-r));
	else if (r == -EINVAL && (flags & FAN_MARK_FILESYSTEM))
		snprintf(msg, msg_len, "%s: cannot add %s: %s (kernel without filesystem marks?)",
			 path, what, strerror(-r));
	else
		snprintf(msg, msg_len, "%s: cannot add %s: %s", path, what, strerror(-r));
}

static int mark(int group, unsigned flags, uint64_t mask, const char *path, const char *what,
		char *msg, size_t msg_len)
{
	char names[512];

	if (fanotify_mark(group, FAN_MARK_ADD | flags, mask, AT_FDCWD, path) == 0) {
		record_mask_names(mask, names, sizeof(names));
		log_info("mark %s: %s, events %s", path, what, names);
		return 0;
	}
	int r = -errno;

	mark_failed(r, flags, path, what, msg, msg_len);
	return r;
}

static void say_missing(const char *path, const char *why, uint64_t missing)
{
	char names[512];

	if (!missing)
		return;
	record_mask_names(missing, names, sizeof(names));
	log_notice("%s: %s cannot be delivered (%s)", path, names, why);
}

/*
 * FID groups name objects through cached directory paths (resolve.c), and an inode mark
 * sees nothing of a rename above it: `mv X Y` over a watched X/w would leave every later
 * record saying X/w. A FAN_MOVE_SELF mark on the watched path and on each directory above
 * it reports such a move; pipeline.c then drops the cached paths. Best effort: an ancestor
 * that cannot be marked (another filesystem without file handles) is only logged.
 */
static void mark_ancestors(const struct fan *f, const char *path)
{
	char *p = strdup(path);
	size_t n = p ? strlen(p) : 0;

	if (!p)
		return;
	for (;;) {
		if (fanotify_mark(f->fid_fd, FAN_MARK_ADD, FAN_MOVE_SELF | FAN_ONDIR, AT_FDCWD,
				  p) < 0)
			log_errno(LOG_LEVEL_INFO, errno, "%s: cannot watch it for moves (paths below it "
				  "may go stale if it is renamed)", p);
		if (n <= 1)
			break;
		n = fdio_parent_len(p, n);
		p[n] = '\0';
	}
	free(p);
}

int fan_open(struct fan *f, const struct config *c, char *msg, size_t msg_len)
{
	uint64_t want = c->events;
	uint64_t path_ev = want & FAN_PATH_EVENTS;
	uint64_t dirent_ev = want & FAN_DIRENT_EVENTS;
	bool use_fid = !c->no_fid;
	bool pidfd = false;
	int r;

	if (c->perm) {
		uint64_t perm_ev = 0;

		if (want & FAN_OPEN)
			perm_ev |= FAN_OPEN_PERM;
		if (want & FAN_OPEN_EXEC)
			perm_ev |= FAN_OPEN_EXEC_PERM;
		if (c->access_perm)
			perm_ev |= FAN_ACCESS_PERM;
		/* Opens and execs are reported by their permission events. Everything else
		 * goes to the FID group when there is one: the permission group's reads then
		 * hold only events someone waits on, and no answer queues behind a record. */
		path_ev &= ~(uint64_t)(FAN_OPEN | FAN_OPEN_EXEC);
		f->fd_mask = perm_ev | (use_fid ? 0 : path_ev);
		f->fid_mask = use_fid ? path_ev | dirent_ev : 0;
		f->fd_is_perm = true;
	} else if (use_fid) {
		f->fid_mask = path_ev | dirent_ev;
	} else {
		f->fd_mask = path_ev;
	}
	/*
	 * The FID group first, the permission group after it, on a higher descriptor. When
	 * the daemon dies, its files are released last-opened first: the permission group
	 * goes first and allows every pending event. The other way round, the FID group's
	 * teardown waits for a mark an opener holds while that opener waits for an answer
	 * from the permission group, which is not released yet: openers and the dying daemon
	 * hang (seen on 6.18 with SIGKILL and events pending).
	 */
	if (f->fid_mask) {
		r = group_init(FAN_CLASS_NOTIF, true, &pidfd);
		if (r < 0) {
			snprintf(msg, msg_len, "cannot create fanotify FID group: %s%s", strerror(-r),
				 r == -EINVAL ? " (kernel without FID reporting; try --no-fid)" :
				 r == -EPERM ? FAN_NEEDS_ROOT : "");
			return r;
		}
		f->fid_fd = r;
		f->pidfd = pidfd;
	}
	if (c->perm || f->fd_mask) {
		bool fd_pidfd = false;

		r = group_init(c->perm ? FAN_CLASS_CONTENT : FAN_CLASS_NOTIF, false, &fd_pidfd);
		if (r >= 0 && r < f->fid_fd) {
			/* A lower descriptor was free: move above the FID group's. */
			int hi = fcntl(r, F_DUPFD_CLOEXEC, f->fid_fd + 1);

			(void)close(r); /* a fresh group fd: nothing pending */
			r = hi < 0 ? -errno : hi;
		}
		if (r < 0) {
			if (c->perm)
				snprintf(msg, msg_len, "cannot create permission group: %s%s",
					 strerror(-r),
					 r == -EINVAL ? " (kernel without permission events?)" :
					 r == -EPERM ? FAN_NEEDS_ROOT : "");
			else
				snprintf(msg, msg_len, "cannot create fanotify group: %s%s",
					 strerror(-r), r == -EPERM ? FAN_NEEDS_ROOT : "");
			return r;
		}
		f->fd_fd = r;
		f->pidfd = f->fid_fd >= 0 ? f->pidfd && fd_pidfd : fd_pidfd;
	}
	if (!use_fid)
		say_missing("--no-fid", "the kernel reports directory-entry events only to FID groups",
			    dirent_ev);
	if (!f->pidfd)
		log_info("kernel without FAN_REPORT_PIDFD: pid reuse is detected less reliably");

	/* Every fd we need on a marked filesystem is opened before the first mark: after it,
	 * an open of ours could wait for a permission answer only we can give. */
	for (size_t i = 0; i < c->n_marks; i++) {
		struct fan_fs *fs = NULL;

		r = fs_add(f, c->marks[i].path, &fs);
		if (r < 0) {
			snprintf(msg, msg_len, "%s: %s", c->marks[i].path, strerror(-r));
			return r;
		}
	}
	(void)mountinfo_walk(add_whole_view, f); /* best effort: the marked views serve */

	for (size_t i = 0; i < c->n_marks; i++) {
		const struct config_mark *m = &c->marks[i];
		const char *path = m->path;
		struct fan_fs *fs = NULL;
		struct stat st;

		if (stat(path, &st) < 0) {
			r = -errno;
			snprintf(msg, msg_len, "%s: %s", path, strerror(-r));
			return r;
		}
		r = fs_add(f, path, &fs);
		if (r < 0) {
			snprintf(msg, msg_len, "%s: %s", path, strerror(-r));
			return r;
		}
		switch (m->kind) {
		case CONFIG_MARK_INODE: {
			uint64_t flags = FAN_ONDIR | (S_ISDIR(st.st_mode) ? FAN_EVENT_ON_CHILD : 0);
			/* A file has no entries: the kernel refuses entry events on its mark. */
			uint64_t fid_mask = S_ISDIR(st.st_mode)
						    ? f->fid_mask
						    : f->fid_mask & ~(uint64_t)(FAN_CREATE | FAN_DELETE |
										 FAN_RENAME);

			if (f->fd_fd >= 0 && f->fd_mask) {
				r = mark(f->fd_fd, 0, f->fd_mask | flags, path,
					 f->fd_is_perm ? "inode mark, permission group"
						       : "inode mark, FD group",
					 msg, msg_len);
				if (r < 0)
					return r;
			}
			if (f->fid_fd >= 0 && fid_mask) {
				r = mark(f->fid_fd, 0, fid_mask | flags, path,
					 "inode mark, FID group", msg, msg_len);
				if (r < 0)
					return r;
			}
			r = scope_add(f, path, false);
			if (r < 0) {
				snprintf(msg, msg_len, "%s: %s", path, strerror(-r));
				return r;
			}
			break;
		}
		case CONFIG_MARK_MOUNT: {
			char mp[PATH_MAX];

			if (f->fd_fd >= 0 && f->fd_mask) {
				r = mark(f->fd_fd, FAN_MARK_MOUNT, f->fd_mask | FAN_ONDIR, path,
					 f->fd_is_perm ? "mount mark, permission group"
						       : "mount mark, FD group",
					 msg, msg_len);
				if (r < 0)
					return r;
			}
			if (f->fid_fd < 0)
				break;
			if (f->fid_mask & FAN_PATH_EVENTS) {
				r = mark(f->fid_fd, FAN_MARK_MOUNT,
					 (f->fid_mask & FAN_PATH_EVENTS) | FAN_ONDIR, path,
					 "mount mark, FID group", msg, msg_len);
				if (r < 0)
					return r;
			}
			if (!(f->fid_mask & FAN_DIRENT_EVENTS))
				break;
			r = mount_point_of(path, mp, sizeof(mp));
			if (r < 0) {
				snprintf(msg, msg_len, "%s: cannot find its mount point: %s", path,
					 strerror(-r));
				return r;
			}
			r = mark(f->fid_fd, FAN_MARK_FILESYSTEM,
				 (f->fid_mask & FAN_DIRENT_EVENTS) | FAN_ONDIR, path,
				 "filesystem mark for the mount's directory-entry events, FID group",
				 msg, msg_len);
			if (r < 0) {
				say_missing(path, "mount marks cannot carry them and no filesystem "
						  "mark could be added",
					    f->fid_mask & FAN_DIRENT_EVENTS);
				return r;
			}
			fs->filtered = true;
			r = scope_add(f, mp, true);
			if (r < 0) {
				snprintf(msg, msg_len, "%s: %s", path, strerror(-r));
				return r;
			}
			log_info("%s: directory-entry events kept only under mount point %s", path,
				 mp);
			break;
		}
		case CONFIG_MARK_FILESYSTEM:
			if (f->fd_fd >= 0 && f->fd_mask) {
				r = mark(f->fd_fd, FAN_MARK_FILESYSTEM, f->fd_mask | FAN_ONDIR, path,
					 f->fd_is_perm ? "filesystem mark, permission group"
						       : "filesystem mark, FD group",
					 msg, msg_len);
				if (r < 0)
					return r;
			}
			if (f->fid_fd >= 0) {
				r = mark(f->fid_fd, FAN_MARK_FILESYSTEM, f->fid_mask | FAN_ONDIR, path,
					 "filesystem mark, FID group", msg, msg_len);
				if (r < 0)
					return r;
			}
			fs->real_fs_mark = true;
			break;
		}
	}
	for (size_t i = 0; i < c->n_marks && f->fid_fd >= 0; i++)
		if (c->marks[i].kind == CONFIG_MARK_INODE)
			mark_ancestors(f, c->marks[i].path);
	return 0;
}

struct whole_query {
	unsigned maj, min;
	uint64_t mnt_id;	/* the marked mount */
	uint64_t id;		/* out: a mount of the root, the marked one if it is one */
	char mp[PATH_MAX];
};

static int whole_match(const struct mountinfo *m, void *arg)
{
	struct whole_query *q = arg;

	if (strcmp(m->root, "/") != 0 || m->maj != q->maj || m->min != q->min ||
	    strlen(m->mp) >= sizeof(q->mp))
		return 0;
	if (!q->id || m->id == q->mnt_id) {
		q->id = m->id;
		memcpy(q->mp, m->mp, strlen(m->mp) + 1);
	}
	return m->id == q->mnt_id;
}

/* A mark's whole view (add_whole_view() at start): best effort, the marked view serves. */
static void prepare_whole(struct fan_watch *w)
{
	struct whole_query q = { .maj = w->dev_major, .min = w->dev_minor, .mnt_id = w->mnt_id };
	int fd;

	if (mountinfo_walk(whole_match, &q) < 0 || !q.id)
		return;
	w->whole_mnt_id = q.id;
	if (q.id == w->mnt_id)
		return; /* the marked view is the whole filesystem */
	fd = open_view(q.mp);
	if (fd >= 0)
		w->whole_fd = fd;
}

/* ids: the object's filesystem and mount ids; view: an fd for its handles; mp: its mount
 * point (a mount mark's scope). */
static int prepare(struct fan_watch *w, enum config_mark_kind kind, const char *path, bool ids,
		   bool view, bool mp)
{
	char buf[PATH_MAX];
	struct statx stx;
	struct statfs sfs;
	struct stat st;

	memset(w, 0, sizeof(*w));
	w->path_fd = w->view_fd = w->whole_fd = -1;
	w->kind = kind;
	w->path = strdup(path);
	if (!w->path)
		return -ENOMEM;
	w->path_fd = open(path, O_PATH | O_CLOEXEC);
	if (w->path_fd < 0)
		return -errno;
	if (fstat(w->path_fd, &st) < 0)
		return -errno;
	w->is_dir = S_ISDIR(st.st_mode);
	if (!ids)
		return 0;
	if (fstatfs(w->path_fd, &sfs) < 0)
		return -errno;
	if (statx(w->path_fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0)
		return -errno;
	w->mnt_id = stx.stx_mask & STATX_MNT_ID ? stx.stx_mnt_id : 0;
	w->dev_major = stx.stx_dev_major;
	w->dev_minor = stx.stx_dev_minor;
	w->fsid = (uint64_t)(uint32_t)sfs.f_fsid.__val[0] |
		  (uint64_t)(uint32_t)sfs.f_fsid.__val[1] << 32;
	/* Not found: fan_marks_add() refuses the mark if its scope is needed. */
	if (mp && w->mnt_id && mount_point_by_id(w->mnt_id, buf, sizeof(buf)) == 0) {
		w->mount_point = strdup(buf);
		if (!w->mount_point)
			return -ENOMEM;
	}
	if (!view)
		return 0;
	/* Opened here, where a permission mark only makes the loop answer us (our pid). */
	w->view_fd = open_view(path);
	if (w->view_fd < 0)
		return w->view_fd;
	if (kind != CONFIG_MARK_INODE)
		prepare_whole(w);
	return 0;
}

int fan_watch_prepare(struct fan_watch *w, const char *path, bool full)
{
	return prepare(w, CONFIG_MARK_INODE, path, full, full, false);
}

int fan_mark_prepare(struct fan_watch *w, enum config_mark_kind kind, const char *path,
		     bool fid, bool view)
{
	return prepare(w, kind, path, true, view, kind == CONFIG_MARK_MOUNT && fid);
}

void fan_watch_free(struct fan_watch *w)
{
	free(w->path);
	w->path = NULL;
	free(w->mount_point);
	w->mount_point = NULL;
	if (w->path_fd >= 0)
		(void)close(w->path_fd); /* O_PATH: nothing to flush */
	if (w->view_fd >= 0)
		(void)close(w->view_fd); /* a directory */
	if (w->whole_fd >= 0)
		(void)close(w->whole_fd); /* a directory */
	w->path_fd = w->view_fd = w->whole_fd = -1;
}

/* The object path_fd is open on, as a path the kernel resolves through /proc without a
 * lookup on the object's own filesystem (fanotify_mark() refuses O_PATH fds themselves). */
static void proc_fd_path(int fd, char *out, size_t out_len)
{
	snprintf(out, out_len, "/proc/self/fd/%d", fd);
}

/* The marks fan_open() gives a --watch: [0] FD group, [1] FID group. */
static void watch_masks(const struct fan *f, bool is_dir, uint64_t ret[2])
{
	uint64_t flags = FAN_ONDIR | (is_dir ? FAN_EVENT_ON_CHILD : 0);
	uint64_t fid = is_dir ? f->fid_mask
			      : f->fid_mask & ~(uint64_t)(FAN_CREATE | FAN_DELETE | FAN_RENAME);

	ret[0] = f->fd_fd >= 0 && f->fd_mask ? f->fd_mask | flags : 0;
	ret[1] = f->fid_fd >= 0 && fid ? fid | flags : 0;
}

/* Takes w's view fd for its filesystem when that is a new way in (closes it otherwise). */
static void watch_view(struct fan *f, struct fan_watch *w)
{
	struct fan_fs *fs = NULL;

	for (size_t i = 0; i < f->n_fs; i++)
		if (f->fs[i].fsid == w->fsid)
			fs = &f->fs[i];
	if (!fs && f->n_fs < FAN_FS_MAX) {
		fs = &f->fs[f->n_fs++];
		memset(fs, 0, sizeof(*fs));
		fs->fsid = w->fsid;
		fs->dev_major = w->dev_major;
		fs->dev_minor = w->dev_minor;
	}
	for (size_t i = 0; fs && i < fs->n_views; i++)
		if (fs->view_mnt_id[i] == w->mnt_id)
			fs = NULL;
	if (fs && fs->n_views < FAN_VIEWS_MAX && w->view_fd >= 0) {
		fs->view_fd[fs->n_views] = w->view_fd;
		fs->view_mnt_id[fs->n_views++] = w->mnt_id;
		w->view_fd = -1;
	}
	if (w->view_fd >= 0)
		(void)close(w->view_fd); /* a directory: nothing to flush */
	w->view_fd = -1;
}

int fan_watch_add(struct fan *f, struct fan_watch *w, char *msg, size_t msg_len)
{
	const int groups[2] = { f->fd_fd, f->fid_fd };
	const char *what[2] = { f->fd_is_perm ? "inode mark, permission group"
					      : "inode mark, FD group",
				"inode mark, FID group" };
	char path[64];
	uint64_t masks[2];
	int r;

	if (w->path_fd < 0)
		return -EBADF;
	proc_fd_path(w->path_fd, path, sizeof(path));
	watch_masks(f, w->is_dir, masks);
	for (size_t i = 0; i < 2; i++) {
		if (!masks[i])
			continue;
		r = mark(groups[i], 0, masks[i], path, what[i], msg, msg_len);
		if (r < 0) {
			/* msg names /proc/self/fd/N: say the watched path instead. */
			snprintf(msg, msg_len, "%s: cannot add %s: %s", w->path, what[i],
				 strerror(-r));
			if (i == 1 && masks[0])
				(void)fanotify_mark(groups[0], FAN_MARK_REMOVE, masks[0], AT_FDCWD,
						    path); /* undone: it was just added */
			return r;
		}
	}
	r = scope_add(f, w->path, false);
	if (r < 0) {
		snprintf(msg, msg_len, "%s: %s", w->path, strerror(-r));
		(void)fan_watch_remove(f, w, true); /* keeps a FAN_MOVE_SELF it had before */
		return r;
	}
	if (f->fid_fd >= 0)
		watch_view(f, w);
	log_info("watch %s added", w->path);
	return 0;
}

int fan_watch_remove(struct fan *f, const struct fan_watch *w, bool keep_move_self)
{
	const int groups[2] = { f->fd_fd, f->fid_fd };
	char path[64];
	uint64_t masks[2];
	int r = 0;

	if (w->path_fd < 0)
		return -EBADF;
	proc_fd_path(w->path_fd, path, sizeof(path));
	watch_masks(f, w->is_dir, masks);
	if (masks[1]) {
		/* The same inode mark carries FAN_MOVE_SELF while the object is at or above
		 * a watch: it keeps that and FAN_ONDIR, or loses them too. */
		if (keep_move_self)
			masks[1] &= ~(uint64_t)FAN_ONDIR;
		else
			masks[1] |= FAN_MOVE_SELF;
	}
	for (size_t i = 0; i < 2; i++)
		if (masks[i] && fanotify_mark(groups[i], FAN_MARK_REMOVE, masks[i], AT_FDCWD,
					      path) < 0 && errno != ENOENT)
			r = -errno;
	for (size_t i = 0; i < f->n_scopes; i++) {
		if (!f->scopes[i].tree && strcmp(f->scopes[i].path, w->path) == 0) {
			free(f->scopes[i].path);
			f->scopes[i] = f->scopes[--f->n_scopes];
			break;
		}
	}
	log_info("watch %s removed", w->path);
	return r;
}

void fan_move_mark(const struct fan *f, const struct fan_watch *w, bool add)
{
	char path[64];

	if (f->fid_fd < 0 || w->path_fd < 0)
		return;
	proc_fd_path(w->path_fd, path, sizeof(path));
	if (fanotify_mark(f->fid_fd, add ? FAN_MARK_ADD : FAN_MARK_REMOVE,
			  FAN_MOVE_SELF | FAN_ONDIR, AT_FDCWD, path) < 0 &&
	    (add || errno != ENOENT))
		log_errno(LOG_LEVEL_INFO, errno, "%s: cannot %s it for moves", w->path,
			  add ? "watch" : "stop watching");
}

/* One kernel mark a mount or filesystem mark needs: in a group, on a mount or a
 * filesystem. Marks of a config that reach the same object share it. */
struct kmark {
	int group;
	unsigned type;			/* FAN_MARK_MOUNT or FAN_MARK_FILESYSTEM */
	uint64_t id;			/* the mount's id, or the filesystem's device */
	uint64_t mask;
	const struct fan_watch *via;	/* a mark on the object: its path_fd names it */
	const char *what;
};

static void kmark_need(struct kmark *v, size_t *n, int group, unsigned type, uint64_t id,
		       uint64_t mask, const struct fan_watch *via, const char *what)
{
	if (group < 0 || !(mask & ~(uint64_t)FAN_ONDIR))
		return;
	for (size_t i = 0; i < *n; i++) {
		if (v[i].group == group && v[i].type == type && v[i].id == id) {
			v[i].mask |= mask;
			return;
		}
	}
	v[*n] = (struct kmark){ group, type, id, mask, via, what };
	(*n)++;
}

/* The kernel marks w's mount and filesystem marks need, as fan_open() places them; v has
 * room for three a mark. */
static size_t kmarks_of(const struct fan *f, const struct fan_watch *w, size_t n,
			struct kmark *v)
{
	const uint64_t path_ev = (f->fid_mask & FAN_PATH_EVENTS) | FAN_ONDIR;
	const uint64_t dirent_ev = (f->fid_mask & FAN_DIRENT_EVENTS) | FAN_ONDIR;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct fan_watch *m = &w[i];
		uint64_t dev = (uint64_t)m->dev_major << 32 | m->dev_minor;

		if (m->path_fd < 0)
			continue;
		if (m->kind == CONFIG_MARK_MOUNT) {
			kmark_need(v, &k, f->fd_fd, FAN_MARK_MOUNT, m->mnt_id,
				   f->fd_mask | FAN_ONDIR, m,
				   f->fd_is_perm ? "mount mark, permission group"
						 : "mount mark, FD group");
			kmark_need(v, &k, f->fid_fd, FAN_MARK_MOUNT, m->mnt_id, path_ev, m,
				   "mount mark, FID group");
			kmark_need(v, &k, f->fid_fd, FAN_MARK_FILESYSTEM, dev, dirent_ev, m,
				   "filesystem mark for the mount's directory-entry events, FID "
				   "group");
		} else if (m->kind == CONFIG_MARK_FILESYSTEM) {
			kmark_need(v, &k, f->fd_fd, FAN_MARK_FILESYSTEM, dev,
				   f->fd_mask | FAN_ONDIR, m,
				   f->fd_is_perm ? "filesystem mark, permission group"
						 : "filesystem mark, FD group");
			kmark_need(v, &k, f->fid_fd, FAN_MARK_FILESYSTEM, dev,
				   f->fid_mask | FAN_ONDIR, m, "filesystem mark, FID group");
		}
	}
	return k;
}

/* What of o's object v's marks need (0: none). */
static uint64_t kmark_mask(const struct kmark *v, size_t n, const struct kmark *o)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].group == o->group && v[i].type == o->type && v[i].id == o->id)
			return v[i].mask;
	return 0;
}

/* The kernel marks of both sets; NULL without memory (both freed). */
static struct kmark *kmarks_both(const struct fan *f, const struct fan_watch *a, size_t n_a,
				 const struct fan_watch *b, size_t n_b, size_t *ret_a,
				 size_t *ret_b, struct kmark **ret_vb)
{
	struct kmark *va = calloc(3 * n_a + 1, sizeof(*va));
	struct kmark *vb = calloc(3 * n_b + 1, sizeof(*vb));

	if (!va || !vb) {
		free(va);
		free(vb);
		return NULL;
	}
	*ret_a = kmarks_of(f, a, n_a, va);
	*ret_b = kmarks_of(f, b, n_b, vb);
	*ret_vb = vb;
	return va;
}

int fan_marks_add(struct fan *f, const struct fan_watch *before, size_t n_before,
		  const struct fan_watch *now, size_t n_now, char *msg, size_t msg_len)
{
	struct kmark *b = NULL, *a;
	size_t nb = 0, na = 0;
	char path[64], names[512];
	int r = 0;

	for (size_t i = 0; i < n_now; i++) {
		if (now[i].kind == CONFIG_MARK_MOUNT && !now[i].mount_point &&
		    f->fid_fd >= 0 && (f->fid_mask & FAN_DIRENT_EVENTS)) {
			snprintf(msg, msg_len, "%s: cannot find its mount point", now[i].path);
			return -ENOENT;
		}
	}
	a = kmarks_both(f, now, n_now, before, n_before, &na, &nb, &b);
	if (!a) {
		snprintf(msg, msg_len, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < na; i++) {
		uint64_t add = a[i].mask & ~kmark_mask(b, nb, &a[i]);

		if (!(add & ~(uint64_t)FAN_ONDIR))
			continue; /* the running config's mark has it all already */
		proc_fd_path(a[i].via->path_fd, path, sizeof(path));
		if (fanotify_mark(a[i].group, FAN_MARK_ADD | a[i].type, add, AT_FDCWD, path) < 0) {
			r = -errno;
			mark_failed(r, a[i].type, a[i].via->path, a[i].what, msg, msg_len);
			break;
		}
		record_mask_names(add, names, sizeof(names));
		log_info("mark %s: %s, events %s", a[i].via->path, a[i].what, names);
	}
	free(a);
	free(b);
	/* What this call placed is what now needs and before does not. */
	if (r < 0)
		(void)fan_marks_remove(f, now, n_now, before, n_before);
	return r;
}

int fan_marks_remove(struct fan *f, const struct fan_watch *before, size_t n_before,
		     const struct fan_watch *now, size_t n_now)
{
	struct kmark *a = NULL, *b;
	size_t nb = 0, na = 0;
	char path[64], names[512];
	int r = 0;

	b = kmarks_both(f, before, n_before, now, n_now, &nb, &na, &a);
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < nb; i++) {
		/* FAN_ONDIR goes only with the mark: what now needs of it has it too. */
		uint64_t del = b[i].mask & ~kmark_mask(a, na, &b[i]);

		if (!(del & ~(uint64_t)FAN_ONDIR))
			continue;
		proc_fd_path(b[i].via->path_fd, path, sizeof(path));
		record_mask_names(del, names, sizeof(names));
		if (fanotify_mark(b[i].group, FAN_MARK_REMOVE | b[i].type, del, AT_FDCWD,
				  path) == 0) {
			log_info("mark %s: %s, events %s removed", b[i].via->path, b[i].what,
				 names);
		} else if (errno != ENOENT) {
			/* ENOENT: gone with its mount or filesystem. */
			r = -errno;
			log_warn("%s: cannot remove %s (events %s)", b[i].via->path, b[i].what,
				 names);
		}
	}
	free(a);
	free(b);
	return r;
}

static bool scope_wanted(const struct fan_watch *now, size_t n_now, const char *path)
{
	for (size_t i = 0; i < n_now; i++)
		if (now[i].kind == CONFIG_MARK_MOUNT && now[i].mount_point &&
		    strcmp(now[i].mount_point, path) == 0)
			return true;
	return false;
}

/* After w's view: its filesystem's view through a mount of its root, once per filesystem
 * (taking w->whole_fd, or closing it). */
static void whole_view(struct fan *f, struct fan_watch *w)
{
	struct fan_fs *fs = NULL;
	bool have = false;

	for (size_t i = 0; i < f->n_fs; i++)
		if (f->fs[i].fsid == w->fsid)
			fs = &f->fs[i];
	if (fs && !fs->whole_view && w->whole_mnt_id) {
		fs->whole_view = true;
		for (size_t v = 0; v < fs->n_views; v++)
			have |= fs->view_mnt_id[v] == w->whole_mnt_id;
		if (!have && w->whole_fd >= 0 && fs->n_views < FAN_VIEWS_MAX) {
			fs->view_fd[fs->n_views] = w->whole_fd;
			fs->view_mnt_id[fs->n_views++] = w->whole_mnt_id;
			w->whole_fd = -1;
		}
	}
	if (w->whole_fd >= 0)
		(void)close(w->whole_fd); /* a directory: nothing to flush */
	w->whole_fd = -1;
}

void fan_marks_commit(struct fan *f, struct fan_watch *now, size_t n_now)
{
	bool dirent = f->fid_fd >= 0 && (f->fid_mask & FAN_DIRENT_EVENTS);

	for (size_t i = 0; i < n_now; i++) {
		if (now[i].view_fd < 0)
			continue;
		if (f->fid_fd >= 0) {
			watch_view(f, &now[i]);
			whole_view(f, &now[i]);
		} else {
			fan_watch_free(&now[i]); /* FD mode names objects by their fds */
		}
	}
	/* The --mount scopes: those of now's mount marks, no other. */
	for (size_t i = 0; i < f->n_scopes;) {
		if (f->scopes[i].tree && !(dirent && scope_wanted(now, n_now, f->scopes[i].path))) {
			free(f->scopes[i].path);
			f->scopes[i] = f->scopes[--f->n_scopes];
			continue;
		}
		i++;
	}
	for (size_t i = 0; dirent && i < n_now; i++) {
		bool have = false;

		if (now[i].kind != CONFIG_MARK_MOUNT || !now[i].mount_point)
			continue;
		for (size_t s = 0; s < f->n_scopes && !have; s++)
			have = f->scopes[s].tree && strcmp(f->scopes[s].path, now[i].mount_point) == 0;
		if (!have && scope_add(f, now[i].mount_point, true) < 0)
			log_warnx("%s: no room for its scope: its directory-entry events are dropped",
				  now[i].path);
	}
	for (size_t s = 0; s < f->n_fs; s++) {
		struct fan_fs *fs = &f->fs[s];

		fs->filtered = fs->real_fs_mark = false;
		for (size_t i = 0; i < n_now; i++) {
			if (now[i].fsid != fs->fsid)
				continue;
			if (now[i].kind == CONFIG_MARK_MOUNT && dirent)
				fs->filtered = true;
			else if (now[i].kind == CONFIG_MARK_FILESYSTEM)
				fs->real_fs_mark = true;
		}
	}
}

int fan_ignore_fd(const struct fan *f, int fd)
{
	const int groups[2] = { f->fid_fd, f->fd_fd };
	const uint64_t masks[2] = { f->fid_mask, f->fd_mask };
	int r = 0;

	/* Our own appends raise only FAN_MODIFY. Without SURV_MODIFY the kernel clears an
	 * ignored mask on the first modification, i.e. at once (inspektor-gadget PR #5733). */
	for (size_t i = 0; i < 2; i++) {
		if (groups[i] < 0 || !(masks[i] & FAN_MODIFY))
			continue;
		if (fanotify_mark(groups[i],
				  FAN_MARK_ADD | FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORED_SURV_MODIFY,
				  FAN_MODIFY, fd, NULL) < 0)
			r = -errno;
	}
	return r;
}

int fan_respond(int group_fd, int fd, bool allow)
{
	struct fanotify_response resp = {
		.fd = fd,
		.response = allow ? FAN_ALLOW : FAN_DENY,
	};

	if (write(group_fd, &resp, sizeof(resp)) != (ssize_t)sizeof(resp))
		return -errno;
	return 0;
}

const struct fan_fs *fan_fs_find(const struct fan *f, uint64_t fsid)
{
	for (size_t i = 0; i < f->n_fs; i++)
		if (f->fs[i].fsid == fsid)
			return &f->fs[i];
	return NULL;
}

static bool under(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (n == 1 && root[0] == '/')
		return path[0] == '/';
	return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool fan_out_of_scope(const struct fan *f, const struct fan_fs *fs, const char *path,
		      const char *dir)
{
	if (!fs || !fs->filtered || fs->real_fs_mark)
		return false;
	if (!path)
		return true; /* no view names it, so nothing shows it lies inside the mount */
	for (size_t i = 0; i < f->n_scopes; i++) {
		const struct fan_scope *s = &f->scopes[i];

		if (s->tree ? under(path, s->path)
			    : strcmp(path, s->path) == 0 || (dir && strcmp(dir, s->path) == 0))
			return false;
	}
	return true;
}

void fan_close(struct fan *f)
{
	if (f->fd_fd >= 0)
		(void)close(f->fd_fd); /* closing the group allows pending permission events */
	if (f->fid_fd >= 0)
		(void)close(f->fid_fd);
	f->fd_fd = f->fid_fd = -1;
	for (size_t i = 0; i < f->n_fs; i++) {
		for (size_t v = 0; v < f->fs[i].n_views; v++)
			(void)close(f->fs[i].view_fd[v]); /* directory fds: nothing to flush */
		f->fs[i].n_views = 0;
	}
	f->n_fs = 0;
	for (size_t i = 0; i < f->n_scopes; i++)
		free(f->scopes[i].path);
	f->n_scopes = 0;
}
