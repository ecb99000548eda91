# Mount mark (--mount): the whole mount, recursively, with names for directory-entry events
# (served by a filesystem mark filtered to the mount), and nothing from outside the mount
# even on the same filesystem (made here with a bind mount of part of $W).
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
# $W is the tmpfs; $M is a bind mount of $W/in only. $W/out is the same filesystem, but
# outside the marked mount.
mkdir -p "$W/in" "$W/out"
M=$S/../inmnt
mkdir -p "$M"
mount --bind "$W/in" "$M" || { fail "bind mount"; finish; }
M=$(cd "$M" && pwd -P)
# the bind mount goes before lib.sh's cleanup removes the test directories
trap 'stop_daemon; umount -l "$M" 2>/dev/null; cleanup' EXIT
mkdir -p "$M/sub"
# all_under PREFIX...: every record's path and old_path (null aside) starts with a PREFIX.
all_under() {
	python3 - "$OUT" "$@" <<'PY'
import json, sys
pre = tuple(sys.argv[2:])
bad = [r for r in map(json.loads, open(sys.argv[1], encoding="utf-8", errors="surrogateescape"))
       for k in ("path", "old_path") if r.get(k) is not None and not r[k].startswith(pre)]
for r in bad:
    print("outside:", json.dumps(r), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}
start_daemon --mount "$M/sub" || finish

# Deep in the tree, through the marked mount.
mkdir -p "$M/a/b/c"
echo deep >"$M/a/b/c/file"
hold_cat "$M/a/b/c/file" || finish
chmod 600 "$M/a/b/c/file"
mv "$M/a/b/c/file" "$M/a/moved"
rm "$M/a/moved"
rmdir "$M/a/b/c"
# Beside the path given to --mount: the mark covers the mount containing it.
echo top >"$M/top"
# Same filesystem, outside the bind mount: all done by one process, so that "absent" can
# be checked by its pid whatever path (or null) the daemon could make of it.
python3 - "$W/out" >"$S/outside.pid" <<'PY' || fail "outside actions"
import os, sys
d = sys.argv[1]
print(os.getpid(), flush=True)
os.makedirs(d + "/x/y")
with open(d + "/x/y/file", "w") as f:
    f.write("out\n")
with open(d + "/x/y/file") as f:
    f.read()
os.chmod(d + "/x/y/file", 0o600)
os.rename(d + "/x/y/file", d + "/x/renamed")
os.link(d + "/x/renamed", d + "/x/link")
os.unlink(d + "/x/link")
os.unlink(d + "/x/renamed")
os.rmdir(d + "/x/y")
os.symlink("target", d + "/x/sym")
os.unlink(d + "/x/sym")
PY
OUTSIDE=$(cat "$S/outside.pid")
echo other >"$W/in/via-other-mount"
sentinel "$M" || finish

check "output is valid JSONL" $JSONL valid "$OUT"
check "deep mkdir is a create with full path" has events~CREATE path="$M/a/b/c" name=c is_dir=true
check "deep file create" has events~CREATE path="$M/a/b/c/file" name=file is_dir=false
check "deep write is MODIFY" has events~MODIFY path="$M/a/b/c/file" decision=observe
check "deep close_write" has events~CLOSE_WRITE path="$M/a/b/c/file"
check "deep open by cat" has events~OPEN path="$M/a/b/c/file" comm=cat
check "deep attrib" has events~ATTRIB path="$M/a/b/c/file"
check "deep rename: one record, both full paths" \
	has events=RENAME path="$M/a/moved" old_path="$M/a/b/c/file" name=moved
check "deep delete" has events~DELETE path="$M/a/moved" name=moved
check "deep rmdir" has events~DELETE path="$M/a/b/c" is_dir=true
check "whole mount, not only the path given" has events~CREATE path="$M/top"
check "whole mount: write beside the path given" has events~MODIFY path="$M/top"
check "outside pid is known" [ -n "$OUTSIDE" ]
check "nothing from the process acting outside the mount (same fs)" [ "$(count pid="$OUTSIDE")" = 0 ]
check "no path with a ' (deleted)' suffix" [ "$(count 'path~ \(deleted\)$')" = 0 ]
check "no path outside the mount" [ "$(count path~"^$W/out")" = 0 ]
check "no create outside the mount" [ "$(count events~CREATE name=file path!="$M/a/b/c/file")" = 0 ]
check "no rename outside the mount" [ "$(count events~RENAME name=renamed)" = 0 ]
check "no delete outside the mount" [ "$(count events~DELETE name=renamed)" = 0 ]
check "no mkdir outside the mount" [ "$(count events~CREATE name=y)" = 0 ]
check "write through another mount of the same dir not reported" \
	[ "$(count events~MODIFY name=via-other-mount)$(count events~MODIFY path~via-other-mount)" = 00 ]
check "every record's path is under the mount" all_under "$M/"
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# A mount mark and an inode mark on the same filesystem: the filesystem mark serving the
# mount's directory-entry events must keep the --watch directory's direct entries, and only
# those.
OUT=$S/mixed.jsonl
mkdir -p "$W/w2/deeper"
start_daemon --mount "$M" --watch "$W/w2" || finish
echo a >"$W/w2/direct"
mv "$W/w2/direct" "$W/w2/direct2"
echo b >"$W/w2/deeper/not-direct"
rm "$W/w2/deeper/not-direct"
echo c >"$M/in-mount"
sentinel "$M" || finish
check "mixed: --watch dir's direct create" has events~CREATE path="$W/w2/direct" name=direct
check "mixed: --watch dir's direct rename" has events=RENAME path="$W/w2/direct2" old_path="$W/w2/direct"
check "mixed: mount's create" has events~CREATE path="$M/in-mount"
check "mixed: nothing below the --watch dir's children" [ "$(count name=not-direct)" = 0 ]
check "mixed: nothing unresolved (only live files in scope here)" [ "$(count path=null)" = 0 ]
check "mixed: no record outside both" all_under "$M/" "$W/w2/"
stop_daemon
check "mixed: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
