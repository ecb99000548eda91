/*
 * replay.h - fanotifyd --replay FILE: a recorded JSONL stream through the configured policy,
 * with no fanotify, no marks, no hooks run and no privilege. Writes what the live daemon
 * would have written for policy (alert records, decision records for the permission events
 * it would deny or decide otherwise than recorded) and a replay_summary record; --sweep
 * writes one summary per value of one policy key.
 */
#ifndef FANOTIFYD_REPLAY_H
#define FANOTIFYD_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event.h"
#include "policy.h"
#include "record.h"

#define REPLAY_LINE_MAX (1u << 20)	/* bytes; a longer line is malformed, and skipped
					 * without being held (a record with four _raw
					 * arrays of PATH_MAX bytes is under 90 KiB) */
#define REPLAY_TOP 10			/* processes and jobs listed in the summary; the rest
					 * summed */
#define REPLAY_PROCS_MAX 4096		/* processes counted one by one (power of two); more
					 * are summed into "other" */
#define REPLAY_TYPES_MAX 16		/* record types counted by name; more: "other" */
#define REPLAY_TYPE_LEN 48		/* bytes of a type or reason name kept */
#define REPLAY_BAD_LINES 10		/* malformed line numbers listed */
#define REPLAY_REASONS_MAX 16		/* distinct alert / deny reasons counted */
#define REPLAY_SWEEP_VALUES_MAX 64
#define REPLAY_STORE_MAX (1ull << 30)	/* bytes of events kept in memory for --sweep */

/* One event record as policy needs it. Strings point into the parser's buffers (valid
 * until the next parse); NULL = null or absent. */
struct replay_event {
	uint64_t seq;
	uint64_t ts_ms;
	uint64_t mask;
	const char *path;
	const char *old_path;
	struct proc_info proc;		/* pid, ppid, uid, sid, comm, exe, cgroup */
	enum verdict recorded;		/* the live decision ("decision") ... */
	bool recorded_known;		/* ... when the record had a known one */
	const char *run_id;		/* the record's run, for the alert records' tail */
	const char *host;
	int64_t clock_off_ms;		/* the run's clock steps before it (clock records):
					 * the policy counts in ts_ms - clock_off_ms */
	bool new_run;			/* the first event of a run after another: the
					 * policy starts afresh, as the live daemon did */
	int64_t step_ms;		/* REPLAY_LINE_OTHER of type "clock": its step_ms */
};

enum replay_line {
	REPLAY_LINE_EVENT,		/* an event record: ev is filled */
	REPLAY_LINE_OTHER,		/* a well-formed record of another type */
	REPLAY_LINE_MALFORMED,		/* not JSON, not an object, or a field of the wrong
					 * type or range */
	REPLAY_LINE_EMPTY,		/* blank line: not counted as malformed */
};

struct replay_parser;

/* A parser with its buffers; NULL when out of memory. */
struct replay_parser *replay_parser_new(void);
void replay_parser_free(struct replay_parser *p);

/*
 * Parses one line (len bytes, no newline needed). An event record fills ev; every other
 * well-formed record gives its type name in *ret_type (borrowed until the next call) and,
 * when it has them, its seq and run_id (*ret_seq_known): the summary counts gaps in seq.
 * Where a string field has <field>_raw, ev's string is those exact bytes.
 */
enum replay_line replay_parse(struct replay_parser *p, const char *line, size_t len,
			      struct replay_event *ev, const char **ret_type, uint64_t *ret_seq,
			      bool *ret_seq_known, const char **ret_run_id);

struct replay_count {
	char name[REPLAY_TYPE_LEN];
	uint64_t n;
};

struct replay_who {
	int64_t id;			/* pid; for jobs the index in the config (-1: none) */
	uint64_t events, alerts, denied;
	char comm[17];
};

/* What the summary counts. */
struct replay_stats {
	uint64_t lines, events, malformed, perm_events, would_deny, would_allow;
	uint64_t allow_to_deny, deny_to_allow;	/* against the recorded decision */
	uint64_t alerts, hooks_would_run, reloads;
	uint64_t restarts;		/* the daemon started again (a new run_id): a fresh policy */
	uint64_t clock_steps;		/* clock records: the wall clock stepped */
	uint64_t seq_gaps, seq_missing, seq_backwards;
	uint64_t bad_lines[REPLAY_BAD_LINES];
	struct replay_count skipped[REPLAY_TYPES_MAX + 1];	/* the last one is "other" */
	struct replay_count kinds[POLICY_KINDS + 2];
	struct replay_count reasons[REPLAY_REASONS_MAX + 1];
	struct replay_count deny_reasons[REPLAY_REASONS_MAX + 1];
	/* seq tracking of the run being read */
	char run_id[64];
	uint64_t last_seq;
	bool seq_seen;
};

/* One replay of events through one policy. */
struct replay {
	struct policy policy;
	const struct config *cfg;
	struct replay_stats st;
	struct replay_who *procs;	/* REPLAY_PROCS_MAX slots, id 0 = free */
	struct replay_who procs_other;
	size_t n_procs;
	struct replay_who *jobs;	/* cfg->n_jobs + 1 (the last: no job) */
	const char *last_job;		/* job lookup cache */
	size_t last_job_i;
	bool text;			/* --format text */
	bool records;			/* write alert and decision records (not in a sweep) */
	const char *sweep_key;		/* NULL, or the key this summary is for */
	unsigned sweep_value;
	/* The run being read (use_batch()): its run_id, its clock steps so far, and whether
	 * its first event is still to come. */
	char run_id[64];
	int64_t clock_off_ms;
	bool new_run;
};

/* Builds the policy from c (which it borrows). Returns 0, -ENOMEM or -EINVAL (msg). */
int replay_init(struct replay *r, const struct config *c, bool text, bool records, char *msg,
		size_t msg_len);
void replay_free(struct replay *r);

/* Counts a line that is not an event (type, seq), or a malformed one (line number). */
void replay_note_other(struct replay_stats *st, const char *type, uint64_t seq, bool seq_known,
		       const char *run_id);
void replay_note_malformed(struct replay_stats *st, uint64_t line_no);
/* Counts an event's seq for the gap tracking. */
void replay_note_seq(struct replay_stats *st, uint64_t seq, const char *run_id);

/* One event through the policy: its alerts and decision appended to out. 0 or -ENOMEM. */
int replay_event(struct replay *r, const struct replay_event *ev, struct buf *out);

/* The replay_summary record (or the text lines) appended to out. 0 or -ENOMEM. */
int replay_summary(const struct replay *r, struct buf *out);

/* --sweep: parses "KEY=V1,V2,..." into *ret_key (static) and values. Returns the count, or
 * -EINVAL with msg. */
int replay_sweep_parse(const char *spec, const char **ret_key, unsigned *values, size_t max,
		       char *msg, size_t msg_len);

/*
 * The whole of --replay: reads c->replay, writes to output (NULL = stdout). Returns 0, or a
 * negative errno with msg: -EINVAL for a bad --sweep (exit 2), anything else exit 1 (the
 * input cannot be opened or read, the output cannot be written, no memory).
 */
int replay_run(const struct config *c, const char *output, char *msg, size_t msg_len);

#endif
