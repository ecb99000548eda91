/*
 * subscribe.c - the --subscribe client: connects to a running daemon's subscriber socket
 * and copies what it sends to stdout until the daemon closes the connection; with
 * --format text it renders each JSON line as text.h's short human line instead.
 *
 * Stands apart from the daemon, as fapolicyd-cli does from fapolicyd: it owns only its
 * socket and buffers, shares no state with the daemon's loop, and in JSON Lines mode knows
 * nothing of the records beyond bytes (the lines arrive whole; sink_sock.c sees to that).
 * In text mode it parses each line with jansson and fills the structs the daemon renders
 * from (record.h, event.h), so that text.c prints the same line on both sides. main.c
 * calls it before anything of the daemon is set up.
 */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fdio.h"
#include "record.h"
#include "subscribe.h"
#include "text.h"

/* Bytes of one record line in text mode. The longest the daemon writes (two PATH_MAX paths
 * of \u-escaped bytes with their _raw arrays) stays well below; a longer line is reported
 * as skipped, never buffered without bound. */
#define SUBSCRIBE_LINE_MAX (1u << 20)
#define SUBSCRIBE_STRS_MAX 8		/* string fields of one record rebuilt from _raw */
#define SUBSCRIBE_LIST_MAX 64		/* names of a reload record's changed/refused lists */

/* Writes all of p to fd, waiting for room when fd is non-blocking (a shell may hand us
 * such a stdout). */
static int write_all_wait(int fd, const char *p, size_t len)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		size_t done;
		int r = fdio_write_all(fd, p, len, &done);

		if (r != -EAGAIN && r != -EWOULDBLOCK)
			return r;
		p += done;
		len -= done;
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return -errno;
	}
}

/* Strings of one record rebuilt from "<field>_raw" byte arrays; freed after its line. */
struct strs {
	char *p[SUBSCRIBE_STRS_MAX];
	unsigned n;
};

static void strs_free(struct strs *s)
{
	for (unsigned i = 0; i < s->n; i++)
		free(s->p[i]);
	s->n = 0;
}

/*
 * The string field key of o as the daemon had it: the exact bytes of "<key>_raw" (an array
 * of numbers, written when the bytes are not valid UTF-8) if there is one, else the
 * string's value. NULL when absent or null.
 */
static const char *field(json_t *o, const char *key, struct strs *s)
{
	char raw_key[64];
	json_t *raw, *v;
	size_t i, n;
	char *p;

	snprintf(raw_key, sizeof(raw_key), "%s_raw", key);
	raw = json_object_get(o, raw_key);
	if (json_is_array(raw) && s->n < SUBSCRIBE_STRS_MAX) {
		n = json_array_size(raw);
		p = malloc(n + 1);
		if (p) {
			json_array_foreach(raw, i, v)
				p[i] = (char)(unsigned char)json_integer_value(v);
			p[n] = '\0';
			s->p[s->n++] = p;
			return p;
		}
	}
	return json_string_value(json_object_get(o, key));
}

static uint64_t num(json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v < 0 ? 0 : (uint64_t)v;
}

/* Up to SUBSCRIBE_LIST_MAX strings of the array at key into v; returns how many. */
static size_t list(json_t *o, const char *key, const char **v)
{
	json_t *a = json_object_get(o, key), *e;
	size_t i, n = 0;

	json_array_foreach(a, i, e) {
		if (n < SUBSCRIBE_LIST_MAX && json_is_string(e))
			v[n++] = json_string_value(e);
	}
	return n;
}

static int render_event(struct buf *out, json_t *o, uint64_t ts_ms, struct strs *s,
			const struct text_style *st)
{
	const char *decision = json_string_value(json_object_get(o, "decision"));
	struct record_event r = {
		.ts_ms = ts_ms,
		.mask = num(o, "mask"),
		.job_id = field(o, "job_id", s),
		.path_role = field(o, "path_role", s),
		.proc = { .pid = (pid_t)num(o, "pid"), .comm = field(o, "comm", s) },
		.path = field(o, "path", s),
		.old_path = field(o, "old_path", s),
		.is_rename = json_object_get(o, "old_path") != NULL,
		.reason = field(o, "reason", s),
	};

	if (decision && strcmp(decision, "deny") == 0)
		r.verdict = VERDICT_DENY;
	else if (decision && strcmp(decision, "allow") == 0)
		r.verdict = VERDICT_ALLOW;
	return text_event(out, &r, st);
}

static int render_alert(struct buf *out, json_t *o, uint64_t ts_ms, struct strs *s,
			const struct text_style *st)
{
	const char *kind = json_string_value(json_object_get(o, "kind"));
	struct proc_info pi = { .pid = (pid_t)num(o, "pid"), .comm = field(o, "comm", s) };
	struct alert a = {
		.kind = (enum alert_kind)-1,
		.pid = pi.pid,
		.path = field(o, "path", s),
		.reason = field(o, "reason", s),
		.job_id = field(o, "job_id", s),
		.path_role = field(o, "path_role", s),
		.count = (unsigned)num(o, "count"),
		.window_ms = (unsigned)num(o, "window_ms"),
		.ts_ms = ts_ms,
		/* The kernel's own alerts come without comm (record.c leaves it out). */
		.proc = json_object_get(o, "comm") ? &pi : NULL,
	};

	json_t *id = json_object_get(o, "scope_id");

	for (int k = ALERT_CANARY; k <= ALERT_FD_EXHAUSTED; k++)
		if (kind && strcmp(kind, record_alert_kind_name((enum alert_kind)k)) == 0)
			a.kind = (enum alert_kind)k;
	a.scope = field(o, "scope", s);
	if (json_is_string(id))
		a.scope_id_str = field(o, "scope_id", s);
	else
		a.scope_id = json_integer_value(id);
	return text_alert(out, &a, st);
}

static int render_reload(struct buf *out, json_t *o, uint64_t ts_ms, struct strs *s,
			 const struct text_style *st)
{
	const char *changed[SUBSCRIBE_LIST_MAX], *refused[SUBSCRIBE_LIST_MAX];
	struct record_reload r = {
		.status = field(o, "status", s),
		.changed = changed,
		.n_changed = list(o, "changed", changed),
		.refused = refused,
		.n_refused = list(o, "refused", refused),
		.marks_added = (unsigned)num(o, "marks_added"),
		.marks_removed = (unsigned)num(o, "marks_removed"),
		.error = field(o, "error", s),
	};

	return text_reload(out, ts_ms, &r, st);
}

/* One JSON line (without its newline) as one text line; a line that is not a JSON object,
 * or of a type we do not know, is shown escaped after "? ". 0 or -ENOMEM. */
static int render(struct buf *out, const char *line, size_t len, bool color)
{
	struct text_style st = { .color = color };
	struct strs s = { .n = 0 };
	const char *type;
	json_error_t err;
	uint64_t ts_ms;
	json_t *o;
	int r;

	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
	if (!json_is_object(o)) {
		json_decref(o);
		return text_other(out, 0, false, line, len, &st);
	}
	type = json_string_value(json_object_get(o, "type"));
	ts_ms = num(o, "ts_ms");
	st.utc_off_s = text_utc_offset_s(ts_ms);
	if (!type) {
		r = text_other(out, ts_ms, true, line, len, &st);
	} else if (strcmp(type, "event") == 0) {
		r = render_event(out, o, ts_ms, &s, &st);
	} else if (strcmp(type, "alert") == 0) {
		r = render_alert(out, o, ts_ms, &s, &st);
	} else if (strcmp(type, "dropped") == 0) {
		r = text_dropped(out, ts_ms, num(o, "count"), field(o, "reason", &s), &st);
	} else if (strcmp(type, "clock") == 0) {
		r = text_clock(out, ts_ms, json_integer_value(json_object_get(o, "step_ms")), &st);
	} else if (strcmp(type, "stats") == 0) {
		struct stats stats = {
			.events = num(o, "events"),
			.records = num(o, "records"),
			.alerts = num(o, "alerts"),
			.perm_denied = num(o, "perm_denied"),
			.dropped_records = num(o, "dropped_records"),
		};

		r = text_stats(out, ts_ms, &stats, &st);
	} else if (strcmp(type, "reload") == 0) {
		r = render_reload(out, o, ts_ms, &s, &st);
	} else if (strcmp(type, "start") == 0) {
		r = text_start(out, ts_ms, field(o, "host", &s), field(o, "version", &s),
			       field(o, "run_id", &s), &st);
	} else if (strcmp(type, "stop") == 0) {
		r = text_stop(out, ts_ms, field(o, "reason", &s), num(o, "records"),
			      num(o, "dropped_records"), &st);
	} else {
		r = text_other(out, ts_ms, true, line, len, &st);
	}
	strs_free(&s);
	json_decref(o);
	return r;
}

/*
 * Text mode: the whole lines of in (n bytes) rendered into out; a partial last line waits
 * in *line for the next read. A line longer than SUBSCRIBE_LINE_MAX is dropped up to its
 * newline (*skipping) and says so. 0 or -ENOMEM.
 */
static int render_lines(struct buf *out, struct buf *line, bool *skipping, const char *in,
			size_t n, bool color)
{
	static const char too_long[] = "record longer than 1 MiB, skipped";
	struct text_style st = { .color = color };
	int r = 0;

	while (n && r == 0) {
		const char *nl = memchr(in, '\n', n);
		size_t part = nl ? (size_t)(nl - in) : n;

		if (*skipping) {
			/* the rest of an overlong line */
		} else if (line->len + part > SUBSCRIBE_LINE_MAX) {
			*skipping = true;
			line->len = 0;
			r = text_other(out, 0, false, too_long, sizeof(too_long) - 1, &st);
		} else {
			r = buf_append(line, in, part);
		}
		if (r == 0 && nl) {
			if (!*skipping)
				r = render(out, line->data ? line->data : "", line->len, color);
			*skipping = false;
			line->len = 0;
		}
		in += part + (nl ? 1 : 0);
		n -= part + (nl ? 1 : 0);
	}
	return r;
}

int subscribe_run(const char *path, bool text, bool color)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct buf out = { 0 }, line = { 0 };
	bool skipping = false;
	char buf[64 << 10];
	uint64_t total = 0;
	int fd = -1, ret = 1;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "fanotifyd: %s: path too long for a Unix socket\n", path);
		return 1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "fanotifyd: socket: %s\n", strerror(errno));
		return 1;
	}
	/* A blocking connect to a Unix socket completes or fails at once; EINTR can only
	 * leave it in progress, which the next call reports as EISCONN. */
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR || errno == EALREADY)
			continue;
		if (errno == EISCONN)
			break;
		fprintf(stderr, "fanotifyd: %s: %s (is the daemon running?)\n", path,
			strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		int r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "fanotifyd: %s: %s\n", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (text) {
			out.len = 0;
			r = render_lines(&out, &line, &skipping, buf, (size_t)n, color);
			if (r == 0)
				r = write_all_wait(STDOUT_FILENO, out.data, out.len);
		} else {
			r = write_all_wait(STDOUT_FILENO, buf, (size_t)n);
		}
		if (r == -EPIPE) {
			ret = 0; /* the reader is done (| head): so are we */
			goto out;
		}
		if (r < 0) {
			fprintf(stderr, "fanotifyd: stdout: %s\n", strerror(-r));
			goto out;
		}
	}
	if (!total) {
		fprintf(stderr,
			"fanotifyd: %s: the daemon closed the connection without sending anything "
			"(refused: not permitted or too many subscribers, or shutting down)\n",
			path);
		goto out;
	}
	ret = 0;
out:
	(void)close(fd); /* we only read from it */
	buf_free(&out);
	buf_free(&line);
	return ret;
}
