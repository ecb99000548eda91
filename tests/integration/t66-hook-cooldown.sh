# Hook cooldown: two canary opens by one process within hook_cooldown_ms (default 5000)
# give one alert and one hook run; an escalation (opened -> modified) is not held back;
# with --hook-cooldown-ms 0 both opens give an alert and a hook run each. Hook runs are
# counted in a log the hook appends to; "absent" is shown by a later alert's hook line.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"

apid() { cat "$S/pid.$1"; }
echo data >"$W/canary"
echo data >"$W/canary-esc"
echo data >"$W/canary-late"
HOOK="echo \"\$FAN_PID \$FAN_REASON\" >>'$S/hooklog'"
# twice TAG PATH: one process opens PATH twice (read-only: OPEN only), the second time
# once the first open is in $OUT (unread events of one file and process would be merged)
twice() {
	"$PY" - "$2" "$S/pid.$1" "$OUT" <<'PY'
import json, os, sys, time
p, out = sys.argv[1], sys.argv[3]
open(sys.argv[2], "w").write("%d\n" % os.getpid())
os.close(os.open(p, os.O_RDONLY))
deadline = time.monotonic() + 10
while time.monotonic() < deadline and not any(
        json.loads(l).get("pid") == os.getpid() and json.loads(l).get("path") == p
        for l in open(out, "rb")):
    time.sleep(0.01)
os.close(os.open(p, os.O_RDONLY))
PY
}
# hook_lines PID [REASON]: lines the hook wrote for PID
hook_lines() { grep -c "^$1 ${2:-}" "$S/hooklog" 2>/dev/null || true; }
# wait_lines N PID [REASON]: a read with a deadline until the hook wrote N lines for PID
wait_lines() {
	local i
	for i in $(seq 1 500); do
		[ "$(hook_lines "$2" "${3:-}")" -ge "$1" ] && break
		sleep 0.02
	done
	[ "$(hook_lines "$2" "${3:-}")" = "$1" ]
}
# late: an alert of another process, whose hook line shows that earlier hooks had their turn
late() {
	sh -c 'echo $$ >"$0"; exec cat "$1"' "$S/pid.late" "$W/canary-late" >/dev/null
	sentinel || return 1
	wait_lines 1 "$(apid late)" || { fail "the later alert's hook never ran"; return 1; }
}

# --- default cooldown -----------------------------------------------------------------
start_daemon --watch "$W" --canary "$W/canary*" --hook "$HOOK" || finish
twice two "$W/canary"
# escalation: open (read-only), then open for writing and write: 'opened' then 'modified'
"$PY" - "$W/canary-esc" "$S/pid.esc" "$OUT" <<'PY'
import json, os, sys, time
p, out = sys.argv[1], sys.argv[3]
open(sys.argv[2], "w").write("%d\n" % os.getpid())
os.close(os.open(p, os.O_RDONLY))
# wait for our first alert so the write is a record of its own
deadline = time.monotonic() + 10
while time.monotonic() < deadline and not any(
        json.loads(l).get("pid") == os.getpid() and json.loads(l).get("type") == "alert"
        for l in open(out, "rb")):
    time.sleep(0.01)
fd = os.open(p, os.O_WRONLY | os.O_APPEND)
os.write(fd, b"x")
os.close(fd)
PY
late || finish
check "two opens within the cooldown: two OPEN records" \
	[ "$(count type=event events~OPEN pid="$(apid two)" path="$W/canary")" = 2 ]
check "... one alert" [ "$(count type=alert pid="$(apid two)")" = 1 ]
check "... one hook run" wait_lines 1 "$(apid two)" "canary opened"
check "escalation: 'canary opened' alert and hook" wait_lines 1 "$(apid esc)" "canary opened"
check "... then 'canary modified' alert and hook (not held back)" \
	wait_lines 1 "$(apid esc)" "canary modified"
check "... two alerts in all" [ "$(count type=alert pid="$(apid esc)")" = 2 ]
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --- --hook-cooldown-ms 0 -----------------------------------------------------------------
OUT=$S/nocool.jsonl
rm -f "$S/hooklog"
start_daemon --watch "$W" --canary "$W/canary*" --hook "$HOOK" --hook-cooldown-ms 0 || finish
twice two "$W/canary"
late || finish
check "cooldown 0: two alerts" [ "$(count type=alert pid="$(apid two)")" = 2 ]
check "cooldown 0: two hook runs" wait_lines 2 "$(apid two)" "canary opened"
stop_daemon
check "SIGTERM exits 0 (cooldown 0)" [ "$DSTATUS" = 0 ]
finish
