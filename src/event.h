/*
 * event.h - the plain types that flow down the pipeline: a decoded fanotify event, the
 * process behind it, the verdict and the alert. No code lives here.
 *
 * kernel buffer -> decode (struct fan_event) -> resolve/proc (paths, struct proc_info)
 * -> policy (enum verdict, tags, struct alert) -> record (JSON line), hook (FAN_* env).
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

/* What an alert is about; record.c names them ("canary", "burst", ...). The kinds policy.c
 * raises come first: it keeps per-kind state in arrays of POLICY_KINDS. */
enum alert_kind {
	ALERT_CANARY,			/* a canary path touched (policy.c) */
	ALERT_BURST,			/* mutating events of one process (policy.c) */
	ALERT_OVERFLOW,			/* the kernel's queue overflowed: events lost */
	ALERT_FD_EXHAUSTED,		/* the kernel had no descriptor for an event */
};

/*
 * One alert, for its record and its hook. policy.c fills kind to window_ms (pipeline.c
 * for the kernel's own kinds); pipeline.c adds seq, ts_ms and proc. Strings and proc are
 * borrowed, valid while the event is handled. NULL strings: JSON null, no variable.
 */
struct alert {
	enum alert_kind kind;
	pid_t pid;			/* the acting process; 0 for the kernel's own alerts */
	const char *path;		/* the path that raised it, or a <placeholder> */
	const char *reason;		/* static string */
	const char *job_id;		/* tags of path (not of the event's other path) */
	const char *path_role;
	unsigned count;			/* ALERT_BURST: events in the window */
	unsigned window_ms;		/* ALERT_BURST */
	uint64_t seq;
	uint64_t ts_ms;
	const struct proc_info *proc;	/* NULL: no process (the kernel's own alerts); comm
					 * and exe are left out, not null */
};

#endif
