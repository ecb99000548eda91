# SIGUSR1 counters: one "stats:" line whose figures agree with what the daemon wrote.
# Observe mode: records = the lines in the output, events >= the files' events, every
# record attributed to a live process counted in exe_known, the output queue's memory
# (out_buf_kib >= out_backlog_max_kib > 0 after a burst of records). --perm: every open
# answered and counted, with latency quantiles in order (p50 <= p99 <= max).
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
N=300

start_daemon --watch "$W" || finish
python3 - "$W" "$N" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    with open("%s/f%d" % (sys.argv[1], i), "w") as f:
        f.write("x")
PY
sentinel || finish
stats || finish
lines=$(wc -l <"$OUT")
check "records = the $lines lines written (got $(stat_of records))" [ "$(stat_of records)" = "$lines" ]
check "events >= one per file" \
	[ "$(stat_of events)" -ge "$N" ]
check "exe_known counted (python was alive for each of its records)" [ "$(stat_of exe_known)" -ge "$N" ]
check "no overflow, nothing dropped" \
	eval '[ "$(stat_of overflows)" = 0 ] && [ "$(stat_of dropped_records)" = 0 ]'
check "out_backlog_max_kib > 0 after $lines records" [ "$(stat_of out_backlog_max_kib)" -gt 0 ]
check "out_buf_kib >= out_backlog_max_kib" \
	[ "$(stat_of out_buf_kib)" -ge "$(stat_of out_backlog_max_kib)" ]
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --perm: answers counted, latency quantiles ordered.
OUT=$S/perm.jsonl
start_daemon --perm --watch "$W" || finish
for i in $(seq 0 19); do reads "$W/f$i" || fail "read $i did not complete"; done
psentinel || finish
stats || finish
check "perm_answered >= 20 opens (got $(stat_of perm_answered))" [ "$(stat_of perm_answered)" -ge 20 ]
check "perm_answered = the OPEN_PERM records ($(count events~OPEN_PERM))" \
	[ "$(stat_of perm_answered)" = "$(count events~OPEN_PERM)" ]
check "nothing denied, no answer error" \
	eval '[ "$(stat_of perm_denied)" = 0 ] && [ "$(stat_of answer_errors)" = 0 ]'
check "answer_us p50 <= p99 <= max" \
	eval '[ "$(stat_of answer_us_p50)" -le "$(stat_of answer_us_p99)" ] &&
	[ "$(stat_of answer_us_p99)" -le "$(stat_of answer_us_max)" ]'
check "decide_us p50 <= p99 <= max, and decide <= answer at the max" \
	eval '[ "$(stat_of decide_us_p50)" -le "$(stat_of decide_us_p99)" ] &&
	[ "$(stat_of decide_us_p99)" -le "$(stat_of decide_us_max)" ] &&
	[ "$(stat_of decide_us_max)" -le "$(stat_of answer_us_max)" ]'
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
