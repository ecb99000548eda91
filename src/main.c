/*
 * main.c - start-up and shutdown order, and the event loop. The only file that sees every
 * module and the only one that calls exit().
 *
 * Start-up order matters: everything the daemon will ever open on a watched filesystem
 * (config, output file, pid file) is opened before the first mark is placed, because after
 * that an open of ours on a permission-marked filesystem would wait for our own answer.
 * A daemonizing parent exits 0 only once the marks are in place.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"
#include "daemon.h"
#include "fdio.h"
#include "hash.h"
#include "log.h"
#include "loop.h"
#include "now.h"
#include "nss.h"
#include "reload.h"
#include "replay.h"
#include "subscribe.h"

#define EXIT_CONFIG 2

static char *absolute(const char *path)
{
	char cwd[PATH_MAX];
	char *out;

	if (path[0] == '/' || strcmp(path, "-") == 0)
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	if (asprintf(&out, "%s/%s", cwd, path) < 0)
		return NULL;
	return out;
}

/* Makes every path absolute before a daemon changes directory to /. */
static int absolutize(struct config *c)
{
	char **fields[] = { &c->output, &c->pid_file, &c->socket, &c->prometheus_file };

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		char *p;

		if (!*fields[i])
			continue;
		p = absolute(*fields[i]);
		if (!p)
			return -ENOMEM;
		free(*fields[i]);
		*fields[i] = p;
	}
	for (size_t i = 0; i < c->n_marks; i++) {
		char *p = realpath(c->marks[i].path, NULL);

		if (!p) {
			if (errno == ENOMEM)
				return -ENOMEM;
			continue; /* fan_open() reports the missing path with its reason */
		}
		free(c->marks[i].path);
		c->marks[i].path = p;
	}
	return 0;
}

/* The pid file is written under a temporary name before marking and renamed into place
 * after (a rename opens nothing, so it cannot wait on a permission answer). */
static int pid_file_prepare(struct daemon *d)
{
	char buf[32];
	int fd, n;

	if (!d->cfg.pid_file)
		return 0;
	d->pid_file = strdup(d->cfg.pid_file);
	if (!d->pid_file || asprintf(&d->pid_tmp, "%s.tmp.%d", d->pid_file, (int)d->self) < 0)
		return -ENOMEM;
	fd = open(d->pid_tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)d->self);
	if (write(fd, buf, (size_t)n) != n) {
		int r = errno ? -errno : -EIO;

		(void)close(fd);
		(void)unlink(d->pid_tmp);
		return r;
	}
	if (close(fd) < 0)
		return -errno;
	return 0;
}

static int pid_file_commit(struct daemon *d)
{
	if (!d->pid_tmp)
		return 0;
	if (rename(d->pid_tmp, d->pid_file) < 0)
		return -errno;
	free(d->pid_tmp);
	d->pid_tmp = NULL;
	return 0;
}

static void pid_file_remove(struct daemon *d)
{
	if (d->pid_tmp)
		(void)unlink(d->pid_tmp); /* best effort on the way out */
	else if (d->pid_file)
		(void)unlink(d->pid_file);
	free(d->pid_tmp);
	free(d->pid_file);
	d->pid_tmp = d->pid_file = NULL;
}

/*
 * FD-mode reads open one fd per event, and the kernel denies a permission event it cannot
 * open an fd for (EMFILE), unseen by us. So the limit is raised as far as we may: the hard
 * limit too while CAP_SYS_RESOURCE is ours (before the privilege drop), up to
 * DAEMON_NOFILE_WANT and fs.nr_open. Each read is then sized by the descriptors still free
 * (pipeline.c). Returns the soft limit in force.
 */
static rlim_t nofile_raise(void)
{
	struct rlimit rl;
	unsigned long nr_open = DAEMON_NOFILE_WANT;
	FILE *fp = fopen("/proc/sys/fs/nr_open", "re");

	if (fp) {
		if (fscanf(fp, "%lu", &nr_open) != 1)
			nr_open = DAEMON_NOFILE_WANT;
		fclose(fp);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 64; /* cannot fail for RLIMIT_NOFILE; a small, safe guess */
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < DAEMON_NOFILE_WANT) {
		struct rlimit up = rl;

		up.rlim_max = up.rlim_cur = DAEMON_NOFILE_WANT < nr_open ? DAEMON_NOFILE_WANT
									  : nr_open;
		if (up.rlim_max > rl.rlim_max && setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl); /* keep the soft limit if refused */
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	log_info("descriptor limit %llu", (unsigned long long)rl.rlim_cur);
	return rl.rlim_cur;
}

/* Descriptors open now (the fixed ones: groups, views, sockets, pipes). */
static unsigned fds_open(void)
{
	DIR *dir = opendir("/proc/self/fd");
	unsigned n = 0;

	if (!dir)
		return 64; /* no /proc: assume many, so reads stay small */
	while (readdir(dir))
		n++;
	closedir(dir);
	return n > 3 ? n - 3 : 0; /* ".", ".." and the directory's own fd */
}

/* The signals the loop takes through signalfd. Blocked in main() before any thread exists,
 * so that the output thread inherits the mask and never takes them itself. */
static void daemon_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGCHLD);
	sigaddset(mask, SIGUSR1);
}

/*
 * What one turn of the loop handles first: the order of the sources (loop.c hands ready
 * fds to them by this id, lowest first).
 *  1. exec notices (proc connector): a short-lived process's exe can only be read while it
 *     lives, and every process of the next permission batch has queued its notice by then;
 *  2. the permission group (or the FD group in observe mode): a process waits on each;
 *  3. the FID group: records only;
 *  4. signals; 5. subscribers; 6. the hooks' output; 7. a reopened output file to
 *     ignore-mark (the output thread hands it over: it touches nothing of ours); 8. a
 *     config reload's reader is done (reload.c: it read and opened what the loop must not).
 * Only what epoll reported is read (a read that finds nothing costs a system call).
 */
enum source {
	SRC_PROC,
	SRC_PERM,
	SRC_FID,
	SRC_SIGNAL,
	SRC_SOCK,
	SRC_HOOK,
	SRC_OUTPUT,
	SRC_RELOAD,
};

/* What the loop's handlers are given: the daemon, the loop (to stop it), the reload. */
struct run {
	struct daemon *d;
	struct loop *loop;
	struct reload *reload;
};

static int signals_open(struct daemon *d)
{
	sigset_t mask;

	daemon_signals(&mask);
	d->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return d->sig_fd < 0 ? -errno : 0;
}

/*
 * The counters, each module's filled by that module, as a stats record in the output (it
 * takes the next seq; subscribers get it too) and, with log true, as the "stats:" log line
 * made of the same numbers under the same keys. On SIGUSR1, every stats_interval_ms and at
 * exit.
 */
static void stats_write(const struct run *run, bool log, enum log_level level)
{
	struct daemon *d = run->d;
	struct stats s = { 0 };
	struct buf text = { 0 }, prom = { 0 };

	s.spins = run->loop->spins;
	s.spin_hits = run->loop->spin_hits;
	proc_stats(d->proc, &s);
	resolve_stats(d->resolve, &s);
	policy_stats(d->policy, &s);
	cache_stats(&d->cache, &s);
	hook_stats(&d->hook, &s);
	sink_file_stats(&d->out, &s);
	sink_sock_stats(&d->sock, &s);
	s.log_dropped = log_dropped();
	pipeline_write_stats(&d->pipeline, &s);
	/* The numbers of the record just written; the writer thread replaces the file (an
	 * open here could wait for our own answer). */
	if (d->prom.dir_fd >= 0) {
		int r = record_stats_prom(&prom, &s);

		if (r == 0)
			r = sink_prom_write(&d->prom, prom.data, prom.len);
		if (r < 0)
			log_rl_errno(LOG_LEVEL_WARN, r, "prometheus_file: not updated");
		buf_free(&prom);
	}
	if (!log)
		return;
	if (record_stats_text(&text, &s) == 0)
		log_msg(level, "stats: %s", text.data);
	else
		log_msg(level, "stats: out of memory");
	buf_free(&text);
}

/* The periodic stats record (a loop timer), stats_interval_ms after the start and after the
 * last one. Returns ms until the next one, or -1 when stats_interval_ms is 0. */
static int stats_timer(void *arg, uint64_t now_ms)
{
	const struct run *run = arg;
	struct daemon *d = run->d;

	if (!d->cfg.stats_interval_ms)
		return -1;
	if (!d->stats_due_ms)
		d->stats_due_ms = now_ms + d->cfg.stats_interval_ms;
	if (now_ms >= d->stats_due_ms) {
		stats_write(run, false, LOG_LEVEL_INFO);
		/* An interval after this one: records never come closer, nor in a burst after
		 * a stall. */
		d->stats_due_ms = now_ms + d->cfg.stats_interval_ms;
	}
	return (int)(d->stats_due_ms - now_ms);
}

/* Spinning pays only with a permission group and a CPU for the openers besides ours. */
static uint64_t spin_ns(const struct daemon *d)
{
	cpu_set_t cpus;

	if (!d->fan.fd_is_perm || !d->cfg.spin_us)
		return 0;
	if (sched_getaffinity(0, sizeof(cpus), &cpus) < 0 || CPU_COUNT(&cpus) < 2) {
		log_info("spin_us: not spinning with fewer than 2 CPUs");
		return 0;
	}
	return (uint64_t)d->cfg.spin_us * 1000;
}

/*
 * SIGHUP: the output is reopened (log rotation) and the configuration read again, by
 * reload.c's reader thread; daemon_reload_done() follows when it is done. A supervisor told of
 * reloads (systemd's RELOADING=1) is told here.
 */
static void daemon_reload(const struct run *run)
{
	struct daemon *d = run->d;
	int r;

	log_info("SIGHUP: reopening the output, reading the configuration again");
	(void)notify_reloading(&d->notify, NULL); /* a failure is logged there */
	sink_file_reopen(&d->out);
	r = reload_start(run->reload, d);
	if (r < 0)
		log_errno(LOG_LEVEL_WARN, r, "reload: cannot start the config reader");
}

/*
 * A reload is over (applied, unchanged, refused or failed: reload.c wrote its record and
 * logged it). What reload.c cannot reach is set here: the spin, a loop setting. When idle
 * (no further reload queued behind it), a supervisor waiting for the reload to end (systemd's
 * READY=1 after RELOADING=1) is told here.
 */
static void daemon_reload_done(const struct run *run, enum reload_status st, bool idle)
{
	struct daemon *d = run->d;

	if (st == RELOAD_APPLIED)
		loop_spin(run->loop, SRC_PERM, d->fan.fd_fd, spin_ns(d), &d->pipeline.perm_batches);
	if (idle) {
		static const char *const said[] = {
			[RELOAD_NONE] = "reload: nothing read",
			[RELOAD_UNCHANGED] = "reload: unchanged",
			[RELOAD_APPLIED] = "reload: applied",
			[RELOAD_REFUSED] = "reload: refused, the running config kept",
			[RELOAD_FAILED] = "reload: failed, the running config kept",
		};

		(void)notify_ready(&d->notify, 0, said[st]); /* a failure is logged there */
	}
}

static unsigned on_reload(void *arg, int fd, uint32_t events)
{
	const struct run *run = arg;
	enum reload_status st;

	(void)fd;
	(void)events;
	st = reload_finish(run->reload, run->d);
	if (st != RELOAD_NONE)
		daemon_reload_done(run, st, run->reload->job == NULL);
	return 0;
}

static unsigned on_signal(void *arg, int fd, uint32_t events)
{
	const struct run *run = arg;
	struct daemon *d = run->d;
	struct signalfd_siginfo si;

	(void)fd;
	(void)events;
	while (read(d->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			daemon_reload(run);
			break;
		case SIGCHLD:
			hook_reap(&d->hook);
			break;
		case SIGUSR1:
			stats_write(run, true, LOG_LEVEL_NOTICE);
			break;
		default:
			log_info("signal %u: stopping", si.ssi_signo);
			/* The first stopping signal is the reason; a second one only repeats it. */
			if (!run->loop->stop)
				snprintf(d->stop_reason, sizeof(d->stop_reason), "%s",
					 si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
			(void)notify_stopping(&d->notify); /* a failure is logged there */
			run->loop->stop = true;
			break;
		}
	}
	return 0;
}

/* Quiet, the connector wakes the loop once per arming (proc_timer()): within the window's
 * PROC_QUIET_WAKES the notices are read at once, /proc reads and all, and it is armed
 * again; past them, the rest of the window's notices wait for one drain at its end. */
static unsigned on_proc(void *arg, int fd, uint32_t events)
{
	const struct run *run = arg;
	struct proc *p = run->d->proc;
	uint64_t now_ms;

	(void)fd;
	(void)events;
	if (!p->quiet) {
		proc_drain(p, false);
		return 0;
	}
	if (p->drain_ms)
		return 0; /* an error, while a drain is due anyway */
	now_ms = now_mono_ms();
	if (now_ms - p->window_ms >= PROC_QUIET_DRAIN_MS) {
		p->window_ms = now_ms;
		p->window_wakes = 0;
	}
	if (p->window_wakes < PROC_QUIET_WAKES) {
		p->window_wakes++;
		proc_drain(p, false);
		/* Armed after the drain: a notice that came meanwhile wakes us at once. */
		if (loop_rearm(run->loop, p->nl_fd, SRC_PROC, true) == 0)
			return 0;
	}
	p->drain_ms = p->window_ms + PROC_QUIET_DRAIN_MS;
	return 0;
}

/* A fanotify read found n events: the connector is read as it comes again (proc.h). */
static unsigned fan_read(const struct run *run, unsigned n)
{
	struct proc *p = run->d->proc;

	if (!n)
		return 0;
	p->fan_batches++;
	if (p->quiet && loop_rearm(run->loop, p->nl_fd, SRC_PROC, false) == 0) {
		p->quiet = false;
		p->drain_ms = 0;
	}
	return n;
}

static unsigned on_perm(void *arg, int fd, uint32_t events)
{
	const struct run *run = arg;

	(void)events;
	return fan_read(run, pipeline_read_group(&run->d->pipeline, fd, false));
}

static unsigned on_fid(void *arg, int fd, uint32_t events)
{
	const struct run *run = arg;

	(void)events;
	return fan_read(run, pipeline_read_group(&run->d->pipeline, fd, true));
}

/*
 * The connector's speed. An exec's exe must be read while the process lives, so while
 * watched events come the loop reads every fork, exec and exit notice as it comes (at
 * nice -4). A host's execs outside the watched paths would wake it as often for nothing:
 * exec_hold_ms after the last fanotify event the connector goes quiet. Its fd is armed for
 * one readiness at a time, and on_proc() reads the notices at once only PROC_QUIET_WAKES
 * times per PROC_QUIET_DRAIN_MS: enough for the processes a quiet host starts now and then
 * (a cron job's writer is read at its exec as before), while a storm of execs is left to
 * one drain at the window's end, without a /proc read (proc_drain()'s quiet). An idle host
 * wakes it never. The next fanotify event wakes the loop through its own group; its batch
 * drains the connector and reads its processes first (pipeline.c), and the connector is
 * read as it comes again (fan_read()).
 */
static int proc_timer(void *arg, uint64_t now_ms)
{
	const struct run *run = arg;
	struct proc *p = run->d->proc;
	uint64_t hold_ms = run->d->cfg.exec_hold_ms;

	if (p->nl_fd < 0)
		return -1;
	if (p->fan_batches != p->fan_batches_seen) {
		p->fan_batches_seen = p->fan_batches;
		p->active_ms = now_ms;
	}
	if (!p->quiet) {
		if (now_ms - p->active_ms < hold_ms)
			return (int)(p->active_ms + hold_ms - now_ms);
		if (loop_rearm(run->loop, p->nl_fd, SRC_PROC, true) < 0)
			return PROC_QUIET_DRAIN_MS; /* stays eager: costs only CPU */
		p->quiet = true;
		p->quiet_spells++;
		p->drain_ms = 0;
	}
	if (p->drain_ms && now_ms >= p->drain_ms) {
		proc_drain(p, true);
		p->window_ms = now_ms;
		p->window_wakes = 0;
		/* Armed again for the next notice; if that fails, drained by the clock. */
		p->drain_ms = loop_rearm(run->loop, p->nl_fd, SRC_PROC, true) < 0
				      ? now_ms + PROC_QUIET_DRAIN_MS : 0;
	}
	return p->drain_ms ? (int)(p->drain_ms - now_ms) : -1;
}

static unsigned on_sock(void *arg, int fd, uint32_t events)
{
	const struct run *run = arg;

	sink_sock_handle(&run->d->sock, fd, events);
	return 0;
}

static unsigned on_output_opened(void *arg, int fd, uint32_t events)
{
	const struct run *run = arg;
	int opened = sink_file_opened(&run->d->out);
	int r;

	(void)fd;
	(void)events;
	if (opened < 0)
		return 0;
	r = fan_ignore_fd(&run->d->fan, opened);
	if (r < 0)
		log_errno(LOG_LEVEL_WARN, r, "output: cannot ignore-mark the reopened file");
	(void)close(opened); /* a dup of the output thread's: nothing to flush */
	return 0;
}

static unsigned on_hook_output(void *arg, int fd, uint32_t events)
{
	const struct run *run = arg;

	(void)fd;
	(void)events;
	hook_drain(&run->d->hook);
	return 0;
}

/* Timers: hooks past their deadline are killed; subscribers get what lingered. */
static int hook_timer(void *arg, uint64_t now_ms)
{
	const struct run *run = arg;

	hook_expire(&run->d->hook, now_ms);
	return hook_next_timeout_ms(&run->d->hook, now_ms);
}

static int sock_timer(void *arg, uint64_t now_ms)
{
	const struct run *run = arg;

	return sink_sock_flush(&run->d->sock, now_ms, false);
}

/*
 * WATCHDOG=1 (with $WATCHDOG_USEC), from the loop's own timer: a ping proves the loop turns.
 * It also proves the loop reads: one that comes due while the permission group (a process
 * waits on each event) or the proc connector (a short-lived process's exe is read while it
 * lives) has input waiting is held until that source's reader has moved its counter.
 */
static int watchdog_timer(void *arg, uint64_t now_ms)
{
	const struct run *run = arg;
	struct daemon *d = run->d;
	const struct notify_wd_source src[] = {
		{ "the permission group", d->fan.fd_is_perm ? d->fan.fd_fd : -1,
		  d->pipeline.perm_read_ns },
		{ "the proc connector", d->proc->nl_fd,
		  d->proc->nl_messages + d->proc->nl_overruns },
	};

	return notify_watchdog(&d->notify, now_ms, src, sizeof(src) / sizeof(src[0]));
}

static void before_sleep(void *arg)
{
	const struct run *run = arg;

	pipeline_flush(&run->d->pipeline);
}

/* The sources in their order, the timers, the spin: everything the loop needs. */
static int loop_setup(struct run *run)
{
	struct daemon *d = run->d;
	struct loop *l = run->loop;
	int r;

	loop_source(l, SRC_PROC, on_proc, run);
	loop_source(l, SRC_PERM, on_perm, run);
	loop_source(l, SRC_FID, on_fid, run);
	loop_source(l, SRC_SIGNAL, on_signal, run);
	loop_source(l, SRC_SOCK, on_sock, run);
	loop_source(l, SRC_HOOK, on_hook_output, run);
	loop_source(l, SRC_OUTPUT, on_output_opened, run);
	loop_source(l, SRC_RELOAD, on_reload, run);
	l->before_sleep = before_sleep;
	l->before_sleep_arg = run;
	loop_spin(l, SRC_PERM, d->fan.fd_fd, spin_ns(d), &d->pipeline.perm_batches);
	r = loop_timer(l, hook_timer, run);
	if (r == 0)
		r = loop_timer(l, sock_timer, run);
	if (r == 0)
		r = loop_timer(l, stats_timer, run);
	if (r == 0)
		r = loop_timer(l, watchdog_timer, run);
	if (r == 0)
		r = loop_timer(l, proc_timer, run);
	if (r == 0)
		r = loop_watch(l, d->sig_fd, SRC_SIGNAL);
	if (r == 0)
		r = loop_watch(l, d->proc->nl_fd, SRC_PROC);
	/* Quiet until the first watched event (proc_timer()). */
	if (r == 0 && d->proc->nl_fd >= 0) {
		r = loop_rearm(l, d->proc->nl_fd, SRC_PROC, true);
		d->proc->quiet = true;
	}
	if (r == 0)
		r = loop_watch(l, d->fan.fd_fd, SRC_PERM);
	if (r == 0)
		r = loop_watch(l, d->fan.fid_fd, SRC_FID);
	if (r == 0)
		r = loop_watch(l, d->hook.out_rfd, SRC_HOOK);
	if (r == 0)
		r = loop_watch(l, d->out.opened_efd, SRC_OUTPUT);
	if (r == 0)
		r = loop_watch(l, run->reload->efd, SRC_RELOAD);
	return r;
}

static void run_loop(struct run *run)
{
	struct daemon *d = run->d;
	int r = loop_run(run->loop);

	if (r < 0) {
		log_errno(LOG_LEVEL_ERR, r, "epoll_wait");
		snprintf(d->stop_reason, sizeof(d->stop_reason), "error: epoll_wait: %s",
			 strerror(-r));
	}
	/* Whatever the kernel queued before the stop is still reported. */
	if (d->fan.fd_fd >= 0)
		pipeline_read_group(&d->pipeline, d->fan.fd_fd, false);
	if (d->fan.fid_fd >= 0)
		pipeline_read_group(&d->pipeline, d->fan.fid_fd, true);
	pipeline_flush(&d->pipeline);
	(void)sink_sock_flush(&d->sock, now_mono_ms(), true); /* nothing waits after it */
}

static void daemon_free(struct daemon *d)
{
	/* Groups first: closing them allows every pending permission event, so the output
	 * thread (which uses nothing of the groups: the loop marks its reopened files) can
	 * never be stuck on our answer — a SIGHUP reopen on a permission-marked filesystem —
	 * while we wait for it below. Joining it first would make such a reopen wait out
	 * the whole join timeout, or need the loop to go on answering while it waits. */
	fan_close(&d->fan);
	hook_close(&d->hook);
	sink_sock_close(&d->sock);
	sink_file_close(&d->out);
	sink_prom_close(&d->prom);
	if (d->policy)
		policy_free(d->policy);
	free(d->policy);
	if (d->proc)
		proc_close(d->proc);
	if (d->resolve)
		resolve_free(d->resolve);
	free(d->proc);
	free(d->resolve);
	pipeline_free(&d->pipeline);
	if (d->sig_fd >= 0)
		(void)close(d->sig_fd);
	notify_close(&d->notify);
	pid_file_remove(d);
	config_free(&d->cfg);
}

/*
 * Forks; the parent waits for the child's status byte on a pipe and exits with it, so a
 * failed start is a non-zero exit the caller sees. Returns the write end in the child.
 * A started child sends its status text after the byte: the parent, the process the service
 * manager started (the only one NotifyAccess=main hears), tells it READY=1 and the new
 * MAINPID before it exits.
 */
static int daemonize_begin(struct notify *n)
{
	int p[2];
	pid_t pid;
	char buf[1 + NOTIFY_MSG_MAX];
	unsigned char status = 1;
	ssize_t got;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		(void)close(p[1]);
		do
			got = read(p[0], buf, sizeof(buf) - 1);
		while (got < 0 && errno == EINTR);
		if (got >= 1) {
			status = (unsigned char)buf[0];
			buf[got] = '\0';
		} else {
			status = 1; /* the child died before reporting */
		}
		if (status == 0)
			(void)notify_ready(n, pid, buf + 1); /* a failure is logged there */
		exit(status);
	}
	(void)close(p[0]);
	if (setsid() < 0)
		return -errno;
	return p[1];
}

/* Reports status to the waiting parent, with the READY=1 status text when 0. */
static void daemonize_end(int status_fd, unsigned char status, const char *ready)
{
	char buf[1 + NOTIFY_MSG_MAX];
	size_t len = 1;
	int null;

	if (status_fd < 0)
		return;
	if (status == 0) {
		if (chdir("/") < 0)
			log_warn("chdir /");
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			(void)dup2(null, STDIN_FILENO); /* dup2 of a valid fd onto 0-2 */
			(void)dup2(null, STDOUT_FILENO);
			(void)dup2(null, STDERR_FILENO);
			if (null > STDERR_FILENO)
				(void)close(null);
		}
		log_use_syslog();
	}
	buf[0] = (char)status;
	buf[1] = '\0';
	if (status == 0 && ready)
		(void)snprintf(buf + 1, sizeof(buf) - 1, "%s", ready); /* cut to fit */
	len += strlen(buf + 1);
	/* One write of at most PIPE_BUF bytes: the parent reads it whole. */
	if (write(status_fd, buf, len) != (ssize_t)len)
		log_warn("cannot report start-up status");
	(void)close(status_fd);
}

/*
 * Like auditd's priority_boost: the loop must win the CPU to read a short-lived process's
 * exe while it lives and to answer openers quickly. nice gives it a larger share; a short
 * slice (sched_attr.sched_runtime for SCHED_OTHER, kernel 6.12+) lets its wake-up preempt
 * a running task at once instead of after the running task's slice (1.4 ms on a 2-CPU
 * VM, longer than a cat lives). Neither can starve the machine: the daemon stays in the
 * fair class. Called before any thread exists, so the output thread inherits both.
 */
static void daemon_priority(void)
{
	int nice;

	if (setpriority(PRIO_PROCESS, 0, DAEMON_NICE) < 0)
		log_errno(LOG_LEVEL_INFO, errno, "cannot raise priority to nice %d", DAEMON_NICE);
	/* sched_setattr() sets nice too: keep the one we have (-4, or 0 without the right). */
	errno = 0;
	nice = getpriority(PRIO_PROCESS, 0);
	if (errno)
		nice = 0;
	if (sched_set_fair(nice, DAEMON_SLICE_NS) < 0)
		log_errno(LOG_LEVEL_INFO, errno, "no short scheduling slice (needs Linux 6.12)");
}

/* NO_COLOR (https://no-color.org): set and not empty, no colours in --format text. */
static bool no_color(void)
{
	const char *v = getenv("NO_COLOR");

	return v && v[0];
}

struct start_threads {
	struct daemon *d;
	const char *what;	/* the thread that failed to start */
};

/* The log, output and prometheus_file threads (priv_lowered() runs this on a thread of its
 * own, so none of them inherits CAP_SYS_ADMIN). */
static int start_threads(void *arg)
{
	struct start_threads *st = arg;
	int r;

	st->what = "log";
	r = log_start();
	if (r < 0)
		return r;
	st->what = "output";
	r = sink_file_start(&st->d->out);
	if (r < 0)
		return r;
	st->what = "prometheus_file";
	return sink_prom_start(&st->d->prom);
}

/* /proc/sys/kernel/random/boot_id without its newline into out, or "" if unreadable. */
static void boot_id_read(char *out, size_t cap)
{
	ssize_t n;
	int fd;

	out[0] = '\0';
	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_warn("boot_id: /proc/sys/kernel/random/boot_id");
		return;
	}
	n = read(fd, out, cap - 1);
	if (n < 0) {
		log_warn("boot_id: read");
		n = 0;
	}
	(void)close(fd);
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

/*
 * What names this run in every record: run_id (new random bits every start, so that a
 * restart, whose seq starts again at 1, is told apart), host, boot_id and the config's
 * digest. The digest is 64-bit FNV-1a (hash.h) of the effective configuration as
 * --check-config prints it: it tells a changed configuration from the same one across a
 * fleet; it is not a seal against someone who can write the config (they can do worse),
 * so no cryptographic hash and no library for one. Read before the first mark.
 */
static int run_ident(struct daemon *d, char *msg, size_t msg_len)
{
	unsigned char rnd[16];
	char *dump;
	ssize_t n;

	do
		n = getrandom(rnd, sizeof(rnd), 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(rnd)) {
		snprintf(msg, msg_len, "getrandom: %s", n < 0 ? strerror(errno) : "short read");
		return n < 0 ? -errno : -EIO;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(d->run_id + 2 * i, 3, "%02x", rnd[i]);
	if (gethostname(d->host, sizeof(d->host) - 1) < 0) {
		snprintf(msg, msg_len, "gethostname: %s", strerror(errno));
		return -errno;
	}
	d->host[sizeof(d->host) - 1] = '\0';
	boot_id_read(d->boot_id, sizeof(d->boot_id));
	dump = config_dump(&d->cfg);
	if (!dump) {
		snprintf(msg, msg_len, "out of memory");
		return -ENOMEM;
	}
	snprintf(d->config_digest, sizeof(d->config_digest), "%016llx",
		 (unsigned long long)hash_bytes(HASH_SEED, dump, strlen(dump)));
	free(dump);
	snprintf(d->stop_reason, sizeof(d->stop_reason), "exit");
	if (pipeline_set_ident(&d->pipeline, d->run_id, d->host, d->cfg.record_host) < 0) {
		snprintf(msg, msg_len, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* The run's first record, seq 1: before the loop reads any event. */
static int start_record(struct daemon *d)
{
	static const char *const kinds[] = {
		[CONFIG_MARK_INODE] = "watch",
		[CONFIG_MARK_MOUNT] = "mount",
		[CONFIG_MARK_FILESYSTEM] = "filesystem",
	};
	struct record_mark *marks = calloc(d->cfg.n_marks ? d->cfg.n_marks : 1, sizeof(*marks));
	struct record_start r = {
		.version = CONFIG_VERSION,
		.boot_id = d->boot_id[0] ? d->boot_id : NULL,
		.config_digest = d->config_digest,
		.mode = d->cfg.perm ? "permission" : "observe",
		.pid = d->self,
		.marks = marks,
		.n_marks = d->cfg.n_marks,
	};
	int err;

	if (!marks)
		return -ENOMEM;
	for (size_t i = 0; i < d->cfg.n_marks; i++) {
		marks[i].kind = kinds[d->cfg.marks[i].kind];
		marks[i].path = d->cfg.marks[i].path;
	}
	err = pipeline_write_start(&d->pipeline, &r);
	free(marks);
	return err;
}

static int start(struct run *run, char *msg, size_t msg_len)
{
	struct daemon *d = run->d;
	struct start_threads st = { .d = d, .what = "log" };
	int r;

	d->resolve = malloc(sizeof(*d->resolve));
	if (d->resolve)
		resolve_init(d->resolve); /* before any failure: daemon_free() releases it */
	d->proc = calloc(1, sizeof(*d->proc));
	d->policy = calloc(1, sizeof(*d->policy));
	r = pipeline_init(&d->pipeline, &d->fan, d->resolve, d->proc, d->policy, &d->cache,
			  &d->hook, &d->out, &d->sock, d->self);
	if (!d->resolve || !d->proc || !d->policy || r < 0) {
		snprintf(msg, msg_len, "out of memory");
		return -ENOMEM;
	}
	d->proc->nl_fd = -1;
	d->pipeline.nofile = nofile_raise();
	r = run_ident(d, msg, msg_len);
	if (r < 0)
		return r;

	/* Everything that opens or binds a file comes before the first mark. */
	r = sink_file_open(&d->out, d->cfg.output ? d->cfg.output : "-",
			   d->cfg.output_mode_set ? d->cfg.output_mode : 0, d->cfg.output_group,
			   msg, msg_len);
	if (r < 0)
		return r;
	if (d->cfg.prometheus_file) {
		r = sink_prom_open(&d->prom, d->cfg.prometheus_file, d->self, msg, msg_len);
		if (r < 0)
			return r;
	}
	pipeline_set_text(&d->pipeline, d->cfg.format == CONFIG_FORMAT_TEXT,
			  isatty(d->out.fd) && !no_color());
	r = pid_file_prepare(d);
	if (r < 0) {
		snprintf(msg, msg_len, "%s: %s", d->cfg.pid_file, strerror(-r));
		return r;
	}
	r = policy_init(d->policy, &d->cfg, msg, msg_len);
	if (r < 0) {
		if (r == -ENOMEM)
			snprintf(msg, msg_len, "out of memory");
		return r;
	}
	r = hook_init(&d->hook, d->cfg.hook, d->cfg.hook_max, d->cfg.hook_timeout_ms);
	if (r < 0) {
		snprintf(msg, msg_len, "hook: /dev/null: %s", strerror(-r));
		return r;
	}
	r = signals_open(d);
	if (r == 0)
		r = loop_init(run->loop);
	if (r < 0) {
		snprintf(msg, msg_len, "event loop: %s", strerror(-r));
		return r;
	}
	r = sink_sock_open(&d->sock, &d->cfg, run->loop->ep_fd, loop_tag(SRC_SOCK), msg,
			   msg_len);
	if (r < 0)
		return r;
	proc_open(d->proc);

	r = fan_open(&d->fan, &d->cfg, msg, msg_len);
	if (r < 0)
		return r;
	if (d->out.path) {
		r = fan_ignore_fd(&d->fan, d->out.fd);
		if (r < 0)
			log_errno(LOG_LEVEL_WARN, r, "output: cannot ignore-mark %s", d->out.path);
	}
	/* Every mark, file and socket is in place; no thread runs yet (capabilities are per
	 * thread). FID mode opens file handles; the allow cache marks files of any mode. */
	d->hook.before_exec = priv_hook_child;
	d->hook.before_exec_arg = &d->priv;
	r = priv_drop(&d->priv, d->fan.fid_fd >= 0 || d->cfg.allow_cache, d->cfg.hook != NULL,
		      msg, msg_len);
	if (r < 0)
		return r;
	/* Building the seccomp filter and reading mountinfo freed a few hundred KiB on the
	 * heap's top: give them back before the long run (measured: 176 KiB of RSS). */
	(void)malloc_trim(0);
	/* The threads start with the capabilities left, less CAP_SYS_ADMIN (kept for the
	 * loop thread's reloads only), and the signals blocked. */
	r = priv_lowered(&d->priv, start_threads, &st);
	if (r < 0) {
		snprintf(msg, msg_len, "cannot start the %s thread: %s", st.what, strerror(-r));
		return r;
	}
	cache_init(&d->cache, d->cfg.allow_cache, d->fan.fd_fd, d->fan.fd_mask);
	r = loop_setup(run);
	if (r < 0) {
		snprintf(msg, msg_len, "event loop: %s", strerror(-r));
		return r;
	}
	d->pipeline.fds_fixed = fds_open();
	r = start_record(d);
	if (r < 0) {
		snprintf(msg, msg_len, "start record: %s", strerror(-r));
		return r;
	}
	r = pid_file_commit(d);
	if (r < 0) {
		snprintf(msg, msg_len, "%s: %s", d->pid_file, strerror(-r));
		return r;
	}
	return 0;
}

/* The one rule for a background daemon's output (start and --check-config); NULL if met. */
static const char *output_problem(const struct config *c)
{
	if (!c->foreground && (!c->output || strcmp(c->output, "-") == 0))
		return "a background daemon needs --output FILE (or run with --foreground)";
	return NULL;
}

__attribute__((format(printf, 2, 3)))
static void problem(unsigned *n, const char *fmt, ...)
{
	va_list ap;

	fputs("fanotifyd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	(*n)++;
}

/*
 * A mount mark watches one mount: the one its path resolves to in our mount namespace. A
 * service manager that hardens the daemon (ProtectSystem=, PrivateTmp=, ... in the unit)
 * starts it in a namespace of its own, where every mount is a copy: a mark there sees only
 * what is done through our namespace, nothing of the host's processes (tested: 0 records of
 * a host process's opens under --mount, --no-fid --mount and --perm --mount, so a --perm
 * daemon would deny nothing; filesystem and inode marks are unaffected). The process that
 * started us (systemd: pid 1) is where those processes live; when its namespace is not
 * ours, mount marks are refused (a daemon that looks as if it watches, and sees nothing, is
 * worse than one that does not start). Returns the reason, or NULL. Before any mark.
 */
static const char *mount_ns_problem(const struct config *cfg)
{
	char parent[64];
	struct stat ours, theirs;
	size_t i;

	for (i = 0; i < cfg->n_marks && cfg->marks[i].kind != CONFIG_MARK_MOUNT; i++)
		;
	if (i == cfg->n_marks)
		return NULL;
	snprintf(parent, sizeof(parent), "/proc/%d/ns/mnt", (int)getppid());
	if (stat("/proc/self/ns/mnt", &ours) < 0 || stat(parent, &theirs) < 0)
		return NULL; /* no /proc, or a parent out of our sight: nothing to compare */
	if (ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino)
		return NULL;
	return "mount marks: this daemon runs in a mount namespace other than that of the "
	       "process that started it (a hardened service unit makes one), where a mount mark "
	       "sees nothing done through the host's mounts; use filesystem or watch marks, or "
	       "run it without the unit's mount options (README, Running as a service)";
}

/* Where cgroup v2 is mounted: /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a
 * hybrid one (systemd's layouts); NULL when neither is. */
static const char *cgroup2_mount(void)
{
	static const char *const where[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	struct statfs sf;

	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (statfs(where[i], &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
			return where[i];
	return NULL;
}

/* A job's cgroup that does not exist yet is said, not refused: jobs are configured before
 * they start, and a process in it is tagged from the moment it runs there. */
static void check_cgroups(const struct config *c)
{
	const char *mnt = NULL;
	char path[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < c->n_jobs; i++) {
		const char *cg = c->jobs[i].cgroup;

		if (!cg)
			continue;
		if (!mnt)
			mnt = cgroup2_mount();
		if (!mnt) {
			fprintf(stderr, "fanotifyd: warning: job %s: cgroup %s: no cgroup v2 mounted "
				"at /sys/fs/cgroup or /sys/fs/cgroup/unified: records will have a null "
				"cgroup and no process is tagged by it\n", c->jobs[i].id, cg);
			return;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s%s", mnt, cg) >= sizeof(path) ||
		    stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
			fprintf(stderr, "fanotifyd: warning: job %s: cgroup %s does not exist (yet): "
				"no %s%s; its processes are tagged once they run in it\n",
				c->jobs[i].id, cg, mnt, cg);
	}
}

/*
 * --check-config beyond the syntax: what start() would refuse in this config, each found
 * with the rule start() applies (sink_file_check(), nss_group(), priv_init()'s message) and
 * without creating, opening or marking anything: it runs as ExecStartPre, before the
 * daemon, and may run beside a live one. Prints every problem on stderr; returns how many.
 * priv_msg is priv_init()'s refusal of hook_user, or NULL.
 */
static unsigned check_config(const struct config *c, const char *priv_msg)
{
	static const char *const mark_key[] = {
		[CONFIG_MARK_INODE] = "watch",
		[CONFIG_MARK_MOUNT] = "mount",
		[CONFIG_MARK_FILESYSTEM] = "filesystem",
	};
	const char *groups[][2] = {
		{ "socket_group", c->socket_group },
		{ "output_group", c->output_group },
	};
	const char *dirs[][2] = {
		{ "pid_file", c->pid_file },
		{ "socket", c->socket },
	};
	char msg[PATH_MAX + 256], dir[PATH_MAX];
	unsigned n = 0;
	struct stat st;
	gid_t gid;
	const char *why;
	int r;

	why = output_problem(c);
	if (why)
		problem(&n, "%s", why);
	/* fan_open() stats each mark path first; any kind of file takes any kind of mark. */
	for (size_t i = 0; i < c->n_marks; i++)
		if (stat(c->marks[i].path, &st) < 0)
			problem(&n, "%s %s: %s", mark_key[c->marks[i].kind], c->marks[i].path,
				strerror(errno));
	if (c->output && sink_file_check(c->output, msg, sizeof(msg)) < 0)
		problem(&n, "%s", msg);
	if (c->prometheus_file && sink_prom_check(c->prometheus_file, msg, sizeof(msg)) < 0)
		problem(&n, "%s", msg);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (!dirs[i][1])
			continue;
		r = fdio_dir_writable(dirs[i][1], dir, sizeof(dir));
		if (r < 0)
			problem(&n, "%s %s: directory %s: %s", dirs[i][0], dirs[i][1], dir,
				strerror(-r));
	}
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (!groups[i][1])
			continue;
		r = nss_group(groups[i][1], &gid);
		if (r < 0)
			problem(&n, "%s: %s: %s", groups[i][0], groups[i][1],
				r == -ENOENT ? "no such group" : strerror(-r));
	}
	if (priv_msg)
		problem(&n, "%s", priv_msg);
	if (c->hook && hook_check(c->hook, msg, sizeof(msg)) < 0)
		problem(&n, "%s", msg);
	why = mount_ns_problem(c);
	if (why)
		problem(&n, "%s", why);
	check_cgroups(c);
	return n;
}

/*
 * Started with stdin, stdout or stderr closed (`fanotifyd ... >&-`), the first files the
 * daemon opens would take those numbers: the output file would be fd 1, and a hook's
 * stdout, the daemonizing dup2() of /dev/null or a log line would land in it. Each closed
 * one is opened on /dev/null first. Returns 0 or -errno.
 */
static int stdio_sanitize(void)
{
	for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		int null;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		null = open("/dev/null", O_RDWR); /* the lowest free number: fd itself */
		if (null < 0)
			return -errno;
		if (null != fd) {
			(void)close(null); /* cannot happen: fd was the lowest free one */
			return -EBADF;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct daemon d;
	static struct loop loop = { .ep_fd = -1 };
	static struct reload reload = { .efd = -1 };
	struct run run = { .d = &d, .loop = &loop, .reload = &reload };
	char msg[4096] = "";
	char ready[256];
	const char *why;
	int status_fd = -1;
	sigset_t sigs;
	int r;

	if (stdio_sanitize() < 0)
		return 1; /* nowhere to say it */
	d.self = getpid();
	d.sig_fd = -1;
	d.notify.fd = -1;
	d.sock.listen_fd = -1;
	d.hook.null_fd = d.hook.out_rfd = d.hook.out_wfd = -1;
	sink_prom_init(&d.prom);
	fan_init(&d.fan);
	(void)signal(SIGPIPE, SIG_IGN); /* a closed stdout reader must not kill us */
	/* A bad option is a usage error, told apart from a bad config file by parsing the
	 * command line alone first (config_from_args() parses it again, with the file). */
	config_init(&d.cfg);
	r = config_parse_args(&d.cfg, argc, argv, msg, sizeof(msg));
	config_free(&d.cfg);
	if (r < 0) {
		fprintf(stderr, "fanotifyd: %s\n", msg);
		/* The usage line is --help's first: "Usage: fanotifyd [OPTION]...". */
		if (r == -EINVAL)
			fprintf(stderr, "%.*s\nTry 'fanotifyd --help'.\n",
				(int)strcspn(config_usage(), "\n"), config_usage());
		return r == -ENOMEM ? 1 : EXIT_CONFIG;
	}
	config_init(&d.cfg);
	r = config_from_args(&d.cfg, argc, argv, msg, sizeof(msg));
	if (r < 0) {
		fprintf(stderr, "fanotifyd: %s\n", msg);
		if (r == -EINVAL)
			fprintf(stderr, "Try 'fanotifyd --help'.\n");
		config_free(&d.cfg);
		return r == -ENOMEM ? 1 : EXIT_CONFIG;
	}
	if (d.cfg.help) {
		fputs(config_usage(), stdout);
		config_free(&d.cfg);
		return 0;
	}
	if (d.cfg.subscribe) {
		r = subscribe_run(d.cfg.subscribe, d.cfg.format == CONFIG_FORMAT_TEXT,
				  isatty(STDOUT_FILENO) && !no_color());
		config_free(&d.cfg);
		return r;
	}
	if (d.cfg.version) {
		printf("fanotifyd %s\n", CONFIG_VERSION);
		config_free(&d.cfg);
		return 0;
	}
	/* A replay needs none of what follows: no privilege, mark, hook, pid file or socket. */
	if (d.cfg.replay) {
		struct config args;

		/* Its output is stdout or the --output of its own command line, never the
		 * output file of a config it shares with the daemon. */
		config_init(&args);
		r = config_parse_args(&args, argc, argv, msg, sizeof(msg));
		if (r == 0)
			r = replay_run(&d.cfg, args.output, msg, sizeof(msg));
		if (r < 0)
			fprintf(stderr, "fanotifyd: %s\n", msg);
		config_free(&args);
		config_free(&d.cfg);
		return r == -EINVAL ? EXIT_CONFIG : r < 0 ? 1 : 0;
	}
	/* NSS reads /etc: before any mark, and a config error like any other. */
	r = priv_init(&d.priv, d.cfg.hook_user, msg, sizeof(msg));
	if (d.cfg.check_config) {
		char *dump;

		if (check_config(&d.cfg, r < 0 ? msg : NULL) > 0) {
			config_free(&d.cfg);
			return EXIT_CONFIG;
		}
		dump = config_dump(&d.cfg);
		if (!dump) {
			config_free(&d.cfg);
			return 1;
		}
		fputs(dump, stdout);
		free(dump);
		config_free(&d.cfg);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "fanotifyd: %s\n", msg);
		config_free(&d.cfg);
		return r == -ENOENT || r == -E2BIG ? EXIT_CONFIG : 1;
	}
	d.priv.keep_chown = d.cfg.output_group != NULL; /* see sink_file.c's open_output() */
	/* Only a config file can change on reload: without one, mount and filesystem marks
	 * never change and CAP_SYS_ADMIN goes with the rest. */
	d.priv.keep_admin = d.cfg.config_file != NULL;
	log_setup(d.cfg.verbose, false);
	why = output_problem(&d.cfg);
	if (!why)
		why = mount_ns_problem(&d.cfg);
	if (why) {
		fprintf(stderr, "fanotifyd: %s\n", why);
		config_free(&d.cfg);
		return EXIT_CONFIG;
	}
	if (absolutize(&d.cfg) < 0) {
		fprintf(stderr, "fanotifyd: out of memory\n");
		config_free(&d.cfg);
		return 1;
	}
	/* A reload resolves relative paths from here, as absolutize() did. */
	r = reload_init(&reload, argc, argv);
	if (r < 0) {
		fprintf(stderr, "fanotifyd: reload: %s\n", strerror(-r));
		reload_close(&reload);
		config_free(&d.cfg);
		return 1;
	}

	/* Before the marks (its socket) and the fork (the parent may send READY=1). */
	notify_init(&d.notify);
	if (!d.cfg.foreground) {
		status_fd = daemonize_begin(&d.notify);
		if (status_fd < 0) {
			fprintf(stderr, "fanotifyd: cannot daemonize: %s\n", strerror(-status_fd));
			notify_close(&d.notify);
			reload_close(&reload);
			config_free(&d.cfg);
			return 1;
		}
		d.self = getpid();
	}
	daemon_priority();
	daemon_signals(&sigs);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0) {
		log_error("sigprocmask");
		daemonize_end(status_fd, 1, NULL);
		notify_close(&d.notify);
		reload_close(&reload);
		config_free(&d.cfg);
		return 1;
	}
	/* Lazy libc state that opens files (time zone, syslog) is set up before the marks;
	 * from here on log lines are queued for the log thread start() starts. */
	log_prepare(!d.cfg.foreground);
	r = start(&run, msg, sizeof(msg));
	if (r < 0) {
		log_errorx("%s", msg);
		daemon_free(&d);
		reload_close(&reload);
		loop_close(&loop);
		log_stop(LOG_STOP_MS); /* the message is out before the caller sees the status */
		daemonize_end(status_fd, 1, NULL);
		return 1;
	}
	snprintf(ready, sizeof(ready), "watching %zu path(s); %s mode%s", d.cfg.n_marks,
		 d.cfg.perm ? "permission" : "observe", d.fan.fid_fd >= 0 ? ", FID" : ", FD");
	log_notice("%s", ready);
	/* Every mark is placed: READY=1 now, from the daemonizing parent if there is one. */
	if (status_fd < 0)
		(void)notify_ready(&d.notify, 0, ready); /* a failure is logged there */
	daemonize_end(status_fd, 0, ready);

	run_loop(&run);
	/* The last stats record goes out with the rest (the line is logged at -v). */
	stats_write(&run, true, LOG_LEVEL_INFO);
	pipeline_write_stop(&d.pipeline, d.stop_reason);
	pipeline_flush(&d.pipeline);
	(void)sink_sock_flush(&d.sock, now_mono_ms(), true); /* nothing waits after it */
	daemon_free(&d);
	reload_close(&reload);
	loop_close(&loop);
	log_stop(LOG_STOP_MS);
	return 0;
}
