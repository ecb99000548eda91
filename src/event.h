/*
 * event.h - the plain types that flow down the pipeline: a decoded fanotify event, the
 * process behind it, and the verdict. No code lives here.
 *
 * kernel buffer -> decode (struct fan_event) -> resolve/proc (paths, struct proc_info)
 * -> policy (enum verdict, tags) -> record (JSON line).
 */
#ifndef FANOTIFYD_EVENT_H
#define FANOTIFYD_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* pidfd value when the event carried no FAN_EVENT_INFO_TYPE_PIDFD record. */
#define EVENT_NO_PIDFD_RECORD (-3)

/*
 * One FID-style info record (FID, DFID, DFID_NAME, OLD_DFID_NAME, NEW_DFID_NAME).
 * handle and name point into the read buffer and are valid until the next read.
 */
struct fan_fid {
	uint8_t type;			/* FAN_EVENT_INFO_TYPE_*; 0 = record absent */
	uint64_t fsid;			/* fsid.val[0] | (uint64_t)fsid.val[1] << 32 */
	int32_t handle_type;		/* struct file_handle.handle_type */
	uint32_t handle_bytes;		/* length of handle */
	const unsigned char *handle;	/* opaque handle bytes, handle_bytes long */
	const char *name;		/* entry name, NUL-terminated in the buffer; NULL = none */
	size_t name_len;		/* strlen(name); 0 when name is NULL */
};

/* One event as read from a fanotify group. */
struct fan_event {
	uint64_t mask;			/* FAN_* bits as the kernel reported them */
	int fd;				/* event fd (FD mode) or FAN_NOFD; the caller owns it */
	pid_t pid;			/* tgid of the acting process (0 for overflow) */
	int pidfd;			/* >= 0: owned by the caller; FAN_NOPIDFD: process gone;
					 * FAN_EPIDFD: kernel error; EVENT_NO_PIDFD_RECORD */
	struct fan_fid fid;		/* FAN_EVENT_INFO_TYPE_FID: the object itself */
	struct fan_fid dfid;		/* DFID or DFID_NAME: parent directory (+ entry name) */
	struct fan_fid old_dfid;	/* FAN_RENAME: where the entry was */
	struct fan_fid new_dfid;	/* FAN_RENAME: where the entry is now */
	unsigned unknown_info;		/* info records of a type we do not know, skipped */
	bool bad_info;			/* an info record was malformed; later ones ignored */
	bool answered;			/* a permission event's response is written (set only
					 * by pipeline.c's respond(); decode leaves it false) */
};

enum verdict {
	VERDICT_OBSERVE,		/* not a permission event */
	VERDICT_ALLOW,
	VERDICT_DENY,
};

/* What is known about the process behind an event. NULL/false = unknown (JSON null). */
struct proc_info {
	pid_t pid;
	pid_t ppid;
	bool ppid_known;
	uid_t uid;
	bool uid_known;
	const char *comm;		/* borrowed from the process cache */
	const char *exe;		/* borrowed from the process cache */
};

#endif
