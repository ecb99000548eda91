# Canary alerts (observe mode): opened / modified / renamed / deleted, glob patterns with
# FNM_PATHNAME, exact paths, alert fields, and the per-(process, kind) cooldown that still
# lets a more serious reason through.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
mkdir -p "$W/canary.d" "$W/sub"
echo secret >"$W/canary-open"
echo secret >"$W/canary-mod"
echo secret >"$W/canary-mv"
echo secret >"$W/canary-rm"
echo secret >"$W/canary.d/inner"
echo secret >"$W/exact"
echo secret >"$W/plain"
echo secret >"$W/sub/exact"
echo secret >"$W/canary-cool"
start_daemon --watch "$W" --watch "$W/canary.d" --canary "$W/canary*" --canary "$W/exact" \
	|| finish

hold_cat "$W/canary-open" || finish
echo more >>"$W/canary-mod"
mv "$W/canary-mv" "$W/moved-away"
mv "$W/plain" "$W/canary-to"
rm "$W/canary-rm"
cat "$W/canary.d/inner" >/dev/null
cat "$W/exact" >/dev/null
cat "$W/sub/exact" >/dev/null
# One process, same kind, within the cooldown: opened twice -> one alert; then deleted (more
# serious) -> not held back.
python3 - "$W/canary-cool" >"$S/cool.pid" <<'PY'
import os, sys
p = sys.argv[1]
print(os.getpid(), flush=True)
for _ in range(3):
    os.close(os.open(p, os.O_RDONLY))
os.unlink(p)
PY
COOL=$(cat "$S/cool.pid")
sentinel || finish

check "output is valid JSONL" $JSONL valid "$OUT"
check "open of a canary: alert 'canary opened'" has type=alert kind=canary path="$W/canary-open" \
	reason="canary opened" comm=cat
check "alert fields" has type=alert kind=canary path="$W/canary-open" schema_version=1 seq? ts_ms? \
	pid? 'exe~/cat$' job_id=null path_role=null
check "write to a canary: 'canary modified'" has type=alert kind=canary path="$W/canary-mod" \
	reason="canary modified" pid=$$
check "rename away from a canary name: 'canary renamed', old name" has type=alert kind=canary \
	path="$W/canary-mv" reason="canary renamed"
check "rename onto a canary name: 'canary renamed', new name" has type=alert kind=canary \
	path="$W/canary-to" reason="canary renamed"
check "delete of a canary: 'canary deleted'" has type=alert kind=canary path="$W/canary-rm" \
	reason="canary deleted"
check "exact-path canary" has type=alert kind=canary path="$W/exact" reason="canary opened"
check "'*' does not cross '/' (FNM_PATHNAME)" [ "$(count type=alert path="$W/canary.d/inner")" = 0 ]
check "the file under canary.d was seen (the absence means something)" \
	has type=event events~OPEN path="$W/canary.d/inner"
check "exact path does not match elsewhere" [ "$(count type=alert path="$W/sub/exact")" = 0 ]
check "no alert for plain files" [ "$(count type=alert path~'/(plain|moved-away)$')" = 0 ]
check "every alert has kind canary" [ "$(count type=alert kind!=canary)" = 0 ]
check "cooldown: 3 opens by one process, one 'opened' alert" \
	[ "$(count type=alert pid="$COOL" reason="canary opened")" = 1 ]
check "cooldown: the opens are recorded as events" \
	[ "$(count type=event pid="$COOL" events~OPEN path="$W/canary-cool")" -ge 1 ]
check "cooldown: a more serious reason (deleted) still alerts" \
	has type=alert pid="$COOL" reason="canary deleted" path="$W/canary-cool"
check "seq strictly increasing over events and alerts" python3 -c '
import json,sys
s=[json.loads(l)["seq"] for l in open(sys.argv[1])]
sys.exit(0 if all(b==a+1 for a,b in zip(s,s[1:])) else 1)' "$OUT"
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
