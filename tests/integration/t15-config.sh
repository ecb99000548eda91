# --help, --version, --check-config, and a daemon configured by a file (-c) with
# command-line overrides: scalars from the command line win, repeatable options add.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup

# run ARGS...: the binary under timeout; RC, stdout in $S/stdout, stderr in $ERR.
run() {
	RC=0
	timeout -s KILL 10 "$FANOTIFYD" "$@" </dev/null >"$S/stdout" 2>"$ERR" || RC=$?
}
# start_conf ARGS...: like start_daemon, without adding options (the file gives them).
start_conf() {
	rm -f "$PIDF"
	timeout -s KILL "$DAEMON_TIMEOUT" "$FANOTIFYD" "$@" 2>"$ERR" &
	TPID=$!
	wait_ready
}
not() { ! "$@"; }
line() { grep -qxF -- "$1" "$S/stdout"; }

run --help
check "--help exits 0" [ "$RC" = 0 ]
check "--help writes nothing to stderr" [ ! -s "$ERR" ]
for opt in -c, --config -w, --watch --mount --filesystem --canary -o, --output --socket --hook \
	--pid-file --burst-threshold --burst-window-ms --hook-cooldown-ms -f, --foreground \
	--perm --deny-on-alert --no-fid -v, --verbose -h, --help --version --output-mode \
	--output-group --check-config --subscribe; do
	check "--help lists $opt" grep -qE -- "(^|[[:space:]])$opt([[:space:]]|=|\$)" "$S/stdout"
done
check "--help starts with the usage line" [ "$(head -n 1 "$S/stdout")" = "Usage: fanotifyd [OPTION]..." ]
check "--help does not call subscribe a config key" \
	grep -qF "except config, check-config, subscribe, help," "$S/stdout"
run -h
check "-h exits 0" [ "$RC" = 0 ]
check "-h prints the same help" grep -q -- '--filesystem' "$S/stdout"
run --version
check "--version exits 0" [ "$RC" = 0 ]
check "--version prints 'fanotifyd 0.1.0'" [ "$(cat "$S/stdout")" = "fanotifyd 0.1.0" ]

# --check-config: a file plus command-line overrides.
CONF=$S/f.conf
cat >"$CONF" <<CONF
# fanotifyd test configuration

watch $W/a
burst_threshold 5
burst_window_ms 2000
canary $W/a/file-canary
foreground 1
pid_file $S/file.pid
CONF
mkdir -p "$W/a" "$W/b"
run -c "$CONF" --check-config --burst-threshold 7 --canary "$W/b/cli-canary" --watch "$W/b" \
	--events access,default
check "--check-config exits 0" [ "$RC" = 0 ]
check "command-line scalar wins: burst_threshold 7" line "burst_threshold 7"
check "file's value is not printed for an overridden scalar" not line "burst_threshold 5"
check "file scalar kept when not overridden: burst_window_ms 2000" line "burst_window_ms 2000"
check "file canary kept" line "canary $W/a/file-canary"
check "command-line canary added" line "canary $W/b/cli-canary"
check "file watch kept" line "watch $W/a"
check "command-line watch added" line "watch $W/b"
check "file boolean: foreground 1" line "foreground 1"
check "file pid_file" grep -qF "$S/file.pid" "$S/stdout"
check "events from the command line" grep -qE '^events .*access' "$S/stdout"
check "--check-config starts nothing: no pid file" [ ! -e "$S/file.pid" ]
run -c "$CONF" --check-config --burst-threshold 0
check "override to 0 is an override" line "burst_threshold 0"
run --check-config --foreground --watch "$W"
check "--check-config without a file exits 0" [ "$RC" = 0 ]
check "--check-config without a file: defaults" line "burst_window_ms 1000"
check "--check-config without a file: default hook_cooldown_ms" line "hook_cooldown_ms 5000"
check "--check-config without a file: perm 0" line "perm 0"
printf 'watch %s\nno_such_key 1\n' "$W" >"$S/bad.conf"
run -c "$S/bad.conf" --check-config
check "--check-config of a bad file exits 2" [ "$RC" = 2 ]
check "--check-config of a bad file: FILE:LINE:" grep -qF "$S/bad.conf:2:" "$ERR"

# A daemon from a file alone.
cat >"$CONF" <<CONF
# everything from the file
watch $W
output $OUT
foreground 1
pid_file $PIDF
CONF
start_conf -c "$CONF" || finish
echo hello >"$W/from-file"
sentinel || finish
check "config daemon: create with name" has events~CREATE path="$W/from-file" name=from-file
check "config daemon: write" has events~MODIFY path="$W/from-file"
stop_daemon
check "config daemon: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
check "config daemon: pid file removed" [ ! -e "$PIDF" ]

# Booleans in other spellings, events and a mount mark from the file; the command line
# overrides the output and adds a watch.
mkdir -p "$W/deep/er" "$S/extra"
cat >"$CONF" <<CONF
mount $W
output $S/from-file.jsonl
foreground yes
no_fid true
events modify,create
pid_file $PIDF
perm off
deny_on_alert no
CONF
OUT=$S/cli.jsonl
start_conf -c "$CONF" --output "$OUT" || finish
echo deep >"$W/deep/er/file"
cat "$W/deep/er/file" >/dev/null
echo s >"$W/.s1"
$JSONL wait "$OUT" --timeout 10 path="$W/.s1" events~MODIFY || fail "sentinel .s1 never reported"
check "command-line output wins over the file's" [ ! -s "$S/from-file.jsonl" ]
check "file mount mark: deep write" has events=MODIFY path="$W/deep/er/file"
check "file events list + no_fid: only MODIFY (no CREATE in FD mode)" [ "$(count type=event events!=MODIFY)" = 0 ]
check "no_fid true: CREATE announced undeliverable" grep -q -- "--no-fid: CREATE cannot be delivered" "$ERR"
stop_daemon
check "second config daemon: SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# Output ownership: output_mode and output_group (a gid that names no group here, as a
# shipper's own group would be) from the file, given to the output when it is created and
# again to the new file a SIGHUP opens after a rotation: a reader in that group (primary or
# supplementary) reads the records, any other user cannot; whatever the daemon's umask.
# nobody must reach the file.
chmod 0711 "$IT_BASE_DIR"
mkdir -p "$S/own"
OUT=$S/own/out.jsonl
cat >"$CONF" <<CONF
watch = $W
output = $OUT
output_mode = 0640
output_group = 4242
foreground = yes
pid_file = $PIDF
CONF
# as_reader / as_member / as_other FILE: FILE as a user whose primary group is 4242, one with
# 4242 as a supplementary group, one outside it (stdout: the contents).
as_reader() { timeout 5 setpriv --reuid=nobody --regid=4242 --clear-groups cat "$1" 2>/dev/null; }
as_member() { timeout 5 setpriv --reuid=nobody --regid=nogroup --groups=4242 cat "$1" 2>/dev/null; }
as_other() { timeout 5 setpriv --reuid=nobody --regid=nogroup --clear-groups cat "$1" 2>/dev/null; }
# owned WHEN: OUT is mode 0640, group 4242; the group reads it (the last sentinel's record
# is in what it reads), others are refused.
owned() {
	check "$1: mode 0640 group 4242 (got $(stat -c '%a %g' "$OUT"))" \
		[ "$(stat -c '%a %g' "$OUT")" = "640 4242" ]
	check "$1: a reader whose group is 4242 reads the records" \
		grep -qF ".sentinel-$SENTINEL_N" <(as_reader "$OUT")
	check "$1: a reader with 4242 as a supplementary group reads them" \
		grep -qF ".sentinel-$SENTINEL_N" <(as_member "$OUT")
	check "$1: another user cannot read them" not as_other "$OUT"
}
# umask 077: a file created 0640 would come out 0600; output_mode is set, not masked.
old_umask=$(umask)
umask 077
start_conf -c "$CONF" || finish
umask "$old_umask"
echo one >"$W/owned-1"
sentinel || finish
owned "created"
mv "$OUT" "$OUT.1"
kill -HUP "$DPID"
wait_file "$OUT" || fail "no new output after SIGHUP"
echo two >"$W/owned-2"
sentinel || finish
owned "reopened after a rotation"
check "reopened: the new file has the records written after the rotation" \
	has path="$W/owned-2"
check "reopened: no error reopening it" not grep -q "cannot reopen" "$ERR"
check "the rotated file kept its mode and group" [ "$(stat -c '%a %g' "$OUT.1")" = "640 4242" ]
stop_daemon
check "owned output daemon: SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# From the command line, by group name, over the file's; 0600 keeps even the group out.
OUT=$S/own/cli.jsonl
start_conf -c "$CONF" --output "$OUT" --output-group adm --output-mode 0600 || finish
sentinel || finish
check "--output-group adm --output-mode 0600 (got $(stat -c '%a %G' "$OUT"))" \
	[ "$(stat -c '%a %G' "$OUT")" = "600 adm" ]
check "0600: the group cannot read it" not as_reader "$OUT"
stop_daemon
finish
