# Canary alerts in FD mode (--no-fid): an FD group reports opens and writes only, so a canary
# alerts when opened or modified, with the same exact alert fields as in FID mode; renames
# and deletes of canaries raise nothing here (no such events: see t12-nofid), which the
# test confirms, as it confirms the plain open beside them was reported.
. "$(dirname "$0")/lib.sh"
require_fanotify
setup



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
