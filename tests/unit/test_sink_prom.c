/*
 * test_sink_prom.c - prometheus_file: record_stats_prom()'s text (one family per stats key,
 * counters and gauges told apart, the numbers of struct stats), and sink_prom.c against a
 * temp dir under /tmp: the directory refusals sink_prom_check() and sink_prom_open() share
 * (missing, not a directory, PATH a directory, mode bits that deny uid 0 without
 * CAP_DAC_OVERRIDE), the file replaced whole by the writer thread, only the newest text
 * written, the last one written at close, no temporary file left. A writer that could hang
 * runs in a forked child under alarm().
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "log_keep.h"
#include "record.h"
#include "sink_prom.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_sink_prom.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/fanotifyd.prom", dir);
	log_setup(2, false);
	log_set_sink(log_keep);
	log_reset();
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s'; rm -rf '%s'", dir, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *p)
{
	static char buf[1 << 16];
	ssize_t n;
	int fd = open(p, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

/* Entries of dir other than . and .. whose name contains part. */
static int entries(const char *part)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strstr(e->d_name, part))
			n++;
	closedir(d);
	return n;
}

/* ---- record_stats_prom() ---- */

static void test_prom_text(void **state)
{
	struct stats s;
	struct buf b = { 0 };
	uint64_t *v = (uint64_t *)&s;
	size_t n = sizeof(s) / sizeof(uint64_t), lines = 0;
	char *p;

	(void)state;
	for (size_t i = 0; i < n; i++)
		v[i] = 1000 + i; /* every field its own number */
	s.events = UINT64_MAX;
	assert_int_equal(record_stats_prom(&b, &s), 0);
	assert_non_null(b.data);
	for (size_t i = 0; i < b.len; i++)
		lines += b.data[i] == '\n';
	assert_int_equal(lines, 3 * n); /* HELP, TYPE, sample per key */
	assert_int_equal(b.data[b.len - 1], '\n');
	assert_int_equal(buf_append(&b, "", 1), 0); /* NUL for strstr */
	assert_non_null(strstr(b.data, "# HELP fanotifyd_events_total "));
	assert_non_null(strstr(b.data, "\n# TYPE fanotifyd_events_total counter\n"
				       "fanotifyd_events_total 18446744073709551615\n"));
	/* The one key table's order: records is the second field. */
	assert_true(strstr(b.data, "fanotifyd_events_total") <
		    strstr(b.data, "fanotifyd_records_total"));
	assert_non_null(strstr(b.data, "\nfanotifyd_records_total 1001\n"));
	assert_non_null(strstr(b.data, "# TYPE fanotifyd_answer_us_p99 gauge\n"));
	assert_non_null(strstr(b.data, "# TYPE fanotifyd_decide_us_max gauge\n"));
	assert_non_null(strstr(b.data, "# TYPE fanotifyd_out_buf_kib gauge\n"));
	assert_non_null(strstr(b.data, "# TYPE fanotifyd_out_backlog_max_kib gauge\n"));
	assert_non_null(strstr(b.data, "# TYPE fanotifyd_sock_clients gauge\n"));
	assert_non_null(strstr(b.data, "# TYPE fanotifyd_sock_accepted_total counter\n"));
	assert_non_null(strstr(b.data, "# TYPE fanotifyd_resolve_failures_total counter\n"));
	assert_null(strstr(b.data, "_p99_total"));
	assert_null(strstr(b.data, "sock_clients_total"));
	/* Every sample line: a name, a space, digits. */
	for (p = b.data; *p; p = strchr(p, '\n') + 1) {
		if (*p == '#')
			continue;
		assert_true(strncmp(p, "fanotifyd_", 10) == 0);
		p = strchr(p, ' ');
		assert_non_null(p);
		assert_true(strspn(p + 1, "0123456789") == strcspn(p + 1, "\n"));
	}
	buf_free(&b);
}

/* ---- the directory ---- */

static void test_check_refusals(void **state)
{
	char msg[512], p[256];

	(void)state;
	snprintf(p, sizeof(p), "%s/nodir/f.prom", dir);
	assert_int_equal(sink_prom_check(p, msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, "prometheus_file"));
	snprintf(p, sizeof(p), "%s/file", dir);
	close(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	snprintf(p, sizeof(p), "%s/file/f.prom", dir);
	assert_int_equal(sink_prom_check(p, msg, sizeof(msg)), -ENOTDIR);
	assert_int_equal(sink_prom_check(dir, msg, sizeof(msg)), -EISDIR);
	snprintf(p, sizeof(p), "%s/", dir);
	assert_int_equal(sink_prom_check(p, msg, sizeof(msg)), -EISDIR);
	/* Owner without write: root too is refused (it drops CAP_DAC_OVERRIDE). */
	assert_int_equal(chmod(dir, 0555), 0);
	assert_int_equal(sink_prom_check(path, msg, sizeof(msg)), -EACCES);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(sink_prom_check(path, msg, sizeof(msg)), 0);
	assert_int_equal(entries(""), 1); /* "file": the check created nothing */
}

static void test_open_refuses(void **state)
{
	struct sink_prom p;
	char msg[512];

	(void)state;
	assert_int_equal(chmod(dir, 0555), 0);
	assert_int_equal(sink_prom_open(&p, path, 42, msg, sizeof(msg)), -EACCES);
	sink_prom_close(&p);
	sink_prom_close(&p); /* twice */
	assert_int_equal(chmod(dir, 0700), 0);
}

/* ---- writing ---- */

static void test_write_replace(void **state)
{
	struct sink_prom p;
	char msg[512], *got;
	struct stat st;
	ino_t first;

	(void)state;
	assert_int_equal(sink_prom_open(&p, path, 4242, msg, sizeof(msg)), 0);
	assert_int_equal(entries(""), 0); /* the trial file was removed */
	assert_int_equal(sink_prom_start(&p), 0);
	assert_int_equal(sink_prom_write(&p, "a 1\n", 4), 0);
	for (int i = 0; i < 500 && !(got = slurp(path)); i++)
		usleep(10000);
	assert_string_equal(slurp(path), "a 1\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	first = st.st_ino;
	assert_int_equal(sink_prom_write(&p, "a 2\n", 4), 0);
	sink_prom_close(&p); /* writes what is queued */
	assert_string_equal(slurp(path), "a 2\n");
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_ino != first); /* renamed in, not rewritten in place */
	assert_int_equal(entries(".tmp."), 0);
	sink_prom_close(&p);
}

/* Without a thread, texts only queue, each replacing the one before. */
static void test_newest_only(void **state)
{
	struct sink_prom p;
	char msg[512];

	(void)state;
	assert_int_equal(sink_prom_open(&p, path, 7, msg, sizeof(msg)), 0);
	assert_int_equal(sink_prom_write(&p, "old old old\n", 12), 0);
	assert_int_equal(sink_prom_write(&p, "new\n", 4), 0);
	assert_int_equal(p.next_len, 4);
	assert_memory_equal(p.next, "new\n", 4);
	assert_int_equal(sink_prom_start(&p), 0);
	sink_prom_close(&p);
	assert_string_equal(slurp(path), "new\n");
}

/* A failed write keeps the old file and leaves no temporary one: PATH's name taken by a
 * directory makes every rename fail. In a child under alarm(): a stuck writer fails. */
static void test_failed_write_keeps_nothing(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sink_prom p;
		char msg[512];

		alarm(10);
		if (sink_prom_open(&p, path, 9, msg, sizeof(msg)) < 0 || mkdir(path, 0700) < 0)
			_exit(2);
		if (sink_prom_start(&p) < 0 || sink_prom_write(&p, "x 1\n", 4) < 0)
			_exit(3);
		sink_prom_close(&p);
		_exit(p.errors == 1 && p.written == 0 && entries(".tmp.") == 0 &&
			       strstr(log_all, "prometheus_file: cannot write") ? 0 : 4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prom_text),
		cmocka_unit_test_setup_teardown(test_check_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newest_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_keeps_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
