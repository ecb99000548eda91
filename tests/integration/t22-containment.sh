# Containment: under --perm --deny-on-alert a process's burst alert quarantines it, and its
# permission events are denied (decision deny, reason "quarantined after burst") for
# quarantine_ms; other processes are not affected.
#   Command-line options (--burst-threshold 10 --burst-window-ms 10000 --quarantine-ms
#     20000): a process creating 40 files is stopped early, its later opens fail with EPERM.
#   A config file (burst_threshold 32, a job workspace, default window and quarantine): a
#     ransomware-style process (read a file, overwrite it, rename it to .enc, next file)
#     works through 1000 files. The test prints how many it changed before it was stopped
#     ("# containment: N of 1000") and requires N < 1000 and N <= 3 * 32; the disk agrees
#     with the process's own count; the alert and the denials carry the job's tags.
. "$(dirname "$0")/lib.sh"
require_fanotify perm
require_fanotify fid
setup

# --- command-line options ---------------------------------------------------------------
OUT=$S/flags.jsonl
mkdir -p "$W/data"
start_daemon --perm --deny-on-alert --mount "$W" --burst-threshold 10 --burst-window-ms 10000 \
	--quarantine-ms 20000 || finish
"$PY" - "$W/data" >"$S/burst" <<'PY'
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
check "flags: burst alert with count and window" waitrec type=alert kind=burst pid="$BURST" \
	count=10 window_ms=10000
check "flags: the process is stopped early ($NOK of 40 files written)" [ "${NOK:-40}" -lt 40 ]
check "flags: its later opens are denied ($NDENIED EPERM)" [ "${NDENIED:-0}" -gt 0 ]
check "flags: denials recorded with reason 'quarantined after burst'" \
	waitrec type=event pid="$BURST" decision=deny reason="quarantined after burst"
check "flags: another process is still allowed" timeout 5 sh -c 'echo y >"$1"' sh "$W/data/other"
check "flags: and recorded allow" waitrec type=event path="$W/data/other" events~OPEN_PERM \
	decision=allow
stop_daemon
check "flags: SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --- config file: a ransomware-style process in a job workspace ------------------------------
OUT=$S/out.jsonl
N_FILES=1000
THRESHOLD=32
mkdir -p "$W/ws"
"$PY" - "$W/ws" "$N_FILES" <<'PY'
import sys
for i in range(int(sys.argv[2])):
    with open("%s/f%04d" % (sys.argv[1], i), "w") as f:
        f.write("file %d\n" % i)
PY
cat >"$S/conf" <<CONF
perm 1
deny_on_alert 1
burst_threshold $THRESHOLD
job J
workspace $W/ws
mount $W
CONF
start_daemon -c "$S/conf" || finish

timeout 60 "$PY" - "$W/ws" "$N_FILES" "$S/pid.ransom" >"$S/ransom.out" <<'PY'
import errno, os, sys
d, n = sys.argv[1], int(sys.argv[2])
open(sys.argv[3], "w").write("%d\n" % os.getpid())
changed, stop = 0, "none"
for i in range(n):
    p = "%s/f%04d" % (d, i)
    try:
        with open(p, "rb") as f:
            data = f.read()
        with open(p, "wb") as f:	# from here on the file is changed
            changed += 1
            f.write(bytes(b ^ 0x5a for b in data))
        os.rename(p, p + ".enc")
    except OSError as e:
        stop = errno.errorcode.get(e.errno, str(e.errno))
        break
print(changed, stop)
PY
RANSOM=$(cat "$S/pid.ransom")
read -r N STOP <"$S/ransom.out"
echo "# containment: $N of $N_FILES files changed before the process was stopped ($STOP)"
check "config: the process was stopped by EPERM (got '$STOP')" [ "$STOP" = EPERM ]
check "config: N < $N_FILES (N = $N)" [ "$N" -lt "$N_FILES" ]
check "config: N <= 3 * burst_threshold = $((3 * THRESHOLD)) (N = $N)" [ "$N" -le $((3 * THRESHOLD)) ]
check "config: the disk agrees: $N files changed" "$PY" - "$W/ws" "$N_FILES" "$N" <<'PY'
import os, sys
d, n, want = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
changed = 0
for i in range(n):
    p = "%s/f%04d" % (d, i)
    if os.path.exists(p + ".enc"):
        changed += 1
    elif open(p).read() != "file %d\n" % i:
        changed += 1
print("# %d changed on disk" % changed)
sys.exit(0 if changed == want else 1)
PY
check "config: burst alert of the process: count 32, window_ms 1000, job J workspace" \
	waitrec type=alert kind=burst pid="$RANSOM" count=$THRESHOLD window_ms=1000 job_id=J \
	path_role=workspace
check "config: its next open: deny, reason 'quarantined after burst', tagged" \
	waitrec type=event events~OPEN_PERM pid="$RANSOM" decision=deny \
	"reason=quarantined after burst" job_id=J path_role=workspace
check "config: no 'quarantined' denial of any other process" \
	[ "$(count "reason=quarantined after burst" pid!="$RANSOM")" = 0 ]
check "config: another process still reads the workspace" \
	[ "$(timeout 5 cat "$W/ws/f0999")" = "file 999" ]
check "config: ... allowed" waitrec type=event events~OPEN_PERM path="$W/ws/f0999" decision=allow \
	'comm~^(cat|null)$'
check "config: output is valid JSONL" $JSONL valid "$OUT"
stop_daemon
check "config: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
