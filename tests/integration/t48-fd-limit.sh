# A low descriptor limit must not make the kernel deny opens behind our back: the kernel
# denies a permission event it cannot open an fd for (EMFILE), and we never see it. As root
# the daemon raises its limit (`ulimit -n 32` before the start is undone); without
# CAP_SYS_RESOURCE it sizes each read by the descriptors still free. 40 concurrent openers:
# no open may fail, and any denial the kernel makes is reported (fd_exhausted alert and
# fd_denied in the stats), never silent.
. "$(dirname "$0")/lib.sh"
require_fanotify perm
setup

for i in $(seq 1 40); do echo "$i" >"$W/f$i"; done
# openers N: 40 processes open their file N times each; prints the number of EPERMs.
openers() {
	"$PY" - "$W" "$1" <<'PY'
import errno, os, sys
w, n = sys.argv[1], int(sys.argv[2])
pids = []
for i in range(1, 41):
    r, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        bad = 0
        for _ in range(n):
            try:
                with open("%s/f%d" % (w, i)) as f:
                    f.read()
            except PermissionError:
                bad += 1
        os.write(wr, b"%d\n" % bad)
        os._exit(0)
    os.close(wr)
    pids.append((pid, r))
total = 0
for pid, r in pids:
    total += int(os.read(r, 64) or b"0")
    os.waitpid(pid, 0)
print(total)
PY
}

# The daemon starts under `ulimit -n 32`. With CAP_SYS_RESOURCE (in our bounding set) it
# raises the limit; without (some sandboxes), it stays 32 and reads are sized to fit.
has_sys_resource() { [ $((0x$(awk '/^CapBnd/ {print $2}' /proc/self/status) >> 24 & 1)) = 1 ]; }
(ulimit -n 32
 rm -f "$PIDF"
 timeout -s KILL 120 "$FANOTIFYD" --foreground --pid-file "$PIDF" --output "$OUT" \
	--perm --mount "$W" 2>"$ERR" &
 wait) &
SUB=$!
for i in $(seq 1 250); do [ -s "$PIDF" ] && break; sleep 0.02; done
DPID=$(cat "$PIDF")
if has_sys_resource; then
	check "with CAP_SYS_RESOURCE the limit is raised" grep -q "Max open files *65536" "/proc/$DPID/limits"
else
	check "without CAP_SYS_RESOURCE the limit stays 32" grep -q "Max open files *32 " "/proc/$DPID/limits"
fi
eperm=$(openers 600)
stats
denied=$(stat_of fd_denied)
alerts=$(count type=alert kind=fd_exhausted)
check "24,000 opens by 40 processes: no EPERM (got $eperm; fd_denied=$denied)" [ "$eperm" = 0 ]
check "every kernel denial is reported (EPERM $eperm, fd_denied $denied, alerts $alerts)" \
	[ "$eperm" = "$denied" -a "$denied" = "$alerts" ]
check "the records are there: 24,000 OPEN_PERM" [ "$(count events~OPEN_PERM)" -ge 24000 ]
kill -TERM "$DPID"; wait "$SUB"; DPID=

# The report itself: a limit that leaves the daemon no descriptor once started (as many as
# it holds): the kernel denies every open in the tree, and each denial must be reported.
rm -f "$OUT"
# start_limited N: the daemon under `ulimit -n N`; DPID, SUB set.
start_limited() {
	rm -f "$PIDF"
	(ulimit -n "$1"
	 timeout -s KILL 60 "$FANOTIFYD" --foreground --pid-file "$PIDF" --output "$OUT" \
		--perm --watch "$W" 2>"$ERR" &
	 wait) &
	SUB=$!
	for i in $(seq 1 250); do [ -s "$PIDF" ] && break; sleep 0.02; done
	DPID=$(cat "$PIDF" 2>/dev/null)
}
start_limited 64
held=$(ls /proc/"$DPID"/fd | awk '$1 < 64' | wc -l)
kill -TERM "$DPID"; wait "$SUB"; DPID=
rm -f "$OUT"
start_limited "$held"
[ -n "$DPID" ] || { fail "no daemon under ulimit -n $held: $(tail -n 2 "$ERR")"; finish; }
eperm=0
for i in 1 2 3; do timeout 5 cat "$W/f1" >/dev/null 2>&1 || eperm=$((eperm + 1)); done
stats
denied=$(stat_of fd_denied)
check "ulimit -n $held (no descriptor left): the kernel denies the opens (EPERM $eperm of 3)" \
	[ "$eperm" = 3 ]
check "each denial has an fd_exhausted alert and is counted (fd_denied $denied)" \
	waitrec --count 3 type=alert kind=fd_exhausted path="<fd_exhausted>" pid=0
check "fd_denied=3" [ "$denied" = 3 ]
kill -TERM "$DPID"; wait "$SUB"; DPID=
finish
