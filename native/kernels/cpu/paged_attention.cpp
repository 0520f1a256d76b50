// Causal grouped-query attention over a paged KV cache (kernels.h, PagedAttentionArgs). A work item is (sequence,
// kv head, up to 16 queries); for each query and each query head of the kv head's group it walks the visible keys in
// tiles of 64: scores for the tile (K rows fetched through the block table), then an online-softmax update (running
// max and sum, the partial output rescaled when the max grows), so no score row is stored. All in float32.
// Every block id and table length is checked in the baseline part before any item runs.
#include <math.h>

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

POOLED_DECLARE_FOR_EACH_ISA(void PagedAttentionItem(const PagedAttentionArgs& a, int64_t seq, int64_t kv_head,
                                                    int64_t query_begin, int64_t query_end))

namespace POOLED_ISA_NS {

namespace {
constexpr int64_t kKeyTile = 64;
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

// Queries [query_begin, query_end) (indices within sequence `seq`) of every query head that reads `kv_head`.
void PagedAttentionItem(const PagedAttentionArgs& a, int64_t seq, int64_t kv_head, int64_t query_begin,
                        int64_t query_end) {
  const int64_t d = a.head_dim;
  const int64_t group = a.num_heads / a.num_kv_heads;
  const int64_t row_width = a.num_kv_heads * d;  // one slot of one block
  const int32_t* table = a.block_tables + a.block_table_offsets[seq];
  const int64_t cached = a.num_cached_tokens[seq];
  const float scale = 1.0f / static_cast<float>(sqrt(static_cast<double>(d)));
  float scores[kKeyTile];
  alignas(64) float acc[kMaxDecoderHeadDim];
  for (int64_t i = query_begin; i < query_end; ++i) {
    const int64_t token = a.cu_seq_lens[seq] + i;
    const int64_t num_keys = cached + i + 1;  // positions 0..p
    for (int64_t r = 0; r < group; ++r) {
      const int64_t head = kv_head * group + r;
      const float* q = a.q + token * a.ldq + head * d;
      for (int64_t c = 0; c < d; ++c) acc[c] = 0.0f;
      float running_max = -INFINITY;
      float running_sum = 0.0f;
      for (int64_t p0 = 0; p0 < num_keys; p0 += kKeyTile) {
        const int64_t n = num_keys - p0 < kKeyTile ? num_keys - p0 : kKeyTile;
        float tile_max = -INFINITY;
        for (int64_t j = 0; j < n; ++j) {
          const int64_t p = p0 + j;
          const int64_t slot = static_cast<int64_t>(table[p / a.block_size]) * a.block_size + p % a.block_size;
          const float* k = a.k_cache + slot * row_width + kv_head * d;
          VecF dot = Zero();
          for (int64_t c = 0; c < d; c += kLanes) dot = Fma(LoadUpTo(q + c, d - c), LoadUpTo(k + c, d - c), dot);
          const float s = ReduceAdd(dot) * scale;
          scores[j] = s;
          if (s > tile_max) tile_max = s;
        }
        const float new_max = tile_max > running_max ? tile_max : running_max;
        if (new_max > running_max && running_sum > 0.0f) {
          const float correction = expf(running_max - new_max);
          running_sum *= correction;
          const VecF cv = Set1(correction);
          for (int64_t c = 0; c < d; c += kLanes) StoreUpTo(acc + c, Mul(LoadUpTo(acc + c, d - c), cv), d - c);
        }
        running_max = new_max;
        for (int64_t j = 0; j < n; ++j) {
          const int64_t p = p0 + j;
          const int64_t slot = static_cast<int64_t>(table[p / a.block_size]) * a.block_size + p % a.block_size;
          const float* v = a.v_cache + slot * row_width + kv_head * d;
          const float weight = expf(scores[j] - running_max);
          running_sum += weight;
          const VecF wv = Set1(weight);
          for (int64_t c = 0; c < d; c += kLanes)
            StoreUpTo(acc + c, Fma(wv, LoadUpTo(v + c, d - c), LoadUpTo(acc + c, d - c)), d - c);
        }
      }
      float* out = a.out + token * a.ldo + head * d;
      const VecF inverse = Set1(1.0f / running_sum);
      for (int64_t c = 0; c < d; c += kLanes) StoreUpTo(out + c, Mul(LoadUpTo(acc + c, d - c), inverse), d - c);
    }
  }
}

}  // namespace POOLED_ISA_NS

#if POOLED_ISA_BASELINE
void PagedAttention(ThreadPool& pool, const PagedAttentionArgs& a) {
  auto fail = [](const std::string& message) { throw std::invalid_argument("PagedAttention: " + message); };
  if (a.num_heads <= 0 || a.num_kv_heads <= 0 || a.head_dim <= 0 || a.num_seqs < 0 || a.num_tokens < 0)
    fail("sizes must be positive");
  if (a.num_heads % a.num_kv_heads != 0) fail("num_heads is not a multiple of num_kv_heads");
  if (a.head_dim > kMaxDecoderHeadDim)
    fail("head_dim " + std::to_string(a.head_dim) + " exceeds " + std::to_string(kMaxDecoderHeadDim));
  if (a.block_size <= 0 || a.num_blocks <= 0)
    fail("the KV cache is not initialized (block_size and num_blocks must be > 0)");
  if (a.num_seqs == 0) return;
  if (a.cu_seq_lens == nullptr || a.num_cached_tokens == nullptr || a.block_tables == nullptr ||
      a.block_table_offsets == nullptr) {
    fail("null batch argument");
  }
  if (a.ldq < a.num_heads * a.head_dim || a.ldo < a.num_heads * a.head_dim)
    fail("row strides shorter than num_heads * head_dim");
  if (a.cu_seq_lens[0] != 0 || a.block_table_offsets[0] != 0)
    fail("cu_seq_lens and block_table_offsets must start with 0");
  for (int64_t s = 0; s < a.num_seqs; ++s) {
    const int64_t len = a.cu_seq_lens[s + 1] - a.cu_seq_lens[s];
    if (len < 0) fail("cu_seq_lens decreases at " + std::to_string(s));
    const int64_t cached = a.num_cached_tokens[s];
    if (cached < 0) fail("num_cached_tokens[" + std::to_string(s) + "] is negative");
    const int64_t table_len = static_cast<int64_t>(a.block_table_offsets[s + 1]) - a.block_table_offsets[s];
    if (table_len < 0) fail("block_table_offsets decreases at " + std::to_string(s));
    const int64_t needed = (cached + len + a.block_size - 1) / a.block_size;
    if (table_len < needed) {
      fail("block table of sequence " + std::to_string(s) + " has " + std::to_string(table_len) + " blocks, needs " +
           std::to_string(needed) + " for " + std::to_string(cached + len) + " positions");
    }
    for (int64_t b = 0; b < needed; ++b) {
      const int32_t id = a.block_tables[a.block_table_offsets[s] + b];
      if (id < 1 || id >= a.num_blocks) {
        fail("sequence " + std::to_string(s) + " block " + std::to_string(b) + " is block id " + std::to_string(id) +
             ", outside [1, " + std::to_string(a.num_blocks) + ")");
      }
    }
  }
  if (a.cu_seq_lens[a.num_seqs] != a.num_tokens) fail("cu_seq_lens does not end at num_tokens");
  if (a.num_tokens == 0) return;
  if (a.q == nullptr || a.out == nullptr || a.k_cache == nullptr || a.v_cache == nullptr) fail("null tensor argument");

  struct Item {
    int64_t seq, kv_head, begin, end;
  };
  constexpr int64_t kQueriesPerItem = 16;
  std::vector<Item> items;
  for (int64_t s = 0; s < a.num_seqs; ++s) {
    const int64_t len = a.cu_seq_lens[s + 1] - a.cu_seq_lens[s];
    if (len == 0) continue;
    const int64_t first = a.only_last_query ? len - 1 : 0;
    for (int64_t h = 0; h < a.num_kv_heads; ++h) {
      for (int64_t q = first; q < len; q += kQueriesPerItem)
        items.push_back({s, h, q, std::min(len, q + kQueriesPerItem)});
    }
  }
  // Longest key ranges first: the queries at the end of long sequences cost the most.
  std::stable_sort(items.begin(), items.end(), [&](const Item& x, const Item& y) {
    return a.num_cached_tokens[x.seq] + x.end > a.num_cached_tokens[y.seq] + y.end;
  });
  pool.Run(static_cast<int64_t>(items.size()), [&](int64_t task, int) {
    const Item& item = items[static_cast<size_t>(task)];
    POOLED_DISPATCH(PagedAttentionItem, a, item.seq, item.kv_head, item.begin, item.end);
  });
}
#endif  // POOLED_ISA_BASELINE

}  // namespace pooled::kernels::cpu
