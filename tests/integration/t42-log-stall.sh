# Logging never blocks the answering thread. The daemon's stderr is a FIFO that nobody reads
# (held open, never drained); a hook writes 30,000 lines and sleeps; the canary is opened
# twice (the second alert finds the hook slot busy: a warning). The FIFO is full before the
# daemon starts, so every write to it would block. Opens in the tree must still complete at
# once, SIGUSR1's stats line must not block anything, and SIGTERM must stop the daemon in
# bounded time (the log thread is left blocked; t43 checks where hook output goes).
. "$(dirname "$0")/lib.sh"
require_fanotify perm
setup

echo secret >"$W/canary"
echo other >"$W/other"
mkfifo "$S/errfifo"
exec {hold}<>"$S/errfifo" # a reader exists, and never reads
"$PY" - "$S/errfifo" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)
try:
    while True:
        os.write(fd, b"#" * 4096)
except BlockingIOError:
    pass
PY
timeout -s KILL 60 "$FANOTIFYD" --foreground --pid-file "$PIDF" --output "$OUT" -v \
	--perm --mount "$W" --canary "$W/canary" \
	--hook 'seq 1 30000; sleep 20' --hook-max 1 2>"$S/errfifo" &
TPID=$!
wait_ready || finish

# fast CMD...: CMD succeeds within 5 s.
fast() { timeout 5 "$@" >/dev/null; }
check "first canary read completes" fast cat "$W/canary"
sleep 0.5
check "second canary read completes" fast cat "$W/canary"
for i in $(seq 1 20); do
	fast cat "$W/other" || break
done
check "20 reads of another file complete with stderr stalled" [ "$i" = 20 ]
kill -USR1 "$DPID"
sleep 0.2
check "a read after SIGUSR1 completes" fast cat "$W/other"
for i in 1 2 3; do fast cat "$W/canary"; done
check "a read after more alerts completes" fast cat "$W/other"
check "records keep coming" waitrec path="$W/other" events~OPEN_PERM
t0=$(now_ms)
kill -TERM "$DPID"
rc=0
wait "$TPID" || rc=$?
t1=$(now_ms)
DPID= TPID=
check "SIGTERM stops it within 5 s ($((t1 - t0)) ms, status $rc)" [ $((t1 - t0)) -lt 5000 ] 
check "exit status 0" [ "$rc" = 0 ]
exec {hold}>&-
finish
