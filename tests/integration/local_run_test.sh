#!/usr/bin/env bash
# scripts/local-run.sh, the README's main command, end to end (5 s instead of 30 s): the run
# completes, the summary is printed, and nothing it started is left running.
set -uo pipefail
src=${1:?usage: local_run_test.sh SOURCE_ROOT BUILD_ROOT}
build=${2:?usage: local_run_test.sh SOURCE_ROOT BUILD_ROOT}
runs=$(mktemp -d "${TMPDIR:-/tmp}/bts-local-run-test.XXXXXX")
trap 'rm -rf "$runs"' EXIT
out=$(BUILD="$build" BTS_RUNS_DIR="$runs" LOCAL_RUN_NO_BUILD=1 "$src/scripts/local-run.sh" --duration 5s 2>&1)
rc=$?
echo "$out"
[ "$rc" -eq 0 ] || { echo "FAIL: local-run.sh exited $rc"; exit 1; }
for want in "on 3 beacon(s)" "target   achieved" ": completed" "included   " "HTML report: " "--format html"; do
  grep -qF -- "$want" <<<"$out" || { echo "FAIL: output lacks \"$want\""; exit 1; }
done
work=$(sed -n 's/^local-run: run directory //p' <<<"$out")
[ -n "$work" ] || { echo "FAIL: no run directory printed"; exit 1; }
# Every program it started had the work directory on its command line.
if pgrep -f -- "$work" >/dev/null; then
  echo "FAIL: processes left running:"; pgrep -af -- "$work"; exit 1
fi
# The run stays inspectable: its store, logs and HTML report are kept; no secret key is.
for f in collector.sqlite report.html broker.log beacon-1.log; do
  [ -s "$work/$f" ] || { echo "FAIL: $work/$f missing"; exit 1; }
done
if grep -rl "secret" "$work" --include='*.key_secret' >/dev/null 2>&1 || ls "$work" | grep -q key_secret; then
  echo "FAIL: a CURVE secret key was left in $work"; exit 1
fi
# The numbers add up in the store: sent = accepted + rejected + unknown, accepted = included +
# expired + pending (the run's beacons, from the collector's own tables).
sums=$(sqlite3 "$work/collector.sqlite" "SELECT sum(sent), sum(accepted), sum(rejected), sum(unknown_outcome),
  sum(included_txs), sum(expired_unincluded), sum(pending_at_cutoff) FROM run_beacons")
IFS='|' read -r sent acc rej unk inc exp pend <<<"$sums"
[ "$sent" -eq $((acc + rej + unk)) ] || { echo "FAIL: store: sent $sent != $acc + $rej + $unk"; exit 1; }
[ "$acc" -eq $((inc + exp + pend)) ] || { echo "FAIL: store: accepted $acc != $inc + $exp + $pend"; exit 1; }
[ "$sent" -eq 150 ] || { echo "FAIL: store: sent $sent, the scenario says 30/s x 5 s = 150"; exit 1; }
echo "local-run: ok"
