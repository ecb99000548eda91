/*
 * test_decode.c - decode_event() against fanotify buffers built byte by byte.
 *
 * Every decode runs on a copy placed at the very end of a malloc'd block of exactly the
 * right size, so ASan or valgrind report any read past len; each case is decoded at several
 * misalignments, since the decoder must never dereference an unaligned pointer. The struct
 * fan_event is filled with garbage first, so a field the decoder forgets to set shows up.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "compat.h"
#include "decode.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- buffer builder ---------------------------------------------------------------- */

#define BB_MAX 4096

struct bbuf {
	unsigned char data[BB_MAX];
	size_t len;
	size_t ev_start;	/* start of the event bb_end() closes */
};

static void bb_set(struct bbuf *b, size_t off, const void *p, size_t n)
{
	assert_true(off <= BB_MAX && n <= BB_MAX - off);
	memcpy(b->data + off, p, n);
	if (off + n > b->len)
		b->len = off + n;
}

static void bb_append(struct bbuf *b, const void *p, size_t n)
{
	bb_set(b, b->len, p, n);
}

static void bb_u8(struct bbuf *b, uint8_t v)
{
	bb_append(b, &v, sizeof(v));
}

static void bb_u16(struct bbuf *b, uint16_t v)
{
	bb_append(b, &v, sizeof(v));
}

static void bb_u32(struct bbuf *b, uint32_t v)
{
	bb_append(b, &v, sizeof(v));
}

static void bb_s32(struct bbuf *b, int32_t v)
{
	bb_append(b, &v, sizeof(v));
}

static void bb_u64(struct bbuf *b, uint64_t v)
{
	bb_append(b, &v, sizeof(v));
}

static void bb_zeros(struct bbuf *b, size_t n)
{
	while (n--)
		bb_u8(b, 0);
}

static void bb_set_u8(struct bbuf *b, size_t off, uint8_t v)
{
	bb_set(b, off, &v, sizeof(v));
}

static void bb_set_u16(struct bbuf *b, size_t off, uint16_t v)
{
	bb_set(b, off, &v, sizeof(v));
}

static void bb_set_u32(struct bbuf *b, size_t off, uint32_t v)
{
	bb_set(b, off, &v, sizeof(v));
}

/* Opens an event: struct fanotify_event_metadata, event_len filled in by bb_end(). */
static void bb_event(struct bbuf *b, uint64_t mask, int32_t fd, int32_t pid)
{
	b->ev_start = b->len;
	bb_u32(b, 0);				/* event_len */
	bb_u8(b, FANOTIFY_METADATA_VERSION);	/* vers */
	bb_u8(b, 0);				/* reserved */
	bb_u16(b, DECODE_METADATA_LEN);		/* metadata_len */
	bb_u64(b, mask);
	bb_s32(b, fd);
	bb_s32(b, pid);
}

static void bb_end(struct bbuf *b)
{
	bb_set_u32(b, b->ev_start, (uint32_t)(b->len - b->ev_start));
}

static size_t bb_info_hdr(struct bbuf *b, uint8_t type, uint16_t len)
{
	size_t start = b->len;

	bb_u8(b, type);
	bb_u8(b, 0);
	bb_u16(b, len);
	return start;
}

/*
 * Appends a FID-style record as the kernel writes it: header, fsid, file_handle, name and
 * NUL (name != NULL), NUL padding to a multiple of 4. Returns the record's offset.
 */
static size_t bb_fid(struct bbuf *b, uint8_t type, int32_t fsid0, int32_t fsid1,
		     int32_t handle_type, const void *handle, uint32_t handle_bytes,
		     const char *name)
{
	size_t body = 4 + 8 + 8 + handle_bytes + (name ? strlen(name) + 1 : 0);
	size_t rec_len = (body + 3) & ~(size_t)3;
	size_t start = bb_info_hdr(b, type, (uint16_t)rec_len);

	bb_s32(b, fsid0);
	bb_s32(b, fsid1);
	bb_u32(b, handle_bytes);
	bb_s32(b, handle_type);
	bb_append(b, handle, handle_bytes);
	if (name)
		bb_append(b, name, strlen(name) + 1);
	bb_zeros(b, rec_len - body);
	return start;
}

static size_t bb_pidfd(struct bbuf *b, int32_t pidfd)
{
	size_t start = bb_info_hdr(b, FAN_EVENT_INFO_TYPE_PIDFD, 8);

	bb_s32(b, pidfd);
	return start;
}

/* Offsets inside a FID record, for cases that corrupt one field. */
#define REC_OFF_LEN		2
#define REC_OFF_HANDLE_BYTES	12

static const unsigned char handle_a[8] = { 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8 };
static const unsigned char handle_b[12] = {
	0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc,
};
static const unsigned char handle_c[6] = { 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6 };

#define TEST_PID	4242
#define TEST_FD		17

/* fsid.val[0] negative: the decoder must not sign-extend it into the high half. */
#define FSID0		(-2)
#define FSID1		7
#define FSID		0x00000007fffffffeULL

/* ---- running a decode on an exactly sized heap copy ----------------------------------- */

struct tail {
	unsigned char *block;
	unsigned char *buf;	/* at the very end of block */
};

static struct tail tail_copy(const void *src, size_t len, size_t misalign)
{
	struct tail t;

	t.block = malloc(len + misalign);
	assert_non_null(t.block);
	t.buf = t.block + misalign;
	if (len)
		memcpy(t.buf, src, len);
	return t;
}

static void tail_free(struct tail *t)
{
	free(t->block);
	t->block = NULL;
	t->buf = NULL;
}

static int decode_garbage_first(const void *buf, size_t len, struct fan_event *ev)
{
	memset(ev, 0xa5, sizeof(*ev));
	return decode_event(buf, len, ev);
}

static void assert_fid_absent(const struct fan_fid *f)
{
	assert_int_equal(f->type, 0);
	assert_int_equal(f->fsid, 0);
	assert_int_equal(f->handle_type, 0);
	assert_int_equal(f->handle_bytes, 0);
	assert_null(f->handle);
	assert_null(f->name);
	assert_int_equal(f->name_len, 0);
}

static void assert_in(const void *p, size_t n, const unsigned char *buf, size_t len)
{
	const unsigned char *q = p;

	assert_true(q >= buf && q <= buf + len && n <= (size_t)(buf + len - q));
}

static void assert_fid(const struct fan_fid *f, const unsigned char *buf, size_t len,
		       uint8_t type, int32_t handle_type, const void *handle,
		       uint32_t handle_bytes, const char *name)
{
	assert_int_equal(f->type, type);
	assert_int_equal(f->fsid, FSID);
	assert_int_equal(f->handle_type, handle_type);
	assert_int_equal(f->handle_bytes, handle_bytes);
	assert_non_null(f->handle);
	assert_in(f->handle, handle_bytes, buf, len);
	assert_memory_equal(f->handle, handle, handle_bytes);
	if (name) {
		assert_non_null(f->name);
		assert_in(f->name, f->name_len + 1, buf, len);
		assert_string_equal(f->name, name);
		assert_int_equal(f->name_len, strlen(name));
	} else {
		assert_null(f->name);
		assert_int_equal(f->name_len, 0);
	}
}

/* ---- the case table ------------------------------------------------------------------ */

enum want {
	WANT_EVENT,		/* returns the buffer's event_len, bad_info false */
	WANT_BAD_INFO,		/* returns the buffer's event_len, bad_info true */
	WANT_EINVAL,		/* -EINVAL, mask/fd/pid from the metadata */
	WANT_ENODATA,
};

struct decode_case {
	const char *name;
	void (*build)(struct bbuf *b);
	size_t trim;		/* bytes cut off the end of the built buffer before decoding */
	enum want want;
	/* Extra checks; buf/len are the decoded copy. */
	void (*check)(const struct fan_event *ev, const unsigned char *buf, size_t len);
};

/* Valid events. */

static void build_plain_fd(struct bbuf *b)
{
	bb_event(b, FAN_OPEN_PERM, TEST_FD, TEST_PID);
	bb_end(b);
}

static void check_plain_fd(const struct fan_event *ev, const unsigned char *buf, size_t len)
{
	(void)buf;
	(void)len;
	assert_int_equal(ev->mask, FAN_OPEN_PERM);
	assert_int_equal(ev->fd, TEST_FD);
	assert_int_equal(ev->pid, TEST_PID);
	assert_int_equal(ev->pidfd, EVENT_NO_PIDFD_RECORD);
	assert_fid_absent(&ev->fid);
	assert_fid_absent(&ev->dfid);
	assert_fid_absent(&ev->old_dfid);
	assert_fid_absent(&ev->new_dfid);
	assert_int_equal(ev->unknown_info, 0);
	assert_false(ev->bad_info);
}

static void build_fid_dfid_name(struct bbuf *b)
{
	bb_event(b, FAN_CREATE, FAN_NOFD, TEST_PID);
	bb_fid(b, FAN_EVENT_INFO_TYPE_FID, FSID0, FSID1, 1, handle_a, sizeof(handle_a), NULL);
	bb_fid(b, FAN_EVENT_INFO_TYPE_DFID_NAME, FSID0, FSID1, 2, handle_b, sizeof(handle_b),
	       "hello.txt");
	bb_end(b);
}

static void check_fid_dfid_name(const struct fan_event *ev, const unsigned char *buf,
				size_t len)
{
	assert_int_equal(ev->mask, FAN_CREATE);
	assert_int_equal(ev->fd, FAN_NOFD);
	assert_int_equal(ev->pid, TEST_PID);
	assert_int_equal(ev->pidfd, EVENT_NO_PIDFD_RECORD);
	assert_fid(&ev->fid, buf, len, FAN_EVENT_INFO_TYPE_FID, 1, handle_a, sizeof(handle_a),
		   NULL);
	assert_fid(&ev->dfid, buf, len, FAN_EVENT_INFO_TYPE_DFID_NAME, 2, handle_b,
		   sizeof(handle_b), "hello.txt");
	assert_fid_absent(&ev->old_dfid);
	assert_fid_absent(&ev->new_dfid);
	assert_int_equal(ev->unknown_info, 0);
}

static void build_dfid(struct bbuf *b)
{
	bb_event(b, FAN_ATTRIB | FAN_ONDIR, FAN_NOFD, TEST_PID);
	bb_fid(b, FAN_EVENT_INFO_TYPE_DFID, FSID0, FSID1, 3, handle_a, sizeof(handle_a), NULL);
	bb_end(b);
}

static void check_dfid(const struct fan_event *ev, const unsigned char *buf, size_t len)
{
	assert_fid_absent(&ev->fid);
	assert_fid(&ev->dfid, buf, len, FAN_EVENT_INFO_TYPE_DFID, 3, handle_a, sizeof(handle_a),
		   NULL);
}

static void build_rename(struct bbuf *b)
{
	bb_event(b, FAN_RENAME, FAN_NOFD, TEST_PID);
	bb_fid(b, FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, FSID0, FSID1, 1, handle_a,
	       sizeof(handle_a), "old");
	bb_fid(b, FAN_EVENT_INFO_TYPE_NEW_DFID_NAME, FSID0, FSID1, 1, handle_b,
	       sizeof(handle_b), "new-name.txt");
	bb_fid(b, FAN_EVENT_INFO_TYPE_FID, FSID0, FSID1, 1, handle_c, sizeof(handle_c), NULL);
	bb_end(b);
}

static void check_rename(const struct fan_event *ev, const unsigned char *buf, size_t len)
{
	assert_int_equal(ev->mask, FAN_RENAME);
	assert_fid_absent(&ev->dfid);
	assert_fid(&ev->old_dfid, buf, len, FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, 1, handle_a,
		   sizeof(handle_a), "old");
	assert_fid(&ev->new_dfid, buf, len, FAN_EVENT_INFO_TYPE_NEW_DFID_NAME, 1, handle_b,
		   sizeof(handle_b), "new-name.txt");
	assert_fid(&ev->fid, buf, len, FAN_EVENT_INFO_TYPE_FID, 1, handle_c, sizeof(handle_c),
		   NULL);
}

/* "abc" after an 8-byte handle fills the record exactly: NUL in its last byte. */
static void build_name_fills_record(struct bbuf *b)
{
	bb_event(b, FAN_DELETE, FAN_NOFD, TEST_PID);
	bb_fid(b, FAN_EVENT_INFO_TYPE_DFID_NAME, FSID0, FSID1, 1, handle_a, sizeof(handle_a),
	       "abc");
	bb_end(b);
}

static void check_name_fills_record(const struct fan_event *ev, const unsigned char *buf,
				    size_t len)
{
	assert_int_equal(len, 24 + 32);
	assert_fid(&ev->dfid, buf, len, FAN_EVENT_INFO_TYPE_DFID_NAME, 1, handle_a,
		   sizeof(handle_a), "abc");
}

/* The kernel reports "." for the directory itself; an empty name still has its NUL. */
static void build_empty_name(struct bbuf *b)
{
	bb_event(b, FAN_DELETE, FAN_NOFD, TEST_PID);
	bb_fid(b, FAN_EVENT_INFO_TYPE_DFID_NAME, FSID0, FSID1, 1, handle_a, sizeof(handle_a),
	       "");
	bb_end(b);
}

static void check_empty_name(const struct fan_event *ev, const unsigned char *buf, size_t len)
{
	assert_fid(&ev->dfid, buf, len, FAN_EVENT_INFO_TYPE_DFID_NAME, 1, handle_a,
		   sizeof(handle_a), "");
}

/* A 6-byte handle leaves 2 padding bytes in a FID record; they are not part of it. */
static void build_fid_padding(struct bbuf *b)
{
	bb_event(b, FAN_MODIFY, FAN_NOFD, TEST_PID);
	bb_fid(b, FAN_EVENT_INFO_TYPE_FID, FSID0, FSID1, 9, handle_c, sizeof(handle_c), NULL);
	bb_end(b);
}

static void check_fid_padding(const struct fan_event *ev, const unsigned char *buf, size_t len)
{
	assert_int_equal(len, 24 + 28);
	assert_fid(&ev->fid, buf, len, FAN_EVENT_INFO_TYPE_FID, 9, handle_c, sizeof(handle_c),
		   NULL);
}

static unsigned char handle_max[128];

static void build_handle_128(struct bbuf *b)
{
	for (size_t i = 0; i < sizeof(handle_max); i++)
		handle_max[i] = (unsigned char)(i * 7 + 1);
	bb_event(b, FAN_MODIFY, FAN_NOFD, TEST_PID);
	bb_fid(b, FAN_EVENT_INFO_TYPE_FID, FSID0, FSID1, 1, handle_max, sizeof(handle_max),
	       NULL);
	bb_end(b);
}

static void check_handle_128(const struct fan_event *ev, const unsigned char *buf, size_t len)
{
	assert_fid(&ev->fid, buf, len, FAN_EVENT_INFO_TYPE_FID, 1, handle_max,
		   sizeof(handle_max), NULL);
}

static void build_pidfd_valid(struct bbuf *b)
{
	bb_event(b, FAN_OPEN, TEST_FD, TEST_PID);
	bb_pidfd(b, 7);
	bb_end(b);
}

static void check_pidfd_valid(const struct fan_event *ev, const unsigned char *buf, size_t len)
{
	(void)buf;
	(void)len;
	assert_int_equal(ev->fd, TEST_FD);
	assert_int_equal(ev->pidfd, 7);
}

static void build_pidfd_nopidfd(struct bbuf *b)
{
	bb_event(b, FAN_OPEN, TEST_FD, TEST_PID);
	bb_pidfd(b, FAN_NOPIDFD);
	bb_end(b);
}

static void check_pidfd_nopidfd(const struct fan_event *ev, const unsigned char *buf,
				size_t len)
{
	(void)buf;
	(void)len;
	assert_int_equal(ev->pidfd, FAN_NOPIDFD);
}

static void build_pidfd_epidfd(struct bbuf *b)
{
	bb_event(b, FAN_OPEN, TEST_FD, TEST_PID);
	bb_pidfd(b, FAN_EPIDFD);
	bb_end(b);
}

static void check_pidfd_epidfd(const struct fan_event *ev, const unsigned char *buf, size_t len)
{
	(void)buf;
	(void)len;
	assert_int_equal(ev->pidfd, FAN_EPIDFD);
}

/* A pidfd record longer than 8 bytes (a future extension) is still read. */
static void build_pidfd_long(struct bbuf *b)
{
	bb_event(b, FAN_OPEN, TEST_FD, TEST_PID);
	bb_info_hdr(b, FAN_EVENT_INFO_TYPE_PIDFD, 12);
	bb_s32(b, 9);
	bb_u32(b, 0xdeadbeef);
	bb_end(b);
}

static void check_pidfd_long(const struct fan_event *ev, const unsigned char *buf, size_t len)
{
	(void)buf;
	(void)len;
	assert_int_equal(ev->pidfd, 9);
}

/* An ERROR record and a type from the future are skipped by length, then a FID is read. */
static void build_unknown_info(struct bbuf *b)
{
	bb_event(b, FAN_FS_ERROR, FAN_NOFD, 0);
	bb_info_hdr(b, FAN_EVENT_INFO_TYPE_ERROR, 12);
	bb_s32(b, -EIO);
	bb_u32(b, 3);
	bb_info_hdr(b, 99, 16);
	bb_u32(b, 0xffffffff);
	bb_u32(b, 0xffffffff);
	bb_u32(b, 0xffffffff);
	bb_fid(b, FAN_EVENT_INFO_TYPE_FID, FSID0, FSID1, 1, handle_a, sizeof(handle_a), NULL);
	bb_end(b);
}

static void check_unknown_info(const struct fan_event *ev, const unsigned char *buf, size_t len)
{
	assert_int_equal(ev->unknown_info, 2);
	assert_int_equal(ev->pidfd, EVENT_NO_PIDFD_RECORD);
	assert_fid(&ev->fid, buf, len, FAN_EVENT_INFO_TYPE_FID, 1, handle_a, sizeof(handle_a),
		   NULL);
}

/* A bare header (len 4) of an unknown type is a complete record. */
static void build_unknown_header_only(struct bbuf *b)
{
	bb_event(b, FAN_MODIFY, FAN_NOFD, TEST_PID);
	bb_info_hdr(b, 200, 4);
	bb_end(b);
}

static void check_one_unknown(const struct fan_event *ev, const unsigned char *buf, size_t len)
{
	(void)buf;
	(void)len;
	assert_int_equal(ev->unknown_info, 1);
}

/* A larger metadata_len (a newer metadata layout): info records start after it. */
static void build_long_metadata(struct bbuf *b)
{
	bb_event(b, FAN_MODIFY, FAN_NOFD, TEST_PID);
	bb_set_u16(b, b->ev_start + 6, 32);
	bb_u64(b, 0xffffffffffffffffULL);	/* would be a bad info header if parsed */
	bb_pidfd(b, 11);
	bb_end(b);
}

static void check_long_metadata(const struct fan_event *ev, const unsigned char *buf,
				size_t len)
{
	(void)buf;
	(void)len;
	assert_int_equal(ev->pidfd, 11);
	assert_int_equal(ev->unknown_info, 0);
}

/* Two records for the same slot: the last one wins. */
static void build_same_slot_twice(struct bbuf *b)
{
	bb_event(b, FAN_MOVED_TO, FAN_NOFD, TEST_PID);
	bb_fid(b, FAN_EVENT_INFO_TYPE_DFID, FSID0, FSID1, 1, handle_a, sizeof(handle_a), NULL);
	bb_fid(b, FAN_EVENT_INFO_TYPE_DFID_NAME, FSID0, FSID1, 2, handle_b, sizeof(handle_b),
	       "second");
	bb_end(b);
}

static void check_same_slot_twice(const struct fan_event *ev, const unsigned char *buf,
				  size_t len)
{
	assert_fid(&ev->dfid, buf, len, FAN_EVENT_INFO_TYPE_DFID_NAME, 2, handle_b,
		   sizeof(handle_b), "second");
}

/* Bytes after the name's NUL (not the kernel's, but harmless) are ignored. */
static void build_name_trailing_junk(struct bbuf *b)
{
	size_t rec;

	bb_event(b, FAN_CREATE, FAN_NOFD, TEST_PID);
	rec = bb_fid(b, FAN_EVENT_INFO_TYPE_DFID_NAME, FSID0, FSID1, 1, handle_a,
		     sizeof(handle_a), "a");
	bb_set_u8(b, rec + 20 + 8 + 2, 'x');
	bb_set_u8(b, rec + 20 + 8 + 3, 'y');
	bb_end(b);
}

static void check_name_trailing_junk(const struct fan_event *ev, const unsigned char *buf,
				     size_t len)
{
	assert_fid(&ev->dfid, buf, len, FAN_EVENT_INFO_TYPE_DFID_NAME, 1, handle_a,
		   sizeof(handle_a), "a");
}

/* Malformed metadata. */

static void build_wrong_vers_2(struct bbuf *b)
{
	build_plain_fd(b);
	bb_set_u8(b, 4, 2);
}

static void build_wrong_vers_4(struct bbuf *b)
{
	build_plain_fd(b);
	bb_set_u8(b, 4, 4);
}

static void build_metadata_len_short(struct bbuf *b)
{
	build_plain_fd(b);
	bb_set_u16(b, 6, 16);
}

static void build_metadata_len_zero(struct bbuf *b)
{
	build_plain_fd(b);
	bb_set_u16(b, 6, 0);
}

static void build_event_len_below_metadata(struct bbuf *b)
{
	build_plain_fd(b);
	bb_set_u32(b, 0, 20);
}

static void build_event_len_zero(struct bbuf *b)
{
	build_plain_fd(b);
	bb_set_u32(b, 0, 0);
}

static void build_event_len_below_long_metadata(struct bbuf *b)
{
	bb_event(b, FAN_OPEN_PERM, TEST_FD, TEST_PID);
	bb_set_u16(b, 6, 32);
	bb_zeros(b, 8);
	bb_set_u32(b, 0, 28);
}

static void build_event_len_huge(struct bbuf *b)
{
	build_plain_fd(b);
	bb_set_u32(b, 0, 0xffffffff);
}

/* The metadata says there is a pidfd record; the buffer ends before it (trimmed). */
static void build_pidfd_then_trim(struct bbuf *b)
{
	bb_event(b, FAN_OPEN_PERM, TEST_FD, TEST_PID);
	bb_pidfd(b, 7);
	bb_end(b);
}

static void check_einval_metadata(const struct fan_event *ev, const unsigned char *buf,
				  size_t len)
{
	(void)buf;
	(void)len;
	assert_int_equal(ev->pidfd, EVENT_NO_PIDFD_RECORD);
	assert_fid_absent(&ev->fid);
	assert_fid_absent(&ev->dfid);
	assert_fid_absent(&ev->old_dfid);
	assert_fid_absent(&ev->new_dfid);
	assert_int_equal(ev->unknown_info, 0);
	assert_false(ev->bad_info);
}

/* Malformed info records. */

static void check_no_records(const struct fan_event *ev, const unsigned char *buf, size_t len)
{
	(void)buf;
	(void)len;
	assert_int_equal(ev->pidfd, EVENT_NO_PIDFD_RECORD);
	assert_fid_absent(&ev->fid);
	assert_fid_absent(&ev->dfid);
	assert_fid_absent(&ev->old_dfid);
	assert_fid_absent(&ev->new_dfid);
	assert_int_equal(ev->unknown_info, 0);
}

static void build_info_hdr_truncated(struct bbuf *b)
{
	bb_event(b, FAN_MODIFY, FAN_NOFD, TEST_PID);
	bb_u8(b, FAN_EVENT_INFO_TYPE_FID);
	bb_u8(b, 0);
	bb_end(b);
}

static void build_info_hdr_one_byte(struct bbuf *b)
{
	bb_event(b, FAN_MODIFY, FAN_NOFD, TEST_PID);
	bb_u8(b, FAN_EVENT_INFO_TYPE_PIDFD);
	bb_end(b);
}

static void build_info_len_zero(struct bbuf *b)
{
	bb_event(b, FAN_MODIFY, FAN_NOFD, TEST_PID);
	bb_info_hdr(b, 99, 0);
	bb_zeros(b, 8);
	bb_end(b);
}

static void build_info_len_three(struct bbuf *b)
{
	bb_event(b, FAN_MODIFY, FAN_NOFD, TEST_PID);
	bb_info_hdr(b, 99, 3);
	bb_zeros(b, 8);
	bb_end(b);
}

static void build_info_len_past_end(struct bbuf *b)
{
	size_t rec;

	bb_event(b, FAN_MODIFY, FAN_NOFD, TEST_PID);
	rec = bb_fid(b, FAN_EVENT_INFO_TYPE_FID, FSID0, FSID1, 1, handle_a, sizeof(handle_a),
		     NULL);
	bb_end(b);
	bb_set_u16(b, rec + REC_OFF_LEN, 32);	/* record is 28 */
}

/* The record runs past event_len into the next event, which is inside len. */
static void build_info_len_into_next_event(struct bbuf *b)
{
	size_t rec;

	bb_event(b, FAN_MODIFY, FAN_NOFD, TEST_PID);
	rec = bb_info_hdr(b, 99, 8);
	bb_zeros(b, 4);
	bb_end(b);
	bb_set_u16(b, rec + REC_OFF_LEN, 8 + 24);
	build_plain_fd(b);
}

static void build_unknown_len_past_end(struct bbuf *b)
{
	size_t rec;

	bb_event(b, FAN_MODIFY, FAN_NOFD, TEST_PID);
	rec = bb_info_hdr(b, 99, 8);
	bb_zeros(b, 4);
	bb_end(b);
	bb_set_u16(b, rec + REC_OFF_LEN, 0xffff);
}

static void build_fid_too_short(struct bbuf *b)
{
	bb_event(b, FAN_MODIFY, FAN_NOFD, TEST_PID);
	bb_info_hdr(b, FAN_EVENT_INFO_TYPE_FID, 16);	/* ends before handle_type */
	bb_s32(b, FSID0);
	bb_s32(b, FSID1);
	bb_u32(b, 0);
	bb_end(b);
}

static void build_handle_past_record(struct bbuf *b)
{
	size_t rec;

	bb_event(b, FAN_MODIFY, FAN_NOFD, TEST_PID);
	rec = bb_fid(b, FAN_EVENT_INFO_TYPE_FID, FSID0, FSID1, 1, handle_a, sizeof(handle_a),
		     NULL);
	bb_set_u32(b, rec + REC_OFF_HANDLE_BYTES, 9);	/* 20 + 9 > 28 */
	bb_end(b);
}

/* The handle fits only if it swallows the name: no NUL is left for a name. */
static void build_handle_eats_name(struct bbuf *b)
{
	size_t rec;

	bb_event(b, FAN_CREATE, FAN_NOFD, TEST_PID);
	rec = bb_fid(b, FAN_EVENT_INFO_TYPE_DFID_NAME, FSID0, FSID1, 1, handle_a,
		     sizeof(handle_a), "a");	/* 20 + 8 + 2 -> 32 */
	bb_set_u32(b, rec + REC_OFF_HANDLE_BYTES, 12);
	bb_end(b);
}

static void build_handle_bytes_zero(struct bbuf *b)
{
	size_t rec;

	bb_event(b, FAN_MODIFY, FAN_NOFD, TEST_PID);
	rec = bb_fid(b, FAN_EVENT_INFO_TYPE_FID, FSID0, FSID1, 1, handle_a, sizeof(handle_a),
		     NULL);
	bb_set_u32(b, rec + REC_OFF_HANDLE_BYTES, 0);
	bb_end(b);
}

static unsigned char handle_big[132];

/* 129 bytes fit in the record, but no kernel handle is longer than MAX_HANDLE_SZ. */
static void build_handle_bytes_129(struct bbuf *b)
{
	size_t rec;

	bb_event(b, FAN_MODIFY, FAN_NOFD, TEST_PID);
	rec = bb_fid(b, FAN_EVENT_INFO_TYPE_FID, FSID0, FSID1, 1, handle_big,
		     sizeof(handle_big), NULL);
	bb_set_u32(b, rec + REC_OFF_HANDLE_BYTES, 129);
	bb_end(b);
}

static void build_handle_bytes_max_u32(struct bbuf *b)
{
	size_t rec;

	bb_event(b, FAN_MODIFY, FAN_NOFD, TEST_PID);
	rec = bb_fid(b, FAN_EVENT_INFO_TYPE_FID, FSID0, FSID1, 1, handle_a, sizeof(handle_a),
		     NULL);
	bb_set_u32(b, rec + REC_OFF_HANDLE_BYTES, 0xffffffff);
	bb_end(b);
}

/* "abc" fills the record to its last byte; replacing that NUL leaves none. */
static void build_name_without_nul(struct bbuf *b)
{
	bb_event(b, FAN_CREATE, FAN_NOFD, TEST_PID);
	bb_fid(b, FAN_EVENT_INFO_TYPE_DFID_NAME, FSID0, FSID1, 1, handle_a, sizeof(handle_a),
	       "abc");
	bb_set_u8(b, b->len - 1, 'd');
	bb_end(b);
}

/* Same for the rename records. */
static void build_new_name_without_nul(struct bbuf *b)
{
	bb_event(b, FAN_RENAME, FAN_NOFD, TEST_PID);
	bb_fid(b, FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, FSID0, FSID1, 1, handle_a,
	       sizeof(handle_a), "old");
	bb_fid(b, FAN_EVENT_INFO_TYPE_NEW_DFID_NAME, FSID0, FSID1, 1, handle_a,
	       sizeof(handle_a), "xyz");
	bb_set_u8(b, b->len - 1, 'w');
	bb_end(b);
}

static void check_old_kept(const struct fan_event *ev, const unsigned char *buf, size_t len)
{
	assert_fid(&ev->old_dfid, buf, len, FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, 1, handle_a,
		   sizeof(handle_a), "old");
	assert_fid_absent(&ev->new_dfid);
}

/* A name record whose handle ends exactly at the record end has no name at all. */
static void build_name_missing(struct bbuf *b)
{
	bb_event(b, FAN_CREATE, FAN_NOFD, TEST_PID);
	bb_fid(b, FAN_EVENT_INFO_TYPE_DFID_NAME, FSID0, FSID1, 1, handle_a, sizeof(handle_a),
	       NULL);
	bb_end(b);
}

static void build_pidfd_len_4(struct bbuf *b)
{
	bb_event(b, FAN_OPEN, TEST_FD, TEST_PID);
	bb_info_hdr(b, FAN_EVENT_INFO_TYPE_PIDFD, 4);
	bb_end(b);
}

static void build_pidfd_len_6(struct bbuf *b)
{
	bb_event(b, FAN_OPEN, TEST_FD, TEST_PID);
	bb_info_hdr(b, FAN_EVENT_INFO_TYPE_PIDFD, 6);
	bb_u16(b, 5);
	bb_end(b);
}

static void check_pidfd_absent(const struct fan_event *ev, const unsigned char *buf, size_t len)
{
	(void)buf;
	(void)len;
	assert_int_equal(ev->fd, TEST_FD);
	assert_int_equal(ev->pidfd, EVENT_NO_PIDFD_RECORD);
}

/* A bad record ends parsing: the FID before it stays, the pidfd after it is not read. */
static void build_bad_stops_parsing(struct bbuf *b)
{
	bb_event(b, FAN_MODIFY, FAN_NOFD, TEST_PID);
	bb_fid(b, FAN_EVENT_INFO_TYPE_FID, FSID0, FSID1, 1, handle_a, sizeof(handle_a), NULL);
	bb_info_hdr(b, 99, 0);
	bb_pidfd(b, 7);
	bb_end(b);
}

static void check_bad_stops_parsing(const struct fan_event *ev, const unsigned char *buf,
				    size_t len)
{
	assert_fid(&ev->fid, buf, len, FAN_EVENT_INFO_TYPE_FID, 1, handle_a, sizeof(handle_a),
		   NULL);
	assert_int_equal(ev->pidfd, EVENT_NO_PIDFD_RECORD);
	assert_int_equal(ev->unknown_info, 0);
}

static void build_empty(struct bbuf *b)
{
	(void)b;
}

static const struct decode_case cases[] = {
	{ "plain FD event", build_plain_fd, 0, WANT_EVENT, check_plain_fd },
	{ "FID + DFID_NAME", build_fid_dfid_name, 0, WANT_EVENT, check_fid_dfid_name },
	{ "DFID without name", build_dfid, 0, WANT_EVENT, check_dfid },
	{ "rename OLD/NEW_DFID_NAME + FID", build_rename, 0, WANT_EVENT, check_rename },
	{ "name NUL in last record byte", build_name_fills_record, 0, WANT_EVENT,
	  check_name_fills_record },
	{ "empty name", build_empty_name, 0, WANT_EVENT, check_empty_name },
	{ "FID padding after handle", build_fid_padding, 0, WANT_EVENT, check_fid_padding },
	{ "handle_bytes 128", build_handle_128, 0, WANT_EVENT, check_handle_128 },
	{ "PIDFD valid fd", build_pidfd_valid, 0, WANT_EVENT, check_pidfd_valid },
	{ "PIDFD FAN_NOPIDFD", build_pidfd_nopidfd, 0, WANT_EVENT, check_pidfd_nopidfd },
	{ "PIDFD FAN_EPIDFD", build_pidfd_epidfd, 0, WANT_EVENT, check_pidfd_epidfd },
	{ "PIDFD record longer than 8", build_pidfd_long, 0, WANT_EVENT, check_pidfd_long },
	{ "ERROR and unknown type skipped", build_unknown_info, 0, WANT_EVENT,
	  check_unknown_info },
	{ "unknown type, header only", build_unknown_header_only, 0, WANT_EVENT,
	  check_one_unknown },
	{ "metadata_len 32 skipped", build_long_metadata, 0, WANT_EVENT, check_long_metadata },
	{ "same slot twice, last wins", build_same_slot_twice, 0, WANT_EVENT,
	  check_same_slot_twice },
	{ "junk after name NUL", build_name_trailing_junk, 0, WANT_EVENT,
	  check_name_trailing_junk },

	{ "len 0", build_empty, 0, WANT_ENODATA, NULL },
	{ "vers 2", build_wrong_vers_2, 0, WANT_EINVAL, check_einval_metadata },
	{ "vers 4", build_wrong_vers_4, 0, WANT_EINVAL, check_einval_metadata },
	{ "metadata_len 16", build_metadata_len_short, 0, WANT_EINVAL, check_einval_metadata },
	{ "metadata_len 0", build_metadata_len_zero, 0, WANT_EINVAL, check_einval_metadata },
	{ "event_len < metadata_len", build_event_len_below_metadata, 0, WANT_EINVAL,
	  check_einval_metadata },
	{ "event_len 0", build_event_len_zero, 0, WANT_EINVAL, check_einval_metadata },
	{ "event_len < long metadata_len", build_event_len_below_long_metadata, 0, WANT_EINVAL,
	  check_einval_metadata },
	{ "event_len 0xffffffff", build_event_len_huge, 0, WANT_EINVAL, check_einval_metadata },
	{ "event_len > len by 1", build_pidfd_then_trim, 1, WANT_EINVAL, check_einval_metadata },
	{ "event_len > len by 4", build_pidfd_then_trim, 4, WANT_EINVAL, check_einval_metadata },

	{ "info header truncated (2 bytes)", build_info_hdr_truncated, 0, WANT_BAD_INFO, NULL },
	{ "info header truncated (1 byte)", build_info_hdr_one_byte, 0, WANT_BAD_INFO, NULL },
	{ "info len 0", build_info_len_zero, 0, WANT_BAD_INFO, NULL },
	{ "info len 3", build_info_len_three, 0, WANT_BAD_INFO, NULL },
	{ "info len past event end", build_info_len_past_end, 0, WANT_BAD_INFO,
	  check_no_records },
	{ "info len into next event", build_info_len_into_next_event, 0, WANT_BAD_INFO,
	  check_no_records },
	{ "unknown info len 0xffff", build_unknown_len_past_end, 0, WANT_BAD_INFO, NULL },
	{ "FID record shorter than handle header", build_fid_too_short, 0, WANT_BAD_INFO, NULL },
	{ "handle_bytes past record end", build_handle_past_record, 0, WANT_BAD_INFO, NULL },
	{ "handle swallows the name", build_handle_eats_name, 0, WANT_BAD_INFO, NULL },
	{ "handle_bytes 0", build_handle_bytes_zero, 0, WANT_BAD_INFO, NULL },
	{ "handle_bytes 129", build_handle_bytes_129, 0, WANT_BAD_INFO, NULL },
	{ "handle_bytes 0xffffffff", build_handle_bytes_max_u32, 0, WANT_BAD_INFO, NULL },
	{ "DFID_NAME without NUL", build_name_without_nul, 0, WANT_BAD_INFO, NULL },
	{ "NEW_DFID_NAME without NUL", build_new_name_without_nul, 0, WANT_BAD_INFO,
	  check_old_kept },
	{ "DFID_NAME without name", build_name_missing, 0, WANT_BAD_INFO, NULL },
	{ "PIDFD record len 4", build_pidfd_len_4, 0, WANT_BAD_INFO, check_pidfd_absent },
	{ "PIDFD record len 6", build_pidfd_len_6, 0, WANT_BAD_INFO, check_pidfd_absent },
	{ "bad record stops parsing", build_bad_stops_parsing, 0, WANT_BAD_INFO,
	  check_bad_stops_parsing },
};

/* Misalignments each case is decoded at: the metadata's u64 lands on odd addresses too. */
static const size_t misaligns[] = { 0, 1, 3, 4 };

static void run_case(void **state)
{
	const struct decode_case *c = *state;
	struct bbuf b = { .len = 0 };
	size_t len;

	c->build(&b);
	assert_true(c->trim <= b.len);
	len = b.len - c->trim;

	for (size_t m = 0; m < ARRAY_SIZE(misaligns); m++) {
		struct tail t = tail_copy(b.data, len, misaligns[m]);
		struct fan_event ev;
		uint32_t event_len = 0;
		int r;

		if (b.len >= 4)
			memcpy(&event_len, b.data, sizeof(event_len));
		r = decode_garbage_first(t.buf, len, &ev);

		switch (c->want) {
		case WANT_EVENT:
		case WANT_BAD_INFO:
			assert_int_equal(r, event_len);
			assert_true((size_t)r <= len);
			assert_int_equal(ev.bad_info, c->want == WANT_BAD_INFO);
			break;
		case WANT_EINVAL:
			assert_int_equal(r, -EINVAL);
			/* The fixed 24 bytes were there: a permission event can be answered. */
			assert_int_equal(ev.mask, FAN_OPEN_PERM);
			assert_int_equal(ev.fd, TEST_FD);
			assert_int_equal(ev.pid, TEST_PID);
			break;
		case WANT_ENODATA:
			assert_int_equal(r, -ENODATA);
			assert_int_equal(ev.fd, FAN_NOFD);
			assert_int_equal(ev.pidfd, EVENT_NO_PIDFD_RECORD);
			break;
		}
		if (c->check)
			c->check(&ev, t.buf, (size_t)(r > 0 ? r : 0));
		tail_free(&t);
	}
}

/* ---- single tests -------------------------------------------------------------------- */

static void test_null_buffer_len_0(void **state)
{
	struct fan_event ev;

	(void)state;
	assert_int_equal(decode_garbage_first(NULL, 0, &ev), -ENODATA);
	assert_int_equal(ev.fd, FAN_NOFD);
	assert_int_equal(ev.mask, 0);
	assert_int_equal(ev.pid, 0);
	assert_int_equal(ev.pidfd, EVENT_NO_PIDFD_RECORD);
	assert_fid_absent(&ev.fid);
	assert_fid_absent(&ev.dfid);
	assert_int_equal(ev.unknown_info, 0);
	assert_false(ev.bad_info);
}

/* len 1..23: not even the fixed metadata; nothing is read, fd is FAN_NOFD. */
static void test_truncated_metadata(void **state)
{
	struct bbuf b = { .len = 0 };

	(void)state;
	build_plain_fd(&b);
	for (size_t len = 1; len < DECODE_METADATA_LEN; len++) {
		for (size_t m = 0; m < ARRAY_SIZE(misaligns); m++) {
			struct tail t = tail_copy(b.data, len, misaligns[m]);
			struct fan_event ev;

			assert_int_equal(decode_garbage_first(t.buf, len, &ev), -EINVAL);
			assert_int_equal(ev.fd, FAN_NOFD);
			assert_int_equal(ev.mask, 0);
			assert_int_equal(ev.pid, 0);
			assert_int_equal(ev.pidfd, EVENT_NO_PIDFD_RECORD);
			assert_fid_absent(&ev.fid);
			assert_fid_absent(&ev.dfid);
			assert_fid_absent(&ev.old_dfid);
			assert_fid_absent(&ev.new_dfid);
			assert_int_equal(ev.unknown_info, 0);
			assert_false(ev.bad_info);
			tail_free(&t);
		}
	}
}

/* Two events in one read: FID + DFID_NAME + PIDFD, then a rename with an unknown record. */
static size_t build_two_events(struct bbuf *b, size_t *ret_first_len)
{
	bb_event(b, FAN_CREATE, FAN_NOFD, TEST_PID);
	bb_fid(b, FAN_EVENT_INFO_TYPE_FID, FSID0, FSID1, 1, handle_a, sizeof(handle_a), NULL);
	bb_fid(b, FAN_EVENT_INFO_TYPE_DFID_NAME, FSID0, FSID1, 2, handle_b, sizeof(handle_b),
	       "first");
	bb_pidfd(b, 5);
	bb_end(b);
	*ret_first_len = b->len;
	bb_event(b, FAN_RENAME, FAN_NOFD, TEST_PID + 1);
	bb_fid(b, FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, FSID0, FSID1, 1, handle_a,
	       sizeof(handle_a), "from");
	bb_info_hdr(b, 77, 8);
	bb_u32(b, 0);
	bb_fid(b, FAN_EVENT_INFO_TYPE_NEW_DFID_NAME, FSID0, FSID1, 1, handle_c,
	       sizeof(handle_c), "to");
	bb_pidfd(b, 6);
	bb_end(b);
	return b->len;
}

static void test_two_events_walk(void **state)
{
	struct bbuf b = { .len = 0 };
	size_t first_len, total = build_two_events(&b, &first_len);
	struct tail t = tail_copy(b.data, total, 1);
	struct fan_event ev;
	size_t off = 0;
	int r;

	(void)state;
	r = decode_garbage_first(t.buf + off, total - off, &ev);
	assert_int_equal(r, first_len);
	assert_false(ev.bad_info);
	assert_int_equal(ev.mask, FAN_CREATE);
	assert_int_equal(ev.pidfd, 5);
	assert_fid(&ev.fid, t.buf, (size_t)r, FAN_EVENT_INFO_TYPE_FID, 1, handle_a,
		   sizeof(handle_a), NULL);
	assert_fid(&ev.dfid, t.buf, (size_t)r, FAN_EVENT_INFO_TYPE_DFID_NAME, 2, handle_b,
		   sizeof(handle_b), "first");
	off += (size_t)r;

	r = decode_garbage_first(t.buf + off, total - off, &ev);
	assert_int_equal(r, total - first_len);
	assert_false(ev.bad_info);
	assert_int_equal(ev.mask, FAN_RENAME);
	assert_int_equal(ev.pid, TEST_PID + 1);
	assert_int_equal(ev.pidfd, 6);
	assert_int_equal(ev.unknown_info, 1);
	assert_fid_absent(&ev.fid);
	assert_fid_absent(&ev.dfid);
	assert_fid(&ev.old_dfid, t.buf + off, (size_t)r, FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, 1,
		   handle_a, sizeof(handle_a), "from");
	assert_fid(&ev.new_dfid, t.buf + off, (size_t)r, FAN_EVENT_INFO_TYPE_NEW_DFID_NAME, 1,
		   handle_c, sizeof(handle_c), "to");
	off += (size_t)r;

	assert_int_equal(off, total);
	assert_int_equal(decode_garbage_first(t.buf + off, total - off, &ev), -ENODATA);
	tail_free(&t);
}

/* Invariants any decode must keep, whatever the input. */
static void check_fid_invariants(const struct fan_fid *f, const unsigned char *buf, size_t r)
{
	if (f->type == 0) {
		assert_fid_absent(f);
		return;
	}
	assert_true(f->handle_bytes >= 1 && f->handle_bytes <= 128);
	assert_in(f->handle, f->handle_bytes, buf, r);
	if (f->name) {
		assert_in(f->name, f->name_len + 1, buf, r);
		assert_int_equal(f->name[f->name_len], '\0');
		assert_int_equal(strlen(f->name), f->name_len);
		assert_true(f->name > (const char *)f->handle);
	} else {
		assert_int_equal(f->name_len, 0);
	}
}

static void check_invariants(int r, const struct fan_event *ev, const unsigned char *buf,
			     size_t len)
{
	if (len == 0) {
		assert_int_equal(r, -ENODATA);
		return;
	}
	if (r < 0) {
		assert_int_equal(r, -EINVAL);
		if (len < DECODE_METADATA_LEN)
			assert_int_equal(ev->fd, FAN_NOFD);
		r = 0;
	} else {
		assert_true(r >= DECODE_METADATA_LEN);
		assert_true((size_t)r <= len);
	}
	check_fid_invariants(&ev->fid, buf, (size_t)r);
	check_fid_invariants(&ev->dfid, buf, (size_t)r);
	check_fid_invariants(&ev->old_dfid, buf, (size_t)r);
	check_fid_invariants(&ev->new_dfid, buf, (size_t)r);
	if (ev->fid.type)
		assert_int_equal(ev->fid.type, FAN_EVENT_INFO_TYPE_FID);
	if (ev->dfid.type)
		assert_true(ev->dfid.type == FAN_EVENT_INFO_TYPE_DFID ||
			    ev->dfid.type == FAN_EVENT_INFO_TYPE_DFID_NAME);
	if (ev->old_dfid.type)
		assert_int_equal(ev->old_dfid.type, FAN_EVENT_INFO_TYPE_OLD_DFID_NAME);
	if (ev->new_dfid.type)
		assert_int_equal(ev->new_dfid.type, FAN_EVENT_INFO_TYPE_NEW_DFID_NAME);
	assert_true(ev->bad_info == false || ev->bad_info == true);
	/* Each counted record is at least a 4-byte header inside the event. */
	assert_true((size_t)ev->unknown_info * 4 <= (size_t)r);
}

/* Walks a whole buffer by returned lengths; returns how many events decoded. */
static unsigned walk(const unsigned char *buf, size_t len)
{
	unsigned n = 0;
	size_t off = 0;

	while (off < len) {
		struct fan_event ev, again;
		int r = decode_garbage_first(buf + off, len - off, &ev);

		check_invariants(r, &ev, buf + off, len - off);
		/* Same input, same output. */
		assert_int_equal(decode_garbage_first(buf + off, len - off, &again), r);
		assert_int_equal(again.bad_info, ev.bad_info);
		assert_int_equal(again.pidfd, ev.pidfd);
		assert_int_equal(again.unknown_info, ev.unknown_info);
		assert_ptr_equal(again.dfid.name, ev.dfid.name);
		if (r < 0)
			break;
		off += (size_t)r;
		n++;
	}
	return n;
}

static void test_every_truncation(void **state)
{
	struct bbuf b = { .len = 0 };
	size_t first_len, total = build_two_events(&b, &first_len);

	(void)state;
	for (size_t len = 0; len <= total; len++) {
		struct tail t = tail_copy(b.data, len, len % 4);
		struct fan_event ev;
		int r = decode_garbage_first(t.buf, len, &ev);
		unsigned want_events = (len >= first_len) + (len == total);

		check_invariants(r, &ev, t.buf, len);
		if (len == 0)
			assert_int_equal(r, -ENODATA);
		else if (len < first_len)
			assert_int_equal(r, -EINVAL);
		else
			assert_int_equal(r, first_len);
		assert_int_equal(walk(t.buf, len), want_events);
		tail_free(&t);
	}
}

/* xorshift32: a fixed seed makes every run decode the same mutations. */
static uint32_t rng_next(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

#define MUTATION_ROUNDS 5000
#define TEST_TIMEOUT_S 60

static void test_random_mutations(void **state)
{
	static const unsigned char interesting[] = { 0x00, 0x01, 0x03, 0x04, 0x7f, 0x80, 0xff };
	struct bbuf b = { .len = 0 };
	size_t first_len, total = build_two_events(&b, &first_len);
	unsigned char work[BB_MAX];
	uint32_t seed = 0x2545f491;

	(void)state;
	for (unsigned i = 0; i < MUTATION_ROUNDS; i++) {
		unsigned flips = 1 + rng_next(&seed) % 4;
		size_t len = total;
		struct tail t;

		memcpy(work, b.data, total);
		for (unsigned k = 0; k < flips; k++) {
			size_t pos = rng_next(&seed) % total;
			uint32_t v = rng_next(&seed);

			work[pos] = (v & 1) ? (unsigned char)(v >> 8) :
					      interesting[(v >> 8) % sizeof(interesting)];
		}
		if (rng_next(&seed) % 4 == 0)
			len = rng_next(&seed) % (total + 1);

		t = tail_copy(work, len, i % 4);
		walk(t.buf, len);
		tail_free(&t);
	}
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_null_buffer_len_0),
		cmocka_unit_test(test_truncated_metadata),
		cmocka_unit_test(test_two_events_walk),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_random_mutations),
	};
	struct CMUnitTest tests[ARRAY_SIZE(cases) + ARRAY_SIZE(fixed)];
	size_t n = 0;

	/*
	 * A decoder that stops advancing through info records loops forever; SIGALRM ends the
	 * run as a failure instead. Generous: the whole file takes well under a second (a few
	 * seconds under valgrind).
	 */
	alarm(TEST_TIMEOUT_S);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		tests[n++] = (struct CMUnitTest){
			.name = cases[i].name,
			.test_func = run_case,
			.initial_state = (void *)&cases[i],
		};
	}
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		tests[n++] = fixed[i];
	return _cmocka_run_group_tests("decode", tests, n, NULL, NULL);
}
