# Job tags: records under a job's rootfs / workspace / export / cache carry job_id and
# path_role; a root is matched by path components (root2 beside root is not under it); the
# longest root wins (a job nested in another's rootfs); a cache shared by two jobs has
# path_role cache and job_id null; everything else is null/null. Renames take the new
# path's tags (the old path's when the new one is outside every root); alerts carry the
# tags of their path. Checked in FID mode, then for writes in FD mode (--no-fid).
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"

J=$W/jobs/J
mkdir -p "$J/root/etc" "$J/root/home/N" "$J/root/home/No" "$J/root2" "$J/workspace/a/b" \
	"$J/export" "$W/jobs/K/root/bin" "$W/cache" "$W/other"
echo secret >"$J/root/etc/shadow"
echo mv >"$J/workspace/tomove"
echo mv >"$J/export/leaving"
echo rm >"$J/workspace/del"
cat >"$S/conf" <<CONF
job J
rootfs $J/root/
workspace $J/workspace
export $J/export
cache $W/cache
job K
rootfs $W/jobs/K/root
cache $W/cache
job N
workspace $J/root/home/N
canary $J/root/etc/shadow
mount $W
CONF

# tagged PATH JOB ROLE: every record whose path (or, for alerts, path) is PATH carries
# JOB/ROLE (null = JSON null), and there is at least one.
tagged() {
	"$PY" - "$OUT" "$@" <<'PY'
import json, sys
out, path, job, role = sys.argv[1:5]
job = None if job == "null" else job
role = None if role == "null" else role
recs = [r for r in map(json.loads, open(out)) if r.get("path") == path]
bad = [r for r in recs if r.get("job_id") != job or r.get("path_role") != role]
for r in bad[:3]:
    print("# %s" % json.dumps(r))
sys.exit(0 if recs and not bad else 1)
PY
}

start_daemon -c "$S/conf" || finish
echo x >"$J/root/etc/passwd"
echo x >"$J/workspace/a/b/file"
echo x >"$J/export/out.tar"
echo x >"$W/cache/pkg"
echo x >"$W/jobs/K/root/bin/tool"
echo x >"$J/root/home/N/f"
echo x >"$J/root/home/No/f"
echo x >"$J/root2/f"
echo x >"$W/other/f"
chmod 700 "$J/root"
mv "$J/workspace/tomove" "$J/export/moved"
mv "$J/export/leaving" "$W/other/left"
rm "$J/workspace/del"
cat "$J/root/etc/shadow" >/dev/null
sentinel || finish

check "output is valid JSONL" $JSONL valid "$OUT"
check "file in J's rootfs: J rootfs" tagged "$J/root/etc/passwd" J rootfs
check "... CREATE and MODIFY both" has type=event events~CREATE path="$J/root/etc/passwd" \
	job_id=J path_role=rootfs
check "deep in J's workspace: J workspace" tagged "$J/workspace/a/b/file" J workspace
check "J's export: J export" tagged "$J/export/out.tar" J export
check "shared cache: job null, role cache" tagged "$W/cache/pkg" null cache
check "K's rootfs: K rootfs" tagged "$W/jobs/K/root/bin/tool" K rootfs
check "job N nested in J's rootfs: the longer root wins" tagged "$J/root/home/N/f" N workspace
check "sibling of N's root (No): J rootfs" tagged "$J/root/home/No/f" J rootfs
check "root2 beside root: untagged" tagged "$J/root2/f" null null
check "outside every root: untagged" tagged "$W/other/f" null null
check "the root directory itself (chmod): J rootfs" has type=event events~ATTRIB \
	path="$J/root" job_id=J path_role=rootfs is_dir=true
check "rename workspace -> export: the new path's tags" has type=event events~RENAME \
	path="$J/export/moved" old_path="$J/workspace/tomove" job_id=J path_role=export
check "rename export -> outside: the old path's tags" has type=event events~RENAME \
	path="$W/other/left" old_path="$J/export/leaving" job_id=J path_role=export
check "delete in the workspace: J workspace" has type=event events~DELETE \
	path="$J/workspace/del" job_id=J path_role=workspace
check "canary alert in J's rootfs: J rootfs" has type=alert kind=canary \
	path="$J/root/etc/shadow" job_id=J path_role=rootfs
check "... and its event" has type=event events~OPEN path="$J/root/etc/shadow" job_id=J \
	path_role=rootfs
check "parent of the roots ($W/jobs/J) untagged" \
	[ "$(count path="$W/jobs/J" job_id!=null)" = 0 ]
check "no record under root2 or other is tagged (but the rename out of export)" \
	"$PY" - "$OUT" "$J/root2" "$W/other" "$J/export/leaving" <<'PY'
import json, sys
out, roots, exempt = sys.argv[1], sys.argv[2:4], sys.argv[4]
recs = [r for r in map(json.loads, open(out))
        if any((r.get("path") or "") == x or (r.get("path") or "").startswith(x + "/")
               for x in roots)]
bad = [r for r in recs if (r.get("job_id"), r.get("path_role")) != (None, None)
       and r.get("old_path") != exempt]
print("# %d records checked, %d tagged" % (len(recs), len(bad)))
sys.exit(0 if len(recs) >= 3 and not bad else 1)
PY
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --- FD mode: the same tags on writes -----------------------------------------------------
OUT=$S/nofid.jsonl
start_daemon -c "$S/conf" --no-fid || finish
echo y >>"$J/root/etc/passwd"
echo y >>"$J/workspace/a/b/file"
echo y >>"$W/cache/pkg"
echo y >>"$J/root/home/N/f"
echo y >>"$J/root2/f"
sentinel || finish
check "no-fid: J rootfs" tagged "$J/root/etc/passwd" J rootfs
check "no-fid: J workspace" tagged "$J/workspace/a/b/file" J workspace
check "no-fid: shared cache" tagged "$W/cache/pkg" null cache
check "no-fid: nested N" tagged "$J/root/home/N/f" N workspace
check "no-fid: root2 untagged" tagged "$J/root2/f" null null
stop_daemon
finish
