// Bidirectional multi-head attention over a ragged batch: no padding and no mask, each sequence attends to itself
// only (BertSelfAttention with an all-ones mask), optionally within a sliding window (|query - key| <= window, as
// ModernBERT's local layers: transformers masking_utils.py sliding_window_bidirectional_overlay). Flash-attention
// style: per (sequence, head, block of queries), keys are visited in tiles and the softmax is computed online (running
// max and sum, rescaling the partial output), so the full score matrix is never stored and any sequence length needs
// O(tile) memory beyond K^T.
//
// First K is transposed once per (sequence, head) into K^T [head_dim][keys], so a tile of scores is register-blocked
// like a small GEMM (kQueryRows queries x kKeyVecs vectors of keys). Then each work item, one (sequence, head,
// range of up to 64 queries), walks the key tiles; P V accumulates with V rows read in place, each probability
// broadcast once for up to 4 vectors of the head dimension. Items are independent, so a sequence's result does
// not depend on the rest of the batch. With a window, a block of queries visits only the key tiles that overlap the
// union of its rows' windows (the keys outside a row's own window inside those tiles get probability exactly 0), so
// a sequence of n tokens costs O(n * window) instead of O(n^2).
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
POOLED_DECLARE_FOR_EACH_ISA(int64_t AttentionScratchFloats(int64_t head_dim))
POOLED_DECLARE_FOR_EACH_ISA(void TransposeKeys(const AttentionArgs& args, int64_t seq_begin, int64_t seq_len,
                                               int64_t head, float* key_t, int64_t key_t_stride))
POOLED_DECLARE_FOR_EACH_ISA(void AttentionItem(const AttentionArgs& args, int64_t seq_begin, int64_t seq_len,
                                               int64_t head, int64_t query_begin, int64_t query_end, const float* key_t,
                                               int64_t key_t_stride, float* scratch))

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
// Head-dimension vectors per P V pass: a query row's accumulators for them stay in registers.
constexpr int kValueVecs = 4;
constexpr float kNegativeInfinity = -__builtin_huge_valf();

inline int64_t RoundUp(int64_t value, int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

inline VecF LoadUpTo(const float* p, int64_t left) {
  return left >= kLanes ? Load(p) : LoadN(p, static_cast<int>(left));
}

// O[r][d0 .. d0 + NV*kLanes) += sum_j P[r][j] V[j][...] for the tile's keys: each V row is loaded once and each
// probability broadcast once for NV vectors of the row.
template <int NV>
inline void AccumulateValues(const float* probabilities, const float* v_tile, int64_t ldv, int64_t num_keys, int64_t d0,
                             int64_t dim, float* acc_out, int64_t padded_dim) {
  VecF o[kQueryRows][NV];
#pragma GCC unroll 8
  for (int r = 0; r < kQueryRows; ++r) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) o[r][v] = Load(acc_out + r * padded_dim + d0 + v * kLanes);
  }
  const bool full = d0 + NV * kLanes <= dim;
  for (int64_t j = 0; j < num_keys; ++j) {
    const float* v_row = v_tile + j * ldv + d0;
    VecF vv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v)
      vv[v] = full ? Load(v_row + v * kLanes) : LoadUpTo(v_row + v * kLanes, dim - d0 - v * kLanes);
#pragma GCC unroll 8
    for (int r = 0; r < kQueryRows; ++r) {
      const VecF p = Set1(probabilities[r * kKeyTile + j]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) o[r][v] = Fma(p, vv[v], o[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < kQueryRows; ++r) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) Store(acc_out + r * padded_dim + d0 + v * kLanes, o[r][v]);
  }
}

}  // namespace

int64_t AttentionKeyTile() { return kKeyTile; }

int64_t AttentionScratchFloats(int64_t head_dim) {
  const int64_t padded_dim = RoundUp(head_dim, kLanes);
  return kQueryRows * padded_dim    // scaled queries
         + kQueryRows * kKeyTile    // scores / probabilities of one tile
         + kQueryRows * padded_dim  // output accumulators
         + 2 * kQueryRows;          // running max and sum
}

// K^T of one (sequence, head): key_t[d * key_t_stride + j] = K[seq_begin + j][head * dim + d], keys past the
// sequence (up to the tile multiple) zero. Done once per layer for every query block that reads it, in blocks of
// 16 keys so both the reads (rows of K) and the writes (runs of K^T) stay within a few cache lines.
void TransposeKeys(const AttentionArgs& args, int64_t seq_begin, int64_t seq_len, int64_t head, float* key_t,
                   int64_t key_t_stride) {
  const int64_t dim = args.head_dim;
  const float* k_head = args.k + seq_begin * args.ldk + head * dim;
  constexpr int64_t kBlock = 16;
  for (int64_t j0 = 0; j0 < seq_len; j0 += kBlock) {
    const int64_t j1 = seq_len - j0 < kBlock ? seq_len : j0 + kBlock;
    for (int64_t d = 0; d < dim; ++d) {
      float* dst = key_t + d * key_t_stride;
      for (int64_t j = j0; j < j1; ++j) dst[j] = k_head[j * args.ldk + d];
    }
  }
  const int64_t padded = RoundUp(seq_len, kKeyTile);
  for (int64_t d = 0; d < dim; ++d) {
    for (int64_t j = seq_len; j < padded; ++j) key_t[d * key_t_stride + j] = 0.0f;
  }
}

void AttentionItem(const AttentionArgs& args, int64_t seq_begin, int64_t seq_len, int64_t head, int64_t query_begin,
                   int64_t query_end, const float* key_t, int64_t key_t_stride, float* scratch) {
  const int64_t dim = args.head_dim;
  const int64_t padded_dim = RoundUp(dim, kLanes);
  float* q_scaled = scratch;
  float* scores = q_scaled + kQueryRows * padded_dim;
  float* acc_out = scores + kQueryRows * kKeyTile;
  float* running_max = acc_out + kQueryRows * padded_dim;
  float* running_sum = running_max + kQueryRows;

  const float* q_head = args.q + seq_begin * args.ldq + head * dim;
  const float* v_head = args.v + seq_begin * args.ldv + head * dim;
  float* out_head = args.out + seq_begin * args.ldo + head * dim;
  const float scale = 1.0f / Sqrt(static_cast<float>(dim));

  for (int64_t i0 = query_begin; i0 < query_end; i0 += kQueryRows) {
    const int64_t num_rows = query_end - i0 < kQueryRows ? query_end - i0 : kQueryRows;
    // Rows past the end repeat the last real query (so every lane computes something finite); dropped at the end.
    for (int r = 0; r < kQueryRows; ++r) {
      const float* q_row = q_head + (i0 + (r < num_rows ? r : num_rows - 1)) * args.ldq;
      for (int64_t d = 0; d < dim; ++d) q_scaled[r * padded_dim + d] = q_row[d] * scale;
      running_max[r] = kNegativeInfinity;
      running_sum[r] = 0.0f;
      for (int64_t d = 0; d < padded_dim; d += kLanes) Store(acc_out + r * padded_dim + d, Zero());
    }

    // Keys any row of this block sees: the whole sequence, or the union of the rows' windows, from its tile start.
    int64_t keys_begin = 0;
    int64_t keys_end = seq_len;
    if (args.window > 0) {
      keys_begin = i0 - args.window > 0 ? (i0 - args.window) / kKeyTile * kKeyTile : 0;
      const int64_t last = i0 + num_rows - 1 + args.window + 1;
      keys_end = last < seq_len ? last : seq_len;
    }
    for (int64_t j0 = keys_begin; j0 < keys_end; j0 += kKeyTile) {
      const int64_t num_keys = seq_len - j0 < kKeyTile ? seq_len - j0 : kKeyTile;
      // Scores for this tile: S = (scale q) K^T, queries broadcast, keys along the vector lanes.
      VecF s[kQueryRows][kKeyVecs];
#pragma GCC unroll 8
      for (int r = 0; r < kQueryRows; ++r) {
#pragma GCC unroll 8
        for (int v = 0; v < kKeyVecs; ++v) s[r][v] = Zero();
      }
      for (int64_t d = 0; d < dim; ++d) {
        const float* kt = key_t + d * key_t_stride + j0;
        VecF kv[kKeyVecs];
#pragma GCC unroll 8
        for (int v = 0; v < kKeyVecs; ++v) kv[v] = Load(kt + v * kLanes);
#pragma GCC unroll 8
        for (int r = 0; r < kQueryRows; ++r) {
          const VecF qd = Set1(q_scaled[r * padded_dim + d]);
#pragma GCC unroll 8
          for (int v = 0; v < kKeyVecs; ++v) s[r][v] = Fma(qd, kv[v], s[r][v]);
        }
      }
      // Online softmax: new running max, rescale what was accumulated, probabilities of this tile.
      for (int r = 0; r < kQueryRows; ++r) {
        float* p_row = scores + r * kKeyTile;
        // The tile's keys this row sees, [first, end) within the tile: past the sequence end (padding) and outside
        // the row's window are masked.
        int64_t first = 0;
        int64_t end = num_keys;
        if (args.window > 0) {
          const int64_t query = i0 + (r < num_rows ? r : num_rows - 1);
          if (query - args.window - j0 > first) first = query - args.window - j0;
          if (query + args.window + 1 - j0 < end) end = query + args.window + 1 - j0;
        }
        if (first >= end) {  // no key of this tile in the row's window: it contributes nothing
          for (int v = 0; v < kKeyVecs; ++v) Store(p_row + v * kLanes, Zero());
          continue;
        }
        const bool masked = first > 0 || end < kKeyTile;
        if (masked) {  // masked keys must not raise the max
          for (int v = 0; v < kKeyVecs; ++v) Store(p_row + v * kLanes, s[r][v]);
          for (int64_t j = 0; j < first; ++j) p_row[j] = kNegativeInfinity;
          for (int64_t j = end; j < kKeyTile; ++j) p_row[j] = kNegativeInfinity;
          for (int v = 0; v < kKeyVecs; ++v) s[r][v] = Load(p_row + v * kLanes);
        }
        VecF tile_max = s[r][0];
        for (int v = 1; v < kKeyVecs; ++v) tile_max = Max(tile_max, s[r][v]);
        const float tile_max_value = ReduceMax(tile_max);
        const float new_max = running_max[r] > tile_max_value ? running_max[r] : tile_max_value;
        const VecF new_max_v = Set1(new_max);
        VecF tile_sum = Zero();
        for (int v = 0; v < kKeyVecs; ++v) {
          const VecF p = Exp(Sub(s[r][v], new_max_v));
          Store(p_row + v * kLanes, p);
          tile_sum = Add(tile_sum, p);
        }
        if (masked) {  // masked keys get exactly 0, not exp's smallest value
          for (int64_t j = 0; j < first; ++j) p_row[j] = 0.0f;
          for (int64_t j = end; j < kKeyTile; ++j) p_row[j] = 0.0f;
          tile_sum = Zero();
          for (int v = 0; v < kKeyVecs; ++v) tile_sum = Add(tile_sum, Load(p_row + v * kLanes));
        }
        // exp(-inf) on the first tile: nothing accumulated yet, the factor is 0.
        const float correction =
            running_max[r] == kNegativeInfinity ? 0.0f : ReduceMax(Exp(Set1(running_max[r] - new_max)));
        running_sum[r] = running_sum[r] * correction + ReduceAdd(tile_sum);
        running_max[r] = new_max;
        if (correction != 1.0f) {
          const VecF c = Set1(correction);
          for (int64_t d = 0; d < padded_dim; d += kLanes) {
            Store(acc_out + r * padded_dim + d, Mul(Load(acc_out + r * padded_dim + d), c));
          }
        }
      }
      // Output += P V over this tile.
      const float* v_tile = v_head + j0 * args.ldv;
      for (int64_t d0 = 0; d0 < dim; d0 += kValueVecs * kLanes) {
        const int64_t vecs = (dim - d0 + kLanes - 1) / kLanes;
        if (vecs >= 4) {
          AccumulateValues<4>(scores, v_tile, args.ldv, num_keys, d0, dim, acc_out, padded_dim);
        } else if (vecs == 3) {
          AccumulateValues<3>(scores, v_tile, args.ldv, num_keys, d0, dim, acc_out, padded_dim);
        } else if (vecs == 2) {
          AccumulateValues<2>(scores, v_tile, args.ldv, num_keys, d0, dim, acc_out, padded_dim);
        } else {
          AccumulateValues<1>(scores, v_tile, args.ldv, num_keys, d0, dim, acc_out, padded_dim);
        }
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
// Queries per work item: small enough to spread one long sequence over every thread, large enough that an item's
// fixed costs (its setup, the pool's hand-out) stay small next to its 64 x seq_len scores.
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

int64_t AttentionWorkspaceFloats(const AttentionArgs& args) {
  if (args.cu_seq_lens == nullptr || args.num_seqs < 0) Fail("cu_seq_lens is null");
  auto tile = [&]() -> int64_t { POOLED_DISPATCH_RETURN(AttentionKeyTile); };
  const int64_t key_tile = tile();
  int64_t keys = 0;
  for (int64_t s = 0; s < args.num_seqs; ++s) {
    const int64_t len = static_cast<int64_t>(args.cu_seq_lens[s + 1]) - args.cu_seq_lens[s];
    if (len > 0) keys += (len + key_tile - 1) / key_tile * key_tile;
  }
  return keys * args.num_heads * args.head_dim;
}

void Attention(ThreadPool& pool, const AttentionArgs& args) {
  if (args.num_heads <= 0 || args.head_dim <= 0) Fail("num_heads and head_dim must be > 0");
  if (args.num_seqs < 0 || args.num_tokens < 0) Fail("num_seqs and num_tokens must be >= 0");
  if (args.cu_seq_lens == nullptr) Fail("cu_seq_lens is null");
  const int64_t width = args.num_heads * args.head_dim;
  if (args.ldq < width || args.ldk < width || args.ldv < width || args.ldo < width)
    Fail("a leading dimension is below num_heads * head_dim");
  if (args.cu_seq_lens[0] != 0) Fail("cu_seq_lens[0] must be 0");
  int64_t max_len = 0;
  for (int64_t s = 0; s < args.num_seqs; ++s) {
    const int64_t len = static_cast<int64_t>(args.cu_seq_lens[s + 1]) - args.cu_seq_lens[s];
    if (len < 0) Fail("cu_seq_lens must be non-decreasing (at sequence " + std::to_string(s) + ")");
    max_len = std::max(max_len, len);
  }
  if (args.cu_seq_lens[args.num_seqs] != args.num_tokens) {
    Fail("cu_seq_lens ends at " + std::to_string(args.cu_seq_lens[args.num_seqs]) + " but there are " +
         std::to_string(args.num_tokens) + " tokens");
  }
  if (args.num_tokens == 0) return;
  if (args.q == nullptr || args.k == nullptr || args.v == nullptr || args.out == nullptr) Fail("null tensor");

  // Keys one query visits (its cost): the whole sequence, or at most its window on both sides.
  auto keys_per_query = [&](int64_t len) { return args.window > 0 ? std::min(len, 2 * args.window + 1) : len; };
  std::vector<Item> items;
  for (int64_t s = 0; s < args.num_seqs; ++s) {
    const int64_t len = static_cast<int64_t>(args.cu_seq_lens[s + 1]) - args.cu_seq_lens[s];
    if (args.only_query != nullptr) {
      const int64_t q = args.only_query[s];
      if (q < 0 || q >= len)
        Fail("only_query[" + std::to_string(s) + "] = " + std::to_string(q) + " is outside its sequence");
      for (int64_t h = 0; h < args.num_heads; ++h) items.push_back({s, h, q, q + 1, keys_per_query(len)});
      continue;
    }
    for (int64_t h = 0; h < args.num_heads; ++h) {
      for (int64_t q0 = 0; q0 < len; q0 += kQueriesPerItem) {
        const int64_t q1 = std::min(len, q0 + kQueriesPerItem);
        items.push_back({s, h, q0, q1, (q1 - q0) * keys_per_query(len)});
      }
    }
  }
  // Longest first, so the threads finish together when a batch mixes long and short sequences.
  std::stable_sort(items.begin(), items.end(), [](const Item& x, const Item& y) { return x.cost > y.cost; });

  // Phase 1: K^T of every (sequence, head), sequences padded to the key tile: head h, dimension d, key j of
  // sequence s sits at key_t[(h * head_dim + d) * stride + key_offsets[s] + j].
  int64_t key_tile = 0;
  int64_t scratch_floats = 0;
  {
    auto tile = [&]() -> int64_t { POOLED_DISPATCH_RETURN(AttentionKeyTile); };
    auto floats = [&]() -> int64_t { POOLED_DISPATCH_RETURN(AttentionScratchFloats, args.head_dim); };
    key_tile = tile();
    scratch_floats = floats();
  }
  std::vector<int64_t> key_offsets(static_cast<size_t>(args.num_seqs) + 1, 0);
  for (int64_t s = 0; s < args.num_seqs; ++s) {
    const int64_t len = static_cast<int64_t>(args.cu_seq_lens[s + 1]) - args.cu_seq_lens[s];
    key_offsets[static_cast<size_t>(s) + 1] =
        key_offsets[static_cast<size_t>(s)] + (len + key_tile - 1) / key_tile * key_tile;
  }
  const int64_t stride = key_offsets.back();
  float* key_t = args.workspace;
  if (key_t == nullptr) {
    // Kept by the calling thread between calls; it only grows.
    thread_local AlignedBuffer own_workspace;
    const size_t bytes = static_cast<size_t>(width * stride) * sizeof(float);
    if (own_workspace.size() < bytes) own_workspace = AlignedBuffer(bytes);
    key_t = static_cast<float*>(own_workspace.data());
  } else if (args.workspace_floats < width * stride) {
    Fail("workspace holds " + std::to_string(args.workspace_floats) + " floats, " + std::to_string(width * stride) +
         " needed");
  }
  pool.Run(args.num_seqs * args.num_heads, [&](int64_t task, int) {
    const int64_t s = task / args.num_heads;
    const int64_t h = task % args.num_heads;
    const int64_t seq_begin = args.cu_seq_lens[s];
    const int64_t seq_len = args.cu_seq_lens[s + 1] - seq_begin;
    if (seq_len == 0) return;
    POOLED_DISPATCH(TransposeKeys, args, seq_begin, seq_len, h,
                    key_t + h * args.head_dim * stride + key_offsets[static_cast<size_t>(s)], stride);
  });

  // Phase 2: blocks of queries, longest sequences first.
  const size_t scratch_bytes = static_cast<size_t>(scratch_floats) * sizeof(float);
  pool.Run(static_cast<int64_t>(items.size()), [&](int64_t task, int) {
    thread_local AlignedBuffer scratch;
    if (scratch.size() < scratch_bytes) scratch = AlignedBuffer(scratch_bytes);
    const Item& item = items[static_cast<size_t>(task)];
    const int64_t seq_begin = args.cu_seq_lens[item.seq];
    const int64_t seq_len = args.cu_seq_lens[item.seq + 1] - seq_begin;
    const float* head_key_t = key_t + item.head * args.head_dim * stride + key_offsets[static_cast<size_t>(item.seq)];
    POOLED_DISPATCH(AttentionItem, args, seq_begin, seq_len, item.head, item.query_begin, item.query_end, head_key_t,
                    stride, static_cast<float*>(scratch.data()));
  });
}
#endif  // POOLED_ISA_BASELINE

}  // namespace pooled::kernels::cpu
