# A hook that hangs (sleep 1000) is killed with its whole process group at
# --hook-timeout-ms (300 ms) and the daemon reports events meanwhile. With --perm and
# --hook-max 1, a hanging hook stalls no permission event: opens are answered and recorded
# while it runs; the next alert's hook is dropped and logged; stopping the daemon kills the
# hook. Processes are found by process group and a marker argument, never killed by name.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"

MARK=fanotifyd-hang-marker-$$
# The hook notes its pid (= its process group) and then hangs in a child, sleep.
HOOK=": $MARK; echo \$\$ >>'$S/hookpids'; sleep 1000; :"
# group_procs PGID: the processes still in that process group
group_procs() { ps -eo pid=,pgid=,args= | awk -v g="$1" '$2 == g'; }
# wait_group_gone PGID: a read with a deadline (10 s) until nothing is left in the group
wait_group_gone() {
	local i
	for i in $(seq 1 500); do
		[ -z "$(group_procs "$1")" ] && return 0
		sleep 0.02
	done
	return 1
}
# wait_hook N: until N hooks have noted their pid; prints the Nth
wait_hook() {
	local i
	for i in $(seq 1 500); do
		[ "$(cat "$S/hookpids" 2>/dev/null | wc -l)" -ge "$1" ] && break
		sleep 0.02
	done
	sed -n "${1}p" "$S/hookpids" 2>/dev/null
}
# marker_procs: hook shells still running ("sh -c : MARK; ..."; the daemon's own command
# line carries the marker too, so match the hook's argv[0] and -c)
marker_procs() { ps -eo pid=,args= | awk -v m=": $MARK;" '$2 == "sh" && $3 == "-c" && index($0, m)'; }

echo data >"$W/canary"
echo data >"$W/canary2"
echo data >"$W/plain"

# --- observe, timeout 300 ms --------------------------------------------------------------
start_daemon --watch "$W" --canary "$W/canary*" --hook "$HOOK" --hook-timeout-ms 300 \
	--hook-cooldown-ms 0 || finish
cat "$W/canary" >/dev/null
H=$(wait_hook 1)
check "the hook started (pid $H)" [ -n "$H" ]
# the daemon keeps reporting while the hook hangs
echo x >"$W/plain"
sentinel || finish
check "events reported while the hook hangs" has type=event events~MODIFY path="$W/plain"
check "the hook's process group is gone after the timeout" wait_group_gone "$H"
check "no process with the hook's marker is left" [ -z "$(marker_procs)" ]
check "its sleep went with it (no 'sleep 1000' in the group)" \
	[ -z "$(group_procs "$H" | grep 'sleep 1000')" ]
check "the kill is logged" grep -q "killed at its 300 ms timeout" "$ERR"
check "the daemon is still running" kill -0 "$DPID"
# and hooks keep working afterwards
cat "$W/canary2" >/dev/null
H2=$(wait_hook 2)
check "a later alert runs its hook (pid $H2)" [ -n "$H2" -a "$H2" != "$H" ]
check "... which is killed too" wait_group_gone "$H2"
sentinel || finish
check "two canary alerts" [ "$(count type=alert kind=canary)" = 2 ]
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --- --perm, a long timeout, one hook at a time ----------------------------------------------
if ! "$PROBE" perm; then
	echo "# no permission events: the --perm part is skipped"
	finish
fi
OUT=$S/perm.jsonl
rm -f "$S/hookpids"
start_daemon --perm --watch "$W" --canary "$W/canary*" --hook "$HOOK" \
	--hook-timeout-ms 60000 --hook-max 1 --hook-cooldown-ms 0 || finish
timeout 5 cat "$W/canary" >/dev/null || fail "perm: cat of the canary did not complete"
H=$(wait_hook 1)
check "perm: the hook started (pid $H)" [ -n "$H" ]
check "perm: ... and hangs" [ -n "$(group_procs "$H")" ]
check "perm: ... as a marked hook shell" [ -n "$(marker_procs)" ]
check "perm: opens complete while the hook hangs" [ "$(timeout 5 cat "$W/plain")" = x ]
check "perm: ... answered and recorded" waitrec type=event events~OPEN_PERM path="$W/plain" \
	decision=allow
check "perm: a second alert while the hook runs" \
	timeout 5 sh -c 'echo $$ >"$0"; exec cat "$1" >/dev/null' "$S/pid.second" "$W/canary2"
check "perm: ... is recorded" waitrec type=alert kind=canary path="$W/canary2" \
	pid="$(cat "$S/pid.second")"
check "perm: ... its hook is dropped and logged (hook_max 1)" \
	grep -q "already running" "$ERR"
check "perm: ... only one hook ran" [ "$(wc -l <"$S/hookpids")" = 1 ]
check "perm: the first hook still hangs" [ -n "$(group_procs "$H")" ]
stop_daemon
check "perm: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
check "perm: stopping the daemon killed the hook's group" wait_group_gone "$H"
check "perm: no process with the marker is left" [ -z "$(marker_procs)" ]
finish
