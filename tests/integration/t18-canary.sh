# Canary alerts without --deny-on-alert (denial: t19; the cooldown on a process's repeated
# alerts: t21). Each trigger comes from a process of its own, and every alert is checked
# field by field (alert_is): type, kind, pid, comm, exe, path, reason, job_id, path_role,
# seq, ts_ms, schema_version and nothing else (no count/window_ms); the alert follows the
# event that raised it (next seq, same ts_ms).
#   FID, once with --watch marks and once with --mount: opened, modified, renamed (from and
#     to a canary name: the canary's name is the path), deleted; glob and exact-path
#     canaries; '*' does not cross '/' (FNM_PATHNAME); an exact path matches nowhere else;
#     plain files and the CREATE of a new canary name raise nothing.
#   --no-fid: an FD group reports opens and writes only, so a canary alerts when opened or
#     modified; renames and deletes raise nothing (no such events: see t12-nofid).
#   --perm: an open is an OPEN_PERM event of the FD content group, answered allow, and
#     raises 'canary opened'; writes, renames and deletes come from the FID group beside it.
#     --perm --no-fid: opens and writes still alert; renames and deletes raise nothing.
# Every absence is shown beside a record of the same process that did arrive.
. "$(dirname "$0")/lib.sh"
require_fanotify
HAVE_FID=0
have_fanotify fid && HAVE_FID=1	# else one SKIP line for the FID and --perm FID parts
setup

CAT=$(readlink -f "$(command -v cat)")
TEE=$(readlink -f "$(command -v tee)")
PYEXE=$(readlink -f "$PY")
MV=$(readlink -f "$(command -v mv)")
RM=$(readlink -f "$(command -v rm)")
# files NAME...: a fresh $W holding each NAME (with its directory), and no pid notes.
files() {
	local f
	rm -rf "${W:?}"/* "$S"/pid.*
	for f in "$@"; do
		mkdir -p "$(dirname "$W/$f")"
		echo data >"$W/$f"
	done
}
# none FILTER...: no record matches
none() { [ "$(count "$@")" = 0 ]; }
# timed NAME CMD...: act under a 5 s timeout (an open waiting on a permission answer)
timed() { local n=$1; shift; timeout 5 sh -c 'echo $$ >"$0"; exec "$@"' "$S/pid.$n" "$@"; }

# --- FID: --watch and --mount -------------------------------------------------------------
fid_part() {
	local m=$1 marks
	OUT=$S/$m.jsonl
	files canary-open canary-mod canary-tee canary-from canary-del canary-dir/inner plain \
		plain-to exact.db sub/exact.db
	if [ "$m" = watch ]; then
		marks="--watch $W --watch $W/canary-dir --watch $W/sub"
	else
		marks="--mount $W"
	fi
	T0=$(now_ms)
	# shellcheck disable=SC2086
	start_daemon $marks --canary "$W/canary-*" --canary "$W/exact.db" || finish

	# cat stays alive until unhold: its comm and exe are certain
	hold_cat "$W/canary-open" || finish
	echo "$HELD" >"$S/pid.open"
	# open, wait until the open is reported, then write: two records, two alerts; the
	# process lives until both alerts are out, so its attribution is certain
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
	act subexact cat "$W/sub/exact.db" >/dev/null
	act inner cat "$W/canary-dir/inner" >/dev/null
	act plain cat "$W/plain" >/dev/null
	act create touch "$W/canary-new"
	sentinel || finish
	T1=$(now_ms)

	check "$m: output is valid JSONL" $JSONL valid "$OUT"
	check "$m: opened: alert with exact fields (comm and exe of the live cat)" \
		alert_is "$(apid open)" "canary opened" "$W/canary-open" kind=canary comm==cat \
		exe=="$CAT" job_id=null path_role=null
	check "$m: modified: the open alerts first" alert_is "$(apid mod)" "canary opened" \
		"$W/canary-mod" kind=canary exe=="$PYEXE"
	check "$m: modified: then 'canary modified' (more serious: not held back)" \
		alert_is "$(apid mod)" "canary modified" "$W/canary-mod" kind=canary \
		exe=="$PYEXE" job_id=null path_role=null
	# tee's OPEN, MODIFY and CLOSE_WRITE may reach us merged in one record or apart: either
	# way one 'canary modified' alert (CLOSE_WRITE after MODIFY is not more serious).
	check "$m: tee -a: one 'canary modified' alert" alert_is "$(apid tee)" "canary modified" \
		"$W/canary-tee" kind=canary comm=tee exe="$TEE" job_id=null path_role=null
	check "$m: renamed from a canary name: path is the old name" alert_is "$(apid from)" \
		"canary renamed" "$W/canary-from" kind=canary comm=mv exe="$MV" job_id=null \
		path_role=null
	check "$m: renamed to a canary name: path is the new name" alert_is "$(apid to)" \
		"canary renamed" "$W/canary-to" kind=canary comm=mv exe="$MV"
	check "$m: deleted" alert_is "$(apid del)" "canary deleted" "$W/canary-del" \
		kind=canary comm=rm exe="$RM" job_id=null path_role=null
	check "$m: exact-path canary" alert_is "$(apid exact)" "canary opened" "$W/exact.db" \
		kind=canary comm=cat
	check "$m: an exact path matches nowhere else: no alert for sub/exact.db" \
		none type=alert pid="$(apid subexact)"
	check "$m: ... though its open was reported" has type=event events~OPEN \
		path="$W/sub/exact.db" pid="$(apid subexact)"
	check "$m: '*' does not cross '/': no alert for canary-dir/inner (by pid or path)" \
		eval 'none type=alert pid="$(apid inner)" && none type=alert path="$W/canary-dir/inner"'
	check "$m: ... though its open was reported" has type=event events~OPEN \
		path="$W/canary-dir/inner" pid="$(apid inner)"
	check "$m: plain file: no alert" none type=alert pid="$(apid plain)"
	check "$m: ... though its open was reported" has type=event events~OPEN path="$W/plain"
	check "$m: no alert names a plain file (plain, renamed-away, plain-to)" \
		none type=alert "path~/(plain|renamed-away|plain-to)$"
	check "$m: the rename away: one alert in all" [ "$(count type=alert pid="$(apid from)")" = 1 ]
	check "$m: the delete: one alert in all" [ "$(count type=alert pid="$(apid del)")" = 1 ]
	# touch: CREATE, then OPEN, ATTRIB, CLOSE_WRITE (often merged into one record): the most
	# serious reason counts, and the CREATE record itself raises nothing.
	check "$m: touch of a new canary name: 'canary modified'" \
		alert_is "$(apid create)" "canary modified" "$W/canary-new" comm=touch
	check "$m: the CREATE record of the new canary raised no alert" \
		"$PY" - "$OUT" "$(apid create)" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
pid = int(sys.argv[2])
create = [r for r in recs if r.get("pid") == pid and r.get("events") == "CREATE"]
seqs = {r["seq"]: r for r in recs}
nxt = seqs.get(create[0]["seq"] + 1) if create else None
sys.exit(0 if create and (nxt is None or nxt.get("type") != "alert") else 1)
PY
	check "$m: no alert without kind canary" none type=alert kind!=canary
	check "$m: no alert carries count/window_ms" none type=alert count?
	check "$m: seq contiguous over events and alerts" "$PY" -c '
import json, sys
s = [json.loads(l)["seq"] for l in open(sys.argv[1])]
sys.exit(0 if all(b == a + 1 for a, b in zip(s, s[1:])) else 1)' "$OUT"
	stop_daemon
	check "$m: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
	unhold
}
if [ $HAVE_FID = 1 ]; then
	fid_part watch
	fid_part mount
fi

# --- --no-fid: FD group --------------------------------------------------------------------
OUT=$S/nofid.jsonl
files canary-open canary-mod canary-from canary-del plain
T0=$(now_ms)
start_daemon --no-fid --watch "$W" --canary "$W/canary-*" || finish
act open cat "$W/canary-open" >/dev/null
# tee -a: OPEN then MODIFY (+ CLOSE_WRITE), merged or apart: one 'modified' alert
echo more | act mod tee -a "$W/canary-mod" >/dev/null
act from mv "$W/canary-from" "$W/renamed-away"
act del rm "$W/canary-del"
act plain cat "$W/plain" >/dev/null
sentinel || finish
T1=$(now_ms)
check "no-fid: output is valid JSONL" $JSONL valid "$OUT"
check "no-fid: opened: alert with exact fields" alert_is "$(apid open)" "canary opened" \
	"$W/canary-open" kind=canary comm=cat exe="$CAT" job_id=null path_role=null
check "no-fid: modified: 'canary modified' with exact fields" alert_is "$(apid mod)" \
	"canary modified" "$W/canary-mod" kind=canary comm=tee exe="$TEE" job_id=null \
	path_role=null
check "no-fid: the write itself was reported (MODIFY)" has type=event events~MODIFY \
	path="$W/canary-mod" pid="$(apid mod)"
check "no-fid: rename of a canary: no alert in FD mode" none type=alert pid="$(apid from)"
check "no-fid: delete of a canary: no alert in FD mode" none type=alert pid="$(apid del)"
check "no-fid: plain file: no alert" none type=alert pid="$(apid plain)"
check "no-fid: ... though its open was reported" has type=event events~OPEN path="$W/plain" \
	pid="$(apid plain)"
check "no-fid: every alert is a canary open or modify" \
	none type=alert 'reason!=canary opened' 'reason!=canary modified'
stop_daemon
check "no-fid: SIGTERM exits 0" [ "$DSTATUS" = 0 ]

have_fanotify perm || finish
# --- --perm: FD content group + FID group --------------------------------------------------
if [ $HAVE_FID = 1 ]; then
	OUT=$S/perm.jsonl
	files canary-open canary-mod canary-from canary-del plain plain-to
	T0=$(now_ms)
	start_daemon --perm --mount "$W" --canary "$W/canary-*" || finish
	check "perm: cat of a canary completes (allowed)" \
		[ "$(timed open cat "$W/canary-open")" = data ]
	echo more | timed mod tee -a "$W/canary-mod" >/dev/null ||
		fail "perm: tee -a on a canary did not complete"
	timed from mv "$W/canary-from" "$W/renamed-away" ||
		fail "perm: mv away from a canary did not complete"
	timed to mv "$W/plain-to" "$W/canary-to" || fail "perm: mv onto a canary name did not complete"
	timed del rm "$W/canary-del" || fail "perm: rm of a canary did not complete"
	timed plain cat "$W/plain" >/dev/null || fail "perm: cat of a plain file did not complete"
	for a in "opened open" "modified mod" "renamed from" "renamed to" "deleted del"; do
		waitrec type=alert "reason=canary ${a% *}" pid="$(apid "${a#* }")" ||
			fail "perm: no 'canary ${a% *}' alert of '${a#* }' within 10 s"
	done
	psentinel || finish
	T1=$(now_ms)
	check "perm: output is valid JSONL" $JSONL valid "$OUT"
	check "perm: opened: the open is OPEN_PERM, allowed" has type=event events~OPEN_PERM \
		path="$W/canary-open" pid="$(apid open)" decision=allow '!reason'
	check "perm: opened: alert with exact fields" alert_is "$(apid open)" "canary opened" \
		"$W/canary-open" kind=canary comm=cat exe="$CAT" job_id=null path_role=null
	check "perm: modified: alert with exact fields" alert_is "$(apid mod)" "canary modified" \
		"$W/canary-mod" kind=canary comm=tee exe="$TEE" job_id=null path_role=null
	check "perm: modified: the MODIFY record is observe" has type=event events~MODIFY \
		path="$W/canary-mod" pid="$(apid mod)" decision=observe
	check "perm: renamed from (FID group): path is the old name" alert_is "$(apid from)" \
		"canary renamed" "$W/canary-from" kind=canary comm=mv exe="$MV" job_id=null \
		path_role=null
	check "perm: renamed to (FID group): path is the new name" alert_is "$(apid to)" \
		"canary renamed" "$W/canary-to" kind=canary comm=mv exe="$MV"
	check "perm: deleted (FID group)" alert_is "$(apid del)" "canary deleted" "$W/canary-del" \
		kind=canary comm=rm exe="$RM" job_id=null path_role=null
	check "perm: plain file: no alert" none type=alert pid="$(apid plain)"
	check "perm: ... its OPEN_PERM was allowed" has type=event events~OPEN_PERM \
		path="$W/plain" decision=allow
	check "perm: nothing denied without --deny-on-alert" none decision=deny
	stop_daemon
	check "perm: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
fi

# --- --perm --no-fid: no FID group ---------------------------------------------------------
OUT=$S/perm-nofid.jsonl
files canary-open canary-mod canary-from canary-del
T0=$(now_ms)
start_daemon --perm --no-fid --mount "$W" --canary "$W/canary-*" || finish
timed open cat "$W/canary-open" >/dev/null || fail "perm --no-fid: cat of a canary did not complete"
echo more | timed mod tee -a "$W/canary-mod" >/dev/null ||
	fail "perm --no-fid: tee -a on a canary did not complete"
timed from mv "$W/canary-from" "$W/renamed-away" || fail "perm --no-fid: mv did not complete"
timed del rm "$W/canary-del" || fail "perm --no-fid: rm did not complete"
waitrec type=alert reason="canary modified" pid="$(apid mod)" ||
	fail "perm --no-fid: no modified alert"
psentinel "$W" nofid || finish
T1=$(now_ms)
check "perm --no-fid: opened" alert_is "$(apid open)" "canary opened" "$W/canary-open" \
	kind=canary comm=cat exe="$CAT"
check "perm --no-fid: modified" alert_is "$(apid mod)" "canary modified" "$W/canary-mod" \
	kind=canary comm=tee
check "perm --no-fid: rename raises nothing (no FID group)" none type=alert pid="$(apid from)"
check "perm --no-fid: delete raises nothing (no FID group)" none type=alert pid="$(apid del)"
check "perm --no-fid: no CREATE/DELETE/RENAME records at all" none 'events~CREATE|DELETE|RENAME'
stop_daemon
check "perm --no-fid: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
