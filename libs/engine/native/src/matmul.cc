#include "matmul.h"

#include <algorithm>
#include <oneapi/dnnl/dnnl.hpp>
#include <stdexcept>
#include <string>

namespace resnet_onednn {

void MatMul(const MatMulGeometry& g, const float* a, const float* b, float* out) {
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
