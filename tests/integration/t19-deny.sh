# --perm --deny-on-alert: opening a canary fails with EPERM ("Operation not permitted") at
# once, never a hang, for reads, appends and exec alike; its record says decision "deny"
# with the alert's reason; the alert is raised. Other files open normally (allow, no
# reason), and no canary open is ever allowed. The cooldown limits alerts, never decisions:
# one process opening the canary five times is denied five times and alerted once. Renames
# and deletes cannot be denied (no permission event) but alert. After the daemon stops,
# the canary opens again. (Containment, denial after a burst: t22.)
. "$(dirname "$0")/lib.sh"
require_fanotify perm
require_fanotify fid
setup

echo secret >"$W/canary-read"
echo secret >"$W/canary-append"
echo secret >"$W/canary-five"
echo secret >"$W/canary-mv"
echo secret >"$W/canary-rm"
echo content >"$W/plain"
cp /bin/true "$W/canary-bin"
start_daemon --perm --deny-on-alert --mount "$W" --canary "$W/canary-*" || finish

# cat of a canary: exit status 1 (not a timeout's), EPERM's message, nothing read; cat is
# blocked in open() until answered, so its comm is certain
rc=0
timeout 5 sh -c 'echo $$ >"$0"; exec cat "$1"' "$S/pid.read" "$W/canary-read" \
	>"$S/read.out" 2>"$S/read.err" || rc=$?
check "cat of a canary fails (status 1, not a timeout: got $rc)" [ "$rc" = 1 ]
check "... with 'Operation not permitted'" grep -q "Operation not permitted" "$S/read.err"
check "... and reads nothing" [ ! -s "$S/read.out" ]
check "its OPEN_PERM record: decision deny, reason 'canary opened'" \
	waitrec type=event events~OPEN_PERM path="$W/canary-read" pid="$(apid read)" \
	decision=deny "reason=canary opened" comm=cat
check "its alert" waitrec type=alert kind=canary "reason=canary opened" \
	path="$W/canary-read" pid="$(apid read)" comm=cat

# append to a canary: refused, content unchanged
rc=0
timeout 5 sh -c 'echo $$ >"$0"; echo x >>"$1"' "$S/pid.append" "$W/canary-append" \
	2>"$S/append.err" || rc=$?
check "append to a canary fails (status 1 or 2, got $rc)" [ "$rc" = 1 -o "$rc" = 2 ]
check "... with 'Operation not permitted'" grep -q "Operation not permitted" "$S/append.err"
check "append record: deny" waitrec type=event events~OPEN_PERM path="$W/canary-append" \
	decision=deny "reason=canary opened"

# exec of a canary binary: OPEN_EXEC_PERM denied
rc=0
timeout 5 sh -c 'echo $$ >"$0"; exec "$1"' "$S/pid.exec" "$W/canary-bin" \
	2>"$S/exec.err" || rc=$?
check "exec of a canary fails (status 126, got $rc)" [ "$rc" = 126 ]
check "... with 'Operation not permitted'" grep -q "Operation not permitted" "$S/exec.err"
check "exec record: OPEN_EXEC_PERM deny" waitrec type=event events~OPEN_EXEC_PERM \
	path="$W/canary-bin" decision=deny "reason=canary opened"

# other files: allowed, no reason
check "cat of a plain file completes" [ "$(timeout 5 cat "$W/plain")" = content ]
check "plain file: allow without reason" waitrec type=event events~OPEN_PERM path="$W/plain" \
	decision=allow '!reason'
check "a new file can be created and read" timeout 5 sh -c 'echo new >"$1" && cat "$1" >/dev/null' \
	sh "$W/new"

# one process, five opens within the cooldown: five denials, one alert
timeout 10 "$PY" - "$W/canary-five" "$S/pid.five" >"$S/five.out" <<'PY'
import errno, os, sys
open(sys.argv[2], "w").write("%d\n" % os.getpid())
res = []
for _ in range(5):
    try:
        os.close(os.open(sys.argv[1], os.O_RDONLY))
        res.append("opened")
    except OSError as e:
        res.append(errno.errorcode.get(e.errno, str(e.errno)))
print(" ".join(res))
PY
check "same process, five opens: all EPERM (got '$(cat "$S/five.out")')" \
	[ "$(cat "$S/five.out")" = "EPERM EPERM EPERM EPERM EPERM" ]
psentinel || finish
check "... exactly five deny records" [ "$(count type=event events~OPEN_PERM pid="$(apid five)" \
	path="$W/canary-five" decision=deny "reason=canary opened")" = 5 ]
check "... one alert (cooldown)" [ "$(count type=alert pid="$(apid five)")" = 1 ]

# rename and delete: not permission events, so not denied, but alerted
check "mv of a canary completes" timeout 5 sh -c 'echo $$ >"$0"; exec mv "$1" "$2"' \
	"$S/pid.mv" "$W/canary-mv" "$W/moved"
check "rm of a canary completes" timeout 5 sh -c 'echo $$ >"$0"; exec rm "$1"' \
	"$S/pid.rm" "$W/canary-rm"
check "rename alert" waitrec type=alert "reason=canary renamed" path="$W/canary-mv" \
	pid="$(apid mv)"
check "delete alert" waitrec type=alert "reason=canary deleted" path="$W/canary-rm" \
	pid="$(apid rm)"
check "rename and delete records are observe" \
	[ "$(count type=event 'events~RENAME|DELETE' decision!=observe)" = 0 ]
psentinel || finish
check "every deny record has a reason" [ "$(count decision=deny '!reason')" = 0 ]
check "only canaries were denied" [ "$(count decision=deny 'path~^(?!'"$W"'/canary-)')" = 0 ]
check "only with reason 'canary opened'" [ "$(count decision=deny 'reason!=canary opened')" = 0 ]
check "every allow record has no reason" [ "$(count decision=allow reason?)" = 0 ]
check "no canary open was allowed" [ "$(count decision=allow "path^=$W/canary-")" = 0 ]
check "output is valid JSONL" $JSONL valid "$OUT"
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
check "after the daemon stopped, the canary opens again" \
	[ "$(timeout 5 cat "$W/canary-read")" = secret ]
finish
