# Inode marks (--watch): the directory itself and its direct entries only, never deeper;
# several marks at once; a mark on a single file; and a foreground daemon without --output
# writing its records to stdout.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
mkdir -p "$W/sub/deep" "$W/second" "$W/lone"
echo old >"$W/sub/deep/file"
echo old >"$W/sub/file"
echo old >"$W/lone/file"
echo old >"$W/lone/other"
start_daemon --watch "$W" --watch "$W/second" || finish

echo x >"$W/x"
echo deep >>"$W/sub/deep/file"
cat "$W/sub/deep/file" >/dev/null
echo new >"$W/sub/deep/new"
mv "$W/sub/deep/new" "$W/sub/deep/new2"
rm "$W/sub/deep/new2"
echo one >>"$W/sub/file"
echo n >"$W/sub/new"
chmod 700 "$W/sub"
chmod 700 "$W"
echo s >"$W/second/y"
sentinel || finish
sentinel "$W/second" || finish

check "direct child write reported" has events~MODIFY path="$W/x"
check "direct child create reported" has events~CREATE path="$W/x" name=x
check "write two levels down absent" [ "$(count path="$W/sub/deep/file")" = 0 ]
check "create/rename/delete two levels down absent" [ "$(count path~"^$W/sub/deep/new")" = 0 ]
check "nothing at all below a direct child dir" [ "$(count path^="$W/sub/")" = 0 ]
check "direct child directory itself: attrib" has events~ATTRIB path="$W/sub" is_dir=true
check "the watched directory itself: attrib" has events~ATTRIB path="$W" is_dir=true
check "second --watch reported" has events~CREATE path="$W/second/y" name=y
check "second --watch write" has events~MODIFY path="$W/second/y"
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# --watch on a regular file (the directory-entry events make no sense there; the rest do).
OUT=$S/file.jsonl
# (a refused start fails through start_daemon, with the daemon's message)
if start_daemon --watch "$W/lone/file"; then
	# no sentinel file under a file mark: the sibling's write comes first, so once the
	# marked file's write is reported, a record of the sibling would be there too
	echo lone >>"$W/lone/other"
	chmod 600 "$W/lone/file"
	echo lone >>"$W/lone/file"
	$JSONL wait "$OUT" --timeout 10 path="$W/lone/file" events~MODIFY || fail "file mark: no MODIFY"
	check "--watch on a file: attrib" $JSONL wait "$OUT" --timeout 10 path="$W/lone/file" events~ATTRIB
	check "--watch on a file: a sibling absent" [ "$(count path="$W/lone/other")" = 0 ]
	stop_daemon
	check "--watch on a file: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
fi

# Two inode marks on one filesystem, the first through a bind mount of a subdirectory: each
# mark's records carry the full path by which it was given.
OUT=$S/bind.jsonl
mkdir -p "$W/in" "$W/out"
B=$S/../bindw
mkdir -p "$B"
mount --bind "$W/in" "$B" || { fail "bind mount"; finish; }
B=$(cd "$B" && pwd -P)
trap 'stop_daemon; umount -l "$B" 2>/dev/null; cleanup' EXIT
start_daemon --watch "$B" --watch "$W/out" || finish
echo a >"$W/out/file"
echo b >"$B/file"
sentinel "$B" || finish
check "bind: create in the second watch has its full path" has events~CREATE name=file path="$W/out/file"
check "bind: write in the second watch has its full path" has events~MODIFY path="$W/out/file"
check "bind: create through the bind mount" has events~CREATE path="$B/file"
check "bind: every path is under one of the watches" python3 - "$OUT" "$B/" "$W/out/" <<'PY'
import json, sys
bad = [r for r in map(json.loads, open(sys.argv[1], encoding="utf-8", errors="surrogateescape"))
       if r.get("path") is not None and not r["path"].startswith(tuple(sys.argv[2:]))]
for r in bad:
    print("outside:", r["events"], r["path"], file=sys.stderr)
sys.exit(1 if bad else 0)
PY
stop_daemon

# Foreground without --output: records on stdout.
OUT=$S/stdout.jsonl
rm -f "$PIDF"
timeout -s KILL "$DAEMON_TIMEOUT" "$FANOTIFYD" --foreground --pid-file "$PIDF" --watch "$W" \
	>"$OUT" 2>"$ERR" &
TPID=$!
wait_ready || finish
echo out >"$W/to-stdout"
sentinel || finish
check "stdout: record of the write" has events~MODIFY path="$W/to-stdout"
check "stdout: valid JSONL" $JSONL valid "$OUT"
stop_daemon
check "stdout daemon: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
finish
