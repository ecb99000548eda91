# A job by its cgroup, its bursts counted for the job (burst_scope job), in a real cgroup v2
# (issue 12): a job that runs 50 small processes, each writing 10 files outside every root
# of the job (30 mutating events each, under the process threshold of 32), is one burst
# for the job, however its work is split. With --perm --deny-on-alert:
# - no process-scope burst; one job-scope burst (count 200 = burst_threshold_job) naming
#   the job, with the job's cgroup on the alert, and the writes stop soon after it;
# - every process of the job is contained: a process started later in a cgroup below the
#   job's is denied an open anywhere under the mount, while a process in another cgroup and
#   the test's own shell are allowed the same open;
# - the cgroup scope (threshold 250) counts the same processes by their cgroup: a burst
#   alert with the cgroup's path as its scope_id;
# - the job's records carry job_id J1 with a null path_role outside its roots, and its
#   cgroup;
# - fanotifyd --replay of the run's output with the same config gives exactly its alerts
#   and denials (replay_compare.py), and not with burst_threshold_job 300.
. "$(dirname "$0")/lib.sh"
require_fanotify perm
require_fanotify fid
have_fanotify fid pidfd || exit 0
setup
cgroup_setup
mkdir "$CGR/job1.scope" "$CGR/job1.scope/sub" "$CGR/other.scope" ||
	{ fail "mkdir cgroups"; finish; }
J1=$CGP/job1.scope
mkdir -p "$W/j1/ws" "$W/tmp" "$W/other"
echo r >"$W/other/readme"
conf() {
	cat <<CONF
job J1
workspace $W/j1/ws
cgroup $J1
burst_scope process,job,cgroup
burst_threshold 32
burst_window_ms 10000
burst_threshold_job $1
burst_window_ms_job 60000
burst_threshold_cgroup 250
burst_window_ms_cgroup 60000
quarantine_ms 60000
CONF
}
conf 200 >"$S/conf"
conf 300 >"$S/conf300"
ARGS=(--perm --deny-on-alert --mount "$W")
start_daemon -c "$S/conf" "${ARGS[@]}" || finish

# The job: a shell in job1.scope running 50 processes one after another, each writing 10
# files in $W/tmp (not a root of J1's). A denied write leaves its file empty.
runin job1.scope job sh -c 'for i in $(seq 1 50); do
	sh -c "for j in 1 2 3 4 5 6 7 8 9 10; do echo x >\"\$1/f\$2.\$j\"; done" sh "$1" "$i"
done 2>/dev/null' sh "$W/tmp"
WRITTEN=$(find "$W/tmp" -type f -size +0 | wc -l)
TRIED=$(find "$W/tmp" -type f | wc -l)
# A process of the job started after the burst, in a cgroup below the job's; one of another
# cgroup; the test's shell: the same open of a file outside every root.
LATE=0; runin job1.scope/sub late timeout 5 cat "$W/other/readme" >/dev/null 2>&1 || LATE=$?
OTHER=0; runin other.scope other timeout 5 cat "$W/other/readme" >/dev/null 2>&1 || OTHER=$?
SELF=0; timeout 5 cat "$W/other/readme" >/dev/null 2>&1 || SELF=$?
psentinel "$W" || finish
stop_daemon

check "the job's 50 processes tried their 500 files ($TRIED)" [ "$TRIED" = 500 ]
check "the job was stopped soon after 200 mutating events: $WRITTEN of 500 files written" \
	[ "$WRITTEN" -ge 60 ] && [ "$WRITTEN" -le 120 ]
check "no process reached the process threshold: no process-scope burst" \
	[ "$(count type=alert kind=burst scope=process)" = 0 ]
check "a job-scope burst: count 200, scope_id J1, job J1, the job's cgroup" \
	has type=alert kind=burst scope=job scope_id=J1 count=200 window_ms=60000 job_id=J1 \
	cgroup="$J1" path_role=null
check "a cgroup-scope burst: count 250, scope_id the job's cgroup" \
	has type=alert kind=burst scope=cgroup scope_id="$J1" count=250 window_ms=60000 job_id=J1
check "the job's records outside its roots: job_id J1, path_role null, its cgroup" \
	has type=event "path~^$W/tmp/f1\\.1$" events~CREATE job_id=J1 path_role=null \
	cgroup="$J1"
check "a later process of the job (a cgroup below it) is denied (exit $LATE)" [ "$LATE" != 0 ]
check "... its open recorded as denied: quarantined after burst" \
	has type=event path="$W/other/readme" decision=deny "reason=quarantined after burst" \
	cgroup="$J1/sub" job_id=J1
check "a process of another cgroup is allowed the same open (exit $OTHER)" [ "$OTHER" = 0 ]
check "... recorded as allowed, no job" has type=event path="$W/other/readme" decision=allow \
	job_id=null cgroup="$CGP/other.scope"
check "the test's own shell is allowed it (exit $SELF)" [ "$SELF" = 0 ]

replay "$OUT" -c "$S/conf" "${ARGS[@]}"
check "--replay exits 0" [ "$RC" = 0 ] || sed 's/^/# /' "$S/rep.err"
check "the replay gives exactly the live alerts and denials" compare "$OUT"
replay "$OUT" -c "$S/conf300" "${ARGS[@]}"
check "... and not with burst_threshold_job 300" differs "$OUT"
sed 's/^/# /' "$S/cmp.out" | head -n 3
finish
