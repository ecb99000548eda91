/*
 * test_pipeline.c - pipeline.c against fake groups: every permission event is answered
 * exactly once with the right verdict, and the records that come out.
 *
 * A SOCK_SEQPACKET socketpair stands in for each fanotify group: the test writes a
 * byte-exact fanotify read buffer into one end, pipeline_read_group() reads it from the
 * other and writes its struct fanotify_response answers there, which the test reads back.
 * Each event carries a real fd (a file of the test's temporary directory), which the
 * pipeline must close; responses name events by that fd. The process behind the events is a
 * child that sleeps. The output file is written synchronously (no writer thread). Links
 * libfanotifyd.a (everything but main.c). No root, no fanotify.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "compat.h"
#include "daemon.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The test binary links with --wrap=clock_gettime: a test can step the wall clock the
 * pipeline sees (CLOCK_REALTIME + realtime_step_ms) without stepping the machine's. */
int __real_clock_gettime(clockid_t clk, struct timespec *ts);
static int64_t realtime_step_ms;

int __wrap_clock_gettime(clockid_t clk, struct timespec *ts);
int __wrap_clock_gettime(clockid_t clk, struct timespec *ts)
{
	int r = __real_clock_gettime(clk, ts);

	if (r == 0 && clk == CLOCK_REALTIME && realtime_step_ms) {
		int64_t ns = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec +
			     realtime_step_ms * 1000000;

		ts->tv_sec = ns / 1000000000;
		ts->tv_nsec = ns % 1000000000;
	}
	return r;
}
#define MAX_EVENTS 16

struct fixture {
	struct daemon d;
	int perm[2];		/* [0] the pipeline's "group", [1] the test's end */
	int fid[2];
	pid_t actor;		/* a sleeping child: the process behind the events */
	char dir[64];
	char out[96];
};

struct ev_spec {
	uint64_t mask;
	bool self;		/* pid = the daemon's own */
	bool no_fd;		/* FAN_NOFD (an FID-group event) */
	const char *file;	/* name of the file its fd is opened on (in dir); NULL = "f" */
};

struct response {
	int fd;
	uint32_t response;
};

static void daemon_up(struct fixture *f, const char *const *args)
{
	char *argv[16] = { "fanotifyd", "--foreground", "--mount", "/" };
	char msg[256] = "";
	int argc = 4;

	memset(f, 0, sizeof(*f));
	f->perm[0] = f->perm[1] = f->fid[0] = f->fid[1] = -1;
	strcpy(f->dir, "/tmp/test_pipeline.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->out, sizeof(f->out), "%s/out.jsonl", f->dir);
	for (; args && *args; args++)
		argv[argc++] = (char *)*args;
	config_init(&f->d.cfg);
	if (config_from_args(&f->d.cfg, argc, argv, msg, sizeof(msg)) < 0)
		fail_msg("config: %s", msg);
	f->actor = fork();
	assert_true(f->actor >= 0);
	if (f->actor == 0) {
		int null = open("/dev/null", O_RDWR);

		/* Gone with the test binary, and holding none of its output open. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		pause();
		_exit(0);
	}

	struct daemon *d = &f->d;

	d->self = getpid();
	d->sig_fd = -1;
	d->sock.listen_fd = -1;
	d->hook.null_fd = d->hook.out_rfd = d->hook.out_wfd = -1;
	fan_init(&d->fan);
	d->resolve = malloc(sizeof(*d->resolve));
	assert_non_null(d->resolve);
	resolve_init(d->resolve);
	d->proc = calloc(1, sizeof(*d->proc));
	d->policy = calloc(1, sizeof(*d->policy));
	assert_true(d->proc && d->policy);
	assert_int_equal(pipeline_init(&d->pipeline, &d->fan, d->resolve, d->proc, d->policy,
				       &d->cache, &d->hook, &d->out, &d->sock, d->self), 0);
	d->proc->nl_fd = -1;
	d->pipeline.nofile = 1024;
	if (sink_file_open(&d->out, f->out, 0, NULL, msg, sizeof(msg)) < 0)
		fail_msg("output: %s", msg);
	if (policy_init(d->policy, &d->cfg, msg, sizeof(msg)) < 0)
		fail_msg("policy: %s", msg);
	assert_int_equal(hook_init(&d->hook, NULL, 1, 1000), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, f->perm), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, f->fid), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fcntl(f->perm[i], F_SETFL, O_NONBLOCK), 0);
		assert_int_equal(fcntl(f->fid[i], F_SETFL, O_NONBLOCK), 0);
	}
	d->fan.fd_fd = f->perm[0];
	d->fan.fd_is_perm = d->cfg.perm;
}

static void daemon_down(struct fixture *f)
{
	struct daemon *d = &f->d;
	char cmd[128];

	/* fan_close() would close the socket ends: the test owns them. */
	d->fan.fd_fd = d->fan.fid_fd = -1;
	fan_close(&d->fan);
	hook_close(&d->hook);
	sink_file_close(&d->out);
	policy_free(d->policy);
	free(d->policy);
	proc_close(d->proc);
	free(d->proc);
	resolve_free(d->resolve);
	free(d->resolve);
	pipeline_free(&d->pipeline);
	config_free(&d->cfg);
	for (int i = 0; i < 2; i++) {
		close(f->perm[i]);
		close(f->fid[i]);
	}
	kill(f->actor, SIGKILL);
	waitpid(f->actor, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
}

/* Appends one event (24-byte metadata, vers 3) to buf; returns its fd (or -1). */
static int put_event(struct fixture *f, unsigned char *buf, size_t *len, const struct ev_spec *e)
{
	struct fanotify_event_metadata m = {
		.event_len = sizeof(m),
		.vers = FANOTIFY_METADATA_VERSION,
		.metadata_len = sizeof(m),
		.mask = e->mask,
		.fd = FAN_NOFD,
		.pid = e->self ? getpid() : f->actor,
	};
	char path[128];

	if (!e->no_fd) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, e->file ? e->file : "f");
		m.fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
		assert_true(m.fd >= 0);
	}
	memcpy(buf + *len, &m, sizeof(m));
	*len += sizeof(m);
	return m.fd;
}

/* Writes one read's worth of events to a group; their fds into fds[]. */
static void feed(struct fixture *f, int group_end, const struct ev_spec *evs, size_t n, int *fds)
{
	unsigned char buf[MAX_EVENTS * sizeof(struct fanotify_event_metadata)];
	size_t len = 0;

	assert_true(n <= MAX_EVENTS);
	for (size_t i = 0; i < n; i++)
		fds[i] = put_event(f, buf, &len, &evs[i]);
	assert_int_equal(write(group_end, buf, len), (ssize_t)len);
}

/* Every response written to a group so far. */
static size_t responses(int group_end, struct response *out, size_t cap)
{
	struct fanotify_response r;
	size_t n = 0;

	while (read(group_end, &r, sizeof(r)) == (ssize_t)sizeof(r)) {
		assert_true(n < cap);
		out[n].fd = r.fd;
		out[n].response = r.response;
		n++;
	}
	return n;
}

/* The one response to fd; fails on none or more than one. */
static uint32_t answer_of(const struct response *rs, size_t n, int fd)
{
	size_t found = 0;
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++) {
		if (rs[i].fd == fd) {
			found++;
			v = rs[i].response;
		}
	}
	if (found != 1)
		fail_msg("fd %d answered %zu times", fd, found);
	return v;
}

/* fd was closed by the pipeline (it owns event fds). */
static void assert_closed(int fd)
{
	errno = 0;
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
}

/* Lines of the output file holding every needle (NULL-terminated). */
static unsigned lines_with(const char *path, ...)
{
	char line[8192];
	unsigned n = 0;
	FILE *fp = fopen(path, "re");

	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp)) {
		va_list ap;
		const char *needle;
		bool all = true;

		va_start(ap, path);
		while ((needle = va_arg(ap, const char *)))
			all &= strstr(line, needle) != NULL;
		va_end(ap);
		n += all;
	}
	fclose(fp);
	return n;
}

/* ---- cases ---- */

/* Without --deny-on-alert: a read of three OPEN_PERM is allowed (batch-allow), each event
 * once, each fd closed; three records with decision allow. */
static void test_batch_allow(void **state)
{
	static const char *const args[] = { "--perm", "--no-fid", NULL };
	const struct ev_spec evs[] = { { .mask = FAN_OPEN_PERM }, { .mask = FAN_OPEN_PERM },
				       { .mask = FAN_OPEN_EXEC_PERM } };
	struct fixture f;
	struct response rs[16];
	int fds[3];
	size_t n;

	(void)state;
	daemon_up(&f, args);
	feed(&f, f.perm[1], evs, 3, fds);
	assert_int_equal(pipeline_read_group(&f.d.pipeline, f.perm[0], false), 3);
	pipeline_flush(&f.d.pipeline);
	n = responses(f.perm[1], rs, 16);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(answer_of(rs, n, fds[i]), FAN_ALLOW);
		assert_closed(fds[i]);
	}
	assert_int_equal(f.d.pipeline.st.perm_answered, 3);
	assert_int_equal(f.d.pipeline.st.unanswered, 0);
	assert_int_equal(lines_with(f.out, "\"decision\":\"allow\"", NULL), 3);
	daemon_down(&f);
}

/* --deny-on-alert with a canary: the canary's open is denied, the other allowed, once each;
 * the denial's record and its alert. */
static void test_deny_canary(void **state)
{
	char canary[128];
	const char *args[] = { "--perm", "--no-fid", "--deny-on-alert", "--canary", canary, NULL };
	const struct ev_spec evs[] = { { .mask = FAN_OPEN_PERM, .file = "secret" },
				       { .mask = FAN_OPEN_PERM, .file = "plain" },
				       { .mask = FAN_OPEN_PERM, .file = "secret" } };
	struct fixture f;
	struct response rs[16];
	int fds[3];
	size_t n;

	(void)state;
	/* The temporary directory is made by daemon_up(): a pattern matching any of them. */
	snprintf(canary, sizeof(canary), "/tmp/test_pipeline.*/secret");
	daemon_up(&f, args);
	feed(&f, f.perm[1], evs, 3, fds);
	assert_int_equal(pipeline_read_group(&f.d.pipeline, f.perm[0], false), 3);
	pipeline_flush(&f.d.pipeline);
	n = responses(f.perm[1], rs, 16);
	assert_int_equal(n, 3);
	assert_int_equal(answer_of(rs, n, fds[0]), FAN_DENY);
	assert_int_equal(answer_of(rs, n, fds[1]), FAN_ALLOW);
	/* The cooldown limits alerts, never decisions. */
	assert_int_equal(answer_of(rs, n, fds[2]), FAN_DENY);
	assert_int_equal(f.d.pipeline.st.perm_denied, 2);
	assert_int_equal(lines_with(f.out, "\"decision\":\"deny\"", "/secret\"", NULL), 2);
	assert_int_equal(lines_with(f.out, "\"type\":\"alert\"", "\"kind\":\"canary\"", NULL), 1);
	daemon_down(&f);
}

/* A read whose second event is undecodable (event_len below metadata_len): the first is
 * answered once, the broken one is allowed (it carries an fd), the rest of the read is
 * skipped; every fd in it closed. */
static void test_malformed(void **state)
{
	static const char *const args[] = { "--perm", "--no-fid", "--deny-on-alert", NULL };
	const struct ev_spec evs[] = { { .mask = FAN_OPEN_PERM }, { .mask = FAN_OPEN_PERM },
				       { .mask = FAN_OPEN_PERM } };
	unsigned char buf[3 * sizeof(struct fanotify_event_metadata)];
	struct fixture f;
	struct response rs[16];
	int fds[3];
	size_t len = 0, n;
	uint32_t bad_len = 8;

	(void)state;
	daemon_up(&f, args);
	for (int i = 0; i < 3; i++)
		fds[i] = put_event(&f, buf, &len, &evs[i]);
	memcpy(buf + sizeof(struct fanotify_event_metadata), &bad_len, sizeof(bad_len));
	assert_int_equal(write(f.perm[1], buf, len), (ssize_t)len);
	assert_int_equal(pipeline_read_group(&f.d.pipeline, f.perm[0], false), 1);
	n = responses(f.perm[1], rs, 16);
	assert_int_equal(n, 2);
	assert_int_equal(answer_of(rs, n, fds[0]), FAN_ALLOW);
	assert_int_equal(answer_of(rs, n, fds[1]), FAN_ALLOW);
	assert_int_equal(f.d.pipeline.st.bad_events, 1);
	assert_closed(fds[0]);
	assert_closed(fds[1]);
	close(fds[2]); /* in the skipped rest: the kernel's fd numbers mean nothing there */
	daemon_down(&f);
}

/* Our own permission events: allowed at once, never counted or recorded, also with
 * --deny-on-alert and a canary that matches. */
static void test_self(void **state)
{
	const char *args[] = { "--perm", "--no-fid", "--deny-on-alert", "--canary",
			       "/tmp/test_pipeline.*/f", NULL };
	const struct ev_spec evs[] = { { .mask = FAN_OPEN_PERM, .self = true },
				       { .mask = FAN_OPEN_PERM, .self = true } };
	struct fixture f;
	struct response rs[16];
	int fds[2];
	size_t n;

	(void)state;
	daemon_up(&f, args);
	feed(&f, f.perm[1], evs, 2, fds);
	pipeline_read_group(&f.d.pipeline, f.perm[0], false);
	pipeline_flush(&f.d.pipeline);
	n = responses(f.perm[1], rs, 16);
	assert_int_equal(n, 2);
	assert_int_equal(answer_of(rs, n, fds[0]), FAN_ALLOW);
	assert_int_equal(answer_of(rs, n, fds[1]), FAN_ALLOW);
	assert_int_equal(f.d.pipeline.st.perm_answered, 0);
	assert_int_equal(f.d.pipeline.st.self_events, 2);
	assert_int_equal(lines_with(f.out, "\"type\"", NULL), 0);
	daemon_down(&f);
}

/* Containment: three writes (a burst at threshold 3) then an open by the same process in
 * the same read: the open is denied; the writes need no answer. */
static void test_contained(void **state)
{
	static const char *const args[] = { "--perm", "--no-fid", "--deny-on-alert",
					    "--burst-threshold", "3", NULL };
	const struct ev_spec evs[] = { { .mask = FAN_MODIFY }, { .mask = FAN_MODIFY },
				       { .mask = FAN_MODIFY }, { .mask = FAN_OPEN_PERM } };
	struct fixture f;
	struct response rs[16];
	int fds[4];
	size_t n;

	(void)state;
	daemon_up(&f, args);
	feed(&f, f.perm[1], evs, 4, fds);
	assert_int_equal(pipeline_read_group(&f.d.pipeline, f.perm[0], false), 4);
	pipeline_flush(&f.d.pipeline);
	n = responses(f.perm[1], rs, 16);
	assert_int_equal(n, 1);
	assert_int_equal(answer_of(rs, n, fds[3]), FAN_DENY);
	for (int i = 0; i < 4; i++)
		assert_closed(fds[i]);
	assert_int_equal(lines_with(f.out, "\"kind\":\"burst\"", NULL), 1);
	assert_int_equal(lines_with(f.out, "\"decision\":\"deny\"", NULL), 1);
	daemon_down(&f);
}

/* The wall clock stepped forward an hour between two batches: one clock record says so
 * (step_ms ~ 3,600,000, the next seq), and the policy's clock does not move with it: the
 * burst window (1 s) still holds the first batch's writes, so the second batch's write
 * completes the burst and the open is denied. */
static void test_clock_step(void **state)
{
	static const char *const args[] = { "--perm", "--no-fid", "--deny-on-alert",
					    "--burst-threshold", "3", "--burst-window-ms",
					    "1000", NULL };
	const struct ev_spec before[] = { { .mask = FAN_MODIFY }, { .mask = FAN_MODIFY } };
	const struct ev_spec after[] = { { .mask = FAN_MODIFY }, { .mask = FAN_OPEN_PERM } };
	struct fixture f;
	struct response rs[16];
	int fds[2];
	size_t n;

	(void)state;
	daemon_up(&f, args);
	feed(&f, f.perm[1], before, 2, fds);
	assert_int_equal(pipeline_read_group(&f.d.pipeline, f.perm[0], false), 2);
	realtime_step_ms = 3600 * 1000;
	feed(&f, f.perm[1], after, 2, fds);
	assert_int_equal(pipeline_read_group(&f.d.pipeline, f.perm[0], false), 2);
	/* A second batch after the step: no second clock record. */
	feed(&f, f.perm[1], before, 1, fds);
	assert_int_equal(pipeline_read_group(&f.d.pipeline, f.perm[0], false), 1);
	realtime_step_ms = 0;
	pipeline_flush(&f.d.pipeline);
	n = responses(f.perm[1], rs, 16);
	assert_int_equal(n, 1);
	assert_int_equal(rs[0].response, FAN_DENY);
	assert_int_equal(lines_with(f.out, "\"type\":\"clock\"", NULL), 1);
	assert_int_equal(lines_with(f.out, "\"type\":\"clock\",\"seq\":3,", NULL), 1);
	assert_int_equal(lines_with(f.out, "\"step_ms\":3599", NULL) +
				 lines_with(f.out, "\"step_ms\":3600", NULL),
			 1);
	assert_int_equal(lines_with(f.out, "\"kind\":\"burst\"", NULL), 1);
	daemon_down(&f);
}

/* Permission events waiting while the FID group's read is handled: the pipeline looks at
 * the permission group between FID events and answers them, once each, before the FID
 * read is done. */
static void test_perm_while_fid_busy(void **state)
{
	static const char *const args[] = { "--perm", NULL };
	const struct ev_spec fid_evs[] = { { .mask = FAN_MODIFY, .no_fd = true },
					   { .mask = FAN_CLOSE_WRITE, .no_fd = true },
					   { .mask = FAN_MODIFY, .no_fd = true } };
	const struct ev_spec perm_evs[] = { { .mask = FAN_OPEN_PERM },
					    { .mask = FAN_OPEN_PERM } };
	struct fixture f;
	struct response rs[16];
	int fds[3], pfds[2];
	size_t n;

	(void)state;
	daemon_up(&f, args);
	f.d.fan.fid_fd = f.fid[0];
	feed(&f, f.fid[1], fid_evs, 3, fds);
	feed(&f, f.perm[1], perm_evs, 2, pfds);
	/* Only the FID group is read by the test. */
	assert_int_equal(pipeline_read_group(&f.d.pipeline, f.fid[0], true), 3);
	pipeline_flush(&f.d.pipeline);
	n = responses(f.perm[1], rs, 16);
	assert_int_equal(n, 2);
	assert_int_equal(answer_of(rs, n, pfds[0]), FAN_ALLOW);
	assert_int_equal(answer_of(rs, n, pfds[1]), FAN_ALLOW);
	assert_int_equal(lines_with(f.out, "\"type\":\"event\"", NULL), 5);
	assert_int_equal(f.d.pipeline.st.unanswered, 0);
	daemon_down(&f);
}

/* Observe mode: nothing is answered (a response to a notification would be an error). */
static void test_observe_answers_nothing(void **state)
{
	static const char *const args[] = { "--no-fid", NULL };
	const struct ev_spec evs[] = { { .mask = FAN_OPEN }, { .mask = FAN_CLOSE_WRITE } };
	struct fixture f;
	struct response rs[16];
	int fds[2];

	(void)state;
	daemon_up(&f, args);
	feed(&f, f.perm[1], evs, 2, fds);
	assert_int_equal(pipeline_read_group(&f.d.pipeline, f.perm[0], false), 2);
	pipeline_flush(&f.d.pipeline);
	assert_int_equal(responses(f.perm[1], rs, 16), 0);
	assert_closed(fds[0]);
	assert_closed(fds[1]);
	assert_int_equal(lines_with(f.out, "\"decision\":\"observe\"", NULL), 2);
	daemon_down(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_allow),
		cmocka_unit_test(test_deny_canary),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_contained),
		cmocka_unit_test(test_clock_step),
		cmocka_unit_test(test_perm_while_fid_busy),
		cmocka_unit_test(test_observe_answers_nothing),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
