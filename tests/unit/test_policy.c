/*
 * test_policy.c - policy.c: the job-root matcher (path components, trailing slashes,
 * longest match, nested roots of different jobs, a shared cache, hundreds of roots, deep
 * paths), fnmatch canaries (both sides of '*' vs '/', '?', '[...]', escapes, exact
 * patterns, rename by either name), canary reasons by mask, the burst window (edge of the
 * window, threshold 0, count/window_ms, one alert then restart), the cooldown (per process
 * and kind, escalation, suppressed alerts counted, decisions never limited), containment
 * verdicts and the bounded process table (eviction, LRU, quarantined processes kept); job
 * cgroups (longest prefix by components, sibling names, path_role on the job's own paths
 * only, alerts, a process in no job's cgroup keeping the path's tags).
 *
 * Time is an argument: no test reads the clock. The config is filled by hand (config.c is
 * not linked); config_role_name() and config_scope_name() are defined here.
 */
#include <errno.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compat.h"
#include "policy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* config.c is not linked: the one function policy.c needs from it. */
const char *config_role_name(enum config_role role)
{
	static const char *const names[CONFIG_ROLE_COUNT] = { "rootfs", "workspace", "export",
							      "cache" };

	if ((unsigned)role >= CONFIG_ROLE_COUNT)
		return NULL;
	return names[role];
}

const char *config_scope_name(enum config_scope scope)
{
	static const char *const names[CONFIG_SCOPE_COUNT] = { "process", "parent", "session",
							       "uid",	  "exe",    "cgroup",
							       "job" };

	if ((unsigned)scope >= CONFIG_SCOPE_COUNT)
		return NULL;
	return names[scope];
}

/* ---- helpers -------------------------------------------------------------------------- */

/* A job as the test writes it: roots in role order, NULL = not set. */
struct tjob {
	const char *id;
	const char *root[CONFIG_ROLE_COUNT];
};

/* The defaults config_init() would set, without linking config.c. */
static void cfg_base(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->burst_threshold = 0;
	c->burst_window_ms = 1000;
	c->hook_cooldown_ms = 5000;
	c->hook_timeout_ms = 10000;
	c->hook_max = 4;
	c->quarantine_ms = 1000;
}

/* Points c at jobs/canaries held by the caller (policy.c only borrows them). */
static void cfg_jobs(struct config *c, struct config_job *store, const struct tjob *jobs,
		     size_t n)
{
	for (size_t i = 0; i < n; i++) {
		store[i].id = (char *)jobs[i].id;
		for (int r = 0; r < CONFIG_ROLE_COUNT; r++)
			store[i].root[r] = (char *)jobs[i].root[r];
		store[i].cgroup = NULL;
	}
	c->jobs = store;
	c->n_jobs = n;
}

/*
 * Policies and buffers a test still holds when an assertion fails (cmocka longjmps out of
 * the test): the per-test teardown frees them, so a failing case does not also show up as
 * a leak under ASan.
 */
#define LIVE_MAX 16
static struct policy *live_policies[LIVE_MAX];
static void *live_bufs[LIVE_MAX];

static void live_add(void **set, void *ptr)
{
	for (int i = 0; i < LIVE_MAX; i++)
		if (!set[i]) {
			set[i] = ptr;
			return;
		}
	fail_msg("more than %d live objects in one test", LIVE_MAX);
}

static void live_drop(void **set, void *ptr)
{
	for (int i = 0; i < LIVE_MAX; i++)
		if (set[i] == ptr)
			set[i] = NULL;
}

static int free_live(void **state)
{
	(void)state;
	for (int i = 0; i < LIVE_MAX; i++) {
		if (live_policies[i]) {
			policy_free(live_policies[i]);
			free(live_policies[i]);
			live_policies[i] = NULL;
		}
		free(live_bufs[i]);
		live_bufs[i] = NULL;
	}
	return 0;
}

/* Alerts eval() got back since the last pol_new() (the policy keeps no such count: the
 * pipeline counts the alert records). */
static uint64_t alerts_raised;

static struct policy *pol_new(const struct config *c)
{
	struct policy *p = calloc(1, sizeof(*p));
	char msg[256] = "";

	assert_non_null(p);
	alerts_raised = 0;
	live_add((void **)live_policies, p);
	if (policy_init(p, c, msg, sizeof(msg)) != 0)
		fail_msg("policy_init failed: %s", msg);
	return p;
}

static void pol_del(struct policy *p)
{
	live_drop((void **)live_policies, p);
	policy_free(p);
	free(p);
}

static void eval(struct policy *p, uint64_t mask, pid_t pid, const char *path,
		 const char *old_path, uint64_t now_ms, struct policy_result *r)
{
	struct policy_input in = {
		.mask = mask,
		.pid = pid,
		.path = path,
		.old_path = old_path,
		.now_ms = now_ms,
	};

	policy_eval(p, &in, r);
	alerts_raised += r->n_alerts;
}

static void assert_str_or_null(const char *got, const char *want, const char *what)
{
	if (!want && !got)
		return;
	if (!want || !got || strcmp(want, got) != 0)
		fail_msg("%s: got %s%s%s, want %s%s%s", what, got ? "'" : "", got ? got : "NULL",
			 got ? "'" : "", want ? "'" : "", want ? want : "NULL", want ? "'" : "");
}

/* Index of the first alert of a kind in r, or -1. */
static int alert_of(const struct policy_result *r, enum alert_kind kind)
{
	for (unsigned i = 0; i < r->n_alerts; i++)
		if (r->alerts[i].kind == kind)
			return (int)i;
	return -1;
}

/* ---- job roots ----------------------------------------------------------------------- */

static const struct tjob tag_jobs[] = {
	{ "J",
	  { "/run/jobs/J/root", "/run/jobs/J/workspace/", "/run/jobs/J/export//",
	    "/var/cache/job-platform" } },
	{ "K", { "/run/jobs/K/root", NULL, NULL, "/var/cache/job-platform/" } },
	/* Nested inside J's rootfs, another job: the longer root wins below it. */
	{ "N", { NULL, "/run/jobs/J/root/home/N", NULL, NULL } },
};

struct tag_case {
	const char *name;
	const char *path;
	const char *job;
	const char *role;
};

static const struct tag_case tag_cases[] = {
	{ "root itself", "/run/jobs/J/root", "J", "rootfs" },
	{ "root with trailing slash", "/run/jobs/J/root/", "J", "rootfs" },
	{ "file under root", "/run/jobs/J/root/etc/shadow", "J", "rootfs" },
	{ "double slash under root", "/run/jobs/J/root//etc", "J", "rootfs" },
	{ "sibling root2 not under root", "/run/jobs/J/root2", NULL, NULL },
	{ "file in sibling root2", "/run/jobs/J/root2/etc/shadow", NULL, NULL },
	{ "prefix of a root name", "/run/jobs/J/roo", NULL, NULL },
	{ "parent of the roots", "/run/jobs/J", NULL, NULL },
	{ "workspace given with trailing slash", "/run/jobs/J/workspace", "J", "workspace" },
	{ "deep in workspace", "/run/jobs/J/workspace/a/b/c", "J", "workspace" },
	{ "workspace sibling", "/run/jobs/J/workspace.old/a", NULL, NULL },
	{ "export given with two trailing slashes", "/run/jobs/J/export/out.tar", "J", "export" },
	{ "other job's root", "/run/jobs/K/root/bin/sh", "K", "rootfs" },
	{ "nested root of another job wins", "/run/jobs/J/root/home/N/file", "N", "workspace" },
	{ "nested root itself", "/run/jobs/J/root/home/N", "N", "workspace" },
	{ "nested root's sibling stays outer", "/run/jobs/J/root/home/No/file", "J", "rootfs" },
	{ "outer root beside the nested one", "/run/jobs/J/root/home", "J", "rootfs" },
	{ "shared cache: role, no job", "/var/cache/job-platform/pkg.tar", NULL, "cache" },
	{ "shared cache itself", "/var/cache/job-platform", NULL, "cache" },
	{ "shared cache sibling", "/var/cache/job-platform-old/x", NULL, NULL },
	{ "outside every root", "/etc/passwd", NULL, NULL },
	{ "slash", "/", NULL, NULL },
	{ "relative path", "run/jobs/J/root/x", NULL, NULL },
	{ "empty path", "", NULL, NULL },
	{ "unknown path", NULL, NULL, NULL },
};

static void test_tag_table(void **state)
{
	struct config c;
	struct config_job store[ARRAY_SIZE(tag_jobs)];
	struct policy *p;

	(void)state;
	cfg_base(&c);
	cfg_jobs(&c, store, tag_jobs, ARRAY_SIZE(tag_jobs));
	p = pol_new(&c);
	for (size_t i = 0; i < ARRAY_SIZE(tag_cases); i++) {
		const struct tag_case *t = &tag_cases[i];
		const char *job = "unset", *role = "unset";
		char what[160];

		policy_tag(p, t->path, &job, &role);
		snprintf(what, sizeof(what), "%s (%s): job_id", t->name, t->path ? t->path : "NULL");
		assert_str_or_null(job, t->job, what);
		snprintf(what, sizeof(what), "%s (%s): path_role", t->name,
			 t->path ? t->path : "NULL");
		assert_str_or_null(role, t->role, what);
	}
	pol_del(p);
}

/* The result of policy_eval() carries the same tags, by the new path or else the old one. */
static void test_tag_in_eval(void **state)
{
	struct config c;
	struct config_job store[ARRAY_SIZE(tag_jobs)];
	struct policy *p;
	struct policy_result r;

	(void)state;
	cfg_base(&c);
	cfg_jobs(&c, store, tag_jobs, ARRAY_SIZE(tag_jobs));
	p = pol_new(&c);

	eval(p, FAN_MODIFY, 10, "/run/jobs/J/workspace/f", NULL, 1, &r);
	assert_str_or_null(r.job_id, "J", "modify in workspace: job");
	assert_str_or_null(r.path_role, "workspace", "modify in workspace: role");
	assert_int_equal(r.verdict, VERDICT_OBSERVE);

	eval(p, FAN_RENAME, 10, "/tmp/out", "/run/jobs/J/export/f", 2, &r);
	assert_str_or_null(r.job_id, "J", "rename out of export: job from old path");
	assert_str_or_null(r.path_role, "export", "rename out of export: role from old path");

	eval(p, FAN_RENAME, 10, "/run/jobs/K/root/f", "/run/jobs/J/export/f", 3, &r);
	assert_str_or_null(r.job_id, "K", "rename between jobs: job of the new path");
	assert_str_or_null(r.path_role, "rootfs", "rename between jobs: role of the new path");

	eval(p, FAN_OPEN, 10, "/run/jobs/J/root2/f", NULL, 4, &r);
	assert_null(r.job_id);
	assert_null(r.path_role);
	pol_del(p);
}

/* An alert carries the tags of its own path, which for a rename may differ from the event's;
 * seq, ts_ms and proc are the pipeline's to fill. */
static void test_tag_in_alerts(void **state)
{
	static const struct tjob jobs[] = {
		{ "J", { "/run/jobs/J/root", "/run/jobs/J/workspace", NULL, NULL } },
		{ "K", { "/run/jobs/K/root", NULL, NULL, NULL } },
	};
	static const struct {
		const char *name;
		uint64_t mask;
		const char *path, *old_path;
		const char *event_job, *event_role;	/* the event's tags */
		const char *alert_path;
		const char *alert_job, *alert_role;	/* the alert's */
	} cases[] = {
		{ "open in a root", FAN_OPEN, "/run/jobs/J/root/canary", NULL, "J", "rootfs",
		  "/run/jobs/J/root/canary", "J", "rootfs" },
		{ "open outside every root", FAN_OPEN, "/tmp/canary", NULL, NULL, NULL,
		  "/tmp/canary", NULL, NULL },
		{ "canary renamed out of every root", FAN_RENAME, "/tmp/x",
		  "/run/jobs/J/workspace/canary", "J", "workspace", "/run/jobs/J/workspace/canary",
		  "J", "workspace" },
		{ "canary renamed into another job", FAN_RENAME, "/run/jobs/K/root/x",
		  "/run/jobs/J/workspace/canary", "K", "rootfs", "/run/jobs/J/workspace/canary",
		  "J", "workspace" },
		{ "canary from outside renamed into a job", FAN_RENAME, "/run/jobs/K/root/x",
		  "/tmp/canary", "K", "rootfs", "/tmp/canary", NULL, NULL },
		{ "renamed onto a canary name", FAN_RENAME, "/run/jobs/K/root/canary",
		  "/run/jobs/J/root/x", "K", "rootfs", "/run/jobs/K/root/canary", "K", "rootfs" },
		{ "moved from, no new path", FAN_MOVED_FROM, "/run/jobs/J/root/canary", NULL, "J",
		  "rootfs", "/run/jobs/J/root/canary", "J", "rootfs" },
	};
	static char *canaries[] = { "/*/canary", "/run/jobs/*/*/canary" };
	struct config c;
	struct config_job store[ARRAY_SIZE(jobs)];
	struct policy *p;
	struct policy_result r;
	char what[160];

	(void)state;
	cfg_base(&c);
	cfg_jobs(&c, store, jobs, ARRAY_SIZE(jobs));
	c.canaries = canaries;
	c.n_canaries = ARRAY_SIZE(canaries);
	p = pol_new(&c);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		/* A new process each time: no cooldown between cases. */
		eval(p, cases[i].mask, 20 + (pid_t)i, cases[i].path, cases[i].old_path, 1, &r);
		if (r.n_alerts != 1)
			fail_msg("%s: %u alerts", cases[i].name, r.n_alerts);
		snprintf(what, sizeof(what), "%s: event job", cases[i].name);
		assert_str_or_null(r.job_id, cases[i].event_job, what);
		snprintf(what, sizeof(what), "%s: event role", cases[i].name);
		assert_str_or_null(r.path_role, cases[i].event_role, what);
		snprintf(what, sizeof(what), "%s: alert path", cases[i].name);
		assert_str_or_null(r.alerts[0].path, cases[i].alert_path, what);
		snprintf(what, sizeof(what), "%s: alert job", cases[i].name);
		assert_str_or_null(r.alerts[0].job_id, cases[i].alert_job, what);
		snprintf(what, sizeof(what), "%s: alert role", cases[i].name);
		assert_str_or_null(r.alerts[0].path_role, cases[i].alert_role, what);
		assert_int_equal(r.alerts[0].kind, ALERT_CANARY);
		assert_int_equal(r.alerts[0].pid, 20 + (pid_t)i);
		assert_int_equal(r.alerts[0].seq, 0);
		assert_int_equal(r.alerts[0].ts_ms, 0);
		assert_null(r.alerts[0].proc);
	}
	pol_del(p);
}

/* "/" as a root covers every absolute path; longer roots still win. */
static void test_tag_slash_root(void **state)
{
	static const struct tjob jobs[] = {
		{ "ALL", { "//", NULL, NULL, NULL } },
		{ "J", { "/run/jobs/J/root", NULL, NULL, NULL } },
	};
	struct config c;
	struct config_job store[ARRAY_SIZE(jobs)];
	struct policy *p;
	const char *job, *role;

	(void)state;
	cfg_base(&c);
	cfg_jobs(&c, store, jobs, ARRAY_SIZE(jobs));
	p = pol_new(&c);
	policy_tag(p, "/", &job, &role);
	assert_str_or_null(job, "ALL", "/ itself");
	policy_tag(p, "/etc/passwd", &job, &role);
	assert_str_or_null(job, "ALL", "/etc/passwd");
	assert_str_or_null(role, "rootfs", "/etc/passwd role");
	policy_tag(p, "/run/jobs/J/root/x", &job, &role);
	assert_str_or_null(job, "J", "under the longer root");
	policy_tag(p, "/run/jobs/J/root2/x", &job, &role);
	assert_str_or_null(job, "ALL", "beside the longer root");
	policy_tag(p, "relative", &job, &role);
	assert_null(job);
	assert_null(role);
	pol_del(p);
}

/* 100 jobs x 3 roles + one cache shared by all of them: every lookup still exact. */
#define MANY_JOBS 100
static void test_tag_300_roots(void **state)
{
	static char ids[MANY_JOBS][16];
	static char roots[MANY_JOBS][3][48];
	struct config_job store[MANY_JOBS];
	struct config c;
	struct policy *p;
	char path[128];
	const char *job, *role;

	(void)state;
	cfg_base(&c);
	memset(store, 0, sizeof(store));
	for (int j = 0; j < MANY_JOBS; j++) {
		snprintf(ids[j], sizeof(ids[j]), "j%03d", j);
		snprintf(roots[j][0], sizeof(roots[j][0]), "/run/jobs/j%03d/root", j);
		snprintf(roots[j][1], sizeof(roots[j][1]), "/run/jobs/j%03d/workspace", j);
		snprintf(roots[j][2], sizeof(roots[j][2]), "/srv/export/j%03d", j);
		store[j].id = ids[j];
		store[j].root[CONFIG_ROLE_ROOTFS] = roots[j][0];
		store[j].root[CONFIG_ROLE_WORKSPACE] = roots[j][1];
		store[j].root[CONFIG_ROLE_EXPORT] = roots[j][2];
		store[j].root[CONFIG_ROLE_CACHE] = (char *)"/var/cache/job-platform";
	}
	c.jobs = store;
	c.n_jobs = MANY_JOBS;
	p = pol_new(&c);
	assert_int_equal(p->n_roots, MANY_JOBS * 3 + 1);
	for (int j = 0; j < MANY_JOBS; j++) {
		snprintf(path, sizeof(path), "/run/jobs/j%03d/root/etc/x", j);
		policy_tag(p, path, &job, &role);
		assert_str_or_null(job, ids[j], path);
		assert_str_or_null(role, "rootfs", path);
		snprintf(path, sizeof(path), "/run/jobs/j%03d/workspace", j);
		policy_tag(p, path, &job, &role);
		assert_str_or_null(job, ids[j], path);
		assert_str_or_null(role, "workspace", path);
		snprintf(path, sizeof(path), "/srv/export/j%03d/a/b", j);
		policy_tag(p, path, &job, &role);
		assert_str_or_null(job, ids[j], path);
		assert_str_or_null(role, "export", path);
		snprintf(path, sizeof(path), "/run/jobs/j%03d/root2/x", j);
		policy_tag(p, path, &job, &role);
		assert_null(job);
		assert_null(role);
		snprintf(path, sizeof(path), "/srv/export/j%03d0/x", j);
		policy_tag(p, path, &job, &role);
		assert_null(job);
	}
	policy_tag(p, "/var/cache/job-platform/x", &job, &role);
	assert_null(job);
	assert_str_or_null(role, "cache", "shared by 100 jobs");
	pol_del(p);
}

/* "/a" followed by "/b" until the path has depth components; malloc'd. */
static char *deep_path(int depth, const char *suffix)
{
	char *s = malloc(2 * (size_t)depth + strlen(suffix) + 8);
	size_t n;

	assert_non_null(s);
	live_add(live_bufs, s);
	n = (size_t)sprintf(s, "/a");
	for (int i = 1; i < depth; i++)
		n += (size_t)sprintf(s + n, "/b");
	strcpy(s + n, suffix);
	return s;
}

/* A path of 2000 components (as deep as PATH_MAX allows) below a shallow root. */
static void test_tag_deep_path(void **state)
{
	static const struct tjob jobs[] = { { "OUTER", { "/a/b", NULL, NULL, NULL } } };
	struct config_job store[1];
	struct config c;
	struct policy *p;
	char *deep = deep_path(2000, "/f");
	const char *job, *role;

	(void)state;
	cfg_base(&c);
	cfg_jobs(&c, store, jobs, 1);
	p = pol_new(&c);
	policy_tag(p, deep, &job, &role);
	assert_str_or_null(job, "OUTER", "2000-component path");
	assert_str_or_null(role, "rootfs", "2000-component path");
	deep[3] = 'c'; /* "/a/c/b/..." */
	policy_tag(p, deep, &job, &role);
	assert_null(job);
	pol_del(p);
	live_drop(live_bufs, deep);
	free(deep);
}

/* A root nested deep (520 components) inside another: the longest root still wins. */
static void test_tag_deep_nested_root(void **state)
{
	char *inner = deep_path(520, "");
	char *file = deep_path(520, "/f");
	char *deeper = deep_path(600, "/f");
	struct tjob jobs[2] = { { "OUTER", { "/a", NULL, NULL, NULL } },
				{ "INNER", { NULL, NULL, NULL, NULL } } };
	struct config_job store[2];
	struct config c;
	struct policy *p;
	const char *job, *role;

	(void)state;
	jobs[1].root[CONFIG_ROLE_WORKSPACE] = inner;
	cfg_base(&c);
	cfg_jobs(&c, store, jobs, 2);
	p = pol_new(&c);
	policy_tag(p, file, &job, &role);
	assert_str_or_null(job, "INNER", "file directly in a 520-component root");
	assert_str_or_null(role, "workspace", "file directly in a 520-component root");
	policy_tag(p, deeper, &job, &role);
	assert_str_or_null(job, "INNER", "600-component path below a 520-component root");
	pol_del(p);
	for (char **b = (char *[]){ inner, file, deeper, NULL }; *b; b++) {
		live_drop(live_bufs, *b);
		free(*b);
	}
}

static void test_init_bad_root(void **state)
{
	static const struct tjob ok_then_bad[] = {
		{ "J", { "/run/jobs/J/root", NULL, NULL, NULL } },
		{ "K", { NULL, "run/jobs/K/workspace", NULL, NULL } },
	};
	static const struct tjob empty[] = { { "E", { NULL, NULL, "", NULL } } };
	struct config_job store[2];
	struct config c;
	struct policy *p = calloc(1, sizeof(*p));
	char msg[256] = "";

	(void)state;
	assert_non_null(p);
	cfg_base(&c);
	cfg_jobs(&c, store, ok_then_bad, 2);
	assert_int_equal(policy_init(p, &c, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "job K"));
	assert_non_null(strstr(msg, "workspace"));
	assert_non_null(strstr(msg, "run/jobs/K/workspace"));
	policy_free(p); /* frees J's root that was already added (ASan checks) */

	cfg_jobs(&c, store, empty, 1);
	msg[0] = '\0';
	assert_int_equal(policy_init(p, &c, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "export"));
	policy_free(p);
	policy_free(p); /* twice */
	free(p);
}

/* ---- job cgroups ---------------------------------------------------------------------- */

/* J has roots and a cgroup; K a root and a cgroup nested in J's; S only a cgroup whose name
 * is a prefix of J's (a sibling, not a child); C shares J's cache. */
static struct config_job cg_store[4];
static void cfg_cgroup_jobs(struct config *c)
{
	static const struct tjob jobs[] = {
		{ "J", { "/run/jobs/J/root", "/run/jobs/J/workspace", NULL, "/var/cache/shared" } },
		{ "K", { "/run/jobs/K/root", NULL, NULL, NULL } },
		{ "S", { NULL, NULL, NULL, NULL } },
		{ "C", { NULL, NULL, NULL, "/var/cache/shared" } },
	};

	cfg_base(c);
	cfg_jobs(c, cg_store, jobs, ARRAY_SIZE(jobs));
	cg_store[0].cgroup = (char *)"/jobs.slice/J.scope";
	cg_store[1].cgroup = (char *)"/jobs.slice/J.scope/K";
	cg_store[2].cgroup = (char *)"/jobs.slice/J.sc";
}

static void eval_proc(struct policy *p, uint64_t mask, pid_t pid, const char *cgroup,
		      const char *path, const char *old_path, uint64_t now_ms,
		      struct policy_result *r)
{
	struct proc_info proc = { .pid = pid, .cgroup = cgroup };
	struct policy_input in = {
		.mask = mask,
		.pid = pid,
		.path = path,
		.old_path = old_path,
		.now_ms = now_ms,
		.proc = &proc,
	};

	policy_eval(p, &in, r);
	alerts_raised += r->n_alerts;
}

/* The job of a cgroup: itself or below it, longest first, by whole components. */
static void test_cgroup_job_table(void **state)
{
	static const struct {
		const char *cgroup, *job;
	} cases[] = {
		{ "/jobs.slice/J.scope", "J" },
		{ "/jobs.slice/J.scope/sub", "J" },
		{ "/jobs.slice/J.scope/sub/deeper/still", "J" },
		{ "/jobs.slice/J.scope/K", "K" },		/* nested: the longer wins */
		{ "/jobs.slice/J.scope/K/x", "K" },
		{ "/jobs.slice/J.scope/Kx", "J" },		/* sibling of K, below J */
		{ "/jobs.slice/J.sc", "S" },
		{ "/jobs.slice/J.sc/x", "S" },
		{ "/jobs.slice/J.scope2", NULL },		/* /a/b vs /a/bc */
		{ "/jobs.slice/J.scop", NULL },
		{ "/jobs.slice/J.scopeK", NULL },
		{ "/jobs.slice", NULL },			/* the parent */
		{ "/", NULL },
		{ "/jobs.slice/J.scope/", "J" },		/* a trailing '/' */
		{ "jobs.slice/J.scope", NULL },		/* relative: never from /proc */
		{ "", NULL },
		{ NULL, NULL },
	};
	struct config c;
	struct policy *p;

	(void)state;
	cfg_cgroup_jobs(&c);
	p = pol_new(&c);
	assert_int_equal(p->n_cgroups, 3);
	assert_true(policy_needs_proc(p));
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		assert_str_or_null(policy_cgroup_job(p, cases[i].cgroup), cases[i].job,
				   cases[i].cgroup ? cases[i].cgroup : "(null)");
	pol_del(p);

	/* Without a job cgroup the pipeline need not look the process up first. */
	cfg_cgroup_jobs(&c);
	cg_store[0].cgroup = cg_store[1].cgroup = cg_store[2].cgroup = NULL;
	p = pol_new(&c);
	assert_false(policy_needs_proc(p));
	assert_null(policy_cgroup_job(p, "/jobs.slice/J.scope"));
	pol_del(p);
}

/* A process in a job's cgroup is that job's wherever its path is; path_role is the path's
 * role on that job's own paths only. A process in no job's cgroup keeps the path's tags. */
static void test_cgroup_tags_in_eval(void **state)
{
	static const struct {
		const char *name;
		const char *cgroup;
		uint64_t mask;
		const char *path, *old_path;
		const char *job, *role;
	} cases[] = {
		{ "J's process in J's workspace", "/jobs.slice/J.scope", FAN_MODIFY,
		  "/run/jobs/J/workspace/a.o", NULL, "J", "workspace" },
		{ "J's process below its cgroup, in J's rootfs", "/jobs.slice/J.scope/x/y",
		  FAN_OPEN, "/run/jobs/J/root/etc/passwd", NULL, "J", "rootfs" },
		{ "J's process in /tmp", "/jobs.slice/J.scope", FAN_CREATE, "/tmp/x", NULL, "J",
		  NULL },
		{ "J's process in K's root", "/jobs.slice/J.scope", FAN_MODIFY,
		  "/run/jobs/K/root/f", NULL, "J", NULL },
		{ "J's process in the cache J shares with C", "/jobs.slice/J.scope", FAN_MODIFY,
		  "/var/cache/shared/pkg", NULL, "J", "cache" },
		{ "C-less S's process in the shared cache", "/jobs.slice/J.sc", FAN_MODIFY,
		  "/var/cache/shared/pkg", NULL, "S", NULL },
		{ "J's process, unknown path", "/jobs.slice/J.scope", FAN_MODIFY, NULL, NULL, "J",
		  NULL },
		{ "K's process (nested cgroup) in J's rootfs", "/jobs.slice/J.scope/K", FAN_OPEN,
		  "/run/jobs/J/root/bin/sh", NULL, "K", NULL },
		{ "K's process in K's root", "/jobs.slice/J.scope/K/w", FAN_OPEN,
		  "/run/jobs/K/root/bin/sh", NULL, "K", "rootfs" },
		{ "J's rename from its workspace to /tmp", "/jobs.slice/J.scope", FAN_RENAME,
		  "/tmp/out", "/run/jobs/J/workspace/out", "J", "workspace" },
		{ "J's rename from K's root into its own", "/jobs.slice/J.scope", FAN_RENAME,
		  "/run/jobs/J/root/f", "/run/jobs/K/root/f", "J", "rootfs" },
		{ "J's rename from K's root to /tmp", "/jobs.slice/J.scope", FAN_RENAME, "/tmp/f",
		  "/run/jobs/K/root/f", "J", NULL },
		{ "no job's process in J's workspace: path tags", "/user.slice/u.scope", FAN_MODIFY,
		  "/run/jobs/J/workspace/a.o", NULL, "J", "workspace" },
		{ "sibling cgroup J.scope2 in K's root: path tags", "/jobs.slice/J.scope2",
		  FAN_MODIFY, "/run/jobs/K/root/f", NULL, "K", "rootfs" },
		{ "unknown cgroup in J's workspace: path tags", NULL, FAN_MODIFY,
		  "/run/jobs/J/workspace/a.o", NULL, "J", "workspace" },
		{ "unknown cgroup in /tmp", NULL, FAN_MODIFY, "/tmp/x", NULL, NULL, NULL },
		{ "no job's process, rename out of K's root", "/", FAN_RENAME, "/tmp/f",
		  "/run/jobs/K/root/f", "K", "rootfs" },
	};
	struct config c;
	struct policy *p;
	struct policy_result r;
	char what[160];

	(void)state;
	cfg_cgroup_jobs(&c);
	p = pol_new(&c);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		eval_proc(p, cases[i].mask, 100 + (pid_t)i, cases[i].cgroup, cases[i].path,
			  cases[i].old_path, 1, &r);
		snprintf(what, sizeof(what), "%s: job", cases[i].name);
		assert_str_or_null(r.job_id, cases[i].job, what);
		snprintf(what, sizeof(what), "%s: role", cases[i].name);
		assert_str_or_null(r.path_role, cases[i].role, what);
	}
	/* Without the process (policy_input.proc NULL) only the path tags. */
	eval(p, FAN_CREATE, 99, "/tmp/x", NULL, 1, &r);
	assert_null(r.job_id);
	eval(p, FAN_CREATE, 99, "/run/jobs/K/root/x", NULL, 1, &r);
	assert_str_or_null(r.job_id, "K", "no proc: K's root");
	pol_del(p);
}

/* Alerts of a job's process carry its job, and the role of their own path by the same rule;
 * canaries and bursts alike. */
static void test_cgroup_tags_in_alerts(void **state)
{
	static char *canaries[] = { "/*/canary", "/run/jobs/*/*/canary" };
	struct config c;
	struct policy *p;
	struct policy_result r;
	int k;

	(void)state;
	cfg_cgroup_jobs(&c);
	c.canaries = canaries;
	c.n_canaries = ARRAY_SIZE(canaries);
	c.burst_threshold = 3;
	p = pol_new(&c);
	eval_proc(p, FAN_OPEN, 200, "/jobs.slice/J.scope", "/tmp/canary", NULL, 1, &r);
	k = alert_of(&r, ALERT_CANARY);
	assert_true(k >= 0);
	assert_str_or_null(r.alerts[k].job_id, "J", "canary in /tmp: job");
	assert_null(r.alerts[k].path_role);
	eval_proc(p, FAN_OPEN, 201, "/jobs.slice/J.scope", "/run/jobs/J/workspace/canary",
		  NULL, 1, &r);
	k = alert_of(&r, ALERT_CANARY);
	assert_true(k >= 0);
	assert_str_or_null(r.alerts[k].job_id, "J", "canary in J's workspace: job");
	assert_str_or_null(r.alerts[k].path_role, "workspace", "canary in J's workspace: role");
	/* Renamed out of K's root into /tmp by J's process: the alert is about the old path
	 * (it matched), K's, so J and no role. */
	eval_proc(p, FAN_RENAME, 202, "/jobs.slice/J.scope", "/tmp/x",
		  "/run/jobs/K/root/canary", 1, &r);
	k = alert_of(&r, ALERT_CANARY);
	assert_true(k >= 0);
	assert_string_equal(r.alerts[k].path, "/run/jobs/K/root/canary");
	assert_str_or_null(r.alerts[k].job_id, "J", "rename from K: job");
	assert_null(r.alerts[k].path_role);
	for (int i = 0; i < 3; i++)
		eval_proc(p, FAN_MODIFY, 203, "/jobs.slice/J.scope/K", "/run/jobs/K/root/f", NULL,
			  10, &r);
	k = alert_of(&r, ALERT_BURST);
	assert_true(k >= 0);
	assert_str_or_null(r.alerts[k].job_id, "K", "burst: job");
	assert_str_or_null(r.alerts[k].path_role, "rootfs", "burst: role");
	pol_del(p);
}

/* policy_init refuses a cgroup matching could never use; config.c refuses more. */
static void test_cgroup_init_bad(void **state)
{
	static const char *const bad[] = { "jobs.slice/J.scope", "/", "/jobs.slice/J.scope/", "" };
	struct config c;
	struct policy *p = calloc(1, sizeof(*p));
	char msg[256];

	(void)state;
	assert_non_null(p);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cfg_cgroup_jobs(&c);
		cg_store[1].cgroup = (char *)bad[i];
		msg[0] = '\0';
		assert_int_equal(policy_init(p, &c, msg, sizeof(msg)), -EINVAL);
		assert_non_null(strstr(msg, "job K"));
		policy_free(p);
	}
	free(p);
}

/* ---- canaries -------------------------------------------------------------------------- */

static const char *const canary_patterns[] = {
	"/w/canary*",	     "/w/*/secret", "/w/key?",	 "/w/doc[0-9].pdf",
	"/w/etc/shadow",     "/w/lit\\*",   "/x/*",	 "/w/[!a-y]z",
};

struct canary_case {
	const char *name;
	const char *path;
	bool match;
};

static const struct canary_case canary_cases[] = {
	{ "glob: exact stem", "/w/canary", true },
	{ "glob: suffix", "/w/canary.txt", true },
	{ "glob: '*' does not cross '/'", "/w/canary/inner", false },
	{ "glob: '*' does not cross '/' (dir with suffix)", "/w/canary-d/x", false },
	{ "glob: shorter than the stem", "/w/canar", false },
	{ "glob: stem not at the start", "/w/xcanary", false },
	{ "glob: other directory", "/v/canary", false },
	{ "middle '*': one component", "/w/a/secret", true },
	{ "middle '*': two components", "/w/a/b/secret", false },
	{ "middle '*': zero components", "/w/secret", false },
	{ "'?' one char", "/w/key1", true },
	{ "'?' needs a char", "/w/key", false },
	{ "'?' only one char", "/w/key12", false },
	{ "'?' does not match '/'", "/w/key/", false },
	{ "'[0-9]' in range", "/w/doc5.pdf", true },
	{ "'[0-9]' out of range", "/w/docx.pdf", false },
	{ "'[0-9]' with suffix", "/w/doc5.pdfx", false },
	{ "'[!a-y]' negated, in", "/w/zz", true },
	{ "'[!a-y]' negated, out", "/w/az", false },
	{ "'[!a-y]' does not match '/'", "/w//z", false },
	{ "exact", "/w/etc/shadow", true },
	{ "exact: longer", "/w/etc/shadow2", false },
	{ "exact: shorter", "/w/etc/shado", false },
	{ "exact: trailing slash", "/w/etc/shadow/", false },
	{ "exact: below it", "/w/etc/shadow/x", false },
	{ "escaped '*' is literal", "/w/lit*", true },
	{ "escaped '*' is not a glob", "/w/litx", false },
	{ "'/x/*' one component", "/x/a", true },
	{ "'/x/*' two components", "/x/a/b", false },
	{ "unknown path", NULL, false },
	{ "empty path", "", false },
};

static struct policy *canary_policy(struct config *c, bool deny, unsigned cooldown_ms)
{
	cfg_base(c);
	c->canaries = (char **)canary_patterns;
	c->n_canaries = ARRAY_SIZE(canary_patterns);
	c->perm = deny;
	c->deny_on_alert = deny;
	c->hook_cooldown_ms = cooldown_ms;
	return pol_new(c);
}

/*
 * The index (exact paths by hash, globs by the directory of their literal head, runs of
 * same-shaped globs skipped together) must agree with a plain fnmatch over every pattern:
 * many globs in one directory, some sharing head and tail; globs keyed by the root; exact
 * paths, "/" included; escapes.
 */
static void test_canary_index_agrees_with_fnmatch(void **state)
{
	static const char *const patterns[] = {
		"/d/*/decoy-1-*.docx", "/d/*/decoy-2-*.docx", "/d/*/decoy-3-*.docx",
		"/d/*.docx",	       "/d/*.pdf",	      "/d/x*y",
		"/d/a/b/c",	       "/",		      "/*",
		"/*/deep",	       "/d/\\[lit",	      "/e/[ab]/f*",
		"/d/a/decoy-9-*.docx",
	};
	static const char *const paths[] = {
		"/d/a/decoy-1-x.docx", "/d/a/decoy-2-.docx", "/d/a/decoy-4-x.docx",
		"/d/a/decoy-1-x.doc", "/d/a/b/decoy-1-x.docx", "/d/f.docx", "/d/f.pdf",
		"/d/f.txt", "/d/xy", "/d/xay", "/d/x/y", "/d/a/b/c", "/d/a/b/c/", "/d/a/b",
		"/", "/top", "/q/deep", "/q/r/deep", "/d/[lit", "/d/\\[lit", "/e/a/f1",
		"/e/c/f1", "/e/a/g", "/d/a/decoy-9-z.docx", "/d/b/decoy-9-z.docx", "",
		"/d", "/d/", "//", "/d//decoy-1-x.docx",
	};
	struct config c;
	struct policy *p;

	(void)state;
	cfg_base(&c);
	c.canaries = (char **)patterns;
	c.n_canaries = ARRAY_SIZE(patterns);
	p = pol_new(&c);
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		bool want = false;

		for (size_t j = 0; j < ARRAY_SIZE(patterns); j++)
			want = want || fnmatch(patterns[j], paths[i], FNM_PATHNAME) == 0;
		if (policy_canary_match(p, paths[i]) != want)
			fail_msg("'%s': index says %d, fnmatch %d", paths[i], !want, want);
	}
	pol_del(p);
}

static void test_canary_match_table(void **state)
{
	struct config c;
	struct policy *p = canary_policy(&c, false, 0);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(canary_cases); i++) {
		const struct canary_case *t = &canary_cases[i];
		bool got = policy_canary_match(p, t->path);

		if (got != t->match)
			fail_msg("canary %s (%s): got %d, want %d", t->name,
				 t->path ? t->path : "NULL", got, t->match);
	}
	pol_del(p);
}

/* The same table through policy_eval(): an OPEN alerts exactly when the path matches. */
static void test_canary_eval_table(void **state)
{
	struct config c;
	struct policy *p = canary_policy(&c, false, 0);
	struct policy_result r;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(canary_cases); i++) {
		const struct canary_case *t = &canary_cases[i];

		eval(p, FAN_OPEN, 100 + (pid_t)i, t->path, NULL, 1000, &r);
		if ((alert_of(&r, ALERT_CANARY) >= 0) != t->match)
			fail_msg("canary eval %s: n_alerts %u", t->name, r.n_alerts);
		if (t->match) {
			assert_int_equal(r.alerts[0].kind, ALERT_CANARY);
			assert_string_equal(r.alerts[0].reason, "canary opened");
			assert_ptr_equal(r.alerts[0].path, t->path);
		}
	}
	pol_del(p);
}

struct reason_case {
	const char *name;
	uint64_t mask;
	const char *reason; /* NULL: no canary alert */
};

static const struct reason_case reason_cases[] = {
	{ "OPEN", FAN_OPEN, "canary opened" },
	{ "OPEN_EXEC", FAN_OPEN_EXEC, "canary opened" },
	{ "ACCESS", FAN_ACCESS, "canary opened" },
	{ "OPEN_PERM", FAN_OPEN_PERM, "canary opened" },
	{ "OPEN_EXEC_PERM", FAN_OPEN_EXEC_PERM, "canary opened" },
	{ "ACCESS_PERM", FAN_ACCESS_PERM, "canary opened" },
	{ "MODIFY", FAN_MODIFY, "canary modified" },
	{ "CLOSE_WRITE", FAN_CLOSE_WRITE, "canary modified" },
	{ "ATTRIB", FAN_ATTRIB, "canary modified" },
	{ "RENAME", FAN_RENAME, "canary renamed" },
	{ "MOVED_FROM", FAN_MOVED_FROM, "canary renamed" },
	{ "MOVED_TO", FAN_MOVED_TO, "canary renamed" },
	{ "DELETE", FAN_DELETE, "canary deleted" },
	{ "merged OPEN|MODIFY|CLOSE_WRITE", FAN_OPEN | FAN_MODIFY | FAN_CLOSE_WRITE,
	  "canary modified" },
	{ "merged MODIFY|DELETE", FAN_MODIFY | FAN_DELETE, "canary deleted" },
	{ "merged ATTRIB|MOVED_TO", FAN_ATTRIB | FAN_MOVED_TO, "canary renamed" },
	{ "merged OPEN|DELETE", FAN_OPEN | FAN_DELETE, "canary deleted" },
	{ "CLOSE_NOWRITE", FAN_CLOSE_NOWRITE, NULL },
	{ "CREATE", FAN_CREATE, NULL },
};

static void test_canary_reasons(void **state)
{
	struct config c;
	struct policy *p = canary_policy(&c, false, 0);
	struct policy_result r;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(reason_cases); i++) {
		const struct reason_case *t = &reason_cases[i];
		int a;

		eval(p, t->mask, 200 + (pid_t)i, "/w/canary", NULL, 1000, &r);
		a = alert_of(&r, ALERT_CANARY);
		if (!t->reason) {
			if (a >= 0)
				fail_msg("%s: unexpected alert '%s'", t->name, r.alerts[a].reason);
			continue;
		}
		if (a < 0)
			fail_msg("%s: no canary alert", t->name);
		assert_str_or_null(r.alerts[a].reason, t->reason, t->name);
		assert_int_equal(r.alerts[a].kind, ALERT_CANARY);
		assert_int_equal(r.alerts[a].pid, 200 + (pid_t)i);
		assert_int_equal(r.alerts[a].count, 0);
		assert_int_equal(r.alerts[a].window_ms, 0);
	}
	pol_del(p);
}

/* A rename alerts if either name matches; the path is the name that matched (old first). */
static void test_canary_rename(void **state)
{
	struct config c;
	struct policy *p = canary_policy(&c, false, 0);
	struct policy_result r;
	const char *from = "/w/canary.db", *plain = "/w/plain", *to = "/w/canary.new";

	(void)state;
	eval(p, FAN_RENAME, 300, plain, from, 1000, &r);
	assert_int_equal(r.n_alerts, 1);
	assert_string_equal(r.alerts[0].reason, "canary renamed");
	assert_ptr_equal(r.alerts[0].path, from);

	eval(p, FAN_RENAME, 301, to, plain, 1000, &r);
	assert_int_equal(r.n_alerts, 1);
	assert_string_equal(r.alerts[0].reason, "canary renamed");
	assert_ptr_equal(r.alerts[0].path, to);

	eval(p, FAN_RENAME, 302, to, from, 1000, &r);
	assert_int_equal(r.n_alerts, 1);
	assert_ptr_equal(r.alerts[0].path, from);

	eval(p, FAN_RENAME, 303, "/w/other", plain, 1000, &r);
	assert_int_equal(r.n_alerts, 0);

	/* A rename into a subdirectory of the canary glob's directory does not match. */
	eval(p, FAN_RENAME, 304, "/w/canary/inner", plain, 1000, &r);
	assert_int_equal(r.n_alerts, 0);

	/* Old-style events (no FAN_RENAME): one name each. */
	eval(p, FAN_MOVED_FROM, 305, from, NULL, 1000, &r);
	assert_int_equal(r.n_alerts, 1);
	assert_string_equal(r.alerts[0].reason, "canary renamed");
	assert_ptr_equal(r.alerts[0].path, from);
	eval(p, FAN_MOVED_TO, 306, to, NULL, 1000, &r);
	assert_int_equal(r.n_alerts, 1);
	assert_ptr_equal(r.alerts[0].path, to);
	assert_int_equal(alerts_raised, 5);
	pol_del(p);
}

/* ---- verdicts ------------------------------------------------------------------------- */

struct verdict_case {
	const char *name;
	bool deny_on_alert;
	uint64_t mask;
	const char *path;
	enum verdict verdict;
	const char *reason; /* deny_reason when denied */
	unsigned n_alerts;
};

static const struct verdict_case verdict_cases[] = {
	{ "deny: OPEN_PERM canary", true, FAN_OPEN_PERM, "/w/canary", VERDICT_DENY,
	  "canary opened", 1 },
	{ "deny: OPEN_EXEC_PERM canary", true, FAN_OPEN_EXEC_PERM, "/w/etc/shadow", VERDICT_DENY,
	  "canary opened", 1 },
	{ "deny: ACCESS_PERM canary", true, FAN_ACCESS_PERM, "/w/key1", VERDICT_DENY,
	  "canary opened", 1 },
	{ "deny: OPEN_PERM plain file allowed", true, FAN_OPEN_PERM, "/w/plain", VERDICT_ALLOW,
	  NULL, 0 },
	{ "deny: OPEN_PERM unknown path allowed", true, FAN_OPEN_PERM, NULL, VERDICT_ALLOW, NULL,
	  0 },
	{ "deny: OPEN_PERM under a glob dir allowed", true, FAN_OPEN_PERM, "/w/canary/x",
	  VERDICT_ALLOW, NULL, 0 },
	{ "deny: observe event on canary", true, FAN_OPEN, "/w/canary", VERDICT_OBSERVE, NULL, 1 },
	{ "deny: observe delete of canary", true, FAN_DELETE, "/w/canary", VERDICT_OBSERVE, NULL,
	  1 },
	{ "no deny: OPEN_PERM canary allowed, alerted", false, FAN_OPEN_PERM, "/w/canary",
	  VERDICT_ALLOW, NULL, 1 },
	{ "no deny: observe", false, FAN_MODIFY, "/w/canary", VERDICT_OBSERVE, NULL, 1 },
};

static void test_verdict_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(verdict_cases); i++) {
		const struct verdict_case *t = &verdict_cases[i];
		struct config c;
		struct policy *p = canary_policy(&c, t->deny_on_alert, 5000);
		struct policy_result r;

		eval(p, t->mask, 400, t->path, NULL, 1000, &r);
		if (r.verdict != t->verdict)
			fail_msg("%s: verdict %d, want %d", t->name, r.verdict, t->verdict);
		if (r.verdict == VERDICT_DENY)
			assert_str_or_null(r.deny_reason, t->reason, t->name);
		else if (r.verdict == VERDICT_ALLOW)
			assert_str_or_null(r.deny_reason, NULL, t->name);
		if (r.n_alerts != t->n_alerts)
			fail_msg("%s: %u alerts, want %u", t->name, r.n_alerts, t->n_alerts);
		pol_del(p);
	}
}

/* deny_on_alert without perm (refused by config_validate) must not deny anything. */
static void test_deny_needs_perm(void **state)
{
	struct config c;
	struct policy *p;
	struct policy_result r;

	(void)state;
	cfg_base(&c);
	c.canaries = (char **)canary_patterns;
	c.n_canaries = ARRAY_SIZE(canary_patterns);
	c.deny_on_alert = true;
	c.perm = false;
	p = pol_new(&c);
	eval(p, FAN_OPEN_PERM, 500, "/w/canary", NULL, 1000, &r);
	assert_int_equal(r.verdict, VERDICT_ALLOW);
	assert_int_equal(r.n_alerts, 1);
	pol_del(p);
}

/* DESIGN.md 10: the cooldown never limits decisions. */
static void test_deny_not_limited_by_cooldown(void **state)
{
	struct config c;
	struct policy *p = canary_policy(&c, true, 5000);
	struct policy_result r;

	(void)state;
	eval(p, FAN_OPEN_PERM, 600, "/w/canary", NULL, 1000, &r);
	assert_int_equal(r.verdict, VERDICT_DENY);
	assert_int_equal(r.n_alerts, 1);
	for (int i = 1; i <= 10; i++) {
		eval(p, FAN_OPEN_PERM, 600, "/w/canary", NULL, 1000 + (uint64_t)i, &r);
		assert_int_equal(r.verdict, VERDICT_DENY);
		assert_string_equal(r.deny_reason, "canary opened");
		assert_int_equal(r.n_alerts, 0);
	}
	assert_int_equal(p->suppressed, 10);
	assert_int_equal(alerts_raised, 1);
	pol_del(p);
}

/*
 * Events whose process the kernel cannot name (pid 0: the opener lives outside the
 * daemon's pid namespace) still match canaries: an opened canary is denied and alerted.
 */
static void test_canary_pid0(void **state)
{
	struct config c;
	struct policy *p = canary_policy(&c, true, 5000);
	struct policy_result r;

	(void)state;
	eval(p, FAN_OPEN_PERM, 0, "/w/canary", NULL, 1000, &r);
	assert_int_equal(r.verdict, VERDICT_DENY);
	assert_int_equal(r.n_alerts, 1);
	eval(p, FAN_DELETE, 0, "/w/canary", NULL, 1001, &r);
	assert_int_equal(r.n_alerts, 1);
	assert_string_equal(r.alerts[0].reason, "canary deleted");
	pol_del(p);
}

/* ---- cooldown --------------------------------------------------------------------------- */

static void test_cooldown_canary(void **state)
{
	struct config c;
	struct policy *p = canary_policy(&c, false, 5000);
	struct policy_result r;

	(void)state;
	eval(p, FAN_OPEN, 700, "/w/canary", NULL, 10000, &r);
	assert_int_equal(r.n_alerts, 1);
	eval(p, FAN_OPEN, 700, "/w/canary", NULL, 10001, &r);
	assert_int_equal(r.n_alerts, 0);
	assert_int_equal(p->suppressed, 1);
	/* Another canary, same process, same kind: still within the cooldown. */
	eval(p, FAN_OPEN, 700, "/w/etc/shadow", NULL, 12000, &r);
	assert_int_equal(r.n_alerts, 0);
	assert_int_equal(p->suppressed, 2);
	/* Another process: its own cooldown. */
	eval(p, FAN_OPEN, 701, "/w/canary", NULL, 12000, &r);
	assert_int_equal(r.n_alerts, 1);
	/* Last ms inside the cooldown, then the first ms after it. */
	eval(p, FAN_OPEN, 700, "/w/canary", NULL, 14999, &r);
	assert_int_equal(r.n_alerts, 0);
	assert_int_equal(p->suppressed, 3);
	eval(p, FAN_OPEN, 700, "/w/canary", NULL, 15000, &r);
	assert_int_equal(r.n_alerts, 1);
	/* The cooldown restarted at 15000. */
	eval(p, FAN_OPEN, 700, "/w/canary", NULL, 19999, &r);
	assert_int_equal(r.n_alerts, 0);
	assert_int_equal(alerts_raised, 3);
	assert_int_equal(p->suppressed, 4);
	pol_del(p);
}

/* The first alert of a process at time 0 starts a cooldown like any other. */
static void test_cooldown_at_time_zero(void **state)
{
	struct config c;
	struct policy *p = canary_policy(&c, false, 5000);
	struct policy_result r;

	(void)state;
	eval(p, FAN_OPEN, 710, "/w/canary", NULL, 0, &r);
	assert_int_equal(r.n_alerts, 1);
	eval(p, FAN_OPEN, 710, "/w/canary", NULL, 1, &r);
	assert_int_equal(r.n_alerts, 0);
	pol_del(p);
}

static void test_cooldown_zero(void **state)
{
	struct config c;
	struct policy *p = canary_policy(&c, false, 0);
	struct policy_result r;

	(void)state;
	for (int i = 0; i < 5; i++) {
		eval(p, FAN_OPEN, 720, "/w/canary", NULL, 1000, &r);
		assert_int_equal(r.n_alerts, 1);
	}
	assert_int_equal(p->suppressed, 0);
	assert_int_equal(alerts_raised, 5);
	pol_del(p);
}

/* A more serious canary reason is never held back; a less (or equally) serious one is. */
static void test_cooldown_escalation(void **state)
{
	static const struct {
		uint64_t mask;
		const char *reason; /* NULL: suppressed */
	} steps[] = {
		{ FAN_OPEN, "canary opened" },	     { FAN_OPEN, NULL },
		{ FAN_MODIFY, "canary modified" },   { FAN_CLOSE_WRITE, NULL },
		{ FAN_OPEN, NULL },		     { FAN_RENAME, "canary renamed" },
		{ FAN_MODIFY, NULL },		     { FAN_DELETE, "canary deleted" },
		{ FAN_DELETE, NULL },		     { FAN_RENAME, NULL },
	};
	struct config c;
	struct policy *p = canary_policy(&c, false, 5000);
	struct policy_result r;
	unsigned suppressed = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		eval(p, steps[i].mask, 730, "/w/canary", "/w/canary", 1000 + i, &r);
		if (!steps[i].reason) {
			if (r.n_alerts)
				fail_msg("step %zu: '%s' not suppressed", i, r.alerts[0].reason);
			suppressed++;
			continue;
		}
		if (r.n_alerts != 1)
			fail_msg("step %zu: '%s' suppressed", i, steps[i].reason);
		assert_string_equal(r.alerts[0].reason, steps[i].reason);
	}
	assert_int_equal(p->suppressed, suppressed);
	/* Straight from opened to deleted, another process. */
	eval(p, FAN_OPEN, 731, "/w/canary", NULL, 2000, &r);
	assert_int_equal(r.n_alerts, 1);
	eval(p, FAN_DELETE, 731, "/w/canary", NULL, 2001, &r);
	assert_int_equal(r.n_alerts, 1);
	assert_string_equal(r.alerts[0].reason, "canary deleted");
	eval(p, FAN_OPEN, 731, "/w/canary", NULL, 2002, &r);
	assert_int_equal(r.n_alerts, 0);
	pol_del(p);
}

/* Canary and burst cooldowns are separate: both alerts of one event are reported. */
static void test_cooldown_per_kind(void **state)
{
	struct config c;
	struct policy *p;
	struct policy_result r;
	int a, b;

	(void)state;
	cfg_base(&c);
	c.canaries = (char **)canary_patterns;
	c.n_canaries = ARRAY_SIZE(canary_patterns);
	c.burst_threshold = 2;
	c.burst_window_ms = 1000;
	p = pol_new(&c);
	eval(p, FAN_OPEN, 740, "/w/canary", NULL, 1000, &r);
	assert_int_equal(r.n_alerts, 1);
	eval(p, FAN_MODIFY, 740, "/w/plain", NULL, 1001, &r);
	assert_int_equal(r.n_alerts, 0);
	eval(p, FAN_MODIFY, 740, "/w/canary", NULL, 1002, &r);
	assert_int_equal(r.n_alerts, 2);
	a = alert_of(&r, ALERT_CANARY);
	b = alert_of(&r, ALERT_BURST);
	assert_true(a >= 0 && b >= 0);
	assert_string_equal(r.alerts[a].reason, "canary modified");
	assert_int_equal(r.alerts[b].kind, ALERT_BURST);
	pol_del(p);
}

/* ---- burst window ---------------------------------------------------------------------- */

static struct policy *burst_policy(struct config *c, unsigned threshold, unsigned window_ms,
				   unsigned cooldown_ms)
{
	cfg_base(c);
	c->burst_threshold = threshold;
	c->burst_window_ms = window_ms;
	c->hook_cooldown_ms = cooldown_ms;
	return pol_new(c);
}

/* Feeds MODIFY events at the given times; returns the 1-based index of the first burst
 * alert, or 0. */
static int burst_feed(struct policy *p, pid_t pid, const uint64_t *t, size_t n,
		      struct policy_result *last)
{
	int first = 0;

	for (size_t i = 0; i < n; i++) {
		eval(p, FAN_MODIFY, pid, "/w/f", NULL, t[i], last);
		if (alert_of(last, ALERT_BURST) >= 0 && !first)
			first = (int)i + 1;
	}
	return first;
}

struct burst_case {
	const char *name;
	unsigned threshold, window_ms;
	uint64_t t[8];
	size_t n;
	int alert_at; /* 1-based event that fires, 0 = none */
};

static const struct burst_case burst_cases[] = {
	{ "4 at once", 4, 100, { 1000, 1000, 1000, 1000 }, 4, 4 },
	{ "3 of 4: no alert", 4, 100, { 1000, 1001, 1002 }, 3, 0 },
	{ "last one window-1 after the first", 4, 100, { 1000, 1033, 1066, 1099 }, 4, 4 },
	{ "last one exactly a window after the first", 4, 100, { 1000, 1033, 1066, 1100 }, 4, 0 },
	{ "last one a window+1 after the first", 4, 100, { 1000, 1033, 1066, 1101 }, 4, 0 },
	{ "window slides: the oldest drops, later ones count", 4, 100,
	  { 1000, 1050, 1060, 1100, 1101 }, 5, 5 },
	{ "window slides: two drop", 3, 10, { 0, 5, 10, 11 }, 4, 4 },
	{ "spread over more than the window", 3, 10, { 0, 10, 20, 30, 40 }, 5, 0 },
	{ "threshold 1: first event", 1, 100, { 5000 }, 1, 1 },
	{ "window 1 ms: same ms counts", 2, 1, { 7, 7 }, 2, 2 },
	{ "window 1 ms: next ms does not", 2, 1, { 7, 8, 9 }, 3, 0 },
};

static void test_burst_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(burst_cases); i++) {
		const struct burst_case *t = &burst_cases[i];
		struct config c;
		struct policy *p = burst_policy(&c, t->threshold, t->window_ms, 0);
		struct policy_result r;
		int got = burst_feed(p, 800, t->t, t->n, &r);

		if (got != t->alert_at)
			fail_msg("burst %s: alert at event %d, want %d", t->name, got, t->alert_at);
		pol_del(p);
	}
}

static void test_burst_fields(void **state)
{
	struct config c;
	struct policy *p = burst_policy(&c, 32, 1000, 5000);
	struct policy_result r;
	int b;

	(void)state;
	for (int i = 0; i < 31; i++) {
		eval(p, FAN_CLOSE_WRITE, 810, "/w/f", NULL, 2000 + (uint64_t)i, &r);
		assert_int_equal(r.n_alerts, 0);
	}
	eval(p, FAN_MODIFY, 810, "/w/last", NULL, 2031, &r);
	assert_int_equal(r.n_alerts, 1);
	b = alert_of(&r, ALERT_BURST);
	assert_int_equal(b, 0);
	assert_int_equal(r.alerts[b].kind, ALERT_BURST);
	assert_int_equal(r.alerts[b].pid, 810);
	assert_non_null(r.alerts[b].reason);
	assert_int_equal(r.alerts[b].count, 32);
	assert_int_equal(r.alerts[b].window_ms, 1000);
	assert_string_equal(r.alerts[b].path, "/w/last");
	assert_int_equal(r.verdict, VERDICT_OBSERVE);
	assert_int_equal(alerts_raised, 1);
	pol_del(p);
}

/* Every mutating event counts, one per record however many bits it carries; nothing else
 * counts. */
static void test_burst_mutating_set(void **state)
{
	static const uint64_t mutating[] = {
		FAN_MODIFY,	FAN_CLOSE_WRITE, FAN_ATTRIB,   FAN_CREATE,
		FAN_DELETE,	FAN_MOVED_FROM,	 FAN_MOVED_TO, FAN_RENAME,
	};
	static const uint64_t other[] = {
		FAN_OPEN,      FAN_OPEN_EXEC,	   FAN_ACCESS,	     FAN_CLOSE_NOWRITE,
		FAN_OPEN_PERM, FAN_OPEN_EXEC_PERM, FAN_ACCESS_PERM,
	};
	struct config c;
	struct policy *p;
	struct policy_result r;

	(void)state;
	/* Each mutating kind alone: threshold 2, two events of that kind alert. */
	for (size_t i = 0; i < ARRAY_SIZE(mutating); i++) {
		p = burst_policy(&c, 2, 1000, 0);
		eval(p, mutating[i], 820, "/w/f", "/w/old", 1000, &r);
		assert_int_equal(r.n_alerts, 0);
		eval(p, mutating[i], 820, "/w/f", "/w/old", 1001, &r);
		if (alert_of(&r, ALERT_BURST) < 0)
			fail_msg("mask 0x%llx does not count", (unsigned long long)mutating[i]);
		pol_del(p);
	}
	/* Non-mutating events never count, however many. */
	p = burst_policy(&c, 2, 1000, 0);
	for (size_t i = 0; i < ARRAY_SIZE(other); i++)
		for (int k = 0; k < 3; k++) {
			eval(p, other[i], 821, "/w/f", NULL, 1000, &r);
			if (r.n_alerts)
				fail_msg("mask 0x%llx counts", (unsigned long long)other[i]);
		}
	/* A merged record is one event. */
	eval(p, FAN_MODIFY | FAN_CLOSE_WRITE | FAN_ATTRIB, 822, "/w/f", NULL, 1000, &r);
	assert_int_equal(r.n_alerts, 0);
	eval(p, FAN_MODIFY, 822, "/w/f", NULL, 1000, &r);
	assert_int_equal(r.n_alerts, 1);
	pol_del(p);
}

/* One alert when reached; the count restarts: the next needs a full threshold again. */
static void test_burst_restart(void **state)
{
	struct config c;
	struct policy *p = burst_policy(&c, 3, 1000, 0);
	struct policy_result r;
	int alerts_at[12] = { 0 }, n = 0;

	(void)state;
	for (int i = 1; i <= 10; i++) {
		eval(p, FAN_MODIFY, 830, "/w/f", NULL, 1000 + (uint64_t)i, &r);
		if (alert_of(&r, ALERT_BURST) >= 0)
			alerts_at[n++] = i;
	}
	assert_int_equal(n, 3);
	assert_int_equal(alerts_at[0], 3);
	assert_int_equal(alerts_at[1], 6);
	assert_int_equal(alerts_at[2], 9);
	pol_del(p);
}

/* Per process: interleaved processes never add up. */
static void test_burst_per_process(void **state)
{
	struct config c;
	struct policy *p = burst_policy(&c, 4, 1000, 0);
	struct policy_result r;

	(void)state;
	for (int i = 0; i < 3; i++)
		for (pid_t pid = 840; pid < 850; pid++) {
			eval(p, FAN_MODIFY, pid, "/w/f", NULL, 1000 + (uint64_t)i, &r);
			assert_int_equal(r.n_alerts, 0);
		}
	eval(p, FAN_MODIFY, 845, "/w/f", NULL, 1005, &r);
	assert_int_equal(r.n_alerts, 1);
	/* Unknown process: nothing is counted for it. */
	for (int i = 0; i < 10; i++) {
		eval(p, FAN_MODIFY, 0, "/w/f", NULL, 1006, &r);
		assert_int_equal(r.n_alerts, 0);
	}
	pol_del(p);
}

static void test_burst_threshold_zero(void **state)
{
	struct config c;
	struct policy *p = burst_policy(&c, 0, 1000, 0);
	struct policy_result r;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		eval(p, FAN_MODIFY, 850 + i % 3000, "/w/f", NULL, 1000, &r);
		assert_int_equal(r.n_alerts, 0);
	}
	assert_int_equal(alerts_raised, 0);
	/* No per-process state is kept when there is nothing to count. */
	assert_int_equal(p->evictions, 0);
	for (size_t i = 0; i < POLICY_PROCS_MAX; i++)
		assert_int_equal(p->procs[i].pid, 0);
	pol_del(p);
}

/* Bursts past the first within the cooldown are suppressed and counted; after it, alerted. */
static void test_burst_cooldown(void **state)
{
	struct config c;
	struct policy *p = burst_policy(&c, 2, 1000, 5000);
	struct policy_result r;
	unsigned alerts = 0;

	(void)state;
	for (int i = 0; i < 10; i++) {
		eval(p, FAN_MODIFY, 860, "/w/f", NULL, 1000 + (uint64_t)i, &r);
		alerts += r.n_alerts;
	}
	assert_int_equal(alerts, 1);
	assert_int_equal(p->suppressed, 4);
	eval(p, FAN_MODIFY, 860, "/w/f", NULL, 7000, &r);
	eval(p, FAN_MODIFY, 860, "/w/f", NULL, 7000, &r);
	assert_int_equal(r.n_alerts, 1);
	assert_int_equal(r.alerts[0].count, 2);
	pol_del(p);
}

/* ---- containment --------------------------------------------------------------------- */

static struct policy *quarantine_policy(struct config *c, bool perm, bool deny,
					unsigned threshold, unsigned quarantine_ms)
{
	cfg_base(c);
	c->perm = perm;
	c->deny_on_alert = deny;
	c->burst_threshold = threshold;
	c->burst_window_ms = 100;
	c->quarantine_ms = quarantine_ms;
	c->canaries = (char **)canary_patterns;
	c->n_canaries = ARRAY_SIZE(canary_patterns);
	return pol_new(c);
}

static void burst_now(struct policy *p, pid_t pid, unsigned n, uint64_t t)
{
	struct policy_result r;

	for (unsigned i = 0; i < n; i++)
		eval(p, FAN_MODIFY, pid, "/w/f", NULL, t, &r);
}

static void test_quarantine(void **state)
{
	struct config c;
	struct policy *p = quarantine_policy(&c, true, true, 4, 100);
	struct policy_result r;

	(void)state;
	eval(p, FAN_OPEN_PERM, 900, "/w/f", NULL, 999, &r);
	assert_int_equal(r.verdict, VERDICT_ALLOW);
	burst_now(p, 900, 3, 1000);
	eval(p, FAN_OPEN_PERM, 900, "/w/f", NULL, 1000, &r);
	assert_int_equal(r.verdict, VERDICT_ALLOW); /* not yet: 3 of 4 */
	eval(p, FAN_MODIFY, 900, "/w/f", NULL, 1000, &r);
	assert_int_equal(r.n_alerts, 1);
	assert_int_equal(r.verdict, VERDICT_OBSERVE);
	eval(p, FAN_OPEN_PERM, 900, "/w/g", NULL, 1000, &r);
	assert_int_equal(r.verdict, VERDICT_DENY);
	assert_string_equal(r.deny_reason, "quarantined after burst");
	assert_int_equal(r.n_alerts, 0);
	eval(p, FAN_OPEN_EXEC_PERM, 900, "/w/g", NULL, 1099, &r);
	assert_int_equal(r.verdict, VERDICT_DENY);
	assert_string_equal(r.deny_reason, "quarantined after burst");
	/* Other processes are not affected. */
	eval(p, FAN_OPEN_PERM, 901, "/w/g", NULL, 1050, &r);
	assert_int_equal(r.verdict, VERDICT_ALLOW);
	assert_null(r.deny_reason);
	/* Observe events of the quarantined process stay observe. */
	eval(p, FAN_OPEN, 900, "/w/g", NULL, 1050, &r);
	assert_int_equal(r.verdict, VERDICT_OBSERVE);
	/* A canary while quarantined: the canary is the reason. */
	eval(p, FAN_OPEN_PERM, 900, "/w/canary", NULL, 1060, &r);
	assert_int_equal(r.verdict, VERDICT_DENY);
	assert_string_equal(r.deny_reason, "canary opened");
	/* quarantine_ms after the burst: allowed again. */
	eval(p, FAN_OPEN_PERM, 900, "/w/g", NULL, 1100, &r);
	assert_int_equal(r.verdict, VERDICT_ALLOW);
	assert_null(r.deny_reason);
	assert_int_equal(p->quarantine_denials, 2);
	pol_del(p);
}

/* A burst held back by the cooldown still renews the quarantine (decisions are never
 * limited by the cooldown). */
static void test_quarantine_renewed_by_suppressed_burst(void **state)
{
	struct config c;
	struct policy *p = quarantine_policy(&c, true, true, 4, 100);
	struct policy_result r;

	(void)state;
	burst_now(p, 910, 4, 0);
	burst_now(p, 910, 4, 50);
	assert_int_equal(alerts_raised, 1);
	assert_int_equal(p->suppressed, 1);
	eval(p, FAN_OPEN_PERM, 910, "/w/g", NULL, 120, &r);
	assert_int_equal(r.verdict, VERDICT_DENY);
	eval(p, FAN_OPEN_PERM, 910, "/w/g", NULL, 150, &r);
	assert_int_equal(r.verdict, VERDICT_ALLOW);
	pol_del(p);
}

struct quarantine_off_case {
	const char *name;
	bool perm, deny;
	unsigned threshold, quarantine_ms;
};

static const struct quarantine_off_case quarantine_off_cases[] = {
	{ "quarantine_ms 0", true, true, 4, 0 },
	{ "without deny_on_alert", true, false, 4, 100 },
	{ "without perm", false, true, 4, 100 },
	{ "burst threshold 0", true, true, 0, 100 },
};

static void test_quarantine_off(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(quarantine_off_cases); i++) {
		const struct quarantine_off_case *t = &quarantine_off_cases[i];
		struct config c;
		struct policy *p = quarantine_policy(&c, t->perm, t->deny, t->threshold,
						     t->quarantine_ms);
		struct policy_result r;

		burst_now(p, 920, 10, 1000);
		eval(p, FAN_OPEN_PERM, 920, "/w/g", NULL, 1001, &r);
		if (r.verdict != VERDICT_ALLOW)
			fail_msg("%s: open after burst denied", t->name);
		assert_int_equal(p->quarantine_denials, 0);
		pol_del(p);
	}
}

/* ---- decisions that may change (the allow cache's flush) ---------------------------- */

/* Containment starting is a change: set by the event that reaches the threshold, not by
 * the ones before it, not by the denials that follow. policy_containing() is true from the
 * burst until quarantine_ms after it. */
/* A reload's new policy carries the old one's per-process state: a contained process stays
 * contained to the end of its quarantine, even when the new config turns quarantine_ms to
 * 0; a burst window goes on with the same threshold and starts over with another. */
static void test_carry_quarantine(void **state)
{
	struct config c1, c2;
	struct policy *old = quarantine_policy(&c1, true, true, 4, 100);
	struct policy *new = quarantine_policy(&c2, true, true, 4, 0);
	struct policy_result r;

	(void)state;
	burst_now(old, 900, 4, 1000);
	eval(old, FAN_OPEN_PERM, 900, "/w/g", NULL, 1000, &r);
	assert_int_equal(r.verdict, VERDICT_DENY);
	policy_carry(new, old);
	pol_del(old);
	assert_true(policy_containing(new, 1050));
	eval(new, FAN_OPEN_PERM, 900, "/w/g", NULL, 1050, &r);
	assert_int_equal(r.verdict, VERDICT_DENY);
	assert_string_equal(r.deny_reason, "quarantined after burst");
	assert_int_equal(new->quarantine_denials, 2); /* the counter carries on */
	eval(new, FAN_OPEN_PERM, 900, "/w/g", NULL, 1100, &r);
	assert_int_equal(r.verdict, VERDICT_ALLOW);
	/* quarantine_ms 0 now: the next burst contains no one. */
	burst_now(new, 901, 4, 2000);
	eval(new, FAN_OPEN_PERM, 901, "/w/g", NULL, 2000, &r);
	assert_int_equal(r.verdict, VERDICT_ALLOW);
	pol_del(new);
}

static void test_carry_burst_window(void **state)
{
	struct config c1, c2, c3;
	struct policy *old = quarantine_policy(&c1, false, false, 4, 0);
	struct policy *same = quarantine_policy(&c2, false, false, 4, 0);
	struct policy *other = quarantine_policy(&c3, false, false, 5, 0);
	struct policy_result r;

	(void)state;
	burst_now(old, 900, 3, 1000);
	policy_carry(same, old);
	eval(same, FAN_MODIFY, 900, "/w/f", NULL, 1001, &r);
	assert_int_equal(alert_of(&r, ALERT_BURST) >= 0, 1); /* 3 before + 1 */
	/* Cooldown state carried: a second burst within the cooldown is suppressed. */
	burst_now(same, 900, 3, 1002);
	policy_carry(other, same);
	pol_del(old);
	pol_del(same);
	/* Threshold 4 -> 5: the window starts over, 4 events are not a burst. */
	burst_now(other, 900, 4, 1003);
	eval(other, FAN_MODIFY, 901, "/w/f", NULL, 1003, &r);
	assert_int_equal(r.n_alerts, 0);
	eval(other, FAN_MODIFY, 900, "/w/f", NULL, 1004, &r);
	assert_int_equal(r.n_alerts, 0); /* the 5th: a burst, held back by the carried cooldown */
	assert_int_equal(other->suppressed, 1);
	pol_del(other);
}

static void test_decisions_changed_burst(void **state)
{
	struct config c;
	struct policy *p = quarantine_policy(&c, true, true, 4, 100);
	struct policy_result r;

	(void)state;
	assert_false(policy_containing(p, 0));
	assert_false(policy_containing(p, 1000));
	eval(p, FAN_OPEN_PERM, 950, "/w/f", NULL, 1000, &r);
	assert_false(r.decisions_changed);
	for (int i = 0; i < 3; i++) {
		eval(p, FAN_MODIFY, 950, "/w/f", NULL, 1000, &r);
		assert_false(r.decisions_changed);
	}
	assert_false(policy_containing(p, 1000));
	eval(p, FAN_CLOSE_WRITE, 950, "/w/f", NULL, 1000, &r);
	assert_int_equal(alert_of(&r, ALERT_BURST), 0);
	assert_true(r.decisions_changed);
	assert_true(policy_containing(p, 1000));
	assert_true(policy_containing(p, 1099));
	/* The denial that follows changes nothing more; nor does another process's open. */
	eval(p, FAN_OPEN_PERM, 950, "/w/g", NULL, 1001, &r);
	assert_int_equal(r.verdict, VERDICT_DENY);
	assert_false(r.decisions_changed);
	eval(p, FAN_OPEN_PERM, 951, "/w/g", NULL, 1001, &r);
	assert_int_equal(r.verdict, VERDICT_ALLOW);
	assert_false(r.decisions_changed);
	/* A mutating event of the contained process below the next threshold: no change. */
	eval(p, FAN_MODIFY, 950, "/w/f", NULL, 1002, &r);
	assert_false(r.decisions_changed);
	/* quarantine_ms after the burst the containment is over. */
	assert_false(policy_containing(p, 1100));
	assert_false(policy_containing(p, 5000));
	eval(p, FAN_OPEN_PERM, 950, "/w/g", NULL, 1100, &r);
	assert_int_equal(r.verdict, VERDICT_ALLOW);
	pol_del(p);
}

/* policy_containing() holds while any process is contained: the latest end counts, and a
 * second burst renews it. */
static void test_containing_latest_end(void **state)
{
	struct config c;
	struct policy *p = quarantine_policy(&c, true, true, 2, 100);
	struct policy_result r;

	(void)state;
	burst_now(p, 960, 2, 1000);	/* contained until 1100 */
	burst_now(p, 961, 2, 1050);	/* contained until 1150 */
	assert_true(policy_containing(p, 1120));
	eval(p, FAN_OPEN_PERM, 960, "/w/g", NULL, 1120, &r);
	assert_int_equal(r.verdict, VERDICT_ALLOW); /* 960's own quarantine is over */
	eval(p, FAN_OPEN_PERM, 961, "/w/g", NULL, 1120, &r);
	assert_int_equal(r.verdict, VERDICT_DENY);
	assert_true(policy_containing(p, 1149));
	assert_false(policy_containing(p, 1150));
	/* Renewed: a burst of 961 at 1140 extends to 1240, and says so. */
	eval(p, FAN_MODIFY, 961, "/w/f", NULL, 1140, &r);
	assert_false(r.decisions_changed);
	eval(p, FAN_MODIFY, 961, "/w/f", NULL, 1140, &r);
	assert_true(r.decisions_changed);
	assert_true(policy_containing(p, 1239));
	assert_false(policy_containing(p, 1240));
	pol_del(p);
}

/* Without containment a burst only alerts: no change of decisions, nothing contained. */
static void test_decisions_changed_burst_off(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(quarantine_off_cases); i++) {
		const struct quarantine_off_case *t = &quarantine_off_cases[i];
		struct config c;
		struct policy *p = quarantine_policy(&c, t->perm, t->deny, t->threshold,
						     t->quarantine_ms);
		struct policy_result r;
		bool changed = false;

		for (int k = 0; k < 10; k++) {
			eval(p, FAN_MODIFY, 970, "/w/f", NULL, 1000, &r);
			changed |= r.decisions_changed;
		}
		if (changed)
			fail_msg("%s: a burst changed decisions", t->name);
		if (policy_containing(p, 1000))
			fail_msg("%s: containing after a burst", t->name);
		if (t->threshold)
			assert_true(alerts_raised >= 1); /* the burst itself was seen */
		pol_del(p);
	}
}

struct changed_case {
	const char *name;
	uint64_t mask;
	const char *path, *old_path;
	bool changed;	/* with or without deny_on_alert (a cached canary would lose alerts) */
};

static const struct changed_case changed_cases[] = {
	/* A canary path touched by a non-permission event: a cached file may now be one. */
	{ "rename onto a canary name", FAN_RENAME, "/w/canary-x", "/w/plain", true },
	{ "rename away from a canary name", FAN_RENAME, "/w/plain", "/w/canary-x", true },
	{ "moved_to a canary name", FAN_MOVED_TO, "/w/canary-x", NULL, true },
	{ "moved_from a canary name", FAN_MOVED_FROM, "/w/canary-x", NULL, true },
	{ "attrib of a canary (a hard link's count)", FAN_ATTRIB, "/w/etc/shadow", NULL, true },
	{ "modify of a canary", FAN_MODIFY, "/w/canary", NULL, true },
	{ "close_write of a canary", FAN_CLOSE_WRITE, "/w/key1", NULL, true },
	{ "merged modify|close_write of a canary", FAN_MODIFY | FAN_CLOSE_WRITE, "/w/canary",
	  NULL, true },
	{ "delete of a canary", FAN_DELETE, "/w/canary", NULL, true },
	{ "access of a canary", FAN_ACCESS, "/w/doc1.pdf", NULL, true },
	/* Permission events are decided, not cached, when they touch a canary. */
	{ "OPEN_PERM of a canary", FAN_OPEN_PERM, "/w/canary", NULL, false },
	{ "OPEN_EXEC_PERM of a canary", FAN_OPEN_EXEC_PERM, "/w/canary", NULL, false },
	{ "ACCESS_PERM of a canary", FAN_ACCESS_PERM, "/w/canary", NULL, false },
	/* A hard link onto a canary name: CREATE raises no alert, but the linked inode
	 * may be cached. */
	{ "create on a canary name", FAN_CREATE, "/w/canary-x", NULL, true },
	/* A moved directory may bring any number of cached files under a canary pattern. */
	{ "directory renamed", FAN_RENAME | FAN_ONDIR, "/w/d2", "/w/d1", true },
	{ "directory moved_to", FAN_MOVED_TO | FAN_ONDIR, "/w/d2", NULL, true },
	/* Ordinary events. */
	{ "directory created", FAN_CREATE | FAN_ONDIR, "/w/d3", NULL, false },
	{ "rename between plain names", FAN_RENAME, "/w/b", "/w/a", false },
	{ "rename into a canary glob's subdirectory", FAN_RENAME, "/w/canary/inner", "/w/a",
	  false },
	{ "modify of a plain file", FAN_MODIFY, "/w/plain", NULL, false },
	{ "attrib of a plain file", FAN_ATTRIB, "/w/plain", NULL, false },
	{ "create of a plain file", FAN_CREATE, "/w/plain", NULL, false },
	{ "delete of a plain file", FAN_DELETE, "/w/plain", NULL, false },
	{ "OPEN_PERM of a plain file", FAN_OPEN_PERM, "/w/plain", NULL, false },
	{ "unknown path", FAN_MODIFY, NULL, NULL, false },
};

static void test_decisions_changed_canary(void **state)
{
	(void)state;
	for (int deny = 1; deny >= 0; deny--) {
		struct config c;
		/* Cooldown 0: every canary event alerts, none is held back. */
		struct policy *p = canary_policy(&c, deny, 0);

		for (size_t i = 0; i < ARRAY_SIZE(changed_cases); i++) {
			const struct changed_case *t = &changed_cases[i];
			struct policy_result r;
			bool want = t->changed;
			bool alerts = t->changed && !(t->mask & (FAN_CREATE | FAN_ONDIR));

			eval(p, t->mask, 980 + (pid_t)i, t->path, t->old_path, 1000, &r);
			if (r.decisions_changed != want)
				fail_msg("%s, deny_on_alert %d: decisions_changed %d, want %d",
					 t->name, deny, r.decisions_changed, want);
			if (alerts && alert_of(&r, ALERT_CANARY) < 0)
				fail_msg("%s, deny_on_alert %d: no canary alert", t->name, deny);
			if (alerts && !r.canary)
				fail_msg("%s, deny_on_alert %d: canary not set", t->name, deny);
			/* The flag is per event: an ordinary event right after has none. */
			eval(p, FAN_MODIFY, 980 + (pid_t)i, "/w/plain", NULL, 1000, &r);
			assert_false(r.decisions_changed);
		}
		assert_false(policy_containing(p, 1000)); /* canaries never contain */
		pol_del(p);
	}
}

/* A cooldown that holds the canary alert back does not hold back the change. */
static void test_decisions_changed_not_limited_by_cooldown(void **state)
{
	struct config c;
	struct policy *p = canary_policy(&c, true, 5000);
	struct policy_result r;

	(void)state;
	eval(p, FAN_RENAME, 990, "/w/canary-a", "/w/a", 1000, &r);
	assert_int_equal(r.n_alerts, 1);
	assert_true(r.decisions_changed);
	eval(p, FAN_RENAME, 990, "/w/canary-b", "/w/b", 1001, &r);
	assert_int_equal(r.n_alerts, 0); /* same reason, within the cooldown */
	assert_true(r.decisions_changed);
	assert_int_equal(p->suppressed, 1);
	pol_del(p);
}

/* ---- process table ------------------------------------------------------------------- */

static size_t procs_used(const struct policy *p)
{
	size_t n = 0;

	for (size_t i = 0; i < POLICY_PROCS_MAX; i++)
		n += p->procs[i].pid != 0;
	return n;
}

/* Many more processes than slots: bounded, evictions counted, state of new ones fresh. */
static void test_eviction_many(void **state)
{
	enum { PIDS = 5000 };
	struct config c;
	struct policy *p = burst_policy(&c, 4, 1000000, 0);
	struct policy_result r;

	(void)state;
	for (pid_t pid = 1; pid <= PIDS; pid++) {
		eval(p, FAN_MODIFY, pid, "/w/f", NULL, (uint64_t)pid, &r);
		eval(p, FAN_MODIFY, pid, "/w/f", NULL, (uint64_t)pid, &r);
		eval(p, FAN_MODIFY, pid, "/w/f", NULL, (uint64_t)pid, &r);
		assert_int_equal(r.n_alerts, 0);
	}
	/* A slot is never freed, only reused: each insert beyond a free slot is an eviction. */
	assert_true(procs_used(p) <= POLICY_PROCS_MAX);
	assert_true(procs_used(p) > POLICY_PROCS_MAX / 2);
	assert_int_equal(p->evictions, PIDS - procs_used(p));
	assert_true(p->evictions >= PIDS - POLICY_PROCS_MAX);
	/* The most recent process kept its window: one more event is its 4th. */
	eval(p, FAN_MODIFY, PIDS, "/w/f", NULL, PIDS + 1, &r);
	assert_int_equal(r.n_alerts, 1);
	/* The first ones were evicted: their window restarted. */
	eval(p, FAN_MODIFY, 1, "/w/f", NULL, PIDS + 2, &r);
	assert_int_equal(r.n_alerts, 0);
	/* Quarantine lookups for many more processes: still bounded. */
	pol_del(p);

	p = quarantine_policy(&c, true, true, 4, 100);
	for (pid_t pid = 1; pid <= PIDS; pid++) {
		eval(p, FAN_OPEN_PERM, pid, "/w/f", NULL, (uint64_t)pid, &r);
		assert_int_equal(r.verdict, VERDICT_ALLOW);
	}
	assert_true(procs_used(p) <= POLICY_PROCS_MAX);
	pol_del(p);
}

/* pids congruent modulo POLICY_PROCS_MAX start their probe at the same slot. */
static pid_t same_slot_pid(int i)
{
	return 5 + POLICY_PROCS_MAX * i;
}

/* The least recently active process of the probe window is the one evicted. */
static void test_eviction_lru(void **state)
{
	struct config c;
	struct policy *p = burst_policy(&c, 4, 1000000, 0);
	struct policy_result r;

	(void)state;
	for (int i = 0; i < POLICY_PROBE; i++)
		eval(p, FAN_MODIFY, same_slot_pid(i), "/w/f", NULL, 10 + (uint64_t)i, &r);
	assert_int_equal(p->evictions, 0);
	/* pid #0 becomes the most recent; #1 is now the least recent. */
	eval(p, FAN_MODIFY, same_slot_pid(0), "/w/f", NULL, 100, &r);
	eval(p, FAN_MODIFY, same_slot_pid(POLICY_PROBE), "/w/f", NULL, 101, &r);
	assert_int_equal(p->evictions, 1);
	/* #0 kept its two events: two more fire. */
	eval(p, FAN_MODIFY, same_slot_pid(0), "/w/f", NULL, 102, &r);
	assert_int_equal(r.n_alerts, 0);
	eval(p, FAN_MODIFY, same_slot_pid(0), "/w/f", NULL, 103, &r);
	assert_int_equal(r.n_alerts, 1);
	/* #2 kept its one event: three more fire. */
	for (int k = 0; k < 3; k++)
		eval(p, FAN_MODIFY, same_slot_pid(2), "/w/f", NULL, 104, &r);
	assert_int_equal(r.n_alerts, 1);
	assert_int_equal(p->evictions, 1);
	/* #1 was evicted: it starts again (and evicts someone else). */
	for (int k = 0; k < 3; k++) {
		eval(p, FAN_MODIFY, same_slot_pid(1), "/w/f", NULL, 105, &r);
		assert_int_equal(r.n_alerts, 0);
	}
	assert_int_equal(p->evictions, 2);
	pol_del(p);
}

/* A quarantined process is not evicted while others in its probe window can be. */
static void test_eviction_keeps_quarantined(void **state)
{
	struct config c;
	struct policy *p = quarantine_policy(&c, true, true, 4, 1000);
	struct policy_result r;

	(void)state;
	burst_now(p, same_slot_pid(0), 4, 0); /* quarantined until 1000, least recent */
	for (int i = 1; i <= 3 * POLICY_PROBE; i++)
		eval(p, FAN_MODIFY, same_slot_pid(i), "/w/f", NULL, 10 + (uint64_t)i, &r);
	assert_true(p->evictions >= 2 * POLICY_PROBE);
	eval(p, FAN_OPEN_PERM, same_slot_pid(0), "/w/f", NULL, 500, &r);
	assert_int_equal(r.verdict, VERDICT_DENY);
	assert_string_equal(r.deny_reason, "quarantined after burst");
	pol_del(p);
}

/* ---- lifetime ---------------------------------------------------------------------------- */

static void test_free_safe(void **state)
{
	struct policy *p = calloc(1, sizeof(*p));
	struct config c;

	(void)state;
	assert_non_null(p);
	policy_free(p); /* zeroed */
	policy_free(p);
	free(p);
	p = burst_policy(&c, 3, 100, 0);
	burst_now(p, 1, 2, 1);
	policy_free(p);
	policy_free(p); /* twice */
	pol_del(p);	/* and once more, through the helper */
}


/* ---- burst scopes ---------------------------------------------------------------------- */

/* A policy counting bursts for scopes (1u << enum config_scope), threshold and window the
 * plain ones; containment with perm and quarantine_ms. */
static struct policy *scope_policy(struct config *c, unsigned scopes, unsigned threshold,
				   unsigned window_ms, unsigned quarantine_ms)
{
	cfg_base(c);
	c->burst_scopes = scopes;
	c->burst_threshold = threshold;
	c->burst_window_ms = window_ms;
	c->quarantine_ms = quarantine_ms;
	c->perm = c->deny_on_alert = quarantine_ms > 0;
	return pol_new(c);
}

/* A process: pid, ppid, sid, uid, exe (NULL = unknown) and ancestors from the parent up
 * (terminated by 0). */
static struct proc_info tproc(pid_t pid, pid_t ppid, pid_t sid, uid_t uid, const char *exe,
			      const pid_t *ancestors)
{
	struct proc_info pi = { .pid = pid, .ppid = ppid, .ppid_known = ppid > 0, .sid = sid,
				.sid_known = sid > 0, .uid = uid, .uid_known = true, .exe = exe };

	for (unsigned i = 0; ancestors && i < EVENT_ANCESTORS_MAX && ancestors[i]; i++)
		pi.ancestors[pi.n_ancestors++] = ancestors[i];
	return pi;
}

static void eval_pi(struct policy *p, uint64_t mask, const struct proc_info *pi,
		    const char *path, uint64_t now_ms, struct policy_result *r)
{
	struct policy_input in = {
		.mask = mask, .pid = pi->pid, .path = path, .now_ms = now_ms, .proc = pi,
	};

	policy_eval(p, &in, r);
	alerts_raised += r->n_alerts;
}

/* The first burst alert of scope in r, or NULL. */
static const struct alert *scope_alert(const struct policy_result *r, const char *scope)
{
	for (unsigned i = 0; i < r->n_alerts; i++)
		if (r->alerts[i].kind == ALERT_BURST && r->alerts[i].scope &&
		    strcmp(r->alerts[i].scope, scope) == 0)
			return &r->alerts[i];
	return NULL;
}

/* Each scope adds up events of different processes that share its identity, alerts at its
 * threshold, names scope and identity (a number or a string), and leaves others alone. */
static void test_scope_each_counts(void **state)
{
	static const struct {
		enum config_scope scope;
		const char *name;
		int64_t id;
		const char *id_str;
	} cases[] = {
		{ CONFIG_SCOPE_PARENT, "parent", 50, NULL },
		{ CONFIG_SCOPE_SESSION, "session", 40, NULL },
		{ CONFIG_SCOPE_UID, "uid", 1000, NULL },
		{ CONFIG_SCOPE_EXE, "exe", 0, "/usr/bin/rev" },
		{ CONFIG_SCOPE_CGROUP, "cgroup", 0, "/jobs.slice/j1.scope" },
		{ CONFIG_SCOPE_JOB, "job", 0, "J" },
	};
	static const struct tjob jobs[] = { { "J", { NULL, "/w", NULL, NULL } } };
	struct config_job store[1];

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
		struct config c;
		struct policy *p;
		struct policy_result r;
		const struct alert *a;

		cfg_base(&c);
		cfg_jobs(&c, store, jobs, 1);
		c.burst_scopes = 1u << cases[k].scope;
		c.burst_threshold = 4;
		p = pol_new(&c);
		assert_true(policy_needs_proc(p));
		assert_int_equal(policy_needs_ancestry(p), cases[k].scope == CONFIG_SCOPE_PARENT);
		/* Four processes, one event each: no process reaches 4, the scope does. */
		for (pid_t pid = 100; pid < 104; pid++) {
			const pid_t anc[] = { 50, 0 };
			struct proc_info pi = tproc(pid, 50, 40, 1000, "/usr/bin/rev", anc);

			pi.cgroup = "/jobs.slice/j1.scope";
			eval_pi(p, FAN_MODIFY, &pi, "/w/f", 1000 + (uint64_t)pid, &r);
			if (pid < 103) {
				assert_int_equal(r.n_alerts, 0);
				continue;
			}
			a = scope_alert(&r, cases[k].name);
			if (!a)
				fail_msg("scope %s: no alert", cases[k].name);
			assert_int_equal(r.n_alerts, 1);
			assert_int_equal(a->pid, 103);
			assert_int_equal(a->count, 4);
			assert_int_equal(a->window_ms, 1000);
			assert_string_equal(a->path, "/w/f");
			assert_string_equal(a->reason, "mutating event burst");
			assert_str_or_null(a->scope_id_str, cases[k].id_str, cases[k].name);
			if (!cases[k].id_str)
				assert_int_equal(a->scope_id, cases[k].id);
		}
		/* Another identity of the scope starts from nothing. */
		{
			const pid_t anc[] = { 51, 0 };
			struct proc_info pi = tproc(200, 51, 41, 1001, "/usr/bin/sed", anc);

			pi.cgroup = "/jobs.slice/j2.scope";
			eval_pi(p, FAN_MODIFY, &pi, "/x/f", 1200, &r);
			assert_int_equal(r.n_alerts, 0);
		}
		pol_del(p);
	}
}

/* process is the default and says so; several scopes at once, each with its own threshold
 * and window; 0 for a scope's value means the plain one. */
static void test_scope_thresholds(void **state)
{
	struct config c;
	struct policy *p;
	struct policy_result r;
	const struct alert *a;
	struct proc_info pi;
	int session = 0, uid = 0, proc = 0;

	(void)state;
	p = scope_policy(&c, 0, 3, 100, 0); /* 0: the default, process */
	assert_false(policy_needs_proc(p));
	burst_now(p, 7, 2, 10);
	eval(p, FAN_MODIFY, 7, "/w/f", NULL, 10, &r);
	a = scope_alert(&r, "process");
	assert_non_null(a);
	assert_int_equal(a->scope_id, 7);
	assert_null(a->scope_id_str);
	pol_del(p);

	cfg_base(&c);
	c.burst_scopes = (1u << CONFIG_SCOPE_PROCESS) | (1u << CONFIG_SCOPE_SESSION) |
			 (1u << CONFIG_SCOPE_UID);
	c.burst_threshold = 10;
	c.burst_window_ms = 1000;
	c.burst_threshold_scope[CONFIG_SCOPE_SESSION] = 3;
	c.burst_window_ms_scope[CONFIG_SCOPE_SESSION] = 50;
	c.burst_threshold_scope[CONFIG_SCOPE_UID] = 5;
	p = pol_new(&c);
	/* Session: 3 in 50 ms. Events 60 ms apart never make it; then 3 close ones do. */
	for (int i = 0; i < 3; i++) {
		pi = tproc(300 + i, 1, 30, 0, NULL, NULL);
		eval_pi(p, FAN_MODIFY, &pi, "/w/f", 1000 + 60 * (uint64_t)i, &r);
		assert_null(scope_alert(&r, "session"));
	}
	for (int i = 0; i < 12; i++) {
		pi = tproc(400, 1, 31, 0, NULL, NULL);
		eval_pi(p, FAN_MODIFY, &pi, "/w/f", 2000 + (uint64_t)i, &r);
		if ((a = scope_alert(&r, "session"))) {
			session++;
			assert_int_equal(a->count, 3);
			assert_int_equal(a->window_ms, 50);
			assert_int_equal(a->scope_id, 31);
		}
		if ((a = scope_alert(&r, "uid"))) {
			uid++;
			assert_int_equal(a->count, 5);
			assert_int_equal(a->window_ms, 1000);	/* the plain window */
			assert_int_equal(a->scope_id, 0);
			/* Two earlier events of uid 0 are still in its window (1060, 1120):
			 * the 5th is the 3rd here. */
			assert_true(i == 2 || i == 7);
		}
		if ((a = scope_alert(&r, "process"))) {
			proc++;
			assert_int_equal(a->count, 10);
			assert_int_equal(i, 9);
		}
	}
	/* The cooldown is per identity: one alert each. */
	assert_int_equal(session, 1);
	assert_int_equal(uid, 1);
	assert_int_equal(proc, 1);
	assert_int_equal(p->suppressed, 3 + 1); /* session at 5, 8, 11; uid at 7 */
	pol_del(p);
}

/* An identity the event does not have is not counted, and that is counted: no process at
 * all, no session, no exe, no cgroup, no job; the process scope still counts. */
static void test_scope_unknown(void **state)
{
	struct config c;
	struct policy *p = scope_policy(&c, 0x7f, 2, 1000, 0);
	struct stats st = { 0 };
	struct policy_result r;
	struct proc_info pi = tproc(500, 0, 0, 0, NULL, NULL);

	(void)state;
	pi.uid_known = false;
	eval(p, FAN_MODIFY, 500, "/w/f", NULL, 1000, &r); /* in->proc NULL */
	assert_int_equal(p->burst_unknown, 6);	/* parent, session, uid, exe, cgroup, job */
	assert_int_equal(r.n_alerts, 0);
	eval_pi(p, FAN_MODIFY, &pi, "/w/f", 1001, &r);
	assert_int_equal(p->burst_unknown, 12);
	assert_int_equal(r.n_alerts, 1);	/* the process's second event */
	assert_non_null(scope_alert(&r, "process"));
	/* init is no parent to count for; the uid is known now. */
	pi = tproc(501, 1, 0, 0, NULL, NULL);
	eval_pi(p, FAN_MODIFY, &pi, "/w/f", 1002, &r);
	assert_int_equal(p->burst_unknown, 17);
	/* Events that do not mutate are not counted at all. */
	eval_pi(p, FAN_OPEN, &pi, "/w/f", 1003, &r);
	assert_int_equal(p->burst_unknown, 17);
	/* The stats record's burst_unknown. */
	policy_stats(p, &st);
	assert_int_equal(st.burst_unknown, 17);
	pol_del(p);
}

/* The loop: every file a fresh sh (pid 1000 + i, parent the loop's shell 900, whose
 * parent is 800) whose child (2000 + i) writes. The parent scope adds the loop up at 900;
 * the fresh shells never reach the threshold; 800 is not blamed once 900 is caught. */
static void test_scope_parent_ancestry(void **state)
{
	struct config c;
	struct policy *p = scope_policy(&c, 1u << CONFIG_SCOPE_PARENT, 8, 1000, 0);
	struct policy_result r;
	int alerts = 0;

	(void)state;
	for (pid_t i = 0; i < 40; i++) {
		const pid_t sh_anc[] = { 900, 800, 1, 0 };
		const pid_t child_anc[] = { 1000 + i, 900, 800, 1 };
		struct proc_info sh = tproc(1000 + i, 900, 0, 0, NULL, sh_anc);
		struct proc_info child = tproc(2000 + i, 1000 + i, 0, 0, NULL, child_anc);
		const struct alert *a;

		/* The shell creates the file (its redirection), its child writes it. */
		eval_pi(p, FAN_CREATE, &sh, "/w/f", 1000 + (uint64_t)i, &r);
		if ((a = scope_alert(&r, "parent"))) {
			assert_int_equal(a->scope_id, 900);
			alerts++;
		}
		eval_pi(p, FAN_MODIFY, &child, "/w/f", 1000 + (uint64_t)i, &r);
		if ((a = scope_alert(&r, "parent"))) {
			assert_int_equal(a->scope_id, 900);
			alerts++;
		}
	}
	assert_int_equal(alerts, 1); /* 900 at its 8th event; then its cooldown */
	/* 800 got the shells' events until 900 was caught (4 files), none after. */
	{
		const pid_t anc[] = { 800, 0 };
		struct proc_info other = tproc(3000, 800, 0, 0, NULL, anc);

		for (int i = 0; i < 3; i++) {
			eval_pi(p, FAN_MODIFY, &other, "/w/g", 2000, &r);
			assert_null(scope_alert(&r, "parent"));
		}
	}
	/* Without ancestors (an old record), the ppid alone counts. */
	for (int i = 0; i < 8; i++) {
		struct proc_info pi = tproc(4000 + i, 950, 0, 0, NULL, NULL);

		eval_pi(p, FAN_MODIFY, &pi, "/w/h", 3000, &r);
	}
	assert_non_null(scope_alert(&r, "parent"));
	assert_int_equal(scope_alert(&r, "parent")->scope_id, 950);
	pol_del(p);
}

/* After a burst, every process of the identity is denied for quarantine_ms, one that joins
 * later too; other identities are not; the allow cache is flushed (decisions_changed). For
 * parent: the parent itself and its descendants as far as the ancestors reach. */
static void test_scope_containment(void **state)
{
	static const struct {
		enum config_scope scope;
		struct proc_info joiner, outsider;
	} cases[] = {
		{ CONFIG_SCOPE_SESSION, { .pid = 70, .sid = 40, .sid_known = true },
		  { .pid = 71, .sid = 41, .sid_known = true } },
		{ CONFIG_SCOPE_UID, { .pid = 70, .uid = 1000, .uid_known = true },
		  { .pid = 71, .uid = 0, .uid_known = true } },
		{ CONFIG_SCOPE_EXE, { .pid = 70, .exe = "/usr/bin/rev" },
		  { .pid = 71, .exe = "/usr/bin/cat" } },
		{ CONFIG_SCOPE_CGROUP, { .pid = 70, .cgroup = "/j1" }, { .pid = 71, .cgroup = "/j" } },
		/* A grand-grandchild of 50 joins; 50's parent 49 is not contained. */
		{ CONFIG_SCOPE_PARENT,
		  { .pid = 70, .ppid = 61, .ppid_known = true, .ancestors = { 61, 60, 50, 49 },
		    .n_ancestors = 4 },
		  { .pid = 49, .ppid = 48, .ppid_known = true, .ancestors = { 48 },
		    .n_ancestors = 1 } },
	};

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
		struct config c;
		struct policy *p = scope_policy(&c, 1u << cases[k].scope, 3, 1000, 500);
		struct policy_result r;
		const char *what = config_scope_name(cases[k].scope);

		for (pid_t pid = 100; pid < 103; pid++) {
			const pid_t anc[] = { 50, 49, 0 };
			struct proc_info pi = tproc(pid, 50, 40, 1000, "/usr/bin/rev", anc);

			pi.cgroup = "/j1";
			eval_pi(p, FAN_MODIFY, &pi, "/w/f", 1000, &r);
		}
		if (!scope_alert(&r, what))
			fail_msg("%s: no burst", what);
		assert_true(r.decisions_changed);
		assert_true(policy_containing(p, 1499));
		eval_pi(p, FAN_OPEN_PERM, &cases[k].joiner, "/w/g", 1200, &r);
		if (r.verdict != VERDICT_DENY)
			fail_msg("%s: a process joining later is allowed", what);
		assert_string_equal(r.deny_reason, "quarantined after burst");
		eval_pi(p, FAN_OPEN_PERM, &cases[k].outsider, "/w/g", 1200, &r);
		if (r.verdict != VERDICT_ALLOW)
			fail_msg("%s: another identity is denied", what);
		eval_pi(p, FAN_OPEN_PERM, &cases[k].joiner, "/w/g", 1500, &r);
		assert_int_equal(r.verdict, VERDICT_ALLOW); /* quarantine_ms later */
		assert_int_equal(p->quarantine_denials, 1);
		pol_del(p);
	}
	/* The parent itself is contained too. */
	{
		struct config c;
		struct policy *p = scope_policy(&c, 1u << CONFIG_SCOPE_PARENT, 2, 1000, 500);
		struct policy_result r;
		struct proc_info child = tproc(100, 50, 0, 0, NULL, NULL);
		struct proc_info parent = tproc(50, 49, 0, 0, NULL, NULL);

		eval_pi(p, FAN_MODIFY, &child, "/w/f", 1000, &r);
		eval_pi(p, FAN_MODIFY, &child, "/w/f", 1000, &r);
		eval_pi(p, FAN_OPEN_PERM, &parent, "/w/f", 1001, &r);
		assert_int_equal(r.verdict, VERDICT_DENY);
		pol_del(p);
	}
}

/* Many identities: the table stays at POLICY_IDENTS_MAX, the quietest go (counted), a
 * contained identity stays while others can go. */
static void test_scope_eviction(void **state)
{
	struct config c;
	struct policy *p = scope_policy(&c, 1u << CONFIG_SCOPE_UID, 2, 1000, 100000);
	struct policy_result r;
	struct proc_info pi = tproc(10, 1, 0, 7, NULL, NULL);
	size_t used = 0;

	(void)state;
	/* uid 7 bursts and is contained. */
	eval_pi(p, FAN_MODIFY, &pi, "/w/f", 1000, &r);
	eval_pi(p, FAN_MODIFY, &pi, "/w/f", 1000, &r);
	assert_non_null(scope_alert(&r, "uid"));
	for (uid_t u = 10000; u < 10000 + 20 * POLICY_IDENTS_MAX; u++) {
		pi = tproc(20, 1, 0, u, NULL, NULL);
		eval_pi(p, FAN_MODIFY, &pi, "/w/f", 2000 + u, &r);
	}
	for (size_t i = 0; i < POLICY_IDENTS_MAX; i++)
		used += p->scopes[CONFIG_SCOPE_UID].idents[i].used;
	assert_int_equal(used, POLICY_IDENTS_MAX);
	assert_true(p->evictions >= 19 * POLICY_IDENTS_MAX);
	pi = tproc(30, 1, 0, 7, NULL, NULL);
	eval_pi(p, FAN_OPEN_PERM, &pi, "/w/f", 50000, &r);
	assert_int_equal(r.verdict, VERDICT_DENY);
	pol_del(p);
}

/* A reload carries each scope's windows (same threshold), cooldowns and containments; a
 * changed threshold restarts the counts; a scope dropped from burst_scope still contains
 * to the end. */
static void test_scope_carry(void **state)
{
	struct config c1, c2, c3, c4;
	struct policy *old = scope_policy(&c1, 1u << CONFIG_SCOPE_SESSION, 4, 1000, 500);
	struct policy *same = scope_policy(&c2, 1u << CONFIG_SCOPE_SESSION, 4, 1000, 500);
	struct policy *other = scope_policy(&c3, 1u << CONFIG_SCOPE_SESSION, 5, 1000, 500);
	struct policy *none = scope_policy(&c4, 1u << CONFIG_SCOPE_PROCESS, 4, 1000, 500);
	struct policy_result r;
	struct proc_info a = tproc(100, 1, 40, 0, NULL, NULL), b = tproc(101, 1, 41, 0, NULL, NULL);

	(void)state;
	for (int i = 0; i < 3; i++)
		eval_pi(old, FAN_MODIFY, &a, "/w/f", 1000, &r);
	for (int i = 0; i < 4; i++)
		eval_pi(old, FAN_MODIFY, &b, "/w/f", 1000, &r); /* 41 contained */
	policy_carry(same, old);
	pol_del(old);
	eval_pi(same, FAN_MODIFY, &a, "/w/f", 1001, &r);
	assert_non_null(scope_alert(&r, "session")); /* 3 before + 1 */
	for (int i = 0; i < 3; i++)
		eval_pi(same, FAN_MODIFY, &b, "/w/f", 1002, &r);
	policy_carry(other, same);
	pol_del(same);
	for (int i = 0; i < 4; i++) {
		eval_pi(other, FAN_MODIFY, &b, "/w/f", 1003, &r);
		assert_null(scope_alert(&r, "session")); /* 5 now, counted from 0 */
	}
	eval_pi(other, FAN_OPEN_PERM, &b, "/w/f", 1003, &r);
	assert_int_equal(r.verdict, VERDICT_DENY);
	policy_carry(none, other);
	pol_del(other);
	assert_true(policy_needs_proc(none));
	eval_pi(none, FAN_OPEN_PERM, &b, "/w/f", 1400, &r);
	assert_int_equal(r.verdict, VERDICT_DENY); /* still contained */
	eval_pi(none, FAN_OPEN_PERM, &b, "/w/f", 1600, &r);
	assert_int_equal(r.verdict, VERDICT_ALLOW);
	pol_del(none);
}

#define T(f) cmocka_unit_test_teardown(f, free_live)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_tag_table),
		T(test_tag_in_eval),
		T(test_tag_in_alerts),
		T(test_tag_slash_root),
		T(test_tag_300_roots),
		T(test_tag_deep_path),
		T(test_tag_deep_nested_root),
		T(test_init_bad_root),
		T(test_cgroup_job_table),
		T(test_cgroup_tags_in_eval),
		T(test_cgroup_tags_in_alerts),
		T(test_cgroup_init_bad),
		T(test_canary_match_table),
		T(test_canary_index_agrees_with_fnmatch),
		T(test_canary_eval_table),
		T(test_canary_reasons),
		T(test_canary_rename),
		T(test_verdict_table),
		T(test_deny_needs_perm),
		T(test_deny_not_limited_by_cooldown),
		T(test_canary_pid0),
		T(test_cooldown_canary),
		T(test_cooldown_at_time_zero),
		T(test_cooldown_zero),
		T(test_cooldown_escalation),
		T(test_cooldown_per_kind),
		T(test_burst_table),
		T(test_burst_fields),
		T(test_burst_mutating_set),
		T(test_burst_restart),
		T(test_burst_per_process),
		T(test_burst_threshold_zero),
		T(test_burst_cooldown),
		T(test_quarantine),
		T(test_quarantine_renewed_by_suppressed_burst),
		T(test_quarantine_off),
		T(test_carry_quarantine),
		T(test_carry_burst_window),
		T(test_decisions_changed_burst),
		T(test_containing_latest_end),
		T(test_decisions_changed_burst_off),
		T(test_decisions_changed_canary),
		T(test_decisions_changed_not_limited_by_cooldown),
		T(test_eviction_many),
		T(test_eviction_lru),
		T(test_eviction_keeps_quarantined),
		T(test_free_safe),
		T(test_scope_each_counts),
		T(test_scope_thresholds),
		T(test_scope_unknown),
		T(test_scope_parent_ancestry),
		T(test_scope_containment),
		T(test_scope_eviction),
		T(test_scope_carry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
