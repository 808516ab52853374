#!/usr/bin/env bash
# Packs what a bigger machine without Node.js or a network needs to run bench:scale there: the node
# binary, the files of node_modules that bench:scale loads (traced here, in the bench's own process
# and in every coordinator, worker and service process it starts), dist/, the dashboard's files
# (the coordinator serves them), and redis-server, with the shared libraries both binaries need
# (from ldd) except glibc's own, which the machine has.
# Writes .scale-check/ (git-ignored); there, run `bash scripts/scale-check/run.sh` from the
# repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.scale-check
rm -rf "$out" && mkdir -p "$out/bin" "$out/lib"
npm run build >/dev/null

# Every process the bench starts inherits NODE_OPTIONS, so each one appends what it loaded.
export LOADED_FILES_OUT="$PWD/$out/loaded.txt"
trace="--require $PWD/scripts/trace-loaded-files.js"
traced() {
  NODE_OPTIONS="$trace" timeout 600 node dist/bench/scale.bench.js --only gpu-speed --workers 1 "$@" >"$out/trace.log" 2>&1 ||
    { echo "pack.sh: the traced bench:scale run $* failed:" >&2; tail -20 "$out/trace.log" >&2; exit 1; }
}
traced
traced --redis-masters 2
if grep -q -- "'--aggregators'" dist/bench/scale.bench.js; then traced --aggregators 2; fi
# Traced files inside node_modules, every package.json (module resolution reads them), and the
# shared libraries that native addons link from node_modules (sharp's libvips), which the
# require.cache trace cannot see.
{
  grep "^$PWD/node_modules/" "$out/loaded.txt" | sed "s|^$PWD/||"
  find node_modules -name package.json -not -path '*/test/*'
  # The dashboard's scripts, which the coordinator finds with require.resolve but does not load.
  find node_modules/chart.js/dist -type f
  echo node_modules/@tensorflow/tfjs/dist/tf.min.js
  grep '\.node$' "$out/loaded.txt" | sort -u | xargs -r ldd | awk '/=> \// { print $3 }' |
    xargs -r realpath --relative-to="$PWD" | grep '^node_modules/'
} | sort -u >"$out/files.txt"

# The binaries and their libraries. glibc (libc, libm, libdl, libpthread, the loader) stays the
# machine's: a bundled libc under the machine's loader would not load.
cp "$(command -v node)" "$(command -v redis-server)" "$out/bin/"
for binary in "$out/bin/node" "$out/bin/redis-server"; do
  ldd "$binary" | awk '/=> \// { print $3 }'
done | sort -u | grep -Ev '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*)\.so' | xargs -I{} cp -L {} "$out/lib/"
# Both resolve against the bundled libraries alone: nothing may be left "not found".
for binary in "$out/bin/node" "$out/bin/redis-server"; do
  if LD_LIBRARY_PATH="$out/lib" ldd "$binary" | grep -q 'not found'; then
    echo "pack.sh: $binary needs a library that is neither bundled nor glibc's:" >&2
    LD_LIBRARY_PATH="$out/lib" ldd "$binary" | grep 'not found' >&2
    exit 1
  fi
done

tar -cf - -T "$out/files.txt" dist apps/coordinator/public "$out/bin" "$out/lib" | xz -6 -T0 >"$out/bundle.tar.xz"
rm -rf "$out/bin" "$out/lib" "$out/loaded.txt" "$out/trace.log"
du -sh "$out/bundle.tar.xz"
