// Bidirectional multi-head attention over a ragged batch: no padding and no mask, each sequence attends to itself
// only (BertSelfAttention with an all-ones mask). Flash-attention style: per (sequence, head, block of queries),
// keys are visited in tiles and the softmax is computed online (running max and sum, rescaling the partial
// output), so the full score matrix is never stored and any sequence length needs O(tile) memory beyond K^T.
//
// Work item: one (sequence, head, range of up to 64 queries). Its K columns for that head are first transposed
// into K^T [head_dim][keys] so a tile of scores is register-blocked like a small GEMM (kQueryRows queries x
// kKeyVecs vectors of keys), then P V accumulates with V rows read in place. Items are independent, so a
// sequence's result does not depend on the rest of the batch.
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

POOLED_DECLARE_FOR_EACH_ISA(int64_t AttentionKeyTile())
POOLED_DECLARE_FOR_EACH_ISA(int64_t AttentionScratchFloats(int64_t head_dim, int64_t max_seq_len))
POOLED_DECLARE_FOR_EACH_ISA(void AttentionItem(const AttentionArgs& args, int64_t seq_begin, int64_t seq_len,
                                               int64_t head, int64_t query_begin, int64_t query_end, float* scratch))

namespace POOLED_ISA_NS {

namespace {

constexpr int kQueryRows = 4;
#if defined(__AVX512F__)
constexpr int kKeyVecs = 4;  // 64 keys per tile; 16 score accumulators
#elif defined(__AVX2__)
constexpr int kKeyVecs = 2;  // 16 keys per tile; 8 accumulators of the 16 registers
#else
constexpr int kKeyVecs = 8;
#endif
constexpr int kKeyTile = kKeyVecs * kLanes;
constexpr float kNegativeInfinity = -__builtin_huge_valf();

inline int64_t RoundUp(int64_t value, int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

inline VecF LoadUpTo(const float* p, int64_t left) { return left >= kLanes ? Load(p) : LoadN(p, static_cast<int>(left)); }

}  // namespace

int64_t AttentionKeyTile() { return kKeyTile; }

int64_t AttentionScratchFloats(int64_t head_dim, int64_t max_seq_len) {
  const int64_t padded_dim = RoundUp(head_dim, kLanes);
  return head_dim * RoundUp(max_seq_len, kKeyTile)  // K^T
         + kQueryRows * kKeyTile                     // scores / probabilities of one tile
         + kQueryRows * padded_dim                   // output accumulators
         + 2 * kQueryRows;                           // running max and sum
}

void AttentionItem(const AttentionArgs& args, int64_t seq_begin, int64_t seq_len, int64_t head, int64_t query_begin,
                   int64_t query_end, float* scratch) {
  const int64_t dim = args.head_dim;
  const int64_t padded_dim = RoundUp(dim, kLanes);
  const int64_t keys_padded = RoundUp(seq_len, kKeyTile);
  float* key_t = scratch;
  float* scores = key_t + dim * keys_padded;
  float* acc_out = scores + kQueryRows * kKeyTile;
  float* running_max = acc_out + kQueryRows * padded_dim;
  float* running_sum = running_max + kQueryRows;

  const float* q_head = args.q + seq_begin * args.ldq + head * dim;
  const float* k_head = args.k + seq_begin * args.ldk + head * dim;
  const float* v_head = args.v + seq_begin * args.ldv + head * dim;
  float* out_head = args.out + seq_begin * args.ldo + head * dim;
  const float scale = 1.0f / Sqrt(static_cast<float>(dim));

  for (int64_t j = 0; j < seq_len; ++j) {
    const float* k_row = k_head + j * args.ldk;
    for (int64_t d = 0; d < dim; ++d) key_t[d * keys_padded + j] = k_row[d];
  }
  for (int64_t d = 0; d < dim; ++d) {
    for (int64_t j = seq_len; j < keys_padded; ++j) key_t[d * keys_padded + j] = 0.0f;
  }

  for (int64_t i0 = query_begin; i0 < query_end; i0 += kQueryRows) {
    const int64_t num_rows = query_end - i0 < kQueryRows ? query_end - i0 : kQueryRows;
    // Rows past the end repeat the last real query (valid memory), and their results are dropped.
    const float* q_rows[kQueryRows];
    for (int r = 0; r < kQueryRows; ++r) q_rows[r] = q_head + (i0 + (r < num_rows ? r : num_rows - 1)) * args.ldq;
    for (int r = 0; r < kQueryRows; ++r) {
      running_max[r] = kNegativeInfinity;
      running_sum[r] = 0.0f;
      for (int64_t d = 0; d < padded_dim; d += kLanes) Store(acc_out + r * padded_dim + d, Zero());
    }

    for (int64_t j0 = 0; j0 < seq_len; j0 += kKeyTile) {
      const int64_t num_keys = seq_len - j0 < kKeyTile ? seq_len - j0 : kKeyTile;
      // Scores for this tile: S = (scale q) K^T.
      VecF s[kQueryRows][kKeyVecs];
#pragma GCC unroll 8
      for (int r = 0; r < kQueryRows; ++r) {
#pragma GCC unroll 8
        for (int v = 0; v < kKeyVecs; ++v) s[r][v] = Zero();
      }
      for (int64_t d = 0; d < dim; ++d) {
        const float* kt = key_t + d * keys_padded + j0;
        VecF kv[kKeyVecs];
#pragma GCC unroll 8
        for (int v = 0; v < kKeyVecs; ++v) kv[v] = Load(kt + v * kLanes);
#pragma GCC unroll 8
        for (int r = 0; r < kQueryRows; ++r) {
          const VecF qd = Set1(q_rows[r][d] * scale);
#pragma GCC unroll 8
          for (int v = 0; v < kKeyVecs; ++v) s[r][v] = Fma(qd, kv[v], s[r][v]);
        }
      }
      // Online softmax: new running max, rescale what was accumulated, probabilities of this tile.
      for (int r = 0; r < kQueryRows; ++r) {
        float* p_row = scores + r * kKeyTile;
        for (int v = 0; v < kKeyVecs; ++v) Store(p_row + v * kLanes, s[r][v]);
        for (int64_t j = num_keys; j < kKeyTile; ++j) p_row[j] = kNegativeInfinity;
        VecF tile_max = Set1(kNegativeInfinity);
        for (int v = 0; v < kKeyVecs; ++v) tile_max = Max(tile_max, Load(p_row + v * kLanes));
        const float new_max = running_max[r] > ReduceMax(tile_max) ? running_max[r] : ReduceMax(tile_max);
        const VecF new_max_v = Set1(new_max);
        VecF tile_sum = Zero();
        for (int v = 0; v < kKeyVecs; ++v) {
          const int valid = static_cast<int>(num_keys - v * kLanes);
          VecF p = Exp(Sub(Load(p_row + v * kLanes), new_max_v));
          if (valid < kLanes) {  // padding keys get exactly 0, not exp's smallest value
            Store(p_row + v * kLanes, p);
            p = LoadN(p_row + v * kLanes, valid < 0 ? 0 : valid);
          }
          Store(p_row + v * kLanes, p);
          tile_sum = Add(tile_sum, p);
        }
        // exp(-inf) on the first tile: nothing accumulated yet, the factor is 0.
        const float correction = running_max[r] == kNegativeInfinity ? 0.0f : __builtin_expf(running_max[r] - new_max);
        running_sum[r] = running_sum[r] * correction + ReduceAdd(tile_sum);
        running_max[r] = new_max;
        if (correction != 1.0f) {
          const VecF c = Set1(correction);
          for (int64_t d = 0; d < padded_dim; d += kLanes) {
            Store(acc_out + r * padded_dim + d, Mul(Load(acc_out + r * padded_dim + d), c));
          }
        }
      }
      // Output += P V over this tile, one vector of head dimensions at a time with every query row in registers.
      for (int64_t d = 0; d < dim; d += kLanes) {
        const int64_t left = dim - d;
        VecF o[kQueryRows];
#pragma GCC unroll 8
        for (int r = 0; r < kQueryRows; ++r) o[r] = Load(acc_out + r * padded_dim + d);
        for (int64_t j = 0; j < num_keys; ++j) {
          const VecF vv = LoadUpTo(v_head + (j0 + j) * args.ldv + d, left);
#pragma GCC unroll 8
          for (int r = 0; r < kQueryRows; ++r) o[r] = Fma(Set1(scores[r * kKeyTile + j]), vv, o[r]);
        }
#pragma GCC unroll 8
        for (int r = 0; r < kQueryRows; ++r) Store(acc_out + r * padded_dim + d, o[r]);
      }
    }

    for (int64_t r = 0; r < num_rows; ++r) {
      const VecF inverse_sum = Set1(1.0f / running_sum[r]);
      float* dst = out_head + (i0 + r) * args.ldo;
      for (int64_t d = 0; d < dim; d += kLanes) {
        const VecF x = Mul(Load(acc_out + r * padded_dim + d), inverse_sum);
        if (dim - d >= kLanes) {
          Store(dst + d, x);
        } else {
          StoreN(dst + d, x, static_cast<int>(dim - d));
        }
      }
    }
  }
}

}  // namespace POOLED_ISA_NS

#if POOLED_ISA_BASELINE
namespace {
// Queries per work item: small enough to spread one long sequence over every thread, large enough that the K^T
// transpose (head_dim x seq_len) is a small share of the item's work.
constexpr int64_t kQueriesPerItem = 64;

struct Item {
  int64_t seq;
  int64_t head;
  int64_t query_begin;
  int64_t query_end;
  int64_t cost;
};

[[noreturn]] void Fail(const std::string& message) { throw std::invalid_argument("Attention: " + message); }
}  // namespace

void Attention(ThreadPool& pool, const AttentionArgs& args) {
  if (args.num_heads <= 0 || args.head_dim <= 0) Fail("num_heads and head_dim must be > 0");
  if (args.num_seqs < 0 || args.num_tokens < 0) Fail("num_seqs and num_tokens must be >= 0");
  if (args.cu_seq_lens == nullptr) Fail("cu_seq_lens is null");
  const int64_t width = args.num_heads * args.head_dim;
  if (args.ldq < width || args.ldk < width || args.ldv < width || args.ldo < width) Fail("a leading dimension is below num_heads * head_dim");
  if (args.cu_seq_lens[0] != 0) Fail("cu_seq_lens[0] must be 0");
  int64_t max_len = 0;
  for (int64_t s = 0; s < args.num_seqs; ++s) {
    const int64_t len = static_cast<int64_t>(args.cu_seq_lens[s + 1]) - args.cu_seq_lens[s];
    if (len < 0) Fail("cu_seq_lens must be non-decreasing (at sequence " + std::to_string(s) + ")");
    max_len = std::max(max_len, len);
  }
  if (args.cu_seq_lens[args.num_seqs] != args.num_tokens) {
    Fail("cu_seq_lens ends at " + std::to_string(args.cu_seq_lens[args.num_seqs]) + " but there are " + std::to_string(args.num_tokens) + " tokens");
  }
  if (args.num_tokens == 0) return;
  if (args.q == nullptr || args.k == nullptr || args.v == nullptr || args.out == nullptr) Fail("null tensor");

  std::vector<Item> items;
  for (int64_t s = 0; s < args.num_seqs; ++s) {
    const int64_t len = static_cast<int64_t>(args.cu_seq_lens[s + 1]) - args.cu_seq_lens[s];
    for (int64_t h = 0; h < args.num_heads; ++h) {
      for (int64_t q0 = 0; q0 < len; q0 += kQueriesPerItem) {
        const int64_t q1 = std::min(len, q0 + kQueriesPerItem);
        items.push_back({s, h, q0, q1, (q1 - q0) * len});
      }
    }
  }
  // Longest first, so the threads finish together when a batch mixes long and short sequences.
  std::stable_sort(items.begin(), items.end(), [](const Item& x, const Item& y) { return x.cost > y.cost; });

  int64_t scratch_floats = 0;
  {
    auto query = [&]() -> int64_t { POOLED_DISPATCH_RETURN(AttentionScratchFloats, args.head_dim, max_len); };
    scratch_floats = query();
  }
  const size_t scratch_bytes = static_cast<size_t>(scratch_floats) * sizeof(float);
  pool.Run(static_cast<int64_t>(items.size()), [&](int64_t task, int) {
    thread_local AlignedBuffer scratch;
    if (scratch.size() < scratch_bytes) scratch = AlignedBuffer(scratch_bytes);
    const Item& item = items[static_cast<size_t>(task)];
    const int64_t seq_begin = args.cu_seq_lens[item.seq];
    const int64_t seq_len = args.cu_seq_lens[item.seq + 1] - seq_begin;
    POOLED_DISPATCH(AttentionItem, args, seq_begin, seq_len, item.head, item.query_begin, item.query_end,
                    static_cast<float*>(scratch.data()));
  });
}
#endif  // POOLED_ISA_BASELINE

}  // namespace pooled::kernels::cpu
