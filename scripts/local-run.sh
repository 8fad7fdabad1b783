#!/usr/bin/env bash
# The main job on one machine: starts bts-devnet, bts-broker (fresh CURVE certificates),
# bts-collector (when built) and N bts-beacons on loopback, runs a scenario with bts-ctl (live
# progress, then the summary) and stops everything it started, whatever happens. The run's
# directory (the collector's store, every program's log, its HTML report) is kept under runs/.
#
# Usage: scripts/local-run.sh [--scenario NAME|FILE] [--duration 30s] [--beacons 3]
#   BUILD=DIR selects the build directory (default: build/, set up by scripts/setup.sh);
#   BTS_RUNS_DIR=DIR where run directories go (default: runs/ in the source tree);
#   LOCAL_RUN_NO_BUILD=1 skips building.
# Exit code: bts-ctl's (0 success, 1 the run failed, 2 bad scenario, 3 broker unreachable).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-"$here/build"}
scenario=real-user
duration=30s
beacons=3
while (($#)); do
  case "$1" in
    --scenario) scenario=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --beacons) beacons=$2; shift 2 ;;
    --keep) shift ;;  # the run directory is always kept now
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "local-run: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done

[ -f "$build/build.ninja" ] || "$here/scripts/setup.sh" "$build"
targets=(src/actors/devnet/bts-devnet src/broker/bts-broker src/actors/beacon/bts-beacon
         src/tools/bts-ctl/bts-ctl src/tools/bts-report/bts-report)
have_collector=0
collector_pid=
if [ -f "$here/src/actors/collector/meson.build" ]; then
  targets+=(src/actors/collector/bts-collector)
  have_collector=1
fi
if [ -z "${LOCAL_RUN_NO_BUILD:-}" ]; then  # set by the test suite, which has built already
  echo "local-run: building ${targets[*]##*/} in $build"
  ninja -C "$build" "${targets[@]}" >/dev/null
fi

runs=${BTS_RUNS_DIR:-"$here/runs"}
mkdir -p "$runs"
work="$runs/$(date -u +%Y%m%d-%H%M%S)-$(basename "$scenario" .toml)"
mkdir -p "$work"
work=$(cd "$work" && pwd)
# CURVE secret keys live only as long as the run: in a private temporary directory.
secrets=$(mktemp -d "${TMPDIR:-/tmp}/bts-local-run-keys.XXXXXX")
chmod 700 "$secrets"
pids=()
beacon_pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # Beacons first, together (they stop load), then in reverse start order: broker,
  # collector (drains what it got), devnet. Each gets 5 s after SIGTERM before SIGKILL.
  local i pid
  stop_pids() {
    for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "$@"; do
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    done
  }
  stop_pids "${beacon_pids[@]}"
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pids "${pids[i]}"; done
  wait 2>/dev/null || true
  rm -rf "$secrets"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Free loopback ports, chosen now (bound then released).
read -r devnet_port router_port pub_port collect_port stream_port < <(python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
)
wait_port() {  # PORT NAME LOG
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "local-run: $2 did not start; its log ($3):" >&2
  tail -20 "$3" >&2
  return 1
}

bin="$build/src"
ctl="$bin/tools/bts-ctl/bts-ctl"
keys="$secrets"
mkdir -p "$keys/allowed"
for name in broker local $(seq -f 'beacon-%g' 1 "$beacons"); do
  "$ctl" keygen "$name" --dir "$keys" >/dev/null
done
for name in local $(seq -f 'beacon-%g' 1 "$beacons"); do cp "$keys/$name.key" "$keys/allowed/"; done

echo "local-run: run directory $work"
"$bin/actors/devnet/bts-devnet" --port "$devnet_port" --block-interval 1s >"$work/devnet.log" 2>&1 &
pids+=($!)
wait_port "$devnet_port" bts-devnet "$work/devnet.log"
node="ws://127.0.0.1:$devnet_port"

sinks='["stdout"]'
if ((have_collector)); then
  "$bin/actors/collector/bts-collector" --config /dev/null --listen "tcp://127.0.0.1:$collect_port" \
    --publish "tcp://127.0.0.1:$stream_port" --store "$work/collector.sqlite" \
    >"$work/collector.log" 2>&1 &
  collector_pid=$!
  pids+=($collector_pid)
  sinks="[\"tcp://127.0.0.1:$collect_port\"]"
  echo "local-run: bts-collector stores to $work/collector.sqlite (live stream tcp://127.0.0.1:$stream_port)"
else
  echo "local-run: no bts-collector in this tree: statistics go to the beacons' logs"
fi

router="tcp://127.0.0.1:$router_port"
"$bin/broker/bts-broker" --config "$here/config/broker.toml" --router "$router" \
  --pub "tcp://127.0.0.1:$pub_port" --cert "$keys/broker.key_secret" --allow "$keys/allowed" \
  --set "broker.stats_sinks=$sinks" >"$work/broker.log" 2>&1 &
pids+=($!)
wait_port "$router_port" bts-broker "$work/broker.log"

for i in $(seq 1 "$beacons"); do
  "$bin/actors/beacon/bts-beacon" --config "$here/config/beacon.toml" --id "beacon-$i" \
    --broker "$router" --broker-pub "tcp://127.0.0.1:$pub_port" \
    --cert "$keys/beacon-$i.key_secret" --broker-key "$keys/broker.key" \
    >"$work/beacon-$i.log" 2>&1 &
  beacon_pids+=($!)
done

echo "local-run: bts-devnet $node, bts-broker $router, $beacons beacon(s); scenario $scenario for $duration"
set +e
"$ctl" start --config "$here/config/broker.toml" --broker "$router" --cert "$keys/local.key_secret" \
  --broker-key "$keys/broker.key" --scenario-dir "$here/config/scenarios" --scenario "$scenario" \
  --duration "$duration" --nodes "$node" --beacons "$beacons" --wait 30s
rc=$?
set -e
report="$bin/tools/bts-report/bts-report"
if ((have_collector)) && [ -x "$report" ]; then
  # The run is over once the broker has every beacon's final report; the collector got the same
  # reports. Stop it (it commits what it holds on SIGTERM) so the report reads a complete store.
  kill -TERM "$collector_pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$collector_pid" 2>/dev/null || break; sleep 0.1; done
  if "$report" --store "$work/collector.sqlite" --format html --output "$work/report.html" >"$work/report.log" 2>&1; then
    echo "local-run: HTML report: $work/report.html"
  else
    echo "local-run: the HTML report could not be written (see $work/report.log)" >&2
  fi
  echo "local-run: the run's store: $work/collector.sqlite; report it again with:"
  echo "  $report --store $work/collector.sqlite --format html --output report.html"
fi
echo "local-run: logs in $work"
exit "$rc"
