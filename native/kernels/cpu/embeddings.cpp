// BertEmbeddings (transformers modeling_bert.py BertEmbeddings.forward): word + position + token type rows,
// summed in that order (either table may be absent: NomicBertEmbeddings / NewEmbeddings with rotary), then LayerNorm;
// the gather, the sum and the norm in one pass per token. The word table is read in the checkpoint's own element type
// (float32, float16 or bfloat16), so it needs no converted copy.
#include <cstdint>

#include "kernels/cpu/isa_dispatch.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/row_kernels.h"
#include "kernels/cpu/simd.h"

#if POOLED_ISA_BASELINE
#include <algorithm>
#include <stdexcept>
#include <string>

#include "kernels/cpu/thread_pool.h"
#endif

namespace pooled::kernels::cpu {

POOLED_DECLARE_FOR_EACH_ISA(void EmbeddingRows(const EmbeddingTables& tables, const int32_t* token_ids,
                                               const int32_t* positions, const int32_t* token_types, float* out,
                                               int64_t token_begin, int64_t token_end))

namespace POOLED_ISA_NS {

namespace {
inline VecF LoadWord(const void* table, ElementType type, int64_t offset, int64_t left) {
  const int n = left >= kLanes ? kLanes : static_cast<int>(left);
  switch (type) {
    case ElementType::kBF16: {
      const uint16_t* p = static_cast<const uint16_t*>(table) + offset;
      return n == kLanes ? LoadBf16(p) : LoadBf16N(p, n);
    }
    case ElementType::kF16: {
      const uint16_t* p = static_cast<const uint16_t*>(table) + offset;
      return n == kLanes ? LoadF16(p) : LoadF16N(p, n);
    }
    default: {
      const float* p = static_cast<const float*>(table) + offset;
      return n == kLanes ? Load(p) : LoadN(p, n);
    }
  }
}
}  // namespace

void EmbeddingRows(const EmbeddingTables& t, const int32_t* token_ids, const int32_t* positions,
                   const int32_t* token_types, float* out, int64_t token_begin, int64_t token_end) {
  const int64_t hidden = t.hidden_size;
  for (int64_t token = token_begin; token < token_end; ++token) {
    const int64_t word_offset = static_cast<int64_t>(token_ids[token]) * hidden;
    // A missing table (rotary models have no position table, gte-base-en-v1.5 no token types) adds nothing: the
    // sum is then word (+ type), in the same order as upstream's.
    const float* position =
        t.position == nullptr ? nullptr : t.position + static_cast<int64_t>(positions[token]) * hidden;
    const float* type =
        t.token_type == nullptr
            ? nullptr
            : t.token_type + static_cast<int64_t>(token_types != nullptr ? token_types[token] : 0) * hidden;
    float* dst = out + token * hidden;
    for (int64_t c = 0; c < hidden; c += kLanes) {
      const int64_t left = hidden - c;
      const int n = left >= kLanes ? kLanes : static_cast<int>(left);
      VecF sum = LoadWord(t.word, t.word_type, word_offset + c, left);
      if (position != nullptr) sum = Add(sum, n == kLanes ? Load(position + c) : LoadN(position + c, n));
      if (type != nullptr) sum = Add(sum, n == kLanes ? Load(type + c) : LoadN(type + c, n));
      if (n == kLanes) {
        Store(dst + c, sum);
      } else {
        StoreN(dst + c, sum, n);
      }
    }
    // The summed row is in L1: normalize it in place right away.
    LayerNormRows(dst, hidden, nullptr, 0, dst, hidden, hidden, t.gamma, t.beta, t.eps, 0, 1);
  }
}

}  // namespace POOLED_ISA_NS

#if POOLED_ISA_BASELINE
namespace {
void CheckIndices(const char* name, const int32_t* values, int64_t count, int64_t limit) {
  for (int64_t i = 0; i < count; ++i) {
    if (values[i] < 0 || values[i] >= limit) {
      throw std::invalid_argument(std::string("Embeddings: ") + name + "[" + std::to_string(i) +
                                  "] = " + std::to_string(values[i]) + " is outside the table [0, " +
                                  std::to_string(limit) + ")");
    }
  }
}
}  // namespace

void Embeddings(ThreadPool& pool, const EmbeddingTables& tables, const int32_t* token_ids, const int32_t* positions,
                const int32_t* token_types, int64_t num_tokens, float* out) {
  if (num_tokens < 0) throw std::invalid_argument("Embeddings: num_tokens must be >= 0");
  if (num_tokens == 0) return;
  if (tables.word == nullptr || tables.gamma == nullptr || tables.beta == nullptr || token_ids == nullptr ||
      out == nullptr || (tables.position != nullptr && positions == nullptr)) {
    throw std::invalid_argument("Embeddings: null argument");
  }
  if (tables.hidden_size <= 0) throw std::invalid_argument("Embeddings: hidden_size must be > 0");
  if (tables.word_type != ElementType::kF32 && tables.word_type != ElementType::kF16 &&
      tables.word_type != ElementType::kBF16) {
    throw std::invalid_argument("Embeddings: unknown word table type");
  }
  CheckIndices("tokenIds", token_ids, num_tokens, tables.vocab_size);
  if (tables.position != nullptr) CheckIndices("positions", positions, num_tokens, tables.num_positions);
  if (tables.token_type == nullptr) {
    if (token_types != nullptr)
      throw std::invalid_argument("Embeddings: tokenTypeIds given but there is no token type table");
  } else {
    if (token_types != nullptr) CheckIndices("tokenTypeIds", token_types, num_tokens, tables.num_token_types);
    if (token_types == nullptr && tables.num_token_types < 1)
      throw std::invalid_argument("Embeddings: token type table is empty");
  }
  const int64_t num_threads = pool.NumThreads();
  const int64_t per_task = std::max<int64_t>(1, (num_tokens + 4 * num_threads - 1) / (4 * num_threads));
  pool.Run((num_tokens + per_task - 1) / per_task, [&](int64_t task, int) {
    const int64_t begin = task * per_task;
    const int64_t end = std::min(num_tokens, begin + per_task);
    POOLED_DISPATCH(EmbeddingRows, tables, token_ids, positions, token_types, out, begin, end);
  });
}
#endif  // POOLED_ISA_BASELINE

}  // namespace pooled::kernels::cpu
