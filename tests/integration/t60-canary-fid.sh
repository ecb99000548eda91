# Canary alerts in observe FID mode: each trigger (opened, modified, renamed from and to a
# canary name, deleted) by a process of its own, with every alert field exact: type, kind,
# pid, comm, exe, path, reason, job_id, path_role, seq, ts_ms, schema_version, and nothing
# else (no count/window_ms). The alert follows the event that raised it (next seq, same
# ts_ms). '*' does not cross '/'; plain files and CREATE raise nothing.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup



mkdir -p "$W/canary-dir"
for f in canary-open canary-mod canary-tee canary-from canary-del canary-dir/inner plain plain-to \
	exact.db; do
	echo data >"$W/$f"
done
CAT=$(readlink -f "$(command -v cat)")
TEE=$(readlink -f "$(command -v tee)")
PYEXE=$(readlink -f "$PY")
MV=$(readlink -f "$(command -v mv)")
RM=$(readlink -f "$(command -v rm)")
T0=$(now_ms)
start_daemon --mount "$W" --canary "$W/canary-*" --canary "$W/exact.db" || finish

act open cat "$W/canary-open" >/dev/null
# open, wait until the open is reported, then write: two records, two alerts; the process
# lives until both alerts are out, so its attribution is certain
"$PY" - "$W/canary-mod" "$OUT" "$S/pid.mod" <<'PY'
import json, os, sys, time
path, out = sys.argv[1], sys.argv[2]
open(sys.argv[3], "w").write("%d\n" % os.getpid())
fd = os.open(path, os.O_WRONLY | os.O_APPEND)
def wait(pred):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if any(pred(json.loads(l)) for l in open(out, "rb")):
            return
        time.sleep(0.01)
me = os.getpid()
wait(lambda r: r.get("pid") == me and r.get("path") == path and "OPEN" in r.get("events", ""))
os.write(fd, b"more\n")
os.close(fd)
wait(lambda r: r.get("pid") == me and r.get("reason") == "canary modified")
PY
echo more | act tee tee -a "$W/canary-tee" >/dev/null
act from mv "$W/canary-from" "$W/renamed-away"
act to mv "$W/plain-to" "$W/canary-to"
act del rm "$W/canary-del"
act exact cat "$W/exact.db" >/dev/null
act inner cat "$W/canary-dir/inner" >/dev/null
act plain cat "$W/plain" >/dev/null
act create touch "$W/canary-new"
sentinel || finish
T1=$(now_ms)

check "output is valid JSONL" $JSONL valid "$OUT"
check "opened: alert with exact fields" alert_is "$(apid open)" "canary opened" \
	"$W/canary-open" kind=canary comm=cat exe="$CAT" job_id=null path_role=null
check "modified: the open alerts first" alert_is "$(apid mod)" "canary opened" \
	"$W/canary-mod" kind=canary exe=="$PYEXE"
check "modified: then 'canary modified' (more serious: not held back)" \
	alert_is "$(apid mod)" "canary modified" "$W/canary-mod" kind=canary exe=="$PYEXE" \
	job_id=null path_role=null
# tee's OPEN, MODIFY and CLOSE_WRITE may reach us merged in one record or apart: either
# way one 'canary modified' alert (CLOSE_WRITE after MODIFY is not more serious).
check "tee -a: one 'canary modified' alert" alert_is "$(apid tee)" "canary modified" \
	"$W/canary-tee" kind=canary comm=tee exe="$TEE" job_id=null path_role=null
check "renamed from a canary name: path is the old name" alert_is "$(apid from)" \
	"canary renamed" "$W/canary-from" kind=canary comm=mv exe="$MV" job_id=null path_role=null
check "renamed to a canary name: path is the new name" alert_is "$(apid to)" \
	"canary renamed" "$W/canary-to" kind=canary comm=mv exe="$MV"
check "deleted" alert_is "$(apid del)" "canary deleted" "$W/canary-del" kind=canary comm=rm \
	exe="$RM" job_id=null path_role=null
check "exact-path canary" alert_is "$(apid exact)" "canary opened" "$W/exact.db" kind=canary \
	comm=cat
check "'*' does not cross '/': no alert for canary-dir/inner" \
	[ "$(count type=alert pid="$(apid inner)")" = 0 ]
check "... though its open was reported" has type=event events~OPEN path="$W/canary-dir/inner" \
	pid="$(apid inner)"
check "plain file: no alert" [ "$(count type=alert pid="$(apid plain)")" = 0 ]
check "... though its open was reported" has type=event events~OPEN path="$W/plain"
check "the rename away: one alert in all" [ "$(count type=alert pid="$(apid from)")" = 1 ]
check "the delete: one alert in all" [ "$(count type=alert pid="$(apid del)")" = 1 ]
# touch: CREATE, then OPEN, ATTRIB, CLOSE_WRITE (often merged into one record): the most
# serious reason counts, and the CREATE record itself raises nothing.
check "touch of a new canary name: 'canary modified'" \
	alert_is "$(apid create)" "canary modified" "$W/canary-new" comm=touch
check "the CREATE record of the new canary raised no alert" "$PY" - "$OUT" "$(apid create)" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
pid = int(sys.argv[2])
create = [r for r in recs if r.get("pid") == pid and r.get("events") == "CREATE"]
seqs = {r["seq"]: r for r in recs}
nxt = seqs.get(create[0]["seq"] + 1) if create else None
sys.exit(0 if create and (nxt is None or nxt.get("type") != "alert") else 1)
PY
check "no alert without kind canary" [ "$(count type=alert kind!=canary)" = 0 ]
check "no alert carries count/window_ms" [ "$(count type=alert count?)" = 0 ]
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
