#!/usr/bin/env bash
# On a GPU machine without Node.js (the device machine), from the repository root holding .gpu-check/
# (made by pack.sh): one run of at most 8 minutes that gets the most out of a lent GPU. Each phase
# runs under `timeout` and appends to a file under $OUT (default ./gpu-check-out):
#   torch.txt       PyTorch on CUDA, ResNet-20 at batch 128 and 512 (first, so a GPU figure is kept
#                   whatever fails after)
#   diagnosis.txt   diagnose.sh (driver, loader, every Vulkan manifest and what its library misses)
#                   and an adapter probe with the Vulkan loader's messages (VK_LOADER_DEBUG)
#   checks.txt      the WebGPU kernel and training-step checks against the cpu backend (CI=true:
#                   without an adapter they fail, never skip)
#   bench-gpu.txt   bench:gpu, stock and this project's kernels, GPU time per kernel (exact timestamps)
#   summary.txt     one line per phase, and the adapter or the one-line reason there is none
# Exits 1 when any phase fails or times out, or when Dawn finds no GPU adapter.
# KIT_TIME_SCALE multiplies every limit (a rehearsal on SwiftShader, which emulates a GPU on the CPU).
set -uo pipefail
export PATH=$PATH:/usr/sbin:/sbin # ldconfig
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-$root/gpu-check-out}
mkdir -p "$out"
scale=${KIT_TIME_SCALE:-1}
summary=$out/summary.txt
: >"$summary"
status=0
export work
work=$(mktemp -d)
export XDG_RUNTIME_DIR=$work/xdg PYTHONUNBUFFERED=1
mkdir -p "$XDG_RUNTIME_DIR"

# phase NAME LIMIT_S FILE COMMAND...: COMMAND under timeout, its output appended to FILE and shown.
phase() {
  local name=$1 limit=$(($2 * scale)) file=$out/$3 started=$SECONDS
  shift 3
  echo "== $name (limit $limit s)" | tee -a "$file"
  timeout -k 5 "$limit" "$@" 2>&1 | tee -a "$file"
  local rc=${PIPESTATUS[0]} verdict=ok
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then verdict="TIMED OUT"; elif [ "$rc" -ne 0 ]; then verdict="FAILED (exit $rc)"; fi
  echo "$name: $verdict after $((SECONDS - started)) s" | tee -a "$summary"
  [ "$rc" -eq 0 ] || status=1
  return "$rc"
}

unpack() {
  mkdir -p "$work/sysroot"
  for deb in "$root"/.gpu-check/debs/*.deb; do dpkg -x "$deb" "$work/sysroot"; done
  xz -dc "$root/.gpu-check/bundle.tar.xz" | tar -xf - -C "$work"
}
export -f unpack
export root
phase unpack 30 diagnosis.txt bash -c unpack || exit 1
cd "$work"
echo "node on this machine's PATH: $(command -v node || echo none); the kit's: $work/.gpu-check/node" | tee -a "$summary"

# The Vulkan loader and the GL dispatch libraries NVIDIA's Vulkan driver needs: where the system
# lacks one and this runs as root, installed the way that ran on these machines (into /, then
# ldconfig); otherwise found through LD_LIBRARY_PATH, leaving / alone.
missing=$(for lib in libvulkan.so.1 libGLdispatch.so.0 libGLX.so.0 libEGL.so.1 libGL.so.1 libOpenGL.so.0; do
  ldconfig -p | grep -q "^[[:space:]]*$lib " || echo "$lib"
done)
if [ -n "$missing" ] && [ "$(id -u)" -eq 0 ]; then
  echo "installing the packed libraries into / (missing: $(echo $missing))" | tee -a "$summary"
  for deb in "$root"/.gpu-check/debs/*.deb; do dpkg -x "$deb" /; done
  ldconfig
else
  export LD_LIBRARY_PATH=$work/sysroot/usr/lib/x86_64-linux-gnu:$work/sysroot/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
# Where these machines keep NVIDIA's Vulkan and EGL manifests when the loader's folders lack them.
nvidia=/usr/local/nvidia/share
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f $nvidia/vulkan/icd.d/nvidia_icd.json ] &&
  ! grep -qls nvidia /etc/vulkan/icd.d/*.json /usr/share/vulkan/icd.d/*.json; then
  export VK_DRIVER_FILES=$nvidia/vulkan/icd.d/nvidia_icd.json
fi
[ -f $nvidia/glvnd/egl_vendor.d/10_nvidia.json ] && export __EGL_VENDOR_LIBRARY_FILENAMES=${__EGL_VENDOR_LIBRARY_FILENAMES:-$nvidia/glvnd/egl_vendor.d/10_nvidia.json}

for batch in 128 512; do
  phase "PyTorch CUDA resnet20 batch $batch" 55 torch.txt python3 "$root/bench/torch_resnet_gpu_step.py" resnet20 "$batch"
done

phase diagnosis 20 diagnosis.txt bash "$root/scripts/gpu-check/diagnose.sh"
cp "$root/scripts/gpu-check/probe-adapter.mjs" . # beside the bundle's node_modules, which it imports from
VK_LOADER_DEBUG=error,warn,driver phase "adapter probe" 30 diagnosis.txt ./.gpu-check/node probe-adapter.mjs
adapter=$(grep -h '^ADAPTER: ' "$out/diagnosis.txt" | tail -1)
case $adapter in
  "ADAPTER: none"* | "") reason="Dawn found no adapter" ;;
  *"software fallback adapter"*) reason="Dawn found only a software adapter (${adapter#ADAPTER: })" ;;
  *) reason= ;;
esac
if [ -n "$reason" ]; then
  gpu=$(command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
  manifests=$(grep -c '^-- ' "$out/diagnosis.txt")
  unresolved=$(grep -E 'NOT FOUND|not found|does not exist' "$out/diagnosis.txt" | head -3 | tr -s ' \n' ' ')
  loader=$(grep -hE '^ERROR:|Found no drivers' "$out/diagnosis.txt" | head -1 | tr -s ' ')
  diagnosis="NO GPU ADAPTER: $reason; GPU: ${gpu:-none seen by nvidia-smi}; NVIDIA_DRIVER_CAPABILITIES=${NVIDIA_DRIVER_CAPABILITIES-<unset>}; $manifests manifests; ${unresolved:-every manifest library resolves}; loader: ${loader:-no error}; VK_DRIVER_FILES=${VK_DRIVER_FILES-<unset>}"
  echo "$diagnosis" | tee -a "$summary"
else
  echo "$adapter" | tee -a "$summary"
fi

CI=true phase checks 110 checks.txt ./.gpu-check/node node_modules/mocha/bin/mocha.js --no-config --timeout $((100000 * scale)) \
  --exit dist/test/engine/webgpu-kernels.spec.js dist/test/engine/webgpu-training-step.spec.js
BENCH_PROFILE=1 BENCH_STEPS=${BENCH_STEPS:-3} BENCH_GPU_CASES=${BENCH_GPU_CASES:-resnet20:128,resnet20:512} \
  BENCH_GPU_CHILD_TIMEOUT_S=$((60 * scale)) phase bench:gpu 170 bench-gpu.txt ./.gpu-check/node dist/bench/gpu.bench.js

echo "== summary"
cat "$summary"
rm -rf "$work"
if [ -n "$reason" ]; then
  echo "$diagnosis"
  exit 1
fi
exit "$status"
