# Socket subscribers: two `fanotifyd --subscribe` processes and fifty python connections,
# all connected before the first event, receive byte for byte what the output file gets;
# the socket file is 0600 and the daemon's by default and is removed on exit;
# `--subscribe` exits 0 at EOF and quietly when its stdout closes (| head), and exits 1
# saying why when the path is missing.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
# one interpreter lookup: a version-manager shim can cost a second per python3 call
SOCK=$S/sock


check "--subscribe to a missing path exits 1" \
	bash -c '"$1" --subscribe "$2" >/dev/null 2>"$3"; [ $? = 1 ]' _ \
	"$FANOTIFYD" "$S/nope" "$S/nope.err"
check "... saying why" \
	grep -q "$S/nope: No such file or directory (is the daemon running?)" "$S/nope.err"

start_daemon --watch "$W" --socket "$SOCK" || finish
check "socket file: a socket, mode 0600, owned by the daemon's uid and gid" \
	[ "$(stat -c '%F %a %u %g' "$SOCK")" = "socket 600 $(id -u) $(id -g)" ]

BASE=$(nsock)
timeout 60 "$FANOTIFYD" --subscribe "$SOCK" >"$S/sub1" 2>"$S/sub1.err" &
SUB1=$!
timeout 60 "$FANOTIFYD" --subscribe "$SOCK" >"$S/sub2" 2>"$S/sub2.err" &
SUB2=$!
# Fifty connections in one process, each copied to its own file until EOF.
timeout 60 "$PY" - "$SOCK" "$S/py" 50 <<'PY' &
import selectors, socket, sys
path, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sel = selectors.DefaultSelector()
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, open("%s.%02d" % (prefix, i), "wb"))
left = n
while left:
    for key, _ in sel.select():
        data = key.fileobj.recv(1 << 16)
        if data:
            key.data.write(data)
            key.data.flush()
        else:
            sel.unregister(key.fileobj)
            key.data.close()
            left -= 1
PY
PYSUB=$!
SUBS="$SUB1 $SUB2 $PYSUB"
check "52 subscribers accepted" wait_nsock $((BASE + 52))

# Some traffic: several loop turns' worth of creates, writes, renames, deletes.
"$PY" - "$W" <<'PY' || fail "generating events"
import os, sys
d = sys.argv[1]
for i in range(400):
    p = "%s/f%04d" % (d, i)
    with open(p, "w") as f:
        f.write("x" * (i % 7))
    if i % 3 == 0:
        os.rename(p, p + ".moved")
    if i % 5 == 0:
        os.unlink(p + ".moved" if i % 3 == 0 else p)
PY
sentinel || finish
SENT="$W/.sentinel-$SENTINEL_N"


# Each stream (waited for, 10 s deadline) equals the output file up to and including the
# sentinel's first record, which lies beyond the first 100 kB.
$JSONL sameprefix --timeout 10 "$SENT" "$OUT" "$S/sub1" "$S/sub2" "$S"/py.* >"$S/same" || true
EQUAL=$(sed -n 's/.*equal=\([0-9]*\).*/\1/p' "$S/same")
BYTES=$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' "$S/same")
check "all 52 streams equal the output file up to the sentinel (byte for byte; $EQUAL did)" \
	[ "$EQUAL" = 52 ]
check "... a prefix of over 100 kB (got $BYTES)" [ "$BYTES" -gt 100000 ]
check "output is valid JSONL" $JSONL valid "$OUT"

# --subscribe | head: once head has what it wants, --subscribe exits 0 without a word.
(
	timeout 30 "$FANOTIFYD" --subscribe "$SOCK" 2>"$S/head.err" | head -c 100 >/dev/null
	echo "${PIPESTATUS[0]}" >"$S/head.rc"
) &
HEADP=$!
for i in $(seq 1 100); do
	[ -s "$S/head.rc" ] && break
	sentinel >/dev/null || break
done
wait "$HEADP"
check "--subscribe | head -c 100: exits 0 when head is done" [ "$(cat "$S/head.rc")" = 0 ]
check "... quietly" [ ! -s "$S/head.err" ]

stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
rc1=0; wait "$SUB1" || rc1=$?
rc2=0; wait "$SUB2" || rc2=$?
wait "$PYSUB"
SUBS=
check "--subscribe exits 0 at the daemon's EOF" [ "$rc1:$rc2" = 0:0 ]
check "--subscribe printed no message" [ ! -s "$S/sub1.err" ]
# (but its start record, written before any subscriber could connect)
tail -n +2 "$OUT" >"$S/out-after-start"
check "the output begins with its start record" grep -q '"type":"start"' <(head -n 1 "$OUT")
check "whole streams equal the whole output file after its start record" \
	bash -c 'for f in "$@"; do cmp -s "$1" "$f" || exit 1; done' _ \
	"$S/out-after-start" "$S/sub1" "$S/sub2" "$S"/py.*
check "socket file removed on exit" [ ! -e "$SOCK" ]
finish
