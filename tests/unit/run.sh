#!/bin/sh
# Runs each cmocka unit test binary and prints one summary line for all of them.
pass=0 fail=0
for t in "$@"; do
	if out=$("$t" 2>&1); then
		status=ok
	else
		status=failed
	fi
	printf '%s\n' "$out" | grep -E '^\[  (FAILED|ERROR)|^\[  PASSED|^\[==========\]' >/dev/null
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	if [ "$status" = failed ]; then
		printf '%s\n' "$out"
		[ -z "$f" ] && fail=$((fail + 1))
	fi
	echo "$(basename "$t"): $status (${p:-0} passed, ${f:-0} failed)"
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
