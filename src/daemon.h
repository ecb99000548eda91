/*
 * daemon.h - struct daemon: what ties the modules together, declared in main.c and passed
 * by pointer. Each module's own state is in its struct (the pipeline's in pipeline.h).
 */
#ifndef FANOTIFYD_DAEMON_H
#define FANOTIFYD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cache.h"
#include "config.h"
#include "fan.h"
#include "hook.h"
#include "notify.h"
#include "pipeline.h"
#include "policy.h"
#include "priv.h"
#include "proc.h"
#include "resolve.h"
#include "sink_file.h"
#include "sink_prom.h"
#include "sink_sock.h"

#define DAEMON_NOFILE_WANT 65536	/* descriptor limit asked for at start */
#define DAEMON_NICE (-4)		/* scheduling boost, as auditd's default priority_boost */
#define DAEMON_SLICE_NS 100000	/* fair-class slice: the kernel's minimum, 0.1 ms */

struct daemon {
	struct config cfg;		/* owned; parsed once at start */
	struct fan fan;			/* owned */
	struct resolve *resolve;	/* owned (heap: large) */
	struct proc *proc;		/* owned (heap: large) */
	struct policy *policy;		/* owned (heap: large) */
	struct cache cache;		/* owned; the allow cache (off unless allow_cache) */
	struct hook hook;		/* owned */
	struct sink_file out;		/* owned */
	struct sink_sock sock;		/* owned */
	struct sink_prom prom;		/* owned; prometheus_file (off when dir_fd < 0) */
	struct priv priv;		/* owned; hook_user, capabilities kept */
	struct notify notify;		/* owned; the service manager's socket, the watchdog */
	struct pipeline pipeline;	/* owned; borrows the modules above */
	pid_t self;			/* our pid (the daemon child's once forked) */
	int sig_fd;			/* owned; signalfd */
	char *pid_file;			/* owned; absolute, NULL = none */
	char *pid_tmp;			/* owned; written before marks, renamed after */
	uint64_t stats_due_ms;		/* monotonic ms of the next periodic stats record */
	/* The run's identity (the start record; run_id ends every record). */
	char run_id[33];		/* 128 random bits as 32 hex digits, new every start */
	char host[256];			/* gethostname(), NUL-terminated */
	char boot_id[40];		/* /proc/sys/kernel/random/boot_id; "" = unknown */
	char config_digest[17];		/* 64-bit FNV-1a of config_dump(), 16 hex digits */
	char stop_reason[128];		/* the stop record's reason */
};

#endif
