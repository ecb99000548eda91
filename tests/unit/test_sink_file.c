/*
 * test_sink_file.c - sink_file.c against real files, FIFOs and pipes in a temp dir under
 * /tmp: what the output may be (symlink, FIFO, hard link, directory, another user's file
 * refused; a mode open to others narrowed; output_mode and output_group given; the same
 * refusals found by sink_file_check() without opening), failed writes that lose whole records only
 * (RLIMIT_FSIZE stands in for a full disk: EFBIG after a short write) with the records
 * counted and a lost notice's count owed again, and a close that does not wait forever
 * on a pipe nobody reads. Anything that could hang runs in a forked child under alarm().
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "log_keep.h"
#include "sink_file.h"

/* ---- the log (log.c, linked): its lines are kept for asserts (log_keep.h) ---- */

/* ---- fixtures ---- */

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_sink_file.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/out.jsonl", dir);
	log_reset();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *p)
{
	static char buf[4096];
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* sink_file_open() in a child under alarm(5): its return value, msg in *msg. */
static int open_in_child(char *msg, size_t msg_len)
{
	int p[2], status;
	pid_t pid;
	int r = 0;
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sink_file s;
		char m[256] = "";

		alarm(5);
		r = sink_file_open(&s, path, 0, NULL, m, sizeof(m));
		if (write(p[1], &r, sizeof(r)) != sizeof(r) || write(p[1], m, sizeof(m)) < 0)
			_exit(1);
		sink_file_close(&s);
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], &r, sizeof(r));
	assert_int_equal(n, sizeof(r));
	n = read(p[0], msg, msg_len);
	assert_true(n > 0);
	msg[msg_len - 1] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0); /* not killed by alarm() */
	return r;
}

/* ---- what the output may be ---- */

static void test_refuses_symlink(void **state)
{
	char msg[256];

	(void)state;
	assert_int_equal(symlink("/etc/hostname", path), 0);
	assert_int_equal(open_in_child(msg, sizeof(msg)), -ELOOP);
	assert_non_null(strstr(msg, "symbolic link"));
	assert_non_null(strstr(msg, path));
}

static void test_refuses_fifo_without_blocking(void **state)
{
	char msg[256];

	(void)state;
	assert_int_equal(mkfifo(path, 0666), 0);
	assert_true(open_in_child(msg, sizeof(msg)) < 0);
	assert_non_null(strstr(msg, "not a regular file"));
}

static void test_refuses_hard_link(void **state)
{
	char other[160], msg[256];

	(void)state;
	snprintf(other, sizeof(other), "%s/other", dir);
	assert_int_equal(close(open(other, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)), 0);
	assert_int_equal(link(other, path), 0);
	assert_int_equal(open_in_child(msg, sizeof(msg)), -EMLINK);
	assert_non_null(strstr(msg, "has 2 links"));
	assert_string_equal(slurp(other), "");
}

static void test_refuses_directory(void **state)
{
	char msg[256];

	(void)state;
	assert_int_equal(mkdir(path, 0700), 0);
	assert_true(open_in_child(msg, sizeof(msg)) < 0);
	assert_non_null(strstr(msg, path));
}

static void test_refuses_other_owner(void **state)
{
	char msg[256];

	(void)state;
	if (geteuid() != 0)
		skip(); /* only root can give a file away */
	assert_int_equal(close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0666)), 0);
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(open_in_child(msg, sizeof(msg)), -EPERM);
	assert_non_null(strstr(msg, "owned by uid 65534"));
}

static void test_narrows_mode(void **state)
{
	struct sink_file s;
	struct stat st;
	char msg[256];

	(void)state;
	assert_int_equal(close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)), 0);
	assert_int_equal(chmod(path, 0777), 0);
	assert_int_equal(sink_file_open(&s, path, 0, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	/* blocking again: O_NONBLOCK was only for the open */
	assert_int_equal(fcntl(s.fd, F_GETFL) & O_NONBLOCK, 0);
	sink_file_close(&s);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(sink_file_open(&s, path, 0, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600); /* already private: left alone */
	sink_file_close(&s);
}

/* output_mode: exactly that mode at creation whatever the umask, and on an existing file;
 * output_group: a group number given to the file (a no-op for our own group; another one
 * when run as root). */
static void test_output_mode_group(void **state)
{
	struct sink_file s;
	struct stat st;
	char msg[256], gid[32];
	mode_t old = umask(077);

	(void)state;
	snprintf(gid, sizeof(gid), "%u", (unsigned)getegid());
	assert_int_equal(sink_file_open(&s, path, 0640, gid, msg, sizeof(msg)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640); /* not 0600: set, not masked */
	assert_int_equal(st.st_gid, getegid());
	sink_file_close(&s);
	umask(old);
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(sink_file_open(&s, path, 0600, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	sink_file_close(&s);
	if (geteuid() == 0) {
		assert_int_equal(sink_file_open(&s, path, 0640, "4242", msg, sizeof(msg)), 0);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_gid, 4242);
		assert_int_equal(st.st_mode & 07777, 0640);
		sink_file_close(&s);
	}
	assert_int_equal(sink_file_open(&s, path, 0640, "no-such-group-fanotifyd", msg,
					sizeof(msg)), -ENOENT);
	assert_string_equal(msg, "output_group: no-such-group-fanotifyd: no such group");
	sink_file_close(&s);
}

/* sink_file_check(): the start's refusals, found without creating or opening anything. */
static void test_check(void **state)
{
	char msg[512] = "", want[512], p2[160];
	struct stat st;

	(void)state;
	assert_int_equal(sink_file_check("-", msg, sizeof(msg)), 0);
	assert_int_equal(sink_file_check(path, msg, sizeof(msg)), 0); /* absent, dir writable */
	assert_int_equal(stat(path, &st), -1);				/* and not created */
	snprintf(p2, sizeof(p2), "%s/nodir/out", dir);
	assert_int_equal(sink_file_check(p2, msg, sizeof(msg)), -ENOENT);
	snprintf(want, sizeof(want), "output %s: directory %s/nodir: No such file or directory",
		 p2, dir);
	assert_string_equal(msg, want);
	assert_int_equal(symlink("/nonexistent", path), 0);
	assert_int_equal(sink_file_check(path, msg, sizeof(msg)), -ELOOP);
	snprintf(want, sizeof(want), "output %s: is a symbolic link", path);
	assert_string_equal(msg, want);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(sink_file_check(path, msg, sizeof(msg)), -EINVAL);
	snprintf(want, sizeof(want), "output %s: not a regular file", path);
	assert_string_equal(msg, want);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)), 0);
	assert_int_equal(sink_file_check(path, msg, sizeof(msg)), 0);
	snprintf(p2, sizeof(p2), "%s/link2", dir);
	assert_int_equal(link(path, p2), 0);
	assert_int_equal(sink_file_check(path, msg, sizeof(msg)), -EMLINK);
	snprintf(want, sizeof(want), "output %s: has 2 links, not 1", path);
	assert_string_equal(msg, want);
	snprintf(p2, sizeof(p2), "%s/out.jsonl/x", dir);
	assert_int_equal(sink_file_check(p2, msg, sizeof(msg)), -ENOTDIR);
}

/* ---- failed writes: whole records only, counted ---- */

#define REC "{\"seq\":1,\"x\":\"0123456789\"}\n" /* 27 bytes */

/*
 * In a child (RLIMIT_FSIZE is per process): the file may grow to `kept` records and 10
 * bytes. Writes four records in one batch (the one after the kept ones is cut by the
 * limit), then, with the limit lifted, one more. stdout_mode: the sink is stdout (which
 * is not cut back) redirected to the file. notice: the batch opens with a dropped notice
 * carrying that count.
 */
static void full_case(bool stdout_mode, uint64_t notice, unsigned kept)
{
	char want[8 * 27] = "";
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { .rlim_cur = kept * 27 + 10, .rlim_max = RLIM_INFINITY };
		struct sink_file s;
		char msg[256], four[4 * 27 + 1];
		uint64_t owed, lost_new;
		int err = 0;

		alarm(5);
		(void)signal(SIGXFSZ, SIG_IGN); /* EFBIG instead of the signal */
		if (stdout_mode) {
			int fd = open(path, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0600);

			if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
				_exit(10);
			if (sink_file_open(&s, "-", 0, NULL, msg, sizeof(msg)) < 0)
				_exit(11);
		} else if (sink_file_open(&s, path, 0, NULL, msg, sizeof(msg)) < 0) {
			_exit(12);
		}
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(13);
		snprintf(four, sizeof(four), "%s%s%s%s", REC, REC, REC, REC);
		/* No writer thread: sink_file_write() writes synchronously. */
		if (sink_file_write(&s, four, strlen(four), notice) < 0)
			_exit(14);
		owed = sink_file_lost(&s, &lost_new, &err);
		if (lost_new != 4 - kept || err != EFBIG)
			_exit(15);
		/* The notice's count is owed again only if the notice itself was lost. */
		if (owed != 4 - kept + (kept == 0 ? notice : 0))
			_exit(15);
		if (sink_file_lost(&s, &lost_new, &err) != 0 || lost_new != 0)
			_exit(16); /* taken once */
		rl.rlim_cur = RLIM_INFINITY;
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(17);
		if (sink_file_write(&s, REC, strlen(REC), 0) < 0)
			_exit(18);
		if (sink_file_lost(&s, &lost_new, &err) != 0)
			_exit(19);
		sink_file_close(&s);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	for (unsigned i = 0; i < kept; i++)
		strcat(want, REC);
	/* stdout keeps the cut record's 10 bytes, and the next record starts on a line of its
	 * own; the file is cut back to the last whole record. */
	if (stdout_mode)
		strcat(want, "{\"seq\":1,\"\n");
	strcat(want, REC);
	assert_string_equal(slurp(path), want);
}

static void test_full_file_truncated(void **state)
{
	(void)state;
	full_case(false, 0, 2);
}

static void test_full_stdout_new_line(void **state)
{
	(void)state;
	full_case(true, 0, 2);
}

/* A dropped notice opening a batch: its count is owed again if the notice is lost with
 * the batch (4 + 5), not if it was written (2). */
static void test_full_notice_owed_again(void **state)
{
	(void)state;
	full_case(false, 5, 0);
	teardown(state);
	setup(state);
	full_case(false, 5, 2);
}

/* ---- close: bounded on a pipe nobody reads ---- */

static void test_close_bounded(void **state)
{
	int status, p[2];
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static char big[256 << 10];
		struct sink_file s;
		struct timespec t0, t1;
		char msg[256];
		long ms;

		alarm(10);
		if (dup2(p[1], STDOUT_FILENO) < 0)
			_exit(10);
		/* p[0] stays open in the parent, unread: the writer blocks in write(). */
		if (sink_file_open(&s, "-", 0, NULL, msg, sizeof(msg)) < 0 || sink_file_start(&s) < 0)
			_exit(11);
		memset(big, 'x', sizeof(big));
		big[sizeof(big) - 1] = '\n';
		if (sink_file_write(&s, big, sizeof(big), 0) < 0)
			_exit(12);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		sink_file_close(&s);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms > SINK_FILE_CLOSE_MS + 1000)
			_exit(13);
		if (!strstr(log_all, "abandoning"))
			_exit(14);
		sink_file_close(&s); /* safe twice */
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(p[0]);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_refuses_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_fifo_without_blocking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_hard_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_other_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_narrows_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_mode_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_file_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_stdout_new_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_notice_owed_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_bounded, setup, teardown),
	};

	log_setup(2, false); /* every level */
	log_set_sink(log_keep);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
