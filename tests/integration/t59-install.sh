# make install and make uninstall, the commands of the README's "Running as a service":
# into a DESTDIR (default layout) and into a real PREFIX under a temporary directory (every
# path moved there: SYSCONFDIR, LOGDIR, RUNDIR). Each installed file is where it belongs
# with its mode; the installed config passes --check-config and, in the PREFIX install,
# the daemon runs on it (tmpfiles entry applied first, as at boot); files that name paths
# name the moved ones; the completion, sourced in bash, completes options, event names and
# files; a reinstall keeps an edited config; uninstall leaves nothing but an edited config.
# The build is the binary under test ($FANOTIFYD, never rebuilt: make -o); the checkout's
# build directory is not touched.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
setup
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"
B=$S/b
# inst TARGET VAR=VALUE...: make TARGET from the checkout with the binary under test.
inst() {
	local t=$1
	shift
	make -s -C "$ROOT" -o "$FANOTIFYD" BIN="$FANOTIFYD" BUILD="$B" "$@" "$t" >"$S/make.out" 2>&1
	local rc=$?
	sed 's/^/# make: /' "$S/make.out"
	return $rc
}
# mode_is MODE PATH
mode_is() { [ "$(stat -c %a "$1" 2>/dev/null)" = "$2" ]; }
# files_under DIR: regular files and links left under DIR
files_under() { find "$1" -type f -o -type l; }
# none_exist PATH...
none_exist() { for p; do [ ! -e "$p" ] || return 1; done; }

# --- DESTDIR, default layout ------------------------------------------------------------
D=$S/stage
check "make install DESTDIR=... exits 0" inst install DESTDIR="$D" || finish
P=$D/usr/local
for f in "$P/sbin/fanotifyd 755" "$P/share/man/man8/fanotifyd.8 644" \
	"$P/share/man/man5/fanotifyd.conf.5 644" "$P/lib/systemd/system/fanotifyd.service 644" \
	"$P/lib/tmpfiles.d/fanotifyd.conf 644" "$D/etc/fanotifyd/fanotifyd.conf 644" \
	"$D/etc/logrotate.d/fanotifyd 644" \
	"$P/share/bash-completion/completions/fanotifyd 644" "$D/var/log/fanotifyd 750"; do
	set -- $f
	check "installed ${1#$D} mode $2" mode_is "$1" "$2"
done
check "the binary is the one built" cmp -s "$FANOTIFYD" "$P/sbin/fanotifyd"
check "the default config is packaging/fanotifyd.conf as it is" \
	cmp -s "$ROOT/packaging/fanotifyd.conf" "$D/etc/fanotifyd/fanotifyd.conf"
check "the logrotate stanza as it is" \
	cmp -s "$ROOT/packaging/fanotifyd.logrotate" "$D/etc/logrotate.d/fanotifyd"
check "the unit starts the installed binary (/usr/local/sbin)" \
	grep -q '^ExecStart=/usr/local/sbin/fanotifyd ' "$P/lib/systemd/system/fanotifyd.service"
# Staged, its output and pid file would be on this host's /var/log and /run, which need not
# exist here: the command line moves them (the PREFIX install below checks them as they are).
rc=0
"$FANOTIFYD" --check-config --config "$D/etc/fanotifyd/fanotifyd.conf" --output "$S/x.jsonl" \
	--pid-file "$S/x.pid" >"$S/check.out" 2>&1 || rc=$?
check "the staged config passes --check-config, output and pid file moved (got $rc)" [ "$rc" = 0 ] ||
	sed 's/^/# /' "$S/check.out"

# The completion, as bash-completion loads it.
COMP=$P/share/bash-completion/completions/fanotifyd
mkdir "$S/files" && : >"$S/files/one.conf" && : >"$S/files/other.conf"
# comp WORD...: what completing the last WORD of "fanotifyd WORD..." offers, sorted.
comp() {
	bash -c '
		[ -f /usr/share/bash-completion/bash_completion ] &&
			. /usr/share/bash-completion/bash_completion
		. "$0"
		COMP_WORDS=(fanotifyd "$@"); COMP_CWORD=$#
		COMP_LINE="fanotifyd $*"; COMP_POINT=${#COMP_LINE}
		_fanotifyd
		[ ${#COMPREPLY[@]} = 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
		"$COMP" "$@"
}
# offers WANT WORD...: the completion of WORD... is exactly WANT (space-separated, sorted)
offers() {
	local want=$1 got
	shift
	got=$(comp "$@")
	[ "$got" = "$want" ] && return 0
	echo "# completing '$*': got '$got', want '$want'"
	return 1
}
check "completion: --hook- offers the --hook-* options" \
	offers "--hook-cooldown-ms --hook-max --hook-timeout-ms --hook-user " --hook-
check "completion: --ev offers --events" offers "--events " --ev
check "completion: --events clo offers the close events" \
	offers "close close_nowrite close_write " --events clo
check "completion: --events open,mo completes the word after the comma" \
	offers "open,modify open,move open,moved_from open,moved_to " --events open,mo
check "completion: --config completes file names" \
	offers "$S/files/one.conf $S/files/other.conf " --config "$S/files/o"
check "completion: --hook-max (a number) offers nothing" offers "" --hook-max ""
HELP_OPTS=$("$FANOTIFYD" --help | grep -oE '^ +(-[a-zA-Z], +)?--[a-z-]+' |
	grep -oE -- '-[a-zA-Z]\b|--[a-z-]+' | sort | tr '\n' ' ')
check "completion: - offers every option of --help ($(echo $HELP_OPTS | wc -w))" \
	offers "$HELP_OPTS" -
EVS=$(comp --events "")
bad=
[ -n "$EVS" ] || bad=" (none offered)"
for e in $EVS; do
	"$FANOTIFYD" --check-config --foreground --watch / --events "$e" >/dev/null 2>&1 || bad="$bad $e"
done
check "completion: each of the $(echo $EVS | wc -w) event names offered is one --events takes${bad:+ (not:$bad)}" \
	[ -z "$bad" ]

# Reinstall over an edited config: kept, the new default beside it.
echo "# edited" >>"$D/etc/fanotifyd/fanotifyd.conf"
cp "$D/etc/fanotifyd/fanotifyd.conf" "$S/edited"
check "reinstall exits 0" inst install DESTDIR="$D"
check "reinstall: the edited config is kept" cmp -s "$S/edited" "$D/etc/fanotifyd/fanotifyd.conf"
check "reinstall: the new default is fanotifyd.conf.default" \
	cmp -s "$ROOT/packaging/fanotifyd.conf" "$D/etc/fanotifyd/fanotifyd.conf.default"
check "reinstall: says so" grep -q "kept .*fanotifyd.conf (edited)" "$S/make.out"
check "make uninstall DESTDIR=... exits 0" inst uninstall DESTDIR="$D"
check "uninstall: only the edited config is left" \
	[ "$(files_under "$D")" = "$D/etc/fanotifyd/fanotifyd.conf" ]
rm "$D/etc/fanotifyd/fanotifyd.conf"
check "install again exits 0" inst install DESTDIR="$D"
check "uninstall again exits 0" inst uninstall DESTDIR="$D"
check "uninstall of an unedited install: no file left" [ -z "$(files_under "$D")" ]
check "... and no directory of fanotifyd's own" \
	none_exist "$D/etc/fanotifyd" "$D/var/log/fanotifyd"

# --- a real PREFIX, every path under it -------------------------------------------------
R=$S/root
VARS="PREFIX=$R/usr SYSCONFDIR=$R/etc LOGDIR=$R/var/log/fanotifyd RUNDIR=$R/run/fanotifyd"
# shellcheck disable=SC2086
check "make install PREFIX=... SYSCONFDIR=... LOGDIR=... RUNDIR=... exits 0" inst install $VARS ||
	finish
for f in "$R/usr/sbin/fanotifyd" "$R/usr/share/man/man8/fanotifyd.8" \
	"$R/usr/share/man/man5/fanotifyd.conf.5" "$R/usr/lib/systemd/system/fanotifyd.service" \
	"$R/usr/lib/tmpfiles.d/fanotifyd.conf" "$R/etc/fanotifyd/fanotifyd.conf" \
	"$R/etc/logrotate.d/fanotifyd" "$R/usr/share/bash-completion/completions/fanotifyd"; do
	check "installed ${f#$R}" [ -f "$f" ]
done
# names FILE: FILE names the moved paths, and none of the defaults
names() {
	grep -q "$R/" "$1" && ! grep -v "$R/" "$1" |
		grep -qE '(^|[ =])(/usr/sbin/fanotifyd|/etc/fanotifyd/|/var/log/fanotifyd|/run/fanotifyd)'
}
MOVED=1
for f in etc/fanotifyd/fanotifyd.conf etc/logrotate.d/fanotifyd usr/lib/tmpfiles.d/fanotifyd.conf \
	usr/lib/systemd/system/fanotifyd.service; do
	check "$f names the moved paths only" names "$R/$f" || MOVED=
done
# Applied to a tmpfiles entry or config naming /run or /var/log, what follows would make
# directories and write files on the host itself.
[ -n "$MOVED" ] || { fail "not applying the tmpfiles entry or starting the daemon"; finish; }
rc=0
systemd-tmpfiles --create "$R/usr/lib/tmpfiles.d/fanotifyd.conf" >"$S/tmpfiles.out" 2>&1 || rc=$?
check "systemd-tmpfiles --create on the installed entry exits 0 (got $rc)" [ "$rc" = 0 ] ||
	sed 's/^/# /' "$S/tmpfiles.out"
check "... made RUNDIR 0755" mode_is "$R/run/fanotifyd" 755
check "... LOGDIR is 0750" mode_is "$R/var/log/fanotifyd" 750
rc=0
"$R/usr/sbin/fanotifyd" --check-config --config "$R/etc/fanotifyd/fanotifyd.conf" \
	>"$S/check.out" 2>&1 || rc=$?
check "the installed binary passes --check-config on the installed config (got $rc)" [ "$rc" = 0 ]
if have_fanotify fid; then
	PIDF=$R/run/fanotifyd/fanotifyd.pid
	LOG=$R/var/log/fanotifyd/fanotifyd.jsonl
	# As the unit starts it; the default config watches /etc for changes only.
	timeout -s KILL 60 "$R/usr/sbin/fanotifyd" --foreground \
		--config "$R/etc/fanotifyd/fanotifyd.conf" 2>"$ERR" &
	TPID=$!
	if wait_ready; then
		kill -USR1 "$DPID"
		check "the daemon on the installed config wrote its pid file; SIGUSR1: a stats record in its output" \
			$JSONL wait "$LOG" --timeout 10 type=stats
	fi
	stop_daemon
	check "... and exits 0 on SIGTERM" [ "$DSTATUS" = 0 ]
	rm -f "$LOG"
fi
# shellcheck disable=SC2086
check "make uninstall with the same variables exits 0" inst uninstall $VARS
check "uninstall: no file left under the prefix" [ -z "$(files_under "$R")" ]
check "... and no directory of fanotifyd's own" \
	none_exist "$R/etc/fanotifyd" "$R/var/log/fanotifyd" "$R/run/fanotifyd"
finish
