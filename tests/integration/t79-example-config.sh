# The README's example config (examples/cgroupd-landlockd.conf): --check-config refuses it
# as shipped on a host without its paths (exit 2, each missing path named: it checks what
# the config means), and accepts a copy with every path moved into the test's tmpfs; that
# copy runs with -c plus --foreground/--output/--pid-file overrides, each job
# directory a bind mount of itself as on a job platform, and its keys take effect: job tags
# for root / workspace / export / cache, nothing from outside the four mounts, the canary
# denied with EPERM, a 32-event burst alert (window 1000 ms) followed by containment, the
# socket where the config puts it; its job cgroup is shown by --check-config, with a
# warning while it does not exist.
. "$(dirname "$0")/lib.sh"
require_fanotify perm
require_fanotify fid
setup
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"
EXAMPLE=$HERE/../../examples/cgroupd-landlockd.conf

check "the example config exists" [ -f "$EXAMPLE" ]
check "/run/jobs/J/root does not exist here" [ ! -e /run/jobs/J/root ]
rc=0
"$FANOTIFYD" --check-config -c "$EXAMPLE" >"$S/check.out" 2>"$S/check.err" || rc=$?
check "--check-config -c examples/cgroupd-landlockd.conf exits 2 here (got $rc)" [ "$rc" = 2 ]
for p in /run/jobs/J/root /run/jobs/J/workspace /run/jobs/J/export /var/cache/job-platform; do
	[ -e "$p" ] || check "... naming the missing mount $p" \
		grep -qx "fanotifyd: mount $p: No such file or directory" "$S/check.err"
done

# The copy: every absolute path of the example moved under $W (job directories) or $S.
sed -e "s|/run/jobs/|$W/run/jobs/|g" -e "s|/var/cache/job-platform|$W/var/cache/job-platform|g" \
	-e "s|/var/log/fanotifyd/|$S/log/|g" -e "s|/run/fanotifyd/|$S/|g" \
	"$EXAMPLE" >"$S/J.conf"
check "every path of the copy is inside the test's tmpfs" "$PY" - "$S/J.conf" "$W" "$S" <<'PY'
import sys
conf, w, s = sys.argv[1:4]
# A cgroup line names a cgroup, not a file: it stays as it is.
bad = [l for l in open(conf) if not l.startswith(("#", "cgroup ")) and len(l.split()) > 1
       and l.split()[1].startswith("/") and not l.split()[1].startswith((w + "/", s + "/"))]
print("".join("# outside: " + l for l in bad), end="")
sys.exit(1 if bad else 0)
PY
R=$W/run/jobs/J/root WS=$W/run/jobs/J/workspace EX=$W/run/jobs/J/export
C=$W/var/cache/job-platform
mkdir -p "$R" "$WS" "$EX" "$C" "$W/outside" "$S/log"
rc=0
"$FANOTIFYD" --check-config -c "$S/J.conf" >"$S/check.out" 2>"$S/check.err" || rc=$?
check "--check-config of the copy, its paths present, exits 0 (got $rc: $(head -c 200 "$S/check.err"))" \
	[ "$rc" = 0 ]
check "... and it shows the example's keys" grep -qx "burst_threshold 32" "$S/check.out"
check "... (canary)" grep -qx "canary $R/etc/shadow" "$S/check.out"
check "... (the job's cgroup)" grep -qx "cgroup /jobs.slice/J.scope" "$S/check.out"
[ -d /sys/fs/cgroup/jobs.slice/J.scope ] || [ -d /sys/fs/cgroup/unified/jobs.slice/J.scope ] ||
	check "... warning, not failing, that the job's cgroup does not exist yet" \
		grep -q "^fanotifyd: warning: job J: cgroup /jobs.slice/J.scope does not exist (yet)" \
		"$S/check.err"
for d in "$R" "$WS" "$EX" "$C"; do mount --bind "$d" "$d" || fail "bind mount $d"; done
mkdir -p "$R/etc" "$R/bin"
echo 'root:*:19000:0:99999:7:::' >"$R/etc/shadow"
echo data >"$R/bin/tool"
for i in $(seq 0 99); do echo "data $i" >"$WS/f$i"; done

start_daemon -c "$S/J.conf" || finish
check "the config's socket is where the config puts it" [ -S "$S/J.sock" ]

# tags
timeout 5 cat "$R/bin/tool" >/dev/null || fail "cat in the root did not complete"
timeout 5 sh -c 'echo x >"$1"' sh "$WS/new" || fail "write in the workspace"
timeout 5 sh -c 'echo x >"$1"' sh "$EX/result" || fail "write in the export"
timeout 5 sh -c 'echo x >"$1"' sh "$C/pkg" || fail "write in the cache"
timeout 5 sh -c 'echo x >"$1"' sh "$W/outside/f" || fail "write outside"
timeout 5 sh -c ': >"$1"' sh "$R/.c" || fail "create in the root"
psentinel "$WS" || finish
# Directory-entry events come from a filesystem mark, kept inside the four mounts; all four
# are bind mounts of one filesystem here, as on a job platform.
check "create in the root mount reported, J rootfs" waitrec type=event events~CREATE \
	path="$R/.c" job_id=J path_role=rootfs
check "create in the workspace mount reported, J workspace" waitrec type=event events~CREATE \
	path="$WS/new" job_id=J path_role=workspace
check "create in the export mount reported, J export" waitrec type=event events~CREATE \
	path="$EX/result" job_id=J path_role=export
check "create in the cache mount reported, J cache" waitrec type=event events~CREATE \
	path="$C/pkg" job_id=J path_role=cache
check "rootfs open: OPEN_PERM allowed, J rootfs" has type=event events~OPEN_PERM \
	path="$R/bin/tool" decision=allow job_id=J path_role=rootfs
check "workspace write: J workspace" has type=event events~MODIFY path="$WS/new" job_id=J \
	path_role=workspace
check "cache write (one job: J cache)" has type=event events~MODIFY path="$C/pkg" job_id=J \
	path_role=cache
check "nothing from outside the four mounts" [ "$(count "path^=$W/outside")" = 0 ]
check "every record under the mounts is tagged J" \
	[ "$(count type=event "path^=$W/run/jobs/J/" job_id!=J)" = 0 ]
check "no record with a path outside the mounts (wrongly resolved)" \
	[ "$(count type=event 'path!=null' "path~^(?!$R/|$WS/|$EX/|$C/)")" = 0 ]

# canary: denied
rc=0
timeout 5 cat "$R/etc/shadow" >/dev/null 2>"$S/shadow.err" || rc=$?
check "cat of the canary fails (status 1, got $rc)" [ "$rc" = 1 ]
check "... with 'Operation not permitted'" grep -q "Operation not permitted" "$S/shadow.err"
check "... recorded deny, reason 'canary opened', J rootfs" waitrec type=event \
	events~OPEN_PERM path="$R/etc/shadow" decision=deny "reason=canary opened" job_id=J \
	path_role=rootfs
check "... alerted, J rootfs" waitrec type=alert kind=canary path="$R/etc/shadow" \
	"reason=canary opened" job_id=J path_role=rootfs

# burst (threshold 32, window 1000) and containment (quarantine_ms = the window)
timeout 30 "$PY" - "$WS" "$S/pid.burst" >"$S/burst.out" <<'PY'
import errno, os, sys
open(sys.argv[2], "w").write("%d\n" % os.getpid())
done, stop = 0, "none"
for i in range(100):
    try:
        fd = os.open("%s/f%d" % (sys.argv[1], i), os.O_WRONLY | os.O_APPEND)
        os.write(fd, b"x")
        os.close(fd)
        done += 1
    except OSError as e:
        stop = errno.errorcode.get(e.errno, str(e.errno))
        break
print(done, stop)
PY
BURST=$(cat "$S/pid.burst")
read -r DONE STOP <"$S/burst.out"
check "burst alert: count 32, window_ms 1000, J workspace" waitrec type=alert kind=burst \
	pid="$BURST" count=32 window_ms=1000 job_id=J path_role=workspace
check "the writer was stopped with EPERM (got $STOP after $DONE files)" [ "$STOP" = EPERM ]
check "... after at most 32 files (got $DONE)" [ "$DONE" -le 32 ]
check "... its refused open: deny, 'quarantined after burst'" waitrec type=event \
	events~OPEN_PERM pid="$BURST" decision=deny "reason=quarantined after burst" job_id=J
psentinel "$WS" || finish
check "one burst alert (hook_cooldown_ms 5000)" \
	[ "$(count type=alert kind=burst pid="$BURST")" = 1 ]
check "output is valid JSONL" $JSONL valid "$OUT"
check "the config's output path was overridden: nothing written there" \
	[ ! -e "$S/log/J.jsonl" ]
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# The same copy in observe mode (perm 0): every event then comes from the FID group, through
# file handles, for all four bind mounts of the one filesystem.
OUT=$S/observe.jsonl
sed -e 's/^perm 1$/perm 0/' -e 's/^deny_on_alert 1$/deny_on_alert 0/' "$S/J.conf" >"$S/J-observe.conf"
start_daemon -c "$S/J-observe.conf" || finish
for f in "$R/o" "$WS/o" "$EX/o" "$C/o"; do echo x >"$f"; done
cat "$R/etc/shadow" >/dev/null
echo x >"$R/.sentinel-observe"
$JSONL wait "$OUT" --timeout 10 path="$R/.sentinel-observe" || fail "observe: sentinel not reported"
check "observe: write in the root mount, J rootfs" has type=event events~MODIFY path="$R/o" \
	job_id=J path_role=rootfs
check "observe: write in the workspace mount, exact path, J workspace" has type=event \
	events~MODIFY path="$WS/o" job_id=J path_role=workspace
check "observe: write in the export mount, exact path, J export" has type=event \
	events~MODIFY path="$EX/o" job_id=J path_role=export
check "observe: write in the cache mount, exact path, J cache" has type=event \
	events~MODIFY path="$C/o" job_id=J path_role=cache
check "observe: canary opened" has type=alert kind=canary path="$R/etc/shadow" job_id=J
check "observe: no record with a path outside the mounts (wrongly resolved)" \
	[ "$(count type=event 'path!=null' "path~^(?!$R/|$WS/|$EX/|$C/)")" = 0 ]
stop_daemon
check "observe: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
