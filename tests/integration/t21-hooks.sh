# Alert hooks and the cooldown that limits alerts and hooks.
# Environment: each alert's hook gets FAN_KIND, FAN_PID, FAN_COMM, FAN_EXE, FAN_PATH,
# FAN_REASON (+ FAN_JOB_ID / FAN_PATH_ROLE when known, FAN_COUNT / FAN_WINDOW_MS /
# FAN_SCOPE / FAN_SCOPE_ID for bursts) and PATH, with values equal to the alert record's, and no other FAN_* variable;
# one hook per alert. The hook runs at nice 0 and without the daemon's 0.1 ms slice.
# Values travel only through the environment: canaries named `$(touch $S/pwned);x`,
# "nl<newline>`touch $S/pwned2`'\"x" and "canary-$(echo INJECTED)`echo INJECTED`;echo
# INJECTED" reach the hook byte for byte and run nothing.
# Cooldown (hook_cooldown_ms, default 5000, per process and alert kind): three canary opens
# by one process give one alert and one hook run; a more serious reason (opened -> modified,
# opened -> deleted) is not held back; with --hook-cooldown-ms 0 every open gives an alert
# and a hook run. Hook runs are counted in a log the hook appends to; "absent" is shown by a
# later alert's hook line. (The burst cooldown: t20; the cooldown never limits decisions:
# t19.)
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup

CAT=$(readlink -f "$(command -v cat)")
PYEXE=$(readlink -f "$PY")
# held NAME FILE: hold_cat FILE (alive until unhold, so its comm and exe are certain); its
# pid in $S/pid.NAME
held() { hold_cat "$2" && echo "$HELD" >"$S/pid.$1"; }

# --- the hook's environment ------------------------------------------------------------------
mkdir -p "$W/ws" "$W/cache" "$S/env"
echo data >"$W/canary1"
echo data >"$W/ws/canary-ws"
echo data >"$W/cache/canary-c"
for i in $(seq 0 9); do : >"$W/ws/f$i"; done
# Hostile names: the '/' inside $S makes them nested directories, which is fine.
HP1="$W/\$(touch $S/pwned);x"
HP2="$W/nl
\`touch $S/pwned2\`'\"x"
HP3="$W/canary-\$(echo INJECTED >&2)\`echo INJECTED >&2\`;echo INJECTED >&2"
for p in "$HP1" "$HP2" "$HP3"; do
	mkdir -p "$(dirname "$p")"
	echo data >"$p"
done

cat >"$S/conf" <<CONF
job J
workspace $W/ws
cache $W/cache
job K
cache $W/cache/
burst_threshold 5
burst_window_ms 2000
CONF
# The hook dumps its environment (NUL-separated), then HOOK_NICE and HOOK_SLICE (its nice
# value and, where the kernel shows it, its scheduler slice in ns), into $S/env/PID,
# atomically.
cat >"$S/hook.sh" <<'SH'
{
	env -0
	printf 'HOOK_NICE=%s\0HOOK_SLICE=%s\0' "$(cut -d' ' -f19 /proc/$$/stat)" \
		"$(sed -n 's/^se.slice *: *//p' /proc/$$/sched 2>/dev/null)"
} >"$1/$$.tmp" && mv "$1/$$.tmp" "$1/$$"
SH
HOOK="sh '$S/hook.sh' '$S/env'"
# 7 alerts come close together: --hook-max 16, so none is beyond the limit (beyond it an
# alert runs no hook, by design: t68) even when a loaded machine slows the hooks down
start_daemon -c "$S/conf" --mount "$W" --canary "$W/canary1" --canary "$W/ws/canary-*" \
	--canary "$W/cache/canary-*" --canary "$HP1" --canary "$HP2" --canary "$HP3" \
	--hook "$HOOK" --hook-max 16 || finish

# hook_env KIND PID [FAN_PATH]: the hook of the alert (KIND, PID) ran (waited for up to
# 10 s) with exactly the variables the alert record implies; FAN_PATH given as bytes.
hook_env() {
	"$PY" - "$OUT" "$S/env" "$@" <<'PY'
import json, os, sys, time
out, envdir, kind, pid = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
want_path = os.fsencode(sys.argv[5]) if len(sys.argv) > 5 else None
def load():
    envs = []
    for f in os.listdir(envdir):
        if f.endswith(".tmp"):
            continue
        data = open(os.path.join(envdir, f), "rb").read()
        envs.append(dict(kv.split(b"=", 1) for kv in data.split(b"\0") if kv))
    return [e for e in envs if e.get(b"FAN_KIND") == kind.encode()
            and e.get(b"FAN_PID") == pid.encode()]
deadline = time.monotonic() + 10
while not load() and time.monotonic() < deadline:
    time.sleep(0.02)
found = load()
alerts = [r for r in (json.loads(l) for l in open(out, "rb"))
          if r.get("type") == "alert" and r.get("kind") == kind and str(r.get("pid")) == pid]
if len(found) != 1 or len(alerts) != 1:
    print("# %d hook environments, %d alerts for %s/%s" % (len(found), len(alerts), kind, pid))
    sys.exit(1)
env, a = found[0], alerts[0]
def b(v):
    return v.encode("utf-8", "surrogateescape") if isinstance(v, str) else str(v).encode()
want = {b"FAN_KIND": b(a["kind"]), b"FAN_PID": b(a["pid"]), b"FAN_REASON": b(a["reason"])}
for key, field in ((b"FAN_COMM", "comm"), (b"FAN_EXE", "exe"), (b"FAN_PATH", "path"),
                   (b"FAN_JOB_ID", "job_id"), (b"FAN_PATH_ROLE", "path_role"),
                   (b"FAN_COUNT", "count"), (b"FAN_WINDOW_MS", "window_ms"),
                   (b"FAN_SCOPE", "scope"), (b"FAN_SCOPE_ID", "scope_id")):
    if a.get(field) is not None:
        want[key] = b(a[field])
got = {k: v for k, v in env.items() if k.startswith(b"FAN_")}
if got != want:
    print("# hook env %r\n# want     %r" % (got, want))
    sys.exit(1)
if want_path is not None and got[b"FAN_PATH"] != want_path:
    print("# FAN_PATH %r, want %r" % (got[b"FAN_PATH"], want_path))
    sys.exit(1)
if env.get(b"PATH") != b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin":
    print("# PATH %r" % env.get(b"PATH"))
    sys.exit(1)
PY
}
# hook_vars KIND PID VAR=VALUE|VAR!=VALUE|VAR...: the environment of the hook run for that
# alert has each VAR=VALUE exactly, no VAR!=VALUE, and lacks each bare VAR.
hook_vars() {
	"$PY" - "$S/env" "$@" <<'PY'
import os, sys
envdir, kind, pid = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
for f in os.listdir(envdir):
    if f.endswith(".tmp"):
        continue
    e = dict(kv.split(b"=", 1) for kv in open(os.path.join(envdir, f), "rb").read().split(b"\0")
             if kv)
    if e.get(b"FAN_KIND") == kind and e.get(b"FAN_PID") == pid:
        for kv in map(os.fsencode, sys.argv[4:]):
            if b"!=" in kv:
                k, v = kv.split(b"!=", 1)
                if e.get(k) == v:
                    print("# %r is %r" % (k, v))
                    sys.exit(1)
                continue
            k, eq, v = kv.partition(b"=")
            if eq and e.get(k) != v:
                print("# %r is %r, want %r" % (k, e.get(k), v))
                sys.exit(1)
            if not eq and k in e:
                print("# %r is set (%r), want it absent" % (k, e[k]))
                sys.exit(1)
        sys.exit(0)
sys.exit(1)
PY
}

held plain "$W/canary1" || finish
held ws "$W/ws/canary-ws" || finish
held cache "$W/cache/canary-c" || finish
held hp1 "$HP1" || finish
held hp2 "$HP2" || finish
held hp3 "$HP3" || finish
# the burst process lives until its alert is out, so its exe is certain
"$PY" - "$W/ws" "$S/pid.burst" "$OUT" <<'PY'
import json, os, sys, time
open(sys.argv[2], "w").write("%d\n" % os.getpid())
for i in range(10):
    with open("%s/f%d" % (sys.argv[1], i), "wb") as f:
        f.write(b"x")
deadline = time.monotonic() + 10
while time.monotonic() < deadline and not any(
        json.loads(l).get("pid") == os.getpid() and json.loads(l).get("kind") == "burst"
        for l in open(sys.argv[3], "rb")):
    time.sleep(0.01)
PY
sentinel || finish

check "output is valid JSONL" $JSONL valid "$OUT"
check "canary outside any job: hook env equals the alert" hook_env canary "$(apid plain)" \
	"$W/canary1"
check "... FAN_KIND, FAN_REASON, FAN_PID, FAN_COMM and FAN_EXE (of the live cat)" \
	hook_vars canary "$(apid plain)" FAN_KIND=canary "FAN_REASON=canary opened" \
	FAN_PID="$(apid plain)" FAN_COMM=cat FAN_EXE="$CAT"
check "... no FAN_JOB_ID, FAN_PATH_ROLE, FAN_COUNT, FAN_WINDOW_MS" hook_vars canary \
	"$(apid plain)" FAN_JOB_ID FAN_PATH_ROLE FAN_COUNT FAN_WINDOW_MS
check "canary in J's workspace: hook env equals the alert" hook_env canary "$(apid ws)" \
	"$W/ws/canary-ws"
check "... FAN_JOB_ID=J FAN_PATH_ROLE=workspace" hook_vars canary "$(apid ws)" FAN_JOB_ID=J \
	FAN_PATH_ROLE=workspace FAN_COMM=cat FAN_EXE="$CAT"
check "canary in the shared cache: hook env equals the alert" hook_env canary \
	"$(apid cache)" "$W/cache/canary-c"
check "... FAN_PATH_ROLE=cache, no FAN_JOB_ID" hook_vars canary "$(apid cache)" \
	FAN_PATH_ROLE=cache
check "... (no FAN_JOB_ID)" hook_vars canary "$(apid cache)" FAN_JOB_ID
check "hostile name \$(touch ...);x: FAN_PATH byte for byte" hook_env canary "$(apid hp1)" "$HP1"
check "hostile name with newline, backticks and quotes: FAN_PATH byte for byte" \
	hook_env canary "$(apid hp2)" "$HP2"
check "hostile name with \$(...), backticks and ';': FAN_PATH byte for byte" \
	hook_env canary "$(apid hp3)" "$HP3"
check "... its FAN_REASON, FAN_COMM and FAN_EXE" hook_vars canary "$(apid hp3)" \
	"FAN_REASON=canary opened" FAN_COMM=cat FAN_EXE="$CAT"
check "nothing in a name ran: no $S/pwned" [ ! -e "$S/pwned" ]
check "nothing in a name ran: no $S/pwned2" [ ! -e "$S/pwned2" ]
check "burst in J's workspace: hook env equals the alert" hook_env burst "$(apid burst)"
check "... FAN_COUNT=5 FAN_WINDOW_MS=2000 FAN_JOB_ID=J FAN_PATH_ROLE=workspace" \
	hook_vars burst "$(apid burst)" FAN_COUNT=5 FAN_WINDOW_MS=2000 FAN_JOB_ID=J \
	FAN_PATH_ROLE=workspace "FAN_REASON=$($JSONL get "$OUT" reason type=alert kind=burst)"
check "... FAN_EXE is the writer's python" hook_vars burst "$(apid burst)" FAN_EXE="$PYEXE"
check "the hook runs at nice 0, not the daemon's -4" hook_vars burst "$(apid burst)" \
	HOOK_NICE=0
check "the hook runs without the daemon's 0.1 ms slice" hook_vars burst "$(apid burst)" \
	HOOK_SLICE!=100000
check "one hook per alert" [ "$(ls "$S/env" | grep -vc '\.tmp$')" = "$(count type=alert)" ]
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
check "nothing in a name ran: no INJECTED in the daemon's log" eval '! grep -q INJECTED "$ERR"'
unhold

# --- the cooldown ----------------------------------------------------------------------------
mkdir -p "$W/cool"
echo data >"$W/cool/canary"
echo data >"$W/cool/canary-del"
echo data >"$W/cool/canary-esc"
echo data >"$W/cool/canary-late"
HOOK="echo \"\$FAN_PID \$FAN_REASON\" >>'$S/hooklog'"
# opens TAG PATH N [unlink]: one process opens PATH N times (read-only: OPEN only), each time
# once its earlier opens are in $OUT (unread events of one file and process would be merged);
# then, with "unlink", deletes it
opens() {
	"$PY" - "$2" "$S/pid.$1" "$OUT" "$3" "${4:-}" <<'PY'
import json, os, sys, time
p, out, n, unlink = sys.argv[1], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "unlink"
open(sys.argv[2], "w").write("%d\n" % os.getpid())
def opens_seen():
    return sum(1 for r in map(json.loads, open(out, "rb")) if r.get("pid") == os.getpid()
               and r.get("path") == p and "OPEN" in r.get("events", ""))
for i in range(n):
    os.close(os.open(p, os.O_RDONLY))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and opens_seen() <= i:
        time.sleep(0.01)
if unlink:
    os.unlink(p)
PY
}
# hook_lines PID [REASON]: lines the hook wrote for PID
hook_lines() { grep -c "^$1 ${2:-}" "$S/hooklog" 2>/dev/null || true; }
# wait_lines N PID [REASON]: a read with a deadline until the hook wrote N lines for PID
wait_lines() {
	local i
	for i in $(seq 1 500); do
		[ "$(hook_lines "$2" "${3:-}")" -ge "$1" ] && break
		sleep 0.02
	done
	[ "$(hook_lines "$2" "${3:-}")" = "$1" ]
}
# late: an alert of another process, whose hook line shows that earlier hooks had their turn
late() {
	act late cat "$W/cool/canary-late" >/dev/null
	sentinel "$W/cool" || return 1
	wait_lines 1 "$(apid late)" || { fail "the later alert's hook never ran"; return 1; }
}

# default cooldown
OUT=$S/cool.jsonl
start_daemon --watch "$W/cool" --canary "$W/cool/canary*" --hook "$HOOK" || finish
opens three "$W/cool/canary-del" 3 unlink
# escalation: open (read-only), then open for writing and write: 'opened' then 'modified'
"$PY" - "$W/cool/canary-esc" "$S/pid.esc" "$OUT" <<'PY'
import json, os, sys, time
p, out = sys.argv[1], sys.argv[3]
open(sys.argv[2], "w").write("%d\n" % os.getpid())
os.close(os.open(p, os.O_RDONLY))
# wait for our first alert so the write is a record of its own
deadline = time.monotonic() + 10
while time.monotonic() < deadline and not any(
        json.loads(l).get("pid") == os.getpid() and json.loads(l).get("type") == "alert"
        for l in open(out, "rb")):
    time.sleep(0.01)
fd = os.open(p, os.O_WRONLY | os.O_APPEND)
os.write(fd, b"x")
os.close(fd)
PY
late || finish
check "cooldown: three opens by one process: three OPEN records" \
	[ "$(count type=event events~OPEN pid="$(apid three)" path="$W/cool/canary-del")" = 3 ]
check "... one 'canary opened' alert" \
	[ "$(count type=alert pid="$(apid three)" "reason=canary opened")" = 1 ]
check "... one hook run for it" wait_lines 1 "$(apid three)" "canary opened"
check "... then the delete (more serious): 'canary deleted' alert and hook, not held back" \
	eval 'has type=alert pid="$(apid three)" "reason=canary deleted" path="$W/cool/canary-del" &&
		wait_lines 1 "$(apid three)" "canary deleted"'
check "... two alerts in all (opened, deleted)" [ "$(count type=alert pid="$(apid three)")" = 2 ]
check "escalation: 'canary opened' alert and hook" wait_lines 1 "$(apid esc)" "canary opened"
check "... then 'canary modified' alert and hook (not held back)" \
	wait_lines 1 "$(apid esc)" "canary modified"
check "... two alerts in all" [ "$(count type=alert pid="$(apid esc)")" = 2 ]
stop_daemon
check "cooldown: SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --hook-cooldown-ms 0
OUT=$S/nocool.jsonl
rm -f "$S/hooklog"
start_daemon --watch "$W/cool" --canary "$W/cool/canary*" --hook "$HOOK" --hook-cooldown-ms 0 \
	|| finish
opens two "$W/cool/canary" 2
late || finish
check "cooldown 0: two opens, two alerts" [ "$(count type=alert pid="$(apid two)")" = 2 ]
check "cooldown 0: two hook runs" wait_lines 2 "$(apid two)" "canary opened"
stop_daemon
check "cooldown 0: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
