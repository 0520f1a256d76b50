#pragma once
// Per-ISA row kernels that more than one op calls (e.g. the GEMM's fused LayerNorm epilogue). Declared for every
// variant; call them through POOLED_DISPATCH from a baseline section.
#include <cstdint>

#include "kernels/cpu/isa_dispatch.h"
#include "kernels/cpu/kernels.h"

namespace pooled::kernels::cpu {

// Rows [row_begin, row_end): y = LayerNorm(x + residual) (residual may be null; y may alias x; rows of `cols`).
POOLED_DECLARE_FOR_EACH_ISA(void LayerNormRows(const float* x, int64_t ldx, const float* residual, int64_t ldr,
                                               float* y, int64_t ldy, int64_t cols, const float* gamma,
                                               const float* beta, float eps, int64_t row_begin, int64_t row_end))

// Rows [row_begin, row_end): y = activation(x + bias) (bias may be null; y may alias x).
POOLED_DECLARE_FOR_EACH_ISA(void BiasActivationRows(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t cols,
                                                    const float* bias, Activation activation, int64_t row_begin,
                                                    int64_t row_end))

// A finished GEMM block, rows x cols of c in place: c = activation(c) + residual (residual may be null; gemm.cpp).
POOLED_DECLARE_FOR_EACH_ISA(void ActivationResidualRows(float* c, int64_t ldc, int64_t rows, int64_t cols,
                                                        Activation activation, const float* residual, int64_t ldr))

}  // namespace pooled::kernels::cpu
