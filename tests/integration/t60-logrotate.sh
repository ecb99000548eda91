# The shipped logrotate stanza (packaging/fanotifyd.logrotate, its paths moved into the
# test's tmpfs: the output directory, and a pid file the test controls) run for real with
# logrotate -f, twice, while the daemon records a steady stream of creates: the postrotate
# script finds the daemon by the pid file and HUPs it, the daemon opens a new file and its
# descriptor then refers to the new file (none to a rotated one), delaycompress leaves the
# newest rotated file plain and compresses the older, and across the three files, read in
# order, seq runs from 1 without a gap or a repeat and every file created has exactly one
# CREATE record. A stale pid file naming another program does not get it signalled.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
command -v logrotate >/dev/null || skip "logrotate missing (scripts/deps.sh installs it)"
setup
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"
STANZA=$HERE/../../packaging/fanotifyd.logrotate
LOGD=$S/log
mkdir -p "$LOGD" "$S/run"
OUT=$LOGD/fanotifyd.jsonl
PIDF=$S/run/fanotifyd.pid
sed -e "s|/var/log/fanotifyd|$LOGD|g" -e "s|/run/fanotifyd|$S/run|g" "$STANZA" >"$S/lr.conf"
moved() {
	[ "$(grep -c "$S" "$S/lr.conf")" -ge 2 ] &&
		! grep -v "$S" "$S/lr.conf" | grep -q '/var/log/fanotifyd\|/run/fanotifyd'
}
check "the test's stanza is the shipped one with its paths moved" moved

start_daemon --watch "$W" || finish

# The stream: a file created every ~millisecond until $S/stop exists; $S/made counts them.
"$PY" - "$W" "$S/stop" "$S/made" <<'PY' &
import os, sys, time
d, stop, made = sys.argv[1:4]
n = 0
while not os.path.exists(stop):
    os.close(os.open("%s/s%06d" % (d, n), os.O_WRONLY | os.O_CREAT, 0o644))
    n += 1
    time.sleep(0.001)
open(made, "w").write("%d\n" % n)
PY
WRITER=$!
SUBS="$SUBS $WRITER"

# out_fd_is PATH: within 10 s, a descriptor of the daemon is PATH's inode and none is a
# rotated file (PATH.N, PATH.N.gz).
out_fd_is() {
	local i l t ino
	for i in $(seq 1 500); do
		ino=$(stat -c %i "$1" 2>/dev/null)
		local cur=0 old=0
		for l in /proc/"$DPID"/fd/*; do
			t=$(readlink "$l") || continue
			case $t in
			"$1") [ "$(stat -L -c %i "$l" 2>/dev/null)" = "$ino" ] && cur=1 ;;
			"$1".*) old=1 ;;
			esac
		done
		[ "$cur" = 1 ] && [ "$old" = 0 ] && return 0
		sleep 0.02
	done
	ls -l /proc/"$DPID"/fd | sed 's/^/# /'
	return 1
}
rotate() {
	local rc=0
	$JSONL wait "$OUT" --timeout 10 type=event events~CREATE >/dev/null ||
		{ fail "rotation $1: nothing recorded before it"; return 1; }
	logrotate -f -s "$S/lr.state" "$S/lr.conf" >"$S/lr.$1.log" 2>&1 || rc=$?
	check "rotation $1: logrotate -f exits 0 (got $rc)" [ "$rc" = 0 ] ||
		sed 's/^/# /' "$S/lr.$1.log"
	check "rotation $1: the daemon made a new $OUT (postrotate HUP by the pid file)" \
		wait_file "$OUT"
	check "rotation $1: the daemon's descriptor is the new file's, none a rotated one" \
		out_fd_is "$OUT"
}
check "the stream is under way" wait_file "$W/s000100"
rotate 1
check "rotation 1: the old records are in $OUT.1" [ -s "$OUT.1" ]
rotate 2
check "rotation 2: the older file compressed ($OUT.2.gz)" [ -s "$OUT.2.gz" ]
plain() { [ -s "$OUT.1" ] && [ ! -e "$OUT.1.gz" ]; }
check "rotation 2: the newest rotated file left plain (delaycompress)" plain
check "the stream goes on into the new file" \
	$JSONL wait "$OUT" --timeout 10 type=event events~CREATE
: >"$S/stop"
wait "$WRITER"
sentinel || finish
stop_daemon
check "SIGTERM: exit 0" [ "$DSTATUS" = 0 ]
MADE=$(cat "$S/made")
echo "# $MADE files created; records: $(zcat "$OUT.2.gz" | wc -l) + $(wc -l <"$OUT.1") + $(wc -l <"$OUT")"

zcat "$OUT.2.gz" >"$S/all.jsonl"
cat "$OUT.1" "$OUT" >>"$S/all.jsonl"
check "no record lost or repeated: seq 1..N across .2.gz, .1 and the new file, in order" \
	"$PY" - "$S/all.jsonl" <<'PY'
import json, sys
seq = [json.loads(l)["seq"] for l in open(sys.argv[1], "rb")]
ok = seq == list(range(1, len(seq) + 1))
if not ok:
    gaps = [(a, b) for a, b in zip(seq, seq[1:]) if b != a + 1]
    print("# %d records, first %s, breaks %s" % (len(seq), seq[:1], gaps[:5]))
sys.exit(0 if ok else 1)
PY
check "every file created has exactly one CREATE record" "$PY" - "$S/all.jsonl" "$W" "$MADE" <<'PY'
import json, sys
out, w, made = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = {}
for l in open(out, "rb"):
    r = json.loads(l)
    if r.get("type") == "event" and "CREATE" in r["events"].split(","):
        c[r["path"]] = c.get(r["path"], 0) + 1
bad = [i for i in range(made) if c.get("%s/s%06d" % (w, i)) != 1]
if bad:
    print("# %d of %d files without exactly one CREATE, e.g. s%06d" % (len(bad), made, bad[0]))
sys.exit(1 if bad else 0)
PY

# A stale pid file (the daemon gone, its pid now another program's): the postrotate script
# must not HUP that program, which SIGHUP would kill.
sleep 60 &
SLEEPER=$!
SUBS="$SUBS $SLEEPER"
echo "$SLEEPER" >"$PIDF"
logrotate -f -s "$S/lr.state" "$S/lr.conf" >"$S/lr.stale.log" 2>&1
check "a stale pid file naming another program: that program is not signalled" \
	kill -0 "$SLEEPER"
finish
