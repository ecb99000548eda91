#!/bin/bash
# bench/replay.sh - fanotifyd --replay throughput (issue 12: goal >= 1,000,000 events/s).
# Records a real workload with the daemon once (--perm --mount on a private tmpfs: tar -xf of
# a tree, every file rewritten, read and removed), repeats that stream to >= N_REPLAY event
# records (seq, ts_ms and pids shifted per copy, so windows, cooldowns and processes stay
# those of the recording), then times --replay over it with the bench's policy (canaries,
# bursts, deny-on-alert, a job), without any policy rule, gzipped, and prints a Markdown
# section (bench/run.sh appends it to its report; alone: sudo bench/replay.sh).
#   environment: FANOTIFYD (default ./fanotifyd), N_REPLAY (default 1000000), REPLAY_REPS (3),
#   REPLAY_KEEP=DIR: the recording, the repeated stream and the policy are kept in DIR, and a
#   later run with the same DIR times them again instead of recording anew (A/B of binaries)
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
FAN=${FANOTIFYD:-$ROOT/fanotifyd}
N_REPLAY=${N_REPLAY:-1000000}
REPS=${REPLAY_REPS:-3}
PYTHON=$(command -v /usr/bin/python3 || command -v python3)
if [ -z "${REPLAY_INNER:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "replay bench: needs root (the recording)" >&2; exit 1; }
	export REPLAY_INNER=1 FANOTIFYD=$FAN N_REPLAY REPLAY_REPS=$REPS REPLAY_KEEP=${REPLAY_KEEP:-}
	exec unshare -m --propagation private bash "${BASH_SOURCE[0]}"
fi
B=$(mktemp -d /tmp/fanotifyd-replay-bench.XXXXXX)
W=$B/w
mkdir -p "$W" "$B/o"
mount -t tmpfs -o size=512m fanotifyd-rb "$W" || exit 1
mount -t tmpfs -o size=2g fanotifyd-ro "$B/o" || exit 1
LPID=
cleanup() {
	[ -n "$LPID" ] && kill -TERM "$LPID" 2>/dev/null && wait "$LPID" 2>/dev/null
	umount -l "$W" "$B/o" 2>/dev/null
	rm -rf "$B"
}
trap cleanup EXIT
KEEP=${REPLAY_KEEP:-}
if [ -n "$KEEP" ] && [ -s "$KEEP/big.jsonl" ] && [ -s "$KEEP/live.jsonl" ] && [ -s "$KEEP/policy.conf" ]; then
	cp "$KEEP/policy.conf" "$B/policy.conf"
	cp "$KEEP/live.jsonl" "$KEEP/big.jsonl" "$B/o/"
else
cat >"$B/policy.conf" <<EOF
perm 1
deny_on_alert 1
burst_threshold 32
burst_window_ms 1000
hook_cooldown_ms 5000
canary $W/tree/d07/canary*
canary $W/tree/d1*/f0042
hook logger -t fanotifyd-alert "\$FAN_KIND \$FAN_PATH"
job J
workspace $W/tree
cache $W/cache
EOF

# --- the recording: a real workload, once ---------------------------------------------------
mkdir -p "$B/src/tree" "$W/cache"
for d in $(seq -w 0 19); do
	mkdir -p "$B/src/tree/d$d"
	for f in $(seq -w 0 99); do echo "file $d $f" >"$B/src/tree/d$d/f00$f"; done
done
touch "$B/src/tree/d07/canary"
tar -cf "$B/tree.tar" -C "$B/src" tree
# Recorded without a rule that can deny (the workload runs whole); replayed with one: the
# question --replay answers.
"$FAN" --foreground --perm --mount "$W" --canary "$W/tree/d07/canary*" --output "$B/o/live.jsonl" \
	--pid-file "$B/pid" 2>"$B/err" &
LPID=$!
for _ in $(seq 1 500); do [ -s "$B/pid" ] && break; sleep 0.02; done
tar -xf "$B/tree.tar" -C "$W"
"$PYTHON" - "$W/tree" <<'PY'
import os, sys
for d in sorted(os.listdir(sys.argv[1])):
    for f in sorted(os.listdir(os.path.join(sys.argv[1], d))):
        p = os.path.join(sys.argv[1], d, f)
        try:
            data = open(p, "rb").read()
            with open(p, "wb") as fh:
                fh.write(data[::-1])
        except PermissionError:
            pass
PY
cat "$W"/tree/d1*/* >/dev/null 2>&1
rm -rf "$W/tree/d0"*
kill -TERM "$LPID"
wait "$LPID"
LPID=

# --- >= N_REPLAY events: the recording repeated ---------------------------------------------
"$PYTHON" - "$B/o/live.jsonl" "$B/o/big.jsonl" "$N_REPLAY" <<'PY'
import json, sys
src, dst, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(src, "rb").read().splitlines()
recs = [json.loads(l) for l in lines]
n_ev = sum(1 for r in recs if r.get("type") == "event")
seqs = [r["seq"] for r in recs if "seq" in r]
ts = [r["ts_ms"] for r in recs if "ts_ms" in r]
seq_span, ts_span = max(seqs), max(ts) - min(ts) + 2000
copies = -(-want // n_ev)
with open(dst, "w") as out:
    for k in range(copies):
        for r in recs:
            r = dict(r)
            if "seq" in r:
                r["seq"] += k * seq_span
            if "ts_ms" in r:
                r["ts_ms"] += k * ts_span
            for f in ("pid", "ppid"):
                if isinstance(r.get(f), int) and r[f] > 0:
                    r[f] = (r[f] + k * 7919) % 4000000 + 1
            out.write(json.dumps(r, separators=(",", ":"), ensure_ascii=False) + "\n")
print(copies * n_ev, copies, file=sys.stderr)
PY
if [ -n "$KEEP" ]; then
	mkdir -p "$KEEP" && cp "$B/policy.conf" "$B/o/live.jsonl" "$B/o/big.jsonl" "$KEEP/"
fi
fi
LIVE_EVENTS=$(grep -c '"type":"event"' "$B/o/live.jsonl")
EVENTS=$(grep -c '"type":"event"' "$B/o/big.jsonl")
BYTES=$(stat -c %s "$B/o/big.jsonl")
gzip -1 -c "$B/o/big.jsonl" >"$B/o/big.jsonl.gz"

# best and median wall time of REPS runs: "best median"
timed() {
	local t
	for _ in $(seq 1 "$REPS"); do
		t=$( { /usr/bin/env TIMEFORMAT=%R bash -c 'time "$@" >/dev/null 2>&1' _ "$@"; } 2>&1)
		echo "$t"
	done | sort -n | awk '{a[NR]=$1} END {print a[1], a[int((NR+1)/2)]}'
}
row() {
	local what=$1 t
	shift
	read -r best med <<<"$(timed "$@")"
	printf '| %s | %s | %s | %.0f | %.0f |\n' "$what" "$best" "$med" \
		"$(echo "$EVENTS / $best" | bc -l)" "$(echo "$EVENTS / $med" | bc -l)"
}
echo
echo "## Replay throughput (fanotifyd --replay)"
echo
echo "Generated by \`bench/replay.sh\` ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs,"
echo "commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)): a recording of $LIVE_EVENTS event records"
echo "(\`--perm --mount\`, tar -xf of 2,000 files, each rewritten, d1* read, d0* removed; recorded"
echo "without a rule that denies, replayed with policy.conf: canaries, burst 32, deny-on-alert, a job, a hook)"
echo "repeated to $EVENTS event records ($((BYTES >> 20)) MiB, $(grep -c . "$B/o/big.jsonl") lines), best and median of $REPS runs:"
echo
echo "| replay | best s | median s | events/s (best) | events/s (median) |"
echo "| --- | --- | --- | --- | --- |"
row "the recording's policy (\`-c policy.conf\`: canaries, burst 32, deny-on-alert, a job, a hook)" \
	"$FAN" --replay "$B/o/big.jsonl" -c "$B/policy.conf"
row "no rule (parse and read every record; policy_eval() finds nothing to do)" \
	"$FAN" --replay "$B/o/big.jsonl" --burst-threshold 0
row "the same policy, gzip input ($(($(stat -c %s "$B/o/big.jsonl.gz") >> 20)) MiB)" \
	"$FAN" --replay "$B/o/big.jsonl.gz" -c "$B/policy.conf"
row "\`--sweep burst_threshold=16,32,64\` (three replays of the events kept in memory)" \
	"$FAN" --replay "$B/o/big.jsonl" -c "$B/policy.conf" --sweep burst_threshold=16,32,64
