# The Debian package: dpkg-buildpackage -us -uc -b builds it from a copy of the tree (the
# checkout stays as it was), lintian finds no error in the .deb or the .changes, dpkg -i
# installs every file (the service enabled; not started, since systemd is not running the
# machine here, and the install must not fail for it), the shipped config passes
# --check-config, the daemon runs on it as the unit starts it and the installed logrotate
# stanza rotates its output through the pid-file fallback, then dpkg -r and dpkg -P leave
# nothing behind. Installs on this host's real root: it refuses to run where a fanotifyd
# package or file is there already.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
[ "$(id -u)" = 0 ] || skip "needs root (dpkg -i)"
for t in dpkg-buildpackage dh lintian logrotate; do
	command -v "$t" >/dev/null || skip "$t missing (scripts/deps.sh installs it)"
done
st=$(dpkg-query -W -f='${db:Status-Abbrev}' fanotifyd 2>/dev/null || true)
[ -z "$st" ] || skip "a fanotifyd package is on this host already (dpkg status '$st')"
for f in /usr/sbin/fanotifyd /etc/fanotifyd /var/log/fanotifyd /etc/logrotate.d/fanotifyd \
	/lib/systemd/system/fanotifyd.service /usr/lib/tmpfiles.d/fanotifyd.conf; do
	[ -e "$f" ] && skip "$f exists already: not installing over it"
done
setup
B=$(mktemp -d /tmp/fanotifyd-deb.XXXXXX)
INSTALLED=
cleanup_more() {
	[ -n "$INSTALLED" ] && dpkg -P fanotifyd >/dev/null 2>&1
	rm -rf "$B"
}

# The places a package can leave something; compared before install and after purge.
snapshot() {
	find /etc /lib/systemd/system /usr/lib/tmpfiles.d /usr/sbin \
		/usr/share/bash-completion/completions /usr/share/man/man5 /usr/share/man/man8 \
		/usr/share/doc /var/lib/systemd/deb-systemd-helper-enabled /var/lib/dpkg/info \
		2>/dev/null | grep -v '^/etc/ld\.so\.cache$' | sort
	find /var/log /run -maxdepth 1 -name '*fanotifyd*' 2>/dev/null
}
snapshot >"$S/before"
STATUS_BEFORE=$(git -C "$ROOT" status --porcelain 2>/dev/null | sort)

# A copy of the tree as git sees it, tracked and new files (a fresh clone in CI).
mkdir "$B/fanotifyd-0.1.0"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
		(cd "$ROOT" && tar --null -T - -cf -) | tar -xf - -C "$B/fanotifyd-0.1.0"
else
	tar -C "$ROOT" --exclude=./build --exclude=./fanotifyd -cf - . | tar -xf - -C "$B/fanotifyd-0.1.0"
fi
t0=$(date +%s)
rc=0
(cd "$B/fanotifyd-0.1.0" && timeout 900 dpkg-buildpackage -us -uc -b) >"$S/build.log" 2>&1 || rc=$?
echo "# dpkg-buildpackage -us -uc -b: $(($(date +%s) - t0)) s"
check "dpkg-buildpackage -us -uc -b exits 0 (got $rc)" [ "$rc" = 0 ] ||
	{ sed 's/^/# /' "$S/build.log" | tail -n 20; finish; }
DEB=$B/fanotifyd_0.1.0_$(dpkg --print-architecture).deb
CHANGES=$B/fanotifyd_0.1.0_$(dpkg --print-architecture).changes
check "it made the .deb" [ -f "$DEB" ]
check "the unit tests ran in the build (dh_auto_test)" grep -q '^test_config: ok' "$S/build.log"
check "the checkout is as it was" [ "$(git -C "$ROOT" status --porcelain 2>/dev/null | sort)" = "$STATUS_BEFORE" ]

lintian --pedantic "$DEB" "$CHANGES" >"$S/lintian" 2>&1
grep -v '^running with root' "$S/lintian" | sed 's/^/# lintian: /'
check "lintian: no error in the .deb or the .changes" [ "$(grep -c '^E:' "$S/lintian")" = 0 ]

dpkg-deb -I "$DEB" conffiles >"$S/conffiles"
check "conffile /etc/fanotifyd/fanotifyd.conf" grep -qx /etc/fanotifyd/fanotifyd.conf "$S/conffiles"
check "conffile /etc/logrotate.d/fanotifyd" grep -qx /etc/logrotate.d/fanotifyd "$S/conffiles"

rc=0
dpkg -i "$DEB" >"$S/dpkg-i.log" 2>&1 || rc=$?
INSTALLED=1
check "dpkg -i exits 0 (got $rc)" [ "$rc" = 0 ] || sed 's/^/# /' "$S/dpkg-i.log"
check "installed: status ii" [ "$(dpkg-query -W -f='${db:Status-Abbrev}' fanotifyd)" = "ii " ]
for f in /usr/sbin/fanotifyd /usr/share/man/man8/fanotifyd.8.gz \
	/usr/share/man/man5/fanotifyd.conf.5.gz /etc/fanotifyd/fanotifyd.conf \
	/etc/logrotate.d/fanotifyd /lib/systemd/system/fanotifyd.service \
	/usr/lib/tmpfiles.d/fanotifyd.conf /usr/share/bash-completion/completions/fanotifyd \
	/usr/share/doc/fanotifyd/copyright; do
	check "installed $f" [ -f "$f" ]
done
check "/var/log/fanotifyd made, 0750" [ "$(stat -c %a /var/log/fanotifyd 2>/dev/null)" = 750 ]
check "/run/fanotifyd made" [ -d /run/fanotifyd ]
check "the service is enabled (multi-user.target.wants)" \
	[ -L /etc/systemd/system/multi-user.target.wants/fanotifyd.service ]
if [ ! -d /run/systemd/system ]; then
	check "systemd is not running here: the install did not start the daemon" \
		[ ! -e /run/fanotifyd/fanotifyd.pid ]
fi
rc=0
/usr/sbin/fanotifyd --check-config --config /etc/fanotifyd/fanotifyd.conf >"$S/check.out" 2>&1 || rc=$?
check "fanotifyd --check-config --config /etc/fanotifyd/fanotifyd.conf exits 0 (got $rc)" [ "$rc" = 0 ] ||
	sed 's/^/# /' "$S/check.out"
check "the installed man pages open" man -l /usr/share/man/man5/fanotifyd.conf.5.gz >/dev/null

# The daemon on the shipped config, as the unit runs it (in the foreground): a change in
# /etc is recorded in /var/log/fanotifyd; logrotate -f on the installed stanza finds it by
# its pid file and HUPs it; it writes a new file.
if have_fanotify fid; then
	PIDF=/run/fanotifyd/fanotifyd.pid
	LOG=/var/log/fanotifyd/fanotifyd.jsonl
	timeout -s KILL 120 /usr/sbin/fanotifyd --foreground --config /etc/fanotifyd/fanotifyd.conf \
		2>"$ERR" &
	TPID=$!
	if wait_ready; then
		E=$(mktemp /etc/.fanotifyd-t61.XXXXXX)
		rm -f "$E"
		check "a file made and removed in /etc is recorded in $LOG" \
			$JSONL wait "$LOG" --timeout 10 type=event events~DELETE path="$E"
		rc=0
		logrotate -f -s "$S/logrotate.state" /etc/logrotate.d/fanotifyd >"$S/lr.log" 2>&1 || rc=$?
		check "logrotate -f /etc/logrotate.d/fanotifyd exits 0 (got $rc)" [ "$rc" = 0 ] ||
			sed 's/^/# /' "$S/lr.log"
		check "... rotated the output to $LOG.1" [ -f "$LOG.1" ]
		check "... and its postrotate HUP (pid file) made the daemon open a new $LOG" \
			wait_file "$LOG"
		E=$(mktemp /etc/.fanotifyd-t61.XXXXXX)
		rm -f "$E"
		check "records go on in the new file" $JSONL wait "$LOG" --timeout 10 type=event \
			events~DELETE path="$E"
	fi
	stop_daemon
	check "SIGTERM: exit 0" [ "$DSTATUS" = 0 ]
fi

rc=0
dpkg -r fanotifyd >"$S/dpkg-r.log" 2>&1 || rc=$?
check "dpkg -r exits 0 (got $rc)" [ "$rc" = 0 ] || sed 's/^/# /' "$S/dpkg-r.log"
check "removed: the binary is gone" [ ! -e /usr/sbin/fanotifyd ]
check "removed: the conffile stays until purge" [ -f /etc/fanotifyd/fanotifyd.conf ]
rc=0
dpkg -P fanotifyd >"$S/dpkg-p.log" 2>&1 || rc=$?
check "dpkg -P exits 0 (got $rc)" [ "$rc" = 0 ] || sed 's/^/# /' "$S/dpkg-p.log"
INSTALLED=
check "purged: dpkg knows no fanotifyd" [ -z "$(dpkg-query -W -f='${db:Status-Abbrev}' fanotifyd 2>/dev/null)" ]
snapshot >"$S/after"
check "purged: nothing left behind (/etc, /lib/systemd, /usr, /var/log, /run, dpkg's info)" \
	diff "$S/before" "$S/after"
finish
