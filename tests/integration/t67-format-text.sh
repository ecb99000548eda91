# --format text: one short human line per record. Every record kind (event, rename old ->
# new, job, canary alert, deny, dropped, stats); one line per record (as many lines as the
# JSON subscriber got records); no colour into a file, colour under a pty, none with
# NO_COLOR; the config key as well as the option; hostile names (t30's) escaped, checked
# against an independent escaper, and no raw control byte in the output (od); and
# `--subscribe --format text` prints the same lines as the daemon's own output.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"
SOCK=$S/sock
OUT=$S/out.txt
TIME='[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]{3}'

# twait FILE STRING: a line of FILE holds STRING within 10 s (a read with a deadline).
twait() {
	local i
	for i in $(seq 1 500); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.02
	done
	return 1
}
# tsentinel [FILE]: like lib.sh's sentinel, for text output (default $OUT): a new file's
# CLOSE_WRITE line is in FILE, so every earlier record of the group is too.
TSN=0
tsentinel() {
	TSN=$((TSN + 1))
	local f=$W/.sentinel-$TSN i
	: >"$f"
	for i in $(seq 1 500); do
		grep -F -- "] $f" "${1:-$OUT}" 2>/dev/null | grep -q CLOSE_WRITE && return 0
		sleep 0.02
	done
	fail "sentinel $f never shown in ${1:-$OUT}"
	return 1
}
has_re() { grep -qE -- "$1" "${2:-$OUT}"; }
# The output here is text: finish checks only what it reads as JSON Lines (the subscribers').
eval "$(declare -f finish | sed '1s/^finish/lib_finish/')"
finish() { OUT= lib_finish; }
# records FILE: FILE's lines but the start record's (a subscriber, connected later, never
# gets that one).
records() { grep -vE '^[0-9:.]+ START ' "$1"; }
no_esc() { ! grep -q $'\033' "$1"; }
# raw_ctl FILE: FILE's control bytes other than newline, as od shows them (none: empty).
raw_ctl() { od -An -v -tx1 "$1" | tr -s ' ' '\n' | grep -E '^(0[0-9a-f]|1[0-9a-f]|7f)$' | grep -vx 0a; }
no_raw_ctl() { [ -z "$(raw_ctl "$1")" ]; }

# --- 1. Every kind of record, the config key, one line per record, the client's lines.
mkdir "$W/ws"
cat >"$S/conf" <<EOC
format text
job build
workspace $W/ws
EOC
# Local time in a zone nine hours from UTC (a POSIX TZ string: no zone file needed), for the
# daemon and both clients.
export TZ=JST-9
start_daemon -c "$S/conf" --watch "$W" --watch "$W/ws" --canary "$W/canary*" \
	--socket "$SOCK" || finish
BASE=$(nsock)
timeout 60 "$FANOTIFYD" --subscribe "$SOCK" >"$S/sub.jsonl" 2>"$S/sub.err" &
SUBJ=$!
timeout 60 "$FANOTIFYD" --subscribe "$SOCK" --format text >"$S/sub.txt" 2>"$S/subt.err" &
SUBT=$!
SUBS="$SUBS $SUBJ $SUBT"
check "both subscribers accepted" wait_nsock $((BASE + 2))
echo hi >"$W/a"
mv "$W/a" "$W/b"
echo x >"$W/ws/jobfile"
touch "$W/canary1"
printf -v EVIL 'esc\033[31mred\nnl\tb\\s'
: >"$W/$EVIL"
tsentinel || finish
kill -USR1 "$DPID"
check "a stats line after SIGUSR1" twait "$OUT" " STATS events="
stop_daemon
wait "$SUBJ" "$SUBT"
check "daemon exit status 0" [ "$DSTATUS" = 0 ]
echo "# $(wc -l <"$OUT") lines; first: $(head -n 1 "$OUT")"
check "event: time, events, comm[pid], path" has_re "^$TIME CREATE bash\[[0-9]+\] $W/a\$"
# A short-lived process may be gone before its event is read: comm "?" (t35 measures it).
check "rename: old -> new" has_re "^$TIME RENAME (mv|\?)\[[0-9]+\] $W/a -> $W/b\$"
check "job: job=ID:role" has_re "^$TIME ([A-Z_]+,)*CLOSE_WRITE(,[A-Z_]+)* bash\[[0-9]+\] $W/ws/jobfile job=build:workspace\$"
check "canary alert: ALERT canary" has_re "^$TIME ALERT canary (touch|\?)\[[0-9]+\] $W/canary1\$"
check "stats line" has_re "^$TIME STATS events=[0-9]+ records=[0-9]+ alerts=[1-9][0-9]* denied=0 dropped=0\$"
check "control bytes in a name escaped" grep -qF "] $W/esc\\x1b[31mred\\nnl\\tb\\\\s" "$OUT"
TS1=$("$PY" -c 'import json, sys; print(json.loads(open(sys.argv[1]).readline())["ts_ms"])' \
	"$S/sub.jsonl")
WANT="$(date -d "@$((TS1 / 1000))" +%H:%M:%S).$(printf %03d $((TS1 % 1000)))"
check "local time: the first line's is the first record's ts_ms in TZ ($WANT)" \
	[ "$(records "$OUT" | head -n 1 | cut -d ' ' -f 1)" = "$WANT" ]
check "every line is a record line (time, then a word)" \
	bash -c '! grep -vE "^$1 [A-Z?]" "$2"' _ "$TIME" "$OUT"
NJ=$(grep -c '' "$S/sub.jsonl")
check "one line per record: $(records "$OUT" | grep -c '') lines (and START) = $NJ JSON records" \
	[ "$(records "$OUT" | grep -c '')" = "$NJ" ]
check "the start record's line comes first" grep -qE "^$TIME START " <(head -n 1 "$OUT")
check "no colour into a file" no_esc "$OUT"
check "od: no raw control byte but newline" no_raw_ctl "$OUT"
check "subscriber JSON is still JSON Lines" $JSONL valid "$S/sub.jsonl"
check "--subscribe --format text: as many lines as the JSON subscriber's records" \
	[ "$(grep -c '' "$S/sub.txt")" = "$NJ" ]
# The client's lines end the daemon's (a record before it connected would be missing).
same_tail() { tail -c "$(stat -c %s "$2")" "$1" | cmp -s - "$2"; }
check "--subscribe --format text prints the daemon's own lines" same_tail "$OUT" "$S/sub.txt"
check "the client's lines hold the workload" grep -qF "RENAME" "$S/sub.txt"

unset TZ

# --- 2. t30's hostile names: escaped as an independent escaper says, one line each.
HPY=$S/hostile.py
cat >"$HPY" <<'PY'
import os, re, sys

W = os.fsencode(sys.argv[2])

def names():
    n = [b"nl\nname", b"\n", b"trailing-nl\n", b'q"uote', b"back\\slash", b"\\u0041",
         b"\\udcff", b"t\tab", b"\r", b"ff\xff", b"c3\xc3\x28", b"surrogate\xed\xa0\x80",
         b"above-max\xf4\x90\x80\x80", b"lone\x80", b"\x80", b"\xff\xfe", b"trunc\xe6\x97",
         b"overlong\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"mix\xc3\xa9\xff\xe6\x97\xa5",
         "é".encode(), "日本".encode(), "caf\u00e9-\U0001F600".encode(), "\u00a0nbsp".encode(),
         b"n" * 255, b"\xff" * 255, b"\x01" * 255, b"\\" * 255, b"$(touch PWNED);x",
         b"csi\xc2\x9b31m", b"bidi\xe2\x80\xaefdp", b"osc\x1b]0;title\x07"]
    n += [b"c" + bytes([i]) + b"x" for i in list(range(1, 0x20)) + [0x7f]]
    return n

def esc(b):
    # The reference: decode strictly, code point by code point.
    out, i = [], 0
    while i < len(b):
        for ln in (1, 2, 3, 4):
            try:
                ch = b[i:i + ln].decode("utf-8", "strict")
                break
            except UnicodeDecodeError:
                ch = None
        if ch is None or len(ch) != 1:
            out.append("\\x%02x" % b[i]); i += 1; continue
        cp = ord(ch)
        if ch == "\\": out.append("\\\\")
        elif ch == "\n": out.append("\\n")
        elif ch == "\t": out.append("\\t")
        elif ch == "\r": out.append("\\r")
        elif cp < 0x20 or cp == 0x7f: out.append("\\x%02x" % cp)
        elif 0x80 <= cp <= 0x9f or 0x202a <= cp <= 0x202e or 0x2066 <= cp <= 0x2069:
            out.append("\\u%04x" % cp)
        else: out.append(ch)
        i += len(ch.encode())
    return "".join(out).encode()

if sys.argv[1] == "create":
    for n in names():
        with open(W + b"/" + n, "wb") as f:
            f.write(b"x")
else:
    text = open(sys.argv[3], "rb").read()
    text.decode("utf-8", "strict")  # the whole output is valid UTF-8
    lines = text.split(b"\n")
    bad = 0
    for n in names():
        want = b"] " + esc(W + b"/" + n)
        if not any(l.endswith(want) and b"CLOSE_WRITE" in l.split(b" ")[1].split(b",")
                   for l in lines):
            bad += 1
            print("#   no line ending %r" % want[-80:])
    sys.exit(1 if bad else 0)
PY
rm -f "$OUT"
start_daemon --format text --watch "$W" --socket "$SOCK" || finish
BASE=$(nsock)
timeout 60 "$FANOTIFYD" --subscribe "$SOCK" >"$S/sub2.jsonl" 2>"$S/sub.err" &
SUBJ=$!
SUBS="$SUBS $SUBJ"
check "hostile: subscriber accepted" wait_nsock $((BASE + 1))
"$PY" "$HPY" create "$W" || fail "creating hostile names"
tsentinel || finish
stop_daemon
wait "$SUBJ"
check "hostile: every name's line as the reference escaper writes it, valid UTF-8" \
	"$PY" "$HPY" check "$W" "$OUT"
check "hostile: od: no raw control byte but newline" no_raw_ctl "$OUT"
check "hostile: one line per record ($(grep -c '' "$S/sub2.jsonl") records)" \
	[ "$(records "$OUT" | grep -c '')" = "$(grep -c '' "$S/sub2.jsonl")" ]
find "$W" -mindepth 1 -maxdepth 1 ! -name ws -exec rm -rf {} +

# --- 3. Colour under a pty (alerts red), none with NO_COLOR. The daemon writes to stdout,
# a pty's slave; the helper copies the master to a file until the daemon exits.
PTYPY=$S/ptyrun.py
cat >"$PTYPY" <<'PY'
import os, pty, subprocess, sys
cap, err = sys.argv[1], sys.argv[2]
m, s = pty.openpty()
p = subprocess.Popen(sys.argv[3:], stdin=subprocess.DEVNULL, stdout=s,
                     stderr=open(err, "wb"))
os.close(s)
with open(cap, "wb", buffering=0) as f:
    while True:
        try:
            d = os.read(m, 65536)
        except OSError:  # EIO: the slave side is closed
            break
        if not d:
            break
        f.write(d)
sys.exit(p.wait())
PY
# on_pty CAPTURE [ENV...]: the daemon under a pty, its output in CAPTURE.
on_pty() {
	local cap=$1
	shift
	rm -f "$PIDF" "$cap"
	: >"$cap"
	env "$@" timeout -s KILL 60 "$PY" "$PTYPY" "$cap" "$ERR" "$FANOTIFYD" --foreground \
		--pid-file "$PIDF" --output - --format text --watch "$W" \
		--canary "$W/canary*" &
	TPID=$!
	wait_ready || return 1
	touch "$W/canary-pty"
	tsentinel "$cap" || return 1
	stop_daemon
	rm -f "$W/canary-pty"
}
on_pty "$S/pty.txt" NO_COLOR= || finish
echo "# pty: $(grep -a 'ALERT' "$S/pty.txt" | head -n 1 | od -An -c | head -n 2 | tr -s ' \n' ' ')"
check "pty: the alert line is red" grep -qaF $'\033[31m' "$S/pty.txt"
check "pty: ... and reset at its end" grep -qaF $'\033[0m' "$S/pty.txt"
check "pty: an observe line has no colour" \
	grep -qaE "^$TIME CREATE (touch|\?)\[[0-9]+\] $W/canary-pty" "$S/pty.txt"
on_pty "$S/nocolor.txt" NO_COLOR=1 || finish
check "pty with NO_COLOR: the alert line is there" grep -qaF "ALERT canary" "$S/nocolor.txt"
check "pty with NO_COLOR: no colour" no_esc "$S/nocolor.txt"

# --- 4. A denial (permission events).
if have_fanotify perm; then
	rm -f "$OUT"
	echo secret >"$W/canary-deny"
	start_daemon --format text --perm --deny-on-alert --watch "$W" --canary "$W/canary*" ||
		finish
	if timeout 5 cat "$W/canary-deny" >/dev/null 2>&1; then
		fail "the canary was not denied"
	fi
	check "deny: DENY line with events, comm[pid], path" twait "$OUT" "DENY OPEN_PERM "
	check "deny: its form" has_re "^$TIME DENY OPEN_PERM (cat|\?)\[[0-9]+\] $W/canary-deny( \(.*\))?\$"
	stop_daemon
fi

# --- 5. A dropped notice: the output on a full filesystem, then room again.
FULL=$S/full
mkdir "$FULL"
mount -t tmpfs -o size=128k,mode=0755 fanotifyd-full "$FULL" || { fail "mount 128k tmpfs"; finish; }
cleanup_more() { umount -l "$FULL" 2>/dev/null; true; }
OUT=$FULL/out.txt
N=1500
start_daemon --format text --watch "$W" || finish
"$PY" - "$W" "$N" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    with open("%s/f%d" % (sys.argv[1], i), "w") as f:
        f.write("x")
PY
wrote_all() {
	local i
	for i in $(seq 1 100); do
		stats_log || return 1
		grep -q "output: write failed" "$ERR" && [ "$(stat_of records)" -ge "$N" ] && return 0
		sleep 0.1
	done
	return 1
}
check "full: write failures logged" wrote_all
mount -o remount,size=64m "$FULL" || fail "remount 64m"
tsentinel || finish
tsentinel || finish
check "dropped: DROPPED N records (the write failure)" \
	has_re "^$TIME DROPPED [0-9]+ records \(output write failed: No space left on device\)\$"
stop_daemon
finish
