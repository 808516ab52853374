// Batched float32 matrix products on oneDNN's sgemm (the classifier's fully connected layer).
#pragma once

#include <cstdint>

namespace resnet_onednn {

// For each of `batch` products: out[i] = op(a[i % batch_a]) x op(b[i % batch_b]), row-major, op
// transposing when asked; op(a) is m x k, op(b) is k x n. The batch index wraps as in tfjs' cpu
// kernel, so a batch of 1 broadcasts.
struct MatMulGeometry {
  int64_t batch_a, batch_b, m, n, k;
  bool transpose_a, transpose_b;
};

// bf16: both operands are first rounded to bfloat16 (round to nearest even, one pass each, into
// scratch), then multiplied in float32. A product of two bf16 values is exact in float32, so this
// is bf16 compute with float32 accumulation, as oneDNN's bf16 kernels do it; the classifier's
// products are too small (128 x 64 x 10 in ResNet-20) for a bf16 GEMM to pay for its setup.
void MatMul(const MatMulGeometry& g, bool bf16, const float* a, const float* b, float* out);

}  // namespace resnet_onednn
