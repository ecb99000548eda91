# --no-fid (FD mode): only the events an FD group can carry, with full paths; start-up says
# which events cannot be delivered.
. "$(dirname "$0")/lib.sh"
require_fanotify
setup
start_daemon --no-fid --watch "$W" || finish

echo hello >"$W/file"
hold_cat "$W/file" || finish
chmod 600 "$W/file"
mkdir "$W/d"
mv "$W/file" "$W/file2"
echo again >>"$W/file2"
cp /bin/true "$W/true"
"$W/true" || fail "exec of a copied binary"
rm "$W/file2"
rmdir "$W/d"
# Written after its name is gone: the kernel's " (deleted)" suffix is not a path.
exec 3>"$W/gone"
rm "$W/gone"
echo late >&3
exec 3>&-
sentinel || finish

check "stderr says what --no-fid cannot deliver" \
	grep -q -- '--no-fid: ATTRIB,CREATE,DELETE,RENAME cannot be delivered' "$ERR"
check "output is valid JSONL" $JSONL valid "$OUT"
check "write is MODIFY with the full path" has events~MODIFY path="$W/file" decision=observe
check "close_write" has events~CLOSE_WRITE path="$W/file"
check "open by cat, with comm and exe" has events~OPEN path="$W/file" comm=cat 'exe~/cat$'
check "write after rename carries the new path" has events~MODIFY path="$W/file2"
check "exec is OPEN_EXEC" has events~OPEN_EXEC path="$W/true"
check "write to a deleted file is reported" has events~MODIFY pid=$$ 'path~gone|^null$'
check "no path with the kernel's ' (deleted)' suffix" [ "$(count 'path~ \(deleted\)$')" = 0 ]
check "no CREATE records" [ "$(count events~CREATE)" = 0 ]
check "no DELETE records" [ "$(count events~DELETE)" = 0 ]
check "no RENAME records" [ "$(count events~RENAME)" = 0 ]
check "no ATTRIB records" [ "$(count events~ATTRIB)" = 0 ]
check "only FD-mode event names" [ "$(count 'events~(^|,)(CREATE|DELETE|RENAME|ATTRIB|MOVED_FROM|MOVED_TO|DELETE_SELF|MOVE_SELF)(,|$)')" = 0 ]
check "no ACCESS unless asked" [ "$(count events~ACCESS)" = 0 ]
check "no CLOSE_NOWRITE unless asked" [ "$(count events~CLOSE_NOWRITE)" = 0 ]
check "schema fields present" has schema_version=1 type=event seq? ts_ms? mask? pid? ppid? uid=0 job_id=null path_role=null
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --no-fid with a mount mark and opt-in read events: deep paths in full.
OUT=$S/mount.jsonl
start_daemon --no-fid --mount "$W" --events access,close_nowrite,default || finish
mkdir -p "$W/a/b/c"
echo deep >"$W/a/b/c/file"
hold_cat "$W/a/b/c/file" || finish
sentinel "$W/a/b/c" || finish
check "mount mark: deep write with full path" has events~MODIFY path="$W/a/b/c/file"
check "mount mark: deep read is ACCESS" has events~ACCESS path="$W/a/b/c/file" comm=cat
check "mount mark: CLOSE_NOWRITE when asked" has events~CLOSE_NOWRITE path="$W/a/b/c/file" comm=cat
check "mount mark: no CREATE records" [ "$(count events~CREATE)" = 0 ]
stop_daemon
check "SIGTERM exits 0 (mount)" [ "$DSTATUS" = 0 ]
finish
