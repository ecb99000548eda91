# --allow-cache must not let a second name of a canary through: the cache mark is on the
# inode, so a hard link opened often enough would have the kernel allow the canary's own
# name without asking. `ln canary innocent`, three reads of innocent, then the canary is
# still denied and alerted; a file with two names is never cached.
. "$(dirname "$0")/lib.sh"
require_fanotify perm
require_fanotify fid
setup

echo secret >"$W/canary"
start_daemon --perm --deny-on-alert --allow-cache --mount "$W" --canary "$W/canary" || finish
check "cat canary is denied" bash -c '! timeout 5 cat "$1" >/dev/null 2>&1' _ "$W/canary"
ln "$W/canary" "$W/innocent"
for i in 1 2 3; do
	reads "$W/innocent" || fail "read $i of innocent did not complete"
	$JSONL wait "$OUT" --timeout 10 --count "$i" events~OPEN_PERM path="$W/innocent" >/dev/null ||
		fail "no record $i of innocent"
done
stats
check "no cache mark for a file with two names (cache_marks=$(stat_of cache_marks))" \
	[ "$(stat_of cache_marks)" = 0 ]
n0=$(count type=alert kind=canary path="$W/canary")
out=$(timeout 5 cat "$W/canary" 2>/dev/null)
check "cat canary after the link's reads is still denied (got '$out')" [ -z "$out" ]
check "... and alerted" waitrec --count $((n0 + 1)) type=alert kind=canary path="$W/canary"
check "... and recorded as denied" waitrec type=event events~OPEN_PERM path="$W/canary" decision=deny
# A file with one name is still cached (the cache is not simply off).
echo x >"$W/plain"
for i in 1 2 3; do reads "$W/plain"; done
stats
check "a file with one name is cached (cache_marks=$(stat_of cache_marks))" [ "$(stat_of cache_marks)" = 1 ]
finish
