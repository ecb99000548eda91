#!/bin/sh
# Runs the libFuzzer targets built in BUILD (make fuzz, make fuzz-regress).
#
#   run.sh regress BUILD TARGET...  replay tests/fuzz/corpus/TARGET and tests/fuzz/regress/TARGET
#   run.sh fuzz BUILD TARGET...     fuzz each target FUZZ_SECONDS (default 30), one at a time,
#                                   on a scratch copy of both; the committed corpus never grows
#
# One line per target; a failure prints the fuzzer's log and where the crash input went.
# Exit 0 only when no target failed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
case ${1:-} in
regress | fuzz) ;;
*)
	echo "usage: run.sh regress|fuzz BUILD TARGET..." >&2
	exit 2
	;;
esac
mode=$1 build=$2
shift 2
seconds=${FUZZ_SECONDS:-30}
# Replays take inputs whole; fuzzing makes them up to 8 KiB: past CONFIG_LINE_MAX (4096),
# and several fanotify events.
opts="-timeout=10 -rss_limit_mb=2048"
failed=0

# Prints the committed inputs of target $1, one path a line (dotfiles such as .gitkeep skipped).
inputs() {
	find "$HERE/corpus/$1" "$HERE/regress/$1" -type f ! -name '.*' 2>/dev/null | sort
}

fail() {
	echo "fuzz_$1: FAILED ($2); log $3:"
	tail -n 80 "$3"
	failed=1
}

for t in "$@"; do
	bin=$build/fuzz_$t
	log=$build/fuzz_$t.$mode.log
	art=$build/artifacts/$t
	mkdir -p "$art"
	case $mode in
	regress)
		n=$(inputs "$t" | wc -l)
		if [ "$n" -eq 0 ]; then
			echo "fuzz_$t: no committed inputs"
			continue
		fi
		# Given files rather than directories, libFuzzer runs each once and stops.
		# shellcheck disable=SC2046,SC2086
		if "$bin" $opts -artifact_prefix="$art/" $(inputs "$t") >"$log" 2>&1; then
			echo "fuzz_$t: $n committed inputs replayed, ok"
		else
			fail "$t" "a committed input fails" "$log"
		fi
		;;
	fuzz)
		work=$build/work/$t
		rm -rf "$work"
		mkdir -p "$work"
		inputs "$t" | while read -r f; do cp "$f" "$work/"; done
		# shellcheck disable=SC2086
		if "$bin" $opts -max_len=8192 -max_total_time="$seconds" -print_final_stats=1 \
			-artifact_prefix="$art/" "$work" >"$log" 2>&1; then
			runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
			rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
			cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
			echo "fuzz_$t: ok, ${seconds}s, ${runs:-?} runs, ${rate:-?} exec/s, $cov"
		else
			fail "$t" "crash input in $art/" "$log"
			echo "to keep it as a regression test: copy it to tests/fuzz/regress/$t/,"
			echo "fix the bug and add a unit case for it (see README, Tests)"
		fi
		;;
	esac
done
exit "$failed"
