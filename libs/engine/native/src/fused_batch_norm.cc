#include <cmath>
#include <type_traits>
#include <vector>

#include "channel_sums.h"
#include "fused_batch_norm.h"

namespace resnet_onednn {
namespace {

// The normalisation as y = act(x·multiplier + addend (+ residual)), one output row at a time;
// the flags let the compiler vectorise each variant without branches.
template <bool kResidual, bool kRelu, typename X>
void Normalise(const BatchNormShape& s, const X* x, const X* residual, const float* multiplier,
               const float* addend, X* y) {
  const int64_t channels = s.channels;
  ForRowRanges(s.rows, channels, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) {
      const X* __restrict x_row = x + r * channels;
      const X* __restrict residual_row = kResidual ? residual + r * channels : nullptr;
      X* __restrict y_row = y + r * channels;
      int64_t c = 0;
      // bf16: four channels at a time in registers; the compiler's own vectorisation of the loop
      // below converts bf16 lane by lane, at half the speed.
      if constexpr (std::is_same_v<X, uint16_t>) {
        for (; c + kChannelGroup <= channels; c += kChannelGroup) {
          Floats4 v = Load<Floats4>(x_row + c) * Load<Floats4>(multiplier + c) + Load<Floats4>(addend + c);
          if (kResidual) v += Load<Floats4>(residual_row + c);
          if (kRelu) v = v < 0.0f ? Floats4{} : v;
          Store(y_row + c, v);
        }
      }
      for (; c < channels; c++) {
        // Plain element reads and writes, which the compiler vectorises (memcpy-based loads kept
        // the float32 loop scalar, 9 times slower).
        float v = Widen(x_row[c]) * multiplier[c] + addend[c];
        if (kResidual) v += Widen(residual_row[c]);
        // Like tfjs' Relu, NaN stays NaN.
        if (kRelu) v = v < 0.0f ? 0.0f : v;
        y_row[c] = Narrow<X>(v);
      }
    }
  });
}

}  // namespace

template <typename X>
void FusedBatchNorm(const BatchNormShape& s, const X* x, const float* scale, const float* offset,
                    const X* residual, float epsilon, bool relu, X* y, float* mean, float* variance) {
  const int64_t channels = s.channels;
  // One pass for both moments: sums of (x − first row) and of its square, so that the variance
  // E[d²] − E[d]² does not cancel catastrophically when |mean| is much larger than the spread.
  const X* shift = x;
  std::vector<double> sum(channels), squares(channels);
  ChannelSums(
      s.rows, channels,
      [&](int64_t i, int64_t c, auto& a, auto& b) {
        using V = std::decay_t<decltype(a)>;
        const V d = Load<V>(x + i) - Load<V>(shift + c);
        a += d;
        b += d * d;
      },
      sum.data(), squares.data());
  std::vector<float> multiplier(channels), addend(channels);
  const double count = static_cast<double>(s.rows);
  for (int64_t c = 0; c < channels; c++) {
    const double shifted_mean = sum[c] / count;
    const double var = std::max(0.0, squares[c] / count - shifted_mean * shifted_mean);
    const double m = Widen(shift[c]) + shifted_mean;
    const double inv_std = 1.0 / std::sqrt(var + epsilon);
    mean[c] = static_cast<float>(m);
    variance[c] = static_cast<float>(var);
    multiplier[c] = static_cast<float>(scale[c] * inv_std);
    addend[c] = static_cast<float>(offset[c] - m * scale[c] * inv_std);
  }
  const float* mul = multiplier.data();
  const float* add = addend.data();
  if (residual) {
    relu ? Normalise<true, true>(s, x, residual, mul, add, y) : Normalise<true, false>(s, x, residual, mul, add, y);
  } else {
    relu ? Normalise<false, true>(s, x, residual, mul, add, y) : Normalise<false, false>(s, x, residual, mul, add, y);
  }
}

template void FusedBatchNorm<float>(const BatchNormShape&, const float*, const float*, const float*, const float*,
                                    float, bool, float*, float*, float*);
template void FusedBatchNorm<uint16_t>(const BatchNormShape&, const uint16_t*, const float*, const float*,
                                       const uint16_t*, float, bool, uint16_t*, float*, float*);

}  // namespace resnet_onednn
