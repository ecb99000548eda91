/*
 * proc.h - pid -> comm, exe, ppid, uid, session id and cgroup, through a bounded cache fed
 * by the proc connector (exec, fork, comm, sid, exit notices) and by /proc reads while a
 * process lives.
 */
#ifndef FANOTIFYD_PROC_H
#define FANOTIFYD_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "event.h"

#define PROC_CACHE_MAX 4096	/* processes remembered (power of two) */
#define PROC_COMM_LEN 16	/* TASK_COMM_LEN */
#define PROC_CGROUPS_MAX 1024	/* distinct cgroup paths held at once (interned) */
#define PROC_CGROUP_SLOTS 2048	/* their hash table (power of two, 2x the maximum) */
#define PROC_CGROUP_PROBE 16	/* probes per lookup: bounds the work a crafted name costs */
#define PROC_CGROUP_FILE_MAX 8192 /* bytes of /proc/PID/cgroup read (v1 lines included) */
#define PROC_QUIET_DRAIN_MS 100	/* quiet: a window of wake-ups, and a storm's drain after */
#define PROC_QUIET_WAKES 10	/* quiet: notices read at once per window (a few processes) */

struct proc_entry {
	pid_t pid;		/* 0 = empty */
	pid_t ppid;
	uid_t uid;
	bool ppid_known;
	bool uid_known;
	pid_t sid;		/* session id */
	bool sid_known;
	bool exited;		/* the connector saw it exit: data describes a dead process */
	bool cgroup_stale;	/* exec'd since the cgroup was read: read it at the next
				 * lookup while the process lives */
	bool comm_known;
	char comm[PROC_COMM_LEN];
	char *exe;		/* owned; NULL = unknown */
	const char *cgroup;	/* one reference to a string of the cgroup table; NULL =
				 * unknown */
};

/* One interned cgroup path, shared by the entries of every process in that cgroup. */
struct proc_cgroup {
	char *path;		/* owned; NULL = free slot */
	uint32_t hash;
	uint32_t refs;		/* entries pointing at path */
};

/* Each slot keeps the current holder of a pid and, after pid reuse, the one before it,
 * whose late events may still be queued. */
struct proc_slot {
	struct proc_entry cur;
	struct proc_entry prev;
};

struct proc {
	int nl_fd;			/* proc connector socket, or -1 (then /proc only) */
	bool nl_trusted;		/* no connector message lost since the cache was reset */
	/* The connector's two speeds (main.c proc_timer()): eager, the loop reads each
	 * message as it comes, so an exec's exe is read while the process lives; quiet, from
	 * exec_hold_ms (config.h) after the last fanotify event on (and from the start),
	 * PROC_QUIET_WAKES wake-ups per PROC_QUIET_DRAIN_MS at most, then one drain with no
	 * /proc read. A host's exec storm then costs the daemon little, and an idle host
	 * nothing. */
	bool quiet;
	uint64_t fan_batches;		/* fanotify reads that found events (main.c) */
	uint64_t fan_batches_seen;	/* ... when proc_timer() last looked */
	uint64_t active_ms;		/* when it saw them move */
	uint64_t drain_ms;		/* quiet: the next drain is due (0: none until a notice) */
	uint64_t window_ms;		/* quiet: when the window of wake-ups began */
	unsigned window_wakes;		/* ... and the notices read at once in it */
	uint64_t quiet_spells;		/* times it went quiet (nl_quiet_spells) */
	struct proc_slot slots[PROC_CACHE_MAX];
	struct proc_cgroup cgroups[PROC_CGROUP_SLOTS];
	unsigned n_cgroups;		/* distinct paths held */
	uint64_t lookups;
	uint64_t exe_known;		/* lookups that found the exe */
	uint64_t exe_lost;		/* lookups of a process gone before its exe was read */
	uint64_t evictions;		/* entries dropped for another pid in their slot */
	uint64_t nl_messages;		/* connector messages read */
	uint64_t nl_overruns;		/* ENOBUFS: connector messages lost */
	uint64_t nl_quiet_execs;	/* exec notices read quiet: exe left to the lookup */
	uint64_t proc_reads;		/* processes read from /proc */
	uint64_t cgroup_unknown;	/* lookups that found no cgroup */
	uint64_t cgroup_full;		/* cgroups not kept: table full or probe too long */
};

/* Empties the cache and subscribes to the proc connector (needs CAP_NET_ADMIN); without it
 * the cache still works from /proc reads. Returns 0 (never fails hard). */
int proc_open(struct proc *p);

/*
 * Reads every pending connector message. Call after reading a batch of fanotify events and
 * before processing it: the lifecycle notices of every process in the batch are queued by
 * then. quiet: no /proc read (the loop's periodic drain while nothing watched happens, so
 * that a host's execs cost the daemon no file reads): an exec's exe and comm, and an unseen
 * parent, are left to the process's first lookup, which reads them if it still lives.
 */
void proc_drain(struct proc *p, bool quiet);

/*
 * Reads pid's exe (and the rest) now unless the cache has it: for the events of a batch
 * read while the connector was quiet (proc_drain()), before their permission events are
 * answered, so a short-lived opener is read while it waits for the answer. pidfd and
 * pinned as for proc_lookup(). Call after proc_drain().
 */
void proc_prefetch(struct proc *p, pid_t pid, int pidfd, bool pinned);

/*
 * Fills out for the process pid that caused an event. pidfd is the event's pidfd value
 * (>= 0 alive, FAN_NOPIDFD gone, EVENT_NO_PIDFD_RECORD unknown); pinned says the process is
 * blocked on our permission answer. Unknown fields are left NULL/false: never another
 * process's data. Strings in out are valid until the next proc_* call.
 */
void proc_lookup(struct proc *p, pid_t pid, int pidfd, bool pinned, struct proc_info *out);

/*
 * The cgroup v2 path in the text of a /proc/PID/cgroup file (len bytes): the rest of the
 * "0::" line, without its newline. Only that line counts: the others are cgroup v1
 * hierarchies (a hybrid host). Returns 0 and sets *ret_path (pointing into buf) and
 * *ret_len; -ENOENT without a "0::" line or with an empty or relative path. [pure]
 */
int proc_cgroup_parse(const char *buf, size_t len, const char **ret_path, size_t *ret_len);

/*
 * The interned copy of the cgroup path (len bytes), with one more reference; NULL when the
 * table is full (PROC_CGROUPS_MAX distinct paths, or PROC_CGROUP_PROBE probes: counted in
 * cgroup_full) or memory is short. proc_cgroup_put() returns the reference.
 */
const char *proc_cgroup_get(struct proc *p, const char *path, size_t len);

/* Drops one reference to an interned path (NULL: nothing); the last frees it. */
void proc_cgroup_put(struct proc *p, const char *cgroup);

/*
 * Fills out->ancestors with out->ppid and its ancestors, as far as the cache knows them (at
 * most EVENT_ANCESTORS_MAX; no /proc read): a walk of the cache by ppid.
 */
void proc_ancestry(const struct proc *p, struct proc_info *out);

/* Fills the process cache's counters of s (exe_known, proc_*, nl_*, cgroup_unknown). */
void proc_stats(const struct proc *p, struct stats *s);

/* Closes the connector and frees the cache; safe twice. */
void proc_close(struct proc *p);

#endif
