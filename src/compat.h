/*
 * compat.h - fallback definitions for fanotify constants newer than the installed
 * kernel headers. Values are the kernel's ABI (include/uapi/linux/fanotify.h); each
 * block is guarded so newer headers win. Delete a block once the oldest supported
 * linux-libc-dev carries it. Also the names of the event bits (one table for records,
 * --events and logs), and the one kernel structure whose libc declaration depends on the
 * glibc version (sched_setattr's).
 */
#ifndef FANOTIFYD_COMPAT_H
#define FANOTIFYD_COMPAT_H

#include <sys/fanotify.h>
#include <linux/fanotify.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef FAN_OPEN_EXEC
#define FAN_OPEN_EXEC 0x00001000
#endif
#ifndef FAN_OPEN_EXEC_PERM
#define FAN_OPEN_EXEC_PERM 0x00040000
#endif
#ifndef FAN_FS_ERROR
#define FAN_FS_ERROR 0x00008000
#endif
#ifndef FAN_PRE_ACCESS
#define FAN_PRE_ACCESS 0x00100000
#endif
#ifndef FAN_MNT_ATTACH
#define FAN_MNT_ATTACH 0x01000000
#endif
#ifndef FAN_MNT_DETACH
#define FAN_MNT_DETACH 0x02000000
#endif
#ifndef FAN_RENAME
#define FAN_RENAME 0x10000000
#endif
#ifndef FAN_REPORT_PIDFD
#define FAN_REPORT_PIDFD 0x00000080
#endif
#ifndef FAN_REPORT_FID
#define FAN_REPORT_FID 0x00000200
#endif
#ifndef FAN_REPORT_DIR_FID
#define FAN_REPORT_DIR_FID 0x00000400
#endif
#ifndef FAN_REPORT_NAME
#define FAN_REPORT_NAME 0x00000800
#endif
#ifndef FAN_REPORT_DFID_NAME
#define FAN_REPORT_DFID_NAME (FAN_REPORT_DIR_FID | FAN_REPORT_NAME)
#endif
#ifndef FAN_MARK_FILESYSTEM
#define FAN_MARK_FILESYSTEM 0x00000100
#endif
#ifndef FAN_EVENT_INFO_TYPE_FID
#define FAN_EVENT_INFO_TYPE_FID 1
#endif
#ifndef FAN_EVENT_INFO_TYPE_DFID_NAME
#define FAN_EVENT_INFO_TYPE_DFID_NAME 2
#endif
#ifndef FAN_EVENT_INFO_TYPE_DFID
#define FAN_EVENT_INFO_TYPE_DFID 3
#endif
#ifndef FAN_EVENT_INFO_TYPE_PIDFD
#define FAN_EVENT_INFO_TYPE_PIDFD 4
#endif
#ifndef FAN_EVENT_INFO_TYPE_ERROR
#define FAN_EVENT_INFO_TYPE_ERROR 5
#endif
#ifndef FAN_EVENT_INFO_TYPE_OLD_DFID_NAME
#define FAN_EVENT_INFO_TYPE_OLD_DFID_NAME 10
#endif
#ifndef FAN_EVENT_INFO_TYPE_NEW_DFID_NAME
#define FAN_EVENT_INFO_TYPE_NEW_DFID_NAME 12
#endif
#ifndef FAN_MARK_EVICTABLE
#define FAN_MARK_EVICTABLE 0x00000200
#endif
#ifndef FAN_MARK_IGNORE
#define FAN_MARK_IGNORE 0x00000400
#endif
#ifndef FAN_MARK_IGNORE_SURV
#define FAN_MARK_IGNORE_SURV (FAN_MARK_IGNORE | FAN_MARK_IGNORED_SURV_MODIFY)
#endif
#ifndef FAN_NOPIDFD
#define FAN_NOPIDFD (-1)
#endif
#ifndef FAN_EPIDFD
#define FAN_EPIDFD (-2)
#endif

/* Not a kernel constant: the events someone waits on (fan.c, policy.c, pipeline.c). */
#define FAN_PERM_EVENTS (FAN_OPEN_PERM | FAN_ACCESS_PERM | FAN_OPEN_EXEC_PERM)

/*
 * The one table of event names: each FAN_* event bit with its name without "FAN_", in bit
 * order (DESIGN.md "Where the spec is open" 1). Records' `events` field and the log
 * (record.c), --events and its dump (config.c, lower case) all read it. FAN_ONDIR and
 * FAN_EVENT_ON_CHILD are flags, not events, and have no entry.
 */
struct fan_event_name {
	uint64_t bit;
	const char *name;
	size_t len;
};

#define FAN_EVENT_NAME(n) { FAN_##n, #n, sizeof(#n) - 1 }
static const struct fan_event_name fan_event_names[] = {
	FAN_EVENT_NAME(ACCESS),
	FAN_EVENT_NAME(MODIFY),
	FAN_EVENT_NAME(ATTRIB),
	FAN_EVENT_NAME(CLOSE_WRITE),
	FAN_EVENT_NAME(CLOSE_NOWRITE),
	FAN_EVENT_NAME(OPEN),
	FAN_EVENT_NAME(MOVED_FROM),
	FAN_EVENT_NAME(MOVED_TO),
	FAN_EVENT_NAME(CREATE),
	FAN_EVENT_NAME(DELETE),
	FAN_EVENT_NAME(DELETE_SELF),
	FAN_EVENT_NAME(MOVE_SELF),
	FAN_EVENT_NAME(OPEN_EXEC),
	FAN_EVENT_NAME(Q_OVERFLOW),
	FAN_EVENT_NAME(FS_ERROR),
	FAN_EVENT_NAME(OPEN_PERM),
	FAN_EVENT_NAME(ACCESS_PERM),
	FAN_EVENT_NAME(OPEN_EXEC_PERM),
	FAN_EVENT_NAME(PRE_ACCESS),
	FAN_EVENT_NAME(MNT_ATTACH),
	FAN_EVENT_NAME(MNT_DETACH),
	FAN_EVENT_NAME(RENAME),
};
#undef FAN_EVENT_NAME
#define FAN_EVENT_NAMES_COUNT (sizeof(fan_event_names) / sizeof(fan_event_names[0]))

/*
 * sched_setattr(2)'s argument, first version (SCHED_ATTR_SIZE_VER0). Our own name: glibc
 * 2.41 declares struct sched_attr in <sched.h>, older ones do not.
 */
struct sched_attr_v0 {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

/* The calling thread in SCHED_OTHER at nice with a slice of slice_ns (0: the kernel's
 * default). A plain system call, so async-signal-safe. Returns 0 or -1 with errno. */
static inline int sched_set_fair(int nice, uint64_t slice_ns)
{
	struct sched_attr_v0 attr = {
		.size = sizeof(attr),
		.sched_policy = SCHED_OTHER,
		.sched_nice = nice,
		.sched_runtime = slice_ns,
	};

	return (int)syscall(SYS_sched_setattr, 0, &attr, 0);
}

#endif
