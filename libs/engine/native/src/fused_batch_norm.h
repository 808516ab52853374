// Training-mode batch norm fused with the ReLU and residual add that follow it in a ResNet, as
// plain loops over NHWC activations viewed as [rows, channels] (rows = N·H·W): the forward pass
// reads x twice, the backward pass reads its inputs twice, where the same math as separate
// elementwise ops makes about 15 passes. oneDNN's batch-norm primitives would need their own
// ReLU workspace, where the tfjs gradient gets the forward output y instead.
//
// Results do not depend on the thread count: channel sums add fixed blocks of rows in a fixed
// order, and every other loop is elementwise.
//
// X, the type the activations (x, residual, y, dx) are stored in, is float or uint16_t (bfloat16,
// in a bf16 job): the arithmetic and the statistics are float32 either way.
#pragma once

#include <cstdint>

namespace resnet_onednn {

struct BatchNormShape {
  int64_t rows;
  int64_t channels;
};

// y = act(scale·(x − mean)/sqrt(variance + epsilon) + offset (+ residual)), act = ReLU or
// identity; mean and biased variance per channel are outputs too. residual may be null.
template <typename X>
void FusedBatchNorm(const BatchNormShape& s, const X* x, const float* scale, const float* offset,
                    const X* residual, float epsilon, bool relu, X* y, float* mean, float* variance);

// With g = relu ? dy·(y > 0) : dy and x̂ = (x − mean)/sqrt(variance + epsilon):
//   d_offset = Σ g, d_scale = Σ g·x̂, dx = scale/sqrt(variance + epsilon)·(g − d_offset/M − x̂·d_scale/M),
//   d_residual = g (skipped when null).
template <typename X>
void FusedBatchNormGrad(const BatchNormShape& s, const float* dy, const X* x, const float* scale,
                        const float* mean, const float* variance, const X* y, float epsilon, bool relu,
                        X* dx, float* d_scale, float* d_offset, float* d_residual);

}  // namespace resnet_onednn
