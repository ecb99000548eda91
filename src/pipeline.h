/*
 * pipeline.h - one event, from the read to its records: the pipeline's own state, and the
 * modules it borrows (each owned by struct daemon, main.c).
 */
#ifndef FANOTIFYD_PIPELINE_H
#define FANOTIFYD_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cache.h"
#include "event.h"
#include "fan.h"
#include "hook.h"
#include "now.h"
#include "policy.h"
#include "proc.h"
#include "record.h"
#include "resolve.h"
#include "sink_file.h"
#include "sink_sock.h"
#include "text.h"

#define PIPELINE_CLOCK_STEP_MS 100	/* the wall clock moved against CLOCK_MONOTONIC by more:
					 * stepped (a clock record) */
#define PIPELINE_LAT_LINEAR 1024	/* answer latency: 1 us buckets below 1024 us, */
#define PIPELINE_LAT_LOG 22		/* then one per power of two up to 2^32 us */

/* Microseconds of permission events: [i] = i us below PIPELINE_LAT_LINEAR,
 * [PIPELINE_LAT_LINEAR + k] = [2^(10+k), 2^(11+k)) us. */
struct pipeline_lat {
	uint64_t hist[PIPELINE_LAT_LINEAR + PIPELINE_LAT_LOG];
	uint64_t max_ns;
};

struct pipeline_counts {
	uint64_t events;		/* events read (overflow included) */
	uint64_t records;		/* records produced (notices and stats records too) */
	uint64_t perm_answered;
	uint64_t perm_denied;
	uint64_t answer_errors;
	uint64_t unanswered;		/* permission events a path forgot to answer (a bug) */
	uint64_t self_events;		/* our own activity, skipped */
	uint64_t out_of_scope;		/* filesystem-mark events outside every --mount */
	uint64_t overflows;
	uint64_t bad_events;		/* undecodable metadata: rest of the read buffer skipped */
	uint64_t bad_info;		/* events with a malformed info record */
	uint64_t unknown_info;		/* info records of a type we do not know, skipped */
	uint64_t unresolved;		/* records whose path is null */
	uint64_t moves;			/* moves of a watched directory or one above it */
	uint64_t dropped_records;	/* records the output queue refused or failed to write */
	uint64_t read_errors;		/* reads of a group that failed (not EAGAIN, EMFILE) */
	uint64_t fd_denied;		/* events the kernel gave up for want of an fd (EMFILE) */
	uint64_t alerts;		/* alert records written */
	struct pipeline_lat answer;	/* from the read to the response written */
	struct pipeline_lat decide;	/* from the read to the response's write() call */
};

struct pipeline {
	/* Borrowed (struct daemon owns them), set by pipeline_init(). */
	struct fan *fan;
	struct resolve *resolve;
	struct proc *proc;
	struct policy *policy;
	struct cache *cache;
	struct hook *hook;
	struct sink_file *out;
	struct sink_sock *sock;
	pid_t self;			/* our pid: our own events are skipped */
	/* Set by main.c at start: what read_len() sizes reads by. */
	uint64_t nofile;		/* RLIMIT_NOFILE in force (raised at start if we may) */
	unsigned fds_fixed;		/* descriptors open once started (groups, views, ...) */
	/* Its own. */
	struct buf batch;		/* records produced this loop turn; owned */
	bool text;			/* --format text: the output gets text_batch, the
					 * subscribers batch (JSON Lines always) */
	bool text_color;		/* ... with colours (the output is a terminal) */
	struct buf text_batch;		/* batch's records as text lines; owned */
	unsigned batch_records;
	uint64_t pending_dropped;	/* records lost, not yet reported in a dropped record */
	uint64_t batch_dropped;		/* count of the dropped notice opening batch; 0 = none */
	uint64_t seq;			/* last sequence number given out */
	struct buf ident;		/* ,"run_id":R,"host":H: every record's end; owned */
	size_t ident_run_len;		/* ... its run_id part's length */
	bool ident_host;		/* record_host: every record gets the host part too */
	const char *run_id, *host;	/* borrowed (struct daemon's): --format text's start line */
	uint64_t read_ns;		/* CLOCK_MONOTONIC when the current batch was read */
	int64_t clock_off_ms;		/* ts_ms - the policy's clock (policy_clock()) */
	bool clock_anchored;		/* ... taken */
	bool drain_pending;		/* connector not drained since the last read */
	bool reading_perm, reading_fid;	/* pipeline_read_group() of that group is running */
	uint64_t perm_read_ns;		/* last read of the permission group */
	struct now_batches perm_batches; /* when its batches come (every read; the loop's
					 * spin decides by it) */
	unsigned char *readbuf;		/* owned; PIPELINE_READ_BUF bytes, FD group */
	unsigned char *fid_readbuf;	/* owned; PIPELINE_READ_BUF bytes, FID group */
	struct fan_event *perm_evs;	/* owned; PIPELINE_READ_EVENTS: a decoded FD-group read */
	struct fan_event *fid_evs;	/* owned; PIPELINE_FID_READ_EVENTS: a decoded FID read */
	unsigned fid_fds_held;		/* upper bound on pidfds of an FID read being handled */
	struct pipeline_counts st;
};

/* Borrows the modules (which outlive pl) and allocates the read buffers. Returns 0 or
 * -ENOMEM (what was allocated stays for pipeline_free()). */
int pipeline_init(struct pipeline *pl, struct fan *fan, struct resolve *resolve,
		  struct proc *proc, struct policy *policy, struct cache *cache, struct hook *hook,
		  struct sink_file *out, struct sink_sock *sock, pid_t self);
/* Reads and handles up to PIPELINE_READS_PER_TURN batches of group_fd; returns the number
 * of events handled. */
unsigned pipeline_read_group(struct pipeline *pl, int group_fd, bool fid);
/* Hands this turn's records to the output file and the subscribers. */
void pipeline_flush(struct pipeline *pl);
/* Fills the pipeline's counters of s (events ... dropped_records, the answer latencies,
 * read_errors, unknown_info). */
void pipeline_stats(const struct pipeline *pl, struct stats *s);
/* Appends a stats record of s to this turn's records (the pipeline's own counters filled in
 * then, this record counted in records); it takes the next seq. */
void pipeline_write_stats(struct pipeline *pl, struct stats *s);
/* Appends a reload record (record_reload()) to this turn's records; it takes the next seq.
 * A record that cannot be built is counted as dropped, like any other. */
void pipeline_write_reload(struct pipeline *pl, const struct record_reload *r);
/* --format text for the output (subscribers keep JSON Lines), coloured if color; set once
 * before the first event. */
void pipeline_set_text(struct pipeline *pl, bool text, bool color);
/* The run's identity every record ends with (record_ident()): run_id, and host on the
 * (run_id and host are borrowed: they must outlive the pipeline)
 * lifecycle records and, with record_host, on every record. 0 or -ENOMEM. */
int pipeline_set_ident(struct pipeline *pl, const char *run_id, const char *host,
		       bool record_host);
/* Appends the start record (r's seq and ts_ms filled in here): the run's first, seq 1.
 * Returns 0 or -ENOMEM (nothing appended, no seq taken). */
int pipeline_write_start(struct pipeline *pl, struct record_start *r);
/* Appends the stop record, the run's last: reason, records (its seq) and the records known
 * lost so far (dropped_records). Lost like any other if it cannot be built. */
void pipeline_write_stop(struct pipeline *pl, const char *reason);
/* The policy's clock now (what policy_eval() was last given, moved on since): for
 * policy_containing() outside an event. */
uint64_t pipeline_policy_ms(const struct pipeline *pl);
/* A reload's new policy: used from the next event on (the caller frees the old one). */
void pipeline_set_policy(struct pipeline *pl, struct policy *policy);
/* Frees what pipeline_init() allocated and the records not flushed; safe on a zeroed
 * pipeline and twice. Borrows nothing after. */
void pipeline_free(struct pipeline *pl);

#endif
