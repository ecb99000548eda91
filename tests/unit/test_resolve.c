/*
 * test_resolve.c - resolve.c on real fds and real file handles in a temporary directory
 * under /tmp: event-fd paths (a file, a directory, a deleted file, a path near PATH_MAX, a
 * closed fd), file handles from name_to_handle_at(), the directory-handle cache (hits,
 * misses, evictions, flush, a handle too large to cache) and the bounds of the out buffer.
 *
 * name_to_handle_at() needs no privilege; open_by_handle_at() needs CAP_DAC_READ_SEARCH, so
 * the cases that resolve a handle skip with a message without it (CI runs them as root).
 * A cached path is told from a freshly resolved one by asking again with no views at all:
 * only the cache can answer that. Links libfanotifyd.a. No fanotify, no clock, no sleep.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "resolve.h"

struct fixture {
	struct resolve r;
	char dir[256];		/* realpath of the temporary directory */
	int view;		/* O_RDONLY fd of dir: the mount fd for open_by_handle_at */
};

/* A file handle as decode.c hands it on: bytes owned by the caller. */
struct handle {
	struct fan_fid fid;
	unsigned char bytes[MAX_HANDLE_SZ];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/test_resolve.XXXXXX";

	char real[PATH_MAX];

	if (!f || !mkdtemp(tmpl) || !realpath(tmpl, real) || strlen(real) >= sizeof(f->dir))
		return -1;
	strcpy(f->dir, real);
	f->view = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->view < 0)
		return -1;
	resolve_init(&f->r);
	if (f->r.fd_dir < 0)
		return -1;
	*state = f;
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(p);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	resolve_free(&f->r);
	resolve_free(&f->r); /* safe twice */
	(void)close(f->view);
	(void)nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* dir/name, created as a file (or a directory when is_dir); its full path into path. */
static void make(struct fixture *f, const char *name, bool is_dir, char *path, size_t len)
{
	int fd;

	assert_true(snprintf(path, len, "%s/%s", f->dir, name) < (int)len);
	if (is_dir) {
		assert_int_equal(mkdir(path, 0755), 0);
		return;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	(void)close(fd);
}

/* The handle of path, with fsid as its cache key (open_by_handle_at ignores the fsid). */
static void handle_of(const char *path, uint64_t fsid, struct handle *h)
{
	union {
		struct file_handle fh;
		char raw[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} u;
	int mount_id;

	u.fh.handle_bytes = MAX_HANDLE_SZ;
	assert_int_equal(name_to_handle_at(AT_FDCWD, path, &u.fh, &mount_id, 0), 0);
	memset(h, 0, sizeof(*h));
	memcpy(h->bytes, u.fh.f_handle, u.fh.handle_bytes);
	h->fid.type = 1;
	h->fid.fsid = fsid;
	h->fid.handle_type = u.fh.handle_type;
	h->fid.handle_bytes = u.fh.handle_bytes;
	h->fid.handle = h->bytes;
}

/* Skips the calling test unless open_by_handle_at() works here (CAP_DAC_READ_SEARCH). */
static void need_open_by_handle(const struct handle *h, int view)
{
	union {
		struct file_handle fh;
		char raw[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} u;
	int fd;

	u.fh.handle_bytes = h->fid.handle_bytes;
	u.fh.handle_type = h->fid.handle_type;
	memcpy(u.fh.f_handle, h->bytes, h->fid.handle_bytes);
	fd = open_by_handle_at(view, &u.fh, O_PATH | O_CLOEXEC);
	if (fd >= 0) {
		(void)close(fd);
		return;
	}
	if (errno == EPERM) {
		print_message("SKIP: open_by_handle_at needs CAP_DAC_READ_SEARCH (run as root)\n");
		skip();
	}
	fail_msg("open_by_handle_at: %s", strerror(errno));
}

/* resolve_fd_path() of an open fd on path equals path. */
static void expect_fd_path(struct fixture *f, const char *path, int oflags)
{
	char out[PATH_MAX];
	int fd = open(path, oflags | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(resolve_fd_path(&f->r, fd, out, sizeof(out)), (int)strlen(path));
	assert_string_equal(out, path);
	(void)close(fd);
}

static void fd_path_file(void **state)
{
	struct fixture *f = *state;
	char p[PATH_MAX];

	make(f, "file", false, p, sizeof(p));
	expect_fd_path(f, p, O_RDONLY);
	expect_fd_path(f, p, O_PATH);
}

static void fd_path_dir(void **state)
{
	struct fixture *f = *state;
	char p[PATH_MAX];

	make(f, "sub", true, p, sizeof(p));
	expect_fd_path(f, p, O_RDONLY | O_DIRECTORY);
	expect_fd_path(f, f->dir, O_RDONLY | O_DIRECTORY);
}

/* Without the held /proc/self/fd the full /proc/self/fd/N link gives the same answer. */
static void fd_path_without_fd_dir(void **state)
{
	struct fixture *f = *state;
	char p[PATH_MAX];

	make(f, "file", false, p, sizeof(p));
	(void)close(f->r.fd_dir);
	f->r.fd_dir = -1;
	expect_fd_path(f, p, O_RDONLY);
}

/* The kernel names an unlinked file "PATH (deleted)"; resolve_fd_path() passes that on as
 * it is (pipeline.c strips the suffix for events whose object is gone). */
static void fd_path_deleted(void **state)
{
	struct fixture *f = *state;
	char p[PATH_MAX], want[PATH_MAX + 16], out[PATH_MAX];
	int fd;

	make(f, "gone", false, p, sizeof(p));
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(unlink(p), 0);
	snprintf(want, sizeof(want), "%s (deleted)", p);
	assert_int_equal(resolve_fd_path(&f->r, fd, out, sizeof(out)), (int)strlen(want));
	assert_string_equal(out, want);
	(void)close(fd);
}

/* An fd that is not open: the /proc/self/fd entry is missing. */
static void fd_path_closed_fd(void **state)
{
	struct fixture *f = *state;
	char out[64];
	int fd = open(f->dir, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	(void)close(fd);
	assert_int_equal(resolve_fd_path(&f->r, fd, out, sizeof(out)), -ENOENT);
}

/*
 * A file whose path is len bytes long (len near PATH_MAX), built one short relative
 * component at a time under f->dir; its full path into path, an O_RDONLY fd returned.
 */
static int deep_file(struct fixture *f, size_t len, char *path)
{
	char comp[NAME_MAX + 1];
	int dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;
	size_t at = strlen(f->dir);

	memcpy(path, f->dir, at + 1);
	assert_true(dfd >= 0);
	for (;;) {
		/* "/" + component: a last component of the remaining length, else 200 bytes
		 * (leaving at least 2 for the last one). */
		size_t left = len - at - 1, n = left <= NAME_MAX ? left : 200;
		int next;

		if (left > NAME_MAX && left - 200 < 2)
			n = 100;
		memset(comp, left <= NAME_MAX ? 'f' : 'd', n);
		comp[n] = '\0';
		path[at++] = '/';
		memcpy(path + at, comp, n + 1);
		at += n;
		if (left <= NAME_MAX) {
			fd = openat(dfd, comp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			assert_true(fd >= 0);
			(void)close(dfd);
			assert_int_equal(strlen(path), len);
			return fd;
		}
		assert_int_equal(mkdirat(dfd, comp, 0755), 0);
		next = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(next >= 0);
		(void)close(dfd);
		dfd = next;
	}
}

/* PATH_MAX - 2 bytes fit a PATH_MAX buffer; longer than the buffer is -ENAMETOOLONG, with
 * nothing written past the buffer; longer than PATH_MAX is refused by the kernel itself. */
static void fd_path_near_path_max(void **state)
{
	struct fixture *f = *state;
	char p[PATH_MAX + 64];
	static char out[PATH_MAX + 64];
	int fd = deep_file(f, PATH_MAX - 2, p);

	assert_int_equal(resolve_fd_path(&f->r, fd, out, PATH_MAX), PATH_MAX - 2);
	assert_string_equal(out, p);

	memset(out, 'X', sizeof(out));
	assert_int_equal(resolve_fd_path(&f->r, fd, out, 1024), -ENAMETOOLONG);
	for (size_t i = 1024; i < sizeof(out); i++)
		assert_int_equal(out[i], 'X');
	(void)close(fd);
}

static void fd_path_over_path_max(void **state)
{
	struct fixture *f = *state;
	char p[PATH_MAX + 256];
	static char out[2 * PATH_MAX];
	int fd = deep_file(f, PATH_MAX + 100, p);

	assert_int_equal(resolve_fd_path(&f->r, fd, out, sizeof(out)), -ENAMETOOLONG);
	(void)close(fd);
}

/* Too small by a little and by a lot: -ENAMETOOLONG, the bytes past out_len untouched. */
static void fd_path_small_buffer(void **state)
{
	struct fixture *f = *state;
	char p[PATH_MAX], out[PATH_MAX];
	size_t len, sizes[] = { 0, 1, 2, 8, 0 };
	int fd;

	make(f, "file", false, p, sizeof(p));
	len = strlen(p);
	sizes[4] = len;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(out, 'X', sizeof(out));
		assert_int_equal(resolve_fd_path(&f->r, fd, out, sizes[i]), -ENAMETOOLONG);
		for (size_t j = sizes[i]; j < sizeof(out); j++)
			assert_int_equal(out[j], 'X');
	}
	/* Room for the path and its NUL, exactly: resolved; one byte more too. */
	assert_int_equal(resolve_fd_path(&f->r, fd, out, len + 1), (int)len);
	assert_string_equal(out, p);
	assert_int_equal(resolve_fd_path(&f->r, fd, out, len + 2), (int)len);
	assert_string_equal(out, p);
	(void)close(fd);
}

/* A directory's and a file's handle, uncached: their paths, in out; no cache counter moves. */
static void handle_uncached(void **state)
{
	struct fixture *f = *state;
	char d[PATH_MAX], p[PATH_MAX], out[PATH_MAX];
	struct handle hd, hf;
	const char *got;

	make(f, "sub", true, d, sizeof(d));
	make(f, "sub/file", false, p, sizeof(p));
	handle_of(d, 7, &hd);
	handle_of(p, 7, &hf);
	need_open_by_handle(&hd, f->view);
	got = resolve_handle(&f->r, &f->view, 1, &hd.fid, false, out, sizeof(out));
	assert_ptr_equal(got, out);
	assert_string_equal(got, d);
	got = resolve_handle(&f->r, &f->view, 1, &hf.fid, false, out, sizeof(out));
	assert_ptr_equal(got, out);
	assert_string_equal(got, p);
	assert_int_equal(f->r.hits + f->r.misses + f->r.evictions + f->r.failures, 0);
}

/* Views that cannot open the handle (another filesystem) are passed over for one that can. */
static void handle_second_view(void **state)
{
	struct fixture *f = *state;
	char d[PATH_MAX], out[PATH_MAX];
	struct handle h;
	int views[2] = { open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC), f->view };

	assert_true(views[0] >= 0);
	make(f, "sub", true, d, sizeof(d));
	handle_of(d, 7, &h);
	need_open_by_handle(&h, f->view);
	assert_string_equal(resolve_handle(&f->r, views, 2, &h.fid, false, out, sizeof(out)), d);
	assert_null(resolve_handle(&f->r, views, 1, &h.fid, false, out, sizeof(out)));
	assert_int_equal(f->r.failures, 1);
	(void)close(views[0]);
}

/* A handle that names nothing, and a handle with no view to open it: NULL, counted. */
static void handle_unresolvable(void **state)
{
	struct fixture *f = *state;
	char d[PATH_MAX], out[PATH_MAX];
	struct handle h;

	make(f, "sub", true, d, sizeof(d));
	handle_of(d, 7, &h);
	assert_null(resolve_handle(&f->r, NULL, 0, &h.fid, true, out, sizeof(out)));
	assert_int_equal(f->r.misses, 1);
	assert_int_equal(f->r.failures, 1);
	memset(h.bytes, 0xa5, h.fid.handle_bytes);
	assert_null(resolve_handle(&f->r, &f->view, 1, &h.fid, false, out, sizeof(out)));
	assert_int_equal(f->r.failures, 2);
	h.fid.handle_bytes = MAX_HANDLE_SZ + 1; /* never handed to the kernel */
	assert_null(resolve_handle(&f->r, &f->view, 1, &h.fid, false, out, sizeof(out)));
	assert_int_equal(f->r.failures, 3);
	assert_int_equal(f->r.hits, 0);
}

/* The path of a removed directory: its handle is stale (ESTALE), so NULL. */
static void handle_gone(void **state)
{
	struct fixture *f = *state;
	char d[PATH_MAX], out[PATH_MAX];
	struct handle h;

	make(f, "sub", true, d, sizeof(d));
	handle_of(d, 7, &h);
	need_open_by_handle(&h, f->view);
	assert_int_equal(rmdir(d), 0);
	assert_null(resolve_handle(&f->r, &f->view, 1, &h.fid, true, out, sizeof(out)));
	assert_int_equal(f->r.failures, 1);
}

/* First lookup misses and caches (the string is the cache's, not out); the second hits,
 * even with no view; the stats carry the counters. */
static void cache_hit_miss(void **state)
{
	struct fixture *f = *state;
	char d[PATH_MAX], d2[PATH_MAX], out[PATH_MAX];
	struct handle h, h2;
	struct stats s;
	const char *got;

	make(f, "sub", true, d, sizeof(d));
	handle_of(d, 7, &h);
	need_open_by_handle(&h, f->view);
	got = resolve_handle(&f->r, &f->view, 1, &h.fid, true, out, sizeof(out));
	assert_non_null(got);
	assert_ptr_not_equal(got, out);
	assert_string_equal(got, d);
	assert_int_equal(f->r.misses, 1);
	assert_int_equal(f->r.hits, 0);

	memset(out, 0, sizeof(out));
	got = resolve_handle(&f->r, NULL, 0, &h.fid, true, out, sizeof(out));
	assert_non_null(got);
	assert_string_equal(got, d);
	assert_int_equal(f->r.hits, 1);
	assert_int_equal(f->r.misses, 1);
	assert_int_equal(f->r.failures, 0);

	/* Another directory's handle under the same fsid is another entry: a miss, its own
	 * path, and the first still hits. */
	make(f, "sub2", true, d2, sizeof(d2));
	handle_of(d2, 7, &h2);
	assert_int_equal(h2.fid.handle_bytes, h.fid.handle_bytes);
	assert_string_equal(resolve_handle(&f->r, &f->view, 1, &h2.fid, true, out, sizeof(out)),
			    d2);
	assert_string_equal(resolve_handle(&f->r, NULL, 0, &h.fid, true, out, sizeof(out)), d);
	assert_string_equal(resolve_handle(&f->r, NULL, 0, &h2.fid, true, out, sizeof(out)), d2);
	assert_int_equal(f->r.hits, 3);
	assert_int_equal(f->r.misses, 2);

	/* Another key (fsid) for the same handle is another entry: a miss. */
	h.fid.fsid = 8;
	assert_null(resolve_handle(&f->r, NULL, 0, &h.fid, true, out, sizeof(out)));
	assert_int_equal(f->r.misses, 3);

	memset(&s, 0, sizeof(s));
	resolve_stats(&f->r, &s);
	assert_int_equal(s.dircache_hits, 3);
	assert_int_equal(s.dircache_misses, 3);
	assert_int_equal(s.dircache_evictions, 0);
	assert_int_equal(s.resolve_failures, 1);
}

/* The cache keeps the path it resolved: after a rename the entry still says the old path
 * (why pipeline.c flushes on directory renames), and resolve_flush() drops it. */
static void cache_flush(void **state)
{
	struct fixture *f = *state;
	char d[PATH_MAX], d2[PATH_MAX], out[PATH_MAX];
	struct handle h;
	struct stats s;

	make(f, "sub", true, d, sizeof(d));
	handle_of(d, 7, &h);
	need_open_by_handle(&h, f->view);
	assert_string_equal(resolve_handle(&f->r, &f->view, 1, &h.fid, true, out, sizeof(out)), d);
	snprintf(d2, sizeof(d2), "%s/moved", f->dir);
	assert_int_equal(rename(d, d2), 0);
	assert_string_equal(resolve_handle(&f->r, &f->view, 1, &h.fid, true, out, sizeof(out)), d);
	assert_int_equal(f->r.hits, 1);

	resolve_flush(&f->r);
	assert_null(resolve_handle(&f->r, NULL, 0, &h.fid, true, out, sizeof(out)));
	assert_int_equal(f->r.misses, 2);
	assert_string_equal(resolve_handle(&f->r, &f->view, 1, &h.fid, true, out, sizeof(out)),
			    d2);
	assert_int_equal(f->r.misses, 3);
	assert_int_equal(f->r.flushes, 1);
	memset(&s, 0, sizeof(s));
	resolve_stats(&f->r, &s);
	assert_int_equal(s.dircache_flushes, 1);
}

/*
 * More keys than slots (the same directory under RESOLVE_CACHE_MAX + 1 fsids): some slot
 * is taken twice. Where the first eviction happens, exactly one earlier key is gone (asked
 * with no view, it misses) and every other earlier key and the new one still hit.
 */
static void cache_eviction(void **state)
{
	struct fixture *f = *state;
	char d[PATH_MAX], out[PATH_MAX];
	struct handle h;
	uint64_t k, evicted = 0, gone = 0;

	make(f, "sub", true, d, sizeof(d));
	handle_of(d, 0, &h);
	need_open_by_handle(&h, f->view);
	for (k = 0; k <= RESOLVE_CACHE_MAX && !f->r.evictions; k++) {
		h.fid.fsid = k;
		assert_string_equal(
			resolve_handle(&f->r, &f->view, 1, &h.fid, true, out, sizeof(out)), d);
	}
	assert_int_equal(f->r.evictions, 1);
	assert_int_equal(f->r.misses, k);
	evicted = k - 1;
	for (uint64_t j = 0; j <= evicted; j++) {
		h.fid.fsid = j;
		const char *got = resolve_handle(&f->r, NULL, 0, &h.fid, true, out, sizeof(out));

		if (!got)
			gone++;
		else
			assert_string_equal(got, d);
	}
	assert_int_equal(gone, 1);
	assert_int_equal(f->r.hits, evicted);
}

/* A handle longer than RESOLVE_HANDLE_MAX still resolves, into out, and is never cached. */
static void cache_handle_too_large(void **state)
{
	struct fixture *f = *state;
	char d[PATH_MAX], out[PATH_MAX];
	struct handle h;
	const char *got;

	make(f, "sub", true, d, sizeof(d));
	handle_of(d, 7, &h);
	need_open_by_handle(&h, f->view);
	/* Trailing zero bytes: filesystems decode the fields they know and ignore the rest
	 * (fs/exportfs: the *_fh_to_dentry callbacks check a minimum length only). */
	assert_true(h.fid.handle_bytes <= RESOLVE_HANDLE_MAX);
	h.fid.handle_bytes = RESOLVE_HANDLE_MAX + 8;
	if (!resolve_handle(&f->r, &f->view, 1, &h.fid, false, out, sizeof(out))) {
		print_message("SKIP: this filesystem refuses a padded handle\n");
		skip();
	}
	for (int i = 0; i < 2; i++) {
		memset(out, 0, sizeof(out));
		got = resolve_handle(&f->r, &f->view, 1, &h.fid, true, out, sizeof(out));
		assert_ptr_equal(got, out);
		assert_string_equal(got, d);
	}
	assert_int_equal(f->r.hits + f->r.misses + f->r.evictions + f->r.failures, 0);
	assert_null(resolve_handle(&f->r, NULL, 0, &h.fid, true, out, sizeof(out)));
	assert_int_equal(f->r.misses, 0);
	assert_int_equal(f->r.failures, 1);
	for (size_t i = 0; i < RESOLVE_CACHE_MAX; i++)
		assert_int_equal(f->r.cache[i].handle_bytes, 0);
}

/* An out buffer too small for the path: NULL (counted as a failure), nothing cached, and no
 * byte written past out_len. */
static void handle_small_buffer(void **state)
{
	struct fixture *f = *state;
	char d[PATH_MAX], out[PATH_MAX];
	struct handle h;
	size_t len;

	make(f, "sub", true, d, sizeof(d));
	len = strlen(d);
	handle_of(d, 7, &h);
	need_open_by_handle(&h, f->view);
	memset(out, 'X', sizeof(out));
	assert_null(resolve_handle(&f->r, &f->view, 1, &h.fid, true, out, len));
	for (size_t j = len; j < sizeof(out); j++)
		assert_int_equal(out[j], 'X');
	assert_int_equal(f->r.failures, 1);
	assert_null(resolve_handle(&f->r, NULL, 0, &h.fid, true, out, sizeof(out)));
	assert_int_equal(f->r.misses, 2);
	assert_string_equal(resolve_handle(&f->r, &f->view, 1, &h.fid, true, out, len + 2), d);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(fd_path_file),
		T(fd_path_dir),
		T(fd_path_without_fd_dir),
		T(fd_path_deleted),
		T(fd_path_closed_fd),
		T(fd_path_near_path_max),
		T(fd_path_over_path_max),
		T(fd_path_small_buffer),
		T(handle_uncached),
		T(handle_second_view),
		T(handle_unresolvable),
		T(handle_gone),
		T(cache_hit_miss),
		T(cache_flush),
		T(cache_eviction),
		T(cache_handle_too_large),
		T(handle_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
