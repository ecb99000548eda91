/*
 * text.h - records as short human lines (--format text): one line per record, like
 * fatrace or inotifywait. Pure but for text_utc_offset_s(), which asks the C library
 * for the local time zone. The daemon renders from its own structs (pipeline.c); the
 * --subscribe client fills the same structs from the JSON it receives (subscribe.c), so
 * both print the same line for the same record.
 *
 *   HH:MM:SS.mmm [MARK ]EVENTS comm[pid] path[ -> new path][ job=ID[:role]]
 *
 * Names are bytes: '\\' is written as "\\\\"; \t \n \r as those two characters; other
 * C0 controls, DEL and every byte of an invalid UTF-8 sequence as \xNN; valid UTF-8 C1
 * controls (U+0080-U+009F, which some terminals obey as ESC sequences) and the
 * bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069, which reorder what
 * a reader sees) as \uNNNN. So no name can end the line or drive the terminal.
 */
#ifndef FANOTIFYD_TEXT_H
#define FANOTIFYD_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "record.h"

/* How lines are rendered. */
struct text_style {
	bool color;		/* SGR colours: alerts red, denials bold yellow, drops yellow */
	long utc_off_s;		/* local time's offset from UTC at the record's time */
};

/* The local time zone's offset from UTC, in seconds, at ts_ms (localtime_r()); 0 when the
 * C library cannot say. */
long text_utc_offset_s(uint64_t ts_ms);

/* Each appends one newline-terminated line for its record. Returns 0 or -ENOMEM
 * (out unchanged). */
int text_event(struct buf *out, const struct record_event *r, const struct text_style *st);
/* An alert: "ALERT kind", comm[pid] when a->proc is set, the path, the job; for a burst
 * count/window; for the kernel's own alerts (no process) the reason. */
int text_alert(struct buf *out, const struct alert *a, const struct text_style *st);
/* "CLOCK stepped by +Ns": the wall clock moved (a clock record). */
int text_clock(struct buf *out, uint64_t ts_ms, int64_t step_ms, const struct text_style *st);
int text_dropped(struct buf *out, uint64_t ts_ms, uint64_t count, const char *reason,
		 const struct text_style *st);
/* The counters a reader watches: events, records, alerts, perm_denied, dropped_records. */
int text_stats(struct buf *out, uint64_t ts_ms, const struct stats *s,
	       const struct text_style *st);
int text_reload(struct buf *out, uint64_t ts_ms, const struct record_reload *r,
		const struct text_style *st);
/* Lifecycle records (type "start" / "stop"): any string may be NULL (left out). */
int text_start(struct buf *out, uint64_t ts_ms, const char *host, const char *version,
	       const char *run_id, const struct text_style *st);
int text_stop(struct buf *out, uint64_t ts_ms, const char *reason, uint64_t records,
	      uint64_t dropped, const struct text_style *st);
/* A record this renderer has no line for (a newer daemon's type, or one a client could
 * not parse): "? " and the escaped bytes of what (len bytes). */
int text_other(struct buf *out, uint64_t ts_ms, bool ts_known, const char *what, size_t len,
	       const struct text_style *st);

/* Appends the bytes of s (len bytes) escaped as the header says. 0 or -ENOMEM. */
int text_escape(struct buf *out, const char *s, size_t len);

#endif
