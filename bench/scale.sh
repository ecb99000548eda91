#!/bin/bash
# bench/scale.sh - how fanotifyd's start-up, memory and per-event cost grow with the policy
# (issue 13): configurations of SCALE_JOBS job blocks (default 10 100 1000), each with 4 roots
# (rootfs, workspace, export, cache under a private tmpfs), and SCALE_CANARIES canaries (default
# 10,000: half exact paths, half globs, spread over the jobs, none matching a workload file).
# Per size, --perm -c CONFIG --mount TMPFS, interleaved with a run without a listener and one
# of plain --perm (no configuration, the floor):
#   start-up  launch to the pid file (written once the marks are in place: readiness), and
#             launch to the start record's ts_ms
#   RSS       VmRSS right after start-up and after the workload (VmHWM too)
#   per event the openclose workload (SCALE_N files in job j0's workspace, so every event is
#             tagged) against none in the same repetition
# Prints a Markdown section (bench/run.sh appends it to its report; alone: sudo bench/scale.sh).
#   environment: FANOTIFYD (default ./fanotifyd), WORK (bench/build/work, compiled if missing),
#   SCALE_JOBS, SCALE_CANARIES, SCALE_N (default 50000), SCALE_REPS (default 3)
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
FAN=${FANOTIFYD:-$ROOT/fanotifyd}
WORK=${WORK:-$HERE/build/work}
JOBS_LIST=${SCALE_JOBS:-10 100 1000}
CANARIES=${SCALE_CANARIES:-10000}
N=${SCALE_N:-50000}
REPS=${SCALE_REPS:-3}
PYTHON=$(command -v /usr/bin/python3 || command -v python3)
if [ -z "${SCALE_INNER:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "scale bench: needs root (fanotify, tmpfs)" >&2; exit 1; }
	if [ ! -x "$WORK" ]; then
		mkdir -p "$HERE/build" && cc -O2 -Wall -Wextra -Werror -o "$WORK" "$HERE/work.c" || exit 1
	fi
	export SCALE_INNER=1 FANOTIFYD=$FAN WORK SCALE_JOBS="$JOBS_LIST" SCALE_CANARIES=$CANARIES \
		SCALE_N=$N SCALE_REPS=$REPS
	exec unshare -m --propagation private bash "${BASH_SOURCE[0]}"
fi
B=$(mktemp -d /tmp/fanotifyd-scale-bench.XXXXXX)
S=$B/s
O=$B/o
mkdir -p "$S" "$O"
mount -t tmpfs -o size=1g,mode=0755 fanotifyd-scale "$S" || exit 1
mount -t tmpfs -o size=1g,mode=0755 fanotifyd-scale-out "$O" || exit 1
LPID=
cleanup() {
	[ -n "$LPID" ] && kill -TERM "$LPID" 2>/dev/null && wait "$LPID" 2>/dev/null
	umount -l "$S" "$O" 2>/dev/null
	rm -rf "$B"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
RAW=$B/raw
: >"$RAW"

# The largest size's roots, made once; smaller configurations use a prefix of them.
MAXJ=0
for j in $JOBS_LIST; do [ "$j" -gt "$MAXJ" ] && MAXJ=$j; done
for j in $(seq 0 $((MAXJ - 1))); do
	mkdir -p "$S/jobs/j$j/root/etc" "$S/jobs/j$j/ws" "$S/jobs/j$j/export" "$S/jobs/j$j/cache"
done
mkdir -p "$S/jobs/j0/ws/oc"
"$WORK" setup-openclose "$S/jobs/j0/ws/oc" "$N" || exit 1

# config JOBS NCANARIES: the policy file on stdout
config() {
	local jobs=$1 nc=$2 i j
	echo "deny_on_alert 1"
	for i in $(seq 0 $((nc - 1))); do
		j=$((i % jobs))
		if [ $((i % 2)) = 0 ]; then
			echo "canary $S/jobs/j$j/root/etc/shadow-canary-$i"
		else
			echo "canary $S/jobs/j$j/ws/*/decoy-$i-*.docx"
		fi
	done
	for j in $(seq 0 $((jobs - 1))); do
		printf 'job j%d\nrootfs %s\nworkspace %s\nexport %s\ncache %s\n' "$j" \
			"$S/jobs/j$j/root" "$S/jobs/j$j/ws" "$S/jobs/j$j/export" "$S/jobs/j$j/cache"
	done
}

# The canaries the daemon accepts: SCALE_CANARIES, or its limit if that is lower (the
# refusal is reported, not hidden).
NOTE=
NC=$CANARIES
config "$MAXJ" "$NC" >"$B/try.conf"
if ! msg=$("$FAN" --check-config --foreground --perm -c "$B/try.conf" --mount "$S" 2>&1 >/dev/null); then
	lim=$(echo "$msg" | sed -n 's/.*too many canaries (at most \([0-9]*\)).*/\1/p')
	if [ -z "$lim" ]; then
		echo "scale bench: the $MAXJ-job configuration is refused: $msg" >&2
		exit 1
	fi
	NOTE="$CANARIES canaries are refused (\`$(echo "$msg" | head -1 | sed 's/^.*:[0-9]*: //')\`): measured with $lim"
	NC=$lim
fi
for j in $JOBS_LIST; do
	config "$j" "$NC" >"$B/j$j.conf"
	"$FAN" --check-config --foreground --perm -c "$B/j$j.conf" --mount "$S" >/dev/null 2>"$B/err" ||
		{ echo "scale bench: $j jobs refused: $(cat "$B/err")" >&2; exit 1; }
done

now_ms() { local t=$EPOCHREALTIME; echo $(( ${t%.*} * 1000 + 10#${t#*.} / 1000 )); }
status_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" /proc/"$1"/status; }

# one JOBS REP: a measured run of the daemon with JOBS job blocks (JOBS=0: no listener)
one() {
	local jobs=$1 rep=$2 out t0 t_ready t_start rss0="" rss1="" hwm="" cpu="" i
	rm -f "$O/"* "$S/jobs/j0/ws/.sentinel-"*
	if [ "$jobs" = 0 ]; then
		unset WORK_SENTINEL
		out=$("$WORK" openclose "$S/jobs/j0/ws/oc" "$N") || return 1
		echo "none $rep $(echo "$out" | sed -n 's/.*time_s=\([0-9.]*\).*/\1/p')" >>"$RAW"
		return 0
	fi
	local cfg=(-c "$B/j$jobs.conf")
	[ "$jobs" = plain ] && cfg=()
	t0=$(now_ms)
	timeout -s KILL 600 "$FAN" --foreground --perm "${cfg[@]}" --mount "$S" \
		--output "$O/out.jsonl" --pid-file "$O/pid" 2>"$O/err" &
	LPID=$!
	for i in $(seq 1 30000); do
		[ -s "$O/pid" ] && break
		kill -0 "$LPID" 2>/dev/null || break
		sleep 0.001
	done
	t_ready=$(now_ms)
	[ -s "$O/pid" ] || { echo "scale bench: $jobs jobs did not start: $(cat "$O/err")" >&2; return 1; }
	# the pid is timeout's child: the daemon
	local dpid
	dpid=$(cat "$O/pid")
	rss0=$(status_kb "$dpid" VmRSS)
	export WORK_SENTINEL=$S/jobs/j0/ws/.sentinel-$jobs-$rep
	out=$("$WORK" openclose "$S/jobs/j0/ws/oc" "$N") || return 1
	"$PYTHON" "$HERE/analyze.py" waitfor "$O/out.jsonl" "$WORK_SENTINEL" CLOSE_WRITE CREATE \
		--timeout 60 >/dev/null || echo "scale bench: $jobs jobs: the sentinel never arrived" >&2
	rss1=$(status_kb "$dpid" VmRSS)
	# Read now: the start record may still be in the output buffer when the pid file appears.
	t_start=$(sed -n '1s/.*"type":"start".*"ts_ms":\([0-9]*\).*/\1/p' "$O/out.jsonl")
	hwm=$(status_kb "$dpid" VmHWM)
	cpu=$("$PYTHON" "$HERE/analyze.py" procstat "$dpid" | sed -n 's/^cpu_s=\([0-9.]*\).*/\1/p')
	kill -TERM "$LPID"
	wait "$LPID"
	LPID=
	echo "$jobs $rep $(echo "$out" | sed -n 's/.*time_s=\([0-9.]*\).*/\1/p') $((t_ready - t0)) $((${t_start:-0} ? t_start - t0 : -1)) $rss0 $rss1 $hwm $cpu" >>"$RAW"
}

for rep in $(seq 1 "$REPS"); do
	one 0 "$rep" || exit 1
	for j in plain $JOBS_LIST; do one "$j" "$rep" || exit 1; done
done

echo
echo "## Scale: job blocks and canaries (bench/scale.sh)"
echo
echo "Generated by \`bench/scale.sh\` ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, kernel $(uname -r),"
echo "commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)): \`--perm -c CONFIG --mount TMPFS\` (deny_on_alert 1),"
echo "CONFIG = J job blocks of 4 roots (rootfs, workspace, export, cache) and $NC canaries"
echo "(half exact paths, half globs, spread over the jobs); workload openclose of $N files in job"
echo "j0's workspace; medians of $REPS interleaved repetitions (none, then each size).${NOTE:+ $NOTE.}"
echo
"$PYTHON" - "$RAW" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
none = statistics.median(float(r[2]) for r in rows if r[0] == "none")
sizes = []
for r in rows:
    if r[0] not in ("none", "plain") and int(r[0]) not in sizes:
        sizes.append(int(r[0]))
print("| jobs (roots) | start-up: pid file ms | start-up: start record ms | RSS after start KiB "
      "| RSS after workload KiB | VmHWM KiB | openclose s | × none | daemon CPU s |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
def m(rs, i, f=float):
    return statistics.median(f(r[i]) for r in rs)
for j in ["plain"] + sorted(sizes):
    rs = [r for r in rows if r[0] == str(j)]
    t = m(rs, 2)
    print("| %s (%s) | %.0f | %.0f | %.0f | %.0f | %.0f | %.3f | %.2f× | %.2f |" % (
        "0, plain --perm, no config" if j == "plain" else j, 0 if j == "plain" else 4 * j, m(rs, 3), m(rs, 4), m(rs, 5), m(rs, 6), m(rs, 7), t, t / none, m(rs, 8)))
print()
print("no listener: openclose %.3f s (median); every repetition (s): %s" % (
    none, "; ".join("%s %s" % (r[0] if r[0] in ("none", "plain") else r[0] + " jobs", r[2]) for r in rows)))
PY
