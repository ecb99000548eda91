# --perm: every open in the marked tree waits for our answer; each one must complete, be
# answered "allow" and be recorded. Directory-entry events still come, with names, from an
# FID group beside the permission group. Every action that could hang runs under timeout.
. "$(dirname "$0")/lib.sh"
require_fanotify perm
require_fanotify fid
setup

# decisions_sane: permission events are "allow", every other event "observe".
decisions_sane() {
	python3 - "$OUT" <<'PY'
import json, sys
bad = 0
for r in map(json.loads, open(sys.argv[1], encoding="utf-8", errors="surrogateescape")):
    if r.get("type") != "event":
        continue
    want = "allow" if "_PERM" in r["events"] else "observe"
    if r["decision"] != want:
        print("bad decision:", json.dumps(r), file=sys.stderr)
        bad += 1
sys.exit(1 if bad else 0)
PY
}

echo content >"$W/file"
for i in $(seq 1 200); do : >"$W/m$i"; done
cp /bin/true "$W/true"
start_daemon --perm --watch "$W" || finish

check "cat of a marked file completes" [ "$(timeout 5 cat "$W/file")" = content ]
check "open is OPEN_PERM, allowed" waitrec events~OPEN_PERM path="$W/file" decision=allow comm=cat
check "exec of a marked binary completes" timeout 5 "$W/true"
check "exec is OPEN_EXEC_PERM, allowed" waitrec events~OPEN_EXEC_PERM path="$W/true" decision=allow
check "write completes" timeout 5 sh -c 'echo more >>"$1"' sh "$W/file"
check "write is MODIFY, observed" waitrec events~MODIFY path="$W/file" decision=observe
check "mkdir completes" timeout 5 mkdir "$W/d"
check "mkdir is reported with its name" waitrec events~CREATE path="$W/d" name=d is_dir=true decision=observe
check "create completes" timeout 5 touch "$W/new"
check "create is reported with its name" waitrec events~CREATE path="$W/new" name=new is_dir=false
check "rename completes" timeout 5 mv "$W/new" "$W/renamed"
check "rename is one record with both paths" waitrec events=RENAME path="$W/renamed" old_path="$W/new"
check "unlink completes" timeout 5 rm "$W/renamed"
check "delete is reported" waitrec events~DELETE path="$W/renamed" name=renamed
check "chmod completes" timeout 5 chmod 600 "$W/file"
check "attrib is reported" waitrec events~ATTRIB path="$W/file"

# Many opens, one process: each must complete and each must have its own allow record.
N=2000
timeout 30 python3 - "$W" "$N" >"$S/many.pid" <<'PY' || fail "$N opens did not complete"
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
print(os.getpid(), flush=True)
for i in range(n):
    os.close(os.open("%s/m%d" % (d, i % 200 + 1), os.O_RDONLY))
PY
MANY=$(cat "$S/many.pid")
# count_reaches N FILTER...: a read with a deadline (10 s) until N records match; then
# exactly N must match.
count_reaches() {
	local want=$1; shift
	python3 - "$HERE/jsonl.py" "$OUT" "$want" "$@" <<'PY'
import sys, time
j = {"__name__": "jsonl"}
exec(open(sys.argv[1]).read().replace("sys.exit(main())", ""), j)
out, want, filters = sys.argv[2], int(sys.argv[3]), sys.argv[4:]
deadline = time.monotonic() + 10
while True:
    n = sum(1 for r in j["records"](out) if j["match"](r, filters))
    if n >= want or time.monotonic() > deadline:
        break
    time.sleep(0.05)
if n != want:
    print("count_reaches: %d records, wanted %d" % (n, want), file=sys.stderr)
sys.exit(0 if n == want else 1)
PY
}
check "$N opens: $N OPEN_PERM allow records" count_reaches "$N" events~OPEN_PERM pid="$MANY" decision=allow path^="$W/m"
check "$N opens: none denied or other decision" [ "$(count pid="$MANY" decision!=allow)" = 0 ]

# Many processes at once.
check "200 concurrent cats complete" timeout 20 sh -c '
	for j in $(seq 1 8); do
		(for i in $(seq 1 25); do cat "$1/m$i" >/dev/null || exit 1; done) &
	done
	fails=0
	for j in $(seq 1 8); do wait || fails=1; done
	exit $fails' sh "$W"
psentinel || finish
check "every permission event allowed, every other observed" decisions_sane
check "output is valid JSONL" $JSONL valid "$OUT"
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
check "opens work after the daemon stopped" [ "$(timeout 5 cat "$W/file")" = "content
more" ]

# --perm --no-fid: permission events only, no directory-entry events.
OUT=$S/nofid.jsonl
start_daemon --perm --no-fid --watch "$W" || finish
check "no-fid: cat completes" reads "$W/file"
check "no-fid: OPEN_PERM allowed" waitrec events~OPEN_PERM path="$W/file" decision=allow comm=cat
check "no-fid: exec completes" timeout 5 "$W/true"
check "no-fid: OPEN_EXEC_PERM allowed" waitrec events~OPEN_EXEC_PERM path="$W/true" decision=allow
check "no-fid: create completes" timeout 5 touch "$W/nofid-new"
check "no-fid: its open is OPEN_PERM" waitrec events~OPEN_PERM path="$W/nofid-new"
psentinel "$W" nofid || finish
check "no-fid: no CREATE records" [ "$(count events~CREATE)" = 0 ]
check "no-fid: decisions" decisions_sane
stop_daemon
check "no-fid: SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --perm --access-perm: reads are gated too.
OUT=$S/access.jsonl
start_daemon --perm --access-perm --watch "$W" || finish
check "access-perm: cat reads the content" [ "$(timeout 5 cat "$W/file")" = "content
more" ]
check "access-perm: read is ACCESS_PERM, allowed" waitrec events~ACCESS_PERM path="$W/file" decision=allow comm=cat
check "access-perm: open still OPEN_PERM" waitrec events~OPEN_PERM path="$W/file" comm=cat
check "access-perm: exec completes" timeout 5 "$W/true"
psentinel || finish
check "access-perm: decisions" decisions_sane
stop_daemon
check "access-perm: SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --perm --mount: deep opens are gated; deep creates keep their names.
OUT=$S/mount.jsonl
start_daemon --perm --mount "$W" || finish
mkdir -p "$W/a/b/c"
check "mount: deep create completes" timeout 5 sh -c 'echo deep >"$1"' sh "$W/a/b/c/file"
check "mount: deep cat completes" reads "$W/a/b/c/file"
check "mount: deep OPEN_PERM allowed" waitrec events~OPEN_PERM path="$W/a/b/c/file" decision=allow comm=cat
check "mount: deep create has its name" waitrec events~CREATE path="$W/a/b/c/file" name=file
# If the daemon dies, the kernel must allow pending and later opens (crash, not hang).
kill -KILL "$DPID"
stop_daemon
check "after SIGKILL of the daemon, opens complete" reads "$W/a/b/c/file"
finish
