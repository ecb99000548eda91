/*
 * policy.c - owns the job-root table, the canary list and the per-process state (burst
 * window, cooldowns, quarantine). Pure: the caller passes the time; no syscalls, no logs.
 * Runs on the path that answers permission events, so every lookup is bounded:
 *
 *   job roots  hash of every '/'-bounded prefix of the path, longest first: O(path length),
 *              whatever the number of roots.
 *   job cgroups the same over the process's cgroup path (when a job names a cgroup, the
 *              pipeline passes the process in): a process in a job's cgroup or below it
 *              is that job's, wherever its path is.
 *   canaries   exact patterns by a hash of the path; globs by a hash of each '/'-bounded
 *              prefix (the directory of their literal head), then literal head and tail,
 *              then fnmatch(3) with FNM_PATHNAME ('*' does not cross '/'): O(path
 *              length) plus the globs of the path's own directories.
 *   processes  open addressing over POLICY_PROCS_MAX slots, POLICY_PROBE probes at most;
 *              a full probe evicts the least recently active (counted).
 *   scopes     burst_scope's other identities (parent, session, uid, exe, cgroup, job):
 *              a table of POLICY_IDENTS_MAX per scope, the same probing; a full probe
 *              evicts the quietest identity that is not contained (counted). An event
 *              counts for at most POLICY_PARENT_DEPTH identities of the parent scope and
 *              one of each other; containment looks up EVENT_ANCESTORS_MAX + 1 at most.
 *
 * The parent scope counts an event for the acting process's parent and grandparent (never
 * init, pid 1): in `for f in *; do sh -c 'rev "$1" > "$1.locked"' sh "$f"; done` each
 * writer's parent is a fresh sh, its grandparent the loop's shell, where the loop adds up.
 * Its containment covers the identity and its descendants as far as in->proc's ancestors
 * reach. Everything comes from in->proc, which records carry, so a replay counts alike.
 *
 * Hands back alerts and a verdict to pipeline.c, which answers, records and runs hooks.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "hash.h"
#include "policy.h"

#define MUTATING_EVENTS                                                                      \
	(FAN_MODIFY | FAN_CLOSE_WRITE | FAN_ATTRIB | FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM |  \
	 FAN_MOVED_TO | FAN_RENAME)
#define PATH_DEPTH_MAX 2048 /* components of a root: a root is at most PATH_MAX bytes */

static int add_root(struct policy *p, const char *path, const char *job, enum config_role role,
		    char *msg, size_t msg_len)
{
	struct policy_root *r = &p->roots[p->n_root_entries];
	size_t n = strlen(path);

	if (path[0] != '/') {
		snprintf(msg, msg_len, "job %s: %s root '%s' is not an absolute path", job,
			 config_role_name(role), path);
		return -EINVAL;
	}
	while (n > 1 && path[n - 1] == '/')
		n--;
	r->path = strndup(path, n);
	if (!r->path)
		return -ENOMEM;
	r->len = n;
	r->hash = hash_bytes(HASH_SEED, r->path, n);
	r->job_id = job;
	r->owner = job;
	r->role = role;
	/* The same directory as a root of two jobs (a shared cache): its role is known, its job
	 * is not; job_id stays null for it. Each job that named it is kept (same), so that a
	 * job's process, known by its cgroup, keeps the role there. */
	for (struct policy_root *o = p->buckets[r->hash & (POLICY_ROOT_BUCKETS - 1)]; o;
	     o = o->next) {
		if (o->len == n && memcmp(o->path, r->path, n) == 0) {
			if (o->job_id && strcmp(o->job_id, job) != 0)
				o->job_id = NULL;
			free(r->path);
			r->path = NULL;
			r->same = o->same;
			o->same = r;
			p->n_root_entries++;
			return 0;
		}
	}
	for (size_t i = 1, depth = 1; i <= n; i++) {
		if (i == n || r->path[i] == '/') {
			if (depth > p->max_root_depth)
				p->max_root_depth = depth;
			depth++;
		}
	}
	r->next = p->buckets[r->hash & (POLICY_ROOT_BUCKETS - 1)];
	p->buckets[r->hash & (POLICY_ROOT_BUCKETS - 1)] = r;
	p->n_roots++;
	p->n_root_entries++;
	return 0;
}

/* Components of path (absolute, no trailing '/'). */
static size_t path_depth(const char *path, size_t n)
{
	size_t depth = 0;

	for (size_t i = 1; i <= n; i++)
		if (i == n || path[i] == '/')
			depth++;
	return depth;
}

static int add_cgroup(struct policy *p, const char *path, const char *job, char *msg,
		      size_t msg_len)
{
	struct policy_cgroup *g = &p->cgroups[p->n_cgroups];
	size_t n = strlen(path);

	/* config.c refuses worse (config_cgroup_problem()); this is what matching needs. */
	if (path[0] != '/' || n < 2 || path[n - 1] == '/') {
		snprintf(msg, msg_len, "job %s: cgroup '%s' is not an absolute cgroup path below "
			 "the root, without a trailing '/'", job, path);
		return -EINVAL;
	}
	g->path = strndup(path, n);
	if (!g->path)
		return -ENOMEM;
	g->len = n;
	g->hash = hash_bytes(HASH_SEED, g->path, n);
	g->job_id = job;
	if (path_depth(g->path, n) > p->max_cgroup_depth)
		p->max_cgroup_depth = path_depth(g->path, n);
	g->next = p->cgroup_buckets[g->hash & (POLICY_CGROUP_BUCKETS - 1)];
	p->cgroup_buckets[g->hash & (POLICY_CGROUP_BUCKETS - 1)] = g;
	p->n_cgroups++;
	return 0;
}

int policy_init(struct policy *p, const struct config *c, char *msg, size_t msg_len)
{
	unsigned scopes = c->burst_scopes ? c->burst_scopes : CONFIG_SCOPES_DEFAULT;
	bool bursts = false;
	int r;

	memset(p, 0, sizeof(*p));
	for (int s = 0; s < CONFIG_SCOPE_COUNT; s++) {
		struct policy_scope *sc = &p->scopes[s];

		if (!(scopes & (1u << s)))
			continue;
		/* Not set (0): the plain burst_threshold and burst_window_ms. */
		sc->threshold = c->burst_threshold_scope[s] ? c->burst_threshold_scope[s]
							    : c->burst_threshold;
		sc->window_ms = c->burst_window_ms_scope[s] ? c->burst_window_ms_scope[s]
							    : c->burst_window_ms;
		bursts = bursts || sc->threshold;
		if (s == CONFIG_SCOPE_PROCESS || !sc->threshold)
			continue;
		sc->idents = calloc(POLICY_IDENTS_MAX, sizeof(*sc->idents));
		if (!sc->idents)
			return -ENOMEM;
		p->by_proc = true;
	}
	p->burst_threshold = p->scopes[CONFIG_SCOPE_PROCESS].threshold;
	p->burst_window_ms = p->scopes[CONFIG_SCOPE_PROCESS].window_ms;
	p->cooldown_ms = c->hook_cooldown_ms;
	p->deny_on_alert = c->perm && c->deny_on_alert;
	p->quarantine_ms = p->deny_on_alert && bursts ? c->quarantine_ms : 0;

	p->roots = calloc(c->n_jobs * CONFIG_ROLE_COUNT + 1, sizeof(*p->roots));
	p->canaries = calloc(c->n_canaries + 1, sizeof(*p->canaries));
	p->cgroups = calloc(c->n_jobs + 1, sizeof(*p->cgroups));
	if (!p->roots || !p->canaries || !p->cgroups)
		return -ENOMEM;
	for (size_t j = 0; j < c->n_jobs; j++) {
		if (!c->jobs[j].cgroup)
			continue;
		r = add_cgroup(p, c->jobs[j].cgroup, c->jobs[j].id, msg, msg_len);
		if (r < 0)
			return r;
	}
	for (size_t j = 0; j < c->n_jobs; j++) {
		for (int role = 0; role < CONFIG_ROLE_COUNT; role++) {
			if (!c->jobs[j].root[role])
				continue;
			r = add_root(p, c->jobs[j].root[role], c->jobs[j].id, (enum config_role)role,
				     msg, msg_len);
			if (r < 0)
				return r;
		}
	}
	for (size_t i = 0; i < c->n_canaries; i++) {
		struct policy_canary *k = &p->canaries[i];
		struct policy_canary **bucket;

		k->pattern = c->canaries[i];
		k->pattern_len = strlen(k->pattern);
		k->literal_len = strcspn(k->pattern, "*?[\\");
		k->glob = k->pattern[k->literal_len] != '\0';
		k->suffix_len = 0;
		while (k->suffix_len < k->pattern_len &&
		       !strchr("*?[]\\", k->pattern[k->pattern_len - 1 - k->suffix_len]))
			k->suffix_len++;
		if (k->glob) {
			/* The directory the literal head names: up to its last '/'. */
			k->key_len = k->literal_len;
			while (k->key_len && k->pattern[k->key_len - 1] != '/')
				k->key_len--;
			if (k->key_len)
				k->key_len--;
		} else {
			k->key_len = k->pattern_len;
		}
		k->hash = hash_bytes(HASH_SEED, k->pattern, k->key_len);
		bucket = k->glob ? &p->glob_buckets[k->hash & (POLICY_CANARY_BUCKETS - 1)]
				 : &p->exact_buckets[k->hash & (POLICY_CANARY_BUCKETS - 1)];
		k->next = *bucket;
		*bucket = k;
	}
	p->n_canaries = c->n_canaries;
	/* Globs that share a bucket, head and tail (many patterns in one directory) are
	 * adjacent in their chain: one failed shape check rules out the run. */
	for (size_t b = 0; b < POLICY_CANARY_BUCKETS; b++) {
		for (struct policy_canary *k = p->glob_buckets[b]; k && k->next; k = k->next) {
			const struct policy_canary *n = k->next;

			k->same_shape_next =
				n->hash == k->hash && n->key_len == k->key_len &&
				n->literal_len == k->literal_len && n->suffix_len == k->suffix_len &&
				memcmp(n->pattern, k->pattern, k->literal_len) == 0 &&
				memcmp(n->pattern + n->pattern_len - n->suffix_len,
				       k->pattern + k->pattern_len - k->suffix_len, k->suffix_len) == 0;
		}
	}
	return 0;
}

static const struct policy_root *root_find(const struct policy *p, const char *s, size_t n,
					   uint64_t h)
{
	for (const struct policy_root *r = p->buckets[h & (POLICY_ROOT_BUCKETS - 1)]; r;
	     r = r->next)
		if (r->hash == h && r->len == n && memcmp(r->path, s, n) == 0)
			return r;
	return NULL;
}

/*
 * Hashes every prefix of path that ends at a component boundary, in one pass, up to
 * max_depth of them (deeper ones cannot match a table whose deepest entry has that many
 * components): ends[k] and hashes[k] for the prefix of k + 1 components. Returns how many.
 */
static unsigned prefixes(const char *path, size_t max_depth, size_t *ends, uint64_t *hashes)
{
	unsigned depth = 0;
	uint64_t h = HASH_SEED;

	for (size_t i = 0;; i++) {
		if ((path[i] == '/' || path[i] == '\0') && i > 0 && depth < max_depth &&
		    depth < PATH_DEPTH_MAX) {
			ends[depth] = i;
			hashes[depth++] = h;
		}
		if (path[i] == '\0')
			break;
		h = hash_step(h, (unsigned char)path[i]);
	}
	return depth;
}

/* The root a path is under (the longest), or NULL. */
static const struct policy_root *tag_root(const struct policy *p, const char *path)
{
	size_t ends[PATH_DEPTH_MAX];
	uint64_t hashes[PATH_DEPTH_MAX];
	const struct policy_root *r;
	unsigned depth;

	if (!p->n_roots || !path || path[0] != '/')
		return NULL;
	depth = prefixes(path, p->max_root_depth, ends, hashes);
	while (depth--) {
		r = root_find(p, path, ends[depth], hashes[depth]);
		if (r)
			return r;
	}
	return root_find(p, "/", 1, hash_bytes(HASH_SEED, "/", 1));
}

void policy_tag(const struct policy *p, const char *path, const char **ret_job,
		const char **ret_role)
{
	const struct policy_root *r = tag_root(p, path);

	*ret_job = r ? r->job_id : NULL;
	*ret_role = r ? config_role_name(r->role) : NULL;
}

/* Whether job named root r (alone or among the jobs sharing it). */
static bool root_of_job(const struct policy_root *r, const char *job)
{
	for (; r; r = r->same)
		if (strcmp(r->owner, job) == 0)
			return true;
	return false;
}

const char *policy_cgroup_job(const struct policy *p, const char *cgroup)
{
	size_t ends[PATH_DEPTH_MAX];
	uint64_t hashes[PATH_DEPTH_MAX];
	unsigned depth;

	if (!p->n_cgroups || !cgroup || cgroup[0] != '/')
		return NULL;
	/* Longest first: a job's cgroup nested in another's is that job's. */
	depth = prefixes(cgroup, p->max_cgroup_depth, ends, hashes);
	while (depth--) {
		for (const struct policy_cgroup *g =
			     p->cgroup_buckets[hashes[depth] & (POLICY_CGROUP_BUCKETS - 1)];
		     g; g = g->next)
			if (g->hash == hashes[depth] && g->len == ends[depth] &&
			    memcmp(g->path, cgroup, g->len) == 0)
				return g->job_id;
	}
	return NULL;
}

/* The tags (job, role) of a path whose root is r, for an event of a process of job (NULL:
 * a process in no job's cgroup, tagged by the path alone). */
static void tags_of(const struct policy_root *r, const char *job, const char *ret[2])
{
	if (!job) {
		ret[0] = r ? r->job_id : NULL;
		ret[1] = r ? config_role_name(r->role) : NULL;
		return;
	}
	/* The process's job, wherever the path is; the path's role only on that job's own
	 * paths (a shared cache included). */
	ret[0] = job;
	ret[1] = r && root_of_job(r, job) ? config_role_name(r->role) : NULL;
}

/* fnmatch anchors both ends: a glob's literal head and tail must match before it is worth
 * running (most paths fail here). */
static bool glob_shape_fits(const struct policy_canary *k, const char *path, size_t len)
{
	return len >= k->literal_len + k->suffix_len &&
	       memcmp(path, k->pattern, k->literal_len) == 0 &&
	       memcmp(path + len - k->suffix_len, k->pattern + k->pattern_len - k->suffix_len,
		      k->suffix_len) == 0;
}

/* Globs keyed by the directory path[0..key_len) (its hash is h). */
static bool globs_at(const struct policy *p, const char *path, size_t len, size_t key_len,
		     uint64_t h)
{
	for (const struct policy_canary *k = p->glob_buckets[h & (POLICY_CANARY_BUCKETS - 1)]; k;
	     k = k->next) {
		if (k->hash != h || k->key_len != key_len || memcmp(k->pattern, path, key_len) != 0)
			continue;
		if (!glob_shape_fits(k, path, len)) {
			/* Neighbours with the same head and tail fail alike. */
			while (k->same_shape_next)
				k = k->next;
			continue;
		}
		if (fnmatch(k->pattern, path, FNM_PATHNAME) == 0)
			return true;
	}
	return false;
}

bool policy_canary_match(const struct policy *p, const char *path)
{
	uint64_t h = HASH_SEED;
	size_t i, len;

	if (!path || !p->n_canaries)
		return false;
	len = strlen(path);
	/* One pass: at each '/', the prefix before it is a directory globs may be keyed by. */
	for (i = 0; i < len; i++) {
		if (path[i] == '/' && globs_at(p, path, len, i, h))
			return true;
		h = hash_step(h, (unsigned char)path[i]);
	}
	for (const struct policy_canary *k = p->exact_buckets[h & (POLICY_CANARY_BUCKETS - 1)];
	     k; k = k->next)
		if (k->hash == h && k->key_len == i && memcmp(k->pattern, path, i) == 0)
			return true;
	return false;
}

/* Milliseconds from then to now; 0 when the clock went back (a replayed stream's ts_ms, or
 * a batch read after another but handled before it). */
static uint64_t since(uint64_t now_ms, uint64_t then_ms)
{
	return now_ms > then_ms ? now_ms - then_ms : 0;
}

static struct policy_proc *proc_get(struct policy *p, pid_t pid, uint64_t now_ms)
{
	unsigned start = ((unsigned)pid * 2654435761u) & (POLICY_PROCS_MAX - 1);
	struct policy_proc *free_slot = NULL, *victim = NULL;

	for (unsigned i = 0; i < POLICY_PROBE; i++) {
		struct policy_proc *e = &p->procs[(start + i) & (POLICY_PROCS_MAX - 1)];

		if (e->pid == pid)
			return e;
		if (!e->pid) {
			if (!free_slot)
				free_slot = e;
			continue;
		}
		/* Prefer the least recently active, and never a quarantined one if avoidable. */
		if (!victim ||
		    (victim->quarantine_until_ms > now_ms) > (e->quarantine_until_ms > now_ms) ||
		    ((victim->quarantine_until_ms > now_ms) == (e->quarantine_until_ms > now_ms) &&
		     e->last_ms < victim->last_ms))
			victim = e;
	}
	if (!free_slot) {
		free_slot = victim;
		p->evictions++;
		free(victim->ring);
	}
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->pid = pid;
	return free_slot;
}

static const char *canary_reason(uint64_t mask, unsigned *ret_severity)
{
	if (mask & FAN_DELETE) {
		*ret_severity = 4;
		return "canary deleted";
	}
	if (mask & (FAN_RENAME | FAN_MOVED_FROM | FAN_MOVED_TO)) {
		*ret_severity = 3;
		return "canary renamed";
	}
	if (mask & (FAN_MODIFY | FAN_CLOSE_WRITE | FAN_ATTRIB)) {
		*ret_severity = 2;
		return "canary modified";
	}
	if (mask & (FAN_OPEN | FAN_OPEN_EXEC | FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM |
		    FAN_ACCESS_PERM | FAN_ACCESS)) {
		*ret_severity = 1;
		return "canary opened";
	}
	return NULL;
}

/* Whether an alert of this kind may be reported now (cooldown per process and kind). */
static bool cooldown_pass(struct policy *p, struct policy_proc *e, enum alert_kind kind,
			  uint64_t now_ms)
{
	if (e->alerted[kind] && since(now_ms, e->last_alert_ms[kind]) < p->cooldown_ms) {
		p->suppressed++;
		return false;
	}
	e->alerted[kind] = true;
	e->last_alert_ms[kind] = now_ms;
	return true;
}

/* One event into a burst window of cap timestamps (ring, head, n); true when it reaches
 * cap within window_ms. */
static bool window_step(uint64_t **ring, unsigned *head, unsigned *n, unsigned cap,
			unsigned window_ms, uint64_t now_ms)
{
	if (!*ring) {
		*ring = calloc(cap, sizeof(**ring));
		if (!*ring)
			return false; /* no memory: this identity is not counted */
	}
	/* Drop timestamps that left the window (now - t >= window). */
	while (*n && since(now_ms, (*ring)[*head]) >= window_ms) {
		*head = (*head + 1) % cap;
		(*n)--;
	}
	(*ring)[(*head + *n) % cap] = now_ms;
	(*n)++;
	if (*n < cap)
		return false;
	/* Reached: the next alert needs another full threshold of events. */
	*n = 0;
	*head = 0;
	return true;
}

static bool burst_step(struct policy *p, struct policy_proc *e, uint64_t now_ms)
{
	return window_step(&e->ring, &e->head, &e->n, p->burst_threshold, p->burst_window_ms,
			   now_ms);
}

/* The identities of an event in scope s (not process): numbers in num (up to
 * POLICY_PARENT_DEPTH for parent, all ancestors too when containing), or a string in
 * *ret_str. Returns how many; 0 = unknown. */
static unsigned scope_ids(const struct policy_input *in, const char *job, enum config_scope s,
			  bool containing, int64_t num[EVENT_ANCESTORS_MAX + 1],
			  const char **ret_str)
{
	const struct proc_info *pi = in->proc;
	unsigned n = 0;

	*ret_str = NULL;
	if (s == CONFIG_SCOPE_JOB) {
		*ret_str = job;
		return job ? 1 : 0;
	}
	if (!pi)
		return 0;
	switch (s) {
	case CONFIG_SCOPE_PARENT: {
		unsigned depth = containing ? EVENT_ANCESTORS_MAX : POLICY_PARENT_DEPTH;

		/* Contained: the process itself or any ancestor in the containment. */
		if (containing)
			num[n++] = in->pid;
		if (!pi->n_ancestors && pi->ppid_known && pi->ppid > 1)
			num[n++] = pi->ppid;
		/* init adopts orphans and starts services: every one would add up there. */
		for (unsigned i = 0; i < pi->n_ancestors && i < depth && pi->ancestors[i] > 1; i++)
			num[n++] = pi->ancestors[i];
		return n;
	}
	case CONFIG_SCOPE_SESSION:
		if (!pi->sid_known || pi->sid <= 0)
			return 0;
		num[0] = pi->sid;
		return 1;
	case CONFIG_SCOPE_UID:
		if (!pi->uid_known)
			return 0;
		num[0] = pi->uid;
		return 1;
	case CONFIG_SCOPE_EXE:
		*ret_str = pi->exe;
		return pi->exe ? 1 : 0;
	case CONFIG_SCOPE_CGROUP:
		*ret_str = pi->cgroup;
		return pi->cgroup ? 1 : 0;
	default:
		return 0;
	}
}

/* The identity (number num, or string str) in scope table sc; created when create is set
 * (evicting the quietest identity of the probe that is not contained; counted). NULL when
 * absent or out of memory. */
static struct policy_ident *ident_get(struct policy *p, struct policy_scope *sc, int64_t num,
				      const char *str, uint64_t now_ms, bool create)
{
	uint64_t key = str ? hash_bytes(HASH_SEED, str, strlen(str)) : (uint64_t)num;
	unsigned start = (unsigned)((key * 0x9e3779b97f4a7c15ull) >> 40) & (POLICY_IDENTS_MAX - 1);
	struct policy_ident *victim = NULL;
	char *copy = NULL;

	for (unsigned i = 0; i < POLICY_PROBE; i++) {
		struct policy_ident *e = &sc->idents[(start + i) & (POLICY_IDENTS_MAX - 1)];
		bool contained;

		if (!e->used) {
			/* Slots are never emptied: the identity is not further on. */
			victim = e;
			break;
		}
		if (e->key == key && (!str || strcmp(e->str, str) == 0))
			return e;
		contained = e->quarantine_until_ms > now_ms;
		if (!victim || (victim->quarantine_until_ms > now_ms && !contained) ||
		    ((victim->quarantine_until_ms > now_ms) == contained &&
		     e->last_ms < victim->last_ms))
			victim = e;
	}
	if (!create)
		return NULL;
	if (str) {
		copy = strdup(str);
		if (!copy)
			return NULL;
	}
	if (victim->used)
		p->evictions++;
	free(victim->ring);
	free(victim->str);
	memset(victim, 0, sizeof(*victim));
	victim->used = true;
	victim->key = key;
	victim->str = copy;
	victim->last_ms = now_ms;
	return victim;
}

static struct alert *alert_add(struct policy_result *out, const struct policy_input *in,
			       enum alert_kind kind, const char *path, const char *reason,
			       const char *const tag[2], const char *const old_tag[2]);

/* Counts a mutating event for every identity it has in each scope other than process:
 * bursts begin containments and raise alerts (cooldown per identity). */
static void scopes_count(struct policy *p, const struct policy_input *in,
			 struct policy_result *out, const char *const tag[2],
			 const char *const old_tag[2])
{
	for (int s = CONFIG_SCOPE_PROCESS + 1; s < CONFIG_SCOPE_COUNT; s++) {
		struct policy_scope *sc = &p->scopes[s];
		int64_t num[EVENT_ANCESTORS_MAX + 1];
		const char *str;
		unsigned n;

		if (!sc->threshold || !sc->idents)
			continue;
		n = scope_ids(in, out->job_id, (enum config_scope)s, false, num, &str);
		if (!n) {
			p->burst_unknown++;
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			struct policy_ident *e = ident_get(p, sc, str ? 0 : num[i], str, in->now_ms,
							   true);
			struct alert *a;
			bool burst;

			if (!e)
				continue;
			e->last_ms = in->now_ms;
			burst = window_step(&e->ring, &e->head, &e->n, sc->threshold, sc->window_ms,
					    in->now_ms);
			/* Nothing above a parent whose burst is caught (now, contained, or
			 * alerted within the cooldown): the loop's shell stands for its loop,
			 * and the shell's own parent (a terminal, an sshd) is not blamed for it,
			 * nor for the denied attempts that follow. */
			if (s == CONFIG_SCOPE_PARENT &&
			    (burst || e->quarantine_until_ms > in->now_ms ||
			     (e->alerted && since(in->now_ms, e->last_alert_ms) < p->cooldown_ms)))
				n = i + 1;
			if (!burst)
				continue;
			if (p->quarantine_ms) {
				e->quarantine_until_ms = in->now_ms + p->quarantine_ms;
				if (e->quarantine_until_ms > sc->quarantine_until_max)
					sc->quarantine_until_max = e->quarantine_until_ms;
				if (e->quarantine_until_ms > p->quarantine_until_max)
					p->quarantine_until_max = e->quarantine_until_ms;
				out->decisions_changed = true;
			}
			if (e->alerted && since(in->now_ms, e->last_alert_ms) < p->cooldown_ms) {
				p->suppressed++;
				continue;
			}
			e->alerted = true;
			e->last_alert_ms = in->now_ms;
			a = alert_add(out, in, ALERT_BURST, in->path, "mutating event burst", tag,
				      old_tag);
			a->count = sc->threshold;
			a->window_ms = sc->window_ms;
			a->scope = config_scope_name((enum config_scope)s);
			a->scope_id_str = e->str;
			a->scope_id = str ? 0 : num[i];
		}
	}
}

/* Whether the event's process is in a contained identity of a scope other than process
 * (for parent: it or an ancestor). */
static bool scopes_contain(struct policy *p, const struct policy_input *in, const char *job)
{
	for (int s = CONFIG_SCOPE_PROCESS + 1; s < CONFIG_SCOPE_COUNT; s++) {
		struct policy_scope *sc = &p->scopes[s];
		int64_t num[EVENT_ANCESTORS_MAX + 1];
		const char *str;
		unsigned n;

		if (!sc->idents || sc->quarantine_until_max <= in->now_ms)
			continue;
		n = scope_ids(in, job, (enum config_scope)s, true, num, &str);
		for (unsigned i = 0; i < n; i++) {
			const struct policy_ident *e =
				ident_get(p, sc, str ? 0 : num[i], str, in->now_ms, false);

			if (e && e->quarantine_until_ms > in->now_ms)
				return true;
		}
	}
	return false;
}

/* The next alert of out, about path (in->path or in->old_path), with that path's tags
 * (job, role: tag of in->path, old_tag of in->old_path). pipeline.c adds seq, ts_ms and
 * proc. */
static struct alert *alert_add(struct policy_result *out, const struct policy_input *in,
			       enum alert_kind kind, const char *path, const char *reason,
			       const char *const tag[2], const char *const old_tag[2])
{
	struct alert *a = &out->alerts[out->n_alerts++];
	const char *const *t = path == in->path ? tag : old_tag;

	a->kind = kind;
	a->pid = in->pid;
	a->path = path;
	a->reason = reason;
	a->job_id = t[0];
	a->path_role = t[1];
	return a;
}

void policy_eval(struct policy *p, const struct policy_input *in, struct policy_result *out)
{
	bool perm = in->mask & FAN_PERM_EVENTS;
	struct policy_proc *e = NULL;
	const char *canary_path = NULL;
	const char *tag[2], *old_tag[2] = { NULL, NULL }; /* job, role */
	const char *job = NULL;	/* of the process, by its cgroup */
	bool deny = false;

	memset(out, 0, sizeof(*out));
	out->verdict = perm ? VERDICT_ALLOW : VERDICT_OBSERVE;

	if (p->n_canaries) {
		if (in->old_path && policy_canary_match(p, in->old_path))
			canary_path = in->old_path;
		else if (policy_canary_match(p, in->path))
			canary_path = in->path;
	}
	/* The event takes the tags of its path, or of its old path when the path has no
	 * role; an alert about the old path takes the old path's. A process in a job's
	 * cgroup is that job's on every path. */
	if (in->proc)
		job = policy_cgroup_job(p, in->proc->cgroup);
	tags_of(tag_root(p, in->path), job, tag);
	if (in->old_path && (!tag[1] || canary_path == in->old_path))
		tags_of(tag_root(p, in->old_path), job, old_tag);
	out->job_id = tag[1] || job ? tag[0] : old_tag[0];
	out->path_role = tag[1] ? tag[1] : old_tag[1];
	out->canary = canary_path != NULL;
	/* A path that is a canary now (created, renamed or linked there, or any other
	 * change to it) may name a file allowed before; a moved directory may have brought
	 * any number of them under a canary pattern. */
	if (!perm && (canary_path || (p->n_canaries && (in->mask & FAN_ONDIR) &&
				      (in->mask & (FAN_RENAME | FAN_MOVED_FROM | FAN_MOVED_TO)))))
		out->decisions_changed = true;
	/* A containment carried over a reload outlives a quarantine_ms turned to 0. */
	if (canary_path || (p->burst_threshold && (in->mask & MUTATING_EVENTS)) ||
	    (perm && (p->quarantine_ms || p->quarantine_until_max > in->now_ms))) {
		/* Events without a process (pid 0) share one state for canary cooldowns;
		 * they are never counted as a burst, having no process to contain. */
		e = in->pid > 0 ? proc_get(p, in->pid, in->now_ms) : &p->nobody;
		e->last_ms = in->now_ms;
	}
	if (canary_path) {
		unsigned severity = 0;
		const char *reason = canary_reason(in->mask, &severity);

		if (reason) {
			deny = true;
			/* A more serious canary reason than the last one reported (opened <
			 * modified < renamed < deleted) is never held back by the cooldown. */
			if (severity > e->canary_severity)
				e->alerted[ALERT_CANARY] = false;
			if (cooldown_pass(p, e, ALERT_CANARY, in->now_ms)) {
				alert_add(out, in, ALERT_CANARY, canary_path, reason, tag, old_tag);
				e->canary_severity = severity;
			}
			out->deny_reason = reason;
		}
	}
	if (p->burst_threshold && (in->mask & MUTATING_EVENTS) && in->pid > 0 &&
	    burst_step(p, e, in->now_ms)) {
		if (p->quarantine_ms) {
			e->quarantine_until_ms = in->now_ms + p->quarantine_ms;
			if (e->quarantine_until_ms > p->quarantine_until_max)
				p->quarantine_until_max = e->quarantine_until_ms;
			out->decisions_changed = true;
		}
		if (cooldown_pass(p, e, ALERT_BURST, in->now_ms)) {
			struct alert *a = alert_add(out, in, ALERT_BURST, in->path,
						    "mutating event burst", tag, old_tag);

			a->count = p->burst_threshold;
			a->window_ms = p->burst_window_ms;
			a->scope = config_scope_name(CONFIG_SCOPE_PROCESS);
			a->scope_id = in->pid;
		}
	}
	if (p->by_proc && (in->mask & MUTATING_EVENTS) && in->pid > 0)
		scopes_count(p, in, out, tag, old_tag);
	if (!perm)
		return;
	if (p->deny_on_alert && deny) {
		out->verdict = VERDICT_DENY;
		return;
	}
	if ((e && e->quarantine_until_ms > in->now_ms) ||
	    (p->by_proc && p->quarantine_until_max > in->now_ms && in->pid > 0 &&
	     scopes_contain(p, in, out->job_id))) {
		out->verdict = VERDICT_DENY;
		out->deny_reason = "quarantined after burst";
		p->quarantine_denials++;
		return;
	}
	out->deny_reason = NULL;
}

bool policy_needs_proc(const struct policy *p)
{
	/* A job's cgroup, or a burst scope other than the process. */
	return p->n_cgroups > 0 || p->by_proc;
}

bool policy_needs_ancestry(const struct policy *p)
{
	return p->scopes[CONFIG_SCOPE_PARENT].idents != NULL;
}

bool policy_containing(const struct policy *p, uint64_t now_ms)
{
	return p->quarantine_until_max > now_ms;
}

void policy_carry(struct policy *new, struct policy *old)
{
	bool same_ring = new->burst_threshold == old->burst_threshold;

	for (size_t i = 0; i < POLICY_PROCS_MAX; i++) {
		struct policy_proc *o = &old->procs[i];

		if (!o->pid)
			continue;
		/* Same table size and hash: each process lands in the slot it had. */
		new->procs[i] = *o;
		if (!same_ring) {
			free(o->ring);
			new->procs[i].ring = NULL;
			new->procs[i].head = new->procs[i].n = 0;
		}
		o->ring = NULL;
		o->pid = 0;
	}
	new->nobody = old->nobody;
	if (!same_ring) {
		free(old->nobody.ring);
		new->nobody.ring = NULL;
		new->nobody.head = new->nobody.n = 0;
	}
	old->nobody.ring = NULL;
	for (int s = CONFIG_SCOPE_PROCESS + 1; s < CONFIG_SCOPE_COUNT; s++) {
		struct policy_scope *n = &new->scopes[s], *o = &old->scopes[s];

		/* A scope no longer counted keeps its table while it ever contained: its
		 * containments run to their end. */
		if (!o->idents || (!n->idents && !o->quarantine_until_max))
			continue;
		if (n->idents)
			free(n->idents); /* fresh from policy_init(): nothing in it */
		n->idents = o->idents;
		o->idents = NULL;
		n->quarantine_until_max = o->quarantine_until_max;
		new->by_proc = true;
		if (n->threshold == o->threshold)
			continue;
		for (size_t i = 0; i < POLICY_IDENTS_MAX; i++) {
			free(n->idents[i].ring);
			n->idents[i].ring = NULL;
			n->idents[i].head = n->idents[i].n = 0;
		}
	}
	new->burst_unknown = old->burst_unknown;
	new->suppressed = old->suppressed;
	new->evictions = old->evictions;
	new->quarantine_denials = old->quarantine_denials;
	new->quarantine_until_max = old->quarantine_until_max;
}

void policy_stats(const struct policy *p, struct stats *s)
{
	s->policy_suppressed = p->suppressed;
	s->policy_evictions = p->evictions;
	s->quarantine_denials = p->quarantine_denials;
	s->burst_unknown = p->burst_unknown;
}

void policy_free(struct policy *p)
{
	for (size_t i = 0; i < p->n_root_entries; i++)
		free(p->roots[i].path);
	free(p->roots);
	for (size_t i = 0; i < p->n_cgroups; i++)
		free(p->cgroups[i].path);
	free(p->cgroups);
	free(p->canaries);
	for (size_t i = 0; i < POLICY_PROCS_MAX; i++)
		free(p->procs[i].ring);
	free(p->nobody.ring);
	for (int s = 0; s < CONFIG_SCOPE_COUNT; s++) {
		for (size_t i = 0; p->scopes[s].idents && i < POLICY_IDENTS_MAX; i++) {
			free(p->scopes[s].idents[i].ring);
			free(p->scopes[s].idents[i].str);
		}
		free(p->scopes[s].idents);
	}
	memset(p, 0, sizeof(*p));
}
