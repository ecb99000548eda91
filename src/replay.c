/*
 * replay.c - fanotifyd --replay FILE [--sweep KEY=V1,...]: a stream the daemon recorded,
 * read back through the configured policy. Owns the input (a zlib stream: gzip or plain,
 * recognised by its bytes), the output descriptor, the parser threads and their batches and,
 * for a sweep, the events kept in memory; borrows the config. Must not mark, open a
 * fanotify group, run a hook or write anything but its output: main.c calls it right after
 * the config is parsed, before start(), so none of that exists.
 *
 *   reader: lines -> batches -> parser threads: replay_parse() (YAJL) -> stored lines ->
 *   this thread, in input order: struct replay_event (proc_info from pid, ppid, uid, sid,
 *   comm, exe, cgroup) -> policy_eval() with now_ms = ts_ms -> alert and decision records
 *   (record.c / text.c) -> replay_summary
 *
 * The live policy counts time in the batch's CLOCK_MONOTONIC read beside the record's ts_ms
 * (pipeline.c handle_event()), so the intervals a replay sees are those policy saw.
 *
 * JSON: YAJL's callbacks, not a tree of objects (json-c, jansson, cJSON): the parse is the
 * cost of a replay, and a tree costs an allocation per value and a lookup per field. On
 * bench/replay.sh's stream (one thread, every field replay reads, best of 3): YAJL 996,000
 * lines/s, cJSON 467,000, libfastjson 165,000, json-c 153,000, jansson half of json-c.
 * Nesting stops at json-c's depth (32), so a hostile line costs a bounded parse.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>
#include <zlib.h>

#include "compat.h"
#include "fdio.h"
#include "replay.h"
#include "text.h"

#define READ_CHUNK (256u << 10)		/* bytes per gzread() */
#define OUT_FLUSH (64u << 10)		/* output written once this much is buffered */
#define N_STRS 8			/* a stored line's strings */

enum { S_PATH, S_OLD_PATH, S_COMM, S_EXE, S_CGROUP, S_TYPE, S_RUN_ID, S_HOST };

/*
 * The parser: YAJL's callbacks (SAX) fill one slot per field replay reads, straight from
 * the bytes, and ignore every other field and everything nested; nothing is allocated per
 * value. A field's slot holds what its last occurrence in the object was (json-c, which
 * replay used before, kept the last of duplicate keys too); replay_parse() checks types and
 * ranges once the object is closed.
 */
enum {
	F_PATH, F_OLD_PATH, F_COMM, F_EXE, F_CGROUP,			/* strings, in S_* order */
	F_PATH_RAW, F_OLD_PATH_RAW, F_COMM_RAW, F_EXE_RAW, F_CGROUP_RAW, /* their _raw */
	F_TYPE, F_RUN_ID, F_DECISION, F_HOST,				/* other strings */
	F_SEQ, F_TS_MS, F_MASK, F_PID, F_PPID, F_UID, F_SID, F_STEP_MS,	/* integers */
	F_ANCESTORS,							/* of integers */
	F_N
};

#define FIELD(name) { name, sizeof(name) - 1 }
static const struct {
	const char *name;
	size_t len;
} fields[F_N] = {
	FIELD("path"), FIELD("old_path"), FIELD("comm"), FIELD("exe"), FIELD("cgroup"),
	FIELD("path_raw"), FIELD("old_path_raw"), FIELD("comm_raw"), FIELD("exe_raw"),
	FIELD("cgroup_raw"),
	FIELD("type"), FIELD("run_id"), FIELD("decision"), FIELD("host"),
	FIELD("seq"), FIELD("ts_ms"), FIELD("mask"), FIELD("pid"), FIELD("ppid"), FIELD("uid"),
	FIELD("sid"), FIELD("step_ms"), FIELD("ancestors"),
};

enum kind {
	K_ABSENT,
	K_NULL,
	K_INT,		/* i (clamped to int64 as json-c did: a range check then refuses it) */
	K_STRING,	/* str: the decoded bytes, NUL-terminated (str.len counts the NUL) */
	K_BYTES,	/* an array of integers 1-255 (a _raw field): str as for K_STRING */
	K_PIDS,		/* an array of 1 to EVENT_ANCESTORS_MAX pids ("ancestors"): pids, n */
	K_OTHER,	/* any other value: a wrong type for every field replay reads */
};

#define PARSE_DEPTH_MAX 32	/* nested objects and arrays, the top object included:
				 * json-c's default depth, the limit replay always had */

struct slot {
	enum kind kind;
	int64_t i;
	struct buf str;
	pid_t pids[EVENT_ANCESTORS_MAX];
	unsigned n;
};

#define KEY_HASH_SIZE 64		/* power of two */

/* No two of fields[] share a hash: a key is found, or known not to be one of them, with one
 * comparison. */
static unsigned key_hash(const unsigned char *s, size_t len)
{
	return (unsigned)(len + s[0] * 6u + s[len - 1] * 13u) & (KEY_HASH_SIZE - 1);
}

struct replay_parser {
	yajl_handle h;			/* NULL after a malformed line: made anew */
	int8_t by_hash[KEY_HASH_SIZE];	/* key_hash() -> field + 1, 0: none */
	struct slot f[F_N];
	int key;			/* the slot of the top-level key being read, or -1 */
	unsigned depth;			/* open objects and arrays */
	bool in_raw;			/* inside the array of a _raw field (depth 2) */
	bool in_pids;			/* inside the array of "ancestors" (depth 2) */
	bool done;			/* the top-level object closed ... */
	size_t end;			/* ... this many bytes into the line */
	bool ok;			/* no callback refused the line */
};

/* A slot, its value now of kind k: the previous occurrence's is dropped. */
static struct slot *slot_set(struct replay_parser *p, enum kind k)
{
	struct slot *s = &p->f[p->key];

	s->kind = k;
	s->str.len = 0;
	return s;
}

static int refuse(struct replay_parser *p)
{
	p->ok = false;
	return 0; /* yajl_status_client_canceled */
}

/* A scalar value of kind k: refuses one at the top level or after the object. */
static int scalar(struct replay_parser *p, enum kind k)
{
	if (p->depth == 0)
		return refuse(p);
	if ((p->in_raw || p->in_pids) && p->depth == 2)
		p->f[p->key].kind = K_OTHER;
	else if (p->depth == 1 && p->key >= 0)
		slot_set(p, k);
	return 1;
}

static int cb_null(void *ctx)
{
	return scalar(ctx, K_NULL);
}

static int cb_boolean(void *ctx, int b)
{
	(void)b;
	return scalar(ctx, K_OTHER);
}

/* An integer as json-c read it: strtoll()'s value, clamped where it overflows (YAJL has
 * checked the syntax: -?(0|[1-9][0-9]*), then a fraction or exponent for a double, which is
 * a wrong type for every number replay reads). */
static int cb_number(void *ctx, const char *s, size_t len)
{
	struct replay_parser *p = ctx;
	bool neg = len && s[0] == '-';
	uint64_t u = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	int64_t x;

	for (size_t i = neg; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9)
			return scalar(p, K_OTHER);
		u = u > (lim - d) / 10 ? lim : u * 10 + d;
	}
	x = neg ? (u == lim ? INT64_MIN : -(int64_t)u) : (int64_t)u;
	if (p->in_pids && p->depth == 2) {
		struct slot *f = &p->f[p->key];

		if (f->kind != K_PIDS || x < 1 || x > INT32_MAX || f->n == EVENT_ANCESTORS_MAX)
			f->kind = K_OTHER;
		else
			f->pids[f->n++] = (pid_t)x;
		return 1;
	}
	if (p->in_raw && p->depth == 2) {
		struct slot *f = &p->f[p->key];
		char c = (char)x;

		if (f->kind != K_BYTES || x < 1 || x > 255)
			f->kind = K_OTHER;
		else if (buf_append(&f->str, &c, 1) < 0)
			return refuse(p);
		return 1;
	}
	if (scalar(p, K_INT) && p->depth == 1 && p->key >= 0)
		p->f[p->key].i = x;
	return p->ok;
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
	struct replay_parser *p = ctx;
	struct slot *f;

	if (p->depth != 1 || p->key < 0 || p->in_raw || p->in_pids)
		return scalar(p, K_OTHER);
	f = slot_set(p, K_STRING);
	if (buf_append(&f->str, s, len) < 0 || buf_append(&f->str, "", 1) < 0)
		return refuse(p);
	return 1;
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct replay_parser *p = ctx;
	int i;

	/* Keys of nested objects are not the record's: the top-level key stays set, so
	 * that closing a _raw array around such an object finds its slot. */
	if (p->depth != 1)
		return 1;
	p->key = -1;
	if (!len)
		return 1;
	i = p->by_hash[key_hash(s, len)] - 1;
	if (i >= 0 && fields[i].len == len && memcmp(fields[i].name, s, len) == 0)
		p->key = i;
	return 1;
}

static int open_container(struct replay_parser *p, bool array)
{
	if (p->done || (p->depth == 0 && array) || p->depth == PARSE_DEPTH_MAX)
		return refuse(p);
	if (p->depth == 1 && p->key >= 0) {
		p->in_raw = array && p->key >= F_PATH_RAW && p->key <= F_CGROUP_RAW;
		p->in_pids = array && p->key == F_ANCESTORS;
		slot_set(p, p->in_raw ? K_BYTES : p->in_pids ? K_PIDS : K_OTHER)->n = 0;
	} else if ((p->in_raw || p->in_pids) && p->depth == 2) {
		p->f[p->key].kind = K_OTHER;
	}
	p->depth++;
	return 1;
}

static int cb_start_map(void *ctx)
{
	return open_container(ctx, false);
}

static int cb_start_array(void *ctx)
{
	return open_container(ctx, true);
}

static int close_container(struct replay_parser *p)
{
	p->depth--;
	if (p->depth == 1 && p->in_raw) {
		struct slot *f = &p->f[p->key];

		p->in_raw = false;
		if (f->kind == K_BYTES && buf_append(&f->str, "", 1) < 0)
			return refuse(p);
	}
	p->in_pids = p->in_pids && p->depth > 1;
	if (p->depth == 1)
		p->key = -1;
	if (p->depth == 0) {
		p->done = true;
		p->end = yajl_get_bytes_consumed(p->h);
	}
	return 1;
}

static int cb_end(void *ctx)
{
	return close_container(ctx);
}

static const yajl_callbacks callbacks = {
	.yajl_null = cb_null,
	.yajl_boolean = cb_boolean,
	.yajl_number = cb_number,
	.yajl_string = cb_string,
	.yajl_start_map = cb_start_map,
	.yajl_map_key = cb_map_key,
	.yajl_end_map = cb_end,
	.yajl_start_array = cb_start_array,
	.yajl_end_array = cb_end,
};

/* A handle for the next line. json-c did not check UTF-8 (the bytes go through as they
 * are, and a name's exact bytes come in its _raw field anyway); the handle goes on from
 * one line's object to the next, and is made anew only after a malformed line. */
static int parser_handle(struct replay_parser *p)
{
	if (p->h)
		return 0;
	p->h = yajl_alloc(&callbacks, NULL, p);
	if (!p->h)
		return -ENOMEM;
	if (!yajl_config(p->h, yajl_dont_validate_strings, 1) ||
	    !yajl_config(p->h, yajl_allow_multiple_values, 1)) {
		yajl_free(p->h);
		p->h = NULL;
		return -ENOMEM;
	}
	return 0;
}

struct replay_parser *replay_parser_new(void)
{
	struct replay_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	for (int i = 0; i < F_N; i++) {
		unsigned h = key_hash((const unsigned char *)fields[i].name, fields[i].len);

		/* A field whose hash another took would never be found: test_replay's
		 * mapping cases read every field. */
		p->by_hash[h] = (int8_t)(i + 1);
	}
	if (parser_handle(p) < 0) {
		free(p);
		return NULL;
	}
	return p;
}

void replay_parser_free(struct replay_parser *p)
{
	if (!p)
		return;
	if (p->h)
		yajl_free(p->h);
	for (int i = 0; i < F_N; i++)
		buf_free(&p->f[i].str);
	free(p);
}

/* A string field into *ret: the exact bytes of its _raw field when the record has it, else
 * the string (which must hold no NUL: no name does); null or absent is NULL. -EINVAL for a
 * wrong type, a byte out of range, or a NUL. */
static int get_str(const struct replay_parser *p, int field, const char **ret)
{
	const struct slot *raw = &p->f[F_PATH_RAW + field], *s = &p->f[field];

	*ret = NULL;
	if (raw->kind != K_ABSENT && raw->kind != K_NULL) {
		if (raw->kind != K_BYTES)
			return -EINVAL;
		*ret = raw->str.data;
		return 0;
	}
	if (s->kind == K_ABSENT || s->kind == K_NULL)
		return 0;
	if (s->kind != K_STRING || memchr(s->str.data, '\0', s->str.len - 1))
		return -EINVAL;
	*ret = s->str.data;
	return 0;
}

/* An integer field in [min, max]: 1 and *ret when present, 0 when null or absent, -EINVAL
 * for a wrong type or range. */
static int get_int(const struct replay_parser *p, int field, int64_t min, int64_t max,
		   int64_t *ret)
{
	const struct slot *s = &p->f[field];

	if (s->kind == K_ABSENT || s->kind == K_NULL)
		return 0;
	if (s->kind != K_INT || s->i < min || s->i > max)
		return -EINVAL;
	*ret = s->i;
	return 1;
}

/* A string field as a C string (json-c's json_object_get_string(): up to a NUL), NULL when
 * null or absent; -EINVAL for another type. */
static int get_cstr(const struct replay_parser *p, int field, const char **ret)
{
	const struct slot *s = &p->f[field];

	*ret = NULL;
	if (s->kind == K_ABSENT || s->kind == K_NULL)
		return 0;
	if (s->kind != K_STRING)
		return -EINVAL;
	*ret = s->str.data;
	return 0;
}

/* The line through YAJL: true when it is one object and nothing after it but blanks (a NUL
 * byte ends nothing). */
static bool parse_object(struct replay_parser *p, const char *line, size_t len)
{
	yajl_status ys;

	for (int i = 0; i < F_N; i++)
		p->f[i].kind = K_ABSENT;
	p->key = -1;
	p->depth = 0;
	p->in_raw = p->in_pids = p->done = false;
	p->end = 0;
	p->ok = true;
	if (parser_handle(p) < 0)
		return false;
	ys = yajl_parse(p->h, (const unsigned char *)line, len);
	if (ys == yajl_status_ok && p->ok && p->done) {
		size_t i;

		for (i = p->end; i < len; i++)
			if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
				break;
		if (i == len)
			return true;
	}
	/* Cut short, refused or in error: the handle's state is not the next line's. */
	yajl_free(p->h);
	p->h = NULL;
	return false;
}

enum replay_line replay_parse(struct replay_parser *p, const char *line, size_t len,
			      struct replay_event *ev, const char **ret_type, uint64_t *ret_seq,
			      bool *ret_seq_known, const char **ret_run_id)
{
	const char *type, *s;
	int64_t x = 0;
	size_t i;
	int r;

	*ret_type = NULL;
	*ret_seq_known = false;
	*ret_run_id = NULL;
	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'); i++)
		;
	if (i == len)
		return REPLAY_LINE_EMPTY;
	if (!parse_object(p, line, len))
		return REPLAY_LINE_MALFORMED;
	if (p->f[F_TYPE].kind != K_STRING)
		return REPLAY_LINE_MALFORMED;
	type = p->f[F_TYPE].str.data;
	r = get_int(p, F_SEQ, 0, INT64_MAX, &x);
	if (r < 0)
		return REPLAY_LINE_MALFORMED;
	*ret_seq = (uint64_t)x;
	*ret_seq_known = r > 0;
	if (get_cstr(p, F_RUN_ID, ret_run_id) < 0)
		return REPLAY_LINE_MALFORMED;
	*ret_type = type;
	if (strcmp(type, "event") != 0) {
		memset(ev, 0, sizeof(*ev));
		if (strcmp(type, "clock") == 0) {
			if (get_int(p, F_STEP_MS, INT64_MIN, INT64_MAX, &x) <= 0)
				return REPLAY_LINE_MALFORMED;
			ev->step_ms = x;
		}
		return REPLAY_LINE_OTHER;
	}

	memset(ev, 0, sizeof(*ev));
	ev->seq = *ret_seq;
	ev->run_id = *ret_run_id;
	if (get_int(p, F_TS_MS, 0, INT64_MAX, &x) <= 0)
		return REPLAY_LINE_MALFORMED;
	ev->ts_ms = (uint64_t)x;
	if (get_int(p, F_MASK, 0, INT64_MAX, &x) <= 0)
		return REPLAY_LINE_MALFORMED;
	ev->mask = (uint64_t)x;
	if (get_int(p, F_PID, 0, INT32_MAX, &x) <= 0)
		return REPLAY_LINE_MALFORMED;
	ev->proc.pid = (pid_t)x;
	r = get_int(p, F_PPID, 0, INT32_MAX, &x);
	if (r < 0)
		return REPLAY_LINE_MALFORMED;
	ev->proc.ppid = r ? (pid_t)x : 0;
	ev->proc.ppid_known = r > 0;
	r = get_int(p, F_UID, 0, UINT32_MAX - 1, &x);
	if (r < 0)
		return REPLAY_LINE_MALFORMED;
	ev->proc.uid = r ? (uid_t)x : 0;
	ev->proc.uid_known = r > 0;
	r = get_int(p, F_SID, 0, INT32_MAX, &x);
	if (r < 0)
		return REPLAY_LINE_MALFORMED;
	ev->proc.sid = r ? (pid_t)x : 0;
	ev->proc.sid_known = r > 0;
	/* The parent burst scope's ancestors, as the live policy had them. */
	if (p->f[F_ANCESTORS].kind == K_PIDS) {
		memcpy(ev->proc.ancestors, p->f[F_ANCESTORS].pids,
		       p->f[F_ANCESTORS].n * sizeof(pid_t));
		ev->proc.n_ancestors = p->f[F_ANCESTORS].n;
	} else if (p->f[F_ANCESTORS].kind != K_ABSENT && p->f[F_ANCESTORS].kind != K_NULL) {
		return REPLAY_LINE_MALFORMED;
	}
	if (get_str(p, F_PATH, &ev->path) < 0 || get_str(p, F_OLD_PATH, &ev->old_path) < 0 ||
	    get_str(p, F_COMM, &ev->proc.comm) < 0 || get_str(p, F_EXE, &ev->proc.exe) < 0 ||
	    get_str(p, F_CGROUP, &ev->proc.cgroup) < 0)
		return REPLAY_LINE_MALFORMED;
	if (get_cstr(p, F_DECISION, &s) < 0)
		return REPLAY_LINE_MALFORMED;
	if (s) {
		ev->recorded_known = true;
		if (strcmp(s, "allow") == 0)
			ev->recorded = VERDICT_ALLOW;
		else if (strcmp(s, "deny") == 0)
			ev->recorded = VERDICT_DENY;
		else if (strcmp(s, "observe") == 0)
			ev->recorded = VERDICT_OBSERVE;
		else
			ev->recorded_known = false;
	}
	/* A host that is not a string is ignored, as before. */
	(void)get_cstr(p, F_HOST, &ev->host);
	return REPLAY_LINE_EVENT;
}

/* Counts name in a table of max named entries and one "other" after them. */
static void count_name(struct replay_count *t, size_t max, const char *name)
{
	size_t i;

	for (i = 0; i < max && t[i].name[0]; i++) {
		if (strncmp(t[i].name, name, REPLAY_TYPE_LEN - 1) == 0) {
			t[i].n++;
			return;
		}
	}
	if (i < max) {
		snprintf(t[i].name, sizeof(t[i].name), "%s", name);
		t[i].n = 1;
		return;
	}
	snprintf(t[max].name, sizeof(t[max].name), "other");
	t[max].n++;
}

void replay_note_seq(struct replay_stats *st, uint64_t seq, const char *run_id)
{
	const char *run = run_id ? run_id : "";

	/* Another run (or a stream without run_id after one with it) starts its own seq. */
	if (!st->seq_seen || strncmp(st->run_id, run, sizeof(st->run_id) - 1) != 0) {
		snprintf(st->run_id, sizeof(st->run_id), "%s", run);
		st->seq_seen = true;
		st->last_seq = seq;
		return;
	}
	if (seq > st->last_seq + 1) {
		st->seq_gaps++;
		st->seq_missing += seq - st->last_seq - 1;
	} else if (seq <= st->last_seq) {
		st->seq_backwards++;
	}
	st->last_seq = seq;
}

void replay_note_other(struct replay_stats *st, const char *type, uint64_t seq, bool seq_known,
		       const char *run_id)
{
	count_name(st->skipped, REPLAY_TYPES_MAX, type);
	if (strcmp(type, "reload") == 0)
		st->reloads++;
	/* The start record begins a run's sequence; a stop record's seq is its last. */
	if (seq_known)
		replay_note_seq(st, seq, run_id);
}

void replay_note_malformed(struct replay_stats *st, uint64_t line_no)
{
	if (st->malformed < REPLAY_BAD_LINES)
		st->bad_lines[st->malformed] = line_no;
	st->malformed++;
}

int replay_init(struct replay *r, const struct config *c, bool text, bool records, char *msg,
		size_t msg_len)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->cfg = c;
	r->text = text;
	r->records = records;
	r->procs_other.id = -1;
	r->procs = calloc(REPLAY_PROCS_MAX, sizeof(*r->procs));
	r->jobs = calloc(c->n_jobs + 1, sizeof(*r->jobs));
	if (!r->procs || !r->jobs) {
		snprintf(msg, msg_len, "out of memory");
		replay_free(r);
		return -ENOMEM;
	}
	for (size_t i = 0; i <= c->n_jobs; i++)
		r->jobs[i].id = i < c->n_jobs ? (int64_t)i : -1;
	err = policy_init(&r->policy, c, msg, msg_len);
	if (err < 0) {
		if (err == -ENOMEM)
			snprintf(msg, msg_len, "out of memory");
		replay_free(r);
		return err;
	}
	return 0;
}

void replay_free(struct replay *r)
{
	policy_free(&r->policy);
	free(r->procs);
	free(r->jobs);
	r->procs = NULL;
	r->jobs = NULL;
}

/* The counters of pid: its slot, or "other" when the table is full (bounded probing). */
static struct replay_who *who_proc(struct replay *r, pid_t pid, const char *comm)
{
	unsigned h = ((unsigned)pid * 2654435761u) & (REPLAY_PROCS_MAX - 1);

	for (unsigned i = 0; i < 16; i++) {
		struct replay_who *w = &r->procs[(h + i) & (REPLAY_PROCS_MAX - 1)];

		if (w->id == pid + 1)
			return w;
		if (!w->id) {
			w->id = pid + 1; /* 0 marks a free slot; pid 0 is a real key */
			if (comm)
				snprintf(w->comm, sizeof(w->comm), "%s", comm);
			r->n_procs++;
			return w;
		}
	}
	return &r->procs_other;
}

/* The counters of a job: job_id is borrowed from the config (policy.c), so it is found by
 * pointer; NULL is the "no job" entry. */
static struct replay_who *who_job(struct replay *r, const char *job_id)
{
	const struct config *c = r->cfg;

	if (!job_id)
		return &r->jobs[c->n_jobs];
	if (job_id == r->last_job)
		return &r->jobs[r->last_job_i];
	for (size_t i = 0; i < c->n_jobs; i++) {
		if (c->jobs[i].id == job_id) {
			r->last_job = job_id;
			r->last_job_i = i;
			return &r->jobs[i];
		}
	}
	return &r->jobs[c->n_jobs];
}

static void count_reason(struct replay_count *t, const char *reason)
{
	count_name(t, REPLAY_REASONS_MAX, reason ? reason : "null");
}

/* ,"key":"value" or ,"key":null */
static int put_str_field(struct buf *out, const char *key, const char *s)
{
	int r = buf_append(out, key, strlen(key));

	if (r < 0)
		return r;
	if (!s)
		return buf_append(out, "null", 4);
	r = record_json_string(out, s, strlen(s));
	return r < 0 ? r : 0;
}

static int put_u64(struct buf *out, const char *key, uint64_t v)
{
	char num[48];
	int n = snprintf(num, sizeof(num), "%s%llu", key, (unsigned long long)v);

	return buf_append(out, num, (size_t)n);
}

/* A run of numeric fields, each ,"key":value, in order. 0 or -ENOMEM. */
struct num_field {
	const char *key;		/* ,"key": */
	uint64_t v;
};

static int put_u64s(struct buf *out, const struct num_field *f, size_t n)
{
	int err = 0;

	for (size_t i = 0; !err && i < n; i++)
		err = put_u64(out, f[i].key, f[i].v);
	return err;
}

#define PUT_U64S(out, ...)                                                                   \
	put_u64s((out), (const struct num_field[]){ __VA_ARGS__ },                           \
		 sizeof((const struct num_field[]){ __VA_ARGS__ }) / sizeof(struct num_field))

/* ,"key":"s"[,"key_raw":[..]]: the exact bytes when s is not valid UTF-8 (record.h). */
static int put_name_field(struct buf *out, const char *key, const char *raw_key, const char *s)
{
	int r = buf_append(out, key, strlen(key));

	if (r < 0)
		return r;
	if (!s)
		return buf_append(out, "null", 4);
	r = record_json_string(out, s, strlen(s));
	if (r <= 0)
		return r;
	r = buf_append(out, raw_key, strlen(raw_key));
	for (const unsigned char *c = (const unsigned char *)s; r == 0 && *c; c++)
		r = put_u64(out, c == (const unsigned char *)s ? "[" : ",", *c);
	return r < 0 ? r : buf_append(out, "]", 1);
}

/* What ends the record just appended at start: the hook mark and the event's run. */
static int tail(struct replay *r, const struct replay_event *ev, struct buf *out, size_t start,
		bool hook)
{
	struct buf t = { 0 };
	int err = 0;

	if (hook)
		err = buf_append(&t, ",\"hook\":\"would run\"", 19);
	if (!err && ev->run_id)
		err = put_str_field(&t, ",\"run_id\":", ev->run_id);
	if (!err && ev->host)
		err = put_str_field(&t, ",\"host\":", ev->host);
	(void)r;
	if (!err && t.len)
		err = record_tail(out, start, t.data, t.len);
	buf_free(&t);
	if (err < 0)
		out->len = start;
	return err;
}

static struct text_style style_of(const struct replay_event *ev)
{
	return (struct text_style){ .color = false, .utc_off_s = text_utc_offset_s(ev->ts_ms) };
}

/* An alert record, as pipeline.c's alert_out() writes it, and the hook it would run. */
static int write_alert(struct replay *r, const struct replay_event *ev, const struct alert *a,
		       struct buf *out)
{
	bool hook = r->cfg->hook != NULL;
	size_t start = out->len;
	int err;

	if (r->text) {
		struct text_style st = style_of(ev);

		err = text_alert(out, a, &st);
		if (err < 0 || !hook)
			return err;
		out->len--; /* the newline: the mark goes at the end of the line */
		return buf_append(out, " hook=would-run\n", 16);
	}
	err = record_alert(out, a);
	if (err < 0)
		return err;
	return tail(r, ev, out, start, hook);
}

/* A decision record: a permission event the policy would deny, or decide otherwise than
 * the live daemon recorded. */
static int write_decision(struct replay *r, const struct replay_event *ev,
			  const struct policy_result *pr, struct buf *out)
{
	const char *verdict = pr->verdict == VERDICT_DENY ? "deny" : "allow";
	const char *was = !ev->recorded_known		  ? NULL
			  : ev->recorded == VERDICT_DENY  ? "deny"
			  : ev->recorded == VERDICT_ALLOW ? "allow"
							  : "observe";
	const char *reason = pr->verdict == VERDICT_DENY ? pr->deny_reason : NULL;
	size_t start = out->len;
	int err;

	if (r->text) {
		struct record_event rec = {
			.seq = ev->seq, .ts_ms = ev->ts_ms, .mask = ev->mask,
			.verdict = pr->verdict, .job_id = pr->job_id, .path_role = pr->path_role,
			.proc = ev->proc, .path = ev->path, .old_path = ev->old_path,
			.is_rename = ev->mask & FAN_RENAME, .reason = reason,
		};
		struct text_style st = style_of(ev);

		err = text_event(out, &rec, &st);
		if (err < 0 || !was || ev->recorded == pr->verdict)
			return err;
		out->len--;
		err = buf_append(out, " (recorded: ", 12);
		if (!err)
			err = buf_append(out, was, strlen(was));
		return err < 0 ? err : buf_append(out, ")\n", 2);
	}
	err = buf_append(out, "{\"schema_version\":1,\"type\":\"decision\"", 37);
	if (!err)
		err = put_u64(out, ",\"seq\":", ev->seq);
	if (!err)
		err = put_u64(out, ",\"ts_ms\":", ev->ts_ms);
	if (!err)
		err = put_u64(out, ",\"pid\":", (uint64_t)ev->proc.pid);
	if (!err)
		err = put_name_field(out, ",\"comm\":", ",\"comm_raw\":", ev->proc.comm);
	if (!err)
		err = put_name_field(out, ",\"path\":", ",\"path_raw\":", ev->path);
	if (!err)
		err = put_str_field(out, ",\"job_id\":", pr->job_id);
	if (!err)
		err = put_str_field(out, ",\"decision\":", verdict);
	if (!err)
		err = put_str_field(out, ",\"reason\":", reason);
	if (!err)
		err = put_str_field(out, ",\"recorded\":", was);
	if (!err)
		err = buf_append(out, "}\n", 2);
	if (err < 0) {
		out->len = start;
		return err;
	}
	return tail(r, ev, out, start, false);
}

int replay_event(struct replay *r, const struct replay_event *ev, struct buf *out)
{
	struct replay_stats *st = &r->st;
	bool perm = ev->mask & FAN_PERM_EVENTS;
	struct policy_input in = {
		.mask = ev->mask,
		.pid = ev->proc.pid,
		.path = ev->path,
		.old_path = ev->old_path,
		.now_ms = (uint64_t)((int64_t)ev->ts_ms - ev->clock_off_ms),
	};
	struct policy_result pr;
	struct replay_who *proc, *job;
	int err = 0;

	/* A daemon that started again started with a fresh policy. */
	if (ev->new_run) {
		char msg[256];

		policy_free(&r->policy);
		if (policy_init(&r->policy, r->cfg, msg, sizeof(msg)) < 0)
			return -ENOMEM; /* the config built a policy once: only memory fails */
		r->st.restarts++;
	}
	/* As pipeline.c does: the process goes in only when policy asked for it. */
	if (policy_needs_proc(&r->policy))
		in.proc = &ev->proc;
	policy_eval(&r->policy, &in, &pr);
	st->events++;
	proc = who_proc(r, ev->proc.pid, ev->proc.comm);
	job = who_job(r, pr.job_id);
	proc->events++;
	job->events++;
	for (unsigned i = 0; i < pr.n_alerts; i++) {
		struct alert a = pr.alerts[i];
		const char *kind = record_alert_kind_name(a.kind);

		/* The live alert follows its event: event seq + 1, + 2 ... */
		a.proc = &ev->proc;
		a.seq = ev->seq + 1 + i;
		a.ts_ms = ev->ts_ms;
		st->alerts++;
		if (r->cfg->hook)
			st->hooks_would_run++;
		count_name(st->kinds, POLICY_KINDS + 1, kind ? kind : "unknown");
		count_reason(st->reasons, a.reason);
		proc->alerts++;
		who_job(r, a.job_id)->alerts++;
		if (r->records && err == 0)
			err = write_alert(r, ev, &a, out);
	}
	if (!perm)
		return err;
	st->perm_events++;
	if (pr.verdict == VERDICT_DENY) {
		st->would_deny++;
		proc->denied++;
		job->denied++;
		count_reason(st->deny_reasons, pr.deny_reason);
	} else {
		st->would_allow++;
	}
	if (ev->recorded_known && ev->recorded != pr.verdict) {
		if (pr.verdict == VERDICT_DENY)
			st->allow_to_deny++;
		else
			st->deny_to_allow++;
	}
	if (r->records && err == 0 &&
	    (pr.verdict == VERDICT_DENY || (ev->recorded_known && ev->recorded != pr.verdict)))
		err = write_decision(r, ev, &pr, out);
	return err;
}

static int put_counts(struct buf *out, const char *key, const struct replay_count *t, size_t n)
{
	int err = buf_append(out, key, strlen(key));
	bool first = true;

	for (size_t i = 0; !err && i < n; i++) {
		if (!t[i].n)
			continue;
		err = put_str_field(out, first ? "{" : ",", t[i].name);
		if (!err)
			err = put_u64(out, ":", t[i].n);
		first = false;
	}
	return err ? err : buf_append(out, first ? "{}" : "}", first ? 2 : 1);
}

static int who_cmp(const void *a, const void *b)
{
	const struct replay_who *x = a, *y = b;

	if (x->alerts != y->alerts)
		return x->alerts < y->alerts ? 1 : -1;
	if (x->denied != y->denied)
		return x->denied < y->denied ? 1 : -1;
	if (x->events != y->events)
		return x->events < y->events ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The REPLAY_TOP busiest of n entries (most alerts, then denials, then events), and the
 * rest summed into *rest (with those already summed there). Sorts w. */
static int put_top(const struct replay *r, struct buf *out, struct replay_who *w, size_t n,
		   bool jobs, struct replay_who *rest)
{
	size_t shown = 0;
	int err;

	qsort(w, n, sizeof(*w), who_cmp);
	err = buf_append(out, jobs ? ",\"by_job\":[" : ",\"by_process\":[", jobs ? 11 : 15);
	for (size_t i = 0; !err && i < n; i++) {
		if (!w[i].events)
			continue;
		if (shown == REPLAY_TOP) {
			rest->id++; /* how many were summed */
			rest->events += w[i].events;
			rest->alerts += w[i].alerts;
			rest->denied += w[i].denied;
			continue;
		}
		if (jobs)
			err = put_str_field(out, shown ? ",{\"job_id\":" : "{\"job_id\":",
					    w[i].id >= 0 ? r->cfg->jobs[w[i].id].id : NULL);
		else
			err = put_u64(out, shown ? ",{\"pid\":" : "{\"pid\":",
				      (uint64_t)(w[i].id - 1));
		if (!err && !jobs)
			err = put_str_field(out, ",\"comm\":", w[i].comm[0] ? w[i].comm : NULL);
		if (!err)
			err = put_u64(out, ",\"events\":", w[i].events);
		if (!err)
			err = put_u64(out, ",\"alerts\":", w[i].alerts);
		if (!err)
			err = put_u64(out, ",\"denied\":", w[i].denied);
		if (!err)
			err = buf_append(out, "}", 1);
		shown++;
	}
	if (!err)
		err = buf_append(out, "]", 1);
	if (!err)
		err = put_u64(out, jobs ? ",\"other_jobs\":{\"jobs\":" :
					  ",\"other_processes\":{\"processes\":",
			      (uint64_t)rest->id);
	if (!err)
		err = put_u64(out, ",\"events\":", rest->events);
	if (!err)
		err = put_u64(out, ",\"alerts\":", rest->alerts);
	if (!err)
		err = put_u64(out, ",\"denied\":", rest->denied);
	return err ? err : buf_append(out, "}", 1);
}

static int summary_json(const struct replay *r, struct buf *out, struct replay_who *procs,
			size_t n_procs, struct replay_who *jobs)
{
	const struct replay_stats *st = &r->st;
	const struct policy *p = &r->policy;
	struct replay_who rest = r->procs_other, jrest = { 0 };
	int err;

	/* Processes past the table were never counted one by one: how many is unknown. */
	rest.id = 0;
	err = buf_append(out, "{\"schema_version\":1,\"type\":\"replay_summary\"", 43);
	if (!err && r->sweep_key) {
		err = put_str_field(out, ",\"sweep\":{\"key\":", r->sweep_key);
		if (!err)
			err = put_u64(out, ",\"value\":", r->sweep_value);
		if (!err)
			err = buf_append(out, "}", 1);
	}
	if (!err)
		err = put_str_field(out, ",\"input\":", r->cfg->replay);
	if (!err)
		err = PUT_U64S(out, { ",\"lines\":", st->lines }, { ",\"events\":", st->events });
	if (!err)
		err = put_counts(out, ",\"skipped\":", st->skipped, REPLAY_TYPES_MAX + 1);
	if (!err)
		err = put_u64(out, ",\"malformed\":", st->malformed);
	if (!err)
		err = buf_append(out, ",\"malformed_lines\":[", 20);
	for (uint64_t i = 0; !err && i < st->malformed && i < REPLAY_BAD_LINES; i++)
		err = put_u64(out, i ? "," : "", st->bad_lines[i]);
	if (!err)
		err = buf_append(out, "]", 1);
	if (!err)
		err = put_u64(out, ",\"alerts\":", st->alerts);
	if (!err)
		err = put_counts(out, ",\"alerts_by_kind\":", st->kinds, POLICY_KINDS + 2);
	if (!err)
		err = put_counts(out, ",\"alerts_by_reason\":", st->reasons, REPLAY_REASONS_MAX + 1);
	if (!err)
		err = PUT_U64S(out, { ",\"alerts_suppressed\":", p->suppressed },
			       { ",\"hooks_would_run\":", st->hooks_would_run },
			       { ",\"perm_events\":", st->perm_events },
			       { ",\"would_deny\":", st->would_deny },
			       { ",\"would_allow\":", st->would_allow });
	if (!err)
		err = put_counts(out, ",\"deny_reasons\":", st->deny_reasons, REPLAY_REASONS_MAX + 1);
	if (!err)
		err = PUT_U64S(out, { ",\"allow_to_deny\":", st->allow_to_deny },
			       { ",\"deny_to_allow\":", st->deny_to_allow });
	if (!err)
		err = put_top(r, out, jobs, r->cfg->n_jobs + 1, true, &jrest);
	if (!err)
		err = put_top(r, out, procs, n_procs, false, &rest);
	if (!err)
		err = PUT_U64S(out, { ",\"seq_gaps\":", st->seq_gaps },
			       { ",\"seq_missing\":", st->seq_missing },
			       { ",\"seq_backwards\":", st->seq_backwards },
			       { ",\"reloads\":", st->reloads }, { ",\"restarts\":", st->restarts },
			       { ",\"clock_steps\":", st->clock_steps },
			       { ",\"burst_threshold\":", p->burst_threshold },
			       { ",\"burst_window_ms\":", p->burst_window_ms },
			       { ",\"hook_cooldown_ms\":", p->cooldown_ms },
			       { ",\"quarantine_ms\":", p->quarantine_ms },
			       { ",\"policy_evictions\":", p->evictions });
	return err ? err : buf_append(out, "}\n", 2);
}

static int summary_text(const struct replay *r, struct buf *out)
{
	const struct replay_stats *st = &r->st;
	char line[512];
	int n;

	n = snprintf(line, sizeof(line),
		     "replay: %llu lines, %llu events, %llu malformed, %llu alerts "
		     "(%llu suppressed by the cooldown), %llu of %llu permission events denied "
		     "(%llu allow->deny, %llu deny->allow against the record), "
		     "seq gaps %llu (%llu records missing), reloads %llu, restarts %llu, "
		     "clock steps %llu\n",
		     (unsigned long long)st->lines, (unsigned long long)st->events,
		     (unsigned long long)st->malformed, (unsigned long long)st->alerts,
		     (unsigned long long)r->policy.suppressed,
		     (unsigned long long)st->would_deny, (unsigned long long)st->perm_events,
		     (unsigned long long)st->allow_to_deny, (unsigned long long)st->deny_to_allow,
		     (unsigned long long)st->seq_gaps, (unsigned long long)st->seq_missing,
		     (unsigned long long)st->reloads, (unsigned long long)st->restarts,
		     (unsigned long long)st->clock_steps);
	return buf_append(out, line, (size_t)n);
}

int replay_summary(const struct replay *r, struct buf *out)
{
	struct replay_who *procs, *jobs;
	size_t n = 0;
	int err;

	if (r->text)
		return summary_text(r, out);
	/* Sorted copies: the summary leaves the replay as it was (a sweep reads it again). */
	procs = malloc(REPLAY_PROCS_MAX * sizeof(*procs));
	jobs = malloc((r->cfg->n_jobs + 1) * sizeof(*jobs));
	if (!procs || !jobs) {
		free(procs);
		free(jobs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < REPLAY_PROCS_MAX; i++)
		if (r->procs[i].id)
			procs[n++] = r->procs[i];
	memcpy(jobs, r->jobs, (r->cfg->n_jobs + 1) * sizeof(*jobs));
	err = summary_json(r, out, procs, n, jobs);
	free(procs);
	free(jobs);
	return err;
}

int replay_sweep_parse(const char *spec, const char **ret_key, unsigned *values, size_t max,
		       char *msg, size_t msg_len)
{
	static const struct {
		const char *key;
		unsigned min, max;
	} keys[] = {
		{ "burst_threshold", 0, CONFIG_BURST_THRESHOLD_MAX },
		{ "burst_window_ms", 1, CONFIG_MS_MAX },
		{ "hook_cooldown_ms", 0, CONFIG_MS_MAX },
	};
	const char *eq = strchr(spec, '='), *s;
	size_t klen = eq ? (size_t)(eq - spec) : 0, k, n = 0;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (eq && strlen(keys[k].key) == klen && memcmp(keys[k].key, spec, klen) == 0)
			break;
	if (k == sizeof(keys) / sizeof(keys[0])) {
		snprintf(msg, msg_len, "--sweep: want KEY=V1,V2,... with KEY burst_threshold, "
				       "burst_window_ms or hook_cooldown_ms, not '%.64s'", spec);
		return -EINVAL;
	}
	for (s = eq + 1;; s++) {
		char *end;
		unsigned long v;

		errno = 0;
		v = *s >= '0' && *s <= '9' ? strtoul(s, &end, 10) : 0;
		if (!(*s >= '0' && *s <= '9') || errno || (*end != ',' && *end) ||
		    v < keys[k].min || v > keys[k].max) {
			snprintf(msg, msg_len, "--sweep %s: each value a number in %u-%u, "
					       "comma-separated", keys[k].key, keys[k].min,
				 keys[k].max);
			return -EINVAL;
		}
		if (n == max) {
			snprintf(msg, msg_len, "--sweep: at most %zu values", max);
			return -EINVAL;
		}
		values[n++] = (unsigned)v;
		s = end;
		if (!*s)
			break;
	}
	*ret_key = keys[k].key;
	return (int)n;
}

/* ---- the run: input, the sweep's store, output ---- */

struct reader {
	gzFile gz;
	char *buf;
	size_t cap, start, end;
	bool eof;
};

/* The next line into *ret and *ret_len (no newline): 1, 0 at the end, or -EIO (msg). A line
 * longer than REPLAY_LINE_MAX is returned empty with *ret_long, its bytes never held. */
static int reader_line(struct reader *rd, const char **ret, size_t *ret_len, bool *ret_long,
		       char *msg, size_t msg_len)
{
	*ret_long = false;
	for (;;) {
		char *nl = memchr(rd->buf + rd->start, '\n', rd->end - rd->start);
		int n;

		if (nl) {
			*ret = rd->buf + rd->start;
			*ret_len = *ret_long ? 0 : (size_t)(nl - *ret);
			rd->start = (size_t)(nl - rd->buf) + 1;
			return 1;
		}
		if (rd->eof) {
			if (rd->start == rd->end && !*ret_long)
				return 0;
			/* The last line without its newline (a daemon killed mid-write). */
			*ret = rd->buf + rd->start;
			*ret_len = *ret_long ? 0 : rd->end - rd->start;
			rd->start = rd->end;
			return 1;
		}
		if (rd->end - rd->start >= REPLAY_LINE_MAX) {
			*ret_long = true;
			rd->start = rd->end = 0;
		} else if (rd->start) {
			memmove(rd->buf, rd->buf + rd->start, rd->end - rd->start);
			rd->end -= rd->start;
			rd->start = 0;
		}
		n = gzread(rd->gz, rd->buf + rd->end, (unsigned)(rd->cap - rd->end));
		if (n < 0) {
			int zerr;
			const char *why = gzerror(rd->gz, &zerr);

			snprintf(msg, msg_len, "reading the replay input: %s",
				 zerr == Z_ERRNO ? strerror(errno) : why);
			return -EIO;
		}
		if (n == 0) {
			int zerr;
			const char *why = gzerror(rd->gz, &zerr);

			/* A gzip stream cut short ends without error from gzread(). */
			if (zerr != Z_OK && zerr != Z_STREAM_END) {
				snprintf(msg, msg_len, "reading the replay input: %s", why);
				return -EIO;
			}
			rd->eof = true;
		}
		rd->end += (size_t)n;
	}
}

/* What a line is, as a parser thread hands it to the policy thread, and as --sweep keeps an
 * event: one after another in a buffer (8-byte aligned), the strings following, each
 * NUL-terminated. */
struct stored {
	uint64_t seq, ts_ms, mask;
	int64_t clock_off_ms;		/* an event's; a clock record's step_ms */
	int32_t pid, ppid, sid;
	int32_t ancestors[EVENT_ANCESTORS_MAX];
	uint8_t n_ancestors;
	uint32_t uid;
	uint32_t len[N_STRS];		/* bytes with the NUL; 0 = NULL */
	uint8_t line;			/* enum replay_line */
	uint8_t known;			/* 1 ppid, 2 uid, 4 sid, 8 recorded, 16 seq,
					 * 32 new_run */
	uint8_t recorded;
};

/* A line's result into s: ev for an event; type, seq and run_id for any record. */
static int store_line(struct buf *s, enum replay_line line, const struct replay_event *ev,
		      const char *type, uint64_t seq, bool seq_known, const char *run_id)
{
	bool event = line == REPLAY_LINE_EVENT;
	const char *strs[N_STRS] = { 0 };
	struct stored e = { .line = (uint8_t)line, .seq = seq,
			    .known = (uint8_t)(seq_known ? 16 : 0) };
	size_t total = sizeof(e), pad;
	static const char zeros[8];
	int err;

	if (event) {
		strs[S_PATH] = ev->path;
		strs[S_OLD_PATH] = ev->old_path;
		strs[S_COMM] = ev->proc.comm;
		strs[S_EXE] = ev->proc.exe;
		strs[S_CGROUP] = ev->proc.cgroup;
		strs[S_HOST] = ev->host;
		e.ts_ms = ev->ts_ms;
		e.mask = ev->mask;
		e.pid = ev->proc.pid;
		e.ppid = ev->proc.ppid;
		e.sid = ev->proc.sid;
		e.uid = ev->proc.uid;
		e.clock_off_ms = ev->clock_off_ms;
		e.n_ancestors = (uint8_t)ev->proc.n_ancestors;
		for (unsigned i = 0; i < ev->proc.n_ancestors; i++)
			e.ancestors[i] = ev->proc.ancestors[i];
		e.known |= (uint8_t)((ev->proc.ppid_known ? 1 : 0) | (ev->proc.uid_known ? 2 : 0) |
				     (ev->proc.sid_known ? 4 : 0) | (ev->recorded_known ? 8 : 0) |
				     (ev->new_run ? 32 : 0));
		e.recorded = (uint8_t)ev->recorded;
	} else if (line == REPLAY_LINE_OTHER) {
		e.clock_off_ms = ev->step_ms;
	}
	if (event || line == REPLAY_LINE_OTHER) {
		strs[S_TYPE] = type;
		strs[S_RUN_ID] = run_id;
	}
	for (int i = 0; i < N_STRS; i++) {
		e.len[i] = strs[i] ? (uint32_t)strlen(strs[i]) + 1 : 0;
		total += e.len[i];
	}
	pad = (8 - total % 8) % 8;
	if (s->len + total + pad > REPLAY_STORE_MAX)
		return -EFBIG;
	err = buf_append(s, &e, sizeof(e));
	for (int i = 0; !err && i < N_STRS; i++)
		if (e.len[i])
			err = buf_append(s, strs[i], e.len[i]);
	if (!err)
		err = buf_append(s, zeros, pad);
	return err;
}

/* The stored line at *off into ev (an event's, strings borrowed from s), *ret_type,
 * *ret_seq, *ret_seq_known and *ret_run_id; advances *off. Returns what the line is. */
static enum replay_line load_line(const struct buf *s, size_t *off, struct replay_event *ev,
				  const char **ret_type, uint64_t *ret_seq, bool *ret_seq_known,
				  const char **ret_run_id)
{
	const struct stored *e = (const struct stored *)(s->data + *off);
	const char *p = s->data + *off + sizeof(*e), *strs[N_STRS];
	size_t total = sizeof(*e);

	for (int i = 0; i < N_STRS; i++) {
		strs[i] = e->len[i] ? p : NULL;
		p += e->len[i];
		total += e->len[i];
	}
	*off += total + (8 - total % 8) % 8;
	*ret_type = strs[S_TYPE];
	*ret_seq = e->seq;
	*ret_seq_known = e->known & 16;
	*ret_run_id = strs[S_RUN_ID];
	memset(ev, 0, sizeof(*ev));
	if (e->line != REPLAY_LINE_EVENT) {
		ev->step_ms = e->clock_off_ms;
		return (enum replay_line)e->line;
	}
	ev->clock_off_ms = e->clock_off_ms;
	ev->new_run = e->known & 32;
	ev->proc.n_ancestors = e->n_ancestors;
	for (unsigned i = 0; i < e->n_ancestors; i++)
		ev->proc.ancestors[i] = e->ancestors[i];
	ev->seq = e->seq;
	ev->ts_ms = e->ts_ms;
	ev->mask = e->mask;
	ev->proc.pid = e->pid;
	ev->proc.ppid = e->ppid;
	ev->proc.sid = e->sid;
	ev->proc.uid = e->uid;
	ev->proc.ppid_known = e->known & 1;
	ev->proc.uid_known = e->known & 2;
	ev->proc.sid_known = e->known & 4;
	ev->recorded_known = e->known & 8;
	ev->recorded = (enum verdict)e->recorded;
	ev->path = strs[S_PATH];
	ev->old_path = strs[S_OLD_PATH];
	ev->proc.comm = strs[S_COMM];
	ev->proc.exe = strs[S_EXE];
	ev->proc.cgroup = strs[S_CGROUP];
	ev->run_id = strs[S_RUN_ID];
	ev->host = strs[S_HOST];
	return REPLAY_LINE_EVENT;
}

/*
 * Parsing on threads: JSON is the cost of a replay (policy is a small part of it), so the
 * reader (this thread) cuts the input into batches of whole lines, parser threads turn each
 * batch into stored lines, and this thread runs them through the policy in the order of the
 * input: the policy is serial and sees every line where it was. A batch belongs to the
 * reader while B_FREE or B_DONE, to a parser thread while B_PARSING; the state changes under
 * the pool's lock.
 */
#define PARSE_THREADS_MAX 4
#define BATCHES 8			/* in flight: at least 2 per thread, so none waits */
#define BATCH_BYTES (1u << 20)		/* input bytes per batch (a longer last line ends it) */
#define LINE_TOO_LONG UINT32_MAX	/* a line's length in a batch: over REPLAY_LINE_MAX */
#define PARSE_STACK (256u << 10)	/* bytes: YAJL does not recurse */

enum batch_state { B_FREE, B_READY, B_PARSING, B_DONE };

struct batch {
	enum batch_state state;
	uint64_t id;			/* the batch's place in the input: 0, 1, ... */
	struct buf in;			/* lines: a uint32_t length, then the bytes */
	struct buf out;			/* the stored lines, one per input line */
	int err;			/* 0, or -ENOMEM from the parser thread */
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t ready;		/* a batch is B_READY, or stop */
	pthread_cond_t done;		/* a batch is B_DONE */
	struct batch b[BATCHES];	/* batch id in b[id % BATCHES] */
	uint64_t next_parse;		/* the id the parser threads take next */
	bool stop;
	pthread_t thread[PARSE_THREADS_MAX];
	int n_threads;			/* started */
};

static int parse_batch(struct replay_parser *p, struct batch *b)
{
	size_t off = 0;

	b->out.len = 0;
	while (off < b->in.len) {
		const char *type = NULL, *run_id = NULL;
		struct replay_event ev;
		enum replay_line line;
		uint64_t seq = 0;
		bool seq_known = false;
		uint32_t len;
		int err;

		memcpy(&len, b->in.data + off, sizeof(len));
		off += sizeof(len);
		if (len == LINE_TOO_LONG) {
			line = REPLAY_LINE_MALFORMED;
		} else {
			line = replay_parse(p, b->in.data + off, len, &ev, &type, &seq, &seq_known,
					    &run_id);
			off += len;
		}
		err = store_line(&b->out, line, &ev, type, seq, seq_known, run_id);
		if (err < 0)
			return -ENOMEM; /* a batch is far below REPLAY_STORE_MAX */
	}
	return 0;
}

static void *parse_thread(void *arg)
{
	struct pool *pool = arg;
	struct replay_parser *p = replay_parser_new();

	(void)pthread_mutex_lock(&pool->lock);
	for (;;) {
		struct batch *b = &pool->b[pool->next_parse % BATCHES];

		if (pool->stop)
			break;
		if (b->state != B_READY || b->id != pool->next_parse) {
			(void)pthread_cond_wait(&pool->ready, &pool->lock);
			continue;
		}
		pool->next_parse++;
		b->state = B_PARSING;
		(void)pthread_mutex_unlock(&pool->lock);
		b->err = p ? parse_batch(p, b) : -ENOMEM;
		(void)pthread_mutex_lock(&pool->lock);
		b->state = B_DONE;
		(void)pthread_cond_broadcast(&pool->done);
	}
	(void)pthread_mutex_unlock(&pool->lock);
	replay_parser_free(p);
	return NULL;
}

/* Parser threads, one per CPU this process may run on (at most PARSE_THREADS_MAX). Returns
 * 0 or a negative errno; pool_stop() then releases what was started. */
static int pool_start(struct pool *pool)
{
	pthread_attr_t attr;
	cpu_set_t cpus;
	int n = 1, err;

	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
		n = CPU_COUNT(&cpus);
	n = n < 1 ? 1 : n > PARSE_THREADS_MAX ? PARSE_THREADS_MAX : n;
	err = pthread_attr_init(&attr);
	if (err)
		return -err;
	err = pthread_attr_setstacksize(&attr, PARSE_STACK);
	while (!err && pool->n_threads < n) {
		err = pthread_create(&pool->thread[pool->n_threads], &attr, parse_thread, pool);
		if (!err)
			pool->n_threads++;
	}
	(void)pthread_attr_destroy(&attr);
	return -err;
}

static void pool_stop(struct pool *pool)
{
	(void)pthread_mutex_lock(&pool->lock);
	pool->stop = true;
	(void)pthread_cond_broadcast(&pool->ready);
	(void)pthread_mutex_unlock(&pool->lock);
	for (int i = 0; i < pool->n_threads; i++)
		(void)pthread_join(pool->thread[i], NULL);
	pool->n_threads = 0;
	for (int i = 0; i < BATCHES; i++) {
		buf_free(&pool->b[i].in);
		buf_free(&pool->b[i].out);
	}
}

/* Lines from rd into b until it holds BATCH_BYTES or the input ends (*ret_eof). 0, -EIO
 * (msg) or -ENOMEM. */
static int fill_batch(struct reader *rd, struct batch *b, bool *ret_eof, char *msg,
		      size_t msg_len)
{
	b->in.len = 0;
	while (b->in.len < BATCH_BYTES) {
		const char *line;
		bool too_long;
		size_t len;
		uint32_t n;
		int r = reader_line(rd, &line, &len, &too_long, msg, msg_len);

		if (r < 0)
			return r;
		if (r == 0) {
			*ret_eof = true;
			break;
		}
		n = too_long ? LINE_TOO_LONG : (uint32_t)len;
		if (buf_append(&b->in, &n, sizeof(n)) < 0 ||
		    (!too_long && buf_append(&b->in, line, len) < 0)) {
			snprintf(msg, msg_len, "out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

static int out_flush(int fd, struct buf *out, char *msg, size_t msg_len)
{
	int r = fdio_write_all(fd, out->data, out->len, NULL);

	out->len = 0;
	if (r < 0)
		snprintf(msg, msg_len, "writing the replay output: %s", strerror(-r));
	return r;
}

static void sweep_row(const struct replay *r, struct buf *out)
{
	const struct replay_stats *st = &r->st;
	uint64_t burst = 0, canary = 0;
	char line[256];
	int n;

	for (size_t i = 0; i < POLICY_KINDS + 2; i++) {
		if (strcmp(st->kinds[i].name, "burst") == 0)
			burst = st->kinds[i].n;
		else if (strcmp(st->kinds[i].name, "canary") == 0)
			canary = st->kinds[i].n;
	}
	n = snprintf(line, sizeof(line), "%-16s %10u %10llu %8llu %8llu %8llu %10llu %10llu %10llu\n",
		     r->sweep_key, r->sweep_value, (unsigned long long)st->events,
		     (unsigned long long)st->alerts, (unsigned long long)burst,
		     (unsigned long long)canary, (unsigned long long)r->policy.suppressed,
		     (unsigned long long)st->would_deny, (unsigned long long)st->allow_to_deny);
	(void)buf_append(out, line, (size_t)n);
}

/* A parsed batch through the policy, in the input's order: alerts and decisions into out
 * (written out as it fills), or for a sweep the events kept in store. 0, or a negative
 * errno with msg. */
/* A record of the stream, in order: where a run (run_id) ends and the next begins, the live
 * daemon had started again, with a fresh policy and a clock of its own; a clock record is a
 * step of the wall clock the live policy did not count. An event gets both (ev->new_run,
 * ev->clock_off_ms). */
static void track_run(struct replay *rp, enum replay_line line, const char *type,
		      const char *run_id, struct replay_event *ev)
{
	if (run_id && strncmp(rp->run_id, run_id, sizeof(rp->run_id) - 1) != 0) {
		if (rp->run_id[0])
			rp->new_run = true;
		snprintf(rp->run_id, sizeof(rp->run_id), "%s", run_id);
		rp->clock_off_ms = 0;
	}
	if (line == REPLAY_LINE_OTHER && type && strcmp(type, "clock") == 0) {
		rp->clock_off_ms += ev->step_ms;
		rp->st.clock_steps++;
	}
	if (line == REPLAY_LINE_EVENT) {
		ev->clock_off_ms = rp->clock_off_ms;
		ev->new_run = rp->new_run;
		rp->new_run = false;
	}
}

static int use_batch(struct replay *rp, const struct batch *b, struct buf *store,
		     struct buf *out, uint64_t *line_no, int out_fd, char *msg, size_t msg_len)
{
	struct replay_stats *st = &rp->st;
	size_t off = 0;
	int err;

	while (off < b->out.len) {
		enum replay_line line;
		const char *type, *run_id;
		struct replay_event ev;
		uint64_t seq;
		bool seq_known;

		++*line_no;
		st->lines++;
		line = load_line(&b->out, &off, &ev, &type, &seq, &seq_known, &run_id);
		if (line == REPLAY_LINE_EVENT || line == REPLAY_LINE_OTHER)
			track_run(rp, line, type, run_id, &ev);
		switch (line) {
		case REPLAY_LINE_EVENT:
			if (seq_known)
				replay_note_seq(st, seq, run_id);
			if (store) {
				/* A sweep writes no records: the run and host are not kept. */
				ev.run_id = ev.host = NULL;
				err = store_line(store, REPLAY_LINE_EVENT, &ev, NULL, ev.seq, false,
						 NULL);
				if (err < 0) {
					snprintf(msg, msg_len, "--sweep: %s", err == -EFBIG ?
						 "the stream's events need more than 1 GiB kept in "
						 "memory; sweep a part of it" : "out of memory");
					return err;
				}
				st->events++;
				break;
			}
			err = replay_event(rp, &ev, out);
			if (err < 0) {
				snprintf(msg, msg_len, "out of memory");
				return err;
			}
			break;
		case REPLAY_LINE_OTHER:
			replay_note_other(st, type, seq, seq_known, run_id);
			break;
		case REPLAY_LINE_MALFORMED:
			replay_note_malformed(st, *line_no);
			break;
		case REPLAY_LINE_EMPTY:
			break;
		}
		if (out->len >= OUT_FLUSH && (err = out_flush(out_fd, out, msg, msg_len)) < 0)
			return err;
	}
	return 0;
}

int replay_run(const struct config *c, const char *output, char *msg, size_t msg_len)
{
	unsigned values[REPLAY_SWEEP_VALUES_MAX];
	const char *sweep_key = NULL;
	int n_values = 0, out_fd = STDOUT_FILENO, in_fd = -1, err;
	bool text = c->format == CONFIG_FORMAT_TEXT;
	struct reader rd = { 0 };
	struct pool pool = { .lock = PTHREAD_MUTEX_INITIALIZER, .ready = PTHREAD_COND_INITIALIZER,
			     .done = PTHREAD_COND_INITIALIZER };
	struct replay rp;
	struct replay_stats *st;
	struct buf out = { 0 }, store = { 0 };
	uint64_t line_no = 0, next_fill = 0, next_use = 0;
	bool eof = false;

	memset(&rp, 0, sizeof(rp));
	if (c->sweep) {
		n_values = replay_sweep_parse(c->sweep, &sweep_key, values, REPLAY_SWEEP_VALUES_MAX,
					      msg, msg_len);
		if (n_values < 0)
			return n_values;
	}
	err = replay_init(&rp, c, text, !c->sweep, msg, msg_len);
	if (err < 0)
		return err;
	st = &rp.st;
	if (strcmp(c->replay, "-") == 0) {
		in_fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
		if (in_fd < 0) {
			err = -errno;
			snprintf(msg, msg_len, "replay: stdin: %s", strerror(errno));
			goto out;
		}
	} else {
		in_fd = open(c->replay, O_RDONLY | O_CLOEXEC);
		if (in_fd < 0) {
			err = -errno;
			snprintf(msg, msg_len, "replay: %s: %s", c->replay, strerror(errno));
			goto out;
		}
	}
	/* zlib reads gzip, and anything else as it is: .gz by name or not, stdin too. */
	rd.gz = gzdopen(in_fd, "rb");
	if (!rd.gz) {
		err = -ENOMEM;
		snprintf(msg, msg_len, "replay: %s: cannot read it", c->replay);
		goto out;
	}
	in_fd = -1; /* the gz stream owns it */
	(void)gzbuffer(rd.gz, READ_CHUNK);
	rd.cap = REPLAY_LINE_MAX + READ_CHUNK;
	rd.buf = malloc(rd.cap);
	if (!rd.buf) {
		err = -ENOMEM;
		snprintf(msg, msg_len, "out of memory");
		goto out;
	}
	if (output && strcmp(output, "-") != 0) {
		out_fd = open(output, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
		if (out_fd < 0) {
			err = -errno;
			snprintf(msg, msg_len, "replay: output %s: %s", output, strerror(errno));
			goto out;
		}
	}
	err = pool_start(&pool);
	if (err < 0) {
		snprintf(msg, msg_len, "replay: parser threads: %s", strerror(-err));
		goto out;
	}
	for (;;) {
		struct batch *b;

		/* Keep the parser threads fed; take the oldest batch back once all are out. */
		if (!eof && next_fill - next_use < BATCHES) {
			b = &pool.b[next_fill % BATCHES];
			err = fill_batch(&rd, b, &eof, msg, msg_len);
			if (err < 0)
				break;
			(void)pthread_mutex_lock(&pool.lock);
			b->id = next_fill++;
			b->state = B_READY;
			(void)pthread_cond_broadcast(&pool.ready);
			(void)pthread_mutex_unlock(&pool.lock);
			continue;
		}
		if (next_use == next_fill)
			break;
		b = &pool.b[next_use % BATCHES];
		(void)pthread_mutex_lock(&pool.lock);
		while (b->state != B_DONE)
			(void)pthread_cond_wait(&pool.done, &pool.lock);
		(void)pthread_mutex_unlock(&pool.lock);
		if (b->err < 0) {
			err = b->err;
			snprintf(msg, msg_len, "out of memory");
			goto out;
		}
		err = use_batch(&rp, b, c->sweep ? &store : NULL, &out, &line_no, out_fd, msg,
				msg_len);
		if (err < 0)
			goto out;
		/* Under the lock: a parser thread waiting for the next id reads this state. */
		(void)pthread_mutex_lock(&pool.lock);
		b->state = B_FREE;
		(void)pthread_mutex_unlock(&pool.lock);
		next_use++;
	}
	if (err < 0)
		goto out; /* the input could not be read: no summary of part of it */
	if (st->malformed)
		fprintf(stderr, "fanotifyd: replay: %llu malformed line(s) skipped, the first at "
				"line %llu\n",
			(unsigned long long)st->malformed, (unsigned long long)st->bad_lines[0]);
	if (st->reloads)
		fprintf(stderr, "fanotifyd: replay: the stream has %llu reload record(s): the live "
				"policy may have changed mid-stream; this replay used one config "
				"throughout\n",
			(unsigned long long)st->reloads);
	if (!c->sweep) {
		err = replay_summary(&rp, &out);
	} else {
		if (text) {
			static const char head[] = "key                   value     events   alerts"
						   "    burst   canary suppressed would_deny "
						   "allow->deny\n";

			err = buf_append(&out, head, sizeof(head) - 1);
		}
		for (int i = 0; err == 0 && i < n_values; i++) {
			struct config cv = *c; /* shallow: the strings stay the caller's */
			struct replay sw;
			size_t off = 0;

			if (strcmp(sweep_key, "burst_threshold") == 0)
				cv.burst_threshold = values[i];
			else if (strcmp(sweep_key, "burst_window_ms") == 0)
				cv.burst_window_ms = values[i];
			else
				cv.hook_cooldown_ms = values[i];
			err = replay_init(&sw, &cv, text, false, msg, msg_len);
			if (err < 0)
				goto out;
			/* cv lives for this turn only; the summary is written in it. */
			sw.sweep_key = sweep_key;
			sw.sweep_value = values[i];
			while (off < store.len) {
				const char *type, *run_id;
				struct replay_event ev;
				uint64_t seq;
				bool seq_known;

				(void)load_line(&store, &off, &ev, &type, &seq, &seq_known, &run_id);
				/* No records: only a new run's policy can fail (memory). */
				err = replay_event(&sw, &ev, NULL);
				if (err < 0)
					break;
			}
			if (err < 0) {
				snprintf(msg, msg_len, "out of memory");
				replay_free(&sw);
				goto out;
			}
			/* What the reader counted is the stream's, the same for every value. */
			sw.st.lines = st->lines;
			sw.st.malformed = st->malformed;
			memcpy(sw.st.bad_lines, st->bad_lines, sizeof(st->bad_lines));
			memcpy(sw.st.skipped, st->skipped, sizeof(st->skipped));
			sw.st.reloads = st->reloads;
			sw.st.clock_steps = st->clock_steps;
			sw.st.seq_gaps = st->seq_gaps;
			sw.st.seq_missing = st->seq_missing;
			sw.st.seq_backwards = st->seq_backwards;
			if (text)
				sweep_row(&sw, &out);
			else
				err = replay_summary(&sw, &out);
			replay_free(&sw);
		}
	}
	if (err < 0) {
		snprintf(msg, msg_len, "out of memory");
		goto out;
	}
	err = out_flush(out_fd, &out, msg, msg_len);
out:
	if (out_fd != STDOUT_FILENO && out_fd >= 0 && close(out_fd) < 0 && err == 0) {
		err = -errno;
		snprintf(msg, msg_len, "replay: output %s: %s", output, strerror(errno));
	}
	if (rd.gz)
		(void)gzclose(rd.gz); /* read only: nothing to lose */
	if (in_fd >= 0)
		(void)close(in_fd);
	pool_stop(&pool);
	free(rd.buf);
	buf_free(&out);
	buf_free(&store);
	replay_free(&rp);
	return err;
}
