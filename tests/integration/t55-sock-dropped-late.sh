# A dropped subscriber that reads late: it stops reading while records flow past its buffer
# (--socket-buffer-kb 4), is dropped, and stays silent for more than 3 s (longer than any
# grace a timer could give it) while records keep flowing. Meanwhile it keeps its slot. When
# it reads again its stream is whole lines, each one JSON: a prefix of the output (ending
# with the rest of the record it had half of), then the dropped line counting exactly the
# records it did not get; then EOF, and its slot is free. A reading subscriber gets every
# byte throughout.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
SOCK=$S/sock

start_daemon --watch "$W" --socket "$SOCK" --socket-buffer-kb 4 || finish
BASE=$(nsock)
slow_fast "$SOCK"
check "both subscribers accepted" wait_nsock $((BASE + 2))

# Past its socket and its 4 KiB buffer.
for i in $(seq 1 100); do
	grep -q "too slow" "$ERR" && break
	gen 200
	sentinel || finish
done
check "dropped, logged with the records it missed" \
	grep -qE "subscriber uid 0 pid [0-9]+ too slow \(4 KiB buffer full\): disconnecting" "$ERR"

# The one wait on the clock in this test, and its subject: the subscriber is silent for
# more than 3 s while records keep flowing (each sink write is a chance for a timer to
# close it).
T0=$(date +%s%N)
while [ $(($(date +%s%N) - T0)) -lt 3500000000 ]; do
	gen 20
	sentinel || finish
	sleep 0.2
done
sentinel || finish
SENT="$W/.sentinel-$SENTINEL_N"
# Handshake: the reading subscriber has the last sentinel, so every record is past the
# daemon's socket batch and counted for the silent one too.
check "the reading subscriber got every byte of the output" \
	$JSONL sameprefix --timeout 20 "$SENT" "$OUT" "$S/fast"
stats || finish
check "after 3.5 s silent it still holds its slot (sock_clients=$(stat_of sock_clients))" \
	[ "$(stat_of sock_clients)" = 2 ]
check "one subscriber dropped (sock_dropped_clients=$(stat_of sock_dropped_clients))" \
	[ "$(stat_of sock_dropped_clients)" = 1 ]

# Now it reads everything, to EOF.
echo go >"$S/go"
rc=0; wait "$SLOW" || rc=$?
SUBS=$FAST
check "the slow subscriber reads to EOF" [ "$rc" = 0 ]
check "its slot is freed once it has its notice" wait_nsock $((BASE + 1))

# slowcheck WHAT: one property of the slow subscriber's stream.
slowcheck() {
	"$PY" - "$1" "$OUT" "$S/slow" <<'PY'
import json, sys
what, out, slow = sys.argv[1], open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read()
# The start record is written before any subscriber can connect: subscribers get the rest.
if out.startswith(b'{"schema_version":1,"type":"start"'):
    out = out[out.index(b"\n") + 1:]
def bad(msg):
    print("# " + msg)
    sys.exit(1)
if what == "newline":
    if not slow.endswith(b"\n"):
        bad("%d bytes, ending inside a line: ...%r" % (len(slow), slow[-80:]))
    sys.exit(0)
lines = slow.split(b"\n")
if lines[-1] == b"":
    lines.pop()
if not lines:
    bad("it got nothing")
recs = []
for i, l in enumerate(lines):
    try:
        recs.append(json.loads(l))
    except ValueError as e:
        bad("line %d of %d does not parse (%s): %r" % (i + 1, len(lines), e, l[:120]))
if what == "json":
    print("# %d lines, %d bytes" % (len(lines), len(slow)))
    sys.exit(0)
last = recs[-1]
if last.get("type") != "dropped":
    bad("last line is not the dropped record: %r" % lines[-1][:200])
want = {"schema_version", "type", "seq", "ts_ms", "count", "reason"}
if set(last) != want or last["schema_version"] != 1 or last["seq"] != 0 or \
        not isinstance(last["ts_ms"], int) or last["ts_ms"] < 1e12 or \
        last["reason"] != "subscriber too slow" or not isinstance(last["count"], int):
    bad("dropped record: %r" % last)
body = b"".join(l + b"\n" for l in lines[:-1])
if not out.startswith(body):
    bad("what came before the dropped line is not a prefix of the output")
if len(body) < 4096:
    bad("only %d bytes before the drop" % len(body))
missed = out.count(b"\n") - (len(lines) - 1)
if last["count"] != missed:
    bad("count %d, but it missed %d records" % (last["count"], missed))
print("# %d records, then dropped count %d" % (len(lines) - 1, last["count"]))
PY
}
check "its stream ends with a newline" slowcheck newline
check "every line of it parses as JSON" slowcheck json
check "a prefix of the output, then the dropped line with the exact count" slowcheck dropped

stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
rc=0; wait "$FAST" || rc=$?
SUBS=
check "the reading subscriber's --subscribe exits 0" [ "$rc" = 0 ]
finish
