# The stats record, {"schema_version":1,"type":"stats","seq":N,"ts_ms":T,...}: in the output
# like any other record, taking its seq. Written on SIGUSR1 (with the "stats:" log line, the
# same keys and numbers), at exit, and every --stats-interval-ms; never otherwise.
# Observe mode: records = the lines written (this record included), events >= the files'
# events, every record attributed to a live process counted in exe_known, the output
# queue's memory (out_buf_kib >= out_backlog_max_kib > 0 after a burst of records). --perm:
# every open answered and counted (perm_answered = the OPEN_PERM records), latency quantiles
# in order (p50 <= p99 <= max). seq runs 1..n without a gap, stats records included.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
N=300

# seq_ok FILE: every line one record, seq 1..n in order.
seq_ok() {
	"$PY" - "$1" <<'PY'
import json, sys
seqs = [json.loads(l)["seq"] for l in open(sys.argv[1], "rb")]
if seqs != list(range(1, len(seqs) + 1)):
    print("# seqs: %s" % seqs[:50])
    sys.exit(1)
PY
}
# last_is_stats FILE: the last line but the stop record is a stats record whose records = its
# seq = the lines before the stop record.
last_is_stats() {
	"$PY" - "$1" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], "rb")]
if recs[-1].get("type") != "stop":
    print("# last of %d is no stop record: %s" % (len(recs), json.dumps(recs[-1])[:300]))
    sys.exit(1)
r = recs[-2]
if r.get("type") != "stats" or not r["seq"] == r["records"] == len(recs) - 1:
    print("# last of %d: %s" % (len(recs), json.dumps(r)[:300]))
    sys.exit(1)
PY
}

start_daemon --watch "$W" || finish
python3 - "$W" "$N" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    with open("%s/f%d" % (sys.argv[1], i), "w") as f:
        f.write("x")
PY
sentinel || finish
check "no stats record without SIGUSR1 (stats_interval_ms 0)" [ "$(count type=stats)" = 0 ]
stats || finish
lines=$(wc -l <"$OUT")
check "one stats record after SIGUSR1" [ "$(count type=stats)" = 1 ]
check "the record is the last line, seq $lines (got $(stat_of seq))" [ "$(stat_of seq)" = "$lines" ]
check "records = the $lines lines written, itself included (got $(stat_of records))" \
	[ "$(stat_of records)" = "$lines" ]
check "schema_version 1, ts_ms set" \
	eval '[ "$(stat_of schema_version)" = 1 ] && [ "$(stat_of ts_ms)" -gt 1600000000000 ]'
check "events >= one per file" [ "$(stat_of events)" -ge "$N" ]
check "exe_known counted (python was alive for each of its records)" [ "$(stat_of exe_known)" -ge "$N" ]
check "no overflow, nothing dropped, no read error" \
	eval '[ "$(stat_of overflows)" = 0 ] && [ "$(stat_of dropped_records)" = 0 ] &&
	[ "$(stat_of read_errors)" = 0 ] && [ "$(stat_of out_write_errors)" = 0 ]'
check "out_backlog_max_kib > 0 after $lines records" [ "$(stat_of out_backlog_max_kib)" -gt 0 ]
check "out_buf_kib >= out_backlog_max_kib" \
	[ "$(stat_of out_buf_kib)" -ge "$(stat_of out_backlog_max_kib)" ]
check "alerts = the alert records ($(count type=alert))" [ "$(stat_of alerts)" = "$(count type=alert)" ]
# The log line of the same SIGUSR1: every counter of the record, the same value.
same_line() {
	"$PY" - "$S/stats.json" "$ERR" <<'PY'
import json, sys, time
rec = json.load(open(sys.argv[1]))
want = {k: v for k, v in rec.items()
        if k not in ("schema_version", "type", "seq", "ts_ms", "run_id", "host")}
deadline = time.monotonic() + 10
while True:
    lines = [l for l in open(sys.argv[2], errors="replace") if "stats: " in l]
    if lines or time.monotonic() > deadline:
        break
    time.sleep(0.02)
if len(lines) != 1:
    print("# %d stats lines" % len(lines))
    sys.exit(1)
got = dict(t.split("=", 1) for t in lines[0].split("stats: ", 1)[1].split())
got = {k: int(v) for k, v in got.items()}
if got != want:
    print("# differ: %s" % sorted(set(got.items()) ^ set(want.items()))[:20])
    sys.exit(1)
PY
}
check "the stats: log line has the record's keys and numbers" same_line
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
check "exit writes a stats record: the last line before the stop record, records = seq = lines" \
	last_is_stats "$OUT"
check "two stats records in all (SIGUSR1, exit)" [ "$(count type=stats)" = 2 ]
check "seq contiguous, stats records included" seq_ok "$OUT"

# --perm: answers counted, latency quantiles ordered.
OUT=$S/perm.jsonl
start_daemon --perm --watch "$W" || finish
for i in $(seq 0 19); do reads "$W/f$i" || fail "read $i did not complete"; done
psentinel || finish
stats || finish
check "perm_answered >= 20 opens (got $(stat_of perm_answered))" [ "$(stat_of perm_answered)" -ge 20 ]
check "perm_answered = the OPEN_PERM records ($(count events~OPEN_PERM))" \
	[ "$(stat_of perm_answered)" = "$(count events~OPEN_PERM)" ]
check "nothing denied, no answer error, none unanswered" \
	eval '[ "$(stat_of perm_denied)" = 0 ] && [ "$(stat_of answer_errors)" = 0 ] &&
	[ "$(stat_of unanswered)" = 0 ]'
check "answer_us p50 <= p99 <= max" \
	eval '[ "$(stat_of answer_us_p50)" -le "$(stat_of answer_us_p99)" ] &&
	[ "$(stat_of answer_us_p99)" -le "$(stat_of answer_us_max)" ]'
check "decide_us p50 <= p99 <= max, and decide <= answer at the max" \
	eval '[ "$(stat_of decide_us_p50)" -le "$(stat_of decide_us_p99)" ] &&
	[ "$(stat_of decide_us_p99)" -le "$(stat_of decide_us_max)" ] &&
	[ "$(stat_of decide_us_max)" -le "$(stat_of answer_us_max)" ]'
check "records = seq (nothing lost)" [ "$(stat_of records)" = "$(stat_of seq)" ]
stop_daemon
check "--perm: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
check "--perm: exit writes a stats record" last_is_stats "$OUT"
check "--perm: seq contiguous" seq_ok "$OUT"

# --stats-interval-ms 200: periodic records, between the events, in the one sequence.
OUT=$S/periodic.jsonl
start_daemon --stats-interval-ms 200 --watch "$W" || finish
check "three stats records within 5 s" $JSONL wait "$OUT" --timeout 5 --count 3 type=stats
for i in 1 2 3; do
	gen 50
	$JSONL wait "$OUT" --timeout 5 --count $((3 + i)) type=stats || fail "no stats record after gen $i"
done
sentinel || finish
stop_daemon
check "--stats-interval-ms: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
check "--stats-interval-ms: seq contiguous with the stats records among the events" seq_ok "$OUT"
check "--stats-interval-ms: the last record before the stop record is the exit's stats record" \
	last_is_stats "$OUT"
periodic() {
	"$PY" - "$OUT" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], "rb")]
st = [r for r in recs if r["type"] == "stats"][:-1]  # the last one is the exit's
ts = [r["ts_ms"] for r in st]
gaps = [b - a for a, b in zip(ts, ts[1:])]
# Never early (1 ms: wall-clock ms against the monotonic deadline), never far late.
if len(st) < 6 or min(gaps) < 199 or max(gaps) > 2000:
    print("# %d periodic records, gaps %s" % (len(st), gaps))
    sys.exit(1)
# Each one's records = its seq: it counts every record before it and itself.
if any(r["records"] != r["seq"] for r in st):
    sys.exit(1)
# Some fall between event records (not only before the first or after the last).
first_ev = min(r["seq"] for r in recs if r["type"] == "event")
last_ev = max(r["seq"] for r in recs if r["type"] == "event")
if not any(first_ev < r["seq"] < last_ev for r in st):
    print("# no stats record between events %d and %d" % (first_ev, last_ev))
    sys.exit(1)
print("# %d periodic records, gaps %d..%d ms" % (len(st), min(gaps), max(gaps)))
PY
}
check "--stats-interval-ms 200: one every 200 ms (never early), records = seq, among the events" periodic
finish
