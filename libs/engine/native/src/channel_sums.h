// Per-channel sums over the rows of a [rows, channels] view, shared by the fused batch-norm
// kernels. Rows are summed in float over short runs and in double over fixed blocks, and the
// blocks then add up in order: accurate, vectorised over channels, and the same for any number
// of threads.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace resnet_onednn {

// Rows per float run: short enough that float rounding stays near that of a double sum.
constexpr int64_t kFloatRunRows = 16;
// Rows per block whose double sums are kept apart until the final ordered sum.
constexpr int64_t kSumBlockRows = 1024;
// Below this many elements a parallel region costs more than it saves.
constexpr int64_t kBatchNormParallelThreshold = 1 << 15;

// first[c] and second[c] = the sums over all rows of two per-element terms, which
// terms(row, a, b) adds for one row into the float runs a[c] and b[c]. Each row is visited once,
// by one thread, so `terms` may also write per-row outputs.
template <typename Terms>
void ChannelSums(int64_t rows, int64_t channels, Terms terms, double* first, double* second) {
  const int64_t blocks = (rows + kSumBlockRows - 1) / kSumBlockRows;
  std::vector<double> partial(static_cast<size_t>(2 * blocks * channels), 0.0);
#pragma omp parallel if (rows * channels >= kBatchNormParallelThreshold)
  {
    std::vector<float> run(static_cast<size_t>(2 * channels));
    float* __restrict run_a = run.data();
    float* __restrict run_b = run.data() + channels;
#pragma omp for schedule(static)
    for (int64_t blk = 0; blk < blocks; blk++) {
      double* block_a = partial.data() + 2 * blk * channels;
      double* block_b = block_a + channels;
      const int64_t end = std::min(rows, (blk + 1) * kSumBlockRows);
      for (int64_t r0 = blk * kSumBlockRows; r0 < end; r0 += kFloatRunRows) {
        std::fill(run.begin(), run.end(), 0.0f);
        const int64_t r1 = std::min(end, r0 + kFloatRunRows);
        for (int64_t r = r0; r < r1; r++) terms(r, run_a, run_b);
        for (int64_t c = 0; c < channels; c++) {
          block_a[c] += run_a[c];
          block_b[c] += run_b[c];
        }
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
