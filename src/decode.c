/*
 * decode.c - the event at the start of a fanotify read buffer -> struct fan_event.
 *
 * Owns nothing. fan.c hands it the bytes of one read(2) of a group fd; pipeline.c walks the
 * buffer by the returned lengths and passes each struct fan_event on. Pure: no syscalls, no
 * logging, no globals; every read is bounds-checked against len and done with memcpy, since
 * callers (and fuzzers) may hand over unaligned or hostile bytes.
 *
 * Pointers stored in the event (file handles, names) point into the caller's buffer and live
 * as long as it does. Event fds and pidfds become the caller's the moment they are decoded:
 * this file never closes them. That holds on -EINVAL too: ev->fd is filled whenever the fixed
 * 24 bytes were present, so a permission event can still be answered and its fd closed.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "compat.h"
#include "decode.h"

/* struct fanotify_event_metadata: fixed layout of vers 3 (since Linux 2.6.37). */
#define META_OFF_EVENT_LEN	0	/* __u32 */
#define META_OFF_VERS		4	/* __u8 */
#define META_OFF_METADATA_LEN	6	/* __u16 */
#define META_OFF_MASK		8	/* __aligned_u64 */
#define META_OFF_FD		16	/* __s32 */
#define META_OFF_PID		20	/* __s32 */

_Static_assert(sizeof(struct fanotify_event_metadata) == DECODE_METADATA_LEN,
	       "fanotify_event_metadata size");
_Static_assert(offsetof(struct fanotify_event_metadata, event_len) == META_OFF_EVENT_LEN,
	       "event_len offset");
_Static_assert(offsetof(struct fanotify_event_metadata, vers) == META_OFF_VERS, "vers offset");
_Static_assert(offsetof(struct fanotify_event_metadata, metadata_len) == META_OFF_METADATA_LEN,
	       "metadata_len offset");
_Static_assert(offsetof(struct fanotify_event_metadata, mask) == META_OFF_MASK, "mask offset");
_Static_assert(offsetof(struct fanotify_event_metadata, fd) == META_OFF_FD, "fd offset");
_Static_assert(offsetof(struct fanotify_event_metadata, pid) == META_OFF_PID, "pid offset");

/*
 * Info records (Linux 5.1+). Offsets are spelled out rather than taken from the uapi
 * structs, which older linux-libc-dev lacks (see compat.h).
 *
 * struct fanotify_event_info_header { __u8 info_type; __u8 pad; __u16 len; } starts every
 * record; len covers the header and everything up to the next record.
 */
#define INFO_HDR_LEN		4
#define INFO_OFF_TYPE		0
#define INFO_OFF_LEN		2

/*
 * struct fanotify_event_info_fid: header, __kernel_fsid_t fsid (two __s32), then an
 * inline struct file_handle { __u32 handle_bytes; __s32 handle_type; f_handle[] }. For the
 * *_NAME types a NUL-terminated entry name follows f_handle; the kernel pads the record
 * with NULs to a multiple of 4 (fs/notify/fanotify/fanotify_user.c, copy_fid_info_to_user).
 */
#define FID_OFF_FSID0		4
#define FID_OFF_FSID1		8
#define FID_OFF_HANDLE_BYTES	12
#define FID_OFF_HANDLE_TYPE	16
#define FID_OFF_F_HANDLE	20

/* MAX_HANDLE_SZ (include/linux/exportfs.h): the largest handle the kernel hands out. */
#define DECODE_HANDLE_BYTES_MAX	128

/* struct fanotify_event_info_pidfd: header, __s32 pidfd (Linux 5.15+). */
#define PIDFD_OFF_PIDFD		4
#define PIDFD_RECORD_LEN	8

static uint16_t get_u16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get_u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int32_t get_s32(const unsigned char *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static bool fid_type_has_name(uint8_t type)
{
	return type == FAN_EVENT_INFO_TYPE_DFID_NAME ||
	       type == FAN_EVENT_INFO_TYPE_OLD_DFID_NAME ||
	       type == FAN_EVENT_INFO_TYPE_NEW_DFID_NAME;
}

/*
 * Decodes one FID-style record of rec_len bytes (already known to lie inside the event).
 * Returns 0 and sets *ret_fid, or -EINVAL with *ret_fid untouched.
 */
static int decode_fid(const unsigned char *rec, size_t rec_len, struct fan_fid *ret_fid)
{
	struct fan_fid fid = { .type = rec[INFO_OFF_TYPE] };
	size_t handle_end;

	if (rec_len < FID_OFF_F_HANDLE)
		return -EINVAL;

	fid.fsid = (uint64_t)get_u32(rec + FID_OFF_FSID0) |
		   (uint64_t)get_u32(rec + FID_OFF_FSID1) << 32;
	fid.handle_bytes = get_u32(rec + FID_OFF_HANDLE_BYTES);
	fid.handle_type = get_s32(rec + FID_OFF_HANDLE_TYPE);

	/* The kernel never reports an empty handle; bounding it first keeps the sum exact. */
	if (fid.handle_bytes == 0 || fid.handle_bytes > DECODE_HANDLE_BYTES_MAX)
		return -EINVAL;
	handle_end = FID_OFF_F_HANDLE + (size_t)fid.handle_bytes;
	if (handle_end > rec_len)
		return -EINVAL;
	fid.handle = rec + FID_OFF_F_HANDLE;

	if (fid_type_has_name(fid.type)) {
		const char *name = (const char *)rec + handle_end;
		const char *nul = memchr(name, '\0', rec_len - handle_end);

		/* No room for a name, or no NUL before the record ends. */
		if (!nul)
			return -EINVAL;
		fid.name = name;
		fid.name_len = (size_t)(nul - name);
	}

	*ret_fid = fid;
	return 0;
}

/* Decodes one record; rec_len >= INFO_HDR_LEN and inside the event. Returns 0 or -EINVAL. */
static int decode_record(const unsigned char *rec, size_t rec_len, struct fan_event *ev)
{
	switch (rec[INFO_OFF_TYPE]) {
	case FAN_EVENT_INFO_TYPE_FID:
		return decode_fid(rec, rec_len, &ev->fid);
	case FAN_EVENT_INFO_TYPE_DFID:
	case FAN_EVENT_INFO_TYPE_DFID_NAME:
		return decode_fid(rec, rec_len, &ev->dfid);
	case FAN_EVENT_INFO_TYPE_OLD_DFID_NAME:
		return decode_fid(rec, rec_len, &ev->old_dfid);
	case FAN_EVENT_INFO_TYPE_NEW_DFID_NAME:
		return decode_fid(rec, rec_len, &ev->new_dfid);
	case FAN_EVENT_INFO_TYPE_PIDFD:
		if (rec_len < PIDFD_RECORD_LEN)
			return -EINVAL;
		ev->pidfd = get_s32(rec + PIDFD_OFF_PIDFD);
		return 0;
	default:
		/* FAN_EVENT_INFO_TYPE_ERROR and types newer than this file: skipped by len. */
		ev->unknown_info++;
		return 0;
	}
}

/*
 * Walks the info records in p[off, end). A malformed one sets bad_info and ends the walk:
 * once a length is wrong the next record's start is unknown. Any pidfd in a record after
 * it is lost to the caller; the kernel never sends such an event.
 */
static void decode_info(const unsigned char *p, size_t off, size_t end, struct fan_event *ev)
{
	while (off < end) {
		const unsigned char *rec = p + off;
		size_t rec_len;

		if (end - off < INFO_HDR_LEN)
			goto bad;
		rec_len = get_u16(rec + INFO_OFF_LEN);
		if (rec_len < INFO_HDR_LEN || rec_len > end - off)
			goto bad;
		if (decode_record(rec, rec_len, ev) < 0)
			goto bad;
		off += rec_len;
	}
	return;
bad:
	ev->bad_info = true;
}

int decode_event(const void *buf, size_t len, struct fan_event *ev)
{
	const unsigned char *p = buf;
	uint32_t event_len;
	uint16_t metadata_len;

	*ev = (struct fan_event){ .fd = FAN_NOFD, .pidfd = EVENT_NO_PIDFD_RECORD };
	if (len == 0)
		return -ENODATA;
	if (len < DECODE_METADATA_LEN)
		return -EINVAL;

	/* Filled before any check so a permission event can be answered whatever follows. */
	ev->mask = get_u64(p + META_OFF_MASK);
	ev->fd = get_s32(p + META_OFF_FD);
	ev->pid = get_s32(p + META_OFF_PID);

	event_len = get_u32(p + META_OFF_EVENT_LEN);
	metadata_len = get_u16(p + META_OFF_METADATA_LEN);
	if (p[META_OFF_VERS] != FANOTIFY_METADATA_VERSION)
		return -EINVAL;
	if (metadata_len < DECODE_METADATA_LEN || event_len < metadata_len)
		return -EINVAL;
	/* The return value is an int: a larger event_len could not be reported back. */
	if (event_len > len || event_len > INT_MAX)
		return -EINVAL;

	/* Bytes between 24 and metadata_len belong to a newer metadata layout: skipped. */
	decode_info(p, metadata_len, event_len, ev);
	return (int)event_len;
}
