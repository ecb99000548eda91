# Inode mark in FID mode: file and directory-entry events with names and full paths.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
start_daemon --watch "$W" || finish

echo hello >"$W/file"
hold_cat "$W/file" || finish
mkdir "$W/d"
chmod 600 "$W/file"
mv "$W/file" "$W/file2"
rm "$W/file2"
rmdir "$W/d"
sentinel || finish

check "output is valid JSONL" $JSONL valid "$OUT"
check "create has name and path" has type=event events~CREATE path="$W/file" name=file is_dir=false
check "write is MODIFY" has events~MODIFY path="$W/file" decision=observe
check "close_write" has events~CLOSE_WRITE path="$W/file"
check "cat's open names cat" has events~OPEN path="$W/file" comm=cat 'exe~/cat$'
check "attrib" has events~ATTRIB path="$W/file"
check "mkdir is a directory create" has events~CREATE path="$W/d" name=d is_dir=true
check "rename is one record with both names" has events=RENAME path="$W/file2" old_path="$W/file" name=file2
check "delete" has events~DELETE path="$W/file2" name=file2
check "rmdir" has events~DELETE path="$W/d" is_dir=true
check "schema fields present" has schema_version=1 seq? ts_ms? mask? pid? ppid? uid? job_id=null path_role=null
check "pid is the writer" has events~CREATE path="$W/file" pid=$$
check "uid is root" has events~CREATE path="$W/file" uid=0
check "no event without seq" [ "$(count type=event '!seq')" = 0 ]
check "seq strictly increasing" python3 -c '
import json,sys
s=[json.loads(l)["seq"] for l in open(sys.argv[1])]
sys.exit(0 if all(b>a for a,b in zip(s,s[1:])) and s[0]>=1 else 1)' "$OUT"
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
check "pid file removed on exit" [ ! -e "$PIDF" ]
finish
