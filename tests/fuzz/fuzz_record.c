/*
 * fuzz_record.c - libFuzzer target: the JSON writer with fuzz-chosen strings and numbers.
 *
 * Input: a 47-byte header (which record, flags, which strings are NULL, the numbers; short
 * inputs are padded with zeros), then the string fields separated by NUL bytes. Builds an
 * event, alert or dropped record and checks that the output is exactly one line holding
 * one strict I-JSON object (RFC 8259 grammar, strict UTF-8, no \u escape of a surrogate
 * (RFC 7493), no duplicate names), with the fields in record.h's order, the numbers as
 * given, and every string field's original bytes recoverable by the README's convention
 * (field_bytes(), the one function that knows it): the string is the bytes with U+FFFD for
 * each byte outside well-formed UTF-8, and when there was one, <field>_raw right after it
 * holds the exact bytes. The whole string part, NULs included, also goes through
 * record_json_string().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "fuzz_record: check failed: %s (line %d)\n", #cond,  \
				__LINE__);                                                   \
			abort();                                                             \
		}                                                                            \
	} while (0)

/* ---- a strict JSON reader --------------------------------------------------------- */

#define MEMBERS_MAX 32
#define DEPTH_MAX 8

/* One member of the top-level object: spans into the line (key without its quotes). */
struct member {
	const char *key;
	size_t key_len;
	const char *val;
	size_t val_len;
	const char *raw;	/* its <key>_raw sibling's value (the member after it), or NULL */
	size_t raw_len;
};

struct object {
	struct member m[MEMBERS_MAX];
	size_t n;
};

struct reader {
	const unsigned char *s;
	size_t i, len;
};

static bool r_lit(struct reader *r, const char *lit)
{
	size_t n = strlen(lit);

	if (r->len - r->i < n || memcmp(r->s + r->i, lit, n) != 0)
		return false;
	r->i += n;
	return true;
}

static void r_ws(struct reader *r)
{
	while (r->i < r->len && strchr(" \t\r\n", r->s[r->i]) && r->s[r->i])
		r->i++;
}

static bool r_digits(struct reader *r)
{
	size_t start = r->i;

	while (r->i < r->len && r->s[r->i] >= '0' && r->s[r->i] <= '9')
		r->i++;
	return r->i > start;
}

static bool r_number(struct reader *r)
{
	(void)r_lit(r, "-");
	if (!r_lit(r, "0") && !(r->i < r->len && r->s[r->i] >= '1' && r->s[r->i] <= '9' &&
				 r_digits(r)))
		return false;
	if (r_lit(r, ".") && !r_digits(r))
		return false;
	if (r->i < r->len && (r->s[r->i] == 'e' || r->s[r->i] == 'E')) {
		r->i++;
		if (!r_lit(r, "+"))
			(void)r_lit(r, "-");
		return r_digits(r);
	}
	return true;
}

/* Length of the well-formed UTF-8 sequence at s (Unicode table 3-7), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static int hex4(const unsigned char *s)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* A string token: raw bytes valid UTF-8 and >= 0x20, escapes from RFC 8259 only. */
static bool r_string(struct reader *r)
{
	if (!r_lit(r, "\""))
		return false;
	while (r->i < r->len) {
		unsigned char c = r->s[r->i];
		size_t n;

		if (c == '"') {
			r->i++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (r->len - r->i < 2)
				return false;
			c = r->s[r->i + 1];
			if (c == 'u') {
				int u = r->len - r->i < 6 ? -1 : hex4(r->s + r->i + 2);

				/* I-JSON: no surrogate, lone or paired (nothing is written as a pair) */
				if (u < 0 || (u >= 0xd800 && u <= 0xdfff))
					return false;
				r->i += 6;
			} else if (strchr("\"\\/bfnrt", c) && c) {
				r->i += 2;
			} else {
				return false;
			}
			continue;
		}
		n = utf8_len(r->s + r->i, r->len - r->i);
		if (n == 0)
			return false;
		r->i += n;
	}
	return false;
}

static bool r_value(struct reader *r, int depth);

/* An object; members of the top level (depth 0) are recorded in obj. */
static bool r_object(struct reader *r, int depth, struct object *obj)
{
	if (!r_lit(r, "{"))
		return false;
	r_ws(r);
	if (r_lit(r, "}"))
		return true;
	for (;;) {
		size_t k = r->i, v;

		if (!r_string(r))
			return false;
		if (obj) {
			CHECK(obj->n < MEMBERS_MAX);
			obj->m[obj->n].key = (const char *)r->s + k + 1;
			obj->m[obj->n].key_len = r->i - k - 2;
		}
		r_ws(r);
		if (!r_lit(r, ":"))
			return false;
		r_ws(r);
		v = r->i;
		if (!r_value(r, depth + 1))
			return false;
		if (obj) {
			obj->m[obj->n].val = (const char *)r->s + v;
			obj->m[obj->n].val_len = r->i - v;
			obj->n++;
		}
		r_ws(r);
		if (r_lit(r, "}"))
			return true;
		if (!r_lit(r, ","))
			return false;
		r_ws(r);
	}
}

static bool r_value(struct reader *r, int depth)
{
	if (depth > DEPTH_MAX || r->i >= r->len)
		return false;
	switch (r->s[r->i]) {
	case '{':
		return r_object(r, depth, NULL);
	case '[':
		r->i++;
		r_ws(r);
		if (r_lit(r, "]"))
			return true;
		for (;;) {
			if (!r_value(r, depth + 1))
				return false;
			r_ws(r);
			if (r_lit(r, "]"))
				return true;
			if (!r_lit(r, ","))
				return false;
			r_ws(r);
		}
	case '"':
		return r_string(r);
	case 't':
		return r_lit(r, "true");
	case 'f':
		return r_lit(r, "false");
	case 'n':
		return r_lit(r, "null");
	default:
		return r_number(r);
	}
}

/* line[0, len) is one object and a newline, nothing else; names are unique. */
static void parse_line(const char *line, size_t len, struct object *obj)
{
	struct reader r = { (const unsigned char *)line, 0, len };

	CHECK(len >= 1 && line[len - 1] == '\n');
	CHECK(memchr(line, '\n', len - 1) == NULL);
	r.len = len - 1;
	obj->n = 0;
	CHECK(r_object(&r, 0, obj));
	CHECK(r.i == r.len);
	for (size_t a = 0; a < obj->n; a++)
		for (size_t b = a + 1; b < obj->n; b++)
			CHECK(obj->m[a].key_len != obj->m[b].key_len ||
			      memcmp(obj->m[a].key, obj->m[b].key, obj->m[a].key_len) != 0);
	/* Each <key>_raw goes with the member just before it, named key; it is taken out of
	 * the list, so that the checks below see record.h's fields in record.h's order. */
	size_t n = 0;

	for (size_t a = 0; a < obj->n; a++) {
		const struct member *m = &obj->m[a];

		if (m->key_len > 4 && memcmp(m->key + m->key_len - 4, "_raw", 4) == 0) {
			struct member *f = n ? &obj->m[n - 1] : NULL;

			CHECK(f && !f->raw && f->key_len == m->key_len - 4 &&
			      memcmp(f->key, m->key, f->key_len) == 0);
			f->raw = m->val;
			f->raw_len = m->val_len;
			continue;
		}
		obj->m[n] = *m;
		obj->m[n].raw = NULL;
		n++;
	}
	obj->n = n;
}

/* s with U+FFFD for each byte outside well-formed UTF-8, into out (3 * len bytes). */
static size_t replace_bad(const unsigned char *s, size_t len, unsigned char *out)
{
	size_t i = 0, o = 0;

	while (i < len) {
		size_t n = utf8_len(s + i, len - i);

		if (n == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	return o;
}

/* A _raw value: "[b,b,...]", each a decimal 0-255 without leading zeros. Its bytes into out
 * (malloc'd). */
static size_t raw_array(const char *v, size_t len, unsigned char **out)
{
	size_t i = 1, n = 0;

	CHECK(len >= 2 && v[0] == '[' && v[len - 1] == ']');
	*out = malloc(len);
	CHECK(*out);
	while (i < len - 1) {
		unsigned x = 0;
		size_t d = 0;

		while (v[i] >= '0' && v[i] <= '9') {
			CHECK(d == 0 || v[i - d] != '0');
			x = x * 10 + (unsigned)(v[i] - '0');
			i++;
			d++;
			CHECK(d <= 3);
		}
		CHECK(d > 0 && x <= 255);
		(*out)[n++] = (unsigned char)x;
		if (v[i] == ',')
			i++;
		else
			CHECK(i == len - 1);
	}
	return n;
}

/*
 * The next character of a valid string token's contents at *i: an escape or a UTF-8
 * sequence. A surrogate pair escape is combined; a lone surrogate is returned as is.
 */
static uint32_t next_char(const unsigned char *s, size_t *i)
{
	uint32_t u;
	size_t n;

	if (s[*i] != '\\') {
		n = utf8_len(s + *i, 4);	/* the token is valid: the sequence is whole */
		u = n == 1 ? s[*i] : s[*i] & (0x7f >> n);
		for (size_t k = 1; k < n; k++)
			u = u << 6 | (s[*i + k] & 0x3f);
		*i += n;
		return u;
	}
	*i += 2;
	if (s[*i - 1] != 'u') {
		static const char from[] = "bfnrt\"\\/", to[] = "\b\f\n\r\t\"\\/";

		return (unsigned char)to[strchr(from, s[*i - 1]) - from];
	}
	u = (uint32_t)hex4(s + *i);
	*i += 4;
	if (u >= 0xd800 && u <= 0xdbff && s[*i] == '\\' && s[*i + 1] == 'u') {
		uint32_t lo = (uint32_t)hex4(s + *i + 2);

		if (lo >= 0xdc00 && lo <= 0xdfff) {
			*i += 6;
			return 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
		}
	}
	return u;
}

/* ---- the escaping convention (README "File names are bytes") ------------------------ */

/*
 * The original bytes of string field key of obj, as a reader following the README
 * recovers them: key_raw's bytes if it is there, else the string's UTF-8. Checks the
 * string against them: the bytes with U+FFFD for each byte outside well-formed UTF-8, and
 * a _raw exactly when there was such a byte. Returns 1 and sets out (malloc'd) and
 * *out_len, 0 for null, -1 if the field is missing.
 */
static int field_bytes(const struct object *obj, const char *key, unsigned char **out,
		       size_t *out_len)
{
	const struct member *m = NULL;
	const unsigned char *s;
	size_t i, n = 0;

	for (i = 0; i < obj->n && !m; i++)
		if (obj->m[i].key_len == strlen(key) && !memcmp(obj->m[i].key, key, strlen(key)))
			m = &obj->m[i];
	if (!m)
		return -1;
	if (m->val_len == 4 && memcmp(m->val, "null", 4) == 0)
		return 0;
	CHECK(m->val_len >= 2 && m->val[0] == '"');
	s = (const unsigned char *)m->val;
	/* No character takes more bytes in UTF-8 than its shortest form in the line. */
	*out = malloc(m->val_len);
	CHECK(*out);
	for (i = 1; i < m->val_len - 1;) {
		uint32_t u = next_char(s, &i);
		unsigned char *p = *out + n;

		CHECK(u < 0xd800 || u > 0xdfff);
		if (u < 0x80) {
			p[0] = (unsigned char)u;
			n += 1;
		} else if (u < 0x800) {
			p[0] = (unsigned char)(0xc0 | u >> 6);
			p[1] = (unsigned char)(0x80 | (u & 0x3f));
			n += 2;
		} else if (u < 0x10000) {
			p[0] = (unsigned char)(0xe0 | u >> 12);
			p[1] = (unsigned char)(0x80 | (u >> 6 & 0x3f));
			p[2] = (unsigned char)(0x80 | (u & 0x3f));
			n += 3;
		} else {
			p[0] = (unsigned char)(0xf0 | u >> 18);
			p[1] = (unsigned char)(0x80 | (u >> 12 & 0x3f));
			p[2] = (unsigned char)(0x80 | (u >> 6 & 0x3f));
			p[3] = (unsigned char)(0x80 | (u & 0x3f));
			n += 4;
		}
	}
	*out_len = n;
	if (m->raw) {
		unsigned char *raw, *rep;
		size_t raw_len = raw_array(m->raw, m->raw_len, &raw), rep_len;

		rep = malloc(3 * raw_len + 1);
		CHECK(rep);
		rep_len = replace_bad(raw, raw_len, rep);
		/* A _raw only for bytes that are not UTF-8; the string is their U+FFFD form. */
		CHECK(rep_len != raw_len || memcmp(rep, raw, raw_len) != 0);
		CHECK(rep_len == n && memcmp(rep, *out, n) == 0);
		free(rep);
		free(*out);
		*out = raw;
		*out_len = raw_len;
	} else {
		/* No _raw: the string's bytes are the original, which were UTF-8. */
		for (i = 0; i < n; i += utf8_len(*out + i, n - i))
			CHECK(utf8_len(*out + i, n - i) > 0);
	}
	return 1;
}

/* ---- checks on one record ------------------------------------------------------------ */

/* String field key holds exactly want (want_len bytes), or null when want is NULL. */
static void expect_bytes(const struct object *obj, const char *key, const char *want,
			 size_t want_len)
{
	unsigned char *got = NULL;
	size_t got_len = 0;
	int r = field_bytes(obj, key, &got, &got_len);

	CHECK(r >= 0);
	if (!want) {
		CHECK(r == 0);
		return;
	}
	if (r != 1 || got_len != want_len || memcmp(got, want, want_len) != 0) {
		fprintf(stderr, "fuzz_record: field %s does not give back its bytes\n", key);
		abort();
	}
	free(got);
}

static void expect_str(const struct object *obj, const char *key, const char *want)
{
	expect_bytes(obj, key, want, want ? strlen(want) : 0);
}

/* The member names, in order, are exactly keys (NULL-terminated). */
static void expect_keys(const struct object *obj, const char *const *keys)
{
	size_t i;

	for (i = 0; keys[i]; i++) {
		CHECK(i < obj->n);
		CHECK(obj->m[i].key_len == strlen(keys[i]) &&
		      memcmp(obj->m[i].key, keys[i], obj->m[i].key_len) == 0);
	}
	CHECK(i == obj->n);
}

/* Member i's value is exactly the text want. */
static void expect_raw(const struct object *obj, size_t i, const char *want)
{
	CHECK(i < obj->n && obj->m[i].val_len == strlen(want) &&
	      memcmp(obj->m[i].val, want, obj->m[i].val_len) == 0);
}

static void expect_u64(const struct object *obj, size_t i, uint64_t v)
{
	char tmp[24];

	(void)snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	expect_raw(obj, i, tmp);
}

static void expect_i64(const struct object *obj, size_t i, int64_t v)
{
	char tmp[24];

	(void)snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
	expect_raw(obj, i, tmp);
}

/* ---- input layout -------------------------------------------------------------------- */

#define HEADER_LEN 47
#define N_STRINGS 8

enum {
	FL_ALERT = 1 << 0,	/* alert record (else event) */
	FL_IS_DIR = 1 << 1,
	FL_RENAME = 1 << 2,
	FL_PPID = 1 << 3,
	FL_UID = 1 << 4,
	FL_HAS_PROC = 1 << 5,	/* alert: proc is the event's (else NULL) */
	FL_SID = 1 << 6,	/* sid known (the ppid's value) */
	FL_DROPPED = 1 << 7,	/* dropped notice (wins over FL_ALERT) */
};

/* Alert kinds by number, as the records name them; past the end: one record.c does not
 * know (written as null). */
static const char *const kind_names[] = { "canary", "burst", "overflow", "fd_exhausted", NULL };
#define N_KINDS (sizeof(kind_names) / sizeof(kind_names[0]))

struct input {
	uint8_t flags;
	uint8_t verdict;		/* event: verdict % 3; alert: kind % N_KINDS */
	uint8_t nulls;
	uint64_t seq, ts_ms, mask;
	uint32_t pid, ppid, uid, count, window_ms;
	const char *str[N_STRINGS];	/* NULL where nulls has the bit set */
};

static uint64_t take(const uint8_t *h, size_t *off, size_t n)
{
	uint64_t v = 0;

	memcpy(&v, h + *off, n);	/* little-endian host: the low n bytes */
	*off += n;
	return v;
}

static void build(struct record_event *e, struct alert *a, const struct input *in)
{
	*e = (struct record_event){
		.seq = in->seq, .ts_ms = in->ts_ms, .mask = in->mask,
		.verdict = (enum verdict)(in->verdict % 3),
		.job_id = in->str[0], .path_role = in->str[1],
		.proc = { .pid = (pid_t)in->pid, .ppid = (pid_t)in->ppid,
			  .ppid_known = in->flags & FL_PPID, .uid = in->uid,
			  .uid_known = in->flags & FL_UID, .comm = in->str[2],
			  .exe = in->str[3], .sid = (pid_t)in->ppid,
			  .sid_known = in->flags & FL_SID, .cgroup = in->str[6] },
		.path = in->str[4], .name = in->str[5], .is_dir = in->flags & FL_IS_DIR,
		.old_path = in->str[6], .is_rename = in->flags & FL_RENAME,
		.reason = in->str[7],
	};
	*a = (struct alert){
		.seq = in->seq, .ts_ms = in->ts_ms,
		.kind = (enum alert_kind)(in->verdict % N_KINDS),
		.pid = (pid_t)in->pid, .proc = in->flags & FL_HAS_PROC ? &e->proc : NULL,
		.path = in->str[4], .reason = in->str[7], .job_id = in->str[5],
		.path_role = in->str[1], .count = in->count, .window_ms = in->window_ms,
	};
}

static void check_event(const struct record_event *e, const struct object *obj)
{
	static const char *const verdicts[] = { "\"observe\"", "\"allow\"", "\"deny\"" };
	const char *keys[24] = {
		"schema_version", "type", "seq", "ts_ms", "mask", "events", "decision", "job_id",
		"path_role", "pid", "ppid", "uid", "comm", "exe", "sid", "cgroup", "path", "name",
		"is_dir",
	};
	char names[RECORD_MASK_NAMES_MAX];
	size_t n = 19;

	if (e->is_rename)
		keys[n++] = "old_path";
	if (e->reason)
		keys[n++] = "reason";
	keys[n] = NULL;
	expect_keys(obj, keys);
	expect_raw(obj, 0, "1");
	expect_raw(obj, 1, "\"event\"");
	expect_u64(obj, 2, e->seq);
	expect_u64(obj, 3, e->ts_ms);
	expect_u64(obj, 4, e->mask);
	/* The writer's inline names agree with record_mask_names(). */
	record_mask_names(e->mask, names, sizeof(names));
	expect_str(obj, "events", names);
	expect_raw(obj, 6, verdicts[e->verdict]);
	expect_str(obj, "job_id", e->job_id);
	expect_str(obj, "path_role", e->path_role);
	expect_i64(obj, 9, e->proc.pid);
	if (e->proc.ppid_known)
		expect_i64(obj, 10, e->proc.ppid);
	else
		expect_raw(obj, 10, "null");
	if (e->proc.uid_known)
		expect_u64(obj, 11, e->proc.uid);
	else
		expect_raw(obj, 11, "null");
	expect_str(obj, "comm", e->proc.comm);
	expect_str(obj, "exe", e->proc.exe);
	if (e->proc.sid_known)
		expect_i64(obj, 14, e->proc.sid);
	else
		expect_raw(obj, 14, "null");
	expect_str(obj, "cgroup", e->proc.cgroup);
	expect_str(obj, "path", e->path);
	expect_str(obj, "name", e->name);
	expect_raw(obj, 18, e->is_dir ? "true" : "false");
	if (e->is_rename)
		expect_str(obj, "old_path", e->old_path);
	if (e->reason)
		expect_str(obj, "reason", e->reason);
}

static void check_alert(const struct alert *a, const struct object *obj)
{
	const char *keys[20] = { "schema_version", "type", "seq", "ts_ms", "kind", "job_id",
				 "path_role", "pid" };
	bool burst = a->kind == ALERT_BURST;
	size_t n = 8;

	if (a->proc) {
		keys[n++] = "comm";
		keys[n++] = "exe";
		keys[n++] = "sid";
		keys[n++] = "cgroup";
	}
	keys[n++] = "path";
	keys[n++] = "reason";
	if (burst) {
		keys[n++] = "count";
		keys[n++] = "window_ms";
	}
	keys[n] = NULL;
	expect_keys(obj, keys);
	expect_raw(obj, 0, "1");
	expect_raw(obj, 1, "\"alert\"");
	expect_u64(obj, 2, a->seq);
	expect_u64(obj, 3, a->ts_ms);
	expect_str(obj, "kind", kind_names[a->kind]);
	expect_str(obj, "job_id", a->job_id);
	expect_str(obj, "path_role", a->path_role);
	expect_i64(obj, 7, a->pid);
	if (a->proc) {
		expect_str(obj, "comm", a->proc->comm);
		expect_str(obj, "exe", a->proc->exe);
		if (a->proc->sid_known)
			expect_i64(obj, 10, a->proc->sid);
		else
			expect_raw(obj, 10, "null");
		expect_str(obj, "cgroup", a->proc->cgroup);
	}
	expect_str(obj, "path", a->path);
	expect_str(obj, "reason", a->reason);
	if (burst) {
		expect_u64(obj, n - 2, a->count);
		expect_u64(obj, n - 1, a->window_ms);
	}
}

static void check_dropped(const struct input *in, const struct object *obj)
{
	static const char *const keys[] = { "schema_version", "type", "seq", "ts_ms", "count",
					    "reason", NULL };

	expect_keys(obj, keys);
	expect_raw(obj, 0, "1");
	expect_raw(obj, 1, "\"dropped\"");
	expect_u64(obj, 2, in->seq);
	expect_u64(obj, 3, in->ts_ms);
	expect_u64(obj, 4, in->mask);
	expect_str(obj, "reason", in->str[7]);
}

/* record_json_string() on bytes with NULs: one string token that gives them back. */
static void check_json_string(const char *s, size_t len)
{
	struct buf b = { 0 };
	struct object obj = { .n = 1 };
	struct reader r;

	CHECK(buf_append(&b, "{\"s\":", 5) == 0);
	unsigned char *rep = malloc(3 * len + 1);
	size_t rep_len;
	int lossy;

	CHECK(rep);
	rep_len = replace_bad((const unsigned char *)s, len, rep);
	lossy = record_json_string(&b, s, len);
	CHECK(lossy == (rep_len != len || memcmp(rep, s, len) != 0));
	CHECK(buf_append(&b, "}\n", 2) == 0);
	r = (struct reader){ (const unsigned char *)b.data, 5, b.len - 2 };
	CHECK(r_string(&r) && r.i == r.len);
	parse_line(b.data, b.len, &obj);
	/* Without a _raw sibling: the string is the U+FFFD form, exactly. */
	expect_bytes(&obj, "s", rep_len ? (const char *)rep : "", rep_len);
	buf_free(&b);
	free(rep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t h[HEADER_LEN] = { 0 };
	size_t off = 0, rest_len = size > HEADER_LEN ? size - HEADER_LEN : 0;
	struct record_event e;
	struct alert a;
	struct input in;
	struct object obj;
	struct buf out = { 0 };
	char *rest, *p;
	int i;

	memcpy(h, data, size < HEADER_LEN ? size : HEADER_LEN);
	in.flags = (uint8_t)take(h, &off, 1);
	in.verdict = (uint8_t)take(h, &off, 1);
	in.nulls = (uint8_t)take(h, &off, 1);
	in.seq = take(h, &off, 8);
	in.ts_ms = take(h, &off, 8);
	in.mask = take(h, &off, 8);
	in.pid = (uint32_t)take(h, &off, 4);
	in.ppid = (uint32_t)take(h, &off, 4);
	in.uid = (uint32_t)take(h, &off, 4);
	in.count = (uint32_t)take(h, &off, 4);
	in.window_ms = (uint32_t)take(h, &off, 4);

	/* The string part, NUL-terminated once more so that the last piece ends too. */
	rest = malloc(rest_len + 1);
	CHECK(rest);
	if (rest_len)
		memcpy(rest, data + HEADER_LEN, rest_len);
	rest[rest_len] = '\0';
	check_json_string(rest, rest_len);
	for (i = 0, p = rest; i < N_STRINGS; i++) {
		in.str[i] = (in.nulls >> i & 1) ? NULL : p;
		/* Past the last piece, the rest are "" (the added NUL). */
		p += strlen(p);
		if (p < rest + rest_len)
			p++;
	}
	build(&e, &a, &in);

	if (in.flags & FL_DROPPED)
		CHECK(record_dropped(&out, in.seq, in.ts_ms, in.mask, in.str[7]) == 0);
	else if (in.flags & FL_ALERT)
		CHECK(record_alert(&out, &a) == 0);
	else
		CHECK(record_event(&out, &e) == 0);
	parse_line(out.data, out.len, &obj);
	if (in.flags & FL_DROPPED)
		check_dropped(&in, &obj);
	else if (in.flags & FL_ALERT)
		check_alert(&a, &obj);
	else
		check_event(&e, &obj);
	buf_free(&out);
	free(rest);
	return 0;
}
