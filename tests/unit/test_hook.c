/*
 * test_hook.c - hook.c: the environment a hook gets (exact variables, NULLs left out,
 * hostile values verbatim), and real hooks run through /bin/sh -c: the value reaches the
 * hook and nothing in it is executed, stdio (stdin /dev/null, stdout and stderr to the
 * pipe drained into the log, no inherited fds, no inherited signal mask), reaping on SIGCHLD, exit status, the bound on
 * hooks running at once (dropped counted and logged), the timeout kill of the whole process
 * group and hook_next_timeout_ms().
 *
 * Everything that runs a hook runs in a forked child under alarm(), which blocks SIGCHLD
 * and waits for it with sigtimedwait(): no sleeps, nothing can hang the test binary.
 * A child reports failure through its exit status; the parent asserts it is 0.
 * log.c is linked: a log sink keeps the last line.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hook.h"
#include "log.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CHILD_ALARM_S 20

/* ---- the log: its lines are captured, the last one kept --------------------------------- */

static char last_log[512];
static unsigned n_logs;

static void log_capture(enum log_level level, const char *text)
{
	(void)level;
	snprintf(last_log, sizeof(last_log), "%s", text);
	n_logs++;
}

/* ---- hook_env_build ------------------------------------------------------------------- */

#define STD_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* env must hold exactly the strings of want (any order), each once, NULL-terminated. */
static void assert_env(char **env, int n, const char *const *want, size_t n_want)
{
	bool seen[HOOK_ENV_MAX] = { false };

	assert_int_equal(n, (int)n_want);
	for (int i = 0; i < n; i++) {
		size_t j;

		assert_non_null(env[i]);
		for (j = 0; j < n_want; j++)
			if (!seen[j] && strcmp(env[i], want[j]) == 0)
				break;
		if (j == n_want)
			fail_msg("unexpected variable '%s'", env[i]);
		seen[j] = true;
	}
	assert_null(env[n]);
}

static void test_env_canary(void **state)
{
	struct alert a = {
		.kind = ALERT_CANARY,
		.pid = 1234,
		.proc = &(struct proc_info){ .comm = "cat", .exe = "/usr/bin/cat" },
		.path = "/run/jobs/J/root/etc/shadow",
		.reason = "canary opened",
		.job_id = "J",
		.path_role = "rootfs",
		.count = 7, /* ignored: not a burst */
		.window_ms = 9,
	};
	static const char *const want[] = {
		STD_PATH,
		"FAN_KIND=canary",
		"FAN_PID=1234",
		"FAN_COMM=cat",
		"FAN_EXE=/usr/bin/cat",
		"FAN_PATH=/run/jobs/J/root/etc/shadow",
		"FAN_REASON=canary opened",
		"FAN_JOB_ID=J",
		"FAN_PATH_ROLE=rootfs",
	};
	char *env[HOOK_ENV_MAX + 1];
	int n;

	(void)state;
	n = hook_env_build(&a, env);
	assert_env(env, n, want, ARRAY_SIZE(want));
	hook_env_free(env);
	assert_null(env[0]);
}

static void test_env_burst(void **state)
{
	struct alert a = {
		.kind = ALERT_BURST,
		.pid = 42,
		.proc = &(struct proc_info){ .comm = "python3", .exe = "/usr/bin/python3.11" },
		.path = "/w/ws/f17.enc",
		.reason = "mutating event burst",
		.path_role = "cache", /* shared cache: role known, job not */
		.count = 32,
		.window_ms = 1000,
		.scope = "parent",
		.scope_id = 4242,
	};
	static const char *const want[] = {
		STD_PATH,
		"FAN_KIND=burst",
		"FAN_PID=42",
		"FAN_COMM=python3",
		"FAN_EXE=/usr/bin/python3.11",
		"FAN_PATH=/w/ws/f17.enc",
		"FAN_REASON=mutating event burst",
		"FAN_PATH_ROLE=cache",
		"FAN_COUNT=32",
		"FAN_WINDOW_MS=1000",
		"FAN_SCOPE=parent",
		"FAN_SCOPE_ID=4242",
	};
	char *env[HOOK_ENV_MAX + 1];
	int n;

	(void)state;
	n = hook_env_build(&a, env);
	assert_env(env, n, want, ARRAY_SIZE(want));
	hook_env_free(env);
	/* A string identity goes as it is. */
	a.scope = "job";
	a.scope_id_str = "J";
	n = hook_env_build(&a, env);
	assert_true(n > 0);
	assert_string_equal(env[n - 1], "FAN_SCOPE_ID=J");
	assert_string_equal(env[n - 2], "FAN_SCOPE=job");
	hook_env_free(env);
}

/* Unknown values are left out, never "" or "(null)". */
static void test_env_nulls(void **state)
{
	struct alert a = { .kind = ALERT_CANARY, .pid = 5, .reason = "canary deleted" };
	static const char *const want[] = {
		STD_PATH,
		"FAN_KIND=canary",
		"FAN_PID=5",
		"FAN_REASON=canary deleted",
	};
	char *env[HOOK_ENV_MAX + 1];
	int n;

	(void)state;
	n = hook_env_build(&a, env);
	assert_env(env, n, want, ARRAY_SIZE(want));
	for (int i = 0; i < n; i++)
		assert_null(strstr(env[i], "(null)"));
	hook_env_free(env);
}

/* Hostile values are kept byte for byte: '$(...)', quotes, ';', newlines, '=' . */
static void test_env_hostile(void **state)
{
	static const char *const values[] = {
		"$(touch /tmp/pwned);x",
		"`id`;rm -rf /x",
		"line1\nline2\n",
		"a=b=c",
		"'\"\\ \t*?[x]",
		"",
	};
	char *env[HOOK_ENV_MAX + 1];
	char want[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		struct alert a = {
			.kind = ALERT_CANARY,
			.pid = 1,
			.proc = &(struct proc_info){ .comm = values[i], .exe = values[i] },
			.path = values[i],
			.reason = "canary opened",
			.job_id = values[i],
		};
		int n = hook_env_build(&a, env);
		int found = 0;

		assert_int_equal(n, 8);
		for (int k = 0; k < n; k++) {
			static const char *const names[] = { "FAN_COMM=", "FAN_EXE=", "FAN_PATH=",
							     "FAN_JOB_ID=" };

			for (size_t m = 0; m < ARRAY_SIZE(names); m++) {
				snprintf(want, sizeof(want), "%s%s", names[m], values[i]);
				if (strcmp(env[k], want) == 0)
					found++;
			}
		}
		if (found != 4)
			fail_msg("value %zu: %d of 4 variables verbatim", i, found);
		hook_env_free(env);
	}
}

static void test_env_pid_formats(void **state)
{
	static const struct {
		pid_t pid;
		const char *want;
	} cases[] = { { 0, "FAN_PID=0" }, { 1, "FAN_PID=1" }, { 4194304, "FAN_PID=4194304" } };
	char *env[HOOK_ENV_MAX + 1];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct alert a = { .kind = ALERT_BURST, .pid = cases[i].pid };
		int n = hook_env_build(&a, env);
		bool seen = false;

		for (int k = 0; k < n; k++)
			seen |= strcmp(env[k], cases[i].want) == 0;
		if (!seen)
			fail_msg("%s missing", cases[i].want);
		hook_env_free(env);
	}
}

/* ---- forked-child helpers ------------------------------------------------------------- */

static struct hook *child_hook; /* killed on a failed check so no hook outlives the test */
static int child_err_fd = STDERR_FILENO;

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond))                                                                 \
			child_fail(__LINE__, #cond);                                         \
	} while (0)

static void __attribute__((noreturn)) child_fail(int line, const char *what)
{
	dprintf(child_err_fd, "%s:%d: check failed: %s (errno %d, last log '%s')\n", __FILE__,
		line, what, errno, last_log);
	if (child_hook)
		hook_close(child_hook);
	_exit(1);
}

/* Runs fn(dir) in a forked child under alarm() with SIGCHLD blocked; dir is a fresh temp
 * directory, removed afterwards. */
static void run_child(void (*fn)(const char *dir))
{
	char dir[] = "/tmp/fanotifyd-test-hook-XXXXXX";
	char rm[128];
	pid_t pid;
	int status;

	assert_non_null(mkdtemp(dir));
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sigset_t chld;

		alarm(CHILD_ALARM_S);
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		sigprocmask(SIG_BLOCK, &chld, NULL);
		fn(dir);
		if (child_hook)
			hook_close(child_hook);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
	if (system(rm) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	if (WIFSIGNALED(status))
		fail_msg("test child killed by signal %d%s", WTERMSIG(status),
			 WTERMSIG(status) == SIGALRM ? " (alarm: it hung)" : "");
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Reaps until at most want hooks run; waits for SIGCHLD up to 5 s a turn (alarm bounds
 * the whole). */
static bool reap_until(struct hook *h, unsigned want)
{
	sigset_t chld;
	struct timespec ts = { .tv_sec = 5 };

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		hook_reap(h);
		if (h->n_running <= want)
			return true;
		if (sigtimedwait(&chld, NULL, &ts) < 0 && errno == EAGAIN)
			return false;
	}
}

static char *read_file(const char *path, size_t *ret_len)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	*ret_len = (size_t)n;
	return buf;
}

static pid_t only_running_pid(const struct hook *h)
{
	for (unsigned i = 0; i < HOOK_RUNNING_CAP; i++)
		if (h->running[i].pid)
			return h->running[i].pid;
	return 0;
}

/* ---- real hooks ------------------------------------------------------------------------ */

static char hostile_path[1024];

/* The value reaches the hook through $FAN_PATH byte for byte and nothing in it runs. */
static void child_run_path(const char *dir)
{
	struct hook h;
	char cmd[512], out[256], pwned[256];
	struct alert a = { .kind = ALERT_CANARY, .pid = 77, .reason = "canary opened" };
	const char *got;
	size_t len;
	pid_t pid;
	int status;

	snprintf(pwned, sizeof(pwned), "%s/pwned", dir);
	snprintf(hostile_path, sizeof(hostile_path), "/w/$(touch %s);x\n`touch %s`'\"", pwned,
		 pwned);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(cmd, sizeof(cmd), "printf '%%s' \"$FAN_PATH\" >'%s'", out);
	a.path = hostile_path;
	CHECK(hook_init(&h, cmd, 4, 10000) == 0);
	child_hook = &h;
	CHECK(h.null_fd >= 0);
	CHECK(hook_run(&h, &a, 1000) == 0);
	CHECK(h.n_running == 1);
	CHECK(h.started == 1);
	pid = only_running_pid(&h);
	CHECK(pid > 0);
	CHECK(getpgid(pid) == pid); /* its own process group */
	CHECK(reap_until(&h, 0));
	CHECK(h.n_running == 0);
	CHECK(h.failed == 0);
	CHECK(only_running_pid(&h) == 0);
	/* Reaped: no zombie left for it. */
	CHECK(waitpid(pid, &status, WNOHANG) < 0 && errno == ECHILD);
	got = read_file(out, &len);
	CHECK(got != NULL);
	CHECK(len == strlen(hostile_path));
	CHECK(memcmp(got, hostile_path, len) == 0);
	CHECK(access(pwned, F_OK) < 0 && errno == ENOENT);
	hook_close(&h);
	hook_close(&h); /* twice */
	child_hook = NULL;
}

static void test_run_path(void **state)
{
	(void)state;
	run_child(child_run_path);
}

/* The whole environment: FAN_* and PATH, nothing of ours (the shell adds PWD). */
static void child_run_env(const char *dir)
{
	struct hook h;
	char cmd[512], out[256];
	struct alert a = {
		.kind = ALERT_BURST,
		.pid = 4242,
		.proc = &(struct proc_info){ .comm = "python3", .exe = "/usr/bin/python3" },
		.path = "/w/ws/f1",
		.reason = "mutating event burst",
		.job_id = "J",
		.path_role = "workspace",
		.count = 32,
		.window_ms = 1000,
	};
	static const char *const want[] = {
		STD_PATH,
		"FAN_KIND=burst",
		"FAN_PID=4242",
		"FAN_COMM=python3",
		"FAN_EXE=/usr/bin/python3",
		"FAN_PATH=/w/ws/f1",
		"FAN_REASON=mutating event burst",
		"FAN_JOB_ID=J",
		"FAN_PATH_ROLE=workspace",
		"FAN_COUNT=32",
		"FAN_WINDOW_MS=1000",
	};
	bool seen[ARRAY_SIZE(want)] = { false };
	char *text, *line, *save = NULL;
	size_t len;

	setenv("FANOTIFYD_TEST_SECRET", "must-not-leak", 1);
	setenv("FAN_STALE", "from-the-daemon", 1);
	snprintf(out, sizeof(out), "%s/env", dir);
	snprintf(cmd, sizeof(cmd), "env >'%s'", out);
	CHECK(hook_init(&h, cmd, 4, 10000) == 0);
	child_hook = &h;
	CHECK(hook_run(&h, &a, 0) == 0);
	CHECK(reap_until(&h, 0));
	CHECK(h.failed == 0);
	text = read_file(out, &len);
	CHECK(text != NULL);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t j;

		for (j = 0; j < ARRAY_SIZE(want); j++)
			if (strcmp(line, want[j]) == 0)
				break;
		if (j < ARRAY_SIZE(want)) {
			CHECK(!seen[j]);
			seen[j] = true;
			continue;
		}
		/* What sh itself sets is fine; anything else came from us. */
		if (strncmp(line, "PWD=", 4) && strncmp(line, "SHLVL=", 6) && strncmp(line, "_=", 2))
			child_fail(__LINE__, line);
	}
	for (size_t j = 0; j < ARRAY_SIZE(want); j++)
		if (!seen[j])
			child_fail(__LINE__, want[j]);
	hook_close(&h);
	child_hook = NULL;
}

static void test_run_env(void **state)
{
	(void)state;
	run_child(child_run_env);
}

/* The SigIgn bit mask of a /proc/PID/status text in file path; ~0 when unreadable. */
static unsigned long long sig_ignored_mask(const char *path)
{
	size_t len;
	const char *text = read_file(path, &len);
	const char *s = text ? strstr(text, "SigIgn:\t") : NULL;

	return s ? strtoull(s + 8, NULL, 16) : ~0ull;
}

/* stdin is /dev/null, stdout goes to the output pipe (into our log, not our stderr), no fd
 * of ours is inherited, the signal mask and SIGPIPE disposition are the defaults. */
static void child_run_stdio(const char *dir)
{
	struct hook h;
	char cmd[1024], err_path[256], in_path[256], leak_path[256], sig_path[256];
	struct alert a = { .kind = ALERT_CANARY, .pid = 1, .reason = "canary opened" };
	const char *text;
	size_t len;
	int err_fd, leak_fd;
	unsigned long long own_ign;
	sigset_t more;

	snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
	snprintf(in_path, sizeof(in_path), "%s/stdin", dir);
	snprintf(leak_path, sizeof(leak_path), "%s/leak", dir);
	snprintf(sig_path, sizeof(sig_path), "%s/sig", dir);
	/* An fd without O_CLOEXEC, as a careless library might leave one. */
	leak_fd = open("/dev/null", O_RDONLY);
	CHECK(leak_fd > 2);
	child_err_fd = dup(STDERR_FILENO);
	err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(err_fd >= 0);
	CHECK(dup2(err_fd, STDERR_FILENO) == STDERR_FILENO);
	close(err_fd);
	/* Our stdin has data: the hook must read /dev/null instead. */
	snprintf(cmd, sizeof(cmd), "%s/our-stdin", dir);
	err_fd = open(cmd, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(err_fd >= 0);
	CHECK(write(err_fd, "daemon-stdin\n", 13) == 13);
	CHECK(lseek(err_fd, 0, SEEK_SET) == 0);
	CHECK(dup2(err_fd, STDIN_FILENO) == STDIN_FILENO);
	close(err_fd);
	/* What the daemon sets for itself. Whatever our own parent left ignored (a shell's
	 * '&' ignores SIGINT and SIGQUIT; some runners ignore real-time signals) is not the
	 * daemon's doing and may pass through. */
	signal(SIGPIPE, SIG_IGN);
	own_ign = sig_ignored_mask("/proc/self/status");
	CHECK(own_ign & (1ull << (SIGPIPE - 1)));
	sigemptyset(&more);
	sigaddset(&more, SIGTERM);
	sigaddset(&more, SIGHUP);
	sigprocmask(SIG_BLOCK, &more, NULL);
	snprintf(cmd, sizeof(cmd),
		 "echo hook-stdout-marker; cat >'%s'; "
		 "if [ -e /proc/$$/fd/%d ]; then echo leaked >'%s'; fi; "
		 /* Read by the shell itself, while it runs: a shell waiting for a child
		  * (grep) blocks signals for the wait, so another process would see them. */
		 "while read -r k v; do case $k in SigBlk:|SigIgn:) "
		 "printf '%%s\\t%%s\\n' \"$k\" \"$v\";; esac; done </proc/$$/status >'%s'",
		 in_path, leak_fd, leak_path, sig_path);
	CHECK(hook_init(&h, cmd, 4, 10000) == 0);
	child_hook = &h;
	CHECK(hook_run(&h, &a, 0) == 0);
	CHECK(reap_until(&h, 0));
	CHECK(h.failed == 0);
	/* Its output reaches our log through the pipe, never our stderr. */
	hook_drain(&h);
	CHECK(strstr(last_log, "hook-stdout-marker") != NULL);
	text = read_file(err_path, &len);
	CHECK(text != NULL && len == 0);
	text = read_file(in_path, &len);
	CHECK(text != NULL && len == 0);
	CHECK(access(leak_path, F_OK) < 0);
	text = read_file(sig_path, &len);
	CHECK(text != NULL);
	CHECK(strstr(text, "SigBlk:\t0000000000000000\n") != NULL);
	CHECK(sig_ignored_mask(sig_path) == (own_ign & ~(1ull << (SIGPIPE - 1))));
	hook_close(&h);
	child_hook = NULL;
}

static void test_run_stdio(void **state)
{
	(void)state;
	run_child(child_run_stdio);
}

/* A hook that fails is counted and logged; a hook killed by a signal too. */
static void child_run_status(const char *dir)
{
	struct hook h;
	struct alert a = { .kind = ALERT_CANARY, .pid = 1, .reason = "canary opened" };

	(void)dir;
	CHECK(hook_init(&h, "exit 3", 4, 10000) == 0);
	child_hook = &h;
	CHECK(hook_run(&h, &a, 0) == 0);
	CHECK(reap_until(&h, 0));
	CHECK(h.failed == 1);
	CHECK(strstr(last_log, "exited with status 3") != NULL);
	hook_close(&h);
	CHECK(hook_init(&h, "kill -TERM $$", 4, 10000) == 0);
	CHECK(hook_run(&h, &a, 0) == 0);
	CHECK(reap_until(&h, 0));
	CHECK(h.failed == 1);
	CHECK(strstr(last_log, "killed by signal 15") != NULL);
	hook_close(&h);
	child_hook = NULL;
}

static void test_run_status(void **state)
{
	(void)state;
	run_child(child_run_status);
}

/* At most max_running at once: the excess is dropped, counted and logged. */
static void child_max_running(const char *dir)
{
	struct hook h;
	struct alert a = { .kind = ALERT_BURST, .pid = 1, .reason = "mutating event burst" };
	pid_t pids[2];
	int status;

	(void)dir;
	CHECK(hook_init(&h, "sleep 30; true", 2, 10000) == 0);
	child_hook = &h;
	CHECK(hook_run(&h, &a, 0) == 0);
	CHECK(hook_run(&h, &a, 0) == 0);
	CHECK(h.n_running == 2);
	n_logs = 0;
	CHECK(hook_run(&h, &a, 0) == -EBUSY);
	CHECK(hook_run(&h, &a, 0) == -EBUSY);
	CHECK(h.dropped == 2);
	CHECK(h.started == 2);
	CHECK(h.n_running == 2);
	CHECK(n_logs == 2);
	CHECK(strstr(last_log, "already running") != NULL);
	CHECK(strstr(last_log, "burst") != NULL);
	pids[0] = h.running[0].pid;
	pids[1] = h.running[1].pid;
	CHECK(pids[0] > 0 && pids[1] > 0);
	/* hook_close kills and reaps both. */
	hook_close(&h);
	CHECK(h.n_running == 0);
	CHECK(waitpid(pids[0], &status, WNOHANG) < 0 && errno == ECHILD);
	CHECK(waitpid(pids[1], &status, WNOHANG) < 0 && errno == ECHILD);

	/* A slot frees when its hook is reaped. */
	CHECK(hook_init(&h, "exit 0", 1, 10000) == 0);
	CHECK(hook_run(&h, &a, 0) == 0);
	CHECK(reap_until(&h, 0));
	CHECK(hook_run(&h, &a, 0) == 0);
	CHECK(reap_until(&h, 0));
	CHECK(h.started == 2 && h.dropped == 0);
	hook_close(&h);

	/* The configured bound is capped. */
	CHECK(hook_init(&h, "exit 0", 100000, 10000) == 0);
	CHECK(h.max_running == HOOK_RUNNING_CAP);
	hook_close(&h);

	/* No hook configured: nothing runs, nothing is dropped. */
	CHECK(hook_init(&h, NULL, 4, 10000) == 0);
	CHECK(h.null_fd < 0);
	CHECK(hook_run(&h, &a, 0) == 0);
	CHECK(h.started == 0 && h.dropped == 0 && h.n_running == 0);
	CHECK(hook_next_timeout_ms(&h, 0) == -1);
	hook_close(&h);
	hook_close(&h);
	child_hook = NULL;
}

static void test_max_running(void **state)
{
	(void)state;
	run_child(child_max_running);
}

/* No hook for an alert of a running hook's child (its parent known from the alert's process)
 * or of our own child: counted in own, logged. An unknown parent is no reason to skip. */
static void child_own(const char *dir)
{
	struct hook h;
	struct proc_info pi = { .pid = 4194304, .ppid_known = true }; /* above PID_MAX_LIMIT */
	struct alert a = { .kind = ALERT_CANARY, .pid = 1, .reason = "canary opened" };
	pid_t hp;

	(void)dir;
	CHECK(hook_init(&h, "sleep 30; true", 4, 10000) == 0);
	child_hook = &h;
	CHECK(hook_run(&h, &a, 0) == 0);
	hp = only_running_pid(&h);
	CHECK(hp > 0);
	a.pid = pi.pid;
	a.proc = &pi;
	pi.ppid = hp;
	n_logs = 0;
	CHECK(hook_run(&h, &a, 0) == 0);
	CHECK(h.own == 1 && h.started == 1);
	CHECK(n_logs == 1 && strstr(last_log, "raised by a hook") != NULL);
	CHECK(strstr(last_log, "canary") != NULL);
	pi.ppid = getpid();
	CHECK(hook_run(&h, &a, 0) == 0);
	CHECK(h.own == 2 && h.started == 1);
	pi.ppid_known = false;
	CHECK(hook_run(&h, &a, 0) == 0);
	CHECK(h.own == 2 && h.started == 2);
	a.proc = NULL;
	CHECK(hook_run(&h, &a, 0) == 0);
	CHECK(h.own == 2 && h.started == 3);
	hook_close(&h);
	child_hook = NULL;
}

static void test_own(void **state)
{
	(void)state;
	run_child(child_own);
}

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Waits up to 5 s for a process (not necessarily our child) to exit. */
static bool exited(int pidfd)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

	return poll(&pfd, 1, 5000) == 1;
}

/* A hook past its deadline is killed with its whole process group. */
static void child_timeout(const char *dir)
{
	struct hook h;
	char cmd[512], fifo[256], buf[32];
	struct alert a = { .kind = ALERT_CANARY, .pid = 1, .reason = "canary opened" };
	struct pollfd pfd;
	ssize_t n;
	pid_t sh_pid, sleep_pid;
	int fifo_fd, sh_fd, sleep_fd;

	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	CHECK(mkfifo(fifo, 0600) == 0);
	fifo_fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	CHECK(fifo_fd >= 0);
	/* The sleep is a grandchild: sh waits for it. */
	snprintf(cmd, sizeof(cmd), "sleep 30 & echo $! >'%s'; wait", fifo);
	CHECK(hook_init(&h, cmd, 4, 300) == 0);
	child_hook = &h;
	CHECK(hook_next_timeout_ms(&h, 1000) == -1);
	CHECK(hook_run(&h, &a, 1000) == 0);
	sh_pid = only_running_pid(&h);
	CHECK(sh_pid > 0);
	pfd = (struct pollfd){ .fd = fifo_fd, .events = POLLIN };
	CHECK(poll(&pfd, 1, 5000) == 1);
	n = read(fifo_fd, buf, sizeof(buf) - 1);
	CHECK(n > 0);
	buf[n] = '\0';
	sleep_pid = (pid_t)atoi(buf);
	CHECK(sleep_pid > 0);
	CHECK(getpgid(sleep_pid) == sh_pid);
	sh_fd = pidfd_open_(sh_pid);
	sleep_fd = pidfd_open_(sleep_pid);
	CHECK(sh_fd >= 0 && sleep_fd >= 0);

	CHECK(hook_next_timeout_ms(&h, 1000) == 300);
	CHECK(hook_next_timeout_ms(&h, 1200) == 100);
	CHECK(hook_next_timeout_ms(&h, 1300) == 0);
	CHECK(hook_next_timeout_ms(&h, 99999) == 0);
	/* One ms before the deadline: nothing happens. */
	hook_expire(&h, 1299);
	CHECK(h.killed == 0);
	pfd = (struct pollfd){ .fd = sleep_fd, .events = POLLIN };
	CHECK(poll(&pfd, 1, 0) == 0); /* still running */
	/* At the deadline: the group is killed. */
	hook_expire(&h, 1300);
	CHECK(h.killed == 1);
	CHECK(hook_next_timeout_ms(&h, 1300) == -1); /* killed: no deadline to wait for */
	CHECK(exited(sleep_fd));
	CHECK(exited(sh_fd));
	hook_expire(&h, 5000);
	CHECK(h.killed == 1); /* once */
	CHECK(reap_until(&h, 0));
	CHECK(h.n_running == 0);
	CHECK(h.failed == 0); /* a timeout is counted in killed, not failed */
	CHECK(strstr(last_log, "killed at its 300 ms timeout") != NULL);
	close(sh_fd);
	close(sleep_fd);
	close(fifo_fd);
	hook_close(&h);
	child_hook = NULL;
}

static void test_timeout(void **state)
{
	(void)state;
	run_child(child_timeout);
}

/* The next deadline is the earliest of the running hooks. */
static void child_next_timeout(const char *dir)
{
	struct hook h;
	struct alert a = { .kind = ALERT_CANARY, .pid = 1, .reason = "canary opened" };

	(void)dir;
	CHECK(hook_init(&h, "sleep 30; true", 4, 300) == 0);
	child_hook = &h;
	CHECK(hook_run(&h, &a, 1100) == 0); /* deadline 1400 */
	CHECK(hook_run(&h, &a, 1000) == 0); /* deadline 1300 */
	CHECK(hook_run(&h, &a, 1200) == 0); /* deadline 1500 */
	CHECK(hook_next_timeout_ms(&h, 1150) == 150);
	hook_expire(&h, 1300);
	CHECK(h.killed == 1);
	CHECK(hook_next_timeout_ms(&h, 1300) == 100);
	hook_expire(&h, 1450);
	CHECK(h.killed == 2);
	CHECK(hook_next_timeout_ms(&h, 1450) == 50);
	hook_close(&h);
	CHECK(h.n_running == 0);
	CHECK(hook_next_timeout_ms(&h, 1450) == -1);
	child_hook = NULL;
}

static void test_next_timeout(void **state)
{
	(void)state;
	run_child(child_next_timeout);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_canary),
		cmocka_unit_test(test_env_burst),
		cmocka_unit_test(test_env_nulls),
		cmocka_unit_test(test_env_hostile),
		cmocka_unit_test(test_env_pid_formats),
		cmocka_unit_test(test_run_path),
		cmocka_unit_test(test_run_env),
		cmocka_unit_test(test_run_stdio),
		cmocka_unit_test(test_run_status),
		cmocka_unit_test(test_max_running),
		cmocka_unit_test(test_own),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_next_timeout),
	};

	log_setup(2, false); /* every level */
	log_set_sink(log_capture);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
