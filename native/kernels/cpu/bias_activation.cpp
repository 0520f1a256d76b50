// Elementwise y = activation(x + bias[col]) (y may be x): the unfused form of the GEMM's bias + GELU epilogue, and an
// op of its own. The activation functions themselves live in simd.h, shared with the GEMM epilogue.
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

void BiasActivationRows(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t cols, const float* bias,
                        Activation activation, int64_t row_begin, int64_t row_end) {
  for (int64_t row = row_begin; row < row_end; ++row) {
    const float* p = x + row * ldx;
    float* q = y + row * ldy;
    for (int64_t c = 0; c < cols; c += kLanes) {
      const int64_t left = cols - c;
      if (left >= kLanes) {
        VecF v = Load(p + c);
        if (bias != nullptr) v = Add(v, Load(bias + c));
        Store(q + c, Activate(v, activation));
      } else {
        const int n = static_cast<int>(left);
        VecF v = LoadN(p + c, n);
        if (bias != nullptr) v = Add(v, LoadN(bias + c, n));
        StoreN(q + c, Activate(v, activation), n);
      }
    }
  }
}

}  // namespace POOLED_ISA_NS

#if POOLED_ISA_BASELINE
void BiasActivation(ThreadPool& pool, const float* x, float* y, int64_t rows, int64_t cols, const float* bias,
                    Activation activation) {
  if (rows < 0 || cols < 0) throw std::invalid_argument("BiasActivation: rows and cols must be >= 0");
  if (rows == 0 || cols == 0) return;
  if (x == nullptr || y == nullptr) throw std::invalid_argument("BiasActivation: x or y is null");
  const int64_t num_threads = pool.NumThreads();
  const int64_t rows_per_task = std::max<int64_t>(1, (rows + 4 * num_threads - 1) / (4 * num_threads));
  pool.Run((rows + rows_per_task - 1) / rows_per_task, [&](int64_t task, int) {
    const int64_t begin = task * rows_per_task;
    const int64_t end = std::min(rows, begin + rows_per_task);
    POOLED_DISPATCH(BiasActivationRows, x, cols, y, cols, cols, bias, activation, begin, end);
  });
}
#endif  // POOLED_ISA_BASELINE

}  // namespace pooled::kernels::cpu
