// The machine's memory bandwidth, measured rather than looked up, the way STREAM's triad does it: a[i] = b[i] + s *
// c[i] over three arrays much larger than the last-level cache, every pool thread streaming its own contiguous slice.
// Benchmarks report memory-bound ops (LayerNorm, bias + activation, embeddings, pooling) as a fraction of this
// number, counting bytes the same way (each array read or written once, no write-allocate traffic).
#include <cstdint>

#include "kernels/cpu/isa_dispatch.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/simd.h"

#if POOLED_ISA_BASELINE
#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "kernels/cpu/thread_pool.h"
#endif

namespace pooled::kernels::cpu {

POOLED_DECLARE_FOR_EACH_ISA(void TriadRange(float* a, const float* b, const float* c, float s, int64_t n))

namespace POOLED_ISA_NS {

void TriadRange(float* a, const float* b, const float* c, float s, int64_t n) {
  const VecF scale = Set1(s);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) Store(a + i, Fma(scale, Load(c + i), Load(b + i)));
  for (; i < n; ++i) a[i] = b[i] + s * c[i];
}

}  // namespace POOLED_ISA_NS

#if POOLED_ISA_BASELINE
double MeasureMemoryBandwidth(ThreadPool& pool, int64_t bytes_per_array, double seconds) {
  if (bytes_per_array < (int64_t{1} << 20))
    throw std::invalid_argument("MeasureMemoryBandwidth: bytes_per_array must be >= 1 MiB");
  if (!(seconds > 0)) throw std::invalid_argument("MeasureMemoryBandwidth: seconds must be > 0");
  const int64_t n = bytes_per_array / static_cast<int64_t>(sizeof(float));
  const size_t bytes = static_cast<size_t>(n) * sizeof(float);
  AlignedBuffer a(bytes), b(bytes), c(bytes);  // zero-filled: every page is touched before timing
  float* pa = static_cast<float*>(a.data());
  const float* pb = static_cast<const float*>(b.data());
  const float* pc = static_cast<const float*>(c.data());
  const int threads = pool.NumThreads();
  // Slices of whole cache lines, one per thread.
  const int64_t slice = ((n + threads - 1) / threads + 15) / 16 * 16;
  auto pass = [&]() -> double {
    const auto start = std::chrono::steady_clock::now();
    pool.Run(threads, [&](int64_t task, int) {
      const int64_t begin = std::min(n, task * slice);
      const int64_t end = std::min(n, begin + slice);
      POOLED_DISPATCH(TriadRange, pa + begin, pb + begin, pc + begin, 3.0f, end - begin);
    });
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  pass();  // warm-up: threads awake, TLBs
  double best = pass();
  double total = best;
  while (total < seconds) {
    const double t = pass();
    best = std::min(best, t);
    total += t;
  }
  return 3.0 * static_cast<double>(bytes) / best / 1e9;
}
#endif  // POOLED_ISA_BASELINE

}  // namespace pooled::kernels::cpu
