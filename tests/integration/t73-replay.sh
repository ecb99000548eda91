# fanotifyd --replay: the live daemon's own output, replayed with the same options or config,
# gives exactly the live alerts (seq, ts_ms, kind, pid, comm, exe, path, reason, job_id,
# path_role, count, window_ms, scope, scope_id) in the same order and exactly the live
# denials with their reasons (replay_compare.py prints the first difference).
#   observe: a config with canaries (a glob, an exact name that is not UTF-8: the replay
#     must use path_raw), cooldown and severity (opened, modified, renamed, deleted), a
#     burst with its window, a hook (its alerts "would run"), two jobs sharing a cache
#     root, a rename out of a job (the old path's tags);
#   permission: --perm --deny-on-alert, a canary denied, a burst contained (quarantine).
# Then: the comparison fails for a replay with another threshold (the test can fail); a .gz
# and stdin give the same replay; nobody can replay (no privilege) and nothing of the
# daemon's is created (pid file, socket); --sweep (JSONL and text); --format text;
# malformed and hostile lines are counted and skipped under a 256 MiB address-space limit.
. "$(dirname "$0")/lib.sh"
require_fanotify perm
require_fanotify fid
setup

# --- observe: canaries, bursts, hook, jobs --------------------------------------------------
mkdir -p "$W/ws" "$W/k" "$W/cache" "$W/out"
BAD=$(printf 'c\377')
for f in canary1 canary2 canary3 doc; do echo "$f" >"$W/ws/$f"; done
echo x >"$W/$BAD"
echo y >"$W/ws/pre"
cat >"$S/obs.conf" <<CONF
mount $W
canary $W/ws/canary*
canary $W/$BAD
burst_threshold 8
burst_window_ms 3000
hook_cooldown_ms 1500
hook true
job J
workspace $W/ws
cache $W/cache
job K
workspace $W/k
cache $W/cache
CONF
OUT=$S/obs.jsonl
start_daemon -c "$S/obs.conf" || finish
# one process opens a canary twice (cooldown), then modifies it (more severe: reported)
"$PY" - "$W/ws/canary1" <<'PY'
import sys
open(sys.argv[1]).read(); open(sys.argv[1]).read()
with open(sys.argv[1], "a") as f:
    f.write("x")
PY
mv "$W/ws/canary2" "$W/ws/canary2.moved"
rm "$W/ws/canary3"
cat "$W/$BAD" >/dev/null
mv "$W/ws/pre" "$W/ws/canary9"
mv "$W/ws/doc" "$W/out/doc"
# bursts: 20 files in the workspace, 20 in the shared cache, 5 in K's (below threshold)
"$PY" - "$W/ws" 20 <<'PY'
import sys
for i in range(int(sys.argv[2])):
    with open("%s/b%02d" % (sys.argv[1], i), "w") as f:
        f.write("x")
PY
"$PY" - "$W/cache" 20 <<'PY'
import sys
for i in range(int(sys.argv[2])):
    with open("%s/b%02d" % (sys.argv[1], i), "w") as f:
        f.write("x")
PY
for i in 1 2 3 4 5; do echo "$i" >"$W/k/s$i"; done
sentinel "$W" || finish
stop_daemon
check "observe: the live run raised canary and burst alerts" \
	[ "$(count type=alert kind=canary)" -ge 5 ] && [ "$(count type=alert kind=burst)" -ge 2 ]
check "observe: the live canary alert of the non-UTF-8 name has path_raw" \
	has type=alert kind=canary "path_raw~255"
check "observe: a rename out of the job carries the old path's tags" \
	has type=event path="$W/out/doc" old_path="$W/ws/doc" job_id=J path_role=workspace
check "observe: the shared cache's burst is tagged job_id null, role cache" \
	has type=alert kind=burst job_id=null path_role=cache

replay "$OUT" -c "$S/obs.conf"
check "observe: --replay exits 0" [ "$RC" = 0 ] || sed 's/^/# /' "$S/rep.err"
check "observe: the replay gives exactly the live alerts (hook: would run)" compare "$OUT" --hook
cp "$S/rep" "$S/obs.rep"
replay "$OUT" -c "$S/obs.conf" --burst-threshold 9
check "observe: ... and the comparison fails with --burst-threshold 9" differs "$OUT" --hook
sed 's/^/# /' "$S/cmp.out" | head -n 3
# Without path_raw the exact non-UTF-8 canary cannot match: the raw bytes are what matched.
"$PY" - "$OUT" >"$S/noraw.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1], encoding="utf-8", errors="surrogateescape"):
    r = json.loads(l)
    r.pop("path_raw", None)
    print(json.dumps(r, separators=(",", ":")))
PY
replay "$S/noraw.jsonl" -c "$S/obs.conf"
check "observe: without path_raw the non-UTF-8 canary alert is missing (raw bytes are used)" \
	differs "$OUT" --hook
OBS_OUT=$OUT

# --- permission: deny-on-alert, containment --------------------------------------------------
mkdir -p "$W/p"
echo secret >"$W/p/canary"
PERM_ARGS=(--perm --deny-on-alert --mount "$W" --canary "$W/p/canary*" --burst-threshold 10
	--burst-window-ms 10000 --quarantine-ms 20000)
OUT=$S/perm.jsonl
start_daemon "${PERM_ARGS[@]}" || finish
timeout 5 cat "$W/p/canary" >/dev/null 2>&1
"$PY" - "$W/p" <<'PY'
import os, sys
for i in range(40):
    try:
        with open("%s/f%d" % (sys.argv[1], i), "w") as f:
            f.write("x")
    except PermissionError:
        pass
PY
timeout 5 sh -c 'echo y >"$1"' sh "$W/p/other"
psentinel "$W" || finish
stop_daemon
check "perm: the live run denied the canary and contained the burst" \
	has type=event decision=deny "reason=canary opened" &&
	has type=event decision=deny "reason=quarantined after burst"
replay "$OUT" "${PERM_ARGS[@]}"
check "perm: --replay exits 0" [ "$RC" = 0 ] || sed 's/^/# /' "$S/rep.err"
check "perm: the replay gives exactly the live alerts and denials" compare "$OUT"
cp "$S/rep" "$S/perm.rep"
replay "$OUT" "${PERM_ARGS[@]}" --burst-threshold 12
check "perm: ... and the comparison fails with --burst-threshold 12" differs "$OUT"
sed 's/^/# /' "$S/cmp.out" | head -n 3
replay "$OUT" --perm --mount "$W" --canary "$W/p/canary*" --burst-threshold 10 \
	--burst-window-ms 10000
check "perm: without --deny-on-alert every live denial is a decision record 'allow' (was deny)" \
	"$PY" - "$OUT" "$S/rep" <<'PY'
import json, sys
live = [json.loads(l) for l in open(sys.argv[1])]
rep = [json.loads(l) for l in open(sys.argv[2])]
den = [r["seq"] for r in live if r.get("decision") == "deny"]
dec = [(r["seq"], r["decision"], r["recorded"]) for r in rep if r["type"] == "decision"]
s = rep[-1]
ok = dec == [(q, "allow", "deny") for q in den] and s["deny_to_allow"] == len(den) > 0
print("# %d live denials, replay decisions %s..." % (len(den), dec[:3]))
sys.exit(0 if ok and s["would_deny"] == 0 else 1)
PY

# --- the input: .gz, stdin; no privilege; nothing of the daemon's --------------------------
gzip -c "$OUT" >"$S/perm.jsonl.gz"
replay "$S/perm.jsonl.gz" "${PERM_ARGS[@]}"
check "gz: a .gz replays to the same output" cmp -s <(grep -v replay_summary "$S/rep") \
	<(grep -v replay_summary "$S/perm.rep")
check "gz: ... with the same summary but its input" \
	[ "$(tail -n 1 "$S/rep" | sed 's/"input":"[^"]*"//')" = \
	  "$(tail -n 1 "$S/perm.rep" | sed 's/"input":"[^"]*"//')" ]
RC=0
timeout 60 "$FANOTIFYD" --replay - "${PERM_ARGS[@]}" <"$S/perm.jsonl.gz" >"$S/rep" 2>"$S/rep.err" ||
	RC=$?
check "stdin: gzip on stdin replays to the same alerts and denials" compare "$OUT"
RC=0
setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all --bounding-set=-all \
	timeout 60 "$FANOTIFYD" --replay - "${PERM_ARGS[@]}" --pid-file "$S/rp.pid" \
	--socket "$S/rp.sock" <"$OUT" >"$S/rep" 2>"$S/rep.err" || RC=$?
check "nobody: --replay runs without privilege (exit $RC)" [ "$RC" = 0 ] ||
	sed 's/^/# /' "$S/rep.err"
check "nobody: ... with the same result" compare "$OUT"
check "nobody: no pid file, no socket" [ ! -e "$S/rp.pid" ] && [ ! -e "$S/rp.sock" ]
replay "$S/missing.jsonl" "${PERM_ARGS[@]}"
check "an input that cannot be opened: exit 1, said" [ "$RC" = 1 ] &&
	grep -q "missing.jsonl: No such file" "$S/rep.err"
gzip -c "$OUT" | head -c 300 >"$S/cut.gz"
replay "$S/cut.gz"
check "a gzip stream cut short: exit 1, said" [ "$RC" = 1 ] && grep -q "reading the replay" "$S/rep.err"
replay "$OUT" --sweep burst_window=1,2
check "--sweep with an unknown key: exit 2" [ "$RC" = 2 ]

# --- --sweep, --format text --------------------------------------------------------------
replay "$OUT" "${PERM_ARGS[@]}" --sweep burst_threshold=5,10,1000
check "sweep: three replay_summary records, one per value, nothing else" "$PY" - "$S/rep" "$OUT" <<'PY'
import json, sys
rep = [json.loads(l) for l in open(sys.argv[1])]
live = [json.loads(l) for l in open(sys.argv[2])]
live_deny = sum(1 for r in live if r.get("decision") == "deny")
vals = [(r["sweep"]["key"], r["sweep"]["value"]) for r in rep]
bursts = [r["alerts_by_kind"].get("burst", 0) for r in rep]
print("# sweep: %s bursts %s would_deny %s (live %d)" % (vals, bursts,
      [r["would_deny"] for r in rep], live_deny))
ok = all(r["type"] == "replay_summary" for r in rep) and vals == [
    ("burst_threshold", 5), ("burst_threshold", 10), ("burst_threshold", 1000)]
ok = ok and bursts[0] >= bursts[1] >= 1 and bursts[2] == 0
ok = ok and rep[1]["would_deny"] == live_deny and rep[2]["would_deny"] < live_deny
sys.exit(0 if ok else 1)
PY
check "sweep: the records are valid" $JSONL valid "$S/rep"
replay "$OUT" "${PERM_ARGS[@]}" --sweep burst_threshold=5,10,1000 --format text
check "sweep --format text: a header and three rows" \
	[ "$(wc -l <"$S/rep")" = 4 ] && head -n 1 "$S/rep" | grep -q '^key .*would_deny' &&
	[ "$(grep -c '^burst_threshold ' "$S/rep")" = 3 ]
sed 's/^/# /' "$S/rep"
OUT=$OBS_OUT
replay "$OUT" -c "$S/obs.conf" --format text
check "--format text: one ALERT line per live alert ($(count type=alert)), each 'hook=would-run', the summary last" \
	[ "$(grep -c 'ALERT' "$S/rep")" = "$(count type=alert)" ] &&
	[ "$(grep -c 'hook=would-run$' "$S/rep")" = "$(count type=alert)" ] &&
	tail -n 1 "$S/rep" | grep -q '^replay: '
sed 's/^/# /' "$S/rep" | tail -n 3

# --- malformed and hostile input ----------------------------------------------------------
"$PY" - "$S/hostile.jsonl" "$W" <<'PY'
import json, sys
w = sys.argv[2]
ev = {"schema_version": 1, "type": "event", "seq": 1, "ts_ms": 1000, "mask": 32,
      "decision": "observe", "pid": 42, "ppid": 1, "uid": 0, "comm": "x", "exe": "/x",
      "path": w + "/c\ufffd", "path_raw": list((w + "/c").encode()) + [255], "name": "c",
      "is_dir": False, "run_id": "0" * 32}
lines = [json.dumps(ev).encode()]                                   # 1 ok: canary by raw
lines.append(b"not json")                                           # 2
lines.append(b'{"type":"event","seq":2,"ts_ms":1,"mask":2,"pid":4\x00}')  # 3 NUL byte
lines.append(b"[" * 200000 + b"]" * 200000)                         # 4 deep, 400 KB
lines.append(b'{"type":"event","path":"' + b"a" * (3 << 20) + b'"}')  # 5 3 MiB line
bad = dict(ev, pid="x")
lines.append(json.dumps(bad).encode())                              # 6 wrong type
lines.append(json.dumps(dict(ev, path_raw=[0, 47])).encode())       # 7 NUL in _raw
lines.append(json.dumps(dict(ev, path_raw=[300])).encode())         # 8 byte > 255
lines.append(b'{"type":5}')                                         # 9 type not a string
lines.append(b"")                                                   # 10 blank: not counted
run = {"run_id": ev["run_id"]}
lines.append(json.dumps(dict(run, type="stats", seq=9)).encode())   # 11 skipped, gap
lines.append(json.dumps(dict(run, type="reload", seq=10)).encode())  # 12 reload
lines.append(json.dumps(dict(ev, seq=11, path="/a\u0000b")).encode())  # 13 NUL in path ...
lines.append(b'{"type":"event"} trailing')                          # 14 text after
open(sys.argv[1], "wb").write(b"\n".join(lines))                    # no final newline
PY
RC=0
# The memory bound holds for the plain build; an ASan build reserves terabytes of address
# space for its shadow, so under make sanitize the limit is left out (the rest is checked).
AS_LIMIT=(prlimit --as=$((256 << 20)))
grep -q __asan_init "$FANOTIFYD" && AS_LIMIT=()
"${AS_LIMIT[@]}" timeout 60 "$FANOTIFYD" --replay "$S/hostile.jsonl" \
	--canary "$W/$BAD" >"$S/rep" 2>"$S/rep.err" || RC=$?
check "hostile: exit 0 (under a 256 MiB address-space limit but with ASan)" [ "$RC" = 0 ] ||
	sed 's/^/# /' "$S/rep.err"
check "hostile: the counts" "$PY" - "$S/rep" <<'PY'
import json, sys
rep = [json.loads(l) for l in open(sys.argv[1])]
s = rep[-1]
print("# %s" % json.dumps({k: s[k] for k in ("lines", "events", "malformed", "malformed_lines",
                                              "skipped", "seq_gaps", "reloads", "alerts")}))
# line 13: path with a NUL but a path_raw: the raw bytes win (the canary matches again)
ok = s["lines"] == 14 and s["events"] == 2 and s["malformed"] == 9
ok = ok and s["malformed_lines"] == [2, 3, 4, 5, 6, 7, 8, 9, 14]
ok = ok and s["skipped"] == {"stats": 1, "reload": 1} and s["reloads"] == 1
ok = ok and s["seq_gaps"] == 1 and s["alerts"] == 1
sys.exit(0 if ok else 1)
PY
check "hostile: the one alert is the canary's, found by the raw bytes" "$PY" - "$S/rep" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])][0]
sys.exit(0 if a["type"] == "alert" and a["path_raw"][-1] == 255 else 1)
PY
check "hostile: the reload warning" grep -q "reload record" "$S/rep.err"
check "hostile: the malformed lines are told" grep -q "malformed line(s) skipped, the first at line 2" \
	"$S/rep.err"
finish
