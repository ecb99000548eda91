/*
 * fuzz_decode.c - libFuzzer target: arbitrary bytes as one fanotify read buffer.
 *
 * Walks the buffer with decode_event() as pipeline.c does (advance by the returned length,
 * stop at the first negative return) and checks what decode.h promises: the length stays
 * inside the buffer, every handle and name pointer lies inside the event, names are
 * NUL-terminated where name_len says, and the fixed fields are the buffer's bytes. Each
 * event is decoded again from a misaligned copy, which must give the same answer.
 *
 * fds and pidfds decoded here are numbers from the fuzzer, not ours: never closed.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer reports abort() as a crash and saves the input. */
#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "fuzz_decode: check failed: %s (line %d)\n", #cond,  \
				__LINE__);                                                   \
			abort();                                                             \
		}                                                                            \
	} while (0)

/* [p, p + n) lies inside [buf, buf + len). */
static int inside(const void *p, size_t n, const unsigned char *buf, size_t len)
{
	const unsigned char *q = p;

	return q >= buf && q <= buf + len && n <= (size_t)(buf + len - q);
}

static void check_fid(const struct fan_fid *f, const unsigned char *ev_buf, size_t ev_len)
{
	if (f->type == 0) {
		CHECK(f->handle == NULL && f->name == NULL && f->handle_bytes == 0 &&
		      f->name_len == 0);
		return;
	}
	CHECK(f->handle_bytes >= 1 && f->handle_bytes <= 128);
	CHECK(f->handle && inside(f->handle, f->handle_bytes, ev_buf, ev_len));
	if (f->name) {
		CHECK(inside(f->name, f->name_len + 1, ev_buf, ev_len));
		CHECK(f->name[f->name_len] == '\0');
		CHECK(memchr(f->name, '\0', f->name_len) == NULL);
		CHECK((const unsigned char *)f->name >= f->handle + f->handle_bytes);
	} else {
		CHECK(f->name_len == 0);
	}
}

/* The invariants of one decode_event() result on buf[0, len). */
static void check_event(int r, const struct fan_event *ev, const unsigned char *buf,
			size_t len)
{
	int32_t fd, pid;
	uint64_t mask;

	if (len == 0) {
		CHECK(r == -ENODATA && ev->fd == FAN_NOFD);
		return;
	}
	if (len < DECODE_METADATA_LEN) {
		CHECK(r == -EINVAL && ev->fd == FAN_NOFD && ev->mask == 0 && ev->pid == 0);
		return;
	}
	/* The fixed fields are filled whenever 24 bytes were there, valid or not. */
	memcpy(&mask, buf + 8, sizeof(mask));
	memcpy(&fd, buf + 16, sizeof(fd));
	memcpy(&pid, buf + 20, sizeof(pid));
	CHECK(ev->mask == mask && ev->fd == fd && ev->pid == pid);
	if (r < 0) {
		CHECK(r == -EINVAL);
		/* Nothing past the metadata is looked at. */
		CHECK(ev->pidfd == EVENT_NO_PIDFD_RECORD && !ev->bad_info &&
		      ev->unknown_info == 0);
		r = 0;
	} else {
		uint32_t event_len;

		memcpy(&event_len, buf, sizeof(event_len));
		CHECK(r >= DECODE_METADATA_LEN && (size_t)r <= len && (uint32_t)r == event_len);
	}
	check_fid(&ev->fid, buf, (size_t)r);
	check_fid(&ev->dfid, buf, (size_t)r);
	check_fid(&ev->old_dfid, buf, (size_t)r);
	check_fid(&ev->new_dfid, buf, (size_t)r);
	CHECK(!ev->fid.type || ev->fid.type == FAN_EVENT_INFO_TYPE_FID);
	CHECK(!ev->dfid.type || ev->dfid.type == FAN_EVENT_INFO_TYPE_DFID ||
	      ev->dfid.type == FAN_EVENT_INFO_TYPE_DFID_NAME);
	CHECK(!ev->old_dfid.type || ev->old_dfid.type == FAN_EVENT_INFO_TYPE_OLD_DFID_NAME);
	CHECK(!ev->new_dfid.type || ev->new_dfid.type == FAN_EVENT_INFO_TYPE_NEW_DFID_NAME);
	/* Each skipped record is at least a 4-byte header inside the event. */
	CHECK((size_t)ev->unknown_info * 4 <= (size_t)r);
}

/* Pointer p (into a) moved to the same offset in b; NULL stays NULL. */
static const void *rebase(const void *p, const unsigned char *a, const unsigned char *b)
{
	return p ? b + ((const unsigned char *)p - a) : NULL;
}

static void check_same_fid(const struct fan_fid *x, const struct fan_fid *y,
			   const unsigned char *a, const unsigned char *b)
{
	CHECK(x->type == y->type && x->fsid == y->fsid && x->handle_type == y->handle_type &&
	      x->handle_bytes == y->handle_bytes && x->name_len == y->name_len);
	CHECK(rebase(x->handle, a, b) == (const void *)y->handle);
	CHECK(rebase(x->name, a, b) == (const void *)y->name);
}

/* Decoding the same bytes at another address gives the same event. */
static void check_same(int r, const struct fan_event *ev, const unsigned char *a, int r2,
		       const struct fan_event *ev2, const unsigned char *b)
{
	CHECK(r == r2 && ev->mask == ev2->mask && ev->fd == ev2->fd && ev->pid == ev2->pid &&
	      ev->pidfd == ev2->pidfd && ev->unknown_info == ev2->unknown_info &&
	      ev->bad_info == ev2->bad_info);
	check_same_fid(&ev->fid, &ev2->fid, a, b);
	check_same_fid(&ev->dfid, &ev2->dfid, a, b);
	check_same_fid(&ev->old_dfid, &ev2->old_dfid, a, b);
	check_same_fid(&ev->new_dfid, &ev2->new_dfid, a, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* data is an exactly sized heap block: ASan sees any read past size. The copy sits
	 * one byte off alignment, at the end of its own exactly sized block. */
	unsigned char *block = malloc(size + 1);
	unsigned char *copy;
	size_t off = 0;

	if (!block)
		return 0;
	copy = block + 1;
	if (size)
		memcpy(copy, data, size);
	for (;;) {
		struct fan_event ev, ev2;
		int r, r2;

		/* Garbage first: a field the decoder forgets to set shows up. */
		memset(&ev, 0xa5, sizeof(ev));
		r = decode_event(data + off, size - off, &ev);
		check_event(r, &ev, data + off, size - off);
		memset(&ev2, 0x5a, sizeof(ev2));
		r2 = decode_event(copy + off, size - off, &ev2);
		check_same(r, &ev, data + off, r2, &ev2, copy + off);
		if (r < 0)
			break;
		off += (size_t)r;
	}
	CHECK(off <= size);
	free(block);
	return 0;
}
