#!/usr/bin/env bash
# Every unit in systemd/ passes `systemd-analyze verify`, with each ExecStart program pointed at
# the built binary (verify checks that it exists and is executable). Skipped (exit 77) where
# systemd-analyze is not installed.
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
