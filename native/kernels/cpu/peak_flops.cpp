// The machine's multiply-add peak, measured rather than looked up: each pool thread runs independent FMA chains
// (or bf16 dot products) on registers only, enough chains to cover the instruction latency on every port.
// Benchmarks report kernel speed as a fraction of this number.
#include <cstdint>

#include "kernels/cpu/isa_dispatch.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/simd.h"

#if POOLED_ISA_BASELINE
#include <algorithm>
#include <atomic>
#include <chrono>

#include "kernels/cpu/thread_pool.h"
#endif

namespace pooled::kernels::cpu {

POOLED_DECLARE_FOR_EACH_ISA(double PeakLoop(int64_t iterations, bool bf16, float* sink))

namespace POOLED_ISA_NS {

// Returns the floating-point operations done. 12 chains x 4-cycle latency keeps two FMA ports busy. Each chain
// starts from a different value: identical chains would be merged by the compiler into one.
double PeakLoop(int64_t iterations, bool bf16, float* sink) {
  constexpr int kChains = 12;
#if defined(__AVX512BF16__)
  if (bf16) {
    __m512 acc[kChains];
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(static_cast<float>(c));
    const __m512bh x = (__m512bh)_mm512_set1_epi32(0x3a803a80);  // pairs of bf16 0.00098
    for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
      for (int c = 0; c < kChains; ++c) acc[c] = _mm512_dpbf16_ps(acc[c], x, x);
    }
    __m512 total = acc[0];
    for (int c = 1; c < kChains; ++c) total = _mm512_add_ps(total, acc[c]);
    *sink = _mm512_reduce_add_ps(total);
    return static_cast<double>(iterations) * kChains * 16 * 4;  // 16 lanes x 2 products x (mul + add)
  }
#else
  (void)bf16;
#endif
  VecF acc[kChains];
#pragma GCC unroll 12
  for (int c = 0; c < kChains; ++c) acc[c] = Set1(static_cast<float>(c));
  const VecF a = Set1(1e-3f);
  const VecF b = Set1(1e-3f);
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c) acc[c] = Fma(a, b, acc[c]);
  }
  VecF total = acc[0];
  for (int c = 1; c < kChains; ++c) total = Add(total, acc[c]);
  *sink = ReduceAdd(total);
  return static_cast<double>(iterations) * kChains * kLanes * 2;
}

}  // namespace POOLED_ISA_NS

#if POOLED_ISA_BASELINE
double MeasurePeakGflops(ThreadPool& pool, bool bf16, double seconds) {
  // The instruction's own peak, whether or not the GEMM chose it (see HasBf16DotProduct).
  const bool use_bf16 = bf16 && SelectedIsa() == Isa::kAvx512 && DetectCpuFeatures().avx512bf16;
  float sink = 0.0f;
  // Calibrate on one thread, then run every thread for about `seconds`.
  int64_t iterations = 1 << 16;
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    POOLED_DISPATCH(PeakLoop, iterations, use_bf16, &sink);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed > 0.02) {
      iterations = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(iterations) * seconds / elapsed));
      break;
    }
    iterations *= 4;
  }
  std::atomic<double> flops{0.0};
  const int threads = pool.NumThreads();
  const auto start = std::chrono::steady_clock::now();
  pool.Run(threads, [&](int64_t, int) {
    float local = 0.0f;
    auto run = [&]() -> double { POOLED_DISPATCH_RETURN(PeakLoop, iterations, use_bf16, &local); };
    const double done = run();
    double expected = flops.load();
    while (!flops.compare_exchange_weak(expected, expected + done)) {
    }
  });
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return flops.load() / elapsed / 1e9;
}
#endif  // POOLED_ISA_BASELINE

}  // namespace pooled::kernels::cpu
