/*
 * test_subscribe.c - the --subscribe client (subscribe.c) against a plain listening Unix
 * socket in a temp dir under /tmp that stands in for the daemon: the stream copied byte for
 * byte, nothing listening, a connection closed without a byte (refused), stdout closed
 * early (| head), and a non-blocking stdout that fills up. The client runs in a forked
 * child under alarm().
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
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "compat.h"
#include "subscribe.h"
#include "text.h"

#define STREAM_BYTES (300u << 10)	/* more than the client's 64 KiB reads, and a pipe */

struct fx {
	char dir[64];
	char path[128];
	char out[160];
	int listen_fd;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/fanotifyd-ut-sub.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/sock", f->dir);
	snprintf(f->out, sizeof(f->out), "%s/out", f->dir);
	f->listen_fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->listen_fd >= 0)
		close(f->listen_fd);
	unlink(f->path);
	unlink(f->out);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void listen_on(struct fx *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	strcpy(sa.sun_path, f->path);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->listen_fd >= 0);
	assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->listen_fd, 4), 0);
}

/* Lines as the daemon would send them: whole, newline-terminated. */
static char *stream(size_t *ret_len)
{
	char *p = malloc(STREAM_BYTES);
	size_t len = 0;

	assert_non_null(p);
	for (unsigned i = 0; len + 64 < STREAM_BYTES; i++)
		len += (size_t)snprintf(p + len, STREAM_BYTES - len, "{\"seq\":%u}\n", i);
	*ret_len = len;
	return p;
}

/* Runs subscribe_run(path) in a child with stdout on out_fd (closed in the parent). */
static pid_t spawn_text(const char *path, int out_fd, bool text)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int err = open("/dev/null", O_WRONLY | O_CLOEXEC);

		alarm(10);
		signal(SIGPIPE, SIG_IGN); /* as main() does */
		if (dup2(out_fd, 1) < 0 || dup2(err, 2) < 0)
			_exit(99);
		_exit(subscribe_run(path, text, false));
	}
	close(out_fd);
	return pid;
}

static pid_t spawn(const char *path, int out_fd)
{
	return spawn_text(path, out_fd, false);
}

static int wait_exit(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

static void test_copies_stream(void **state)
{
	struct fx *f = *state;
	size_t len, got_len;
	char *data = stream(&len), *got;
	FILE *fp;
	pid_t pid;
	int c;

	listen_on(f);
	pid = spawn(f->path, open(f->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
	c = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(c >= 0);
	send_all(c, data, len);
	close(c); /* the daemon ends the stream */
	assert_int_equal(wait_exit(pid), 0);
	fp = fopen(f->out, "re");
	assert_non_null(fp);
	got = malloc(len + 1);
	got_len = fread(got, 1, len + 1, fp);
	fclose(fp);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, data, len);
	free(got);
	free(data);
}

/*
 * --format text: each JSON line becomes the line text.c renders from the same struct (the
 * daemon's side), a line cut across two writes included; strings come from "<key>_raw"
 * when the record has it; what is not a JSON object is shown escaped after "? ".
 */
static void test_text_mode(void **state)
{
	static const char part1[] =
		"{\"schema_version\":1,\"type\":\"event\",\"seq\":1,\"ts_ms\":1700000000123,"
		"\"mask\":32,\"events\":\"OPEN\",\"decision\":\"observe\",\"job_id\":\"j\","
		"\"path_role\":null,\"pid\":42,\"comm\":\"cat\",\"exe\":null,"
		"\"path\":\"/w/a\\u001b\\n\",\"name\":\"a\",\"is_dir\":false}\n"
		"{\"type\":\"event\",\"ts_ms\":1700000000124,\"mask\":268435456,\"decision\":\"observe\","
		"\"pid\":43,\"comm\":\"mv\",\"path\":\"/w/n\",\"old_path\":\"/w/o\ufffd\","
		"\"old_path_raw\":[47,119,47,111,255]}\n{\"type\":\"al";
	static const char part2[] =
		"ert\",\"ts_ms\":1700000000125,\"kind\":\"canary\",\"job_id\":null,"
		"\"path_role\":null,\"pid\":44,\"comm\":\"sh\",\"exe\":null,\"path\":\"/w/c\","
		"\"reason\":\"canary\"}\n"
		"{\"type\":\"event\",\"ts_ms\":1700000000126,\"mask\":65536,\"decision\":\"deny\","
		"\"pid\":45,\"comm\":\"cat\",\"path\":\"/w/c\",\"reason\":\"canary\"}\n"
		"{\"type\":\"dropped\",\"seq\":0,\"ts_ms\":1700000000127,\"count\":3,"
		"\"reason\":\"subscriber too slow\"}\n"
		"{\"type\":\"stats\",\"ts_ms\":1700000000128,\"events\":9,\"records\":8,"
		"\"alerts\":1,\"perm_denied\":1,\"dropped_records\":0}\n"
		"{\"type\":\"clock\",\"seq\":9,\"ts_ms\":1700000000129,\"step_ms\":-3600000}\n"
		"not json \x1b\n";
	struct proc_info sh = { .pid = 44, .comm = "sh" };
	struct record_event e1 = { .ts_ms = 1700000000123ull, .mask = FAN_OPEN, .job_id = "j",
				   .proc = { .pid = 42, .comm = "cat" }, .path = "/w/a\033\n" };
	struct record_event e2 = { .ts_ms = 1700000000124ull, .mask = FAN_RENAME,
				   .proc = { .pid = 43, .comm = "mv" }, .path = "/w/n",
				   .old_path = "/w/o\xff", .is_rename = true };
	struct alert a = { .kind = ALERT_CANARY, .pid = 44, .path = "/w/c", .reason = "canary",
			   .ts_ms = 1700000000125ull, .proc = &sh };
	struct record_event e3 = { .ts_ms = 1700000000126ull, .mask = FAN_OPEN_PERM,
				   .verdict = VERDICT_DENY, .proc = { .pid = 45, .comm = "cat" },
				   .path = "/w/c", .reason = "canary" };
	struct stats st = { .events = 9, .records = 8, .alerts = 1, .perm_denied = 1 };
	struct text_style ts = { .utc_off_s = text_utc_offset_s(1700000000123ull) };
	struct fx *f = *state;
	struct buf want = { 0 };
	char got[4096];
	size_t got_len;
	FILE *fp;
	pid_t pid;
	int c;

	assert_int_equal(text_event(&want, &e1, &ts), 0);
	assert_int_equal(text_event(&want, &e2, &ts), 0);
	assert_int_equal(text_alert(&want, &a, &ts), 0);
	assert_int_equal(text_event(&want, &e3, &ts), 0);
	assert_int_equal(text_dropped(&want, 1700000000127ull, 3, "subscriber too slow", &ts), 0);
	assert_int_equal(text_stats(&want, 1700000000128ull, &st, &ts), 0);
	assert_int_equal(text_clock(&want, 1700000000129ull, -3600000, &ts), 0);
	assert_int_equal(text_other(&want, 0, false, "not json \x1b", 10, &ts), 0);

	listen_on(f);
	pid = spawn_text(f->path, open(f->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600),
			 true);
	c = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(c >= 0);
	send_all(c, part1, sizeof(part1) - 1);
	send_all(c, part2, sizeof(part2) - 1);
	close(c);
	assert_int_equal(wait_exit(pid), 0);
	fp = fopen(f->out, "re");
	assert_non_null(fp);
	got_len = fread(got, 1, sizeof(got) - 1, fp);
	fclose(fp);
	got[got_len] = '\0';
	assert_int_equal(got_len, want.len);
	assert_memory_equal(got, want.data, want.len);
	buf_free(&want);
}

static void test_nothing_listening(void **state)
{
	struct fx *f = *state;

	assert_int_equal(wait_exit(spawn(f->path, open("/dev/null", O_WRONLY | O_CLOEXEC))), 1);
}

/* Refused (not permitted, max_clients) or shutting down: closed without a byte. */
static void test_closed_without_a_byte(void **state)
{
	struct fx *f = *state;
	pid_t pid;
	int c;

	listen_on(f);
	pid = spawn(f->path, open("/dev/null", O_WRONLY | O_CLOEXEC));
	c = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(c >= 0);
	close(c);
	assert_int_equal(wait_exit(pid), 1);
}

/* stdout closed early (| head): exit 0 quietly. */
static void test_stdout_closed(void **state)
{
	struct fx *f = *state;
	size_t len;
	char *data = stream(&len);
	pid_t pid;
	int p[2], c;

	listen_on(f);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	close(p[0]); /* nobody reads: its first write gets EPIPE */
	pid = spawn(f->path, p[1]);
	c = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(c >= 0);
	if (write(c, data, 4096) < 0) /* fails once the client is gone */
		assert_int_equal(errno, EPIPE);
	assert_int_equal(wait_exit(pid), 0);
	close(c);
	free(data);
}

/* A non-blocking stdout that fills up: the client waits for room, loses nothing. */
static void test_nonblocking_stdout(void **state)
{
	struct fx *f = *state;
	size_t len, got_len = 0;
	char *data = stream(&len), *got = malloc(len + 1);
	pid_t pid;
	int p[2], c;

	assert_non_null(got);
	listen_on(f);
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	pid = spawn(f->path, p[1]);
	c = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(c >= 0);
	/* The pipe is read only while the socket is full: the client, which cannot empty
	 * the socket then, is left with a full pipe and meets EAGAIN. */
	fcntl(c, F_SETFL, O_NONBLOCK);
	for (size_t sent = 0;;) {
		struct pollfd pfd[2] = {
			{ .fd = c, .events = POLLOUT },
			{ .fd = p[0], .events = POLLIN },
		};
		ssize_t n;

		if (sent == len && c >= 0) {
			close(c); /* the daemon ends the stream */
			c = -1;
		}
		pfd[0].fd = c;
		assert_true(poll(pfd, 2, -1) > 0);
		if (pfd[0].revents & POLLOUT) {
			n = write(c, data + sent, len - sent);
			assert_true(n > 0 || errno == EAGAIN);
			sent += n > 0 ? (size_t)n : 0;
			continue;
		}
		n = read(p[0], got + got_len, len + 1 - got_len);
		if (n == 0)
			break;
		assert_true(n > 0 || errno == EAGAIN);
		got_len += n > 0 ? (size_t)n : 0;
	}
	close(p[0]);
	assert_int_equal(wait_exit(pid), 0);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, data, len);
	free(got);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_copies_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_listening, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed_without_a_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdout_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nonblocking_stdout, setup, teardown),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
