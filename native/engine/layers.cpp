#include "engine/layers.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "engine/checkpoint_tensors.h"

namespace pooled::engine {

namespace kc = kernels::cpu;

namespace {
[[noreturn]] void BatchFail(const std::string& message) { throw std::invalid_argument("batch: " + message); }
}  // namespace

size_t Engine::InitKvCache(int64_t, int64_t) { throw std::logic_error("this model keeps no KV cache (an encoder)"); }

EngineBase::EngineBase(ElementType weight_type, int num_threads, const Ops& ops)
    : weight_type_(weight_type), pool_(std::make_unique<kc::ThreadPool>(num_threads)), ops_(ops) {}

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

void PoolOneRowEach(const Ops& ops, kc::ThreadPool& pool, const float* rows, int64_t num_rows, int64_t hidden_size,
                    const int32_t* dimensions, const uint8_t* normalize, float* out, int64_t out_size) {
  std::vector<int32_t> one_row_each(static_cast<size_t>(num_rows) + 1);
  for (int64_t r = 0; r <= num_rows; ++r) one_row_each[static_cast<size_t>(r)] = static_cast<int32_t>(r);
  ops.pool(pool, rows, hidden_size, hidden_size, one_row_each.data(), num_rows, PoolingMode::kCls, dimensions,
           normalize, out, out_size);
}

std::vector<float> Concat(const std::vector<std::vector<float>>& parts) {
  std::vector<float> out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

}  // namespace pooled::engine
