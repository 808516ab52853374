// NHWC max pooling (the ImageNet stem's 3x3 stride-2 pool) and its gradient as plain loops: the
// gradient must pick, like tfjs' cpu kernels, the first maximum of each window in row-major order,
// and tfjs' MaxPoolGrad gets the pool's input, not the workspace oneDNN's backward pass needs.
#pragma once

#include <array>

namespace resnet_onednn {

// x [n,h,w,c] pooled by kh x kw windows at the given strides and top/left padding into
// y [n,oh,ow,c]. Windows cover only real pixels (padding never wins); an empty or all-NaN
// window gives -Infinity, as in tfjs.
struct PoolGeometry {
  int n, h, w, c, kh, kw, oh, ow, stride_h, stride_w, pad_top, pad_left;
  static constexpr int kFields = 12;
};

void MaxPool(const PoolGeometry& g, const float* x, float* y);

// dx[n,h,w,c] = sum of dy over the windows whose first maximum is at (h, w), summed in double.
void MaxPoolGrad(const PoolGeometry& g, const float* x, const float* dy, float* dx);

}  // namespace resnet_onednn
