# Output file safety where another user (nobody, 65534) can write to the output's
# directory: the daemon writes only to a regular file it owns with one link, never to one
# planted after a rotation (a 0666 file of theirs, a FIFO, a hard link, a symlink); at
# start such a path is an error exit naming the reason, on SIGHUP the old file is kept and
# the refusal logged. Nothing planted blocks the daemon, and SIGTERM stops it within a
# bounded time even while its output is a pipe nobody reads.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
DAEMON_TIMEOUT=60
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"

NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
# A world-writable directory without the sticky bit: others may create, rename and remove
# entries in it (fs.protected_regular does not apply without the sticky bit).
PUB=$S/pub
chmod 0755 "$IT_BASE_DIR"	# mktemp made it 0700: let nobody reach $PUB
mkdir "$PUB" && chmod 0777 "$PUB"
SLP= CAT=
cleanup_more() {
	for p in $SLP $CAT; do kill "$p" 2>/dev/null; done
	true
}

says() { grep -qF -- "$1" "$ERR"; }
# waitlog TEXT: TEXT shows in the daemon's stderr within 10 s.
waitlog() {
	local i
	for i in $(seq 1 500); do
		says "$1" && return 0
		sleep 0.02
	done
	return 1
}
# refused DESC TEXT ARGS...: the daemon exits 1 within 5 s, saying TEXT, with no pid file.
refused() {
	local what=$1 text=$2; shift 2
	rm -f "$PIDF"
	RC=0
	timeout -s KILL 5 "$FANOTIFYD" --foreground --pid-file "$PIDF" --watch "$W" "$@" \
		</dev/null >"$S/stdout" 2>"$ERR" || RC=$?
	check "$what: exit 1 within 5 s (got $RC; stderr: $(head -c 200 "$ERR" | tr '\n' ' '))" \
		[ "$RC" = 1 ]
	check "$what: says \"$text\"" says "$text"
	check "$what: no pid file" [ ! -e "$PIDF" ]
}
# stop_within SECS: SIGTERM, then wait at most SECS for the daemon to exit; STOP_MS is how
# long it took. One still running then is killed by its PID and DSTATUS is "hung".
stop_within() {
	local t0 i
	t0=$(now_ms)
	kill -TERM "$DPID" 2>/dev/null
	for i in $(seq 1 $(($1 * 50))); do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.02
	done
	STOP_MS=$(($(now_ms) - t0))
	if kill -0 "$DPID" 2>/dev/null; then
		kill -KILL "$DPID" 2>/dev/null
		wait "$TPID" 2>/dev/null
		DSTATUS=hung
	else
		DSTATUS=0
		wait "$TPID" 2>/dev/null || DSTATUS=$?
	fi
	DPID= TPID=
}

# --- start: what is at the output path is refused ------------------------------------------
OUT=$PUB/out.jsonl
$NOBODY sh -c 'umask 0; printf "%s\n" "{\"planted\":1}" >"$1"' sh "$OUT"
refused "another user's 0666 file" "owned by uid 65534" --output "$OUT"
check "another user's file: not written to" [ "$(cat "$OUT")" = '{"planted":1}' ]
rm -f "$OUT"

$NOBODY mkfifo -m 0666 "$OUT"
refused "a FIFO nobody reads" "not a regular file" --output "$OUT"
# The same FIFO with a reader of theirs waiting in open(): it gets nothing.
$NOBODY sh -c 'exec cat "$1" >"$2"' sh "$OUT" "$PUB/captured" &
CAT=$!
refused "a FIFO another user reads" "not a regular file" --output "$OUT"
check "a FIFO another user reads: nothing written to it" [ ! -s "$PUB/captured" ]
kill "$CAT" 2>/dev/null; wait "$CAT" 2>/dev/null; CAT=
rm -f "$OUT" "$PUB/captured"

echo '{"secret":1}' >"$S/secret" && chmod 0600 "$S/secret"
ln "$S/secret" "$OUT"
refused "a hard link to a file elsewhere" "has 2 links" --output "$OUT"
check "the hard-linked file is not written to" [ "$(cat "$S/secret")" = '{"secret":1}' ]
rm -f "$OUT"
ln -s "$S/secret" "$OUT"
refused "a symlink" "symbolic link" --output "$OUT"
check "the symlink's target is not written to" [ "$(cat "$S/secret")" = '{"secret":1}' ]
rm -f "$OUT"

# Our own file with a mode open to others: used, with group write and others' bits removed.
umask 000
: >"$OUT" && chmod 0666 "$OUT"
start_daemon --watch "$W" || finish
check "our own 0666 output: mode made 0640 (got $(stat -c %a "$OUT"))" \
	[ "$(stat -c %a "$OUT")" = 640 ]
umask 022

# --- SIGHUP: a file planted after the rotation is refused, the old file kept -----------------
: >"$W/a1"
sentinel || finish
mv "$OUT" "$OUT.1"
$NOBODY sh -c 'umask 0; : >"$1"' sh "$OUT"
kill -HUP "$DPID"
check "planted file: refusal logged" waitlog "cannot reopen $OUT: owned by uid 65534"
: >"$W/b1"
OUT=$PUB/out.jsonl.1 sentinel
check "planted file: records keep going to the old file" \
	[ "$($JSONL count "$OUT.1" type=event events~CREATE path="$W/b1")" = 1 ]
check "planted file: nothing written to it" [ ! -s "$OUT" ]
check "planted file: still theirs" [ "$(stat -c %u "$OUT")" = 65534 ]
# What the attacker then appends to their file never reaches ours.
$NOBODY sh -c 'echo "{\"type\":\"alert\",\"forged\":1}" >>"$1"' sh "$OUT"
check "old file has no forged record" [ "$($JSONL count "$OUT.1" forged=1)" = 0 ]

# A FIFO planted there: the reopen neither blocks the writer nor writes to it.
$NOBODY rm -f "$OUT"
$NOBODY mkfifo -m 0666 "$OUT"
kill -HUP "$DPID"
check "planted FIFO: refusal logged" waitlog "cannot reopen $OUT: not a regular file"
: >"$W/c1"
OUT=$PUB/out.jsonl.1 sentinel
check "planted FIFO: records keep going to the old file" \
	[ "$($JSONL count "$OUT.1" type=event events~CREATE path="$W/c1")" = 1 ]
$NOBODY sh -c 'exec cat "$1" >"$2"' sh "$OUT" "$PUB/captured" &
CAT=$!
kill -HUP "$DPID"
: >"$W/c2"
OUT=$PUB/out.jsonl.1 sentinel
check "planted FIFO with a reader: records keep going to the old file" \
	[ "$($JSONL count "$OUT.1" type=event events~CREATE path="$W/c2")" = 1 ]
check "planted FIFO with a reader: it gets nothing" [ ! -s "$PUB/captured" ]
kill "$CAT" 2>/dev/null; wait "$CAT" 2>/dev/null; CAT=
# Without a reader, a SIGHUP that finds the FIFO and then SIGTERM: stopped within seconds.
kill -HUP "$DPID"
stop_within 8
check "SIGTERM after a SIGHUP onto a FIFO: exit 0 within 5 s (took ${STOP_MS} ms, status $DSTATUS)" \
	eval '[ "$DSTATUS" = 0 ] && [ "$STOP_MS" -le 5000 ]'

# Once the path is clear, SIGHUP creates our own file there again.
rm -f "$OUT"
start_daemon --watch "$W" || finish
mv "$OUT" "$OUT.2"
kill -HUP "$DPID"
# Events the loop handles in the same turn as the SIGHUP go to the old file (their records
# are queued before the reopen): the new file must exist before the sentinel's event.
check "clean reopen: the new file is created" wait_file "$OUT"
: >"$W/d1"
sentinel
check "clean reopen: new file ours, mode 0640 or stricter (got $(stat -c '%u %a' "$OUT"))" \
	eval '[ "$(stat -c %u "$OUT")" = 0 ] && [ $((8#$(stat -c %a "$OUT") & ~8#640)) = 0 ]'
stop_within 8
check "clean reopen: SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --- a stalled stdout: fanotifyd -o - | (a reader that never reads) -------------------------
mkfifo "$S/stall"
sleep 1000 <"$S/stall" &
SLP=$!
rm -f "$PIDF"
timeout -s KILL "$DAEMON_TIMEOUT" "$FANOTIFYD" --foreground --pid-file "$PIDF" --output - \
	--watch "$W" >"$S/stall" 2>"$ERR" &
TPID=$!
wait_ready || finish
N=3000
"$PY" - "$W" "$N" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    open("%s/s%d" % (sys.argv[1], i), "w").close()
PY
# Every create recorded (far more than a pipe holds): the writer is then stuck in write().
stalled() {
	local i
	for i in $(seq 1 100); do
		stats_log || return 1 # stdout is stalled: the record cannot arrive
		[ "$(stat_of records)" -ge "$N" ] && return 0
		sleep 0.1
	done
	return 1
}
check "stalled stdout: $N records queued" stalled
echo "# stalled stdout: records=$(stat_of records) out_backlog_max_kib=$(stat_of out_backlog_max_kib)"
echo "# threads' wchan: $(for f in /proc/"$DPID"/task/*/wchan; do printf '%s ' "$(cat "$f")"; done)"
stop_within 8
check "stalled stdout: SIGTERM exits 0 within 5 s (took ${STOP_MS} ms, status $DSTATUS)" \
	eval '[ "$DSTATUS" = 0 ] && [ "$STOP_MS" -le 5000 ]'
check "stalled stdout: the abandoned bytes are logged" says "abandoning up to"
kill "$SLP" 2>/dev/null; wait "$SLP" 2>/dev/null; SLP=
finish
