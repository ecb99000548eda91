# Start-up refusals: exact exit status (2 for usage and configuration errors, 1 for a
# failed start), the reason on stderr, and nothing left running or behind. A crash, a
# hang or a start that should have been refused all fail.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup

# If a refusal unexpectedly daemonized, stop that daemon by the pid it wrote.
cleanup_refused() {
	local p
	p=$(cat "$PIDF" 2>/dev/null) && [ -n "$p" ] && kill -TERM "$p" 2>/dev/null
	cleanup
}
trap cleanup_refused EXIT

# refused WANT DESC ARGS...: exit status exactly WANT, a message on stderr, no pid file.
refused() {
	local want=$1 what=$2; shift 2
	run "$@"
	check "$what: exit $want (got $RC; stderr: $(head -c 200 "$ERR" | tr '\n' ' '))" [ "$RC" = "$want" ]
	check "$what: says why on stderr" [ -s "$ERR" ]
	check "$what: no pid file" [ ! -e "$PIDF" ]
}
says() { grep -qF -- "$1" "$ERR"; }
not() { ! "$@"; }
# usage_hint DESC: a bad option's two lines, as GNU tools print them (scripts look for them).
usage_hint() {
	check "$1: the usage line" grep -qxF "Usage: fanotifyd [OPTION]..." "$ERR"
	check "$1: the --help hint" grep -qxF "Try 'fanotifyd --help'." "$ERR"
}

# Paths that do not exist: a failed start, status 1, naming the path and the reason.
for kind in --watch --mount --filesystem; do
	refused 1 "$kind missing path" --foreground "$kind" "$W/nope" --output "$OUT" --pid-file "$PIDF"
	check "$kind missing path: names the path" says "$W/nope"
	check "$kind missing path: gives the reason" says "No such file or directory"
done
refused 1 "one good and one missing path" --foreground --watch "$W" --watch "$W/gone" \
	--output "$OUT" --pid-file "$PIDF"
check "one missing path: names it" says "$W/gone"
refused 1 "output in a missing directory" --foreground --watch "$W" --output "$S/nodir/out.jsonl"
check "output in a missing directory: names it" says "$S/nodir/out.jsonl"
refused 1 "pid file in a missing directory" --foreground --watch "$W" --output "$OUT" \
	--pid-file "$S/nodir/pid"
check "pid file in a missing directory: names it" says "$S/nodir/pid"

# Usage errors: status 2.
refused 2 "no marks" --foreground --output "$OUT" --pid-file "$PIDF"
check "no marks: says what is missing" grep -q -- '--watch' "$ERR"
refused 2 "unknown option" --foreground --watch "$W" --no-such-option --output "$OUT" --pid-file "$PIDF"
check "unknown option: names it" says "--no-such-option"
usage_hint "unknown option"
refused 2 "misspelt option" --foreground --watch "$W" --burst-treshold 3 --output "$OUT"
check "misspelt option: names the option meant" \
	says "fanotifyd: unknown or ambiguous option '--burst-treshold' (did you mean --burst-threshold?)"
usage_hint "misspelt option"
refused 2 "stray argument" --foreground --watch "$W" stray --output "$OUT" --pid-file "$PIDF"
check "stray argument: names it" says "stray"
usage_hint "stray argument"
refused 2 "option without its value" --foreground --output "$OUT" --pid-file "$PIDF" --watch
usage_hint "option without its value"
for bad in abc 12abc -1 '' 99999999999999999999; do
	refused 2 "--burst-threshold '$bad'" --foreground --watch "$W" --output "$OUT" \
		--pid-file "$PIDF" --burst-threshold "$bad"
done
check "bad number: names the option" says "--burst-threshold"
usage_hint "bad number"
refused 2 "--burst-window-ms abc" --foreground --watch "$W" --output "$OUT" --pid-file "$PIDF" \
	--burst-window-ms abc
refused 2 "--hook-cooldown-ms abc" --foreground --watch "$W" --output "$OUT" --pid-file "$PIDF" \
	--hook-cooldown-ms abc
refused 2 "--events with an unknown name" --foreground --watch "$W" --output "$OUT" \
	--pid-file "$PIDF" --events open,bogus
check "unknown event: names it" says "bogus"
refused 2 "--deny-on-alert without --perm" --foreground --watch "$W" --output "$OUT" \
	--pid-file "$PIDF" --deny-on-alert
check "--deny-on-alert without --perm: says --perm is needed" says "--perm"
refused 2 "--access-perm without --perm" --foreground --watch "$W" --output "$OUT" \
	--pid-file "$PIDF" --access-perm
check "--access-perm without --perm: says --perm is needed" says "--perm"
refused 2 "background without --output" --watch "$W" --pid-file "$PIDF"
check "background without --output: says --output" says "--output"
refused 2 "background with --output -" --watch "$W" --pid-file "$PIDF" --output -

# Configuration files: status 2, with FILE:LINE: for a bad line.
CONF=$S/bad.conf
printf '# a comment\n\nwatch %s\nno_such_key 1\nforeground 1\n' "$W" >"$CONF"
refused 2 "config with an unknown key" -c "$CONF" --output "$OUT" --pid-file "$PIDF"
check "unknown key: FILE:LINE: of the bad line" says "$CONF:4:"
check "unknown key: names the key" says "no_such_key"
check "unknown key: says loading the config failed" \
	says "fanotifyd: failed to load config $CONF:4: unknown key 'no_such_key'"
check "unknown key: a config error is not a usage error (no usage line)" \
	not grep -q "^Usage:" "$ERR"
printf 'watch %s\nforeground 1\nburst_treshold 3\n' "$W" >"$CONF"
refused 2 "config with a misspelt key" -c "$CONF" --output "$OUT" --pid-file "$PIDF"
check "misspelt key: names the key meant" says \
	"fanotifyd: failed to load config $CONF:3: unknown key 'burst_treshold' (did you mean burst_threshold?)"
printf 'watch %s\nforeground 1\nburst-threshold 3\n' "$W" >"$CONF"
refused 2 "config with a dashed key" -c "$CONF" --output "$OUT" --pid-file "$PIDF"
check "dashed key: names the key" says \
	"fanotifyd: failed to load config $CONF:3: unknown key 'burst-threshold' (did you mean burst_threshold?)"
printf 'watch %s\nforeground 1\nburst_threshold lots\n' "$W" >"$CONF"
refused 2 "config with a bad number" -c "$CONF" --output "$OUT" --pid-file "$PIDF"
check "bad number in config: FILE:LINE:" says "$CONF:3:"
printf 'watch %s\nforeground maybe\n' "$W" >"$CONF"
refused 2 "config with a bad boolean" -c "$CONF" --output "$OUT" --pid-file "$PIDF"
check "bad boolean in config: FILE:LINE:" says "$CONF:2:"
printf 'watch %s\nforeground 1\ndeny_on_alert 1\n' "$W" >"$CONF"
refused 2 "config deny_on_alert without perm" -c "$CONF" --output "$OUT" --pid-file "$PIDF"
refused 2 "missing config file" -c "$S/no-such.conf" --foreground --watch "$W" --output "$OUT" \
	--pid-file "$PIDF"
check "missing config file: names it" says "$S/no-such.conf"
check "missing config file: says loading it failed, and why" \
	grep -qxF "fanotifyd: failed to load config $S/no-such.conf: No such file or directory" "$ERR"

# Without CAP_SYS_ADMIN: a failed start (1) that says what fanotify needs. As nobody, and
# as root with CAP_SYS_ADMIN dropped; FID and permission groups.
nonroot() {
	local what=$1; shift
	RC=0
	timeout -s KILL 10 "$@" </dev/null >"$S/stdout" 2>"$ERR" || RC=$?
	check "$what: exit 1 (got $RC; $(head -c 200 "$ERR"))" [ "$RC" = 1 ]
	check "$what: says fanotify needs root or CAP_SYS_ADMIN" \
		says "Operation not permitted (fanotify needs root or CAP_SYS_ADMIN)"
}
if command -v setpriv >/dev/null; then
	nonroot "as nobody" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$FANOTIFYD" --foreground --watch "$W"
	check "as nobody: the FID group" says "cannot create fanotify FID group"
	nonroot "as nobody, --perm --no-fid" setpriv --reuid=nobody --regid=nogroup \
		--clear-groups "$FANOTIFYD" --foreground --watch "$W" --perm --no-fid
	check "as nobody, --perm --no-fid: the permission group" says "cannot create permission group"
else
	echo "SKIP: $TEST_NAME: no setpriv: non-root start not tested as nobody"
fi
if command -v capsh >/dev/null; then
	nonroot "root without CAP_SYS_ADMIN" capsh --drop=cap_sys_admin -- -c \
		'exec "$0" --foreground --watch "$1" --no-fid' "$FANOTIFYD" "$W"
	check "root without CAP_SYS_ADMIN: the FD group" says "cannot create fanotify group"
else
	echo "SKIP: $TEST_NAME: no capsh: start without CAP_SYS_ADMIN not tested"
fi

# None of the refusals above may have written a record.
check "no refused start wrote a record" [ ! -s "$OUT" ]
finish
