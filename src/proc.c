/*
 * proc.c - owns the process cache and the proc connector socket.
 *
 * Short-lived processes are gone from /proc by the time their fanotify events are read
 * (fatrace #52). The proc connector tells us of every exec while the process still lives,
 * so its exe is read then; fork copies the parent's entry, exit marks an entry dead but
 * keeps it, since its events may still be queued. A slot keeps the previous holder of a
 * pid after reuse, so a late event of a dead process finds its own entry, not its
 * successor's. FAN_REPORT_PIDFD says whether the acting process is still alive.
 *
 * Each entry also holds the session id (/proc/PID/stat; fork copies it, PROC_EVENT_SID
 * updates it) and the cgroup v2 path (/proc/PID/cgroup's "0::" line), read when the entry is
 * first filled and again at the first lookup after every exec, and copied at fork. A move
 * to another cgroup (a write to cgroup.procs) sends no notice: the entry shows it from the
 * process's next exec on, which is when a job runner's child (systemd-run, a shell that
 * moves itself and execs) starts the job's work. Many processes share a cgroup, so the paths are
 * interned: one string per cgroup, counted references, at most PROC_CGROUPS_MAX.
 *
 * Must not: read anything but /proc (the daemon may hold unanswered permission events on
 * any other filesystem). Gets pids from pipeline.c; hands back borrowed strings.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "compat.h"
#include "hash.h"
#include "log.h"
#include "proc.h"

#define PROC_NL_RCVBUF (8 << 20) /* bytes of connector backlog before ENOBUFS */

static struct proc_cgroup *cgroup_slot(struct proc *p, const char *path, size_t len,
				       uint32_t h)
{
	for (unsigned i = 0; i < PROC_CGROUP_PROBE; i++) {
		struct proc_cgroup *c = &p->cgroups[(h + i) & (PROC_CGROUP_SLOTS - 1)];

		if (!c->path)
			return c;
		if (c->hash == h && strncmp(c->path, path, len) == 0 && c->path[len] == '\0')
			return c;
	}
	return NULL;
}

const char *proc_cgroup_get(struct proc *p, const char *path, size_t len)
{
	uint32_t h = (uint32_t)hash_bytes(HASH_SEED, path, len);
	struct proc_cgroup *c = cgroup_slot(p, path, len, h);

	if (c && c->path) {
		c->refs++;
		return c->path;
	}
	if (!c || p->n_cgroups >= PROC_CGROUPS_MAX) {
		p->cgroup_full++;
		log_rl(LOG_LEVEL_WARN, "cgroup table full (%d paths): a cgroup is recorded as "
				       "unknown", PROC_CGROUPS_MAX);
		return NULL;
	}
	c->path = strndup(path, len);
	if (!c->path)
		return NULL; /* ENOMEM: cgroup unknown */
	c->hash = h;
	c->refs = 1;
	p->n_cgroups++;
	return c->path;
}

void proc_cgroup_put(struct proc *p, const char *cgroup)
{
	uint32_t h;
	unsigned i, j;

	if (!cgroup)
		return;
	h = (uint32_t)hash_bytes(HASH_SEED, cgroup, strlen(cgroup));
	for (i = 0; i < PROC_CGROUP_PROBE; i++)
		if (p->cgroups[(h + i) & (PROC_CGROUP_SLOTS - 1)].path == cgroup)
			break;
	if (i == PROC_CGROUP_PROBE)
		return; /* not ours: a bug, but never a free of a foreign pointer */
	i = (h + i) & (PROC_CGROUP_SLOTS - 1);
	if (--p->cgroups[i].refs)
		return;
	free(p->cgroups[i].path);
	p->cgroups[i].path = NULL;
	p->n_cgroups--;
	/* Linear probing without tombstones: pull back each later entry of the run that
	 * may sit in the freed slot (its home is not between the hole and itself). */
	for (j = (i + 1) & (PROC_CGROUP_SLOTS - 1); p->cgroups[j].path;
	     j = (j + 1) & (PROC_CGROUP_SLOTS - 1)) {
		unsigned home = p->cgroups[j].hash & (PROC_CGROUP_SLOTS - 1);

		if (((j - home) & (PROC_CGROUP_SLOTS - 1)) >= ((j - i) & (PROC_CGROUP_SLOTS - 1))) {
			p->cgroups[i] = p->cgroups[j];
			p->cgroups[j].path = NULL;
			i = j;
		}
	}
}

int proc_cgroup_parse(const char *buf, size_t len, const char **ret_path, size_t *ret_len)
{
	size_t i = 0;

	/* One line per hierarchy, "ID:CONTROLLERS:PATH"; cgroup v2 is ID 0 with no
	 * controllers. The kernel refuses a newline in a cgroup name (mkdir: EINVAL), so
	 * the line ends at the first one; other bytes are the name's own, unescaped. */
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - buf) : len;

		if (end - i >= 4 && memcmp(buf + i, "0::/", 4) == 0) {
			*ret_path = buf + i + 3;
			*ret_len = end - i - 3;
			return 0;
		}
		i = end + 1;
	}
	return -ENOENT;
}

static void entry_clear(struct proc *p, struct proc_entry *e)
{
	free(e->exe);
	proc_cgroup_put(p, e->cgroup);
	memset(e, 0, sizeof(*e));
}

static struct proc_slot *slot_of(struct proc *p, pid_t pid)
{
	return &p->slots[(unsigned)pid & (PROC_CACHE_MAX - 1)];
}

static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	(void)close(fd); /* read-only procfs file */
	return n;
}

/* Replaces e's cgroup with the one /proc/PID/cgroup names now; keeps it when the file
 * cannot be read (the process is gone: what fork copied is the best there is). */
static void read_cgroup(struct proc *p, pid_t pid, struct proc_entry *e)
{
	char path[64], buf[PROC_CGROUP_FILE_MAX];
	const char *cg;
	size_t len;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return;
	if (proc_cgroup_parse(buf, (size_t)n, &cg, &len) < 0) {
		proc_cgroup_put(p, e->cgroup);
		e->cgroup = NULL;	/* no cgroup v2 line: unknown on this host */
		return;
	}
	if (e->cgroup && strncmp(e->cgroup, cg, len) == 0 && e->cgroup[len] == '\0')
		return;			/* the same (the common case at exec) */
	proc_cgroup_put(p, e->cgroup);
	e->cgroup = proc_cgroup_get(p, cg, len);
}

/* Fills e from /proc/PID. Returns 0 when the process was there (exe may still be NULL:
 * kernel threads and zombies have none), negative errno otherwise. */
static int read_proc(struct proc *p, pid_t pid, struct proc_entry *e)
{
	char path[64], buf[1024], exe[PATH_MAX];
	const char *open_paren, *close_paren;
	ssize_t n, exe_len;
	int ppid, sid;

	/* exe first: of everything here it is the one lost when the process exits. */
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	exe_len = readlink(path, exe, sizeof(exe) - 1);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	/* "PID (COMM) S PPID ...": COMM may hold ')' and spaces, so take the last ')'. */
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -EINVAL;
	entry_clear(p, e);
	e->pid = pid;
	n = close_paren - open_paren - 1;
	if (n >= PROC_COMM_LEN)
		n = PROC_COMM_LEN - 1;
	memcpy(e->comm, open_paren + 1, (size_t)n);
	e->comm[n] = '\0';
	e->comm_known = true;
	/* "S PPID PGRP SID ..." (proc_pid_stat(5)): state, ppid, process group, session. */
	switch (sscanf(close_paren + 1, " %*c %d %*d %d", &ppid, &sid)) {
	case 2:
		e->sid = sid;
		e->sid_known = true;
		/* fallthrough */
	case 1:
		e->ppid = ppid;
		e->ppid_known = true;
		break;
	default:
		break;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_small(path, buf, sizeof(buf)) > 0) {
		const char *u = strstr(buf, "\nUid:");
		unsigned uid;

		if (u && sscanf(u + 5, "%u", &uid) == 1) {
			e->uid = uid;
			e->uid_known = true;
		}
	}
	if (exe_len > 0) {
		exe[exe_len] = '\0';
		e->exe = strdup(exe); /* NULL on ENOMEM: exe unknown */
	}
	read_cgroup(p, pid, e);
	return 0;
}

/* After an exec only the exe and comm change: pid, ppid, uid and sid stay (a set-uid exec
 * sends its own PROC_EVENT_UID, setsid() PROC_EVENT_SID). Two reads instead of read_proc()'s
 * four, and not the costly stat and status files; the cgroup, which a job runner's child
 * may have changed between fork and exec, is left to the process's first lookup (stale).
 * Returns 0, or negative errno when the process is gone. */
static int read_exec(pid_t pid, struct proc_entry *e)
{
	char path[64], comm[PROC_COMM_LEN + 1], exe[PATH_MAX];
	ssize_t n, exe_len;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	exe_len = readlink(path, exe, sizeof(exe) - 1);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	n = read_small(path, comm, sizeof(comm));
	if (n < 0)
		return (int)n;
	if (n > 0 && comm[n - 1] == '\n')
		n--;
	if (n >= PROC_COMM_LEN)
		n = PROC_COMM_LEN - 1;
	memcpy(e->comm, comm, (size_t)n);
	e->comm[n] = '\0';
	e->comm_known = true;
	free(e->exe);
	e->exe = NULL;
	if (exe_len > 0) {
		exe[exe_len] = '\0';
		e->exe = strdup(exe); /* NULL on ENOMEM: exe unknown */
	}
	e->cgroup_stale = true;
	return 0;
}

/* Makes room for a new holder of pid and returns its (cleared) entry. */
static struct proc_entry *slot_new(struct proc *p, pid_t pid)
{
	struct proc_slot *s = slot_of(p, pid);

	if (s->cur.pid == pid && s->cur.exited) {
		entry_clear(p, &s->prev);
		s->prev = s->cur;
		memset(&s->cur, 0, sizeof(s->cur));
	} else if (s->cur.pid && s->cur.pid != pid) {
		p->evictions++;
		entry_clear(p, &s->cur);
		entry_clear(p, &s->prev);
	} else {
		entry_clear(p, &s->cur);
	}
	return &s->cur;
}

static void on_fork(struct proc *p, pid_t parent, pid_t child, bool quiet)
{
	struct proc_slot *ps = slot_of(p, parent);
	struct proc_entry *e;

	/* A parent not seen yet (started before us) is read once and kept, quiet or not: its
	 * next forks are copies (uid, session, cgroup), and the child's exec then reads only
	 * exe and comm. The sooner we are done here, the likelier a short-lived child's exec
	 * is read while it lives. */
	if (ps != slot_of(p, child) && !(ps->cur.pid == parent && !ps->cur.exited)) {
		e = slot_new(p, parent);
		p->proc_reads++;
		if (read_proc(p, parent, e) < 0)
			entry_clear(p, e);
	}
	e = slot_new(p, child);
	if (ps->cur.pid == parent && !ps->cur.exited) {
		/* slot_new() may have reused ps's storage only if parent == child (impossible). */
		memcpy(e->comm, ps->cur.comm, sizeof(e->comm));
		e->comm_known = ps->cur.comm_known;
		e->exe = ps->cur.exe ? strdup(ps->cur.exe) : NULL;
		e->uid = ps->cur.uid;
		e->uid_known = ps->cur.uid_known;
		e->sid = ps->cur.sid;
		e->sid_known = ps->cur.sid_known;
		/* The parent's cgroup not read since its exec: nor is the child's copy. */
		e->cgroup_stale = ps->cur.cgroup_stale;
		/* Born in its parent's cgroup (clone3's CLONE_INTO_CGROUP aside: its exec
		 * reads the cgroup again). Another reference, no copy. */
		if (ps->cur.cgroup)
			e->cgroup = proc_cgroup_get(p, ps->cur.cgroup, strlen(ps->cur.cgroup));
		e->pid = child;
		e->ppid = parent;
		e->ppid_known = true;
		return;
	}
	if (!quiet) {
		p->proc_reads++;
		if (read_proc(p, child, e) == 0)
			return;
	}
	entry_clear(p, e); /* gone, or quiet: its first lookup reads it */
	e->pid = child;
	e->ppid = parent;
	e->ppid_known = true;
}

/* An exec changes the exe, the comm and (for a job runner's child) the cgroup. The exe and
 * comm are read now: an exit loses them, and a short-lived process is often gone by its
 * first lookup. The cgroup is read at that lookup, while the process lives (read_exec()
 * marks it stale; a gone process keeps its fork's): most processes on a host never act on
 * a watched file, and on a hybrid host the cgroup file is the costly read of an exec. */
static void on_exec(struct proc *p, pid_t pid, bool quiet)
{
	struct proc_slot *s = slot_of(p, pid);
	struct proc_entry *e = (s->cur.pid == pid && !s->cur.exited) ? &s->cur : slot_new(p, pid);
	pid_t ppid = e->ppid;
	bool ppid_known = e->ppid_known;

	if (quiet) {
		p->nl_quiet_execs++;
	} else {
		p->proc_reads++;
		if ((e->pid == pid && e->ppid_known && e->uid_known ? read_exec(pid, e)
								    : read_proc(p, pid, e)) == 0)
			return;
	}
	/* Gone already, or quiet (its first lookup reads it if it lives): keep what fork
	 * told us (its cgroup and session too: the parent's at the fork), but never the
	 * pre-exec exe. */
	free(e->exe);
	e->exe = NULL;
	e->comm_known = false;
	e->cgroup_stale = false;
	e->pid = pid;
	e->ppid = ppid;
	e->ppid_known = ppid_known;
}

static void handle_message(struct proc *p, const struct proc_event *ev, bool quiet)
{
	struct proc_slot *s;

	switch (ev->what) {
	case PROC_EVENT_FORK:
		if (ev->event_data.fork.child_pid != ev->event_data.fork.child_tgid)
			break; /* a new thread, not a new process */
		on_fork(p, ev->event_data.fork.parent_tgid, ev->event_data.fork.child_tgid,
			quiet);
		break;
	case PROC_EVENT_EXEC:
		on_exec(p, ev->event_data.exec.process_tgid, quiet);
		break;
	case PROC_EVENT_COMM:
		if (ev->event_data.comm.process_pid != ev->event_data.comm.process_tgid)
			break; /* a thread's name; /proc/PID/stat shows the leader's */
		s = slot_of(p, ev->event_data.comm.process_tgid);
		if (s->cur.pid == ev->event_data.comm.process_tgid && !s->cur.exited) {
			memcpy(s->cur.comm, ev->event_data.comm.comm, PROC_COMM_LEN);
			s->cur.comm[PROC_COMM_LEN - 1] = '\0';
			s->cur.comm_known = true;
		}
		break;
	case PROC_EVENT_SID:
		/* setsid(): the process leads a session of its own from now on. */
		s = slot_of(p, ev->event_data.sid.process_tgid);
		if (s->cur.pid == ev->event_data.sid.process_tgid && !s->cur.exited) {
			s->cur.sid = ev->event_data.sid.process_tgid;
			s->cur.sid_known = true;
		}
		break;
	case PROC_EVENT_UID:
		s = slot_of(p, ev->event_data.id.process_tgid);
		if (s->cur.pid == ev->event_data.id.process_tgid && !s->cur.exited) {
			s->cur.uid = ev->event_data.id.r.ruid;
			s->cur.uid_known = true;
		}
		break;
	case PROC_EVENT_EXIT:
		if (ev->event_data.exit.process_pid != ev->event_data.exit.process_tgid)
			break;
		s = slot_of(p, ev->event_data.exit.process_tgid);
		if (s->cur.pid == ev->event_data.exit.process_tgid)
			s->cur.exited = true;
		break;
	default:
		break;
	}
}

static void cache_clear(struct proc *p)
{
	for (size_t i = 0; i < PROC_CACHE_MAX; i++) {
		entry_clear(p, &p->slots[i].cur);
		entry_clear(p, &p->slots[i].prev);
	}
	/* Every entry has given its references back; anything left would be a leak. */
	for (size_t i = 0; i < PROC_CGROUP_SLOTS; i++) {
		free(p->cgroups[i].path);
		p->cgroups[i].path = NULL;
	}
	p->n_cgroups = 0;
}

int proc_open(struct proc *p)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
	union {
		struct nlmsghdr nl;
		char raw[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(enum proc_cn_mcast_op))];
	} req;
	struct cn_msg *cn;
	enum proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
	int size = PROC_NL_RCVBUF;
	int fd;

	memset(p, 0, sizeof(*p));
	p->nl_fd = -1;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
	if (fd < 0) {
		log_errno(LOG_LEVEL_INFO, errno, "proc connector unavailable (exe of short-lived "
			  "processes may be unknown)");
		return 0;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)); /* best effort */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	memset(&req, 0, sizeof(req));
	req.nl.nlmsg_len = NLMSG_LENGTH(sizeof(struct cn_msg) + sizeof(op));
	req.nl.nlmsg_type = NLMSG_DONE;
	cn = NLMSG_DATA(&req.nl);
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = sizeof(op);
	memcpy(cn->data, &op, sizeof(op));
	if (send(fd, &req, req.nl.nlmsg_len, 0) != (ssize_t)req.nl.nlmsg_len)
		goto fail;
	p->nl_fd = fd;
	p->nl_trusted = true;
	return 0;
fail:
	log_errno(LOG_LEVEL_INFO, errno, "proc connector unavailable (exe of short-lived "
		  "processes may be unknown)");
	(void)close(fd);
	return 0;
}

void proc_drain(struct proc *p, bool quiet)
{
	union {
		struct nlmsghdr nl;
		char raw[65536];
	} buf;

	if (p->nl_fd < 0)
		return;
	for (;;) {
		ssize_t n = recv(p->nl_fd, &buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* Messages were lost: no cached entry can be trusted to be current. */
				p->nl_overruns++;
				cache_clear(p);
				log_rl(LOG_LEVEL_WARN, "proc connector overrun: process cache reset");
				continue;
			}
			return; /* EAGAIN: drained */
		}
		for (h = &buf.nl; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			const struct cn_msg *cn = NLMSG_DATA(h);

			if (h->nlmsg_type != NLMSG_DONE ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(*cn) + sizeof(struct proc_event)) ||
			    cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC)
				continue;
			struct proc_event ev;

			/* cn->data is only 4-byte aligned; proc_event holds a u64. */
			memcpy(&ev, cn->data, sizeof(ev));
			p->nl_messages++;
			handle_message(p, &ev, quiet);
		}
	}
}

/* After a /proc read for an event's process: true when the process may have died before it,
 * its pid then perhaps another's, so the read is not its. A pinned process (waiting for our
 * answer) cannot have; otherwise signal 0 through the event's pidfd says (ESRCH once it has
 * exited; EPERM means it lives but belongs to another user: the daemon keeps no CAP_KILL,
 * priv.c). Without a pidfd (FD mode) there is nothing to ask. */
static bool read_too_late(int pidfd, bool pinned)
{
	return pidfd >= 0 && !pinned &&
	       !(syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 || errno == EPERM);
}

/* The cgroup of a process exec'd since it was read (a job runner moves its child between
 * fork and exec), read at its first lookup while it lives. Gone: it keeps its fork's. A read
 * that the process may not have outlived (its pidfd says it died; a pinned one cannot) is
 * dropped: its pid may name another process by now. */
static void read_stale_cgroup(struct proc *p, pid_t pid, int pidfd, bool pinned,
			      struct proc_entry *e)
{
	const char *before = e->cgroup;

	e->cgroup_stale = false;
	p->proc_reads++;
	if (before)
		before = proc_cgroup_get(p, before, strlen(before)); /* kept in case */
	read_cgroup(p, pid, e);
	if (read_too_late(pidfd, pinned)) {
		proc_cgroup_put(p, e->cgroup);
		e->cgroup = before;
		return;
	}
	proc_cgroup_put(p, before);
}

/* Alive (or unknown): read /proc, then make sure the pid still names the process that
 * acted, so a reused pid never lends its exe. The entry, or NULL (gone, or not the one). */
static struct proc_entry *read_alive(struct proc *p, pid_t pid, int pidfd, bool pinned)
{
	struct proc_entry *e = slot_new(p, pid);

	p->proc_reads++;
	if (read_proc(p, pid, e) < 0 || read_too_late(pidfd, pinned)) {
		entry_clear(p, e);
		return NULL;
	}
	return e;
}

void proc_prefetch(struct proc *p, pid_t pid, int pidfd, bool pinned)
{
	const struct proc_slot *s = slot_of(p, pid);

	if (pid <= 0 || pidfd == FAN_NOPIDFD || !p->nl_trusted ||
	    (s->cur.pid == pid && (s->cur.exe || s->cur.exited)))
		return;
	(void)read_alive(p, pid, pidfd, pinned);
}

static void fill(const struct proc_entry *e, struct proc_info *out)
{
	out->comm = e->comm_known ? e->comm : NULL;
	out->exe = e->exe;
	out->ppid = e->ppid;
	out->ppid_known = e->ppid_known;
	out->uid = e->uid;
	out->uid_known = e->uid_known;
	out->sid = e->sid;
	out->sid_known = e->sid_known;
	out->cgroup = e->cgroup;
}

void proc_lookup(struct proc *p, pid_t pid, int pidfd, bool pinned, struct proc_info *out)
{
	struct proc_slot *s = slot_of(p, pid);
	struct proc_entry *e = NULL;
	bool dead = pidfd == FAN_NOPIDFD, gone = dead;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	p->lookups++;
	if (pid <= 0)
		goto out;
	if (p->nl_fd >= 0 && p->nl_trusted) {
		if (!dead && s->cur.pid == pid)
			e = &s->cur;
		else if (dead && s->cur.pid == pid && s->cur.exited)
			e = &s->cur;
		else if (dead && s->prev.pid == pid && s->prev.exited)
			e = &s->prev;
		if (e && e->cgroup_stale && !e->exited && !dead)
			read_stale_cgroup(p, pid, pidfd, pinned, e);
		if (e && (e->exe || e->exited || dead)) {
			gone = gone || e->exited;
			fill(e, out);
			goto out;
		}
	}
	if (dead)
		goto out; /* gone, and nothing recorded it while it lived */
	e = read_alive(p, pid, pidfd, pinned);
	if (e)
		fill(e, out);
	else
		gone = true;
out:
	if (!out->exe && gone && pid > 0)
		p->exe_lost++;
	if (out->exe)
		p->exe_known++;
	if (!out->cgroup)
		p->cgroup_unknown++;
}

void proc_ancestry(const struct proc *p, struct proc_info *out)
{
	pid_t pid = out->ppid;

	out->n_ancestors = 0;
	if (!out->ppid_known)
		return;
	while (pid > 0 && out->n_ancestors < EVENT_ANCESTORS_MAX) {
		const struct proc_slot *s = &p->slots[(unsigned)pid & (PROC_CACHE_MAX - 1)];
		const struct proc_entry *e = s->cur.pid == pid ? &s->cur
					     : s->prev.pid == pid ? &s->prev : NULL;

		out->ancestors[out->n_ancestors++] = pid;
		if (!e || !e->ppid_known || e->ppid == pid)
			break;
		pid = e->ppid;
	}
}

void proc_stats(const struct proc *p, struct stats *s)
{
	s->exe_known = p->exe_known;
	s->proc_lookups = p->lookups;
	s->proc_evictions = p->evictions;
	s->nl_overruns = p->nl_overruns;
	s->nl_messages = p->nl_messages;
	s->proc_reads = p->proc_reads;
	s->cgroup_unknown = p->cgroup_unknown;
	s->nl_quiet_execs = p->nl_quiet_execs;
	s->nl_quiet_spells = p->quiet_spells;
	s->exe_lost = p->exe_lost;
}

void proc_close(struct proc *p)
{
	if (p->nl_fd >= 0)
		(void)close(p->nl_fd); /* socket: nothing to flush */
	p->nl_fd = -1;
	cache_clear(p);
}
