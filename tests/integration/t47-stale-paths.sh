# Paths stay true when a directory above a watched one is renamed: --watch M/X/w, then
# `mv M/X M/Y`; records of files in w name Y/w/..., and a canary on Y/w/secret alerts.
# (An inode mark sees nothing of the rename above it; the cached directory paths must be
# dropped all the same.) Also when the watched directory itself is renamed.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup

for mode in observe perm; do
	rm -rf "${W:?}"/* "$OUT" "$S"/hold.*
	mkdir -p "$W/X/w"
	echo secret >"$W/X/w/secret"
	if [ $mode = perm ]; then flags=--perm; else flags=; fi
	# shellcheck disable=SC2086
	start_daemon $flags --watch "$W/X/w" --canary "$W/Y/w/secret" --canary "$W/Z/secret" || finish
	echo before >"$W/X/w/first"
	check "$mode: before the move: X/w/first" waitrec path="$W/X/w/first" events~CLOSE_WRITE
	mv "$W/X" "$W/Y"
	echo after >>"$W/Y/w/secret"
	hold_cat "$W/Y/w/secret"
	unhold
	echo new >"$W/Y/w/second"
	check "$mode: after the move: Y/w/second" waitrec path="$W/Y/w/second" events~CLOSE_WRITE
	check "$mode: the write to Y/w/secret names Y" waitrec path="$W/Y/w/secret" events~MODIFY
	check "$mode: the canary Y/w/secret alerts" waitrec type=alert kind=canary path="$W/Y/w/secret"
	check "$mode: no record names X/ after the move" \
		[ "$(count path~"^$W/X/w/(second|secret)")" = 0 ]
	# The watched directory itself moves.
	mv "$W/Y/w" "$W/Z"
	echo z >"$W/Z/third"
	check "$mode: the watched directory moved: Z/third" waitrec path="$W/Z/third" events~CLOSE_WRITE
	cat "$W/Z/secret" >/dev/null
	check "$mode: the canary Z/secret alerts" waitrec type=alert kind=canary path="$W/Z/secret"
	stats
	check "$mode: moves counted (moves=$(stat_of moves))" [ "$(stat_of moves)" -ge 2 ]
	stop_daemon
done
finish
