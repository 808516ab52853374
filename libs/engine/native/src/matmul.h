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

void MatMul(const MatMulGeometry& g, const float* a, const float* b, float* out);

}  // namespace resnet_onednn
