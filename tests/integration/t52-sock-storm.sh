# Connect/disconnect storm: 1,000 subscribers come and go while events flow (closing at
# once, mid-line after a partial read, after sending junk, after a half-close). The daemon's
# fd count returns exactly to where it was, its RSS stays within 2 MiB, the output stays
# valid, and a steady subscriber still receives every byte of the output.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
SOCK=$S/sock

nfd() { ls "/proc/$DPID/fd" 2>/dev/null | wc -l; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$DPID/status"; }
# wait_nfd N: until the daemon holds N fds (10 s deadline)
wait_nfd() {
	local i
	for i in $(seq 1 500); do
		[ "$(nfd)" -eq "$1" ] && return 0
		sleep 0.02
	done
	echo "# fd count $(nfd), expected $1"
	return 1
}

# storm N: N connect/disconnect cycles in four styles.
storm() {
	"$PY" - "$SOCK" "$1" <<'PY'
import socket, sys
path, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    k = i % 4
    # The daemon handles closes a turn later, so at times socket_max_clients (64) are
    # still counted and it refuses one: EPIPE / ECONNRESET here are fine.
    try:
        if k == 1:
            s.recv(7, socket.MSG_DONTWAIT)  # part of a line, if any has come
        elif k == 2:
            s.send(b"junk that nobody asked for\n" * 10)
        elif k == 3:
            s.shutdown(socket.SHUT_WR)
    except (BlockingIOError, BrokenPipeError, ConnectionResetError):
        pass
    s.close()
PY
}

start_daemon --watch "$W" --socket "$SOCK" || finish
FD0=$(nfd)
timeout 120 "$FANOTIFYD" --subscribe "$SOCK" >"$S/steady" 2>"$S/steady.err" &
STEADY=$!
SUBS=$STEADY
check "steady subscriber accepted" wait_nfd $((FD0 + 1))
check "warm-up storm (100 cycles)" storm 100
check "warm-up connections all closed" wait_nfd $((FD0 + 1))
FD1=$(nfd)
RSS1=$(rss_kb)

# Events flow during the storm.
"$PY" - "$W" "$S/stop" <<'PY' &
import os, sys
d, stop = sys.argv[1], sys.argv[2]
i = 0
while not os.path.exists(stop) and i < 200000:
    p = "%s/s%d" % (d, i % 50)
    with open(p, "w") as f:
        f.write("y")
    i += 1
PY
GENPID=$!
SUBS="$STEADY $GENPID"
check "1000-cycle storm" storm 1000
: >"$S/stop"
wait "$GENPID"
SUBS=$STEADY
sentinel || finish
SENT="$W/.sentinel-$SENTINEL_N"
check "fd count back exactly where it was ($FD1)" wait_nfd "$FD1"
RSS2=$(rss_kb)
echo "# VmRSS ${RSS1} kB before, ${RSS2} kB after"
check "RSS within 2 MiB of where it was" [ "$RSS2" -le $((RSS1 + 2048)) ]
check "daemon still running" kill -0 "$DPID"
check "output is valid JSONL" $JSONL valid "$OUT"
check "steady subscriber got every byte of the output" \
	$JSONL sameprefix --timeout 20 "$SENT" "$OUT" "$S/steady"
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
rc=0; wait "$STEADY" || rc=$?
SUBS=
check "steady --subscribe exits 0" [ "$rc" = 0 ]
finish
