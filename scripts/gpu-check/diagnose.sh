#!/usr/bin/env bash
# What a GPU worker's WebGPU needs from the machine, printed for a first run on a GPU: the driver
# (nvidia-smi, /dev/nvidia*, NVIDIA_DRIVER_CAPABILITIES, which must include "graphics" for the
# container toolkit to mount the Vulkan driver), the Vulkan loader, and every Vulkan driver
# manifest in the loader's standard folders and NVIDIA's, with the libraries each one's driver
# library cannot find.
set -uo pipefail
export PATH=$PATH:/usr/sbin:/sbin # ldconfig
echo "== driver"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1
else
  echo "nvidia-smi: not on PATH"
fi
echo "NVIDIA_DRIVER_CAPABILITIES=${NVIDIA_DRIVER_CAPABILITIES-<unset>} NVIDIA_VISIBLE_DEVICES=${NVIDIA_VISIBLE_DEVICES-<unset>}"
echo "VK_DRIVER_FILES=${VK_DRIVER_FILES-<unset>} VK_ICD_FILENAMES=${VK_ICD_FILENAMES-<unset>}"
echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH-<unset>}"
ls -l /dev/nvidia* /dev/dri 2>&1
echo "== Vulkan loader and GL dispatch libraries"
for lib in libvulkan.so.1 libGLdispatch.so.0 libGLX.so.0 libEGL.so.1 libGL.so.1 libOpenGL.so.0; do
  found=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
  for dir in ${LD_LIBRARY_PATH:+${LD_LIBRARY_PATH//:/ }}; do [ -z "$found" ] && [ -e "$dir/$lib" ] && found=$dir/$lib; done
  echo "$lib: ${found:-NOT FOUND}"
done
echo "== Vulkan driver manifests"
folders=(/etc/vulkan/icd.d /usr/share/vulkan/icd.d /usr/local/share/vulkan/icd.d /etc/vulkan/implicit_layer.d
  /usr/share/vulkan/implicit_layer.d /usr/local/nvidia/share/vulkan/icd.d /usr/local/nvidia/share/vulkan/implicit_layer.d
  /usr/local/nvidia/icd.d /etc/glvnd/egl_vendor.d /usr/share/glvnd/egl_vendor.d /usr/local/nvidia/share/glvnd/egl_vendor.d)
manifests=()
for folder in "${folders[@]}"; do
  [ -d "$folder" ] && while IFS= read -r f; do manifests+=("$f"); done < <(find "$folder" -maxdepth 1 -name '*.json' | sort)
done
for f in ${VK_DRIVER_FILES:+${VK_DRIVER_FILES//:/ }} ${VK_ICD_FILENAMES:+${VK_ICD_FILENAMES//:/ }}; do
  if [ -f "$f" ]; then manifests+=("$f"); else echo "VK_DRIVER_FILES/VK_ICD_FILENAMES name $f, which does not exist"; fi
done
[ ${#manifests[@]} -eq 0 ] && echo "no manifest in ${folders[*]}"
for manifest in $(printf '%s\n' "${manifests[@]}" | sort -u); do
  library=$(sed -n 's/.*"library_path"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$manifest" | head -1)
  echo "-- $manifest: library_path ${library:-<none>}"
  [ -z "$library" ] && continue
  case $library in
    /*) path=$library ;;
    */*) path=$(dirname "$manifest")/$library ;;
    *) path=$(ldconfig -p | awk -v l="$library" '$1 == l { print $NF; exit }')
       for dir in ${LD_LIBRARY_PATH:+${LD_LIBRARY_PATH//:/ }} /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
         [ -z "$path" ] && [ -e "$dir/$library" ] && path=$dir/$library
       done ;;
  esac
  if [ -z "$path" ] || [ ! -e "$path" ]; then echo "   library NOT FOUND (${path:-not in the linker cache or LD_LIBRARY_PATH})"; continue; fi
  missing=$(ldd "$path" 2>&1 | grep 'not found')
  echo "   $path: ${missing:-every dependency found}"
done
