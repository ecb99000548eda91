/*
 * record.h - events and alerts -> one JSON line each (schema_version 1). Pure: appends to
 * a growable byte buffer and knows nothing of where lines go.
 *
 * Every line is I-JSON (RFC 7493): UTF-8 with no lone surrogate. Strings: valid UTF-8
 * (Unicode table 3-7) is copied; '"' and '\\' are escaped; bytes 0x00-0x1f and 0x7f are
 * written as \b \f \n \r \t or \u00XX; every byte that does not belong to a well-formed
 * sequence (a stray continuation byte, C0, C1, F5-FF, a truncated sequence's bytes, an
 * overlong form, a surrogate encoded in UTF-8 (ED A0-BF ..), a code point above U+10FFFF)
 * is written as U+FFFD, one per byte. A string field taken from the system (path, name,
 * comm, exe, cgroup, ...) that had such a byte is followed by <field>_raw, its exact bytes as an
 * array of numbers (fatrace's convention), so nothing is lost and nothing is refused.
 */
#ifndef FANOTIFYD_RECORD_H
#define FANOTIFYD_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define RECORD_SCHEMA_VERSION 1

/* A growable byte buffer; zero-initialised is empty. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};

/* Appends n bytes. Returns 0 or -ENOMEM (buffer unchanged). */
int buf_append(struct buf *b, const void *p, size_t n);
/* Releases the buffer; safe on a zeroed buffer and twice. */
void buf_free(struct buf *b);

/* One event record. NULL pointers are written as JSON null. */
struct record_event {
	uint64_t seq;
	uint64_t ts_ms;
	uint64_t mask;
	enum verdict verdict;
	const char *job_id;
	const char *path_role;
	struct proc_info proc;
	const char *path;
	const char *name;
	bool is_dir;
	const char *old_path;	/* written only when is_rename */
	bool is_rename;
	const char *reason;	/* written only when not NULL: why a permission event was
				 * denied */
};

/*
 * Appends one newline-terminated JSON object. Field order:
 * schema_version,type,seq,ts_ms,mask,events,decision,job_id,path_role,pid,ppid,uid,comm,exe,
 * sid,cgroup,path,name,is_dir[,old_path][,reason]
 * Returns 0 or -ENOMEM (nothing appended).
 */
int record_event(struct buf *out, const struct record_event *r);

/*
 * Appends one alert line: schema_version,type("alert"),seq,ts_ms,kind,job_id,path_role,pid,
 * [comm,exe,sid,cgroup,]path,reason[,count,window_ms]; comm, exe, sid and cgroup when a->proc
 * is set, count and window_ms for ALERT_BURST. Returns 0 or -ENOMEM.
 */
int record_alert(struct buf *out, const struct alert *a);

/* The name of an alert kind as records and hooks give it ("canary"); NULL if unknown. */
const char *record_alert_kind_name(enum alert_kind kind);

/*
 * Appends {"schema_version":1,"type":"dropped","seq":S,"ts_ms":T,"count":N,"reason":R}:
 * N records were lost before this point. The output's notices take the next seq; a
 * dropped subscriber's last line (sink_sock.c) has seq 0, outside that sequence. Returns 0
 * or -ENOMEM.
 */
int record_dropped(struct buf *out, uint64_t seq, uint64_t ts_ms, uint64_t count,
		   const char *reason);

/*
 * Appends {"schema_version":1,"type":"clock","seq":S,"ts_ms":T,"step_ms":N}: the wall clock
 * was stepped by N ms; ts_ms before and after it are not comparable. 0 or -ENOMEM.
 */
int record_clock(struct buf *out, uint64_t seq, uint64_t ts_ms, int64_t step_ms);

/*
 * Appends {"schema_version":1,"type":"stats","seq":S,"ts_ms":T,"events":N,...}: every
 * counter of s, each a number, keyed and ordered as struct stats (event.h) names them.
 * Returns 0 or -ENOMEM.
 */
int record_stats(struct buf *out, uint64_t seq, uint64_t ts_ms, const struct stats *s);

/* What a reload did (main.c and reload.c fill it; the name lists are borrowed). */
struct record_reload {
	const char *status;		/* "applied", "unchanged", "refused" or "failed" */
	const char *const *changed;	/* keys whose new values are in force */
	size_t n_changed;
	const char *const *refused;	/* keys that cannot change while running */
	size_t n_refused;
	unsigned marks_added, marks_removed;
	const char *error;		/* why the new config was not used; NULL = none */
};

/*
 * Appends {"schema_version":1,"type":"reload","seq":S,"ts_ms":T,"status":...,"changed":[...],
 * "marks_added":N,"marks_removed":N,"refused":[...],"error":E}; error is null when r->error is
 * NULL. Returns 0 or -ENOMEM.
 */
int record_reload(struct buf *out, uint64_t seq, uint64_t ts_ms, const struct record_reload *r);

/*
 * Appends the same counters as text for a log line, "events=N records=N ...", keys as in
 * record_stats(), NUL-terminated (the NUL is not counted in out->len). 0 or -ENOMEM.
 */
int record_stats_text(struct buf *out, const struct stats *s);

/*
 * Appends the same counters in the Prometheus text format: per key a # HELP and a # TYPE
 * line and the sample fanotifyd_KEY_total (a counter) or fanotifyd_KEY (a gauge: latency
 * percentiles and maxima, sizes, sock_clients). 0 or -ENOMEM.
 */
int record_stats_prom(struct buf *out, const struct stats *s);

/*
 * Bytes record_mask_names() needs for any 64-bit mask (every bit set: 785). 512 suffices
 * for any mask within the low 32 bits, which is all the kernel reports.
 */
#define RECORD_MASK_NAMES_MAX 1024

/*
 * Writes the names of the event bits of mask in bit order, without "FAN_", joined with
 * ',' (e.g. "MODIFY,CLOSE_WRITE,OPEN"), NUL-terminated, into out (cap bytes; see
 * RECORD_MASK_NAMES_MAX; names that do not fit are left out whole). FAN_ONDIR and
 * FAN_EVENT_ON_CHILD are flags, not events, and are left out; unknown bits are written
 * as 0x<hex>, one per bit. Returns the length.
 */
size_t record_mask_names(uint64_t mask, char *out, size_t cap);

/*
 * Length of the well-formed UTF-8 sequence of 2-4 bytes at s (n bytes available), or 0 if
 * s does not start one. Follows Unicode table 3-7: the second byte's range depends on the
 * lead, which rules out overlong forms, surrogates and code points above U+10FFFF. With
 * ret_cp, also the code point. The one UTF-8 rule of the records and of --format text.
 */
size_t record_utf8_seq(const unsigned char *s, size_t n, uint32_t *ret_cp);

/* Appends s (len bytes) as a quoted JSON string per the scheme above. Returns 0, 1 if a
 * byte was not valid UTF-8 (written as U+FFFD), or -ENOMEM (nothing appended). */
int record_json_string(struct buf *out, const char *s, size_t len);

/* One mark of the start record: its kind ("watch", "mount", "filesystem") and path. */
struct record_mark {
	const char *kind;
	const char *path;
};

/* What the start record says (main.c fills it; every pointer is borrowed). */
struct record_start {
	uint64_t seq, ts_ms;
	const char *version;
	const char *boot_id;		/* /proc/sys/kernel/random/boot_id; NULL: unknown */
	const char *config_digest;	/* 16 hex digits; see main.c */
	const char *mode;		/* "observe" or "permission" */
	int64_t pid;
	const struct record_mark *marks;
	size_t n_marks;
};

/*
 * Appends {"schema_version":1,"type":"start","seq":S,"ts_ms":T,"version":V,"boot_id":B,
 * "config_digest":D,"mode":M,"pid":P,"marks":[{"kind":K,"path":P},...]}: the first record
 * of a run. 0 or -ENOMEM.
 */
int record_start(struct buf *out, const struct record_start *r);

/*
 * Appends {"schema_version":1,"type":"stop","seq":S,"ts_ms":T,"reason":R,"records":S,
 * "dropped_records":N}: the last record of a run; records is S (every seq was given out),
 * dropped_records how many of them are known lost. 0 or -ENOMEM.
 */
int record_stop(struct buf *out, uint64_t seq, uint64_t ts_ms, const char *reason,
		uint64_t dropped);

/*
 * Appends the fields every record of a run ends with, ,"run_id":R[,"host":H] (host left
 * out when NULL), for record_tail(). 0 or -ENOMEM.
 */
int record_ident(struct buf *out, const char *run_id, const char *host);

/*
 * The record that begins at start and ends out (with "}\n") gets tail (len bytes, as
 * record_ident() made it) before its closing brace. Returns 0; -ENOMEM: the record is
 * removed (out->len = start); -EINVAL: out does not end with a record after start.
 */
int record_tail(struct buf *out, size_t start, const char *tail, size_t len);

#endif
