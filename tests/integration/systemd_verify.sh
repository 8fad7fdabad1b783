#!/usr/bin/env bash
# Every unit in systemd/ passes `systemd-analyze verify`, with each ExecStart program pointed at
# the built binary (verify checks that it exists and is executable), and has a `systemd-analyze
# security` exposure of at most 4.9 ("OK"; the check is skipped, saying why, where security cannot
# run). Skipped (exit 77) where systemd-analyze is not installed.
set -euo pipefail
src=${1:?usage: systemd_verify.sh SOURCE_ROOT BUILD_ROOT}
build=${2:?usage: systemd_verify.sh SOURCE_ROOT BUILD_ROOT}
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed: skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
units=("$src"/systemd/*.service)
((${#units[@]})) || { echo "no units in $src/systemd"; exit 1; }
for unit in "${units[@]}"; do
  name=$(basename "$unit")
  program=$(sed -n 's|^ExecStart=/usr/local/bin/\([^ ]*\).*|\1|p' "$unit")
  [ -n "$program" ] || { echo "$name: ExecStart does not run /usr/local/bin/<program>"; exit 1; }
  built=$(find "$build/src" -type f -name "$program" -perm -u+x 2>/dev/null | head -n 1)
  # A program not built in this tree still gets its unit's syntax checked.
  [ -n "$built" ] || built=$(command -v true)
  sed "s|/usr/local/bin/$program|$built|" "$unit" >"$work/$name"
  grep -q '^NoNewPrivileges=yes' "$unit" || { echo "$name: not hardened (NoNewPrivileges)"; exit 1; }
  grep -q '^ProtectSystem=strict' "$unit" || { echo "$name: not hardened (ProtectSystem=strict)"; exit 1; }
  grep -q '^User=bts-stress' "$unit" || { echo "$name: must run as the dedicated bts-stress user"; exit 1; }
  grep -q -- '--config /etc/bts-stress/' "$unit" || { echo "$name: config must come from /etc/bts-stress/"; exit 1; }
done
cd "$work"
out=$(systemd-analyze verify --man=no ./*.service 2>&1) || { echo "$out"; exit 1; }
if [ -n "$out" ]; then
  echo "$out"
  exit 1
fi
echo "verified: ${units[*]##*/}"

# Exposure, as docs/deployment.md lists it. --offline needs no running systemd (252 and later).
max_exposure=4.9
failed=0
for unit in "${units[@]}"; do
  name=$(basename "$unit")
  if ! report=$(systemd-analyze security --offline=true --no-pager "./$name" 2>&1); then
    echo "systemd-analyze security cannot run here ($(printf '%s' "$report" | head -n 1)): exposure not checked"
    exit 0
  fi
  level=$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  if [ -z "$level" ]; then
    echo "systemd-analyze security printed no exposure level: exposure not checked"
    exit 0
  fi
  if awk -v l="$level" -v m="$max_exposure" 'BEGIN { exit !(l > m) }'; then
    echo "$name: exposure $level is above $max_exposure; what it lacks:"
    printf '%s\n' "$report" | grep '✗' || true
    failed=1
  else
    echo "$name: exposure $level"
  fi
done
exit "$failed"
