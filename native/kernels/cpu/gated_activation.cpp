// Gated activation (the GLU family): out = act(a) * b, where a and b are the two halves of each row of one fused
// [2I, H] GEMM's output. SwiGLU of Qwen3MLP is act = SiLU with a = gate_proj (the first half); GeGLU of ModernBertMLP
// is act = exact GELU with a = the first half of Wi's output ("input, gate = Wi(x).chunk(2)"; act(input) * gate);
// NomicBERT / GTE put the activated half second. Which half is activated is therefore a parameter, not a convention.
//
// The row loop is instantiated once per activation, so the activation is chosen once per block of rows and the SiLU
// loop is the same straight-line code the SwiGLU kernel had. SiLU: x / (1 + e^-x); e^x from simd.h's Exp (about
// 1 ulp, clamped to [-80, 88], where the quotient is already 0 or x to float32 precision). GELU: simd.h's GeluErf /
// GeluTanh, shared with the GEMM epilogue.
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

POOLED_DECLARE_FOR_EACH_ISA(void GatedActivationRows(const float* in, int64_t ld_in, float* out, int64_t ldo,
                                                     int64_t cols, Activation activation, GatedHalf activated_half,
                                                     int64_t row_begin, int64_t row_end))

namespace POOLED_ISA_NS {

namespace {

template <VecF (*Act)(VecF)>
void GatedRows(const float* in, int64_t ld_in, float* out, int64_t ldo, int64_t cols, int64_t activated_offset,
               int64_t other_offset, int64_t row_begin, int64_t row_end) {
  for (int64_t row = row_begin; row < row_end; ++row) {
    const float* activated = in + row * ld_in + activated_offset;
    const float* other = in + row * ld_in + other_offset;
    float* dst = out + row * ldo;
    for (int64_t c = 0; c < cols; c += kLanes) {
      const int64_t left = cols - c;
      if (left >= kLanes) {
        Store(dst + c, Mul(Act(Load(activated + c)), Load(other + c)));
      } else {
        const int n = static_cast<int>(left);
        StoreN(dst + c, Mul(Act(LoadN(activated + c, n)), LoadN(other + c, n)), n);
      }
    }
  }
}

}  // namespace

void GatedActivationRows(const float* in, int64_t ld_in, float* out, int64_t ldo, int64_t cols, Activation activation,
                         GatedHalf activated_half, int64_t row_begin, int64_t row_end) {
  const int64_t activated_offset = activated_half == GatedHalf::kFirst ? 0 : cols;
  const int64_t other_offset = activated_half == GatedHalf::kFirst ? cols : 0;
  switch (activation) {
    case Activation::kSilu:
      GatedRows<Silu>(in, ld_in, out, ldo, cols, activated_offset, other_offset, row_begin, row_end);
      break;
    case Activation::kGeluErf:
      GatedRows<GeluErf>(in, ld_in, out, ldo, cols, activated_offset, other_offset, row_begin, row_end);
      break;
    case Activation::kGeluTanh:
      GatedRows<GeluTanh>(in, ld_in, out, ldo, cols, activated_offset, other_offset, row_begin, row_end);
      break;
    default:
      break;  // refused by GatedActivation before any row is touched
  }
}

}  // namespace POOLED_ISA_NS

#if POOLED_ISA_BASELINE
void GatedActivation(ThreadPool& pool, const float* in, int64_t ld_in, float* out, int64_t ldo, int64_t rows,
                     int64_t cols, Activation activation, GatedHalf activated_half) {
  if (rows < 0 || cols <= 0) {
    throw std::invalid_argument("GatedActivation: need rows >= 0 and cols > 0, got rows=" + std::to_string(rows) +
                                " cols=" + std::to_string(cols));
  }
  if (activation != Activation::kSilu && activation != Activation::kGeluErf && activation != Activation::kGeluTanh) {
    throw std::invalid_argument("GatedActivation: the activation must be SiLU, exact GELU or tanh GELU");
  }
  if (activated_half != GatedHalf::kFirst && activated_half != GatedHalf::kSecond) {
    throw std::invalid_argument("GatedActivation: activated_half must be kFirst or kSecond");
  }
  if (rows == 0) return;
  if (in == nullptr || out == nullptr) throw std::invalid_argument("GatedActivation: null argument");
  if (ld_in < 2 * cols || ldo < cols) throw std::invalid_argument("GatedActivation: row strides too short");
  const int64_t num_threads = pool.NumThreads();
  const int64_t rows_per_task = std::max<int64_t>(1, (rows + 4 * num_threads - 1) / (4 * num_threads));
  pool.Run((rows + rows_per_task - 1) / rows_per_task, [&](int64_t task, int) {
    const int64_t begin = task * rows_per_task;
    const int64_t end = std::min(rows, begin + rows_per_task);
    POOLED_DISPATCH(GatedActivationRows, in, ld_in, out, ldo, cols, activation, activated_half, begin, end);
  });
}
#endif  // POOLED_ISA_BASELINE

}  // namespace pooled::kernels::cpu
