# The service manager's protocol (sd_notify), against a datagram socket this test binds
# itself (python3, SO_PASSCRED: each message is logged with its sender's pid):
# - READY=1 comes only once every mark is placed: on READY the receiver itself opens a file
#   in the last of 200 watched directories, and the pid file (written after the marks)
#   already exists; that open is recorded. READY carries STATUS=.
# - daemonized: READY=1 and MAINPID=<the daemon> come from the process that was started
#   (the one NotifyAccess=main hears), and later messages from the daemon;
# - SIGHUP: RELOADING=1 with MONOTONIC_USEC=, then READY=1 with the reload's outcome;
# - STOPPING=1 on SIGTERM, from the daemon, the last message, exit 0;
# - WATCHDOG_USEC=400000: WATCHDOG=1 every ~200 ms; none while the daemon is SIGSTOPped
#   (1.5 s: systemd would kill it), again after SIGCONT; and in --perm mode pings go on
#   while openers keep the permission group busy (a held ping is released once read);
#   WATCHDOG_PID naming another process: no pings;
# - an abstract socket ('@name'); a socket nobody bound: a warning, the daemon runs;
# - NOTIFY_SOCKET and WATCHDOG_* do not reach a hook's environment (hook.c builds a fresh
#   one: this guards it);
# - $JOURNAL_STREAM naming stderr: every stderr line starts with <N> (<3> to <7>), without
#   the "fanotifyd: " prefix; naming another file: the plain "fanotifyd: " lines.
# The loop that turns but does not read is test_notify's case (no real situation makes it).
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup

NLOG=$S/notify.log
RPID=
# recv_start ADDR: a receiver bound at ADDR (a path, or @name) logging each datagram as
# "MONO_MS pid=PID MSG" (newlines in MSG as spaces) into $NLOG.
recv_start() {
	rm -f "$NLOG" "$NLOG.ready"
	case $1 in /*) rm -f "$1" ;; esac
	timeout 120 "$PY" - "$1" "$NLOG" "${2:-}" "${3:-}" <<'PY' &
import os, socket, struct, sys, time
addr, log, pidfile, touch = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
out = open(log, "w", buffering=1)
open(log + ".ready", "w").close()
while True:
    msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    text = msg.decode(errors="replace")
    if touch and text.startswith("READY=1"):
        # Acts at once on READY: the marks must be in place already.
        had_pid = os.path.exists(pidfile)
        os.close(os.open(touch, os.O_WRONLY | os.O_CREAT, 0o644))
        out.write("# pidfile-at-ready=%s\n" % had_pid)
    pid = None
    for lvl, typ, data in anc:
        if lvl == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", data[:12])[0]
    out.write("%d pid=%s %s\n" % (time.monotonic() * 1000, pid, text.replace("\n", " ")))
PY
	RPID=$!
	SUBS="$SUBS $RPID"
	wait_file "$NLOG.ready" || { fail "receiver did not bind $1"; finish; }
}
recv_stop() { [ -n "$RPID" ] && kill "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null; RPID=; }
# wait_msg REGEX [N]: N (default 1) messages matching REGEX within 10 s.
wait_msg() {
	local i
	for i in $(seq 1 500); do
		[ "$(grep -cE -- "$1" "$NLOG" 2>/dev/null)" -ge "${2:-1}" ] && return 0
		sleep 0.02
	done
	return 1
}
nmsg() { grep -cE -- "$1" "$NLOG" 2>/dev/null; }
# wait_grep REGEX FILE: a line of FILE matches within 10 s (the log thread writes it).
wait_grep() {
	local i
	for i in $(seq 1 500); do
		grep -qE -- "$1" "$2" && return 0
		sleep 0.02
	done
	return 1
}
# start_notified ARGS...: a foreground daemon (env as set by the caller) ready by its READY.
start_notified() {
	rm -f "$PIDF"
	timeout -s KILL "$DAEMON_TIMEOUT" "$FANOTIFYD" --foreground --pid-file "$PIDF" \
		--output "$OUT" "$@" 2>"$ERR" &
	TPID=$!
	wait_ready
}

# --- READY=1 after the marks, STATUS=, STOPPING=1; journal prefixes --------------------------
for i in $(seq -w 0 199); do mkdir -p "$W/d$i"; done
marks=()
for i in $(seq -w 0 199); do marks+=(--watch "$W/d$i"); done
recv_start "$S/notify" "$PIDF" "$W/d199/after-ready"
: >"$ERR"
NOTIFY_SOCKET=$S/notify JOURNAL_STREAM=$(stat -c %d:%i "$ERR") \
	start_notified -vv "${marks[@]}" || finish
check "READY=1 arrives" wait_msg ' READY=1 '
check "READY=1 carries STATUS= (the mode)" \
	grep -qE " READY=1 STATUS=watching 200 path\(s\); observe mode, FID" "$NLOG"
check "READY=1 comes from the daemon (pid $DPID)" grep -q "pid=$DPID READY=1" "$NLOG"
check "when READY=1 arrives the pid file (written after the marks) exists" \
	grep -qx '# pidfile-at-ready=True' "$NLOG"
sentinel "$W/d199" || finish
check "an open made the moment READY=1 arrived, in the last watched directory, is recorded" \
	has path="$W/d199/after-ready" events~CREATE
check "exactly one READY=1 (before any reload)" [ "$(nmsg ' READY=1')" = 1 ]
check "no WATCHDOG=1 without WATCHDOG_USEC" [ "$(nmsg 'WATCHDOG=1')" = 0 ]
# A reload (SIGHUP, systemctl reload): RELOADING=1 with MONOTONIC_USEC=, then READY=1 with
# the outcome once the new config is read and applied (here: the same config, unchanged).
kill -HUP "$DPID"
check "SIGHUP: RELOADING=1 with MONOTONIC_USEC=" \
	wait_msg "pid=$DPID RELOADING=1 MONOTONIC_USEC=[0-9]+ STATUS=reloading"
check "SIGHUP: READY=1 after it, with the reload's outcome" \
	wait_msg "pid=$DPID READY=1 STATUS=reload: unchanged"
check "SIGHUP: READY=1 follows RELOADING=1" \
	eval 'grep -E " (RELOADING|READY)=1" "$NLOG" | tail -n 2 | head -n 1 | grep -q RELOADING'
stop_daemon
check "SIGTERM: exit status 0 (got $DSTATUS)" [ "$DSTATUS" = 0 ]
check "SIGTERM: STOPPING=1 sent" wait_msg ' STOPPING=1 '
check "STOPPING=1 is the last message" eval 'tail -n 1 "$NLOG" | grep -q " STOPPING=1 "'
# The journal: every line has its priority, no line the program prefix.
check "journal: <7> debug line (notify: sent READY=1)" grep -q '^<7>notify: sent READY=1' "$ERR"
check "journal: <6> info line" grep -q '^<6>descriptor limit' "$ERR"
check "journal: <5> notice line" grep -q '^<5>watching 200 path(s)' "$ERR"
check "journal: every stderr line starts with <N> ($(grep -cv '^<[3-7]>' "$ERR") do not)" \
	eval '! grep -qv "^<[3-7]>" "$ERR"'
check "journal: no 'fanotifyd: ' prefix" eval '! grep -q "fanotifyd: " "$ERR"'
recv_stop

# A start that fails says so at <3>; a warning is <4>; a JOURNAL_STREAM of another file
# leaves the plain lines.
JOURNAL_STREAM=$(stat -c %d:%i "$ERR") run --foreground --watch "$W/nope" --output "$OUT"
check "journal: failed start exits 1 (got $RC)" [ "$RC" = 1 ]
check "journal: its error line is <3> ($(head -n 3 "$ERR" | tr '\n' ' '))" \
	grep -q "^<3>.*$W/nope" "$ERR"
: >"$S/other"
: >"$ERR"
NOTIFY_SOCKET=$S/nobody JOURNAL_STREAM=$(stat -c %d:%i "$ERR") start_notified --watch "$W" \
	|| finish
sentinel || finish
check "a socket nobody bound: the daemon starts and records" has path="$W/.sentinel-$SENTINEL_N"
check "a socket nobody bound: the daemon says so, at <4>" \
	wait_grep '^<4>notify: cannot send to the service manager' "$ERR"
stop_daemon
check "a socket nobody bound: SIGTERM exits 0 (got $DSTATUS)" [ "$DSTATUS" = 0 ]
check "a socket nobody bound: failure logged once" \
	[ "$(grep -c 'notify: cannot send' "$ERR")" = 1 ]
: >"$ERR"
NOTIFY_SOCKET=$S/nobody JOURNAL_STREAM=$(stat -c %d:%i "$S/other") start_notified --watch "$W" \
	|| finish
stop_daemon
check "JOURNAL_STREAM of another file: plain prefixed lines" \
	wait_grep '^fanotifyd: warning: notify: cannot send' "$ERR"
check "JOURNAL_STREAM of another file: no <N>" eval '! grep -q "^<[0-9]>" "$ERR"'

# --- the watchdog ----------------------------------------------------------------------------
recv_start "$S/notify"
NOTIFY_SOCKET=$S/notify WATCHDOG_USEC=400000 start_notified --watch "$W" || finish
wait_msg 'WATCHDOG=1' || fail "no WATCHDOG=1"
T0=$(date +%s%N)
n0=$(nmsg 'WATCHDOG=1')
sleep 2
n1=$(nmsg 'WATCHDOG=1')
T1=$(date +%s%N)
rate=$(((n1 - n0) * 1000000000 / ((T1 - T0) / 10)))	# pings per 10 s
check "watchdog: ~5 pings a second at WATCHDOG_USEC=400000 ($((n1 - n0)) in $(((T1 - T0) / 1000000)) ms)" \
	eval '[ "$rate" -ge 35 ] && [ "$rate" -le 60 ]'
check "watchdog: pings come from the daemon" \
	eval '[ "$(grep WATCHDOG=1 "$NLOG" | grep -vc "pid=$DPID ")" = 0 ]'
kill -STOP "$DPID"
for i in $(seq 1 500); do
	[ "$(awk '{print $3}' "/proc/$DPID/stat")" = T ] && break
	sleep 0.01
done
sleep 0.3	# a ping already sent reaches the log
n2=$(nmsg 'WATCHDOG=1')
sleep 1.5	# more than 3 ping intervals: a turning loop would have pinged 7 times
n3=$(nmsg 'WATCHDOG=1')
check "watchdog: no ping while the daemon is stopped ($((n3 - n2)) in 1.5 s)" [ "$n3" = "$n2" ]
kill -CONT "$DPID"
check "watchdog: pings again after SIGCONT" wait_msg 'WATCHDOG=1' $((n3 + 1))
stop_daemon
recv_stop

# WATCHDOG_PID of another process: the watchdog is not ours.
recv_start "$S/notify"
NOTIFY_SOCKET=$S/notify WATCHDOG_USEC=400000 WATCHDOG_PID=1 start_notified --watch "$W" \
	|| finish
wait_msg ' READY=1' || fail "no READY=1"
sleep 0.5
check "WATCHDOG_PID=1: no pings" [ "$(nmsg 'WATCHDOG=1')" = 0 ]
stop_daemon
recv_stop

# --perm: pings go on while openers keep the permission group busy.
if have_fanotify perm; then
	recv_start "$S/notify"
	for i in $(seq 1 50); do echo x >"$W/p$i"; done
	NOTIFY_SOCKET=$S/notify WATCHDOG_USEC=400000 start_notified --perm --watch "$W" || finish
	wait_msg 'WATCHDOG=1' || fail "no WATCHDOG=1 in --perm mode"
	"$PY" - "$W" 2 <<'PY' &
import os, sys, time
end = time.monotonic() + float(sys.argv[2])
n = 0
while time.monotonic() < end:
    os.close(os.open("%s/p%d" % (sys.argv[1], n % 50 + 1), os.O_RDONLY))
    n += 1
PY
	OPENER=$!
	n0=$(nmsg 'WATCHDOG=1')
	wait "$OPENER"
	n1=$(nmsg 'WATCHDOG=1')
	check "--perm under a busy opener: pings go on ($((n1 - n0)) in 2 s)" [ $((n1 - n0)) -ge 6 ]
	stop_daemon
	recv_stop
fi

# --- daemonized: READY=1 + MAINPID= from the started process ------------------------------------
recv_start "$S/notify"
rc=0
NOTIFY_SOCKET=$S/notify WATCHDOG_USEC=400000 timeout -s KILL 60 \
	sh -c 'echo $$ >"$0"; exec "$@"' "$S/starter" "$FANOTIFYD" --watch "$W" --output "$OUT" \
	--pid-file "$PIDF" </dev/null >/dev/null 2>"$ERR" || rc=$?
STARTER=$(cat "$S/starter")
BG=$(cat "$PIDF" 2>/dev/null)
check "daemonized: the start command exits 0 (got $rc)" [ "$rc" = 0 ]
[ -n "$BG" ] || finish
DPID=$BG	# stop_daemon / cleanup stop it by this pid
check "daemonized: READY=1 with MAINPID=$BG" wait_msg "READY=1 MAINPID=$BG STATUS=watching 1 path"
check "daemonized: READY=1 sent by the started process ($STARTER), not the daemon" \
	grep -q "pid=$STARTER READY=1" "$NLOG"
check "daemonized: the daemon pings (WATCHDOG_PID unset: the watchdog follows MAINPID)" \
	wait_msg "pid=$BG WATCHDOG=1"
kill -TERM "$BG"
check "daemonized: STOPPING=1 from the daemon" wait_msg "pid=$BG STOPPING=1"
for i in $(seq 1 500); do [ -d "/proc/$BG" ] || break; sleep 0.02; done
DPID=
recv_stop

# --- an abstract socket; a hook's environment ---------------------------------------------------
ABS="@fanotifyd-t57-$$-$RANDOM"
recv_start "$ABS"
echo secret >"$W/canary"
NOTIFY_SOCKET=$ABS WATCHDOG_USEC=400000 start_notified --watch "$W" --canary "$W/canary" \
	--hook "env >$S/hook.env" || finish
check "abstract socket: READY=1 arrives" wait_msg "pid=$DPID READY=1"
cat "$W/canary" >/dev/null
check "the hook ran" wait_file "$S/hook.env"
for i in $(seq 1 250); do grep -q '^FAN_KIND=' "$S/hook.env" 2>/dev/null && break; sleep 0.02; done
check "the hook's environment has no NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID" \
	eval '! grep -qE "^(NOTIFY_SOCKET|WATCHDOG_USEC|WATCHDOG_PID)=" "$S/hook.env"'
stop_daemon
recv_stop
finish
