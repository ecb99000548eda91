# SIGHUP reopens the output: after `mv out out.1; kill -HUP`, records go to a new out
# (created mode 0640 or stricter), earlier ones stay in out.1, none is lost or duplicated
# across the two. (It also reads the configuration again: an unchanged one here, said by a
# reload record; what a reload changes is t56's.) The output is appended to, never truncated.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
# one interpreter lookup: a version-manager shim can cost a second per python3 call
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"

# mode_at_most FILE: no permission bit outside 0640
mode_at_most_0640() {
	local m
	m=$(stat -c %a "$1") || return 1
	echo "# $(basename "$1") mode $m"
	[ $((8#$m & ~8#640)) = 0 ]
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

# where WHERE FILE...: each FILE's CREATE record is in exactly one of $OUT.1 / $OUT, and
# that one is WHERE (old, new or either); prints the ones that are not.
where() {
	"$PY" - "$OUT.1" "$OUT" "$@" <<'PY'
import json, os, sys
old, new, where, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def creates(fn):
    c = {}
    for l in open(fn, "rb"):
        r = json.loads(l)
        if r.get("type") == "event" and "CREATE" in r["events"].split(","):
            p = r["path"].encode("utf-8", "surrogateescape")
            c[p] = c.get(p, 0) + 1
    return c
o, n = creates(old), creates(new)
bad = []
for f in map(os.fsencode, files):
    a, b = o.get(f, 0), n.get(f, 0)
    want = {"old": (1, 0), "new": (0, 1)}.get(where)
    if (a, b) != want and not (want is None and a + b == 1):
        bad.append("%s old=%d new=%d" % (f.decode(errors="replace").rsplit("/", 1)[1], a, b))
if bad:
    print("# " + ", ".join(bad))
sys.exit(1 if bad else 0)
PY
}
check "records from before SIGHUP stay in the old file only" where old "$W"/a?
check "records from after the reopen are in the new file only" where new "$W"/c?
check "records racing the reopen are in exactly one file" where either "$W"/b*
# The SIGHUP also read the configuration again: nothing changed, and a reload record (in
# one of the two files) says so.
check "SIGHUP: one reload record, status unchanged" "$PY" - "$OUT.1" "$OUT" <<'PY'
import json, sys, time
end = time.monotonic() + 10  # the reload's reader thread may finish after the sentinel
while True:
    recs = [json.loads(l) for f in sys.argv[1:] for l in open(f, "rb")]
    rl = [r for r in recs if r.get("type") == "reload"]
    if rl or time.monotonic() > end:
        break
    time.sleep(0.02)
sys.exit(0 if len(rl) == 1 and rl[0]["status"] == "unchanged" and rl[0]["changed"] == [] else 1)
PY
echo "# racing records: $($JSONL count "$OUT.1" 'path^='"$W/b") old, $($JSONL count "$OUT" 'path^='"$W/b") new"
# seq numbers every record: across the two files they must run without a gap or a repeat,
# and the old file must end where the new one begins.
check "seq contiguous across old+new output, split cleanly at the reopen" "$PY" - "$OUT.1" "$OUT" <<'PY'
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
$JSONL foreign "$OUT"	# no records: the schema check leaves them alone
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
