# Burst detection (observe, FID): N mutating records of one process within burst_window_ms
# fire one alert of kind burst with count N and window_ms, and the count restarts; N-1
# records do not; N+ records spread so that no N fall inside the window do not; other
# processes' records never add up; threshold 0 (and the default) never fire; the cooldown
# (default 5000 ms) holds a second burst of the same process back. With the default event
# set, every mutating kind (CREATE, MODIFY, CLOSE_WRITE, ...) counts: without a cooldown, one
# alert per N mutating records. (Burst hooks: t21; containment after a burst: t22.)
#
# Apart from the last part only MODIFY is selected (--events modify) and each write goes to
# a file of its own, so one write is exactly one record: the kernel merges events of one
# object only.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup

for i in $(seq 0 199); do : >"$W/f$i"; done
# writer.py TAG FIRST N [PAUSE_MS]: one process writes one byte to each of fFIRST..
# f(FIRST+N-1); its pid goes to $S/pid.TAG. With PAUSE_MS, it writes N-1, waits until its
# last write is in $OUT (the daemon has stamped it), sleeps PAUSE_MS, then writes N-1 more.
cat >"$S/writer.py" <<'PY'
import json, os, sys, time
w, out, s, tag, first, n = sys.argv[1:4] + [sys.argv[4], int(sys.argv[5]), int(sys.argv[6])]
pause = int(sys.argv[7]) if len(sys.argv) > 7 else None
open("%s/pid.%s" % (s, tag), "w").write("%d\n" % os.getpid())
def write(i):
    fd = os.open("%s/f%d" % (w, i), os.O_WRONLY)
    os.write(fd, b"x")
    os.close(fd)
def reported(path):
    for l in open(out, "rb"):
        r = json.loads(l)
        if r.get("pid") == os.getpid() and r.get("path") == path:
            return True
    return False
if pause is None:
    for i in range(first, first + n):
        write(i)
else:
    for i in range(first, first + n - 1):
        write(i)
    deadline = time.monotonic() + 10
    while not reported("%s/f%d" % (w, first + n - 2)) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(pause / 1000.0)
    for i in range(first + n - 1, first + 2 * n - 2):
        write(i)
PY
writer() { timeout 30 "$PY" "$S/writer.py" "$W" "$OUT" "$S" "$@"; }
# msentinel: a write by a process of its own (only MODIFY is selected)
msentinel() {
	SENTINEL_N=$((SENTINEL_N + 1))
	local f=$W/.sentinel-$SENTINEL_N
	sh -c 'echo s >"$1"' sh "$f"
	$JSONL wait "$OUT" --timeout 10 "path=$f" || { fail "sentinel $f never reported"; return 1; }
}
bursts() { count type=alert kind=burst pid="$(apid "$1")"; }

# --- threshold 10, window 2000 ms, no cooldown ------------------------------------------
start_daemon --watch "$W" --events modify --burst-threshold 10 --burst-window-ms 2000 \
	--hook-cooldown-ms 0 || finish
writer ten 0 10
writer nine 20 9
writer many 40 25
# two processes, 6 writes each, interleaved in time: neither reaches 10
writer a 80 6
writer b 90 6
writer a2 100 6
msentinel || finish
check "output is valid JSONL" $JSONL valid "$OUT"
check "10 writes: the 10 MODIFY records are there" \
	[ "$(count type=event events=MODIFY pid="$(apid ten)")" = 10 ]
check "10 writes: one burst alert" [ "$(bursts ten)" = 1 ]
check "... count 10, window_ms 2000, at the 10th write" has type=alert kind=burst \
	pid="$(apid ten)" count=10 window_ms=2000 path="$W/f9" reason? 'comm~^(python|null$)' \
	job_id=null path_role=null schema_version=1 seq? ts_ms?
check "... exact key set" "$PY" - "$OUT" "$(apid ten)" <<'PY'
import json, sys
a = [r for r in map(json.loads, open(sys.argv[1])) if r.get("type") == "alert"
     and r.get("pid") == int(sys.argv[2])]
want = {"schema_version", "type", "seq", "ts_ms", "kind", "job_id", "path_role", "pid",
        "comm", "exe", "sid", "cgroup", "path", "reason", "count", "window_ms", "scope", "scope_id", "run_id"}
# Counted per process (the default burst_scope): the alert says so (issue 14).
sys.exit(0 if len(a) == 1 and set(a[0]) == want and a[0]["scope"] == "process"
         and a[0]["scope_id"] == a[0]["pid"] else 1)
PY
check "9 writes: the 9 records are there" [ "$(count type=event pid="$(apid nine)")" = 9 ]
check "9 writes: no burst alert" [ "$(bursts nine)" = 0 ]
check "25 writes: two bursts (10th and 20th: the count restarts)" [ "$(bursts many)" = 2 ]
check "... at f49 and f59" has type=alert kind=burst pid="$(apid many)" path="$W/f49" count=10
check "... and f59" has type=alert kind=burst pid="$(apid many)" path="$W/f59" count=10
check "other processes never add up" [ "$(count type=alert kind=burst pid="$(apid a)")" = 0 ]
check "... (second one)" [ "$(count type=alert kind=burst pid="$(apid b)")" = 0 ]
check "... (third one)" [ "$(count type=alert kind=burst pid="$(apid a2)")" = 0 ]
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --- window 200 ms: spread over more than the window ------------------------------------
OUT=$S/spread.jsonl
start_daemon --watch "$W" --events modify --burst-threshold 10 --burst-window-ms 200 \
	--hook-cooldown-ms 0 || finish
# 9 writes, pause 250 ms, 9 writes: 18 records, never 10 within 200 ms
writer spread 0 10 250
# 10 writes at once with the same small window: fires (the window is not too small)
writer quick 40 10
msentinel || finish
check "spread: 18 records" [ "$(count type=event events=MODIFY pid="$(apid spread)")" = 18 ]
check "spread over more than the window: no burst" [ "$(bursts spread)" = 0 ]
check "10 at once with the 200 ms window: burst" has type=alert kind=burst \
	pid="$(apid quick)" count=10 window_ms=200
stop_daemon

# --- threshold 0 and the default: never --------------------------------------------------
OUT=$S/zero.jsonl
start_daemon --watch "$W" --events modify --burst-threshold 0 --hook-cooldown-ms 0 || finish
writer zero 0 100
msentinel || finish
check "threshold 0: 100 records" [ "$(count type=event pid="$(apid zero)")" = 100 ]
check "threshold 0: no burst alert" [ "$(count type=alert kind=burst)" = 0 ]
stop_daemon
OUT=$S/default.jsonl
start_daemon --watch "$W" --events modify || finish
writer default 0 100
msentinel || finish
check "no --burst-threshold: 100 records" [ "$(count type=event pid="$(apid default)")" = 100 ]
check "no --burst-threshold: no burst alert (default 0)" [ "$(count type=alert kind=burst)" = 0 ]
stop_daemon

# --- default cooldown (5000 ms): one burst alert per process ------------------------------
OUT=$S/cooldown.jsonl
start_daemon --watch "$W" --events modify --burst-threshold 10 --burst-window-ms 2000 || finish
writer cool 0 35
msentinel || finish
check "cooldown: 35 writes, 35 records (the count is reached 3 times)" \
	[ "$(count type=event events=MODIFY pid="$(apid cool)")" = 35 ]
check "cooldown: one alert" [ "$(bursts cool)" = 1 ]
check "... the first" has type=alert kind=burst pid="$(apid cool)" path="$W/f9"
stop_daemon

# --- default events, no cooldown: every mutating kind counts --------------------------------
# 30 new files by one process (each at least a CREATE and a MODIFY/CLOSE_WRITE); the count
# restarts after each alert: one alert per 20 mutating records.
OUT=$S/mixed.jsonl
mkdir -p "$W/data"
start_daemon --mount "$W" --burst-threshold 20 --burst-window-ms 60000 --hook-cooldown-ms 0 \
	|| finish
"$PY" - "$W/data" "$S/pid.mixed" <<'PY'
import os, sys
open(sys.argv[2], "w").write("%d\n" % os.getpid())
for i in range(30):
    with open("%s/new%d" % (sys.argv[1], i), "w") as f:
        f.write("x")
PY
sentinel || finish
MUT=$("$PY" - "$OUT" "$(apid mixed)" <<'PY'
import json, sys
mut = {"MODIFY", "CLOSE_WRITE", "ATTRIB", "CREATE", "DELETE", "MOVED_FROM", "MOVED_TO", "RENAME"}
print(sum(1 for r in map(json.loads, open(sys.argv[1]))
          if r["type"] == "event" and r["pid"] == int(sys.argv[2]) and mut & set(r["events"].split(","))))
PY
)
check "default events: >= 40 mutating records of 30 new files ($MUT)" [ "$MUT" -ge 40 ]
check "default events: burst alert with count 20, window_ms 60000" has type=alert kind=burst \
	pid="$(apid mixed)" count=20 window_ms=60000
check "no cooldown: one burst alert per 20 mutating records ($MUT records)" \
	[ "$(bursts mixed)" = "$((MUT / 20))" ]
stop_daemon
check "default events: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
