#include <cmath>
#include <type_traits>
#include <vector>

#include "channel_sums.h"
#include "fused_batch_norm.h"

namespace resnet_onednn {
namespace {

// The gradient reaching the batch norm's output: dy where the ReLU (if any) passed its input, for
// one value (float) or four (Floats4). A select, not a branch: the mask's sign pattern is random.
template <bool kRelu, typename V>
inline V Upstream(V dy, V y) {
  return kRelu ? V(y > 0.0f ? dy : V{}) : dy;
}

template <bool kRelu, bool kResidual, typename X>
void Grad(const BatchNormShape& s, const float* dy, const X* x, const float* scale, const float* mean,
          const float* variance, const X* y, float epsilon, X* dx, float* d_scale, float* d_offset,
          float* d_residual) {
  const int64_t channels = s.channels;
  // Pass 1: Σ g and Σ g·(x − mean); d_residual = g on the way.
  std::vector<double> sum_g(channels), sum_g_centred(channels);
  ChannelSums(
      s.rows, channels,
      [&](int64_t i, int64_t c, auto& a, auto& b) {
        using V = std::decay_t<decltype(a)>;
        const V g = Upstream<kRelu>(Load<V>(dy + i), kRelu ? Load<V>(y + i) : V{});
        a += g;
        b += g * (Load<V>(x + i) - Load<V>(mean + c));
        if (kResidual) Store(d_residual + i, g);
      },
      sum_g.data(), sum_g_centred.data());

  // dx = A·g − B − (x − mean)·C per channel, with A = scale·invStd, B = A·d_offset/M and
  // C = A·invStd·d_scale/M.
  std::vector<float> a_coef(channels), b_coef(channels), c_coef(channels);
  const double count = static_cast<double>(s.rows);
  for (int64_t c = 0; c < channels; c++) {
    const double inv_std = 1.0 / std::sqrt(static_cast<double>(variance[c]) + epsilon);
    const double ds = sum_g_centred[c] * inv_std;
    const double a = scale[c] * inv_std;
    d_offset[c] = static_cast<float>(sum_g[c]);
    d_scale[c] = static_cast<float>(ds);
    a_coef[c] = static_cast<float>(a);
    b_coef[c] = static_cast<float>(a * sum_g[c] / count);
    c_coef[c] = static_cast<float>(a * inv_std * ds / count);
  }
  const float* __restrict ca = a_coef.data();
  const float* __restrict cb = b_coef.data();
  const float* __restrict cc = c_coef.data();
  // Pass 2: dx, reading g back from d_residual when it was written (one array instead of dy and y).
  ForRowRanges(s.rows, channels, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) {
      const float* __restrict dy_row = (kResidual ? d_residual : dy) + r * channels;
      const X* __restrict y_row = kRelu && !kResidual ? y + r * channels : nullptr;
      const X* __restrict x_row = x + r * channels;
      X* __restrict dx_row = dx + r * channels;
      int64_t c = 0;
      // bf16: four channels at a time in registers, as in the forward normalisation.
      if constexpr (std::is_same_v<X, uint16_t>) {
        for (; c + kChannelGroup <= channels; c += kChannelGroup) {
          const Floats4 g = kResidual ? Load<Floats4>(dy_row + c)
                                      : Upstream<kRelu>(Load<Floats4>(dy_row + c),
                                                        kRelu ? Load<Floats4>(y_row + c) : Floats4{});
          Store(dx_row + c, Load<Floats4>(ca + c) * g - Load<Floats4>(cb + c) -
                                (Load<Floats4>(x_row + c) - Load<Floats4>(mean + c)) * Load<Floats4>(cc + c));
        }
      }
      for (; c < channels; c++) {
        // Plain element reads and writes, as in the forward normalisation: they vectorise.
        const float g = kResidual ? dy_row[c] : Upstream<kRelu>(dy_row[c], kRelu ? Widen(y_row[c]) : 0.0f);
        dx_row[c] = Narrow<X>(ca[c] * g - cb[c] - (Widen(x_row[c]) - mean[c]) * cc[c]);
      }
    }
  });
}

}  // namespace

template <typename X>
void FusedBatchNormGrad(const BatchNormShape& s, const float* dy, const X* x, const float* scale,
                        const float* mean, const float* variance, const X* y, float epsilon, bool relu,
                        X* dx, float* d_scale, float* d_offset, float* d_residual) {
  if (d_residual) {
    return relu ? Grad<true, true>(s, dy, x, scale, mean, variance, y, epsilon, dx, d_scale, d_offset, d_residual)
                : Grad<false, true>(s, dy, x, scale, mean, variance, y, epsilon, dx, d_scale, d_offset, d_residual);
  }
  return relu ? Grad<true, false>(s, dy, x, scale, mean, variance, y, epsilon, dx, d_scale, d_offset, d_residual)
              : Grad<false, false>(s, dy, x, scale, mean, variance, y, epsilon, dx, d_scale, d_offset, d_residual);
}

template void FusedBatchNormGrad<float>(const BatchNormShape&, const float*, const float*, const float*,
                                        const float*, const float*, const float*, float, bool, float*, float*,
                                        float*, float*);
template void FusedBatchNormGrad<uint16_t>(const BatchNormShape&, const float*, const uint16_t*, const float*,
                                           const float*, const float*, const uint16_t*, float, bool, uint16_t*,
                                           float*, float*, float*);

}  // namespace resnet_onednn
