#!/usr/bin/env bash
# bench:gpu with the kernels of another commit (default: where this branch left main) measured
# beside this checkout's, in one run: extracts that commit into a temporary folder that shares this
# checkout's node_modules, builds it, then runs this checkout's bench:gpu with BENCH_GPU_BEFORE
# naming it. Prints the load.
#   bash scripts/bench-gpu-before-after.sh [commit]
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${1:-$(git merge-base main HEAD)}
before=$(mktemp -d)
trap 'rm -rf "$before"' EXIT
git archive "$ref" | tar -x -C "$before"
ln -s "$PWD/node_modules" "$before/node_modules"
(cd "$before" && npm run build >build.log 2>&1) || { cat "$before/build.log"; exit 1; }
npm run build >/dev/null
echo "before: $ref ($(git rev-parse --short "$ref")), after: $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' with uncommitted changes')"
echo "load average: $(cat /proc/loadavg)"
BENCH_GPU_BEFORE=$before node dist/bench/gpu.bench.js
echo "load average: $(cat /proc/loadavg)"
