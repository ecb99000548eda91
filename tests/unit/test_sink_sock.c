/*
 * test_sink_sock.c - sink_sock.c against real Unix sockets in a temp dir under /tmp and a
 * real epoll fd standing in for the loop: start-up path cases (stale, regular file, symlink,
 * live socket, too long), file mode and group, fan-out, the EPOLLOUT path, a slow
 * subscriber dropped with an exact count while another receives everything, a dropped one
 * that reads an hour later (whole lines, then its notice) or never (it keeps its slot until
 * it hangs up), max_clients, disconnects and half-closes, and the admission rule. Anything
 * that could hang runs under alarm(). The --subscribe client has test_subscribe.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "log_keep.h"
#include "sink_sock.h"

#define TAG ((uint64_t)7 << 32)

/* ---- the log (log.c, linked): its lines are kept for asserts (log_keep.h) ---- */

/*
 * ---- the clock ----
 * A dropped subscriber is waited for however long it takes to read: no timer closes it. This
 * clock_gettime() takes the place of libc's for every caller in this executable, and its
 * monotonic clocks run clock_skip_s ahead, so a test can jump hours without sleeping: a
 * deadline on dropped subscribers in sink_sock.c would close them, and those tests fail.
 */
static time_t clock_skip_s;

int clock_gettime(clockid_t id, struct timespec *ts)
{
	if (syscall(SYS_clock_gettime, id, ts) < 0)
		return -1;
	if (id == CLOCK_MONOTONIC || id == CLOCK_MONOTONIC_COARSE || id == CLOCK_MONOTONIC_RAW ||
	    id == CLOCK_BOOTTIME)
		ts->tv_sec += clock_skip_s;
	return 0;
}

/* ---- fixture ---- */

struct fx {
	char dir[64];
	char path[128];
	int ep;
	struct config c;
	struct sink_sock s;
	bool opened;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/fanotifyd-ut-sock.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/sock", f->dir);
	f->ep = epoll_create1(EPOLL_CLOEXEC);
	if (f->ep < 0)
		return -1;
	f->c.socket = f->path;
	f->c.socket_buffer_kb = CONFIG_SOCKET_BUFFER_KB_DEFAULT;
	f->c.socket_max_clients = CONFIG_SOCKET_MAX_CLIENTS_DEFAULT;
	f->c.socket_mode = CONFIG_SOCKET_MODE_DEFAULT;
	log_reset();
	clock_skip_s = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[160];

	sink_sock_close(&f->s);
	close(f->ep);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void open_ok(struct fx *f)
{
	char msg[512] = "";
	int r = sink_sock_open(&f->s, &f->c, f->ep, TAG, msg, sizeof(msg));

	if (r < 0)
		fail_msg("sink_sock_open: %d %s", r, msg);
	f->opened = true;
}

static int open_err(struct fx *f, char *msg, size_t len)
{
	return sink_sock_open(&f->s, &f->c, f->ep, TAG, msg, len);
}

/* One loop turn's worth of readiness, dispatched as main.c does. */
static void pump(struct fx *f)
{
	struct epoll_event evs[64];
	int n = epoll_wait(f->ep, evs, 64, 0);

	for (int i = 0; i < n; i++) {
		assert_true((evs[i].data.u64 & ~(uint64_t)0xffffffff) == TAG);
		sink_sock_handle(&f->s, (int)(uint32_t)evs[i].data.u64, evs[i].events);
	}
}

/* Records handed over and sent at once (the batch forced out), as after SINK_SOCK_LINGER_MS. */
static void write_now(struct sink_sock *s, const void *data, size_t len, unsigned n_records)
{
	sink_sock_write(s, data, len, n_records, 0);
	(void)sink_sock_flush(s, 0, true);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* Connects a subscriber and lets the sink accept it. */
static int subscribe(struct fx *f)
{
	unsigned before = f->s.n_clients;
	int fd = connect_to(f->path);

	assert_true(fd >= 0);
	pump(f);
	assert_int_equal(f->s.n_clients, before + 1);
	return fd;
}

struct bytes {
	char *p;
	size_t len, cap;
};

static void bytes_add(struct bytes *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 4096;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* Reads what is there without blocking; returns true at EOF. */
static bool drain(int fd, struct bytes *b)
{
	char buf[65536];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			bytes_add(b, buf, (size_t)n);
			continue;
		}
		if (n == 0)
			return true;
		if (errno == EAGAIN || errno == ECONNRESET)
			return errno == ECONNRESET;
		fail_msg("recv: %s", strerror(errno));
	}
}

/* Reads until EOF, pumping the sink between reads (it may have buffered data for us). */
static void drain_to_eof(struct fx *f, int fd, struct bytes *b)
{
	for (int i = 0; i < 100000; i++) {
		if (drain(fd, b))
			return;
		pump(f);
	}
	fail_msg("no EOF");
}

/* Record i: a JSON-looking line of varying length (20..~520 bytes). */
static size_t make_record(char *out, size_t cap, unsigned i)
{
	char pad[512];
	int n;

	memset(pad, 'x', sizeof(pad));
	n = snprintf(out, cap, "{\"seq\":%u,\"pad\":\"%.*s\"}\n", i, (int)(i * 37 % 500), pad);
	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

/* Writes records first..first+count-1 as one batch; appends them to all. */
static void write_batch(struct fx *f, unsigned first, unsigned count, struct bytes *all)
{
	struct bytes b = { 0 };
	char rec[1024];

	for (unsigned i = first; i < first + count; i++)
		bytes_add(&b, rec, make_record(rec, sizeof(rec), i));
	write_now(&f->s, b.p, b.len, count);
	if (all)
		bytes_add(all, b.p, b.len);
	free(b.p);
}

/* Writes record seq as one line of about len bytes, in a write of its own. */
static void write_big(struct fx *f, unsigned seq, size_t len, struct bytes *all)
{
	char *rec = malloc(len + 64);
	int n;

	assert_non_null(rec);
	n = snprintf(rec, 64, "{\"seq\":%u,\"pad\":\"", seq);
	memset(rec + n, 'y', len);
	memcpy(rec + n + len, "\"}\n", 3);
	write_now(&f->s, rec, (size_t)n + len + 3, 1);
	bytes_add(all, rec, (size_t)n + len + 3);
	free(rec);
}

static uint64_t count_lines(const char *p, size_t len)
{
	uint64_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += p[i] == '\n';
	return n;
}

/* ---- start-up ---- */

static void test_no_socket(void **state)
{
	struct fx *f = *state;
	char msg[256] = "";

	f->c.socket = NULL;
	assert_int_equal(open_err(f, msg, sizeof(msg)), 0);
	assert_null(f->s.path);
	write_now(&f->s, "x\n", 2, 1);
	sink_sock_close(&f->s);
	sink_sock_close(&f->s);
}

static void test_zeroed_close_leaves_fd0(void **state)
{
	struct sink_sock s;
	int before = fcntl(0, F_GETFD);

	(void)state;
	memset(&s, 0, sizeof(s));
	sink_sock_close(&s);
	write_now(&s, "x\n", 2, 1);
	assert_int_equal(fcntl(0, F_GETFD), before);
}

static void test_mode_default_0600(void **state)
{
	struct fx *f = *state;
	struct stat st;

	open_ok(f);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	assert_true((fcntl(f->s.listen_fd, F_GETFD) & FD_CLOEXEC) != 0);
	assert_true((fcntl(f->s.listen_fd, F_GETFL) & O_NONBLOCK) != 0);
	sink_sock_close(&f->s);
	assert_int_equal(lstat(f->path, &st), -1);
	assert_int_equal(errno, ENOENT);
	sink_sock_close(&f->s);
}

static void test_mode_and_group(void **state)
{
	struct fx *f = *state;
	struct group *gr = getgrgid(getegid());
	char gid[32];
	struct stat st;

	snprintf(gid, sizeof(gid), "%u", (unsigned)getegid());
	f->c.socket_mode = 0660;
	f->c.socket_group = gid;
	open_ok(f);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_gid, getegid());
	assert_int_equal(f->s.gid, getegid());
	sink_sock_close(&f->s);
	if (gr) { /* by name too */
		f->c.socket_group = gr->gr_name;
		f->c.socket_mode = 0606;
		open_ok(f);
		assert_int_equal(lstat(f->path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0606);
		assert_int_equal(st.st_gid, gr->gr_gid);
	}
}

static void test_bad_group(void **state)
{
	struct fx *f = *state;
	char msg[256] = "";
	struct stat st;

	f->c.socket_group = "fanotifyd-no-such-group-x";
	assert_int_equal(open_err(f, msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, "no such group"));
	assert_int_equal(lstat(f->path, &st), -1);
}

static void test_stale_socket_replaced(void **state)
{
	struct fx *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct stat st;
	int c;

	strcpy(sa.sun_path, f->path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd); /* the file stays: a stale socket */
	assert_int_equal(lstat(f->path, &st), 0);
	open_ok(f);
	c = subscribe(f);
	close(c);
	assert_non_null(strstr(log_all, "stale"));
}

static void test_regular_file_refused(void **state)
{
	struct fx *f = *state;
	char msg[256] = "", buf[16] = "";
	int fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	struct stat st;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keep me", 7), 7);
	close(fd);
	assert_int_equal(open_err(f, msg, sizeof(msg)), -EEXIST);
	assert_non_null(strstr(msg, "exists and is not a socket"));
	assert_non_null(strstr(msg, f->path));
	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	assert_int_equal(read(fd, buf, sizeof(buf)), 7);
	close(fd);
	assert_string_equal(buf, "keep me");
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	sink_sock_close(&f->s); /* after a failed open: a no-op */
	assert_int_equal(lstat(f->path, &st), 0);
}

static void test_symlink_refused(void **state)
{
	struct fx *f = *state;
	char msg[256] = "", target[160];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct stat st;

	/* Even a symlink to a stale socket is not ours to remove. */
	snprintf(target, sizeof(target), "%s/target", f->dir);
	strcpy(sa.sun_path, target);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(symlink(target, f->path), 0);
	assert_int_equal(open_err(f, msg, sizeof(msg)), -EEXIST);
	assert_non_null(strstr(msg, "exists and is not a socket"));
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(lstat(target, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	/* A dangling symlink too. */
	unlink(f->path);
	assert_int_equal(symlink("/nonexistent/x", f->path), 0);
	assert_int_equal(open_err(f, msg, sizeof(msg)), -EEXIST);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
}

static void test_live_socket_refused(void **state)
{
	struct fx *f = *state;
	struct sink_sock other;
	char msg[256] = "";
	struct stat st1, st2;
	int c;

	open_ok(f);
	assert_int_equal(lstat(f->path, &st1), 0);
	assert_int_equal(sink_sock_open(&other, &f->c, f->ep, TAG, msg, sizeof(msg)),
			 -EADDRINUSE);
	assert_non_null(strstr(msg, "another daemon is listening"));
	sink_sock_close(&other);
	/* Its probe was a connection: accepted, then gone at the next turn. */
	pump(f);
	pump(f);
	assert_int_equal(f->s.n_clients, 0);
	/* The first one's file is untouched and still answers. */
	assert_int_equal(lstat(f->path, &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);
	c = subscribe(f);
	close(c);
}

static void test_path_too_long(void **state)
{
	struct fx *f = *state;
	char msg[512] = "", longp[200];

	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	f->c.socket = longp;
	assert_int_equal(open_err(f, msg, sizeof(msg)), -ENAMETOOLONG);
	assert_non_null(strstr(msg, "too long"));
}

static void test_close_spares_a_replaced_file(void **state)
{
	struct fx *f = *state;
	struct stat st;
	int fd;

	open_ok(f);
	assert_int_equal(unlink(f->path), 0);
	fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	sink_sock_close(&f->s);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

/* ---- fan-out ---- */

static void test_fanout_two(void **state)
{
	struct fx *f = *state;
	struct bytes all = { 0 }, a = { 0 }, b = { 0 };
	int ca, cb;

	open_ok(f);
	ca = subscribe(f);
	cb = subscribe(f);
	write_batch(f, 1, 3, &all);
	write_batch(f, 4, 1, &all);
	write_now(&f->s, "", 0, 0);
	assert_false(drain(ca, &a));
	assert_false(drain(cb, &b));
	assert_int_equal(a.len, all.len);
	assert_int_equal(b.len, all.len);
	assert_memory_equal(a.p, all.p, all.len);
	assert_memory_equal(b.p, all.p, all.len);
	/* Closing the sink ends every stream. */
	sink_sock_close(&f->s);
	assert_true(drain(ca, &a));
	assert_true(drain(cb, &b));
	close(ca);
	close(cb);
	free(all.p);
	free(a.p);
	free(b.p);
}

/* A subscriber that reads late gets everything through the EPOLLOUT path, in order. */
static void test_buffered_then_flushed(void **state)
{
	struct fx *f = *state;
	struct bytes all = { 0 }, a = { 0 };
	struct sink_client *cl;
	unsigned i;
	int ca;

	open_ok(f);
	ca = subscribe(f);
	cl = &f->s.clients[0];
	for (i = 0; all.len < 700u << 10; i += 50)
		write_batch(f, i, 50, &all);
	assert_true(cl->want_out);
	assert_true(cl->len - cl->off > 0);
	assert_int_equal(f->s.dropped_clients, 0);
	/* The buffer never holds more than buffer_max. */
	assert_true(cl->cap <= f->s.buffer_max);
	for (int k = 0; k < 100000 && a.len < all.len; k++) {
		assert_false(drain(ca, &a));
		pump(f);
	}
	assert_int_equal(a.len, all.len);
	assert_memory_equal(a.p, all.p, all.len);
	assert_false(cl->want_out);
	assert_int_equal(cl->len, 0);
	close(ca);
	free(all.p);
	free(a.p);
}

/*
 * The dropped line a subscriber that missed count records gets last: record_dropped()'s,
 * with seq 0 (not one of the output's records) and ts_ms the wall clock when it went out.
 */
static void assert_notice(const char *line, uint64_t count)
{
	static const char head[] =
		"{\"schema_version\":1,\"type\":\"dropped\",\"seq\":0,\"ts_ms\":";
	struct timespec now;
	char want[160], *end;
	unsigned long long ts_ms, now_ms;

	(void)clock_gettime(CLOCK_REALTIME, &now);
	now_ms = (unsigned long long)now.tv_sec * 1000 +
		 (unsigned long long)now.tv_nsec / 1000000;
	assert_memory_equal(line, head, sizeof(head) - 1);
	ts_ms = strtoull(line + sizeof(head) - 1, &end, 10);
	assert_true(ts_ms <= now_ms && ts_ms + 60000 > now_ms);
	snprintf(want, sizeof(want), ",\"count\":%llu,\"reason\":\"subscriber too slow\"}\n",
		 (unsigned long long)count);
	assert_string_equal(end, want);
}

/*
 * A never-reading subscriber fills its socket and its 4 KiB buffer and is dropped; another,
 * reading, gets every byte. When the slow one finally reads it gets whole records, then the
 * dropped line counting exactly the records it did not get, then EOF.
 */
static void test_slow_client_dropped(void **state)
{
	struct fx *f = *state;
	struct bytes all = { 0 }, fast = { 0 }, slow = { 0 };
	unsigned i, after = 0;
	int cs, cf;
	uint64_t got, missed;
	char *nl, *notice;

	f->c.socket_buffer_kb = 4;
	open_ok(f);
	cs = subscribe(f);
	cf = subscribe(f);
	for (i = 0; after < 20; i += 7) {
		assert_true(i < 200000);
		write_batch(f, i, 7, &all);
		assert_false(drain(cf, &fast));
		pump(f);
		if (f->s.dropped_clients)
			after++;
	}
	assert_int_equal(f->s.dropped_clients, 1);
	assert_non_null(strstr(log_all, "too slow"));
	assert_non_null(strstr(log_all, "records missed"));
	assert_int_equal(f->s.n_clients, 2); /* the dropped one waits for its notice */
	assert_int_equal(fast.len, all.len);
	assert_memory_equal(fast.p, all.p, all.len);

	drain_to_eof(f, cs, &slow);
	assert_int_equal(f->s.n_clients, 1);
	/* Last line: the notice; before it, a prefix of the stream ending at a newline. */
	assert_true(slow.len > 0 && slow.p[slow.len - 1] == '\n');
	bytes_add(&slow, "", 1); /* a NUL after the notice's newline */
	slow.p[slow.len - 2] = '\0';
	nl = strrchr(slow.p, '\n');
	slow.p[slow.len - 2] = '\n';
	assert_non_null(nl);
	notice = nl + 1;
	assert_true((size_t)(notice - slow.p) <= all.len);
	assert_memory_equal(slow.p, all.p, (size_t)(notice - slow.p));
	got = count_lines(slow.p, (size_t)(notice - slow.p));
	missed = count_lines(all.p, all.len) - got;
	assert_true(missed > 0);
	assert_notice(notice, missed);
	assert_int_equal(f->s.dropped_records, missed);
	/* The fast one is still fine. */
	write_batch(f, i, 3, &all);
	assert_false(drain(cf, &fast));
	assert_int_equal(fast.len, all.len);
	close(cs);
	close(cf);
	free(all.p);
	free(fast.p);
	free(slow.p);
}

/*
 * The case: a subscriber stops reading in the middle of a record larger than its
 * socket and buffer take, and is dropped; records go on flowing while it stays silent for an
 * hour (of the test's clock) and half-closes its sending side. When it reads again, with no
 * records flowing (EPOLLOUT alone), it gets the rest of that record, the dropped line
 * counting every record written after it, then EOF; then its slot is free.
 */
static void test_dropped_reads_late(void **state)
{
	struct fx *f = *state;
	struct bytes all = { 0 }, slow = { 0 };
	struct sink_client *cl;
	size_t upto;
	unsigned i;
	int cs;

	f->c.socket_buffer_kb = 4;
	open_ok(f);
	cs = subscribe(f);
	cl = &f->s.clients[0];
	write_batch(f, 0, 5, &all);
	write_big(f, 5, 1u << 20, &all); /* 1 MiB: more than socket + buffer */
	upto = all.len;
	assert_int_equal(f->s.dropped_clients, 1);
	assert_true(cl->mid_record);
	assert_true(cl->len - cl->off > 0); /* the rest of record 5, and room for its notice */
	assert_true(cl->len - cl->off < 1u << 20);
	assert_int_equal(cl->cap, cl->len + SINK_SOCK_NOTICE_MAX);
	assert_int_equal(shutdown(cs, SHUT_WR), 0);
	for (i = 6; i < 606; i += 20) {
		write_batch(f, i, 20, &all);
		pump(f);
	}
	clock_skip_s = 3600;
	for (; i < 1206; i += 20) {
		write_batch(f, i, 20, &all);
		pump(f);
	}
	pump(f);
	assert_int_equal(f->s.n_clients, 1); /* still waiting for it */
	assert_int_equal(f->s.n_dropping, 1);
	assert_int_equal(cl->cap, cl->len + SINK_SOCK_NOTICE_MAX); /* nothing more */
	assert_true(cl->want_out);

	drain_to_eof(f, cs, &slow);
	assert_int_equal(f->s.n_clients, 0);
	assert_int_equal(f->s.n_dropping, 0);
	/* Everything up to the end of record 5, then the notice, then nothing. */
	assert_true(slow.len > upto);
	assert_memory_equal(slow.p, all.p, upto);
	bytes_add(&slow, "", 1);
	assert_notice(slow.p + upto, 1200);
	assert_int_equal(count_lines(slow.p, slow.len - 1), 7);
	assert_int_equal(f->s.dropped_records, 1200);
	assert_non_null(strstr(log_all, "after its notice"));
	close(cs);
	free(all.p);
	free(slow.p);
}

/*
 * A dropped subscriber that never reads and never hangs up keeps its slot (max_clients
 * still refuses the next one) however long it waits; when it hangs up without reading, the
 * slot is freed and the next subscriber gets in.
 */
static void test_dropped_keeps_slot(void **state)
{
	struct fx *f = *state;
	struct bytes all = { 0 }, b = { 0 };
	char buf[8];
	int cs, c2, c3, c4;

	f->c.socket_buffer_kb = 4;
	f->c.socket_max_clients = 2;
	open_ok(f);
	cs = subscribe(f);
	write_big(f, 0, 1u << 20, &all); /* only cs: dropped */
	assert_int_equal(f->s.dropped_clients, 1);
	c2 = subscribe(f);
	clock_skip_s = 24 * 3600;
	for (unsigned i = 1; i < 101; i += 10) {
		write_batch(f, i, 10, &all);
		pump(f);
		assert_false(drain(c2, &b));
	}
	assert_int_equal(f->s.n_clients, 2);
	assert_int_equal(f->s.n_dropping, 1);
	assert_true(f->s.clients[0].cap <= (1u << 20) + SINK_SOCK_NOTICE_MAX);
	assert_int_equal(f->s.clients[0].cap, f->s.clients[0].len + SINK_SOCK_NOTICE_MAX);
	c3 = connect_to(f->path);
	assert_true(c3 >= 0);
	pump(f);
	assert_int_equal(f->s.refused_full, 1);
	assert_int_equal(recv(c3, buf, sizeof(buf), 0), 0);
	close(c3);
	/* It hangs up with the rest of record 0 unread: EPOLLHUP frees its slot. */
	close(cs);
	pump(f);
	assert_int_equal(f->s.n_clients, 1);
	assert_int_equal(f->s.n_dropping, 0);
	assert_int_equal(f->s.dropped_records, 100);
	c4 = subscribe(f);
	assert_int_equal(f->s.n_clients, 2);
	close(c2);
	close(c4);
	free(all.p);
	free(b.p);
}

static void test_max_clients(void **state)
{
	struct fx *f = *state;
	struct bytes b = { 0 };
	int c1, c2, c3, c4;
	char buf[8];

	f->c.socket_max_clients = 2;
	open_ok(f);
	c1 = subscribe(f);
	c2 = subscribe(f);
	c3 = connect_to(f->path); /* the kernel queues it; the sink refuses it */
	assert_true(c3 >= 0);
	pump(f);
	assert_int_equal(f->s.n_clients, 2);
	assert_int_equal(f->s.refused, 1);
	assert_int_equal(f->s.refused_full, 1);
	assert_non_null(strstr(log_all, "socket_max_clients"));
	assert_int_equal(recv(c3, buf, sizeof(buf), 0), 0); /* EOF, no data */
	close(c3);
	/* A slot frees: the next one gets in. */
	close(c1);
	pump(f);
	assert_int_equal(f->s.n_clients, 1);
	c4 = subscribe(f);
	write_now(&f->s, "{}\n", 3, 1);
	assert_false(drain(c4, &b));
	assert_int_equal(b.len, 3);
	close(c2);
	close(c4);
	free(b.p);
}

/* Records wait up to SINK_SOCK_LINGER_MS for more to join them, or until the batch holds
 * SINK_SOCK_BATCH bytes; either way the subscriber gets them in order, unchanged. */
static void test_batch_linger(void **state)
{
	struct fx *f = *state;
	struct bytes all = { 0 }, a = { 0 };
	char rec[1024];
	size_t len, sent;
	unsigned seq = 1;
	int ca;

	open_ok(f);
	ca = subscribe(f);
	assert_int_equal(sink_sock_flush(&f->s, 1000, false), -1); /* nothing waits */
	len = make_record(rec, sizeof(rec), seq++);
	sink_sock_write(&f->s, rec, len, 1, 1000);
	bytes_add(&all, rec, len);
	len = make_record(rec, sizeof(rec), seq++);
	sink_sock_write(&f->s, rec, len, 1, 1005);
	bytes_add(&all, rec, len);
	assert_int_equal(sink_sock_flush(&f->s, 1005, false), SINK_SOCK_LINGER_MS - 5);
	assert_int_equal(sink_sock_flush(&f->s, 999, false), SINK_SOCK_LINGER_MS);
	assert_false(drain(ca, &a));
	assert_int_equal(a.len, 0);
	assert_int_equal(sink_sock_flush(&f->s, 1000 + SINK_SOCK_LINGER_MS, false), -1);
	assert_false(drain(ca, &a));
	assert_int_equal(a.len, all.len);
	assert_memory_equal(a.p, all.p, all.len);
	/* Filling the batch sends it without waiting. */
	sent = all.len;
	for (;;) {
		len = make_record(rec, sizeof(rec), seq++);
		sink_sock_write(&f->s, rec, len, 1, 2000);
		bytes_add(&all, rec, len);
		if (all.len - sent >= SINK_SOCK_BATCH)
			break;
		assert_int_equal(sink_sock_flush(&f->s, 2000, false), SINK_SOCK_LINGER_MS);
	}
	assert_int_equal(sink_sock_flush(&f->s, 2000, false), -1); /* sent by the write */
	for (int i = 0; i < 1000 && a.len < all.len; i++) {
		(void)drain(ca, &a);
		pump(f);
	}
	assert_int_equal(a.len, all.len);
	assert_memory_equal(a.p, all.p, all.len);
	assert_int_equal(f->s.dropped_clients, 0);
	close(ca);
	free(all.p);
	free(a.p);
}

/* Disconnecting mid-stream, sending junk, or half-closing affects no one else. */
static void test_disconnects_and_junk(void **state)
{
	struct fx *f = *state;
	struct bytes all = { 0 }, good = { 0 }, half = { 0 }, junk = { 0 };
	char buf[10];
	int cg, cm, ch, cj;

	open_ok(f);
	cg = subscribe(f);
	cm = subscribe(f);
	ch = subscribe(f);
	cj = subscribe(f);
	write_batch(f, 1, 5, &all);
	assert_true(recv(cm, buf, sizeof(buf), 0) > 0); /* mid-line, then gone */
	close(cm);
	assert_int_equal(shutdown(ch, SHUT_WR), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(send(cj, "garbage\n", 8, MSG_NOSIGNAL), 8);
	pump(f);
	pump(f);
	assert_int_equal(f->s.n_clients, 3);
	write_batch(f, 6, 5, &all);
	pump(f);
	assert_false(drain(cg, &good));
	assert_false(drain(ch, &half));
	assert_false(drain(cj, &junk));
	assert_int_equal(good.len, all.len);
	assert_memory_equal(good.p, all.p, all.len);
	assert_int_equal(half.len, all.len);
	assert_memory_equal(half.p, all.p, all.len);
	assert_int_equal(junk.len, all.len);
	assert_int_equal(f->s.disconnected, 1);
	/* A client that closes with unread data: the next write finds it gone (EPIPE). */
	close(cj);
	write_batch(f, 11, 1, &all);
	pump(f);
	assert_int_equal(f->s.n_clients, 2);
	close(cg);
	close(ch);
	free(all.p);
	free(good.p);
	free(half.p);
	free(junk.p);
}

/* ---- admission ---- */

static void test_peer_rule(void **state)
{
	static const struct {
		const char *name;
		mode_t mode;
		uid_t uid;
		gid_t gid;
		gid_t sup;	/* 0 = none */
		bool allowed;
	} cases[] = {
		{ "root always", 0600, 0, 9, 0, true },
		{ "owner always", 0600, 1000, 9, 0, true },
		{ "other uid, 0600", 0600, 1001, 50, 0, false },
		{ "group member, 0600", 0600, 1001, 50, 0, false },
		{ "group member, 0660", 0660, 1001, 50, 0, true },
		{ "supplementary member, 0660", 0660, 1001, 9, 50, true },
		{ "non-member, 0660", 0660, 1001, 9, 51, false },
		{ "group read only, 0640", 0640, 1001, 50, 0, false },
		{ "others may write, 0602", 0602, 1001, 9, 0, true },
		{ "others read only, 0644", 0644, 1001, 9, 0, false },
		{ "0666 anyone", 0666, 4242, 4242, 0, true },
	};
	struct sink_sock s;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.owner = 1000;
	s.gid = 50;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gid_t sup = cases[i].sup;
		bool got;

		s.mode = cases[i].mode;
		got = sink_sock_peer_allowed(&s, cases[i].uid, cases[i].gid, sup ? &sup : NULL,
					     sup ? 1 : 0);
		if (got != cases[i].allowed)
			fail_msg("%s: got %d", cases[i].name, got);
	}
}

/* As root: an unprivileged peer reaching a 0600 socket (chmod'ed behind our back) is
 * refused by its credentials and logged with its uid. */
static void test_peer_refused(void **state)
{
	struct fx *f = *state;
	int p[2], status;
	pid_t pid;
	char c;

	if (geteuid() != 0)
		skip();
	open_ok(f);
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(chmod(f->path, 0666), 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[16];
		int fd;

		alarm(10);
		close(p[0]);
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(2);
		fd = connect_to(f->path);
		if (fd < 0)
			_exit(3);
		if (write(p[1], "c", 1) != 1)
			_exit(4);
		_exit(recv(fd, buf, sizeof(buf), 0) == 0 ? 0 : 5); /* EOF, no data */
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	pump(f);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(f->s.refused, 1);
	assert_int_equal(f->s.n_clients, 0);
	assert_non_null(strstr(log_all, "uid 65534"));
	assert_non_null(strstr(log_all, "refused"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_socket, setup, teardown),
		cmocka_unit_test(test_zeroed_close_leaves_fd0),
		cmocka_unit_test_setup_teardown(test_mode_default_0600, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_and_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_socket_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regular_file_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_socket_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_spares_a_replaced_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fanout_two, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffered_then_flushed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_client_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dropped_reads_late, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dropped_keeps_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_linger, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disconnects_and_junk, setup, teardown),
		cmocka_unit_test(test_peer_rule),
		cmocka_unit_test_setup_teardown(test_peer_refused, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	log_setup(2, false); /* every level */
	log_set_sink(log_keep);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
