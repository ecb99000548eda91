/*
 * priv.c - owns the daemon's privileges after set-up and the credentials of its hooks.
 *
 * Once the marks, the output file and the socket are in place, the daemon needs only a
 * few capabilities (each found by experiment; README "Privileges"):
 *   CAP_DAC_READ_SEARCH  open_by_handle_at() (FID mode); ignore marks of --allow-cache on
 *                        files the daemon could not read (fanotify_mark() checks MAY_READ)
 *   CAP_SYS_PTRACE       readlink /proc/PID/exe of another user's process, or of one whose
 *                        capabilities are not a subset of ours (any root process)
 *   CAP_KILL             with hook_user: kill a hook of another uid at its timeout
 *   CAP_SETUID/SETGID    with hook_user: the hook child switches to that user
 *   CAP_CHOWN            with output_group: an output file created at a reopen (after a
 *                        rotation) is born in our group and is given that one
 *   CAP_SYS_ADMIN        with --config (keep_admin): permitted, never effective but
 *                        around a reload's fanotify_mark() calls for mount and filesystem
 *                        marks (priv_admin()), and in the loop thread only: the threads it
 *                        starts drop it first (priv_lowered(), priv_thread_lower())
 * Everything else goes, from the bounding, ambient and inheritable sets too; no_new_privs
 * is set, and a seccomp filter answers EPERM (never kills: a hook's shell inherits it) to
 * system calls neither the daemon nor a hook needs. The uid stays 0.
 *
 * Must not: run priv_drop() after a thread is started (capabilities are per thread; the
 * seccomp filter is synchronised to every thread anyway), leave CAP_SYS_ADMIN effective
 * past the marks it is raised for, or call anything but raw system calls in
 * priv_hook_child(), which runs in a forked child of a threaded process.
 * Gets the user name from main.c (config); hands hook.c the credentials through
 * priv_hook_child(). Owns no fds.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"

#define PRIV_PW_BUF_MAX (1u << 20)	/* bytes for getpwnam_r()'s strings; ERANGE beyond */

#define CAP_BIT(c) (UINT64_C(1) << (c))

/* LeakSanitizer stops the process at exit with ptrace() from a helper of its own: a
 * sanitizer build leaves ptrace allowed (the capability rules still apply). */
#if defined(__SANITIZE_ADDRESS__)
#define PRIV_ALLOW_PTRACE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define PRIV_ALLOW_PTRACE 1
#endif
#endif

/* clone()'s flags: the first argument everywhere but on s390 (whose first is the stack). */
#if defined(__s390__) || defined(__s390x__)
#define PRIV_CLONE_FLAGS_ARG 1
#else
#define PRIV_CLONE_FLAGS_ARG 0
#endif

/* setresuid/setresgid/setgroups with 32-bit ids (the plain numbers are 16-bit on i386). */
#ifdef SYS_setresuid32
#define PRIV_SYS_SETRESUID SYS_setresuid32
#define PRIV_SYS_SETRESGID SYS_setresgid32
#define PRIV_SYS_SETGROUPS SYS_setgroups32
#else
#define PRIV_SYS_SETRESUID SYS_setresuid
#define PRIV_SYS_SETRESGID SYS_setresgid
#define PRIV_SYS_SETGROUPS SYS_setgroups
#endif

/*
 * Refused with EPERM. Neither the daemon (after set-up) nor a hook's shell calls these; each
 * changes the system, reaches into another process or the kernel, or widens what a
 * compromised daemon or hook could attack. Names libseccomp does not know are skipped.
 */
static const char *const refused[] = {
	/* mounts and the root directory */
	"mount", "umount", "umount2", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick",
	"open_tree", "mount_setattr", "pivot_root", "chroot",
	/* namespaces (clone() with CLONE_NEW* flags: below) */
	"unshare", "setns",
	/* kernel code, kernel state, devices */
	"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "bpf",
	"perf_event_open", "reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
	"syslog", "sethostname", "setdomainname", "vhangup", "iopl", "ioperm",
	/* other processes' memory */
#ifndef PRIV_ALLOW_PTRACE
	"ptrace",
#endif
	"process_vm_readv", "process_vm_writev",
	/* the kernel keyring */
	"keyctl", "add_key", "request_key",
	/* the clocks */
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "stime",
	/* page-fault handling in user space; io_uring, whose operations seccomp never sees */
	"userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
	/* a new fanotify listener: the daemon's groups are all open already */
	"fanotify_init",
};

static const uint64_t clone_ns_flags[] = {
	0x00020000, /* CLONE_NEWNS */
	0x02000000, /* CLONE_NEWCGROUP */
	0x04000000, /* CLONE_NEWUTS */
	0x08000000, /* CLONE_NEWIPC */
	0x10000000, /* CLONE_NEWUSER */
	0x20000000, /* CLONE_NEWPID */
	0x40000000, /* CLONE_NEWNET */
};

static const struct {
	int cap;
	const char *name;
} cap_names[] = {
	{ CAP_CHOWN, "CAP_CHOWN" },
	{ CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH" },
	{ CAP_KILL, "CAP_KILL" },
	{ CAP_SETGID, "CAP_SETGID" },
	{ CAP_SETUID, "CAP_SETUID" },
	{ CAP_SYS_PTRACE, "CAP_SYS_PTRACE" },
};

/* The caller's effective, permitted and inheritable sets. */
struct caps {
	uint64_t effective, permitted, inheritable;
};

static int lookup_user(const char *user, struct passwd *pw, char **ret_buf)
{
	struct passwd *found = NULL;
	size_t len = 1024;
	char *buf = NULL, *end;
	unsigned long id;
	int r;

	for (;;) {
		char *nbuf = realloc(buf, len);

		if (!nbuf) {
			free(buf);
			return -ENOMEM;
		}
		buf = nbuf;
		r = getpwnam_r(user, pw, buf, len, &found);
		/* A number that names no user is taken as a uid, as chown(1) does. */
		errno = 0;
		id = strtoul(user, &end, 10);
		if (r == 0 && !found && user[0] >= '0' && user[0] <= '9' && !*end && !errno &&
		    id < (uid_t)-1)
			r = getpwuid_r((uid_t)id, pw, buf, len, &found);
		if (r != ERANGE || len >= PRIV_PW_BUF_MAX)
			break;
		len *= 2;
	}
	if (r == 0 && found) {
		*ret_buf = buf;
		return 0;
	}
	free(buf);
	return r ? -r : -ENOENT;
}

int priv_init(struct priv *p, const char *user, char *msg, size_t msg_len)
{
	struct passwd pw;
	char *buf = NULL;
	int n = PRIV_GROUPS_MAX;
	int r;

	memset(p, 0, sizeof(*p));
	if (!user)
		return 0;
	r = lookup_user(user, &pw, &buf);
	if (r < 0) {
		if (r == -ENOENT)
			snprintf(msg, msg_len, "hook_user: no such user: %s", user);
		else
			snprintf(msg, msg_len, "hook_user: %s: %s", user, strerror(-r));
		return r;
	}
	if (getgrouplist(pw.pw_name, pw.pw_gid, p->groups, &n) < 0) {
		snprintf(msg, msg_len, "hook_user: %s: in more than %u groups", user,
			 PRIV_GROUPS_MAX);
		free(buf);
		return -E2BIG;
	}
	p->n_groups = (size_t)n;
	p->uid = pw.pw_uid;
	p->gid = pw.pw_gid;
	p->hook_user = true;
	free(buf);
	return 0;
}

static int caps_get(struct caps *ret)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct c[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, c) < 0)
		return -errno;
	ret->effective = (uint64_t)c[1].effective << 32 | c[0].effective;
	ret->permitted = (uint64_t)c[1].permitted << 32 | c[0].permitted;
	ret->inheritable = (uint64_t)c[1].inheritable << 32 | c[0].inheritable;
	return 0;
}

/* The calling thread's sets (capabilities are per thread). */
static int caps_set(const struct caps *k)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct c[_LINUX_CAPABILITY_U32S_3] = {
		{ .effective = (uint32_t)k->effective, .permitted = (uint32_t)k->permitted,
		  .inheritable = (uint32_t)k->inheritable },
		{ .effective = (uint32_t)(k->effective >> 32),
		  .permitted = (uint32_t)(k->permitted >> 32),
		  .inheritable = (uint32_t)(k->inheritable >> 32) },
	};

	return syscall(SYS_capset, &h, c) < 0 ? -errno : 0;
}

/* Empties the bounding set (needs CAP_SETPCAP): nothing exec'd from here, a root hook
 * included, can gain a capability. The daemon itself never execs. */
static int bounding_clear(void)
{
	for (unsigned long cap = 0; cap < 64; cap++) {
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (r < 0)
			return 0; /* EINVAL: past the kernel's last capability */
		if (r == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -errno;
	}
	return 0;
}

static int seccomp_install(unsigned *ret_refused)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	unsigned n = 0;
	int r;

	if (!ctx)
		return -ENOMEM;
	/* Every thread; and the 32-bit ABIs too, or int 0x80 would walk around the filter
	 * (a process of an ABI not added here is killed: libseccomp's default). */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
#if defined(__x86_64__)
	if (r == 0)
		r = seccomp_arch_add(ctx, SCMP_ARCH_X86);
	if (r == 0)
		r = seccomp_arch_add(ctx, SCMP_ARCH_X32);
#elif defined(__aarch64__)
	if (r == 0)
		r = seccomp_arch_add(ctx, SCMP_ARCH_ARM);
#endif
	for (size_t i = 0; r == 0 && i < sizeof(refused) / sizeof(refused[0]); i++) {
		int nr = seccomp_syscall_resolve_name(refused[i]);

		if (nr == __NR_SCMP_ERROR) {
			log_debug("seccomp: %s unknown to libseccomp, not filtered", refused[i]);
			continue;
		}
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		n++;
	}
	for (size_t i = 0; r == 0 && i < sizeof(clone_ns_flags) / sizeof(clone_ns_flags[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_CMP(PRIV_CLONE_FLAGS_ARG, SCMP_CMP_MASKED_EQ,
					      clone_ns_flags[i], clone_ns_flags[i]));
	/* clone3() passes its flags in memory, out of a filter's reach: ENOSYS makes glibc
	 * fall back to clone(), whose flags are checked above. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r == 0)
		*ret_refused = n + 2;
	return r < 0 ? r : 0;
}

int priv_drop(struct priv *p, bool handles, bool hooks, char *msg, size_t msg_len)
{
	uint64_t want = CAP_BIT(CAP_SYS_PTRACE);
	struct caps now = { 0 }, set = { 0 };
	char names[160] = "";
	unsigned n_refused = 0;
	int r;

	if (handles)
		want |= CAP_BIT(CAP_DAC_READ_SEARCH);
	if (hooks && p->hook_user)
		want |= CAP_BIT(CAP_KILL) | CAP_BIT(CAP_SETUID) | CAP_BIT(CAP_SETGID);
	if (p->keep_chown)
		want |= CAP_BIT(CAP_CHOWN);
	r = caps_get(&now);
	if (r < 0) {
		snprintf(msg, msg_len, "capget: %s", strerror(-r));
		return r;
	}
	if (now.effective & CAP_BIT(CAP_SETPCAP)) {
		r = bounding_clear();
		if (r < 0) {
			snprintf(msg, msg_len, "cannot drop the capability bounding set: %s",
				 strerror(-r));
			return r;
		}
	} else {
		log_info("privileges: no CAP_SETPCAP, the bounding set stays");
	}
	/* EINVAL: a kernel before 4.3 has no ambient set to clear. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		r = -errno;
		snprintf(msg, msg_len, "cannot clear the ambient capabilities: %s", strerror(-r));
		return r;
	}
	p->kept = want & now.permitted; /* what we never had cannot be kept */
	/* Permitted only: a capset() must raise it, which nothing but priv_admin() does, and
	 * the empty bounding set and inheritable set pass it to no exec'd program. */
	p->admin = p->keep_admin && (now.permitted & CAP_BIT(CAP_SYS_ADMIN));
	set.effective = p->kept;
	set.permitted = p->kept | (p->admin ? CAP_BIT(CAP_SYS_ADMIN) : 0);
	r = caps_set(&set);
	if (r < 0) {
		snprintf(msg, msg_len, "capset: %s", strerror(-r));
		return r;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		r = -errno;
		snprintf(msg, msg_len, "no_new_privs: %s", strerror(-r));
		return r;
	}
	r = seccomp_install(&n_refused);
	if (r == -EOPNOTSUPP || r == -ENOSYS) {
		/* A kernel without seccomp filters, or valgrind, which cannot run them: say
		 * so and go on with the capabilities and no_new_privs above. */
		log_errno(LOG_LEVEL_WARN, r, "seccomp filter unavailable here, running without it");
	} else if (r < 0) {
		snprintf(msg, msg_len, "seccomp filter: %s", strerror(-r));
		return r;
	}
	p->dropped = true;
	for (size_t i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
		if (p->kept & CAP_BIT(cap_names[i].cap)) {
			size_t len = strlen(names);

			snprintf(names + len, sizeof(names) - len, "%s%s", len ? " " : "",
				 cap_names[i].name);
		}
	log_info("privileges: kept %s%s; no_new_privs; seccomp refuses %u system calls",
		 names[0] ? names : "no capability",
		 p->admin ? "; CAP_SYS_ADMIN permitted, not effective, in the loop thread only "
			    "(raised for a reload's mount and filesystem marks)" : "",
		 n_refused);
	if (p->keep_admin && !p->admin)
		log_info("privileges: no CAP_SYS_ADMIN to keep: a reload cannot change mount "
			 "or filesystem marks");
	return 0;
}

int priv_admin(const struct priv *p, bool on)
{
	struct caps k;
	int r;

	if (!p->admin)
		return -EPERM;
	r = caps_get(&k);
	if (r < 0)
		return r;
	if (on)
		k.effective |= CAP_BIT(CAP_SYS_ADMIN);
	else
		k.effective &= ~CAP_BIT(CAP_SYS_ADMIN);
	return caps_set(&k);
}

int priv_thread_lower(void)
{
	struct caps k;
	int r = caps_get(&k);

	if (r < 0)
		return r;
	if (!((k.permitted | k.effective) & CAP_BIT(CAP_SYS_ADMIN)))
		return 0;
	k.permitted &= ~CAP_BIT(CAP_SYS_ADMIN);
	k.effective &= ~CAP_BIT(CAP_SYS_ADMIN);
	return caps_set(&k);
}

struct lowered {
	int (*fn)(void *arg);
	void *arg;
	int r;
};

static void *lowered_thread(void *arg)
{
	struct lowered *l = arg;

	l->r = priv_thread_lower();
	if (l->r == 0)
		l->r = l->fn(l->arg);
	return NULL;
}

int priv_lowered(const struct priv *p, int (*fn)(void *arg), void *arg)
{
	struct lowered l = { .fn = fn, .arg = arg, .r = 0 };
	pthread_t t;
	int e;

	if (!p->admin)
		return fn(arg);
	/* A thread starts with its creator's capabilities: the threads fn starts are
	 * created by one that has given CAP_SYS_ADMIN up for good. */
	e = pthread_create(&t, NULL, lowered_thread, &l);
	if (e)
		return -e;
	e = pthread_join(t, NULL);
	return e ? -e : l.r;
}

int priv_hook_child(const void *arg)
{
	const struct priv *p = arg;
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = { { 0 } };

	/* Raw system calls: glibc's set*id() would also signal every other thread of the
	 * process (there is none in this child), and are not async-signal-safe. Groups
	 * first, uid last: each step needs the capabilities the next one gives up. A uid
	 * change from 0 clears the permitted, effective and ambient sets. */
	if (p->hook_user &&
	    (syscall(PRIV_SYS_SETGROUPS, p->n_groups, p->groups) < 0 ||
	     syscall(PRIV_SYS_SETRESGID, p->gid, p->gid, p->gid) < 0 ||
	     syscall(PRIV_SYS_SETRESUID, p->uid, p->uid, p->uid) < 0))
		return -errno;
	/* A root hook too: with the bounding set empty and no_new_privs, exec gives it
	 * none back. */
	if (syscall(SYS_capset, &h, none) < 0)
		return -errno;
	return 0;
}
