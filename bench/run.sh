#!/bin/bash
# bench/run.sh - the fanotifyd benchmark of issue 5 (overhead, loss, attribution, latency,
# memory), as ratios against no listener and against reference fanotify loops, all measured
# in one run.
#
# usage: sudo bench/run.sh [--quick] [--reps N] [--out FILE.md]
#   --quick     smoke run (~4 minutes): 3 repetitions, small workloads, RESULTS in bench/out/
#   --reps N    repetitions per workload and configuration (default 5; 3 with --quick)
#   --out FILE  where the Markdown report goes (default bench/RESULTS.md;
#               bench/out/quick/RESULTS.md with --quick); raw rows go beside it (.jsonl)
# environment:
#   PEERS=1             also measure fatrace, inotifywait and fapolicyd (permissive; installed
#                       with apt-get if missing; a row says "not available" if it cannot be)
#   FANOTIFYD=PATH      daemon binary (default: ./fanotifyd of this tree, built with make)
#   CONFIGS="..."       subset/order of: none ref-fid ref-perm fd-observe fd-observe-quiet
#                       (--exec-hold-ms 0) fd-nofid fd-perm
#                       fd-perm-nospin fd-perm-cache fd-policy fd-policy-nospin
#                       fd-policy-cache fd-policy-subs fd-policy-burst fd-policy-scopes
#                       fatrace inotifywait fapolicyd
#   WORKLOADS="..."     subset of openclose reopen churn tar execs shortlived
#                       unwatched-execs build
#   N_OPENCLOSE N_REOPEN REOPEN_FILES N_CHURN N_EXECS N_SHORTLIVED TAR_DIRS TAR_FILES
#   N_UEXECS BUILD_JOBS workload sizes (BUILD_JOBS: make -jN of the build workload)
#   SCALE=0             skip bench/scale.sh (jobs/canaries scale, after the replay row)
#   FLAT=0              skip the T5 flatness runs (one long churn per FLAT_CONFIGS, default
#                       "fd-observe fd-policy", N_FLAT files, RSS sampled every 0.25 s)
#
# Everything runs in a private mount namespace (unshare -m) on fresh tmpfs instances: the
# target (watched), the output (records; another filesystem, so never watched) and the work
# area (binaries, tarball, pid/ready files). Each run: set up (untimed), start the listener,
# wait until its marks are in place (fanotifyd: --pid-file; refs: ready file; fatrace: a
# fanotify mark in its fdinfo; inotifywait: "Watches established."; fapolicyd: a mount mark on
# the target in its fdinfo and "Starting to listen for events"), run the workload (it
# times itself with CLOCK_MONOTONIC), wait until the listener has caught up (fanotifyd: a
# sentinel file's records arrive; others: no CPU used for 150 ms), read CPU and RSS from
# /proc, stop the listener by its PID, count what it recorded. Repetitions are interleaved
# (A B C A B C ...) so background load hits every configuration alike. Then, unless FLAT=0,
# one long churn run per FLAT_CONFIGS with the daemon's VmRSS sampled (target T5).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CFLAGS_BENCH=(-O2 -Wall -Wextra -Werror)

QUICK=${QUICK:-0}
REPS=${REPS:-}
OUT_MD=${OUT_MD:-}
usage() { sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--reps) REPS=$2; shift ;;
	--out) OUT_MD=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

if [ "$QUICK" = 1 ]; then
	: "${REPS:=3}" "${N_OPENCLOSE:=10000}" "${N_REOPEN:=10000}" "${N_CHURN:=4000}"
	: "${N_EXECS:=15}" "${N_SHORTLIVED:=30}" "${TAR_DIRS:=40}" "${TAR_FILES:=100}"
	: "${N_FLAT:=20000}" "${N_UEXECS:=300}"
	: "${OUT_MD:=$HERE/out/quick/RESULTS.md}"
else
	# Sized for ~0.2-1 s per run without a listener on a 2-vCPU VM (a fork+exec of
	# /bin/true costs ~0.6 ms there, of sh -c ~0.9 ms: 50 execs, the count before issue
	# 13, made runs of 40 ms, too short for a ratio).
	: "${REPS:=5}" "${N_OPENCLOSE:=50000}" "${N_REOPEN:=50000}" "${N_CHURN:=20000}"
	: "${N_EXECS:=500}" "${N_SHORTLIVED:=500}" "${TAR_DIRS:=200}" "${TAR_FILES:=100}"
	# T5: after kernel merging the daemon reads ~5 (observe) to 6 (policy) events per churn
	# file: just over 10^6 events.
	: "${N_FLAT:=200000}"
	# issue 13: "a loop of 1000 fork+exec" outside the watched paths; a
	# fork+exec of /bin/true costs ~0.8 ms here, so 2000 make a run of ~1.5 s.
	: "${N_UEXECS:=2000}"
	: "${OUT_MD:=$HERE/RESULTS.md}"
fi
REOPEN_FILES=${REOPEN_FILES:-1000}
BUILD_JOBS=${BUILD_JOBS:-2}
FLAT=${FLAT:-1}
FLAT_CONFIGS=${FLAT_CONFIGS:-fd-observe fd-policy}
PEERS=${PEERS:-0}
DEFAULT_CONFIGS="none ref-fid ref-perm fd-observe fd-observe-quiet fd-nofid fd-perm fd-perm-nospin"
DEFAULT_CONFIGS="$DEFAULT_CONFIGS fd-perm-cache"
DEFAULT_CONFIGS="$DEFAULT_CONFIGS fd-policy fd-policy-nospin fd-policy-cache fd-policy-subs"
[ "$PEERS" = 1 ] && DEFAULT_CONFIGS="$DEFAULT_CONFIGS fatrace inotifywait fapolicyd"
CONFIGS=${CONFIGS:-$DEFAULT_CONFIGS}
WORKLOADS=${WORKLOADS:-openclose reopen churn tar execs shortlived unwatched-execs build}
N_SUBS=8
WL_TIMEOUT=${WL_TIMEOUT:-600}

# --- outside the namespace: dependencies, build, then re-exec inside unshare -m ------------
if [ -z "${FANBENCH_INNER:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "bench: needs root (fanotify needs CAP_SYS_ADMIN; tmpfs mounts)" >&2
		exit 1
	fi
	need=()
	command -v cc >/dev/null || need+=(gcc)
	command -v make >/dev/null || need+=(make)
	command -v tar >/dev/null || need+=(tar)
	command -v python3 >/dev/null || need+=(python3)
	command -v unshare >/dev/null || need+=(util-linux)
	command -v timeout >/dev/null || need+=(coreutils)
	if [ "$PEERS" = 1 ]; then
		command -v fatrace >/dev/null || need+=(fatrace)
		command -v inotifywait >/dev/null || need+=(inotify-tools)
	fi
	if [ ${#need[@]} -gt 0 ]; then
		echo "bench: installing ${need[*]}" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >&2 ||
			{ apt-get update >&2 && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y "${need[@]}" >&2; } ||
			{ echo "bench: cannot install ${need[*]}" >&2; exit 1; }
	fi
	# fapolicyd (PEERS=1): optional, its rows say "not available" when it is not installed.
	# Installed here only where no systemd runs (no /run/systemd/system): there the package's
	# postinst starts no service. On a systemd host it would start fapolicyd system-wide
	# with the package's rules, which deny execs: there the bench leaves installing it (and
	# stopping its service) to the operator. The bench only ever starts it inside its private
	# mount namespace (start_listener). A fapolicyd already running is the host's business:
	# warn, leave it.
	if [ "$PEERS" = 1 ] && [[ " $CONFIGS " == *" fapolicyd "* ]] &&
		! command -v fapolicyd >/dev/null; then
		if [ -d /run/systemd/system ]; then
			echo "bench: fapolicyd is not installed, and installing it here would start" \
				"its system-wide service: install it (and stop that service) first" >&2
		else
			echo "bench: installing fapolicyd" >&2
			DEBIAN_FRONTEND=noninteractive apt-get install -y fapolicyd >&2 ||
				echo "bench: cannot install fapolicyd; its rows will say so" >&2
		fi
	fi
	if [ "$PEERS" = 1 ] && [[ " $CONFIGS " == *" fapolicyd "* ]]; then
		for c in /proc/[0-9]*/comm; do
			[ "$(cat "$c" 2>/dev/null)" = fapolicyd ] &&
				echo "bench: WARNING: a fapolicyd runs outside the bench (${c%/comm})" >&2
		done
	fi
	if [ -z "${FANOTIFYD:-}" ]; then
		make -s -C "$ROOT" all >&2 || { echo "bench: building fanotifyd failed" >&2; exit 1; }
		export FANOTIFYD=$ROOT/fanotifyd
	fi
	mkdir -p "$HERE/build"
	for src in work ref/perm_loop ref/fid_loop; do
		cc "${CFLAGS_BENCH[@]}" -o "$HERE/build/$(basename $src)" "$HERE/$src.c" ||
			{ echo "bench: compiling $src.c failed" >&2; exit 1; }
	done
	export FANBENCH_INNER=1 REPS N_OPENCLOSE N_REOPEN REOPEN_FILES N_CHURN N_EXECS N_SHORTLIVED
	export TAR_DIRS TAR_FILES N_FLAT FLAT FLAT_CONFIGS OUT_MD PEERS CONFIGS WORKLOADS QUICK
	export N_UEXECS BUILD_JOBS
	exec unshare -m --propagation private bash "${BASH_SOURCE[0]}"
fi

# --- inside the private mount namespace ------------------------------------------------------
BASE=$(mktemp -d /tmp/fanotifyd-bench.XXXXXX)
T=$BASE/target
O=$BASE/out
W=$BASE/work
# unwatched-execs runs its programs here: a tmpfs of its own that no listener marks.
U=$BASE/unwatched
# The system interpreter: version-manager shims (pyenv) cost ~0.4 s per start.
PYTHON=$(command -v /usr/bin/python3 || command -v python3)
PY="$PYTHON $HERE/analyze.py"
# fanotifyd's stats record in its output (on SIGUSR1 and at exit); grep counts them: the
# marker cannot occur inside a JSON string.
STATS_MARK='"type":"stats"'
LPID=
SUBPIDS=()
CUR_CFG=none

cleanup() {
	stop_listener 2>/dev/null
	fapo_umount
	umount -l "$T" "$O" "$W" "$U" 2>/dev/null
	rm -rf "$BASE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$T" "$O" "$W" "$U"
if ! { mount -t tmpfs -o size=4g,mode=0755 fanbench-target "$T" &&
	mount -t tmpfs -o size=4g,mode=0755 fanbench-out "$O" &&
	mount -t tmpfs -o size=1g,mode=0755 fanbench-work "$W" &&
	mount -t tmpfs -o size=64m,mode=0755 fanbench-unwatched "$U"; }; then
	echo "bench: mounting tmpfs failed" >&2
	exit 1
fi
mkdir -p "$W/bin" "$W/run" "$(dirname "$OUT_MD")"
# A snapshot of every binary: others may rebuild ./fanotifyd while this runs.
cp "$FANOTIFYD" "$W/bin/fanotifyd" && cp "$HERE/build/work" "$HERE/build/perm_loop" \
	"$HERE/build/fid_loop" "$W/bin/" || exit 1
FAN=$W/bin/fanotifyd
WORK=$W/bin/work
RAW=${OUT_MD%.md}.jsonl
: >"$RAW"

# Workload directories live in $T/w, the workspace of job j0 of the policy configuration.
mkdir -p "$T/w" "$T/cache"
for wl in $WORKLOADS; do mkdir -p "$T/w/$wl"; done

# Policy: 8 jobs with 4 roots each (the cache is shared), 100 canary patterns, none of
# which matches a workload file.
POLICY=$W/policy.conf
{
	echo "deny_on_alert 1"
	for i in $(seq 0 49); do
		echo "canary $T/jobs/j$((i % 8))/root/etc/shadow-canary-$i"
		echo "canary $T/w/*/decoy-$i-*.docx"
	done
	for j in $(seq 0 7); do
		mkdir -p "$T/jobs/j$j/root/etc" "$T/jobs/j$j/ws" "$T/jobs/j$j/export"
		echo "job j$j"
		echo "rootfs $T/jobs/j$j/root"
		if [ "$j" = 0 ]; then echo "workspace $T/w"; else echo "workspace $T/jobs/j$j/ws"; fi
		echo "export $T/jobs/j$j/export"
		echo "cache $T/cache"
	done
} >"$POLICY"
"$FAN" --check-config --foreground --perm -c "$POLICY" --mount "$T" >/dev/null ||
	{ echo "bench: the policy configuration does not pass --check-config" >&2; exit 1; }

# --- listeners ---------------------------------------------------------------------------------
fan_args() {
	case $1 in
	fd-observe) ;;
	fd-observe-quiet) echo "--exec-hold-ms 0" ;;
	fd-nofid) echo "--no-fid" ;;
	fd-perm) echo "--perm" ;;
	fd-perm-nospin) echo "--perm --spin-us 0" ;;
	fd-perm-cache) echo "--perm --allow-cache" ;;
	fd-policy) echo "--perm -c $POLICY" ;;
	fd-policy-nospin) echo "--perm -c $POLICY --spin-us 0" ;;
	fd-policy-cache) echo "--perm -c $POLICY --allow-cache" ;;
	fd-policy-subs) echo "--perm -c $POLICY --socket $W/run/fan.sock" ;;
	# issue 14: bursts counted per process, parent, session and uid (fd-policy-burst: per
	# process only); quarantine 0, so a workload that reaches 4096 is alerted, not stopped
	fd-policy-burst) echo "--perm -c $POLICY --burst-threshold 4096 --quarantine-ms 0" ;;
	fd-policy-scopes) echo "--perm -c $POLICY --burst-threshold 4096 --quarantine-ms 0 --burst-scope process,parent,session,uid" ;;
	esac
}

# wait_for TEST_CMD...: poll (5 ms) until TEST_CMD succeeds, the listener dies, or 30 s pass.
wait_for() {
	local i
	for i in $(seq 1 6000); do
		"$@" && return 0
		[ -n "$LPID" ] && ! kill -0 "$LPID" 2>/dev/null && return 1
		sleep 0.005
	done
	return 1
}
fanotify_marked() { cat /proc/"$LPID"/fdinfo/* 2>/dev/null | grep -qE '^fanotify (sdev|mnt_id|ino):'; }
inotify_ready() { grep -q 'Watches established' "$W/run/err" 2>/dev/null; }

# --- fapolicyd (peer, permissive) ----------------------------------------------------------------
# fapolicyd answers OPEN_PERM and OPEN_EXEC_PERM for every mount of the types in watch_fs, with
# FAN_MARK_MOUNT marks unless allow_filesystem_mark = 1 (1.1.7: src/daemon/notify.c). Mount
# marks attach to this namespace's own copies of the mounts, so only processes of this
# namespace ever wait for its answers; a filesystem (sdev) mark would reach every namespace,
# and fapo_ready stops it at once if one ever appears. Its paths are compiled in
# (/etc/fapolicyd, /var/lib/fapolicyd, /run, /var/log): while it runs, private copies are
# mounted over them here, in this namespace only.
FAPO=$W/fapolicyd
FAPO_TPID=
FAPO_MOUNTED=
FAPO_TIMEOUT=$((WL_TIMEOUT + 300))
# The package's "known-libs" rule set (its sample-rules; README-rules): ftype and trust are
# looked up for every open, as on a host that runs the default policy.
FAPO_RULES="10-languages 20-dracut 21-updaters 30-patterns 40-bad-elf 41-shared-obj
	42-trusted-elf 70-trusted-lang 72-shell 90-deny-execute 95-allow-open"

# fapo_setup: the private configuration, once: the package's fapolicyd.conf with permissive = 1,
# watch_fs = tmpfs (the target's type), trust = file (no rpm here), integrity = none, no
# filesystem marks and uid/gid 0 (capng_change_id() to the fapolicyd account fails in this
# sandbox: "Cannot change to uid"); the rules; an empty trust file; a trust database kept
# across runs.
fapo_setup() {
	[ -e "$FAPO/.ok" ] && return 0
	local r src=/usr/share/fapolicyd/sample-rules
	mkdir -p "$FAPO/etc/rules.d" "$FAPO/etc/trust.d" "$FAPO/lib" "$FAPO/run/fapolicyd" \
		"$FAPO/log" || return 1
	{
		grep -vE '^[[:space:]]*(permissive|watch_fs|trust|integrity|allow_filesystem_mark|do_stat_report|uid|gid)[[:space:]]*=' \
			/etc/fapolicyd/fapolicyd.conf 2>/dev/null
		echo "permissive = 1"
		echo "watch_fs = tmpfs"
		echo "trust = file"
		echo "integrity = none"
		echo "allow_filesystem_mark = 0"
		echo "do_stat_report = 1"
		echo "uid = 0"
		echo "gid = 0"
	} >"$FAPO/etc/fapolicyd.conf"
	{
		echo "## bench/run.sh: fapolicyd's known-libs sample rules"
		for r in $FAPO_RULES; do
			[ -f "$src/$r.rules" ] && grep -hvE '^[[:space:]]*(#|$)' "$src/$r.rules"
		done
	} >"$FAPO/etc/compiled.rules"
	grep -q '^allow' "$FAPO/etc/compiled.rules" || { echo "no sample rules in $src"; return 1; }
	echo "# bench/run.sh: no trusted files" >"$FAPO/etc/fapolicyd.trust"
	touch "$FAPO/.ok"
}

fapo_mount() {
	FAPO_MOUNTED=1
	mount --bind "$FAPO/etc" /etc/fapolicyd &&
		mount --bind "$FAPO/lib" /var/lib/fapolicyd &&
		mount --bind "$FAPO/run" /run &&
		mount --bind "$FAPO/log" /var/log
}

fapo_umount() {
	[ -z "$FAPO_MOUNTED" ] && return 0
	umount -l /var/log /run /var/lib/fapolicyd /etc/fapolicyd 2>/dev/null
	FAPO_MOUNTED=
}

# fapo_child: LPID := the fapolicyd that timeout started (timeout itself is FAPO_TPID).
fapo_child() {
	local c
	# By parent PID (/proc/PID/task/TID/children needs CONFIG_PROC_CHILDREN).
	c=$(ps -o pid= --ppid "$FAPO_TPID" 2>/dev/null | head -1 | tr -d ' ')
	[ -n "$c" ] && [ "$(readlink /proc/"$c"/exe 2>/dev/null)" = "$(readlink -f "$(command -v fapolicyd)")" ] ||
		return 1
	LPID=$c
}

# fapo_err: the end of its log on one line, without its colour codes (the row is JSON).
fapo_err() { sed 's/\x1b\[[0-9;]*m//g' "$W/run/err" 2>/dev/null | tr '\n' ' ' | tr -cd '[:print:]' | tail -c 300; }

# fapo_ready: a mount mark on the target (fdinfo "fanotify mnt_id:<hex id>") and the event loop
# started. A filesystem mark (sdev) fails it, and the caller kills the daemon at once.
fapo_ready() {
	local info
	info=$(cat /proc/"$LPID"/fdinfo/* 2>/dev/null)
	if echo "$info" | grep -q '^fanotify sdev:'; then
		FAPO_SB=1
		return 0
	fi
	echo "$info" | grep -q "^fanotify mnt_id:$FAPO_MNT " &&
		grep -q 'Starting to listen for events' "$W/run/err" 2>/dev/null
}

# start_listener CONFIG: sets LPID; on failure prints the reason and returns 1.
start_listener() {
	local cfg=$1
	rm -f "$W/run/"* "$O/"*
	LPID=
	SUBPIDS=()
	case $cfg in
	none) return 0 ;;
	ref-fid | ref-perm)
		"$W/bin/${cfg#ref-}_loop" "$T" "$W/run/ready" >"$O/ref.out" 2>"$W/run/err" &
		LPID=$!
		wait_for test -e "$W/run/ready" || { echo "not ready: $(tail -c 300 "$W/run/err")"; return 1; }
		;;
	fd-*)
		# shellcheck disable=SC2046 # fan_args is a list of words
		"$FAN" --foreground --pid-file "$W/run/pid" --output "$O/out.jsonl" --mount "$T" \
			$(fan_args "$cfg") 2>"$W/run/err" &
		LPID=$!
		if ! wait_for test -s "$W/run/pid"; then
			echo "did not start: $(tr '\n' ' ' <"$W/run/err" | tail -c 300)"
			return 1
		fi
		if [ "$cfg" = fd-policy-subs ]; then
			local i
			for i in $(seq 1 $N_SUBS); do
				"$FAN" --subscribe "$W/run/fan.sock" >/dev/null 2>>"$W/run/subs.err" &
				SUBPIDS+=($!)
			done
			for i in $(seq 1 200); do
				local n
				n=$(grep -c "$STATS_MARK" "$O/out.jsonl")
				kill -USR1 "$LPID"
				$PY waitstats "$O/out.jsonl" "$n" --timeout 5 || break
				[ "$($PY statsfield "$O/out.jsonl" sock_clients)" = $N_SUBS ] && return 0
				sleep 0.02
			done
			echo "subscribers did not connect: $(tail -c 300 "$W/run/subs.err" 2>/dev/null)"
			return 1
		fi
		;;
	fatrace)
		(cd "$T" && exec fatrace -c -f 'OWC+D<' -o "$O/fatrace.out") 2>"$W/run/err" &
		LPID=$!
		wait_for fanotify_marked || { echo "not ready: $(tail -c 300 "$W/run/err")"; return 1; }
		;;
	inotifywait)
		inotifywait -m -r -o "$O/inotify.out" "$T" 2>"$W/run/err" &
		LPID=$!
		wait_for inotify_ready || { echo "not ready: $(tail -c 300 "$W/run/err")"; return 1; }
		;;
	fapolicyd)
		command -v fapolicyd >/dev/null || { echo "fapolicyd is not installed"; return 1; }
		fapo_setup || { echo "fapolicyd: no private configuration"; return 1; }
		fapo_mount || { echo "fapolicyd: private mounts failed"; return 1; }
		# --debug-deny: in the foreground (so timeout and the bench hold its PID), logging to
		# stderr only the decisions that would deny (permissive: none is enforced).
		timeout -k 10 "$FAPO_TIMEOUT" fapolicyd --debug-deny >"$W/run/err" 2>&1 &
		FAPO_TPID=$!
		LPID=$FAPO_TPID
		wait_for fapo_child || { echo "did not start: $(fapo_err)"; return 1; }
		FAPO_MNT=$(awk -v t="$T" '$5 == t { id = $1 } END { printf "%x", id }' /proc/self/mountinfo)
		FAPO_SB=0
		if ! wait_for fapo_ready; then
			echo "not ready: $(fapo_err)"
			return 1
		fi
		if [ "$FAPO_SB" = 1 ]; then
			kill -KILL "$LPID"
			echo "REFUSED: fapolicyd placed a filesystem mark (crosses namespaces); killed"
			return 1
		fi
		;;
	esac
	return 0
}

# stop_pid PID SIGNAL: signal, wait up to 30 s, then SIGKILL.
stop_pid() {
	local pid=$1 sig=$2 i
	kill -"$sig" "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	for i in $(seq 1 3000); do
		kill -0 "$pid" 2>/dev/null || break
		# A zombie child of ours counts as gone.
		[ "$(cut -d' ' -f3 /proc/"$pid"/stat 2>/dev/null)" = Z ] && break
		sleep 0.01
	done
	kill -0 "$pid" 2>/dev/null && [ "$(cut -d' ' -f3 /proc/"$pid"/stat 2>/dev/null)" != Z ] &&
		{ echo "bench: pid $pid ignored SIG$sig, killing it" >&2; kill -KILL "$pid"; }
	wait "$pid" 2>/dev/null
	return 0
}

stop_listener() {
	local p
	for p in "${SUBPIDS[@]}"; do stop_pid "$p" TERM; done
	SUBPIDS=()
	[ -z "$LPID" ] && { fapo_umount; return 0; }
	case $CUR_CFG in
	# fatrace stops cleanly on SIGINT only; inotifywait ignores SIGINT in -m mode and
	# writes each line as it goes, so SIGTERM loses nothing.
	fatrace) stop_pid "$LPID" INT ;;
	# LPID is fapolicyd itself (or timeout, if it never started); then timeout, then the
	# private mounts.
	fapolicyd)
		stop_pid "$LPID" TERM
		[ -n "$FAPO_TPID" ] && stop_pid "$FAPO_TPID" TERM
		FAPO_TPID=
		fapo_umount
		;;
	*) stop_pid "$LPID" TERM ;;
	esac
	LPID=
}

# --- workloads ---------------------------------------------------------------------------------
wl_n() {
	case $1 in
	openclose) echo "$N_OPENCLOSE" ;;
	reopen) echo "$N_REOPEN" ;;
	churn) echo "$N_CHURN" ;;
	execs) echo "$N_EXECS" ;;
	shortlived) echo "$N_SHORTLIVED" ;;
	tar) echo $((TAR_DIRS * TAR_FILES)) ;;
	unwatched-execs) echo "$N_UEXECS" ;;
	build) echo 1 ;;
	esac
}

setup_workload() {
	case $1 in
	openclose) "$WORK" setup-openclose "$T/w/openclose" "$N_OPENCLOSE" ;;
	reopen) "$WORK" setup-openclose "$T/w/reopen" "$REOPEN_FILES" ;;
	execs) "$WORK" setup-execs "$T/w/execs" /bin/true ;;
	unwatched-execs) "$WORK" setup-execs "$U" /bin/true ;;
	# The daemon's own sources as they are in this tree (committed or not): what is built
	# is what a developer builds.
	build) tar -cf "$W/build-src.tar" -C "$ROOT" Makefile src ;;
	tar)
		mkdir -p "$W/tree"
		"$WORK" mktree "$W/tree" "$TAR_DIRS" "$TAR_FILES" &&
			tar -cf "$W/tree.tar" -C "$W/tree" . && rm -rf "$W/tree"
		;;
	esac
}

# Directories the workload fills are emptied before every run, with no listener running.
reset_dir() {
	case $1 in
	churn | tar | shortlived) rm -rf "$T/w/$1" && mkdir "$T/w/$1" ;;
	# A clean build directory every run; unpacked while no listener runs (untimed).
	build) rm -rf "$T/w/build" && mkdir "$T/w/build" && tar -xf "$W/build-src.tar" -C "$T/w/build" ;;
	esac
	rm -f "$T"/w/.sentinel-*
}

# WORK_SENTINEL (exported by run_one for fanotifyd): the workload creates that file itself
# right after its timed region; the records of the file prove everything before it arrived.
run_workload() {
	local wl=$1 d=$T/w/$1
	case $wl in
	openclose) timeout -s KILL "$WL_TIMEOUT" "$WORK" openclose "$d" "$N_OPENCLOSE" ;;
	reopen) timeout -s KILL "$WL_TIMEOUT" "$WORK" reopen "$d" "$N_REOPEN" "$REOPEN_FILES" ;;
	churn) timeout -s KILL "$WL_TIMEOUT" "$WORK" churn "$d" "$N_CHURN" ;;
	execs) timeout -s KILL "$WL_TIMEOUT" "$WORK" execs "$d" "$N_EXECS" ;;
	tar) timeout -s KILL "$WL_TIMEOUT" "$WORK" tar "$d" "$W/tree.tar" ;;
	shortlived) timeout -s KILL "$WL_TIMEOUT" "$WORK" shortlived "$d" "$N_SHORTLIVED" ;;
	unwatched-execs) timeout -s KILL "$WL_TIMEOUT" "$WORK" execs "$U" "$N_UEXECS" ;;
	build) timeout -s KILL "$WL_TIMEOUT" "$WORK" build "$d" "$BUILD_JOBS" "$W/build.log" ;;
	esac
}

emit() { echo "$1" >>"$RAW"; }

# run_one CONFIG WORKLOAD REP: one measured run, one row in $RAW.
run_one() {
	local cfg=$1 wl=$2 rep=$3 id=$2-$1-$3
	local why out time_s="" drain_s="" status=ok procs="" subs_cpu="" sentinel_lost=0
	CUR_CFG=$cfg
	reset_dir "$wl"
	local common=(--set "config=$cfg" --set "workload=$wl" --set "rep=$rep")
	local started=0
	# watch_fs is by filesystem type: the unwatched tmpfs would be watched too.
	if [ "$cfg" = fapolicyd ] && [ "$wl" = unwatched-execs ]; then
		echo "fapolicyd watches every tmpfs (watch_fs is by type): nothing is unwatched" >"$W/why"
	elif start_listener "$cfg" >"$W/why" 2>&1; then
		started=1
	fi
	if [ "$started" = 0 ]; then
		why=$(cat "$W/why")
		stop_listener
		why=$(printf '%s' "$why" | tr -d "\"\\\\" | tr '\n' ' ')
		emit "{\"config\":\"$cfg\",\"workload\":\"$wl\",\"rep\":$rep,\"status\":\"n/a: $why\"}"
		printf '  %-16s %-10s rep %d: not available: %s\n' "$cfg" "$wl" "$rep" "$why" >&2
		return
	fi
	local end_mono="" end_real=""
	case $cfg in
	fd-*) export WORK_SENTINEL=$T/w/.sentinel-$id ;;
	*) unset WORK_SENTINEL ;;
	esac
	if out=$(run_workload "$wl"); then
		time_s=$(echo "$out" | sed -n 's/.*time_s=\([0-9.]*\).*/\1/p')
		end_mono=$(echo "$out" | sed -n 's/.*end_mono=\([0-9.]*\).*/\1/p')
		end_real=$(echo "$out" | sed -n 's/.*end_real=\([0-9.]*\).*/\1/p')
	else
		status="fail: workload exit $?"
	fi
	# Caught up? drain_s: from the workload's end until the listener had everything.
	local w=""
	case $cfg in
	fd-*)
		local evs="CLOSE_WRITE CREATE"
		[ "$cfg" = fd-nofid ] && evs=CLOSE_WRITE
		# shellcheck disable=SC2086 # evs is a list
		if ! w=$($PY waitfor "$O/out.jsonl" "$T/w/.sentinel-$id" $evs --timeout 20 \
			${end_real:+--since-real "$end_real"} 2>/dev/null); then
			# The sentinel's events can be lost like any other (queue overflow): a
			# second sentinel, made once the backlog is surely read, must arrive.
			sentinel_lost=1
			w=
			"$WORK" sentinel "$T/w/.sentinel-$id-retry"
			$PY waitfor "$O/out.jsonl" "$T/w/.sentinel-$id-retry" $evs --timeout 120 >/dev/null ||
				status="fail: sentinel never arrived"
		fi
		;;
	ref-fid | fatrace | inotifywait)
		w=$($PY idle "$LPID" --timeout 300 ${end_mono:+--since "$end_mono"}) ||
			status="fail: listener never idle"
		;;
	# Permission listeners: the workload waits for every answer.
	none | ref-perm | fapolicyd) w="drain_s=0" ;;
	esac
	drain_s=$(echo "$w" | sed -n 's/^drain_s=//p')
	local drain_le
	drain_le=$(echo "$w" | sed -n 's/^drain_le=//p')
	if [ -n "$LPID" ]; then
		procs=$($PY procstat "$LPID")
		if [ ${#SUBPIDS[@]} -gt 0 ]; then
			subs_cpu=$($PY procstat "${SUBPIDS[@]}" | sed -n 's/^cpu_s=\([0-9.]*\).*/\1/p')
		fi
		case $cfg in
		fd-*)
			local n
			n=$(grep -c "$STATS_MARK" "$O/out.jsonl")
			kill -USR1 "$LPID"
			$PY waitstats "$O/out.jsonl" "$n" --timeout 10 || status="fail: no stats record"
			;;
		esac
	fi
	stop_listener
	local fapo_allowed=""
	if [ "$cfg" = fapolicyd ]; then
		# Its usage report (do_stat_report, written at exit): what it answered.
		fapo_allowed=$(sed -n 's/^Allowed accesses: *\([0-9]*\).*/\1/p' \
			"$FAPO/log/fapolicyd-access.log" 2>/dev/null | head -1)
		rm -f "$FAPO/log/"*
	fi
	local lst=none caps='' cached=''
	case $cfg in
	ref-fid | ref-perm) lst=$cfg ;;
	fd-nofid) lst=fanotifyd caps=fanotifyd-nofid ;;
	# --allow-cache: only the first open (or exec) of each file is asked about and recorded.
	fd-*-cache) lst=fanotifyd cached=--allow-cache ;;
	fd-*) lst=fanotifyd ;;
	fatrace) lst=fatrace ;;
	inotifywait) lst=inotify ;;
	fapolicyd) lst=fapolicyd ;;
	esac
	local outf=$O/out.jsonl
	case $lst in
	ref-*) outf=$O/ref.out ;;
	fatrace) outf=$O/fatrace.out ;;
	inotify) outf=$O/inotify.out ;;
	esac
	local kv=()
	for x in $procs; do kv+=(--set "$x"); done
	[ -n "$time_s" ] && kv+=(--set "time_s=$time_s")
	[ -n "$drain_s" ] && kv+=(--set "drain_s=$drain_s")
	[ -n "$drain_le" ] && kv+=(--set "drain_le=$drain_le")
	[ "$sentinel_lost" = 1 ] && kv+=(--set "sentinel_lost=1")
	[ -n "$subs_cpu" ] && kv+=(--set "subs_cpu_s=$subs_cpu")
	[ -n "$fapo_allowed" ] && kv+=(--set "fapo_allowed=$fapo_allowed")
	local row
	row=$($PY run --listener "$lst" ${caps:+--caps "$caps"} $cached --workload "$wl" \
		--dir "$T/w/$wl" --n "$(wl_n "$wl")" --files "$REOPEN_FILES" --tar-dirs "$TAR_DIRS" \
		--tar-files "$TAR_FILES" --out "$outf" --stats-file "$O/out.jsonl" --sentinel \
		"${common[@]}" --set "status=$status" "${kv[@]}")
	emit "$row"
	printf '  %-16s %-10s rep %d: %s s (caught up in %.2f s)%s\n' "$cfg" "$wl" "$rep" \
		"${time_s:-?}" "${drain_s:-0}" "$([ "$status" = ok ] || echo " $status")" >&2
	rm -f "$O/"*
}

# --- the run -----------------------------------------------------------------------------------
START=$(date -u '+%Y-%m-%d %H:%M UTC')
T_START=$(date +%s)
echo "bench: reps=$REPS configs=[$CONFIGS] workloads=[$WORKLOADS]" >&2
for wl in $WORKLOADS; do
	echo "bench: $wl (n=$(wl_n "$wl"))" >&2
	setup_workload "$wl" || { echo "bench: setting up $wl failed" >&2; exit 1; }
	for rep in $(seq 1 "$REPS"); do
		for cfg in $CONFIGS; do
			run_one "$cfg" "$wl" "$rep"
		done
	done
	rm -rf "${T:?}/w/$wl"
done

# --- T5: RSS over one long run -----------------------------------------------------------------
# flat_one CONFIG: one churn run of N_FLAT files (> 10^6 events in a full run) with the
# daemon's VmRSS sampled every 0.25 s from just before the workload until the daemon has
# caught up (a last sample then); one row with "kind":"flat" in $RAW.
flat_one() {
	local cfg=$1 id=flat-$1 d=$T/w/flat out status=ok time_s="" end_real="" w="" spid
	local kv=() x
	CUR_CFG=$cfg
	rm -rf "$d" && mkdir -p "$d"
	rm -f "$T"/w/.sentinel-*
	local common=(--set "config=$cfg" --set "workload=flat-churn" --set "kind=flat"
		--set "n_files=$N_FLAT")
	if ! start_listener "$cfg" >"$W/why" 2>&1; then
		local why
		why=$(tr -d "\"\\\\" <"$W/why" | tr '\n' ' ')
		stop_listener
		emit "$(printf '{"kind":"flat","config":"%s","workload":"flat-churn","status":"n/a: %s"}' \
			"$cfg" "$why")"
		printf '  %-16s flat churn: not available: %s\n' "$cfg" "$why" >&2
		return
	fi
	$PY sample "$LPID" --interval 0.25 --out "$W/run/rss" &
	spid=$!
	wait_for test -s "$W/run/rss" || status="fail: no RSS sample"
	export WORK_SENTINEL=$T/w/.sentinel-$id
	if out=$(timeout -s KILL "$WL_TIMEOUT" "$WORK" churn "$d" "$N_FLAT"); then
		time_s=$(echo "$out" | sed -n 's/.*time_s=\([0-9.]*\).*/\1/p')
		end_real=$(echo "$out" | sed -n 's/.*end_real=\([0-9.]*\).*/\1/p')
		kv+=(--set "time_s=$time_s" --set "end_mono=$(echo "$out" |
			sed -n 's/.*end_mono=\([0-9.]*\).*/\1/p')")
	else
		status="fail: workload exit $?"
	fi
	local evs="CLOSE_WRITE CREATE"
	[ "$cfg" = fd-nofid ] && evs=CLOSE_WRITE
	# shellcheck disable=SC2086 # evs is a list
	w=$($PY waitfor "$O/out.jsonl" "$T/w/.sentinel-$id" $evs --timeout 300 \
		${end_real:+--since-real "$end_real"}) || status="fail: sentinel never arrived"
	# The sampler takes its last sample when told to stop: the daemon has caught up.
	stop_pid "$spid" TERM
	x=$(echo "$w" | sed -n 's/^drain_s=//p')
	[ -n "$x" ] && kv+=(--set "drain_s=$x")
	for x in $($PY procstat "$LPID"); do kv+=(--set "$x"); done
	local n
	n=$(grep -c "$STATS_MARK" "$O/out.jsonl")
	kill -USR1 "$LPID"
	$PY waitstats "$O/out.jsonl" "$n" --timeout 10 || status="fail: no stats record"
	stop_listener
	local row
	row=$($PY flatrow --samples "$W/run/rss" --stats-file "$O/out.jsonl" "${common[@]}" \
		--set "status=$status" "${kv[@]}")
	emit "$row"
	echo "$row" | $PY flatsummary >&2
	rm -f "$O/"*
	rm -rf "$d"
}

if [ "$FLAT" != 0 ]; then
	echo "bench: T5 flatness (churn n=$N_FLAT, RSS every 0.25 s): $FLAT_CONFIGS" >&2
	mkdir -p "$T/w/flat"
	for cfg in $FLAT_CONFIGS; do
		case $cfg in
		fd-*) flat_one "$cfg" ;;
		*) echo "bench: T5 flatness measures fanotifyd only; skipping $cfg" >&2 ;;
		esac
	done
fi
ELAPSED=$(($(date +%s) - T_START))

# --- report ------------------------------------------------------------------------------------
META=$W/meta.md
REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=
if git -C "$ROOT" status --porcelain -- src 2>/dev/null | grep -q .; then
	DIRTY=", src/ with uncommitted changes"
fi
{
	echo "# fanotifyd benchmark results"
	echo
	echo "Generated by \`bench/run.sh$([ "$QUICK" = 1 ] && echo " --quick")\`$([ "$PEERS" = 1 ] && echo " with PEERS=1")."
	echo
	echo "- date: $START (run took $((ELAPSED / 60)) min $((ELAPSED % 60)) s)"
	echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo)"
	echo "- kernel: $(uname -r); fanotify max_queued_events $(cat /proc/sys/fs/fanotify/max_queued_events 2>/dev/null)"
	echo "- fanotifyd: commit $REV$DIRTY, binary sha256 $(sha256sum "$FAN" | cut -c1-16)"
	[ "$PEERS" = 1 ] && echo "- peers: $(dpkg-query -W -f '${Package} ${Version}' fatrace 2>/dev/null), $(dpkg-query -W -f '${Package} ${Version}' inotify-tools 2>/dev/null), $(dpkg-query -W -f '${Package} ${Version}' fapolicyd 2>/dev/null || echo "fapolicyd not installed")"
	echo "- repetitions: $REPS per workload and configuration, interleaved"
	echo "- sizes: openclose $N_OPENCLOSE files, reopen $N_REOPEN opens of $REOPEN_FILES files, churn $N_CHURN files, tar $((TAR_DIRS * TAR_FILES)) files in $TAR_DIRS dirs ($(du -k "$W/tree.tar" 2>/dev/null | cut -f1) KiB archive, extracted by tar -xf), execs $N_EXECS, shortlived $N_SHORTLIVED, unwatched-execs $N_UEXECS (on a tmpfs no listener marks), build: make -j$BUILD_JOBS of fanotifyd from a clean copy of src/ and Makefile$([ "$FLAT" != 0 ] && echo "; T5 flatness: churn $N_FLAT files per $FLAT_CONFIGS")"
	echo "- load: other work may share the machine; loadavg at the end $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$META"
$PY report "$RAW" --md "$OUT_MD" --meta "$META" --notes "$HERE/NOTES.md"
# --replay throughput (issue 12): a recording repeated to >= 1M events, replayed (REPLAY=0 skips)
if [ "${REPLAY:-1}" != 0 ]; then
	REPLAY_INNER=1 FANOTIFYD=$FAN bash "$HERE/replay.sh" >>"$OUT_MD" 2>>"$W/replay.err" ||
		echo "bench: the replay row failed (see $W/replay.err)" >&2
fi
# Scale (issue 13): 10, 100, 1,000 job blocks and 10,000 canaries (SCALE=0 skips)
if [ "${SCALE:-1}" != 0 ]; then
	SCALE_INNER=1 FANOTIFYD=$FAN WORK=$WORK bash "$HERE/scale.sh" >>"$OUT_MD" 2>>"$W/scale.err" ||
		echo "bench: the scale rows failed (see $W/scale.err)" >&2
fi
echo "bench: wrote $OUT_MD and $RAW" >&2
