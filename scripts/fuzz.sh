#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each (default 60) with ASan+UBSan, starting from its seed
# corpus tests/fuzz/corpus/NAME; the inputs it finds go to build-fuzz/corpus-NAME (merge the
# interesting ones into the seeds with MERGE=1). Uses its own build directory, build-fuzz (clang,
# -Dfuzz=true, libraries instrumented for coverage), built at low priority. A crash leaves its
# input as build-fuzz/crash-NAME-*: fix it, then copy the input into the seed corpus (the normal
# test suite replays every seed: tests/fuzz/meson.build).
#
#   scripts/fuzz.sh            # 60 s per target
#   scripts/fuzz.sh 600 wire   # 10 min, one target (wire, rpc_reply, tx, toml)
#   MERGE=1 scripts/fuzz.sh 0  # add what earlier runs found that widens coverage to the seeds
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(wire rpc_reply tx toml)
case "$seconds" in '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2 ;; esac
build="$here/build-fuzz"
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not installed (scripts/setup.sh installs clang)" >&2; exit 1; }

if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ meson setup "$build" "$here" -Dfuzz=true -Dtests=true -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false -Dcpp_args=-fsanitize=fuzzer-no-link
fi
nice -n 19 ninja -C "$build" "${targets[@]/#/tests/fuzz/fuzz_}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
rc=0
for t in "${targets[@]}"; do
  seeds="$here/tests/fuzz/corpus/$t"
  found="$build/corpus-$t"
  mkdir -p "$found"
  if [ "${MERGE:-0}" = 1 ]; then
    "$build/tests/fuzz/fuzz_$t" -merge=1 "$seeds" "$found" 2>"$build/merge-$t.log" || rc=1
    echo "merged into $seeds: $(find "$seeds" -type f | wc -l) files"
    continue
  fi
  echo "== fuzz $t for ${seconds}s (seeds $(find "$seeds" -type f | wc -l), found so far $(find "$found" -type f | wc -l))"
  # One job: the machine is shared. New inputs go to the first directory; -max_len keeps inputs
  # near real message sizes.
  if ! nice -n 19 "$build/tests/fuzz/fuzz_$t" "$found" "$seeds" -max_total_time="$seconds" -max_len=65536 \
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/crash-$t-" 2>"$build/fuzz-$t.log"; then
    echo "fuzz $t: FAILED — see $build/fuzz-$t.log and $build/crash-$t-*"
    tail -n 40 "$build/fuzz-$t.log"
    rc=1
  else
    grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$build/fuzz-$t.log" | sed "s/^/  $t: /"
  fi
done
exit $rc
