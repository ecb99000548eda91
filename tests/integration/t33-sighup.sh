# SIGHUP reopens the output: after `mv out out.1; kill -HUP`, records go to a new out
# (created mode 0640 or stricter), earlier ones stay in out.1, none is lost or duplicated
# across the two. The output is appended to, never truncated.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup

# mode_at_most FILE: no permission bit outside 0640
mode_at_most_0640() {
	local m
	m=$(stat -c %a "$1") || return 1
	echo "# $(basename "$1") mode $m"
	[ $((8#$m & ~8#640)) = 0 ]
}
# wait_file FILE: poll for its existence, 10 s deadline
wait_file() {
	local i
	for i in $(seq 1 500); do
		[ -e "$1" ] && return 0
		sleep 0.02
	done
	return 1
}
creates_in() { $JSONL count "$1" type=event events~CREATE path="$2"; }

# umask 0: the file mode is whatever the daemon asks for, not what our umask hides
umask 000
start_daemon --watch "$W" || finish
check "output created by the daemon is mode 0640 or stricter" mode_at_most_0640 "$OUT"
for i in 1 2 3 4 5; do : >"$W/a$i"; done
sentinel || finish

mv "$OUT" "$OUT.1"
kill -HUP "$DPID"
# racing with the reopen: each lands in exactly one of the two files
for i in $(seq 1 50); do : >"$W/b$i"; done
check "SIGHUP: daemon creates a new output file" wait_file "$OUT"
for i in 1 2 3 4 5; do : >"$W/c$i"; done
sentinel || finish
check "new output is mode 0640 or stricter" mode_at_most_0640 "$OUT"
check "old output is valid JSONL" $JSONL valid "$OUT.1"
check "new output is valid JSONL" $JSONL valid "$OUT"

bad=
for i in 1 2 3 4 5; do
	[ "$(creates_in "$OUT.1" "$W/a$i")" = 1 ] && [ "$(creates_in "$OUT" "$W/a$i")" = 0 ] || bad="$bad a$i"
done
check "records from before SIGHUP stay in the old file only${bad:+ (wrong:$bad)}" [ -z "$bad" ]
bad=
for i in 1 2 3 4 5; do
	[ "$(creates_in "$OUT" "$W/c$i")" = 1 ] && [ "$(creates_in "$OUT.1" "$W/c$i")" = 0 ] || bad="$bad c$i"
done
check "records from after the reopen are in the new file only${bad:+ (wrong:$bad)}" [ -z "$bad" ]
bad=
for i in $(seq 1 50); do
	[ $(($(creates_in "$OUT" "$W/b$i") + $(creates_in "$OUT.1" "$W/b$i"))) = 1 ] || bad="$bad b$i"
done
check "records racing the reopen are in exactly one file${bad:+ (wrong:$bad)}" [ -z "$bad" ]
echo "# racing records: $($JSONL count "$OUT.1" 'path^='"$W/b") old, $($JSONL count "$OUT" 'path^='"$W/b") new"
# seq numbers every record: across the two files they must run without a gap or a repeat,
# and the old file must end where the new one begins.
check "seq contiguous across old+new output, split cleanly at the reopen" python3 - "$OUT.1" "$OUT" <<'PY'
import json, sys
old = [json.loads(l)["seq"] for l in open(sys.argv[1], "rb")]
new = [json.loads(l)["seq"] for l in open(sys.argv[2], "rb")]
allseq = old + new
ok = allseq == list(range(allseq[0], allseq[0] + len(allseq))) and allseq[0] == 1
if not ok:
    print("# old %s..%s (%d), new %s..%s (%d)" % (old[0], old[-1], len(old), new[0], new[-1], len(new)))
sys.exit(0 if ok else 1)
PY

# A reopen that fails (the path is now a directory) keeps the old file; the next works.
mv "$OUT" "$OUT.2"
mkdir "$OUT"
kill -HUP "$DPID"
: >"$W/d1"
OUTSAVE=$OUT
OUT=$OUT.2
sentinel || finish
OUT=$OUTSAVE
check "failed reopen: daemon still running" kill -0 "$DPID"
check "failed reopen: records keep going to the old file" \
	[ "$(creates_in "$OUT.2" "$W/d1")" = 1 ]
rmdir "$OUT"
kill -HUP "$DPID"
check "SIGHUP after a failed reopen: new file created" wait_file "$OUT"
: >"$W/d2"
sentinel || finish
check "SIGHUP after a failed reopen: records go to the new file" \
	[ "$(creates_in "$OUT" "$W/d2")" = 1 ]
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --- append, never truncate ------------------------------------------------------------
umask 022
OUT=$S/append.jsonl
printf '%s\n' '{"pre":"existing line 1"}' '{"pre":"existing line 2"}' >"$OUT"
chmod 600 "$OUT"
PRE=$(head -c 1000 "$OUT")
start_daemon --watch "$W" || finish
: >"$W/e1"
sentinel || finish
check "pre-existing content kept at the top of the output" \
	test "$(head -n 2 "$OUT")" = "$PRE"
check "records appended after it" has type=event events~CREATE path="$W/e1"
kill -HUP "$DPID"	# reopen of the same path: must append again
: >"$W/e2"
sentinel || finish
check "after SIGHUP on the same path: pre-existing content still at the top" \
	test "$(head -n 2 "$OUT")" = "$PRE"
check "after SIGHUP on the same path: earlier records kept" \
	[ "$(count type=event events~CREATE path="$W/e1")" = 1 ]
check "after SIGHUP on the same path: new records appended" \
	has type=event events~CREATE path="$W/e2"
check "existing output's mode left alone (0600)" test "$(stat -c %a "$OUT")" = 600
finish
