# Background mode (no --foreground): the starting command returns 0 only once the daemon
# is ready (pid file written), the daemon is detached (own session, reparented, stdio on
# /dev/null, cwd /), records events, and SIGTERM stops it and removes the pid file. A
# failed start is a non-zero exit with the reason on stderr and no pid file.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
# one interpreter lookup: a version-manager shim can cost a second per python3 call
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"

BGPID=
cleanup_bg() {
	# the backgrounded daemon is outside timeout(1): stop it by its pid if still there
	if [ -n "$BGPID" ] && [ -d "/proc/$BGPID" ]; then
		kill -TERM "$BGPID" 2>/dev/null
		wait_gone "$BGPID" || kill -KILL "$BGPID" 2>/dev/null
	fi
	cleanup
}
trap cleanup_bg EXIT

# wait_gone PID: poll /proc with a 10 s deadline (zombies count as gone).
wait_gone() {
	local i st
	for i in $(seq 1 500); do
		[ -d "/proc/$1" ] || return 0
		st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
		[ "$st" = Z ] && return 0
		sleep 0.02
	done
	return 1
}

STARTED=$(date +%s%N)
rc=0
timeout -s KILL 60 "$FANOTIFYD" --watch "$W" --output "$OUT" --pid-file "$PIDF" \
	</dev/null >"$S/start.out" 2>"$S/start.err" || rc=$?
ELAPSED_MS=$((($(date +%s%N) - STARTED) / 1000000))
PIDF_AT_RETURN=no
[ -s "$PIDF" ] && PIDF_AT_RETURN=yes
BGPID=$(cat "$PIDF" 2>/dev/null)
check "start command exits 0 (got $rc, stderr: $(head -c 300 "$S/start.err"))" [ "$rc" = 0 ]
check "start command returns promptly (${ELAPSED_MS} ms < 10 s)" [ "$ELAPSED_MS" -lt 10000 ]
check "pid file exists when the start command returns" [ "$PIDF_AT_RETURN" = yes ]
[ -n "$BGPID" ] || finish
check "pid file holds a number" grep -qx '[0-9][0-9]*' "$PIDF"
check "pid file names a live fanotifyd process" \
	test "$(cat "/proc/$BGPID/comm" 2>/dev/null)" = fanotifyd
# /proc/PID/stat: "pid (comm) state ppid pgrp session ..." (comm has no ')' here)
read -r STAT <"/proc/$BGPID/stat" || STAT=
STAT=${STAT##*) }
read -r _state PPID_D PGRP_D SESS_D _rest <<<"$STAT"
check "daemon is not the test shell's child (ppid $PPID_D)" [ "$PPID_D" != "$$" ]
# Reparented to init or a subreaper; a subreaper that adopts it is necessarily one of the
# test shell's ancestors (the daemon descends from this shell).
ancestor_of_shell() {
	local p=$$ pp
	while [ "$p" -gt 1 ]; do
		pp=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null) || return 1
		[ "$pp" = "$1" ] && return 0
		p=$pp
	done
	return 1
}
check "daemon's parent is init or a subreaper above the test shell (ppid $PPID_D)" \
	eval '[ "$PPID_D" = 1 ] || ancestor_of_shell "$PPID_D"'
check "daemon is a session leader (session $SESS_D = pid $BGPID)" [ "$SESS_D" = "$BGPID" ]
check "daemon has no controlling terminal (tty_nr 0)" \
	test "$(cut -d' ' -f5 <<<"$_rest")" = 0
for fd in 0 1 2; do
	check "fd $fd is /dev/null" test "$(readlink "/proc/$BGPID/fd/$fd")" = /dev/null
done
check "cwd is /" test "$(readlink "/proc/$BGPID/cwd")" = /
check "nothing printed to the caller's stdout" [ ! -s "$S/start.out" ]

echo hello >"$W/file"
sentinel || finish
check "events are recorded" has type=event events~CREATE path="$W/file" name=file
check "background daemon's output is valid JSONL" $JSONL valid "$OUT"

kill -TERM "$BGPID"
check "SIGTERM: daemon exits" wait_gone "$BGPID"
check "SIGTERM: pid file removed" [ ! -e "$PIDF" ]
BGPID=

# --- refusals -------------------------------------------------------------------------
rc=0
timeout -s KILL 60 "$FANOTIFYD" --watch "$W/does-not-exist" --output "$S/out2.jsonl" \
	--pid-file "$S/pid2" </dev/null >"$S/fail.out" 2>"$S/fail.err" || rc=$?
check "nonexistent watch path: exit status 1 (got $rc)" [ "$rc" = 1 ]
check "nonexistent watch path: reason on stderr names the path" \
	grep -q "does-not-exist" "$S/fail.err"
check "nonexistent watch path: no pid file left behind" [ ! -e "$S/pid2" ]
# a failed start leaves no daemon behind: no process runs our binary with that pid file
no_daemon_with() {
	local p bin
	bin=$(readlink -f "$FANOTIFYD")
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$bin" ] || continue
		grep -qaF -- "$1" "$p/cmdline" 2>/dev/null && return 1
	done
	return 0
}
check "nonexistent watch path: no daemon left running" no_daemon_with "$S/pid2"

rc=0
timeout -s KILL 60 "$FANOTIFYD" --watch "$W" --pid-file "$S/pid3" \
	</dev/null >"$S/noout.out" 2>"$S/noout.err" || rc=$?
check "background without --output: exit status 2 (got $rc)" [ "$rc" = 2 ]
check "background without --output: reason on stderr" grep -qi "output" "$S/noout.err"
check "background without --output: no pid file" [ ! -e "$S/pid3" ]
rc=0
timeout -s KILL 60 "$FANOTIFYD" --watch "$W" --output - --pid-file "$S/pid4" \
	</dev/null >"$S/dash.out" 2>"$S/dash.err" || rc=$?
check "background with --output -: exit status 2 (got $rc)" [ "$rc" = 2 ]
finish
