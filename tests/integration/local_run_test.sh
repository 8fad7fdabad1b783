#!/usr/bin/env bash
# scripts/local-run.sh, the README's main command, end to end (5 s instead of 30 s): the run
# completes, the summary is printed, and nothing it started is left running.
set -uo pipefail
src=${1:?usage: local_run_test.sh SOURCE_ROOT BUILD_ROOT}
build=${2:?usage: local_run_test.sh SOURCE_ROOT BUILD_ROOT}
out=$(BUILD="$build" LOCAL_RUN_NO_BUILD=1 "$src/scripts/local-run.sh" --duration 5s 2>&1)
rc=$?
echo "$out"
[ "$rc" -eq 0 ] || { echo "FAIL: local-run.sh exited $rc"; exit 1; }
for want in "on 3 beacon(s)" "target   achieved" ": completed" "latency    p50"; do
  grep -qF -- "$want" <<<"$out" || { echo "FAIL: output lacks \"$want\""; exit 1; }
done
work=$(sed -n 's/^local-run: work directory //p' <<<"$out")
[ -n "$work" ] || { echo "FAIL: no work directory printed"; exit 1; }
# Every program it started had the work directory on its command line.
if pgrep -f -- "$work" >/dev/null; then
  echo "FAIL: processes left running:"; pgrep -af -- "$work"; exit 1
fi
[ ! -e "$work" ] || { echo "FAIL: $work not removed"; exit 1; }
echo "local-run: ok"
