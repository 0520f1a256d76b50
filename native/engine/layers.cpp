#include "engine/layers.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "engine/checkpoint_tensors.h"

namespace pooled::engine {

namespace kc = kernels::cpu;

void BatchFail(const std::string& message) { throw std::invalid_argument("batch: " + message); }

size_t Engine::InitKvCache(int64_t, int64_t) { throw std::logic_error("this model keeps no KV cache (an encoder)"); }

EngineBase::EngineBase(ElementType weight_type, int num_threads, const Ops& ops)
    : weight_type_(weight_type),
      pool_(std::make_unique<kc::ThreadPool>(num_threads)),
      execution_{pool_.get()},
      ops_(ops) {}

size_t EngineBase::ReleaseWorkingMemory() {
  std::lock_guard<std::mutex> lock(forward_mutex_);
  return working_memory_.ReleaseAll();
}

void CheckWeightType(ElementType weight_type, const char* label) {
  if (weight_type != ElementType::kF32 && weight_type != ElementType::kBF16 && weight_type != ElementType::kInt8)
    WeightsFail(label, "weights can be packed as float32, bfloat16 or int8 only");
}

void CheckRaggedBatch(const Batch& b, int64_t hidden_size) {
  const size_t num_tokens = b.token_ids.size();
  if (b.cu_seq_lens.empty() || b.cu_seq_lens[0] != 0) BatchFail("cuSeqLens must start with 0");
  const size_t num_seqs = b.cu_seq_lens.size() - 1;
  if (b.positions.size() != num_tokens) BatchFail("positions and tokenIds differ in length");
  if (!b.token_type_ids.empty() && b.token_type_ids.size() != num_tokens)
    BatchFail("tokenTypeIds and tokenIds differ in length");
  if (b.dimensions.size() != num_seqs || b.normalize.size() != num_seqs)
    BatchFail("dimensions and normalize need one entry per sequence");
  for (size_t s = 0; s < num_seqs; ++s) {
    if (b.cu_seq_lens[s + 1] <= b.cu_seq_lens[s])
      BatchFail("sequence " + std::to_string(s) + " is empty or cuSeqLens decreases");
  }
  if (static_cast<size_t>(b.cu_seq_lens[num_seqs]) != num_tokens) {
    BatchFail("cuSeqLens ends at " + std::to_string(b.cu_seq_lens[num_seqs]) + " but there are " +
              std::to_string(num_tokens) + " tokens");
  }
  if (b.pooling != PoolingMode::kCls && b.pooling != PoolingMode::kMean && b.pooling != PoolingMode::kLast)
    BatchFail("unknown pooling mode");
  for (size_t s = 0; s < num_seqs; ++s) {
    const int32_t d = b.dimensions[s];
    if (d < 0 || d > hidden_size) {
      BatchFail("dimensions[" + std::to_string(s) + "] = " + std::to_string(d) + " is outside [0, " +
                std::to_string(hidden_size) + "]");
    }
  }
}

int64_t PooledSize(const Batch& b, int64_t hidden_size) {
  int64_t out_size = 0;
  for (size_t s = 0; s < b.dimensions.size(); ++s) {
    if (b.paged && b.is_last_chunk[s] == 0) continue;
    out_size += b.dimensions[s] == 0 ? hidden_size : b.dimensions[s];
  }
  return out_size;
}

void GatherRows(const float* src, int64_t ld, const std::vector<int64_t>& rows, int64_t cols, float* dst) {
  for (size_t r = 0; r < rows.size(); ++r) {
    std::memcpy(dst + static_cast<int64_t>(r) * cols, src + rows[r] * ld, static_cast<size_t>(cols) * sizeof(float));
  }
}

void PoolOneRowEach(const Ops& ops, ExecutionContext& pool, const float* rows, int64_t num_rows, int64_t hidden_size,
                    const int32_t* dimensions, const uint8_t* normalize, float* out, int64_t out_size) {
  std::vector<int32_t> one_row_each(static_cast<size_t>(num_rows) + 1);
  for (int64_t r = 0; r <= num_rows; ++r) one_row_each[static_cast<size_t>(r)] = static_cast<int32_t>(r);
  ops.pool(pool, rows, hidden_size, hidden_size, one_row_each.data(), num_rows, PoolingMode::kCls, dimensions,
           normalize, out, out_size);
}

void PoolOneRowEach(const Ops& ops, ExecutionContext& pool, const Batch& b, const float* rows, int64_t hidden_size,
                    std::vector<float>& pooled) {
  PoolOneRowEach(ops, pool, rows, b.num_seqs(), hidden_size, b.dimensions.data(), b.normalize.data(), pooled.data(),
                 static_cast<int64_t>(pooled.size()));
}

void PoolSequences(const Ops& ops, ExecutionContext& pool, const Batch& b, const float* hidden, int64_t hidden_size,
                   std::vector<float>& pooled) {
  ops.pool(pool, hidden, hidden_size, hidden_size, b.cu_seq_lens.data(), b.num_seqs(), b.pooling, b.dimensions.data(),
           b.normalize.data(), pooled.data(), static_cast<int64_t>(pooled.size()));
}

kc::AttentionArgs FusedQkvAttention(const Ops& ops, const Batch& b, int64_t hidden_size, int64_t num_heads, float* qkv,
                                    float* context, WorkingBuffer& workspace) {
  const int64_t H = hidden_size;
  kc::AttentionArgs attention;
  attention.q = qkv;
  attention.k = qkv + H;
  attention.v = qkv + 2 * H;
  attention.ldq = attention.ldk = attention.ldv = 3 * H;
  attention.out = context;
  attention.ldo = H;
  attention.num_heads = num_heads;
  attention.head_dim = H / num_heads;
  attention.cu_seq_lens = b.cu_seq_lens.data();
  attention.num_seqs = b.num_seqs();
  attention.num_tokens = b.num_tokens();
  attention.workspace = workspace.Reserve(static_cast<size_t>(ops.attention_workspace_floats(attention)));
  attention.workspace_floats = static_cast<int64_t>(workspace.capacity_floats());
  return attention;
}

void AttendPooledTokensOnly(const Ops& ops, ExecutionContext& pool, kc::AttentionArgs attention, const Batch& b,
                            const float* input, int64_t hidden_size, float* context_rows, float* input_rows) {
  const int64_t num_seqs = b.num_seqs();
  std::vector<int32_t> pooled_query(static_cast<size_t>(num_seqs));
  for (int64_t s = 0; s < num_seqs; ++s) {
    pooled_query[static_cast<size_t>(s)] =
        b.pooling == PoolingMode::kCls ? 0 : b.cu_seq_lens[s + 1] - b.cu_seq_lens[s] - 1;
  }
  attention.only_query = pooled_query.data();
  ops.attention(pool, attention);
  std::vector<int64_t> rows(static_cast<size_t>(num_seqs));
  for (int64_t s = 0; s < num_seqs; ++s)
    rows[static_cast<size_t>(s)] = b.cu_seq_lens[s] + pooled_query[static_cast<size_t>(s)];
  GatherRows(attention.out, hidden_size, rows, hidden_size, context_rows);
  GatherRows(input, hidden_size, rows, hidden_size, input_rows);
}

std::vector<float> Concat(const std::vector<std::vector<float>>& parts) {
  std::vector<float> out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

}  // namespace pooled::engine
