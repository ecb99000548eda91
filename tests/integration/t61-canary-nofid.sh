# Canary alerts in FD mode (--no-fid): an FD group reports opens and writes only, so a canary
# alerts when opened or modified, with the same exact alert fields as in FID mode; renames
# and deletes of canaries raise nothing here (no such events: see t12-nofid), which the
# test confirms, as it confirms the plain open beside them was reported.
. "$(dirname "$0")/lib.sh"
require_fanotify
setup
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"

act() { local n=$1; shift; sh -c 'echo $$ >"$0"; exec "$@"' "$S/pid.$n" "$@"; }
apid() { cat "$S/pid.$1"; }
now_ms() { date +%s%3N; }

# alert_is PID REASON PATH KEY=VALUE...: exactly one alert of PID with REASON; its path is
# PATH, its keys exactly the alert keys, each KEY=VALUE as given (null = JSON null), ts_ms
# within [T0, T1], and the record before it (seq - 1) is that process's event on PATH.
# comm=/exe= also accept null: a short-lived process may be gone before its event is read
# (attribution is measured in t35); KEY==VALUE accepts only VALUE.
alert_is() {
	"$PY" - "$OUT" "$T0" "$T1" "$@" <<'PY'
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
        "comm", "exe", "path", "reason"}
if a.get("kind") == "burst":
    keys |= {"count", "window_ms"}
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

for f in canary-open canary-mod canary-from canary-del plain; do echo data >"$W/$f"; done
CAT=$(readlink -f "$(command -v cat)")
TEE=$(readlink -f "$(command -v tee)")
T0=$(now_ms)
start_daemon --no-fid --watch "$W" --canary "$W/canary-*" || finish

act open cat "$W/canary-open" >/dev/null
# tee -a: OPEN then MODIFY (+ CLOSE_WRITE), merged or apart: one 'modified' alert at least
echo more | act mod tee -a "$W/canary-mod" >/dev/null
act from mv "$W/canary-from" "$W/renamed-away"
act del rm "$W/canary-del"
act plain cat "$W/plain" >/dev/null
sentinel || finish
T1=$(now_ms)

check "output is valid JSONL" $JSONL valid "$OUT"
check "opened: alert with exact fields" alert_is "$(apid open)" "canary opened" \
	"$W/canary-open" kind=canary comm=cat exe="$CAT" job_id=null path_role=null
check "modified: 'canary modified' with exact fields" alert_is "$(apid mod)" \
	"canary modified" "$W/canary-mod" kind=canary comm=tee exe="$TEE" job_id=null \
	path_role=null
check "the write itself was reported (MODIFY)" has type=event events~MODIFY \
	path="$W/canary-mod" pid="$(apid mod)"
check "rename of a canary: no alert in FD mode" [ "$(count type=alert pid="$(apid from)")" = 0 ]
check "delete of a canary: no alert in FD mode" [ "$(count type=alert pid="$(apid del)")" = 0 ]
check "plain file: no alert" [ "$(count type=alert pid="$(apid plain)")" = 0 ]
check "... though its open was reported" has type=event events~OPEN path="$W/plain" \
	pid="$(apid plain)"
check "every alert is a canary open or modify" \
	[ "$(count type=alert 'reason!=canary opened' 'reason!=canary modified')" = 0 ]
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
