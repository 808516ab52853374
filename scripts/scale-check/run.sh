#!/usr/bin/env bash
# On a bigger machine without Node.js or a network: unpacks .scale-check/ (made by pack.sh) and runs
# bench:scale's GPU-speed case (ResNet-20 messages, 10 ms of simulated compute per shard) at
# K = 1, 2, 8 and 12 simulated workers: with aggregation in the coordinator on one Redis, on a
# 2-master Redis Cluster, and with 2 summation-service processes. K = 1 and 2 fit the step-time
# model, which predicts 8 and 12 before they run. Every phase runs under `timeout`; everything goes
# to $OUT (or ./scale-check-out) and the console. Exits non-zero, with one line saying what, when
# something is missing or a phase fails.
#   SCALE_CHECK_WORKERS  the K list (default 1,2,8,12)
#   SCALE_CHECK_PHASE_S  seconds each phase may take (default 540)
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-$PWD/scale-check-out}
workers=${SCALE_CHECK_WORKERS:-1,2,8,12}
limit=${SCALE_CHECK_PHASE_S:-540}
mkdir -p "$out"

die() {
  echo "scale-check: $*" | tee -a "$out/diagnosis.txt" >&2
  exit 1
}
for tool in tar xz timeout nproc; do
  command -v "$tool" >/dev/null || die "this machine has no '$tool' (needed to unpack and time the run): install it or run on another machine"
done
[ -f .scale-check/bundle.tar.xz ] ||
  die ".scale-check/bundle.tar.xz is missing: run 'bash scripts/scale-check/pack.sh' on a machine with Node.js, and bring .scale-check/ here"

work=$(mktemp -d)
xz -dc .scale-check/bundle.tar.xz | tar -xf - -C "$work" || die "the bundle does not unpack: pack it again"
cd "$work"
export PATH="$work/.scale-check/bin:$PATH" LD_LIBRARY_PATH="$work/.scale-check/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
node_says=$(timeout 30 node --version 2>&1) ||
  die "the bundled node does not start here: $(echo "$node_says" | head -1) (glibc older than the packing machine's? pack on an older system)"
redis_says=$(timeout 30 redis-server --version 2>&1) ||
  die "the bundled redis-server does not start here: $(echo "$redis_says" | head -1) (glibc older than the packing machine's? pack on an older system)"
{
  echo "cores: $(nproc); node $node_says; $redis_says"
  echo "load before: $(cat /proc/loadavg)"
} | tee "$out/machine.txt"

failed=()
phase() {
  local name=$1
  shift
  echo "== $name: node dist/bench/scale.bench.js $*" | tee "$out/$name.txt"
  timeout "$limit" node dist/bench/scale.bench.js "$@" 2>&1 | tee -a "$out/$name.txt"
  local status=${PIPESTATUS[0]}
  echo "load after: $(cat /proc/loadavg)" | tee -a "$out/$name.txt"
  if [ "$status" = 124 ]; then
    failed+=("$name (timed out after $limit s)")
  elif [ "$status" != 0 ]; then
    failed+=("$name (exit $status)")
  fi
}

phase predict --predict
phase in-coordinator --only gpu-speed --workers "$workers"
phase redis-cluster --only gpu-speed --workers "$workers" --redis-masters 2
if grep -q -- "'--aggregators'" dist/bench/scale.bench.js; then
  phase services --only gpu-speed --workers "$workers" --aggregators 2
else
  echo "== services: SKIPPED: this bundle's bench:scale has no --aggregators flag (the summation services' bench flags have not landed); pack again once they have" |
    tee "$out/services.txt"
fi

if [ ${#failed[@]} -gt 0 ]; then
  die "failed: ${failed[*]} (see $out)"
fi
echo "scale-check: all phases ran; results in $out"
