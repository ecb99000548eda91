/*
 * policy.h - job/path_role tags, canaries, burst windows, containment -> alerts + verdict.
 * Pure: time is an argument, nothing is read from the system, nothing is logged.
 */
#ifndef FANOTIFYD_POLICY_H
#define FANOTIFYD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "event.h"

#define POLICY_PROCS_MAX 1024		/* processes with burst/cooldown state (power of two) */
#define POLICY_PROBE 8			/* hash probe length; bounds per-event work */
#define POLICY_ROOT_BUCKETS 1024	/* hash buckets for job roots (power of two) */
#define POLICY_CANARY_BUCKETS 1024	/* ... for exact canaries and for glob directories */
#define POLICY_CGROUP_BUCKETS 1024	/* ... for job cgroups */
#define POLICY_KINDS 2			/* alert kinds policy raises: ALERT_CANARY, ALERT_BURST */
#define POLICY_IDENTS_MAX 256		/* identities with a burst window, per scope other
					 * than process (power of two) */
#define POLICY_PARENT_DEPTH 2		/* ancestors an event counts for in the parent scope:
					 * its parent and grandparent */
/* Alerts one event can raise: a canary, a process burst, one burst per other scope (two
 * for parent). */
#define POLICY_ALERTS_MAX (2 + CONFIG_SCOPE_COUNT + POLICY_PARENT_DEPTH)

struct policy_root {
	char *path;			/* owned; no trailing '/' ("/" for the root) */
	size_t len;
	uint64_t hash;
	const char *job_id;		/* borrowed from the config; NULL when the directory is
					 * a root of several jobs */
	const char *owner;		/* the job that named it (never NULL) */
	enum config_role role;
	struct policy_root *same;	/* the same directory named by another job (path
					 * NULL, not in a bucket) */
	struct policy_root *next;	/* bucket chain */
};

/* A job's cgroup: its processes, and those of every cgroup below it, belong to the job. */
struct policy_cgroup {
	char *path;			/* owned; "/jobs.slice/J.scope", no trailing '/' */
	size_t len;
	uint64_t hash;
	const char *job_id;		/* borrowed from the config */
	struct policy_cgroup *next;	/* bucket chain */
};

struct policy_canary {
	const char *pattern;		/* borrowed from the config */
	size_t literal_len;		/* bytes before the first glob character */
	size_t suffix_len;		/* bytes after the last glob character */
	size_t pattern_len;
	size_t key_len;			/* bytes hashed: the whole pattern (exact) or the
					 * directory its literal head names (glob) */
	uint64_t hash;			/* of those key_len bytes */
	bool glob;			/* false: exact path, compared with strcmp */
	bool same_shape_next;		/* glob: next has the same key, literal head and tail */
	struct policy_canary *next;	/* bucket chain */
};

/* Per-process state: burst window, cooldowns, quarantine. */
struct policy_proc {
	pid_t pid;			/* 0 = free */
	uint64_t last_ms;		/* last event seen */
	uint64_t *ring;			/* owned; burst_threshold timestamps, oldest at head */
	unsigned head, n;
	uint64_t last_alert_ms[POLICY_KINDS];	/* per kind; 0 = never */
	bool alerted[POLICY_KINDS];
	unsigned canary_severity;	/* of the last canary alert reported */
	uint64_t quarantine_until_ms;	/* 0 = not quarantined */
};

/* One identity of a burst scope other than process (a parent pid, a session, a uid, an
 * exe ...): its burst window, burst alert cooldown and containment. */
struct policy_ident {
	bool used;			/* slots are reused, never emptied */
	uint64_t key;			/* the number, or the hash of str */
	char *str;			/* owned; exe, cgroup and job scopes; NULL for numbers */
	uint64_t last_ms;		/* last event counted */
	uint64_t *ring;			/* owned; threshold timestamps, oldest at head */
	unsigned head, n;
	bool alerted;			/* a burst alert reported (cooldown) */
	uint64_t last_alert_ms;
	uint64_t quarantine_until_ms;	/* 0 = not contained */
};

struct policy_scope {
	struct policy_ident *idents;	/* owned, POLICY_IDENTS_MAX; NULL = never counted */
	unsigned threshold;		/* 0: not counted (not in burst_scope) */
	unsigned window_ms;
	uint64_t quarantine_until_max;	/* latest end of a containment in this scope */
};

struct policy {
	struct policy_root *buckets[POLICY_ROOT_BUCKETS];
	struct policy_root *roots;	/* owned array */
	size_t n_roots;			/* distinct directories */
	size_t n_root_entries;		/* used entries of roots: a directory that several
					 * jobs name has one per job */
	struct policy_canary *canaries;	/* owned array */
	size_t n_canaries;
	/* Exact canaries by the hash of the path; globs by the hash of the directory their
	 * literal head names (for "/a/b/x*" it is "/a/b"), which the path must start
	 * with, so a lookup costs a hash probe per component of the path. */
	struct policy_canary *exact_buckets[POLICY_CANARY_BUCKETS];
	struct policy_canary *glob_buckets[POLICY_CANARY_BUCKETS];
	size_t max_root_depth;		/* components of the deepest root */
	struct policy_cgroup *cgroup_buckets[POLICY_CGROUP_BUCKETS];
	struct policy_cgroup *cgroups;	/* owned array */
	size_t n_cgroups;
	size_t max_cgroup_depth;	/* components of the deepest job cgroup */
	struct policy_proc procs[POLICY_PROCS_MAX];
	struct policy_proc nobody;	/* state of events without a process (pid 0) */
	unsigned burst_threshold;	/* process scope; 0 = not counted per process */
	unsigned burst_window_ms;
	/* The other scopes ([CONFIG_SCOPE_PROCESS] unused: procs[] counts that one). */
	struct policy_scope scopes[CONFIG_SCOPE_COUNT];
	bool by_proc;			/* a scope table exists: policy_eval() wants in->proc */
	uint64_t burst_unknown;		/* mutating events not counted for a scope: the
					 * identity was unknown (once per event and scope) */
	unsigned cooldown_ms;
	unsigned quarantine_ms;		/* 0: no containment */
	bool deny_on_alert;		/* with --perm */
	uint64_t suppressed;		/* alerts held back by the cooldown */
	uint64_t evictions;		/* process and scope states dropped for room */
	uint64_t quarantine_denials;
	uint64_t quarantine_until_max;	/* latest end of any containment */
};

struct policy_input {
	uint64_t mask;
	pid_t pid;
	const char *path;		/* NULL = unknown */
	const char *old_path;		/* rename: where it was */
	uint64_t now_ms;		/* the event's clock in milliseconds: live, the batch's
					 * CLOCK_MONOTONIC read beside its ts_ms; in a replay,
					 * ts_ms. Time stepping back counts as no time passed. */
	const struct proc_info *proc;	/* the process, when policy_needs_proc() asked for it
					 * before the answer; NULL = only pid is known */
};

struct policy_result {
	enum verdict verdict;
	const char *job_id;		/* borrowed from the config; NULL = none. The job of
					 * the process's cgroup (in->proc), else the path's */
	const char *path_role;		/* "rootfs" ...; NULL = none (also: a path outside
					 * the roots of the process's job) */
	const char *deny_reason;	/* why a permission event is denied */
	struct alert alerts[POLICY_ALERTS_MAX];	/* kind to scope_id filled; path borrowed
						 * from the input, scope_id_str from the
						 * policy (valid until the next call) */
	unsigned n_alerts;		/* alerts to report (after the cooldown) */
	bool canary;			/* the path (or old path) matches a canary */
	bool decisions_changed;		/* a permission event allowed before could now be
					 * denied or alerted: containment began, a canary
					 * path was created, renamed or linked to or otherwise
					 * touched, or a directory moved while canaries exist */
};

/* Builds the tables. Returns 0, -ENOMEM, or -EINVAL with a message (bad root). */
int policy_init(struct policy *p, const struct config *c, char *msg, size_t msg_len);

/* Tags, alerts and verdict for one event. A permission event (mask has a *_PERM bit) gets
 * VERDICT_ALLOW or VERDICT_DENY, anything else VERDICT_OBSERVE. */
void policy_eval(struct policy *p, const struct policy_input *in, struct policy_result *out);

/* True when policy_eval() needs in->proc (a job names a cgroup, a burst is counted for
 * something other than the process): the pipeline looks the process up before it answers. */
bool policy_needs_proc(const struct policy *p);

/* True when the parent burst scope is kept: in->proc should carry the ancestors
 * (proc_ancestry()). */
bool policy_needs_ancestry(const struct policy *p);

/* True while any process is contained (its permission events are all denied). */
bool policy_containing(const struct policy *p, uint64_t now_ms);

/* Job and role of a path by path components; the longest root wins (the path alone: a
 * process's cgroup is policy_eval()'s to weigh). */
void policy_tag(const struct policy *p, const char *path, const char **ret_job,
		const char **ret_role);

/* The job whose cgroup is cgroup or one above it (the longest wins), or NULL. */
const char *policy_cgroup_job(const struct policy *p, const char *cgroup);

/* True when any canary pattern matches path (fnmatch, FNM_PATHNAME). */
bool policy_canary_match(const struct policy *p, const char *path);

/*
 * A reload: moves old's per-process state into new (built by policy_init() from the new
 * config) so that a reload releases no one: containments run to their end, cooldowns and
 * canary severities go on. Burst windows are kept when their scope's threshold is
 * unchanged (each holds that many timestamps); otherwise their counts start over. A scope
 * no longer counted keeps its containments to their end. The counters carry on.
 * old is left without process state (policy_free() it after).
 */
void policy_carry(struct policy *new, struct policy *old);

/* Fills the policy's counters of s (policy_*, quarantine_denials, burst_unknown). */
void policy_stats(const struct policy *p, struct stats *s);

/* Releases the tables; safe on a zeroed struct and twice. */
void policy_free(struct policy *p);

#endif
