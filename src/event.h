/*
 * event.h - the plain types that flow down the pipeline: a decoded fanotify event, the
 * process behind it, the verdict and the alert; and struct stats, the counters every module
 * reports. No code lives here.
 *
 * kernel buffer -> decode (struct fan_event) -> resolve/proc (paths, struct proc_info)
 * -> policy (enum verdict, tags, struct alert) -> record (JSON line), hook (FAN_* env).
 */
#ifndef FANOTIFYD_EVENT_H
#define FANOTIFYD_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* pidfd value when the event carried no FAN_EVENT_INFO_TYPE_PIDFD record. */
#define EVENT_NO_PIDFD_RECORD (-3)

/*
 * One FID-style info record (FID, DFID, DFID_NAME, OLD_DFID_NAME, NEW_DFID_NAME).
 * handle and name point into the read buffer and are valid until the next read.
 */
struct fan_fid {
	uint8_t type;			/* FAN_EVENT_INFO_TYPE_*; 0 = record absent */
	uint64_t fsid;			/* fsid.val[0] | (uint64_t)fsid.val[1] << 32 */
	int32_t handle_type;		/* struct file_handle.handle_type */
	uint32_t handle_bytes;		/* length of handle */
	const unsigned char *handle;	/* opaque handle bytes, handle_bytes long */
	const char *name;		/* entry name, NUL-terminated in the buffer; NULL = none */
	size_t name_len;		/* strlen(name); 0 when name is NULL */
};

/* One event as read from a fanotify group. */
struct fan_event {
	uint64_t mask;			/* FAN_* bits as the kernel reported them */
	int fd;				/* event fd (FD mode) or FAN_NOFD; the caller owns it */
	pid_t pid;			/* tgid of the acting process (0 for overflow) */
	int pidfd;			/* >= 0: owned by the caller; FAN_NOPIDFD: process gone;
					 * FAN_EPIDFD: kernel error; EVENT_NO_PIDFD_RECORD */
	struct fan_fid fid;		/* FAN_EVENT_INFO_TYPE_FID: the object itself */
	struct fan_fid dfid;		/* DFID or DFID_NAME: parent directory (+ entry name) */
	struct fan_fid old_dfid;	/* FAN_RENAME: where the entry was */
	struct fan_fid new_dfid;	/* FAN_RENAME: where the entry is now */
	unsigned unknown_info;		/* info records of a type we do not know, skipped */
	bool bad_info;			/* an info record was malformed; later ones ignored */
	bool answered;			/* a permission event's response is written (set only
					 * by pipeline.c's respond(); decode leaves it false) */
};

enum verdict {
	VERDICT_OBSERVE,		/* not a permission event */
	VERDICT_ALLOW,
	VERDICT_DENY,
};

#define EVENT_ANCESTORS_MAX 4		/* ancestors a proc_info carries (parent first) */

/* What is known about the process behind an event. NULL/false = unknown (JSON null). */
struct proc_info {
	pid_t pid;
	pid_t ppid;
	bool ppid_known;
	uid_t uid;
	bool uid_known;
	pid_t sid;			/* session id (/proc/PID/stat) */
	bool sid_known;
	const char *comm;		/* borrowed from the process cache */
	const char *exe;		/* borrowed from the process cache */
	const char *cgroup;		/* cgroup v2 path ("/jobs.slice/j1.scope"), borrowed
					 * from the process cache */
	pid_t ancestors[EVENT_ANCESTORS_MAX];	/* ppid, its parent, ... as far as known */
	unsigned n_ancestors;		/* 0 = not looked up (only the parent burst scope
					 * asks: proc_ancestry()) */
};

/* What an alert is about; record.c names them ("canary", "burst", ...). The kinds policy.c
 * raises come first: it keeps per-kind state in arrays of POLICY_KINDS. */
enum alert_kind {
	ALERT_CANARY,			/* a canary path touched (policy.c) */
	ALERT_BURST,			/* mutating events of one process (policy.c) */
	ALERT_OVERFLOW,			/* the kernel's queue overflowed: events lost */
	ALERT_FD_EXHAUSTED,		/* the kernel had no descriptor for an event */
};

/*
 * One alert, for its record and its hook. policy.c fills kind to window_ms (pipeline.c
 * for the kernel's own kinds); pipeline.c adds seq, ts_ms and proc. Strings and proc are
 * borrowed, valid while the event is handled. NULL strings: JSON null, no variable.
 */
struct alert {
	enum alert_kind kind;
	pid_t pid;			/* the acting process; 0 for the kernel's own alerts */
	const char *path;		/* the path that raised it, or a <placeholder> */
	const char *reason;		/* static string */
	const char *job_id;		/* tags of path (not of the event's other path) */
	const char *path_role;
	unsigned count;			/* ALERT_BURST: events in the window */
	unsigned window_ms;		/* ALERT_BURST */
	const char *scope;		/* ALERT_BURST: what it was counted for ("process",
					 * "session", ...: config_scope_name()) */
	const char *scope_id_str;	/* ... its identity: a string (exe, cgroup, job) */
	int64_t scope_id;		/* ... or, when scope_id_str is NULL, a number (pid,
					 * session id, uid) */
	uint64_t seq;
	uint64_t ts_ms;
	const struct proc_info *proc;	/* NULL: no process (the kernel's own alerts); comm
					 * and exe are left out, not null */
};

/*
 * The daemon's counters at one moment, as the stats record and the SIGUSR1 log line give
 * them (record.c names each field by its key, in this order; every field is a uint64_t).
 * Each module fills its own part (proc_stats(), resolve_stats(), ...). Counts are since
 * start unless the comment says otherwise.
 */
struct stats {
	/* pipeline.c */
	uint64_t events;		/* events read (overflow included) */
	uint64_t records;		/* records produced (events, alerts, dropped notices,
					 * stats records: this one included) */
	uint64_t alerts;		/* alert records produced */
	uint64_t perm_answered;		/* permission events answered (ours left out) */
	uint64_t perm_denied;
	uint64_t answer_errors;		/* responses the kernel refused */
	uint64_t unanswered;		/* permission events a path forgot to answer (a bug) */
	uint64_t answer_us_p50;		/* read to response written, microseconds */
	uint64_t answer_us_p99;
	uint64_t answer_us_max;
	uint64_t decide_us_p50;		/* read to the response's write() call, microseconds */
	uint64_t decide_us_p99;
	uint64_t decide_us_max;
	uint64_t spins;			/* polls of the permission group before sleeping */
	uint64_t spin_hits;		/* ... that found an event */
	uint64_t cache_marks;		/* --allow-cache ignore marks added */
	uint64_t cache_errors;		/* ... refused */
	uint64_t cache_flushes;
	uint64_t self;			/* events of our own activity, skipped */
	uint64_t out_of_scope;		/* filesystem-mark events outside every --mount */
	uint64_t overflows;
	uint64_t bad_events;		/* undecodable metadata: rest of the read skipped */
	uint64_t bad_info;		/* events with a malformed info record */
	uint64_t unresolved;		/* event records whose path is null */
	uint64_t moves;			/* moves of a watched directory or one above it */
	uint64_t fd_denied;		/* events the kernel gave up for want of an fd */
	uint64_t dropped_records;	/* records lost: output queue full or write failed */
	/* sink_file.c */
	uint64_t out_buf_kib;		/* the output queue's two buffers' capacity */
	uint64_t out_backlog_max_kib;	/* largest backlog so far */
	/* proc.c */
	uint64_t exe_known;		/* lookups that found the exe */
	uint64_t proc_lookups;
	uint64_t proc_evictions;	/* entries dropped for another pid in their slot */
	uint64_t nl_overruns;		/* proc connector messages lost (ENOBUFS) */
	/* resolve.c */
	uint64_t dircache_hits;
	uint64_t dircache_misses;
	uint64_t dircache_evictions;
	/* policy.c */
	uint64_t policy_suppressed;	/* alerts held back by the cooldown */
	uint64_t policy_evictions;	/* process and burst scope states dropped for room */
	uint64_t quarantine_denials;
	/* hook.c */
	uint64_t hooks_started;
	uint64_t hooks_dropped;		/* not run: hook_max reached */
	uint64_t hooks_killed;		/* at their timeout */
	uint64_t hooks_failed;		/* fork failed or exited non-zero */
	uint64_t hooks_own;		/* alerts of a hook's own activity: no hook run */
	/* log.c */
	uint64_t log_dropped;		/* log lines the log queue had no room for */
	/* sink_sock.c */
	uint64_t sock_clients;		/* connected now */
	uint64_t sock_accepted;
	uint64_t sock_refused;		/* peer-credential or max_clients refusals */
	uint64_t sock_refused_full;	/* of those, because max_clients were connected */
	uint64_t sock_disconnected;	/* went away by themselves */
	uint64_t sock_dropped_clients;	/* disconnected for falling behind */
	uint64_t sock_dropped_records;	/* records those missed */
	uint64_t sock_accept_pauses;	/* times accepting stopped for lack of fds */
	/* Added after the first 53 (appended: readers of the log line keep working). */
	uint64_t read_errors;		/* pipeline.c: reads of a group that failed */
	uint64_t unknown_info;		/* pipeline.c: info records of unknown type, skipped */
	uint64_t out_write_errors;	/* sink_file.c: writes that failed (records lost) */
	uint64_t nl_messages;		/* proc.c: proc connector messages read */
	uint64_t proc_reads;		/* proc.c: files read under /proc */
	uint64_t dircache_flushes;	/* resolve.c: whole-cache flushes (directory moved) */
	uint64_t resolve_failures;	/* resolve.c: handles no view could name (gone) */
	uint64_t cgroup_unknown;	/* proc.c: lookups that found no cgroup */
	uint64_t burst_unknown;		/* policy.c: mutating events a burst scope could not
					 * count (identity unknown) */
	uint64_t nl_quiet_execs;	/* proc.c: exec notices read quiet (exe left to the
					 * process's first lookup) */
	uint64_t nl_quiet_spells;	/* main.c: times the connector went quiet */
	uint64_t exe_lost;		/* proc.c: lookups of a process gone before its exe was
					 * read (a null exe in the record) */
};

#endif
