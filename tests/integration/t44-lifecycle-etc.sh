# A whole daemon lifecycle with permission marks on the files the daemon's own libc wants:
# /etc (a tmpfs copy) and /usr (a bind mount of its own), in this test's mount namespace.
# Started in the background (syslog, no TZ in the environment, NSS for --socket-group and
# --hook-user), then SIGUSR1, SIGHUP, an alert with a hook, a subscriber, a reload of a
# config kept in the marked /etc (read by the daemon while /etc waits on its answers), -v
# logging, and SIGTERM; after each step opens under
# /etc and /usr and an exec must complete at once. Any lazy libc initialisation left for
# after the marks (time zone for syslog's time stamps, NSS for a group name) would make the
# daemon wait for its own answer, and every open here with it.
. "$(dirname "$0")/lib.sh"
require_fanotify perm
setup

mkdir "$S/etc"
mount -t tmpfs -o size=64m fanotifyd-etc "$S/etc" || { fail "mount tmpfs"; finish; }
cp -a /etc/. "$S/etc/" || { fail "copy /etc"; finish; }
mount --bind "$S/etc" /etc || { fail "bind the copy over /etc"; finish; }
mount --bind /usr /usr || { fail "bind /usr"; finish; }
cleanup_more() { umount -l /usr 2>/dev/null; umount -l /etc 2>/dev/null; umount -l "$S/etc" 2>/dev/null; }
echo secret >/etc/fanotifyd-canary
echo secret >/etc/fanotifyd-canary2
printf 'hook_cooldown_ms 5000\n' >/etc/fanotifyd-reload.conf
mkdir -m 1777 "$S/hk"
chmod o+x "$IT_BASE_DIR" # the hook runs as nobody

# A guard started before any mark (so it needs no exec or import later): 60 s after the
# daemon's pid file appears it kills the daemon, and if that does not release this test
# (a daemon stuck in its teardown), every other process of this mount namespace.
"$PY" - "$PIDF" <<'PY' &
import os, signal, sys, time
pidf, me = sys.argv[1], os.getpid()
ns = os.readlink("/proc/self/ns/mnt")
t = time.monotonic()
while not os.path.exists(pidf) and time.monotonic() - t < 30:
    time.sleep(0.05)
try:
    pid = int(open(pidf).read())
except (OSError, ValueError):
    sys.exit(0)
time.sleep(60)
try:
    os.kill(pid, signal.SIGKILL)
except OSError:
    sys.exit(0)
time.sleep(2)
if os.path.exists("/proc/%d" % pid):
    for p in os.listdir("/proc"):
        if p.isdigit() and int(p) not in (me, pid):
            try:
                if os.readlink("/proc/%s/ns/mnt" % p) == ns:
                    os.kill(int(p), signal.SIGKILL)
            except OSError:
                pass
PY
GUARD=$!
cleanup_more() {
	kill "$GUARD" 2>/dev/null
	umount -l /usr 2>/dev/null; umount -l /etc 2>/dev/null; umount -l "$S/etc" 2>/dev/null
}
mkfifo "$S/nap"
# nap SECONDS: a sleep without an exec (nothing from /usr).
nap() { read -rt "$1" <>"$S/nap" || true; }
us() { echo "${EPOCHREALTIME/./}"; }
# within5 CMD...: CMD succeeds and takes less than 5 s (time read with a shell builtin:
# after a hang ends, a command would succeed, so only the time tells).
within5() {
	local t0 rc=0
	t0=$(us)
	timeout 5 "$@" >/dev/null || rc=$?
	[ "$rc" = 0 ] && [ $(($(us) - t0)) -lt 5000000 ]
}
# responsive STEP: opens of files under /etc and /usr, and an exec, complete at once.
responsive() {
	check "$1: open under /etc" within5 cat /etc/passwd /etc/localtime
	check "$1: open under /usr" within5 cat /usr/share/zoneinfo/Etc/UTC
	check "$1: exec from /usr" within5 /usr/bin/env true
	check "$1: daemon alive" kill -0 "$DPID"
}

# Background: the parent exits once the marks are placed; the daemon is stopped by its PID.
RC=0
env -u TZ timeout -s KILL 20 "$FANOTIFYD" --pid-file "$PIDF" --output "$OUT" -v \
	--perm --mount /etc --mount /usr --canary /etc/fanotifyd-canary \
	-c /etc/fanotifyd-reload.conf \
	--hook "echo hook-ran >$S/hk/hook.out; cat /etc/hostname >>$S/hk/hook.out" --hook-user nobody \
	--socket "$S/sock" --socket-group root </dev/null 2>"$ERR" || RC=$?
check "daemonizes (exit 0)" [ "$RC" = 0 ]
DPID=$(cat "$PIDF" 2>/dev/null)
[ -n "$DPID" ] || { fail "no pid file"; finish; }

responsive "started"
kill -USR1 "$DPID"
nap 0.5
responsive "after SIGUSR1 (a syslog message)"
kill -HUP "$DPID"
nap 0.5
responsive "after SIGHUP"
check "canary read completes" within5 cat /etc/fanotifyd-canary
for i in $(seq 1 100); do [ -s "$S/hk/hook.out" ] && break; nap 0.05; done
nap 0.3
check "the hook ran and read /etc" grep -qx hook-ran "$S/hk/hook.out"
responsive "after a hook"
timeout 10 "$PY" - "$S/sock" >"$S/sub.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
buf = b""
while b"\n" not in buf:
    d = s.recv(4096)
    if not d:
        break
    buf += d
sys.stdout.write(buf.decode("utf-8", "replace").split("\n")[0] + "\n")
PY
SUB=$!
nap 0.3
timeout 5 cat /etc/hostname >/dev/null
wait "$SUB"
check "a subscriber got a record" grep -q '"type"' "$S/sub.out"
responsive "after a subscriber"
# A reload whose config lies in the permission-marked /etc: written, then read by the
# daemon's reader thread while the loop answers (its own opens are allowed at once).
printf 'hook_cooldown_ms 5000\ncanary /etc/fanotifyd-canary2\n' >/etc/fanotifyd-reload.conf
kill -HUP "$DPID"
check "reload of a config in the marked /etc: applied within 10 s" \
	waitrec type=reload status=applied changed~canary
responsive "after a reload"
check "the reloaded canary: its read completes" within5 cat /etc/fanotifyd-canary2
check "the reloaded canary alerts" waitrec type=alert kind=canary path=/etc/fanotifyd-canary2
check "alert recorded" waitrec type=alert kind=canary path=/etc/fanotifyd-canary
check "every open answered: OPEN_PERM records of /etc/passwd" waitrec events~OPEN_PERM path=/etc/passwd
kill -TERM "$DPID"
for i in $(seq 1 250); do kill -0 "$DPID" 2>/dev/null || break; nap 0.02; done
check "SIGTERM: the daemon exits within 5 s" [ ! -d "/proc/$DPID" ]
DPID=
responsive_after() {
	check "after stop: open under /etc" within5 cat /etc/passwd
	check "after stop: exec from /usr" within5 /usr/bin/env true
}
responsive_after
finish
