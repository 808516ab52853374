// Per-channel sums over the rows of a [rows, channels] view, shared by the fused batch-norm
// kernels. Rows are summed in float over short runs and in double over fixed blocks, and the
// blocks then add up in order: accurate, vectorised over channels, and the same for any number
// of threads.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "bf16.h"

namespace resnet_onednn {

// Rows per float run: short enough that float rounding stays near that of a double sum.
constexpr int64_t kFloatRunRows = 16;
// Rows per block whose double sums are kept apart until the final ordered sum.
constexpr int64_t kSumBlockRows = 1024;
// Below this many elements a parallel region costs more than it saves.
constexpr int64_t kBatchNormParallelThreshold = 1 << 15;

// Four channels as one value: GCC's vector extension, an SSE register on the baseline x86-64
// ISA and a NEON register on ARM.
using Floats4 = float __attribute__((vector_size(16)));
constexpr int64_t kChannelGroup = 4;
// Four bf16 values, and four 32-bit words, for converting a Floats4 to and from bf16 in registers.
using Halves4 = uint16_t __attribute__((vector_size(8)));
using Words4 = uint32_t __attribute__((vector_size(16)));

// Loads or stores a Floats4 or a float at p, aligned or not.
template <typename V>
inline V Load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}
template <typename V>
inline void Store(float* p, const V& v) {
  std::memcpy(p, &v, sizeof(V));
}

// The same for activations stored as bfloat16 (see bf16.h), widened on load: four at once by
// moving each 16-bit value into the high half of a 32-bit lane in registers. Built lane by lane in
// memory instead, the baseline ISA's code stalled on store forwarding, and the bf16 batch-norm
// statistics pass ran 10 times slower than the float32 one.
template <typename V>
inline V Load(const uint16_t* p) {
  if constexpr (std::is_same_v<V, Floats4>) {
    Halves4 halves;
    std::memcpy(&halves, p, sizeof halves);
    return reinterpret_cast<Floats4>(__builtin_convertvector(halves, Words4) << 16);
  } else {
    return Bf16ToFloat(*p);
  }
}

// Four float32 values rounded to bfloat16 as FloatToBf16 rounds each (bf16.h), in registers.
inline void Store(uint16_t* p, const Floats4& v) {
  const Halves4 halves = __builtin_convertvector(Bf16RoundedBits(reinterpret_cast<Words4>(v)) >> 16, Halves4);
  std::memcpy(p, &halves, sizeof halves);
}

// first[c] and second[c] = the sums over all rows of two per-element terms. terms(i, c, a, b)
// adds the terms of the element at index i (channel c) into a and b, either for 4 channels at once
// (a, b: Floats4, so that its arithmetic runs on vector registers) or for one (float). Each
// element is visited once, by one thread, so `terms` may also write per-element outputs.
template <typename Terms>
void ChannelSums(int64_t rows, int64_t channels, Terms terms, double* first, double* second) {
  const int64_t blocks = (rows + kSumBlockRows - 1) / kSumBlockRows;
  const int64_t grouped = channels - channels % kChannelGroup;
  std::vector<double> partial(static_cast<size_t>(2 * blocks * channels), 0.0);
#pragma omp parallel for schedule(static) if (rows * channels >= kBatchNormParallelThreshold)
  for (int64_t blk = 0; blk < blocks; blk++) {
    double* block_a = partial.data() + 2 * blk * channels;
    double* block_b = block_a + channels;
    const int64_t begin = blk * kSumBlockRows, end = std::min(rows, (blk + 1) * kSumBlockRows);
    // A run of rows (a few kB, in L1) at a time, all channels of it a group at a time: the float
    // sums of a group live in registers, and each run adds into the block's double sums once.
    for (int64_t r0 = begin; r0 < end; r0 += kFloatRunRows) {
      const int64_t r1 = std::min(end, r0 + kFloatRunRows);
      for (int64_t c0 = 0; c0 < grouped; c0 += kChannelGroup) {
        Floats4 run_a = {}, run_b = {};
        for (int64_t r = r0; r < r1; r++) terms(r * channels + c0, c0, run_a, run_b);
        for (int64_t k = 0; k < kChannelGroup; k++) {
          block_a[c0 + k] += run_a[k];
          block_b[c0 + k] += run_b[k];
        }
      }
      for (int64_t c = grouped; c < channels; c++) {
        float run_a = 0, run_b = 0;
        for (int64_t r = r0; r < r1; r++) terms(r * channels + c, c, run_a, run_b);
        block_a[c] += run_a;
        block_b[c] += run_b;
      }
    }
  }
  std::fill(first, first + channels, 0.0);
  std::fill(second, second + channels, 0.0);
  for (int64_t blk = 0; blk < blocks; blk++) {
    const double* block_a = partial.data() + 2 * blk * channels;
    const double* block_b = block_a + channels;
    for (int64_t c = 0; c < channels; c++) {
      first[c] += block_a[c];
      second[c] += block_b[c];
    }
  }
}

// Runs body(begin, end) over contiguous ranges of rows, one per thread.
template <typename Body>
void ForRowRanges(int64_t rows, int64_t channels, Body body) {
#pragma omp parallel if (rows * channels >= kBatchNormParallelThreshold)
  {
    const int64_t threads = omp_get_num_threads(), thread = omp_get_thread_num();
    body(rows * thread / threads, rows * (thread + 1) / threads);
  }
}

}  // namespace resnet_onednn
