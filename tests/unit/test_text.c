/*
 * test_text.c - text.c, the --format text renderer: name escaping (a table of named cases,
 * and a property over pseudo-random bytes: no control byte, no invalid UTF-8, no hidden
 * code point ever comes out), and every record kind's whole line, plain and coloured.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compat.h"
#include "text.h"

#define BYTES(s) (s), (sizeof(s) - 1)
#define TS 1700000000123ull	/* 2023-11-14 22:13:20.123 UTC */

static const struct text_style plain = { .color = false, .utc_off_s = 0 };
static const struct text_style color = { .color = true, .utc_off_s = 0 };

/* out's bytes as a NUL-terminated string (freed by the caller). */
static char *str(const struct buf *b)
{
	char *s = malloc(b->len + 1);

	assert_non_null(s);
	if (b->len)
		memcpy(s, b->data, b->len); /* an empty buf may have no data at all */
	s[b->len] = '\0';
	return s;
}

static void expect_escape(const char *in, size_t len, const char *want)
{
	struct buf b = { 0 };
	char *got;

	assert_int_equal(text_escape(&b, in, len), 0);
	got = str(&b);
	assert_string_equal(got, want);
	free(got);
	buf_free(&b);
}

static void test_escape_table(void **state)
{
	static const struct {
		const char *name, *in;
		size_t len;
		const char *want;
	} cases[] = {
		{ "plain ASCII", BYTES("/w/file.txt"), "/w/file.txt" },
		{ "empty", BYTES(""), "" },
		{ "newline", BYTES("a\nb"), "a\\nb" },
		{ "tab and CR", BYTES("\t\r"), "\\t\\r" },
		{ "backslash doubled", BYTES("a\\nb"), "a\\\\nb" },
		{ "ESC sequence", BYTES("x\033[31mred"), "x\\x1b[31mred" },
		{ "BEL and DEL", BYTES("\a\x7f"), "\\x07\\x7f" },
		{ "C0 0x01 and 0x1f", BYTES("\x01\x1f"), "\\x01\\x1f" },
		{ "invalid 0xff", BYTES("ff\xff"), "ff\\xff" },
		{ "lone continuation", BYTES("\x80"), "\\x80" },
		{ "truncated 3-byte", BYTES("t\xe6\x97"), "t\\xe6\\x97" },
		{ "overlong slash", BYTES("\xc0\xaf"), "\\xc0\\xaf" },
		{ "UTF-8 surrogate", BYTES("\xed\xa0\x80"), "\\xed\\xa0\\x80" },
		{ "above U+10FFFF", BYTES("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80" },
		{ "5-byte form", BYTES("\xf8\x88\x80\x80\x80"), "\\xf8\\x88\\x80\\x80\\x80" },
		{ "valid multibyte kept", BYTES("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80"),
		  "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80" },
		{ "mixed valid and invalid", BYTES("\xc3\xa9\xff\xe6\x97\xa5"),
		  "\xc3\xa9\\xff\xe6\x97\xa5" },
		{ "C1 CSI U+009B", BYTES("a\xc2\x9b" "31m"), "a\\u009b31m" },
		{ "C1 U+0080", BYTES("\xc2\x80"), "\\u0080" },
		{ "NBSP kept", BYTES("\xc2\xa0"), "\xc2\xa0" },
		{ "bidi override U+202E", BYTES("exe\xe2\x80\xae" "fdp.txt"),
		  "exe\\u202efdp.txt" },
		{ "bidi isolate U+2066", BYTES("\xe2\x81\xa6"), "\\u2066" },
		{ "line separator U+2028 kept", BYTES("\xe2\x80\xa8"), "\xe2\x80\xa8" },
		{ "NUL byte", BYTES("a\0b"), "a\\x00b" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case: %s\n", cases[i].name);
		expect_escape(cases[i].in, cases[i].len, cases[i].want);
	}
}

/* Valid UTF-8 without control characters or hidden code points: what a terminal shows. */
static void assert_inert(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t len;

		if (c < 0x80) {
			assert_true(c >= 0x20 && c != 0x7f);
			i++;
			continue;
		}
		len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
		assert_true(len && i + len <= n);
		cp = c & (0x7f >> len);
		for (size_t k = 1; k < len; k++) {
			assert_int_equal(s[i + k] & 0xc0, 0x80);
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		assert_true(cp >= (len == 2 ? 0x80u : len == 3 ? 0x800u : 0x10000u));
		assert_true(cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff));
		assert_false(cp <= 0x9f);
		assert_false(cp >= 0x202a && cp <= 0x202e);
		assert_false(cp >= 0x2066 && cp <= 0x2069);
		i += len;
	}
}

static void test_escape_random_inert(void **state)
{
	uint32_t x = 12345;
	unsigned char in[64];
	struct buf b = { 0 };

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t n = round % sizeof(in);

		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			/* Bias towards the interesting bytes: controls and UTF-8 lead bytes. */
			in[i] = (unsigned char)(x >> 16);
			if ((x >> 8) % 4 == 0)
				in[i] = (unsigned char)("\x1b\n\x80\xc2\xe2\xf0\x9b\xae"[(x >> 4) % 8]);
		}
		b.len = 0;
		assert_int_equal(text_escape(&b, (const char *)in, n), 0);
		assert_inert((const unsigned char *)b.data, b.len);
	}
	buf_free(&b);
}

/* The whole line one render call gives. */
static void expect_line(struct buf *b, int r, const char *want)
{
	char *got;

	assert_int_equal(r, 0);
	got = str(b);
	assert_string_equal(got, want);
	free(got);
	b->len = 0;
}

static void test_event_lines(void **state)
{
	struct buf b = { 0 };
	struct record_event ev = {
		.ts_ms = TS,
		.mask = FAN_OPEN | FAN_CLOSE_WRITE,
		.verdict = VERDICT_OBSERVE,
		.proc = { .pid = 42, .comm = "cat" },
		.path = "/w/a",
	};

	(void)state;
	expect_line(&b, text_event(&b, &ev, &plain), "22:13:20.123 CLOSE_WRITE,OPEN cat[42] /w/a\n");
	ev.job_id = "build";
	ev.path_role = "workspace";
	expect_line(&b, text_event(&b, &ev, &plain),
		    "22:13:20.123 CLOSE_WRITE,OPEN cat[42] /w/a job=build:workspace\n");
	ev.job_id = NULL;
	ev.mask = FAN_RENAME;
	ev.is_rename = true;
	ev.old_path = "/w/old\nname";
	ev.path = "/w/new";
	expect_line(&b, text_event(&b, &ev, &plain),
		    "22:13:20.123 RENAME cat[42] /w/old\\nname -> /w/new\n");
	ev.is_rename = false;
	ev.mask = FAN_OPEN_PERM;
	ev.verdict = VERDICT_DENY;
	ev.reason = "canary";
	ev.path = "/w/c";
	expect_line(&b, text_event(&b, &ev, &plain),
		    "22:13:20.123 DENY OPEN_PERM cat[42] /w/c (canary)\n");
	expect_line(&b, text_event(&b, &ev, &color),
		    "\033[1;33m22:13:20.123 DENY OPEN_PERM cat[42] /w/c (canary)\033[0m\n");
	ev.verdict = VERDICT_ALLOW;
	expect_line(&b, text_event(&b, &ev, &color),
		    "22:13:20.123 OPEN_PERM cat[42] /w/c\n");
	ev.verdict = VERDICT_OBSERVE;
	ev.proc.comm = NULL;
	ev.path = NULL;
	ev.mask = FAN_DELETE;
	expect_line(&b, text_event(&b, &ev, &plain), "22:13:20.123 DELETE ?[42] ?\n");
	ev.proc.comm = "evil\033]0;t\a";
	ev.path = "/w/x";
	expect_line(&b, text_event(&b, &ev, &plain),
		    "22:13:20.123 DELETE evil\\x1b]0;t\\x07[42] /w/x\n");
	buf_free(&b);
}

static void test_time_offset(void **state)
{
	struct text_style st = { .utc_off_s = 2 * 3600 };
	struct record_event ev = { .ts_ms = TS, .mask = FAN_OPEN, .proc = { .pid = 1, .comm = "a" },
				   .path = "/p" };
	struct buf b = { 0 };

	(void)state;
	expect_line(&b, text_event(&b, &ev, &st), "00:13:20.123 OPEN a[1] /p\n");
	st.utc_off_s = -23 * 3600;
	expect_line(&b, text_event(&b, &ev, &st), "23:13:20.123 OPEN a[1] /p\n");
	buf_free(&b);
}

static void test_alert_lines(void **state)
{
	struct proc_info pi = { .pid = 7, .comm = "sh" };
	struct alert a = { .kind = ALERT_CANARY, .pid = 7, .path = "/w/canary", .reason = "canary",
			   .ts_ms = TS, .proc = &pi, .job_id = "j1" };
	struct buf b = { 0 };

	(void)state;
	expect_line(&b, text_alert(&b, &a, &plain),
		    "22:13:20.123 ALERT canary sh[7] /w/canary job=j1\n");
	expect_line(&b, text_alert(&b, &a, &color),
		    "\033[31m22:13:20.123 ALERT canary sh[7] /w/canary job=j1\033[0m\n");
	a.kind = ALERT_BURST;
	a.job_id = NULL;
	a.count = 50;
	a.window_ms = 1000;
	a.path = "/w/f";
	expect_line(&b, text_alert(&b, &a, &plain),
		    "22:13:20.123 ALERT burst sh[7] /w/f 50 in 1000ms\n");
	/* Counted for the process: said by nothing more; for a wider scope, by what. */
	a.scope = "process";
	a.scope_id = 7;
	expect_line(&b, text_alert(&b, &a, &plain),
		    "22:13:20.123 ALERT burst sh[7] /w/f 50 in 1000ms\n");
	a.scope = "session";
	a.scope_id = 1234;
	expect_line(&b, text_alert(&b, &a, &plain),
		    "22:13:20.123 ALERT burst sh[7] /w/f 50 in 1000ms by session 1234\n");
	a.scope = "exe";
	a.scope_id_str = "/tmp/x\n";
	expect_line(&b, text_alert(&b, &a, &plain),
		    "22:13:20.123 ALERT burst sh[7] /w/f 50 in 1000ms by exe /tmp/x\\n\n");
	a = (struct alert){ .kind = ALERT_OVERFLOW, .path = "<overflow>", .ts_ms = TS,
			    .reason = "fanotify queue overflowed" };
	expect_line(&b, text_alert(&b, &a, &plain),
		    "22:13:20.123 ALERT overflow <overflow> (fanotify queue overflowed)\n");
	buf_free(&b);
}

static void test_other_lines(void **state)
{
	const char *changed[] = { "canary", "burst_threshold" }, *refused[] = { "perm" };
	struct record_reload rl = { .status = "applied", .changed = changed, .n_changed = 2,
				    .marks_added = 1 };
	struct stats s = { .events = 10, .records = 12, .alerts = 1, .perm_denied = 2,
			   .dropped_records = 3, .spins = 99 };
	struct buf b = { 0 };

	(void)state;
	expect_line(&b, text_dropped(&b, TS, 5, "output queue full", &plain),
		    "22:13:20.123 DROPPED 5 records (output queue full)\n");
	expect_line(&b, text_dropped(&b, TS, 1, NULL, &color),
		    "\033[33m22:13:20.123 DROPPED 1 record\033[0m\n");
	expect_line(&b, text_stats(&b, TS, &s, &plain),
		    "22:13:20.123 STATS events=10 records=12 alerts=1 denied=2 dropped=3\n");
	expect_line(&b, text_reload(&b, TS, &rl, &plain),
		    "22:13:20.123 RELOAD applied changed=canary,burst_threshold marks +1 -0\n");
	rl = (struct record_reload){ .status = "refused", .refused = refused, .n_refused = 1,
				     .error = "x\ny" };
	expect_line(&b, text_reload(&b, TS, &rl, &plain),
		    "22:13:20.123 RELOAD refused refused=perm error: x\\ny\n");
	expect_line(&b, text_start(&b, TS, "host1", "0.1.0", "abc", &plain),
		    "22:13:20.123 START host1 fanotifyd 0.1.0 run=abc\n");
	expect_line(&b, text_stop(&b, TS, "signal", 10, 0, &plain),
		    "22:13:20.123 STOP signal records=10 dropped=0\n");
	expect_line(&b, text_other(&b, 0, false, BYTES("{bad\x1b"), &plain),
		    "??:??:??.??? ? {bad\\x1b\n");
	buf_free(&b);
}

/* A line appends to what the buffer holds and never disturbs it. */
static void test_appends(void **state)
{
	struct buf b = { 0 };
	char *got;

	(void)state;
	assert_int_equal(buf_append(&b, "x", 1), 0);
	assert_int_equal(text_dropped(&b, TS, 2, NULL, &plain), 0);
	got = str(&b);
	assert_string_equal(got, "x22:13:20.123 DROPPED 2 records\n");
	free(got);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_table),
		cmocka_unit_test(test_escape_random_inert),
		cmocka_unit_test(test_event_lines),
		cmocka_unit_test(test_time_offset),
		cmocka_unit_test(test_alert_lines),
		cmocka_unit_test(test_other_lines),
		cmocka_unit_test(test_appends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
