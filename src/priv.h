/*
 * priv.h - what the daemon may still do once it is set up: the capabilities it keeps,
 * no_new_privs and a seccomp filter; and the credentials a hook runs with (hook_user).
 */
#ifndef FANOTIFYD_PRIV_H
#define FANOTIFYD_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PRIV_GROUPS_MAX 256		/* supplementary groups of hook_user; more is an error */

struct priv {
	bool hook_user;			/* hooks switch to uid, gid and groups below */
	uid_t uid;
	gid_t gid;
	gid_t groups[PRIV_GROUPS_MAX];
	size_t n_groups;
	bool keep_chown;		/* keep CAP_CHOWN: the output gets output_group at reopens */
	bool keep_admin;		/* keep CAP_SYS_ADMIN permitted, not effective, in the
					 * calling thread: a reload places mount and filesystem
					 * marks with it (priv_admin()) */
	uint64_t kept;			/* capability bits kept by priv_drop() (1 << CAP_X) */
	bool admin;			/* CAP_SYS_ADMIN was kept permitted (keep_admin, and we
					 * had it) */
	bool dropped;			/* priv_drop() succeeded */
};

/*
 * Zeroes p and, if user is not NULL, resolves it (getpwnam_r, getgrouplist) for hooks. Call
 * before any mark is placed: NSS opens /etc/passwd and /etc/group, which a permission mark
 * would make us wait on. Returns 0; -ENOENT (no such user), -E2BIG (more than
 * PRIV_GROUPS_MAX groups) or -ENOMEM, with the message in msg; or another negative errno
 * from NSS.
 */
int priv_init(struct priv *p, const char *user, char *msg, size_t msg_len);

/*
 * Drops every capability the running daemon does not need (from the bounding, ambient and
 * inheritable sets too), sets no_new_privs and installs the seccomp filter, for every
 * thread. Call after the last mark, output file and socket are set up and before any thread
 * is started: capabilities are per thread. handles: the daemon opens file handles
 * (open_by_handle_at) or marks files it may not read (--allow-cache); hooks: hooks run.
 * With p->keep_admin, CAP_SYS_ADMIN stays in the calling thread's permitted set only.
 * Returns 0 or negative errno with the message in msg.
 */
int priv_drop(struct priv *p, bool handles, bool hooks, char *msg, size_t msg_len);

/*
 * Raises CAP_SYS_ADMIN into the calling thread's effective set (on), or lowers it (off).
 * Only the thread priv_drop() ran on has it to raise: the loop thread, around the
 * fanotify_mark() calls of a reload that places or removes mount and filesystem marks.
 * Returns 0, -EPERM when it was not kept, or another negative errno from capset.
 */
int priv_admin(const struct priv *p, bool on);

/*
 * Runs fn(arg) on a short-lived thread whose permitted set lacks CAP_SYS_ADMIN, and waits
 * for it: threads fn starts inherit that set, so only the calling (loop) thread keeps the
 * capability. Without p->admin, calls fn on the calling thread. Returns what fn returned,
 * or negative errno if the thread could not be started or could not drop it.
 */
int priv_lowered(const struct priv *p, int (*fn)(void *arg), void *arg);

/* Drops CAP_SYS_ADMIN from the calling thread's permitted and effective sets (a thread
 * the loop thread started, such as reload's reader). Returns 0 or negative errno. */
int priv_thread_lower(void);

/*
 * In a forked hook child, before exec: switches to hook_user if set and clears every
 * capability. arg is the struct priv. Async-signal-safe (raw system calls only). Returns
 * 0 or negative errno.
 */
int priv_hook_child(const void *arg);

#endif
