// GEMM with packed weights: C[m, n] = A[m, k] W[n, k]^T, fused epilogue (bias, activation, residual, LayerNorm).
//
// Blocking (BLIS-style, weights pre-packed at load, activations packed per call):
//   unit (one task)  : a block of up to 96 rows x a range of weight panels; every k pass of it
//   k pass (kc)      : A rows [mc x kc] are packed into register-tile order (L2), reused by every panel
//   panel block      : kc x (panels_per_block * NR) of W, sized to stay in L2 while all row tiles of the unit use it
//   micro-tile       : MR x NR accumulators in registers (12 x 32 on AVX-512, 6 x 16 on AVX2, 4 x 16 portable);
//                      each k step loads NR weights once and broadcasts MR activations
// Precision: float32 weights use FMA. bfloat16 weights use vdpbf16ps (activations rounded to bfloat16, products
// summed in float32) where the CPU has AVX512_BF16, and otherwise are widened to float32 in registers (exact),
// so every path accumulates in float32. Each output element is summed over k in the same order whatever the
// batch, tile or thread: a row's result never depends on the rows around it (batch invariance).
// int8 weights take the same argument checks and work split here; their units (activations quantized per row
// once per call, integer tiles over the whole of k, dequantizing epilogue) are in gemm_int8.cpp.
#include <cstdint>
#include <cstring>

#include "kernels/cpu/gemm_int8.h"
#include "kernels/cpu/isa_dispatch.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/row_kernels.h"
#include "kernels/cpu/simd.h"

#if POOLED_ISA_BASELINE
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "kernels/cpu/thread_pool.h"
#endif

namespace pooled::kernels::cpu {

namespace gemm {
// What one unit of work needs; plain data shared by the dispatcher and every variant.
struct UnitArgs {
  const float* a;
  int64_t lda;
  PackedWeightsView w;
  float* c;
  int64_t ldc;
  const float* bias;
  Activation activation;
  const float* residual;
  int64_t ldr;
  int64_t kc_block;          // k per pass; even for bfloat16
  int64_t panels_per_block;  // weight panels kept in L2 together
  bool bf16_dot;             // round A to bfloat16 and use vdpbf16ps
};
}  // namespace gemm

POOLED_DECLARE_FOR_EACH_ISA(int64_t GemmTileRows())
POOLED_DECLARE_FOR_EACH_ISA(int64_t GemmTileWidth())
POOLED_DECLARE_FOR_EACH_ISA(void GemmUnit(const gemm::UnitArgs& args, int64_t row_begin, int64_t row_end,
                                          int64_t panel_begin, int64_t panel_end, void* scratch))

// ---------------------------------------------------------------------------------------------------------------
// Per-ISA part.
namespace POOLED_ISA_NS {
namespace {

#if defined(__AVX512F__)
constexpr int kMr = 12;
constexpr int kNr = 32;
#elif defined(__AVX2__)
constexpr int kMr = 6;
constexpr int kNr = 16;
#else
constexpr int kMr = 4;
constexpr int kNr = 16;
#endif
constexpr int kVecs = kNr / kLanes;  // vectors per tile row

// Where a micro-tile's results go and what happens to them on the way.
struct TileOut {
  float* c;
  int64_t ldc;
  int ncols;          // valid columns of this panel (the rest is padding)
  bool accumulate;    // a later k pass: start from what C holds
  bool finish;        // the last k pass: add the bias
  const float* bias;  // at the panel's first column, or null
};

inline int ValidLanes(int ncols, int v) {
  const int n = ncols - v * kLanes;
  return n < 0 ? 0 : (n > kLanes ? kLanes : n);
}

template <int MR>
inline void InitTile(VecF (&acc)[MR][kVecs], const TileOut& out) {
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 16
    for (int v = 0; v < kVecs; ++v) {
      if (!out.accumulate) {
        acc[r][v] = Zero();
      } else {
        const int n = ValidLanes(out.ncols, v);
        const float* src = out.c + r * out.ldc + v * kLanes;
        acc[r][v] = n == kLanes ? Load(src) : LoadN(src, n);
      }
    }
  }
}

// Stores the accumulators, adding the bias on the last k pass (cheap in registers: one load per column vector).
template <int MR>
inline void StoreTile(VecF (&acc)[MR][kVecs], const TileOut& out) {
  VecF bias[kVecs];
  const bool add_bias = out.finish && out.bias != nullptr;
#pragma GCC unroll 16
  for (int v = 0; v < kVecs; ++v) {
    const int n = ValidLanes(out.ncols, v);
    bias[v] =
        add_bias && n > 0 ? (n == kLanes ? Load(out.bias + v * kLanes) : LoadN(out.bias + v * kLanes, n)) : Zero();
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 16
    for (int v = 0; v < kVecs; ++v) {
      const int n = ValidLanes(out.ncols, v);
      float* dst = out.c + r * out.ldc + v * kLanes;
      const VecF x = add_bias ? Add(acc[r][v], bias[v]) : acc[r][v];
      if (n == kLanes) {
        Store(dst, x);
      } else if (n > 0) {
        StoreN(dst, x, n);
      }
    }
  }
}

// ap: packed activations [kc][MR]; bp: one float32 weight panel at this pass's first k, [kc][kNr].
template <int MR>
void TileF32(const float* ap, const float* bp, int64_t kc, const TileOut& out) {
  VecF acc[MR][kVecs];
  InitTile<MR>(acc, out);
  for (int64_t k = 0; k < kc; ++k) {
    VecF b[kVecs];
#pragma GCC unroll 16
    for (int v = 0; v < kVecs; ++v) b[v] = Load(bp + k * kNr + v * kLanes);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const VecF a = Set1(ap[k * MR + r]);
#pragma GCC unroll 16
      for (int v = 0; v < kVecs; ++v) acc[r][v] = Fma(a, b[v], acc[r][v]);
    }
  }
  StoreTile<MR>(acc, out);
}

// bfloat16 weights widened in registers: ap is float32 [kc][MR] (kc even), bp is [kc/2][kNr][2].
template <int MR>
void TileBf16Widen(const float* ap, const uint16_t* bp, int64_t kc, const TileOut& out) {
  VecF acc[MR][kVecs];
  InitTile<MR>(acc, out);
  for (int64_t kp = 0; kp < kc / 2; ++kp) {
    VecF even[kVecs];
    VecF odd[kVecs];
#pragma GCC unroll 16
    for (int v = 0; v < kVecs; ++v) LoadBf16Pairs(bp + (kp * kNr + v * kLanes) * 2, &even[v], &odd[v]);
    const float* a = ap + 2 * kp * MR;
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const VecF a0 = Set1(a[r]);
      const VecF a1 = Set1(a[MR + r]);
#pragma GCC unroll 16
      for (int v = 0; v < kVecs; ++v) acc[r][v] = Fma(a1, odd[v], Fma(a0, even[v], acc[r][v]));
    }
  }
  StoreTile<MR>(acc, out);
}

#if defined(__AVX512BF16__)
// bf16 dot products: ap holds (a[k], a[k+1]) bfloat16 pairs as [kc/2][MR] 32-bit words, bp is [kc/2][32][2].
// vdpbf16ps adds a[k] w[k] + a[k+1] w[k+1] into each float32 lane.
template <int MR>
void TileBf16Dot(const uint32_t* ap, const uint16_t* bp, int64_t kc, const TileOut& out) {
  static_assert(kVecs == 2, "the bf16 dot-product tile is written for 32-column panels");
  VecF acc[MR][kVecs];
  InitTile<MR>(acc, out);
  __m512 acc0[MR];
  __m512 acc1[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    acc0[r] = acc[r][0].v;
    acc1[r] = acc[r][1].v;
  }
  for (int64_t kp = 0; kp < kc / 2; ++kp) {
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp + kp * 64);
    const __m512bh b1 = (__m512bh)_mm512_loadu_si512(bp + kp * 64 + 32);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m512bh a = (__m512bh)_mm512_set1_epi32(static_cast<int>(ap[kp * MR + r]));
      acc0[r] = _mm512_dpbf16_ps(acc0[r], a, b0);
      acc1[r] = _mm512_dpbf16_ps(acc1[r], a, b1);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    acc[r][0].v = acc0[r];
    acc[r][1].v = acc1[r];
  }
  StoreTile<MR>(acc, out);
}
#endif

inline uint16_t RoundToBf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu) != 0)
    return static_cast<uint16_t>((bits >> 16) | 0x40u);
  return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

// One tile of A, [mr rows][k] -> [k][mr], for the k that exist (k_count); the rest of the pass (padding) is zero.
template <int MR>
inline void PackTileF32(const float* a, int64_t lda, int64_t k_count, int64_t kc, float* dst) {
  const float* rows[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) rows[r] = a + r * lda;
  for (int64_t k = 0; k < k_count; ++k) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) dst[k * MR + r] = rows[r][k];
  }
  for (int64_t k = k_count; k < kc; ++k) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) dst[k * MR + r] = 0.0f;
  }
}

// Rows [row_begin, row_end) x k [k0, k0 + kc) of A, tile by tile: tile t (rows row_begin + t*kMr ...) holds
// mr = min(kMr, rows left) rows as [kc][mr]. k past the matrix (bfloat16 padding) reads as 0. Full tiles take the
// unrolled copy (12 row streams in, one contiguous stream out); only a batch's last tile takes the generic one.
void PackActivationsF32(const float* a, int64_t lda, int64_t k_valid, int64_t row_begin, int64_t row_end, int64_t k0,
                        int64_t kc, float* dst) {
  const int64_t k_count = k_valid - k0 < kc ? (k_valid - k0 > 0 ? k_valid - k0 : 0) : kc;
  for (int64_t r0 = row_begin; r0 < row_end; r0 += kMr) {
    const int64_t mr = row_end - r0 < kMr ? row_end - r0 : kMr;
    const float* src = a + r0 * lda + k0;
    if (mr == kMr) {
      PackTileF32<kMr>(src, lda, k_count, kc, dst);
    } else {
      for (int64_t r = 0; r < mr; ++r) {
        for (int64_t k = 0; k < kc; ++k) dst[k * mr + r] = k < k_count ? src[r * lda + k] : 0.0f;
      }
    }
    dst += mr * kc;
  }
}

// As above, rounded to bfloat16 pairs: word (kp, r) = bf16(a[r][2kp]) | bf16(a[r][2kp+1]) << 16.
void PackActivationsBf16Pairs(const float* a, int64_t lda, int64_t k_valid, int64_t row_begin, int64_t row_end,
                              int64_t k0, int64_t kc, uint32_t* dst) {
  const int64_t num_pairs = kc / 2;
  for (int64_t r0 = row_begin; r0 < row_end; r0 += kMr) {
    const int64_t mr = row_end - r0 < kMr ? row_end - r0 : kMr;
    for (int64_t r = 0; r < mr; ++r) {
      const float* src = a + (r0 + r) * lda;
      for (int64_t kp = 0; kp < num_pairs; ++kp) {
        const int64_t k = k0 + 2 * kp;
        const uint32_t lo = k < k_valid ? RoundToBf16(src[k]) : 0u;
        const uint32_t hi = k + 1 < k_valid ? RoundToBf16(src[k + 1]) : 0u;
        dst[kp * mr + r] = lo | (hi << 16);
      }
    }
    dst += mr * num_pairs;
  }
}

enum class TileKind { kF32, kBf16Widen, kBf16Dot };

template <int MR>
inline void RunTile(TileKind kind, const void* ap, const void* bp, int64_t kc, const TileOut& out) {
  switch (kind) {
    case TileKind::kF32:
      TileF32<MR>(static_cast<const float*>(ap), static_cast<const float*>(bp), kc, out);
      break;
    case TileKind::kBf16Widen:
      TileBf16Widen<MR>(static_cast<const float*>(ap), static_cast<const uint16_t*>(bp), kc, out);
      break;
    case TileKind::kBf16Dot:
#if defined(__AVX512BF16__)
      TileBf16Dot<MR>(static_cast<const uint32_t*>(ap), static_cast<const uint16_t*>(bp), kc, out);
#endif
      break;
  }
}

void RunTileRows(int64_t mr, TileKind kind, const void* ap, const void* bp, int64_t kc, const TileOut& out) {
  switch (mr) {
#define POOLED_TILE_CASE(n) \
  case n:                   \
    return RunTile<(n <= kMr ? n : kMr)>(kind, ap, bp, kc, out);
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

}  // namespace

// Activation and residual over a block of finished rows and columns, row by row while it is in L2. Kept out of
// the register tile on purpose: inlining a GELU into each of the MR x kVecs accumulators of every tile size made
// the kernel code so large that the epilogue cost as much as the multiply-adds. Shared with the int8 GEMM.
__attribute__((noinline)) void ActivationResidualRows(float* c, int64_t ldc, int64_t rows, int64_t cols,
                                                      Activation activation, const float* residual, int64_t ldr) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = c + r * ldc;
    const float* res = residual != nullptr ? residual + r * ldr : nullptr;
    int64_t col = 0;
    for (; col + kLanes <= cols; col += kLanes) {
      VecF x = Activate(Load(row + col), activation);
      if (res != nullptr) x = Add(x, Load(res + col));
      Store(row + col, x);
    }
    if (col < cols) {
      const int n = static_cast<int>(cols - col);
      VecF x = Activate(LoadN(row + col, n), activation);
      if (res != nullptr) x = Add(x, LoadN(res + col, n));
      StoreN(row + col, x, n);
    }
  }
}

int64_t GemmTileRows() { return kMr; }
int64_t GemmTileWidth() { return kNr; }

void GemmUnit(const gemm::UnitArgs& g, int64_t row_begin, int64_t row_end, int64_t panel_begin, int64_t panel_end,
              void* scratch) {
  const PackedWeightsView& w = g.w;
  const bool bf16 = w.type == ElementType::kBF16;
  TileKind kind = TileKind::kF32;
  if (bf16) kind = g.bf16_dot ? TileKind::kBf16Dot : TileKind::kBf16Widen;
#if !defined(__AVX512BF16__)
  if (kind == TileKind::kBf16Dot) kind = TileKind::kBf16Widen;
#endif
  const size_t weight_size = bf16 ? 2 : 4;
  const char* weights = static_cast<const char*>(w.data);

  for (int64_t k0 = 0; k0 < w.k_padded; k0 += g.kc_block) {
    const int64_t kc = w.k_padded - k0 < g.kc_block ? w.k_padded - k0 : g.kc_block;
    // Packed A: kc/2 words per row for bf16 pairs, kc floats otherwise.
    const int64_t packed_per_row = kind == TileKind::kBf16Dot ? kc / 2 : kc;
    if (kind == TileKind::kBf16Dot) {
      PackActivationsBf16Pairs(g.a, g.lda, w.k, row_begin, row_end, k0, kc, static_cast<uint32_t*>(scratch));
    } else {
      PackActivationsF32(g.a, g.lda, w.k, row_begin, row_end, k0, kc, static_cast<float*>(scratch));
    }
    const bool accumulate = k0 > 0;
    const bool finish = k0 + kc >= w.k_padded;

    for (int64_t block = panel_begin; block < panel_end; block += g.panels_per_block) {
      const int64_t block_end = panel_end - block < g.panels_per_block ? panel_end : block + g.panels_per_block;
      const char* ap = static_cast<const char*>(scratch);
      for (int64_t r0 = row_begin; r0 < row_end; r0 += kMr) {
        const int64_t mr = row_end - r0 < kMr ? row_end - r0 : kMr;
        for (int64_t p = block; p < block_end; ++p) {
          const int64_t col0 = p * kNr;
          TileOut out;
          out.c = g.c + r0 * g.ldc + col0;
          out.ldc = g.ldc;
          out.ncols = static_cast<int>(w.n - col0 < kNr ? w.n - col0 : kNr);
          out.accumulate = accumulate;
          out.finish = finish;
          out.bias = g.bias != nullptr ? g.bias + col0 : nullptr;
          const char* bp = weights + (p * w.k_padded + k0) * kNr * weight_size;
          RunTileRows(mr, kind, ap, bp, kc, out);
        }
        ap += mr * packed_per_row * 4;
      }
      if (finish && (g.activation != Activation::kNone || g.residual != nullptr)) {
        const int64_t col_begin = block * kNr;
        const int64_t col_end = block_end * kNr < w.n ? block_end * kNr : w.n;
        ActivationResidualRows(g.c + row_begin * g.ldc + col_begin, g.ldc, row_end - row_begin, col_end - col_begin,
                               g.activation,
                               g.residual != nullptr ? g.residual + row_begin * g.ldr + col_begin : nullptr, g.ldr);
      }
    }
  }
}

}  // namespace POOLED_ISA_NS

// ---------------------------------------------------------------------------------------------------------------
// Entry point (baseline pass only).
#if POOLED_ISA_BASELINE

namespace {

// Rows per unit: a multiple of every variant's tile height (12, 6, 4). A batch of up to twice this many rows is
// one row block split by panels.
constexpr int64_t kRowsPerUnit = 96;
// Target size of a weight panel block (kept in L2 while every row tile of a unit sweeps it).
constexpr int64_t kPanelBlockBytes = 512 * 1024;

bool Bf16DotAllowed() {
  // POOLED_BF16_DOT=0 forces the widening path (tests of the emulated bfloat16 path on a bf16-capable CPU).
  const char* env = std::getenv("POOLED_BF16_DOT");
  return env == nullptr || std::strcmp(env, "0") != 0;
}

bool Overlaps(const float* a, int64_t a_rows, int64_t lda, int64_t a_cols, const float* b, int64_t b_rows, int64_t ldb,
              int64_t b_cols) {
  if (a_rows == 0 || b_rows == 0) return false;
  const float* a_end = a + (a_rows - 1) * lda + a_cols;
  const float* b_end = b + (b_rows - 1) * ldb + b_cols;
  return a < b_end && b < a_end;
}

[[noreturn]] void Fail(const std::string& message) { throw std::invalid_argument("Gemm: " + message); }

}  // namespace

POOLED_DECLARE_FOR_EACH_ISA(double PeakLoop(int64_t iterations, bool bf16, float* sink))

// Flops per second of the bf16 dot-product loop over the float32 FMA loop, on this thread.
double Bf16DotToFmaThroughput() {
  const char* forced = std::getenv("POOLED_BF16_DOT");
  if (forced != nullptr && std::strcmp(forced, "1") == 0) return 2.0;
#if POOLED_HAS_X86_VARIANTS
  if (SelectedIsa() != Isa::kAvx512 || !DetectCpuFeatures().avx512bf16) return 0.0;
  auto rate = [](bool bf16) {
    float sink = 0.0f;
    double best = 0.0;
    for (int round = 0; round < 3; ++round) {
      const auto start = std::chrono::steady_clock::now();
      const double flops = avx512::PeakLoop(200000, bf16, &sink);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (seconds > 0 && flops / seconds > best) best = flops / seconds;
    }
    return best;
  };
  const double fma = rate(false);
  return fma > 0 ? rate(true) / fma : 0.0;
#else
  return 0.0;
#endif
}

int64_t GemmPanelWidth() { POOLED_DISPATCH_RETURN(GemmTileWidth); }

bool HasBf16DotProduct() {
  static const bool use = [] {
    if (SelectedIsa() != Isa::kAvx512 || !DetectCpuFeatures().avx512bf16 || !Bf16DotAllowed()) return false;
    // Where vdpbf16ps issues at the FMA rate it does twice the work per instruction (Zen 4); some cores run it at
    // half that rate (measured: a Sapphire Rapids VM), and then widening bf16 weights for float32 FMAs is faster.
    // A few milliseconds of both loops decide, once per process.
    return Bf16DotToFmaThroughput() > 1.2;
  }();
  return use;
}

void Gemm(ThreadPool& pool, const float* a, int64_t m, int64_t lda, const PackedWeights& weights, float* c, int64_t ldc,
          const GemmEpilogue& epilogue) {
  const PackedWeightsView& w = weights.view();
  if (w.data == nullptr) Fail("weights are not packed");
  if (w.panel_width != GemmPanelWidth()) Fail("weights were packed for another ISA");
  if (m < 0) Fail("m must be >= 0");
  if (m == 0) return;
  if (a == nullptr || c == nullptr) Fail("a and c must not be null");
  if (lda < w.k) Fail("lda " + std::to_string(lda) + " < k " + std::to_string(w.k));
  if (ldc < w.n) Fail("ldc " + std::to_string(ldc) + " < n " + std::to_string(w.n));
  if (epilogue.residual != nullptr) {
    if (epilogue.ldr < w.n) Fail("ldr " + std::to_string(epilogue.ldr) + " < n " + std::to_string(w.n));
    // C holds partial sums between k passes, so it must not be the residual it adds at the end.
    if (Overlaps(epilogue.residual, m, epilogue.ldr, w.n, c, m, ldc, w.n)) Fail("residual overlaps the output");
  }
  if (Overlaps(a, m, lda, w.k, c, m, ldc, w.n)) Fail("a overlaps the output");
  const bool layer_norm = epilogue.ln_gamma != nullptr || epilogue.ln_beta != nullptr;
  if (layer_norm && (epilogue.ln_gamma == nullptr || epilogue.ln_beta == nullptr))
    Fail("LayerNorm needs both gamma and beta");
  if (layer_norm && !(epilogue.ln_eps >= 0.0f)) Fail("LayerNorm eps must be >= 0");

  const bool bf16 = w.type == ElementType::kBF16;
  const bool int8 = w.type == ElementType::kInt8;
  if (int8 && (w.scales == nullptr || w.column_sums == nullptr)) Fail("int8 weights without scales");
  int64_t tile_rows = 0;
  {
    auto query = [&]() -> int64_t {
      if (int8) {
        POOLED_DISPATCH_RETURN(GemmInt8TileRows);
      }
      POOLED_DISPATCH_RETURN(GemmTileRows);
    };
    tile_rows = query();
  }

  // k passes: the whole of k when short, else equal passes of about 384 (float32) / 512 (bfloat16) values, so
  // a tile's packed activations stay in L1 while it sweeps a panel block. int8 tiles always take the whole of k:
  // their sums stay in int32 registers (no partial sums through C), and a 12-row tile of k = 4096 is 48 KiB.
  const int64_t kc_target = bf16 ? 512 : 384;
  const int64_t num_passes = int8 || w.k_padded <= kc_target * 4 / 3 ? 1 : (w.k_padded + kc_target - 1) / kc_target;
  int64_t kc_block = (w.k_padded + num_passes - 1) / num_passes;
  if (bf16) kc_block = (kc_block + 1) / 2 * 2;
  const int64_t panel_bytes = kc_block * w.panel_width * static_cast<int64_t>(ElementSize(w.type));
  const int64_t panels_per_block = std::max<int64_t>(1, kPanelBlockBytes / panel_bytes);
  // int8: every row quantized once per call (not per unit), in a parallel pass of its own.
  gemm_int8::QuantizedRows quantized{};
  if (int8) quantized = QuantizeActivationRows(pool, a, m, lda, w.k, w.k_padded);

  // Units: blocks of rows; when there are too few of them to keep every thread busy (one short batch), all rows
  // in one block and ranges of panels instead, which split evenly (row blocks only split at tile multiples).
  const int64_t num_threads = pool.NumThreads();
  int64_t num_row_blocks = (m + kRowsPerUnit - 1) / kRowsPerUnit;
  int64_t num_col_blocks = 1;
  if (num_row_blocks < 2 * num_threads && m <= 2 * kRowsPerUnit) {
    num_row_blocks = 1;
    num_col_blocks = std::min<int64_t>(w.num_panels, 4 * num_threads);
  } else if (num_row_blocks < 2 * num_threads) {
    num_col_blocks = std::min<int64_t>(w.num_panels, (4 * num_threads + num_row_blocks - 1) / num_row_blocks);
  }
  int64_t rows_per_unit = (m + num_row_blocks - 1) / num_row_blocks;
  rows_per_unit = (rows_per_unit + tile_rows - 1) / tile_rows * tile_rows;
  num_row_blocks = (m + rows_per_unit - 1) / rows_per_unit;
  const int64_t panels_per_unit = (w.num_panels + num_col_blocks - 1) / num_col_blocks;
  num_col_blocks = (w.num_panels + panels_per_unit - 1) / panels_per_unit;
  // With whole rows in one unit, the LayerNorm runs right after them while they are still in cache.
  const bool fuse_layer_norm = layer_norm && num_col_blocks == 1;

  gemm::UnitArgs args;
  args.a = a;
  args.lda = lda;
  args.w = w;
  args.c = c;
  args.ldc = ldc;
  args.bias = epilogue.bias;
  args.activation = epilogue.activation;
  args.residual = epilogue.residual;
  args.ldr = epilogue.ldr;
  args.kc_block = kc_block;
  args.panels_per_block = panels_per_block;
  args.bf16_dot = bf16 && HasBf16DotProduct();
  gemm_int8::UnitArgs int8_args{quantized,
                                w,
                                c,
                                ldc,
                                epilogue.bias,
                                epilogue.activation,
                                epilogue.residual,
                                epilogue.ldr,
                                panels_per_block,
                                HasInt8DotProduct()};

  const size_t scratch_bytes = static_cast<size_t>(rows_per_unit * kc_block * 4);
  pool.Run(num_row_blocks * num_col_blocks, [&](int64_t task, int) {
    const int64_t row_begin = (task / num_col_blocks) * rows_per_unit;
    const int64_t row_end = std::min(m, row_begin + rows_per_unit);
    const int64_t panel_begin = (task % num_col_blocks) * panels_per_unit;
    const int64_t panel_end = std::min(w.num_panels, panel_begin + panels_per_unit);
    if (int8) {
      POOLED_DISPATCH(GemmInt8Unit, int8_args, row_begin, row_end, panel_begin, panel_end);
    } else {
      // Each pool thread keeps its packing buffer between calls; it only grows.
      thread_local AlignedBuffer scratch;
      if (scratch.size() < scratch_bytes) scratch = AlignedBuffer(scratch_bytes);
      POOLED_DISPATCH(GemmUnit, args, row_begin, row_end, panel_begin, panel_end, scratch.data());
    }
    if (fuse_layer_norm) {
      POOLED_DISPATCH(LayerNormRows, c, ldc, nullptr, 0, c, ldc, w.n, epilogue.ln_gamma, epilogue.ln_beta,
                      epilogue.ln_eps, row_begin, row_end);
    }
  });
  if (layer_norm && !fuse_layer_norm) {
    const int64_t rows_per_task = std::max<int64_t>(1, (m + 4 * num_threads - 1) / (4 * num_threads));
    pool.Run((m + rows_per_task - 1) / rows_per_task, [&](int64_t task, int) {
      const int64_t row_begin = task * rows_per_task;
      const int64_t row_end = std::min(m, row_begin + rows_per_task);
      POOLED_DISPATCH(LayerNormRows, c, ldc, nullptr, 0, c, ldc, w.n, epilogue.ln_gamma, epilogue.ln_beta,
                      epilogue.ln_eps, row_begin, row_end);
    });
  }
}

#endif  // POOLED_ISA_BASELINE

}  // namespace pooled::kernels::cpu
