# A pipeline off the host, end to end: the shipped rsyslog configs (examples/rsyslog/, their
# paths and port moved into the test's tmpfs and a free loopback port) run as two private
# rsyslogd instances. The sender tails the daemon's JSON Lines (imfile), checks each line
# with mmjsonparse and forwards it over RELP through a disk queue; the receiver writes one
# file per host. Meanwhile: a steady stream of records, a > 8 KiB record (a rename between
# two long paths of escaped control bytes) and hostile names (invalid and valid UTF-8),
# logrotate -f twice (the packaged stanza, as t60 runs it), the receiver stopped (records
# wait in the sender's disk queue, more of them and for longer than a default-size action
# queue keeps), the daemon restarted while it is away (a second run) and the receiver back. At the end the receiver's file is byte for byte the daemon's output
# (all rotated files in order): every record exactly once, in order; seq runs on without a
# gap within each run (grouped by run_id where records carry it, else split where seq goes
# back to 1).
. "$(dirname "$0")/lib.sh"
require_fanotify fid
command -v rsyslogd >/dev/null ||
	skip "rsyslogd missing (scripts/deps.sh installs rsyslog and rsyslog-relp)"
command -v logrotate >/dev/null || skip "logrotate missing (scripts/deps.sh installs it)"
for m in imfile mmjsonparse omrelp imrelp; do
	set -- /usr/lib/*/rsyslog/"$m".so /usr/lib/rsyslog/"$m".so /usr/lib64/rsyslog/"$m".so
	for f; do [ -e "$f" ] && continue 2; done
	skip "rsyslog module $m missing (Debian: packages rsyslog, rsyslog-relp)"
done
setup
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"
T_START=$(date +%s)
EX=$HERE/../../examples/rsyslog
STANZA=$HERE/../../packaging/fanotifyd.logrotate
LOGD=$S/log SND=$S/snd RCV=$S/rcv HOSTS=$S/hosts
mkdir -p "$LOGD" "$S/run" "$SND" "$RCV" "$HOSTS"
OUT=$LOGD/fanotifyd.jsonl
PIDF=$S/run/fanotifyd.pid
SPID=$S/run/sender.pid RPID=$S/run/receiver.pid
# A free loopback port (the kernel's pick; free again once this socket closes).
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')

# The shipped files, their paths and port moved; nothing of the host's left in them.
sed -e "s|/var/log/fanotifyd/|$LOGD/|g" -e "s|/var/spool/fanotifyd-sender|$SND|g" \
	-e "s|port=\"2514\"|port=\"$PORT\"|" "$EX/fanotifyd-sender.conf" >"$S/sender.conf"
sed -e "s|/var/log/fanotifyd-hosts|$HOSTS|g" -e "s|/var/spool/fanotifyd-receiver|$RCV|g" \
	-e "s|port=\"2514\"|port=\"$PORT\"|" "$EX/fanotifyd-receiver.conf" >"$S/receiver.conf"
sed -e "s|/var/log/fanotifyd|$LOGD|g" -e "s|/run/fanotifyd|$S/run|g" "$STANZA" >"$S/lr.conf"
moved() {
	! grep -h '/var/\|/run/\|"2514"' "$S/sender.conf" "$S/receiver.conf" |
		grep -v '^[[:space:]]*#' | grep -q . &&
		[ "$(grep -c "port=\"$PORT\"" "$S/sender.conf" "$S/receiver.conf" | grep -c ':1$')" = 2 ]
}
check "the configs are the shipped ones with paths and port moved" moved
check "rsyslogd -N1 accepts the sender config" rsyslogd -N1 -f "$S/sender.conf" 2>>"$S/n1.err"
check "rsyslogd -N1 accepts the receiver config" rsyslogd -N1 -f "$S/receiver.conf" 2>>"$S/n1.err"

# rsyslogd instances: -n (foreground) under timeout, stopped by the PID they wrote.
RS_SND='' RS_RCV=''
# rs_start NAME CONF PIDFILE: sets RS_<NAME>'s background pid; ready once the pid file is.
rs_start() {
	rm -f "$3"
	timeout -s KILL 90 rsyslogd -n -f "$2" -i "$3" >>"$S/$1.err" 2>&1 &
	local t=$! i
	case $1 in snd) RS_SND=$t ;; rcv) RS_RCV=$t ;; esac
	for i in $(seq 1 500); do
		[ -s "$3" ] && return 0
		kill -0 "$t" 2>/dev/null || { tail -n 5 "$S/$1.err" | sed 's/^/# /'; return 1; }
		sleep 0.02
	done
	return 1
}
rs_stop() {
	local p t
	case $1 in snd) t=$RS_SND; p=$SPID ;; rcv) t=$RS_RCV; p=$RPID ;; esac
	[ -n "$t" ] || return 0
	# by the pid it wrote; without one, through its timeout(1), which passes TERM on
	if [ -s "$p" ]; then kill -TERM "$(cat "$p")" 2>/dev/null; else kill -TERM "$t"; fi
	wait "$t" 2>/dev/null
	case $1 in snd) RS_SND= ;; rcv) RS_RCV= ;; esac
}
listening() {
	"$PY" - "$PORT" <<'PY'
import socket, sys, time
for _ in range(500):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.02)
sys.exit(1)
PY
}
cleanup_more() { rs_stop snd; rs_stop rcv; }
recv_lines() { cat "$HOSTS"/* 2>/dev/null | wc -l; }
out_lines() { { zcat "$OUT".*.gz 2>/dev/null; cat "$OUT".1 "$OUT" 2>/dev/null; } | wc -l; }
# wait_recv N: the receiver holds at least N lines within 20 s.
wait_recv() {
	local i
	for i in $(seq 1 1000); do
		[ "$(recv_lines)" -ge "$1" ] && return 0
		sleep 0.02
	done
	echo "# receiver: $(recv_lines) lines, want $1"
	return 1
}

check "receiver starts" rs_start rcv "$S/receiver.conf" "$RPID" || finish
check "receiver listens on 127.0.0.1:$PORT" listening || finish
check "sender starts" rs_start snd "$S/sender.conf" "$SPID" || finish
start_daemon --filesystem "$W" || finish

# The stream: a file created every ~2 ms until $S/stop exists.
"$PY" - "$W" "$S/stop" <<'PY' &
import os, sys, time
d, stop = sys.argv[1:3]
n = 0
while not os.path.exists(stop):
    os.close(os.open("%s/s%06d" % (d, n), os.O_WRONLY | os.O_CREAT, 0o644))
    n += 1
    time.sleep(0.002)
PY
WRITER=$!
SUBS="$SUBS $WRITER"

rotate() {
	local rc=0
	logrotate -f -s "$S/lr.state" "$S/lr.conf" >"$S/lr.$1.log" 2>&1 || rc=$?
	check "rotation $1: logrotate -f exits 0 (got $rc)" [ "$rc" = 0 ] ||
		sed 's/^/# /' "$S/lr.$1.log"
	check "rotation $1: the daemon made a new $OUT" wait_file "$OUT"
}

check "records reach the receiver" wait_recv 100
rotate 1

# A record longer than 8 KiB (rsyslog's default message size): a rename between two paths
# of ~3000 bytes of control bytes, each escaped as 6 bytes; and hostile names.
"$PY" - "$W" <<'PY' || fail "making the long and hostile names"
import os, sys
w = os.fsencode(sys.argv[1])
comp = bytes(range(1, 32)) * 8          # 248 bytes, each escaped as \u00XX
d = os.path.join(w, b"long")
for i in range(12):
    d = os.path.join(d, comp)
os.makedirs(d)
a, b = os.path.join(d, b"a-\xff\xfe"), os.path.join(d, b"b-\xc3\xa9\xe2\x80\xa8")
open(a, "wb").close()
os.rename(a, b)
for n in [b'q"uote\\', b"nl\nname", b"ff\xff", b"caf\xc3\xa9-\xf0\x9f\x98\x80", b"\x7f"]:
    open(os.path.join(w, n), "wb").close()
PY
long_record() {
	"$PY" - "$OUT" <<'PY'
import sys
n = max((len(l) for l in open(sys.argv[1], "rb") if b'"old_path"' in l), default=0)
print("# longest rename record: %d bytes" % n)
sys.exit(0 if n > 8192 else 1)
PY
}
sentinel || finish
check "the rename record is longer than 8 KiB" long_record

# The receiver goes away; records pile up in the sender's disk queue.
rs_stop rcv
AT_STOP=$(recv_lines) OUT_AT_STOP=$(out_lines)
sentinel || finish
# queued PATTERN: within 10 s, the sender's disk queue files hold PATTERN (a record not yet
# delivered: its text is stored as is).
queued() {
	local i
	for i in $(seq 1 500); do
		cat "$SND"/fanotifyd_fwd.0* 2>/dev/null | grep -q -F -- "$1" && return 0
		sleep 0.02
	done
	return 1
}
check "the receiver away: the newest record waits in the sender's disk queue" \
	queued "\"path\":\"$W/.sentinel-$SENTINEL_N\""
# A second run of the daemon: seq starts again.
stop_daemon
check "first run: SIGTERM exit 0" [ "$DSTATUS" = 0 ]
start_daemon --filesystem "$W" || finish
sentinel || finish
rotate 2
check "rotation 2: the older file compressed ($OUT.2.gz)" [ -s "$OUT.2.gz" ]
sentinel || finish
# grown N: within 10 s, the daemon has written N more records since the receiver stopped.
grown() {
	local i
	for i in $(seq 1 500); do
		[ "$(out_lines)" -ge $((OUT_AT_STOP + $1)) ] && return 0
		sleep 0.02
	done
	return 1
}
# More than an action queue's default 1000 records, and for longer than the 2 s rsyslog
# waits for room in a full queue before it discards: the shipped queue.size must hold them.
check "1500 records written while the receiver is away" grown 1500
sleep 3
check "the receiver is really away: its file did not grow" [ "$(recv_lines)" = "$AT_STOP" ]
check "receiver restarts" rs_start rcv "$S/receiver.conf" "$RPID" || finish
sleep 0.3
: >"$S/stop"
wait "$WRITER"
sentinel || finish
stop_daemon
check "second run: SIGTERM exit 0" [ "$DSTATUS" = 0 ]

zcat "$OUT.2.gz" >"$S/all.jsonl"
cat "$OUT.1" "$OUT" >>"$S/all.jsonl"
TOTAL=$(wc -l <"$S/all.jsonl")
check "the receiver catches up: $TOTAL records" wait_recv "$TOTAL"
sleep 0.5	# a duplicate or a straggler would land now
echo "# $TOTAL records; $AT_STOP at the receiver when it stopped;" \
	"$(($(date +%s) - T_START)) s so far"

one_file() {
	local f
	f=$(ls "$HOSTS")
	[ "$(echo "$f" | wc -l)" = 1 ] &&
		{ [ "$f" = "$(hostname).jsonl" ] || [ "$f" = "$(hostname -s).jsonl" ]; } ||
		{ echo "# receiver files: $f"; return 1; }
}
check "the receiver wrote one file, named after the host" one_file
check "every record arrived exactly once, in order, byte for byte" \
	cmp "$S/all.jsonl" "$HOSTS/$(ls "$HOSTS" | head -n 1)"
check "the > 8 KiB record arrived whole" "$PY" - "$HOSTS/$(ls "$HOSTS" | head -n 1)" <<'PY'
import json, sys
n = [len(l) for l in open(sys.argv[1], "rb") if b'"old_path"' in l and len(l) > 8192]
sys.exit(0 if n and all(json.loads(l) for l in open(sys.argv[1], "rb")) else 1)
PY
# Each hostile name, and the rename's two long paths, recovered byte for byte from what the
# receiver wrote: from the string (its surrogate escapes back to bytes) or, where a record
# carries one, from the <field>_raw byte array.
check "hostile names and the long paths recovered exactly at the receiver" \
	"$PY" - "$HOSTS/$(ls "$HOSTS" | head -n 1)" "$W" <<'PY'
import json, os, sys
w = os.fsencode(sys.argv[2])
got = set()
for l in open(sys.argv[1], "rb"):
    r = json.loads(l)
    for k in ("path", "old_path"):
        if k + "_raw" in r:
            got.add(bytes(r[k + "_raw"]))
        elif isinstance(r.get(k), str):
            got.add(r[k].encode("utf-8", "surrogateescape"))
comp = bytes(range(1, 32)) * 8
d = os.path.join(w, b"long", *[comp] * 12)
want = [os.path.join(d, b"a-\xff\xfe"), os.path.join(d, b"b-\xc3\xa9\xe2\x80\xa8")] + \
    [os.path.join(w, n) for n in [b'q"uote\\', b"nl\nname", b"ff\xff",
                                  b"caf\xc3\xa9-\xf0\x9f\x98\x80", b"\x7f"]]
miss = [p for p in want if p not in got]
for p in miss:
    print("# missing: %r" % p[-40:])
sys.exit(1 if miss else 0)
PY
check "the sender's mmjsonparse took every line (no invalid.jsonl)" [ ! -s "$SND/invalid.jsonl" ]
check "seq contiguous per run; two runs" "$PY" - "$HOSTS/$(ls "$HOSTS" | head -n 1)" <<'PY'
import json, sys
runs, order, cur, last = {}, [], None, None
for l in open(sys.argv[1], "rb"):
    r = json.loads(l)
    if "run_id" in r:
        key = last = r["run_id"]
    elif last is not None:
        # only some records carry it (the lifecycle ones): the run of the last one seen
        key = last
    else:
        # no run_id: a new run wherever seq goes back to 1
        if cur is None or r["seq"] == 1:
            cur = len(order)
        key = cur
    if key not in runs:
        runs[key] = []
        order.append(key)
    runs[key].append(r["seq"])
bad = 0
for k in order:
    s = runs[k]
    breaks = [(a, b) for a, b in zip(s, s[1:]) if b != a + 1]
    if s[0] not in (0, 1) or breaks:
        print("# run %s: first seq %d, breaks %s" % (k, s[0], breaks[:5]))
        bad = 1
print("# runs: %s" % [len(runs[k]) for k in order])
sys.exit(1 if bad or len(order) != 2 else 0)
PY
ELAPSED=$(($(date +%s) - T_START))
check "the test took under 60 s ($ELAPSED s)" [ "$ELAPSED" -lt 60 ]
finish
