/*
 * daemon.h - struct daemon: the one state struct, declared in main.c and passed by pointer.
 */
#ifndef FANOTIFYD_DAEMON_H
#define FANOTIFYD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cache.h"
#include "config.h"
#include "decode.h"
#include "fan.h"
#include "hook.h"
#include "now.h"
#include "policy.h"
#include "priv.h"
#include "proc.h"
#include "record.h"
#include "resolve.h"
#include "sink_file.h"
#include "sink_sock.h"

#define DAEMON_READ_BUF (16u << 10)	/* bytes per read() of a group; bounds a batch */
#define DAEMON_READ_EVENTS (DAEMON_READ_BUF / DECODE_METADATA_LEN) /* events in one read */
#define DAEMON_READS_PER_TURN 16	/* reads of one group before the batch is flushed */
#define DAEMON_NOFILE_WANT 65536	/* descriptor limit asked for at start */
#define DAEMON_FD_SPARE 16		/* descriptors kept free for transient opens */
#define DAEMON_FID_EVENT_MIN 48	/* bytes: smallest FID event (metadata + one fid) */

#define DAEMON_NICE (-4)		/* scheduling boost, as auditd's default priority_boost */
#define DAEMON_SLICE_NS 100000	/* fair-class slice: the kernel's minimum, 0.1 ms */
#define DAEMON_PERM_POLL_NS 20000	/* FID work between looks at the permission group */
#define DAEMON_LAT_LINEAR 1024		/* answer latency: 1 us buckets below 1024 us, */
#define DAEMON_LAT_LOG 22		/* then one per power of two up to 2^32 us */

/* Microseconds of permission events: [i] = i us below DAEMON_LAT_LINEAR,
 * [DAEMON_LAT_LINEAR + k] = [2^(10+k), 2^(11+k)) us. */
struct daemon_lat {
	uint64_t hist[DAEMON_LAT_LINEAR + DAEMON_LAT_LOG];
	uint64_t max_ns;
};

struct daemon_stats {
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
	struct daemon_lat answer;	/* from the read to the response written */
	struct daemon_lat decide;	/* from the read to the response's write() call */
};

struct daemon {
	struct config cfg;		/* owned; parsed once at start */
	struct fan fan;			/* owned */
	struct resolve *resolve;	/* owned (heap: large) */
	struct proc *proc;		/* owned (heap: large) */
	struct policy *policy;		/* owned (heap: large) */
	struct cache cache;		/* owned; the allow cache (off unless allow_cache) */
	struct hook hook;		/* owned */
	struct sink_file out;		/* owned */
	struct sink_sock sock;		/* owned */
	struct priv priv;		/* owned; hook_user, capabilities kept */
	struct buf batch;		/* records produced this loop turn; owned */
	unsigned batch_records;
	uint64_t pending_dropped;	/* records lost, not yet reported in a dropped record */
	uint64_t batch_dropped;		/* count of the dropped notice opening batch; 0 = none */
	uint64_t seq;			/* last sequence number given out */
	uint64_t read_ns;		/* CLOCK_MONOTONIC when the current batch was read */
	bool drain_pending;		/* connector not drained since the last read */
	bool reading_perm, reading_fid;	/* pipeline_read_group() of that group is running */
	uint64_t perm_read_ns;		/* last read of the permission group */
	struct now_batches perm_batches; /* when its batches come (every read; the loop's
					 * spin decides by it) */
	pid_t self;
	unsigned char *readbuf;		/* owned; DAEMON_READ_BUF bytes, FD group */
	unsigned char *fid_readbuf;	/* owned; DAEMON_READ_BUF bytes, FID group */
	struct fan_event *perm_evs;	/* owned; DAEMON_READ_EVENTS: a decoded FD-group read */
	struct fan_event *fid_evs;	/* owned; DAEMON_READ_EVENTS: a decoded FID-group read */
	uint64_t nofile;		/* RLIMIT_NOFILE in force (raised at start if we may) */
	unsigned fds_fixed;		/* descriptors open once started (groups, views, ...) */
	unsigned fid_fds_held;		/* upper bound on pidfds of an FID read being handled */
	int sig_fd;			/* owned; signalfd */
	char *pid_file;			/* owned; absolute, NULL = none */
	char *pid_tmp;			/* owned; written before marks, renamed after */
	uint64_t stats_due_ms;		/* monotonic ms of the next periodic stats record */
	struct daemon_stats st;
};

/* pipeline.c: reads and handles up to DAEMON_READS_PER_TURN batches of group_fd; returns
 * the number of events handled. */
unsigned pipeline_read_group(struct daemon *d, int group_fd, bool fid);
/* pipeline.c: hands this turn's records to the output file and the subscribers. */
void pipeline_flush(struct daemon *d);
/* pipeline.c: fills the pipeline's counters of s (events ... dropped_records, the answer
 * latencies, read_errors, unknown_info). */
void pipeline_stats(const struct daemon *d, struct stats *s);
/* pipeline.c: appends a stats record of s to this turn's records (the pipeline's own
 * counters filled in then, this record counted in records); it takes the next seq. */
void pipeline_write_stats(struct daemon *d, struct stats *s);

#endif
