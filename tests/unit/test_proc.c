/*
 * test_proc.c - proc.c's cgroup part: the /proc/PID/cgroup parser (cgroup v2 only, hybrid
 * hosts' v1 lines ignored, bytes of a hostile name kept), the interned cgroup table
 * (one string per path, counted references, freed with the last one, bounded at
 * PROC_CGROUPS_MAX and by PROC_CGROUP_PROBE, slots reused after removals), and a lookup
 * of this very process (its cgroup and session id as /proc and getsid() say; an unknown
 * process counted in cgroup_unknown), and the cgroup read lazily after an exec: an exec
 * notice reads the exe and comm, the process's next lookup its cgroup, once; a process gone
 * before that lookup keeps what its fork copied but never the exe it had before the exec.
 *
 * No root: the connector is not opened (nl_fd -1, or one end of a datagram socketpair that
 * the test writes connector messages into), so lookups read /proc, which anyone may for
 * their own processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "compat.h"
#include "log_keep.h"
#include "proc.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct proc *proc_new(void)
{
	struct proc *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->nl_fd = -1;
	return p;
}

static void proc_del(struct proc *p)
{
	proc_close(p);
	proc_close(p); /* twice */
	free(p);
}

static void test_parse_table(void **state)
{
	static const struct {
		const char *name;
		const char *in;
		const char *want; /* NULL: -ENOENT */
	} cases[] = {
		{ "unified host", "0::/user.slice/user-0.slice/session-1.scope\n",
		  "/user.slice/user-0.slice/session-1.scope" },
		{ "root cgroup", "0::/\n", "/" },
		{ "hybrid host: v1 lines first", "9:name=systemd:/\n4:memory:/process_api/8c\n"
		  "1:cpu:/\n0::/jobs.slice/j1.scope\n", "/jobs.slice/j1.scope" },
		{ "v2 line first, v1 after", "0::/a\n1:cpu:/b\n", "/a" },
		{ "no newline at the end", "0::/jobs.slice/j1.scope", "/jobs.slice/j1.scope" },
		{ "pure v1 host: no v2 line", "2:cpuacct:/\n1:cpu:/\n", NULL },
		{ "v1 line whose path looks like v2", "10::/x\n", NULL },
		{ "named v1 hierarchy 0?", "0:name=x:/y\n", NULL },
		{ "empty path", "0::\n", NULL },
		{ "relative path", "0::x\n", NULL },
		{ "empty file", "", NULL },
		{ "quote, backslash, tab, space kept", "0::/s/q\"t\\b\tx y\n", "/s/q\"t\\b\tx y" },
		{ "invalid UTF-8 kept", "0::/s/x\xff\xfey\n", "/s/x\xff\xfey" },
		{ "'0::/' inside a v1 path is not a line start", "3:cpu:/a0::/b\n", NULL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *path = NULL;
		size_t len = 0;
		int r = proc_cgroup_parse(cases[i].in, strlen(cases[i].in), &path, &len);

		if (!cases[i].want) {
			if (r != -ENOENT)
				fail_msg("%s: got %d, want -ENOENT", cases[i].name, r);
			continue;
		}
		if (r != 0 || len != strlen(cases[i].want) || memcmp(path, cases[i].want, len))
			fail_msg("%s: got %d '%.*s', want '%s'", cases[i].name, r, (int)len,
				 path ? path : "", cases[i].want);
	}
}

/* The length bounds the parse: bytes after len are not looked at. */
static void test_parse_len(void **state)
{
	const char *in = "1:cpu:/\n0::/abc\n";
	const char *path;
	size_t len;

	(void)state;
	assert_int_equal(proc_cgroup_parse(in, 8, &path, &len), -ENOENT);
	assert_int_equal(proc_cgroup_parse(in, 14, &path, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(path, "/ab", 3);
}

/* One string per path; references counted; the last put frees it. */
static void test_intern_refs(void **state)
{
	struct proc *p = proc_new();
	const char *a, *a2, *b;

	(void)state;
	a = proc_cgroup_get(p, "/jobs.slice/j1.scopeXXX", 20);
	assert_non_null(a);
	assert_string_equal(a, "/jobs.slice/j1.scope");
	a2 = proc_cgroup_get(p, "/jobs.slice/j1.scope", 20);
	assert_ptr_equal(a, a2);
	b = proc_cgroup_get(p, "/jobs.slice/j1.scop", 19);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_int_equal(p->n_cgroups, 2);
	proc_cgroup_put(p, a);
	assert_int_equal(p->n_cgroups, 2);
	proc_cgroup_put(p, a2);
	assert_int_equal(p->n_cgroups, 1);
	proc_cgroup_put(p, NULL);
	a = proc_cgroup_get(p, "/jobs.slice/j1.scope", 20);
	assert_non_null(a);
	assert_int_equal(p->n_cgroups, 2);
	proc_del(p); /* frees what is still held (ASan checks) */
}

/* At most PROC_CGROUPS_MAX paths: the next is refused (NULL, counted), an existing one is
 * still found; after one is dropped a new one fits. Removals in any order keep every
 * other path findable (linear probing without tombstones). */
static void test_intern_bound(void **state)
{
	struct proc *p = proc_new();
	static const char *held[PROC_CGROUPS_MAX];
	char name[64];
	size_t n = 0;

	(void)state;
	log_setup(2, false);
	log_set_sink(log_keep);
	log_reset();
	for (unsigned i = 0; n < PROC_CGROUPS_MAX; i++) {
		int len = snprintf(name, sizeof(name), "/jobs.slice/j%u.scope", i);
		const char *s = proc_cgroup_get(p, name, (size_t)len);

		/* A long probe run may refuse one before the table is full: counted too. */
		if (s)
			held[n++] = s;
		assert_true(i < 4 * PROC_CGROUPS_MAX);
	}
	assert_int_equal(p->n_cgroups, PROC_CGROUPS_MAX);
	p->cgroup_full = 0;
	assert_null(proc_cgroup_get(p, "/one/more", 9));
	assert_int_equal(p->cgroup_full, 1);
	assert_non_null(strstr(log_all, "cgroup table full"));
	/* Present ones are still handed out (one more reference each). */
	for (size_t i = 0; i < n; i += 97) {
		assert_ptr_equal(proc_cgroup_get(p, held[i], strlen(held[i])), held[i]);
		proc_cgroup_put(p, held[i]);
	}
	/* Drop every other one, then each remaining one is still found as itself. */
	for (size_t i = 0; i < n; i += 2) {
		proc_cgroup_put(p, held[i]);
		held[i] = NULL;
	}
	assert_int_equal(p->n_cgroups, PROC_CGROUPS_MAX / 2);
	for (size_t i = 1; i < n; i += 2) {
		assert_ptr_equal(proc_cgroup_get(p, held[i], strlen(held[i])), held[i]);
		proc_cgroup_put(p, held[i]);
	}
	assert_non_null(proc_cgroup_get(p, "/one/more", 9));
	proc_del(p);
}

/* This process, read from /proc: its cgroup as /proc/self/cgroup names it, its session as
 * getsid() does. */
static void test_lookup_self(void **state)
{
	struct proc *p = proc_new();
	struct proc_info out;
	char buf[PROC_CGROUP_FILE_MAX];
	const char *want = NULL;
	size_t want_len = 0;
	FILE *f;
	size_t n;

	(void)state;
	f = fopen("/proc/self/cgroup", "re");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	proc_lookup(p, getpid(), EVENT_NO_PIDFD_RECORD, false, &out);
	assert_true(out.sid_known);
	assert_int_equal(out.sid, getsid(0));
	if (proc_cgroup_parse(buf, n, &want, &want_len) == 0) {
		assert_non_null(out.cgroup);
		assert_int_equal(strlen(out.cgroup), want_len);
		assert_memory_equal(out.cgroup, want, want_len);
		assert_int_equal(p->cgroup_unknown, 0);
	} else {
		assert_null(out.cgroup); /* a host without cgroup v2: unknown, counted */
		assert_int_equal(p->cgroup_unknown, 1);
	}
	proc_del(p);
}

/* The pid of a child that has exited and been reaped: a process that is gone. */
static pid_t reaped_child(void)
{
	pid_t child = fork();

	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	return child;
}

/* This test's own exe, as /proc/self/exe names it. */
static void self_exe(char *exe, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", exe, size - 1);

	assert_true(n > 0);
	exe[n] = '\0';
}

/* A process that is gone (a reaped child), and pid 0: unknown, each lookup counted. */
static void test_lookup_unknown_counted(void **state)
{
	struct proc *p = proc_new();
	struct proc_info out;
	struct stats s;
	pid_t child = reaped_child();

	(void)state;
	proc_lookup(p, child, EVENT_NO_PIDFD_RECORD, false, &out);
	assert_null(out.cgroup);
	assert_false(out.sid_known);
	proc_lookup(p, 0, EVENT_NO_PIDFD_RECORD, false, &out);
	assert_null(out.cgroup);
	memset(&s, 0, sizeof(s));
	proc_stats(p, &s);
	assert_int_equal(s.cgroup_unknown, 2);
	assert_int_equal(s.proc_lookups, 2);
	proc_del(p);
}

/* A cache fed by a fake connector: *ret_feed is the end the test writes messages into. */
static struct proc *proc_new_fed(int *ret_feed)
{
	struct proc *p = proc_new();
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	p->nl_fd = sv[0]; /* proc_close() closes it */
	p->nl_trusted = true;
	*ret_feed = sv[1];
	return p;
}

/* Sends one connector message as the kernel frames it. */
static void feed(int fd, const struct proc_event *ev)
{
	union {
		struct nlmsghdr nl;
		char raw[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(struct proc_event))];
	} m;
	struct cn_msg *cn;

	memset(&m, 0, sizeof(m));
	m.nl.nlmsg_len = NLMSG_LENGTH(sizeof(struct cn_msg) + sizeof(*ev));
	m.nl.nlmsg_type = NLMSG_DONE;
	cn = NLMSG_DATA(&m.nl);
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = sizeof(*ev);
	memcpy(cn->data, ev, sizeof(*ev));
	assert_int_equal(send(fd, &m, m.nl.nlmsg_len, 0), (ssize_t)m.nl.nlmsg_len);
}

static void feed_exec(int fd, pid_t pid)
{
	struct proc_event ev = { .what = PROC_EVENT_EXEC };

	ev.event_data.exec.process_pid = pid;
	ev.event_data.exec.process_tgid = pid;
	feed(fd, &ev);
}

static void feed_fork(int fd, pid_t parent, pid_t child)
{
	struct proc_event ev = { .what = PROC_EVENT_FORK };

	ev.event_data.fork.parent_pid = parent;
	ev.event_data.fork.parent_tgid = parent;
	ev.event_data.fork.child_pid = child;
	ev.event_data.fork.child_tgid = child;
	feed(fd, &ev);
}

/* An exec notice of a process the cache knows reads its exe and comm (an exit loses them)
 * but not its cgroup: that waits for its next lookup, which reads it once, while it lives;
 * later lookups read nothing until its next exec. (Processes that never act on a watched
 * file never have their cgroup read: on a hybrid host the costly read of an exec.) */
static void test_exec_cgroup_lazy(void **state)
{
	struct proc_info out;
	char exe[PATH_MAX], cg[PROC_CGROUP_FILE_MAX];
	const char *want;
	size_t want_len;
	ssize_t n;
	int fd, cfd;
	struct proc *p = proc_new_fed(&fd);

	(void)state;
	self_exe(exe, sizeof(exe));
	cfd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	assert_true(cfd >= 0);
	n = read(cfd, cg, sizeof(cg));
	close(cfd);
	assert_true(n > 0);
	assert_int_equal(proc_cgroup_parse(cg, (size_t)n, &want, &want_len), 0);
	/* Not seen before its exec: read whole, the cgroup too. */
	feed_exec(fd, getpid());
	proc_drain(p, false);
	assert_int_equal(p->proc_reads, 1);
	proc_lookup(p, getpid(), EVENT_NO_PIDFD_RECORD, false, &out);
	assert_int_equal(p->proc_reads, 1);
	/* Known: its next exec reads exe and comm, not the cgroup ... */
	feed_exec(fd, getpid());
	proc_drain(p, false);
	assert_int_equal(p->proc_reads, 2);
	/* ... its next lookup does, once. */
	proc_lookup(p, getpid(), EVENT_NO_PIDFD_RECORD, false, &out);
	assert_int_equal(p->proc_reads, 3);
	assert_string_equal(out.exe, exe);
	assert_non_null(out.comm);
	assert_non_null(out.cgroup);
	assert_int_equal(strlen(out.cgroup), want_len);
	assert_memory_equal(out.cgroup, want, want_len);
	proc_lookup(p, getpid(), EVENT_NO_PIDFD_RECORD, false, &out);
	assert_int_equal(p->proc_reads, 3);
	(void)close(fd);
	proc_del(p);
}

/* A child that forked, exec'd and was reaped before its exec notice was read: the exe it
 * had before the exec (this test's, copied at its fork) is never shown, nor its comm. */
static void test_exec_gone(void **state)
{
	struct proc_info out;
	pid_t child = reaped_child();
	int fd;
	struct proc *p = proc_new_fed(&fd);

	(void)state;
	feed_fork(fd, getpid(), child);
	feed_exec(fd, child);
	proc_drain(p, false);
	proc_lookup(p, child, EVENT_NO_PIDFD_RECORD, false, &out);
	assert_null(out.exe);
	assert_null(out.comm);
	assert_int_equal(p->exe_known, 0);
	/* Known dead (no pidfd): the same answer. */
	proc_lookup(p, child, FAN_NOPIDFD, false, &out);
	assert_null(out.exe);
	(void)close(fd);
	proc_del(p);
}

/* Quiet: an exec and a fork notice read with no /proc read. The exec drops the exe it
 * replaced, so a child forked after it copies none (never the stale one), and
 * proc_prefetch() reads the live process once; a cached exe is not read again. */
static void test_quiet_prefetch(void **state)
{
	struct proc_info out;
	char exe[PATH_MAX];
	pid_t child = reaped_child();
	uint64_t reads;
	int fd;
	struct proc *p = proc_new_fed(&fd);

	(void)state;
	self_exe(exe, sizeof(exe));
	/* This process, known (read once), "execs", then "forks" the gone child. */
	proc_lookup(p, getpid(), EVENT_NO_PIDFD_RECORD, false, &out);
	assert_string_equal(out.exe, exe);
	assert_int_equal(p->proc_reads, 1);
	feed_exec(fd, getpid());
	proc_drain(p, true);
	assert_int_equal(p->proc_reads, 1);
	assert_int_equal(p->nl_quiet_execs, 1);
	feed_fork(fd, getpid(), child);
	proc_drain(p, true);
	assert_int_equal(p->proc_reads, 1);
	/* The child, gone before anything read it: no exe, not the pre-exec one. */
	proc_lookup(p, child, EVENT_NO_PIDFD_RECORD, false, &out);
	assert_null(out.exe);
	assert_int_equal(p->exe_lost, 1);
	reads = p->proc_reads; /* that lookup tried /proc, in vain */
	/* prefetch reads the live process once, and then not again */
	proc_prefetch(p, getpid(), EVENT_NO_PIDFD_RECORD, true);
	assert_int_equal(p->proc_reads, reads + 1);
	proc_prefetch(p, getpid(), EVENT_NO_PIDFD_RECORD, true);
	assert_int_equal(p->proc_reads, reads + 1);
	proc_lookup(p, getpid(), EVENT_NO_PIDFD_RECORD, false, &out);
	assert_int_equal(p->proc_reads, reads + 1);
	assert_string_equal(out.exe, exe);
	/* a process known dead is not read */
	proc_prefetch(p, getpid(), FAN_NOPIDFD, false);
	assert_int_equal(p->proc_reads, reads + 1);
	(void)close(fd);
	proc_del(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_len),
		cmocka_unit_test(test_intern_refs),
		cmocka_unit_test(test_intern_bound),
		cmocka_unit_test(test_lookup_self),
		cmocka_unit_test(test_lookup_unknown_counted),
		cmocka_unit_test(test_exec_cgroup_lazy),
		cmocka_unit_test(test_exec_gone),
		cmocka_unit_test(test_quiet_prefetch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
