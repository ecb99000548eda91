# A subscriber that never reads does not delay the output file or permission answers: with
# permission events on the whole mount and that subscriber's socket and buffer filling, opens
# in the tree still complete in well under a second; once it is past its buffer it is
# dropped (logged with the count of records it missed), and when it finally reads it finds
# whole records, a prefix of the stream, then the dropped line. A subscriber that reads keeps
# getting everything.
. "$(dirname "$0")/lib.sh"
require_fanotify perm
setup
SOCK=$S/sock
BUF_KB=1024

echo data >"$W/probe" # before the daemon: the subscribers' streams start with the output
start_daemon --perm --mount "$W" --socket "$SOCK" --socket-buffer-kb "$BUF_KB" || finish
BASE=$(nsock)
slow_fast "$SOCK"
check "both subscribers accepted" wait_nsock $((BASE + 2))

outsize() { stat -c %s "$OUT"; }

# Fill the slow one's socket (100-200 KiB, by skb overhead) and part of its buffer, but
# not past it: about 400 KB in 30 KB steps.
for i in $(seq 1 100); do
	[ "$(outsize)" -ge 400000 ] && break
	gen 20
	sentinel || finish
done
check "output grows while the subscriber sits full ($(outsize) bytes)" [ "$(outsize)" -ge 400000 ]
check "not dropped yet (under socket + buffer)" bash -c '! grep -q "too slow" "$1"' _ "$ERR"
slow_opens() {
	local i t0 t1
	t0=$(date +%s%N)
	for i in $(seq 1 20); do
		timeout 1 cat "$W/probe" >/dev/null || return 1
	done
	t1=$(date +%s%N)
	echo "# 20 opens (timeout + cat each) in $(((t1 - t0) / 1000000)) ms"
}
check "opens complete (each within 1 s) while it sits full" slow_opens

# Push it past its buffer.
for i in $(seq 1 100); do
	grep -q "too slow" "$ERR" && break
	gen 200
done
DROP_RE="subscriber uid 0 pid [0-9]+ too slow \(${BUF_KB} KiB buffer full\): "
DROP_RE+="disconnecting, [1-9][0-9]* records missed"
check "dropped, logged with the records it missed" \
	grep -qE "$DROP_RE" "$ERR"
check "opens complete after the drop" slow_opens

# Now it reads: whole records, a prefix of the output, then the notice, then EOF.
echo go >"$S/go"
rc=0; wait "$SLOW" || rc=$?
check "the slow subscriber reads to EOF" [ "$rc" = 0 ]
check_slow() {
	"$PY" - "$OUT" "$S/slow" <<'PY'
import json, sys
out, slow = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
# The start record is written before any subscriber can connect: subscribers get the rest.
if out.startswith(b'{"schema_version":1,"type":"start"'):
    out = out[out.index(b"\n") + 1:]
lines = slow.split(b"\n")
assert lines[-1] == b"", "stream ends inside a line"
lines = lines[:-1]
assert lines and b'"type":"dropped"' in lines[-1], "no dropped line at the end"
notice = json.loads(lines.pop())
body = b"".join(l + b"\n" for l in lines)
assert len(body) > 30000, "too little before the drop: %d" % len(body)
assert out.startswith(body), "not a prefix of the output"
assert notice["type"] == "dropped" and notice["reason"] == "subscriber too slow"
assert notice["count"] > 0
print("# notice delivered: count %d" % notice["count"])
PY
}
check "the slow subscriber got whole records, a prefix of the output, the dropped line" \
	check_slow

sentinel || finish
SENT="$W/.sentinel-$SENTINEL_N"
check "the reading subscriber got every byte of the output" \
	$JSONL sameprefix --timeout 20 "$SENT" "$OUT" "$S/fast"
check "permission events were answered" has events~OPEN_PERM decision=allow
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
