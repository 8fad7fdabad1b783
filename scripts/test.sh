#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite. This is what CI runs.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/build"
"$here/scripts/setup.sh" "$build"
ninja -C "$build"
# 2 cores: tests that start several processes each are not run more than 2 at a time.
set +e
meson test -C "$build" --print-errorlogs --num-processes 2 "$@"
rc=$?
set -e
log="$build/meson-logs/testlog.json"
if [ -f "$log" ]; then
  python3 - "$log" <<'PY'
import json, sys
ok = fail = skip = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["result"] in ("OK", "EXPECTEDFAIL"): ok += 1
    elif r["result"] == "SKIP": skip += 1
    else: fail += 1
print(f"tests: {ok} passed, {fail} failed, {skip} skipped")
PY
fi
exit $rc
