# node-gyp project for the oneDNN addon behind the `onednn` TensorFlow.js backend.
# Built by scripts/build-native.js (npm postinstall / npm run build:native), which checks for
# oneDNN first (apt-get install libdnnl-dev) so that a missing library never fails npm install.
{
  "targets": [
    {
      "target_name": "resnet_onednn",
      "sources": ["src/addon.cc", "src/convolution.cc", "src/elementwise.cc", "src/fused_batch_norm.cc", "src/fused_batch_norm_grad.cc", "src/matmul.cc", "src/pooling.cc"],
      "cflags_cc!": ["-fno-exceptions"],
      # No -march=native: the plain loops (elementwise, reductions, pooling) are memory-bound, so
      # wider vectors buy little, and a binary for the baseline ISA survives being built into an
      # image on one machine and run on another. oneDNN picks its own ISA (AVX2, AVX-512, AMX) at
      # run time for convolutions and matrix products.
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-fopenmp"],
      "libraries": ["-ldnnl", "-fopenmp"],
    }
  ]
}
