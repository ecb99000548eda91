# Started with stdin, stdout and stderr closed, the daemon must not let its own files take
# those numbers (the output as fd 1 would also receive a hook's stdout, or be replaced by
# /dev/null when it daemonizes): records reach the output file, whole, in the foreground
# and daemonized, and a hook that writes to its stdout leaves no trace in them.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
echo secret >"$W/canary"

for mode in foreground background; do
	rm -f "$OUT" "$PIDF"
	if [ $mode = foreground ]; then fg=--foreground; else fg=; fi
	# shellcheck disable=SC2086
	timeout -s KILL 60 "$FANOTIFYD" $fg --pid-file "$PIDF" --output "$OUT" --watch "$W" \
		--canary "$W/canary" --hook 'echo hook-stdout-line; echo hook-stderr-line >&2' \
		<&- >&- 2>&- &
	TPID=$!
	wait_ready || finish
	[ $mode = background ] && TPID=
	echo x >"$W/f-$mode"
	cat "$W/canary" >/dev/null
	sleep 0.5
	sentinel || finish
	check "$mode: the record of a write is in the output" has path="$W/f-$mode" events~CLOSE_WRITE
	check "$mode: the canary alert is in the output" has type=alert kind=canary
	check "$mode: every line of the output is JSON" $JSONL valid "$OUT"
	check "$mode: no hook output in the records" bash -c '! grep -q "hook-std" "$1"' _ "$OUT"
	stop_daemon
	for i in $(seq 1 100); do [ -e "$PIDF" ] || break; sleep 0.05; done
done
finish
