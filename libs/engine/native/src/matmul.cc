#include "matmul.h"

#include <algorithm>
#include <oneapi/dnnl/dnnl.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "bf16.h"

namespace resnet_onednn {
namespace {

const float* RoundedToBf16(const float* x, int64_t size, std::vector<float>& scratch) {
  scratch.resize(size);
  for (int64_t i = 0; i < size; i++) scratch[i] = RoundToBf16(x[i]);
  return scratch.data();
}

}  // namespace

void MatMul(const MatMulGeometry& g, bool bf16, const float* a, const float* b, float* out) {
  std::vector<float> a_bf16, b_bf16;
  if (bf16) {
    a = RoundedToBf16(a, g.batch_a * g.m * g.k, a_bf16);
    b = RoundedToBf16(b, g.batch_b * g.k * g.n, b_bf16);
  }
  const int64_t batch = std::max(g.batch_a, g.batch_b);
  const int64_t lda = g.transpose_a ? g.m : g.k;
  const int64_t ldb = g.transpose_b ? g.k : g.n;
  for (int64_t i = 0; i < batch; i++) {
    const dnnl_status_t status =
        dnnl_sgemm(g.transpose_a ? 'T' : 'N', g.transpose_b ? 'T' : 'N', g.m, g.n, g.k, 1.0f,
                   a + (i % g.batch_a) * g.m * g.k, lda, b + (i % g.batch_b) * g.k * g.n, ldb, 0.0f,
                   out + i * g.m * g.n, g.n);
    if (status != dnnl_success) throw std::runtime_error("dnnl_sgemm failed with status " + std::to_string(status));
  }
}

}  // namespace resnet_onednn
