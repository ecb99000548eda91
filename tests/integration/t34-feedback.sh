# The output file inside the watched tree: the daemon's own writes never come back as
# records (no feedback loop), with an inode mark, a mount mark, and a permission mount
# mark; in permission mode opens in the tree do not hang, and a SIGHUP reopen of an output
# that lies inside the perm-marked mount works.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"

# stable FILE: the file does not grow on its own (the one short sleep: a negative check)
stable() {
	local a b
	# The checks before this read the output, which are real OPEN events; their records
	# reach the file within the writer's 20 ms linger. Let them land first.
	sleep 0.1
	a=$(stat -c %s "$1")
	sleep 0.5
	b=$(stat -c %s "$1")
	[ "$a" = "$b" ] || echo "# $1 grew from $a to $b bytes while nothing happened"
	[ "$a" = "$b" ]
}

read_within_10s() { timeout 10 cat "$1" >/dev/null; }

no_feedback() { # MODE-LABEL
	check "$1: output is valid JSONL" $JSONL valid "$OUT"
	check "$1: no record of the daemon's own writes to its output" \
		[ "$(count path="$OUT" pid="$DPID")" = 0 ]
	check "$1: no MODIFY record for the output file at all" \
		[ "$(count path="$OUT" events~MODIFY)" = 0 ]
	# the test's own reads of the output are real events (OPEN); writes never are ours
	check "$1: no CREATE/MODIFY/CLOSE_WRITE/ATTRIB record for the output file" \
		[ "$(count path="$OUT" 'events~CREATE|MODIFY|CLOSE_WRITE|ATTRIB')" = 0 ]
	# (the start record names the daemon's pid: it is no event)
	check "$1: no record with the daemon's pid" [ "$(count type!=start pid="$DPID")" = 0 ]
	check "$1: output does not grow on its own" stable "$OUT"
}

for mode in watch mount; do
	OUT=$W/log-$mode.jsonl
	start_daemon --"$mode" "$W" || finish
	for i in 1 2 3; do echo "$i" >"$W/$mode-f$i"; done
	cat "$W/$mode-f1" >/dev/null
	sentinel || finish
	check "--$mode: events around the output are recorded" \
		has type=event events~CLOSE_WRITE path="$W/$mode-f3"
	# the output file is seen like any other when someone else writes it
	no_feedback "--$mode"
	stop_daemon
	check "--$mode: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
done

# --- permission mode, output inside the perm-marked mount -----------------------------
require_fanotify perm
OUT=$W/log-perm.jsonl
echo data >"$W/pf"
start_daemon --perm --mount "$W" || finish
check "--perm: open in the marked mount completes" read_within_10s "$W/pf"
check "--perm: create in the marked mount completes" timeout 10 sh -c "echo x >'$W/pf2'"
sentinel || finish
check "--perm: open recorded with a decision" has type=event events~OPEN path="$W/pf" decision=allow
no_feedback "--perm"

mv "$OUT" "$OUT.1"
kill -HUP "$DPID"
check "--perm: SIGHUP reopens a new output inside the perm-marked mount" wait_file "$OUT"
check "--perm: daemon alive after the reopen" kill -0 "$DPID"
check "--perm: open still completes after the reopen" read_within_10s "$W/pf"
check "--perm: write still completes after the reopen" timeout 10 sh -c "echo y >>'$W/pf2'"
sentinel || finish
check "--perm: events after the reopen go to the new output" \
	has type=event events~OPEN path="$W/pf" decision=allow
check "--perm: old output keeps the records from before" \
	$JSONL wait "$OUT.1" --timeout 0 type=event events~OPEN path="$W/pf"
check "--perm: old output: no record of its own writes" \
	[ "$($JSONL count "$OUT.1" path="$OUT.1" 'events~MODIFY|CLOSE_WRITE')" = 0 ]
no_feedback "--perm after reopen"
# The reopened file carries the ignore mark (the loop places it on the output thread's
# request): the daemon's own writes to it are not even delivered as events of its own.
stats
self0=$(stat_of self)
for i in $(seq 1 100); do echo "$i" >"$W/after-$i"; done
sentinel || finish
sleep 0.1
stats
check "--perm: the reopened output is ignore-marked (self events $self0 -> $(stat_of self))" \
	[ "$(stat_of self)" = "$self0" ]
stop_daemon
check "--perm: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
