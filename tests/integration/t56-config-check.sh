# --check-config checks what the config means, not only its syntax: exit 0 and the dump on
# stdout for a config whose every path, group, user and hook exists, without creating or
# changing a file; exit 2 with the reason on stderr for each thing start would refuse (a
# missing mark path, an output the daemon could not create or would refuse, a missing pid
# file or socket directory, an unknown group or user, a hook that cannot run, a background
# daemon without an output), every problem of a config reported, not just the first; and
# the same config then fails at start too. Written the auditd way (key = value).
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup

mkdir -p "$W/a" "$S/log" "$S/run" "$S/ro"
mount -t tmpfs -o ro,mode=0755 fanotifyd-ro "$S/ro" || fail "mount a read-only tmpfs"
printf '#!/bin/sh\nexit 0\n' >"$S/hook.sh"
chmod 0755 "$S/hook.sh"
GOOD=$S/good.conf
cat >"$GOOD" <<CONF
# every key that names something outside the config, all of it present
watch = $W/a
mount $W
filesystem = $W
canary = $W/a/canary*
output = $S/log/out.jsonl
output_mode = 0640
output_group = 4242
socket = $S/run/f.sock
socket_group = root
pid_file = $S/run/f.pid
hook = $S/hook.sh --alert
hook_user = nobody
foreground = yes
job = J
rootfs = $W/a
CONF

# snapshot: every file under the two tmpfs with its mode, owner, size and mtime (this run's
# stdout and stderr go outside them).
B=$IT_BASE_DIR
snapshot() { find "$W" "$S" -printf '%p %m %u %g %s %T@\n' | sort; }

snapshot >"$B/snap.before"
RC=0
timeout -s KILL 10 "$FANOTIFYD" -c "$GOOD" --check-config </dev/null >"$B/stdout" 2>"$B/stderr" ||
	RC=$?
snapshot >"$B/snap.after"
check "check-config created or changed no file (not the output, pid file or socket)" \
	cmp -s "$B/snap.before" "$B/snap.after"
cp "$B/stdout" "$S/stdout"
cp "$B/stderr" "$ERR"
check "good config: exit 0 (got $RC; $(head -c 300 "$ERR" | tr '\n' ' '))" [ "$RC" = 0 ]
check "good config: nothing on stderr" [ ! -s "$ERR" ]
check "good config: the dump on stdout (canary)" grep -qxF "canary $W/a/canary*" "$S/stdout"
check "good config: the dump has output_mode 0640" grep -qxF "output_mode 0640" "$S/stdout"
check "good config: the dump has output_group 4242" grep -qxF "output_group 4242" "$S/stdout"
check "... no output file" [ ! -e "$S/log/out.jsonl" ]
check "... no socket" [ ! -e "$S/run/f.sock" ]

# Hooks whose command is a builtin, found in PATH, or shell syntax it cannot judge.
for h in 'logger -t fanotifyd alert' 'printf "%s\n" "$FAN_PATH"' 'echo alert' \
	'FOO=1 /nonexistent/x' '"$HOME/x"'; do
	{ cat "$GOOD"; printf 'hook = %s\n' "$h"; } >"$S/hook.conf"
	run -c "$S/hook.conf" --check-config
	check "hook '$h' accepted (got $RC; $(head -c 200 "$ERR"))" [ "$RC" = 0 ]
done

# bad DESC WANT LINE...: the good config with LINE... after it (a later scalar replaces,
# a mark adds) fails --check-config with exit 2, WANT on stderr, nothing on stdout.
bad() {
	local what=$1 want=$2; shift 2
	{ cat "$GOOD"; printf '%s\n' "$@"; } >"$S/bad.conf"
	run -c "$S/bad.conf" --check-config
	check "$what: exit 2 (got $RC)" [ "$RC" = 2 ]
	check "$what: says '$want' (stderr: $(head -c 300 "$ERR" | tr '\n' ' '))" \
		grep -qF -- "$want" "$ERR"
	check "$what: no dump on stdout" [ ! -s "$S/stdout" ]
}
NOENT="No such file or directory"
bad "missing watch path" "fanotifyd: watch $W/nope: $NOENT" "watch = $W/nope"
bad "missing mount path" "fanotifyd: mount $W/nope: $NOENT" "mount $W/nope"
bad "missing filesystem path" "fanotifyd: filesystem $W/nope: $NOENT" "filesystem $W/nope"
bad "output directory missing" "output $S/nodir/o.jsonl: directory $S/nodir: $NOENT" \
	"output = $S/nodir/o.jsonl"
bad "output directory read-only" "output $S/ro/o.jsonl: directory $S/ro: Read-only file system" \
	"output = $S/ro/o.jsonl"
: >"$S/afile"
bad "output directory is a file" "output $S/afile/o.jsonl: Not a directory" \
	"output = $S/afile/o.jsonl"
ln -s "$S/log/target" "$S/log/link"
bad "output is a symbolic link" "output $S/log/link: is a symbolic link" "output = $S/log/link"
mkfifo "$S/log/fifo"
bad "output is a FIFO" "output $S/log/fifo: not a regular file" "output = $S/log/fifo"
: >"$S/log/theirs"
chown nobody "$S/log/theirs"
bad "output owned by another user" "output $S/log/theirs: owned by uid $(id -u nobody), not by us" \
	"output = $S/log/theirs"
: >"$S/log/linked"
ln "$S/log/linked" "$S/log/linked2"
bad "output with two links" "output $S/log/linked: has 2 links, not 1" "output = $S/log/linked"
bad "pid file directory missing" "pid_file $S/nodir/f.pid: directory $S/nodir: $NOENT" \
	"pid_file = $S/nodir/f.pid"
bad "socket directory missing" "socket $S/nodir/f.sock: directory $S/nodir: $NOENT" \
	"socket = $S/nodir/f.sock"
bad "unknown socket_group" "socket_group: no-such-group-fanotifyd: no such group" \
	"socket_group = no-such-group-fanotifyd"
bad "unknown output_group" "output_group: no-such-group-fanotifyd: no such group" \
	"output_group = no-such-group-fanotifyd"
bad "unknown hook_user" "hook_user: no such user: no-such-user-fanotifyd" \
	"hook_user = no-such-user-fanotifyd"
bad "hook missing" "hook: /nonexistent/hook.sh: $NOENT" "hook = /nonexistent/hook.sh -x"
printf '#!/bin/sh\n' >"$S/noexec.sh"
chmod 0644 "$S/noexec.sh"
bad "hook not executable" "hook: $S/noexec.sh: Permission denied" "hook = $S/noexec.sh"
bad "hook command not in PATH" "hook: no-such-command-fanotifyd: no such command in the hooks' PATH" \
	"hook = no-such-command-fanotifyd --alert"
bad "background daemon without an output" "a background daemon needs --output" \
	"foreground = no" "output = -"
bad "relative canary" "canary: 'srv/x' is not an absolute path pattern" "canary = srv/x"
bad "relative job root" "workspace: 'ws' is not an absolute path" "workspace = ws"
bad "doubled '='" "output: a value cannot start with '='" "output == $S/log/x"

# Every problem, not just the first: four of them, four lines, in the config's order.
{ cat "$GOOD"; printf '%s\n' "watch $W/gone1" "output = $S/nodir/o" \
	"socket_group = no-such-group-fanotifyd" "watch $W/gone2"; } >"$S/many.conf"
run -c "$S/many.conf" --check-config
check "four problems: exit 2" [ "$RC" = 2 ]
check "four problems: four lines (got $(grep -c '^fanotifyd: ' "$ERR"))" \
	[ "$(grep -c '^fanotifyd: ' "$ERR")" = 4 ]
check "four problems: each named" sh -c 'grep -q "gone1" "$1" && grep -q "gone2" "$1" &&
	grep -q "nodir" "$1" && grep -q "no-such-group" "$1"' sh "$ERR"

# The same configs fail at start (exit 1): check-config said so before any mark.
for c in "watch = $W/nope" "output = $S/nodir/o.jsonl" "socket_group = no-such-group-fanotifyd" \
	"output_group = no-such-group-fanotifyd"; do
	{ grep -v '^hook' "$GOOD"; printf '%s\n' "$c"; } >"$S/start.conf"
	run -c "$S/start.conf" --check-config
	check "'$c': check-config exits 2 (got $RC)" [ "$RC" = 2 ]
	run -c "$S/start.conf"
	check "'$c': start fails too (exit 1, got $RC)" [ "$RC" = 1 ]
done
{ grep -v '^hook' "$GOOD"; } >"$S/start.conf"
run -c "$S/start.conf" --check-config
check "without the hook, the config passes (exit 0, got $RC)" [ "$RC" = 0 ]
finish
