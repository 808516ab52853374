#include "elementwise.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace resnet_onednn {
namespace {

// Below this many elements a parallel region costs more than it saves.
constexpr int64_t kParallelThreshold = 1 << 15;

// The cpu backend's JavaScript computes each op in double and rounds once to float32. For one +,
// -, * or / float arithmetic gives that same result; the squared difference is two steps, so it
// runs in double to match bit for bit.
struct AddOp {
  static float Apply(float a, float b) { return a + b; }
};
struct SubOp {
  static float Apply(float a, float b) { return a - b; }
};
struct MulOp {
  static float Apply(float a, float b) { return a * b; }
};
struct DivOp {
  static float Apply(float a, float b) { return a / b; }
};
struct SquaredDifferenceOp {
  static float Apply(float a, float b) {
    const double d = static_cast<double>(a) - static_cast<double>(b);
    return static_cast<float>(d * d);
  }
};

// One output row (the innermost dim) with each input either contiguous or a broadcast scalar;
// the template flags let the compiler vectorise each case separately.
template <typename Op, bool kAContiguous, bool kBContiguous>
inline void Row(const float* a, const float* b, float* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = Op::Apply(a[kAContiguous ? i : 0], b[kBContiguous ? i : 0]);
}

// Walks the rows [begin, end) of the output, keeping each input's offset with an odometer over
// the outer dims: no division per row, which matters when rows are short (16 channels).
template <typename Op, bool kAContiguous, bool kBContiguous>
void RowRange(int rank, const int64_t* dims, const int64_t* a_strides, const int64_t* b_strides, const float* a,
              const float* b, float* out, int64_t begin, int64_t end) {
  const int outer = rank - 1;
  const int64_t row = dims[outer];
  int64_t index[kMaxRank] = {};
  int64_t a_offset = 0, b_offset = 0;
  for (int64_t d = outer - 1, rest = begin; d >= 0; d--) {
    index[d] = rest % dims[d];
    rest /= dims[d];
    a_offset += index[d] * a_strides[d];
    b_offset += index[d] * b_strides[d];
  }
  for (int64_t r = begin; r < end; r++) {
    Row<Op, kAContiguous, kBContiguous>(a + a_offset, b + b_offset, out + r * row, row);
    for (int d = outer - 1; d >= 0; d--) {
      a_offset += a_strides[d];
      b_offset += b_strides[d];
      if (++index[d] < dims[d]) break;
      a_offset -= dims[d] * a_strides[d];
      b_offset -= dims[d] * b_strides[d];
      index[d] = 0;
    }
  }
}

template <typename Op, bool kAContiguous, bool kBContiguous>
void BinaryRows(int rank, const int64_t* dims, const int64_t* a_strides, const int64_t* b_strides, const float* a,
                const float* b, float* out) {
  const int64_t row = dims[rank - 1];
  int64_t rows = 1;
  for (int d = 0; d < rank - 1; d++) rows *= dims[d];
  // Each thread takes one contiguous range of rows.
#pragma omp parallel if (rows * row >= kParallelThreshold)
  {
    const int64_t threads = omp_get_num_threads(), thread = omp_get_thread_num();
    const int64_t begin = rows * thread / threads, end = rows * (thread + 1) / threads;
    RowRange<Op, kAContiguous, kBContiguous>(rank, dims, a_strides, b_strides, a, b, out, begin, end);
  }
}

template <typename Op>
void BinaryBroadcast(int rank, const int64_t* dims, const int64_t* a_strides, const int64_t* b_strides,
                     const float* a, const float* b, float* out) {
  const bool a_contiguous = a_strides[rank - 1] != 0;
  const bool b_contiguous = b_strides[rank - 1] != 0;
  if (a_contiguous && b_contiguous) return BinaryRows<Op, true, true>(rank, dims, a_strides, b_strides, a, b, out);
  if (a_contiguous) return BinaryRows<Op, true, false>(rank, dims, a_strides, b_strides, a, b, out);
  if (b_contiguous) return BinaryRows<Op, false, true>(rank, dims, a_strides, b_strides, a, b, out);
  return BinaryRows<Op, false, false>(rank, dims, a_strides, b_strides, a, b, out);
}

// Rows of the [inner, channels] slab summed per block; blocks then add up in order, so the
// result does not depend on how blocks are spread over threads.
constexpr int64_t kReduceBlockRows = 512;

void ReduceSlab(const float* x, int64_t inner, int64_t channels, double scale, float* out) {
  const int64_t blocks = (inner + kReduceBlockRows - 1) / kReduceBlockRows;
  std::vector<double> partial(static_cast<size_t>(blocks * channels), 0.0);
#pragma omp parallel for schedule(static) if (inner * channels >= kParallelThreshold)
  for (int64_t blk = 0; blk < blocks; blk++) {
    double* acc = partial.data() + blk * channels;
    const int64_t end = std::min(inner, (blk + 1) * kReduceBlockRows);
    for (int64_t i = blk * kReduceBlockRows; i < end; i++) {
      const float* row = x + i * channels;
      for (int64_t c = 0; c < channels; c++) acc[c] += row[c];
    }
  }
  for (int64_t c = 0; c < channels; c++) {
    double total = 0;
    for (int64_t blk = 0; blk < blocks; blk++) total += partial[blk * channels + c];
    out[c] = static_cast<float>(total * scale);
  }
}

}  // namespace

void Binary(BinaryOp op, int rank, const int64_t* dims, const int64_t* a_strides, const int64_t* b_strides,
            const float* a, const float* b, float* out) {
  switch (op) {
    case BinaryOp::Add:
      return BinaryBroadcast<AddOp>(rank, dims, a_strides, b_strides, a, b, out);
    case BinaryOp::Sub:
      return BinaryBroadcast<SubOp>(rank, dims, a_strides, b_strides, a, b, out);
    case BinaryOp::Mul:
      return BinaryBroadcast<MulOp>(rank, dims, a_strides, b_strides, a, b, out);
    case BinaryOp::Div:
      return BinaryBroadcast<DivOp>(rank, dims, a_strides, b_strides, a, b, out);
    case BinaryOp::SquaredDifference:
      return BinaryBroadcast<SquaredDifferenceOp>(rank, dims, a_strides, b_strides, a, b, out);
  }
}

void Unary(UnaryOp op, const float* x, float* out, int64_t size, float alpha) {
  const bool parallel = size >= kParallelThreshold;
  switch (op) {
    case UnaryOp::Relu:
      // Math.max(0, x): NaN stays NaN.
#pragma omp parallel for schedule(static) if (parallel)
      for (int64_t i = 0; i < size; i++) out[i] = (x[i] > 0.0f || x[i] != x[i]) ? x[i] : 0.0f;
      return;
    case UnaryOp::Step:
#pragma omp parallel for schedule(static) if (parallel)
      for (int64_t i = 0; i < size; i++) out[i] = x[i] != x[i] ? x[i] : (x[i] > 0.0f ? 1.0f : alpha);
      return;
    case UnaryOp::Square:
#pragma omp parallel for schedule(static) if (parallel)
      for (int64_t i = 0; i < size; i++) out[i] = x[i] * x[i];
      return;
  }
}

void ReduceSum(const float* x, int64_t outer, int64_t inner, int64_t channels, double scale, float* out) {
  for (int64_t o = 0; o < outer; o++) ReduceSlab(x + o * inner * channels, inner, channels, scale, out + o * channels);
}

}  // namespace resnet_onednn
