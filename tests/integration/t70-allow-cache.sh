# --allow-cache: the second time a permission event on a regular file is allowed, an
# evictable ignore mark lets the kernel allow that file's later opens without asking (and
# without a record); directories and canaries are never marked. Every mark is flushed when
# a decision could change: a file renamed or linked onto a canary name, a directory moved
# while canaries exist, a containment starting; no mark is added while a process is
# contained. Without --allow-cache every open is recorded, and in --perm mode an open is an
# OPEN_PERM record (never a plain OPEN) while reads and writes come as observed
# ACCESS/CLOSE_NOWRITE/MODIFY/CLOSE_WRITE records. --spin-us 0 never spins; the default
# spins. Refused configurations: --allow-cache without --perm, with --no-fid or with a
# --watch mark, --spin-us out of 0..1000 (exit 2, naming the key).
#
# "Cached" is shown, not assumed: a file's first two opens are waited for (the second's
# record is written after its mark is placed), then it is opened again; that open leaving
# no record is the proof. tmpfs never evicts a live inode, so an evictable mark stays while
# the test runs.
. "$(dirname "$0")/lib.sh"
require_fanotify perm
require_fanotify fid
setup
# Regex of an events field naming a plain OPEN or OPEN_EXEC (not *_PERM).
PLAIN_OPEN='(^|,)OPEN(_EXEC)?(,|$)'
# cache FILE: opens FILE twice, waiting for each open's record; the daemon marks a file the
# second time it allows it, and writes that record after the mark, so FILE is now cached.
cache() {
	reads "$1" || { fail "first open of $1 did not complete"; return 1; }
	waitrec events~OPEN_PERM path="$1" decision=allow || { fail "no record of $1"; return 1; }
	reads "$1" || { fail "second open of $1 did not complete"; return 1; }
	$JSONL wait "$OUT" --timeout 10 --count 2 events~OPEN_PERM path="$1" decision=allow ||
		{ fail "no second record of $1"; return 1; }
}

echo a >"$W/a"
echo b >"$W/b"
mkdir "$W/d"
: >"$W/d/inner"

# ---- 1. the cache: a file is marked the second time it is allowed; later opens are the
# kernel's, unrecorded; files opened once and directories get no mark ----
start_daemon --perm --allow-cache --mount "$W" || finish
reads "$W/a" || fail "first open of a did not complete"
check "first open of a: OPEN_PERM allow record" waitrec events~OPEN_PERM path="$W/a" decision=allow
if grep -q "refuses evictable ignore marks" "$ERR"; then
	skip "kernel without FAN_MARK_EVICTABLE / FAN_MARK_IGNORE (Linux 6.0)"
fi
stats || finish
check "after a's first open: no mark yet (cache_marks=0, got '$(stat_of cache_marks)')" \
	[ "$(stat_of cache_marks)" = 0 ]
reads "$W/a" || fail "second open of a did not complete"
check "second open of a: recorded too" $JSONL wait "$OUT" --timeout 10 --count 2 \
	events~OPEN_PERM path="$W/a" decision=allow
check "third and fourth opens of a complete" sh -c 'timeout 5 cat "$1" && timeout 5 cat "$1"' \
	sh "$W/a" >/dev/null
stats || finish
check "after a's four opens: cache_marks=1 (got '$(stat_of cache_marks)')" \
	[ "$(stat_of cache_marks)" = 1 ]
check "cache_errors=0 (got '$(stat_of cache_errors)')" [ "$(stat_of cache_errors)" = 0 ]
check "cache_flushes=0 (got '$(stat_of cache_flushes)')" [ "$(stat_of cache_flushes)" = 0 ]
check "perm_answered=2: the kernel answered the other two (got '$(stat_of perm_answered)')" \
	[ "$(stat_of perm_answered)" = 2 ]
reads "$W/b" || fail "open of b did not complete"
check "a different file still gets its record" waitrec events~OPEN_PERM path="$W/b" decision=allow
ls "$W/d" >/dev/null || fail "first ls"
ls "$W/d" >/dev/null || fail "second ls"
ls "$W/d" >/dev/null || fail "third ls"
# A write to a cached file: its open is not asked, the write itself is still reported.
echo more >>"$W/a"
stats || finish
check "after b once and three ls of a directory: still cache_marks=1 (got '$(stat_of cache_marks)')" \
	[ "$(stat_of cache_marks)" = 1 ]
psentinel || finish
check "a opened 4 times (and written once): exactly two OPEN_PERM records" \
	[ "$(count events~OPEN_PERM path="$W/a")" = 2 ]
check "b: exactly one OPEN_PERM record" [ "$(count events~OPEN_PERM path="$W/b")" = 1 ]
check "directory opened three times (ls): three OPEN_PERM records, is_dir" \
	[ "$(count events~OPEN_PERM path="$W/d" is_dir=true decision=allow)" = 3 ]
check "the write to cached a is still reported (MODIFY, from the FID group)" \
	waitrec events~MODIFY path="$W/a" decision=observe
check "... and its CLOSE_WRITE" waitrec events~CLOSE_WRITE path="$W/a" decision=observe
check "no plain OPEN/OPEN_EXEC record in --perm mode" [ "$(count "events~$PLAIN_OPEN")" = 0 ]
check "output is valid JSONL" $JSONL valid "$OUT"
stop_daemon
check "SIGTERM exits 0" [ "$DSTATUS" = 0 ]
check "after the daemon stopped, a still opens" [ "$(timeout 5 cat "$W/a")" = "a
more" ]

# ---- 2. without --allow-cache: every open recorded; reads and writes observed ----
OUT=$S/nocache.jsonl
start_daemon --perm --mount "$W" --events default,access,close_nowrite || finish
for i in 1 2 3; do reads "$W/a" || fail "open $i of a did not complete"; done
cp /bin/true "$W/true-copy"
check "exec of a copied binary completes" timeout 5 "$W/true-copy"
echo again >>"$W/b"
psentinel || finish
check "without --allow-cache: a opened 3 times gives 3 OPEN_PERM records" \
	[ "$(count events~OPEN_PERM path="$W/a" decision=allow)" = 3 ]
check "the exec is OPEN_EXEC_PERM" waitrec events~OPEN_EXEC_PERM path="$W/true-copy" decision=allow
check "reads are ACCESS records, observed" waitrec events~ACCESS path="$W/a" decision=observe
check "... and CLOSE_NOWRITE, observed" waitrec events~CLOSE_NOWRITE path="$W/a" decision=observe
check "the append is MODIFY, observed" waitrec events~MODIFY path="$W/b" decision=observe
check "opens and execs never come as plain OPEN/OPEN_EXEC" [ "$(count "events~$PLAIN_OPEN")" = 0 ]
stats || finish
check "without --allow-cache: cache_marks=0 (got '$(stat_of cache_marks)')" \
	[ "$(stat_of cache_marks)" = 0 ]
stop_daemon
check "no-cache daemon: SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# ---- 3. a cached file renamed (or linked) onto a canary name: flushed, then denied ----
OUT=$S/canary.jsonl
echo v >"$W/victim"
echo l >"$W/linked"
echo p >"$W/plain"
start_daemon --perm --allow-cache --deny-on-alert --mount "$W" --canary "$W/canary*" || finish
for f in victim linked plain; do
	cache "$W/$f" || finish
	reads "$W/$f" || fail "third open of $f did not complete"
done
# Ordinary renames and writes change no decision: no flush.
mv "$W/plain" "$W/plain2"
echo more >>"$W/plain2"
waitrec events~RENAME path="$W/plain2" || fail "rename of plain not reported"
waitrec events~CLOSE_WRITE path="$W/plain2" || fail "write of plain2 not reported"
stats || finish
check "three files cached (cache_marks=3, got '$(stat_of cache_marks)')" \
	[ "$(stat_of cache_marks)" = 3 ]
check "ordinary rename and write: no flush (cache_flushes=0, got '$(stat_of cache_flushes)')" \
	[ "$(stat_of cache_flushes)" = 0 ]
mv "$W/victim" "$W/canary-victim"
# The flush comes before the record of the rename that caused it: after the alert, the
# next open is asked (before it, an open may still be answered by the kernel).
check "rename onto a canary name: alert 'canary renamed'" \
	waitrec type=alert kind=canary path="$W/canary-victim" reason="canary renamed"
stats || finish
check "the rename flushed the cache (cache_flushes>=1, got '$(stat_of cache_flushes)')" \
	[ "$(stat_of cache_flushes)" -ge 1 ]
rc=0
timeout 5 cat "$W/canary-victim" >/dev/null 2>"$S/cat.err" || rc=$?
check "the cached file, now a canary, is denied on its next open (status 1, got $rc)" [ "$rc" = 1 ]
check "... with EPERM" grep -q "Operation not permitted" "$S/cat.err"
check "... recorded deny, reason 'canary opened'" waitrec type=event events~OPEN_PERM \
	path="$W/canary-victim" decision=deny reason="canary opened"
FLUSHES=$(stat_of cache_flushes)
ln "$W/linked" "$W/canary-link"
check "hard link onto a canary name: alert" waitrec type=alert kind=canary path="$W/canary-link"
stats || finish
check "the link flushed again (cache_flushes $FLUSHES -> '$(stat_of cache_flushes)')" \
	[ "$(stat_of cache_flushes)" -gt "$FLUSHES" ]
rc=0
timeout 5 cat "$W/canary-link" >/dev/null 2>/dev/null || rc=$?
check "the linked canary is denied (status 1, got $rc)" [ "$rc" = 1 ]
check "... recorded deny" waitrec events~OPEN_PERM path="$W/canary-link" decision=deny \
	reason="canary opened"
psentinel || finish
for f in victim linked plain; do
	check "$f was cached: three opens, two allow records" \
		[ "$(count events~OPEN_PERM decision=allow path="$W/$f")" = 2 ]
done
stop_daemon
check "canary daemon: SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# ---- 3b. a directory moved under a canary pattern: its cached files are asked again ----
OUT=$S/dirmove.jsonl
mkdir -p "$W/tmpd"
echo f >"$W/tmpd/f"
start_daemon --perm --allow-cache --deny-on-alert --mount "$W" --canary "$W/secret/*" || finish
cache "$W/tmpd/f" || finish
stats || finish
check "tmpd/f cached (cache_marks=1, got '$(stat_of cache_marks)')" [ "$(stat_of cache_marks)" = 1 ]
mv "$W/tmpd" "$W/secret"
check "the directory rename is reported" waitrec events~RENAME path="$W/secret" is_dir=true
stats || finish
check "the directory rename flushed the cache (got '$(stat_of cache_flushes)')" \
	[ "$(stat_of cache_flushes)" -ge 1 ]
rc=0
timeout 5 cat "$W/secret/f" >/dev/null 2>/dev/null || rc=$?
check "the file, now under the canary pattern, is denied (status 1, got $rc)" [ "$rc" = 1 ]
check "... recorded deny" waitrec events~OPEN_PERM path="$W/secret/f" decision=deny \
	reason="canary opened"
stop_daemon
check "dirmove daemon: SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# ---- 3c. without --deny-on-alert a canary is never cached: every open alerts ----
OUT=$S/alertonly.jsonl
echo c >"$W/canary-plain"
start_daemon --perm --allow-cache --mount "$W" --canary "$W/canary-plain" \
	--hook-cooldown-ms 0 || finish
for i in 1 2 3; do reads "$W/canary-plain" || fail "open $i of the canary did not complete"; done
psentinel || finish
check "canary opened 3 times: 3 allow records" \
	[ "$(count events~OPEN_PERM path="$W/canary-plain" decision=allow)" = 3 ]
check "... and 3 alerts" \
	[ "$(count type=alert kind=canary path="$W/canary-plain" reason="canary opened")" = 3 ]
stats || finish
check "the canary got no mark (cache_marks=0, got '$(stat_of cache_marks)')" \
	[ "$(stat_of cache_marks)" = 0 ]
stop_daemon
check "alert-only daemon: SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# ---- 4. containment: flush when it starts, no marks while it lasts ----
OUT=$S/contain.jsonl
mkdir -p "$W/c"
echo mine >"$W/c/mine"
echo other >"$W/c/other"
start_daemon --perm --allow-cache --deny-on-alert --mount "$W" --burst-threshold 5 \
	--burst-window-ms 10000 --quarantine-ms 20000 || finish
# One process: opens mine three times (cached after the second: two records), writes 20
# new files (its burst), waits for its burst alert, then opens mine again.
timeout 30 python3 - "$W/c" "$OUT" "$S/pid.burst" >"$S/burst.out" <<'PY'
import json, os, sys, time
d, out = sys.argv[1], sys.argv[2]
me = os.getpid()
open(sys.argv[3], "w").write("%d\n" % me)
mine = d + "/mine"
def wait(pred, n=1):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if sum(1 for l in open(out, "rb") if pred(json.loads(l))) >= n:
            return True
        time.sleep(0.01)
    return False
def my_open(r):
    return r.get("pid") == me and r.get("path") == mine and "OPEN_PERM" in r.get("events", "")
for n in (1, 2):
    os.close(os.open(mine, os.O_RDONLY))
    wait(my_open, n)
os.close(os.open(mine, os.O_RDONLY))
written = 0
for i in range(20):
    try:
        with open("%s/w%d" % (d, i), "w") as f:
            f.write("x")
        written += 1
    except PermissionError:
        pass
alerted = wait(lambda r: r.get("type") == "alert" and r.get("kind") == "burst" and
               r.get("pid") == me)
try:
    os.close(os.open(mine, os.O_RDONLY))
    again = "allowed"
except PermissionError:
    again = "EPERM"
print(written, alerted, again)
PY
BURST=$(cat "$S/pid.burst")
read -r NW ALERTED AGAIN <"$S/burst.out"
check "burst: alert of the process" [ "${ALERTED:-}" = True ]
check "burst: the process was stopped before its 20 files (wrote ${NW:-?})" [ "${NW:-20}" -lt 20 ]
check "burst: its re-open of a file it had cached is denied (got '${AGAIN:-}')" \
	[ "${AGAIN:-}" = EPERM ]
check "... recorded deny, reason 'quarantined after burst'" waitrec events~OPEN_PERM \
	path="$W/c/mine" pid="$BURST" decision=deny reason="quarantined after burst"
check "... and 'mine' was cached before: two allow records for three opens" \
	[ "$(count events~OPEN_PERM path="$W/c/mine" pid="$BURST" decision=allow)" = 2 ]
stats || finish
check "containment flushed the cache (cache_flushes>=1, got '$(stat_of cache_flushes)')" \
	[ "$(stat_of cache_flushes)" -ge 1 ]
MARKS=$(stat_of cache_marks)
# Another process, not contained: allowed, but while the containment lasts nothing is
# cached, so each of its opens is asked and recorded.
for i in 1 2 3; do reads "$W/c/other" || fail "open $i of other did not complete"; done
check "during containment: another process's 3 opens of a file are 3 allow records" \
	waitrec events~OPEN_PERM path="$W/c/other" decision=allow
psentinel || finish
check "... exactly 3" [ "$(count events~OPEN_PERM path="$W/c/other" decision=allow)" = 3 ]
stats || finish
check "no mark added while contained (cache_marks $MARKS -> '$(stat_of cache_marks)')" \
	[ "$(stat_of cache_marks)" = "$MARKS" ]
stop_daemon
check "containment daemon: SIGTERM exits 0" [ "$DSTATUS" = 0 ]

# ---- 5. --spin-us ----
OUT=$S/spin0.jsonl
start_daemon --perm --mount "$W" --spin-us 0 || finish
opens() {
	timeout 30 python3 - "$1" <<'PY'
import os, sys
for _ in range(500):
    os.close(os.open(sys.argv[1], os.O_RDONLY))
PY
}
check "--spin-us 0: 500 opens complete" opens "$W/a"
stats || finish
check "--spin-us 0: every open answered (perm_answered>=500, got '$(stat_of perm_answered)')" \
	[ "$(stat_of perm_answered)" -ge 500 ]
check "--spin-us 0: spins=0 (got '$(stat_of spins)')" [ "$(stat_of spins)" = 0 ]
check "--spin-us 0: spin_hits=0 (got '$(stat_of spin_hits)')" [ "$(stat_of spin_hits)" = 0 ]
stop_daemon
check "spin 0 daemon: SIGTERM exits 0" [ "$DSTATUS" = 0 ]
# The same load with the default spin_us does spin (the daemon spins only with 2+ CPUs).
if [ "$(nproc)" -ge 2 ]; then
	OUT=$S/spin.jsonl
	start_daemon --perm --mount "$W" || finish
	check "default spin_us: 500 opens complete" opens "$W/a"
	stats || finish
	check "default spin_us: spins>0 (got '$(stat_of spins)')" [ "$(stat_of spins)" -gt 0 ]
	stop_daemon
else
	echo "# one CPU: the daemon never spins; spins>0 not checked"
fi

# refused DESC WORD ARGS...: exit 2, WORD on stderr, no pid file.
refused() {
	local what=$1 word=$2; shift 2
	run --foreground --output "$S/refused.jsonl" --pid-file "$PIDF" "$@"
	check "$what: exit 2 (got $RC; stderr: $(head -c 200 "$ERR" | tr '\n' ' '))" [ "$RC" = 2 ]
	check "$what: names $word" grep -qF -- "$word" "$ERR"
	check "$what: no pid file" [ ! -e "$PIDF" ]
}
refused "--allow-cache without --perm" allow_cache --allow-cache --mount "$W"
refused "--allow-cache with --no-fid" allow_cache --perm --no-fid --allow-cache --mount "$W"
refused "--allow-cache with --watch" allow_cache --perm --allow-cache --watch "$W"
check "--allow-cache with --watch: names the path" grep -qF -- "--watch $W" "$ERR"
refused "--allow-cache with --mount and a --watch" allow_cache --perm --allow-cache \
	--mount "$W" --watch "$W/d"
printf 'mount %s\nallow_cache 1\n' "$W" >"$S/nocache.conf"
refused "config allow_cache 1 without perm" allow_cache -c "$S/nocache.conf"
refused "--spin-us 1001" --spin-us --perm --mount "$W" --spin-us 1001
check "--spin-us 1001: says the range" grep -qF "0-1000" "$ERR"
refused "--spin-us abc" --spin-us --perm --mount "$W" --spin-us abc
printf 'mount %s\nperm 1\nspin_us 1001\n' "$W" >"$S/spin.conf"
refused "config spin_us 1001" "$S/spin.conf:3:" -c "$S/spin.conf"
check "no refused start wrote a record" [ ! -s "$S/refused.jsonl" ]

# Accepted: the effective settings show both keys.
run --check-config --foreground --mount "$W"
check "--check-config: default allow_cache 0" grep -qx "allow_cache 0" "$S/stdout"
check "--check-config: default spin_us 50" grep -qx "spin_us 50" "$S/stdout"
printf 'mount %s\nforeground 1\nperm 1\nallow_cache 1\nspin_us 0\n' "$W" >"$S/ok.conf"
run --check-config -c "$S/ok.conf"
check "--check-config of 'allow_cache 1', 'spin_us 0': exit 0 (got $RC)" [ "$RC" = 0 ]
check "... allow_cache 1" grep -qx "allow_cache 1" "$S/stdout"
check "... spin_us 0" grep -qx "spin_us 0" "$S/stdout"
finish
