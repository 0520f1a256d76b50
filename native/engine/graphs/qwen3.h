#pragma once
// Qwen3 decoder graph (embedding models: last_hidden_state, LAST pooling), with a paged KV cache the engine owns. An
// Engine (engine.h); kernels through the op table (ops.h). No N-API here.
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
#include <vector>

#include "engine/config_values.h"
#include "engine/layers.h"
#include "kernels/cpu/kernels.h"

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

// spec.config of a Qwen3 model (vocabSize, ..., numKeyValueHeads, headDim, rmsNormEps, ropeTheta), checked; throws
// ConfigError.
Qwen3Hyperparameters ParseQwen3Config(const ConfigValues& config);

class Qwen3Engine final : public EngineBase {
 public:
  // The embedding table read in place for the engine's whole life (the caller keeps its bytes alive).
  static constexpr const char* kEmbeddingTable = "embed_tokens.weight";

  // Checks every tensor before packing anything, then packs the GEMM weights as `weight_type` (kF32 or kBF16).
  static std::unique_ptr<Qwen3Engine> Load(const Qwen3Hyperparameters& config, const TensorMap& tensors,
                                           ElementType weight_type, int num_threads, const Ops& ops = CpuOps());

  bool HasKvCache() const override { return true; }
  // Allocates the paged KV store (zeroed), discarding the previous one. Returns its size in bytes.
  size_t InitKvCache(int64_t num_blocks, int64_t block_size) override;
  // Bytes of K and V of one token over all layers (float32).
  int64_t KvBytesPerToken() const override {
    return 2 * config_.num_layers * config_.num_kv_heads * config_.head_dim * 4;
  }

  // Paged: one row per sequence with is_last_chunk = 1 (LAST pooling only). One-shot (no block tables): one row per
  // sequence, any pooling.
  std::vector<float> Forward(const Batch& batch) override;

  const Qwen3Hyperparameters& config() const { return config_; }
  size_t KvCacheBytes() const { return kv_bytes_; }

 private:
  struct Layer {
    std::vector<float> input_norm;        // [H]
    kernels::cpu::PackedWeights qkv;      // [W, H]
    std::vector<float> q_norm;            // [d]
    std::vector<float> k_norm;            // [d]
    kernels::cpu::PackedWeights o_proj;   // [H, nH d]
    std::vector<float> post_norm;         // [H]
    kernels::cpu::PackedWeights gate_up;  // [2I, H]
    kernels::cpu::PackedWeights down;     // [H, I]
  };

  Qwen3Engine(const Qwen3Hyperparameters& config, ElementType weight_type, int num_threads, const Ops& ops);
  // The decoder's own checks on top of CheckRaggedBatch (index ranges, block tables). Returns the number of output
  // floats.
  int64_t CheckBatch(const Batch& batch) const;
  // Qwen3Attention's o_proj (+ residual) and Qwen3MLP over `rows` rows: context [rows, nH d] and the layer input [rows,
  // H]
  // -> after_attention [rows, H] -> normed [rows, H] -> gate_up [rows, 2I] -> mlp [rows, I] -> output [rows, H] (output
  // may be `input`, no longer needed by then).
  void RunDenseLayers(const Layer& layer, const float* context, const float* input, float* after_attention,
                      float* normed, float* gate_up, float* mlp, float* output, int64_t rows);
  // The last layer after its attention, for the pooled rows only (LAST pooling): o_proj, MLP, final norm, pooling.
  std::vector<float> FinishPrunedLayer(const Layer& layer, const Batch& batch, const float* x, const float* context,
                                       int64_t out_size, std::vector<float> pooled);

  Qwen3Hyperparameters config_;
  const void* embed_table_ = nullptr;
  ElementType embed_type_ = ElementType::kF32;
  std::vector<float> final_norm_;
  std::vector<Layer> layers_;

  kernels::cpu::AlignedBuffer kv_cache_;  // [layer][K | V][num_blocks][block_size][nKV][d]
  int64_t kv_num_blocks_ = 0;
  int64_t kv_block_size_ = 0;
  size_t kv_bytes_ = 0;

  // Kept between forwards until ReleaseWorkingMemory.
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
