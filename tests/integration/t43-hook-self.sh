# A hook that touches the canary raises its alert, but no hook runs for it: otherwise each
# hook (a new pid, so no cooldown) would start the next one for ever. Observe and --perm.
# The hook's output reaches the daemon's log as "hook: LINE", not its stderr directly.
. "$(dirname "$0")/lib.sh"
require_fanotify perm
setup

echo secret >"$W/canary"
for mode in observe perm; do
	rm -f "$OUT" "$S/hook.log"
	if [ $mode = perm ]; then flags="--perm --mount $W"; else flags="--watch $W"; fi
	# shellcheck disable=SC2086
	start_daemon $flags --canary "$W/canary" \
		--hook "echo \$\$ >>$S/hook.log; echo hook-said-this; cat \"\$FAN_PATH\" >/dev/null; cat \"\$FAN_PATH\" >/dev/null" || finish
	cat "$W/canary" >/dev/null
	sleep 3
	stats
	n=$(wc -l <"$S/hook.log" 2>/dev/null || echo 0)
	check "$mode: one canary read runs the hook once (ran $n times)" [ "$n" = 1 ]
	check "$mode: hooks_started=1" [ "$(stat_of hooks_started)" = 1 ]
	check "$mode: the hook's own reads are counted (hooks_own >= 1)" [ "$(stat_of hooks_own)" -ge 1 ]
	a=$(count type=alert kind=canary)
	check "$mode: alerts: the reader's and the hook's own (got $a, 2-3)" [ "$a" -ge 2 -a "$a" -le 3 ]
	sleep 1
	check "$mode: nothing more after another second" [ "$(count type=alert kind=canary)" = "$a" ]
	check "$mode: the hook's output is in the log, prefixed" grep -qx 'fanotifyd: hook: hook-said-this' "$ERR"
	stop_daemon
done
finish
