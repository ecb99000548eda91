# Hook environment: each alert's hook gets FAN_KIND, FAN_PID, FAN_COMM, FAN_EXE, FAN_PATH,
# FAN_REASON (+ FAN_JOB_ID / FAN_PATH_ROLE when known, FAN_COUNT / FAN_WINDOW_MS for
# bursts) and PATH, with values equal to the alert record's, and no other FAN_* variable.
# Values travel only through the environment: canaries named `$(touch $S/pwned);x` and
# "nl<newline>`touch $S/pwned2`'\"x" reach the hook byte for byte and run nothing.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"

act() { local n=$1; shift; sh -c 'echo $$ >"$0"; exec "$@"' "$S/pid.$n" "$@"; }
apid() { cat "$S/pid.$1"; }

mkdir -p "$W/ws" "$W/cache" "$S/env"
echo data >"$W/canary1"
echo data >"$W/ws/canary-ws"
echo data >"$W/cache/canary-c"
for i in $(seq 0 9); do : >"$W/ws/f$i"; done
# Hostile names: the '/' inside $S makes them nested directories, which is fine.
HP1="$W/\$(touch $S/pwned);x"
HP2="$W/nl
\`touch $S/pwned2\`'\"x"
for p in "$HP1" "$HP2"; do
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
# The hook dumps its environment (NUL-separated) into $S/env/PID, atomically.
HOOK="env -0 >'$S/env/'\$\$.tmp && mv '$S/env/'\$\$.tmp '$S/env/'\$\$"
start_daemon -c "$S/conf" --mount "$W" --canary "$W/canary1" --canary "$W/ws/canary-*" \
	--canary "$W/cache/canary-*" --canary "$HP1" --canary "$HP2" --hook "$HOOK" || finish

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
                   (b"FAN_COUNT", "count"), (b"FAN_WINDOW_MS", "window_ms")):
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
# hook_vars KIND PID VAR=VALUE|VAR...: the environment of the hook run for that alert has
# each VAR=VALUE exactly and lacks each bare VAR.
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

act plain cat "$W/canary1" >/dev/null
act ws cat "$W/ws/canary-ws" >/dev/null
act cache cat "$W/cache/canary-c" >/dev/null
act hp1 cat "$HP1" >/dev/null
act hp2 cat "$HP2" >/dev/null
"$PY" - "$W/ws" "$S/pid.burst" <<'PY'
import os, sys
open(sys.argv[2], "w").write("%d\n" % os.getpid())
for i in range(10):
    with open("%s/f%d" % (sys.argv[1], i), "wb") as f:
        f.write(b"x")
PY
sentinel || finish

check "output is valid JSONL" $JSONL valid "$OUT"
check "canary outside any job: hook env equals the alert" hook_env canary "$(apid plain)" \
	"$W/canary1"
# (FAN_COMM/FAN_EXE equal the record's comm/exe above; cat may be gone, and both unknown,
# by the time its event is read)
check "... FAN_KIND/FAN_REASON/FAN_PID values" hook_vars canary "$(apid plain)" \
	FAN_KIND=canary "FAN_REASON=canary opened" FAN_PID="$(apid plain)"
check "... no FAN_JOB_ID, FAN_PATH_ROLE, FAN_COUNT, FAN_WINDOW_MS" hook_vars canary \
	"$(apid plain)" FAN_JOB_ID FAN_PATH_ROLE FAN_COUNT FAN_WINDOW_MS
check "canary in J's workspace: hook env equals the alert" hook_env canary "$(apid ws)" \
	"$W/ws/canary-ws"
check "... FAN_JOB_ID=J FAN_PATH_ROLE=workspace" hook_vars canary "$(apid ws)" FAN_JOB_ID=J \
	FAN_PATH_ROLE=workspace
check "canary in the shared cache: hook env equals the alert" hook_env canary \
	"$(apid cache)" "$W/cache/canary-c"
check "... FAN_PATH_ROLE=cache, no FAN_JOB_ID" hook_vars canary "$(apid cache)" \
	FAN_PATH_ROLE=cache
check "... (no FAN_JOB_ID)" hook_vars canary "$(apid cache)" FAN_JOB_ID
check "hostile name \$(touch ...);x: FAN_PATH byte for byte" hook_env canary "$(apid hp1)" "$HP1"
check "hostile name with newline, backticks and quotes: FAN_PATH byte for byte" \
	hook_env canary "$(apid hp2)" "$HP2"
check "nothing in a name ran: no $S/pwned" [ ! -e "$S/pwned" ]
check "nothing in a name ran: no $S/pwned2" [ ! -e "$S/pwned2" ]
check "burst in J's workspace: hook env equals the alert" hook_env burst "$(apid burst)"
check "... FAN_COUNT=5 FAN_WINDOW_MS=2000 FAN_JOB_ID=J FAN_PATH_ROLE=workspace" \
	hook_vars burst "$(apid burst)" FAN_COUNT=5 FAN_WINDOW_MS=2000 FAN_JOB_ID=J \
	FAN_PATH_ROLE=workspace "FAN_REASON=$($JSONL get "$OUT" reason type=alert kind=burst)"
check "one hook per alert" [ "$(ls "$S/env" | grep -vc '\.tmp$')" = "$(count type=alert)" ]
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
