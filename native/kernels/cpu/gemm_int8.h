#pragma once
// The int8 GEMM's pieces (gemm_int8.cpp), called from Gemm() (gemm.cpp) when the packed weights are int8: Gemm()
// checks the arguments and splits the work as for every weight type; this part quantizes the activations and runs
// one unit of the integer product with its dequantizing epilogue.
#include <cstdint>

#include "kernels/cpu/isa_dispatch.h"
#include "kernels/cpu/kernels.h"

namespace pooled::kernels::cpu {

class ThreadPool;

namespace gemm_int8 {
// Activations quantized per row: x[r][k] ~= scales[r] * (data[r * ld + k] - zero_points[r]); bytes past k are 0.
struct QuantizedRows {
  const uint8_t* data;
  int64_t ld;  // the weights' k_padded
  const float* scales;
  const int32_t* zero_points;
};

struct UnitArgs {
  QuantizedRows a;
  PackedWeightsView w;
  float* c;
  int64_t ldc;
  const float* bias;
  Activation activation;
  const float* residual;
  int64_t ldr;
  int64_t panels_per_block;  // weight panels kept in L2 together
  bool dot;                  // a VNNI instruction is there (HasInt8DotProduct)
};
}  // namespace gemm_int8

// Rows [row_begin, row_end) of a[., lda] (k values each) -> uint8 rows of `ld` bytes, with their scales and zero
// points (the scheme in kernels.h, rounding half to even).
POOLED_DECLARE_FOR_EACH_ISA(void QuantizeRowsU8(const float* a, int64_t lda, int64_t k, int64_t row_begin,
                                                int64_t row_end, uint8_t* data, int64_t ld, float* scales,
                                                int32_t* zero_points))
// C rows [row_begin, row_end) x panels [panel_begin, panel_end), the whole of k, bias, activation and residual.
POOLED_DECLARE_FOR_EACH_ISA(int64_t GemmInt8TileRows())
POOLED_DECLARE_FOR_EACH_ISA(void GemmInt8Unit(const gemm_int8::UnitArgs& args, int64_t row_begin, int64_t row_end,
                                              int64_t panel_begin, int64_t panel_end))

#if POOLED_ISA_BASELINE
// Quantizes all m rows over the pool into the calling thread's buffer (kept between calls, only grows); valid until
// the next call on this thread.
gemm_int8::QuantizedRows QuantizeActivationRows(ThreadPool& pool, const float* a, int64_t m, int64_t lda, int64_t k,
                                                int64_t k_padded);
#endif

}  // namespace pooled::kernels::cpu
