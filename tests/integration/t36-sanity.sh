# SIGINT stops the daemon like SIGTERM (exit 0, records flushed, pid file removed); every
# event fd is closed: the daemon's descriptor count stays small and flat under load, in FD
# (--no-fid) mode and in FID mode.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"

nfds() { ls "/proc/$DPID/fd" | wc -l; }
# burst TAG N: N files opened, written and closed (OPEN, MODIFY, CLOSE_WRITE: one event fd
# each in FD mode), then N reads of them
burst() {
	"$PY" - "$W" "$1" "$2" <<'PY'
import os, sys
w, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    p = "%s/%s%05d" % (w, tag, i)
    with open(p, "wb") as f:
        f.write(b"x")
    with open(p, "rb") as f:
        f.read()
PY
}

# --- SIGINT ----------------------------------------------------------------------------
start_daemon --watch "$W" || finish
for i in 1 2 3; do echo "$i" >"$W/int$i"; done
sentinel || finish
echo late >"$W/int-late"
kill -INT "$DPID"
# wait for the exit (10 s deadline) without sending anything else
for i in $(seq 1 500); do kill -0 "$TPID" 2>/dev/null || break; sleep 0.02; done
check "SIGINT: daemon exits" eval '! kill -0 "$TPID" 2>/dev/null'
stop_daemon	# collects the status (SIGTERM only if SIGINT did not stop it)
check "SIGINT exits 0 (got $DSTATUS)" [ "$DSTATUS" = 0 ]
check "after SIGINT: pid file removed" [ ! -e "$PIDF" ]
check "after SIGINT: output is valid JSONL, last line complete" $JSONL valid "$OUT"
check "after SIGINT: records read before the signal are in the output" \
	has type=event events~CLOSE_WRITE path="$W/int3"
# events queued before the signal are still reported (the loop drains on the way out)
check "after SIGINT: event queued just before the signal is reported" \
	has type=event events~CLOSE_WRITE path="$W/int-late"

# --- descriptors -----------------------------------------------------------------------
for mode in --no-fid --fid; do
	rm -f "$OUT"
	if [ "$mode" = --no-fid ]; then start_daemon --no-fid --watch "$W" || finish
	else start_daemon --watch "$W" || finish; fi
	base=$(nfds)
	burst "a${mode#--}-" 3000
	sentinel || finish
	n1=$(nfds)
	burst "b${mode#--}-" 3000
	sentinel || finish
	n2=$(nfds)
	ea=$(count type=event "path^=$W/a${mode#--}-")
	eb=$(count type=event "path^=$W/b${mode#--}-")
	echo "# $mode: fds at start $base, after burst 1: $n1 ($ea records), after burst 2: $n2 ($eb records)"
	check "$mode: each burst recorded >= 2000 events" test "$ea" -ge 2000 -a "$eb" -ge 2000
	check "$mode: open fds small after 2000+ events ($n1 < 32)" [ "$n1" -lt 32 ]
	check "$mode: open fds do not grow with further events ($n2 <= $n1)" [ "$n2" -le "$n1" ]
	stop_daemon
	check "$mode: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
done
finish
