/*
 * test_replay.c - replay.c without a file: a record line -> struct replay_event (the
 * policy's input and the process), <field>_raw bytes over the U+FFFD string, a table of
 * malformed and hostile lines, the summary's counts (skipped by type, seq gaps, reloads,
 * alerts by kind and reason, denials and changed decisions, the bounded process table), and
 * --sweep's spec and one summary per value (replay_run() on a temp file).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "compat.h"
#include "replay.h"

#define RUN "\"run_id\":\"0123456789abcdef0123456789abcdef\""

static enum replay_line parse(struct replay_parser *p, const char *line, struct replay_event *ev,
			      const char **type)
{
	uint64_t seq;
	bool seq_known;
	const char *run;

	return replay_parse(p, line, strlen(line), ev, type, &seq, &seq_known, &run);
}

static void test_event_mapping(void **state)
{
	struct replay_parser *p = replay_parser_new();
	struct replay_event ev;
	const char *type;

	(void)state;
	assert_non_null(p);
	assert_int_equal(parse(p, "{\"schema_version\":1,\"type\":\"event\",\"seq\":7,\"ts_ms\":1234,"
				  "\"mask\":65536,\"events\":\"OPEN_PERM\",\"decision\":\"deny\","
				  "\"pid\":10,\"ppid\":9,\"uid\":1000,\"sid\":8,\"comm\":\"sh\","
				  "\"exe\":\"/bin/sh\",\"cgroup\":\"/jobs.slice/j1.scope\","
				  "\"path\":\"/w/a\",\"old_path\":\"/w/b\",\"host\":\"h\"," RUN "}",
			       &ev, &type),
			 REPLAY_LINE_EVENT);
	assert_string_equal(type, "event");
	assert_int_equal(ev.seq, 7);
	assert_int_equal(ev.ts_ms, 1234);
	assert_int_equal(ev.mask, FAN_OPEN_PERM);
	assert_int_equal(ev.proc.pid, 10);
	assert_true(ev.proc.ppid_known);
	assert_int_equal(ev.proc.ppid, 9);
	assert_true(ev.proc.uid_known);
	assert_int_equal(ev.proc.uid, 1000);
	assert_true(ev.proc.sid_known);
	assert_int_equal(ev.proc.sid, 8);
	assert_string_equal(ev.proc.comm, "sh");
	assert_string_equal(ev.proc.exe, "/bin/sh");
	assert_string_equal(ev.proc.cgroup, "/jobs.slice/j1.scope");
	assert_string_equal(ev.path, "/w/a");
	assert_string_equal(ev.old_path, "/w/b");
	assert_true(ev.recorded_known);
	assert_int_equal(ev.recorded, VERDICT_DENY);
	assert_string_equal(ev.run_id, "0123456789abcdef0123456789abcdef");
	assert_string_equal(ev.host, "h");

	/* null and absent are unknown, never 0 or "" */
	assert_int_equal(parse(p, "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":3,"
				  "\"ppid\":null,\"uid\":null,\"comm\":null,\"exe\":null,"
				  "\"path\":null}",
			       &ev, &type),
			 REPLAY_LINE_EVENT);
	assert_false(ev.proc.ppid_known);
	assert_false(ev.proc.uid_known);
	assert_false(ev.proc.sid_known);
	assert_null(ev.proc.comm);
	assert_null(ev.proc.exe);
	assert_null(ev.proc.cgroup);
	assert_null(ev.path);
	assert_null(ev.old_path);
	assert_false(ev.recorded_known);
	assert_null(ev.run_id);
	replay_parser_free(p);
}

static void test_raw_bytes_win(void **state)
{
	struct replay_parser *p = replay_parser_new();
	struct replay_event ev;
	const char *type;

	(void)state;
	/* "/w/c\xff" was written as "/w/c\ufffd" with path_raw; exe_raw, comm_raw, cgroup_raw
	 * and old_path_raw alike */
	assert_int_equal(parse(p, "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":3,"
				  "\"path\":\"/w/c\\ufffd\",\"path_raw\":[47,119,47,99,255],"
				  "\"old_path\":\"/w/\\ufffd\",\"old_path_raw\":[47,119,47,254],"
				  "\"comm\":\"\\ufffd\",\"comm_raw\":[200],"
				  "\"exe\":\"/\\ufffd\",\"exe_raw\":[47,128],"
				  "\"cgroup\":\"/\\ufffd\",\"cgroup_raw\":[47,192]}",
			       &ev, &type),
			 REPLAY_LINE_EVENT);
	assert_string_equal(ev.path, "/w/c\xff");
	assert_string_equal(ev.old_path, "/w/\xfe");
	assert_string_equal(ev.proc.comm, "\xc8");
	assert_string_equal(ev.proc.exe, "/\x80");
	assert_string_equal(ev.proc.cgroup, "/\xc0");
	replay_parser_free(p);
}

/* Each line is malformed, counted and skipped: never a crash, never an event. */
static void test_malformed_table(void **state)
{
	static const struct {
		const char *name;
		const char *line;
		size_t len; /* 0: strlen */
	} cases[] = {
		{ "not JSON", "hello", 0 },
		{ "an array", "[1,2]", 0 },
		{ "a number", "5", 0 },
		{ "cut short", "{\"type\":\"event\",\"ts_ms\":1", 0 },
		{ "two objects", "{\"type\":\"stats\"}{\"type\":\"stats\"}", 0 },
		{ "text after", "{\"type\":\"stats\"} x", 0 },
		{ "no type", "{\"seq\":1}", 0 },
		{ "type a number", "{\"type\":5}", 0 },
		{ "seq a string", "{\"type\":\"stats\",\"seq\":\"1\"}", 0 },
		{ "seq negative", "{\"type\":\"stats\",\"seq\":-1}", 0 },
		{ "run_id a number", "{\"type\":\"stats\",\"run_id\":1}", 0 },
		{ "event without ts_ms", "{\"type\":\"event\",\"mask\":2,\"pid\":1}", 0 },
		{ "event without mask", "{\"type\":\"event\",\"ts_ms\":1,\"pid\":1}", 0 },
		{ "event without pid", "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2}", 0 },
		{ "pid a string", "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":\"1\"}", 0 },
		{ "pid too big", "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":4294967296}", 0 },
		{ "mask a float", "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2.5,\"pid\":1}", 0 },
		{ "ts_ms negative", "{\"type\":\"event\",\"ts_ms\":-5,\"mask\":2,\"pid\":1}", 0 },
		{ "uid a bool", "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":1,\"uid\":true}", 0 },
		{ "path a number", "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":1,\"path\":7}", 0 },
		{ "path with a NUL", "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":1,"
				     "\"path\":\"/a\\u0000b\"}", 0 },
		{ "path_raw not an array", "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":1,"
					   "\"path_raw\":\"x\"}", 0 },
		{ "path_raw with 0", "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":1,"
				     "\"path_raw\":[47,0]}", 0 },
		{ "path_raw with 256", "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":1,"
				       "\"path_raw\":[256]}", 0 },
		{ "path_raw with a string", "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":1,"
					    "\"path_raw\":[\"a\"]}", 0 },
		{ "decision a number", "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":1,"
				       "\"decision\":1}", 0 },
		{ "a NUL byte", "{\"type\":\"event\",\"ts_ms\":1,\0\"mask\":2,\"pid\":1}", 38 },
		{ "a NUL after the object", "{\"type\":\"stats\"}\0", 17 },
	};
	struct replay_parser *p = replay_parser_new();
	struct replay_event ev;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *type, *run;
		uint64_t seq;
		bool seq_known;
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].line);
		enum replay_line r = replay_parse(p, cases[i].line, len, &ev, &type, &seq,
						  &seq_known, &run);

		if (r != REPLAY_LINE_MALFORMED)
			fail_msg("case '%s': %d, want malformed", cases[i].name, (int)r);
	}
	replay_parser_free(p);
}

static void test_hostile_nesting(void **state)
{
	size_t n = 100000;
	char *s = malloc(2 * n);
	struct replay_parser *p = replay_parser_new();
	struct replay_event ev;
	const char *type, *run;
	uint64_t seq;
	bool known;

	(void)state;
	assert_non_null(s);
	memset(s, '[', n);
	memset(s + n, ']', n);
	assert_int_equal(replay_parse(p, s, 2 * n, &ev, &type, &seq, &known, &run),
			 REPLAY_LINE_MALFORMED);
	memset(s, '{', n);
	assert_int_equal(replay_parse(p, s, n, &ev, &type, &seq, &known, &run),
			 REPLAY_LINE_MALFORMED);
	assert_int_equal(replay_parse(p, "  \r", 3, &ev, &type, &seq, &known, &run),
			 REPLAY_LINE_EMPTY);
	free(s);
	replay_parser_free(p);
}

static void test_summary_counts(void **state)
{
	struct replay_stats st;

	(void)state;
	memset(&st, 0, sizeof(st));
	replay_note_other(&st, "start", 1, true, "A");
	replay_note_seq(&st, 2, "A");
	replay_note_seq(&st, 3, "A");
	replay_note_seq(&st, 7, "A");	/* 4, 5, 6 lost */
	replay_note_other(&st, "reload", 8, true, "A");
	replay_note_seq(&st, 8, "A");	/* the same seq again: backwards */
	replay_note_other(&st, "start", 1, true, "B");	/* another run: no gap */
	replay_note_seq(&st, 3, "B");	/* 2 lost */
	replay_note_malformed(&st, 11);
	replay_note_malformed(&st, 12);
	for (int i = 0; i < REPLAY_TYPES_MAX + 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "t%d", i);
		replay_note_other(&st, name, 0, false, NULL);
	}
	assert_int_equal(st.seq_gaps, 2);
	assert_int_equal(st.seq_missing, 4);
	assert_int_equal(st.seq_backwards, 1);
	assert_int_equal(st.reloads, 1);
	assert_int_equal(st.malformed, 2);
	assert_int_equal(st.bad_lines[0], 11);
	assert_int_equal(st.bad_lines[1], 12);
	assert_string_equal(st.skipped[0].name, "start");
	assert_int_equal(st.skipped[0].n, 2);
	assert_string_equal(st.skipped[1].name, "reload");
	/* start, reload and the first 14 named; the other 5 summed */
	assert_string_equal(st.skipped[REPLAY_TYPES_MAX].name, "other");
	assert_int_equal(st.skipped[REPLAY_TYPES_MAX].n, REPLAY_TYPES_MAX + 3 - (REPLAY_TYPES_MAX - 2));
}

static struct replay_event perm_ev(uint64_t seq, uint64_t ts, pid_t pid, const char *path,
				   uint64_t mask, enum verdict recorded)
{
	struct replay_event ev = { .seq = seq, .ts_ms = ts, .mask = mask, .path = path,
				   .recorded = recorded, .recorded_known = true };

	ev.proc.pid = pid;
	ev.proc.comm = "w";
	return ev;
}

/* Policy through replay: a canary denied, a burst contained, the decision records and the
 * alert records (seq = the event's + 1), and the summary's counts. */
static void test_events_through_policy(void **state)
{
	char *canaries[] = { "/w/canary" };
	struct config c;
	struct replay r;
	struct buf out = { 0 };
	char msg[256];
	struct replay_event ev;

	(void)state;
	config_init(&c);
	c.canaries = canaries;
	c.n_canaries = 1;
	c.perm = c.deny_on_alert = true;
	c.burst_threshold = 3;
	c.burst_window_ms = 1000;
	c.quarantine_ms = 5000;
	c.hook = "true";
	assert_int_equal(replay_init(&r, &c, false, true, msg, sizeof(msg)), 0);
	ev = perm_ev(10, 1000, 5, "/w/canary", FAN_OPEN_PERM, VERDICT_DENY);
	assert_int_equal(replay_event(&r, &ev, &out), 0);
	assert_non_null(strstr(out.data, "\"type\":\"alert\",\"seq\":11,\"ts_ms\":1000,\"kind\":"
					 "\"canary\""));
	assert_non_null(strstr(out.data, "\"hook\":\"would run\""));
	assert_non_null(strstr(out.data, "{\"schema_version\":1,\"type\":\"decision\",\"seq\":10,"
					 "\"ts_ms\":1000,\"pid\":5,\"comm\":\"w\",\"path\":"
					 "\"/w/canary\",\"job_id\":null,\"decision\":\"deny\","
					 "\"reason\":\"canary opened\",\"recorded\":\"deny\"}\n"));
	out.len = 0;
	/* three writes of pid 6: a burst, then its open is denied (quarantined) */
	for (int i = 0; i < 3; i++) {
		ev = perm_ev(20 + (uint64_t)i, 2000, 6, "/w/f", FAN_MODIFY, VERDICT_OBSERVE);
		assert_int_equal(replay_event(&r, &ev, &out), 0);
	}
	ev = perm_ev(23, 2001, 6, "/w/g", FAN_OPEN_PERM, VERDICT_ALLOW);
	assert_int_equal(replay_event(&r, &ev, &out), 0);
	assert_int_equal(buf_append(&out, "", 1), 0);
	assert_non_null(strstr(out.data, "\"seq\":23,\"ts_ms\":2000,\"kind\":\"burst\""));
	assert_non_null(strstr(out.data, "\"reason\":\"quarantined after burst\","
					 "\"recorded\":\"allow\""));
	/* another process is allowed: no record */
	out.len = 0;
	ev = perm_ev(30, 2002, 7, "/w/g", FAN_OPEN_PERM, VERDICT_ALLOW);
	assert_int_equal(replay_event(&r, &ev, &out), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(r.st.events, 6);
	assert_int_equal(r.st.perm_events, 3);
	assert_int_equal(r.st.would_deny, 2);
	assert_int_equal(r.st.would_allow, 1);
	assert_int_equal(r.st.allow_to_deny, 1);
	assert_int_equal(r.st.deny_to_allow, 0);
	assert_int_equal(r.st.alerts, 2);
	assert_int_equal(r.st.hooks_would_run, 2);
	assert_int_equal(replay_summary(&r, &out), 0);
	assert_int_equal(buf_append(&out, "", 1), 0);
	assert_non_null(strstr(out.data, "\"alerts_by_kind\":{\"canary\":1,\"burst\":1}"));
	assert_non_null(strstr(out.data, "\"deny_reasons\":{\"canary opened\":1,"
					 "\"quarantined after burst\":1}"));
	assert_non_null(strstr(out.data, "\"by_process\":[{\"pid\":6,\"comm\":\"w\",\"events\":4,"
					 "\"alerts\":1,\"denied\":1},{\"pid\":5,"));
	buf_free(&out);
	replay_free(&r);
	c.canaries = NULL;
	c.n_canaries = 0;
	c.hook = NULL;
	config_free(&c);
}

/* More processes than the table holds: counted, never grown. */
static void test_process_table_bounded(void **state)
{
	struct config c;
	struct replay r;
	char msg[128];

	(void)state;
	config_init(&c);
	assert_int_equal(replay_init(&r, &c, false, false, msg, sizeof(msg)), 0);
	for (int i = 1; i <= 3 * REPLAY_PROCS_MAX; i++) {
		struct replay_event ev = { .seq = (uint64_t)i, .ts_ms = 1, .mask = FAN_OPEN };

		ev.proc.pid = i;
		assert_int_equal(replay_event(&r, &ev, NULL), 0);
	}
	assert_true(r.n_procs <= REPLAY_PROCS_MAX);
	assert_int_equal(r.n_procs + r.procs_other.events, 3 * REPLAY_PROCS_MAX);
	replay_free(&r);
	config_free(&c);
}

static void test_sweep_spec(void **state)
{
	unsigned v[4];
	const char *key;
	char msg[256];

	(void)state;
	assert_int_equal(replay_sweep_parse("burst_threshold=8,16,32", &key, v, 4, msg,
					    sizeof(msg)), 3);
	assert_string_equal(key, "burst_threshold");
	assert_int_equal(v[2], 32);
	assert_int_equal(replay_sweep_parse("hook_cooldown_ms=0", &key, v, 4, msg, sizeof(msg)), 1);
	assert_int_equal(replay_sweep_parse("burst_window_ms=0", &key, v, 4, msg, sizeof(msg)),
			 -EINVAL); /* the window's minimum is 1, as the key's */
	assert_int_equal(replay_sweep_parse("burst_threshold=5000", &key, v, 4, msg, sizeof(msg)),
			 -EINVAL);
	assert_int_equal(replay_sweep_parse("burst_threshold=1,,2", &key, v, 4, msg, sizeof(msg)),
			 -EINVAL);
	assert_int_equal(replay_sweep_parse("burst_threshold=1,", &key, v, 4, msg, sizeof(msg)),
			 -EINVAL);
	assert_int_equal(replay_sweep_parse("burst_threshold=-1", &key, v, 4, msg, sizeof(msg)),
			 -EINVAL);
	assert_int_equal(replay_sweep_parse("quarantine_ms=1", &key, v, 4, msg, sizeof(msg)),
			 -EINVAL);
	assert_int_equal(replay_sweep_parse("burst_threshold", &key, v, 4, msg, sizeof(msg)),
			 -EINVAL);
	assert_int_equal(replay_sweep_parse("burst_threshold=1,2,3,4,5", &key, v, 4, msg,
					    sizeof(msg)), -EINVAL);
}

/* replay_run() of c into the file outp, which must then hold something: its text in buf
 * (NUL-terminated, at most len - 1 bytes). */
static void run_into(const struct config *c, const char *outp, char *buf, size_t len)
{
	char msg[256];
	ssize_t n;
	int fd;

	if (replay_run(c, outp, msg, sizeof(msg)) != 0)
		fail_msg("replay_run: %s", msg);
	fd = open(outp, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, len - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
}

/* replay_run() on a file: a sweep writes one summary per value, the events read once. */
static void test_sweep_run(void **state)
{
	char in[] = "/tmp/fanotifyd-ut-replay.XXXXXX";
	char outp[64];
	int fd = mkstemp(in);
	struct config c;
	char msg[256], buf[16384];
	FILE *fp;

	(void)state;
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fprintf(fp, "{\"type\":\"start\",\"seq\":1," RUN "}\n");
	for (int i = 0; i < 40; i++)
		fprintf(fp, "{\"type\":\"event\",\"seq\":%d,\"ts_ms\":%d,\"mask\":2,\"pid\":9,"
			    "\"path\":\"/w/f%d\"," RUN "}\n", i + 2, 1000 + i, i);
	fprintf(fp, "garbage\n");
	fclose(fp);
	snprintf(outp, sizeof(outp), "%s.out", in);
	config_init(&c);
	c.replay = in;
	c.sweep = "burst_threshold=5,10,50";
	c.hook_cooldown_ms = 0;
	run_into(&c, outp, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"sweep\":{\"key\":\"burst_threshold\",\"value\":5},"));
	assert_non_null(strstr(buf, "\"alerts_by_kind\":{\"burst\":8}"));
	assert_non_null(strstr(buf, "\"alerts_by_kind\":{\"burst\":4}"));
	assert_non_null(strstr(buf, "\"value\":50},\"input\""));
	assert_non_null(strstr(buf, "\"alerts_by_kind\":{},"));
	assert_non_null(strstr(buf, "\"lines\":42,\"events\":40,\"skipped\":{\"start\":1},"
				    "\"malformed\":1,\"malformed_lines\":[42]"));
	assert_null(strstr(buf, "\"type\":\"alert\""));
	c.sweep = "burst_threshold=x";
	assert_int_equal(replay_run(&c, outp, msg, sizeof(msg)), -EINVAL);
	c.sweep = NULL;
	c.replay = "/nonexistent/x";
	assert_int_equal(replay_run(&c, outp, msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, "No such file"));
	c.replay = NULL;
	config_free(&c);
	unlink(outp);
	unlink(in);
}

/* One stream, two runs of the daemon (two run_ids) and a step of the wall clock: the
 * second run's policy starts afresh (the first run's two writes do not count towards its
 * burst), and the hour the wall clock jumped between its second and third write is not
 * counted (a clock record), so three writes in 200 ms are a burst of 3 in a 1000 ms window:
 * exactly one alert, with a replay and with a sweep. Ancestors come from the record. */
static void test_runs_and_clock(void **state)
{
	static const char stream[] =
		"{\"type\":\"start\",\"seq\":1,\"run_id\":\"a\"}\n"
		"{\"type\":\"event\",\"seq\":2,\"ts_ms\":1000,\"mask\":2,\"pid\":9,"
		"\"path\":\"/w/f\",\"run_id\":\"a\"}\n"
		"{\"type\":\"event\",\"seq\":3,\"ts_ms\":1100,\"mask\":2,\"pid\":9,"
		"\"path\":\"/w/f\",\"run_id\":\"a\"}\n"
		"{\"type\":\"start\",\"seq\":1,\"run_id\":\"b\"}\n"
		"{\"type\":\"event\",\"seq\":2,\"ts_ms\":1200,\"mask\":2,\"pid\":9,"
		"\"ancestors\":[8,7],\"path\":\"/w/f\",\"run_id\":\"b\"}\n"
		"{\"type\":\"event\",\"seq\":3,\"ts_ms\":1300,\"mask\":2,\"pid\":9,"
		"\"path\":\"/w/f\",\"run_id\":\"b\"}\n"
		"{\"type\":\"clock\",\"seq\":4,\"ts_ms\":3601350,\"step_ms\":3600000,"
		"\"run_id\":\"b\"}\n"
		"{\"type\":\"event\",\"seq\":5,\"ts_ms\":3601400,\"mask\":2,\"pid\":9,"
		"\"path\":\"/w/f\",\"run_id\":\"b\"}\n";
	static char sweep3[] = "burst_threshold=3";
	char *const sweeps[] = { NULL, sweep3 };
	struct replay_parser *p = replay_parser_new();
	char in[] = "/tmp/fanotifyd-ut-replay.XXXXXX";
	char outp[64], buf[16384];
	int fd = mkstemp(in);
	struct replay_event ev;
	const char *type;
	struct config c;

	(void)state;
	assert_non_null(p);
	assert_int_equal(parse(p, "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":3,"
				  "\"ancestors\":[8,7,6,1]}", &ev, &type), REPLAY_LINE_EVENT);
	assert_int_equal(ev.proc.n_ancestors, 4);
	assert_int_equal(ev.proc.ancestors[0], 8);
	assert_int_equal(ev.proc.ancestors[3], 1);
	/* More than a record carries, a pid out of range, not an array: malformed. */
	assert_int_equal(parse(p, "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":3,"
				  "\"ancestors\":[1,2,3,4,5]}", &ev, &type), REPLAY_LINE_MALFORMED);
	assert_int_equal(parse(p, "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":3,"
				  "\"ancestors\":[0]}", &ev, &type), REPLAY_LINE_MALFORMED);
	assert_int_equal(parse(p, "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":3,"
				  "\"ancestors\":\"8\"}", &ev, &type), REPLAY_LINE_MALFORMED);
	assert_int_equal(parse(p, "{\"type\":\"clock\",\"step_ms\":-5}", &ev, &type),
			 REPLAY_LINE_OTHER);
	assert_int_equal(ev.step_ms, -5);
	assert_int_equal(parse(p, "{\"type\":\"clock\"}", &ev, &type), REPLAY_LINE_MALFORMED);
	replay_parser_free(p);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, stream, sizeof(stream) - 1), (ssize_t)sizeof(stream) - 1);
	close(fd);
	snprintf(outp, sizeof(outp), "%s.out", in);
	for (size_t i = 0; i < 2; i++) {
		config_init(&c);
		c.replay = in;
		c.sweep = sweeps[i];
		c.burst_threshold = 3;
		c.burst_window_ms = 1000;
		run_into(&c, outp, buf, sizeof(buf));
		assert_non_null(strstr(buf, "\"alerts_by_kind\":{\"burst\":1}"));
		assert_non_null(strstr(buf, "\"restarts\":1,\"clock_steps\":1,"));
		if (!sweeps[i])
			assert_non_null(strstr(buf, "\"type\":\"alert\",\"seq\":6,\"ts_ms\":3601400,"));
		c.replay = NULL;
		c.sweep = NULL;
		config_free(&c);
	}
	unlink(outp);
	unlink(in);
}

/* What the parser reads besides well-formed records: integers as strtoll() reads them
 * (clamped, then range-checked), the last of duplicate keys, keys of nested objects ignored,
 * nesting up to 32 deep, and a good line after a malformed one. */
static void test_parser_edges(void **state)
{
	struct replay_parser *p = replay_parser_new();
	struct replay_event ev;
	const char *type, *run;
	uint64_t seq;
	bool known;
	char deep[128];
	size_t n = 0;

	(void)state;
	assert_non_null(p);
	assert_int_equal(parse(p, "{\"type\":\"event\",\"seq\":18446744073709551616,\"ts_ms\":"
				  "9223372036854775807,\"mask\":0,\"pid\":2147483647}", &ev, &type),
			 REPLAY_LINE_EVENT);
	assert_true(ev.seq == INT64_MAX);
	assert_true(ev.ts_ms == INT64_MAX);
	assert_int_equal(ev.proc.pid, 2147483647);
	assert_int_equal(parse(p, "{\"type\":\"event\",\"ts_ms\":-9223372036854775809,\"mask\":0,"
				  "\"pid\":1}", &ev, &type),
			 REPLAY_LINE_MALFORMED);
	assert_int_equal(parse(p, "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":\"x\",\"pid\":5,"
				  "\"path\":\"/a\",\"path\":\"/b\",\"comm\":7,\"comm\":null}", &ev, &type),
			 REPLAY_LINE_EVENT);
	assert_int_equal(ev.proc.pid, 5);
	assert_string_equal(ev.path, "/b");
	assert_null(ev.proc.comm);
	assert_int_equal(parse(p, "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":3,\"x\":{\"pid\":"
				  "\"bad\",\"path\":7,\"type\":1},\"y\":[{\"path_raw\":[0]}]}", &ev, &type),
			 REPLAY_LINE_EVENT);
	assert_int_equal(ev.proc.pid, 3);
	assert_null(ev.path);
	assert_int_equal(parse(p, "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":3,"
				  "\"path_raw\":[47,{\"path\":\"/x\"}]}", &ev, &type),
			 REPLAY_LINE_MALFORMED);
	assert_int_equal(parse(p, "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":3,"
				  "\"path_raw\":[47,[97]]}", &ev, &type),
			 REPLAY_LINE_MALFORMED);
	assert_int_equal(parse(p, "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":3,"
				  "\"path_raw\":[47,{\"zzz\":1}]}", &ev, &type),
			 REPLAY_LINE_MALFORMED);
	assert_int_equal(parse(p, "{\"type\":\"event\",\"ts_ms\":1,\"mask\":2,\"pid\":3,"
				  "\"path_raw\":[],\"path\":\"/x\"}", &ev, &type),
			 REPLAY_LINE_EVENT);
	assert_string_equal(ev.path, "");
	/* 32 objects and arrays deep, the record's included, is the limit */
	n = (size_t)sprintf(deep, "{\"type\":\"stats\",\"x\":");
	memset(deep + n, '[', 31);
	memset(deep + n + 31, ']', 31);
	strcpy(deep + n + 62, "}");
	assert_int_equal(parse(p, deep, &ev, &type), REPLAY_LINE_OTHER);
	memset(deep + n, '[', 32);
	memset(deep + n + 32, ']', 32);
	strcpy(deep + n + 64, "}");
	assert_int_equal(parse(p, deep, &ev, &type), REPLAY_LINE_MALFORMED);
	/* a line cut short, then a good one: the parser starts afresh */
	assert_int_equal(parse(p, "{\"type\":\"stats\",\"a\":[1,", &ev, &type),
			 REPLAY_LINE_MALFORMED);
	assert_int_equal(replay_parse(p, "{\"type\":\"stats\",\"seq\":4} \t\r", 27, &ev, &type, &seq,
				      &known, &run),
			 REPLAY_LINE_OTHER);
	assert_true(known);
	assert_int_equal(seq, 4);
	assert_string_equal(type, "stats");
	replay_parser_free(p);
}

/* JSON extensions json-c's default mode took, which fanotifyd never writes: malformed. */
static void test_strict_json(void **state)
{
	static const char *const lines[] = {
		"{'type':'stats'}",
		"{\"type\":\"stats\",}",
		"{/* c */\"type\":\"stats\"}",
		"{\"type\":\"stats\",\"a\":01}",
		"{\"type\":\"stats\",\"a\":NaN}",
		"{\"type\":\"stats\",\"a\":TRUE}",
		"{\"type\":\"stats\",\"a\":[1,]}",
		"{\"type\":\"st\tats\"}",
	};
	struct replay_parser *p = replay_parser_new();
	struct replay_event ev;
	const char *type;

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (parse(p, lines[i], &ev, &type) != REPLAY_LINE_MALFORMED)
			fail_msg("'%s' is not malformed", lines[i]);
	replay_parser_free(p);
}

/* A stream of several batches (the parser threads' unit): every line counted where it is,
 * the policy sees the events in order (no seq gap, the alerts follow their events). */
static void test_run_many_batches(void **state)
{
	char in[] = "/tmp/fanotifyd-ut-replay.XXXXXX";
	char outp[64], *canaries[] = { "/w/canary" };
	int fd = mkstemp(in);
	struct config c;
	static char buf[1 << 16];
	FILE *fp;
	int seq = 0;

	(void)state;
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	for (int line = 1; line <= 20000; line++) {
		if (line % 5000 == 0 && line != 10000) {
			fprintf(fp, "{\"type\":\"event\",\"seq\":1,\"ts_ms\":1\n");
			continue;
		}
		if (line == 10000) {
			/* longer than the reader holds: never parsed, still one line */
			for (unsigned i = 0; i < 3 * REPLAY_LINE_MAX; i++)
				fputc('x', fp);
			fputc('\n', fp);
			continue;
		}
		seq++;
		fprintf(fp, "{\"schema_version\":1,\"type\":\"event\",\"seq\":%d,\"ts_ms\":%d,"
			    "\"mask\":32,\"decision\":\"observe\",\"pid\":%d,\"ppid\":1,\"uid\":0,"
			    "\"comm\":\"w\",\"exe\":\"/usr/bin/a-rather-long-name\",\"path\":\"%s\","
			    RUN "}\n", seq, 1000 + line, 100 + line % 7,
			line == 7001 || line == 19999 ? "/w/canary" : "/w/f");
	}
	fclose(fp);
	snprintf(outp, sizeof(outp), "%s.out", in);
	config_init(&c);
	c.replay = in;
	c.canaries = canaries;
	c.n_canaries = 1;
	run_into(&c, outp, buf, sizeof(buf));
	/* line 7001 is event 7000 (line 5000 is malformed), 19999 is 19996; an alert's seq is
	 * its event's + 1 */
	assert_non_null(strstr(buf, "{\"schema_version\":1,\"type\":\"alert\",\"seq\":7001,"
				    "\"ts_ms\":8001,\"kind\":\"canary\""));
	assert_non_null(strstr(buf, "{\"schema_version\":1,\"type\":\"alert\",\"seq\":19997,"
				    "\"ts_ms\":20999,\"kind\":\"canary\""));
	assert_true(strstr(buf, "\"seq\":7001,") < strstr(buf, "\"seq\":19997,"));
	assert_non_null(strstr(buf, "\"lines\":20000,\"events\":19996,\"skipped\":{},"
				    "\"malformed\":4,\"malformed_lines\":[5000,10000,15000,20000]"));
	assert_non_null(strstr(buf, "\"seq_gaps\":0,\"seq_missing\":0,\"seq_backwards\":0,"));
	c.canaries = NULL;
	c.n_canaries = 0;
	c.replay = NULL;
	config_free(&c);
	unlink(outp);
	unlink(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_mapping),
		cmocka_unit_test(test_raw_bytes_win),
		cmocka_unit_test(test_malformed_table),
		cmocka_unit_test(test_hostile_nesting),
		cmocka_unit_test(test_summary_counts),
		cmocka_unit_test(test_events_through_policy),
		cmocka_unit_test(test_process_table_bounded),
		cmocka_unit_test(test_sweep_spec),
		cmocka_unit_test(test_sweep_run),
		cmocka_unit_test(test_runs_and_clock),
		cmocka_unit_test(test_parser_edges),
		cmocka_unit_test(test_strict_json),
		cmocka_unit_test(test_run_many_batches),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
