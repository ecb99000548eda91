# Process attribution for short-lived writers: 500 sequential `sh -c 'echo x > fN'`. Every
# write record whose exe is known must name the real shell (never the parent bash or
# anything else: misattribution), with comm "sh" and the test shell as ppid; and at least
# 90% of the files' write records must have a known exe. The figure is printed either way.
# (It is 99.6-100% on a quiet 2-vCPU VM, 97.6-98.8% without the daemon's short scheduling
# slice; a busy host delays the daemon's wake-up past a child's exit, and the bar is set so
# that such a host does not fail the run. The product figure is the benchmark's T4.)
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"

N=500
SH=$(readlink -f /bin/sh)
start_daemon --watch "$W" || finish
for i in $(seq 1 $N); do
	W=$W i=$i /bin/sh -c 'echo x >"$W/f$i"'
done
sentinel || finish
check "output is valid JSONL" $JSONL valid "$OUT"

# attr.py WHAT: WHAT is figure|exe|comm|ppid|complete
attr() {
	"$PY" - "$OUT" "$W" "$N" "$SH" "$$" "$1" <<'PY'
import json, sys
out, w, n, sh, shell_pid, what = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], \
    sys.argv[5], sys.argv[6]
files = {"%s/f%d" % (w, i): [] for i in range(1, n + 1)}
for line in open(out, "rb"):
    r = json.loads(line)
    if r.get("type") != "event" or r.get("path") not in files:
        continue
    ev = r["events"].split(",")
    if "MODIFY" in ev or "CLOSE_WRITE" in ev:
        files[r["path"]].append(r)
recs = [r for rs in files.values() for r in rs]
known = [r for r in recs if r.get("exe") is not None]
bad = []
if what == "figure":
    # a file counts as attributed when every one of its write records has a known exe
    good = sum(1 for rs in files.values() if rs and all(r.get("exe") is not None for r in rs))
    print("# attribution: %d/%d write records with known exe (%.1f%%) "
          "[per record: %d/%d; %d null comm]" %
          (good, n, 100.0 * good / n, len(known), len(recs),
           sum(1 for r in recs if r.get("comm") is None)))
    sys.exit(0 if good >= 0.90 * n else 1)
elif what == "complete":
    bad = [p for p, rs in files.items() if not rs]
elif what == "exe":
    bad = ["%s exe=%r" % (r["path"].rsplit("/", 1)[1], r["exe"]) for r in known if r["exe"] != sh]
elif what == "comm":
    bad = ["%s comm=%r" % (r["path"].rsplit("/", 1)[1], r.get("comm"))
           for r in recs if r.get("comm") is not None and r["comm"] != "sh"]
elif what == "ppid":
    bad = ["%s ppid=%r" % (r["path"].rsplit("/", 1)[1], r.get("ppid")) for r in known
           if r.get("ppid") is not None and str(r["ppid"]) != shell_pid]
elif what == "pids":
    # each sh is its own process: two files never share a writer pid
    seen = {}
    for p, rs in files.items():
        for r in rs:
            if r.get("pid") in seen and seen[r["pid"]] != p:
                bad.append("pid %s wrote %s and %s" % (r["pid"], seen[r["pid"]], p))
            seen.setdefault(r.get("pid"), p)
if bad:
    print("# %d bad, e.g. %s" % (len(bad), "; ".join(map(str, bad[:5]))))
sys.exit(1 if bad else 0)
PY
}
check "every one of the $N files has a MODIFY/CLOSE_WRITE record" attr complete
check "every known exe of those records is the real shell ($SH)" attr exe
check "comm is \"sh\" whenever known" attr comm
check "ppid is the test shell whenever exe is known" attr ppid
check "no two files attributed to the same writer pid" attr pids
check "known-exe fraction >= 90%" attr figure
finish
