# Who may subscribe. Default 0600: an unprivileged uid cannot connect, and when the file is
# made reachable behind the daemon's back (chmod 0666) the daemon still refuses it by its
# SO_PEERCRED credentials and logs uid and pid. --socket-mode 0666 admits anyone;
# --socket-mode 0660 --socket-group G admits G by primary or supplementary group and no one
# else. --socket-max-clients N refuses the next subscriber cleanly.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
command -v setpriv >/dev/null || skip "no setpriv"
command -v groupadd >/dev/null || skip "no groupadd"
NOBODY=65534
GROUP=fnd-t53-$$
groupadd "$GROUP" || skip "groupadd failed"
GID=$(getent group "$GROUP" | cut -d: -f3)

# The socket lives where an unprivileged uid can reach it: a 0777 directory.
chmod 0711 "$(dirname "$S")"
D=$S/pub
mkdir -m 0777 "$D"
SOCK=$D/sock

cleanup_more() { groupdel "$GROUP" 2>/dev/null; }

# as ARGS... -- CMD...: run CMD under setpriv ARGS
as() {
	local a=()
	while [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	setpriv "${a[@]}" "$@"
}
NOBODY_ONLY=(--reuid=$NOBODY --regid=$NOBODY --clear-groups)

# sub_exit WHO... : exit status of a --subscribe run as WHO (stderr to $S/sub.err)
sub_exit() {
	local rc=0
	as "$@" -- timeout 10 "$FANOTIFYD" --subscribe "$SOCK" >"$S/sub.out" 2>"$S/sub.err" || rc=$?
	echo "$rc"
}

# admitted NAME WHO...: a --subscribe as WHO receives a sentinel's records.
admitted() {
	local name=$1 base pid ok=0
	shift
	base=$(nsock)
	as "$@" -- timeout 30 "$FANOTIFYD" --subscribe "$SOCK" >"$S/$name.out" 2>"$S/$name.err" &
	pid=$!
	SUBS="$SUBS $pid"
	if wait_nsock $((base + 1)); then
		sentinel >/dev/null || true
		$JSONL wait "$S/$name.out" --timeout 10 path="$W/.sentinel-$SENTINEL_N" && ok=1
	fi
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ "$ok" = 1 ]
}

# --- default mode 0600
start_daemon --watch "$W" --socket "$SOCK" || finish
check "default: mode 0600" [ "$(stat -c %a "$SOCK")" = 600 ]
check "default: uid $NOBODY cannot connect (exit 1)" [ "$(sub_exit "${NOBODY_ONLY[@]}")" = 1 ]
check "... Permission denied, said so" \
	grep -q "Permission denied (is the daemon running?)" "$S/sub.err"
chmod 0666 "$SOCK"
check "chmod 0666 behind its back: uid $NOBODY connects but is refused (exit 1)" \
	[ "$(sub_exit "${NOBODY_ONLY[@]}")" = 1 ]
check "... told the daemon closed the connection" grep -q "closed the connection" "$S/sub.err"
check "... refusal logged with uid and pid" \
	grep -qE "subscriber uid $NOBODY gid $NOBODY pid [0-9]+ refused: not permitted" "$ERR"
check "root is still admitted" admitted root0 --reuid=0 --regid=0 --keep-groups
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --- 0666: anyone
start_daemon --watch "$W" --socket "$SOCK" --socket-mode 0666 || finish
check "--socket-mode 0666: mode 0666" [ "$(stat -c %a "$SOCK")" = 666 ]
check "--socket-mode 0666: uid $NOBODY admitted" admitted any "${NOBODY_ONLY[@]}"
stop_daemon

# --- 0660 + group
start_daemon --watch "$W" --socket "$SOCK" --socket-mode 0660 --socket-group "$GROUP" || finish
check "--socket-mode 0660 --socket-group: mode 0660, group $GROUP" \
	[ "$(stat -c '%a %g' "$SOCK")" = "660 $GID" ]
check "group member by supplementary group admitted" \
	admitted supp --reuid=$NOBODY --regid=$NOBODY --groups=$GID
check "group member by primary group admitted" \
	admitted prim --reuid=$NOBODY --regid=$GID --clear-groups
check "non-member cannot connect (exit 1)" [ "$(sub_exit "${NOBODY_ONLY[@]}")" = 1 ]
chmod 0666 "$SOCK"
check "non-member reaching a chmod 0666 file is refused by credentials" \
	[ "$(sub_exit "${NOBODY_ONLY[@]}")" = 1 ]
check "... logged" grep -qE "subscriber uid $NOBODY gid $NOBODY pid [0-9]+ refused" "$ERR"
stop_daemon
check "a numeric --socket-group works too" start_daemon --watch "$W" --socket "$SOCK" \
	--socket-mode 0660 --socket-group "$GID"
check "... group $GID" [ "$(stat -c '%a %g' "$SOCK")" = "660 $GID" ]
stop_daemon
timeout 10 "$FANOTIFYD" --foreground --watch "$W" --socket "$SOCK" \
	--socket-group fnd-no-such-group-x --output "$OUT" 2>"$S/nogroup.err"
check "an unknown --socket-group is a start-up error (exit 1)" [ $? = 1 ]
check "... saying so" grep -q "socket_group: fnd-no-such-group-x: no such group" "$S/nogroup.err"
check "... and leaves no socket" [ ! -e "$SOCK" ]

# --- max clients
start_daemon --watch "$W" --socket "$SOCK" --socket-max-clients 2 || finish
BASE=$(nsock)
timeout 60 "$FANOTIFYD" --subscribe "$SOCK" >"$S/m1" 2>/dev/null &
M1=$!
timeout 60 "$FANOTIFYD" --subscribe "$SOCK" >"$S/m2" 2>/dev/null &
M2=$!
SUBS="$SUBS $M1 $M2"
check "two subscribers accepted" wait_nsock $((BASE + 2))
check "the third is refused (exit 1)" [ "$(sub_exit --reuid=0 --regid=0 --keep-groups)" = 1 ]
check "... told so" grep -q "closed the connection without sending anything" "$S/sub.err"
check "... logged" grep -qE "refused: 2 subscribers connected \(socket_max_clients\)" "$ERR"
kill "$M1"
wait "$M1" 2>/dev/null
check "a slot frees when one leaves" wait_nsock $((BASE + 1))
check "... and the next is admitted" admitted m3 --reuid=0 --regid=0 --keep-groups
stop_daemon
finish
