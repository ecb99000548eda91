/*
 * record.c - turns one event, alert, dropped notice, stats snapshot, reload, start or stop
 * into one newline-terminated I-JSON line (schema 1).
 *
 * Owns: struct buf (a growable byte buffer) and the JSON encoding, including the string
 * escaping that keeps every line valid UTF-8 and every byte of a Linux file name
 * recoverable (U+FFFD in the string, the bytes in <field>_raw), and the run's identity
 * that ends every record (record_ident(), record_tail()).
 * Must not: write anywhere, log, read the clock or keep state; it is [pure].
 * Gets: a struct record_event, struct alert or struct stats (event.h) from pipeline.c, whose
 * strings it only borrows for the duration of the call. Gives: bytes in the caller's buf, which
 * pipeline.c hands on to the sinks. No event fd passes through here.
 *
 * Every record_* function appends a whole line or nothing: it writes straight into the
 * buffer and, on -ENOMEM, rolls the length back to where it started.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "record.h"

#define BUF_MIN_CAP 4096

/* Grows b so that n more bytes fit, doubling from BUF_MIN_CAP. 0 or -ENOMEM (b unchanged). */
static int buf_grow(struct buf *b, size_t n)
{
	size_t need, cap;
	char *data;

	if (n > SIZE_MAX - b->len)
		return -ENOMEM;
	need = b->len + n;
	cap = b->cap ? b->cap : BUF_MIN_CAP;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	data = realloc(b->data, cap);
	if (!data)
		return -ENOMEM;
	b->data = data;
	b->cap = cap;
	return 0;
}

/* buf_append() with the common case, room to spare, inlined into the record builders. */
static inline __attribute__((always_inline)) int buf_put(struct buf *b, const void *p,
							   size_t n)
{
	if (n > b->cap - b->len) {
		int r = buf_grow(b, n);

		if (r < 0)
			return r;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	/* memcpy() from NULL is undefined even for 0 bytes, and a zeroed buf has NULL data. */
	if (n == 0)
		return 0;
	return buf_put(b, p, n);
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/*
 * A writer appends pieces of one record and remembers the first failure, so the record
 * builders read as a plain list of fields; w_end() rolls back if anything failed.
 */
struct writer {
	struct buf *b;
	size_t start;
	int err;
};

static void w_begin(struct writer *w, struct buf *b)
{
	w->b = b;
	w->start = b->len;
	w->err = 0;
}

static int w_end(struct writer *w)
{
	if (w->err < 0)
		w->b->len = w->start;
	return w->err;
}

/* Inlined so that w_lit()'s constant-size memcpy() becomes a few moves. */
static inline __attribute__((always_inline)) void w_put(struct writer *w, const void *p,
							  size_t n)
{
	if (w->err == 0)
		w->err = buf_put(w->b, p, n);
}

/* Appends a string literal (its length known at compile time). */
#define w_lit(w, s) w_put((w), (s), sizeof(s) - 1)

/* Formats v in decimal so that it ends just before end; returns its first digit. */
static char *fmt_u64(uint64_t v, char *end)
{
	char *p = end;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}

static void w_u64(struct writer *w, uint64_t v)
{
	char tmp[20];
	char *p = fmt_u64(v, tmp + sizeof(tmp));

	w_put(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void w_i64(struct writer *w, int64_t v)
{
	char tmp[21];
	char *p;

	/* Negating in uint64_t is defined even for INT64_MIN. */
	p = fmt_u64(v < 0 ? -(uint64_t)v : (uint64_t)v, tmp + sizeof(tmp));
	if (v < 0)
		*--p = '-';
	w_put(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

/*
 * Bytes that go into a JSON string unchanged: printable ASCII except '"' and '\\'.
 * The ranges do not overlap: -Woverride-init is part of -Wextra.
 */
static const unsigned char json_plain[256] = {
	[0x20 ... 0x21] = 1,	/* '"' is 0x22 */
	[0x23 ... 0x5b] = 1,	/* '\\' is 0x5c */
	[0x5d ... 0x7e] = 1,	/* 0x7f is DEL */
};

/* Each byte of a 64-bit word set to b. */
#define BYTES_OF(b) (0x0101010101010101ULL * (b))

/*
 * Nonzero if any byte of x is not in json_plain: below 0x20, above 0x7e (DEL and every
 * byte >= 0x80), '"' or '\\'. The SWAR "has less than", "has more than" and "has zero
 * byte" tests (Bit Twiddling Hacks): a carry or borrow across bytes can only start at a
 * byte that itself hits, so the result is zero exactly when every byte is plain.
 */
static inline uint64_t word_has_special(uint64_t x)
{
	uint64_t q = x ^ BYTES_OF('"'), bs = x ^ BYTES_OF('\\');

	return ((x - BYTES_OF(0x20)) & ~x & BYTES_OF(0x80)) |
	       (((x + BYTES_OF(0x01)) | x) & BYTES_OF(0x80)) |
	       ((q - BYTES_OF(0x01)) & ~q & BYTES_OF(0x80)) |
	       ((bs - BYTES_OF(0x01)) & ~bs & BYTES_OF(0x80));
}

/*
 * Index of the first byte at or after i that is not in json_plain, or len. Plain ASCII is
 * the common case (paths, comm), so it is scanned a word at a time.
 */
static size_t plain_run(const unsigned char *s, size_t i, size_t len)
{
	while (len - i >= 8) {
		uint64_t x;

		memcpy(&x, s + i, sizeof(x));
		if (word_has_special(x))
			break;
		i += 8;
	}
	while (i < len && json_plain[s[i]])
		i++;
	return i;
}

static const char hex_digits[16] = "0123456789abcdef";

size_t record_utf8_seq(const unsigned char *s, size_t n, uint32_t *ret_cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	uint32_t cp;
	size_t len, i;

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;	/* below: overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* above: U+D800-DFFF, surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;	/* below: overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* above: beyond U+10FFFF */
	} else {
		return 0;	/* ASCII, continuation byte, C0, C1, F5-FF */
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	if (ret_cp) {
		for (i = 1; i < len; i++)
			cp = cp << 6 | (s[i] & 0x3f);
		*ret_cp = cp;
	}
	return len;
}

/* Appends the escape for the single byte c, which is not in json_plain. */
static void w_escape_byte(struct writer *w, unsigned char c)
{
	char e[6] = { '\\', 'u', '0', '0', hex_digits[c >> 4], hex_digits[c & 0xf] };

	switch (c) {
	case '"':
	case '\\':
		e[1] = (char)c;
		w_put(w, e, 2);
		return;
	case '\b':
		w_lit(w, "\\b");
		return;
	case '\f':
		w_lit(w, "\\f");
		return;
	case '\n':
		w_lit(w, "\\n");
		return;
	case '\r':
		w_lit(w, "\\r");
		return;
	case '\t':
		w_lit(w, "\\t");
		return;
	}
	if (c >= 0x80) {
		/* A byte of an invalid sequence: U+FFFD, in UTF-8 (I-JSON: no lone surrogate). */
		w_lit(w, "\xef\xbf\xbd");
		return;
	}
	w_put(w, e, sizeof(e));
}

/* Appends str as a JSON string; true if a byte of it was not valid UTF-8 (then U+FFFD). */
static bool w_string(struct writer *w, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	bool lossy = false;

	w_lit(w, "\"");
	while (i < len) {
		size_t run = i, n;

		/* Copy the longest run of bytes that need no escaping with one append. */
		for (;;) {
			i = plain_run(s, i, len);
			if (i < len && s[i] >= 0x80 && (n = record_utf8_seq(s + i, len - i, NULL))) {
				i += n;
				continue;
			}
			break;
		}
		if (i > run)
			w_put(w, s + run, i - run);
		/*
		 * s[i] is a byte to escape. An invalid sequence escapes only its first byte
		 * and decoding restarts at the next one: a broken sequence's remaining bytes
		 * are continuation bytes, which are then escaped one by one too.
		 */
		if (i < len) {
			lossy |= s[i] >= 0x80;
			w_escape_byte(w, s[i++]);
		}
	}
	w_lit(w, "\"");
	return lossy;
}

/* A C string as a JSON string, NULL as null. For strings of our own, known to be UTF-8. */
static void w_cstr(struct writer *w, const char *s)
{
	if (s)
		(void)w_string(w, s, strlen(s));
	else
		w_lit(w, "null");
}

/* The bytes of s as a JSON array of numbers, "[104,105]": a _raw field's value. */
static void w_byte_array(struct writer *w, const unsigned char *s, size_t len)
{
	w_lit(w, "[");
	for (size_t i = 0; i < len; i++) {
		char tmp[4];
		char *p = fmt_u64(s[i], tmp + sizeof(tmp));

		if (i)
			*--p = ',';
		w_put(w, p, (size_t)(tmp + sizeof(tmp) - p));
	}
	w_lit(w, "]");
}

/*
 * A string field taken from the system (a path, comm, a host name): key (",\"path\":"),
 * then s as a JSON string (NULL: null); if s is not valid UTF-8, its U+FFFD form and then
 * raw_key (",\"path_raw\":") with the exact bytes, fatrace's convention.
 */
static void w_sfield(struct writer *w, const char *key, size_t key_len, const char *raw_key,
		     size_t raw_key_len, const char *s)
{
	size_t len;

	w_put(w, key, key_len);
	if (!s) {
		w_lit(w, "null");
		return;
	}
	len = strlen(s);
	if (w_string(w, s, len)) {
		w_put(w, raw_key, raw_key_len);
		w_byte_array(w, (const unsigned char *)s, len);
	}
}

/* w_sfield() of the field named name (a string literal), with or without a comma first. */
#define W_SFIELD_(w, sep, name, s)                                                            \
	w_sfield((w), sep "\"" name "\":", sizeof(sep "\"" name "\":") - 1,                        \
		 ",\"" name "_raw\":", sizeof(",\"" name "_raw\":") - 1, (s))
#define W_SFIELD(w, name, s) W_SFIELD_(w, ",", name, s)

int record_json_string(struct buf *out, const char *s, size_t len)
{
	struct writer w;
	bool lossy;

	w_begin(&w, out);
	lossy = w_string(&w, s, len);
	if (w_end(&w) < 0)
		return w.err;
	return lossy;
}

/* FAN_ONDIR and FAN_EVENT_ON_CHILD are flags, not events, and never named. */
#define MASK_FLAGS ((uint64_t)FAN_ONDIR | FAN_EVENT_ON_CHILD)

/* "0x" and up to 16 hex digits: an unknown bit's name. */
#define MASK_HEX_MAX 18

/*
 * The name of one set bit of a mask: from fan_event_names (compat.h), or "0x<hex>"
 * formatted into tmp (MASK_HEX_MAX bytes). Returns the name's length and sets *ret_name.
 */
static size_t mask_bit_name(uint64_t bit, char *tmp, const char **ret_name)
{
	size_t i;
	char *p;

	for (i = 0; i < FAN_EVENT_NAMES_COUNT; i++) {
		if (fan_event_names[i].bit == bit) {
			*ret_name = fan_event_names[i].name;
			return fan_event_names[i].len;
		}
	}
	p = tmp + MASK_HEX_MAX;
	do {
		*--p = hex_digits[bit & 0xf];
		bit >>= 4;
	} while (bit);
	*--p = 'x';
	*--p = '0';
	*ret_name = p;
	return (size_t)(tmp + MASK_HEX_MAX - p);
}

size_t record_mask_names(uint64_t mask, char *out, size_t cap)
{
	size_t len = 0;

	if (cap == 0)
		return 0;
	mask &= ~MASK_FLAGS;
	/* Lowest set bit first; names that do not fit whole (with the NUL) are left out. */
	for (; mask; mask &= mask - 1) {
		char tmp[MASK_HEX_MAX];
		const char *name;
		size_t n = mask_bit_name(mask & -mask, tmp, &name);
		size_t sep = len ? 1 : 0;

		if (sep + n >= cap - len)
			break;
		if (sep)
			out[len++] = ',';
		memcpy(out + len, name, n);
		len += n;
	}
	out[len] = '\0';
	return len;
}

/* The mask's names as a JSON string; every name is plain ASCII and needs no escaping. */
static void w_mask_names(struct writer *w, uint64_t mask)
{
	bool first = true;

	w_lit(w, "\"");
	for (mask &= ~MASK_FLAGS; mask; mask &= mask - 1) {
		char tmp[MASK_HEX_MAX];
		const char *name;
		size_t n = mask_bit_name(mask & -mask, tmp, &name);

		if (!first)
			w_lit(w, ",");
		first = false;
		w_put(w, name, n);
	}
	w_lit(w, "\"");
}

static const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_ALLOW:
		return "\"allow\"";
	case VERDICT_DENY:
		return "\"deny\"";
	case VERDICT_OBSERVE:
		break;
	}
	return "\"observe\"";
}

/* The fields every record starts with, up to and including seq and ts_ms. */
static void w_head(struct writer *w, const char *type_field, size_t type_len, uint64_t seq,
		   uint64_t ts_ms)
{
	w_lit(w, "{\"schema_version\":");
	w_u64(w, RECORD_SCHEMA_VERSION);
	w_put(w, type_field, type_len);
	w_lit(w, ",\"seq\":");
	w_u64(w, seq);
	w_lit(w, ",\"ts_ms\":");
	w_u64(w, ts_ms);
}

#define w_head_lit(w, type_field, seq, ts_ms) \
	w_head((w), (type_field), sizeof(type_field) - 1, (seq), (ts_ms))

/* ,"sid":N,"cgroup":S (each null when unknown). A cgroup name is any bytes but '/' and
 * newline (mkdir in cgroupfs), so it takes the I-JSON rules of a path: cgroup_raw. */
static void w_sid_cgroup(struct writer *w, const struct proc_info *p)
{
	w_lit(w, ",\"sid\":");
	if (p->sid_known)
		w_i64(w, p->sid);
	else
		w_lit(w, "null");
	W_SFIELD(w, "cgroup", p->cgroup);
}

int record_event(struct buf *out, const struct record_event *r)
{
	struct writer w;
	const char *decision = verdict_name(r->verdict);

	w_begin(&w, out);
	w_head_lit(&w, ",\"type\":\"event\"", r->seq, r->ts_ms);
	w_lit(&w, ",\"mask\":");
	w_u64(&w, r->mask);
	w_lit(&w, ",\"events\":");
	w_mask_names(&w, r->mask);
	w_lit(&w, ",\"decision\":");
	w_put(&w, decision, strlen(decision));
	W_SFIELD(&w, "job_id", r->job_id);
	W_SFIELD(&w, "path_role", r->path_role);
	w_lit(&w, ",\"pid\":");
	w_i64(&w, r->proc.pid);
	w_lit(&w, ",\"ppid\":");
	if (r->proc.ppid_known)
		w_i64(&w, r->proc.ppid);
	else
		w_lit(&w, "null");
	w_lit(&w, ",\"uid\":");
	if (r->proc.uid_known)
		w_u64(&w, r->proc.uid);
	else
		w_lit(&w, "null");
	W_SFIELD(&w, "comm", r->proc.comm);
	W_SFIELD(&w, "exe", r->proc.exe);
	w_sid_cgroup(&w, &r->proc);
	/* Only when the parent burst scope looked them up: a replay counts with them. */
	if (r->proc.n_ancestors) {
		w_lit(&w, ",\"ancestors\":[");
		for (unsigned i = 0; i < r->proc.n_ancestors && i < EVENT_ANCESTORS_MAX; i++) {
			if (i)
				w_lit(&w, ",");
			w_i64(&w, r->proc.ancestors[i]);
		}
		w_lit(&w, "]");
	}
	W_SFIELD(&w, "path", r->path);
	W_SFIELD(&w, "name", r->name);
	if (r->is_dir)
		w_lit(&w, ",\"is_dir\":true");
	else
		w_lit(&w, ",\"is_dir\":false");
	if (r->is_rename) {
		W_SFIELD(&w, "old_path", r->old_path);
	}
	if (r->reason)
		W_SFIELD(&w, "reason", r->reason);
	w_lit(&w, "}\n");
	return w_end(&w);
}

const char *record_alert_kind_name(enum alert_kind kind)
{
	switch (kind) {
	case ALERT_CANARY:
		return "canary";
	case ALERT_BURST:
		return "burst";
	case ALERT_OVERFLOW:
		return "overflow";
	case ALERT_FD_EXHAUSTED:
		return "fd_exhausted";
	}
	return NULL;
}

int record_alert(struct buf *out, const struct alert *a)
{
	struct writer w;

	w_begin(&w, out);
	w_head_lit(&w, ",\"type\":\"alert\"", a->seq, a->ts_ms);
	w_lit(&w, ",\"kind\":");
	w_cstr(&w, record_alert_kind_name(a->kind));
	W_SFIELD(&w, "job_id", a->job_id);
	W_SFIELD(&w, "path_role", a->path_role);
	w_lit(&w, ",\"pid\":");
	w_i64(&w, a->pid);
	/* The kernel's own alerts have no process: comm and exe are left out, not null. */
	if (a->proc) {
		W_SFIELD(&w, "comm", a->proc->comm);
		W_SFIELD(&w, "exe", a->proc->exe);
		w_sid_cgroup(&w, a->proc);
	}
	W_SFIELD(&w, "path", a->path);
	W_SFIELD(&w, "reason", a->reason);
	if (a->kind == ALERT_BURST) {
		w_lit(&w, ",\"count\":");
		w_u64(&w, a->count);
		w_lit(&w, ",\"window_ms\":");
		w_u64(&w, a->window_ms);
		if (a->scope) {
			W_SFIELD(&w, "scope", a->scope);
			if (a->scope_id_str) {
				W_SFIELD(&w, "scope_id", a->scope_id_str);
			} else {
				w_lit(&w, ",\"scope_id\":");
				w_i64(&w, a->scope_id);
			}
		}
	}
	w_lit(&w, "}\n");
	return w_end(&w);
}

int record_dropped(struct buf *out, uint64_t seq, uint64_t ts_ms, uint64_t count,
		   const char *reason)
{
	struct writer w;

	w_begin(&w, out);
	w_head_lit(&w, ",\"type\":\"dropped\"", seq, ts_ms);
	w_lit(&w, ",\"count\":");
	w_u64(&w, count);
	W_SFIELD(&w, "reason", reason);
	w_lit(&w, "}\n");
	return w_end(&w);
}

int record_clock(struct buf *out, uint64_t seq, uint64_t ts_ms, int64_t step_ms)
{
	struct writer w;

	w_begin(&w, out);
	w_head_lit(&w, ",\"type\":\"clock\"", seq, ts_ms);
	w_lit(&w, ",\"step_ms\":");
	w_i64(&w, step_ms);
	w_lit(&w, "}\n");
	return w_end(&w);
}

static void w_names(struct writer *w, const char *const *names, size_t n)
{
	w_lit(w, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			w_lit(w, ",");
		w_cstr(w, names[i]);
	}
	w_lit(w, "]");
}

int record_reload(struct buf *out, uint64_t seq, uint64_t ts_ms, const struct record_reload *r)
{
	struct writer w;

	w_begin(&w, out);
	w_head_lit(&w, ",\"type\":\"reload\"", seq, ts_ms);
	w_lit(&w, ",\"status\":");
	w_cstr(&w, r->status);
	w_lit(&w, ",\"changed\":");
	w_names(&w, r->changed, r->n_changed);
	w_lit(&w, ",\"marks_added\":");
	w_u64(&w, r->marks_added);
	w_lit(&w, ",\"marks_removed\":");
	w_u64(&w, r->marks_removed);
	w_lit(&w, ",\"refused\":");
	w_names(&w, r->refused, r->n_refused);
	W_SFIELD(&w, "error", r->error);
	w_lit(&w, "}\n");
	return w_end(&w);
}

int record_start(struct buf *out, const struct record_start *r)
{
	struct writer w;

	w_begin(&w, out);
	w_head_lit(&w, ",\"type\":\"start\"", r->seq, r->ts_ms);
	W_SFIELD(&w, "version", r->version);
	W_SFIELD(&w, "boot_id", r->boot_id);
	W_SFIELD(&w, "config_digest", r->config_digest);
	W_SFIELD(&w, "mode", r->mode);
	w_lit(&w, ",\"pid\":");
	w_i64(&w, r->pid);
	w_lit(&w, ",\"marks\":[");
	for (size_t i = 0; i < r->n_marks; i++) {
		if (i)
			w_lit(&w, ",");
		W_SFIELD_(&w, "{", "kind", r->marks[i].kind);
		W_SFIELD(&w, "path", r->marks[i].path);
		w_lit(&w, "}");
	}
	w_lit(&w, "]}\n");
	return w_end(&w);
}

int record_stop(struct buf *out, uint64_t seq, uint64_t ts_ms, const char *reason,
		uint64_t dropped)
{
	struct writer w;

	w_begin(&w, out);
	w_head_lit(&w, ",\"type\":\"stop\"", seq, ts_ms);
	W_SFIELD(&w, "reason", reason);
	/* Every seq up to this one was given out: seq is the count of records, this one in. */
	w_lit(&w, ",\"records\":");
	w_u64(&w, seq);
	w_lit(&w, ",\"dropped_records\":");
	w_u64(&w, dropped);
	w_lit(&w, "}\n");
	return w_end(&w);
}

int record_ident(struct buf *out, const char *run_id, const char *host)
{
	struct writer w;

	w_begin(&w, out);
	W_SFIELD(&w, "run_id", run_id);
	if (host)
		W_SFIELD(&w, "host", host);
	return w_end(&w);
}

int record_tail(struct buf *out, size_t start, const char *tail, size_t len)
{
	/* Every record ends "}\n"; the tail goes in before them. */
	if (out->len < start + 3 || memcmp(out->data + out->len - 2, "}\n", 2) != 0)
		return -EINVAL;
	if (len == 0)
		return 0;
	out->len -= 2;
	if (buf_append(out, tail, len) < 0 || buf_append(out, "}\n", 2) < 0) {
		out->len = start;
		return -ENOMEM;
	}
	return 0;
}

/* The stats keys, in struct stats order: the record's and the log line's one table. */
#define STATS_KEY(f) { #f, offsetof(struct stats, f) }
static const struct {
	const char *key;
	size_t off;
} stats_keys[] = {
	STATS_KEY(events),		STATS_KEY(records),
	STATS_KEY(alerts),		STATS_KEY(perm_answered),
	STATS_KEY(perm_denied),		STATS_KEY(answer_errors),
	STATS_KEY(unanswered),		STATS_KEY(answer_us_p50),
	STATS_KEY(answer_us_p99),	STATS_KEY(answer_us_max),
	STATS_KEY(decide_us_p50),	STATS_KEY(decide_us_p99),
	STATS_KEY(decide_us_max),	STATS_KEY(spins),
	STATS_KEY(spin_hits),		STATS_KEY(cache_marks),
	STATS_KEY(cache_errors),	STATS_KEY(cache_flushes),
	STATS_KEY(self),		STATS_KEY(out_of_scope),
	STATS_KEY(overflows),		STATS_KEY(bad_events),
	STATS_KEY(bad_info),		STATS_KEY(unresolved),
	STATS_KEY(moves),		STATS_KEY(fd_denied),
	STATS_KEY(dropped_records),	STATS_KEY(out_buf_kib),
	STATS_KEY(out_backlog_max_kib), STATS_KEY(exe_known),
	STATS_KEY(proc_lookups),	STATS_KEY(proc_evictions),
	STATS_KEY(nl_overruns),		STATS_KEY(dircache_hits),
	STATS_KEY(dircache_misses),	STATS_KEY(dircache_evictions),
	STATS_KEY(policy_suppressed),	STATS_KEY(policy_evictions),
	STATS_KEY(quarantine_denials),	STATS_KEY(hooks_started),
	STATS_KEY(hooks_dropped),	STATS_KEY(hooks_killed),
	STATS_KEY(hooks_failed),	STATS_KEY(hooks_own),
	STATS_KEY(log_dropped),		STATS_KEY(sock_clients),
	STATS_KEY(sock_accepted),	STATS_KEY(sock_refused),
	STATS_KEY(sock_refused_full),	STATS_KEY(sock_disconnected),
	STATS_KEY(sock_dropped_clients), STATS_KEY(sock_dropped_records),
	STATS_KEY(sock_accept_pauses),	STATS_KEY(read_errors),
	STATS_KEY(unknown_info),	STATS_KEY(out_write_errors),
	STATS_KEY(nl_messages),		STATS_KEY(proc_reads),
	STATS_KEY(dircache_flushes),	STATS_KEY(resolve_failures),
	STATS_KEY(cgroup_unknown),	STATS_KEY(burst_unknown),
	STATS_KEY(nl_quiet_execs),	STATS_KEY(nl_quiet_spells),
	STATS_KEY(exe_lost),
};
#undef STATS_KEY
#define STATS_N (sizeof(stats_keys) / sizeof(stats_keys[0]))

/* A field of struct stats without a key (or a key twice) changes the count. */
_Static_assert(STATS_N * sizeof(uint64_t) == sizeof(struct stats),
	       "every field of struct stats has one key in stats_keys");

static uint64_t stats_value(const struct stats *s, size_t i)
{
	uint64_t v;

	memcpy(&v, (const char *)s + stats_keys[i].off, sizeof(v));
	return v;
}

int record_stats(struct buf *out, uint64_t seq, uint64_t ts_ms, const struct stats *s)
{
	struct writer w;

	w_begin(&w, out);
	w_head_lit(&w, ",\"type\":\"stats\"", seq, ts_ms);
	for (size_t i = 0; i < STATS_N; i++) {
		w_lit(&w, ",\"");
		w_put(&w, stats_keys[i].key, strlen(stats_keys[i].key));
		w_lit(&w, "\":");
		w_u64(&w, stats_value(s, i));
	}
	w_lit(&w, "}\n");
	return w_end(&w);
}

int record_stats_text(struct buf *out, const struct stats *s)
{
	struct writer w;

	w_begin(&w, out);
	for (size_t i = 0; i < STATS_N; i++) {
		if (i)
			w_lit(&w, " ");
		w_put(&w, stats_keys[i].key, strlen(stats_keys[i].key));
		w_lit(&w, "=");
		w_u64(&w, stats_value(s, i));
	}
	w_lit(&w, "\0");
	if (w.err == 0)
		out->len--; /* the NUL ends the string, not the text */
	return w_end(&w);
}

/*
 * The Prometheus text exposition format (version 0.0.4) of the same counters, from the same
 * table. A key is a gauge when it is a level, not a running count: a latency percentile or
 * maximum (_p50, _p99, _max), a size (_kib), or the subscribers connected now; a stats key
 * of either kind added later is named so. Counters get the _total suffix Prometheus names
 * them with. No timestamps: node-exporter's textfile collector refuses them.
 */
int record_stats_prom(struct buf *out, const struct stats *s)
{
	static const char *const gauge_suffix[] = { "_p50", "_p99", "_max", "_kib" };
	struct writer w;

	w_begin(&w, out);
	for (size_t i = 0; i < STATS_N; i++) {
		const char *key = stats_keys[i].key, *total;
		size_t len = strlen(key), total_len;
		bool gauge = strcmp(key, "sock_clients") == 0;

		for (size_t j = 0; j < sizeof(gauge_suffix) / sizeof(gauge_suffix[0]); j++) {
			size_t n = strlen(gauge_suffix[j]);

			gauge |= len > n && strcmp(key + len - n, gauge_suffix[j]) == 0;
		}
		total = gauge ? "" : "_total";
		total_len = strlen(total);
		w_lit(&w, "# HELP fanotifyd_");
		w_put(&w, key, len);
		w_put(&w, total, total_len);
		w_lit(&w, " fanotifyd stats record key ");
		w_put(&w, key, len);
		w_lit(&w, ".\n# TYPE fanotifyd_");
		w_put(&w, key, len);
		w_put(&w, total, total_len);
		if (gauge)
			w_lit(&w, " gauge\nfanotifyd_");
		else
			w_lit(&w, " counter\nfanotifyd_");
		w_put(&w, key, len);
		w_put(&w, total, total_len);
		w_lit(&w, " ");
		w_u64(&w, stats_value(s, i));
		w_lit(&w, "\n");
	}
	return w_end(&w);
}
