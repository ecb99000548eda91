# A daemon that dies with permission events pending must not take the openers with it:
# the kernel allows what a dead group cannot answer, and the dying daemon does not hang in
# its own teardown. The order of the groups decides it (fan.c): the permission group must
# be released before the FID group. Stopped (SIGSTOP) daemons and busy ones are SIGKILLed.
. "$(dirname "$0")/lib.sh"
require_fanotify perm
require_fanotify fid
setup

echo secret >"$W/f"
for i in $(seq 1 50); do echo "$i" >"$W/g$i"; done

# gone PID SECONDS: PID no longer exists within SECONDS (a process in D state stays).
gone() {
	local i
	for i in $(seq 1 $(($2 * 50))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.02
	done
	echo "# pid $1 still there: $(cat /proc/"$1"/wchan 2>/dev/null) $(grep State /proc/"$1"/status 2>/dev/null)"
	return 1
}

# killed_while_stopped FLAGS...: the daemon is stopped, an opener waits on it, SIGKILL.
killed_while_stopped() {
	start_daemon "$@" || return 1
	local d=$DPID t0 t1 cpid rc=0
	kill -STOP "$d"
	t0=$(now_ms)
	timeout 20 cat "$W/f" >"$S/cat.out" 2>/dev/null &
	cpid=$!
	sleep 1
	kill -KILL "$d"
	wait "$cpid" || rc=$?
	t1=$(now_ms)
	{ wait "$TPID"; } 2>/dev/null
	DPID= TPID=
	check "$*: SIGKILL of a stopped daemon releases the opener ($((t1 - t0)) ms, rc $rc)" \
		[ $((rc == 0 && t1 - t0 < 5000)) = 1 ]
	check "$*: the opener read the file (allowed)" [ "$(cat "$S/cat.out")" = secret ]
	check "$*: the killed daemon is gone within 5 s" gone "$d" 5
}

killed_while_stopped --perm --mount "$W"
killed_while_stopped --perm --watch "$W"
killed_while_stopped --perm --mount "$W" --deny-on-alert --canary "$W/nothing"
killed_while_stopped --perm --no-fid --mount "$W"

# Under load, without SIGSTOP: three openers loop over the tree while the daemon is killed.
# Each of their opens must end quickly: the longest is measured by the openers themselves.
for round in 1 2 3; do
	start_daemon --perm --mount "$W" || finish
	d=$DPID
	pids=
	for j in 1 2 3; do
		python3 - "$W" "$S/lat.$j" <<'PY' &
import os, sys, time
w, out = sys.argv[1], sys.argv[2]
worst, end = 0.0, time.monotonic() + 3
while time.monotonic() < end:
    for i in range(1, 51):
        t = time.monotonic()
        try:
            with open("%s/g%d" % (w, i)) as f:
                f.read()
        except OSError:
            pass
        worst = max(worst, time.monotonic() - t)
open(out, "w").write("%d\n" % int(worst * 1000))
PY
		pids="$pids $!"
	done
	sleep 1
	kill -KILL "$d"
	# shellcheck disable=SC2086
	wait $pids
	{ wait "$TPID"; } 2>/dev/null
	DPID= TPID=
	worst=$(cat "$S"/lat.* | sort -n | tail -n 1)
	check "round $round: SIGKILL under load: longest open ${worst} ms (< 2000)" [ "$worst" -lt 2000 ]
	check "round $round: the killed daemon is gone within 5 s" gone "$d" 5
	rm -f "$S"/lat.*
done
finish
