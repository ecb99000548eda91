/*
 * work - workloads for the fanotifyd benchmark, one binary with subcommands.
 *
 * Timed subcommands print one line "time_s=SECONDS ops=N end_mono=S end_real=S" (time_s:
 * CLOCK_MONOTONIC around the operations only; set-up is a separate subcommand run outside the
 * timed region).
 *
 *   setup-openclose DIR N   create DIR/f000000 .. f(N-1), 64 bytes each
 *   openclose DIR N         open(O_RDONLY) + close each of them                (timed)
 *   reopen DIR N FILES      open(O_RDONLY) + close DIR/f<i % FILES> for i = 0..N-1, i.e.
 *                           each of FILES files (made by setup-openclose) N/FILES times
 *                                                                               (timed)
 *   churn DIR N             create c<i>, write 4 KiB, close, rename to c<i>.r, unlink
 *                                                                               (timed)
 *   setup-execs DIR SRC     copy the executable SRC to DIR/true
 *   execs DIR N             fork + exec DIR/true, wait; N times                 (timed)
 *   mktree DIR DIRS FILES   source tree for the tar archive: DIRS dirs d000.. holding
 *                           FILES files f000.txt.. each, 100-2000 bytes
 *   tar DIR TARBALL         fork + exec "tar -xf TARBALL -C DIR", wait          (timed)
 *   shortlived DIR N        in DIR: fork + exec /bin/sh -c 'echo x > f<i>', wait; N times
 *                                                                               (timed)
 *   build DIR JOBS LOG      make -s -jJOBS fanotifyd in DIR (a copy of this project's src/ and
 *                           Makefile), its output into LOG                     (timed)
 *   sentinel PATH           create PATH, write a line, close (the "arrived" handshake)
 *
 * With WORK_SENTINEL=PATH a timed subcommand creates that sentinel itself right after the
 * timed region.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts); /* cannot fail for CLOCK_MONOTONIC */
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *arg)
{
	fprintf(stderr, "work: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
	exit(1);
}

static long num(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0) {
		fprintf(stderr, "work: bad number %s\n", s);
		exit(2);
	}
	return v;
}

/* end_mono, end_real: CLOCK_MONOTONIC and CLOCK_REALTIME at the end, so a helper can time
 * how long a listener lags behind (fanotifyd stamps records with wall-clock ts_ms). */
static int cmd_sentinel(const char *path);

/* After the timed region: with WORK_SENTINEL=PATH in the environment, the sentinel file is
 * created right away by this process, not by a new one started later. */
static void report(double t0, double t1, long ops)
{
	const char *sentinel = getenv("WORK_SENTINEL");
	struct timespec rt;

	(void)clock_gettime(CLOCK_REALTIME, &rt); /* cannot fail for CLOCK_REALTIME */
	if (sentinel && *sentinel)
		cmd_sentinel(sentinel);
	printf("time_s=%.6f ops=%ld end_mono=%.6f end_real=%.6f\n", t1 - t0, ops, t1,
	       (double)rt.tv_sec + (double)rt.tv_nsec / 1e9);
}

static void write_all(int fd, const char *buf, size_t len, const char *path)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write", path);
		}
		buf += n;
		len -= (size_t)n;
	}
}

static int cmd_setup_openclose(const char *dir, long n)
{
	char path[4096], data[64];

	memset(data, 'o', sizeof(data));
	for (long i = 0; i < n; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/f%06ld", dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			die("open", path);
		write_all(fd, data, sizeof(data), path);
		if (close(fd) < 0)
			die("close", path);
	}
	return 0;
}

static int cmd_reopen(const char *dir, long n, long files)
{
	char path[4096];
	double t0, t1;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		die("open", dir);
	if (files < 1) {
		fprintf(stderr, "work: reopen needs FILES >= 1\n");
		exit(2);
	}
	t0 = now_s();
	for (long i = 0; i < n; i++) {
		int fd;

		snprintf(path, sizeof(path), "f%06ld", i % files);
		fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die("open", path);
		if (close(fd) < 0)
			die("close", path);
	}
	t1 = now_s();
	report(t0, t1, n);
	return 0;
}

static int cmd_churn(const char *dir, long n)
{
	static char data[4096];
	char a[64], b[64];
	double t0, t1;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		die("open", dir);
	memset(data, 'c', sizeof(data));
	t0 = now_s();
	for (long i = 0; i < n; i++) {
		int fd;

		snprintf(a, sizeof(a), "c%ld", i);
		snprintf(b, sizeof(b), "c%ld.r", i);
		fd = openat(dfd, a, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			die("create", a);
		write_all(fd, data, sizeof(data), a);
		if (close(fd) < 0)
			die("close", a);
		if (renameat(dfd, a, dfd, b) < 0)
			die("rename", a);
		if (unlinkat(dfd, b, 0) < 0)
			die("unlink", b);
	}
	t1 = now_s();
	report(t0, t1, n);
	return 0;
}

static int cmd_setup_execs(const char *dir, const char *src)
{
	char path[4096], buf[65536];
	int in, out;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/true", dir);
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		die("open", src);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0)
		die("open", path);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		write_all(out, buf, (size_t)n, path);
	if (n < 0)
		die("read", src);
	if (close(in) < 0 || close(out) < 0)
		die("close", path);
	return 0;
}

/* fork + execv + waitpid; the child's failure is the whole run's failure. */
static void run_child(const char *prog, char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork", prog);
	if (pid == 0) {
		execv(prog, argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			die("waitpid", prog);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "work: %s failed (status 0x%x)\n", prog, (unsigned)status);
		exit(1);
	}
}

static int cmd_execs(const char *dir, long n)
{
	char path[4096];
	char *argv[2];
	double t0, t1;

	snprintf(path, sizeof(path), "%s/true", dir);
	argv[0] = path;
	argv[1] = NULL;
	t0 = now_s();
	for (long i = 0; i < n; i++)
		run_child(path, argv);
	t1 = now_s();
	report(t0, t1, n);
	return 0;
}

static int cmd_mktree(const char *dir, long dirs, long files)
{
	static char data[2000];
	char path[4096];

	memset(data, 't', sizeof(data));
	for (long d = 0; d < dirs; d++) {
		snprintf(path, sizeof(path), "%s/d%03ld", dir, d);
		if (mkdir(path, 0755) < 0)
			die("mkdir", path);
		for (long f = 0; f < files; f++) {
			/* 100 .. 1999 bytes, deterministic */
			size_t len = 100 + (size_t)((d * 7919 + f * 104729) % 1900);
			int fd;

			snprintf(path, sizeof(path), "%s/d%03ld/f%03ld.txt", dir, d, f);
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (fd < 0)
				die("open", path);
			write_all(fd, data, len, path);
			if (close(fd) < 0)
				die("close", path);
		}
	}
	return 0;
}

static int cmd_tar(const char *dir, const char *tarball)
{
	char *argv[] = { "tar", "-xf", (char *)tarball, "-C", (char *)dir, NULL };
	const char *tar = access("/usr/bin/tar", X_OK) == 0 ? "/usr/bin/tar" : "/bin/tar";
	double t0, t1;

	t0 = now_s();
	run_child(tar, argv);
	t1 = now_s();
	report(t0, t1, 1);
	return 0;
}

static int cmd_shortlived(const char *dir, long n)
{
	char cmd[64];
	char *argv[] = { "sh", "-c", cmd, NULL };
	double t0, t1;

	if (chdir(dir) < 0)
		die("chdir", dir);
	t0 = now_s();
	for (long i = 0; i < n; i++) {
		snprintf(cmd, sizeof(cmd), "echo x > f%ld", i);
		run_child("/bin/sh", argv);
	}
	t1 = now_s();
	report(t0, t1, n);
	return 0;
}

/* The build's output goes to LOG: this process's stdout carries only the report line. */
static int cmd_build(const char *dir, long jobs, const char *log)
{
	char jarg[32];
	char *argv[] = { "make", "-s", jarg, "-C", (char *)dir, "fanotifyd", NULL };
	const char *make = access("/usr/bin/make", X_OK) == 0 ? "/usr/bin/make" : "/bin/make";
	double t0, t1;
	int status;
	pid_t pid;
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		die("open", log);
	snprintf(jarg, sizeof(jarg), "-j%ld", jobs);
	t0 = now_s();
	pid = fork();
	if (pid < 0)
		die("fork", make);
	if (pid == 0) {
		if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execv(make, argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			die("waitpid", make);
	}
	t1 = now_s();
	if (close(fd) < 0)
		die("close", log);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "work: make in %s failed (status 0x%x), see %s\n", dir,
			(unsigned)status, log);
		exit(1);
	}
	report(t0, t1, 1);
	return 0;
}

static int cmd_sentinel(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		die("open", path);
	write_all(fd, "sentinel\n", 9, path);
	if (close(fd) < 0)
		die("close", path);
	return 0;
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	if (!strcmp(c, "setup-openclose") && argc == 4)
		return cmd_setup_openclose(argv[2], num(argv[3]));
	if (!strcmp(c, "openclose") && argc == 4)
		return cmd_reopen(argv[2], num(argv[3]), num(argv[3]));
	if (!strcmp(c, "reopen") && argc == 5)
		return cmd_reopen(argv[2], num(argv[3]), num(argv[4]));
	if (!strcmp(c, "churn") && argc == 4)
		return cmd_churn(argv[2], num(argv[3]));
	if (!strcmp(c, "setup-execs") && argc == 4)
		return cmd_setup_execs(argv[2], argv[3]);
	if (!strcmp(c, "execs") && argc == 4)
		return cmd_execs(argv[2], num(argv[3]));
	if (!strcmp(c, "mktree") && argc == 5)
		return cmd_mktree(argv[2], num(argv[3]), num(argv[4]));
	if (!strcmp(c, "tar") && argc == 4)
		return cmd_tar(argv[2], argv[3]);
	if (!strcmp(c, "shortlived") && argc == 4)
		return cmd_shortlived(argv[2], num(argv[3]));
	if (!strcmp(c, "build") && argc == 5)
		return cmd_build(argv[2], num(argv[3]), argv[4]);
	if (!strcmp(c, "sentinel") && argc == 3)
		return cmd_sentinel(argv[2]);
	fprintf(stderr, "usage: work setup-openclose DIR N | openclose DIR N |\n"
		"       reopen DIR N FILES | churn DIR N |\n"
		"       setup-execs DIR SRC | execs DIR N | mktree DIR DIRS FILES |\n"
		"       tar DIR TARBALL | shortlived DIR N | build DIR JOBS LOG |\n"
		"       sentinel PATH\n");
	return 2;
}
