// Qwen3RMSNorm: y = weight * x / sqrt(mean(x^2) + eps) over groups of `cols` values (the hidden state, or each head's
// head_dim values for q_norm / k_norm). The sum of squares is accumulated in float32 vectors (upstream also computes
// the statistic in float32); no mean is subtracted, so there is no cancellation to guard against.
#include <cstdint>

#include "kernels/cpu/isa_dispatch.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/simd.h"

#if POOLED_ISA_BASELINE
#include <algorithm>
#include <stdexcept>
#include <string>

#include "kernels/cpu/thread_pool.h"
#endif

namespace pooled::kernels::cpu {

POOLED_DECLARE_FOR_EACH_ISA(void RmsNormRows(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t groups,
                                             int64_t cols, const float* weight, float eps, int64_t row_begin,
                                             int64_t row_end))

namespace POOLED_ISA_NS {

namespace {
inline VecF LoadUpTo(const float* p, int64_t left) {
  return left >= kLanes ? Load(p) : LoadN(p, static_cast<int>(left));
}
inline void StoreUpTo(float* p, VecF x, int64_t left) {
  if (left >= kLanes) {
    Store(p, x);
  } else {
    StoreN(p, x, static_cast<int>(left));
  }
}
}  // namespace

void RmsNormRows(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t groups, int64_t cols, const float* weight,
                 float eps, int64_t row_begin, int64_t row_end) {
  for (int64_t row = row_begin; row < row_end; ++row) {
    for (int64_t g = 0; g < groups; ++g) {
      const float* src = x + row * ldx + g * cols;
      float* dst = y + row * ldy + g * cols;
      VecF sum0 = Zero();
      VecF sum1 = Zero();
      int64_t c = 0;
      for (; c + 2 * kLanes <= cols; c += 2 * kLanes) {
        const VecF a = Load(src + c);
        const VecF b = Load(src + c + kLanes);
        sum0 = Fma(a, a, sum0);
        sum1 = Fma(b, b, sum1);
      }
      for (; c < cols; c += kLanes) {
        const VecF a = LoadUpTo(src + c, cols - c);  // lanes past cols load as 0
        sum0 = Fma(a, a, sum0);
      }
      const float inverse_rms = 1.0f / Sqrt(ReduceAdd(Add(sum0, sum1)) / static_cast<float>(cols) + eps);
      const VecF scale = Set1(inverse_rms);
      for (c = 0; c < cols; c += kLanes) {
        const int64_t left = cols - c;
        // weight * (x * inverse_rms), the order of Qwen3RMSNorm.forward.
        StoreUpTo(dst + c, Mul(LoadUpTo(weight + c, left), Mul(LoadUpTo(src + c, left), scale)), left);
      }
    }
  }
}

}  // namespace POOLED_ISA_NS

#if POOLED_ISA_BASELINE
void RmsNorm(ThreadPool& pool, const float* x, int64_t ldx, float* y, int64_t ldy, int64_t rows, int64_t groups,
             int64_t cols, const float* weight, float eps) {
  if (rows < 0 || groups <= 0 || cols <= 0) {
    throw std::invalid_argument("RmsNorm: need rows >= 0, groups > 0 and cols > 0, got rows=" + std::to_string(rows) +
                                " groups=" + std::to_string(groups) + " cols=" + std::to_string(cols));
  }
  if (rows == 0) return;
  if (x == nullptr || y == nullptr || weight == nullptr) throw std::invalid_argument("RmsNorm: null argument");
  if (ldx < groups * cols || ldy < groups * cols)
    throw std::invalid_argument("RmsNorm: row stride shorter than groups * cols");
  if (!(eps >= 0.0f)) throw std::invalid_argument("RmsNorm: eps must be >= 0");
  const int64_t num_threads = pool.NumThreads();
  const int64_t rows_per_task = std::max<int64_t>(1, (rows + 4 * num_threads - 1) / (4 * num_threads));
  pool.Run((rows + rows_per_task - 1) / rows_per_task, [&](int64_t task, int) {
    const int64_t begin = task * rows_per_task;
    const int64_t end = std::min(rows, begin + rows_per_task);
    POOLED_DISPATCH(RmsNormRows, x, ldx, y, ldy, groups, cols, weight, eps, begin, end);
  });
}
#endif  // POOLED_ISA_BASELINE

}  // namespace pooled::kernels::cpu
