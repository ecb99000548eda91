/*
 * config.c - command line and config file text -> struct config.
 *
 * Owns the strings and arrays it puts into struct config; config_free() releases them.
 * main.c hands it argv once at start-up (config_from_args()); everything downstream reads
 * the finished struct and never changes it. Pure apart from config_load_file(), the thin
 * wrapper that reads the file: no logging, no exit(), no clock, no globals of its own (it
 * uses getopt's optind/optarg/optopt/opterr). Errors come back as negative errno with a
 * message in the caller's buffer, config-file errors with their line number.
 *
 * Config file syntax, one setting per line:
 *
 *	key value
 *	key = value
 *
 * - Lines end in "\n"; one "\r" before it is dropped (CRLF files work). A line may hold at
 *   most CONFIG_LINE_MAX bytes, not counting its line ending. A NUL byte is an error, and
 *   so is any other "\r": config_dump() could not write a value holding one back.
 * - Blanks are space and tab. The key runs from the first non-blank byte to the next blank
 *   or '='; keys are lower case and case-sensitive. One '=' may stand between key and value,
 *   with or without blanks around it (auditd, fapolicyd and most daemons' configs are
 *   written that way, and `canary = /x` must never mean the pattern "= /x"). The value is
 *   the rest of the line with blanks trimmed from both ends, so paths may contain inner
 *   spaces. A value may not start with '=' (after the one separator): there is no quoting
 *   to tell "key = =x" from a doubled '=' typo, and no key needs such a value (paths can be
 *   written ./=x, patterns and roots start with '/').
 * - An unknown key is an error that names the nearest key when one is close (edit distance
 *   of at most 2, ignoring case, dashes for underscores). The command-line spelling of a key
 *   (burst-threshold) is refused the same way, not taken with a note: this parser has no
 *   channel for a warning that would reach the operator, and one spelling per key keeps
 *   configs greppable and the --check-config dump identical to the file.
 * - Comments: a line whose first non-blank byte is '#' is a comment. Elsewhere a '#' that
 *   follows a blank starts a comment running to the end of the line ("watch /a  # note");
 *   a '#' that follows any other byte is part of the value ("canary /tmp/a#b"). Exception:
 *   the value of `hook` is the rest of the line verbatim, '#' included, because it is a
 *   shell command ("hook logger -t fan '# alert'"). A value therefore cannot start with
 *   '#' or contain blank + '#', except in `hook`.
 * - Numeric, boolean, verbose, events and job values are one word; a second word is an
 *   error. Numbers are plain decimal digits. Booleans: 0/1, yes/no, true/false, on/off,
 *   any case. A key with no value is an error, booleans included.
 * - Scalar keys given again replace the earlier value; watch, mount, filesystem and canary
 *   accumulate. `job NAME` opens a job block: rootfs, workspace, export, cache and cgroup
 *   lines after it (in the same text) belong to it; other keys do not end the block.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define CONFIG_FILE_MAX (1024 * 1024)	/* bytes; larger config files are refused */
#define JOB_ID_MAX 64			/* bytes in a job name */
#define VERBOSE_MAX 9			/* verbose key range is 0..VERBOSE_MAX; -v saturates */
#define SHOW_MAX 128			/* bytes of a bad value quoted back in a message */
#define OPT_BASE 256			/* getopt_long val of a long option: OPT_BASE + key id */
#define SUGGEST_MAX 2			/* edit distance of the furthest "did you mean" */
#define SUGGEST_LEN_MAX 40		/* longer names get no suggestion */

enum key_kind {
	KIND_STRING,	/* scalar string, replaced (output, socket, hook, pid_file, config) */
	KIND_MARK,	/* appended to marks (watch, mount, filesystem) */
	KIND_CANARY,	/* appended to canaries */
	KIND_UINT,	/* decimal number in [min, max] */
	KIND_MODE,	/* octal file mode: bits within max, bits min all set; arg: the
			 * offset of the bool that says it was given */
	KIND_BOOL,	/* file: boolean word; command line: flag that sets true */
	KIND_VERBOSE,	/* file: 0..VERBOSE_MAX; command line: flag that adds one */
	KIND_EVENTS,	/* event name list */
	KIND_FORMAT,	/* output format name (format_names) */
	KIND_SCOPES,	/* burst scope list (scope_names) */
	KIND_JOB,	/* file only: opens a job block */
	KIND_ROLE,	/* file only: a root of the current job */
	KIND_CGROUP,	/* file only: the cgroup of the current job */
};

enum key_id {
	K_OUTPUT,
	K_SOCKET,
	K_HOOK,
	K_PID_FILE,
	K_PROMETHEUS_FILE,
	K_WATCH,
	K_MOUNT,
	K_FILESYSTEM,
	K_CANARY,
	K_BURST_THRESHOLD,
	K_BURST_WINDOW_MS,
	K_BURST_SCOPE,
	K_BURST_THRESHOLD_PROCESS,
	K_BURST_THRESHOLD_PARENT,
	K_BURST_THRESHOLD_SESSION,
	K_BURST_THRESHOLD_UID,
	K_BURST_THRESHOLD_EXE,
	K_BURST_THRESHOLD_CGROUP,
	K_BURST_THRESHOLD_JOB,
	K_BURST_WINDOW_MS_PROCESS,
	K_BURST_WINDOW_MS_PARENT,
	K_BURST_WINDOW_MS_SESSION,
	K_BURST_WINDOW_MS_UID,
	K_BURST_WINDOW_MS_EXE,
	K_BURST_WINDOW_MS_CGROUP,
	K_BURST_WINDOW_MS_JOB,
	K_HOOK_COOLDOWN_MS,
	K_FOREGROUND,
	K_PERM,
	K_DENY_ON_ALERT,
	K_NO_FID,
	K_ACCESS_PERM,
	K_QUARANTINE_MS,
	K_HOOK_TIMEOUT_MS,
	K_HOOK_MAX,
	K_HOOK_USER,
	K_SPIN_US,
	K_EXEC_HOLD_MS,
	K_ALLOW_CACHE,
	K_STATS_INTERVAL_MS,
	K_RECORD_HOST,
	K_SOCKET_MODE,
	K_SOCKET_GROUP,
	K_SOCKET_BUFFER_KB,
	K_SOCKET_MAX_CLIENTS,
	K_OUTPUT_MODE,
	K_OUTPUT_GROUP,
	K_VERBOSE,
	K_EVENTS,
	K_FORMAT,
	K_JOB,
	K_ROOTFS,
	K_WORKSPACE,
	K_EXPORT,
	K_CACHE,
	K_CGROUP,
	K_CONFIG,
	K_CHECK_CONFIG,
	K_HELP,
	K_VERSION,
	K_SUBSCRIBE,
	K_REPLAY,
	K_SWEEP,
	K_COUNT,
};

struct key_def {
	const char *key;	/* config file key; NULL = command line only */
	const char *opt;	/* long option; NULL = config file only */
	char short_opt;		/* 0 = none */
	enum key_kind kind;
	size_t off;		/* STRING, UINT, BOOL, MODE: field in struct config */
	unsigned min, max;	/* UINT, MODE */
	size_t arg;		/* MARK: enum config_mark_kind; ROLE: enum config_role;
				 * MODE: offset of its _set bool */
};

#define F(field) offsetof(struct config, field)

/* The one table of settings: config keys, long and short options, and how to apply them. */
static const struct key_def keys[K_COUNT] = {
	[K_OUTPUT] = { "output", "output", 'o', KIND_STRING, F(output), 0, 0, 0 },
	[K_SOCKET] = { "socket", "socket", 0, KIND_STRING, F(socket), 0, 0, 0 },
	[K_HOOK] = { "hook", "hook", 0, KIND_STRING, F(hook), 0, 0, 0 },
	[K_PID_FILE] = { "pid_file", "pid-file", 0, KIND_STRING, F(pid_file), 0, 0, 0 },
	[K_PROMETHEUS_FILE] = { "prometheus_file", "prometheus-file", 0, KIND_STRING,
				F(prometheus_file), 0, 0, 0 },
	[K_WATCH] = { "watch", "watch", 'w', KIND_MARK, 0, 0, 0, CONFIG_MARK_INODE },
	[K_MOUNT] = { "mount", "mount", 0, KIND_MARK, 0, 0, 0, CONFIG_MARK_MOUNT },
	[K_FILESYSTEM] = { "filesystem", "filesystem", 0, KIND_MARK, 0, 0, 0,
			   CONFIG_MARK_FILESYSTEM },
	[K_CANARY] = { "canary", "canary", 0, KIND_CANARY, 0, 0, 0, 0 },
	[K_BURST_THRESHOLD] = { "burst_threshold", "burst-threshold", 0, KIND_UINT,
				F(burst_threshold), 0, CONFIG_BURST_THRESHOLD_MAX, 0 },
	[K_BURST_WINDOW_MS] = { "burst_window_ms", "burst-window-ms", 0, KIND_UINT,
				F(burst_window_ms), 1, CONFIG_MS_MAX, 0 },
	[K_BURST_SCOPE] = { "burst_scope", "burst-scope", 0, KIND_SCOPES, F(burst_scopes), 0, 0, 0 },
	[K_BURST_THRESHOLD_PROCESS] = { "burst_threshold_process", NULL, 0, KIND_UINT,
			F(burst_threshold_scope[CONFIG_SCOPE_PROCESS]), 1, CONFIG_BURST_THRESHOLD_MAX, 0 },
	[K_BURST_THRESHOLD_PARENT] = { "burst_threshold_parent", NULL, 0, KIND_UINT,
			F(burst_threshold_scope[CONFIG_SCOPE_PARENT]), 1, CONFIG_BURST_THRESHOLD_MAX, 0 },
	[K_BURST_THRESHOLD_SESSION] = { "burst_threshold_session", NULL, 0, KIND_UINT,
			F(burst_threshold_scope[CONFIG_SCOPE_SESSION]), 1, CONFIG_BURST_THRESHOLD_MAX, 0 },
	[K_BURST_THRESHOLD_UID] = { "burst_threshold_uid", NULL, 0, KIND_UINT,
			F(burst_threshold_scope[CONFIG_SCOPE_UID]), 1, CONFIG_BURST_THRESHOLD_MAX, 0 },
	[K_BURST_THRESHOLD_EXE] = { "burst_threshold_exe", NULL, 0, KIND_UINT,
			F(burst_threshold_scope[CONFIG_SCOPE_EXE]), 1, CONFIG_BURST_THRESHOLD_MAX, 0 },
	[K_BURST_THRESHOLD_CGROUP] = { "burst_threshold_cgroup", NULL, 0, KIND_UINT,
			F(burst_threshold_scope[CONFIG_SCOPE_CGROUP]), 1, CONFIG_BURST_THRESHOLD_MAX, 0 },
	[K_BURST_THRESHOLD_JOB] = { "burst_threshold_job", NULL, 0, KIND_UINT,
			F(burst_threshold_scope[CONFIG_SCOPE_JOB]), 1, CONFIG_BURST_THRESHOLD_MAX, 0 },
	[K_BURST_WINDOW_MS_PROCESS] = { "burst_window_ms_process", NULL, 0, KIND_UINT,
			F(burst_window_ms_scope[CONFIG_SCOPE_PROCESS]), 1, CONFIG_MS_MAX, 0 },
	[K_BURST_WINDOW_MS_PARENT] = { "burst_window_ms_parent", NULL, 0, KIND_UINT,
			F(burst_window_ms_scope[CONFIG_SCOPE_PARENT]), 1, CONFIG_MS_MAX, 0 },
	[K_BURST_WINDOW_MS_SESSION] = { "burst_window_ms_session", NULL, 0, KIND_UINT,
			F(burst_window_ms_scope[CONFIG_SCOPE_SESSION]), 1, CONFIG_MS_MAX, 0 },
	[K_BURST_WINDOW_MS_UID] = { "burst_window_ms_uid", NULL, 0, KIND_UINT,
			F(burst_window_ms_scope[CONFIG_SCOPE_UID]), 1, CONFIG_MS_MAX, 0 },
	[K_BURST_WINDOW_MS_EXE] = { "burst_window_ms_exe", NULL, 0, KIND_UINT,
			F(burst_window_ms_scope[CONFIG_SCOPE_EXE]), 1, CONFIG_MS_MAX, 0 },
	[K_BURST_WINDOW_MS_CGROUP] = { "burst_window_ms_cgroup", NULL, 0, KIND_UINT,
			F(burst_window_ms_scope[CONFIG_SCOPE_CGROUP]), 1, CONFIG_MS_MAX, 0 },
	[K_BURST_WINDOW_MS_JOB] = { "burst_window_ms_job", NULL, 0, KIND_UINT,
			F(burst_window_ms_scope[CONFIG_SCOPE_JOB]), 1, CONFIG_MS_MAX, 0 },
	[K_HOOK_COOLDOWN_MS] = { "hook_cooldown_ms", "hook-cooldown-ms", 0, KIND_UINT,
				 F(hook_cooldown_ms), 0, CONFIG_MS_MAX, 0 },
	[K_FOREGROUND] = { "foreground", "foreground", 'f', KIND_BOOL, F(foreground), 0, 0, 0 },
	[K_PERM] = { "perm", "perm", 0, KIND_BOOL, F(perm), 0, 0, 0 },
	[K_DENY_ON_ALERT] = { "deny_on_alert", "deny-on-alert", 0, KIND_BOOL, F(deny_on_alert),
			      0, 0, 0 },
	[K_NO_FID] = { "no_fid", "no-fid", 0, KIND_BOOL, F(no_fid), 0, 0, 0 },
	[K_ACCESS_PERM] = { "access_perm", "access-perm", 0, KIND_BOOL, F(access_perm), 0, 0, 0 },
	[K_QUARANTINE_MS] = { "quarantine_ms", "quarantine-ms", 0, KIND_UINT, F(quarantine_ms), 0,
			      CONFIG_MS_MAX, 0 },
	[K_HOOK_TIMEOUT_MS] = { "hook_timeout_ms", "hook-timeout-ms", 0, KIND_UINT,
				F(hook_timeout_ms), 1, CONFIG_MS_MAX, 0 },
	[K_HOOK_MAX] = { "hook_max", "hook-max", 0, KIND_UINT, F(hook_max), 1, CONFIG_HOOK_MAX_MAX,
			 0 },
	[K_HOOK_USER] = { "hook_user", "hook-user", 0, KIND_STRING, F(hook_user), 0, 0, 0 },
	[K_SPIN_US] = { "spin_us", "spin-us", 0, KIND_UINT, F(spin_us), 0, CONFIG_SPIN_US_MAX, 0 },
	[K_EXEC_HOLD_MS] = { "exec_hold_ms", "exec-hold-ms", 0, KIND_UINT, F(exec_hold_ms), 0,
			     CONFIG_MS_MAX, 0 },
	[K_ALLOW_CACHE] = { "allow_cache", "allow-cache", 0, KIND_BOOL, F(allow_cache), 0, 0, 0 },
	[K_STATS_INTERVAL_MS] = { "stats_interval_ms", "stats-interval-ms", 0, KIND_UINT,
				  F(stats_interval_ms), 0, CONFIG_MS_MAX, 0 },
	[K_RECORD_HOST] = { "record_host", "record-host", 0, KIND_BOOL, F(record_host), 0, 0, 0 },
	[K_SOCKET_MODE] = { "socket_mode", "socket-mode", 0, KIND_MODE, F(socket_mode), 0,
			    CONFIG_SOCKET_MODE_MAX, F(socket_mode_set) },
	[K_SOCKET_GROUP] = { "socket_group", "socket-group", 0, KIND_STRING, F(socket_group), 0, 0,
			     0 },
	[K_SOCKET_BUFFER_KB] = { "socket_buffer_kb", "socket-buffer-kb", 0, KIND_UINT,
				 F(socket_buffer_kb), CONFIG_SOCKET_BUFFER_KB_MIN,
				 CONFIG_SOCKET_BUFFER_KB_MAX, 0 },
	[K_SOCKET_MAX_CLIENTS] = { "socket_max_clients", "socket-max-clients", 0, KIND_UINT,
				   F(socket_max_clients), 1, CONFIG_SOCKET_MAX_CLIENTS_MAX, 0 },
	[K_OUTPUT_MODE] = { "output_mode", "output-mode", 0, KIND_MODE, F(output_mode),
			    CONFIG_OUTPUT_MODE_MIN, CONFIG_OUTPUT_MODE_MAX, F(output_mode_set) },
	[K_OUTPUT_GROUP] = { "output_group", "output-group", 0, KIND_STRING, F(output_group), 0, 0,
			     0 },
	[K_VERBOSE] = { "verbose", "verbose", 'v', KIND_VERBOSE, 0, 0, 0, 0 },
	[K_EVENTS] = { "events", "events", 0, KIND_EVENTS, 0, 0, 0, 0 },
	[K_FORMAT] = { "format", "format", 0, KIND_FORMAT, F(format), 0, 0, 0 },
	[K_JOB] = { "job", NULL, 0, KIND_JOB, 0, 0, 0, 0 },
	[K_ROOTFS] = { "rootfs", NULL, 0, KIND_ROLE, 0, 0, 0, CONFIG_ROLE_ROOTFS },
	[K_WORKSPACE] = { "workspace", NULL, 0, KIND_ROLE, 0, 0, 0, CONFIG_ROLE_WORKSPACE },
	[K_EXPORT] = { "export", NULL, 0, KIND_ROLE, 0, 0, 0, CONFIG_ROLE_EXPORT },
	[K_CACHE] = { "cache", NULL, 0, KIND_ROLE, 0, 0, 0, CONFIG_ROLE_CACHE },
	[K_CGROUP] = { "cgroup", NULL, 0, KIND_CGROUP, 0, 0, 0, 0 },
	[K_CONFIG] = { NULL, "config", 'c', KIND_STRING, F(config_file), 0, 0, 0 },
	[K_CHECK_CONFIG] = { NULL, "check-config", 0, KIND_BOOL, F(check_config), 0, 0, 0 },
	[K_HELP] = { NULL, "help", 'h', KIND_BOOL, F(help), 0, 0, 0 },
	[K_VERSION] = { NULL, "version", 0, KIND_BOOL, F(version), 0, 0, 0 },
	[K_SUBSCRIBE] = { NULL, "subscribe", 0, KIND_STRING, F(subscribe), 0, 0, 0 },
	[K_REPLAY] = { NULL, "replay", 0, KIND_STRING, F(replay), 0, 0, 0 },
	[K_SWEEP] = { NULL, "sweep", 0, KIND_STRING, F(sweep), 0, 0, 0 },
};

#undef F

/*
 * --events names are fan_event_names' (compat.h) in lower case, for the bits in
 * CONFIG_EV_ALL, listed (in --help and the dump) in this order. Then the aliases.
 */
static const uint64_t event_order[] = {
	FAN_ACCESS, FAN_MODIFY, FAN_ATTRIB, FAN_CLOSE_WRITE, FAN_CLOSE_NOWRITE,
	FAN_OPEN,   FAN_OPEN_EXEC, FAN_CREATE, FAN_DELETE, FAN_RENAME,
};
static const struct {
	const char *name;
	uint64_t bits;
} event_aliases[] = {
	{ "moved_from", FAN_RENAME },
	{ "moved_to", FAN_RENAME },
	{ "move", FAN_RENAME },
	{ "close", (uint64_t)FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE },
	{ "default", CONFIG_EV_DEFAULT },
	{ "all", CONFIG_EV_ALL },
};

static const char *const format_names[] = {
	[CONFIG_FORMAT_JSONL] = "jsonl",
	[CONFIG_FORMAT_TEXT] = "text",
};

static const char *const scope_names[CONFIG_SCOPE_COUNT] = {
	[CONFIG_SCOPE_PROCESS] = "process",
	[CONFIG_SCOPE_PARENT] = "parent",
	[CONFIG_SCOPE_SESSION] = "session",
	[CONFIG_SCOPE_UID] = "uid",
	[CONFIG_SCOPE_EXE] = "exe",
	[CONFIG_SCOPE_CGROUP] = "cgroup",
	[CONFIG_SCOPE_JOB] = "job",
};

static const char *const role_names[CONFIG_ROLE_COUNT] = {
	[CONFIG_ROLE_ROOTFS] = "rootfs",
	[CONFIG_ROLE_WORKSPACE] = "workspace",
	[CONFIG_ROLE_EXPORT] = "export",
	[CONFIG_ROLE_CACHE] = "cache",
};

static const char usage_text[] =
	"Usage: fanotifyd [OPTION]...\n"
	"Watch files with fanotify(7) and write the events as JSON Lines.\n"
	"\n"
	"  -c, --config FILE          load config from FILE\n"
	"  -w, --watch PATH           watch a directory inode, including child events\n"
	"      --mount PATH           mark a whole mount\n"
	"      --filesystem PATH      mark a whole filesystem\n"
	"      --canary PATTERN       alert on matching canary path; repeatable\n"
	"  -o, --output PATH          write JSONL events to PATH; \"-\" means stdout\n"
	"      --socket PATH          Unix socket for streaming subscribers\n"
	"      --hook CMD             run shell command when an alert fires\n"
	"      --pid-file PATH        write daemon pid on start\n"
	"      --burst-threshold N    alert after N mutating events per process/window\n"
	"      --burst-window-ms MS   burst window; default 1000\n"
	"      --burst-scope SCOPES   count bursts per process, parent, session, uid,\n"
	"                             exe, cgroup and/or job (comma-separated);\n"
	"                             default process\n"
	"      --hook-cooldown-ms MS  per-process alert cooldown; default 5000\n"
	"      --events LIST          events to report, comma-separated (names below)\n"
	"      --quarantine-ms MS     with --perm --deny-on-alert: deny a process's\n"
	"                             permission events for MS after its burst alert;\n"
	"                             default the burst window, 0 turns it off\n"
	"      --hook-timeout-ms MS   kill a hook still running after MS; default 10000\n"
	"      --hook-max N           hooks running at once (1-64); default 4\n"
	"      --hook-user USER       run hooks as USER (name or uid) and its groups;\n"
	"                             default root, without capabilities\n"
	"      --spin-us N            with --perm, poll up to N us for the next\n"
	"                             permission event before sleeping (0-1000,\n"
	"                             0 = never); default 50\n"
	"      --exec-hold-ms MS      read every exec on the host as it happens until MS\n"
	"                             after the last watched event, then only a few per\n"
	"                             100 ms (a storm is not read); default 1000\n"
	"      --socket-mode MODE     octal mode of the socket; default 0600\n"
	"      --socket-group GROUP   group of the socket (name or gid)\n"
	"      --socket-buffer-kb KB  per-subscriber buffer; default 1024\n"
	"      --socket-max-clients N subscribers at once; default 64\n"
	"      --output-mode MODE     octal mode of the output file: 0600 or 0640 (also\n"
	"                             0200, 0240); default 0640, less the umask\n"
	"      --output-group GROUP   group of the output file (name or gid), so that a\n"
	"                             reader in that group can read it with 0640\n"
	"      --subscribe PATH       print the records of a running daemon's socket\n"
	"      --format FMT           output (and --subscribe) format: jsonl or text\n"
	"                             (one short line per record); default jsonl\n"
	"  -f, --foreground           do not daemonize\n"
	"      --perm                 use fanotify permission events\n"
	"      --deny-on-alert        deny permission events that trigger an alert\n"
	"      --access-perm          with --perm, also gate reads (FAN_ACCESS_PERM);\n"
	"                             stalls every read of a marked file\n"
	"      --allow-cache          with --perm, let the kernel allow a file's later\n"
	"                             opens itself once allowed (evictable ignore marks;\n"
	"                             those opens are not reported)\n"
	"      --no-fid               use FD mode instead of FID mode\n"
	"      --stats-interval-ms MS write a stats record every MS (0 = only on\n"
	"                             SIGUSR1 and at exit); default 0, or 15000\n"
	"                             with --prometheus-file\n"
	"      --prometheus-file PATH with every stats record, replace PATH with the\n"
	"                             counters in Prometheus text format (for\n"
	"                             node-exporter's textfile collector)\n"
	"      --record-host          add the host name to every record (the start and\n"
	"                             stop records always have it)\n"
	"  -v, --verbose              increase log verbosity\n"
	"      --check-config         check the configuration, print it and exit\n"
	"  -h, --help                 show built-in help\n"
	"      --version              show version\n"
	"      --replay FILE          run a recorded JSONL stream (- = stdin, gzip read\n"
	"                             too) through the policy; write the alerts and\n"
	"                             denials it would give and a summary; no fanotify\n"
	"      --sweep SPEC           with --replay, KEY=V1,V2,...: one summary per\n"
	"                             value of burst_threshold, burst_window_ms or\n"
	"                             hook_cooldown_ms\n"
	"\n"
	"--watch, --mount, --filesystem and --canary may be given more than once.\n"
	"\n"
	"Event names for --events: access, modify, attrib, close_write, close_nowrite,\n"
	"open, open_exec, create, delete, rename (also moved_from, moved_to, move),\n"
	"close (close_write and close_nowrite), default (all but access and\n"
	"close_nowrite), all.\n"
	"\n"
	"Config file: one \"key value\" or \"key = value\" per line, '#' starts a comment.\n"
	"Every long option above except config, check-config, subscribe, help,\n"
	"version, replay and sweep is a key, with dashes written as underscores\n"
	"(pid_file, burst_threshold, no_fid); booleans take 0/1, yes/no, true/false\n"
	"or on/off (any case). \"job NAME\" starts a job block whose rootfs,\n"
	"workspace, export and cache lines tag events under those roots, and whose\n"
	"cgroup line tags the events of the processes in that cgroup v2 (or below\n"
	"it). burst_threshold_SCOPE and burst_window_ms_SCOPE (config file only) set\n"
	"one burst scope's own values. Command-line values override the file's;\n"
	"repeatable options add to it.\n"
	"\n"
	"Exit status: 0 on success, 1 when the start fails, 2 for a bad option or\n"
	"configuration (--check-config: any problem it finds).\n";

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

__attribute__((format(printf, 3, 4)))
static void set_msg(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || len == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf, len, fmt, ap);	/* truncation is fine for a message */
	va_end(ap);
}

static bool kind_takes_arg(enum key_kind kind)
{
	return kind != KIND_BOOL && kind != KIND_VERBOSE;
}

/* Replaces *slot with a copy of value. */
static int set_string(char **slot, const char *value)
{
	char *s = strdup(value);

	if (!s)
		return -ENOMEM;
	free(*slot);
	*slot = s;
	return 0;
}

/* Returns 0, -EINVAL (not plain digits of base 8 or 10) or -ERANGE (outside [min, max]). */
static int parse_uint(const char *s, unsigned base, unsigned min, unsigned max, unsigned *ret)
{
	uint64_t v = 0;
	size_t i;

	if (!s[0])
		return -EINVAL;
	for (i = 0; s[i]; i++)
		if (s[i] < '0' || s[i] >= (char)('0' + base))
			return -EINVAL;
	for (i = 0; s[i]; i++) {
		v = v * base + (uint64_t)(s[i] - '0');
		if (v > max)
			return -ERANGE;	/* stops before v can overflow */
	}
	if (v < min)
		return -ERANGE;
	*ret = (unsigned)v;
	return 0;
}

static int parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * Parses an events list. On -EINVAL sets *bad and *bad_len to the offending item (empty for an
 * empty item).
 */
static int parse_events(const char *list, uint64_t *ret, const char **bad, size_t *bad_len)
{
	uint64_t ev = 0;
	const char *p = list;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		uint64_t found = 0;
		size_t i;

		/* The aliases first: moved_from and moved_to name FAN_RENAME here. */
		for (i = 0; n > 0 && !found && i < sizeof(event_aliases) / sizeof(event_aliases[0]);
		     i++)
			if (strlen(event_aliases[i].name) == n &&
			    strncasecmp(event_aliases[i].name, p, n) == 0)
				found = event_aliases[i].bits;
		for (i = 0; n > 0 && !found && i < FAN_EVENT_NAMES_COUNT; i++)
			if ((fan_event_names[i].bit & CONFIG_EV_ALL) && fan_event_names[i].len == n &&
			    strncasecmp(fan_event_names[i].name, p, n) == 0)
				found = fan_event_names[i].bit;
		if (!found) {
			*bad = p;
			*bad_len = n;
			return -EINVAL;
		}
		ev |= found;
		if (!comma)
			break;
		p = comma + 1;
	}
	*ret = ev;
	return 0;
}

int config_parse_events(const char *list, uint64_t *ret_events)
{
	const char *bad;
	size_t bad_len;
	uint64_t ev;
	int r;

	if (!list)
		return -EINVAL;
	r = parse_events(list, &ev, &bad, &bad_len);
	if (r < 0)
		return r;
	*ret_events = ev;
	return 0;
}

static bool job_id_valid(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n > JOB_ID_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char ch = id[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

static int add_mark(struct config *c, enum config_mark_kind kind, const char *path,
		    const char *name, char *msg, size_t msg_len)
{
	struct config_mark *marks;
	char *dup;

	if (c->n_marks >= CONFIG_ITEMS_MAX) {
		set_msg(msg, msg_len, "%s: too many paths to watch (at most %d watch, mount and "
			"filesystem in all)", name, CONFIG_ITEMS_MAX);
		return -EINVAL;
	}
	dup = strdup(path);
	if (!dup)
		return -ENOMEM;
	marks = reallocarray(c->marks, c->n_marks + 1, sizeof(*marks));
	if (!marks) {
		free(dup);
		return -ENOMEM;
	}
	c->marks = marks;
	c->marks[c->n_marks].kind = kind;
	c->marks[c->n_marks].path = dup;
	c->n_marks++;
	return 0;
}

static int add_canary(struct config *c, const char *pattern, const char *name, char *msg,
		      size_t msg_len)
{
	char **canaries;
	char *dup;

	if (pattern[0] != '/') {
		/* Matched against absolute paths, and '*' does not cross '/' (FNM_PATHNAME):
		 * a relative pattern could never match. */
		set_msg(msg, msg_len,
			"%s: '%.*s' is not an absolute path pattern (start it with '/')", name,
			SHOW_MAX, pattern);
		return -EINVAL;
	}
	if (c->n_canaries >= CONFIG_CANARIES_MAX) {
		set_msg(msg, msg_len, "%s: too many canaries (at most %d)", name,
			CONFIG_CANARIES_MAX);
		return -EINVAL;
	}
	dup = strdup(pattern);
	if (!dup)
		return -ENOMEM;
	canaries = reallocarray(c->canaries, c->n_canaries + 1, sizeof(*canaries));
	if (!canaries) {
		free(dup);
		return -ENOMEM;
	}
	c->canaries = canaries;
	c->canaries[c->n_canaries++] = dup;
	return 0;
}

const char *config_cgroup_problem(const char *path)
{
	size_t i, start;

	/* As /proc/PID/cgroup names it: from the root of the hierarchy, and matched by
	 * components, so there is one spelling of each cgroup. */
	if (path[0] != '/')
		return "is not an absolute cgroup path (as /proc/PID/cgroup shows: "
		       "/jobs.slice/J.scope)";
	if (path[1] == '\0')
		return "is the root cgroup, which holds every process";
	for (i = 1, start = 1;; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		if (i == start)
			return "has an empty component ('//' or a trailing '/')";
		if ((i - start == 1 && path[start] == '.') ||
		    (i - start == 2 && path[start] == '.' && path[start + 1] == '.'))
			return "has a '.' or '..' component";
		if (i - start > CONFIG_CGROUP_NAME_MAX)
			return "has a component longer than 255 bytes";
		if (path[i] == '\0')
			return NULL;
		start = i + 1;
	}
}

static int add_job(struct config *c, const char *id, char *msg, size_t msg_len)
{
	struct config_job *jobs;
	char *dup;
	size_t i;

	if (!job_id_valid(id)) {
		set_msg(msg, msg_len, "job: invalid name '%.*s': use 1-%d of A-Z a-z 0-9 . _ -",
			SHOW_MAX, id, JOB_ID_MAX);
		return -EINVAL;
	}
	for (i = 0; i < c->n_jobs; i++) {
		if (c->jobs[i].id && strcmp(c->jobs[i].id, id) == 0) {
			set_msg(msg, msg_len, "job: '%s' defined twice", id);
			return -EINVAL;
		}
	}
	if (c->n_jobs >= CONFIG_ITEMS_MAX) {
		set_msg(msg, msg_len, "job: too many jobs (at most %d)", CONFIG_ITEMS_MAX);
		return -EINVAL;
	}
	dup = strdup(id);
	if (!dup)
		return -ENOMEM;
	jobs = reallocarray(c->jobs, c->n_jobs + 1, sizeof(*jobs));
	if (!jobs) {
		free(dup);
		return -ENOMEM;
	}
	c->jobs = jobs;
	memset(&c->jobs[c->n_jobs], 0, sizeof(c->jobs[0]));
	c->jobs[c->n_jobs].id = dup;
	c->n_jobs++;
	return 0;
}

/*
 * Applies one setting given by the command line or a config line. value is NULL for a
 * command-line flag (BOOL sets true, VERBOSE adds one). name ("--watch" or "watch") prefixes
 * messages. Jobs and roles are handled by the config file parser.
 */
static int apply(struct config *c, enum key_id id, const char *value, const char *name,
		 char *msg, size_t msg_len)
{
	const struct key_def *k = &keys[id];
	uint64_t ev;
	unsigned u;
	bool b;
	int r;

	if (value && !value[0]) {
		set_msg(msg, msg_len, "%s: empty value", name);
		return -EINVAL;
	}

	switch (k->kind) {
	case KIND_STRING:
		return set_string((char **)((char *)c + k->off), value);
	case KIND_MARK:
		return add_mark(c, (enum config_mark_kind)k->arg, value, name, msg, msg_len);
	case KIND_CANARY:
		return add_canary(c, value, name, msg, msg_len);
	case KIND_UINT:
		r = parse_uint(value, 10, k->min, k->max, &u);
		if (r == -ERANGE) {
			set_msg(msg, msg_len, "%s: %.*s is out of range (%u-%u)", name, SHOW_MAX,
				value, k->min, k->max);
			return -EINVAL;
		}
		if (r < 0) {
			set_msg(msg, msg_len, "%s: '%.*s' is not a number", name, SHOW_MAX, value);
			return -EINVAL;
		}
		*(unsigned *)((char *)c + k->off) = u;
		return 0;
	case KIND_MODE:
		r = parse_uint(value, 8, 0, k->min ? 07777 : k->max, &u);
		if (r < 0) {
			set_msg(msg, msg_len, "%s: '%.*s' is not an octal mode (0000-%04o)", name,
				SHOW_MAX, value, k->min ? 07777 : k->max);
			return -EINVAL;
		}
		if ((u & ~k->max) || (u & k->min) != k->min) {
			/* output_mode (the only key with a min): see CONFIG_OUTPUT_MODE_MAX. */
			set_msg(msg, msg_len, "%s: %04o is not allowed (within %04o with %04o set, "
				"as 0600 or 0640: nothing for others, no group write, the owner "
				"writes)", name, u, k->max, k->min);
			return -EINVAL;
		}
		*(mode_t *)((char *)c + k->off) = (mode_t)u;
		*(bool *)((char *)c + k->arg) = true;
		return 0;
	case KIND_BOOL:
		if (!value) {
			b = true;
		} else if (parse_bool(value, &b) < 0) {
			set_msg(msg, msg_len,
				"%s: '%.*s' is not a boolean (use 0/1, yes/no, true/false, on/off)",
				name, SHOW_MAX, value);
			return -EINVAL;
		}
		*(bool *)((char *)c + k->off) = b;
		return 0;
	case KIND_VERBOSE:
		if (!value) {
			if (c->verbose < VERBOSE_MAX)
				c->verbose++;
			return 0;
		}
		r = parse_uint(value, 10, 0, VERBOSE_MAX, &u);
		if (r < 0) {
			set_msg(msg, msg_len, "%s: '%.*s' is not a number from 0 to %d", name,
				SHOW_MAX, value, VERBOSE_MAX);
			return -EINVAL;
		}
		c->verbose = u;
		return 0;
	case KIND_EVENTS: {
		const char *bad;
		size_t bad_len;

		if (parse_events(value, &ev, &bad, &bad_len) < 0) {
			if (bad_len == 0)
				set_msg(msg, msg_len, "%s: empty item in '%.*s'", name, SHOW_MAX,
					value);
			else
				set_msg(msg, msg_len,
					"%s: unknown event '%.*s' (see --help for the names)", name,
					(int)(bad_len < SHOW_MAX ? bad_len : SHOW_MAX), bad);
			return -EINVAL;
		}
		c->events = ev;
		return 0;
	}
	case KIND_FORMAT:
		for (u = 0; u < sizeof(format_names) / sizeof(format_names[0]); u++) {
			if (strcmp(value, format_names[u]) == 0) {
				*(enum config_format *)((char *)c + k->off) = (enum config_format)u;
				return 0;
			}
		}
		set_msg(msg, msg_len, "%s: unknown format '%.*s' (jsonl or text)", name, SHOW_MAX,
			value);
		return -EINVAL;
	case KIND_SCOPES: {
		unsigned scopes = 0;
		const char *p = value;

		for (;;) {
			size_t n = strcspn(p, ",");

			for (u = 0; u < CONFIG_SCOPE_COUNT; u++)
				if (strlen(scope_names[u]) == n && memcmp(scope_names[u], p, n) == 0)
					break;
			if (u == CONFIG_SCOPE_COUNT) {
				set_msg(msg, msg_len, "%s: unknown scope '%.*s' (process, parent, "
					"session, uid, exe, cgroup, job)", name,
					(int)(n < SHOW_MAX ? n : SHOW_MAX), p);
				return -EINVAL;
			}
			scopes |= 1u << u;
			if (!p[n])
				break;
			p += n + 1;
		}
		*(unsigned *)((char *)c + k->off) = scopes;
		return 0;
	}
	case KIND_JOB:
	case KIND_ROLE:
	case KIND_CGROUP:
		break;
	}
	set_msg(msg, msg_len, "%s: not allowed here", name);
	return -EINVAL;
}

static int lookup_key(const char *key, size_t len)
{
	int i;

	for (i = 0; i < K_COUNT; i++)
		if (keys[i].key && strlen(keys[i].key) == len && memcmp(keys[i].key, key, len) == 0)
			return i;
	return -1;
}

/* A name as compared for suggestions: lower case, '-' as '_'. */
static char fold(char ch)
{
	if (ch == '-')
		return '_';
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/*
 * Edit distance (optimal string alignment: insert, delete, substitute, swap two neighbours)
 * between word (len bytes) and name, compared folded; stops counting at SUGGEST_MAX + 1.
 */
static unsigned distance(const char *word, size_t len, const char *name)
{
	unsigned row[3][SUGGEST_LEN_MAX + 1];
	size_t m = strlen(name), i, j;

	if (len > SUGGEST_LEN_MAX || m > SUGGEST_LEN_MAX)
		return SUGGEST_MAX + 1;
	for (j = 0; j <= m; j++)
		row[0][j] = (unsigned)j;
	for (i = 1; i <= len; i++) {
		unsigned *cur = row[i % 3], *prev = row[(i - 1) % 3], *prev2 = row[(i + 1) % 3];

		cur[0] = (unsigned)i;
		for (j = 1; j <= m; j++) {
			unsigned cost = fold(word[i - 1]) != fold(name[j - 1]);
			unsigned d = prev[j - 1] + cost;

			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (i > 1 && j > 1 && fold(word[i - 1]) == fold(name[j - 2]) &&
			    fold(word[i - 2]) == fold(name[j - 1]) && prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
		}
	}
	return row[len % 3][m];
}

/*
 * The setting a misspelt name (len bytes, a config key or a long option without its
 * dashes) most likely meant: the nearest config key or long option, folded, within an edit
 * distance of 1 for names of up to 5 bytes and 2 for longer ones (further than that the
 * guess is more often wrong than right). The first in table order wins a tie. Returns the
 * key id, or -1.
 */
static int suggest(const char *word, size_t len)
{
	unsigned best = SUGGEST_MAX + 1, limit = len <= 5 ? 1 : SUGGEST_MAX;
	int id = -1;

	for (int i = 0; i < K_COUNT; i++) {
		const char *names[2] = { keys[i].key, keys[i].opt };

		for (int n = 0; n < 2; n++) {
			unsigned d;

			if (!names[n])
				continue;
			d = distance(word, len, names[n]);
			if (d <= limit && d < best) {
				best = d;
				id = i;
			}
		}
	}
	return id;
}

/* "unknown key 'K'", with the key meant when one is near (see suggest()). */
static void unknown_key(const char *key, size_t len, char *msg, size_t msg_len)
{
	int shown = (int)(len < SHOW_MAX ? len : SHOW_MAX);
	int id = suggest(key, len);

	if (id < 0)
		set_msg(msg, msg_len, "unknown key '%.*s'", shown, key);
	else if (!keys[id].key)
		set_msg(msg, msg_len, "unknown key '%.*s' (--%s is a command-line option only)",
			shown, key, keys[id].opt);
	else
		set_msg(msg, msg_len, "unknown key '%.*s' (did you mean %s?)", shown, key,
			keys[id].key);
}

/* Parses one line (no line ending, no NUL, at most CONFIG_LINE_MAX bytes). */
static int parse_line(struct config *c, const char *p, size_t n, long *job, char *msg,
		      size_t msg_len)
{
	char value[CONFIG_LINE_MAX + 1];
	const struct key_def *k;
	size_t i = 0, ks, vs, ve, j;
	int id;

	while (i < n && is_blank(p[i]))
		i++;
	if (i == n || p[i] == '#')
		return 0;
	ks = i;
	while (i < n && !is_blank(p[i]) && p[i] != '=')
		i++;
	if (i == ks) {
		set_msg(msg, msg_len, "no key before '='");
		return -EINVAL;
	}
	id = lookup_key(p + ks, i - ks);
	if (id < 0) {
		unknown_key(p + ks, i - ks, msg, msg_len);
		return -EINVAL;
	}
	k = &keys[id];

	/* The separator: blanks, at most one '=', blanks. */
	while (i < n && is_blank(p[i]))
		i++;
	if (i < n && p[i] == '=')
		i++;
	while (i < n && is_blank(p[i]))
		i++;
	vs = i;
	ve = n;
	if (id != K_HOOK) {
		/* A '#' first or after a blank starts a comment (p[j - 1] is in the line). */
		for (j = vs; j < n; j++) {
			if (p[j] == '#' && (j == vs || is_blank(p[j - 1]))) {
				ve = j;
				break;
			}
		}
	}
	while (ve > vs && is_blank(p[ve - 1]))
		ve--;
	if (vs == ve) {
		set_msg(msg, msg_len, "%s: missing value", k->key);
		return -EINVAL;
	}
	if (p[vs] == '=') {
		set_msg(msg, msg_len, "%s: a value cannot start with '=' (one '=' may stand between "
			"key and value): '%.*s'", k->key, (int)(ve - vs < SHOW_MAX ? ve - vs : SHOW_MAX),
			p + vs);
		return -EINVAL;
	}
	memcpy(value, p + vs, ve - vs);
	value[ve - vs] = '\0';

	if (k->kind == KIND_UINT || k->kind == KIND_MODE || k->kind == KIND_BOOL ||
	    k->kind == KIND_VERBOSE || k->kind == KIND_SCOPES ||
	    k->kind == KIND_EVENTS || k->kind == KIND_FORMAT || k->kind == KIND_JOB) {
		char *extra = value + strcspn(value, " \t");

		if (*extra) {
			extra += strspn(extra, " \t");
			set_msg(msg, msg_len, "%s: unexpected extra value '%.*s'", k->key, SHOW_MAX,
				extra);
			return -EINVAL;
		}
	}

	if (k->kind == KIND_JOB) {
		int r = add_job(c, value, msg, msg_len);

		if (r == 0)
			*job = (long)c->n_jobs - 1;
		return r;
	}
	if (k->kind == KIND_ROLE) {
		struct config_job *jb;

		if (*job < 0) {
			set_msg(msg, msg_len, "%s: no job to belong to; put 'job NAME' before it",
				k->key);
			return -EINVAL;
		}
		jb = &c->jobs[*job];
		if (value[0] != '/') {
			/* policy.c compares it with absolute event paths: it would never match. */
			set_msg(msg, msg_len, "%s: '%.*s' is not an absolute path", k->key, SHOW_MAX,
				value);
			return -EINVAL;
		}
		if (jb->root[k->arg]) {
			set_msg(msg, msg_len, "%s: given twice for job '%s'", k->key, jb->id);
			return -EINVAL;
		}
		jb->root[k->arg] = strdup(value);
		return jb->root[k->arg] ? 0 : -ENOMEM;
	}
	if (k->kind == KIND_CGROUP) {
		struct config_job *jb;
		const char *why;

		if (*job < 0) {
			set_msg(msg, msg_len, "%s: no job to belong to; put 'job NAME' before it",
				k->key);
			return -EINVAL;
		}
		jb = &c->jobs[*job];
		why = config_cgroup_problem(value);
		if (why) {
			set_msg(msg, msg_len, "cgroup: '%.*s' %s", SHOW_MAX, value, why);
			return -EINVAL;
		}
		if (jb->cgroup) {
			set_msg(msg, msg_len, "cgroup: given twice for job '%s'", jb->id);
			return -EINVAL;
		}
		jb->cgroup = strdup(value);
		return jb->cgroup ? 0 : -ENOMEM;
	}
	return apply(c, (enum key_id)id, value, k->key, msg, msg_len);
}

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->burst_threshold = CONFIG_BURST_THRESHOLD_DEFAULT;
	c->burst_window_ms = CONFIG_BURST_WINDOW_MS_DEFAULT;
	c->burst_scopes = CONFIG_SCOPES_DEFAULT;
	c->hook_cooldown_ms = CONFIG_HOOK_COOLDOWN_MS_DEFAULT;
	c->hook_timeout_ms = CONFIG_HOOK_TIMEOUT_MS_DEFAULT;
	c->hook_max = CONFIG_HOOK_MAX_DEFAULT;
	c->spin_us = CONFIG_SPIN_US_DEFAULT;
	c->exec_hold_ms = CONFIG_EXEC_HOLD_MS_DEFAULT;
	c->quarantine_ms = CONFIG_QUARANTINE_MS_UNSET;
	c->socket_buffer_kb = CONFIG_SOCKET_BUFFER_KB_DEFAULT;
	c->socket_max_clients = CONFIG_SOCKET_MAX_CLIENTS_DEFAULT;
	c->socket_mode = CONFIG_SOCKET_MODE_DEFAULT;
	c->events = CONFIG_EV_DEFAULT;
}

void config_free(struct config *c)
{
	size_t i;
	int role;

	if (!c)
		return;
	free(c->output);
	free(c->socket);
	free(c->hook);
	free(c->hook_user);
	free(c->pid_file);
	free(c->prometheus_file);
	free(c->socket_group);
	free(c->output_group);
	free(c->subscribe);
	free(c->replay);
	free(c->sweep);
	free(c->config_file);
	for (i = 0; c->marks && i < c->n_marks; i++)
		free(c->marks[i].path);
	free(c->marks);
	for (i = 0; c->canaries && i < c->n_canaries; i++)
		free(c->canaries[i]);
	free(c->canaries);
	for (i = 0; c->jobs && i < c->n_jobs; i++) {
		free(c->jobs[i].id);
		for (role = 0; role < CONFIG_ROLE_COUNT; role++)
			free(c->jobs[i].root[role]);
		free(c->jobs[i].cgroup);
	}
	free(c->jobs);
	memset(c, 0, sizeof(*c));
}

int config_parse_text(struct config *c, const char *text, size_t len, unsigned *ret_line,
		      char *msgbuf, size_t msgbuf_len)
{
	const char *p = text, *end;
	unsigned line = 0;
	long job = -1;	/* index of the job opened by this text; roles need one */
	int r;

	if (len == 0)
		return 0;
	end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);

		line++;
		if (memchr(p, '\0', n)) {
			set_msg(msgbuf, msgbuf_len, "NUL byte in line");
			r = -EINVAL;
			goto fail;
		}
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (memchr(p, '\r', n)) {
			set_msg(msgbuf, msgbuf_len, "CR byte in line (allowed only just before the newline)");
			r = -EINVAL;
			goto fail;
		}
		if (n > CONFIG_LINE_MAX) {
			set_msg(msgbuf, msgbuf_len, "line too long (more than %d bytes)",
				CONFIG_LINE_MAX);
			r = -EINVAL;
			goto fail;
		}
		r = parse_line(c, p, n, &job, msgbuf, msgbuf_len);
		if (r < 0)
			goto fail;
		p = nl ? nl + 1 : end;
	}
	return 0;

fail:
	if (r == -ENOMEM)
		set_msg(msgbuf, msgbuf_len, "out of memory");
	if (ret_line)
		*ret_line = line;
	return r;
}

int config_load_file(struct config *c, const char *file, char *msgbuf, size_t msgbuf_len)
{
	char msg[512];
	char *buf = NULL;
	size_t len = 0;
	unsigned line = 0;
	struct stat st;
	int fd = -1, r;

	/* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		goto fail_errno;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto fail_errno;
	}
	if (!S_ISREG(st.st_mode)) {
		set_msg(msgbuf, msgbuf_len, "%s: not a regular file", file);
		r = -EINVAL;
		goto out;
	}
	/* One byte more than the limit, to see a file that grew past it after fstat. */
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf) {
		r = -ENOMEM;
		goto fail_errno;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, CONFIG_FILE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto fail_errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CONFIG_FILE_MAX) {
			set_msg(msgbuf, msgbuf_len, "%s: file too large (more than %d bytes)", file,
				CONFIG_FILE_MAX);
			r = -EFBIG;
			goto out;
		}
	}
	r = config_parse_text(c, buf, len, &line, msg, sizeof(msg));
	if (r < 0)
		set_msg(msgbuf, msgbuf_len, "%s:%u: %s", file, line, msg);
	goto out;

fail_errno:
	set_msg(msgbuf, msgbuf_len, "%s: %s", file, strerror(-r));
out:
	free(buf);
	if (fd >= 0)
		(void)close(fd);	/* read-only: nothing to lose */
	return r;
}

/* Maps a getopt_long return value or optopt to a key id, or -1. */
static int opt_to_id(int val)
{
	int i;

	if (val >= OPT_BASE && val < OPT_BASE + K_COUNT)
		return val - OPT_BASE;
	for (i = 0; val > 0 && i < K_COUNT; i++)
		if (keys[i].short_opt == val)
			return i;
	return -1;
}

int config_parse_args(struct config *c, int argc, char **argv, char *msgbuf, size_t msgbuf_len)
{
	struct option opts[K_COUNT + 1];
	/* "+:" (stop at the first non-option, report missing values as ':'), 2 per short. */
	char optstring[2 + 2 * K_COUNT + 1];
	char name[40];
	size_t n_opts = 0, n_str = 0;
	int i, o, id, r;

	memset(opts, 0, sizeof(opts));
	optstring[n_str++] = '+';
	optstring[n_str++] = ':';
	for (i = 0; i < K_COUNT; i++) {
		if (!keys[i].opt)
			continue;
		opts[n_opts].name = keys[i].opt;
		opts[n_opts].has_arg = kind_takes_arg(keys[i].kind) ? required_argument :
								      no_argument;
		opts[n_opts].val = OPT_BASE + i;
		n_opts++;
		if (keys[i].short_opt) {
			optstring[n_str++] = keys[i].short_opt;
			if (kind_takes_arg(keys[i].kind))
				optstring[n_str++] = ':';
		}
	}
	optstring[n_str] = '\0';

	/* optind = 0 makes glibc start over, so argv can be parsed more than once. */
	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
		if (o == ':') {
			id = opt_to_id(optopt);
			if (id < 0) {
				set_msg(msgbuf, msgbuf_len, "option needs a value");
			} else {
				set_msg(msgbuf, msgbuf_len, "--%s: missing value", keys[id].opt);
			}
			return -EINVAL;
		}
		if (o == '?') {
			id = opt_to_id(optopt);
			if (id >= 0) {
				/* glibc sets optopt to a known option's val for "--flag=value". */
				set_msg(msgbuf, msgbuf_len, "--%s: takes no value", keys[id].opt);
			} else if (optopt > 0 && optopt < OPT_BASE) {
				set_msg(msgbuf, msgbuf_len, "unknown option '-%c'", optopt);
			} else {
				const char *arg = "";
				size_t len;

				if (optind > 0 && optind <= argc)
					arg = argv[optind - 1];
				len = strcspn(arg, "=");
				id = strncmp(arg, "--", 2) == 0 ? suggest(arg + 2, len - 2) : -1;
				if (id >= 0 && keys[id].opt)
					set_msg(msgbuf, msgbuf_len, "unknown or ambiguous option "
						"'%.*s' (did you mean --%s?)", (int)len, arg,
						keys[id].opt);
				else if (id >= 0)
					set_msg(msgbuf, msgbuf_len, "unknown or ambiguous option "
						"'%.*s' (%s is a config file key only)", (int)len,
						arg, keys[id].key);
				else
					set_msg(msgbuf, msgbuf_len, "unknown or ambiguous option '%.*s'",
						(int)len, arg);
			}
			return -EINVAL;
		}
		id = opt_to_id(o);
		if (id < 0) {
			set_msg(msgbuf, msgbuf_len, "unexpected option");
			return -EINVAL;
		}
		(void)snprintf(name, sizeof(name), "--%s", keys[id].opt);
		r = apply(c, (enum key_id)id, kind_takes_arg(keys[id].kind) ? optarg : NULL, name,
			  msgbuf, msgbuf_len);
		if (r < 0) {
			if (r == -ENOMEM)
				set_msg(msgbuf, msgbuf_len, "out of memory");
			return r;
		}
	}
	if (optind < argc) {
		set_msg(msgbuf, msgbuf_len, "unexpected argument '%.*s'", SHOW_MAX, argv[optind]);
		return -EINVAL;
	}
	return 0;
}

int config_from_args(struct config *c, int argc, char **argv, char *msgbuf, size_t msgbuf_len)
{
	struct config pre;
	int r;

	/*
	 * A first full parse finds -c/--config the way getopt will (-cF, --config=F, after
	 * -- or as the value of another option) and reports command-line errors before any
	 * file is read. The file goes in first so that the second parse overrides it.
	 */
	config_init(&pre);
	r = config_parse_args(&pre, argc, argv, msgbuf, msgbuf_len);
	if (r < 0)
		goto out;
	/* --help and --version work whatever state the config file is in. */
	if (pre.config_file && !pre.help && !pre.version) {
		char msg[512];

		r = config_load_file(c, pre.config_file, msg, sizeof(msg));
		if (r < 0) {
			set_msg(msgbuf, msgbuf_len, "failed to load config %s", msg);
			goto out;
		}
	}
	r = config_parse_args(c, argc, argv, msgbuf, msgbuf_len);
	if (r < 0)
		goto out;
	if (c->quarantine_ms == CONFIG_QUARANTINE_MS_UNSET)
		c->quarantine_ms = c->burst_window_ms;
	/* A file nothing rewrites would show one moment's counters forever. */
	if (c->prometheus_file && !c->stats_interval_ms)
		c->stats_interval_ms = CONFIG_PROM_INTERVAL_MS;
	r = config_validate(c, msgbuf, msgbuf_len);
out:
	config_free(&pre);
	return r;
}

int config_validate(const struct config *c, char *msgbuf, size_t msgbuf_len)
{
	size_t i;
	int role;

	if (c->help || c->version || c->subscribe)
		return 0;
	if (c->sweep && !c->replay) {
		set_msg(msgbuf, msgbuf_len, "--sweep needs --replay");
		return -EINVAL;
	}
	/* A replay marks nothing: the marks of a config it shares with the daemon are
	 * ignored, and none are needed. */
	if (c->n_marks == 0 && !c->replay) {
		set_msg(msgbuf, msgbuf_len,
			"no path to watch: give --watch, --mount or --filesystem");
		return -EINVAL;
	}
	if (c->deny_on_alert && !c->perm) {
		set_msg(msgbuf, msgbuf_len, "--deny-on-alert (deny_on_alert) needs --perm (perm)");
		return -EINVAL;
	}
	if (c->access_perm && !c->perm) {
		set_msg(msgbuf, msgbuf_len, "--access-perm (access_perm) needs --perm (perm)");
		return -EINVAL;
	}
	if (c->allow_cache && (!c->perm || c->no_fid)) {
		set_msg(msgbuf, msgbuf_len,
			"--allow-cache (allow_cache) needs --perm (perm) without --no-fid (no_fid)");
		return -EINVAL;
	}
	/* The cache is dropped with FAN_MARK_FLUSH, which would drop inode marks too. */
	for (i = 0; c->allow_cache && i < c->n_marks; i++) {
		if (c->marks[i].kind == CONFIG_MARK_INODE) {
			set_msg(msgbuf, msgbuf_len,
				"--allow-cache (allow_cache) works with --mount and --filesystem "
				"marks only, not with --watch %s",
				c->marks[i].path);
			return -EINVAL;
		}
	}
	for (i = 0; i < c->n_jobs; i++) {
		for (role = 0; role < CONFIG_ROLE_COUNT; role++)
			if (c->jobs[i].root[role])
				break;
		if (role == CONFIG_ROLE_COUNT && !c->jobs[i].cgroup) {
			set_msg(msgbuf, msgbuf_len,
				"job '%s' has no rootfs, workspace, export, cache or cgroup",
				c->jobs[i].id ? c->jobs[i].id : "");
			return -EINVAL;
		}
		/* A process is in one cgroup: it can belong to one job only. */
		for (size_t j = 0; c->jobs[i].cgroup && j < i; j++) {
			if (c->jobs[j].cgroup && strcmp(c->jobs[j].cgroup, c->jobs[i].cgroup) == 0) {
				set_msg(msgbuf, msgbuf_len, "jobs '%s' and '%s' have the same cgroup %s",
					c->jobs[j].id ? c->jobs[j].id : "",
					c->jobs[i].id ? c->jobs[i].id : "", c->jobs[i].cgroup);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* Whether "key value" reads back as value (see the syntax at the top of this file). */
static bool representable(const char *key, const char *value, bool verbatim)
{
	size_t i, n = strlen(value);

	if (n == 0 || is_blank(value[0]) || is_blank(value[n - 1]))
		return false;
	if (strlen(key) + 1 + n > CONFIG_LINE_MAX)
		return false;
	if ((!verbatim && value[0] == '#') || value[0] == '=')
		return false;
	for (i = 0; i < n; i++) {
		if (value[i] == '\n' || value[i] == '\r')
			return false;
		if (!verbatim && value[i] == '#' && is_blank(value[i - 1]))
			return false;
	}
	return true;
}

static void dump_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '\\' || ch == '"')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\r')
			fputs("\\r", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
}

/* Writes "key value", or a comment naming the value when the syntax cannot carry it. */
static void dump_pair(FILE *f, const char *key, const char *value, bool comment_out)
{
	if (!comment_out && representable(key, value, strcmp(key, "hook") == 0)) {
		fprintf(f, "%s %s\n", key, value);
		return;
	}
	fprintf(f, "# %s \"", key);
	dump_escaped(f, value);
	fputs("\" (cannot be written in a config file)\n", f);
}

/* An event bit's name from fan_event_names, in lower case as --events takes it. */
static void dump_event_name(FILE *f, uint64_t bit)
{
	for (size_t i = 0; i < FAN_EVENT_NAMES_COUNT; i++) {
		if (fan_event_names[i].bit != bit)
			continue;
		for (const char *p = fan_event_names[i].name; *p; p++)
			fputc(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p, f);
		return;
	}
}

char *config_dump(const struct config *c)
{
	static const enum key_id strings[] = {
		K_OUTPUT, K_OUTPUT_MODE, K_OUTPUT_GROUP, K_SOCKET,   K_SOCKET_MODE,
		K_SOCKET_GROUP, K_HOOK,	     K_HOOK_USER,    K_PID_FILE, K_PROMETHEUS_FILE,
	};
	static const enum key_id scalars[] = {
		K_FOREGROUND,	   K_PERM,	       K_DENY_ON_ALERT,	   K_NO_FID,
		K_ACCESS_PERM,	   K_BURST_THRESHOLD, K_BURST_WINDOW_MS, K_HOOK_COOLDOWN_MS,
		K_HOOK_TIMEOUT_MS, K_HOOK_MAX,	       K_SOCKET_BUFFER_KB, K_SOCKET_MAX_CLIENTS,
		K_SPIN_US,	   K_ALLOW_CACHE,      K_STATS_INTERVAL_MS, K_RECORD_HOST,
		K_EXEC_HOLD_MS,
	};
	static const char *const mark_keys[] = {
		[CONFIG_MARK_INODE] = "watch",
		[CONFIG_MARK_MOUNT] = "mount",
		[CONFIG_MARK_FILESYSTEM] = "filesystem",
	};
	char *buf = NULL;
	size_t len = 0, i;
	bool first;
	FILE *f;
	int role;

	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;

	fputs("# fanotifyd " CONFIG_VERSION " effective configuration\n", f);
	if (c->config_file) {
		fputs("# config file: \"", f);
		dump_escaped(f, c->config_file);
		fputs("\"\n", f);
	}

	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		const struct key_def *k = &keys[strings[i]];
		const char *v;

		if (k->kind == KIND_MODE) {
			if (*(const bool *)((const char *)c + k->arg))
				fprintf(f, "%s %04o\n", k->key,
					(unsigned)*(const mode_t *)((const char *)c + k->off));
			else
				fprintf(f, "# %s (not set)\n", k->key);
			continue;
		}
		v = *(char *const *)((const char *)c + k->off);
		if (v)
			dump_pair(f, k->key, v, false);
		else
			fprintf(f, "# %s (not set)\n", k->key);
	}
	for (i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
		const struct key_def *k = &keys[scalars[i]];
		const char *p = (const char *)c + k->off;

		if (k->kind == KIND_BOOL)
			fprintf(f, "%s %d\n", k->key, *(const bool *)p ? 1 : 0);
		else
			fprintf(f, "%s %u\n", k->key, *(const unsigned *)p);
	}
	if (c->quarantine_ms == CONFIG_QUARANTINE_MS_UNSET)
		fputs("# quarantine_ms (not set: the burst window)\n", f);
	else
		fprintf(f, "quarantine_ms %u\n", c->quarantine_ms);
	fputs("burst_scope ", f);
	first = true;
	for (i = 0; i < CONFIG_SCOPE_COUNT; i++) {
		if (!(c->burst_scopes & (1u << i)))
			continue;
		fprintf(f, "%s%s", first ? "" : ",", scope_names[i]);
		first = false;
	}
	fputs(first ? "process\n" : "\n", f);
	for (i = 0; i < CONFIG_SCOPE_COUNT; i++) {
		if (c->burst_threshold_scope[i] == 0)
			fprintf(f, "# burst_threshold_%s (not set: burst_threshold)\n",
				scope_names[i]);
		else
			fprintf(f, "burst_threshold_%s %u\n", scope_names[i],
				c->burst_threshold_scope[i]);
		if (c->burst_window_ms_scope[i] == 0)
			fprintf(f, "# burst_window_ms_%s (not set: burst_window_ms)\n",
				scope_names[i]);
		else
			fprintf(f, "burst_window_ms_%s %u\n", scope_names[i],
				c->burst_window_ms_scope[i]);
	}
	fprintf(f, "verbose %u\n", c->verbose);
	fprintf(f, "format %s\n", config_format_name(c->format));

	if (c->events & CONFIG_EV_ALL) {
		fputs("events ", f);
		first = true;
		for (i = 0; i < sizeof(event_order) / sizeof(event_order[0]); i++) {
			if (!(c->events & event_order[i]))
				continue;
			if (!first)
				fputc(',', f);
			dump_event_name(f, event_order[i]);
			first = false;
		}
		fputc('\n', f);
	} else {
		fputs("# events (none)\n", f);
	}

	for (i = 0; i < c->n_marks; i++) {
		const struct config_mark *m = &c->marks[i];
		const char *key = (unsigned)m->kind <= CONFIG_MARK_FILESYSTEM ?
					  mark_keys[m->kind] : "watch";

		dump_pair(f, key, m->path ? m->path : "", false);
	}
	for (i = 0; i < c->n_canaries; i++)
		dump_pair(f, "canary", c->canaries[i] ? c->canaries[i] : "", false);

	for (i = 0; i < c->n_jobs; i++) {
		const struct config_job *jb = &c->jobs[i];
		/* A job line that cannot be read back takes its roles with it. */
		bool bad = !jb->id || !job_id_valid(jb->id);

		fputc('\n', f);
		dump_pair(f, "job", jb->id ? jb->id : "", bad);
		for (role = 0; role < CONFIG_ROLE_COUNT; role++)
			if (jb->root[role])
				dump_pair(f, role_names[role], jb->root[role], bad);
		if (jb->cgroup)
			dump_pair(f, "cgroup", jb->cgroup, bad);
	}

	if (ferror(f)) {
		(void)fclose(f);
		free(buf);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

const char *config_usage(void)
{
	return usage_text;
}

const char *config_format_name(enum config_format format)
{
	if ((unsigned)format >= sizeof(format_names) / sizeof(format_names[0]))
		return "jsonl";
	return format_names[format];
}

const char *config_scope_name(enum config_scope scope)
{
	if ((unsigned)scope >= CONFIG_SCOPE_COUNT)
		return NULL;
	return scope_names[scope];
}

const char *config_role_name(enum config_role role)
{
	if ((unsigned)role >= CONFIG_ROLE_COUNT)
		return NULL;
	return role_names[role];
}
