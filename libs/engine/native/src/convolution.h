// NHWC 2-D convolutions (forward, input gradient, filter gradient) on oneDNN, with the primitives
// cached by shape so that a training loop pays for primitive creation (JIT code generation) once.
#pragma once

#include <array>

namespace resnet_onednn {

enum class ConvPass { Forward = 0, BackwardData = 1, BackwardWeights = 2 };

// What the convolution computes in. Bf16 is mixed precision as PyTorch's autocast runs it: the
// float32 inputs are rounded to bfloat16 (one reorder each, fused with the weights' layout change),
// the products are accumulated in float32, and the output is float32.
enum class ConvPrecision { F32 = 0, Bf16 = 1 };

// Shapes and padding of the forward convolution y = conv(x, w): x [n,h,w,ci], w [kh,kw,ci,co]
// (TensorFlow's HWIO), y [n,oh,ow,co]; strides and the four paddings in pixels.
struct ConvGeometry {
  int n, h, w, ci, co, kh, kw, oh, ow, stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right;
  static constexpr int kFields = 15;
  std::array<int, kFields> AsArray() const;
};

// A tensor of a convolution: dense, in TensorFlow's layout (NHWC, HWIO), float32 or, for the
// activations of a bf16 convolution, bfloat16.
struct ConvOperand {
  void* data;
  bool bf16;
};

// Runs one pass of the convolution described by `g` on the calling thread's stream:
//   Forward:          a = x,  b = w,  out = y
//   BackwardData:     a = dy, b = w,  out = dx
//   BackwardWeights:  a = x,  b = dy, out = dw
// Weights and their gradient are float32; a float32 activation that a bf16 convolution reads is
// rounded to bf16 on the way in, so activations already in bf16 cost no conversion. Throws dnnl::error.
void RunConvolution(ConvPass pass, ConvPrecision precision, const ConvGeometry& g, ConvOperand a, ConvOperand b,
                    ConvOperand out);

// Whether oneDNN runs bf16 convolutions on this CPU with a JIT kernel of its own (AVX512_BF16 or
// AMX) rather than its reference loops, which emulate bf16 at a fraction of float32's speed.
bool NativeBf16Convolutions();

// Drops every cached primitive; primitives size their scratch buffers for the thread count they
// were created under, so this must follow a change of the thread count.
void ClearConvolutionCache();

}  // namespace resnet_onednn
