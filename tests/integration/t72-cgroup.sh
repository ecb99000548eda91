# Jobs by cgroup, in a real cgroup v2 hierarchy: the test makes fanotifyd-test-PID.slice
# with job1.scope (job J1's cgroup, and job1.scope/sub below it), other.scope and a cgroup
# with a hostile name, runs workloads inside them (a shell that moves itself into the
# cgroup, then execs the work) and checks:
# - every record of a workload's processes has "cgroup" (the exact path) and "sid";
# - a process never seen alive has a null cgroup, and stats cgroup_unknown counts exactly
#   the event records whose cgroup is null;
# - J1's processes are tagged J1 on every path: with the path's role on J1's own paths (the
#   cache J1 shares with K included), and with a null path_role in K's root and elsewhere;
#   a process in job1.scope/sub too; one in other.scope, or the test's own shell, keeps the
#   path's tags in J1's and K's roots;
# - a process that moves from other.scope into job1.scope and then execs is J1's from the
#   exec on, its earlier records other.scope's;
# - alert records (a canary) carry the process's cgroup, sid and job;
# - a reload that adds the cgroup line tags J1's processes from then on;
# - --perm --mount (the process looked up before the answer, pinned): permission records of
#   a job process have its cgroup and job, and a canary open by it is denied with an alert
#   carrying them, while the rest is allowed;
# - a cgroup named with a quote, a backslash, a tab and an invalid UTF-8 byte gives valid
#   I-JSON with cgroup_raw (the kernel refuses a newline in a cgroup name: checked).
# Everything the test makes is removed at exit, also on failure: processes moved back to
# the root cgroup first, then the directories deepest first.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
have_fanotify fid pidfd || exit 0
setup

cgroup_setup
HOSTILE=$(printf 'h"q\\b\tt\xffx.scope')
mkdir "$CGR/job1.scope" "$CGR/job1.scope/sub" "$CGR/other.scope" "$CGR/$HOSTILE" ||
	{ fail "mkdir cgroups"; finish; }
check "the kernel refuses a newline in a cgroup name" \
	sh -c '! mkdir "$1" 2>/dev/null' sh "$CGR/$(printf 'n\nl')"

J1=$CGP/job1.scope
mkdir -p "$W/j1/root/bin" "$W/j1/ws" "$W/k/root" "$W/cache" "$W/other"
echo secret >"$W/j1/ws/canary"
# every PATH KEY=VALUE|KEY?...: at least one record of PATH, and every one (events and
# alerts) has each KEY=VALUE (null = JSON null; compared by bytes, so _raw fields count) or
# has KEY at all.
every() {
	local path=$1 n bad not
	shift
	n=$(count path="$path")
	[ "$n" -gt 0 ] || { echo "# no record of $path"; return 1; }
	for kv in "$@"; do
		case $kv in
		*=*) not="${kv%%=*}!=${kv#*=}" ;;
		*\?) not="!${kv%\?}" ;;
		esac
		bad=$(count path="$path" "$not")
		[ "$bad" = 0 ] || { echo "# $bad of $n records of $path lack $kv:"
			$JSONL find "$OUT" path="$path" "$not" | head -n 2 | cut -c1-400 |
				sed 's/^/#   /'; return 1; }
	done
}
conf() {
	cat >"$S/conf" <<CONF
job J1
rootfs $W/j1/root
workspace $W/j1/ws
cache $W/cache
${1:-}
job K
rootfs $W/k/root
cache $W/cache
canary $W/j1/ws/canary
CONF
}

# --- observe mode ----------------------------------------------------------------------
conf "cgroup $J1"
# A process that acts once the daemon is up and is gone before its event is read, never
# having been seen alive (started before the daemon): nothing can say its cgroup.
mkfifo "$S/go"
(read -r _ <"$S/go"; echo g >"$W/other/ghost") &
GHOST=$!
start_daemon -c "$S/conf" --mount "$W" || finish
kill -STOP "$DPID"
echo go >"$S/go"
wait "$GHOST"
kill -CONT "$DPID"

# Each workload stays until the daemon has recorded its last write ("$SEEN" FILE): its exec
# notice (when the daemon reads the cgroup again) is read before its first record, and a
# process still alive then has its cgroup read, not the one its fork copied.
cat >"$S/seen" <<'SEEN'
timeout 10 sh -c 'until grep -qF "\"path\":\"$1\"" "$SEEN_OUT"; do sleep 0.02; done' sh "$1"
SEEN
SEEN="sh $S/seen"
export SEEN_OUT=$OUT
runin job1.scope w1 sh -c 'echo a >"$1/j1/ws/f1"; echo b >"$1/other/f2"; echo c >"$1/k/root/f3"
	echo d >"$1/cache/f4"; cat "$1/j1/ws/canary" >/dev/null; touch "$1/j1/root/f5"
	$2 "$1/j1/root/f5"' sh "$W" "$SEEN"
runin job1.scope/sub w2 sh -c 'echo e >"$1/other/f6"; echo f >"$1/j1/root/f7"; $2 "$1/j1/root/f7"' \
	sh "$W" "$SEEN"
runin other.scope w3 sh -c 'echo g >"$1/j1/ws/o1"; echo h >"$1/k/root/o2"; echo i >"$1/other/o3"
	$2 "$1/other/o3"' sh "$W" "$SEEN"
echo j >"$W/j1/ws/self1"
echo k >"$W/other/self2"
# Moves from other.scope into job1.scope, writes (still other.scope: no exec yet), execs.
runin other.scope w4 sh -c 'echo l >"$1/other/m1"; echo $$ >"$2/cgroup.procs"
	echo m >"$1/other/m2"; $3 "$1/other/m2"
	exec sh -c "echo n >\"\$0/other/m3\"; \$1 \"\$0/other/m3\"" "$1" "$3"' sh "$W" \
	"$CGR/job1.scope" "$SEEN"
runin "$HOSTILE" w5 sh -c 'echo o >"$1/other/h1"; $2 "$1/other/h1"' sh "$W" "$SEEN"
sentinel || finish
stats || finish

SELF_CG=$(sed -n 's/^0:://p' /proc/self/cgroup)
check "every record of J1's process has its cgroup, sid and job (its workspace)" \
	every "$W/j1/ws/f1" cgroup="$J1" pid="$(cat "$S/pid.w1")" sid="$(cut -d' ' -f6 /proc/$$/stat)" \
	job_id=J1 path_role=workspace
check "... outside every root: job J1, path_role null" every "$W/other/f2" cgroup="$J1" \
	job_id=J1 path_role=null
check "... in K's root: job J1, path_role null" every "$W/k/root/f3" cgroup="$J1" job_id=J1 \
	path_role=null
check "... in the cache J1 shares with K: job J1, path_role cache" every "$W/cache/f4" \
	cgroup="$J1" job_id=J1 path_role=cache
check "... touch (a child it forked and exec'd) in J1's rootfs: J1 rootfs" \
	every "$W/j1/root/f5" cgroup="$J1" job_id=J1 path_role=rootfs comm=touch
check "process below J1's cgroup (sub) outside the roots: J1" every "$W/other/f6" \
	cgroup="$J1/sub" job_id=J1 path_role=null
check "... in J1's rootfs: J1 rootfs" every "$W/j1/root/f7" cgroup="$J1/sub" job_id=J1 \
	path_role=rootfs
check "other.scope's process in J1's workspace keeps the path's tags" every "$W/j1/ws/o1" \
	cgroup="$CGP/other.scope" job_id=J1 path_role=workspace
check "... in K's root: K rootfs" every "$W/k/root/o2" cgroup="$CGP/other.scope" job_id=K \
	path_role=rootfs
check "... elsewhere: untagged" every "$W/other/o3" cgroup="$CGP/other.scope" job_id=null \
	path_role=null
check "the test's own shell in J1's workspace: its cgroup, the path's tags" \
	every "$W/j1/ws/self1" cgroup="$SELF_CG" job_id=J1 path_role=workspace
check "... elsewhere: untagged" every "$W/other/self2" cgroup="$SELF_CG" job_id=null
check "moved, before the move: other.scope" every "$W/other/m1" cgroup="$CGP/other.scope" \
	job_id=null
check "moved, not yet exec'd: still other.scope (a move sends no notice)" \
	every "$W/other/m2" cgroup="$CGP/other.scope" job_id=null
check "moved, after its exec: job1.scope and J1, same pid" every "$W/other/m3" cgroup="$J1" \
	job_id=J1 pid="$(cat "$S/pid.w4")"
check "hostile cgroup name: exact bytes (cgroup_raw), valid I-JSON" \
	every "$W/other/h1" cgroup="$CGP/$HOSTILE" cgroup_raw? job_id=null
check "canary alert of J1's process (cat): its cgroup, sid and job" has type=alert \
	kind=canary path="$W/j1/ws/canary" cgroup="$J1" sid? job_id=J1 path_role=workspace \
	comm=cat
check "a process gone before it was seen: cgroup null (and comm)" every "$W/other/ghost" \
	cgroup=null comm=null pid="$GHOST"
NULLS=$(count type=event cgroup=null)
check "stats cgroup_unknown ($(stat_of cgroup_unknown)) = event records with a null cgroup ($NULLS)" \
	[ "$(stat_of cgroup_unknown)" = "$NULLS" ]
KNOWN=$(count type=event cgroup!=null)
check "... and there are some ($NULLS), and known ones ($KNOWN)" \
	[ "$NULLS" -ge 1 -a "$KNOWN" -ge 20 ]
check "every event and alert record has sid and cgroup" \
	[ "$(count type=event '!cgroup')$(count type=event '!sid')$(count type=alert kind=canary '!cgroup')" = 000 ]
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --- reload: the cgroup line added -----------------------------------------------------
OUT=$S/reload.jsonl
SEEN_OUT=$OUT
conf ""
start_daemon -c "$S/conf" --mount "$W" || finish
runin job1.scope r1 sh -c 'echo a >"$1/other/r1"; $2 "$1/other/r1"' sh "$W" "$SEEN"
sentinel || finish
check "before the reload, J1's process outside J1's roots is untagged" every "$W/other/r1" \
	cgroup="$J1" job_id=null
conf "cgroup $J1"
kill -HUP "$DPID"
check "reload applied, changing job" waitrec type=reload status=applied changed~job
runin job1.scope r2 sh -c 'echo b >"$1/other/r2"; $2 "$1/other/r2"' sh "$W" "$SEEN"
sentinel || finish
check "after it, the same workload is J1's" every "$W/other/r2" cgroup="$J1" job_id=J1 \
	path_role=null
stop_daemon

# --- --perm --mount: looked up before the answer ---------------------------------------
OUT=$S/perm.jsonl
conf "cgroup $J1"
cp /bin/true "$W/j1/root/bin/true"
start_daemon -c "$S/conf" --perm --deny-on-alert --mount "$W" || finish
runin job1.scope p1 sh -c '"$1/j1/root/bin/true"; cat "$1/other/f2" >/dev/null
	cat "$1/j1/ws/canary" >/dev/null 2>&1; echo "status=$?" >"$1/../s/perm.status"' sh "$W"
runin other.scope p2 sh -c 'cat "$1/j1/ws/f1" >/dev/null' sh "$W"
psentinel || finish
check "exec of J1's child: OPEN_EXEC_PERM allowed, its cgroup and J1 rootfs" \
	has type=event events~OPEN_EXEC_PERM path="$W/j1/root/bin/true" decision=allow \
	cgroup="$J1" job_id=J1 path_role=rootfs
check "open outside the roots: allowed, J1, path_role null" has type=event events~OPEN_PERM \
	path="$W/other/f2" decision=allow cgroup="$J1" job_id=J1 path_role=null
check "every permission record of J1's processes has its cgroup and job" \
	[ "$(count decision~'allow|deny' cgroup="$J1" job_id!=J1)" = 0 ]
check "canary open by J1's process denied (EPERM seen by cat)" \
	grep -q 'status=1' "$S/perm.status"
check "... its record: deny, cgroup, J1 workspace" has type=event events~OPEN_PERM \
	path="$W/j1/ws/canary" decision=deny cgroup="$J1" job_id=J1 path_role=workspace
check "... its alert: cgroup, sid, J1" has type=alert kind=canary path="$W/j1/ws/canary" \
	cgroup="$J1" sid? job_id=J1 path_role=workspace comm=cat
check "other.scope's open in J1's workspace: allowed, path tags" has type=event \
	events~OPEN_PERM path="$W/j1/ws/f1" decision=allow cgroup="$CGP/other.scope" job_id=J1 \
	path_role=workspace
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
