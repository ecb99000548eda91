/*
 * text.c - records as short human lines (--format text). Owns nothing: each function
 * appends one line to the caller's buffer, or nothing. Knows neither where lines go nor
 * JSON: pipeline.c hands it the daemon's structs, subscribe.c the same structs filled from
 * the JSON it receives. Pure (no syscalls, no clock) but for text_utc_offset_s().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "text.h"

#define SGR_ALERT "\033[31m"		/* red */
#define SGR_DENY "\033[1;33m"		/* bold yellow */
#define SGR_DROPPED "\033[33m"		/* yellow */
#define SGR_RESET "\033[0m"
#define NUM_MAX 48			/* bytes of one formatted number or time */

long text_utc_offset_s(uint64_t ts_ms)
{
	time_t t = (time_t)(ts_ms / 1000);
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return 0;
	return tm.tm_gmtoff;
}

static int put(struct buf *out, const char *s, size_t n)
{
	return buf_append(out, s, n);
}

static int put_str(struct buf *out, const char *s)
{
	return buf_append(out, s, strlen(s));
}

static int put_u64(struct buf *out, uint64_t v)
{
	char num[NUM_MAX];
	int n = snprintf(num, sizeof(num), "%" PRIu64, v);

	return buf_append(out, num, (size_t)n);
}

static int put_hex(struct buf *out, const char *fmt, unsigned v)
{
	char num[NUM_MAX];
	int n = snprintf(num, sizeof(num), fmt, v);

	return buf_append(out, num, (size_t)n);
}

/* Code points shown as \uNNNN although valid: C1 controls (a terminal may take U+009B as
 * CSI) and the bidirectional overrides and isolates ("Trojan Source", CVE-2021-42574). */
static bool cp_hidden(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

int text_escape(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = out->len, i = 0, run = 0;
	int r = 0;

	/* Runs of bytes that need no escape are appended whole. */
	while (i < len && r == 0) {
		unsigned char c = p[i];
		uint32_t cp;
		size_t n = 0;

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			i++;
			continue;
		}
		if (c >= 0x80 && (n = record_utf8_seq(p + i, len - i, &cp)) && !cp_hidden(cp)) {
			i += n;
			continue;
		}
		r = put(out, s + run, i - run);
		if (r < 0)
			break;
		if (c == '\\')
			r = put(out, "\\\\", 2);
		else if (c == '\n')
			r = put(out, "\\n", 2);
		else if (c == '\t')
			r = put(out, "\\t", 2);
		else if (c == '\r')
			r = put(out, "\\r", 2);
		else if (c < 0x80)
			r = put_hex(out, "\\x%02x", c);
		else if ((n = record_utf8_seq(p + i, len - i, &cp)))
			r = put_hex(out, "\\u%04x", cp); /* a hidden code point */
		else
			r = put_hex(out, "\\x%02x", c);
		i += c >= 0x80 && n ? n : 1;
		run = i;
	}
	if (r == 0)
		r = put(out, s + run, len - run);
	if (r < 0)
		out->len = start;
	return r;
}

static int put_esc(struct buf *out, const char *s)
{
	return s ? text_escape(out, s, strlen(s)) : put(out, "?", 1);
}

/* "HH:MM:SS.mmm " in local time, colour first. */
static int begin(struct buf *out, uint64_t ts_ms, bool ts_known, const char *sgr,
		 const struct text_style *st)
{
	char t[NUM_MAX];
	int64_t sec = (int64_t)(ts_ms / 1000) + st->utc_off_s;
	int64_t day = ((sec % 86400) + 86400) % 86400;
	int r = 0;

	if (st->color && sgr)
		r = put_str(out, sgr);
	if (r < 0)
		return r;
	if (!ts_known)
		return put_str(out, "??:??:??.??? ");
	snprintf(t, sizeof(t), "%02d:%02d:%02d.%03u ", (int)(day / 3600), (int)(day / 60 % 60),
		 (int)(day % 60), (unsigned)(ts_ms % 1000));
	return put_str(out, t);
}

static int end(struct buf *out, const char *sgr, const struct text_style *st)
{
	if (st->color && sgr)
		return put(out, SGR_RESET "\n", sizeof(SGR_RESET));
	return put(out, "\n", 1);
}

/* " comm[pid]" */
static int put_proc(struct buf *out, const char *comm, pid_t pid)
{
	int r = put(out, " ", 1);

	if (r == 0)
		r = put_esc(out, comm);
	if (r == 0)
		r = put(out, "[", 1);
	if (r == 0)
		r = put_u64(out, (uint64_t)(int64_t)pid);
	if (r == 0)
		r = put(out, "]", 1);
	return r;
}

/* " job=ID[:role]" when there is a job. */
static int put_job(struct buf *out, const char *job_id, const char *path_role)
{
	int r = 0;

	if (!job_id)
		return 0;
	r = put_str(out, " job=");
	if (r == 0)
		r = put_esc(out, job_id);
	if (r == 0 && path_role) {
		r = put(out, ":", 1);
		if (r == 0)
			r = put_esc(out, path_role);
	}
	return r;
}

/* The line's result: on failure the buffer is as it was. */
static int done(struct buf *out, size_t start, int r)
{
	if (r < 0)
		out->len = start;
	return r < 0 ? -ENOMEM : 0;
}

int text_event(struct buf *out, const struct record_event *r, const struct text_style *st)
{
	const char *sgr = r->verdict == VERDICT_DENY ? SGR_DENY : NULL;
	char names[RECORD_MASK_NAMES_MAX];
	size_t start = out->len;
	int e;

	record_mask_names(r->mask, names, sizeof(names));
	e = begin(out, r->ts_ms, true, sgr, st);
	if (e == 0 && r->verdict == VERDICT_DENY)
		e = put_str(out, "DENY ");
	if (e == 0)
		e = put_str(out, names[0] ? names : "-");
	if (e == 0)
		e = put_proc(out, r->proc.comm, r->proc.pid);
	if (e == 0)
		e = put(out, " ", 1);
	if (e == 0 && r->is_rename) {
		e = put_esc(out, r->old_path);
		if (e == 0)
			e = put_str(out, " -> ");
	}
	if (e == 0)
		e = put_esc(out, r->path);
	if (e == 0)
		e = put_job(out, r->job_id, r->path_role);
	if (e == 0 && r->verdict == VERDICT_DENY && r->reason) {
		e = put_str(out, " (");
		if (e == 0)
			e = put_esc(out, r->reason);
		if (e == 0)
			e = put(out, ")", 1);
	}
	if (e == 0)
		e = end(out, sgr, st);
	return done(out, start, e);
}

int text_alert(struct buf *out, const struct alert *a, const struct text_style *st)
{
	const char *kind = record_alert_kind_name(a->kind);
	size_t start = out->len;
	int e;

	e = begin(out, a->ts_ms, true, SGR_ALERT, st);
	if (e == 0)
		e = put_str(out, "ALERT ");
	if (e == 0)
		e = put_str(out, kind ? kind : "?");
	if (e == 0 && a->proc)
		e = put_proc(out, a->proc->comm, a->pid);
	if (e == 0)
		e = put(out, " ", 1);
	if (e == 0)
		e = put_esc(out, a->path);
	if (e == 0 && a->kind == ALERT_BURST) {
		e = put(out, " ", 1);
		if (e == 0)
			e = put_u64(out, a->count);
		if (e == 0)
			e = put_str(out, " in ");
		if (e == 0)
			e = put_u64(out, a->window_ms);
		if (e == 0)
			e = put_str(out, "ms");
	}
	/* Counted for something wider than the process: "by session 1234". */
	if (e == 0 && a->kind == ALERT_BURST && a->scope && strcmp(a->scope, "process") != 0) {
		e = put_str(out, " by ");
		if (e == 0)
			e = put_esc(out, a->scope);
		if (e == 0)
			e = put(out, " ", 1);
		if (e == 0 && a->scope_id_str)
			e = put_esc(out, a->scope_id_str);
		else if (e == 0)
			e = put_u64(out, (uint64_t)a->scope_id);
	}
	if (e == 0)
		e = put_job(out, a->job_id, a->path_role);
	if (e == 0 && !a->proc && a->reason) {
		e = put_str(out, " (");
		if (e == 0)
			e = put_esc(out, a->reason);
		if (e == 0)
			e = put(out, ")", 1);
	}
	if (e == 0)
		e = end(out, SGR_ALERT, st);
	return done(out, start, e);
}

int text_clock(struct buf *out, uint64_t ts_ms, int64_t step_ms, const struct text_style *st)
{
	size_t start = out->len;
	char step[48];
	int e;

	snprintf(step, sizeof(step), "CLOCK stepped by %+.3fs", (double)step_ms / 1000);
	e = begin(out, ts_ms, true, NULL, st);
	if (e == 0)
		e = put_str(out, step);
	if (e == 0)
		e = end(out, NULL, st);
	return done(out, start, e);
}

int text_dropped(struct buf *out, uint64_t ts_ms, uint64_t count, const char *reason,
		 const struct text_style *st)
{
	size_t start = out->len;
	int e;

	e = begin(out, ts_ms, true, SGR_DROPPED, st);
	if (e == 0)
		e = put_str(out, "DROPPED ");
	if (e == 0)
		e = put_u64(out, count);
	if (e == 0)
		e = put_str(out, count == 1 ? " record" : " records");
	if (e == 0 && reason) {
		e = put_str(out, " (");
		if (e == 0)
			e = put_esc(out, reason);
		if (e == 0)
			e = put(out, ")", 1);
	}
	if (e == 0)
		e = end(out, SGR_DROPPED, st);
	return done(out, start, e);
}

int text_stats(struct buf *out, uint64_t ts_ms, const struct stats *s,
	       const struct text_style *st)
{
	const struct {
		const char *key;
		uint64_t v;
	} f[] = {
		{ " events=", s->events },	 { " records=", s->records },
		{ " alerts=", s->alerts },	 { " denied=", s->perm_denied },
		{ " dropped=", s->dropped_records },
	};
	size_t start = out->len;
	int e;

	e = begin(out, ts_ms, true, NULL, st);
	if (e == 0)
		e = put_str(out, "STATS");
	for (size_t i = 0; e == 0 && i < sizeof(f) / sizeof(f[0]); i++) {
		e = put_str(out, f[i].key);
		if (e == 0)
			e = put_u64(out, f[i].v);
	}
	if (e == 0)
		e = end(out, NULL, st);
	return done(out, start, e);
}

/* " key=a,b" when there is any name. */
static int put_list(struct buf *out, const char *key, const char *const *v, size_t n)
{
	int e = 0;

	if (!n)
		return 0;
	e = put_str(out, key);
	for (size_t i = 0; e == 0 && i < n; i++) {
		if (i)
			e = put(out, ",", 1);
		if (e == 0)
			e = put_esc(out, v[i]);
	}
	return e;
}

int text_reload(struct buf *out, uint64_t ts_ms, const struct record_reload *r,
		const struct text_style *st)
{
	size_t start = out->len;
	int e;

	e = begin(out, ts_ms, true, NULL, st);
	if (e == 0)
		e = put_str(out, "RELOAD ");
	if (e == 0)
		e = put_esc(out, r->status);
	if (e == 0)
		e = put_list(out, " changed=", r->changed, r->n_changed);
	if (e == 0)
		e = put_list(out, " refused=", r->refused, r->n_refused);
	if (e == 0 && (r->marks_added || r->marks_removed)) {
		e = put_str(out, " marks +");
		if (e == 0)
			e = put_u64(out, r->marks_added);
		if (e == 0)
			e = put_str(out, " -");
		if (e == 0)
			e = put_u64(out, r->marks_removed);
	}
	if (e == 0 && r->error) {
		e = put_str(out, " error: ");
		if (e == 0)
			e = put_esc(out, r->error);
	}
	if (e == 0)
		e = end(out, NULL, st);
	return done(out, start, e);
}

/* " s" when s is set. */
static int put_opt(struct buf *out, const char *s)
{
	int e;

	if (!s)
		return 0;
	e = put(out, " ", 1);
	return e ? e : put_esc(out, s);
}

int text_start(struct buf *out, uint64_t ts_ms, const char *host, const char *version,
	       const char *run_id, const struct text_style *st)
{
	size_t start = out->len;
	int e;

	e = begin(out, ts_ms, true, NULL, st);
	if (e == 0)
		e = put_str(out, "START");
	if (e == 0)
		e = put_opt(out, host);
	if (e == 0 && version) {
		e = put_str(out, " fanotifyd ");
		if (e == 0)
			e = put_esc(out, version);
	}
	if (e == 0 && run_id) {
		e = put_str(out, " run=");
		if (e == 0)
			e = put_esc(out, run_id);
	}
	if (e == 0)
		e = end(out, NULL, st);
	return done(out, start, e);
}

int text_stop(struct buf *out, uint64_t ts_ms, const char *reason, uint64_t records,
	      uint64_t dropped, const struct text_style *st)
{
	size_t start = out->len;
	int e;

	e = begin(out, ts_ms, true, NULL, st);
	if (e == 0)
		e = put_str(out, "STOP");
	if (e == 0)
		e = put_opt(out, reason);
	if (e == 0)
		e = put_str(out, " records=");
	if (e == 0)
		e = put_u64(out, records);
	if (e == 0)
		e = put_str(out, " dropped=");
	if (e == 0)
		e = put_u64(out, dropped);
	if (e == 0)
		e = end(out, NULL, st);
	return done(out, start, e);
}

int text_other(struct buf *out, uint64_t ts_ms, bool ts_known, const char *what, size_t len,
	       const struct text_style *st)
{
	size_t start = out->len;
	int e;

	e = begin(out, ts_ms, ts_known, NULL, st);
	if (e == 0)
		e = put_str(out, "? ");
	if (e == 0)
		e = text_escape(out, what, len);
	if (e == 0)
		e = end(out, NULL, st);
	return done(out, start, e);
}
