#!/bin/bash
# Runs every tests/integration/t*.sh (or the files given as arguments) in a private mount
# namespace and prints the summary line "integration: N passed, N failed, N skipped".
# Skips cleanly (exit 0) only where privilege or fanotify is missing.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
: "${FANOTIFYD:?FANOTIFYD must name the binary}"
export FANOTIFYD
export PROBE=${PROBE:-$HERE/../../build/probe}

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: integration tests need root (CAP_SYS_ADMIN for fanotify, mounts for tmpfs)"
	echo "integration: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
mkdir -p "$(dirname "$PROBE")"
cc -O2 -o "$PROBE" "$HERE/probe.c" || { echo "cannot build the probe"; exit 1; }
rc=0
"$PROBE" || rc=$?
case $rc in
0) ;;
77) echo "SKIP: fanotify needs CAP_SYS_ADMIN"; echo "integration: 0 passed, 0 failed, 1 skipped"; exit 0 ;;
78) echo "SKIP: kernel without fanotify"; echo "integration: 0 passed, 0 failed, 1 skipped"; exit 0 ;;
*) echo "fanotify probe failed (status $rc)"; exit 1 ;;
esac

# Resolve python3 once: a version-manager shim (pyenv) costs a second per call.
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || {
	echo "python3 is needed by the integration tests (make deps installs it)"; exit 1; }
PATH=$(dirname "$PY"):$PATH
export PATH

pass=0 failn=0 skipn=0
# Arguments: test files to run (default: all of them).
[ $# -gt 0 ] || set -- "$HERE"/t[0-9]*.sh
for t in "$@"; do
	[ -n "${ONLY:-}" ] && case $(basename "$t") in *"$ONLY"*) ;; *) continue ;; esac
	out=$(TEST_NAME=$(basename "$t" .sh) unshare --mount --propagation private \
		timeout -s KILL 300 bash "$t" 2>&1)
	status=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | grep -c '^ok - ')
	f=$(printf '%s\n' "$out" | grep -c '^not ok - ')
	s=$(printf '%s\n' "$out" | grep -c '^SKIP: ')
	if [ "$status" != 0 ] && [ "$f" = 0 ]; then
		echo "not ok - $(basename "$t" .sh): exited with status $status"
		f=1
	fi
	pass=$((pass + p)); failn=$((failn + f)); skipn=$((skipn + s))
done
echo "integration: $pass passed, $failn failed, $skipn skipped"
[ "$failn" = 0 ]
