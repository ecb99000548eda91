# The proc connector's two speeds (issue 13). While watched events come, every fork, exec
# and exit notice of the host is read as it comes and each exec's exe read from /proc; from
# exec_hold_ms after the last watched event on, the connector is quiet: its notices are read
# every 100 ms with no /proc read, so execs outside the watched paths cost no file reads.
#   quiet: 5 execs of /bin/true a quarter second apart are each read at once (a quiet
#     connector still reads PROC_QUIET_WAKES notices per 100 ms as they come); of 200 in a
#     row outside the watched tmpfs most are counted in nl_quiet_execs, not read from /proc;
#     nl_quiet_spells counts the spell;
#   eager again: a watched write ends the spell, and the next 200 execs are read as they come
#     (proc_reads grows by them, nl_quiet_execs does not);
#   exactness: a process exec'd while quiet that writes later is recorded with its own exe
#     (python3), never the exe its fork copied from the shell; a child it forks without
#     exec, with python3 too; a short-lived `cat` under --perm after a quiet spell, pinned
#     by its permission event, always has its exe;
#   the daemon starts quiet; --exec-hold-ms 0 goes quiet at once after an event, 86400000
#     never within the test; a reload changes
#     exec_hold_ms live (the record's changed names it); --check-config shows the default
#     and refuses 86400001 naming the key.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
PYEXE=$(readlink -f "$PY")
CAT=$(readlink -f "$(command -v cat)")

execs() { local i; for i in $(seq 1 "$1"); do /bin/true; done; }
# delta KEY BEFORE: KEY of the last stats() less BEFORE
delta() { echo $(($(stat_of "$1") - $2)); }
# exe_of PATH: the exe of the first MODIFY or CLOSE_WRITE record of PATH ("None" if null)
exe_of() {
	"$PY" - "$OUT" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1], "rb"):
    r = json.loads(line)
    if r.get("type") == "event" and r.get("path") == sys.argv[2] and \
            ("MODIFY" in r["events"] or "CLOSE_WRITE" in r["events"]):
        print(r.get("exe"))
        break
PY
}

# ---- 1. quiet, then eager again (default exec_hold_ms 1000) ----
start_daemon --watch "$W" || finish
execs 100
sleep 0.3
stats || finish
check "starts quiet: 100 execs before any watched event, most in nl_quiet_execs ($(stat_of nl_quiet_execs))" \
	[ "$(stat_of nl_quiet_execs)" -ge 50 ]
check "... and that start is no spell (nl_quiet_spells $(stat_of nl_quiet_spells))" \
	[ "$(stat_of nl_quiet_spells)" = 0 ]
sentinel || finish
sleep 1.5 # a second after the sentinel's event: quiet
stats || finish
check "quiet: nl_quiet_spells >= 1 after 1.5 s without a watched event (got '$(stat_of nl_quiet_spells)')" \
	[ "$(stat_of nl_quiet_spells)" -ge 1 ]
S0=$(stat_of nl_quiet_spells)
# A few execs now and then are read at once even while quiet (PROC_QUIET_WAKES per 100 ms).
R0=$(stat_of proc_reads)
for i in 1 2 3 4 5; do sleep 0.25; /bin/true; done
stats || finish
check "quiet: 5 execs 0.25 s apart each read at its exec (proc_reads +$(delta proc_reads "$R0"))" \
	[ "$(delta proc_reads "$R0")" -ge 5 ]
# A storm is left to the drains: no /proc read for most of it.
R0=$(stat_of proc_reads) Q0=$(stat_of nl_quiet_execs)
execs 200
sleep 0.4 # at least one quiet drain
stats || finish
check "quiet: most of 200 execs in a row counted in nl_quiet_execs (+$(delta nl_quiet_execs "$Q0"))" \
	[ "$(delta nl_quiet_execs "$Q0")" -ge 100 ]
check "quiet: ... and not read (proc_reads +$(delta proc_reads "$R0"), at most 100)" \
	[ "$(delta proc_reads "$R0")" -le 100 ]
check "quiet: the spell went on (nl_quiet_spells $S0 -> $(stat_of nl_quiet_spells))" \
	[ "$(stat_of nl_quiet_spells)" = "$S0" ]
# A watched write ends the spell; the execs right after it are read as they come.
echo x >"$W/wake"
waitrec path="$W/wake" events~CLOSE_WRITE || fail "no record of $W/wake"
stats || finish
R0=$(stat_of proc_reads) Q0=$(stat_of nl_quiet_execs)
execs 200
stats || finish
check "eager: 200 execs after a watched write read as they come (proc_reads +$(delta proc_reads "$R0"))" \
	[ "$(delta proc_reads "$R0")" -ge 200 ]
check "eager: none of them quiet (nl_quiet_execs +$(delta nl_quiet_execs "$Q0"))" \
	[ "$(delta nl_quiet_execs "$Q0")" = 0 ]

# ---- 2. exactness across a quiet spell ----
sleep 1.5
stats || finish
S0=$(stat_of nl_quiet_spells)
# exec'd while quiet (the fork copies the shell's entry, the exec notice is read with no
# /proc read), writes half a second later; its fork child writes too, without an exec
"$PY" - "$W" <<'PY' &
import os, sys, time
time.sleep(0.5)
pid = os.fork()
if pid == 0:
    time.sleep(0.3)
    with open(sys.argv[1] + "/py-child", "w") as f:
        f.write("x")
    os._exit(0)
with open(sys.argv[1] + "/py", "w") as f:
    f.write("x")
os.waitpid(pid, 0)
PY
wait $!
sentinel || finish
check "quiet spell before the python write (nl_quiet_spells >= 1)" [ "$S0" -ge 1 ]
check "exec'd while quiet, written after: exe is python3's ($(exe_of "$W/py"))" \
	[ "$(exe_of "$W/py")" = "$PYEXE" ]
check "its fork child (no exec): exe is python3's ($(exe_of "$W/py-child"))" \
	[ "$(exe_of "$W/py-child")" = "$PYEXE" ]
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# ---- 3. --exec-hold-ms 0 and 86400000 ----
OUT=$S/hold0.jsonl
start_daemon --watch "$W" --exec-hold-ms 0 || finish
sentinel || finish
sleep 0.3
stats || finish
check "--exec-hold-ms 0: quiet at once (nl_quiet_spells $(stat_of nl_quiet_spells))" \
	[ "$(stat_of nl_quiet_spells)" -ge 1 ]
stop_daemon
OUT=$S/holdday.jsonl
start_daemon --watch "$W" --exec-hold-ms 86400000 || finish
sentinel || finish
stats || finish
Q0=$(stat_of nl_quiet_execs)
sleep 1.5
execs 100
stats || finish
check "--exec-hold-ms 86400000: quiet only until the first event (nl_quiet_spells '$(stat_of nl_quiet_spells)')" \
	[ "$(stat_of nl_quiet_spells)" = 0 ]
check "... then every exec read as it comes (nl_quiet_execs +$(delta nl_quiet_execs "$Q0"))" \
	[ "$(delta nl_quiet_execs "$Q0")" = 0 ]
stop_daemon

# ---- 4. --perm: a short-lived opener after each quiet spell has its exe ----
OUT=$S/perm.jsonl
echo x >"$W/p"
start_daemon --perm --watch "$W" --exec-hold-ms 100 || finish
for i in $(seq 1 10); do
	sleep 0.3
	timeout 5 cat "$W/p" >/dev/null || fail "cat $i did not complete"
done
psentinel "$W" fid || finish
stats || finish
N_OPEN=$(count type=event path="$W/p" events~OPEN_PERM comm=cat)
N_EXE=$(count type=event path="$W/p" events~OPEN_PERM comm=cat exe="$CAT")
check "--perm: 10 quiet spells at least (nl_quiet_spells $(stat_of nl_quiet_spells))" \
	[ "$(stat_of nl_quiet_spells)" -ge 10 ]
check "--perm: each of 10 cat openers after a quiet spell recorded with exe $CAT ($N_EXE of $N_OPEN)" \
	[ "$N_OPEN/$N_EXE" = 10/10 ]
stop_daemon

# ---- 5. reload and --check-config ----
OUT=$S/reload.jsonl
printf 'watch %s\nexec_hold_ms 86400000\n' "$W" >"$S/c.conf"
start_daemon -c "$S/c.conf" || finish
sentinel || finish
sleep 1.2
stats || finish
check "config exec_hold_ms 86400000: not quiet after 1.2 s" [ "$(stat_of nl_quiet_spells)" = 0 ]
printf 'watch %s\nexec_hold_ms 50\n' "$W" >"$S/c.conf"
kill -HUP "$DPID"
waitrec type=reload status=applied || fail "no applied reload record"
check "reload record: changed is exactly exec_hold_ms" \
	grep -q '"changed":\["exec_hold_ms"\]' "$OUT"
sleep 0.5
stats || finish
check "after the reload to 50 ms: quiet (nl_quiet_spells $(stat_of nl_quiet_spells))" \
	[ "$(stat_of nl_quiet_spells)" -ge 1 ]
stop_daemon
run --check-config --foreground --watch "$W"
check "--check-config: default exec_hold_ms 1000" grep -qx "exec_hold_ms 1000" "$S/stdout"
run --check-config --foreground --watch "$W" --exec-hold-ms 86400001
check "--check-config --exec-hold-ms 86400001: exit 2 (got $RC)" [ "$RC" = 2 ]
check "... naming the key" grep -q "exec.hold.ms" "$ERR"
finish
