# Burst alerts (observe mode): a process reaching burst_threshold mutating events within
# burst_window_ms gets a "burst" alert with count and window_ms; a quieter process gets
# none. Hooks: run for alerts with the FAN_* environment, values never spliced into the
# command (a hostile file name stays data).
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
HOOKS=$S/hooks
mkdir -p "$HOOKS" "$W/data"
# The hook writes what it saw to a temp name, then renames it into place ($S is not watched).
HOOK='f="'$HOOKS'/$FAN_KIND.$FAN_PID"; {
	printf "kind=%s\n" "$FAN_KIND"; printf "pid=%s\n" "$FAN_PID"; printf "comm=%s\n" "$FAN_COMM"
	printf "exe=%s\n" "$FAN_EXE"; printf "path=%s\n" "$FAN_PATH"; printf "reason=%s\n" "$FAN_REASON"
	printf "count=%s\n" "${FAN_COUNT-unset}"; printf "window=%s\n" "${FAN_WINDOW_MS-unset}"
	printf "nice=%s\n" "$(cut -d" " -f19 /proc/$$/stat)"
	printf "slice=%s\n" "$(sed -n "s/^se.slice *: *//p" /proc/$$/sched 2>/dev/null)"
} >"$f.tmp.$$" && mv "$f.tmp.$$" "$f"'
EVIL='canary-$(echo INJECTED >&2)`echo INJECTED >&2`;echo INJECTED >&2'
echo secret >"$W/$EVIL"
start_daemon --mount "$W" --burst-threshold 20 --burst-window-ms 60000 --hook "$HOOK" \
	--canary "$W/canary-*" || finish

# Loud: 30 new files by one process (each at least a CREATE and a MODIFY/CLOSE_WRITE).
python3 - "$W/data" >"$S/loud.pid" <<'PY'
import os, sys
print(os.getpid(), flush=True)
for i in range(30):
    with open("%s/loud%d" % (sys.argv[1], i), "w") as f:
        f.write("x")
PY
LOUD=$(cat "$S/loud.pid")
# Quiet: 3 files by another process.
python3 - "$W/data" >"$S/quiet.pid" <<'PY'
import os, sys
print(os.getpid(), flush=True)
for i in range(3):
    with open("%s/quiet%d" % (sys.argv[1], i), "w") as f:
        f.write("x")
PY
QUIET=$(cat "$S/quiet.pid")
hold_cat "$W/$EVIL" || finish
CATPID=$(waitrec type=alert kind=canary >/dev/null && $JSONL get "$OUT" pid type=alert kind=canary)
sentinel || finish

check "burst alert for the loud process" has type=alert kind=burst pid="$LOUD" count=20 window_ms=60000
check "burst alert fields" has type=alert kind=burst pid="$LOUD" schema_version=1 seq? ts_ms? comm? \
	exe? path? reason?
check "cooldown (default 5000 ms): one burst alert although the count was reached again" \
	[ "$(count type=alert kind=burst pid="$LOUD")" = 1 ]
check "the loud process made >= 40 mutating records (so the threshold was reached twice)" \
	[ "$(count type=event pid="$LOUD" 'events~MODIFY|CLOSE_WRITE|CREATE')" -ge 40 ]
check "no burst alert for the quiet process" [ "$(count type=alert pid="$QUIET")" = 0 ]
check "the quiet process's events were seen" has type=event pid="$QUIET" events~CREATE
check "hostile canary name: alert with the exact path" has type=alert kind=canary path="$W/$EVIL"

check "burst hook ran" wait_file "$HOOKS/burst.$LOUD"
check "burst hook: FAN_KIND" grep -qx "kind=burst" "$HOOKS/burst.$LOUD"
check "burst hook: FAN_PID" grep -qx "pid=$LOUD" "$HOOKS/burst.$LOUD"
check "burst hook: FAN_COUNT" grep -qx "count=20" "$HOOKS/burst.$LOUD"
check "burst hook: FAN_WINDOW_MS" grep -qx "window=60000" "$HOOKS/burst.$LOUD"
check "burst hook: FAN_EXE names python" grep -q "^exe=.*python" "$HOOKS/burst.$LOUD"
check "burst hook: FAN_REASON set" grep -q "^reason=." "$HOOKS/burst.$LOUD"
check "hook at nice 0, not the daemon's -4" grep -qx "nice=0" "$HOOKS/burst.$LOUD"
check "hook without the daemon's 0.1 ms slice" eval '! grep -qx "slice=100000" "$HOOKS/burst.$LOUD"'
check "canary alert's pid known" [ -n "$CATPID" ]
check "canary hook ran" wait_file "$HOOKS/canary.$CATPID"
check "canary hook: FAN_PATH is the exact hostile path" grep -qxF "path=$W/$EVIL" "$HOOKS/canary.$CATPID"
check "canary hook: FAN_REASON" grep -qx "reason=canary opened" "$HOOKS/canary.$CATPID"
check "canary hook: FAN_COMM" grep -qx "comm=cat" "$HOOKS/canary.$CATPID"
check "canary hook: no FAN_COUNT for a canary" grep -qx "count=unset" "$HOOKS/canary.$CATPID"
check "no quiet-process hook" [ ! -e "$HOOKS/burst.$QUIET" ]
stop_daemon
check "the file name was never run as shell code" eval '! grep -q INJECTED "$ERR"'
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# Without a cooldown the count restarts after each alert: one alert per 20 mutating records.
OUT=$S/nocool.jsonl
start_daemon --mount "$W" --burst-threshold 20 --burst-window-ms 60000 --hook-cooldown-ms 0 || finish
python3 - "$W/data" >"$S/loud2.pid" <<'PY'
import os, sys
print(os.getpid(), flush=True)
for i in range(30):
    with open("%s/again%d" % (sys.argv[1], i), "w") as f:
        f.write("x")
PY
LOUD2=$(cat "$S/loud2.pid")
sentinel || finish
MUT=$(python3 - "$OUT" "$LOUD2" <<'PY'
import json, sys
mut = {"MODIFY", "CLOSE_WRITE", "ATTRIB", "CREATE", "DELETE", "MOVED_FROM", "MOVED_TO", "RENAME"}
print(sum(1 for r in map(json.loads, open(sys.argv[1]))
          if r["type"] == "event" and r["pid"] == int(sys.argv[2]) and mut & set(r["events"].split(","))))
PY
)
check "no cooldown: one burst alert per 20 mutating records ($MUT records)" \
	[ "$(count type=alert kind=burst pid="$LOUD2")" = "$((MUT / 20))" ]
stop_daemon
check "no-cooldown daemon: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
