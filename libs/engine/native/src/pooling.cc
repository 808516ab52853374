#include "pooling.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

namespace resnet_onednn {
namespace {

constexpr float kNegativeInfinity = -std::numeric_limits<float>::infinity();

// The rows [first, last) of x that output row `o` reads.
struct Span {
  int first, last;
};

Span WindowRows(int o, int stride, int pad, int kernel, int size) {
  const int corner = o * stride - pad;
  return {std::max(0, corner), std::min(size, corner + kernel)};
}

// Index within its window (row-major) of each output's first maximum, per channel; -1 when no
// pixel beats -Infinity.
std::vector<int32_t> ArgMax(const PoolGeometry& g, const float* x) {
  std::vector<int32_t> positions(size_t(g.n) * g.oh * g.ow * g.c);
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < int64_t(g.n) * g.oh; row++) {
    const int n = int(row / g.oh), oh = int(row % g.oh);
    const Span rows = WindowRows(oh, g.stride_h, g.pad_top, g.kh, g.h);
    std::vector<float> best(g.c);
    for (int ow = 0; ow < g.ow; ow++) {
      const Span cols = WindowRows(ow, g.stride_w, g.pad_left, g.kw, g.w);
      int32_t* pos = positions.data() + (row * g.ow + ow) * g.c;
      std::fill(best.begin(), best.end(), kNegativeInfinity);
      std::fill(pos, pos + g.c, -1);
      for (int h = rows.first; h < rows.last; h++) {
        for (int w = cols.first; w < cols.last; w++) {
          const float* px = x + ((int64_t(n) * g.h + h) * g.w + w) * g.c;
          const int32_t here = (h - (oh * g.stride_h - g.pad_top)) * g.kw + (w - (ow * g.stride_w - g.pad_left));
          for (int c = 0; c < g.c; c++) {
            if (px[c] > best[c]) {
              best[c] = px[c];
              pos[c] = here;
            }
          }
        }
      }
    }
  }
  return positions;
}

}  // namespace

void MaxPool(const PoolGeometry& g, const float* x, float* y) {
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < int64_t(g.n) * g.oh; row++) {
    const int n = int(row / g.oh), oh = int(row % g.oh);
    const Span rows = WindowRows(oh, g.stride_h, g.pad_top, g.kh, g.h);
    for (int ow = 0; ow < g.ow; ow++) {
      const Span cols = WindowRows(ow, g.stride_w, g.pad_left, g.kw, g.w);
      float* out = y + (row * g.ow + ow) * g.c;
      std::fill(out, out + g.c, kNegativeInfinity);
      for (int h = rows.first; h < rows.last; h++) {
        for (int w = cols.first; w < cols.last; w++) {
          const float* px = x + ((int64_t(n) * g.h + h) * g.w + w) * g.c;
          for (int c = 0; c < g.c; c++) out[c] = px[c] > out[c] ? px[c] : out[c];
        }
      }
    }
  }
}

void MaxPoolGrad(const PoolGeometry& g, const float* x, const float* dy, float* dx) {
  const std::vector<int32_t> positions = ArgMax(g, x);
  // Gathered per input pixel (no two threads write one element), over the windows that contain
  // it in row-major order, as tfjs' cpu kernel sums them.
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < int64_t(g.n) * g.h; row++) {
    const int n = int(row / g.h), h = int(row % g.h);
    // Output rows whose window covers row h: oh * stride - pad <= h < oh * stride - pad + kh.
    const int oh_first = std::max(0, (h + g.pad_top - g.kh + g.stride_h) / g.stride_h);
    const int oh_last = std::min(g.oh - 1, (h + g.pad_top) / g.stride_h);
    std::vector<double> sum(g.c);
    for (int w = 0; w < g.w; w++) {
      const int ow_first = std::max(0, (w + g.pad_left - g.kw + g.stride_w) / g.stride_w);
      const int ow_last = std::min(g.ow - 1, (w + g.pad_left) / g.stride_w);
      std::fill(sum.begin(), sum.end(), 0.0);
      for (int oh = oh_first; oh <= oh_last; oh++) {
        for (int ow = ow_first; ow <= ow_last; ow++) {
          const int32_t here = (h - (oh * g.stride_h - g.pad_top)) * g.kw + (w - (ow * g.stride_w - g.pad_left));
          const int64_t at = ((int64_t(n) * g.oh + oh) * g.ow + ow) * g.c;
          const int32_t* pos = positions.data() + at;
          const float* grad = dy + at;
          for (int c = 0; c < g.c; c++) sum[c] += pos[c] == here ? grad[c] : 0.0;
        }
      }
      float* out = dx + (row * g.w + w) * g.c;
      for (int c = 0; c < g.c; c++) out[c] = static_cast<float>(sum[c]);
    }
  }
}

}  // namespace resnet_onednn
