// SwiGLU of Qwen3MLP: silu(gate) * up, with gate and up side by side in each row (gate_proj and up_proj packed as one
// [2I, H] GEMM). silu(x) = x / (1 + e^-x); e^x from simd.h's Exp (about 1 ulp, clamped to [-80, 88], where the
// quotient is already 0 or x to float32 precision).
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

POOLED_DECLARE_FOR_EACH_ISA(void SwiGluRows(const float* gate_up, int64_t ld_in, float* out, int64_t ldo, int64_t cols,
                                            int64_t row_begin, int64_t row_end))

namespace POOLED_ISA_NS {

void SwiGluRows(const float* gate_up, int64_t ld_in, float* out, int64_t ldo, int64_t cols, int64_t row_begin,
                int64_t row_end) {
  const VecF one = Set1(1.0f);
  for (int64_t row = row_begin; row < row_end; ++row) {
    const float* gate = gate_up + row * ld_in;
    const float* up = gate + cols;
    float* dst = out + row * ldo;
    for (int64_t c = 0; c < cols; c += kLanes) {
      const int64_t left = cols - c;
      const bool full = left >= kLanes;
      const VecF g = full ? Load(gate + c) : LoadN(gate + c, static_cast<int>(left));
      const VecF u = full ? Load(up + c) : LoadN(up + c, static_cast<int>(left));
      const VecF silu = Div(g, Add(one, Exp(Sub(Zero(), g))));
      if (full) {
        Store(dst + c, Mul(silu, u));
      } else {
        StoreN(dst + c, Mul(silu, u), static_cast<int>(left));
      }
    }
  }
}

}  // namespace POOLED_ISA_NS

#if POOLED_ISA_BASELINE
void SwiGlu(ThreadPool& pool, const float* gate_up, int64_t ld_in, float* out, int64_t ldo, int64_t rows,
            int64_t cols) {
  if (rows < 0 || cols <= 0) {
    throw std::invalid_argument("SwiGlu: need rows >= 0 and cols > 0, got rows=" + std::to_string(rows) +
                                " cols=" + std::to_string(cols));
  }
  if (rows == 0) return;
  if (gate_up == nullptr || out == nullptr) throw std::invalid_argument("SwiGlu: null argument");
  if (ld_in < 2 * cols || ldo < cols) throw std::invalid_argument("SwiGlu: row strides too short");
  const int64_t num_threads = pool.NumThreads();
  const int64_t rows_per_task = std::max<int64_t>(1, (rows + 4 * num_threads - 1) / (4 * num_threads));
  pool.Run((rows + rows_per_task - 1) / rows_per_task, [&](int64_t task, int) {
    const int64_t begin = task * rows_per_task;
    const int64_t end = std::min(rows, begin + rows_per_task);
    POOLED_DISPATCH(SwiGluRows, gate_up, ld_in, out, ldo, cols, begin, end);
  });
}
#endif  // POOLED_ISA_BASELINE

}  // namespace pooled::kernels::cpu
