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
refused 2 "stray argument" --foreground --watch "$W" stray --output "$OUT" --pid-file "$PIDF"
check "stray argument: names it" says "stray"
refused 2 "option without its value" --foreground --output "$OUT" --pid-file "$PIDF" --watch
for bad in abc 12abc -1 '' 99999999999999999999; do
	refused 2 "--burst-threshold '$bad'" --foreground --watch "$W" --output "$OUT" \
		--pid-file "$PIDF" --burst-threshold "$bad"
done
check "bad number: names the option" says "--burst-threshold"
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

# None of the refusals above may have written a record.
check "no refused start wrote a record" [ ! -s "$OUT" ]
finish
