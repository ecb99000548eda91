# Filesystem mark (--filesystem): everything on that filesystem, from any directory and
# through any mount of it, and nothing from another filesystem.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
mkdir -p "$W/given/here" "$W/in"
M=$S/../fsbind
mkdir -p "$M"
mount --bind "$W/in" "$M" || { fail "bind mount"; finish; }
M=$(cd "$M" && pwd -P)
# the bind mount goes before lib.sh's cleanup removes the test directories
trap 'stop_daemon; umount -l "$M" 2>/dev/null; cleanup' EXIT
start_daemon --filesystem "$W/given/here" || finish

mkdir -p "$W/a/b/c/d"
echo deep >"$W/a/b/c/d/file"
hold_cat "$W/a/b/c/d/file" || finish
chmod 600 "$W/a/b/c/d/file"
mv "$W/a/b/c/d/file" "$W/a/b/renamed"
rm "$W/a/b/renamed"
rmdir "$W/a/b/c/d"
echo top >"$W/top"
echo bound >"$M/through-bind"
# Another filesystem ($S is its own tmpfs): one process, so absence is checked by pid.
python3 - "$S/elsewhere" >"$S/other.pid" <<'PY' || fail "actions on the other filesystem"
import os, sys
d = sys.argv[1]
print(os.getpid(), flush=True)
os.makedirs(d + "/x")
with open(d + "/x/file", "w") as f:
    f.write("x\n")
with open(d + "/x/file") as f:
    f.read()
os.chmod(d + "/x/file", 0o600)
os.rename(d + "/x/file", d + "/x/moved")
os.unlink(d + "/x/moved")
PY
OTHER=$(cat "$S/other.pid")
sentinel || finish


check "output is valid JSONL" $JSONL valid "$OUT"
check "deep mkdir" has events~CREATE path="$W/a/b/c/d" name=d is_dir=true
check "deep create" has events~CREATE path="$W/a/b/c/d/file" name=file is_dir=false
check "deep modify" has events~MODIFY path="$W/a/b/c/d/file" decision=observe
check "deep close_write" has events~CLOSE_WRITE path="$W/a/b/c/d/file"
check "deep open by cat" has events~OPEN path="$W/a/b/c/d/file" comm=cat
check "deep attrib" has events~ATTRIB path="$W/a/b/c/d/file"
check "deep rename with both paths" \
	has events=RENAME path="$W/a/b/renamed" old_path="$W/a/b/c/d/file" name=renamed
check "deep delete" has events~DELETE path="$W/a/b/renamed" name=renamed
check "deep rmdir" has events~DELETE path="$W/a/b/c/d" is_dir=true
check "outside the path given: root of the fs" has events~CREATE path="$W/top" name=top
check "write through a bind mount is reported (by name)" has events~MODIFY name=through-bind
check "create through a bind mount is reported (by name)" has events~CREATE name=through-bind
check "other filesystem: other pid known" [ -n "$OTHER" ]
check "nothing from another filesystem" [ "$(count pid="$OTHER")" = 0 ]
check "no path on another filesystem" [ "$(count path^="$S/")" = 0 ]
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --filesystem given through a bind mount of a subdirectory: the mark is still the whole
# filesystem, and files outside that subdirectory keep their real full paths.
OUT=$S/via-bind.jsonl
start_daemon --filesystem "$M" || finish
mkdir -p "$W/elsewhere/deep"
echo x >"$W/elsewhere/deep/file"
echo y >"$M/inside"
sentinel "$M" || finish
check "via bind: a file outside the bound subdirectory is reported" has events~CREATE name=file
check "via bind: ... with its real full path" has events~CREATE path="$W/elsewhere/deep/file"
check "via bind: its write with its real full path" has events~MODIFY path="$W/elsewhere/deep/file"
check "via bind: a file inside the bound subdirectory" has events~CREATE name=inside
check "via bind: no path that names no file" python3 - "$OUT" <<'PY'
import json, os, sys
bad = [r for r in map(json.loads, open(sys.argv[1], encoding="utf-8", errors="surrogateescape"))
       if r.get("path") is not None and not os.path.lexists(r["path"].encode("utf-8", "surrogateescape"))]
for r in bad:
    print("no such path:", r["events"], r["path"], file=sys.stderr)
sys.exit(1 if bad else 0)
PY
stop_daemon
check "via bind: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
