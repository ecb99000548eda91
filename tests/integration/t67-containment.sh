# Containment: a ransomware-style process (read a file, overwrite it, rename it to .enc,
# next file) works through 1000 files of a job workspace under --perm --deny-on-alert with
# burst_threshold 32 (config file). Its burst alert quarantines it: its opens then fail with
# EPERM. The test prints how many files it changed before that ("# containment: N of 1000")
# and requires N < 1000 and N <= 3 * 32; the disk agrees with the process's own count; the
# denials are records with decision deny and reason "quarantined after burst"; other
# processes are not affected.
. "$(dirname "$0")/lib.sh"
require_fanotify perm
require_fanotify fid
setup
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"

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
check "the process was stopped by EPERM (got '$STOP')" [ "$STOP" = EPERM ]
check "N < $N_FILES (N = $N)" [ "$N" -lt "$N_FILES" ]
check "N <= 3 * burst_threshold = $((3 * THRESHOLD)) (N = $N)" [ "$N" -le $((3 * THRESHOLD)) ]
check "the disk agrees: $N files changed" "$PY" - "$W/ws" "$N_FILES" "$N" <<'PY'
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
check "burst alert of the process: count 32, window_ms 1000, job J workspace" \
	waitrec type=alert kind=burst pid="$RANSOM" count=$THRESHOLD window_ms=1000 job_id=J \
	path_role=workspace
check "its next open: deny, reason 'quarantined after burst', tagged" \
	waitrec type=event events~OPEN_PERM pid="$RANSOM" decision=deny \
	"reason=quarantined after burst" job_id=J path_role=workspace
check "no 'quarantined' denial of any other process" \
	[ "$(count "reason=quarantined after burst" pid!="$RANSOM")" = 0 ]
check "another process still reads the workspace" \
	[ "$(timeout 5 cat "$W/ws/f0999")" = "file 999" ]
check "... allowed" waitrec type=event events~OPEN_PERM path="$W/ws/f0999" decision=allow \
	'comm~^(cat|null)$'
check "output is valid JSONL" $JSONL valid "$OUT"
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
