# Privileges after set-up (README "Privileges"): every thread of the running daemon holds
# exactly the capabilities its configuration needs (bounding, ambient and inheritable sets
# empty), no_new_privs and a seccomp filter; a hook, as root or as --hook-user nobody, holds
# no capability at all under the same filter: system calls on the refused list fail with
# EPERM while ordinary commands work. With the capabilities dropped, a process of another
# user is still attributed (comm, exe, uid), a --hook-user hook is still killed at its
# timeout, and the allow cache still marks a file the daemon could not read.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
chmod 0755 "$IT_BASE_DIR" # mktemp's 0700 would keep uid 65534 out of $W and $S
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"

# Capability bits (linux/capability.h).
CAP_DAC_READ_SEARCH=$((1 << 2)) CAP_KILL=$((1 << 5)) CAP_SETGID=$((1 << 6))
CAP_SETUID=$((1 << 7)) CAP_SYS_PTRACE=$((1 << 19))

# field FILE KEY: the value of "KEY:" in a /proc status file, blanks squeezed.
field() { sed -n "s/^$2:[[:space:]]*//p" "$1" | tr -s '[:space:]' ' ' | sed 's/ $//'; }
hex() { printf '%016x' "$1"; }
# status_is FILE KEY=VALUE...: each field of the status file has that value.
status_is() {
	local f=$1 kv got rc=0
	shift
	for kv in "$@"; do
		got=$(field "$f" "${kv%%=*}")
		if [ "$got" != "${kv#*=}" ]; then
			echo "# $(basename "$f"): ${kv%%=*} is '$got', want '${kv#*=}'"
			rc=1
		fi
	done
	return $rc
}
# daemon_is CAPS: every thread of the daemon has exactly CAPS effective and permitted, no
# inheritable, bounding or ambient capability, no_new_privs and a seccomp filter.
daemon_is() {
	local t rc=0 n=0
	for t in /proc/"$DPID"/task/*; do
		cp "$t/status" "$S/dstatus" 2>/dev/null || continue
		n=$((n + 1))
		status_is "$S/dstatus" CapEff="$(hex "$1")" CapPrm="$(hex "$1")" \
			CapInh="$(hex 0)" CapBnd="$(hex 0)" CapAmb="$(hex 0)" NoNewPrivs=1 \
			Seccomp=2 || rc=1
	done
	echo "# $n threads"
	[ "$n" -ge 2 ] && return $rc # the event loop and the output thread
}
# hook_is DIR UID GID: the hook's own status: ids, no capability, the filter.
hook_is() {
	status_is "$1/status" "Uid=$2 $2 $2 $2" "Gid=$3 $3 $3 $3" \
		CapEff="$(hex 0)" CapPrm="$(hex 0)" CapInh="$(hex 0)" CapAmb="$(hex 0)" \
		CapBnd="$(hex 0)" NoNewPrivs=1 Seccomp=2
}
# wait_hook KIND: a read with a deadline (10 s) until a hook of that kind has finished;
# HD is its directory.
wait_hook() {
	local i
	for i in $(seq 1 500); do
		HD=$(ls -d "$S/h/$1".[0-9]* 2>/dev/null | grep -v '\.tmp$' | head -n 1)
		[ -n "$HD" ] && return 0
		sleep 0.02
	done
	return 1
}
# result DIR NAME: what the probe said of NAME (ok or an errno name).
result() { sed -n "s/^$2 //p" "$1/probe"; }

# The probe makes each system call directly and prints "NAME ok" or "NAME ERRNO".
cat >"$S/probe.c" <<'C'
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
static void say(const char *name, long r)
{
	printf("%s %s\n", name, r < 0 ? strerrorname_np(errno) : "ok");
}
int main(int argc, char **argv)
{
	long r;
	say("mount", mount("x", argv[1], "tmpfs", 0, NULL));
	say("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
	say("fanotify_init", syscall(SYS_fanotify_init, 0, 0));
	/* clone() with a namespace flag: the child (if any) leaves at once */
	r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
	if (r == 0)
		_exit(0);
	if (r > 0)
		(void)waitpid((pid_t)r, NULL, 0);
	say("clone_newuser", r);
	r = fork();
	if (r == 0)
		_exit(0);
	if (r > 0)
		(void)waitpid((pid_t)r, NULL, 0);
	say("fork", r);
	say("getpid", getpid());
	/* last: a new user namespace without a uid map cannot create another one */
	say("unshare_mnt", unshare(CLONE_NEWNS));
	say("unshare_user", unshare(CLONE_NEWUSER));
	(void)argc;
	return 0;
}
C
cc -O1 -o "$S/probe" "$S/probe.c" || { fail "cannot build the probe"; finish; }
mkdir -p "$S/mnt" "$S/base"
chmod 0755 "$S/probe"
# Without the filter (uid 65534, no capability): what the kernel alone allows.
setpriv --reuid=65534 --regid=65534 --clear-groups "$S/probe" "$S/mnt" >"$S/base/probe"
sed 's/^/# without the filter: /' "$S/base/probe"

# The hook: its own status, the probe, the refused commands of a shell, ordinary commands,
# each alert into its own directory $S/h/KIND (written as the hook's user; renamed last).
mkdir -p "$S/h" && chmod 1777 "$S/h"
cat >"$S/hook.sh" <<'SH'
d=$1/$FAN_KIND.$$
mkdir "$d.tmp" || exit 1
cat /proc/$$/status >"$d.tmp/status"
[ "$FAN_KIND" = burst ] && exec sleep 60	# killed at its timeout
"$2" "$3" >"$d.tmp/probe"
unshare -m true 2>"$d.tmp/unshare.err"; echo $? >"$d.tmp/unshare.rc"
mount -t tmpfs x "$3" 2>"$d.tmp/mount.err"; echo $? >"$d.tmp/mount.rc"
{ echo hello | tr a-z A-Z; ls / | grep -c .; sh -c 'echo sub $(( 6 * 7 ))'; date +%Y >/dev/null &&
	echo date; } >"$d.tmp/shell" 2>&1
mv "$d.tmp" "$d"
SH
chmod 0644 "$S/hook.sh"
HOOK="sh '$S/hook.sh' '$S/h' '$S/probe' '$S/mnt'"
echo secret >"$W/canary"
echo data >"$W/file"

# --- Root hook, observe mode (FID): CAP_DAC_READ_SEARCH (file handles), CAP_SYS_PTRACE.
start_daemon --mount "$W" --canary "$W/canary" --hook "$HOOK" -v || finish
check "daemon: CapEff = CAP_DAC_READ_SEARCH|CAP_SYS_PTRACE, NoNewPrivs 1, Seccomp 2" \
	daemon_is $((CAP_DAC_READ_SEARCH | CAP_SYS_PTRACE))
check "daemon logs what it kept" grep -q \
	"privileges: kept CAP_DAC_READ_SEARCH CAP_SYS_PTRACE; no_new_privs; seccomp refuses" "$ERR"
# Another user's process, kept alive (it reads a pipe after FILE) so its record's
# attribution does not race its exit: comm, exe and uid need /proc/PID/exe of uid 65534.
mkfifo "$S/fifo"
setpriv --reuid=65534 --regid=65534 --clear-groups cat "$W/file" - <"$S/fifo" >/dev/null &
NOBODY=$!
exec {HOLD}>"$S/fifo"
check "uid 65534's cat: its open is reported" waitrec type=event pid="$NOBODY" path="$W/file"
check "uid 65534's cat: comm, exe and uid known" has type=event pid="$NOBODY" path="$W/file" \
	comm=cat exe="$(readlink -f "$(command -v cat)")" uid=65534
exec {HOLD}>&-
wait "$NOBODY"
timeout 5 cat "$W/canary" >/dev/null
check "root hook ran" wait_hook canary
R=$HD
if [ -n "$R" ]; then
	check "root hook: uid/gid 0, no capability at all, NoNewPrivs 1, Seccomp 2" \
		hook_is "$R" 0 0
	check "root hook: unshare -m true fails with EPERM" \
		eval '[ "$(cat "$R/unshare.rc")" != 0 ] && grep -q "Operation not permitted" "$R/unshare.err"'
	check "root hook: mount -t tmpfs fails" [ "$(cat "$R/mount.rc")" != 0 ]
	for c in unshare_mnt unshare_user mount keyctl fanotify_init clone_newuser; do
		check "root hook: $c refused with EPERM" [ "$(result "$R" $c)" = EPERM ]
	done
	check "root hook: fork and getpid work" \
		eval '[ "$(result "$R" fork)" = ok ] && [ "$(result "$R" getpid)" = ok ]'
	check "root hook: ordinary shell commands work" \
		eval '[ "$(tr "\n" " " <"$R/shell")" = "HELLO $(ls / | grep -c .) sub 42 date " ]'
fi
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --- --hook-user nobody: + CAP_KILL, CAP_SETUID, CAP_SETGID. A burst hook sleeps and is
# killed at its timeout (it is another user's process: CAP_KILL).
rm -rf "$S/h"/*
OUT=$S/user.jsonl
start_daemon --mount "$W" --canary "$W/canary" --hook "$HOOK" --hook-user nobody \
	--burst-threshold 3 --hook-timeout-ms 300 || finish
check "--hook-user: daemon CapEff adds CAP_KILL|CAP_SETUID|CAP_SETGID" \
	daemon_is $((CAP_DAC_READ_SEARCH | CAP_SYS_PTRACE | CAP_KILL | CAP_SETUID | CAP_SETGID))
timeout 5 cat "$W/canary" >/dev/null
check "nobody hook ran" wait_hook canary
U=$HD
if [ -n "$U" ]; then
	GROUPS_NOBODY=$(id -G nobody | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//')
	sort_groups() { field "$U/status" Groups | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//'; }
	check "nobody hook: uid/gid 65534, no capability at all, NoNewPrivs 1, Seccomp 2" \
		hook_is "$U" 65534 "$(id -g nobody)"
	check "nobody hook: supplementary groups are nobody's ($GROUPS_NOBODY)" \
		[ "$(sort_groups)" = "$GROUPS_NOBODY" ]
	check "nobody hook: unshare -m true fails with EPERM" \
		eval '[ "$(cat "$U/unshare.rc")" != 0 ] && grep -q "Operation not permitted" "$U/unshare.err"'
	check "nobody hook: mount -t tmpfs fails" [ "$(cat "$U/mount.rc")" != 0 ]
	for c in unshare_mnt unshare_user mount keyctl fanotify_init clone_newuser; do
		check "nobody hook: $c refused with EPERM" [ "$(result "$U" $c)" = EPERM ]
	done
	# What only the filter refuses: uid 65534 may do these without it.
	for c in unshare_user keyctl clone_newuser; do
		if [ "$(result "$S/base" $c)" = ok ]; then
			check "nobody hook: $c allowed to uid 65534 without the filter" true
		else
			echo "# $c refused to uid 65534 even without the filter on this kernel"
		fi
	done
	check "nobody hook: ordinary shell commands work" \
		eval '[ "$(tr "\n" " " <"$U/shell")" = "HELLO $(ls / | grep -c .) sub 42 date " ]'
fi
# Burst: 3 new files by one process; its hook (uid 65534) sleeps until killed.
sh -c 'for i in 1 2 3; do echo x >"$1/b$i"; done' sh "$W"
sentinel || finish
check "burst alert" waitrec type=alert kind=burst
burst_started() {
	local i
	for i in $(seq 1 500); do
		BH=$(ls -d "$S"/h/burst.*.tmp 2>/dev/null | head -n 1)
		[ -n "$BH" ] && [ -s "$BH/status" ] && return 0
		sleep 0.02
	done
	return 1
}
check "burst hook started" burst_started
check "burst hook runs as uid 65534 without capabilities" hook_is "$BH" 65534 "$(id -g nobody)"
BPID=${BH##*/burst.}
BPID=${BPID%.tmp}
killed() {
	local i
	for i in $(seq 1 500); do
		stats || return 1
		[ "$(stat_of hooks_killed)" = 1 ] && ! kill -0 "$BPID" 2>/dev/null && return 0
		sleep 0.02
	done
	return 1
}
check "uid 65534's hook killed at its timeout (CAP_KILL)" killed
stop_daemon
check "--hook-user: SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --- FD mode without the allow cache: no file handles, only CAP_SYS_PTRACE.
OUT=$S/nofid.jsonl
start_daemon --mount "$W" --no-fid || finish
check "--no-fid: daemon CapEff = CAP_SYS_PTRACE" daemon_is $CAP_SYS_PTRACE
stop_daemon

# --- --perm --allow-cache: the ignore mark on a file of another user, mode 0000, needs
# read permission (fanotify_mark's MAY_READ check), given by CAP_DAC_READ_SEARCH.
OUT=$S/cache.jsonl
echo locked >"$W/locked"
chown 65534:65534 "$W/locked"
chmod 0000 "$W/locked"
start_daemon --mount "$W" --perm --allow-cache || finish
check "--perm --allow-cache: daemon CapEff = CAP_DAC_READ_SEARCH|CAP_SYS_PTRACE" \
	daemon_is $((CAP_DAC_READ_SEARCH | CAP_SYS_PTRACE))
reads "$W/locked" && reads "$W/locked" && psentinel || finish
stats || finish
check "--allow-cache: the mode-0000 file of uid 65534 got its ignore mark" \
	[ "$(stat_of cache_marks)" -ge 1 ]
check "--allow-cache: no mark refused" [ "$(stat_of cache_errors)" = 0 ]
stop_daemon
check "--allow-cache: SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --- An unknown --hook-user is a configuration error, before anything is marked.
run --foreground --watch "$W" --hook true --hook-user no-such-user-fanotifyd
check "unknown --hook-user: exit status 2 (got $RC)" [ "$RC" = 2 ]
check "unknown --hook-user: reason on stderr" grep -q "hook_user: no such user" "$ERR"
finish
