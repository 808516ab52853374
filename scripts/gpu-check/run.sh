#!/usr/bin/env bash
# On a GPU machine without Node.js (the device machine): unpacks .gpu-check/ (made by pack.sh),
# runs the WebGPU kernel and training-step checks on the real adapter, then bench:gpu with
# PyTorch on CUDA beside it. Output goes to $OUT (or ./gpu-check-out) and to the console.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-$PWD/gpu-check-out}
mkdir -p "$out"
work=$(mktemp -d)
for deb in .gpu-check/debs/*.deb; do dpkg -x "$deb" /; done
ldconfig
xz -dc .gpu-check/bundle.tar.xz | tar -xf - -C "$work"
cd "$work"
export XDG_RUNTIME_DIR=$work/xdg PYTHONUNBUFFERED=1
mkdir -p "$XDG_RUNTIME_DIR"
# Where the device machine keeps NVIDIA's Vulkan driver manifest when the loader does not find it.
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ] && export VK_DRIVER_FILES=$icd
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$out/gpu.txt"
./.gpu-check/node node_modules/mocha/bin/mocha.js --no-config --timeout 900000 --exit \
  dist/test/engine/webgpu-kernels.spec.js dist/test/engine/webgpu-training-step.spec.js 2>&1 | tee "$out/checks.txt"
BENCH_PROFILE=1 ./.gpu-check/node dist/bench/gpu.bench.js 2>&1 | tee "$out/bench-gpu.txt"
