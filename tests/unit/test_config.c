/*
 * test_config.c - unit tests for config.c: config text, command line, config files (temp
 * files under /tmp), events lists, validation, dump round trip, usage text.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* argv for config_parse_args(): ARGV("-w", "/a") -> { "fanotifyd", "-w", "/a", NULL }. */
#define ARGV(...) ((char *[]){ "fanotifyd", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "fanotifyd", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE_ARGS(c, msg, ...) \
	config_parse_args((c), ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (msg), sizeof(msg))
#define FROM_ARGS(c, msg, ...) \
	config_from_args((c), ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (msg), sizeof(msg))

static int parse_str(struct config *c, const char *text, unsigned *line, char *msg, size_t len)
{
	return config_parse_text(c, text, strlen(text), line, msg, len);
}

/* Writes text to a new temp file; returns its malloc'd path. */
static char *temp_file(const char *text, size_t len)
{
	char *path = strdup("/tmp/fanotifyd-test-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	return path;
}

static void remove_temp(char *path)
{
	(void)unlink(path);
	free(path);
}

static void assert_str_or_null(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_config_equal(const struct config *a, const struct config *b)
{
	size_t i;
	int role;

	assert_str_or_null(a->output, b->output);
	assert_str_or_null(a->socket, b->socket);
	assert_str_or_null(a->hook, b->hook);
	assert_str_or_null(a->pid_file, b->pid_file);
	assert_int_equal(a->n_marks, b->n_marks);
	for (i = 0; i < a->n_marks; i++) {
		assert_int_equal(a->marks[i].kind, b->marks[i].kind);
		assert_string_equal(a->marks[i].path, b->marks[i].path);
	}
	assert_int_equal(a->n_canaries, b->n_canaries);
	for (i = 0; i < a->n_canaries; i++)
		assert_string_equal(a->canaries[i], b->canaries[i]);
	assert_int_equal(a->n_jobs, b->n_jobs);
	for (i = 0; i < a->n_jobs; i++) {
		assert_string_equal(a->jobs[i].id, b->jobs[i].id);
		for (role = 0; role < CONFIG_ROLE_COUNT; role++)
			assert_str_or_null(a->jobs[i].root[role], b->jobs[i].root[role]);
		assert_str_or_null(a->jobs[i].cgroup, b->jobs[i].cgroup);
	}
	assert_int_equal(a->burst_threshold, b->burst_threshold);
	assert_int_equal(a->burst_window_ms, b->burst_window_ms);
	assert_int_equal(a->hook_cooldown_ms, b->hook_cooldown_ms);
	assert_int_equal(a->events, b->events);
	assert_int_equal(a->verbose, b->verbose);
	assert_int_equal(a->foreground, b->foreground);
	assert_int_equal(a->perm, b->perm);
	assert_int_equal(a->deny_on_alert, b->deny_on_alert);
	assert_int_equal(a->no_fid, b->no_fid);
	assert_int_equal(a->access_perm, b->access_perm);
	assert_int_equal(a->spin_us, b->spin_us);
	assert_int_equal(a->allow_cache, b->allow_cache);
	assert_int_equal(a->stats_interval_ms, b->stats_interval_ms);
	assert_int_equal(a->socket_mode, b->socket_mode);
	assert_int_equal(a->socket_mode_set, b->socket_mode_set);
	assert_int_equal(a->output_mode, b->output_mode);
	assert_int_equal(a->output_mode_set, b->output_mode_set);
	assert_str_or_null(a->output_group, b->output_group);
	assert_str_or_null(a->socket_group, b->socket_group);
	assert_str_or_null(a->hook_user, b->hook_user);
}

/* ---- init / free ---- */

static void test_init_defaults(void **state)
{
	struct config c;

	(void)state;
	memset(&c, 0xa5, sizeof(c));
	config_init(&c);
	assert_null(c.output);
	assert_null(c.socket);
	assert_null(c.hook);
	assert_null(c.pid_file);
	assert_null(c.config_file);
	assert_null(c.marks);
	assert_int_equal(c.n_marks, 0);
	assert_null(c.canaries);
	assert_int_equal(c.n_canaries, 0);
	assert_null(c.jobs);
	assert_int_equal(c.n_jobs, 0);
	assert_int_equal(c.burst_threshold, 0);
	assert_int_equal(c.burst_window_ms, 1000);
	assert_int_equal(c.hook_cooldown_ms, 5000);
	assert_int_equal(c.events, CONFIG_EV_DEFAULT);
	assert_int_equal(c.verbose, 0);
	assert_false(c.foreground);
	assert_false(c.perm);
	assert_false(c.deny_on_alert);
	assert_false(c.no_fid);
	assert_false(c.access_perm);
	assert_int_equal(c.spin_us, 50);
	assert_int_equal(c.spin_us, CONFIG_SPIN_US_DEFAULT);
	assert_false(c.allow_cache);
	assert_int_equal(c.stats_interval_ms, 0);
	assert_false(c.check_config);
	assert_false(c.help);
	assert_false(c.version);
	config_free(&c);
}

static void test_free_zeroed_and_twice(void **state)
{
	struct config c;
	char msg[256];
	unsigned line = 0;

	(void)state;
	memset(&c, 0, sizeof(c));
	config_free(&c);
	config_free(&c);
	config_free(NULL);

	config_init(&c);
	assert_int_equal(parse_str(&c, "output /o\nwatch /w\ncanary /c\njob j\nrootfs /r\n", &line,
				   msg, sizeof(msg)), 0);
	assert_int_equal(PARSE_ARGS(&c, msg, "-c", "/cfg"), 0);
	config_free(&c);
	assert_null(c.output);
	assert_null(c.marks);
	assert_int_equal(c.n_marks, 0);
	assert_int_equal(c.n_jobs, 0);
	config_free(&c);
}

/* ---- config text: every key ---- */

static void test_every_key(void **state)
{
	static const char text[] =
		"output /var/log/fan/J.jsonl\n"
		"socket /run/fan/J.sock\n"
		"hook /usr/bin/logger -t fan alert\n"
		"pid_file /run/fan.pid\n"
		"watch /w\n"
		"mount /m\n"
		"filesystem /f\n"
		"canary /c/*\n"
		"burst_threshold 32\n"
		"burst_window_ms 250\n"
		"hook_cooldown_ms 0\n"
		"foreground 1\n"
		"perm yes\n"
		"deny_on_alert true\n"
		"no_fid on\n"
		"access_perm 1\n"
		"spin_us 7\n"
		"stats_interval_ms 1500\n"
		"verbose 3\n"
		"events open,modify\n"
		"job J\n"
		"rootfs /run/jobs/J/root\n"
		"workspace /run/jobs/J/workspace\n"
		"export /run/jobs/J/export\n"
		"cache /var/cache/job-platform\n";
	struct config c;
	char msg[256] = "";
	unsigned line = 0;

	(void)state;
	config_init(&c);
	assert_int_equal(parse_str(&c, text, &line, msg, sizeof(msg)), 0);
	assert_string_equal(c.output, "/var/log/fan/J.jsonl");
	assert_string_equal(c.socket, "/run/fan/J.sock");
	assert_string_equal(c.hook, "/usr/bin/logger -t fan alert");
	assert_string_equal(c.pid_file, "/run/fan.pid");
	assert_int_equal(c.n_marks, 3);
	assert_int_equal(c.marks[0].kind, CONFIG_MARK_INODE);
	assert_string_equal(c.marks[0].path, "/w");
	assert_int_equal(c.marks[1].kind, CONFIG_MARK_MOUNT);
	assert_string_equal(c.marks[1].path, "/m");
	assert_int_equal(c.marks[2].kind, CONFIG_MARK_FILESYSTEM);
	assert_string_equal(c.marks[2].path, "/f");
	assert_int_equal(c.n_canaries, 1);
	assert_string_equal(c.canaries[0], "/c/*");
	assert_int_equal(c.burst_threshold, 32);
	assert_int_equal(c.burst_window_ms, 250);
	assert_int_equal(c.hook_cooldown_ms, 0);
	assert_true(c.foreground);
	assert_true(c.perm);
	assert_true(c.deny_on_alert);
	assert_true(c.no_fid);
	assert_true(c.access_perm);
	assert_int_equal(c.spin_us, 7);
	assert_int_equal(c.stats_interval_ms, 1500);
	assert_false(c.allow_cache);
	assert_int_equal(c.verbose, 3);
	assert_int_equal(c.events, FAN_OPEN | FAN_MODIFY);
	assert_int_equal(c.n_jobs, 1);
	assert_string_equal(c.jobs[0].id, "J");
	assert_string_equal(c.jobs[0].root[CONFIG_ROLE_ROOTFS], "/run/jobs/J/root");
	assert_string_equal(c.jobs[0].root[CONFIG_ROLE_WORKSPACE], "/run/jobs/J/workspace");
	assert_string_equal(c.jobs[0].root[CONFIG_ROLE_EXPORT], "/run/jobs/J/export");
	assert_string_equal(c.jobs[0].root[CONFIG_ROLE_CACHE], "/var/cache/job-platform");
	assert_null(c.config_file);
	assert_false(c.check_config);
	assert_false(c.help);
	assert_false(c.version);
	assert_int_equal(config_validate(&c, msg, sizeof(msg)), 0);
	config_free(&c);
}

/* The spec's example config, verbatim. */
static void test_spec_example(void **state)
{
	static const char text[] =
		"output /var/log/fanotifyd/J.jsonl\n"
		"socket /run/fanotifyd/J.sock\n"
		"foreground 1\n"
		"perm 1\n"
		"deny_on_alert 1\n"
		"burst_threshold 32\n"
		"burst_window_ms 1000\n"
		"hook_cooldown_ms 5000\n"
		"\n"
		"job J\n"
		"rootfs /run/jobs/J/root\n"
		"workspace /run/jobs/J/workspace\n"
		"export /run/jobs/J/export\n"
		"cache /var/cache/job-platform\n"
		"\n"
		"mount /run/jobs/J/root\n"
		"mount /run/jobs/J/workspace\n"
		"mount /run/jobs/J/export\n"
		"mount /var/cache/job-platform\n"
		"canary /run/jobs/J/root/etc/shadow\n";
	struct config c;
	char msg[256] = "";
	unsigned line = 0;

	(void)state;
	config_init(&c);
	assert_int_equal(parse_str(&c, text, &line, msg, sizeof(msg)), 0);
	assert_int_equal(c.n_marks, 4);
	assert_int_equal(c.marks[3].kind, CONFIG_MARK_MOUNT);
	assert_string_equal(c.marks[3].path, "/var/cache/job-platform");
	assert_int_equal(c.n_jobs, 1);
	assert_string_equal(c.jobs[0].root[CONFIG_ROLE_CACHE], "/var/cache/job-platform");
	assert_int_equal(c.n_canaries, 1);
	assert_true(c.perm && c.deny_on_alert && c.foreground);
	assert_int_equal(config_validate(&c, msg, sizeof(msg)), 0);
	config_free(&c);
}

struct bool_case {
	const char *word;
	bool value;
};

static void test_bool_words(void **state)
{
	static const struct bool_case cases[] = {
		{ "1", true }, { "0", false }, { "yes", true }, { "no", false },
		{ "true", true }, { "false", false }, { "on", true }, { "off", false },
		{ "YES", true }, { "No", false }, { "TrUe", true }, { "FALSE", false },
		{ "ON", true }, { "Off", false },
	};
	static const char *const bool_keys[] = {
		"foreground", "perm", "deny_on_alert", "no_fid", "access_perm", "allow_cache",
	};
	size_t i, k;

	(void)state;
	for (k = 0; k < ARRAY_SIZE(bool_keys); k++) {
		for (i = 0; i < ARRAY_SIZE(cases); i++) {
			struct config c;
			char text[64], msg[256] = "";
			unsigned line = 0;
			bool *field;

			config_init(&c);
			/* Start from the opposite so that a no-op fails the test. */
			c.foreground = c.perm = c.deny_on_alert = c.no_fid = c.access_perm =
				c.allow_cache = !cases[i].value;
			snprintf(text, sizeof(text), "%s %s\n", bool_keys[k], cases[i].word);
			assert_int_equal(parse_str(&c, text, &line, msg, sizeof(msg)), 0);
			field = k == 0 ? &c.foreground : k == 1 ? &c.perm : k == 2 ?
				&c.deny_on_alert : k == 3 ? &c.no_fid : k == 4 ? &c.access_perm :
				&c.allow_cache;
			if (*field != cases[i].value)
				fail_msg("'%s' parsed as %d", text, *field);
			config_free(&c);
		}
	}
}

/* format: the config key and --format, each value; anything else refused by name. */
static void test_format(void **state)
{
	static const struct {
		const char *name, *text;
		int ret;
		enum config_format want;
		const char *msg;
	} cases[] = {
		{ "default", "", 0, CONFIG_FORMAT_JSONL, "" },
		{ "text", "format text\n", 0, CONFIG_FORMAT_TEXT, "" },
		{ "jsonl", "format text\nformat jsonl\n", 0, CONFIG_FORMAT_JSONL, "" },
		{ "with '='", "format = text\n", 0, CONFIG_FORMAT_TEXT, "" },
		{ "unknown", "format xml\n", -EINVAL, CONFIG_FORMAT_JSONL,
		  "format: unknown format 'xml' (jsonl or text)" },
		{ "case matters", "format TEXT\n", -EINVAL, CONFIG_FORMAT_JSONL,
		  "format: unknown format 'TEXT' (jsonl or text)" },
		{ "extra value", "format text json\n", -EINVAL, CONFIG_FORMAT_JSONL,
		  "format: unexpected extra value 'json'" },
	};
	char msg[256];
	struct config c;
	unsigned line;
	char *dump;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		print_message("case: %s\n", cases[i].name);
		config_init(&c);
		msg[0] = '\0';
		assert_int_equal(parse_str(&c, cases[i].text, &line, msg, sizeof(msg)),
				 cases[i].ret);
		assert_string_equal(msg, cases[i].msg);
		if (cases[i].ret == 0)
			assert_int_equal(c.format, cases[i].want);
		config_free(&c);
	}
	config_init(&c);
	assert_int_equal(PARSE_ARGS(&c, msg, "--format", "text", "-w", "/a"), 0);
	assert_int_equal(c.format, CONFIG_FORMAT_TEXT);
	dump = config_dump(&c);
	assert_non_null(dump);
	assert_non_null(strstr(dump, "\nformat text\n"));
	free(dump);
	assert_int_equal(PARSE_ARGS(&c, msg, "--format", "yaml"), -EINVAL);
	assert_non_null(strstr(msg, "--format: unknown format 'yaml'"));
	config_free(&c);
	assert_string_equal(config_format_name(CONFIG_FORMAT_TEXT), "text");
	assert_string_equal(config_format_name(CONFIG_FORMAT_JSONL), "jsonl");
}

struct num_case {
	const char *text;
	size_t off;
	unsigned value;
};

static void test_numbers_ok(void **state)
{
	static const struct num_case cases[] = {
		{ "burst_threshold 0", offsetof(struct config, burst_threshold), 0 },
		{ "burst_threshold 4096", offsetof(struct config, burst_threshold), 4096 },
		{ "burst_threshold 007", offsetof(struct config, burst_threshold), 7 },
		{ "burst_window_ms 1", offsetof(struct config, burst_window_ms), 1 },
		{ "burst_window_ms 86400000", offsetof(struct config, burst_window_ms), 86400000 },
		{ "hook_cooldown_ms 0", offsetof(struct config, hook_cooldown_ms), 0 },
		{ "hook_cooldown_ms 86400000", offsetof(struct config, hook_cooldown_ms),
		  86400000 },
		{ "spin_us 0", offsetof(struct config, spin_us), 0 },
		{ "spin_us 1000", offsetof(struct config, spin_us), 1000 },
		{ "spin_us 050", offsetof(struct config, spin_us), 50 },
		{ "stats_interval_ms 0", offsetof(struct config, stats_interval_ms), 0 },
		{ "stats_interval_ms 86400000", offsetof(struct config, stats_interval_ms),
		  86400000 },
		{ "verbose 0", offsetof(struct config, verbose), 0 },
		{ "verbose 9", offsetof(struct config, verbose), 9 },
		{ "verbose\t5  ", offsetof(struct config, verbose), 5 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct config c;
		char msg[256] = "";
		unsigned line = 0;

		config_init(&c);
		c.verbose = 4;
		if (parse_str(&c, cases[i].text, &line, msg, sizeof(msg)) != 0)
			fail_msg("'%s': %s", cases[i].text, msg);
		assert_int_equal(*(unsigned *)((char *)&c + cases[i].off), cases[i].value);
		config_free(&c);
	}
}

/* ---- config text: errors, each with its line and message ---- */

struct text_error {
	const char *name;
	const char *text;
	unsigned line;
	const char *msg;	/* expected message, exactly */
};

static const struct text_error text_errors[] = {
	{ "unknown key", "output /x\nbogus 1\n", 2, "unknown key 'bogus'" },
	{ "unknown key alone", "\n\n\nfoo\n", 4, "unknown key 'foo'" },
	{ "key is case-sensitive", "Output /x\n", 1, "unknown key 'Output' (did you mean output?)" },
	{ "command-only key config", "config /etc/x\n", 1,
	  "unknown key 'config' (--config is a command-line option only)" },
	{ "command-only key help", "help 1\n", 1,
	  "unknown key 'help' (--help is a command-line option only)" },
	{ "command-only key version", "version 1\n", 1,
	  "unknown key 'version' (--version is a command-line option only)" },
	{ "command-only key check_config", "check_config 1\n", 1,
	  "unknown key 'check_config' (--check-config is a command-line option only)" },
	{ "command-only key subscribe", "subscribe /run/s.sock\n", 1,
	  "unknown key 'subscribe' (--subscribe is a command-line option only)" },
	{ "command-only key check-config dashed", "check-config 1\n", 1,
	  "unknown key 'check-config' (--check-config is a command-line option only)" },
	{ "dashes are not keys", "pid-file /x\n", 1, "unknown key 'pid-file' (did you mean pid_file?)" },
	{ "dashed burst-threshold", "burst-threshold 3\n", 1,
	  "unknown key 'burst-threshold' (did you mean burst_threshold?)" },
	{ "dashed with '='", "hook-cooldown-ms = 10\n", 1,
	  "unknown key 'hook-cooldown-ms' (did you mean hook_cooldown_ms?)" },
	{ "upper case", "BURST_THRESHOLD 3\n", 1,
	  "unknown key 'BURST_THRESHOLD' (did you mean burst_threshold?)" },
	{ "one letter missing", "burst_treshold 3\n", 1,
	  "unknown key 'burst_treshold' (did you mean burst_threshold?)" },
	{ "one letter extra", "hooks_max 2\n", 1, "unknown key 'hooks_max' (did you mean hook_max?)" },
	{ "two letters swapped", "prem 1\n", 1, "unknown key 'prem' (did you mean perm?)" },
	{ "two edits", "sokcet_grup adm\n", 1,
	  "unknown key 'sokcet_grup' (did you mean socket_group?)" },
	{ "three edits: no guess", "brust_treshhold 3\n", 1, "unknown key 'brust_treshhold'" },
	{ "short and two edits: no guess", "prom 1\n", 1, "unknown key 'prom'" },
	{ "nothing near", "xyzzy 1\n", 1, "unknown key 'xyzzy'" },
	{ "hash glued to key", "watch#x /a\n", 1, "unknown key 'watch#x' (did you mean watch?)" },
	{ "no key before '='", "= /x\n", 1, "no key before '='" },
	{ "no key before '=' indented", "  =x\n", 1, "no key before '='" },
	{ "doubled '='", "output == /var/log/x\n", 1,
	  "output: a value cannot start with '=' (one '=' may stand between key and value): "
	  "'= /var/log/x'" },
	{ "'=' twice spaced", "canary = = /srv/x/canary\n", 1,
	  "canary: a value cannot start with '=' (one '=' may stand between key and value): "
	  "'= /srv/x/canary'" },
	{ "hook with '=' value", "hook = =x\n", 1,
	  "hook: a value cannot start with '=' (one '=' may stand between key and value): '=x'" },
	{ "'=' and no value", "output =\n", 1, "output: missing value" },
	{ "'=' glued, no value", "canary=\n", 1, "canary: missing value" },
	{ "'=' then a comment", "perm = # yes\n", 1, "perm: missing value" },
	{ "'=' glued then a comment", "perm=#yes\n", 1, "perm: missing value" },
	{ "'=' bad boolean", "perm = maybe\n", 1,
	  "perm: 'maybe' is not a boolean (use 0/1, yes/no, true/false, on/off)" },
	{ "'=' extra value", "burst_threshold = 5 6\n", 1,
	  "burst_threshold: unexpected extra value '6'" },
	{ "'=' relative canary", "canary = srv/x\n", 1,
	  "canary: 'srv/x' is not an absolute path pattern (start it with '/')" },
	{ "missing string", "\n\noutput\n", 3, "output: missing value" },
	{ "missing string blanks", "socket \t \n", 1, "socket: missing value" },
	{ "missing hook", "hook\n", 1, "hook: missing value" },
	{ "missing watch", "# c\nwatch\n", 2, "watch: missing value" },
	{ "missing mount", "mount   # nothing\n", 1, "mount: missing value" },
	{ "missing filesystem", "filesystem\n", 1, "filesystem: missing value" },
	{ "missing canary", "canary\n", 1, "canary: missing value" },
	{ "missing pid_file", "pid_file\n", 1, "pid_file: missing value" },
	{ "missing bool", "watch /a\nperm\n", 2, "perm: missing value" },
	{ "missing bool comment", "foreground # yes\n", 1, "foreground: missing value" },
	{ "missing deny_on_alert", "deny_on_alert\n", 1, "deny_on_alert: missing value" },
	{ "missing no_fid", "no_fid\n", 1, "no_fid: missing value" },
	{ "missing access_perm", "access_perm\n", 1, "access_perm: missing value" },
	{ "missing number", "burst_threshold\n", 1, "burst_threshold: missing value" },
	{ "missing verbose", "verbose\n", 1, "verbose: missing value" },
	{ "missing events", "events\n", 1, "events: missing value" },
	{ "missing job", "job\n", 1, "job: missing value" },
	{ "missing rootfs", "job j\nrootfs\n", 2, "rootfs: missing value" },
	{ "bad bool", "perm maybe\n", 1,
	  "perm: 'maybe' is not a boolean (use 0/1, yes/no, true/false, on/off)" },
	{ "bool 2", "foreground 2\n", 1,
	  "foreground: '2' is not a boolean (use 0/1, yes/no, true/false, on/off)" },
	{ "bool extra", "perm 1 1\n", 1, "perm: unexpected extra value '1'" },
	{ "number extra", "burst_threshold 3 4\n", 1,
	  "burst_threshold: unexpected extra value '4'" },
	{ "number extra tab", "burst_window_ms 3\t\t4 5\n", 1,
	  "burst_window_ms: unexpected extra value '4 5'" },
	{ "number letters", "burst_threshold abc\n", 1,
	  "burst_threshold: 'abc' is not a number" },
	{ "number suffix", "burst_threshold 3x\n", 1, "burst_threshold: '3x' is not a number" },
	{ "number negative", "hook_cooldown_ms -1\n", 1,
	  "hook_cooldown_ms: '-1' is not a number" },
	{ "number plus", "burst_threshold +3\n", 1, "burst_threshold: '+3' is not a number" },
	{ "number hex", "burst_threshold 0x10\n", 1,
	  "burst_threshold: '0x10' is not a number" },
	{ "number float", "burst_window_ms 1.5\n", 1,
	  "burst_window_ms: '1.5' is not a number" },
	{ "number overflow", "burst_threshold 99999999999999999999999\n", 1,
	  "burst_threshold: 99999999999999999999999 is out of range (0-4096)" },
	{ "number 2^32", "hook_cooldown_ms 4294967296\n", 1,
	  "hook_cooldown_ms: 4294967296 is out of range (0-86400000)" },
	{ "threshold range", "burst_threshold 4097\n", 1,
	  "burst_threshold: 4097 is out of range (0-4096)" },
	{ "window zero", "burst_window_ms 0\n", 1,
	  "burst_window_ms: 0 is out of range (1-86400000)" },
	{ "window range", "burst_window_ms 86400001\n", 1,
	  "burst_window_ms: 86400001 is out of range (1-86400000)" },
	{ "cooldown range", "hook_cooldown_ms 86400001\n", 1,
	  "hook_cooldown_ms: 86400001 is out of range (0-86400000)" },
	{ "spin_us range", "spin_us 1001\n", 1, "spin_us: 1001 is out of range (0-1000)" },
	{ "spin_us negative", "spin_us -1\n", 1, "spin_us: '-1' is not a number" },
	{ "stats_interval_ms range", "stats_interval_ms 86400001\n", 1,
	  "stats_interval_ms: 86400001 is out of range (0-86400000)" },
	{ "missing spin_us", "perm 1\nspin_us\n", 2, "spin_us: missing value" },
	{ "spin_us extra", "spin_us 5 us\n", 1, "spin_us: unexpected extra value 'us'" },
	{ "missing allow_cache", "allow_cache # on\n", 1, "allow_cache: missing value" },
	{ "bad allow_cache", "allow_cache sometimes\n", 1,
	  "allow_cache: 'sometimes' is not a boolean (use 0/1, yes/no, true/false, on/off)" },
	{ "allow-cache with a dash", "allow-cache 1\n", 1,
	  "unknown key 'allow-cache' (did you mean allow_cache?)" },
	{ "verbose range", "verbose 10\n", 1, "verbose: '10' is not a number from 0 to 9" },
	{ "verbose word", "verbose high\n", 1, "verbose: 'high' is not a number from 0 to 9" },
	{ "events unknown", "events open,bogus\n", 1,
	  "events: unknown event 'bogus' (see --help for the names)" },
	{ "events empty item", "events open,,modify\n", 1,
	  "events: empty item in 'open,,modify'" },
	{ "events trailing comma", "events open,\n", 1, "events: empty item in 'open,'" },
	{ "events spaced", "events open, modify\n", 1, "events: unexpected extra value 'modify'" },
	{ "role before job", "rootfs /r\n", 1,
	  "rootfs: no job to belong to; put 'job NAME' before it" },
	{ "workspace before job", "watch /a\n\nworkspace /w\njob j\n", 3,
	  "workspace: no job to belong to; put 'job NAME' before it" },
	{ "export before job", "export /e\n", 1,
	  "export: no job to belong to; put 'job NAME' before it" },
	{ "cache before job", "cache /c\n", 1,
	  "cache: no job to belong to; put 'job NAME' before it" },
	{ "role twice", "job a\nrootfs /r\nworkspace /w\nrootfs /r2\n", 4,
	  "rootfs: given twice for job 'a'" },
	{ "role twice later job", "job a\ncache /c\njob b\ncache /c\ncache /d\n", 5,
	  "cache: given twice for job 'b'" },
	{ "duplicate job", "job a\nrootfs /r\njob b\njob a\n", 4, "job: 'a' defined twice" },
	{ "job name slash", "job a/b\n", 1,
	  "job: invalid name 'a/b': use 1-64 of A-Z a-z 0-9 . _ -" },
	{ "job name utf8", "job caf\xc3\xa9\n", 1,
	  "job: invalid name 'caf\xc3\xa9': use 1-64 of A-Z a-z 0-9 . _ -" },
	{ "job name too long",
	  "job 12345678901234567890123456789012345678901234567890123456789012345\n", 1,
	  "job: invalid name '12345678901234567890123456789012345678901234567890123456789012345'"
	  ": use 1-64 of A-Z a-z 0-9 . _ -" },
	{ "job name two words", "job a b\n", 1, "job: unexpected extra value 'b'" },
	{ "relative canary", "watch /a\ncanary w/secret\n", 2,
	  "canary: 'w/secret' is not an absolute path pattern (start it with '/')" },
	{ "canary glob without a directory", "canary *.key\n", 1,
	  "canary: '*.key' is not an absolute path pattern (start it with '/')" },
	{ "relative rootfs", "job j\nrootfs rel/dir\n", 2, "rootfs: 'rel/dir' is not an absolute path" },
	{ "relative cache", "job j\ncache ./c\n", 2, "cache: './c' is not an absolute path" },
	{ "cgroup before job", "cgroup /jobs.slice/j.scope\n", 1,
	  "cgroup: no job to belong to; put 'job NAME' before it" },
	{ "cgroup twice", "job j\ncgroup /a\ncgroup /b\n", 3, "cgroup: given twice for job 'j'" },
	{ "relative cgroup", "job j\ncgroup jobs.slice/j.scope\n", 2,
	  "cgroup: 'jobs.slice/j.scope' is not an absolute cgroup path (as /proc/PID/cgroup "
	  "shows: /jobs.slice/J.scope)" },
	{ "root cgroup", "job j\ncgroup /\n", 2,
	  "cgroup: '/' is the root cgroup, which holds every process" },
	{ "cgroup with a trailing slash", "job j\ncgroup /jobs.slice/\n", 2,
	  "cgroup: '/jobs.slice/' has an empty component ('//' or a trailing '/')" },
	{ "cgroup with //", "job j\ncgroup /jobs.slice//j\n", 2,
	  "cgroup: '/jobs.slice//j' has an empty component ('//' or a trailing '/')" },
	{ "cgroup with ..", "job j\ncgroup /jobs.slice/../j\n", 2,
	  "cgroup: '/jobs.slice/../j' has a '.' or '..' component" },
	{ "cgroup with .", "job j\ncgroup /./j\n", 2, "cgroup: '/./j' has a '.' or '..' component" },
	{ "cgroup name too long", "job j\ncgroup /a/"
	  "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345\n", 2,
	  "cgroup: '/a/"
	  "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234' has a component longer "
	  "than 255 bytes" },
	{ "error after CRLF lines", "watch /a\r\nperm\r\n", 2, "perm: missing value" },
	/* Found by fuzz_config: config_dump() could not write such a value back. */
	{ "CR inside hook value", "watch /a\nhook  ache \r\r  ?\n", 2,
	  "CR byte in line (allowed only just before the newline)" },
	{ "CR CR LF", "watch /a\r\r\n", 1,
	  "CR byte in line (allowed only just before the newline)" },
	{ "CR in comment", "# old\rmac\n", 1,
	  "CR byte in line (allowed only just before the newline)" },
	{ "error on last line without newline", "watch /a\nnope", 2, "unknown key 'nope'" },
};

static void test_text_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(text_errors); i++) {
		const struct text_error *t = &text_errors[i];
		struct config c;
		char msg[256] = "";
		unsigned line = 0;
		int r;

		config_init(&c);
		r = parse_str(&c, t->text, &line, msg, sizeof(msg));
		if (r != -EINVAL)
			fail_msg("%s: returned %d, want -EINVAL", t->name, r);
		if (line != t->line)
			fail_msg("%s: line %u, want %u", t->name, line, t->line);
		if (strcmp(msg, t->msg) != 0)
			fail_msg("%s: message '%s', want '%s'", t->name, msg, t->msg);
		config_free(&c);
	}
}

static void test_nul_byte(void **state)
{
	static const char text[] = "watch /a\nwat\0ch /b\nwatch /c\n";
	struct config c;
	char msg[256] = "";
	unsigned line = 0;

	(void)state;
	config_init(&c);
	assert_int_equal(config_parse_text(&c, text, sizeof(text) - 1, &line, msg, sizeof(msg)),
			 -EINVAL);
	assert_int_equal(line, 2);
	assert_string_equal(msg, "NUL byte in line");
	config_free(&c);

	/* A NUL in a comment is an error too, and so is a trailing one. */
	config_init(&c);
	assert_int_equal(config_parse_text(&c, "# x\0y\n", 6, &line, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(line, 1);
	assert_int_equal(config_parse_text(&c, "watch /a\n\n\0", 11, &line, msg, sizeof(msg)),
			 -EINVAL);
	assert_int_equal(line, 3);
	config_free(&c);
}

static void test_line_max(void **state)
{
	char *text = malloc(CONFIG_LINE_MAX + 64);
	struct config c;
	char msg[256] = "";
	unsigned line = 0;
	size_t n;

	(void)state;
	assert_non_null(text);

	/* "watch /" + path: exactly CONFIG_LINE_MAX bytes without the line ending. */
	n = (size_t)snprintf(text, 64, "# one\nwatch /");
	memset(text + n, 'a', CONFIG_LINE_MAX - strlen("watch /"));
	n += CONFIG_LINE_MAX - strlen("watch /");
	memcpy(text + n, "\r\n", 2);	/* the \r does not count */
	n += 2;
	config_init(&c);
	assert_int_equal(config_parse_text(&c, text, n, &line, msg, sizeof(msg)), 0);
	assert_int_equal(c.n_marks, 1);
	assert_int_equal(strlen(c.marks[0].path), CONFIG_LINE_MAX - strlen("watch "));
	config_free(&c);

	/* One byte more. */
	text[n - 2] = 'a';
	text[n - 1] = '\n';
	config_init(&c);
	assert_int_equal(config_parse_text(&c, text, n, &line, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(line, 2);
	assert_string_equal(msg, "line too long (more than 4096 bytes)");
	assert_int_equal(c.n_marks, 0);
	config_free(&c);

	/* A too-long comment line is an error as well. */
	memset(text, '#', CONFIG_LINE_MAX + 1);
	config_init(&c);
	assert_int_equal(config_parse_text(&c, text, CONFIG_LINE_MAX + 1, &line, msg,
					   sizeof(msg)), -EINVAL);
	assert_int_equal(line, 1);
	config_free(&c);
	free(text);
}

static void test_comments_blanks_crlf(void **state)
{
	static const char text[] =
		"# a comment\n"
		"\n"
		"   \n"
		"\t# indented comment\n"
		"\r\n"
		"watch /a # trailing comment\n"
		"watch /b#not-a-comment\r\n"
		"watch   /with inner  spaces  \t\n"
		"watch\t/tab\t#\tcomment\n"
		"canary /tmp/x#1\n"
		"canary /tmp/y\t#2\n"
		"hook echo a # b\r\n"
		"output /o#o # c\n"
		"  perm   1   # indented key\n"
		"burst_threshold 5#\n";
	struct config c;
	char msg[256] = "";
	unsigned line = 0;

	(void)state;
	config_init(&c);
	assert_int_equal(parse_str(&c, "burst_threshold 5\n", &line, msg, sizeof(msg)), 0);
	config_free(&c);

	/* "5#" is one word: the '#' does not follow a blank, so it is not a number. */
	config_init(&c);
	assert_int_equal(parse_str(&c, text, &line, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(line, 15);
	assert_string_equal(msg, "burst_threshold: '5#' is not a number");
	config_free(&c);

	config_init(&c);
	assert_int_equal(config_parse_text(&c, text, strlen(text) - strlen("burst_threshold 5#\n"),
					   &line, msg, sizeof(msg)), 0);
	assert_int_equal(c.n_marks, 4);
	assert_string_equal(c.marks[0].path, "/a");
	assert_string_equal(c.marks[1].path, "/b#not-a-comment");
	assert_string_equal(c.marks[2].path, "/with inner  spaces");
	assert_string_equal(c.marks[3].path, "/tab");
	assert_int_equal(c.n_canaries, 2);
	assert_string_equal(c.canaries[0], "/tmp/x#1");
	assert_string_equal(c.canaries[1], "/tmp/y");
	assert_string_equal(c.hook, "echo a # b");
	assert_string_equal(c.output, "/o#o");
	assert_true(c.perm);
	config_free(&c);
}

static void test_hook_verbatim(void **state)
{
	struct config c;
	char msg[256] = "";
	unsigned line = 0;

	(void)state;
	config_init(&c);
	assert_int_equal(parse_str(&c, "hook  logger -t fan '# alert' #x  \n", &line, msg,
				   sizeof(msg)), 0);
	assert_string_equal(c.hook, "logger -t fan '# alert' #x");
	assert_int_equal(parse_str(&c, "hook #!/bin/sh\n", &line, msg, sizeof(msg)), 0);
	assert_string_equal(c.hook, "#!/bin/sh");
	config_free(&c);
}

static void test_empty_and_unterminated(void **state)
{
	struct config c;
	char msg[256] = "";
	unsigned line = 0;

	(void)state;
	config_init(&c);
	assert_int_equal(config_parse_text(&c, NULL, 0, &line, msg, sizeof(msg)), 0);
	assert_int_equal(config_parse_text(&c, "", 0, &line, msg, sizeof(msg)), 0);
	assert_int_equal(parse_str(&c, "\n\n\n", &line, msg, sizeof(msg)), 0);
	assert_int_equal(parse_str(&c, "watch /last", &line, msg, sizeof(msg)), 0);
	assert_int_equal(c.n_marks, 1);
	assert_string_equal(c.marks[0].path, "/last");
	/* len stops before the end of the string: "watch /ab" is read as "watch /a". */
	assert_int_equal(config_parse_text(&c, "watch /ab", 8, &line, msg, sizeof(msg)), 0);
	assert_string_equal(c.marks[1].path, "/a");
	config_free(&c);
}

static void test_jobs(void **state)
{
	static const char text[] =
		"job alpha\n"
		"rootfs /a/root\n"
		"mount /a/root\n"		/* other keys do not end the block */
		"workspace /a/ws\n"
		"job beta.2_x-Y\n"
		"cache /b/cache\n"
		"export /b/export\n"
		"job gamma\n"
		"rootfs /g\n";
	struct config c;
	char msg[256] = "";
	unsigned line = 0;

	(void)state;
	config_init(&c);
	assert_int_equal(parse_str(&c, text, &line, msg, sizeof(msg)), 0);
	assert_int_equal(c.n_jobs, 3);
	assert_string_equal(c.jobs[0].id, "alpha");
	assert_string_equal(c.jobs[0].root[CONFIG_ROLE_ROOTFS], "/a/root");
	assert_string_equal(c.jobs[0].root[CONFIG_ROLE_WORKSPACE], "/a/ws");
	assert_null(c.jobs[0].root[CONFIG_ROLE_EXPORT]);
	assert_null(c.jobs[0].root[CONFIG_ROLE_CACHE]);
	assert_string_equal(c.jobs[1].id, "beta.2_x-Y");
	assert_null(c.jobs[1].root[CONFIG_ROLE_ROOTFS]);
	assert_null(c.jobs[1].root[CONFIG_ROLE_WORKSPACE]);
	assert_string_equal(c.jobs[1].root[CONFIG_ROLE_EXPORT], "/b/export");
	assert_string_equal(c.jobs[1].root[CONFIG_ROLE_CACHE], "/b/cache");
	assert_string_equal(c.jobs[2].id, "gamma");
	assert_string_equal(c.jobs[2].root[CONFIG_ROLE_ROOTFS], "/g");
	assert_int_equal(c.n_marks, 1);
	assert_string_equal(c.marks[0].path, "/a/root");

	/* A second text: roles need a job line of their own, job names stay unique. */
	assert_int_equal(parse_str(&c, "rootfs /x\n", &line, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(line, 1);
	assert_string_equal(msg, "rootfs: no job to belong to; put 'job NAME' before it");
	assert_int_equal(parse_str(&c, "job gamma\n", &line, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "job: 'gamma' defined twice");
	assert_int_equal(parse_str(&c, "job delta\nrootfs /d\n", &line, msg, sizeof(msg)), 0);
	assert_int_equal(c.n_jobs, 4);
	assert_string_equal(c.jobs[3].root[CONFIG_ROLE_ROOTFS], "/d");

	/* cgroup belongs to the job above it; spaces and bytes a cgroup name may hold stay. */
	assert_int_equal(parse_str(&c, "job eps\ncgroup /jobs.slice/e ps \"q\\\xff.scope  # c\n"
				   "job zeta\nrootfs /z\n", &line, msg, sizeof(msg)), 0);
	assert_string_equal(c.jobs[4].cgroup, "/jobs.slice/e ps \"q\\\xff.scope");
	assert_null(c.jobs[5].cgroup);
	assert_null(c.jobs[0].cgroup);

	/* 64-byte name is fine. */
	assert_int_equal(parse_str(&c, "job 1234567890123456789012345678901234567890123456789012"
				   "345678901234\n", &line, msg, sizeof(msg)), 0);
	assert_int_equal(strlen(c.jobs[6].id), 64);
	config_free(&c);
}

static void test_scalars_replace_repeatables_accumulate(void **state)
{
	struct config c;
	char msg[256] = "";
	unsigned line = 0;

	(void)state;
	config_init(&c);
	assert_int_equal(parse_str(&c, "output /1\nburst_threshold 5\nwatch /a\ncanary /x\n"
				   "output /2\nevents all\n", &line, msg, sizeof(msg)), 0);
	assert_int_equal(parse_str(&c, "output /3\nwatch /b\ncanary /y\nverbose 2\n"
				   "events access\n", &line, msg, sizeof(msg)), 0);
	assert_string_equal(c.output, "/3");
	assert_int_equal(c.burst_threshold, 5);
	assert_int_equal(c.n_marks, 2);
	assert_string_equal(c.marks[1].path, "/b");
	assert_int_equal(c.n_canaries, 2);
	assert_string_equal(c.canaries[0], "/x");
	assert_string_equal(c.canaries[1], "/y");
	assert_int_equal(c.verbose, 2);
	assert_int_equal(c.events, FAN_ACCESS);
	config_free(&c);
}

/* max items of a key are fine; one more fails on its own line. */
static void check_items_max(const char *fmt, int max, const char *want_msg)
{
	size_t cap = (size_t)(max + 1) * 32, n = 0;
	char *text = malloc(cap);
	struct config c;
	char msg[256] = "";
	unsigned line = 0;
	int i;

	assert_non_null(text);
	for (i = 0; i < max; i++)
		n += (size_t)snprintf(text + n, cap - n, fmt, i);
	config_init(&c);
	assert_int_equal(config_parse_text(&c, text, n, &line, msg, sizeof(msg)), 0);
	config_free(&c);

	n += (size_t)snprintf(text + n, cap - n, fmt, i);
	config_init(&c);
	assert_int_equal(config_parse_text(&c, text, n, &line, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(line, (unsigned)max + 1);
	assert_string_equal(msg, want_msg);
	config_free(&c);
	free(text);
}

static void test_items_max(void **state)
{
	(void)state;
	check_items_max("watch /w%d\n", CONFIG_ITEMS_MAX,
			"watch: too many paths to watch (at most 4096 watch, mount and "
			"filesystem in all)");
	check_items_max("filesystem /f%d\n", CONFIG_ITEMS_MAX,
			"filesystem: too many paths to watch (at most 4096 watch, mount and "
			"filesystem in all)");
	check_items_max("canary /c%d\n", CONFIG_CANARIES_MAX,
			"canary: too many canaries (at most 65536)");
	check_items_max("job j%d\n", CONFIG_ITEMS_MAX, "job: too many jobs (at most 4096)");
}

static void test_marks_limit_spans_kinds(void **state)
{
	struct config c;
	char msg[256] = "";
	unsigned line = 0;
	int i;

	(void)state;
	config_init(&c);
	for (i = 0; i < CONFIG_ITEMS_MAX; i++) {
		char text[64];

		snprintf(text, sizeof(text), "%s /p%d\n", i % 2 ? "mount" : "watch", i);
		assert_int_equal(parse_str(&c, text, &line, msg, sizeof(msg)), 0);
	}
	/* The command line counts against the same bound. */
	assert_int_equal(PARSE_ARGS(&c, msg, "--filesystem", "/x"), -EINVAL);
	assert_string_equal(msg, "--filesystem: too many paths to watch (at most 4096 watch, "
			    "mount and filesystem in all)");
	assert_int_equal(c.n_marks, CONFIG_ITEMS_MAX);
	config_free(&c);
}

static void test_message_buffers(void **state)
{
	struct config c;
	char small[8];
	unsigned line = 0;

	(void)state;
	config_init(&c);
	/* NULL line and message buffer are allowed. */
	assert_int_equal(parse_str(&c, "bogus\n", NULL, NULL, 0), -EINVAL);
	/* A small buffer truncates, NUL-terminated. */
	memset(small, 'x', sizeof(small));
	assert_int_equal(parse_str(&c, "\nbogus\n", &line, small, sizeof(small)), -EINVAL);
	assert_int_equal(line, 2);
	assert_string_equal(small, "unknown");
	assert_int_equal(config_parse_args(&c, 2, ARGV("--nope"), NULL, 0), -EINVAL);
	assert_int_equal(config_validate(&c, NULL, 0), -EINVAL);
	config_free(&c);
}

/* A very long bad value is quoted back only in part. */
static void test_long_value_in_message(void **state)
{
	char text[1200], msg[1024] = "";
	struct config c;
	unsigned line = 0;

	(void)state;
	memcpy(text, "burst_threshold ", 16);
	memset(text + 16, 'z', 1000);
	text[1016] = '\0';
	config_init(&c);
	assert_int_equal(parse_str(&c, text, &line, msg, sizeof(msg)), -EINVAL);
	assert_true(strlen(msg) < 200);
	assert_non_null(strstr(msg, "is not a number"));
	config_free(&c);
}

/* ---- command line ---- */

enum field_type { T_STR, T_UINT, T_U64, T_BOOL };

struct opt_case {
	const char *name;
	char *argv[6];	/* after argv[0], NULL-terminated */
	enum field_type type;
	size_t off;
	const char *s;
	uint64_t u;
};

#define OFF(field) offsetof(struct config, field)

static const struct opt_case opt_cases[] = {
	{ "-c", { "-c", "/etc/f.conf" }, T_STR, OFF(config_file), "/etc/f.conf", 0 },
	{ "-cF", { "-c/etc/f.conf" }, T_STR, OFF(config_file), "/etc/f.conf", 0 },
	{ "--config", { "--config", "/etc/f.conf" }, T_STR, OFF(config_file), "/etc/f.conf", 0 },
	{ "--config=", { "--config=/etc/f.conf" }, T_STR, OFF(config_file), "/etc/f.conf", 0 },
	{ "-o", { "-o", "/out" }, T_STR, OFF(output), "/out", 0 },
	{ "-o-", { "-o-" }, T_STR, OFF(output), "-", 0 },
	{ "--output", { "--output", "-" }, T_STR, OFF(output), "-", 0 },
	{ "--output=", { "--output=/o=x" }, T_STR, OFF(output), "/o=x", 0 },
	{ "--socket", { "--socket", "/s.sock" }, T_STR, OFF(socket), "/s.sock", 0 },
	{ "--hook", { "--hook", "echo $FAN_PATH # x" }, T_STR, OFF(hook), "echo $FAN_PATH # x",
	  0 },
	{ "--hook dash", { "--hook", "-c" }, T_STR, OFF(hook), "-c", 0 },
	{ "--pid-file", { "--pid-file", "/run/f.pid" }, T_STR, OFF(pid_file), "/run/f.pid", 0 },
	{ "--burst-threshold", { "--burst-threshold", "12" }, T_UINT, OFF(burst_threshold), NULL,
	  12 },
	{ "--burst-threshold=", { "--burst-threshold=0" }, T_UINT, OFF(burst_threshold), NULL,
	  0 },
	{ "--burst-window-ms", { "--burst-window-ms", "86400000" }, T_UINT, OFF(burst_window_ms),
	  NULL, 86400000 },
	{ "--hook-cooldown-ms", { "--hook-cooldown-ms", "0" }, T_UINT, OFF(hook_cooldown_ms),
	  NULL, 0 },
	{ "--events", { "--events", "ACCESS,close" }, T_U64, OFF(events), NULL,
	  FAN_ACCESS | FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE },
	{ "--events=all", { "--events=all" }, T_U64, OFF(events), NULL, CONFIG_EV_ALL },
	{ "-v", { "-v" }, T_UINT, OFF(verbose), NULL, 1 },
	{ "-vvv", { "-vvv" }, T_UINT, OFF(verbose), NULL, 3 },
	{ "--verbose x2", { "--verbose", "-v" }, T_UINT, OFF(verbose), NULL, 2 },
	{ "-v saturates", { "-vvvvvvvvvvvv" }, T_UINT, OFF(verbose), NULL, 9 },
	{ "-f", { "-f" }, T_BOOL, OFF(foreground), NULL, 1 },
	{ "--foreground", { "--foreground" }, T_BOOL, OFF(foreground), NULL, 1 },
	{ "--perm", { "--perm" }, T_BOOL, OFF(perm), NULL, 1 },
	{ "--deny-on-alert", { "--deny-on-alert" }, T_BOOL, OFF(deny_on_alert), NULL, 1 },
	{ "--no-fid", { "--no-fid" }, T_BOOL, OFF(no_fid), NULL, 1 },
	{ "--access-perm", { "--access-perm" }, T_BOOL, OFF(access_perm), NULL, 1 },
	{ "--allow-cache", { "--allow-cache" }, T_BOOL, OFF(allow_cache), NULL, 1 },
	{ "--spin-us", { "--spin-us", "0" }, T_UINT, OFF(spin_us), NULL, 0 },
	{ "--spin-us=", { "--spin-us=1000" }, T_UINT, OFF(spin_us), NULL, 1000 },
	{ "--stats-interval-ms", { "--stats-interval-ms", "200" }, T_UINT, OFF(stats_interval_ms),
	  NULL, 200 },
	{ "--check-config", { "--check-config" }, T_BOOL, OFF(check_config), NULL, 1 },
	{ "-h", { "-h" }, T_BOOL, OFF(help), NULL, 1 },
	{ "--help", { "--help" }, T_BOOL, OFF(help), NULL, 1 },
	{ "--version", { "--version" }, T_BOOL, OFF(version), NULL, 1 },
	{ "abbreviated --vers", { "--vers" }, T_BOOL, OFF(version), NULL, 1 },
	{ "after --", { "-f", "--" }, T_BOOL, OFF(foreground), NULL, 1 },
	{ "scalar overrides scalar", { "-o", "/1", "--output", "/2" }, T_STR, OFF(output), "/2",
	  0 },
};

static void test_args_every_option(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(opt_cases); i++) {
		const struct opt_case *t = &opt_cases[i];
		char *argv[8] = { "fanotifyd" };
		struct config c, base;
		char msg[256] = "";
		const char *p;
		int argc = 1, r, pass;

		while (t->argv[argc - 1]) {
			argv[argc] = t->argv[argc - 1];
			argc++;
		}
		/* Twice over one config: the second parse must work the same (optind reset). */
		config_init(&c);
		for (pass = 0; pass < 2; pass++) {
			if (pass == 1 && t->type == T_UINT && t->off == OFF(verbose))
				break;	/* -v adds up; checked once */
			r = config_parse_args(&c, argc, argv, msg, sizeof(msg));
			if (r != 0)
				fail_msg("%s: %d %s", t->name, r, msg);
			p = (const char *)&c + t->off;
			switch (t->type) {
			case T_STR:
				if (!*(char *const *)p || strcmp(*(char *const *)p, t->s) != 0)
					fail_msg("%s: got '%s'", t->name, *(char *const *)p);
				break;
			case T_UINT:
				if (*(const unsigned *)p != t->u)
					fail_msg("%s: got %u want %u", t->name,
						 *(const unsigned *)p, (unsigned)t->u);
				break;
			case T_U64:
				if (*(const uint64_t *)p != t->u)
					fail_msg("%s: got 0x%llx want 0x%llx", t->name,
						 (unsigned long long)*(const uint64_t *)p,
						 (unsigned long long)t->u);
				break;
			case T_BOOL:
				if (!*(const bool *)p)
					fail_msg("%s: not set", t->name);
				break;
			}
		}
		/* Nothing else changed. */
		config_init(&base);
		switch (t->type) {
		case T_STR:
			*(char **)((char *)&base + t->off) = strdup(t->s);
			break;
		case T_UINT:
			*(unsigned *)((char *)&base + t->off) = (unsigned)t->u;
			break;
		case T_U64:
			*(uint64_t *)((char *)&base + t->off) = t->u;
			break;
		case T_BOOL:
			*(bool *)((char *)&base + t->off) = true;
			break;
		}
		assert_config_equal(&c, &base);
		assert_int_equal(c.check_config, base.check_config);
		assert_int_equal(c.help, base.help);
		assert_int_equal(c.version, base.version);
		assert_str_or_null(c.config_file, base.config_file);
		config_free(&base);
		config_free(&c);
	}
}

static void test_args_bundle(void **state)
{
	struct config c;
	char msg[256] = "";

	(void)state;
	config_init(&c);
	assert_int_equal(PARSE_ARGS(&c, msg, "-fvw/x", "-vh"), 0);
	assert_true(c.foreground);
	assert_true(c.help);
	assert_int_equal(c.verbose, 2);
	assert_int_equal(c.n_marks, 1);
	assert_string_equal(c.marks[0].path, "/x");
	config_free(&c);
}

static void test_args_marks_and_canaries(void **state)
{
	static const struct {
		enum config_mark_kind kind;
		const char *path;
	} want[] = {
		{ CONFIG_MARK_INODE, "/a" },	  { CONFIG_MARK_INODE, "/b" },
		{ CONFIG_MARK_MOUNT, "/m" },	  { CONFIG_MARK_INODE, "/c" },
		{ CONFIG_MARK_FILESYSTEM, "/f" }, { CONFIG_MARK_MOUNT, "/m2" },
		{ CONFIG_MARK_INODE, "/d e" },	  { CONFIG_MARK_FILESYSTEM, "/f2" },
	};
	struct config c;
	char msg[256] = "";
	size_t i;

	(void)state;
	config_init(&c);
	assert_int_equal(PARSE_ARGS(&c, msg, "-w", "/a", "--watch", "/b", "--mount", "/m",
				    "--watch=/c", "--filesystem", "/f", "--mount=/m2", "-w/d e",
				    "--canary", "/p1", "--canary=/p*2", "--filesystem=/f2"), 0);
	assert_int_equal(c.n_marks, ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(c.marks[i].kind, want[i].kind);
		assert_string_equal(c.marks[i].path, want[i].path);
	}
	assert_int_equal(c.n_canaries, 2);
	assert_string_equal(c.canaries[0], "/p1");
	assert_string_equal(c.canaries[1], "/p*2");
	config_free(&c);
}

struct arg_error {
	const char *name;
	char *argv[6];
	const char *msg;
};

static const struct arg_error arg_errors[] = {
	{ "unknown short", { "-x" }, "unknown option '-x'" },
	{ "relative canary option", { "--watch", "/w", "--canary", "w/secret" },
	  "--canary: 'w/secret' is not an absolute path pattern (start it with '/')" },
	{ "unknown short in bundle", { "-fq" }, "unknown option '-q'" },
	{ "unknown long", { "--bogus" }, "unknown or ambiguous option '--bogus'" },
	{ "unknown long with value", { "--bogus=1" }, "unknown or ambiguous option '--bogus'" },
	{ "ambiguous long", { "--c", "x" }, "unknown or ambiguous option '--c'" },
	{ "no long for no_fid underscore", { "--no_fid" },
	  "unknown or ambiguous option '--no_fid' (did you mean --no-fid?)" },
	{ "misspelt long", { "--burst-treshold", "3" },
	  "unknown or ambiguous option '--burst-treshold' (did you mean --burst-threshold?)" },
	{ "misspelt long with value", { "--output-grup=adm" },
	  "unknown or ambiguous option '--output-grup' (did you mean --output-group?)" },
	{ "config-only key as option", { "--rootfs", "/r" },
	  "unknown or ambiguous option '--rootfs' (rootfs is a config file key only)" },
	{ "bad output mode", { "--output-mode", "0644" },
	  "--output-mode: 0644 is not allowed (within 0640 with 0200 set, as 0600 or 0640: "
	  "nothing for others, no group write, the owner writes)" },
	{ "missing short value", { "-w" }, "--watch: missing value" },
	{ "missing -c value", { "-f", "-c" }, "--config: missing value" },
	{ "missing -o value", { "-o" }, "--output: missing value" },
	{ "missing long value", { "--mount" }, "--mount: missing value" },
	{ "missing number", { "--burst-threshold" }, "--burst-threshold: missing value" },
	{ "missing events", { "--events" }, "--events: missing value" },
	{ "flag with value", { "--perm=1" }, "--perm: takes no value" },
	{ "short flag long with value", { "--foreground=yes" }, "--foreground: takes no value" },
	{ "help with value", { "--help=x" }, "--help: takes no value" },
	{ "bad number", { "--burst-threshold", "abc" },
	  "--burst-threshold: 'abc' is not a number" },
	{ "negative", { "--burst-threshold=-1" }, "--burst-threshold: '-1' is not a number" },
	{ "empty number", { "--hook-cooldown-ms=" }, "--hook-cooldown-ms: empty value" },
	{ "number with space", { "--burst-window-ms", " 5" },
	  "--burst-window-ms: ' 5' is not a number" },
	{ "window zero", { "--burst-window-ms", "0" },
	  "--burst-window-ms: 0 is out of range (1-86400000)" },
	{ "cooldown range", { "--hook-cooldown-ms", "86400001" },
	  "--hook-cooldown-ms: 86400001 is out of range (0-86400000)" },
	{ "overflow", { "--burst-threshold", "18446744073709551617" },
	  "--burst-threshold: 18446744073709551617 is out of range (0-4096)" },
	{ "spin range", { "--spin-us", "1001" }, "--spin-us: 1001 is out of range (0-1000)" },
	{ "spin not a number", { "--spin-us=fast" }, "--spin-us: 'fast' is not a number" },
	{ "missing spin", { "--spin-us" }, "--spin-us: missing value" },
	{ "allow-cache with value", { "--allow-cache=1" }, "--allow-cache: takes no value" },
	{ "bad events", { "--events", "open,nope" },
	  "--events: unknown event 'nope' (see --help for the names)" },
	{ "empty events", { "--events=" }, "--events: empty value" },
	{ "empty events item", { "--events", "," }, "--events: empty item in ','" },
	{ "empty watch", { "--watch", "" }, "--watch: empty value" },
	{ "empty output", { "--output=" }, "--output: empty value" },
	{ "empty canary", { "--canary", "" }, "--canary: empty value" },
	{ "empty config", { "-c", "" }, "--config: empty value" },
	{ "positional", { "-f", "extra" }, "unexpected argument 'extra'" },
	{ "positional first", { "extra", "-f" }, "unexpected argument 'extra'" },
	{ "after --", { "--", "-f" }, "unexpected argument '-f'" },
	{ "lone dash", { "-" }, "unexpected argument '-'" },
};

static void test_args_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(arg_errors); i++) {
		const struct arg_error *t = &arg_errors[i];
		char *argv[8] = { "fanotifyd" };
		struct config c;
		char msg[256] = "";
		int argc = 1, r;

		while (t->argv[argc - 1]) {
			argv[argc] = t->argv[argc - 1];
			argc++;
		}
		config_init(&c);
		r = config_parse_args(&c, argc, argv, msg, sizeof(msg));
		if (r != -EINVAL)
			fail_msg("%s: returned %d", t->name, r);
		if (strcmp(msg, t->msg) != 0)
			fail_msg("%s: message '%s', want '%s'", t->name, msg, t->msg);
		config_free(&c);

		/* config_from_args reports the same error. */
		config_init(&c);
		msg[0] = '\0';
		r = config_from_args(&c, argc, argv, msg, sizeof(msg));
		if (r != -EINVAL || strcmp(msg, t->msg) != 0)
			fail_msg("%s: from_args %d '%s'", t->name, r, msg);
		config_free(&c);
	}
}

static void test_args_twice_after_error(void **state)
{
	struct config c;
	char msg[256] = "";

	(void)state;
	config_init(&c);
	/* An error in the middle of a bundle leaves getopt mid-word; a new parse starts over. */
	assert_int_equal(PARSE_ARGS(&c, msg, "-fxv", "-w", "/a"), -EINVAL);
	config_free(&c);
	config_init(&c);
	assert_int_equal(PARSE_ARGS(&c, msg, "-w", "/b", "-v"), 0);
	assert_int_equal(c.n_marks, 1);
	assert_string_equal(c.marks[0].path, "/b");
	assert_int_equal(c.verbose, 1);
	assert_false(c.foreground);
	config_free(&c);
}

static void test_args_no_arguments(void **state)
{
	struct config c;
	char msg[256] = "";
	char *argv[] = { "fanotifyd", NULL };

	(void)state;
	config_init(&c);
	assert_int_equal(config_parse_args(&c, 1, argv, msg, sizeof(msg)), 0);
	assert_int_equal(config_parse_args(&c, 0, argv + 1, msg, sizeof(msg)), 0);
	assert_int_equal(c.n_marks, 0);
	/* Validation then asks for a mark. */
	assert_int_equal(config_from_args(&c, 1, argv, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "no path to watch: give --watch, --mount or --filesystem");
	config_free(&c);
}

/* ---- config files and config_from_args ---- */

static void test_load_file(void **state)
{
	static const char text[] = "watch /a\n# two\nbogus x\n";
	struct config c;
	char msg[512] = "", want[512];
	char *path;

	(void)state;
	path = temp_file(text, sizeof(text) - 1);
	config_init(&c);
	assert_int_equal(config_load_file(&c, path, msg, sizeof(msg)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3: unknown key 'bogus'", path);
	assert_string_equal(msg, want);
	config_free(&c);
	remove_temp(path);

	path = temp_file("watch /a\r\nperm on\r\n", 19);
	config_init(&c);
	assert_int_equal(config_load_file(&c, path, msg, sizeof(msg)), 0);
	assert_int_equal(c.n_marks, 1);
	assert_string_equal(c.marks[0].path, "/a");
	assert_true(c.perm);
	assert_null(c.config_file);	/* only the command line sets it */
	config_free(&c);
	remove_temp(path);

	/* Empty file. */
	path = temp_file("", 0);
	config_init(&c);
	assert_int_equal(config_load_file(&c, path, msg, sizeof(msg)), 0);
	config_free(&c);
	remove_temp(path);
}

static void test_load_file_errors(void **state)
{
	struct config c;
	char msg[512] = "", want[512];
	char dir[] = "/tmp/fanotifyd-test-dir-XXXXXX";

	(void)state;
	config_init(&c);
	assert_int_equal(config_load_file(&c, "/nonexistent/fanotifyd.conf", msg, sizeof(msg)),
			 -ENOENT);
	assert_string_equal(msg, "/nonexistent/fanotifyd.conf: No such file or directory");

	assert_non_null(mkdtemp(dir));
	assert_int_equal(config_load_file(&c, dir, msg, sizeof(msg)), -EINVAL);
	snprintf(want, sizeof(want), "%s: not a regular file", dir);
	assert_string_equal(msg, want);
	assert_int_equal(rmdir(dir), 0);
	config_free(&c);
}

/*
 * A FIFO is refused at once, not waited on for a writer: run in a child under alarm(). The
 * verdict comes back through a pipe, not the exit status, which valgrind may replace.
 */
static void test_load_file_fifo(void **state)
{
	char dir[] = "/tmp/fanotifyd-test-fifo-XXXXXX";
	char path[64], verdict = 0;
	int status, pipefd[2];
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct config c;
		char msg[256];
		char ok;
		int r;

		alarm(5);
		config_init(&c);
		r = config_load_file(&c, path, msg, sizeof(msg));
		config_free(&c);
		ok = r == -EINVAL && strstr(msg, "not a regular file") ? 'y' : 'n';
		(void)!write(pipefd[1], &ok, 1);
		_exit(0);
	}
	(void)close(pipefd[1]);
	assert_int_equal(read(pipefd[0], &verdict, 1), 1);
	(void)close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	(void)unlink(path);
	(void)rmdir(dir);
	assert_int_equal(verdict, 'y');
}

static void test_load_file_size_limit(void **state)
{
	const size_t limit = 1024 * 1024;
	char *text = malloc(limit + 1);
	struct config c;
	char msg[512] = "", want[512];
	char *path;
	size_t i;

	(void)state;
	assert_non_null(text);
	/* Exactly 1 MiB of comment lines (64 bytes each) is fine. */
	for (i = 0; i < limit; i += 64) {
		memset(text + i, '#', 63);
		text[i + 63] = '\n';
	}
	path = temp_file(text, limit);
	config_init(&c);
	assert_int_equal(config_load_file(&c, path, msg, sizeof(msg)), 0);
	config_free(&c);
	remove_temp(path);

	text[limit] = '\n';
	path = temp_file(text, limit + 1);
	config_init(&c);
	assert_int_equal(config_load_file(&c, path, msg, sizeof(msg)), -EFBIG);
	snprintf(want, sizeof(want), "%s: file too large (more than 1048576 bytes)", path);
	assert_string_equal(msg, want);
	config_free(&c);
	remove_temp(path);
	free(text);
}

static void test_from_args_overrides(void **state)
{
	static const char text[] =
		"burst_threshold 5\n"
		"burst_window_ms 200\n"
		"output /file-out\n"
		"canary /file-canary\n"
		"watch /file-watch\n"
		"verbose 2\n"
		"foreground 1\n";
	struct config c;
	char msg[512] = "";
	char *path = temp_file(text, sizeof(text) - 1);

	(void)state;
	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "--burst-threshold", "7", "-c", path, "--canary",
				   "/cli-canary", "-o", "/cli-out", "--mount", "/cli-mount", "-v"),
			 0);
	assert_int_equal(c.burst_threshold, 7);
	assert_int_equal(c.burst_window_ms, 200);	/* from the file, not overridden */
	assert_string_equal(c.output, "/cli-out");
	assert_int_equal(c.n_canaries, 2);
	assert_string_equal(c.canaries[0], "/file-canary");
	assert_string_equal(c.canaries[1], "/cli-canary");
	assert_int_equal(c.n_marks, 2);
	assert_int_equal(c.marks[0].kind, CONFIG_MARK_INODE);
	assert_string_equal(c.marks[0].path, "/file-watch");
	assert_int_equal(c.marks[1].kind, CONFIG_MARK_MOUNT);
	assert_string_equal(c.marks[1].path, "/cli-mount");
	assert_int_equal(c.verbose, 3);	/* -v adds to the file's level */
	assert_true(c.foreground);
	assert_string_equal(c.config_file, path);
	config_free(&c);
	remove_temp(path);
}

static void test_from_args_config_forms(void **state)
{
	static const char text[] = "watch /from-file\nforeground yes\n";
	char *path = temp_file(text, sizeof(text) - 1);
	char joined[128], eq[128], abbrev[128];
	char *forms[][4] = {
		{ "-c", path, NULL },
		{ joined, NULL },
		{ "--config", path, NULL },
		{ eq, NULL },
		{ abbrev, NULL },
		{ "-f", "-c", path, NULL },
	};
	size_t i;

	(void)state;
	snprintf(joined, sizeof(joined), "-c%s", path);
	snprintf(eq, sizeof(eq), "--config=%s", path);
	snprintf(abbrev, sizeof(abbrev), "--conf=%s", path);
	for (i = 0; i < ARRAY_SIZE(forms); i++) {
		char *argv[6] = { "fanotifyd" };
		struct config c;
		char msg[512] = "";
		int argc = 1;

		while (forms[i][argc - 1]) {
			argv[argc] = forms[i][argc - 1];
			argc++;
		}
		config_init(&c);
		if (config_from_args(&c, argc, argv, msg, sizeof(msg)) != 0)
			fail_msg("form %zu: %s", i, msg);
		assert_int_equal(c.n_marks, 1);
		assert_string_equal(c.marks[0].path, "/from-file");
		assert_true(c.foreground);
		assert_string_equal(c.config_file, path);
		config_free(&c);
	}
	remove_temp(path);
}

static void test_from_args_config_not_misread(void **state)
{
	struct config c;
	char msg[512] = "";

	(void)state;
	/* "-c" as the value of --hook, and after --, is not a config option. */
	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "--hook", "-c", "-w", "/a", "-f"), 0);
	assert_string_equal(c.hook, "-c");
	assert_null(c.config_file);
	config_free(&c);

	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "-w", "/a", "--", "-c", "/nonexistent"), -EINVAL);
	assert_string_equal(msg, "unexpected argument '-c'");
	config_free(&c);

	/* Command-line errors come before the file is read. */
	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "-c", "/nonexistent/x.conf", "--bogus"), -EINVAL);
	assert_string_equal(msg, "unknown or ambiguous option '--bogus'");
	config_free(&c);
}

static void test_from_args_file_errors(void **state)
{
	static const char text[] = "watch /a\n\nburst_threshold 3 4\n";
	struct config c;
	char msg[512] = "", want[512];
	char *path;

	(void)state;
	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "-c", "/nonexistent/x.conf", "-w", "/a"), -ENOENT);
	assert_string_equal(msg, "failed to load config /nonexistent/x.conf: No such file or "
				 "directory");
	config_free(&c);

	path = temp_file(text, sizeof(text) - 1);
	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "--config", path), -EINVAL);
	snprintf(want, sizeof(want),
		 "failed to load config %s:3: burst_threshold: unexpected extra value '4'", path);
	assert_string_equal(msg, want);
	config_free(&c);
	remove_temp(path);
}

static void test_from_args_help_version(void **state)
{
	struct config c;
	char msg[512] = "";

	(void)state;
	/* Neither needs a mark, nor reads the config file. */
	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "--help", "-c", "/nonexistent/x.conf"), 0);
	assert_true(c.help);
	assert_string_equal(c.config_file, "/nonexistent/x.conf");
	config_free(&c);

	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "--version", "--deny-on-alert"), 0);
	assert_true(c.version);
	config_free(&c);

	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "-h"), 0);
	assert_true(c.help);
	config_free(&c);
}

static void test_from_args_validates(void **state)
{
	static const char text[] = "deny_on_alert 1\nwatch /a\noutput /o\n";
	struct config c;
	char msg[512] = "";
	char *path = temp_file(text, sizeof(text) - 1);

	(void)state;
	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "-c", path, "--check-config"), -EINVAL);
	assert_string_equal(msg, "--deny-on-alert (deny_on_alert) needs --perm (perm)");
	config_free(&c);

	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "-c", path, "--check-config", "--perm"), 0);
	assert_true(c.check_config);
	assert_true(c.perm && c.deny_on_alert);
	config_free(&c);
	remove_temp(path);
}

/* allow_cache and spin_us from a file, overridden and validated with the command line. */
#define NEEDS_PERM "--allow-cache (allow_cache) needs --perm (perm) without --no-fid (no_fid)"
static void test_from_args_allow_cache_spin(void **state)
{
	static const char text[] = "mount /a\nperm 1\nallow_cache 1\nspin_us 0\n";
	static const char no_perm[] = "mount /a\nallow_cache 1\n";
	struct config c;
	char msg[512] = "";
	char *path = temp_file(text, sizeof(text) - 1);
	char *path2 = temp_file(no_perm, sizeof(no_perm) - 1);

	(void)state;
	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "-c", path), 0);
	assert_true(c.allow_cache);
	assert_true(c.perm);
	assert_int_equal(c.spin_us, 0);
	config_free(&c);

	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "-c", path, "--spin-us", "20"), 0);
	assert_int_equal(c.spin_us, 20);	/* the command line wins */
	assert_true(c.allow_cache);		/* the file's value stays */
	config_free(&c);

	/* The file's allow_cache with a command-line mark that cannot carry it. */
	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "-c", path, "-w", "/w"), -EINVAL);
	assert_string_equal(msg, "--allow-cache (allow_cache) works with --mount and --filesystem "
				 "marks only, not with --watch /w");
	config_free(&c);

	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "-c", path, "--no-fid"), -EINVAL);
	assert_string_equal(msg, NEEDS_PERM);
	config_free(&c);

	/* perm missing from the file, given on the command line. */
	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "-c", path2), -EINVAL);
	assert_string_equal(msg, NEEDS_PERM);
	config_free(&c);
	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "-c", path2, "--perm"), 0);
	assert_true(c.allow_cache && c.perm);
	assert_int_equal(c.spin_us, CONFIG_SPIN_US_DEFAULT);
	config_free(&c);

	/* Command line alone. */
	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "--allow-cache", "--mount", "/a"), -EINVAL);
	assert_non_null(strstr(msg, "allow_cache"));
	config_free(&c);
	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "--perm", "--allow-cache", "--filesystem", "/a",
				   "--spin-us", "1000"), 0);
	assert_true(c.allow_cache);
	assert_int_equal(c.spin_us, 1000);
	config_free(&c);
	config_init(&c);
	assert_int_equal(FROM_ARGS(&c, msg, "--perm", "--mount", "/a", "--spin-us", "1001"),
			 -EINVAL);
	assert_string_equal(msg, "--spin-us: 1001 is out of range (0-1000)");
	config_free(&c);
	remove_temp(path2);
	remove_temp(path);
}
#undef NEEDS_PERM

/* ---- events ---- */

struct events_case {
	const char *list;
	int r;
	uint64_t events;
};

static void test_parse_events(void **state)
{
	static const struct events_case cases[] = {
		{ "access", 0, FAN_ACCESS },
		{ "modify", 0, FAN_MODIFY },
		{ "attrib", 0, FAN_ATTRIB },
		{ "close_write", 0, FAN_CLOSE_WRITE },
		{ "close_nowrite", 0, FAN_CLOSE_NOWRITE },
		{ "open", 0, FAN_OPEN },
		{ "open_exec", 0, FAN_OPEN_EXEC },
		{ "create", 0, FAN_CREATE },
		{ "delete", 0, FAN_DELETE },
		{ "rename", 0, FAN_RENAME },
		{ "moved_from", 0, FAN_RENAME },
		{ "moved_to", 0, FAN_RENAME },
		{ "move", 0, FAN_RENAME },
		{ "close", 0, FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE },
		{ "default", 0, CONFIG_EV_DEFAULT },
		{ "all", 0, CONFIG_EV_ALL },
		{ "OPEN,Close_Write", 0, FAN_OPEN | FAN_CLOSE_WRITE },
		{ "default,access", 0, CONFIG_EV_DEFAULT | FAN_ACCESS },
		{ "open,open", 0, FAN_OPEN },
		{ "ALL,open", 0, CONFIG_EV_ALL },
		{ "", -EINVAL, 0 },
		{ ",", -EINVAL, 0 },
		{ ",open", -EINVAL, 0 },
		{ "open,", -EINVAL, 0 },
		{ "open,,modify", -EINVAL, 0 },
		{ " open", -EINVAL, 0 },
		{ "open ", -EINVAL, 0 },
		{ "opens", -EINVAL, 0 },
		{ "ope", -EINVAL, 0 },
		{ "FAN_OPEN", -EINVAL, 0 },
		/* Event names that --events does not offer. */
		{ "open_perm", -EINVAL, 0 },
		{ "access_perm", -EINVAL, 0 },
		{ "delete_self", -EINVAL, 0 },
		{ "q_overflow", -EINVAL, 0 },
		{ "open,rename_x", -EINVAL, 0 },
		{ "open;modify", -EINVAL, 0 },
		{ "none", -EINVAL, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t ev = 0xdeadbeef;
		int r = config_parse_events(cases[i].list, &ev);

		if (r != cases[i].r)
			fail_msg("'%s': returned %d want %d", cases[i].list, r, cases[i].r);
		if (r == 0 && ev != cases[i].events)
			fail_msg("'%s': 0x%llx want 0x%llx", cases[i].list, (unsigned long long)ev,
				 (unsigned long long)cases[i].events);
		if (r < 0 && ev != 0xdeadbeef)
			fail_msg("'%s': result written on error", cases[i].list);
	}
	assert_int_equal(config_parse_events(NULL, &(uint64_t){ 0 }), -EINVAL);
}

/* ---- validate ---- */

struct validate_case {
	const char *name;
	const char *text;
	const char *msg;	/* NULL = valid */
};

static void test_validate(void **state)
{
	static const struct validate_case cases[] = {
		{ "minimal watch", "watch /a\nforeground 1\n", NULL },
		{ "minimal mount", "mount /a\noutput /o\n", NULL },
		{ "minimal filesystem", "filesystem /a\noutput -\nforeground 1\n", NULL },
		{ "no mark", "output /o\nforeground 1\ncanary /x\n",
		  "no path to watch: give --watch, --mount or --filesystem" },
		{ "deny without perm", "watch /a\nforeground 1\ndeny_on_alert 1\n",
		  "--deny-on-alert (deny_on_alert) needs --perm (perm)" },
		{ "deny with perm", "watch /a\nforeground 1\ndeny_on_alert 1\nperm 1\n", NULL },
		{ "access_perm without perm", "watch /a\nforeground 1\naccess_perm 1\n",
		  "--access-perm (access_perm) needs --perm (perm)" },
		{ "access_perm with perm", "watch /a\nforeground 1\naccess_perm 1\nperm 1\n",
		  NULL },
		{ "no_fid with perm", "watch /a\nforeground 1\nno_fid 1\nperm 1\n", NULL },
		{ "no_fid alone", "watch /a\nforeground 1\nno_fid 1\n", NULL },
		/* Output vs --foreground (DESIGN.md 12) is main.c's check, after --check-config. */
		{ "background without output", "watch /a\n", NULL },
		{ "background with stdout", "watch /a\noutput -\n", NULL },
		{ "job without roots", "watch /a\nforeground 1\njob j\nrootfs /r\njob k\n",
		  "job 'k' has no rootfs, workspace, export, cache or cgroup" },
		{ "job with one root", "watch /a\nforeground 1\njob k\ncache /c\n", NULL },
		{ "job with only a cgroup", "watch /a\nforeground 1\njob k\ncgroup /k\n", NULL },
		{ "two jobs, one cgroup",
		  "watch /a\nforeground 1\njob j\ncgroup /s/j\njob k\ncgroup /s/j\n",
		  "jobs 'j' and 'k' have the same cgroup /s/j" },
		{ "nested job cgroups", "watch /a\nforeground 1\njob j\ncgroup /s/j\njob k\n"
		  "cgroup /s/j/k\n", NULL },
		{ "allow_cache with perm and a mount", "mount /a\nperm 1\nallow_cache 1\n", NULL },
		{ "allow_cache with perm and a filesystem",
		  "filesystem /a\nperm 1\nallow_cache 1\ndeny_on_alert 1\n", NULL },
		{ "allow_cache off with a watch", "watch /a\nperm 1\nallow_cache 0\n", NULL },
		{ "allow_cache without perm", "mount /a\nforeground 1\nallow_cache 1\n",
		  "--allow-cache (allow_cache) needs --perm (perm) without --no-fid (no_fid)" },
		{ "allow_cache with perm off", "mount /a\nallow_cache 1\nperm 0\n",
		  "--allow-cache (allow_cache) needs --perm (perm) without --no-fid (no_fid)" },
		{ "allow_cache with no_fid", "mount /a\nperm 1\nno_fid 1\nallow_cache 1\n",
		  "--allow-cache (allow_cache) needs --perm (perm) without --no-fid (no_fid)" },
		{ "allow_cache with a watch", "watch /a\nperm 1\nallow_cache 1\n",
		  "--allow-cache (allow_cache) works with --mount and --filesystem marks only, "
		  "not with --watch /a" },
		{ "allow_cache with a watch after a mount",
		  "mount /m\nfilesystem /f\nwatch /w/x\nperm 1\nallow_cache 1\n",
		  "--allow-cache (allow_cache) works with --mount and --filesystem marks only, "
		  "not with --watch /w/x" },
		{ "spin_us 0", "mount /a\nperm 1\nspin_us 0\n", NULL },
		{ "spin_us without perm", "mount /a\nspin_us 1000\n", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct config c;
		char msg[256] = "";
		unsigned line = 0;
		int r;

		config_init(&c);
		if (parse_str(&c, cases[i].text, &line, msg, sizeof(msg)) != 0)
			fail_msg("%s: parse: %s", cases[i].name, msg);
		r = config_validate(&c, msg, sizeof(msg));
		if (!cases[i].msg && r != 0)
			fail_msg("%s: %d %s", cases[i].name, r, msg);
		if (cases[i].msg && (r != -EINVAL || strcmp(msg, cases[i].msg) != 0))
			fail_msg("%s: %d '%s' want '%s'", cases[i].name, r, msg, cases[i].msg);
		/* --help and --version skip every rule. */
		c.help = true;
		assert_int_equal(config_validate(&c, msg, sizeof(msg)), 0);
		c.help = false;
		c.version = true;
		assert_int_equal(config_validate(&c, msg, sizeof(msg)), 0);
		config_free(&c);
	}
}

/* socket_mode: octal, parsed once (the socket uses c->socket_mode as it is). */
static void test_socket_mode(void **state)
{
	static const struct {
		const char *text;
		int r;
		mode_t mode;
		const char *msg;
	} cases[] = {
		{ "socket_mode 0660\n", 0, 0660, NULL },
		{ "socket_mode 660\n", 0, 0660, NULL },
		{ "socket_mode 0\n", 0, 0, NULL },
		{ "socket_mode 00000777\n", 0, 0777, NULL },
		{ "socket_mode 0999\n", -EINVAL, 0,
		  "socket_mode: '0999' is not an octal mode (0000-0777)" },
		{ "socket_mode 1000\n", -EINVAL, 0,
		  "socket_mode: '1000' is not an octal mode (0000-0777)" },
		{ "socket_mode -1\n", -EINVAL, 0,
		  "socket_mode: '-1' is not an octal mode (0000-0777)" },
		{ "socket_mode +660\n", -EINVAL, 0,
		  "socket_mode: '+660' is not an octal mode (0000-0777)" },
		{ "socket_mode 0x1\n", -EINVAL, 0,
		  "socket_mode: '0x1' is not an octal mode (0000-0777)" },
		{ "socket_mode 99999999999999999999999\n", -EINVAL, 0,
		  "socket_mode: '99999999999999999999999' is not an octal mode (0000-0777)" },
		{ "socket_mode 0660 0600\n", -EINVAL, 0,
		  "socket_mode: unexpected extra value '0600'" },
	};
	struct config c;
	char msg[256];
	unsigned line;

	(void)state;
	config_init(&c);
	assert_int_equal(c.socket_mode, CONFIG_SOCKET_MODE_DEFAULT);
	assert_false(c.socket_mode_set);
	config_free(&c);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		config_init(&c);
		msg[0] = '\0';
		line = 0;
		int r = parse_str(&c, cases[i].text, &line, msg, sizeof(msg));

		if (r != cases[i].r)
			fail_msg("'%s': %d want %d (%s)", cases[i].text, r, cases[i].r, msg);
		if (r == 0 && (c.socket_mode != cases[i].mode || !c.socket_mode_set))
			fail_msg("'%s': mode %o", cases[i].text, (unsigned)c.socket_mode);
		if (r < 0 && (strcmp(msg, cases[i].msg) != 0 || line != 1))
			fail_msg("'%s': '%s' line %u", cases[i].text, msg, line);
		config_free(&c);
	}
	config_init(&c);
	assert_int_equal(PARSE_ARGS(&c, msg, "--socket-mode", "0606"), 0);
	assert_int_equal(c.socket_mode, 0606);
	assert_int_equal(PARSE_ARGS(&c, msg, "--socket-mode= 0606"), -EINVAL);
	assert_string_equal(msg, "--socket-mode: ' 0606' is not an octal mode (0000-0777)");
	config_free(&c);
}

/* "key = value": one '=' between key and value, blanks around it or not. */
struct sep_case {
	const char *name;
	const char *text;
	const char *key;	/* the string field checked (NULL: see want_*) */
	const char *want;
};

static const char *sep_field(const struct config *c, const char *key)
{
	if (strcmp(key, "output") == 0)
		return c->output;
	if (strcmp(key, "canary") == 0)
		return c->n_canaries ? c->canaries[c->n_canaries - 1] : NULL;
	if (strcmp(key, "watch") == 0)
		return c->n_marks ? c->marks[c->n_marks - 1].path : NULL;
	if (strcmp(key, "hook") == 0)
		return c->hook;
	if (strcmp(key, "output_group") == 0)
		return c->output_group;
	if (strcmp(key, "rootfs") == 0)
		return c->n_jobs ? c->jobs[0].root[CONFIG_ROLE_ROOTFS] : NULL;
	fail_msg("no field %s", key);
	return NULL;
}

static void test_equals_separator(void **state)
{
	static const struct sep_case cases[] = {
		{ "auditd style canary", "canary = /srv/x/canary\n", "canary", "/srv/x/canary" },
		{ "auditd style output", "output = /var/log/x\n", "output", "/var/log/x" },
		{ "glued", "output=/var/log/x\n", "output", "/var/log/x" },
		{ "blank before", "output =/var/log/x\n", "output", "/var/log/x" },
		{ "blank after", "output= /var/log/x\n", "output", "/var/log/x" },
		{ "tabs", "\t watch\t=\t/a \t\n", "watch", "/a" },
		{ "'=' inside the value", "watch = /a=b\n", "watch", "/a=b" },
		{ "'=' later is the value's", "watch /a = b\n", "watch", "/a = b" },
		{ "comment after", "canary = /c/* # the canary\n", "canary", "/c/*" },
		{ "hook verbatim after '='", "hook = logger -t fan a=b # c\n", "hook",
		  "logger -t fan a=b # c" },
		{ "hook glued", "hook=/bin/true\n", "hook", "/bin/true" },
		{ "group", "output_group = adm\n", "output_group", "adm" },
		{ "job and role", "job = J\nrootfs = /r\n", "rootfs", "/r" },
		{ "CRLF", "output = /o\r\n", "output", "/o" },
	};
	static const struct {
		const char *text;
		size_t off;
		unsigned value;
	} nums[] = {
		{ "burst_threshold = 5\n", offsetof(struct config, burst_threshold), 5 },
		{ "burst_window_ms=250\n", offsetof(struct config, burst_window_ms), 250 },
		{ "verbose= 2\n", offsetof(struct config, verbose), 2 },
		{ "hook_max =3\n", offsetof(struct config, hook_max), 3 },
	};
	struct config c;
	char msg[256];
	unsigned line;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *got;

		config_init(&c);
		msg[0] = '\0';
		line = 0;
		if (parse_str(&c, cases[i].text, &line, msg, sizeof(msg)) != 0)
			fail_msg("%s: line %u: %s", cases[i].name, line, msg);
		got = sep_field(&c, cases[i].key);
		if (!got || strcmp(got, cases[i].want) != 0)
			fail_msg("%s: '%s', want '%s'", cases[i].name, got ? got : "(null)",
				 cases[i].want);
		config_free(&c);
	}
	for (size_t i = 0; i < ARRAY_SIZE(nums); i++) {
		config_init(&c);
		if (parse_str(&c, nums[i].text, &line, msg, sizeof(msg)) != 0)
			fail_msg("'%s': %s", nums[i].text, msg);
		if (*(unsigned *)((char *)&c + nums[i].off) != nums[i].value)
			fail_msg("'%s': %u", nums[i].text, *(unsigned *)((char *)&c + nums[i].off));
		config_free(&c);
	}
	/* Booleans, every word, behind '='; and events. */
	config_init(&c);
	assert_int_equal(parse_str(&c, "perm = yes\nforeground=on\ndeny_on_alert = TRUE\n"
				       "events = open,modify\n", &line, msg, sizeof(msg)), 0);
	assert_true(c.perm && c.foreground && c.deny_on_alert);
	assert_int_equal(c.events, FAN_OPEN | FAN_MODIFY);
	assert_int_equal(parse_str(&c, "perm = off\nforeground=0\n", &line, msg, sizeof(msg)), 0);
	assert_false(c.perm || c.foreground);
	config_free(&c);
}

/* output_mode: octal, the bits of 0640 only, the owner's write bit always. */
/* burst_scope: a comma list of scope names into bits; per-scope keys, 0 = not set; the dump
 * writes both back so that they read the same. */
static void test_burst_scope(void **state)
{
	static const struct {
		const char *text;
		int r;
		unsigned scopes;
		const char *msg;
	} cases[] = {
		{ "burst_scope process\n", 0, 1u << CONFIG_SCOPE_PROCESS, NULL },
		{ "burst_scope parent,session,uid\n", 0,
		  (1u << CONFIG_SCOPE_PARENT) | (1u << CONFIG_SCOPE_SESSION) | (1u << CONFIG_SCOPE_UID),
		  NULL },
		{ "burst_scope = job,cgroup,exe,job\n", 0,
		  (1u << CONFIG_SCOPE_JOB) | (1u << CONFIG_SCOPE_CGROUP) | (1u << CONFIG_SCOPE_EXE),
		  NULL },
		{ "burst_scope sessions\n", -EINVAL, 0,
		  "burst_scope: unknown scope 'sessions' (process, parent, session, uid, exe, cgroup, "
		  "job)" },
		{ "burst_scope parent,\n", -EINVAL, 0,
		  "burst_scope: unknown scope '' (process, parent, session, uid, exe, cgroup, job)" },
		{ "burst_scope parent session\n", -EINVAL, 0, NULL },
		{ "burst_threshold_session 0\n", -EINVAL, 0, "burst_threshold_session: 0 is out of "
		  "range (1-4096)" },
		{ "burst-scope uid\n", -EINVAL, 0, NULL },
	};
	struct config c;
	unsigned line;
	char msg[256];

	(void)state;
	config_init(&c);
	assert_int_equal(c.burst_scopes, 1u << CONFIG_SCOPE_PROCESS);
	config_free(&c);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int r;

		config_init(&c);
		msg[0] = '\0';
		r = parse_str(&c, cases[i].text, &line, msg, sizeof(msg));
		if (r != cases[i].r)
			fail_msg("%s: got %d '%s'", cases[i].text, r, msg);
		if (r == 0)
			assert_int_equal(c.burst_scopes, cases[i].scopes);
		if (cases[i].msg)
			assert_string_equal(msg, cases[i].msg);
		config_free(&c);
	}
	/* Round trip through the dump. */
	{
		struct config d;
		char *dump;

		config_init(&c);
		assert_int_equal(parse_str(&c, "burst_scope uid,parent\nburst_threshold_uid 64\n"
					      "burst_window_ms_parent 250\n", &line, msg,
					   sizeof(msg)), 0);
		dump = config_dump(&c);
		assert_non_null(dump);
		assert_non_null(strstr(dump, "burst_scope parent,uid\n"));
		assert_non_null(strstr(dump, "# burst_threshold_session (not set: burst_threshold)"));
		config_init(&d);
		assert_int_equal(parse_str(&d, dump, &line, msg, sizeof(msg)), 0);
		assert_int_equal(d.burst_scopes, c.burst_scopes);
		assert_int_equal(d.burst_threshold_scope[CONFIG_SCOPE_UID], 64);
		assert_int_equal(d.burst_window_ms_scope[CONFIG_SCOPE_PARENT], 250);
		assert_int_equal(d.burst_threshold_scope[CONFIG_SCOPE_SESSION], 0);
		free(dump);
		config_free(&d);
		config_free(&c);
	}
}

static void test_output_mode(void **state)
{
	static const struct {
		const char *text;
		int r;
		mode_t mode;
		const char *msg;
	} cases[] = {
		{ "output_mode 0640\n", 0, 0640, NULL },
		{ "output_mode 0600\n", 0, 0600, NULL },
		{ "output_mode 640\n", 0, 0640, NULL },
		{ "output_mode 0200\n", 0, 0200, NULL },
		{ "output_mode 0240\n", 0, 0240, NULL },
		{ "output_mode = 0640\n", 0, 0640, NULL },
		{ "output_mode 0644\n", -EINVAL, 0,
		  "output_mode: 0644 is not allowed (within 0640 with 0200 set, as 0600 or 0640: "
		  "nothing for others, no group write, the owner writes)" },
		{ "output_mode 0660\n", -EINVAL, 0,
		  "output_mode: 0660 is not allowed (within 0640 with 0200 set, as 0600 or 0640: "
		  "nothing for others, no group write, the owner writes)" },
		{ "output_mode 0700\n", -EINVAL, 0,
		  "output_mode: 0700 is not allowed (within 0640 with 0200 set, as 0600 or 0640: "
		  "nothing for others, no group write, the owner writes)" },
		{ "output_mode 0440\n", -EINVAL, 0,
		  "output_mode: 0440 is not allowed (within 0640 with 0200 set, as 0600 or 0640: "
		  "nothing for others, no group write, the owner writes)" },
		{ "output_mode 0\n", -EINVAL, 0,
		  "output_mode: 0000 is not allowed (within 0640 with 0200 set, as 0600 or 0640: "
		  "nothing for others, no group write, the owner writes)" },
		{ "output_mode 2640\n", -EINVAL, 0,
		  "output_mode: 2640 is not allowed (within 0640 with 0200 set, as 0600 or 0640: "
		  "nothing for others, no group write, the owner writes)" },
		{ "output_mode 10640\n", -EINVAL, 0,
		  "output_mode: '10640' is not an octal mode (0000-7777)" },
		{ "output_mode 0680\n", -EINVAL, 0,
		  "output_mode: '0680' is not an octal mode (0000-7777)" },
		{ "output_mode rw-r-----\n", -EINVAL, 0,
		  "output_mode: 'rw-r-----' is not an octal mode (0000-7777)" },
		{ "output_mode 0640 0600\n", -EINVAL, 0,
		  "output_mode: unexpected extra value '0600'" },
	};
	struct config c;
	char msg[256];
	unsigned line;

	(void)state;
	config_init(&c);
	assert_false(c.output_mode_set);
	assert_null(c.output_group);
	config_free(&c);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		config_init(&c);
		msg[0] = '\0';
		line = 0;
		int r = parse_str(&c, cases[i].text, &line, msg, sizeof(msg));

		if (r != cases[i].r)
			fail_msg("'%s': %d want %d (%s)", cases[i].text, r, cases[i].r, msg);
		if (r == 0 && (c.output_mode != cases[i].mode || !c.output_mode_set))
			fail_msg("'%s': mode %o", cases[i].text, (unsigned)c.output_mode);
		if (r == 0 && c.socket_mode_set)
			fail_msg("'%s': set socket_mode", cases[i].text);
		if (r < 0 && (strcmp(msg, cases[i].msg) != 0 || line != 1))
			fail_msg("'%s': '%s' line %u", cases[i].text, msg, line);
		config_free(&c);
	}
	config_init(&c);
	assert_int_equal(PARSE_ARGS(&c, msg, "--output-mode", "0600", "--output-group", "4242"), 0);
	assert_int_equal(c.output_mode, 0600);
	assert_true(c.output_mode_set);
	assert_false(c.socket_mode_set);
	assert_string_equal(c.output_group, "4242");
	config_free(&c);
}

/* ---- dump ---- */

static void check_round_trip(const struct config *c)
{
	struct config back;
	char msg[256] = "";
	unsigned line = 0;
	char *text, *again;

	text = config_dump(c);
	assert_non_null(text);
	config_init(&back);
	if (parse_str(&back, text, &line, msg, sizeof(msg)) != 0)
		fail_msg("dump does not parse: line %u: %s\n%s", line, msg, text);
	assert_config_equal(c, &back);
	again = config_dump(&back);
	assert_non_null(again);
	if (!c->config_file)
		assert_string_equal(text, again);
	free(again);
	free(text);
	config_free(&back);
}

static void test_dump_defaults(void **state)
{
	struct config c;
	char *text;

	(void)state;
	config_init(&c);
	text = config_dump(&c);
	assert_non_null(text);
	assert_non_null(strstr(text, "\n# output (not set)\n"));
	assert_non_null(strstr(text, "\n# socket (not set)\n"));
	assert_non_null(strstr(text, "\n# socket_mode (not set)\n"));
	assert_non_null(strstr(text, "\n# output_mode (not set)\n"));
	assert_non_null(strstr(text, "\n# output_group (not set)\n"));
	assert_non_null(strstr(text, "\n# hook (not set)\n"));
	assert_non_null(strstr(text, "\n# pid_file (not set)\n"));
	assert_non_null(strstr(text, "\nburst_threshold 0\n"));
	assert_non_null(strstr(text, "\nburst_window_ms 1000\n"));
	assert_non_null(strstr(text, "\nhook_cooldown_ms 5000\n"));
	assert_non_null(strstr(text, "\nforeground 0\n"));
	assert_non_null(strstr(text, "\nperm 0\n"));
	assert_non_null(strstr(text, "\ndeny_on_alert 0\n"));
	assert_non_null(strstr(text, "\nno_fid 0\n"));
	assert_non_null(strstr(text, "\naccess_perm 0\n"));
	assert_non_null(strstr(text, "\nspin_us 50\n"));
	assert_non_null(strstr(text, "\nallow_cache 0\n"));
	assert_non_null(strstr(text, "\nverbose 0\n"));
	assert_non_null(strstr(text,
			       "\nevents modify,attrib,close_write,open,open_exec,create,delete,"
			       "rename\n"));
	assert_null(strstr(text, "\nwatch"));
	assert_null(strstr(text, "\njob"));
	free(text);
	check_round_trip(&c);
	config_free(&c);
}

static void test_dump_round_trip(void **state)
{
	static const char text[] =
		"output /var/log/fan.jsonl\n"
		"socket /run/fan.sock\n"
		"socket_mode 660\n"
		"output_mode 600\n"
		"output_group log-readers\n"
		"socket_group 4242\n"
		"hook_user nobody\n"
		"hook logger -t fan \"$FAN_KIND\" # not a comment\n"
		"pid_file /run/fan.pid\n"
		"mount /m\n"
		"watch /w with space\n"
		"filesystem /f\n"
		"watch /w#2\n"
		"canary /c/*\n"
		"canary /d/[ab]?\n"
		"burst_threshold 32\n"
		"burst_window_ms 250\n"
		"hook_cooldown_ms 0\n"
		"foreground 1\n"
		"perm 1\n"
		"deny_on_alert 1\n"
		"no_fid 1\n"
		"access_perm 1\n"
		"spin_us 0\n"
		"allow_cache 1\n"
		"verbose 4\n"
		"events all\n"
		"job J\n"
		"rootfs /run/jobs/J/root\n"
		"workspace /run/jobs/J/ws\n"
		"job K.2\n"
		"export /e\n"
		"cache /var/cache\n"
		"cgroup /jobs.slice/K.2.scope\n"
		"job L\n"
		"cgroup /jobs.slice/L.scope\n";
	struct config c;
	char msg[256] = "";
	unsigned line = 0;
	char *dump;

	(void)state;
	config_init(&c);
	assert_int_equal(parse_str(&c, text, &line, msg, sizeof(msg)), 0);
	check_round_trip(&c);
	dump = config_dump(&c);
	assert_non_null(strstr(dump, "\nevents access,modify,attrib,close_write,close_nowrite,"
				     "open,open_exec,create,delete,rename\n"));
	assert_non_null(strstr(dump, "\njob J\nrootfs /run/jobs/J/root\nworkspace "
				     "/run/jobs/J/ws\n"));
	assert_non_null(strstr(dump, "\njob K.2\nexport /e\ncache /var/cache\n"
				     "cgroup /jobs.slice/K.2.scope\n"));
	assert_non_null(strstr(dump, "\njob L\ncgroup /jobs.slice/L.scope\n"));
	assert_non_null(strstr(dump, "\nforeground 1\n"));
	assert_non_null(strstr(dump, "\nspin_us 0\n"));
	assert_non_null(strstr(dump, "\nallow_cache 1\n"));
	/* The dump writes the mode as it is used: four octal digits. */
	assert_non_null(strstr(dump, "\nsocket /run/fan.sock\nsocket_mode 0660\n"));
	assert_non_null(strstr(dump, "\noutput /var/log/fan.jsonl\noutput_mode 0600\n"
				     "output_group log-readers\n"));
	free(dump);
	c.spin_us = 1000;
	c.allow_cache = false;
	check_round_trip(&c);

	/* Each event alone. */
	for (uint64_t bit = 1; bit; bit <<= 1) {
		if (!(bit & CONFIG_EV_ALL))
			continue;
		c.events = bit;
		check_round_trip(&c);
	}
	c.events = FAN_OPEN | FAN_RENAME;
	check_round_trip(&c);
	config_free(&c);
}

/* Values the syntax cannot carry become comments; the rest still reads back. */
static void test_dump_unrepresentable(void **state)
{
	struct config c, back;
	char msg[256] = "";
	unsigned line = 0;
	char *text;

	(void)state;
	config_init(&c);
	assert_int_equal(PARSE_ARGS(&c, msg, "-w", "/ok", "-w", "/new\nline", "-w", " /lead",
				    "-w", "/trail ", "-w", "/a #b", "-w", "#x", "--canary",
				    "/tab\there", "-o", "/o\r", "--hook", "#!/x # y", "-w", "=eq",
				    "-c", "/etc/\"q\".conf"), 0);
	text = config_dump(&c);
	assert_non_null(text);
	assert_non_null(strstr(text, "\n# watch \"/new\\nline\" (cannot be written in a config "
				     "file)\n"));
	assert_non_null(strstr(text, "\n# watch \" /lead\" (cannot"));
	assert_non_null(strstr(text, "\n# watch \"/trail \" (cannot"));
	assert_non_null(strstr(text, "\n# watch \"/a #b\" (cannot"));
	assert_non_null(strstr(text, "\n# watch \"#x\" (cannot"));
	assert_non_null(strstr(text, "\n# output \"/o\\r\" (cannot"));
	assert_non_null(strstr(text, "\n# watch \"=eq\" (cannot"));
	assert_non_null(strstr(text, "\ncanary /tab\there\n"));
	assert_non_null(strstr(text, "\nhook #!/x # y\n"));
	assert_non_null(strstr(text, "# config file: \"/etc/\\\"q\\\".conf\"\n"));

	config_init(&back);
	assert_int_equal(parse_str(&back, text, &line, msg, sizeof(msg)), 0);
	assert_int_equal(back.n_marks, 1);
	assert_string_equal(back.marks[0].path, "/ok");
	assert_null(back.output);
	assert_string_equal(back.hook, "#!/x # y");
	assert_string_equal(back.canaries[0], "/tab\there");
	config_free(&back);
	free(text);
	config_free(&c);
}

/* ---- usage, role names ---- */

static void test_usage(void **state)
{
	static const char *const lines[] = {
		"-c, --config FILE ", "-w, --watch PATH ", "--mount PATH ", "--filesystem PATH ",
		"--canary PATTERN ", "-o, --output PATH ", "--socket PATH ", "--hook CMD ",
		"--pid-file PATH ", "--burst-threshold N ", "--burst-window-ms MS ",
		"--hook-cooldown-ms MS ", "-f, --foreground ", "--perm ", "--deny-on-alert ",
		"--no-fid ", "-v, --verbose ", "-h, --help ", "--version ", "--check-config ",
		"--events LIST ", "--access-perm ", "--spin-us N ", "--allow-cache ",
		"--output-mode MODE ", "--output-group GROUP ", "--subscribe PATH ",
		"Usage: fanotifyd [OPTION]...\n",
		"load config from FILE\n",
		"watch a directory inode, including child events\n",
		"alert on matching canary path; repeatable\n",
		"write JSONL events to PATH; \"-\" means stdout\n",
		"use FD mode instead of FID mode\n",
	};
	const char *u = config_usage();
	char want[64];
	size_t i;

	(void)state;
	assert_non_null(u);
	for (i = 0; i < ARRAY_SIZE(lines); i++)
		if (!strstr(u, lines[i]))
			fail_msg("usage lacks '%s'", lines[i]);
	snprintf(want, sizeof(want), "burst window; default %u\n",
		 CONFIG_BURST_WINDOW_MS_DEFAULT);
	assert_non_null(strstr(u, want));
	snprintf(want, sizeof(want), "per-process alert cooldown; default %u\n",
		 CONFIG_HOOK_COOLDOWN_MS_DEFAULT);
	assert_non_null(strstr(u, want));
	/* Fits a terminal. */
	for (const char *p = u; *p;) {
		size_t n = strcspn(p, "\n");

		if (n > 79)
			fail_msg("usage line too long: %.*s", (int)n, p);
		p += n + (p[n] ? 1 : 0);
	}
}

/*
 * Every long option --help lists is a config key (dashes as underscores) unless --help
 * says it is not, and --help's list of the exceptions is exactly the options without a key.
 */
static void test_usage_keys(void **state)
{
	static const char *const cli_only[] = { "config", "check-config", "subscribe", "help",
						"version", "replay", "sweep" };
	const char *u = config_usage(), *p, *ex;
	char except[256], want[256];
	size_t n_opts = 0, j;

	(void)state;
	for (p = u; (p = strstr(p, "\n  ")) != NULL; p++) {
		const char *o = strstr(p, "--");
		char name[64], key[64], text[128], msg[256] = "";
		struct config c;
		unsigned line = 0;
		bool only = false;
		int r;

		if (!o || o > p + 8)	/* not an option line ("  -c, --config" or "      --x") */
			continue;
		o += 2;
		j = strcspn(o, " \n");
		assert_true(j > 0 && j < sizeof(name));
		memcpy(name, o, j);
		name[j] = '\0';
		for (j = 0; name[j]; j++)
			key[j] = name[j] == '-' ? '_' : name[j];
		key[j] = '\0';
		for (j = 0; j < ARRAY_SIZE(cli_only); j++)
			only = only || strcmp(name, cli_only[j]) == 0;
		snprintf(text, sizeof(text), "%s 1\n", key);
		config_init(&c);
		r = parse_str(&c, text, &line, msg, sizeof(msg));
		if (only && (r == 0 || strncmp(msg, "unknown key", 11) != 0))
			fail_msg("--%s is command-line only, but '%s' gives %d '%s'", name, key, r,
				 msg);
		if (!only && r != 0 && strncmp(msg, "unknown key", 11) == 0)
			fail_msg("--help lists --%s, but the key %s is unknown: %s", name, key, msg);
		config_free(&c);
		n_opts++;
	}
	assert_true(n_opts >= 36);

	/* The other way round: every key of the dump is an option --help lists. */
	{
		struct config c;
		char *dump, *line, *save = NULL;

		config_init(&c);
		dump = config_dump(&c);
		assert_non_null(dump);
		for (line = strtok_r(dump, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char opt[80];

			if (line[0] == '#' && strstr(line, "(not set")) {
				line += 2;
			} else if (line[0] == '#') {
				continue;
			}
			/* Per-scope burst keys are config file only, as --help says. */
			if (strncmp(line, "burst_threshold_", 16) == 0 ||
			    strncmp(line, "burst_window_ms_", 16) == 0) {
				assert_non_null(strstr(u, "burst_threshold_SCOPE"));
				continue;
			}
			j = strcspn(line, " ");
			snprintf(opt, sizeof(opt), "--%.*s ", (int)j, line);
			for (char *q = opt + 2; *q; q++)
				*q = *q == '_' ? '-' : *q;
			if (!strstr(u, opt))
				fail_msg("key %.*s: --help lacks '%s'", (int)j, line, opt);
		}
		free(dump);
		config_free(&c);
	}

	/* "except A, B, ... and Z is a key", folded onto one line. */
	ex = strstr(u, "except ");
	assert_non_null(ex);
	ex += strlen("except ");
	for (j = 0; *ex && strncmp(ex, " is a key", 9) != 0 && j + 1 < sizeof(except); ex++)
		except[j++] = *ex == '\n' ? ' ' : *ex;
	except[j] = '\0';
	want[0] = '\0';
	for (j = 0; j < ARRAY_SIZE(cli_only); j++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s", cli_only[j],
			 j + 2 < ARRAY_SIZE(cli_only) ? ", " : j + 1 < ARRAY_SIZE(cli_only) ?
			 " and " : "");
	assert_string_equal(except, want);
}

static void test_role_name(void **state)
{
	(void)state;
	assert_string_equal(config_role_name(CONFIG_ROLE_ROOTFS), "rootfs");
	assert_string_equal(config_role_name(CONFIG_ROLE_WORKSPACE), "workspace");
	assert_string_equal(config_role_name(CONFIG_ROLE_EXPORT), "export");
	assert_string_equal(config_role_name(CONFIG_ROLE_CACHE), "cache");
	assert_null(config_role_name(CONFIG_ROLE_COUNT));
	assert_null(config_role_name((enum config_role)-1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_defaults),
		cmocka_unit_test(test_free_zeroed_and_twice),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_bool_words),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_numbers_ok),
		cmocka_unit_test(test_text_errors),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_line_max),
		cmocka_unit_test(test_comments_blanks_crlf),
		cmocka_unit_test(test_hook_verbatim),
		cmocka_unit_test(test_empty_and_unterminated),
		cmocka_unit_test(test_jobs),
		cmocka_unit_test(test_scalars_replace_repeatables_accumulate),
		cmocka_unit_test(test_items_max),
		cmocka_unit_test(test_marks_limit_spans_kinds),
		cmocka_unit_test(test_message_buffers),
		cmocka_unit_test(test_long_value_in_message),
		cmocka_unit_test(test_args_every_option),
		cmocka_unit_test(test_args_bundle),
		cmocka_unit_test(test_args_marks_and_canaries),
		cmocka_unit_test(test_args_errors),
		cmocka_unit_test(test_args_twice_after_error),
		cmocka_unit_test(test_args_no_arguments),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_load_file_errors),
		cmocka_unit_test(test_load_file_fifo),
		cmocka_unit_test(test_load_file_size_limit),
		cmocka_unit_test(test_from_args_overrides),
		cmocka_unit_test(test_from_args_config_forms),
		cmocka_unit_test(test_from_args_config_not_misread),
		cmocka_unit_test(test_from_args_file_errors),
		cmocka_unit_test(test_from_args_help_version),
		cmocka_unit_test(test_from_args_validates),
		cmocka_unit_test(test_from_args_allow_cache_spin),
		cmocka_unit_test(test_parse_events),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_equals_separator),
		cmocka_unit_test(test_output_mode),
		cmocka_unit_test(test_burst_scope),
		cmocka_unit_test(test_usage_keys),
		cmocka_unit_test(test_socket_mode),
		cmocka_unit_test(test_dump_defaults),
		cmocka_unit_test(test_dump_round_trip),
		cmocka_unit_test(test_dump_unrepresentable),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_role_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
