// LayerNorm over rows, optionally of (x + residual): torch.nn.LayerNorm semantics (biased variance, eps inside the
// square root), statistics in float32 with two passes (mean, then squared deviations), which does not cancel
// the way E[x^2] - E[x]^2 does.
#include <cstdint>

#include "kernels/cpu/isa_dispatch.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/row_kernels.h"
#include "kernels/cpu/simd.h"

#if POOLED_ISA_BASELINE
#include <algorithm>
#include <stdexcept>
#include <string>

#include "kernels/cpu/thread_pool.h"
#endif

namespace pooled::kernels::cpu {

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

void LayerNormRows(const float* x, int64_t ldx, const float* residual, int64_t ldr, float* y, int64_t ldy, int64_t cols,
                   const float* gamma, const float* beta, float eps, int64_t row_begin, int64_t row_end) {
  for (int64_t row = row_begin; row < row_end; ++row) {
    const float* src = x + row * ldx;
    float* dst = y + row * ldy;
    // Two accumulators hide the add latency; lanes past `cols` load as zeros and add nothing.
    VecF sum0 = Zero();
    VecF sum1 = Zero();
    if (residual != nullptr) {
      const float* res = residual + row * ldr;
      for (int64_t c = 0; c < cols; c += kLanes) {
        const VecF s = Add(LoadUpTo(src + c, cols - c), LoadUpTo(res + c, cols - c));
        StoreUpTo(dst + c, s, cols - c);
        sum0 = Add(sum0, s);
      }
      src = dst;  // from here on, normalize the sum
    } else {
      int64_t c = 0;
      for (; c + 2 * kLanes <= cols; c += 2 * kLanes) {
        sum0 = Add(sum0, Load(src + c));
        sum1 = Add(sum1, Load(src + c + kLanes));
      }
      for (; c < cols; c += kLanes) sum0 = Add(sum0, LoadUpTo(src + c, cols - c));
    }
    const float mean = ReduceAdd(Add(sum0, sum1)) / static_cast<float>(cols);
    const VecF mean_v = Set1(mean);
    VecF squares = Zero();
    for (int64_t c = 0; c < cols; c += kLanes) {
      const int64_t left = cols - c;
      VecF d = Sub(LoadUpTo(src + c, left), mean_v);
      if (left < kLanes) d = LoadN(reinterpret_cast<const float*>(&d), static_cast<int>(left));  // zero the tail
      squares = Fma(d, d, squares);
    }
    const float inverse_std = 1.0f / Sqrt(ReduceAdd(squares) / static_cast<float>(cols) + eps);
    const VecF scale = Set1(inverse_std);
    for (int64_t c = 0; c < cols; c += kLanes) {
      const int64_t left = cols - c;
      const VecF normalized = Mul(Sub(LoadUpTo(src + c, left), mean_v), scale);
      StoreUpTo(dst + c, Fma(normalized, LoadUpTo(gamma + c, left), LoadUpTo(beta + c, left)), left);
    }
  }
}

}  // namespace POOLED_ISA_NS

#if POOLED_ISA_BASELINE
void LayerNorm(ThreadPool& pool, const float* x, const float* residual, float* y, int64_t rows, int64_t cols,
               const float* gamma, const float* beta, float eps) {
  if (rows < 0 || cols <= 0) {
    throw std::invalid_argument("LayerNorm: need rows >= 0 and cols > 0, got rows=" + std::to_string(rows) +
                                " cols=" + std::to_string(cols));
  }
  if (rows == 0) return;
  if (x == nullptr || y == nullptr || gamma == nullptr || beta == nullptr)
    throw std::invalid_argument("LayerNorm: null argument");
  if (!(eps >= 0.0f)) throw std::invalid_argument("LayerNorm: eps must be >= 0");
  const int64_t num_threads = pool.NumThreads();
  const int64_t rows_per_task = std::max<int64_t>(1, (rows + 4 * num_threads - 1) / (4 * num_threads));
  pool.Run((rows + rows_per_task - 1) / rows_per_task, [&](int64_t task, int) {
    const int64_t begin = task * rows_per_task;
    const int64_t end = std::min(rows, begin + rows_per_task);
    POOLED_DISPATCH(LayerNormRows, x, cols, residual, cols, y, cols, cols, gamma, beta, eps, begin, end);
  });
}
#endif  // POOLED_ISA_BASELINE

}  // namespace pooled::kernels::cpu
