#!/bin/bash
# compare-output.sh OLD NEW - runs one fixed scripted workload against two fanotifyd
# binaries and compares their JSONL output line by line (order matters; nothing is sorted).
# Exit 0 when every mode's output is identical after normalization (but for lines shown to
# be unstable, below), 1 when any differs (each differing line is printed), 2 on a usage or
# harness error. Root; the runs happen in a private mount namespace (unshare --mount
# --propagation private) on fresh tmpfs instances mounted at the same paths for both
# binaries, so every path in the output matches.
#
# Modes, each run with --mount W --canary W/canary --burst-threshold 50 and a burst window
# and alert cooldown of 600 s:
#   fid    observe, FID mode (the default)
#   perm   --perm --deny-on-alert --quarantine-ms 600000
#   nofid  --no-fid (FD mode)
# Workload: create (a file, a directory, a file in it), write (append to both files), rename
#   (a file; the directory, then a file created in the renamed directory), delete (files and
#   the directory), canary read (denied under perm), burst (a second process creates 60
#   files, then reads W/data: denied under perm, it is quarantined), exec (W/bin/cat, a copy
#   of cat on the watched tmpfs, reading W/data).
# Each step is a series of single syscalls, and after each one the workload waits for the
# records it must produce (a read of the output with a deadline), so the daemon has read
# every event before the next exists: the kernel merges no events, and the permission and
# notification groups cannot interleave differently. Burst window, quarantine and cooldown
# are set long (600 s) so no verdict depends on how fast the machine is.
# All of it is done by one python3 process, one process forked from it (the burster) and
# the cat it execs, each alive until its records are in: comm and exe match between runs.
#
# One race is left, in both binaries: the open of an executable happens inside execve,
# before the process is the new program, and the daemon may read the process's comm/exe
# before or after the exec completes. In the observe modes the daemon is stopped
# (SIGSTOP) around the exec so it always reads after; under --perm that would deadlock, so
# the OPEN_PERM of W/bin/cat may name python3 or cat. Therefore each binary runs RUNS times
# (default 3) per mode: a line whose value differs between runs of the same binary is
# printed as "unstable" and not counted as a difference if some run of OLD and some run of
# NEW agree on it; every other line must match.
#
# Normalization, nothing else: the keys ts_ms, pid, ppid and seq are removed (by text, at
# top level: a '"' inside a JSON string is always escaped, so ',"seq":' cannot occur in one);
# records of type "stats" are dropped: the type is new since 6d2e48d, added as additive
# (schema_version stays 1; commit 60ef085), and README ("Stats records") documents that one
# is written at exit, so NEW has one more line than OLD in each mode. The start and stop
# records (added with run_id, issue 11) are dropped too, and the key run_id (and host, with
# record_host) removed: new at every start, they cannot agree between two runs. Every other
# byte is compared.
#
# Usage: sudo scripts/compare-output.sh OLD_BINARY NEW_BINARY [MODE...]
# The normalized outputs stay in $KEEP (default: a temporary directory, printed) for reading.
set -u
if [ $# -lt 2 ]; then
	echo "usage: $0 OLD_BINARY NEW_BINARY [fid|perm|nofid]..." >&2
	exit 2
fi
if [ "$(id -u)" != 0 ]; then
	echo "$0: needs root (fanotify, tmpfs mounts)" >&2
	exit 2
fi
if [ -z "${COMPARE_IN_NS:-}" ]; then
	COMPARE_IN_NS=1 exec unshare --mount --propagation private bash "$0" "$@"
fi
OLD=$(readlink -f "$1")
NEW=$(readlink -f "$2")
shift 2
[ $# -gt 0 ] || set -- fid perm nofid
for b in "$OLD" "$NEW"; do
	[ -x "$b" ] || { echo "$0: not an executable: $b" >&2; exit 2; }
done
PY=$(python3 -c 'import sys; print(sys.executable)') || { echo "$0: needs python3" >&2; exit 2; }
BASE=$(mktemp -d /tmp/fanotifyd-compare.XXXXXX)
KEEP=${KEEP:-$BASE/result}
mkdir -p "$BASE/w" "$BASE/s" "$KEEP"
W=$BASE/w
S=$BASE/s

cleanup() {
	umount -l "$W" 2>/dev/null
	umount -l "$S" 2>/dev/null
	true
}
trap cleanup EXIT

cat >"$BASE/workload.py" <<'PY'
# workload.py MODE W S OUT BINARY: starts the daemon, runs the workload, stops the daemon.
# Each primitive is one syscall; after it the workload waits for the records that syscall
# must produce in this mode, so the daemon has read every event before the next one exists:
# the kernel merges nothing, and two groups (--perm) cannot interleave differently.
import json, os, signal, subprocess, sys, time

mode, W, S, OUT, BIN = sys.argv[1:6]
PIDF = S + "/pid"
perm, fid = mode == "perm", mode != "nofid"
args = ["timeout", "-s", "KILL", "120", BIN, "--foreground", "--pid-file", PIDF,
        "--output", OUT, "--mount", W, "--canary", W + "/canary",
        "--burst-threshold", "50", "--burst-window-ms", "600000",
        "--hook-cooldown-ms", "600000"]
args += {"fid": [], "perm": ["--perm", "--deny-on-alert", "--quarantine-ms", "600000"],
         "nofid": ["--no-fid"]}[mode]


def die(msg):
    print("workload %s: %s" % (mode, msg), file=sys.stderr)
    os._exit(2)


seen = [0]  # records already matched: each wait looks only at newer ones


def records():
    try:
        with open(OUT, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    lines = data.split(b"\n")[:-1]  # a last line without its newline is still being written
    return [json.loads(l.decode("utf-8", "surrogateescape")) for l in lines]


def wait(path, event):
    """The one wait: a read of the output with a deadline, for a record of path whose
    events include event."""
    end = time.monotonic() + 10
    while time.monotonic() < end:
        recs = records()
        for i in range(seen[0], len(recs)):
            r = recs[i]
            if r.get("type") == "event" and r.get("path") == path and \
                    event in r.get("events", "").split(","):
                seen[0] = i + 1
                return r
        time.sleep(0.001)
    die("no %s record of %s within 10 s" % (event, path))


# The primitives: (syscall, records it must produce in this mode).
def mknod(p):
    os.mknod(p, 0o644)
    if fid:
        wait(p, "CREATE")


def mkdir(p):
    os.mkdir(p)
    if fid:
        wait(p, "CREATE")


def open_w(p, flags=0):
    """Open for writing; None when denied."""
    try:
        fd = os.open(p, os.O_WRONLY | flags)
    except PermissionError:
        r = wait(p, "OPEN_PERM")
        if r.get("decision") != "deny":
            die("open of %s failed, but not denied: %r" % (p, r))
        return None
    wait(p, "OPEN_PERM" if perm else "OPEN")
    return fd


def write(fd, p, data):
    os.write(fd, data)
    wait(p, "MODIFY")


def close_w(fd, p):
    os.close(fd)
    wait(p, "CLOSE_WRITE")


def read(p):
    """Open, read and close; the bytes, or None when denied. (CLOSE_NOWRITE is not in the
    default events: the close reports nothing.)"""
    try:
        fd = os.open(p, os.O_RDONLY)
    except PermissionError:
        wait(p, "OPEN_PERM")
        return None
    wait(p, "OPEN_PERM" if perm else "OPEN")
    d = os.read(fd, 4096)
    os.close(fd)
    return d


def rename(a, b):
    os.rename(a, b)
    if fid:
        wait(b, "RENAME")


def unlink(p):
    os.unlink(p)
    if fid:
        wait(p, "DELETE")


def rmdir(p):
    os.rmdir(p)
    if fid:
        wait(p, "DELETE")


def new_file(p, data=b""):
    mknod(p)
    fd = open_w(p)
    if fd is None:
        return
    if data:
        write(fd, p, data)
    close_w(fd, p)


daemon = subprocess.Popen(args, stderr=open(S + "/err.log", "w"))
end = time.monotonic() + 10
while not (os.path.exists(PIDF) and os.path.getsize(PIDF) > 0):
    if daemon.poll() is not None or time.monotonic() > end:
        die("daemon not ready: " + open(S + "/err.log").read()[-500:])
    time.sleep(0.01)
dpid = int(open(PIDF).read())

# create
new_file(W + "/a.txt")
mkdir(W + "/dir")
new_file(W + "/dir/b.txt")
# write
for p, d in ((W + "/a.txt", b"hello\n"), (W + "/dir/b.txt", b"world\n")):
    fd = open_w(p, os.O_APPEND)
    write(fd, p, d)
    close_w(fd, p)
# rename: a file; the directory, then a file in the renamed directory (a stale cached
# directory path would show here)
rename(W + "/a.txt", W + "/a2.txt")
rename(W + "/dir", W + "/dir2")
new_file(W + "/dir2/c.txt", b"c\n")
# delete
unlink(W + "/a2.txt")
unlink(W + "/dir2/b.txt")
unlink(W + "/dir2/c.txt")
rmdir(W + "/dir2")
# canary read: an alert; denied under --perm --deny-on-alert
if (read(W + "/canary") is None) != perm:
    die("canary read: denied %s" % (not perm))
# burst: a second process (forked: same comm and exe) creates 60 files, then reads data;
# the read is denied under --perm (quarantined after its burst alert). It exits only
# after its records are in, so it is attributed the same way every time.
pid = os.fork()
if pid == 0:
    for i in range(60):
        new_file("%s/burst/f%02d" % (W, i))
    got = read(W + "/data")
    os._exit(0 if (got is None) == perm else 3)
_, st = os.waitpid(pid, 0)
if st != 0:
    die("burster: status %d" % st)
seen[0] = 0  # the burster matched records this process has not seen
# exec: W/bin/cat (a copy of cat on the watched tmpfs) reads data, then waits on stdin
# until its records are in. The open of the binary happens inside execve, before the
# process becomes cat: which comm/exe the daemon finds depends on whether it looks before
# or after the exec completes. In the observe modes the daemon is stopped (SIGSTOP) until
# cat has read data, so it always looks after; under --perm that would deadlock (the open
# waits for its answer), and the record of the binary's OPEN_PERM stays a race (see the
# header: such lines are reported as unstable).
if not perm:
    os.kill(dpid, signal.SIGSTOP)
try:
    c = subprocess.Popen([W + "/bin/cat", W + "/data", "-"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    if c.stdout.read(len(b"payload\n")) != b"payload\n":
        die("exec: cat did not copy data")
finally:
    if not perm:
        os.kill(dpid, signal.SIGCONT)
wait(W + "/bin/cat", "OPEN_EXEC_PERM" if perm else "OPEN_EXEC")
wait(W + "/data", "OPEN_PERM" if perm else "OPEN")
c.stdin.close()
c.stdout.close()
c.wait()
os.kill(dpid, signal.SIGTERM)
rc = daemon.wait()
if rc != 0:
    die("daemon exit status %d: %s" % (rc, open(S + "/err.log").read()[-500:]))
PY

cat >"$BASE/normalize.py" <<'PY'
# normalize.py IN OUT: drops the stats, start and stop records and the keys ts_ms, pid, ppid,
# seq, run_id, host; counts what it dropped on stderr. Bytes are kept as they are otherwise.
import re, sys
KEYS = re.compile(rb',"(?:ts_ms|pid|ppid|seq)":(?:-?[0-9]+|null)(?=[,}])')
IDENT = re.compile(rb',"run_id":"[0-9a-f]{32}"(?:,"host":"(?:[^"\\]|\\.)*"(?:,"host_raw":\[[0-9,]*\])?)?(?=})')
DROP = tuple(b'{"schema_version":1,"type":"%s",' % t for t in (b"stats", b"start", b"stop"))
dropped = 0
with open(sys.argv[1], "rb") as f, open(sys.argv[2], "wb") as out:
    for line in f:
        line = IDENT.sub(b"", line)
        if line.startswith(DROP):
            dropped += 1
            continue
        out.write(KEYS.sub(b"", line))
print("%d stats, start and stop record(s) dropped" % dropped, file=sys.stderr)
PY

run_one() { # MODE WHICH BINARY
	local mode=$1 which=$2 bin=$3
	mount -t tmpfs -o size=64m,mode=0755 fanotifyd-cmp-w "$W" || return 2
	mount -t tmpfs -o size=64m,mode=0755 fanotifyd-cmp-s "$S" || return 2
	printf 'payload\n' >"$W/data"
	printf 'secret\n' >"$W/canary"
	mkdir "$W/burst" "$W/bin"
	cp "$(command -v cat)" "$W/bin/cat"
	local rc=0
	"$PY" "$BASE/workload.py" "$mode" "$W" "$S" "$S/out.jsonl" "$bin" || rc=$?
	cp "$S/out.jsonl" "$KEEP/$mode.$which.raw.jsonl" 2>/dev/null
	umount "$W" && umount "$S" || return 2
	[ "$rc" = 0 ] || return 2
	printf '%s %s: ' "$mode" "$which"
	"$PY" "$BASE/normalize.py" "$KEEP/$mode.$which.raw.jsonl" "$KEEP/$mode.$which.jsonl" 2>&1
}

cat >"$BASE/compare.py" <<'PY'
# compare.py MODE DIR RUNS: DIR/MODE.{old,new}.{1..RUNS}.jsonl, normalized. Prints the
# differences between old.1 and new.1 line by line; exit 1 if any is not explained by the
# same line differing between runs of one binary.
import difflib, sys
mode, d, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
def load(which, i):
    return open("%s/%s.%s.%d.jsonl" % (d, mode, which, i), "rb").read().split(b"\n")
old = [load("old", i) for i in range(1, runs + 1)]
new = [load("new", i) for i in range(1, runs + 1)]
if old[0] == new[0]:
    print("%s: identical (%d lines)" % (mode, len(old[0]) - 1))
    sys.exit(0)
if len({len(x) for x in old + new}) != 1:
    print("%s: DIFFERENT (line counts: old %s, new %s)" % (mode, [len(x) - 1 for x in old],
                                                          [len(x) - 1 for x in new]))
    for l in difflib.unified_diff([x.decode("utf-8", "replace") for x in old[0]],
                                  [x.decode("utf-8", "replace") for x in new[0]],
                                  "%s OLD" % mode, "%s NEW" % mode, lineterm=""):
        print(l)
    sys.exit(1)
bad = 0
for n in range(len(old[0])):
    if old[0][n] == new[0][n]:
        continue
    # Excused only when one binary's runs disagree on the line and some run of OLD and some
    # run of NEW agree on it: a race both binaries share, not a change.
    ov, nv = {x[n] for x in old}, {x[n] for x in new}
    unstable = (len(ov) > 1 or len(nv) > 1) and bool(ov & nv)
    print("%s line %d: %s" % (mode, n + 1, "unstable (differs between runs of one binary):"
                              if unstable else "DIFFERENT:"))
    for which, xs in (("OLD", old), ("NEW", new)):
        for v in sorted({x[n] for x in xs}):
            print("  %s %s" % (which, v.decode("utf-8", "replace")))
    bad += not unstable
print("%s: %s" % (mode, "DIFFERENT (%d lines)" % bad if bad else
                  "identical but for unstable lines"))
sys.exit(1 if bad else 0)
PY

RUNS=${RUNS:-3}
status=0
for mode in "$@"; do
	case $mode in fid | perm | nofid) ;; *) echo "$0: unknown mode $mode" >&2; exit 2 ;; esac
	for i in $(seq 1 "$RUNS"); do
		run_one "$mode" "old.$i" "$OLD" || { echo "$0: $mode: OLD run $i failed" >&2; exit 2; }
		run_one "$mode" "new.$i" "$NEW" || { echo "$0: $mode: NEW run $i failed" >&2; exit 2; }
	done
	"$PY" "$BASE/compare.py" "$mode" "$KEEP" "$RUNS" || status=1
done
echo "outputs (raw and normalized) in $KEEP"
exit $status
