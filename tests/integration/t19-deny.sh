# --perm --deny-on-alert: a canary open is answered FAN_DENY (the opener gets EPERM at once,
# never a hang) and recorded with decision "deny" and a reason; every other permission event
# is allowed; the cooldown limits alerts, never decisions. Containment: after a burst alert
# a process's permission events are denied for quarantine_ms.
. "$(dirname "$0")/lib.sh"
require_fanotify perm
require_fanotify fid
setup

echo secret >"$W/canary"
echo fine >"$W/plain"
cp /bin/true "$W/canary-exe"
start_daemon --perm --deny-on-alert --watch "$W" --canary "$W/canary*" || finish

rc=0
timeout 5 cat "$W/canary" >/dev/null 2>"$S/cat.err" || rc=$?
check "open of a canary fails (status 1, not a timeout: got $rc)" [ "$rc" = 1 ]
check "the opener gets EPERM" grep -q "Operation not permitted" "$S/cat.err"
check "denied open: record with decision deny and reason" \
	waitrec type=event events~OPEN_PERM path="$W/canary" decision=deny reason="canary opened" comm=cat
check "denied open: canary alert" waitrec type=alert kind=canary path="$W/canary" reason="canary opened"
check "plain file: open allowed" [ "$(timeout 5 cat "$W/plain")" = fine ]
check "plain file: decision allow, no reason" waitrec type=event events~OPEN_PERM path="$W/plain" \
	decision=allow '!reason'
rc=0
timeout 5 "$W/canary-exe" 2>/dev/null || rc=$?
check "exec of a canary binary is refused (got $rc)" [ "$rc" = 126 ]
check "denied exec recorded" waitrec type=event path="$W/canary-exe" decision=deny
# The cooldown never limits decisions: one process opening a canary 5 times is denied 5 times.
python3 - "$W/canary" >"$S/five" <<'PY'
import os, sys
print(os.getpid())
denied = 0
for _ in range(5):
    try:
        os.close(os.open(sys.argv[1], os.O_RDONLY))
    except PermissionError:
        denied += 1
print(denied)
PY
FIVE=$(sed -n 1p "$S/five")
check "5 opens by one process: 5 EPERM" [ "$(sed -n 2p "$S/five")" = 5 ]
check "5 opens by one process: 5 deny records" \
	waitrec type=event pid="$FIVE" decision=deny path="$W/canary"
check "5 opens by one process: exactly 5 deny records" \
	[ "$(count type=event pid="$FIVE" decision=deny path="$W/canary")" = 5 ]
check "5 opens by one process: one alert (cooldown)" \
	[ "$(count type=alert pid="$FIVE" kind=canary reason="canary opened")" = 1 ]
check "no allow for any canary open" [ "$(count type=event path="$W/canary" decision=allow)" = 0 ]
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
check "after the daemon stopped, the canary opens again" [ "$(timeout 5 cat "$W/canary")" = secret ]

# Containment: --burst-threshold 10 with a long quarantine. One process creates 40 files,
# opening each: after its burst alert, its opens are denied.
OUT=$S/contain.jsonl
mkdir -p "$W/data"
start_daemon --perm --deny-on-alert --mount "$W" --burst-threshold 10 --burst-window-ms 10000 \
	--quarantine-ms 20000 || finish
python3 - "$W/data" >"$S/burst" <<'PY'
import os, sys
d = sys.argv[1]
print(os.getpid())
ok = denied = 0
for i in range(40):
    try:
        with open("%s/f%d" % (d, i), "w") as f:
            f.write("x")
        ok += 1
    except PermissionError:
        denied += 1
print(ok, denied)
PY
BURST=$(sed -n 1p "$S/burst")
read -r NOK NDENIED <<<"$(sed -n 2p "$S/burst")"
check "burst: alert with count and window" waitrec type=alert kind=burst pid="$BURST" count=10 window_ms=10000
check "burst: the process is stopped early ($NOK of 40 files written)" [ "${NOK:-40}" -lt 40 ]
check "burst: its later opens are denied ($NDENIED EPERM)" [ "${NDENIED:-0}" -gt 0 ]
check "burst: denials recorded with reason 'quarantined after burst'" \
	waitrec type=event pid="$BURST" decision=deny reason="quarantined after burst"
check "burst: another process is still allowed" timeout 5 sh -c 'echo y >"$1"' sh "$W/data/other"
check "burst: and recorded allow" waitrec type=event path="$W/data/other" events~OPEN_PERM decision=allow
stop_daemon
check "containment daemon: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
