# --perm --deny-on-alert: opening a canary fails with EPERM ("Operation not permitted") for
# the opener, for reads, appends and exec alike; its record says decision "deny" with the
# alert's reason; the alert is raised. Other files open normally (allow, no reason). The
# cooldown limits alerts, never decisions: one process opening the canary twice is denied
# twice and alerted once. Renames and deletes cannot be denied (no permission event) but
# alert. After the daemon stops, the canary opens again.
. "$(dirname "$0")/lib.sh"
require_fanotify perm
require_fanotify fid
setup
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"

apid() { cat "$S/pid.$1"; }

echo secret >"$W/canary-read"
echo secret >"$W/canary-append"
echo secret >"$W/canary-twice"
echo secret >"$W/canary-mv"
echo secret >"$W/canary-rm"
echo content >"$W/plain"
cp /bin/true "$W/canary-bin"
start_daemon --perm --deny-on-alert --mount "$W" --canary "$W/canary-*" || finish

# cat of a canary: exit status 1, EPERM's message, nothing read
rc=0
timeout 5 sh -c 'echo $$ >"$0"; exec cat "$1"' "$S/pid.read" "$W/canary-read" \
	>"$S/read.out" 2>"$S/read.err" || rc=$?
check "cat of a canary fails (status 1, got $rc)" [ "$rc" = 1 ]
check "... with 'Operation not permitted'" grep -q "Operation not permitted" "$S/read.err"
check "... and reads nothing" [ ! -s "$S/read.out" ]
check "its OPEN_PERM record: decision deny, reason 'canary opened'" \
	waitrec type=event events~OPEN_PERM path="$W/canary-read" pid="$(apid read)" \
	decision=deny "reason=canary opened" 'comm~^(cat|null)$'
check "its alert" waitrec type=alert kind=canary "reason=canary opened" \
	path="$W/canary-read" pid="$(apid read)" 'comm~^(cat|null)$'

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

# one process, two opens within the cooldown: two denials, one alert
timeout 10 "$PY" - "$W/canary-twice" "$S/pid.twice" >"$S/twice.out" <<'PY'
import errno, os, sys
open(sys.argv[2], "w").write("%d\n" % os.getpid())
res = []
for _ in range(2):
    try:
        os.close(os.open(sys.argv[1], os.O_RDONLY))
        res.append("opened")
    except OSError as e:
        res.append(errno.errorcode.get(e.errno, str(e.errno)))
print(" ".join(res))
PY
check "same process, two opens: both EPERM (got '$(cat "$S/twice.out")')" \
	[ "$(cat "$S/twice.out")" = "EPERM EPERM" ]
check "... two deny records" waitrec type=event events~OPEN_PERM path="$W/canary-twice" \
	pid="$(apid twice)" decision=deny
psentinel || finish
check "... exactly two deny records" [ "$(count type=event pid="$(apid twice)" \
	path="$W/canary-twice" decision=deny "reason=canary opened")" = 2 ]
check "... one alert (cooldown)" [ "$(count type=alert pid="$(apid twice)")" = 1 ]

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
check "output is valid JSONL" $JSONL valid "$OUT"
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
check "after the daemon stopped, the canary opens again" \
	[ "$(timeout 5 cat "$W/canary-read")" = secret ]
finish
