/*
 * hook.c - owns the running hook processes and /dev/null for their stdin.
 *
 * Hooks are separate processes, observed like any other, so nothing here may wait for one:
 * fork() (not vfork or posix_spawn, whose parent waits until the child has exec'd — an exec
 * on a permission-marked filesystem would then wait for an answer only we can give), exec
 * in the child, reap on SIGCHLD, kill at the deadline. Alert values reach the hook only
 * through FAN_* environment variables; the command string is the configured one, untouched.
 *
 * The child of a threaded process may only make async-signal-safe calls before exec: the
 * environment is built before fork().
 *
 * A hook's stdout and stderr are a pipe of ours, drained by the loop into the log (rate
 * limited): never the daemon's stderr, which a stalled reader could fill, and a hook that
 * writes a lot waits for the pipe, never the daemon for the hook.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"
#include "hook.h"
#include "log.h"
#include "record.h"

int hook_init(struct hook *h, const char *cmd, unsigned max_running, unsigned timeout_ms)
{
	int p[2];

	memset(h, 0, sizeof(*h));
	h->null_fd = h->out_rfd = h->out_wfd = -1;
	h->cmd = cmd;
	h->max_running = max_running > HOOK_RUNNING_CAP ? HOOK_RUNNING_CAP : max_running;
	h->timeout_ms = timeout_ms;
	if (!cmd)
		return 0;
	h->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (h->null_fd < 0)
		return -errno;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	h->out_rfd = p[0];
	h->out_wfd = p[1];
	/* Only our end is non-blocking: a hook that writes faster than we read waits. */
	if (fcntl(h->out_rfd, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static int env_add(char **env, int *n, const char *name, const char *value)
{
	if (!value)
		return 0;
	if (asprintf(&env[*n], "%s=%s", name, value) < 0) {
		env[*n] = NULL;
		return -ENOMEM;
	}
	(*n)++;
	env[*n] = NULL;
	return 0;
}

int hook_env_build(const struct alert *a, char **env)
{
	char pid[24], count[24], window[24], scope_id[24];
	const char *comm = a->proc ? a->proc->comm : NULL, *exe = a->proc ? a->proc->exe : NULL;
	int n = 0;

	env[0] = NULL;
	snprintf(pid, sizeof(pid), "%d", (int)a->pid);
	snprintf(count, sizeof(count), "%u", a->count);
	snprintf(window, sizeof(window), "%u", a->window_ms);
	snprintf(scope_id, sizeof(scope_id), "%lld", (long long)a->scope_id);
	if (env_add(env, &n, "PATH", HOOK_PATH) ||
	    env_add(env, &n, "FAN_KIND", record_alert_kind_name(a->kind)) ||
	    env_add(env, &n, "FAN_PID", pid) || env_add(env, &n, "FAN_COMM", comm) ||
	    env_add(env, &n, "FAN_EXE", exe) ||
	    env_add(env, &n, "FAN_PATH", a->path) || env_add(env, &n, "FAN_REASON", a->reason) ||
	    env_add(env, &n, "FAN_JOB_ID", a->job_id) ||
	    env_add(env, &n, "FAN_PATH_ROLE", a->path_role) ||
	    (a->kind == ALERT_BURST && (env_add(env, &n, "FAN_COUNT", count) ||
					env_add(env, &n, "FAN_WINDOW_MS", window) ||
					env_add(env, &n, "FAN_SCOPE", a->scope) ||
					(a->scope &&
					 env_add(env, &n, "FAN_SCOPE_ID",
						 a->scope_id_str ? a->scope_id_str : scope_id))))) {
		hook_env_free(env);
		return -ENOMEM;
	}
	return n;
}

/* An executable regular file (access(2) as the daemon, which is who runs it). */
static int executable(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	return access(path, X_OK) < 0 ? -errno : 0;
}

int hook_check(const char *cmd, char *msg, size_t msg_len)
{
	/* What sh runs without looking in PATH (POSIX builtins and reserved words). */
	static const char *const builtins[] = {
		".", ":", "[", "alias", "bg", "break", "case", "cd", "command", "continue",
		"echo", "eval", "exec", "exit", "export", "false", "fg", "for", "getopts", "hash",
		"if", "jobs", "kill", "local", "printf", "pwd", "read", "readonly", "return",
		"set", "shift", "test", "times", "trap", "true", "type", "ulimit", "umask",
		"unalias", "unset", "until", "wait", "while", "!",
	};
	char word[PATH_MAX], path[PATH_MAX];
	size_t n;
	int r;

	r = executable(HOOK_SHELL);
	if (r < 0) {
		snprintf(msg, msg_len, "hook: %s: %s", HOOK_SHELL, strerror(-r));
		return r;
	}
	cmd += strspn(cmd, " \t");
	n = strcspn(cmd, " \t");
	if (n == 0 || n >= sizeof(word) || strcspn(cmd, "\n;&|<>()$`'\"\\*?[]{}~=#") < n)
		return 0;
	memcpy(word, cmd, n);
	word[n] = '\0';
	if (strchr(word, '/')) {
		r = executable(word);
		if (r < 0)
			snprintf(msg, msg_len, "hook: %s: %s", word, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strcmp(word, builtins[i]) == 0)
			return 0;
	for (const char *dir = HOOK_PATH; *dir;) {
		size_t len = strcspn(dir, ":");

		if ((size_t)snprintf(path, sizeof(path), "%.*s/%s", (int)len, dir, word) <
			    sizeof(path) &&
		    executable(path) == 0)
			return 0;
		dir += len + (dir[len] == ':');
	}
	snprintf(msg, msg_len, "hook: %s: no such command in the hooks' PATH (%s)", word,
		 HOOK_PATH);
	return -ENOENT;
}

void hook_env_free(char **env)
{
	for (int i = 0; env[i]; i++)
		free(env[i]);
	env[0] = NULL;
}

static struct hook_child *slot_free(struct hook *h)
{
	for (unsigned i = 0; i < h->max_running; i++)
		if (!h->running[i].pid)
			return &h->running[i];
	return NULL;
}

/* Whether pid is a running hook, its child, or in a hook's process group. A hook that
 * leaves its group and forks again escapes this; hooks are the operator's own code. */
static bool hook_own(const struct hook *h, pid_t pid, pid_t ppid)
{
	pid_t pgid = pid > 0 ? getpgid(pid) : -1; /* -1 (ESRCH) once it is gone */

	for (unsigned i = 0; i < HOOK_RUNNING_CAP; i++) {
		pid_t hp = h->running[i].pid;

		if (hp && (pid == hp || ppid == hp || pgid == hp))
			return true;
	}
	/* Our own child: a hook that has exited and been reaped already. */
	return ppid > 0 && ppid == getpid();
}

int hook_run(struct hook *h, const struct alert *a, uint64_t now_ms)
{
	char *env[HOOK_ENV_MAX + 1];
	char *argv[] = { "sh", "-c", (char *)h->cmd, NULL };
	pid_t ppid = a->proc && a->proc->ppid_known ? a->proc->ppid : 0;
	struct hook_child *c;
	pid_t pid;
	int r;

	if (!h->cmd)
		return 0;
	if (hook_own(h, a->pid, ppid)) {
		h->own++;
		log_rl(LOG_LEVEL_INFO, "hook: not run for a %s alert raised by a hook (pid %d)",
		       record_alert_kind_name(a->kind), (int)a->pid);
		return 0;
	}
	c = slot_free(h);
	if (!c) {
		h->dropped++;
		log_rl(LOG_LEVEL_WARN, "hook: %u already running, not run for this %s alert",
		       h->n_running, record_alert_kind_name(a->kind));
		return -EBUSY;
	}
	r = hook_env_build(a, env);
	if (r < 0)
		return r;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		hook_env_free(env);
		h->failed++;
		log_rl_errno(LOG_LEVEL_WARN, r, "hook: fork failed");
		return r;
	}
	if (pid == 0) {
		sigset_t none;
		struct sigaction dfl = { .sa_handler = SIG_DFL };

		/* Async-signal-safe calls only. Undo what the daemon set for itself. */
		sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		/* Every signal back to its default, whatever was ignored where we started. */
		for (int sig = 1; sig < NSIG; sig++)
			(void)sigaction(sig, &dfl, NULL); /* EINVAL for SIGKILL/SIGSTOP */
		(void)setpgid(0, 0); /* its own group, so the timeout kills its children too */
		/* Not the daemon's nice -4 and short slice: a hook is ordinary work. */
		(void)sched_set_fair(0, 0);
		if (dup2(h->null_fd, STDIN_FILENO) < 0 || dup2(h->out_wfd, STDOUT_FILENO) < 0 ||
		    dup2(h->out_wfd, STDERR_FILENO) < 0)
			_exit(127);
		closefrom(STDERR_FILENO + 1);
		if (h->before_exec && h->before_exec(h->before_exec_arg) < 0)
			_exit(127);
		execve(HOOK_SHELL, argv, env);
		_exit(127);
	}
	hook_env_free(env);
	/* Also from the parent: the group must exist before a timeout can signal it. */
	(void)setpgid(pid, pid); /* EACCES once the child has exec'd: it did it itself */
	c->pid = pid;
	c->deadline_ms = now_ms + h->timeout_ms;
	c->killed = false;
	h->n_running++;
	h->started++;
	return 0;
}

static void line_flush(struct hook *h)
{
	if (h->line_len)
		log_rl_hook(LOG_LEVEL_NOTICE, "hook: %.*s", (int)h->line_len, h->line);
	h->line_len = 0;
}

void hook_drain(struct hook *h)
{
	char buf[4096];
	size_t total = 0;

	while (h->out_rfd >= 0 && total < HOOK_DRAIN_MAX) {
		ssize_t n = read(h->out_rfd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* EAGAIN: drained (our write end keeps it from EOF) */
		total += (size_t)n;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				line_flush(h);
			} else if (h->line_len < sizeof(h->line)) {
				/* A long line keeps its first HOOK_LINE_MAX bytes. */
				h->line[h->line_len++] = buf[i];
			}
		}
	}
}

void hook_reap(struct hook *h)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid <= 0)
			return;
		for (unsigned i = 0; i < HOOK_RUNNING_CAP; i++) {
			struct hook_child *c = &h->running[i];

			if (c->pid != pid)
				continue;
			if (c->killed)
				log_rl(LOG_LEVEL_WARN, "hook %d killed at its %u ms timeout", (int)pid,
				       h->timeout_ms);
			else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				h->failed++;
				if (WIFEXITED(status))
					log_rl(LOG_LEVEL_WARN, "hook %d exited with status %d",
					       (int)pid, WEXITSTATUS(status));
				else
					log_rl(LOG_LEVEL_WARN, "hook %d killed by signal %d",
					       (int)pid, WTERMSIG(status));
			}
			c->pid = 0;
			h->n_running--;
			break;
		}
	}
}

void hook_expire(struct hook *h, uint64_t now_ms)
{
	for (unsigned i = 0; i < HOOK_RUNNING_CAP; i++) {
		struct hook_child *c = &h->running[i];

		if (!c->pid || c->killed || now_ms < c->deadline_ms)
			continue;
		(void)kill(-c->pid, SIGKILL); /* ESRCH: the group is gone already */
		(void)kill(c->pid, SIGKILL);
		c->killed = true;
		h->killed++;
	}
}

int hook_next_timeout_ms(const struct hook *h, uint64_t now_ms)
{
	int best = -1;

	for (unsigned i = 0; i < HOOK_RUNNING_CAP; i++) {
		const struct hook_child *c = &h->running[i];
		int left;

		if (!c->pid || c->killed)
			continue;
		left = c->deadline_ms > now_ms ? (int)(c->deadline_ms - now_ms) : 0;
		if (best < 0 || left < best)
			best = left;
	}
	return best;
}

void hook_configure(struct hook *h, const char *cmd, unsigned max_running, unsigned timeout_ms)
{
	/* Reaping and expiry look at every slot, so a smaller max_running strands none. */
	h->cmd = h->null_fd >= 0 ? cmd : NULL;
	h->max_running = max_running > HOOK_RUNNING_CAP ? HOOK_RUNNING_CAP : max_running;
	h->timeout_ms = timeout_ms;
}

void hook_stats(const struct hook *h, struct stats *s)
{
	s->hooks_started = h->started;
	s->hooks_dropped = h->dropped;
	s->hooks_killed = h->killed;
	s->hooks_failed = h->failed;
	s->hooks_own = h->own;
}

void hook_close(struct hook *h)
{
	for (unsigned i = 0; i < HOOK_RUNNING_CAP; i++) {
		struct hook_child *c = &h->running[i];

		if (!c->pid)
			continue;
		(void)kill(-c->pid, SIGKILL);
		(void)kill(c->pid, SIGKILL);
		(void)waitpid(c->pid, NULL, 0); /* SIGKILLed: returns at once */
		c->pid = 0;
	}
	h->n_running = 0;
	if (h->out_rfd >= 0) {
		hook_drain(h);
		line_flush(h);
	}
	/* Descriptors without buffered data of ours: nothing to report on close. */
	if (h->null_fd >= 0)
		(void)close(h->null_fd);
	if (h->out_rfd >= 0)
		(void)close(h->out_rfd);
	if (h->out_wfd >= 0)
		(void)close(h->out_wfd);
	h->null_fd = h->out_rfd = h->out_wfd = -1;
}
