# Output on a full filesystem (a 256 KiB tmpfs, 3000 creates): failed writes lose whole
# records only. The file never holds half a record (every line parses, before and after
# the filesystem grows), and once writing works again a dropped notice
# {"type":"dropped","count":N,"reason":"output write failed: No space left on device"}
# accounts for every record lost: the records present plus the notices' counts cover
# every seq, and the SIGUSR1 line's dropped_records is the same number.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"
DAEMON_TIMEOUT=60
N=3000

FULL=$S/full
mkdir "$FULL"
mount -t tmpfs -o size=256k,mode=0755 fanotifyd-full "$FULL" || { fail "mount 256k tmpfs"; finish; }
cleanup_more() { umount -l "$FULL" 2>/dev/null; true; }
OUT=$FULL/out.jsonl
start_daemon --watch "$W" || finish
"$PY" - "$W" "$N" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    with open("%s/f%d" % (sys.argv[1], i), "w") as f:
        f.write("x")
PY
# Handshake: the writer reported a failed write, and the loop recorded every create.
wrote_all() {
	local i
	for i in $(seq 1 100); do
		stats_log || return 1 # the filesystem is full: the record may be lost
		grep -q "output: write failed" "$ERR" && [ "$(stat_of records)" -ge "$N" ] && return 0
		sleep 0.1
	done
	return 1
}
check "filesystem full: write failures logged, $N+ records produced" wrote_all
echo "# full: $(stat -c %s "$OUT") bytes, $(wc -l <"$OUT") lines; $(grep -m1 'write failed' "$ERR")"

mount -o remount,size=64m "$FULL" || fail "remount 64m"
# Two sentinels: the first is written once every earlier failed write was counted; the
# second's turn begins after that, so the notice of those losses precedes it.
sentinel || finish
sentinel || finish
stats || finish
check "after growing: every line of the output is whole JSON" $JSONL valid "$OUT"
check "a dropped notice names the write failure" \
	has type=dropped reason="output write failed: No space left on device"

# accounting: seqs unique; at each notice, the counts so far cover no more than the seqs
# missing so far; at the end, records present + counts = every seq from 1 to the last.
SUM=$("$PY" - "$OUT" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], "rb")]
seqs = [r["seq"] for r in recs]
ok = len(set(seqs)) == len(seqs) and seqs == sorted(seqs)
counted = 0
for r in recs:
    if r.get("type") == "dropped":
        counted += r["count"]
        present_below = sum(1 for s in seqs if s < r["seq"])
        if counted > r["seq"] - 1 - present_below:
            ok = False
last = seqs[-1]
print("%d %d %d %d" % (counted, len(seqs), last, 1 if ok and len(seqs) + counted == last else 0))
PY
)
read -r COUNTED PRESENT LAST SEQ_OK <<<"$SUM"
echo "# records present $PRESENT, dropped counts $COUNTED, last seq $LAST; stats dropped_records=$(stat_of dropped_records) records=$(stat_of records)"
check "seq contiguous once counted: $PRESENT present + $COUNTED dropped = $LAST" [ "$SEQ_OK" = 1 ]
check "records were lost and counted ($COUNTED)" [ "${COUNTED:-0}" -gt 0 ]
check "stats dropped_records = the notices' counts ($(stat_of dropped_records) vs $COUNTED)" \
	[ "$(stat_of dropped_records)" = "$COUNTED" ]
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
