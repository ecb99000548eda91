# What is at the socket path at start-up. A stale socket (left by a killed daemon, or bound
# and closed) is replaced; a regular file, a symlink, a live socket (another daemon) or a
# path too long for sun_path is a start-up error (exit 1, a message naming the path) that
# leaves the file alone. The socket file goes away on exit, but not a file that replaced it.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"
SOCK=$S/sock

# refused ARGS...: a daemon that must fail at start-up; exit status in RC, stderr in
# $S/refused.err
refused() {
	RC=0
	timeout 20 "$FANOTIFYD" --foreground --watch "$W" --output "$S/refused.out" "$@" \
		2>"$S/refused.err" || RC=$?
}
# streams: a --subscribe gets the records of a sentinel
streams() {
	local ok=0 pid
	timeout 30 "$FANOTIFYD" --subscribe "$SOCK" >"$S/sub.out" 2>"$S/sub.err" &
	pid=$!
	# it is admitted once the daemon holds one more socket
	local i
	for i in $(seq 1 500); do
		[ -s "$S/sub.err" ] && break
		[ "$(find "/proc/$DPID/fd" -lname 'socket:*' | wc -l)" -gt "$NSOCK0" ] && break
		sleep 0.02
	done
	sentinel >/dev/null &&
		$JSONL wait "$S/sub.out" --timeout 10 path="$W/.sentinel-$SENTINEL_N" && ok=1
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ "$ok" = 1 ]
}

# stale_socket PATH: a socket file nothing listens on (bound, then closed)
stale_socket() {
	"$PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$1"
}

# --- stale: a socket bound and closed, nothing listening
stale_socket "$SOCK"
check "a stale socket file exists" [ -S "$SOCK" ]
INO0=$(stat -c %i "$SOCK")
start_daemon --watch "$W" --socket "$SOCK" || finish
NSOCK0=$(find "/proc/$DPID/fd" -lname 'socket:*' | wc -l)
check "stale socket replaced (a new inode)" [ "$(stat -c %i "$SOCK")" != "$INO0" ]
check "... and it streams" streams

# --- live: a second daemon on the same path
refused --socket "$SOCK"
check "a second daemon on a live socket exits 1" [ "$RC" = 1 ]
check "... saying another daemon is listening" \
	grep -q "$SOCK: another daemon is listening" "$S/refused.err"
check "... the first one's socket is untouched" [ -S "$SOCK" ]
check "... and still streams" streams

# --- a killed daemon leaves its socket; the next start replaces it
kill -KILL "$DPID"
wait "$TPID" 2>/dev/null
DPID= TPID=
check "SIGKILL leaves the socket file" [ -S "$SOCK" ]
start_daemon --watch "$W" --socket "$SOCK" || finish
NSOCK0=$(find "/proc/$DPID/fd" -lname 'socket:*' | wc -l)
check "a restart after SIGKILL replaces it" streams
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
check "socket removed on exit" [ ! -e "$SOCK" ]

# --- a regular file
printf 'precious\n' >"$S/file"
refused --socket "$S/file"
check "a regular file at the path: exit 1" [ "$RC" = 1 ]
check "... saying it is not a socket" grep -q "$S/file: exists and is not a socket" "$S/refused.err"
check "... and the file is untouched" [ "$(cat "$S/file")" = precious ]

# --- symlinks, to a stale socket and dangling
stale_socket "$S/target"
ln -s "$S/target" "$S/link"
refused --socket "$S/link"
check "a symlink to a stale socket: exit 1" [ "$RC" = 1 ]
check "... saying it is not a socket" grep -q "$S/link: exists and is not a socket" "$S/refused.err"
check "... the symlink stays" [ -L "$S/link" ]
check "... and its target too" [ -S "$S/target" ]
ln -s "$S/nowhere" "$S/dangling"
refused --socket "$S/dangling"
check "a dangling symlink: exit 1" [ "$RC" = 1 ]
check "... and it stays" [ -L "$S/dangling" ]

# --- a directory
mkdir "$S/dir"
refused --socket "$S/dir"
check "a directory: exit 1" [ "$RC" = 1 ]
check "... saying it is not a socket" grep -q "$S/dir: exists and is not a socket" "$S/refused.err"

# --- too long for sun_path (108 bytes with the NUL)
LONG=$S/$(printf 'x%.0s' $(seq 1 120))
refused --socket "$LONG"
check "a path too long for a Unix socket: exit 1" [ "$RC" = 1 ]
check "... saying so" grep -q "path too long for a Unix socket" "$S/refused.err"

# --- exit spares a file that replaced our socket
start_daemon --watch "$W" --socket "$SOCK" || finish
rm "$SOCK"
printf 'mine\n' >"$SOCK"
stop_daemon
check "exit leaves a file that replaced the socket alone" [ "$(cat "$SOCK")" = mine ]
finish
