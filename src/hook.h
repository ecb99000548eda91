/*
 * hook.h - alert hooks: fork + exec /bin/sh -c CMD with the alert in FAN_* variables,
 * asynchronously, bounded in number and time, reaped.
 */
#ifndef FANOTIFYD_HOOK_H
#define FANOTIFYD_HOOK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "event.h"

#define HOOK_RUNNING_CAP 64		/* hard bound on hook_max */
#define HOOK_ENV_MAX 16			/* variables passed to a hook */
#define HOOK_LINE_MAX 512		/* longest line of hook output logged; longer are cut */
#define HOOK_DRAIN_MAX (64u << 10)	/* hook output read per hook_drain() call */
#define HOOK_SHELL "/bin/sh"		/* runs the hook command: sh -c CMD */
#define HOOK_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" /* its PATH */

struct hook_child {
	pid_t pid;			/* 0 = free slot; also its process group */
	uint64_t deadline_ms;		/* monotonic ms after which it is killed */
	bool killed;
};

struct hook {
	const char *cmd;		/* borrowed from the config; NULL = no hook */
	unsigned max_running;
	unsigned timeout_ms;
	int null_fd;			/* owned; /dev/null for the hooks' stdin */
	int out_rfd, out_wfd;		/* owned; the hooks' stdout and stderr: a pipe the
					 * loop drains into the log, never the daemon's stderr */
	char line[HOOK_LINE_MAX];	/* a line of hook output not complete yet */
	size_t line_len;
	/* Called in the child just before exec (credentials); async-signal-safe; a negative
	 * return ends the child with 127. NULL = none. Set after hook_init(). */
	int (*before_exec)(const void *arg);
	const void *before_exec_arg;
	struct hook_child running[HOOK_RUNNING_CAP];
	unsigned n_running;
	uint64_t started;
	uint64_t dropped;		/* alerts whose hook did not run: max_running reached */
	uint64_t killed;		/* hooks killed at their timeout */
	uint64_t failed;		/* fork failures and hooks that exited non-zero */
	uint64_t own;			/* alerts raised by a hook (or its children): not run */
};

/* Prepares the runner (opens /dev/null and the output pipe: call before any mark is
 * placed). 0 or -errno. */
int hook_init(struct hook *h, const char *cmd, unsigned max_running, unsigned timeout_ms);

/*
 * For --check-config: whether cmd could run. HOOK_SHELL must be executable; so must the
 * command's first word when it is a path, else it must be a shell builtin or found in
 * HOOK_PATH. A first word holding shell syntax (quotes, $, redirections ...) or a variable
 * assignment is not judged. Opens nothing. Returns 0 or negative errno with the reason in
 * msg.
 */
int hook_check(const char *cmd, char *msg, size_t msg_len);

/*
 * Builds the environment of a hook for alert a into env (HOOK_ENV_MAX + 1 entries,
 * NULL-terminated; strings malloc'd, free with hook_env_free()): FAN_KIND, FAN_PID,
 * FAN_COMM and FAN_EXE (of a->proc), FAN_PATH, FAN_REASON, FAN_JOB_ID, FAN_PATH_ROLE,
 * and FAN_COUNT, FAN_WINDOW_MS for ALERT_BURST; a NULL string leaves its variable out.
 * Values travel only here, never into the command. Returns the number of variables or
 * -ENOMEM. Pure; exposed for tests.
 */
int hook_env_build(const struct alert *a, char **env);
void hook_env_free(char **env);

/* Starts the hook for alert a unless max_running hooks are running (then counted in
 * dropped) or the alert's process is a running hook or one of its children (counted in
 * own: a hook that touches a canary would otherwise raise the next alert and hook, for
 * ever). Never waits for the hook. Returns 0 or negative errno. */
int hook_run(struct hook *h, const struct alert *a, uint64_t now_ms);

/* Reads what the hooks wrote (out_rfd is readable) into the log, one rate-limited line
 * at a time; at most HOOK_DRAIN_MAX bytes a call. */
void hook_drain(struct hook *h);

/* Reaps every finished hook (on SIGCHLD). */
void hook_reap(struct hook *h);

/* Kills (SIGKILL to its process group) every hook past its deadline. */
void hook_expire(struct hook *h, uint64_t now_ms);

/* Milliseconds until the next deadline, or -1 when no hook runs. */
int hook_next_timeout_ms(const struct hook *h, uint64_t now_ms);

/* A reload: the command (borrowed, NULL = none), hooks at once and timeout from now on.
 * Running hooks keep their deadline. Only while the runner was prepared with a command
 * (hook_init()): its /dev/null and pipe are opened before any mark, never later. */
void hook_configure(struct hook *h, const char *cmd, unsigned max_running, unsigned timeout_ms);

/* Fills the hooks' counters of s (hooks_*). */
void hook_stats(const struct hook *h, struct stats *s);

/* Kills and reaps every running hook, closes /dev/null and the pipe; safe twice. */
void hook_close(struct hook *h);

#endif
