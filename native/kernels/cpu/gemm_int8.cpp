// int8 GEMM: uint8 activations (quantized per row, asymmetric) times int8 weights (per output channel, symmetric),
// exact int32 sums, dequantized in the register tile's epilogue.
//
// Why this split of signs: vpdpbusd multiplies unsigned bytes by signed bytes, four at a time, into int32 lanes. The
// activations take the unsigned side with a zero point, so a row keeps all 256 levels over its own [min, max]
// (GELU outputs are far from symmetric); the zero point is compensated exactly in the epilogue:
//   sum_k (qa_k - zp) qw_k = sum_k qa_k qw_k - zp * column_sum.
// The weights are symmetric (no zero point), so nothing else has to be corrected.
//
// Paths: AVX-512 with AVX512-VNNI (vpdpbusd zmm), AVX2 with AVX-VNNI or AVX512-VNNI+VL (vpdpbusd ymm), and where
// neither exists the same sums from vpmaddwd on bytes widened to 16 bits (exact too: two products of at most
// 255 * 127 per 32-bit lane); the portable build in plain integer loops. Every path gives bit-identical int32 sums,
// so the outputs differ between paths only by the float32 rounding of the epilogue (and not at all between the
// VNNI and widening paths of one variant). A row's result never depends on the rows around it.
#include <cstdint>
#include <cstring>

#include "kernels/cpu/gemm_int8.h"
#include "kernels/cpu/isa_dispatch.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/row_kernels.h"
#include "kernels/cpu/simd.h"

#if POOLED_ISA_BASELINE
#include <algorithm>
#include <cstdlib>

#include "kernels/cpu/thread_pool.h"
#endif

// VNNI instructions are enabled per function (target attribute), not for the whole variant: the AVX-512 variant must
// still run on AVX-512 CPUs without VNNI (Skylake-SP), which the compiler could otherwise target anywhere.
#if defined(__GNUC__) || defined(__clang__)
#define POOLED_TARGET(x) __attribute__((target(x)))
#else
#define POOLED_TARGET(x)
#endif
// AVX-VNNI intrinsics (_mm256_dpbusd_avx_epi32) arrived in GCC 11 and Clang 12.
#if defined(__clang__) ? (__clang_major__ >= 12) : (defined(__GNUC__) && __GNUC__ >= 11)
#define POOLED_HAS_AVXVNNI_INTRINSICS 1
#else
#define POOLED_HAS_AVXVNNI_INTRINSICS 0
#endif

namespace pooled::kernels::cpu {

namespace POOLED_ISA_NS {
namespace {

#if defined(__AVX512F__)
constexpr int kMr = 12;
constexpr int kNr = 32;
#else
// 4 rows x 16 columns: 8 accumulators, and room for the widened weights of the non-VNNI path in 16 ymm registers.
constexpr int kMr = 4;
constexpr int kNr = 16;
#endif

// Where a tile's results go: the dequantization factors of its rows and columns, and the bias.
struct TileOut {
  float* c;
  int64_t ldc;
  int ncols;                   // valid columns of this panel (the rest is padding)
  const float* row_scales;     // [mr], at the tile's first row
  const int32_t* row_zeros;    // [mr]
  const float* col_scales;     // [kNr], at the panel's first column (padding columns hold 0)
  const int32_t* column_sums;  // [kNr]
  const float* bias;           // at the panel's first column, or null
};

// Round half to even, as the vector conversions do; |x| < 2^22 here (adding 1.5 * 2^23 drops the fraction). x goes
// through memory first so that a product passed in cannot be contracted with the addition into one FMA.
inline float RoundHalfEven(float x) {
  volatile float value = x;
  volatile float shifted = value + 12582912.0f;
  return shifted - 12582912.0f;
}

inline uint32_t LoadQuad(const uint8_t* p) {
  uint32_t word;
  std::memcpy(&word, p, sizeof(word));
  return word;
}

#if defined(__AVX512F__) || defined(__AVX2__)

#if defined(__AVX512F__)
using VecI = __m512i;
constexpr int kIntLanes = 16;
inline VecI LoadI(const void* p) { return _mm512_loadu_si512(p); }
inline VecI Set1I(uint32_t x) { return _mm512_set1_epi32(static_cast<int>(x)); }
inline VecI AddI(VecI a, VecI b) { return _mm512_add_epi32(a, b); }
inline VecI SubI(VecI a, VecI b) { return _mm512_sub_epi32(a, b); }
inline VecI MulLoI(VecI a, VecI b) { return _mm512_mullo_epi32(a, b); }
inline VecI ZeroI() { return _mm512_setzero_si512(); }
inline VecF ToFloat(VecI a) { return {_mm512_cvtepi32_ps(a)}; }
// The widening path's pieces: bytes 0 and 2 of each 32-bit lane as 16-bit values, and bytes 1 and 3.
inline VecI EvenBytesU(VecI a) { return _mm512_and_si512(a, _mm512_set1_epi32(0x00ff00ff)); }
inline VecI OddBytesU(VecI a) { return _mm512_srli_epi16(a, 8); }
inline VecI EvenBytesS(VecI b) { return _mm512_srai_epi16(_mm512_slli_epi16(b, 8), 8); }
inline VecI OddBytesS(VecI b) { return _mm512_srai_epi16(b, 8); }
inline VecI MaddPairs(VecI a, VecI b) { return _mm512_madd_epi16(a, b); }
#else
using VecI = __m256i;
constexpr int kIntLanes = 8;
inline VecI LoadI(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline VecI Set1I(uint32_t x) { return _mm256_set1_epi32(static_cast<int>(x)); }
inline VecI AddI(VecI a, VecI b) { return _mm256_add_epi32(a, b); }
inline VecI SubI(VecI a, VecI b) { return _mm256_sub_epi32(a, b); }
inline VecI MulLoI(VecI a, VecI b) { return _mm256_mullo_epi32(a, b); }
inline VecI ZeroI() { return _mm256_setzero_si256(); }
inline VecF ToFloat(VecI a) { return {_mm256_cvtepi32_ps(a)}; }
inline VecI EvenBytesU(VecI a) { return _mm256_and_si256(a, _mm256_set1_epi32(0x00ff00ff)); }
inline VecI OddBytesU(VecI a) { return _mm256_srli_epi16(a, 8); }
inline VecI EvenBytesS(VecI b) { return _mm256_srai_epi16(_mm256_slli_epi16(b, 8), 8); }
inline VecI OddBytesS(VecI b) { return _mm256_srai_epi16(b, 8); }
inline VecI MaddPairs(VecI a, VecI b) { return _mm256_madd_epi16(a, b); }
#endif
constexpr int kIntVecs = kNr / kIntLanes;
static_assert(kIntLanes == kLanes, "int32 and float32 vectors have the same lanes");

// acc[r][v] (int32 sums over k) -> C: scale_a[r] * scale_w[col] * (acc - zp[r] * column_sum[col]) + bias[col].
template <int MR>
inline void StoreTileInt8(VecI (&acc)[MR][kIntVecs], const TileOut& out) {
  VecF col_scale[kIntVecs];
  VecI col_sum[kIntVecs];
  VecF bias[kIntVecs];
#pragma GCC unroll 16
  for (int v = 0; v < kIntVecs; ++v) {
    col_scale[v] = Load(out.col_scales + v * kLanes);
    col_sum[v] = LoadI(out.column_sums + v * kLanes);
    bias[v] = Zero();
    const int n = out.ncols - v * kLanes;
    if (out.bias != nullptr && n > 0)
      bias[v] = n >= kLanes ? Load(out.bias + v * kLanes) : LoadN(out.bias + v * kLanes, n);
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    const VecI zero_point = Set1I(static_cast<uint32_t>(out.row_zeros[r]));
    const VecF row_scale = Set1(out.row_scales[r]);
#pragma GCC unroll 16
    for (int v = 0; v < kIntVecs; ++v) {
      const int n = out.ncols - v * kLanes;
      if (n <= 0) continue;
      const VecF sum = ToFloat(SubI(acc[r][v], MulLoI(zero_point, col_sum[v])));
      // The bias joins in one FMA (one rounding fewer than the unfused GEMM + BiasActivation).
      const VecF y = Fma(sum, Mul(row_scale, col_scale[v]), bias[v]);
      float* dst = out.c + r * out.ldc + v * kLanes;
      if (n >= kLanes) {
        Store(dst, y);
      } else {
        StoreN(dst, y, n);
      }
    }
  }
}

// The VNNI tile, written once for each (vpdpbusd flavour, target) pair: a template cannot carry a target attribute
// as a parameter, and the instruction must sit in a function compiled for it. ap: the tile's first quantized row
// (rows ld apart); bp: the panel, [quads][kNr][4].
#define POOLED_INT8_VNNI_TILE(NAME, TARGET, DPBUSD)                                                                 \
  template <int MR>                                                                                                 \
  POOLED_TARGET(TARGET)                                                                                             \
  void NAME(const uint8_t* ap, int64_t ld, const int8_t* bp, int64_t quads, const TileOut& out) {                   \
    VecI acc[MR][kIntVecs];                                                                                         \
    _Pragma("GCC unroll 16") for (int r = 0; r < MR; ++r) {                                                         \
      _Pragma("GCC unroll 16") for (int v = 0; v < kIntVecs; ++v) acc[r][v] = ZeroI();                              \
    }                                                                                                               \
    for (int64_t q = 0; q < quads; ++q) {                                                                           \
      VecI b[kIntVecs];                                                                                             \
      _Pragma("GCC unroll 16") for (int v = 0; v < kIntVecs; ++v) b[v] = LoadI(bp + (q * kNr + v * kIntLanes) * 4); \
      _Pragma("GCC unroll 16") for (int r = 0; r < MR; ++r) {                                                       \
        const VecI a = Set1I(LoadQuad(ap + r * ld + q * 4));                                                        \
        _Pragma("GCC unroll 16") for (int v = 0; v < kIntVecs; ++v) acc[r][v] = DPBUSD(acc[r][v], a, b[v]);         \
      }                                                                                                             \
    }                                                                                                               \
    StoreTileInt8<MR>(acc, out);                                                                                    \
  }

#if defined(__AVX512F__)
POOLED_INT8_VNNI_TILE(TileVnni, "avx512vnni", _mm512_dpbusd_epi32)
#else
// AVX512-VNNI with VL has the 256-bit instruction too (EVEX-encoded): an AVX-512 CPU capped to the AVX2 kernels uses
// it.
POOLED_INT8_VNNI_TILE(TileVnniEvex, "avx512vnni,avx512vl", _mm256_dpbusd_epi32)
#if POOLED_HAS_AVXVNNI_INTRINSICS
POOLED_INT8_VNNI_TILE(TileAvxVnni, "avxvnni", _mm256_dpbusd_avx_epi32)
#endif
#endif
#undef POOLED_INT8_VNNI_TILE

// Without VNNI: the same sums from vpmaddwd on bytes widened to 16 bits (even bytes, then odd bytes of each quad).
template <int MR>
void TileWiden(const uint8_t* ap, int64_t ld, const int8_t* bp, int64_t quads, const TileOut& out) {
  VecI acc[MR][kIntVecs];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 16
    for (int v = 0; v < kIntVecs; ++v) acc[r][v] = ZeroI();
  }
  for (int64_t q = 0; q < quads; ++q) {
    VecI b_even[kIntVecs];
    VecI b_odd[kIntVecs];
#pragma GCC unroll 16
    for (int v = 0; v < kIntVecs; ++v) {
      const VecI b = LoadI(bp + (q * kNr + v * kIntLanes) * 4);
      b_even[v] = EvenBytesS(b);
      b_odd[v] = OddBytesS(b);
    }
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const VecI a = Set1I(LoadQuad(ap + r * ld + q * 4));
      const VecI a_even = EvenBytesU(a);
      const VecI a_odd = OddBytesU(a);
#pragma GCC unroll 16
      for (int v = 0; v < kIntVecs; ++v)
        acc[r][v] = AddI(acc[r][v], AddI(MaddPairs(a_even, b_even[v]), MaddPairs(a_odd, b_odd[v])));
    }
  }
  StoreTileInt8<MR>(acc, out);
}

enum class TileKind { kWiden, kVnni, kVnniEvex, kAvxVnni };

template <int MR>
inline void RunTile(TileKind kind, const uint8_t* ap, int64_t ld, const int8_t* bp, int64_t quads, const TileOut& out) {
  switch (kind) {
#if defined(__AVX512F__)
    case TileKind::kVnni:
      return TileVnni<MR>(ap, ld, bp, quads, out);
#else
    case TileKind::kVnniEvex:
      return TileVnniEvex<MR>(ap, ld, bp, quads, out);
#if POOLED_HAS_AVXVNNI_INTRINSICS
    case TileKind::kAvxVnni:
      return TileAvxVnni<MR>(ap, ld, bp, quads, out);
#endif
#endif
    default:
      return TileWiden<MR>(ap, ld, bp, quads, out);
  }
}

TileKind PickTile(bool dot) {
  if (!dot) return TileKind::kWiden;
  const CpuFeatures& f = DetectCpuFeatures();
#if defined(__AVX512F__)
  return f.avx512vnni ? TileKind::kVnni : TileKind::kWiden;
#else
#if POOLED_HAS_AVXVNNI_INTRINSICS
  if (f.avxvnni) return TileKind::kAvxVnni;
#endif
  return f.avx512vnni && f.avx512vl ? TileKind::kVnniEvex : TileKind::kWiden;
#endif
}

#else  // portable

enum class TileKind { kPlain };

// Plain integer loops; the compiler may vectorize them as it likes (integer sums are exact in any order).
template <int MR>
void RunTile(TileKind, const uint8_t* ap, int64_t ld, const int8_t* bp, int64_t quads, const TileOut& out) {
  int32_t acc[MR][kNr];
  for (int r = 0; r < MR; ++r) {
    for (int j = 0; j < kNr; ++j) acc[r][j] = 0;
  }
  for (int64_t q = 0; q < quads; ++q) {
    const int8_t* b = bp + q * kNr * 4;
    for (int r = 0; r < MR; ++r) {
      const uint8_t* a = ap + r * ld + q * 4;
      for (int j = 0; j < kNr; ++j) {
        acc[r][j] += a[0] * b[j * 4] + a[1] * b[j * 4 + 1] + a[2] * b[j * 4 + 2] + a[3] * b[j * 4 + 3];
      }
    }
  }
  for (int r = 0; r < MR; ++r) {
    for (int j = 0; j < out.ncols; ++j) {
      const float sum = static_cast<float>(acc[r][j] - out.row_zeros[r] * out.column_sums[j]);
      const float scale = out.row_scales[r] * out.col_scales[j];
      out.c[r * out.ldc + j] = sum * scale + (out.bias != nullptr ? out.bias[j] : 0.0f);
    }
  }
}

TileKind PickTile(bool) { return TileKind::kPlain; }

#endif

void RunTileRows(int64_t mr, TileKind kind, const uint8_t* ap, int64_t ld, const int8_t* bp, int64_t quads,
                 const TileOut& out) {
  switch (mr) {
#define POOLED_TILE_CASE(n) \
  case n:                   \
    return RunTile<(n <= kMr ? n : kMr)>(kind, ap, ld, bp, quads, out);
    POOLED_TILE_CASE(1)
    POOLED_TILE_CASE(2)
    POOLED_TILE_CASE(3)
    POOLED_TILE_CASE(4)
    POOLED_TILE_CASE(5)
    POOLED_TILE_CASE(6)
    POOLED_TILE_CASE(7)
    POOLED_TILE_CASE(8)
    POOLED_TILE_CASE(9)
    POOLED_TILE_CASE(10)
    POOLED_TILE_CASE(11)
    POOLED_TILE_CASE(12)
#undef POOLED_TILE_CASE
    default:
      return;
  }
}
static_assert(kMr <= 12, "RunTileRows covers tiles of up to 12 rows");

#if defined(__AVX512F__) || defined(__AVX2__)
// Narrows kLanes floats holding integers in [0, 255] to bytes.
inline void StoreBytes(uint8_t* dst, VecF x, int n) {
#if defined(__AVX512F__)
  const __m512i i = _mm512_cvtps_epi32(x.v);
  _mm512_mask_cvtepi32_storeu_epi8(dst, TailMask(n), i);
#elif defined(__AVX2__)
  const __m256i i = _mm256_cvtps_epi32(x.v);
  const __m256i words = _mm256_packus_epi32(i, i);          // per 128-bit half: 4 values twice
  const __m256i bytes = _mm256_packus_epi16(words, words);  // per half: 4 bytes in each dword
  const __m256i joined = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0));
  uint8_t out[8];
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(joined));
  std::memcpy(dst, out, static_cast<size_t>(n));
#endif
}
#endif

}  // namespace

int64_t GemmInt8TileRows() { return kMr; }

void QuantizeRowsU8(const float* a, int64_t lda, int64_t k, int64_t row_begin, int64_t row_end, uint8_t* data,
                    int64_t ld, float* scales, int32_t* zero_points) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const float* x = a + r * lda;
    // The range always holds 0, so that 0 (padding, ReLU zeros) is exactly representable.
    VecF hi = Zero();
    VecF neg_lo = Zero();
    int64_t i = 0;
    for (; i + kLanes <= k; i += kLanes) {
      const VecF v = Load(x + i);
      hi = Max(hi, v);
      neg_lo = Max(neg_lo, Sub(Zero(), v));
    }
    float max_value = ReduceMax(hi);
    float min_value = -ReduceMax(neg_lo);
    for (; i < k; ++i) {
      max_value = x[i] > max_value ? x[i] : max_value;
      min_value = x[i] < min_value ? x[i] : min_value;
    }
    float scale = (max_value - min_value) / 255.0f;
    // An all-zero row: any scale represents it; 1 keeps the reciprocal finite.
    if (!(scale > 0.0f)) scale = 1.0f;
    const float inverse = 1.0f / scale;
    float zero = RoundHalfEven(-min_value * inverse);
    zero = zero < 0.0f ? 0.0f : (zero > 255.0f ? 255.0f : zero);
    scales[r] = scale;
    zero_points[r] = static_cast<int32_t>(zero);

    uint8_t* q = data + r * ld;
#if defined(__AVX512F__) || defined(__AVX2__)
    const VecF inv = Set1(inverse);
    const VecF zp = Set1(zero);
    const VecF lo = Zero();
    const VecF top = Set1(255.0f);
    for (i = 0; i < k; i += kLanes) {
      const int n = k - i < kLanes ? static_cast<int>(k - i) : kLanes;
      const VecF v = n == kLanes ? Load(x + i) : LoadN(x + i, n);
      StoreBytes(q + i, Min(Max(Add(Round(Mul(v, inv)), zp), lo), top), n);
    }
#else
    for (i = 0; i < k; ++i) {
      const float v = RoundHalfEven(x[i] * inverse) + zero;
      q[i] = static_cast<uint8_t>(v < 0.0f ? 0 : (v > 255.0f ? 255 : static_cast<int32_t>(v)));
    }
#endif
    for (i = k; i < ld; ++i) q[i] = 0;
  }
}

void GemmInt8Unit(const gemm_int8::UnitArgs& g, int64_t row_begin, int64_t row_end, int64_t panel_begin,
                  int64_t panel_end) {
  const PackedWeightsView& w = g.w;
  const TileKind kind = PickTile(g.dot);
  const int64_t quads = w.k_padded / 4;
  const int8_t* weights = static_cast<const int8_t*>(w.data);
  for (int64_t block = panel_begin; block < panel_end; block += g.panels_per_block) {
    const int64_t block_end = panel_end - block < g.panels_per_block ? panel_end : block + g.panels_per_block;
    for (int64_t r0 = row_begin; r0 < row_end; r0 += kMr) {
      const int64_t mr = row_end - r0 < kMr ? row_end - r0 : kMr;
      for (int64_t p = block; p < block_end; ++p) {
        const int64_t col0 = p * kNr;
        TileOut out;
        out.c = g.c + r0 * g.ldc + col0;
        out.ldc = g.ldc;
        out.ncols = static_cast<int>(w.n - col0 < kNr ? w.n - col0 : kNr);
        out.row_scales = g.a.scales + r0;
        out.row_zeros = g.a.zero_points + r0;
        out.col_scales = w.scales + col0;
        out.column_sums = w.column_sums + col0;
        out.bias = g.bias != nullptr ? g.bias + col0 : nullptr;
        RunTileRows(mr, kind, g.a.data + r0 * g.a.ld, g.a.ld, weights + p * w.k_padded * kNr, quads, out);
      }
    }
    if (g.activation != Activation::kNone || g.residual != nullptr) {
      const int64_t col_begin = block * kNr;
      const int64_t col_end = block_end * kNr < w.n ? block_end * kNr : w.n;
      ActivationResidualRows(g.c + row_begin * g.ldc + col_begin, g.ldc, row_end - row_begin, col_end - col_begin,
                             g.activation, g.residual != nullptr ? g.residual + row_begin * g.ldr + col_begin : nullptr,
                             g.ldr);
    }
  }
}

}  // namespace POOLED_ISA_NS

// ---------------------------------------------------------------------------------------------------------------
// Baseline pass: the dispatch-level pieces.
#if POOLED_ISA_BASELINE

bool HasInt8DotProduct() {
  static const bool use = [] {
    const char* env = std::getenv("POOLED_INT8_DOT");
    if (env != nullptr && std::strcmp(env, "0") == 0) return false;
    const CpuFeatures& f = DetectCpuFeatures();
    switch (SelectedIsa()) {
      case Isa::kAvx512:
        return f.avx512vnni;
      case Isa::kAvx2:
        return f.avxvnni || (f.avx512vnni && f.avx512vl);
      default:
        return false;
    }
  }();
  return use;
}

gemm_int8::QuantizedRows QuantizeActivationRows(ThreadPool& pool, const float* a, int64_t m, int64_t lda, int64_t k,
                                                int64_t k_padded) {
  thread_local AlignedBuffer buffer;
  const size_t data_bytes = static_cast<size_t>((m * k_padded + 63) / 64 * 64);
  const size_t bytes = data_bytes + static_cast<size_t>(m) * (sizeof(float) + sizeof(int32_t));
  if (buffer.size() < bytes) buffer = AlignedBuffer(bytes);
  uint8_t* data = static_cast<uint8_t*>(buffer.data());
  float* scales = reinterpret_cast<float*>(data + data_bytes);
  int32_t* zero_points = reinterpret_cast<int32_t*>(scales + m);
  const int64_t num_threads = pool.NumThreads();
  const int64_t rows_per_task = std::max<int64_t>(1, (m + 4 * num_threads - 1) / (4 * num_threads));
  pool.Run((m + rows_per_task - 1) / rows_per_task, [&](int64_t task, int) {
    const int64_t begin = task * rows_per_task;
    const int64_t end = std::min(m, begin + rows_per_task);
    POOLED_DISPATCH(QuantizeRowsU8, a, lda, k, begin, end, data, k_padded, scales, zero_points);
  });
  return gemm_int8::QuantizedRows{data, k_padded, scales, zero_points};
}

#endif  // POOLED_ISA_BASELINE

}  // namespace pooled::kernels::cpu
