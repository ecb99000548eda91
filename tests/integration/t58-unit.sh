# packaging/fanotifyd.service, checked without systemd as PID 1:
# - `systemd-analyze verify` prints nothing and exits 0, on a staged root (the built binary
#   as /usr/sbin/fanotifyd, /bin/kill, the host's systemd units) with MANPATH at the repo's
#   man pages (a stub fanotifyd.conf.5 in this test's temp dir while the repo has none);
# - `systemd-analyze security --offline=true` scores it at or below UNIT_EXPOSURE_MAX
#   (README, "Running as a service");
# - the directives the daemon relies on are there (Type=notify, --check-config before the
#   start, --foreground, reload by SIGHUP, exit 2 not restarted, the watchdog);
# - the daemon runs with what the unit gives it: its capability bounding set only, its
#   Nice= and LimitNOFILE=, a /proc mounted as ProtectProc=invisible, in a
#   mount namespace of its own (as ProtectSystem= makes): it starts, keeps what it should,
#   has the proc connector, and attributes a root process's open to its exe;
# - in that namespace a `mount` mark would see nothing of a process outside it (the
#   limitation README documents): the daemon and --check-config refuse it (exit 2), unless
#   started from inside the namespace; `filesystem` and `watch` marks pass.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
UNIT=$HERE/../../packaging/fanotifyd.service
MANDIR=$HERE/../../man
UNIT_EXPOSURE_MAX=2.9

command -v systemd-analyze >/dev/null ||
	skip "systemd-analyze missing (package systemd; scripts/deps.sh installs it)"

# --- verify ------------------------------------------------------------------------------------
ST=$S/root
mkdir -p "$ST/usr/sbin" "$ST/bin" "$ST/usr/lib/systemd" "$ST/etc/systemd/system" \
	"$ST/man/man8" "$ST/man/man5"
cp "$FANOTIFYD" "$ST/usr/sbin/fanotifyd"
cp "$(type -P kill)" "$ST/bin/kill"
mount --bind /usr/lib/systemd "$ST/usr/lib/systemd" || { fail "bind /usr/lib/systemd"; finish; }
cleanup_more() { umount "$ST/usr/lib/systemd" 2>/dev/null; }
cp "$UNIT" "$ST/etc/systemd/system/fanotifyd.service"
cp "$MANDIR/fanotifyd.8" "$ST/man/man8/"
if [ -f "$MANDIR/fanotifyd.conf.5" ]; then
	cp "$MANDIR/fanotifyd.conf.5" "$ST/man/man5/"
else
	printf '.TH FANOTIFYD.CONF 5\n.SH NAME\nfanotifyd.conf \\- stub of this test\n' \
		>"$ST/man/man5/fanotifyd.conf.5"
fi
rc=0
MANPATH=$ST/man systemd-analyze verify --root="$ST" fanotifyd.service >"$S/verify" 2>&1 || rc=$?
check "systemd-analyze verify exits 0 (got $rc)" [ "$rc" = 0 ]
check "systemd-analyze verify says nothing ($(head -c 300 "$S/verify" | tr '\n' ' '))" \
	[ ! -s "$S/verify" ]

# --- security score ----------------------------------------------------------------------------
systemd-analyze security --offline=true "$UNIT" >"$S/security" 2>&1
SCORE=$(sed -n 's/.*Overall exposure level for fanotifyd.service: \([0-9.]*\).*/\1/p' "$S/security")
check "security: exposure score found ($(tail -n 1 "$S/security"))" [ -n "$SCORE" ]
check "security: exposure $SCORE <= $UNIT_EXPOSURE_MAX" \
	awk -v s="${SCORE:-99}" -v m="$UNIT_EXPOSURE_MAX" 'BEGIN { exit !(s <= m) }'

# --- the directives the daemon relies on -------------------------------------------------------
key() { sed -n "s/^$1=//p" "$UNIT"; }
check "Type=notify" [ "$(key Type)" = notify ]
check "ExecStartPre runs --check-config on the config ExecStart uses" \
	eval '[ "$(key ExecStartPre)" = "/usr/sbin/fanotifyd --check-config --config /etc/fanotifyd/fanotifyd.conf" ]'
check "ExecStart: --foreground with that config" \
	eval '[ "$(key ExecStart)" = "/usr/sbin/fanotifyd --foreground --config /etc/fanotifyd/fanotifyd.conf" ]'
check "ExecReload sends SIGHUP to the main pid" eval '[ "$(key ExecReload)" = "/bin/kill -HUP \$MAINPID" ]'
check "RestartPreventExitStatus=2, Restart=on-failure" \
	eval '[ "$(key RestartPreventExitStatus)" = 2 ] && [ "$(key Restart)" = on-failure ]'
check "WatchdogSec= set" [ -n "$(key WatchdogSec)" ]
check "no AmbientCapabilities" [ -z "$(key AmbientCapabilities)" ]

# --- the daemon under the unit's limits --------------------------------------------------------
BSET=-all
for c in $(key CapabilityBoundingSet); do
	c=${c#CAP_}
	BSET="$BSET,+$(tr 'A-Z' 'a-z' <<<"$c")"
done
NICE=$(key Nice)
NOFILE=$(key LimitNOFILE)
# Where the hard limit cannot be raised here (no CAP_SYS_RESOURCE in this sandbox), as
# much of it as there is.
[ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$NOFILE" ] && NOFILE=$(ulimit -Hn)
# unit_daemon ARGS...: the daemon in a mount namespace of its own with the unit's /proc,
# bounding set, nice and descriptor limit; ready by its pid file.
unit_daemon() {
	rm -f "$PIDF"
	timeout -s KILL 60 unshare -m --propagation slave sh -c \
		'mount -t proc -o hidepid=invisible proc /proc &&
		 n=$0 f=$1 b=$2 && shift 2 &&
		 exec nice -n "$n" prlimit --nofile="$f" setpriv --bounding-set "$b" "$@"' \
		"$NICE" "$NOFILE" "$BSET" "$FANOTIFYD" --foreground --pid-file "$PIDF" \
		--output "$OUT" -v "$@" 2>"$ERR" &
	TPID=$!
	wait_ready
}
echo data >"$W/f"
unit_daemon --filesystem "$W" || finish
hold_cat "$W/f" || finish
sentinel || finish
CAT=$(readlink -f "$(command -v cat)")
check "unit limits: the daemon starts and records the open of a held cat, with its exe" \
	has path="$W/f" events~OPEN pid="$HELD" exe="$CAT"
check "unit limits: it keeps CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE" \
	grep -q 'privileges: kept CAP_DAC_READ_SEARCH CAP_SYS_PTRACE;' "$ERR"
check "unit limits: CAP_SETPCAP there (the bounding set is emptied)" \
	eval '! grep -q "no CAP_SETPCAP" "$ERR"'
check "unit limits: the proc connector works" eval '! grep -q "proc connector unavailable" "$ERR"'
check "unit limits: the start record has the kernel's boot_id (/proc/sys is not hidden)" \
	has type=start boot_id="$(cat /proc/sys/kernel/random/boot_id)"
check "unit limits: Nice= makes CAP_SYS_NICE needless" eval '! grep -q "cannot raise priority" "$ERR"'
check "unit limits: LimitNOFILE= ($NOFILE here) makes CAP_SYS_RESOURCE needless" \
	grep -q "descriptor limit $NOFILE\$" "$ERR"
check "unit limits: a filesystem mark in its namespace is not refused" \
	eval '! grep -q "mount marks: this daemon runs in a mount namespace" "$ERR"'
unhold
stop_daemon
check "unit limits: SIGTERM exits 0 (got $DSTATUS)" [ "$DSTATUS" = 0 ]

# A mount mark placed inside that namespace would be blind to every process outside it
# (measured before it was refused: no record of the test's own opens under --mount,
# --no-fid --mount or --perm --mount): the daemon refuses to start with one, and
# --check-config (the unit's ExecStartPre, in the same namespace) says so too.
NSMSG="mount marks: this daemon runs in a mount namespace other than that of the process that started it"
rm -f "$OUT"
timeout -s KILL 20 unshare -m --propagation slave "$FANOTIFYD" --foreground \
	--output "$OUT" --mount "$W" 2>"$ERR"
RC=$?
check "its own namespace: a mount mark is refused, exit 2 (got $RC)" [ "$RC" = 2 ]
check "its own namespace: ... saying why" grep -q "$NSMSG" "$ERR"
check "its own namespace: ... before any record" [ ! -s "$OUT" ]
timeout -s KILL 20 unshare -m --propagation slave "$FANOTIFYD" --check-config --foreground \
	--mount "$W" >/dev/null 2>"$ERR"
RC=$?
check "its own namespace: --check-config of a mount mark exits 2 (got $RC)" [ "$RC" = 2 ]
check "its own namespace: ... saying why" grep -q "$NSMSG" "$ERR"
timeout -s KILL 20 unshare -m --propagation slave "$FANOTIFYD" --check-config --foreground \
	--filesystem "$W" --watch "$W" >/dev/null 2>"$ERR"
RC=$?
check "its own namespace: filesystem and watch marks pass --check-config (got $RC)" [ "$RC" = 0 ]
# Started from a process in its own namespace (a container's shell), a mount mark is fine.
timeout -s KILL 20 unshare -m --propagation slave sh -c '"$0" --check-config --foreground \
	--mount "$1" >/dev/null' "$FANOTIFYD" "$W" 2>"$ERR"
RC=$?
check "a daemon started from inside the namespace may mount-mark (got $RC)" [ "$RC" = 0 ]
finish
cat "$W/f" >/dev/null
sh -c ': >"$1"' sh "$W/after-mount-mark"
# The sentinel: the CREATE comes through the filesystem mark placed for the mount's
# directory-entry events, which does see it; the open before it was queued first.
check "its own namespace: the create after the open is recorded (filesystem mark)" \
	waitrec path="$W/after-mount-mark" events~CREATE
stop_daemon
check "its own namespace: the daemon warns about mount marks" \
	grep -q "mount marks: this daemon runs in a mount namespace other than that of the process that started it" "$ERR"
check "its own namespace: a mount mark records no open made outside it" \
	eval '[ "$(count type=event path="$W/f" events~OPEN)" = 0 ]'
finish
