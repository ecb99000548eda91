# Canary alerts in permission mode (--perm, without --deny-on-alert): an open is an
# OPEN_PERM event of the FD content group, answered allow, and raises 'canary opened';
# writes (MODIFY), renames and deletes come from the FID group beside it and raise 'canary
# modified', 'canary renamed' (either name) and 'canary deleted'. Every alert field exact.
# Then --perm --no-fid: opens and writes still alert; there is no FID group, so renames and
# deletes raise nothing.
. "$(dirname "$0")/lib.sh"
require_fanotify perm
require_fanotify fid
setup

setup_files() {
	for f in canary-open canary-mod canary-from canary-del plain plain-to; do
		echo data >"$W/$f"
	done
}
CAT=$(readlink -f "$(command -v cat)")
TEE=$(readlink -f "$(command -v tee)")
MV=$(readlink -f "$(command -v mv)")
RM=$(readlink -f "$(command -v rm)")

# --- --perm: FD content group + FID group ---------------------------------------------
setup_files
T0=$(now_ms)
start_daemon --perm --mount "$W" --canary "$W/canary-*" || finish
check "cat of a canary completes (allowed)" \
	[ "$(timeout 5 sh -c 'echo $$ >"$0"; exec cat "$1"' "$S/pid.open" "$W/canary-open")" = data ]
echo more | timeout 5 sh -c 'echo $$ >"$0"; exec tee -a "$1" >/dev/null' "$S/pid.mod" \
	"$W/canary-mod" || fail "tee -a on a canary did not complete"
timeout 5 sh -c 'echo $$ >"$0"; exec mv "$1" "$2"' "$S/pid.from" "$W/canary-from" \
	"$W/renamed-away" || fail "mv away from a canary did not complete"
timeout 5 sh -c 'echo $$ >"$0"; exec mv "$1" "$2"' "$S/pid.to" "$W/plain-to" \
	"$W/canary-to" || fail "mv onto a canary name did not complete"
timeout 5 sh -c 'echo $$ >"$0"; exec rm "$1"' "$S/pid.del" "$W/canary-del" \
	|| fail "rm of a canary did not complete"
timeout 5 sh -c 'echo $$ >"$0"; exec cat "$1"' "$S/pid.plain" "$W/plain" >/dev/null \
	|| fail "cat of a plain file did not complete"
for a in "opened open" "modified mod" "renamed from" "renamed to" "deleted del"; do
	waitrec type=alert "reason=canary ${a% *}" pid="$(apid "${a#* }")" ||
		fail "no 'canary ${a% *}' alert of '${a#* }' within 10 s"
done
psentinel || finish
T1=$(now_ms)

check "output is valid JSONL" $JSONL valid "$OUT"
check "opened: the open is OPEN_PERM, allowed" has type=event events~OPEN_PERM \
	path="$W/canary-open" pid="$(apid open)" decision=allow '!reason'
check "opened: alert with exact fields" alert_is "$(apid open)" "canary opened" \
	"$W/canary-open" kind=canary comm=cat exe="$CAT" job_id=null path_role=null
check "modified: alert with exact fields" alert_is "$(apid mod)" "canary modified" \
	"$W/canary-mod" kind=canary comm=tee exe="$TEE" job_id=null path_role=null
check "modified: the MODIFY record is observe" has type=event events~MODIFY \
	path="$W/canary-mod" pid="$(apid mod)" decision=observe
check "renamed from (FID group): path is the old name" alert_is "$(apid from)" \
	"canary renamed" "$W/canary-from" kind=canary comm=mv exe="$MV" job_id=null path_role=null
check "renamed to (FID group): path is the new name" alert_is "$(apid to)" "canary renamed" \
	"$W/canary-to" kind=canary comm=mv exe="$MV"
check "deleted (FID group)" alert_is "$(apid del)" "canary deleted" "$W/canary-del" \
	kind=canary comm=rm exe="$RM" job_id=null path_role=null
check "plain file: no alert" [ "$(count type=alert pid="$(apid plain)")" = 0 ]
check "... its OPEN_PERM was allowed" has type=event events~OPEN_PERM path="$W/plain" \
	decision=allow
check "nothing denied without --deny-on-alert" [ "$(count decision=deny)" = 0 ]
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --- --perm --no-fid: no FID group ---------------------------------------------------
OUT=$S/nofid.jsonl
rm -f "$W"/* "$S"/pid.*
setup_files
T0=$(now_ms)
start_daemon --perm --no-fid --mount "$W" --canary "$W/canary-*" || finish
timeout 5 sh -c 'echo $$ >"$0"; exec cat "$1"' "$S/pid.open" "$W/canary-open" >/dev/null \
	|| fail "no-fid: cat of a canary did not complete"
echo more | timeout 5 sh -c 'echo $$ >"$0"; exec tee -a "$1" >/dev/null' "$S/pid.mod" \
	"$W/canary-mod" || fail "no-fid: tee -a on a canary did not complete"
timeout 5 sh -c 'echo $$ >"$0"; exec mv "$1" "$2"' "$S/pid.from" "$W/canary-from" \
	"$W/renamed-away" || fail "no-fid: mv did not complete"
timeout 5 sh -c 'echo $$ >"$0"; exec rm "$1"' "$S/pid.del" "$W/canary-del" \
	|| fail "no-fid: rm did not complete"
waitrec type=alert reason="canary modified" pid="$(apid mod)" || fail "no-fid: no modified alert"
psentinel "$W" nofid || finish
T1=$(now_ms)
check "no-fid: opened" alert_is "$(apid open)" "canary opened" "$W/canary-open" kind=canary \
	comm=cat exe="$CAT"
check "no-fid: modified" alert_is "$(apid mod)" "canary modified" "$W/canary-mod" \
	kind=canary comm=tee
check "no-fid: rename raises nothing (no FID group)" \
	[ "$(count type=alert pid="$(apid from)")" = 0 ]
check "no-fid: delete raises nothing (no FID group)" \
	[ "$(count type=alert pid="$(apid del)")" = 0 ]
check "no-fid: no CREATE/DELETE/RENAME records at all" \
	[ "$(count 'events~CREATE|DELETE|RENAME')" = 0 ]
stop_daemon
check "no-fid: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
