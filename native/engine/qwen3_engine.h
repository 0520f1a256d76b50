#pragma once
// Qwen3 decoder (embedding models: last_hidden_state, LAST pooling) on the CPU kernels, with a paged KV cache the
// engine owns. No N-API here (native/addon/ owns the JS side).
//
// Shapes (T tokens in the batch, H hidden, I intermediate, nH / nKV query / kv heads, d head_dim, W = (nH + 2 nKV) d):
//   embed_tokens          [T] ids -> [T, H] (the table is read in place, float32 / float16 / bfloat16)
//   per layer: input_layernorm [T, H]; q|k|v one fused GEMM [T, W]; q_norm / k_norm per head, then RoPE at each token's
//              position; K, V written to the cache; paged causal GQA attention [T, nH d]; o_proj + residual [T, H];
//              post_attention_layernorm; gate|up one fused GEMM [T, 2I]; SwiGLU [T, I]; down_proj + residual [T, H]
//   norm                  final RMSNorm, only on the rows that are pooled
// transformers models/qwen3/modeling_qwen3.py is the behaviour matched (src/backends/reference/qwen3.ts is the oracle).
//
// KV cache: per layer, float32 K and V, each [num_blocks][block_size][nKV][d], allocated by InitKvCache. Block 0 is
// the engine-wide null block and is never written. A batch either carries block tables (paged: chunks of longer inputs,
// K/V kept between forwards) or not (one-shot: whole sequences; K/V go to a scratch area that lives for one forward).
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/bert_engine.h"  // TensorRef, TensorMap
#include "engine/working_memory.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/thread_pool.h"

namespace pooled::engine {

struct Qwen3Hyperparameters {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t intermediate_size = 0;
  int64_t max_position_embeddings = 0;
  float rms_norm_eps = 0.0f;
  double rope_theta = 0.0;
};

struct DecoderBatch {
  std::vector<int32_t> token_ids;
  std::vector<int32_t> positions;
  std::vector<int32_t> cu_seq_lens;
  PoolingMode pooling = PoolingMode::kLast;
  std::vector<int32_t> dimensions;  // per sequence, 0 = all
  std::vector<uint8_t> normalize;   // per sequence
  // Paged batches only (paged = true): flat block tables (sequence s's at [offsets[s], offsets[s + 1])), cached token
  // counts and last-chunk flags.
  bool paged = false;
  std::vector<int32_t> block_tables;
  std::vector<int32_t> block_table_offsets;
  std::vector<int32_t> num_cached_tokens;
  std::vector<uint8_t> is_last_chunk;
};

class Qwen3Engine {
 public:
  // Checks every tensor before packing anything, then packs the GEMM weights as `weight_type` (kF32 or kBF16). The
  // embedding table is read in place: the caller keeps tensors.at("embed_tokens.weight").data alive.
  static std::unique_ptr<Qwen3Engine> Load(const Qwen3Hyperparameters& config, const TensorMap& tensors, ElementType weight_type,
                                           int num_threads);

  // Allocates the paged KV store (zeroed), discarding the previous one. Returns its size in bytes.
  size_t InitKvCache(int64_t num_blocks, int64_t block_size);
  // Bytes of K and V of one token over all layers (float32).
  int64_t KvBytesPerToken() const { return 2 * config_.num_layers * config_.num_kv_heads * config_.head_dim * 4; }

  // Pooled rows back to back. Paged: one row per sequence with is_last_chunk = 1 (LAST pooling only). One-shot: one
  // row per sequence, any pooling. Every index is validated before memory is touched (std::invalid_argument).
  std::vector<float> Forward(const DecoderBatch& batch);

  const Qwen3Hyperparameters& config() const { return config_; }
  ElementType weight_type() const { return weight_type_; }
  int num_threads() const { return pool_->NumThreads(); }
  size_t NativeBytes() const { return native_bytes_; }
  size_t KvCacheBytes() const { return kv_bytes_; }
  // Per-batch working buffers held now (not the KV cache): they grow to the largest batch since the last release.
  size_t WorkingBytes() const { return working_memory_.Bytes(); }
  // Returns the working buffers to the OS (after any running forward); the KV cache stays. Returns the bytes released.
  size_t ReleaseWorkingMemory();

 private:
  struct Layer {
    std::vector<float> input_norm;         // [H]
    kernels::cpu::PackedWeights qkv;       // [W, H]
    std::vector<float> q_norm;             // [d]
    std::vector<float> k_norm;             // [d]
    kernels::cpu::PackedWeights o_proj;    // [H, nH d]
    std::vector<float> post_norm;          // [H]
    kernels::cpu::PackedWeights gate_up;   // [2I, H]
    kernels::cpu::PackedWeights down;      // [H, I]
  };

  Qwen3Engine(const Qwen3Hyperparameters& config, ElementType weight_type, int num_threads);
  // Returns the number of output floats.
  int64_t CheckBatch(const DecoderBatch& batch) const;
  void EmbedTokens(const int32_t* token_ids, int64_t num_tokens, float* out);
  // The last layer after its attention, for the pooled rows only (LAST pooling): o_proj, MLP, final norm, pooling.
  std::vector<float> FinishPrunedLayer(const Layer& layer, const DecoderBatch& batch, const float* x, const float* context,
                                       int64_t out_size, std::vector<float> pooled);

  Qwen3Hyperparameters config_;
  ElementType weight_type_;
  std::unique_ptr<kernels::cpu::ThreadPool> pool_;
  const void* embed_table_ = nullptr;
  ElementType embed_type_ = ElementType::kF32;
  std::vector<float> final_norm_;
  std::vector<Layer> layers_;
  size_t native_bytes_ = 0;

  std::mutex forward_mutex_;  // one forward (or InitKvCache) at a time
  kernels::cpu::AlignedBuffer kv_cache_;  // [layer][K | V][num_blocks][block_size][nKV][d]
  int64_t kv_num_blocks_ = 0;
  int64_t kv_block_size_ = 0;
  size_t kv_bytes_ = 0;

  // Kept between forwards until ReleaseWorkingMemory (working_memory_ must come first).
  WorkingMemory working_memory_;
  WorkingBuffer hidden_{working_memory_};
  WorkingBuffer hidden_alt_{working_memory_};
  WorkingBuffer normed_{working_memory_};
  WorkingBuffer qkv_{working_memory_};
  WorkingBuffer context_{working_memory_};
  WorkingBuffer gate_up_{working_memory_};
  WorkingBuffer mlp_{working_memory_};
  WorkingBuffer scratch_kv_{working_memory_};   // one-shot batches: one layer's K and V, block size 1
  WorkingBuffer pooled_rows_{working_memory_};  // the pruned last layer's rows
};

}  // namespace pooled::engine
