# lib.sh - sourced by every tNN-*.sh. Each test runs (through run.sh) in its own private
# mount namespace; setup() mounts fresh tmpfs instances there: $W is what the test
# watches, $S holds the daemon's state (pid file, output, stderr). A daemon is always
# started under timeout(1) and stopped by its own PID, never by name.
set -u
FANOTIFYD=${FANOTIFYD:?FANOTIFYD must name the binary}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=$(command -v python3)	# run.sh put the real interpreter first on PATH
JSONL="$PY $HERE/jsonl.py"
PROBE=${PROBE:-$HERE/../../build/probe}
DAEMON_TIMEOUT=${DAEMON_TIMEOUT:-120}
FAILED=0
DPID=
TPID=

ok() { echo "ok - $TEST_NAME${1:+: $1}"; }
fail() { echo "not ok - $TEST_NAME: $*"; FAILED=1; }
skip() { echo "SKIP: $TEST_NAME: $*"; exit 0; }
# check DESCRIPTION COMMAND...: one assertion, one ok / not ok line.
CHECKS=0
check() {
	local what=$1; shift
	CHECKS=$((CHECKS + 1))
	if "$@"; then
		echo "ok - $TEST_NAME: $what"
	else
		fail "$what"
		return 1
	fi
}

# have_fanotify [fid] [perm] [pidfd]: 0 if the kernel takes these flags; for missing
# privilege or kernel support, a SKIP line naming the reason and 1 (so a test can skip one
# part); any other probe error fails the test.
have_fanotify() {
	local rc=0
	"$PROBE" "$@" || rc=$?
	case $rc in
	0) return 0 ;;
	77) echo "SKIP: $TEST_NAME: needs CAP_SYS_ADMIN" ;;
	78) echo "SKIP: $TEST_NAME: kernel without fanotify" ;;
	79) echo "SKIP: $TEST_NAME: kernel refuses fanotify_init flags: $*" ;;
	*) fail "fanotify probe ($*) failed with status $rc"; finish ;;
	esac
	return 1
}
# require_fanotify [fid] [perm] [pidfd]: the whole test skips without them.
require_fanotify() { have_fanotify "$@" || exit 0; }

setup() {
	S=$(mktemp -d /tmp/fanotifyd-it.XXXXXX)
	IT_BASE_DIR=$S
	W=$S/w
	mkdir -p "$W" "$S/s"
	mount -t tmpfs -o size=256m,mode=0755 fanotifyd-w "$W" || { fail "mount tmpfs"; finish; }
	mount -t tmpfs -o size=64m,mode=0755 fanotifyd-s "$S/s" || { fail "mount tmpfs"; finish; }
	S=$S/s
	OUT=$S/out.jsonl
	ERR=$S/err.log
	PIDF=$S/pid
	# jsonl.py checks every line it reads once (schema, I-JSON) and lists the bad ones here,
	# outside the test's mounts; finish (or the exit) fails the test for any.
	export JSONL_CHECKED=$IT_BASE_DIR/jsonl-checked JSONL_VIOLATIONS=$IT_BASE_DIR/jsonl-bad \
		JSONL_SCHEMA=$HERE/../../schema/record.schema.json
	trap cleanup EXIT
}

# violations: "not ok" for every record jsonl.py found invalid, once; 1 if there were any.
violations() {
	local v=${JSONL_VIOLATIONS:-}
	[ -n "$v" ] && [ -s "$v" ] || return 0
	while IFS= read -r l; do fail "invalid record: $l"; done < <(sort -u "$v" | head -n 10)
	[ "$(sort -u "$v" | wc -l)" -le 10 ] || fail "invalid records: $(sort -u "$v" | wc -l) in all"
	: >"$v"
	return 1
}

# Subscriber processes a test started (killed at exit) and its own extra clean-up step.
SUBS=
cleanup_more() { :; }
cleanup() {
	local bad=0
	stop_daemon
	violations || bad=1
	unhold
	for p in $SUBS; do kill "$p" 2>/dev/null; done
	cleanup_more
	# The mounts live in this test's private namespace; the directories do not.
	umount -l "$W" 2>/dev/null
	umount -l "$S" 2>/dev/null
	[ -n "${IT_BASE_DIR:-}" ] && rm -rf "$IT_BASE_DIR"
	[ "$bad" = 0 ] || exit 1
	true
}

# start_daemon ARGS...: foreground daemon writing to $OUT, ready once its pid file exists
# (written after every mark is in place).
start_daemon() {
	rm -f "$PIDF"
	timeout -s KILL "$DAEMON_TIMEOUT" "$FANOTIFYD" --foreground --pid-file "$PIDF" \
		--output "$OUT" "$@" 2>"$ERR" &
	TPID=$!
	wait_ready || return 1
}

wait_ready() {
	local i
	for i in $(seq 1 500); do
		if [ -s "$PIDF" ]; then
			DPID=$(cat "$PIDF")
			return 0
		fi
		if [ -n "$TPID" ] && ! kill -0 "$TPID" 2>/dev/null; then
			fail "daemon exited before it was ready: $(tail -n 5 "$ERR" 2>/dev/null)"
			TPID=
			return 1
		fi
		sleep 0.02
	done
	fail "daemon not ready after 10 s"
	return 1
}

# stop_daemon: SIGTERM by PID, then wait; sets DSTATUS to the exit status.
stop_daemon() {
	DSTATUS=
	if [ -n "$DPID" ]; then
		kill -TERM "$DPID" 2>/dev/null || true
	fi
	if [ -n "$TPID" ]; then
		DSTATUS=0
		wait "$TPID" 2>/dev/null || DSTATUS=$?
	fi
	DPID=
	TPID=
}

SENTINEL_N=0
# sentinel: a file event the daemon reports after everything done before it; waits for
# its record. The kernel queues events before the syscall returns and a group reports
# them in order, so every earlier event of that group is in $OUT when this returns.
sentinel() {
	SENTINEL_N=$((SENTINEL_N + 1))
	local f=${1:-$W}/.sentinel-$SENTINEL_N
	: >"$f"
	$JSONL wait "$OUT" --timeout 10 "path=$f" || { fail "sentinel $f never reported"; return 1; }
}

# wait_file PATH: PATH exists within 10 s.
wait_file() {
	local i
	for i in $(seq 1 500); do
		[ -e "$1" ] && return 0
		sleep 0.02
	done
	return 1
}

has() { $JSONL wait "$OUT" --timeout 0 "$@"; }
count() { $JSONL count "$OUT" "$@"; }
# waitrec FIELD=VALUE...: such a record arrives in $OUT within 10 s (where two groups report
# in parallel, "arrived" is a read with a deadline per record).
waitrec() { $JSONL wait "$OUT" --timeout 10 "$@"; }
# reads FILE: cat FILE completes within 5 s (an open that waits on a permission answer).
reads() { timeout 5 cat "$1" >/dev/null; }

# hold_cat FILE: cat FILE, then keep that cat alive (it goes on to read a pipe) until unhold,
# so the records of its open, reads and close are attributed with no race against its exit
# (how short-lived processes fare is t35's subject). Returns once cat has read all of FILE
# and closed it; HELD is its pid.
HOLD_FDS=() HOLD_PIDS=()
hold_cat() {
	local n=${#HOLD_PIDS[@]} fd i l file
	file=$(readlink -f "$1")
	mkfifo "$S/hold.$n" || return 1
	cat "$1" - <"$S/hold.$n" >"$S/hold.$n.out" &
	HELD=$!
	HOLD_PIDS+=("$HELD")
	exec {fd}>"$S/hold.$n"
	HOLD_FDS+=("$fd")
	for i in $(seq 1 500); do
		if cmp -s "$1" "$S/hold.$n.out"; then
			for l in /proc/"$HELD"/fd/*; do
				[ "$(readlink "$l")" = "$file" ] && continue 2
			done
			return 0
		fi
		sleep 0.01
	done
	fail "hold_cat $1: not read and closed within 5 s"
	return 1
}
# unhold: the held cats see end of input and exit; their FIFOs go, so hold_cat starts afresh.
unhold() {
	local fd
	for fd in "${HOLD_FDS[@]}"; do exec {fd}>&-; done
	[ ${#HOLD_PIDS[@]} = 0 ] || wait "${HOLD_PIDS[@]}"
	HOLD_FDS=() HOLD_PIDS=()
	rm -f "$S"/hold.*
}

# psentinel [DIR] [nofid]: the --perm sentinel. One new file in DIR (default $W) whose
# OPEN_PERM (permission group) and, unless "nofid", CREATE (FID group) are both waited for:
# every earlier record of either group is then in $OUT.
psentinel() {
	SENTINEL_N=$((SENTINEL_N + 1))
	local f=${1:-$W}/.sentinel-$SENTINEL_N
	timeout 5 sh -c ': >"$1"' sh "$f" || { fail "sentinel $f: open did not complete"; return 1; }
	waitrec path="$f" events~OPEN_PERM || { fail "sentinel $f: no OPEN_PERM"; return 1; }
	if [ "${2:-fid}" = fid ]; then
		waitrec path="$f" events~CREATE || { fail "sentinel $f: no CREATE"; return 1; }
	fi
}

# stats: SIGUSR1 to the daemon, then the newest stats record in $OUT (one that came after
# the signal: {"type":"stats",...}) into $S/stats.json, and its counters as KEY=VALUE lines
# into $S/stats. Counted and picked with grep: '"type":"stats"' cannot occur inside a JSON
# string (a '"' there is escaped), and a large output is not parsed whole.
STATS_PAT='"type":"stats"'
stats() {
	local n i
	n=$(grep -c "$STATS_PAT" "$OUT" 2>/dev/null)
	kill -USR1 "$DPID" || return 1
	for i in $(seq 1 500); do
		if [ "$(grep -c "$STATS_PAT" "$OUT" 2>/dev/null)" -gt "${n:-0}" ]; then
			grep "$STATS_PAT" "$OUT" | tail -n 1 >"$S/stats.json"
			"$PY" - "$S/stats.json" >"$S/stats" <<'PY' || { fail "stats record: not JSON"; return 1; }
import json, sys
r = json.load(open(sys.argv[1]))
for k, v in r.items():
    print("%s=%s" % (k, v))
PY
			return 0
		fi
		sleep 0.02
	done
	fail "no stats record in $OUT 10 s after SIGUSR1"
	return 1
}
# stats_log: the same from the "stats:" log line SIGUSR1 also writes (stderr), for tests
# whose output cannot take the record (a stalled stdout, a full filesystem).
stats_log() {
	local n i pat='stats: events=[0-9]'
	n=$(grep -c "$pat" "$ERR")
	kill -USR1 "$DPID" || return 1
	for i in $(seq 1 500); do
		if [ "$(grep -c "$pat" "$ERR")" -gt "$n" ]; then
			grep "$pat" "$ERR" | tail -n 1 | sed 's/.*stats: //' | tr ' ' '\n' >"$S/stats"
			return 0
		fi
		sleep 0.02
	done
	fail "no stats line 10 s after SIGUSR1"
	return 1
}
# stat_of KEY: the value of KEY in the last stats()/stats_log() ("" if absent).
stat_of() { sed -n "s/^$1=//p" "$S/stats"; }

# run ARGS...: the binary once, in the foreground, under timeout: exit status in RC, stdout
# in $S/stdout, stderr in $ERR; a daemon it left running (pid file) is stopped.
run() {
	rm -f "$PIDF"
	RC=0
	timeout -s KILL 10 "$FANOTIFYD" "$@" </dev/null >"$S/stdout" 2>"$ERR" || RC=$?
	if [ -s "$PIDF" ]; then
		kill -TERM "$(cat "$PIDF")" 2>/dev/null
	fi
}

finish() {
	stop_daemon
	# Every record of the output, also those no check read, is checked.
	[ -n "${OUT:-}" ] && [ -f "$OUT" ] && $JSONL check "$OUT"
	violations
	[ "$FAILED" = 0 ] && [ "$CHECKS" = 0 ] && ok
	exit "$FAILED"
}

# Helpers of the alert tests (t18-t22).
# act NAME CMD...: CMD as a process of its own (exec keeps the pid); its pid in $S/pid.NAME
act() { local n=$1; shift; sh -c 'echo $$ >"$0"; exec "$@"' "$S/pid.$n" "$@"; }
apid() { cat "$S/pid.$1"; }
now_ms() { date +%s%3N; }

# alert_is PID REASON PATH KEY=VALUE...: exactly one alert of PID with REASON; its path is
# PATH, its keys exactly the alert keys, each KEY=VALUE as given (null = JSON null), ts_ms
# within [T0, T1], and the record before it (seq - 1) is that process's event on PATH.
# comm=/exe= also accept null: a short-lived process may be gone before its event is read
# (attribution is measured in t35); KEY==VALUE accepts only VALUE.
alert_is() {
	python3 - "$OUT" "$T0" "$T1" "$@" <<'PY'
import json, sys
out, t0, t1, pid, reason, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4]), sys.argv[5], sys.argv[6]
want = dict(a.split("=", 1) for a in sys.argv[7:])
recs = [json.loads(l) for l in open(out, encoding="utf-8", errors="surrogateescape")]
by_seq = {r["seq"]: r for r in recs if "seq" in r}
al = [r for r in recs if r.get("type") == "alert" and r.get("pid") == pid
      and r.get("reason") == reason]
def bad(msg):
    print("# %s: %s" % (msg, json.dumps(al[0]) if al else "no alert"))
    sys.exit(1)
if len(al) != 1:
    bad("%d alerts of pid %d with reason %r" % (len(al), pid, reason))
a = al[0]
keys = {"schema_version", "type", "seq", "ts_ms", "kind", "job_id", "path_role", "pid",
        "comm", "exe", "sid", "cgroup", "path", "reason"}
if a.get("kind") == "burst":
    keys |= {"count", "window_ms", "scope", "scope_id"}
# Every record ends with its run's run_id (host with record_host); a field that is not
# UTF-8 has its _raw.
keys |= {"run_id"} | {k for k in a if k == "host" or k.endswith("_raw")}
if set(a) != keys:
    bad("keys differ: extra %s missing %s" % (sorted(set(a) - keys), sorted(keys - set(a))))
if a["path"] != path:
    bad("path %r, want %r" % (a["path"], path))
if a["schema_version"] != 1 or a["type"] != "alert" or not isinstance(a["seq"], int):
    bad("schema_version/type/seq")
for k, v in want.items():
    got = a.get(k)
    strict = v.startswith("=")
    v = v[1:] if strict else v
    if got is None and k in ("comm", "exe") and not strict:
        print("# note: %s of pid %d unknown (process gone)" % (k, pid))
        continue
    if (v == "null" and got is not None) or (v != "null" and str(got) != v):
        bad("%s is %r, want %r" % (k, got, v))
if not (t0 <= a["ts_ms"] <= t1):
    bad("ts_ms %d outside [%d, %d]" % (a["ts_ms"], t0, t1))
ev = by_seq.get(a["seq"] - 1)
if not ev or ev.get("type") != "event" or ev.get("pid") != pid or \
        ev.get("ts_ms") != a["ts_ms"] or path not in (ev.get("path"), ev.get("old_path")):
    bad("record before the alert is not its event: %s" % json.dumps(ev))
PY
}

# nsock: sockets the daemon holds; wait_nsock N: until it holds N, 10 s deadline.
nsock() { find "/proc/$DPID/fd" -lname 'socket:*' 2>/dev/null | wc -l; }
wait_nsock() {
	local i
	for i in $(seq 1 500); do
		[ "$(nsock)" -eq "$1" ] && return 0
		sleep 0.02
	done
	return 1
}

# slow_fast SOCK: two subscribers of SOCK. The slow one connects, then reads nothing until a
# line arrives on the FIFO $S/go, then writes everything it gets to $S/slow; the fast one
# (--subscribe) writes to $S/fast. SLOW, FAST are their pids (killed at exit).
slow_fast() {
	mkfifo "$S/go"
	timeout 120 "$PY" - "$1" "$S/slow" "$S/go" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
open(sys.argv[3]).read()
with open(sys.argv[2], "wb") as out:
    while True:
        d = s.recv(1 << 16)
        if not d:
            break
        out.write(d)
PY
	SLOW=$!
	timeout 120 "$FANOTIFYD" --subscribe "$1" >"$S/fast" 2>"$S/fast.err" &
	FAST=$!
	SUBS="$SUBS $SLOW $FAST"
}

# gen N: N more files g000000... in $W, one write each (CREATE, OPEN, MODIFY, CLOSE_WRITE;
# OPEN_PERM too under --perm); GEN counts them.
GEN=0
gen() {
	"$PY" - "$W" "$GEN" "$1" <<'PY' || fail "generating events"
import os, sys
d, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(first, first + n):
    fd = os.open("%s/g%06d" % (d, i), os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"x")
    os.close(fd)
PY
	GEN=$((GEN + $1))
}

# cgroup_setup: a slice of the test's own in the cgroup v2 hierarchy. Sets MNT (where
# cgroup v2 is mounted: /sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host), CGP
# (the slice's cgroup path, as records show it) and CGR (its directory); removes it all at
# exit, also on failure (cleanup_more). Skips when there is no writable cgroup v2.
cgroup_setup() {
	# The cgroup2 mount showing the whole hierarchy (field 4, the mount's root, is "/").
	MNT=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2" && $4 == "/")
		{ print $5; exit } break } }' /proc/self/mountinfo)
	[ -n "$MNT" ] || skip "no cgroup v2 hierarchy mounted"
	CGP=/fanotifyd-test-$$.slice
	CGR=$MNT$CGP
	mkdir "$CGR" 2>/dev/null || skip "cannot create a cgroup under $MNT (not writable)"
	cleanup_more() {
		local d p i
		[ -d "$CGR" ] || return 0
		# A cgroup with processes cannot go: they move back to the root first.
		# NUL-separated names: a test's hostile one may hold a tab and a quote.
		find "$CGR" -depth -type d -print0 2>/dev/null | while IFS= read -r -d '' d; do
			while read -r p; do echo "$p" >"$MNT/cgroup.procs" 2>/dev/null; done <"$d/cgroup.procs"
		done
		for i in $(seq 1 50); do
			find "$CGR" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$CGR" ] || return 0
			sleep 0.1
		done
		echo "# cleanup: could not remove $CGR" >&2
	}
}

# runin CGROUP PIDFILE CMD...: CMD as a process of its own in cgroup CGROUP (below the
# slice): the shell writes its pid to PIDFILE, moves itself, then execs CMD (the exec is
# when the daemon reads the cgroup again).
runin() {
	sh -c 'echo $$ >"$1"; echo $$ >"$0/cgroup.procs" || exit 99; shift; exec "$@"' \
		"$CGR/$1" "$S/pid.$2" "${@:3}"
}

# replay OUT ARGS... / compare LIVE [--hook] / differs LIVE [--hook]: fanotifyd --replay of a
# live run's output with the same options or config, and replay_compare.py's verdict (the
# first difference in $S/cmp.out): replay-equals-live, for the policy's every feature.
CMP="$PY $HERE/replay_compare.py"
# replay OUT ARGS...: fanotifyd --replay OUT ARGS, stdout in $S/rep, stderr in $S/rep.err
replay() {
	local in=$1
	shift
	RC=0
	timeout -s KILL 60 "$FANOTIFYD" --replay "$in" "$@" >"$S/rep" 2>"$S/rep.err" || RC=$?
}
# compare LIVE [--hook]: the replay in $S/rep agrees with LIVE
compare() { $CMP "$1" "$S/rep" "${@:2}"; }
differs() { ! $CMP "$1" "$S/rep" "${@:2}" >"$S/cmp.out"; }
