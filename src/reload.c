/*
 * reload.c - owns the configuration reload of SIGHUP: the reader thread and its job, and
 * the decision what of a new configuration is applied.
 *
 * Must not: read the config file, resolve a path, stat, open or look up a user on the loop
 * thread. After the first mark, an open of ours on a permission-marked filesystem waits for
 * an answer only the loop thread gives (a config kept in a --perm --mount /etc would hang
 * the daemon and every opener with it); a stat or lookup on FUSE or NFS may wait for ever.
 * So a short-lived thread does all of that: the loop goes on answering — the thread's
 * events carry our pid and are allowed at once (pipeline.c) — and takes the result when the
 * thread's eventfd says it is done.
 *
 * Handoff: the (detached) thread owns its job until it writes the eventfd, its last touch
 * of it; the loop then owns the job: the new config, policy and prepared paths move into
 * struct daemon, or are freed. The thread reads nothing of the daemon's: what it needs is
 * copied into the job.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "now.h"
#include "priv.h"
#include "reload.h"

#define RELOAD_MSG_MAX 1024
#define RELOAD_KEYS_MAX 32		/* names in a changed or refused list */

/* Paths as a plain list: a reload compares a few dozen, so linear search is enough. */
struct reload_paths {
	char **v;			/* owned strings */
	size_t n;
};

struct reload_job {
	pthread_t thread;		/* detached */
	int efd;			/* owned; a dup of struct reload's eventfd, so that a
					 * reader left behind at exit writes to no other file */
	/* In: set before the thread starts, read-only for it. */
	int argc;
	char **argv;			/* owned array (main's strings, one of ours) */
	char *config_arg;		/* owned; "--config=ABS" for a relative -c, or NULL */
	char *cwd;			/* owned copy */
	bool fid;			/* the daemon has an FID group: new watches need views */
	struct reload_paths old_watch;	/* the running config's --watch paths */
	/* Out: written by the thread, read by the loop after the eventfd. */
	int r;				/* 0, or negative errno with msg */
	char msg[RELOAD_MSG_MAX];
	struct config cfg;		/* the new config, paths absolute */
	struct policy *policy;		/* built from cfg */
	struct fan_watch *add;		/* watches to add, prepared */
	size_t n_add;
	struct fan_watch *del;		/* watches to remove, prepared */
	bool *del_keep;			/* ... each still at or above a new watch */
	size_t n_del;
	struct fan_watch *anc_add;	/* directories to watch for moves, prepared */
	size_t n_anc_add;
	struct fan_watch *anc_del;	/* ... not to watch any more */
	size_t n_anc_del;
	/* Mount and filesystem marks: the running config's (in: kinds and paths; out:
	 * prepared, those that still resolve) and the new config's, all prepared. */
	struct config_mark *old_mf;	/* owned array of owned paths */
	size_t n_old_mf;
	struct fan_watch *mf_before;
	size_t n_mf_before;
	struct fan_watch *mf_now;
	size_t n_mf_now;
	size_t mf_added, mf_removed;	/* config entries (kind and path) */
};

static bool paths_has(const struct reload_paths *p, const char *s)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i], s) == 0)
			return true;
	return false;
}

static int paths_add(struct reload_paths *p, const char *s)
{
	char **v;

	if (paths_has(p, s))
		return 0;
	v = realloc(p->v, (p->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->v = v;
	p->v[p->n] = strdup(s);
	if (!p->v[p->n])
		return -ENOMEM;
	p->n++;
	return 0;
}

static void paths_free(struct reload_paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

/* path and every directory above it, as fan.c's mark_ancestors() marks them. */
static int paths_add_ancestors(struct reload_paths *p, const char *path)
{
	char *s = strdup(path);
	size_t n = s ? strlen(s) : 0;
	int r = 0;

	if (!s)
		return -ENOMEM;
	for (;;) {
		r = paths_add(p, s);
		if (r < 0 || n <= 1)
			break;
		n = fdio_parent_len(s, n);
		s[n] = '\0';
	}
	free(s);
	return r;
}

static int watch_paths(const struct config *c, struct reload_paths *p)
{
	for (size_t i = 0; i < c->n_marks; i++) {
		if (c->marks[i].kind != CONFIG_MARK_INODE)
			continue;
		int r = paths_add(p, c->marks[i].path);

		if (r < 0)
			return r;
	}
	return 0;
}

static bool is_mf(enum config_mark_kind k)
{
	return k == CONFIG_MARK_MOUNT || k == CONFIG_MARK_FILESYSTEM;
}

/* Whether marks holds a mark of kind k on path. */
static bool mark_in(const struct config_mark *marks, size_t n, enum config_mark_kind k,
		    const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (marks[i].kind == k && strcmp(marks[i].path, path) == 0)
			return true;
	return false;
}

static void watches_free(struct fan_watch *w, size_t n)
{
	for (size_t i = 0; w && i < n; i++)
		fan_watch_free(&w[i]);
	free(w);
}

static void job_free(struct reload_job *j)
{
	if (!j)
		return;
	if (j->efd >= 0)
		(void)close(j->efd); /* an eventfd: nothing to flush */
	free(j->argv);
	free(j->config_arg);
	free(j->cwd);
	paths_free(&j->old_watch);
	config_free(&j->cfg);
	if (j->policy)
		policy_free(j->policy);
	free(j->policy);
	watches_free(j->add, j->n_add);
	watches_free(j->del, j->n_del);
	free(j->del_keep);
	watches_free(j->anc_add, j->n_anc_add);
	watches_free(j->anc_del, j->n_anc_del);
	for (size_t i = 0; j->old_mf && i < j->n_old_mf; i++)
		free(j->old_mf[i].path);
	free(j->old_mf);
	watches_free(j->mf_before, j->n_mf_before);
	watches_free(j->mf_now, j->n_mf_now);
	free(j);
}

/* dir + "/" + path for a relative path, as start-up's absolutize() did from the same
 * directory; "-" and absolute paths as they are. NULL only without memory. */
static char *absolute_from(const char *cwd, const char *path)
{
	char *out;

	if (path[0] == '/' || strcmp(path, "-") == 0)
		return strdup(path);
	if (asprintf(&out, "%s/%s", cwd, path) < 0)
		return NULL;
	return out;
}

static int absolutize_from(struct reload_job *j)
{
	struct config *c = &j->cfg;
	char **fields[] = { &c->output, &c->pid_file, &c->socket, &c->prometheus_file };

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		char *p;

		if (!*fields[i])
			continue;
		p = absolute_from(j->cwd, *fields[i]);
		if (!p)
			return -ENOMEM;
		free(*fields[i]);
		*fields[i] = p;
	}
	for (size_t i = 0; i < c->n_marks; i++) {
		char *abs = absolute_from(j->cwd, c->marks[i].path), *p;

		if (!abs)
			return -ENOMEM;
		p = realpath(abs, NULL);
		if (!p) {
			int r = -errno;

			snprintf(j->msg, sizeof(j->msg), "%s: %s", abs, strerror(-r));
			free(abs);
			return r;
		}
		free(abs);
		free(c->marks[i].path);
		c->marks[i].path = p;
	}
	return 0;
}

/* Prepares each path of want that is not in have (full: a watch, with its view). */
static int prepare_missing(struct reload_job *j, const struct reload_paths *want,
			   const struct reload_paths *have, bool full, bool must,
			   struct fan_watch **ret, size_t *ret_n)
{
	struct fan_watch *w = calloc(want->n + 1, sizeof(*w));
	size_t n = 0;

	if (!w)
		return -ENOMEM;
	*ret = w;
	for (size_t i = 0; i < want->n; i++) {
		int r;

		if (paths_has(have, want->v[i]))
			continue;
		r = fan_watch_prepare(&w[n], want->v[i], full && j->fid);
		if (r < 0 && must) {
			snprintf(j->msg, sizeof(j->msg), "%s: %s", want->v[i], strerror(-r));
			fan_watch_free(&w[n]);
			*ret_n = n;
			return r;
		}
		if (r < 0) {
			/* Gone or renamed: its marks went with it, or stay where it went. */
			log_info("reload: %s: %s; not unmarked", want->v[i], strerror(-r));
			fan_watch_free(&w[n]);
			continue;
		}
		n++;
	}
	*ret_n = n;
	return 0;
}

/* The watch diff: what to add and remove, each path opened here (off the loop). */
static int prepare_watches(struct reload_job *j)
{
	struct reload_paths now = { 0 }, anc_old = { 0 }, anc_new = { 0 };
	int r;

	r = watch_paths(&j->cfg, &now);
	for (size_t i = 0; r == 0 && i < j->old_watch.n; i++)
		r = paths_add_ancestors(&anc_old, j->old_watch.v[i]);
	for (size_t i = 0; r == 0 && i < now.n; i++)
		r = paths_add_ancestors(&anc_new, now.v[i]);
	if (r == 0)
		r = prepare_missing(j, &now, &j->old_watch, true, true, &j->add, &j->n_add);
	if (r == 0)
		r = prepare_missing(j, &j->old_watch, &now, false, false, &j->del, &j->n_del);
	if (r == 0) {
		j->del_keep = calloc(j->n_del + 1, sizeof(*j->del_keep));
		if (!j->del_keep)
			r = -ENOMEM;
		for (size_t i = 0; r == 0 && i < j->n_del; i++)
			j->del_keep[i] = paths_has(&anc_new, j->del[i].path);
	}
	if (r == 0 && j->fid)
		r = prepare_missing(j, &anc_new, &anc_old, false, false, &j->anc_add,
				    &j->n_anc_add);
	if (r == 0 && j->fid)
		r = prepare_missing(j, &anc_old, &anc_new, false, false, &j->anc_del,
				    &j->n_anc_del);
	paths_free(&now);
	paths_free(&anc_old);
	paths_free(&anc_new);
	return r;
}

/*
 * The mount and filesystem marks of both configs, each path opened here (off the loop):
 * the loop matches the kernel marks they need by mount and device ids, and marks and
 * unmarks through the fds. A new config's mark must resolve; a running one's that does
 * not any more went with its mount, or cannot be named to remove it (logged).
 */
static int prepare_mfs(struct reload_job *j)
{
	const struct config *c = &j->cfg;

	j->mf_before = calloc(j->n_old_mf + 1, sizeof(*j->mf_before));
	j->mf_now = calloc(c->n_marks + 1, sizeof(*j->mf_now));
	if (!j->mf_before || !j->mf_now)
		return -ENOMEM;
	for (size_t i = 0; i < j->n_old_mf; i++) {
		const struct config_mark *m = &j->old_mf[i];
		struct fan_watch *w = &j->mf_before[j->n_mf_before];
		int r = fan_mark_prepare(w, m->kind, m->path, false, false);

		if (!mark_in(c->marks, c->n_marks, m->kind, m->path))
			j->mf_removed++;
		if (r < 0) {
			fan_watch_free(w);
			if (r == -ENOMEM)
				return r;
			log_info("reload: %s: %s; its mark is not removed", m->path, strerror(-r));
			continue;
		}
		j->n_mf_before++;
	}
	for (size_t i = 0; i < c->n_marks; i++) {
		const struct config_mark *m = &c->marks[i];
		struct fan_watch *w = &j->mf_now[j->n_mf_now];
		bool added;
		int r;

		if (!is_mf(m->kind))
			continue;
		added = !mark_in(j->old_mf, j->n_old_mf, m->kind, m->path);
		/* A view only for a new mark: the running ones' views are in place. */
		r = fan_mark_prepare(w, m->kind, m->path, j->fid, added && j->fid);
		j->n_mf_now++;
		if (r < 0) {
			snprintf(j->msg, sizeof(j->msg), "%s: %s", m->path, strerror(-r));
			return r;
		}
		j->mf_added += added;
	}
	return 0;
}

static void *reader(void *arg)
{
	struct reload_job *j = arg;
	uint64_t one = 1;
	int r;

	config_init(&j->cfg);
	/* Started by the loop thread, with its CAP_SYS_ADMIN (permitted): this thread, which
	 * reads files a user may write, gives it up first. */
	r = priv_thread_lower();
	if (r < 0) {
		snprintf(j->msg, sizeof(j->msg), "cannot drop CAP_SYS_ADMIN: %s", strerror(-r));
		goto out;
	}
	/* config_from_args() as at start: the file, the command line over it, validation
	 * (the file's errors as FILE:LINE: message). */
	r = config_from_args(&j->cfg, j->argc, j->argv, j->msg, sizeof(j->msg));
	if (r == 0)
		r = absolutize_from(j);
	if (r == 0) {
		j->policy = calloc(1, sizeof(*j->policy));
		r = j->policy ? policy_init(j->policy, &j->cfg, j->msg, sizeof(j->msg)) : -ENOMEM;
	}
	if (r == 0)
		r = prepare_watches(j);
	if (r == 0)
		r = prepare_mfs(j);
	if (r == -ENOMEM)
		snprintf(j->msg, sizeof(j->msg), "out of memory");
out:
	j->r = r;
	/* The last touch of the job: from here the loop owns it (and may free it). An eventfd
	 * write of 1 fails, but for EINTR, only past 2^64 - 2 unread. */
	while (write(j->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	return NULL;
}

int reload_init(struct reload *r, int argc, char **argv)
{
	char cwd[PATH_MAX];

	memset(r, 0, sizeof(*r));
	r->efd = -1;
	r->argc = argc;
	r->argv = argv;
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	r->cwd = strdup(cwd);
	if (!r->cwd)
		return -ENOMEM;
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return r->efd < 0 ? -errno : 0;
}

int reload_start(struct reload *r, const struct daemon *d)
{
	struct reload_job *j;
	pthread_attr_t attr;
	int n = 0, e;

	if (r->job) {
		/* Usually a read that is about to end; one that does not is on a filesystem
		 * that does not answer, and no other read starts until it does. */
		if (r->again)
			log_rl(LOG_LEVEL_WARN, "reload: the config reader has not finished yet (a "
					       "hung filesystem?); one more read will follow it");
		r->again = true;
		return 0;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->efd = fcntl(r->efd, F_DUPFD_CLOEXEC, 0);
	if (j->efd < 0) {
		e = -errno;
		free(j);
		return e;
	}
	j->fid = d->fan.fid_fd >= 0;
	j->cwd = strdup(r->cwd);
	j->argv = calloc((size_t)r->argc + 2, sizeof(*j->argv));
	if (!j->cwd || !j->argv || watch_paths(&d->cfg, &j->old_watch) < 0)
		goto nomem;
	j->old_mf = calloc(d->cfg.n_marks + 1, sizeof(*j->old_mf));
	if (!j->old_mf)
		goto nomem;
	for (size_t i = 0; i < d->cfg.n_marks; i++) {
		struct config_mark *m = &j->old_mf[j->n_old_mf];

		if (!is_mf(d->cfg.marks[i].kind))
			continue;
		m->kind = d->cfg.marks[i].kind;
		m->path = strdup(d->cfg.marks[i].path);
		if (!m->path)
			goto nomem;
		j->n_old_mf++;
	}
	/* A relative --config names a file in the start-up directory (a daemon is in / by
	 * now): given again, absolute, after the others (the last one wins), before a
	 * closing "--". */
	for (int i = 0; i < r->argc; i++)
		j->argv[n++] = r->argv[i];
	if (d->cfg.config_file && d->cfg.config_file[0] != '/') {
		if (asprintf(&j->config_arg, "--config=%s/%s", r->cwd, d->cfg.config_file) < 0) {
			j->config_arg = NULL;
			goto nomem;
		}
		if (n > 1 && strcmp(j->argv[n - 1], "--") == 0) {
			j->argv[n] = j->argv[n - 1];
			j->argv[n - 1] = j->config_arg;
			n++;
		} else {
			j->argv[n++] = j->config_arg;
		}
	}
	j->argc = n;
	/* Detached: joining would make the loop wait until the thread is scheduled to exit
	 * after its eventfd write (tens of ms on a busy machine, while openers wait). */
	e = pthread_attr_init(&attr);
	if (e) {
		job_free(j);
		return -e;
	}
	e = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (!e)
		e = pthread_create(&j->thread, &attr, reader, j);
	(void)pthread_attr_destroy(&attr); /* cannot fail on glibc */
	if (e) {
		job_free(j);
		return -e;
	}
	r->job = j;
	r->again = false;
	return 0;
nomem:
	job_free(j);
	return -ENOMEM;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool strs_eq(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

static bool jobs_eq(const struct config *a, const struct config *b)
{
	if (a->n_jobs != b->n_jobs)
		return false;
	for (size_t i = 0; i < a->n_jobs; i++) {
		if (!str_eq(a->jobs[i].id, b->jobs[i].id))
			return false;
		for (int role = 0; role < CONFIG_ROLE_COUNT; role++)
			if (!str_eq(a->jobs[i].root[role], b->jobs[i].root[role]))
				return false;
		if (!str_eq(a->jobs[i].cgroup, b->jobs[i].cgroup))
			return false;
	}
	return true;
}

/* Marks of kind k in a that b lacks. */
static bool marks_missing(const struct config *a, const struct config *b,
			  enum config_mark_kind k)
{
	for (size_t i = 0; i < a->n_marks; i++) {
		bool found = false;

		if (a->marks[i].kind != k)
			continue;
		for (size_t m = 0; m < b->n_marks && !found; m++)
			found = b->marks[m].kind == k && strcmp(b->marks[m].path, a->marks[i].path) == 0;
		if (!found)
			return true;
	}
	return false;
}

struct names {
	const char *v[RELOAD_KEYS_MAX];
	size_t n;
};

static void name_add(struct names *l, const char *key)
{
	if (l->n < RELOAD_KEYS_MAX)
		l->v[l->n++] = key;
}

/*
 * Keys that cannot change while running, each with its reason logged. The groups, their
 * classes and events are made once (--perm, no_fid, events, access_perm, allow_cache); the
 * output, pid file and socket are opened, and NSS looked up, before the first mark (a new
 * path or group would need an open or lookup on the loop thread, or on a filesystem a mark
 * makes wait for us); mount and filesystem marks need CAP_SYS_ADMIN, which is kept (for
 * the loop thread, permitted only) when the daemon was started with a config file.
 */
static void refusals(const struct daemon *d, const struct config *o, const struct config *n,
		     struct names *out)
{
	static const char restart[] = "restart the daemon to change it";
	const struct {
		const char *key;
		bool differs;
		const char *why;
	} checks[] = {
		{ "perm", o->perm != n->perm, "the groups' class is fixed when they are made" },
		{ "no_fid", o->no_fid != n->no_fid, "the groups' reporting is fixed when made" },
		{ "events", o->events != n->events, "every mark would change" },
		{ "access_perm", o->access_perm != n->access_perm, "every mark would change" },
		{ "allow_cache", o->allow_cache != n->allow_cache, "fixed at start" },
		{ "record_host", o->record_host != n->record_host,
		  "a run's records keep the fields its start record set" },
		{ "output", !str_eq(o->output, n->output), "opened before the first mark" },
		{ "output_mode", o->output_mode_set != n->output_mode_set ||
					 o->output_mode != n->output_mode,
		  "the output's settings are made when it is opened at start" },
		{ "output_group", !str_eq(o->output_group, n->output_group),
		  "an NSS lookup, made before the first mark" },
		{ "pid_file", !str_eq(o->pid_file, n->pid_file), "written at start" },
		{ "format", o->format != n->format, "the output's format is fixed at start" },
		{ "prometheus_file", !str_eq(o->prometheus_file, n->prometheus_file),
		  "its directory is opened before the first mark" },
		{ "foreground", o->foreground != n->foreground, "fixed at start" },
		{ "socket", !str_eq(o->socket, n->socket), "bound before the first mark" },
		{ "socket_mode", o->socket_mode != n->socket_mode, "set when bound" },
		{ "socket_group", !str_eq(o->socket_group, n->socket_group),
		  "an NSS lookup, made before the first mark" },
		{ "socket_buffer_kb", o->socket_buffer_kb != n->socket_buffer_kb,
		  "subscribers' buffers are sized at start" },
		{ "socket_max_clients", o->socket_max_clients != n->socket_max_clients,
		  "fixed at start" },
		{ "hook_user", !str_eq(o->hook_user, n->hook_user),
		  "an NSS lookup and capabilities, settled before the first mark" },
		{ "hook", n->hook && d->hook.null_fd < 0,
		  "no hook at start: its pipe and /dev/null are opened before the first mark" },
		{ "mount", !d->priv.admin && (marks_missing(o, n, CONFIG_MARK_MOUNT) ||
					      marks_missing(n, o, CONFIG_MARK_MOUNT)),
		  "mount marks need CAP_SYS_ADMIN, not kept after start" },
		{ "filesystem", !d->priv.admin && (marks_missing(o, n, CONFIG_MARK_FILESYSTEM) ||
						   marks_missing(n, o, CONFIG_MARK_FILESYSTEM)),
		  "filesystem marks need CAP_SYS_ADMIN, not kept after start" },
		{ "deny_on_alert", o->deny_on_alert && !n->deny_on_alert &&
					   policy_containing(d->policy, pipeline_policy_ms(&d->pipeline)),
		  "a process is contained: turning it off would release it" },
	};

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		if (!checks[i].differs)
			continue;
		name_add(out, checks[i].key);
		log_warnx("reload: %s cannot change while running (%s); %s", checks[i].key,
			  checks[i].why, restart);
	}
}

static void changes(const struct config *o, const struct config *n, const struct reload_job *j,
		    struct names *out)
{
	const struct {
		const char *key;
		bool differs;
	} checks[] = {
		{ "canary", !strs_eq(o->canaries, o->n_canaries, n->canaries, n->n_canaries) },
		{ "job", !jobs_eq(o, n) },
		{ "burst_threshold", o->burst_threshold != n->burst_threshold },
		{ "burst_window_ms", o->burst_window_ms != n->burst_window_ms },
		/* The scopes and each scope's own threshold and window, as one. */
		{ "burst_scope", o->burst_scopes != n->burst_scopes ||
					 memcmp(o->burst_threshold_scope, n->burst_threshold_scope,
						sizeof(o->burst_threshold_scope)) != 0 ||
					 memcmp(o->burst_window_ms_scope, n->burst_window_ms_scope,
						sizeof(o->burst_window_ms_scope)) != 0 },
		{ "hook_cooldown_ms", o->hook_cooldown_ms != n->hook_cooldown_ms },
		{ "quarantine_ms", o->quarantine_ms != n->quarantine_ms },
		{ "deny_on_alert", o->deny_on_alert != n->deny_on_alert },
		{ "hook", !str_eq(o->hook, n->hook) },
		{ "hook_timeout_ms", o->hook_timeout_ms != n->hook_timeout_ms },
		{ "hook_max", o->hook_max != n->hook_max },
		{ "stats_interval_ms", o->stats_interval_ms != n->stats_interval_ms },
		{ "spin_us", o->spin_us != n->spin_us },
		{ "exec_hold_ms", o->exec_hold_ms != n->exec_hold_ms },
		{ "verbose", o->verbose != n->verbose },
		{ "watch", j->n_add || j->n_del },
		{ "mount", marks_missing(o, n, CONFIG_MARK_MOUNT) ||
				   marks_missing(n, o, CONFIG_MARK_MOUNT) },
		{ "filesystem", marks_missing(o, n, CONFIG_MARK_FILESYSTEM) ||
					marks_missing(n, o, CONFIG_MARK_FILESYSTEM) },
	};

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if (checks[i].differs)
			name_add(out, checks[i].key);
}

static unsigned views_count(const struct fan *f)
{
	unsigned n = 0;

	for (size_t i = 0; i < f->n_fs; i++)
		n += (unsigned)f->fs[i].n_views;
	return n;
}

/* CAP_SYS_ADMIN effective for fan's mount and filesystem mark calls, and out at once. */
static int admin_raise(const struct daemon *d, char *msg, size_t msg_len)
{
	int r = priv_admin(&d->priv, true);

	if (r < 0)
		snprintf(msg, msg_len, "cannot raise CAP_SYS_ADMIN for mount and filesystem "
				       "marks: %s", strerror(-r));
	return r;
}

static void admin_lower(const struct daemon *d)
{
	int r = priv_admin(&d->priv, false);

	/* Lowering a capability we hold cannot fail but for a broken kernel: say so loudly. */
	if (r < 0)
		log_errno(LOG_LEVEL_ERR, r, "reload: cannot lower CAP_SYS_ADMIN");
}

/* The new config's mount and filesystem marks, placed: those it shares with the running
 * config are in place already. */
static int mfs_add(struct daemon *d, struct reload_job *j, char *msg, size_t msg_len)
{
	int r = admin_raise(d, msg, msg_len);

	if (r < 0)
		return r;
	r = fan_marks_add(&d->fan, j->mf_before, j->n_mf_before, j->mf_now, j->n_mf_now, msg,
			  msg_len);
	admin_lower(d);
	return r;
}

/* from's kernel marks that to does not need, removed (to = the new config: the old
 * ones go; to = the running config: the new ones are taken back). */
static void mfs_remove(struct daemon *d, const struct fan_watch *from, size_t n_from,
		       const struct fan_watch *to, size_t n_to)
{
	char msg[RELOAD_MSG_MAX];

	if (admin_raise(d, msg, sizeof(msg)) < 0) {
		log_warnx("reload: %s; they stay", msg);
		return;
	}
	(void)fan_marks_remove(&d->fan, from, n_from, to, n_to); /* each failure logged */
	admin_lower(d);
}

/* New marks first, then the old ones go: no moment watches less than both configs. On a
 * failure the new marks placed so far are taken back, and the old config stays whole. */
static int apply_marks(struct daemon *d, struct reload_job *j, char *msg, size_t msg_len)
{
	unsigned views = views_count(&d->fan);
	bool mfs = j->mf_added || j->mf_removed;
	size_t i;
	int r = 0;

	if (mfs) {
		r = mfs_add(d, j, msg, msg_len);
		if (r < 0)
			return r;
	}
	for (i = 0; i < j->n_add; i++) {
		r = fan_watch_add(&d->fan, &j->add[i], msg, msg_len);
		if (r < 0)
			break;
	}
	if (r < 0) {
		while (i--)
			(void)fan_watch_remove(&d->fan, &j->add[i], true);
		if (mfs)
			mfs_remove(d, j->mf_now, j->n_mf_now, j->mf_before, j->n_mf_before);
		return r;
	}
	for (i = 0; i < j->n_anc_add; i++)
		fan_move_mark(&d->fan, &j->anc_add[i], true);
	for (i = 0; i < j->n_del; i++)
		if (fan_watch_remove(&d->fan, &j->del[i], j->del_keep[i]) < 0)
			log_warn("reload: %s: cannot remove its marks", j->del[i].path);
	for (i = 0; i < j->n_anc_del; i++)
		fan_move_mark(&d->fan, &j->anc_del[i], false);
	if (mfs) {
		mfs_remove(d, j->mf_before, j->n_mf_before, j->mf_now, j->n_mf_now);
		fan_marks_commit(&d->fan, j->mf_now, j->n_mf_now);
	}
	/* Views are kept for the daemon's life: read sizes count them as fixed. */
	d->pipeline.fds_fixed += views_count(&d->fan) - views;
	return 0;
}

static void write_record(struct daemon *d, const char *status, const struct names *changed,
			 const struct names *refused, unsigned added, unsigned removed,
			 const char *error)
{
	struct record_reload rec = {
		.status = status,
		.changed = changed ? changed->v : NULL,
		.n_changed = changed ? changed->n : 0,
		.refused = refused ? refused->v : NULL,
		.n_refused = refused ? refused->n : 0,
		.marks_added = added,
		.marks_removed = removed,
		.error = error,
	};

	pipeline_write_reload(&d->pipeline, &rec);
}

/* The new config and policy take over; the old ones are freed. */
static void apply_config(struct daemon *d, struct reload_job *j)
{
	struct policy *old = d->policy;

	policy_carry(j->policy, old);
	d->policy = j->policy;
	j->policy = NULL;
	pipeline_set_policy(&d->pipeline, d->policy);
	policy_free(old);
	free(old);
	/* A file allowed before may be a canary now, or belong to a job, or be denied. */
	cache_flush(&d->cache);
	hook_configure(&d->hook, j->cfg.hook, j->cfg.hook_max, j->cfg.hook_timeout_ms);
	log_setup(j->cfg.verbose, !j->cfg.foreground);
	if (j->cfg.stats_interval_ms != d->cfg.stats_interval_ms)
		d->stats_due_ms = 0; /* the next one an interval from now */
	config_free(&d->cfg);
	d->cfg = j->cfg; /* the strings move: policy and hook borrow them */
	memset(&j->cfg, 0, sizeof(j->cfg));
}

enum reload_status reload_finish(struct reload *r, struct daemon *d)
{
	struct reload_job *j = r->job;
	struct names changed = { .n = 0 }, refused = { .n = 0 };
	char msg[RELOAD_MSG_MAX];
	enum reload_status st;
	uint64_t n;
	int e;

	if (read(r->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("reload: eventfd");
	if (!j)
		return RELOAD_NONE;
	/* The thread wrote the eventfd as its last touch of the job: the job is ours. */
	r->job = NULL;
	if (j->r < 0) {
		log_warnx("reload: %s; the running configuration stays", j->msg);
		write_record(d, "failed", NULL, NULL, 0, 0, j->msg);
		st = RELOAD_FAILED;
		goto out;
	}
	refusals(d, &d->cfg, &j->cfg, &refused);
	if (refused.n) {
		write_record(d, "refused", NULL, &refused, 0, 0,
			     "keys that cannot change while running changed");
		st = RELOAD_REFUSED;
		goto out;
	}
	changes(&d->cfg, &j->cfg, j, &changed);
	if (apply_marks(d, j, msg, sizeof(msg)) < 0) {
		log_warnx("reload: %s; the running configuration stays", msg);
		write_record(d, "failed", NULL, NULL, 0, 0, msg);
		st = RELOAD_FAILED;
		goto out;
	}
	apply_config(d, j);
	if (changed.n) {
		char list[512] = "";

		for (size_t i = 0; i < changed.n; i++) {
			size_t len = strlen(list);

			snprintf(list + len, sizeof(list) - len, "%s%s", i ? " " : "", changed.v[i]);
		}
		if (j->mf_added || j->mf_removed)
			log_notice("reload: applied (%s; %zu watch(es) added, %zu removed; %zu mount "
				   "or filesystem mark(s) added, %zu removed)", list, j->n_add,
				   j->n_del, j->mf_added, j->mf_removed);
		else
			log_notice("reload: applied (%s; %zu watch(es) added, %zu removed)", list,
				   j->n_add, j->n_del);
		st = RELOAD_APPLIED;
	} else {
		log_notice("reload: configuration unchanged");
		st = RELOAD_UNCHANGED;
	}
	write_record(d, st == RELOAD_APPLIED ? "applied" : "unchanged", &changed, NULL,
		     (unsigned)(j->n_add + j->mf_added), (unsigned)(j->n_del + j->mf_removed), NULL);
out:
	job_free(j);
	if (r->again) {
		e = reload_start(r, d);
		if (e < 0)
			log_errno(LOG_LEVEL_WARN, e, "reload: cannot start the config reader");
	}
	return st;
}

void reload_close(struct reload *r)
{
	if (r->job)
		log_info("reload: the config reader is still running; left to end with us");
	r->job = NULL;
	if (r->efd >= 0)
		(void)close(r->efd); /* an eventfd: nothing to flush */
	r->efd = -1;
	free(r->cwd);
	r->cwd = NULL;
}
