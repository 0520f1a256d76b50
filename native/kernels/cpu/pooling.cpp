// Fused pooling and post-processing, all in float32: CLS / MEAN / LAST over each sequence's rows
// (sentence-transformers Pooling, no padding), then keep the first `dimensions` values, then L2-normalize
// (torch.nn.functional.normalize, norm floored at 1e-12). Truncating before normalizing is the Matryoshka rule.
#include <cstdint>

#include "kernels/cpu/isa_dispatch.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/simd.h"

#if POOLED_ISA_BASELINE
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/thread_pool.h"
#endif

namespace pooled::kernels::cpu {

POOLED_DECLARE_FOR_EACH_ISA(void PoolSequence(const float* hidden, int64_t ld, int64_t seq_begin, int64_t seq_end,
                                              PoolingMode mode, int64_t kept, bool normalize, float* out))

namespace POOLED_ISA_NS {

namespace {
constexpr float kNormalizeEps = 1e-12f;
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

// Only the first `kept` columns are ever read: pooling is per column, so truncating first changes nothing.
void PoolSequence(const float* hidden, int64_t ld, int64_t seq_begin, int64_t seq_end, PoolingMode mode, int64_t kept,
                  bool normalize, float* out) {
  if (mode == PoolingMode::kMean) {
    const VecF inverse_count = Set1(1.0f / static_cast<float>(seq_end - seq_begin));
    for (int64_t c = 0; c < kept; c += kLanes) {
      const int64_t left = kept - c;
      VecF sum = Zero();
      for (int64_t t = seq_begin; t < seq_end; ++t) sum = Add(sum, LoadUpTo(hidden + t * ld + c, left));
      StoreUpTo(out + c, Mul(sum, inverse_count), left);
    }
  } else {
    const float* row = hidden + (mode == PoolingMode::kCls ? seq_begin : seq_end - 1) * ld;
    for (int64_t c = 0; c < kept; c += kLanes) StoreUpTo(out + c, LoadUpTo(row + c, kept - c), kept - c);
  }
  if (!normalize) return;
  VecF squares = Zero();
  for (int64_t c = 0; c < kept; c += kLanes) {
    const VecF x = LoadUpTo(out + c, kept - c);
    squares = Fma(x, x, squares);
  }
  float norm = Sqrt(ReduceAdd(squares));
  if (norm < kNormalizeEps) norm = kNormalizeEps;
  const VecF inverse_norm = Set1(1.0f / norm);
  for (int64_t c = 0; c < kept; c += kLanes)
    StoreUpTo(out + c, Mul(LoadUpTo(out + c, kept - c), inverse_norm), kept - c);
}

}  // namespace POOLED_ISA_NS

#if POOLED_ISA_BASELINE
void Pool(ThreadPool& pool, const float* hidden, int64_t ld, int64_t hidden_size, const int32_t* cu_seq_lens,
          int64_t num_seqs, PoolingMode mode, const int32_t* dimensions, const uint8_t* normalize, float* out,
          int64_t out_size) {
  if (hidden_size <= 0 || ld < hidden_size)
    throw std::invalid_argument("Pool: need hidden_size > 0 and ld >= hidden_size");
  if (num_seqs < 0) throw std::invalid_argument("Pool: num_seqs must be >= 0");
  if (num_seqs == 0) return;
  if (hidden == nullptr || cu_seq_lens == nullptr || out == nullptr) throw std::invalid_argument("Pool: null argument");
  if (mode != PoolingMode::kCls && mode != PoolingMode::kMean && mode != PoolingMode::kLast)
    throw std::invalid_argument("Pool: unknown pooling mode");
  if (cu_seq_lens[0] != 0) throw std::invalid_argument("Pool: cu_seq_lens[0] must be 0");
  std::vector<int64_t> offsets(static_cast<size_t>(num_seqs) + 1, 0);
  for (int64_t s = 0; s < num_seqs; ++s) {
    if (cu_seq_lens[s + 1] <= cu_seq_lens[s])
      throw std::invalid_argument("Pool: sequence " + std::to_string(s) + " is empty or cu_seq_lens decreases");
    const int64_t dims = dimensions != nullptr ? dimensions[s] : 0;
    if (dims < 0 || dims > hidden_size) {
      throw std::invalid_argument("Pool: dimensions[" + std::to_string(s) + "] = " + std::to_string(dims) +
                                  " is outside [0, " + std::to_string(hidden_size) + "]");
    }
    offsets[static_cast<size_t>(s) + 1] = offsets[static_cast<size_t>(s)] + (dims == 0 ? hidden_size : dims);
  }
  if (offsets.back() != out_size) {
    throw std::invalid_argument("Pool: output holds " + std::to_string(out_size) + " values, the rows need " +
                                std::to_string(offsets.back()));
  }
  pool.Run(num_seqs, [&](int64_t s, int) {
    const int64_t kept = offsets[static_cast<size_t>(s) + 1] - offsets[static_cast<size_t>(s)];
    const bool unit = normalize != nullptr && normalize[s] != 0;
    POOLED_DISPATCH(PoolSequence, hidden, ld, cu_seq_lens[s], cu_seq_lens[s + 1], mode, kept, unit,
                    out + offsets[static_cast<size_t>(s)]);
  });
}
#endif  // POOLED_ISA_BASELINE

}  // namespace pooled::kernels::cpu
