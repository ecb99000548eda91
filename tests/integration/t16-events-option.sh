# --events LIST selects the reported events: default leaves out ACCESS and CLOSE_NOWRITE,
# names and groups (close, move, default, all) expand, and only the selection is reported.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
echo content >"$W/file"
mkdir "$W/d"

# only EVENT...: every record's events are within the given names.
only() {
	python3 - "$OUT" "$@" <<'PY'
import json, sys
allowed = set(sys.argv[2:])
bad = [r for r in map(json.loads, open(sys.argv[1]))
       if r["type"] == "event" and not set(r["events"].split(",")) <= allowed]
for r in bad[:5]:
    print("unexpected:", r["events"], r.get("path"), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}
# next_out NAME: a fresh output file for the next daemon.
next_out() { OUT=$S/$1.jsonl; }

# Default set.
next_out default
start_daemon --watch "$W" || finish
hold_cat "$W/file" || finish
ls "$W/d" >/dev/null
chmod 700 "$W/d"
sentinel || finish
check "default: open reported" has events~OPEN path="$W/file" comm=cat
check "default: no ACCESS" [ "$(count events~ACCESS)" = 0 ]
check "default: no CLOSE_NOWRITE" [ "$(count events~CLOSE_NOWRITE)" = 0 ]
check "default: open of a directory, is_dir true" has events~OPEN path="$W/d" is_dir=true
check "default: attrib of a directory, is_dir true" has events~ATTRIB path="$W/d" is_dir=true
check "default: only default event names" \
	only OPEN OPEN_EXEC MODIFY CLOSE_WRITE ATTRIB CREATE DELETE RENAME MOVED_FROM MOVED_TO
stop_daemon

# Opt-in read events on top of the default.
next_out access
start_daemon --watch "$W" --events access,close_nowrite,default || finish
hold_cat "$W/file" || finish
echo new >"$W/created"
sentinel || finish
check "access,close_nowrite,default: ACCESS" has events~ACCESS path="$W/file" comm=cat
check "access,close_nowrite,default: CLOSE_NOWRITE" has events~CLOSE_NOWRITE path="$W/file" comm=cat
check "access,close_nowrite,default: default still there (CREATE)" has events~CREATE path="$W/created"
check "access,close_nowrite,default: default still there (OPEN)" has events~OPEN path="$W/file"
stop_daemon

# A single event.
next_out create
start_daemon --watch "$W" --events create || finish
cat "$W/file" >/dev/null
echo more >>"$W/file"
mkdir "$W/d2"
sentinel || finish
check "create only: CREATE of a directory" has events=CREATE path="$W/d2" is_dir=true
check "create only: nothing else" only CREATE
stop_daemon

# The close group.
next_out close
start_daemon --watch "$W" --events close || finish
hold_cat "$W/file" || finish
echo more >>"$W/file"
sentinel || finish
check "close: CLOSE_NOWRITE of a read" has events~CLOSE_NOWRITE path="$W/file" comm=cat
check "close: CLOSE_WRITE of a write" has events~CLOSE_WRITE path="$W/file"
check "close: nothing else" only CLOSE_WRITE CLOSE_NOWRITE
stop_daemon

# The move group: a rename sentinel.
next_out move
start_daemon --watch "$W" --events move || finish
echo x >"$W/m1"
chmod 600 "$W/m1"
mv "$W/m1" "$W/m2"
: >"$W/.mv-a"
mv "$W/.mv-a" "$W/.mv-b"
$JSONL wait "$OUT" --timeout 10 path="$W/.mv-b" || fail "rename sentinel never reported"
check "move: rename reported with both names" has path="$W/m2" old_path="$W/m1" 'events~RENAME|MOVED'
check "move: nothing else" only RENAME MOVED_FROM MOVED_TO
stop_daemon

# Deletes and attribute changes only.
next_out delete
start_daemon --watch "$W" --events delete,attrib || finish
echo x >"$W/del"
chmod 600 "$W/del"
rm "$W/del"
: >"$W/.del-sentinel"
rm "$W/.del-sentinel"
$JSONL wait "$OUT" --timeout 10 path="$W/.del-sentinel" events~DELETE || fail "delete sentinel never reported"
check "delete,attrib: DELETE" has events~DELETE path="$W/del" name=del
check "delete,attrib: ATTRIB" has events~ATTRIB path="$W/del"
check "delete,attrib: nothing else" only DELETE ATTRIB
stop_daemon

# Everything.
next_out all
start_daemon --watch "$W" --events all || finish
cat "$W/file" >/dev/null
echo y >"$W/all"
mv "$W/all" "$W/all2"
rm "$W/all2"
sentinel || finish
for e in ACCESS CLOSE_NOWRITE OPEN MODIFY CLOSE_WRITE CREATE DELETE; do
	check "all: $e reported" has events~"(^|,)$e(,|\$)"
done
check "all: rename reported" has path="$W/all2" old_path="$W/all" 'events~RENAME|MOVED'
stop_daemon
check "all: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
