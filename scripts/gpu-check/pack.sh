#!/usr/bin/env bash
# Packs what a GPU machine without Node.js or a network needs to run the WebGPU checks and
# bench:gpu: the node binary, the files of node_modules that those runs load (traced here on
# SwiftShader), dist/, and the Debian packages of the Vulkan loader and of the GL
# dispatch libraries NVIDIA's Vulkan driver links against (without them the loader skips the
# driver and Dawn finds no adapter). Writes .gpu-check/ (git-ignored, under 64 MiB); on the GPU
# machine run `bash scripts/gpu-check/run.sh` from the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.gpu-check
rm -rf "$out" && mkdir -p "$out"
npm run build >/dev/null

export VK_DRIVER_FILES=/usr/lib/chromium/vk_swiftshader_icd.json LOADED_FILES_OUT="$PWD/$out/loaded.txt"
trace=(node --require ./scripts/trace-loaded-files.js)
mocha=(node_modules/mocha/bin/mocha.js --no-config --timeout 900000 --exit)
"${trace[@]}" "${mocha[@]}" dist/test/engine/webgpu-kernels.spec.js >/dev/null
for kernels in stock ours; do
  BENCH_STEPS=1 "${trace[@]}" dist/bench/gpu.bench.js --measure "$kernels" resnet20 2 >/dev/null
done

# Traced files inside node_modules (CommonJS, as the project and TensorFlow.js load them), every
# package.json (module resolution reads them), the ES-module packages whole (the webgpu package,
# with only Dawn's linux-x64 binding, and mocha with its dependencies), which require.cache misses.
{
  grep "^$PWD/node_modules/" "$out/loaded.txt" | sed "s|^$PWD/||"
  find node_modules -name package.json -not -path '*/test/*'
  find node_modules/webgpu -type f -not -path 'node_modules/webgpu/dist/*'
  find node_modules/webgpu/dist/linux-x64 -type f
  npm query '#mocha, #mocha *' | node -e \
    "let s = ''; process.stdin.on('data', (d) => (s += d)).on('end', () => JSON.parse(s).forEach((p) => console.log(p.location)))" |
    xargs -I{} find {} -type f -not -path '{}/node_modules/*'
} | sort -u >"$out/files.txt"

cp "$(command -v node)" "$out/node"
tar -cf - -T "$out/files.txt" dist bench/torch_resnet_gpu_step.py "$out/node" | xz -9 -T0 >"$out/bundle.tar.xz"
rm "$out/node"

# The Vulkan loader and the GL dispatch libraries, for a machine whose image lacks them.
mkdir -p "$out/debs" /tmp/amd64/partial
apt_arch=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
apt-get "${apt_arch[@]}" update -qq
(cd "$out/debs" && apt-get "${apt_arch[@]}" download -qq libvulkan1 libglvnd0 libglx0 libegl1 libgl1 libopengl0 libgles2 >/dev/null)
du -sh "$out" "$out/bundle.tar.xz"
