#pragma once
// A small vector type for the per-ISA part of the kernels (see isa_dispatch.h): VecF is 16 floats under
// AVX-512, 8 under AVX2 and 1 in the portable build, chosen by the compiler flags of the variant being built.
// Everything here lives in namespace POOLED_ISA_NS, so each variant gets its own copy with its own instructions.
// Only the operations the kernels need; the transcendental functions are written once on top of them.
#include <cstdint>
#include <cstring>

#include "kernels/cpu/element_convert.h"
#include "kernels/cpu/kernels.h"

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#ifndef POOLED_ISA_NS
#error "simd.h is for the per-ISA kernel build: POOLED_ISA_NS must name the variant"
#endif

namespace pooled::kernels::cpu::POOLED_ISA_NS {

#if defined(__AVX512F__)

constexpr int kLanes = 16;
struct VecF {
  __m512 v;
};
inline __mmask16 TailMask(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
inline VecF Zero() { return {_mm512_setzero_ps()}; }
inline VecF Set1(float x) { return {_mm512_set1_ps(x)}; }
inline VecF Load(const float* p) { return {_mm512_loadu_ps(p)}; }
inline VecF LoadN(const float* p, int n) { return {_mm512_maskz_loadu_ps(TailMask(n), p)}; }
inline void Store(float* p, VecF a) { _mm512_storeu_ps(p, a.v); }
inline void StoreN(float* p, VecF a, int n) { _mm512_mask_storeu_ps(p, TailMask(n), a.v); }
inline VecF Add(VecF a, VecF b) { return {_mm512_add_ps(a.v, b.v)}; }
inline VecF Sub(VecF a, VecF b) { return {_mm512_sub_ps(a.v, b.v)}; }
inline VecF Mul(VecF a, VecF b) { return {_mm512_mul_ps(a.v, b.v)}; }
inline VecF Div(VecF a, VecF b) { return {_mm512_div_ps(a.v, b.v)}; }
inline VecF Fma(VecF a, VecF b, VecF c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
inline VecF Max(VecF a, VecF b) { return {_mm512_max_ps(a.v, b.v)}; }
inline VecF Min(VecF a, VecF b) { return {_mm512_min_ps(a.v, b.v)}; }
inline VecF Abs(VecF a) { return {_mm512_abs_ps(a.v)}; }
inline VecF Round(VecF a) { return {_mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
// 2^n for integral n in [-126, 127], by writing the exponent field.
inline VecF Pow2Int(VecF n) {
  const __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n.v), _mm512_set1_epi32(127)), 23);
  return {_mm512_castsi512_ps(bits)};
}
// p * 2^n for integral n (one instruction here).
inline VecF ScaleByPow2(VecF p, VecF n) { return {_mm512_scalef_ps(p.v, n.v)}; }
// 1 / x to ~1 ulp: the 14-bit estimate and one Newton step, much cheaper than a division.
inline VecF Reciprocal(VecF x) {
  const __m512 r = _mm512_rcp14_ps(x.v);
  return {_mm512_fmadd_ps(r, _mm512_fnmadd_ps(x.v, r, _mm512_set1_ps(1.0f)), r)};
}
// Per lane: a < 0 ? if_negative : otherwise.
inline VecF SelectNegative(VecF a, VecF if_negative, VecF otherwise) {
  const __mmask16 negative = _mm512_cmp_ps_mask(a.v, _mm512_setzero_ps(), _CMP_LT_OQ);
  return {_mm512_mask_blend_ps(negative, otherwise.v, if_negative.v)};
}
inline float ReduceAdd(VecF a) { return _mm512_reduce_add_ps(a.v); }
inline float ReduceMax(VecF a) { return _mm512_reduce_max_ps(a.v); }
// bfloat16 is the top half of a float32: widening is a 16-bit shift.
inline VecF LoadBf16(const uint16_t* p) {
  const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return {_mm512_castsi512_ps(_mm512_slli_epi32(wide, 16))};
}
inline VecF LoadBf16N(const uint16_t* p, int n) {
  const __m256i half = _mm256_maskz_loadu_epi16(TailMask(n), p);
  return {_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(half), 16))};
}
inline VecF LoadF16(const uint16_t* p) {
  return {_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)))};
}
// kLanes pairs of bfloat16 (k, k+1) -> the k values and the k+1 values, each widened to float32.
inline void LoadBf16Pairs(const uint16_t* p, VecF* even, VecF* odd) {
  const __m512i x = _mm512_loadu_si512(p);
  even->v = _mm512_castsi512_ps(_mm512_slli_epi32(x, 16));
  odd->v = _mm512_castsi512_ps(_mm512_and_si512(x, _mm512_set1_epi32(static_cast<int>(0xffff0000u))));
}
inline VecF LoadF16N(const uint16_t* p, int n) { return {_mm512_cvtph_ps(_mm256_maskz_loadu_epi16(TailMask(n), p))}; }

#elif defined(__AVX2__)

constexpr int kLanes = 8;
struct VecF {
  __m256 v;
};
inline __m256i TailMask(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline VecF Zero() { return {_mm256_setzero_ps()}; }
inline VecF Set1(float x) { return {_mm256_set1_ps(x)}; }
inline VecF Load(const float* p) { return {_mm256_loadu_ps(p)}; }
inline VecF LoadN(const float* p, int n) { return {_mm256_maskload_ps(p, TailMask(n))}; }
inline void Store(float* p, VecF a) { _mm256_storeu_ps(p, a.v); }
inline void StoreN(float* p, VecF a, int n) { _mm256_maskstore_ps(p, TailMask(n), a.v); }
inline VecF Add(VecF a, VecF b) { return {_mm256_add_ps(a.v, b.v)}; }
inline VecF Sub(VecF a, VecF b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline VecF Mul(VecF a, VecF b) { return {_mm256_mul_ps(a.v, b.v)}; }
inline VecF Div(VecF a, VecF b) { return {_mm256_div_ps(a.v, b.v)}; }
inline VecF Fma(VecF a, VecF b, VecF c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
inline VecF Max(VecF a, VecF b) { return {_mm256_max_ps(a.v, b.v)}; }
inline VecF Min(VecF a, VecF b) { return {_mm256_min_ps(a.v, b.v)}; }
inline VecF Abs(VecF a) { return {_mm256_and_ps(a.v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)))}; }
inline VecF Round(VecF a) { return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
inline VecF Pow2Int(VecF n) {
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n.v), _mm256_set1_epi32(127)), 23);
  return {_mm256_castsi256_ps(bits)};
}
inline VecF ScaleByPow2(VecF p, VecF n) { return Mul(p, Pow2Int(n)); }
// 1 / x: the 12-bit estimate and two Newton steps.
inline VecF Reciprocal(VecF x) {
  __m256 r = _mm256_rcp_ps(x.v);
  r = _mm256_fmadd_ps(r, _mm256_fnmadd_ps(x.v, r, _mm256_set1_ps(1.0f)), r);
  return {_mm256_fmadd_ps(r, _mm256_fnmadd_ps(x.v, r, _mm256_set1_ps(1.0f)), r)};
}
inline VecF SelectNegative(VecF a, VecF if_negative, VecF otherwise) {
  const __m256 negative = _mm256_cmp_ps(a.v, _mm256_setzero_ps(), _CMP_LT_OQ);
  return {_mm256_blendv_ps(otherwise.v, if_negative.v, negative)};
}
inline float ReduceAdd(VecF a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline float ReduceMax(VecF a) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline VecF LoadBf16(const uint16_t* p) {
  const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return {_mm256_castsi256_ps(_mm256_slli_epi32(wide, 16))};
}
inline VecF LoadF16(const uint16_t* p) {
  return {_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))};
}
inline void LoadBf16Pairs(const uint16_t* p, VecF* even, VecF* odd) {
  const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  even->v = _mm256_castsi256_ps(_mm256_slli_epi32(x, 16));
  odd->v = _mm256_castsi256_ps(_mm256_and_si256(x, _mm256_set1_epi32(static_cast<int>(0xffff0000u))));
}
// AVX2 has no 16-bit masked load: copy the tail into a zeroed block first.
inline VecF LoadBf16N(const uint16_t* p, int n) {
  uint16_t block[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::memcpy(block, p, static_cast<size_t>(n) * sizeof(uint16_t));
  return LoadBf16(block);
}
inline VecF LoadF16N(const uint16_t* p, int n) {
  uint16_t block[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::memcpy(block, p, static_cast<size_t>(n) * sizeof(uint16_t));
  return LoadF16(block);
}

#else  // portable

constexpr int kLanes = 1;
struct VecF {
  float v;
};
inline VecF Zero() { return {0.0f}; }
inline VecF Set1(float x) { return {x}; }
inline VecF Load(const float* p) { return {*p}; }
inline VecF LoadN(const float* p, int n) { return {n > 0 ? *p : 0.0f}; }
inline void Store(float* p, VecF a) { *p = a.v; }
inline void StoreN(float* p, VecF a, int n) {
  if (n > 0) *p = a.v;
}
inline VecF Add(VecF a, VecF b) { return {a.v + b.v}; }
inline VecF Sub(VecF a, VecF b) { return {a.v - b.v}; }
inline VecF Mul(VecF a, VecF b) { return {a.v * b.v}; }
inline VecF Div(VecF a, VecF b) { return {a.v / b.v}; }
// Written as multiply-add, not fmaf: without hardware FMA, fmaf is a slow exact software routine.
inline VecF Fma(VecF a, VecF b, VecF c) { return {a.v * b.v + c.v}; }
inline VecF Max(VecF a, VecF b) { return {a.v > b.v ? a.v : b.v}; }
inline VecF Min(VecF a, VecF b) { return {a.v < b.v ? a.v : b.v}; }
inline VecF Abs(VecF a) { return {a.v < 0.0f ? -a.v : a.v}; }
inline VecF Round(VecF a) {
  // Values here are far below 2^23, where adding and subtracting 1.5 * 2^23 rounds to nearest even.
  volatile float shifted = a.v + 12582912.0f;
  return {shifted - 12582912.0f};
}
inline VecF Pow2Int(VecF n) {
  const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n.v) + 127) << 23;
  float out;
  std::memcpy(&out, &bits, sizeof(out));
  return {out};
}
inline VecF SelectNegative(VecF a, VecF if_negative, VecF otherwise) { return a.v < 0.0f ? if_negative : otherwise; }
inline VecF ScaleByPow2(VecF p, VecF n) { return Mul(p, Pow2Int(n)); }
inline VecF Reciprocal(VecF x) { return {1.0f / x.v}; }
inline float ReduceAdd(VecF a) { return a.v; }
inline float ReduceMax(VecF a) { return a.v; }
// element_convert.h's converters are `static inline` (internal linkage), so each per-ISA translation unit keeps its
// own copy: safe here despite the no-shared-inline-code rule of isa_dispatch.h.
inline float Bf16BitsToFloat(uint16_t h) { return convert::Bf16ToFloat(h); }
inline float F16BitsToFloat(uint16_t h) { return convert::F16ToFloat(h); }
inline VecF LoadBf16(const uint16_t* p) { return {Bf16BitsToFloat(*p)}; }
inline VecF LoadBf16N(const uint16_t* p, int n) { return {n > 0 ? Bf16BitsToFloat(*p) : 0.0f}; }
inline VecF LoadF16(const uint16_t* p) { return {F16BitsToFloat(*p)}; }
inline VecF LoadF16N(const uint16_t* p, int n) { return {n > 0 ? F16BitsToFloat(*p) : 0.0f}; }
inline void LoadBf16Pairs(const uint16_t* p, VecF* even, VecF* odd) {
  even->v = Bf16BitsToFloat(p[0]);
  odd->v = Bf16BitsToFloat(p[1]);
}

#endif

// e^x, Cephes expf scheme: x = n ln2 + r with |r| <= ln2 / 2, e^r by a degree-6 polynomial, 2^n from the exponent
// bits. About 1 ulp. Inputs are clamped to [-80, 88]: below, the result would approach the subnormal range, where
// every arithmetic instruction takes a slow microcode path (softmax and GELU lose nothing: e^-80 ~ 2e-35).
inline VecF Exp(VecF x) {
  x = Min(Max(x, Set1(-80.0f)), Set1(88.0f));
  const VecF n = Round(Mul(x, Set1(1.44269504088896341f)));
  VecF r = Fma(n, Set1(-0.693359375f), x);
  r = Fma(n, Set1(2.12194440e-4f), r);
  VecF p = Set1(1.9875691500e-4f);
  p = Fma(p, r, Set1(1.3981999507e-3f));
  p = Fma(p, r, Set1(8.3334519073e-3f));
  p = Fma(p, r, Set1(4.1665795894e-2f));
  p = Fma(p, r, Set1(1.6666665459e-1f));
  p = Fma(p, r, Set1(5.0000001201e-1f));
  p = Fma(p, Mul(r, r), Add(r, Set1(1.0f)));
  return ScaleByPow2(p, n);
}

// Exact (erf) GELU, x * Phi(x), with Phi(x) = erfc(-x / sqrt 2) / 2. erfc(z), z >= 0, is Numerical Recipes'
// erfcc (Chebyshev fit, fractional error < 1.2e-7), so the negative tail keeps its relative accuracy instead of
// cancelling in 1 + erf(x / sqrt 2).
inline VecF GeluErf(VecF x) {
  const VecF z = Mul(Abs(x), Set1(0.70710678118654752f));
  const VecF t = Reciprocal(Fma(z, Set1(0.5f), Set1(1.0f)));
  VecF p = Set1(0.17087277f);
  p = Fma(p, t, Set1(-0.82215223f));
  p = Fma(p, t, Set1(1.48851587f));
  p = Fma(p, t, Set1(-1.13520398f));
  p = Fma(p, t, Set1(0.27886807f));
  p = Fma(p, t, Set1(-0.18628806f));
  p = Fma(p, t, Set1(0.09678418f));
  p = Fma(p, t, Set1(0.37409196f));
  p = Fma(p, t, Set1(1.00002368f));
  p = Fma(p, t, Set1(-1.26551223f));
  const VecF erfc_z = Mul(t, Exp(Sub(p, Mul(z, z))));
  const VecF half_erfc = Mul(erfc_z, Set1(0.5f));
  const VecF phi = SelectNegative(x, half_erfc, Sub(Set1(1.0f), half_erfc));
  return Mul(x, phi);
}

// Tanh GELU, 0.5 x (1 + tanh(y)) with y = sqrt(2/pi) (x + 0.044715 x^3), evaluated as x * sigmoid(2y)
// = x / (1 + e^(-2y)) (the same function, with no cancellation for negative x).
inline VecF GeluTanh(VecF x) {
  const VecF x3 = Mul(Mul(x, x), x);
  const VecF y = Mul(Set1(0.79788456080286536f), Fma(x3, Set1(0.044715f), x));
  return Mul(x, Reciprocal(Add(Set1(1.0f), Exp(Mul(y, Set1(-2.0f))))));
}

inline VecF Relu(VecF x) { return Max(x, Zero()); }

// SiLU (nn.SiLU), x * sigmoid(x) = x / (1 + e^-x): for x < -88 e^-x is clamped, giving ~-0 (the limit).
inline VecF Silu(VecF x) { return Div(x, Add(Set1(1.0f), Exp(Sub(Zero(), x)))); }

inline VecF Activate(VecF x, Activation activation) {
  switch (activation) {
    case Activation::kGeluErf:
      return GeluErf(x);
    case Activation::kGeluTanh:
      return GeluTanh(x);
    case Activation::kRelu:
      return Relu(x);
    case Activation::kSilu:
      return Silu(x);
    default:
      return x;
  }
}

// The builtin, not std::sqrt: an inline library function would be shared between ISA variants (isa_dispatch.h).
inline float Sqrt(float x) {
#if defined(_MSC_VER) && !defined(__clang__)
  return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(x)));
#else
  return __builtin_sqrtf(x);
#endif
}

}  // namespace pooled::kernels::cpu::POOLED_ISA_NS
