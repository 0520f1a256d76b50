#pragma once
// What every graph shares: the engine state that is not about a family (thread pool, op table, working memory, one
// forward at a time) and the helpers both layer loops call (batch checks, pruning the last layer to pooled rows).
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/ops.h"
#include "engine/working_memory.h"
#include "kernels/cpu/thread_pool.h"

namespace pooled::engine {

class EngineBase : public Engine {
 public:
  size_t NativeBytes() const override { return native_bytes_; }
  size_t WorkingBytes() const override { return working_memory_.Bytes(); }
  size_t ReleaseWorkingMemory() override;
  ElementType weight_type() const override { return weight_type_; }
  int num_threads() const override { return pool_->NumThreads(); }

 protected:
  EngineBase(ElementType weight_type, int num_threads, const Ops& ops);

  ElementType weight_type_;
  std::unique_ptr<kernels::cpu::ThreadPool> pool_;
  ExecutionContext execution_;  // what every op of this engine runs on (the pool above, for the CPU kernel set)
  const Ops& ops_;
  size_t native_bytes_ = 0;
  std::mutex forward_mutex_;  // one forward (or KV cache init, or release) at a time
  // Per-batch buffers of the graph (WorkingBuffer members of the derived class) register here, so it comes first.
  WorkingMemory working_memory_;
};

// GEMM weights are packed as float32 or bfloat16 (float32 accumulation) or int8 (per-channel quantized, int32 sums;
// kernels.h); anything else fails the load. Everything else (embeddings, norms, biases, attention) stays float32.
void CheckWeightType(ElementType weight_type, const char* label);

// Throws std::invalid_argument("batch: " + message).
[[noreturn]] void BatchFail(const std::string& message);

// The checks every ragged batch gets (std::invalid_argument "batch: ..."): cuSeqLens starts at 0, rises strictly and
// ends at the token count; positions (and token types when given) match the tokens; dimensions and normalize have
// one entry per sequence, each dimension in [0, hidden_size]; the pooling mode is known.
void CheckRaggedBatch(const Batch& batch, int64_t hidden_size);

// Floats of pooled output: one row per sequence (paged batches: per sequence whose input ends in this chunk).
int64_t PooledSize(const Batch& batch, int64_t hidden_size);

// dst[r, :cols] = src[rows[r], :cols] (src rows ld apart, dst rows cols apart).
void GatherRows(const float* src, int64_t ld, const std::vector<int64_t>& rows, int64_t cols, float* dst);

// Pools rows [R, hidden_size] that each hold one sequence's pooled token (a pruned last layer's output): dimensions,
// then normalize, into out (out_size floats).
void PoolOneRowEach(const Ops& ops, ExecutionContext& pool, const float* rows, int64_t num_rows, int64_t hidden_size,
                    const int32_t* dimensions, const uint8_t* normalize, float* out, int64_t out_size);

// Pools rows [num_seqs, hidden_size], one per sequence of the batch (a pruned last layer's output), into pooled.
void PoolOneRowEach(const Ops& ops, ExecutionContext& pool, const Batch& batch, const float* rows, int64_t hidden_size,
                    std::vector<float>& pooled);

// Pools every token's row of hidden [T, hidden_size] per the batch's pooling mode into pooled.
void PoolSequences(const Ops& ops, ExecutionContext& pool, const Batch& batch, const float* hidden, int64_t hidden_size,
                   std::vector<float>& pooled);

// Bidirectional attention of the batch over a fused qkv buffer [T, 3H] (Q | K | V) into context [T, H], with K^T
// kept in `workspace` (reserved here).
kernels::cpu::AttentionArgs FusedQkvAttention(const Ops& ops, const Batch& batch, int64_t hidden_size,
                                              int64_t num_heads, float* qkv, float* context, WorkingBuffer& workspace);

// CLS and LAST pooling read one token per sequence: the last layer needs K and V of every token but everything after
// them (attention output, dense layers, final norm) only for that token. Rows are computed independently, so the
// pooled rows are bitwise what the full layer would give.
inline bool PrunesLastLayer(const Batch& batch) { return batch.pooling != PoolingMode::kMean; }

// The pruned last layer's attention: computes only each sequence's pooled token (CLS: its first, LAST: its last),
// then gathers that token's context row (from attention.out) and layer-input row (from `input`, [T, hidden_size])
// into context_rows and input_rows ([num_seqs, hidden_size] each).
void AttendPooledTokensOnly(const Ops& ops, ExecutionContext& pool, kernels::cpu::AttentionArgs attention,
                            const Batch& batch, const float* input, int64_t hidden_size, float* context_rows,
                            float* input_rows);

// float32 vectors concatenated (fused biases).
std::vector<float> Concat(const std::vector<std::vector<float>>& parts);

}  // namespace pooled::engine
