# Kernel queue overflow: with the daemon stopped, clearly more events than the queue holds
# are generated; the daemon reports exactly one spec overflow alert (pid 0, path
# "<overflow>", no comm/exe) and keeps working afterwards.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
# one interpreter lookup: a version-manager shim can cost a second per python3 call
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"

QMAX=$(cat /proc/sys/fs/fanotify/max_queued_events 2>/dev/null) || skip "no /proc/sys/fs/fanotify/max_queued_events"
# a raised limit (millions) would take minutes to fill; the default is 16384
[ "$QMAX" -le 200000 ] || skip "max_queued_events is $QMAX: too large to overflow in time"
NFILES=$((QMAX + 2000))
start_daemon --watch "$W" || finish

STOPPED=
resume() { [ -n "$STOPPED" ] && kill -CONT "$STOPPED" 2>/dev/null; STOPPED=; }
# the daemon must never stay stopped, whatever fails below (lib.sh's trap stops it after)
trap 'resume; cleanup' EXIT

STOPPED=$DPID
check "daemon stopped with SIGSTOP" kill -STOP "$DPID"
# CREATE + OPEN + MODIFY + CLOSE_WRITE for each of QMAX + 2000 distinct files: about
# four times what the queue holds.
"$PY" - "$W" "$NFILES" <<'PY' || fail "generating events"
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    fd = os.open("%s/f%06d" % (d, i), os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"x")
    os.close(fd)
PY
resume
# The overflow event is queued behind the events that filled the queue: once its record
# is out, the queue has been drained and the sentinel's event cannot be lost.
check "overflow alert reported after SIGCONT" $JSONL wait "$OUT" --timeout 20 type=alert kind=overflow
sentinel || finish

check "output is valid JSONL" $JSONL valid "$OUT"
check "exactly one overflow alert" [ "$(count type=alert kind=overflow)" = 1 ]
check "overflow alert has the spec's fields" \
	has type=alert kind=overflow pid=0 path="<overflow>" reason="fanotify queue overflowed" ts_ms?
check "overflow alert omits comm and exe (not null, absent)" \
	[ "$(count type=alert kind=overflow '!comm' '!exe')" = 1 ]
check "no event record claims the overflow path" [ "$(count type=event path="<overflow>")" = 0 ]
NEV=$(count type=event 'path^='"$W/f")
echo "# $NEV event records for $NFILES files (queue $QMAX)"
check "events were lost, as the queue size implies" [ "$NEV" -lt $((NFILES * 4)) ]
check "events before the overflow were reported (first file's CREATE)" \
	has type=event events~CREATE path="$W/f000000"
printf x >"$W/after-overflow"
sentinel || finish
check "events after the overflow are reported" has type=event events~CREATE path="$W/after-overflow"
check "still exactly one overflow alert" [ "$(count type=alert kind=overflow)" = 1 ]
stop_daemon
check "SIGTERM exits 0 after an overflow" [ "$DSTATUS" = 0 ]
finish
