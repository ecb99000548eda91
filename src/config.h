/*
 * config.h - command line and config file -> struct config. Pure apart from
 * config_load_file(), which reads a file and hands its text to config_parse_text().
 */
#ifndef FANOTIFYD_CONFIG_H
#define FANOTIFYD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "compat.h"

#define CONFIG_VERSION "0.1.0"

#define CONFIG_BURST_WINDOW_MS_DEFAULT 1000u
#define CONFIG_HOOK_COOLDOWN_MS_DEFAULT 5000u
#define CONFIG_BURST_THRESHOLD_DEFAULT 0u	/* 0 = burst detection off */
#define CONFIG_MS_MAX 86400000u			/* one day: upper bound of every *_ms key */
#define CONFIG_BURST_THRESHOLD_MAX 4096u	/* each tracked process keeps this many timestamps */
#define CONFIG_QUARANTINE_MS_UNSET 0xffffffffu	/* quarantine_ms: follow burst_window_ms */
#define CONFIG_PROM_INTERVAL_MS 15000u		/* stats_interval_ms 0 with prometheus_file */
#define CONFIG_HOOK_TIMEOUT_MS_DEFAULT 10000u
#define CONFIG_HOOK_MAX_DEFAULT 4u		/* hooks running at once */
#define CONFIG_HOOK_MAX_MAX 64u
#define CONFIG_SPIN_US_DEFAULT 50u		/* --perm: adaptive poll before sleeping */
#define CONFIG_SPIN_US_MAX 1000u
#define CONFIG_EXEC_HOLD_MS_DEFAULT 1000u	/* execs read as they come this long after an event */
#define CONFIG_SOCKET_BUFFER_KB_DEFAULT 1024u	/* per subscriber */
#define CONFIG_SOCKET_BUFFER_KB_MIN 4u
#define CONFIG_SOCKET_BUFFER_KB_MAX 65536u
#define CONFIG_SOCKET_MAX_CLIENTS_DEFAULT 64u
#define CONFIG_SOCKET_MAX_CLIENTS_MAX 1024u
#define CONFIG_SOCKET_MODE_DEFAULT 0600u	/* socket file mode */
#define CONFIG_SOCKET_MODE_MAX 0777u
/*
 * output_mode: the bits of CONFIG_OUTPUT_MODE_MAX only, CONFIG_OUTPUT_MODE_MIN always. The
 * records name every file and process the daemon sees, so others get nothing and readers
 * come in through output_group; group write would let that group forge or cut records;
 * and the daemon reopens the file (SIGHUP) without CAP_DAC_OVERRIDE, so the owner writes.
 * Unset, the file is created 0640 less the umask and loses any bit outside 0640.
 */
#define CONFIG_OUTPUT_MODE_MAX 0640u
#define CONFIG_OUTPUT_MODE_MIN 0200u
#define CONFIG_LINE_MAX 4096			/* longer config lines are an error */
#define CONFIG_ITEMS_MAX 4096			/* bound on marks and jobs each */
#define CONFIG_CANARIES_MAX 65536		/* bound on canaries: a host's canary set
						 * (issue 13: 10,000) is matched by hash */
#define CONFIG_CGROUP_NAME_MAX 255		/* bytes of a cgroup's name (NAME_MAX) */

/* The events --events may select (FAN_* bits), and the default selection. */
#define CONFIG_EV_DEFAULT                                                                    \
	((uint64_t)FAN_OPEN | FAN_OPEN_EXEC | FAN_MODIFY | FAN_CLOSE_WRITE | FAN_ATTRIB |      \
	 FAN_CREATE | FAN_DELETE | FAN_RENAME)
#define CONFIG_EV_ALL (CONFIG_EV_DEFAULT | FAN_ACCESS | FAN_CLOSE_NOWRITE)

enum config_mark_kind {
	CONFIG_MARK_INODE,	/* --watch */
	CONFIG_MARK_MOUNT,	/* --mount */
	CONFIG_MARK_FILESYSTEM,	/* --filesystem */
};

struct config_mark {
	enum config_mark_kind kind;
	char *path;		/* owned */
};

enum config_role {
	CONFIG_ROLE_ROOTFS,
	CONFIG_ROLE_WORKSPACE,
	CONFIG_ROLE_EXPORT,
	CONFIG_ROLE_CACHE,
	CONFIG_ROLE_COUNT,
};

/* What the output file (or stdout) gets; subscribers always get JSON Lines. */
enum config_format {
	CONFIG_FORMAT_JSONL,	/* one JSON object per line (the default) */
	CONFIG_FORMAT_TEXT,	/* one short human line per record (text.h) */
};

/* Identities a burst is counted for (burst_scope); bit (1u << scope) in config.burst_scopes. */
enum config_scope {
	CONFIG_SCOPE_PROCESS,	/* the acting process (the default) */
	CONFIG_SCOPE_PARENT,	/* its parent and grandparent (policy.c POLICY_PARENT_DEPTH) */
	CONFIG_SCOPE_SESSION,	/* its session id */
	CONFIG_SCOPE_UID,
	CONFIG_SCOPE_EXE,
	CONFIG_SCOPE_CGROUP,
	CONFIG_SCOPE_JOB,	/* the event's job_id */
	CONFIG_SCOPE_COUNT,
};
#define CONFIG_SCOPES_DEFAULT (1u << CONFIG_SCOPE_PROCESS)	/* also what 0 means */

struct config_job {
	char *id;				/* owned */
	char *root[CONFIG_ROLE_COUNT];		/* owned; NULL = role not set */
	char *cgroup;				/* owned; cgroup v2 path ("/jobs.slice/J.scope",
						 * config_cgroup_problem() says none); NULL =
						 * none */
};

struct config {
	char *output;		/* NULL = not set; "-" = stdout */
	char *socket;
	char *hook;
	char *hook_user;	/* user hooks run as (name or uid); NULL = root */
	char *pid_file;
	char *prometheus_file;	/* stats in Prometheus text format; NULL = none */
	char *socket_group;	/* group name or gid; NULL = the daemon's */
	char *output_group;	/* group name or gid of the output file; NULL = as created */

	struct config_mark *marks;	/* watch/mount/filesystem in the order given */
	size_t n_marks;
	char **canaries;
	size_t n_canaries;
	struct config_job *jobs;
	size_t n_jobs;

	unsigned burst_threshold;
	unsigned burst_window_ms;
	unsigned burst_scopes;		/* 1u << enum config_scope, for each scope counted */
	unsigned burst_threshold_scope[CONFIG_SCOPE_COUNT];	/* 0 = not set: the */
	unsigned burst_window_ms_scope[CONFIG_SCOPE_COUNT];	/* plain value */
	unsigned hook_cooldown_ms;
	unsigned hook_timeout_ms;
	unsigned hook_max;
	unsigned spin_us;		/* --perm: longest poll for the next event; 0 = never */
	unsigned exec_hold_ms;		/* the connector read as it comes this long after the
					   last fanotify event (main.c proc_timer()) */
	bool allow_cache;		/* --perm: evictable ignore marks for allowed files */
	unsigned stats_interval_ms;	/* a stats record this often; 0 = only on SIGUSR1, exit */
	bool record_host;		/* every record has "host", not only start and stop */
	unsigned quarantine_ms;		/* CONFIG_QUARANTINE_MS_UNSET until resolved */
	unsigned socket_buffer_kb;
	unsigned socket_max_clients;
	mode_t socket_mode;		/* parsed from octal; CONFIG_SOCKET_MODE_DEFAULT ... */
	bool socket_mode_set;		/* ... unless given (the dump says "not set" otherwise) */
	mode_t output_mode;		/* octal, within CONFIG_OUTPUT_MODE_MAX ... */
	bool output_mode_set;		/* ... if given; else 0640 less the umask (sink_file.c) */
	uint64_t events;	/* FAN_* event bits within CONFIG_EV_ALL */
	enum config_format format;	/* of the output; also --subscribe's */
	unsigned verbose;

	bool foreground;
	bool perm;
	bool deny_on_alert;
	bool no_fid;
	bool access_perm;	/* --access-perm: also FAN_ACCESS_PERM (stalls every read) */

	/* Command-only switches (no config key). */
	char *config_file;
	char *subscribe;	/* --subscribe PATH: client mode */
	char *replay;		/* --replay FILE: replay mode (replay.c); "-" = stdin */
	char *sweep;		/* --sweep KEY=V1,V2,...: with replay */
	bool check_config;
	bool help;
	bool version;
};

/* Sets every field to its default. */
void config_init(struct config *c);

/* Releases everything the config owns; safe on a zeroed or half-filled config, and twice. */
void config_free(struct config *c);

/*
 * Parses config file text (len bytes, need not be NUL-terminated) into c, on top of what
 * c already holds (repeatable keys accumulate, scalars are replaced).
 * Returns 0, -EINVAL with *ret_line (1-based) and *ret_msg (static or written into msgbuf of
 * msgbuf_len bytes) describing the first error, or -ENOMEM.
 */
int config_parse_text(struct config *c, const char *text, size_t len, unsigned *ret_line,
		      char *msgbuf, size_t msgbuf_len);

/*
 * Reads FILE and parses it into c. On error returns negative errno and writes
 * "FILE:LINE: message" (or "FILE: strerror") into msgbuf.
 */
int config_load_file(struct config *c, const char *file, char *msgbuf, size_t msgbuf_len);

/*
 * Parses argv into c (getopt_long; resets optind). Values given here override c's.
 * Returns 0, or -EINVAL with a message in msgbuf (unknown option, bad number ...).
 */
int config_parse_args(struct config *c, int argc, char **argv, char *msgbuf, size_t msgbuf_len);

/*
 * Full start-up parse: finds -c/--config in argv, loads that file, then applies argv over
 * it, then validates. Returns 0 or negative errno with the message in msgbuf; a file that
 * cannot be loaded says "failed to load config FILE:LINE: ..." (or "FILE: strerror").
 */
int config_from_args(struct config *c, int argc, char **argv, char *msgbuf, size_t msgbuf_len);

/*
 * Checks cross-field rules (at least one mark unless help/version, deny_on_alert needs
 * perm, access_perm needs perm, ...). Returns 0 or -EINVAL with a message in msgbuf. Each
 * value's own range is checked once, when it is parsed.
 */
int config_validate(const struct config *c, char *msgbuf, size_t msgbuf_len);

/* Parses an --events list ("default", "all", names such as open,close_write, comma-
 * separated, case-insensitive) into FAN_* bits. Returns 0 and sets *ret_events, or -EINVAL. */
int config_parse_events(const char *list, uint64_t *ret_events);

/* Writes the effective settings as config-file text (for --check-config) into a
 * malloc'd string. Returns NULL on allocation failure. */
char *config_dump(const struct config *c);

/* The --help text. */
const char *config_usage(void);

/* Name of a format as --format takes it: "jsonl", "text". */
const char *config_format_name(enum config_format format);

/* Why path is not a cgroup path a job can name (absolute, not the root, no empty, '.' or
 * '..' component, components of at most CONFIG_CGROUP_NAME_MAX bytes), or NULL. */
const char *config_cgroup_problem(const char *path);
/* Name of a burst scope as burst_scope takes it and alerts print it: "process", ... */
const char *config_scope_name(enum config_scope scope);

/* Name of a role as printed in records: "rootfs", "workspace", "export", "cache". */
const char *config_role_name(enum config_role role);

#endif
