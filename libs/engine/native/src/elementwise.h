// Plain C++ loops for the memory-bound ops around the convolutions (oneDNN's eltwise/binary/
// reduction primitives would each need a primitive per shape and bring nothing for these sizes).
// Every result is independent of the thread count: elementwise work is split by element, and
// reductions add fixed-size blocks in a fixed order.
#pragma once

#include <cstdint>

namespace resnet_onednn {

// The most dims a broadcast may keep once neighbouring dims are merged.
constexpr int kMaxRank = 8;

enum class BinaryOp { Add = 0, Sub = 1, Mul = 2, Div = 3, SquaredDifference = 4 };

// out = a op b with NumPy broadcasting, described by the caller as a dense output of `rank` dims
// and each input's element strides per output dim (0 where that input is broadcast). The last
// dim's strides must be 0 or 1; rank is at most kMaxRank.
void Binary(BinaryOp op, int rank, const int64_t* dims, const int64_t* a_strides, const int64_t* b_strides,
            const float* a, const float* b, float* out);

enum class UnaryOp { Relu = 0, Step = 1, Square = 2 };

// out[i] = op(x[i]); `alpha` is Step's value for x <= 0.
void Unary(UnaryOp op, const float* x, float* out, int64_t size, float alpha);

// Views x as [outer, inner, channels] and sums over `inner`:
//   out[o, c] = scale * sum_i x[o, i, c]
// accumulating in double, as the cpu backend does.
void ReduceSum(const float* x, int64_t outer, int64_t inner, int64_t channels, double scale, float* out);

}  // namespace resnet_onednn
