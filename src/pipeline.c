/*
 * pipeline.c - one event, in the order of DESIGN.md: decode -> resolve path -> policy ->
 * answer -> process info -> record. The only place the stages meet.
 *
 * Ownership of event fds: a read is decoded whole into the group's event array; each
 * event's fd and pidfd are the pipeline's until release() closes them. A permission event
 * is answered exactly once on every path, errors included, by respond() alone (the answer
 * is recorded on the event; release() counts and allows any event a path forgot);
 * without --deny-on-alert before anything else is done with it.
 * Records go to pl->batch and reach the output once per loop turn (pipeline_flush()).
 *
 * Owns its read buffers, decoded events, record batch, sequence numbers and counters
 * (struct pipeline); borrows the modules it calls, which struct daemon owns.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "pipeline.h"
#include "decode.h"
#include "log.h"
#include "now.h"

#define PIPELINE_READ_BUF (16u << 10)	/* bytes per read() of a group; bounds a batch */
#define PIPELINE_READ_EVENTS (PIPELINE_READ_BUF / DECODE_METADATA_LEN) /* events in a read */
#define PIPELINE_READS_PER_TURN 16	/* reads of one group before the batch is flushed */
#define PIPELINE_FD_SPARE 16		/* descriptors kept free for transient opens */
#define PIPELINE_FID_EVENT_MIN 48	/* bytes: smallest FID event (metadata + one fid) */
/* Events in an FID-group read: each has a fid but an overflow event, which has none. */
#define PIPELINE_FID_READ_EVENTS (PIPELINE_READ_BUF / PIPELINE_FID_EVENT_MIN + 1)
#define PIPELINE_PERM_POLL_NS 20000	/* FID work between looks at the permission group */

#define DIRENT_EVENTS                                                                        \
	(FAN_ATTRIB | FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | FAN_RENAME)
#define PATH_BUF (PATH_MAX + NAME_MAX + 2)

/* One permission event's time since its read, into a histogram. */
static void latency_note(struct pipeline_lat *l, uint64_t ns)
{
	uint64_t us = ns / 1000;
	size_t i = (size_t)us;

	if (us >= PIPELINE_LAT_LINEAR) {
		unsigned k = 0;

		while (k + 1 < PIPELINE_LAT_LOG && us >> (11 + k))
			k++;
		i = PIPELINE_LAT_LINEAR + k;
	}
	l->hist[i]++;
	if (ns > l->max_ns)
		l->max_ns = ns;
}

/*
 * Ends the record a record_*() call (result r) appended at start (the batch's length before
 * that call) with the run's identity: run_id always, host with record_host and on the
 * lifecycle records. Returns 0 or < 0 (then no record was appended).
 */
static int tail_on(struct pipeline *pl, size_t start, int r, bool lifecycle)
{
	if (r < 0)
		return r;
	return record_tail(&pl->batch, start, pl->ident.data,
			   lifecycle || pl->ident_host ? pl->ident.len : pl->ident_run_len);
}

/* --format text: the style of a line at ts_ms (the local time's offset may change). */
static struct text_style text_style(const struct pipeline *pl, uint64_t ts_ms)
{
	return (struct text_style){ .color = pl->text_color,
				    .utc_off_s = text_utc_offset_s(ts_ms) };
}

/*
 * --format text: the record just appended to pl->batch from json_start on is rendered into
 * pl->text_batch from the same struct (r < 0: the JSON failed, nothing to do). A text line
 * that cannot be built takes the JSON back out, so the output and the subscribers lose the
 * same record. Returns r, or -ENOMEM.
 */
static int text_too(struct pipeline *pl, size_t json_start, int r, int text_r)
{
	if (r < 0)
		return r;
	if (text_r < 0) {
		pl->batch.len = json_start;
		return -ENOMEM;
	}
	return 0;
}

/*
 * One record into this turn's records: JSON, a record_*() call appending to pl->batch, ended
 * with the run's identity, and with --format text TEXT, the text_*() call rendering the same
 * struct into pl->text_batch with the style st (text_too()). Evaluates to 0 or < 0 (then
 * neither is appended). A macro: TEXT is evaluated only for --format text.
 */
#define OUT_RECORD(pl, ts_ms, JSON, TEXT)                                                    \
	({                                                                                    \
		size_t start_ = (pl)->batch.len;                                              \
		int r_ = tail_on((pl), start_, (JSON), false);                                \
		if (r_ == 0 && (pl)->text) {                                                  \
			struct text_style st = text_style((pl), (ts_ms));                     \
			r_ = text_too((pl), start_, r_, (TEXT));                              \
		}                                                                             \
		r_;                                                                           \
	})

static int out_dropped(struct pipeline *pl, uint64_t seq, uint64_t ts_ms, uint64_t count,
		       const char *reason)
{
	return OUT_RECORD(pl, ts_ms, record_dropped(&pl->batch, seq, ts_ms, count, reason),
			  text_dropped(&pl->text_batch, ts_ms, count, reason, &st));
}

static int out_alert(struct pipeline *pl, const struct alert *a)
{
	return OUT_RECORD(pl, a->ts_ms, record_alert(&pl->batch, a),
			  text_alert(&pl->text_batch, a, &st));
}

static int out_event(struct pipeline *pl, const struct record_event *rec)
{
	return OUT_RECORD(pl, rec->ts_ms, record_event(&pl->batch, rec),
			  text_event(&pl->text_batch, rec, &st));
}

static int out_stats(struct pipeline *pl, uint64_t seq, uint64_t ts_ms, const struct stats *s)
{
	return OUT_RECORD(pl, ts_ms, record_stats(&pl->batch, seq, ts_ms, s),
			  text_stats(&pl->text_batch, ts_ms, s, &st));
}

static int out_reload(struct pipeline *pl, uint64_t seq, uint64_t ts_ms,
		      const struct record_reload *rl)
{
	return OUT_RECORD(pl, ts_ms, record_reload(&pl->batch, seq, ts_ms, rl),
			  text_reload(&pl->text_batch, ts_ms, rl, &st));
}

static int out_clock(struct pipeline *pl, uint64_t seq, uint64_t ts_ms, int64_t step_ms)
{
	return OUT_RECORD(pl, ts_ms, record_clock(&pl->batch, seq, ts_ms, step_ms),
			  text_clock(&pl->text_batch, ts_ms, step_ms, &st));
}

/* Before the first record of a turn: say how many records the output lost before it, one
 * cause per notice: failed writes first (the writer thread's count), then the full queue. */
static void batch_begin(struct pipeline *pl, uint64_t ts_ms)
{
	char reason[96] = "output queue full";
	uint64_t count, lost;
	bool writer;
	int err;

	if (pl->batch.len)
		return;
	count = sink_file_lost(pl->out, &lost, &err);
	pl->st.dropped_records += lost;
	writer = count > 0;
	if (writer)
		snprintf(reason, sizeof(reason), "output write failed: %s", strerror(err));
	else
		count = pl->pending_dropped;
	if (!count)
		return;
	if (out_dropped(pl, pl->seq + 1, ts_ms, count, reason) < 0) {
		if (writer)
			pl->pending_dropped += count; /* not lost: told later, as the queue's */
		return;
	}
	pl->seq++;
	pl->batch_records++;
	pl->st.records++;
	pl->batch_dropped = count;
	if (!writer)
		pl->pending_dropped = 0;
}

/* After out_*() tried to append record number ++pl->seq (r: its result): a record written
 * is counted; one dropped keeps its seq (the gap says so) and is told by a dropped notice. */
static void counted(struct pipeline *pl, int r)
{
	if (r < 0) {
		pl->pending_dropped++;
		pl->st.dropped_records++;
		return;
	}
	pl->batch_records++;
	pl->st.records++;
}

/* Completes alert a with what only the pipeline knows (seq, ts_ms) and appends its record.
 * Returns 0 or -ENOMEM (counted in pending_dropped: a dropped notice tells it later). */
static int alert_out(struct pipeline *pl, struct alert *a, uint64_t ts_ms)
{
	a->seq = ++pl->seq;
	a->ts_ms = ts_ms;
	if (out_alert(pl, a) < 0) {
		pl->pending_dropped++;
		return -ENOMEM;
	}
	pl->batch_records++;
	pl->st.records++;
	pl->st.alerts++;
	return 0;
}

/* An alert of the kernel's own (pid 0, no process, a <placeholder> path): events it lost. */
static void emit_kernel_alert(struct pipeline *pl, uint64_t ts_ms, enum alert_kind kind,
			      const char *path, const char *reason)
{
	struct alert a = { .kind = kind, .pid = 0, .proc = NULL, .path = path, .reason = reason };

	batch_begin(pl, ts_ms);
	(void)alert_out(pl, &a, ts_ms); /* a failure is counted there */
}

static void emit_overflow(struct pipeline *pl, uint64_t ts_ms)
{
	pl->st.overflows++;
	emit_kernel_alert(pl, ts_ms, ALERT_OVERFLOW, "<overflow>", "fanotify queue overflowed");
	log_rl(LOG_LEVEL_WARN, "fanotify queue overflowed: events were lost");
}

/* Alert records (after the event's own record) and their hooks: policy's alerts, completed
 * with the process pi. */
static void emit_alerts(struct pipeline *pl, struct policy_result *pr,
			const struct proc_info *pi, uint64_t ts_ms)
{
	for (unsigned i = 0; i < pr->n_alerts; i++) {
		struct alert *a = &pr->alerts[i];

		a->proc = pi;
		if (alert_out(pl, a, ts_ms) < 0)
			pl->st.dropped_records++;
		/* failures are counted and logged there */
		(void)hook_run(pl->hook, a, now_mono_ms());
	}
}

/* dir + "/" + name into out; dir "/" gives "/name". NULL when it does not fit. */
static const char *join(char *out, size_t out_len, const char *dir, const char *name,
			size_t name_len)
{
	size_t dl = strlen(dir);

	if (dl == 1 && dir[0] == '/')
		dl = 0;
	if (dl + 1 + name_len + 1 > out_len)
		return NULL;
	memmove(out, dir, dl);
	out[dl] = '/';
	memcpy(out + dl + 1, name, name_len);
	out[dl + 1 + name_len] = '\0';
	return out;
}

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s && s[1] ? s + 1 : path;
}

struct paths {
	const char *path;
	const char *dir;	/* parent directory of path, when known */
	const char *name;
	const char *old_path;
	const char *old_dir;
	bool fd_is_dir;		/* FD mode: the kernel sets FAN_ONDIR only for FID groups */
	bool stated;		/* fd_is_dir, nlink, dev and ino are known */
	nlink_t nlink;
	dev_t dev;
	ino_t ino;
	char path_buf[PATH_BUF];
	char dir_buf[PATH_BUF];
	char old_buf[PATH_BUF];
	char old_dir_buf[PATH_BUF];
	char tmp[PATH_BUF];
};

/* Path of a directory-entry info record: the directory (copied into dir_out) + its name. */
static const char *entry_path(struct pipeline *pl, const struct fan_fid *rec, char *out,
			      char *dir_out, const char **ret_dir, const char **ret_name,
			      char *tmp)
{
	const struct fan_fs *fs = fan_fs_find(pl->fan, rec->fsid);
	const char *dir;
	size_t dl;

	dir = resolve_handle(pl->resolve, fs ? fs->view_fd : NULL, fs ? fs->n_views : 0, rec, true,
			     tmp, PATH_BUF);
	if (!dir)
		return NULL;
	dl = strlen(dir);
	memcpy(dir_out, dir, dl + 1);
	if (!rec->name || (rec->name_len == 1 && rec->name[0] == '.')) {
		/* An event on the directory itself: the record names it with ".". */
		*ret_name = base_name(dir_out);
		*ret_dir = NULL;
		return dir_out;
	}
	*ret_dir = dir_out;
	*ret_name = rec->name;
	return join(out, PATH_BUF, dir_out, rec->name, rec->name_len);
}

static void paths_init(struct paths *p)
{
	p->path = p->dir = p->name = p->old_path = p->old_dir = NULL;
	p->fd_is_dir = p->stated = false;
	p->nlink = 0;
	p->dev = 0;
	p->ino = 0;
}

/* fstat of an open fd reads the in-memory inode: nothing to wait for. */
static int stat_fd(int fd, struct paths *p)
{
	struct stat st;

	if (p->stated)
		return 0;
	if (fstat(fd, &st) < 0)
		return -errno;
	p->fd_is_dir = S_ISDIR(st.st_mode);
	p->nlink = st.st_nlink;
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	p->stated = true;
	return 0;
}

static void resolve_paths(struct pipeline *pl, const struct fan_event *ev, struct paths *p)
{
	if (ev->fd >= 0) {
		int n = resolve_fd_path(pl->resolve, ev->fd, p->path_buf, sizeof(p->path_buf));
		static const char deleted[] = " (deleted)";
		const size_t dl = sizeof(deleted) - 1;

		/* d_path() marks an unlinked file with a suffix that is not part of its name
		 * (a real name may end so too: only strip for nlink 0). Only then is the
		 * inode needed before the answer; otherwise stat_fd() runs after it. */
		if (n > (int)dl && memcmp(p->path_buf + n - dl, deleted, dl) == 0 &&
		    stat_fd(ev->fd, p) == 0 && p->nlink == 0)
			p->path_buf[n - dl] = '\0';
		if (n >= 0)
			p->path = p->path_buf;
		p->name = base_name(p->path);
		return;
	}
	if (ev->new_dfid.type || ev->old_dfid.type) {
		const char *unused;

		if (ev->new_dfid.type)
			p->path = entry_path(pl, &ev->new_dfid, p->path_buf, p->dir_buf, &p->dir,
					     &p->name, p->tmp);
		if (ev->old_dfid.type)
			p->old_path = entry_path(pl, &ev->old_dfid, p->old_buf, p->old_dir_buf,
						 &p->old_dir, &unused, p->tmp);
		if (!p->name && ev->new_dfid.name)
			p->name = ev->new_dfid.name;
		return;
	}
	if (ev->dfid.type) {
		p->path = entry_path(pl, &ev->dfid, p->path_buf, p->dir_buf, &p->dir, &p->name,
				     p->tmp);
		if (!p->path && ev->dfid.name && strcmp(ev->dfid.name, ".") != 0)
			p->name = ev->dfid.name; /* directory gone: the name is still known */
		return;
	}
	if (ev->fid.type) {
		const struct fan_fs *fs = fan_fs_find(pl->fan, ev->fid.fsid);

		p->path = resolve_handle(pl->resolve, fs ? fs->view_fd : NULL, fs ? fs->n_views : 0,
					 &ev->fid, false, p->path_buf, sizeof(p->path_buf));
		p->name = base_name(p->path);
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd); /* event fds and pidfds: nothing to flush */
	*fd = -1;
}

/*
 * The responder: the only place a permission event is answered (fan_respond() is the
 * system call). The answer is recorded on the event, so that every later call for it does
 * nothing: batch-allow, the decision, the self and malformed-event paths and the final
 * check in release() all come through here, and the event is answered exactly once. The
 * event fd stays open (the path lookup and the allow cache still need it). Our own events
 * are answered without being counted.
 */
static void respond(struct pipeline *pl, int group_fd, struct fan_event *ev, bool allow)
{
	uint64_t t;
	int r;

	if (!(ev->mask & FAN_PERM_EVENTS) || ev->fd < 0 || ev->answered)
		return;
	t = now_mono_ns();
	r = fan_respond(group_fd, ev->fd, allow);
	ev->answered = true;
	if (r < 0) {
		pl->st.answer_errors++;
		log_rl_errno(LOG_LEVEL_WARN, r, "answering a permission event failed");
	}
	if (ev->pid == pl->self)
		return;
	/* The write wakes the opener: on a VM that can cost more than the decision. */
	latency_note(&pl->st.decide, t - pl->read_ns);
	latency_note(&pl->st.answer, now_mono_ns() - pl->read_ns);
	pl->st.perm_answered++;
	if (!allow)
		pl->st.perm_denied++;
}

/*
 * The pipeline's single exit for an event: a permission event must have been answered by
 * now (a path that forgot to is a bug: it is counted, logged and the event allowed, so no
 * opener waits), then its fds are closed.
 */
static void release(struct pipeline *pl, int group_fd, struct fan_event *ev)
{
	if ((ev->mask & FAN_PERM_EVENTS) && ev->fd >= 0 && !ev->answered) {
		pl->st.unanswered++;
		log_rl(LOG_LEVEL_ERR, "bug: a permission event left the pipeline unanswered; "
				      "allowed");
		respond(pl, group_fd, ev, true);
	}
	close_fd(&ev->fd);
	close_fd(&ev->pidfd);
}

/* The process of ev into out, once the connector's pending notices are read: the fork and
 * exec notices of every process in the batch are queued by then. */
static void proc_of(struct pipeline *pl, const struct fan_event *ev, bool pinned,
		    struct proc_info *out)
{
	if (pl->drain_pending) {
		proc_drain(pl->proc, false);
		pl->drain_pending = false;
	}
	proc_lookup(pl->proc, ev->pid, ev->pidfd, pinned, out);
}

/* One decoded event, from its paths to its records; answers it when the policy decides
 * (unless batch-allow did already). release() closes its fds afterwards. ts_ms is the
 * batch's wall clock, policy_ms the policy's (policy_clock()). */
static void handle_event(struct pipeline *pl, int group_fd, struct fan_event *ev, uint64_t ts_ms,
			 uint64_t policy_ms)
{
	bool perm = ev->mask & FAN_PERM_EVENTS;
	struct record_event rec = { .ts_ms = ts_ms };
	struct paths p;
	struct policy_result pr;
	struct policy_input pin;
	bool by_proc;

	/* Only the small fields: the path buffers (20 KiB) are written before they are read. */
	paths_init(&p);
	pl->st.events++;
	if (ev->mask & FAN_Q_OVERFLOW) {
		emit_overflow(pl, ts_ms);
		return;
	}
	if (ev->pid == pl->self) {
		/* Our own activity (the output thread's reopen, pid-file rename): never
		 * reported, and a permission event of ours is allowed at once. */
		pl->st.self_events++;
		respond(pl, group_fd, ev, true);
		return;
	}
	if (ev->mask & FAN_MOVE_SELF) {
		/* A watched directory or one above it moved (fan.c mark_ancestors()): the
		 * cached paths are stale. Not an event anyone asked for: no record. */
		resolve_flush(pl->resolve);
		pl->st.moves++;
		ev->mask &= ~(uint64_t)FAN_MOVE_SELF;
		if (!(ev->mask & ~(uint64_t)FAN_ONDIR))
			return;
	}
	if (ev->bad_info)
		pl->st.bad_info++;
	pl->st.unknown_info += ev->unknown_info;
	/* When no rule can deny, the answer needs nothing of the event: it goes first
	 * (batch-allow in read_batch() has usually given it already). */
	if (!pl->policy->deny_on_alert)
		respond(pl, group_fd, ev, true);

	resolve_paths(pl, ev, &p);

	if (!perm && (ev->mask & DIRENT_EVENTS) && ev->fd < 0) {
		const struct fan_fid *rec_fid = ev->new_dfid.type ? &ev->new_dfid
						: ev->dfid.type	   ? &ev->dfid
						: ev->old_dfid.type ? &ev->old_dfid
								    : &ev->fid;
		const struct fan_fs *fs = rec_fid->type ? fan_fs_find(pl->fan, rec_fid->fsid) : NULL;

		if (fan_out_of_scope(pl->fan, fs, p.path, p.dir) &&
		    (!p.old_path || fan_out_of_scope(pl->fan, fs, p.old_path, p.old_dir))) {
			pl->st.out_of_scope++;
			return;
		}
	}

	/* Policy is in-memory and bounded (policy.c): it may run before the answer. When it
	 * decides by the process (a job's cgroup, a burst scope), the process is looked up
	 * first: from the cache, or /proc for a process not seen before. */
	by_proc = policy_needs_proc(pl->policy);
	if (by_proc) {
		proc_of(pl, ev, perm && !ev->answered, &rec.proc);
		if (policy_needs_ancestry(pl->policy))
			proc_ancestry(pl->proc, &rec.proc);
	}
	pin = (struct policy_input){
		.mask = ev->mask,
		.pid = ev->pid,
		.path = p.path,
		.old_path = p.old_path,
		.now_ms = policy_ms,
		.proc = by_proc ? &rec.proc : NULL,
	};
	policy_eval(pl->policy, &pin, &pr);
	if (pr.decisions_changed)
		cache_flush(pl->cache);
	/* Answer before anything slow: the opener is blocked until we do. */
	respond(pl, group_fd, ev, pr.verdict != VERDICT_DENY);
	/* Only for events a mark would spare the opener (not an exec's OPEN_EXEC_PERM), and
	 * only for a file with one name: the mark is on the inode, so a second name (a hard
	 * link to a canary) would let the canary's own name through unasked. Never for a
	 * canary (each of its opens must raise its alert) nor while a containment runs (a
	 * contained process must be asked about every file). */
	if (ev->fd >= 0 && stat_fd(ev->fd, &p) == 0 && pl->cache->on &&
	    (ev->mask & CACHE_EVENTS) && pr.verdict == VERDICT_ALLOW &&
	    !pr.canary && !p.fd_is_dir && p.nlink == 1 &&
	    !policy_containing(pl->policy, policy_ms))
		cache_allow(pl->cache, ev->fd, p.dev, p.ino);
	/* Answered above: the fd is not needed any more (release() checks the answer). */
	if (!perm || ev->answered)
		close_fd(&ev->fd);

	/* A renamed or removed directory invalidates every cached path below it. */
	if ((ev->mask & FAN_ONDIR) &&
	    (ev->mask & (FAN_RENAME | FAN_MOVED_FROM | FAN_MOVED_TO | FAN_DELETE)))
		resolve_flush(pl->resolve);

	/* After the answers above: exec notices read /proc, which can take a while. */
	if (!by_proc)
		proc_of(pl, ev, false, &rec.proc);

	rec.mask = ev->mask;
	rec.verdict = pr.verdict;
	rec.job_id = pr.job_id;
	rec.path_role = pr.path_role;
	rec.reason = pr.verdict == VERDICT_DENY ? pr.deny_reason : NULL;
	rec.path = p.path;
	rec.name = p.name;
	rec.is_dir = (ev->mask & FAN_ONDIR) || p.fd_is_dir;
	rec.is_rename = ev->mask & FAN_RENAME;
	rec.old_path = p.old_path;
	if (!p.path)
		pl->st.unresolved++;
	batch_begin(pl, ts_ms);
	rec.seq = ++pl->seq;
	counted(pl, out_event(pl, &rec));
	emit_alerts(pl, &pr, &rec.proc, ts_ms);
}

/*
 * Decodes a whole read into evs (at most cap events). Returns how many decoded; if the
 * read ends in an undecodable event, it is evs[that count] and *ret_bad is set (its mask,
 * fd and pid are filled when its first 24 bytes were there, so it can be answered).
 * decode_event() clears each event, answered included.
 */
static unsigned decode_read(const unsigned char *p, size_t n, struct fan_event *evs,
			    unsigned cap, bool *ret_bad)
{
	unsigned k = 0;

	*ret_bad = false;
	while (n > 0 && k < cap) {
		int r = decode_event(p, n, &evs[k]);

		if (r < 0) {
			*ret_bad = true;
			break;
		}
		k++;
		p += r;
		n -= (size_t)r;
	}
	return k;
}
/* Between FID events: a look at the permission group, at most every PIPELINE_PERM_POLL_NS, so
 * an opener never waits for a whole batch of records to be written. */
static void perm_poll(struct pipeline *pl)
{
	if (now_mono_ns() - pl->perm_read_ns >= PIPELINE_PERM_POLL_NS)
		(void)pipeline_read_group(pl, pl->fan->fd_fd, false);
}

/*
 * Bytes to read from a group so that its events' descriptors fit in what is free: an FD
 * group opens one fd per event (the kernel denies a permission event it cannot open one
 * for, and we never see it), an FID group with pidfds one pidfd per event. Subscribers
 * and the pidfds of an FID read being handled (perm_poll() reads in between) count.
 */
static size_t read_len(const struct pipeline *pl, bool fid)
{
	int64_t free_fds = (int64_t)pl->nofile - pl->fds_fixed - pl->sock->n_clients -
			   PIPELINE_FD_SPARE - (fid ? 0 : pl->fid_fds_held);
	size_t per_event = fid ? PIPELINE_FID_EVENT_MIN : DECODE_METADATA_LEN;

	if (fid && !pl->fan->pidfd)
		return PIPELINE_READ_BUF;
	if (free_fds < 1)
		free_fds = 1; /* one at a time; EMFILE is then reported (fd_exhausted) */
	if ((uint64_t)free_fds >= PIPELINE_READ_BUF / per_event)
		return PIPELINE_READ_BUF;
	return (size_t)free_fds * per_event;
}

/*
 * The policy's clock for a batch read at ts_ms (mono_ns: CLOCK_MONOTONIC then): ts_ms less
 * the wall clock's offset from CLOCK_MONOTONIC. The offset is taken once, and again only when the wall clock has been
 * stepped (it drifts from CLOCK_MONOTONIC by more than PIPELINE_CLOCK_STEP_MS; slewing moves
 * both alike), which a clock record reports. So the policy's windows never jump with the wall
 * clock, and between steps they see exactly the intervals of the records' ts_ms: a replay
 * (replay.c) clocked by ts_ms, less each clock record's step_ms, decides as the live policy
 * did.
 */
static uint64_t policy_clock(struct pipeline *pl, uint64_t ts_ms, uint64_t mono_ns)
{
	int64_t off = (int64_t)ts_ms - (int64_t)(mono_ns / 1000000);
	int64_t step = off - pl->clock_off_ms;

	if (!pl->clock_anchored) {
		pl->clock_anchored = true;
		pl->clock_off_ms = off;
	} else if (step > PIPELINE_CLOCK_STEP_MS || step < -PIPELINE_CLOCK_STEP_MS) {
		pl->clock_off_ms = off;
		batch_begin(pl, ts_ms);
		counted(pl, out_clock(pl, ++pl->seq, ts_ms, step));
		log_rl(LOG_LEVEL_WARN, "the wall clock was stepped by %+" PRId64 " ms", step);
	}
	return (uint64_t)((int64_t)ts_ms - pl->clock_off_ms);
}

uint64_t pipeline_policy_ms(const struct pipeline *pl)
{
	if (!pl->clock_anchored)
		return now_mono_ms();
	return (uint64_t)((int64_t)now_real_ms() - pl->clock_off_ms);
}

/* The kernel could not open a descriptor for an event: a permission event was denied
 * (the opener got EPERM), a notification lost. Said as an alert, like an overflow. */
static void emit_fd_exhausted(struct pipeline *pl, int err, bool perm_group)
{
	const char *reason = perm_group
				     ? "no descriptor for a permission event: the kernel denied it"
				     : "no descriptor for an event: the kernel dropped it";

	pl->st.fd_denied++;
	emit_kernel_alert(pl, now_real_ms(), ALERT_FD_EXHAUSTED, "<fd_exhausted>", reason);
	log_rl_errno(LOG_LEVEL_WARN, err, "reading fanotify events (%s)", reason);
}

unsigned pipeline_read_group(struct pipeline *pl, int group_fd, bool fid)
{
	unsigned char *buf = fid ? pl->fid_readbuf : pl->readbuf;
	bool perm_group = !fid && pl->fan->fd_is_perm;
	bool poll_perm = fid && pl->fan->fd_is_perm;
	bool *reading = fid ? &pl->reading_fid : &pl->reading_perm;
	unsigned events = 0;

	/* Never inside itself: the buffer is in use (perm_poll() and the containment
	 * look at the FID group below call across the two groups). */
	if (*reading)
		return 0;
	*reading = true;
	for (unsigned i = 0; i < PIPELINE_READS_PER_TURN; i++) {
		size_t len = read_len(pl, fid);
		ssize_t n = read(group_fd, buf, len);
		struct fan_event *evs = fid ? pl->fid_evs : pl->perm_evs;
		unsigned n_ev;
		bool bad;
		size_t got;
		uint64_t ts_ms, mono_ns, policy_ms;

		if (perm_group)
			pl->perm_read_ns = now_mono_ns();
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				emit_fd_exhausted(pl, errno, perm_group);
				continue; /* the next event may fit */
			}
			if (errno != EAGAIN) {
				pl->st.read_errors++;
				log_rl_errno(LOG_LEVEL_WARN, errno, "reading fanotify events failed");
			}
			break;
		}
		if (n == 0)
			break;
		got = (size_t)n;
		if (fid && pl->fan->pidfd)
			pl->fid_fds_held = (unsigned)(got / PIPELINE_FID_EVENT_MIN);
		ts_ms = now_real_ms();
		mono_ns = now_mono_ns();
		policy_ms = policy_clock(pl, ts_ms, mono_ns);
		if (perm_group) {
			pl->read_ns = mono_ns;
			now_batch_start(&pl->perm_batches, pl->read_ns);
		}
		/* Every process in this batch has had its fork/exec notice queued by now; it
		 * is read before the first process lookup, after the first answer. */
		pl->drain_pending = true;
		n_ev = decode_read(buf, got, evs,
				   fid ? PIPELINE_FID_READ_EVENTS : PIPELINE_READ_EVENTS, &bad);
		/* The first batch after a quiet spell (main.c proc_timer()): the exec notices
		 * of its processes may not have been read as they came. The backlog is read
		 * quiet (a storm's notices cost no /proc read before an answer), then this
		 * batch's processes are read, before any answer: an opener waits for it, a
		 * writer may still live. */
		if (pl->proc->quiet) {
			proc_drain(pl->proc, true);
			pl->drain_pending = false;
			for (unsigned k = 0; k < n_ev; k++)
				proc_prefetch(pl->proc, evs[k].pid, evs[k].pidfd, perm_group);
		}
		/* Without a rule that can deny, every permission event of the read is allowed
		 * before any of them is handled: none waits for another's path, process lookup
		 * or record. */
		if (perm_group && !pl->policy->deny_on_alert)
			for (unsigned k = 0; k < n_ev + bad; k++)
				respond(pl, group_fd, &evs[k], true);
		/* Containment decides on writes the FID group reports: whatever the openers
		 * did before these opens is queued there by now, so it counts first. */
		if (perm_group && pl->policy->quarantine_ms && pl->fan->fid_fd >= 0)
			(void)pipeline_read_group(pl, pl->fan->fid_fd, true);
		for (unsigned k = 0; k < n_ev; k++) {
			handle_event(pl, group_fd, &evs[k], ts_ms, policy_ms);
			release(pl, group_fd, &evs[k]);
			events++;
			if (fid && pl->fid_fds_held)
				pl->fid_fds_held--;
			if (poll_perm)
				perm_poll(pl);
		}
		if (bad) {
			/* The rest of the read cannot be walked; what this event carries is
			 * allowed and closed. */
			pl->st.bad_events++;
			log_rl(LOG_LEVEL_WARN, "undecodable fanotify event, rest of the read skipped");
			respond(pl, group_fd, &evs[n_ev], true);
			release(pl, group_fd, &evs[n_ev]);
		}
		if (fid)
			pl->fid_fds_held = 0;
		/* One read's records at a time: bounds the batch (and our memory). */
		pipeline_flush(pl);
		if (perm_group)
			now_batch_end(&pl->perm_batches, now_mono_ns());
		/* A read that did not fill half the buffer most likely emptied the queue: the
		 * next epoll_wait() says if more came, without a read that fails here. */
		if (got < len / 2)
			break;
	}
	*reading = false;
	return events;
}

/* The q-quantile of a latency histogram, in microseconds: exact below PIPELINE_LAT_LINEAR,
 * above it the upper end of its power-of-two bucket. */
static uint64_t latency_quantile_us(const struct pipeline_lat *l, double q)
{
	const size_t n = PIPELINE_LAT_LINEAR + PIPELINE_LAT_LOG;
	uint64_t total = 0, seen = 0;

	for (size_t i = 0; i < n; i++)
		total += l->hist[i];
	if (!total)
		return 0;
	for (size_t i = 0; i < n; i++) {
		seen += l->hist[i];
		if ((double)seen >= q * (double)total)
			return i < PIPELINE_LAT_LINEAR ? i
						     : (2048ull << (i - PIPELINE_LAT_LINEAR)) - 1;
	}
	return 0; /* not reached: seen == total at the end */
}

void pipeline_stats(const struct pipeline *pl, struct stats *s)
{
	const struct pipeline_counts *st = &pl->st;

	s->events = st->events;
	s->records = st->records;
	s->alerts = st->alerts;
	s->perm_answered = st->perm_answered;
	s->perm_denied = st->perm_denied;
	s->answer_errors = st->answer_errors;
	s->unanswered = st->unanswered;
	s->answer_us_p50 = latency_quantile_us(&st->answer, 0.5);
	s->answer_us_p99 = latency_quantile_us(&st->answer, 0.99);
	s->answer_us_max = st->answer.max_ns / 1000;
	s->decide_us_p50 = latency_quantile_us(&st->decide, 0.5);
	s->decide_us_p99 = latency_quantile_us(&st->decide, 0.99);
	s->decide_us_max = st->decide.max_ns / 1000;
	s->self = st->self_events;
	s->out_of_scope = st->out_of_scope;
	s->overflows = st->overflows;
	s->bad_events = st->bad_events;
	s->bad_info = st->bad_info;
	s->unresolved = st->unresolved;
	s->moves = st->moves;
	s->fd_denied = st->fd_denied;
	s->dropped_records = st->dropped_records;
	s->read_errors = st->read_errors;
	s->unknown_info = st->unknown_info;
}

void pipeline_write_stats(struct pipeline *pl, struct stats *s)
{
	uint64_t ts_ms = now_real_ms(), seq;

	/* A dropped notice owed goes first, so dropped_records below includes its count. */
	batch_begin(pl, ts_ms);
	seq = ++pl->seq;
	pl->st.records++; /* the record counts itself */
	pipeline_stats(pl, s);
	if (out_stats(pl, seq, ts_ms, s) < 0) {
		pl->st.records--;
		pl->pending_dropped++;
		pl->st.dropped_records++;
		pipeline_stats(pl, s); /* the log line says so */
		return;
	}
	pl->batch_records++;
}

void pipeline_write_reload(struct pipeline *pl, const struct record_reload *r)
{
	uint64_t ts_ms = now_real_ms();

	batch_begin(pl, ts_ms);
	counted(pl, out_reload(pl, ++pl->seq, ts_ms, r));
}

int pipeline_set_ident(struct pipeline *pl, const char *run_id, const char *host,
		       bool record_host)
{
	int r;

	pl->ident.len = 0;
	r = record_ident(&pl->ident, run_id, NULL);
	if (r < 0)
		return r;
	pl->ident_run_len = pl->ident.len;
	pl->ident.len = 0;
	r = record_ident(&pl->ident, run_id, host);
	pl->ident_host = record_host;
	pl->run_id = run_id;
	pl->host = host;
	return r;
}

int pipeline_write_start(struct pipeline *pl, struct record_start *r)
{
	size_t start = pl->batch.len;
	int err;

	r->seq = pl->seq + 1;
	r->ts_ms = now_real_ms();
	err = tail_on(pl, start, record_start(&pl->batch, r), true);
	if (err == 0 && pl->text) {
		struct text_style st = text_style(pl, r->ts_ms);

		err = text_too(pl, start, err,
			       text_start(&pl->text_batch, r->ts_ms, pl->host, r->version,
					  pl->run_id, &st));
	}
	if (err < 0)
		return err;
	pl->seq++;
	pl->batch_records++;
	pl->st.records++;
	return 0;
}

void pipeline_write_stop(struct pipeline *pl, const char *reason)
{
	uint64_t ts_ms = now_real_ms();
	size_t start;
	int r;

	/* A dropped notice owed goes first, so dropped_records below includes its count. */
	batch_begin(pl, ts_ms);
	start = pl->batch.len;
	r = tail_on(pl, start,
		    record_stop(&pl->batch, pl->seq + 1, ts_ms, reason, pl->st.dropped_records),
		    true);
	if (r == 0 && pl->text) {
		struct text_style st = text_style(pl, ts_ms);

		r = text_too(pl, start, r,
			     text_stop(&pl->text_batch, ts_ms, reason, pl->seq + 1,
				       pl->st.dropped_records, &st));
	}
	pl->seq++;
	counted(pl, r);
}

/* Policy is read only while an event is handled, and the loop thread that calls this is
 * the one that handles events: no event sees two policies. */
void pipeline_set_policy(struct pipeline *pl, struct policy *policy)
{
	pl->policy = policy;
}

void pipeline_set_text(struct pipeline *pl, bool text, bool color)
{
	pl->text = text;
	pl->text_color = text && color;
	/* The zone file is read now, at start, before the seccomp filter and the marks:
	 * localtime_r() (text_utc_offset_s()) then only uses what tzset() loaded. */
	if (text)
		tzset();
}

void pipeline_flush(struct pipeline *pl)
{
	const struct buf *file = pl->text ? &pl->text_batch : &pl->batch;

	if (!pl->batch.len)
		return;
	/* Subscribers get exactly the records the output file gets: nothing it dropped. */
	if (sink_file_write(pl->out, file->data, file->len, pl->batch_dropped) < 0) {
		/* A notice opening the batch is dropped too: its count is owed again. */
		pl->pending_dropped += pl->batch_records + pl->batch_dropped;
		pl->st.dropped_records += pl->batch_records;
		log_rl(LOG_LEVEL_WARN, "output queue full: %u records dropped", pl->batch_records);
	} else if (pl->sock->n_clients) {
		/* Batched there: sink_sock_flush() sends them. */
		sink_sock_write(pl->sock, pl->batch.data, pl->batch.len, pl->batch_records,
				now_mono_ms());
	}
	pl->batch.len = 0;
	pl->text_batch.len = 0;
	pl->batch_records = 0;
	pl->batch_dropped = 0;
}

int pipeline_init(struct pipeline *pl, struct fan *fan, struct resolve *resolve,
		  struct proc *proc, struct policy *policy, struct cache *cache, struct hook *hook,
		  struct sink_file *out, struct sink_sock *sock, pid_t self)
{
	pl->fan = fan;
	pl->resolve = resolve;
	pl->proc = proc;
	pl->policy = policy;
	pl->cache = cache;
	pl->hook = hook;
	pl->out = out;
	pl->sock = sock;
	pl->self = self;
	pl->readbuf = malloc(PIPELINE_READ_BUF);
	pl->fid_readbuf = malloc(PIPELINE_READ_BUF);
	pl->perm_evs = calloc(PIPELINE_READ_EVENTS, sizeof(*pl->perm_evs));
	pl->fid_evs = calloc(PIPELINE_FID_READ_EVENTS, sizeof(*pl->fid_evs)); /* 76 KiB, not 152 */
	if (!pl->readbuf || !pl->fid_readbuf || !pl->perm_evs || !pl->fid_evs)
		return -ENOMEM;
	return 0;
}

void pipeline_free(struct pipeline *pl)
{
	free(pl->readbuf);
	free(pl->fid_readbuf);
	free(pl->perm_evs);
	free(pl->fid_evs);
	pl->readbuf = pl->fid_readbuf = NULL;
	pl->perm_evs = pl->fid_evs = NULL;
	buf_free(&pl->batch);
	buf_free(&pl->text_batch);
}
