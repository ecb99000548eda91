/*
 * test_notify.c - notify.c: the watchdog's decision as a table of named cases (time is an
 * argument), among them the one a running daemon cannot show on purpose: a loop that turns
 * but never reads its permission group sends no ping, however long it turns. Then the
 * datagrams against real AF_UNIX sockets in a temp dir (and an abstract name): the
 * environment taken, the message text, WATCHDOG_PID of another process, a socket nobody
 * bound, and a receiver whose queue is full (the send fails at once instead of blocking).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "log_keep.h"
#include "notify.h"

/* ---- the watchdog's decision ---- */

#define IV 500 /* interval_ms in these cases */

struct wd_case {
	const char *name;
	/* per step: time, sources readable (bit i), progress of source 0 and 1, want ping */
	struct {
		uint64_t now;
		unsigned readable;
		uint64_t p0, p1;
		int ping;
		int next; /* expected *ret_next_ms; -2 = do not check */
	} step[12];
	unsigned n;
};

static const struct wd_case wd_cases[] = {
	{ "idle: a ping at once, then every interval",
	  { { 1000, 0, 0, 0, 1, IV }, { 1200, 0, 0, 0, 0, 300 }, { 1499, 0, 0, 0, 0, 1 },
	    { 1500, 0, 0, 0, 1, IV }, { 2000, 0, 0, 0, 1, IV } }, 5 },
	{ "input waiting when due: held until the loop reads it (progress moves)",
	  { { 1000, 1, 7, 0, 0, NOTIFY_WD_RECHECK_MS }, { 1001, 1, 7, 0, 0, -2 },
	    { 1002, 1, 8, 0, 1, IV }, { 1502, 0, 8, 0, 1, IV } }, 4 },
	{ "input waiting when due: served once it no longer waits",
	  { { 1000, 2, 0, 3, 0, NOTIFY_WD_RECHECK_MS }, { 1010, 0, 0, 3, 1, IV } }, 2 },
	{ "the loop turns but never reads the permission group: no ping, ever",
	  { { 1000, 1, 5, 0, 0, -2 }, { 1010, 1, 5, 0, 0, -2 }, { 1500, 1, 5, 0, 0, -2 },
	    { 2000, 1, 5, 0, 0, -2 }, { 5000, 1, 5, 9, 0, -2 }, { 60000, 3, 5, 10, 0, -2 },
	    { 600000, 1, 5, 11, 0, NOTIFY_WD_RECHECK_MS } }, 7 },
	{ "two sources waiting: the ping waits for both",
	  { { 1000, 3, 1, 1, 0, -2 }, { 1010, 3, 2, 1, 0, -2 }, { 1020, 3, 3, 1, 0, -2 },
	    { 1030, 1, 4, 1, 1, IV } }, 4 },
	{ "input that came after the ping was held does not hold it again",
	  { { 1000, 1, 1, 0, 0, -2 }, { 1010, 3, 2, 0, 1, IV } }, 2 },
	{ "not due: input waiting does not matter yet",
	  { { 1000, 0, 0, 0, 1, IV }, { 1100, 3, 0, 0, 0, 400 } }, 2 },
};

static void test_wd_cases(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(wd_cases) / sizeof(wd_cases[0]); c++) {
		const struct wd_case *k = &wd_cases[c];
		struct notify_wd wd = { .interval_ms = IV };

		for (unsigned i = 0; i < k->n; i++) {
			struct notify_wd_source src[2] = {
				{ "perm", 10, k->step[i].p0 },
				{ "proc", 11, k->step[i].p1 },
			};
			int next = -3;
			int ping = notify_wd_step(&wd, k->step[i].now, src, 2, k->step[i].readable,
						  &next);

			if (ping != k->step[i].ping ||
			    (k->step[i].next != -2 && next != k->step[i].next)) {
				print_error("case '%s' step %u: ping %d (want %d), next %d (want %d)\n",
					    k->name, i, ping, k->step[i].ping, next, k->step[i].next);
				fail();
			}
		}
	}
}

static void test_wd_off(void **state)
{
	struct notify_wd wd = { 0 };
	int next = 0;

	(void)state;
	assert_int_equal(notify_wd_step(&wd, 1000, NULL, 0, 0, &next), 0);
	assert_int_equal(next, -1);
}

/* ---- the datagrams ---- */

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_notify.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/notify", dir);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	log_reset();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

/* A bound datagram socket at name (a path, or '@' + abstract name). */
static int bind_at(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = offsetof(struct sockaddr_un, sun_path) + strlen(name) + 1;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, name, strlen(name));
	if (name[0] == '@') {
		sa.sun_path[0] = '\0';
		len--;
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	return fd;
}

static void recv_is(int fd, const char *want)
{
	char buf[NOTIFY_MSG_MAX + 1];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void test_messages(void **state)
{
	struct notify n;
	int fd = bind_at(path);
	char want[64];

	(void)state;
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "3000000", 1);
	notify_init(&n);
	assert_true(notify_enabled(&n));
	assert_null(getenv("NOTIFY_SOCKET"));
	assert_null(getenv("WATCHDOG_USEC"));
	assert_int_equal(n.wd.interval_ms, 1500);

	assert_int_equal(notify_ready(&n, 0, "watching 1 path(s)"), 0);
	recv_is(fd, "READY=1\nSTATUS=watching 1 path(s)\n");
	assert_int_equal(notify_ready(&n, 4242, "x"), 0);
	recv_is(fd, "READY=1\nMAINPID=4242\nSTATUS=x\n");
	assert_int_equal(notify_stopping(&n), 0);
	recv_is(fd, "STOPPING=1\nSTATUS=stopping\n");
	assert_int_equal(notify_reloading(&n, NULL), 0);
	{
		char buf[NOTIFY_MSG_MAX + 1];
		ssize_t got = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		unsigned long long usec;
		int end = 0;

		assert_true(got > 0);
		buf[got] = '\0';
		assert_int_equal(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%llu\n%n", &usec, &end), 1);
		assert_true(end > 0 && usec > 0);
		assert_string_equal(buf + end, "STATUS=reloading\n");
	}
	/* The watchdog's first ping goes at once, the next after the interval. */
	assert_int_equal(notify_watchdog(&n, 1000, NULL, 0), 1500);
	recv_is(fd, "WATCHDOG=1\n");
	assert_int_equal(notify_watchdog(&n, 1001, NULL, 0), 1499);
	assert_int_equal(recv(fd, want, sizeof(want), MSG_DONTWAIT), -1); /* nothing more */
	assert_int_equal(errno, EAGAIN);
	notify_close(&n);
	notify_close(&n);
	close(fd);
}

static void test_abstract(void **state)
{
	char name[64];
	struct notify n;
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@fanotifyd-test-notify-%d", (int)getpid());
	fd = bind_at(name);
	setenv("NOTIFY_SOCKET", name, 1);
	notify_init(&n);
	assert_int_equal(notify_ready(&n, 0, NULL), 0);
	recv_is(fd, "READY=1\n");
	assert_int_equal(n.wd.interval_ms, 0); /* no WATCHDOG_USEC: no watchdog */
	assert_int_equal(notify_watchdog(&n, 1000, NULL, 0), -1);
	notify_close(&n);
	close(fd);
}

static void test_watchdog_not_ours(void **state)
{
	struct notify n;
	int fd = bind_at(path);

	(void)state;
	log_set_sink(log_keep);
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "1000000", 1);
	setenv("WATCHDOG_PID", "1", 1);
	notify_init(&n);
	assert_int_equal(n.wd.interval_ms, 0);
	assert_null(getenv("WATCHDOG_PID"));
	notify_close(&n);

	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "12x", 1);
	notify_init(&n);
	assert_int_equal(n.wd.interval_ms, 0);
	notify_close(&n);

	{
		char pid[16];

		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		setenv("NOTIFY_SOCKET", path, 1);
		setenv("WATCHDOG_USEC", "1000", 1);
		setenv("WATCHDOG_PID", pid, 1);
		notify_init(&n);
		assert_int_equal(n.wd.interval_ms, NOTIFY_WD_MIN_MS); /* 0.5 ms rounds up */
		notify_close(&n);
	}
	assert_non_null(strstr(log_all, "WATCHDOG_USEC is not a positive number"));
	log_set_sink(NULL);
	close(fd);
}

static void test_nobody_listens(void **state)
{
	struct notify n;

	(void)state;
	setenv("NOTIFY_SOCKET", path, 1); /* nothing bound there */
	log_setup(2, false);
	log_set_sink(log_keep);
	notify_init(&n);
	assert_true(notify_enabled(&n));
	assert_int_equal(notify_ready(&n, 0, NULL), -ENOENT);
	assert_int_equal(notify_stopping(&n), -ENOENT);
	/* Logged once, not per message. */
	assert_non_null(strstr(log_all, "notify: cannot send"));
	assert_null(strstr(strstr(log_all, "notify: cannot send") + 1, "notify: cannot send"));
	notify_close(&n);

	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	notify_init(&n);
	assert_false(notify_enabled(&n));
	assert_int_equal(notify_ready(&n, 0, NULL), 0); /* nowhere to send: nothing to do */
	log_set_sink(NULL);
}

/* A receiver that reads nothing: once its queue is full a send fails with EAGAIN instead of
 * blocking the event loop. */
static void test_full_queue(void **state)
{
	struct notify n;
	int fd = bind_at(path);
	int r = 0;

	(void)state;
	setenv("NOTIFY_SOCKET", path, 1);
	log_set_sink(log_keep);
	notify_init(&n);
	alarm(10);
	for (int i = 0; i < 100000 && r == 0; i++)
		r = notify_send(&n, "WATCHDOG=1\n");
	alarm(0);
	assert_int_equal(r, -EAGAIN);
	notify_close(&n);
	close(fd);
	log_set_sink(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wd_cases),
		cmocka_unit_test(test_wd_off),
		cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abstract, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watchdog_not_ours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nobody_listens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_queue, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
