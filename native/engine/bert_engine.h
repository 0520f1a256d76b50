#pragma once
// BERT encoder on the CPU kernels: weights held as packed GEMM panels and float32 vectors, one forward turns a
// ragged batch into pooled rows. No N-API here (native/addon/ owns the JS side).
//
// Shapes (T tokens in the batch, H hidden, I intermediate, heads x head_dim = H):
//   embeddings            [T, H]
//   per layer: qkv [T, 3H] (Q | K | V, one fused GEMM), context [T, H], attention output [T, H],
//              intermediate [T, I], layer output [T, H]
// transformers modeling_bert.py (BertEmbeddings, BertSelfAttention, BertSelfOutput, BertIntermediate,
// BertOutput) is the behaviour matched: post-LayerNorm, absolute positions, erf GELU unless config says otherwise.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/working_memory.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/thread_pool.h"

namespace pooled::engine {

using kernels::cpu::Activation;
using kernels::cpu::ElementType;
using kernels::cpu::PoolingMode;

struct BertHyperparameters {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t intermediate_size = 0;
  int64_t max_position_embeddings = 0;
  int64_t type_vocab_size = 0;
  float layer_norm_eps = 0.0f;
  Activation activation = Activation::kGeluErf;
};

// One checkpoint tensor as the loader found it: bytes in the file's element type, not owned.
struct TensorRef {
  ElementType type = ElementType::kF32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  size_t byte_length = 0;
};

// Canonical names, as src/model/load.ts produces them (no `bert.` prefix).
using TensorMap = std::map<std::string, TensorRef>;

struct RaggedBatch {
  std::vector<int32_t> token_ids;
  std::vector<int32_t> positions;
  std::vector<int32_t> token_type_ids;  // empty = all zeros
  std::vector<int32_t> cu_seq_lens;
  PoolingMode pooling = PoolingMode::kCls;
  std::vector<int32_t> dimensions;  // per sequence, 0 = all
  std::vector<uint8_t> normalize;   // per sequence
};

class BertEngine {
 public:
  // Checks every tensor (presence, shape, element type, byte length) before packing anything, then packs the
  // GEMM weights as `weight_type` (kF32 or kBF16). The word embedding table is read in place for the engine's
  // whole life: the caller keeps tensors.at("embeddings.word_embeddings.weight").data alive.
  static std::unique_ptr<BertEngine> Load(const BertHyperparameters& config, const TensorMap& tensors,
                                          ElementType weight_type, int num_threads);

  // Pooled rows back to back (row i has dimensions[i] values, or hidden_size). One forward at a time.
  std::vector<float> Forward(const RaggedBatch& batch);

  const BertHyperparameters& config() const { return config_; }
  ElementType weight_type() const { return weight_type_; }
  int num_threads() const { return pool_->NumThreads(); }
  // Memory this engine allocated (packed weights, float32 vectors and tables), for the JS heap's accounting.
  size_t NativeBytes() const { return native_bytes_; }
  // Per-batch working buffers held now: they grow to the largest batch since the last release. Any thread.
  size_t WorkingBytes() const { return working_memory_.Bytes(); }
  // Returns the working buffers to the OS (after any running forward); the next forward maps them again. Returns the
  // bytes released.
  size_t ReleaseWorkingMemory();

 private:
  struct Layer {
    kernels::cpu::PackedWeights qkv;       // [3H, H]: query, key, value stacked
    std::vector<float> qkv_bias;           // [3H]
    kernels::cpu::PackedWeights attention_out;  // [H, H]
    std::vector<float> attention_out_bias;
    std::vector<float> attention_ln_gamma;
    std::vector<float> attention_ln_beta;
    kernels::cpu::PackedWeights intermediate;  // [I, H]
    std::vector<float> intermediate_bias;
    kernels::cpu::PackedWeights output;  // [H, I]
    std::vector<float> output_bias;
    std::vector<float> output_ln_gamma;
    std::vector<float> output_ln_beta;
  };

  BertEngine(const BertHyperparameters& config, ElementType weight_type, int num_threads);
  void CheckBatch(const RaggedBatch& batch) const;
  // BertSelfOutput, BertIntermediate and BertOutput over `rows` rows: context [rows, H] and the layer input
  // [rows, H] -> attention_out [rows, H] -> intermediate [rows, I] -> output [rows, H].
  void RunDenseLayers(const Layer& layer, const float* context, const float* input, float* attention_out,
                      float* intermediate, float* output, int64_t rows);

  BertHyperparameters config_;
  ElementType weight_type_;
  std::unique_ptr<kernels::cpu::ThreadPool> pool_;
  kernels::cpu::EmbeddingTables tables_;
  std::vector<float> position_table_;
  std::vector<float> token_type_table_;
  std::vector<float> embedding_ln_gamma_;
  std::vector<float> embedding_ln_beta_;
  std::vector<Layer> layers_;
  size_t native_bytes_ = 0;

  std::mutex forward_mutex_;
  // Activation buffers, kept between forwards until ReleaseWorkingMemory (working_memory_ must come first).
  WorkingMemory working_memory_;
  WorkingBuffer hidden_{working_memory_};
  WorkingBuffer hidden_alt_{working_memory_};
  WorkingBuffer qkv_{working_memory_};
  WorkingBuffer context_{working_memory_};
  WorkingBuffer intermediate_{working_memory_};
  WorkingBuffer attention_workspace_{working_memory_};  // K^T per layer
  WorkingBuffer pooled_rows_{working_memory_};          // the pruned last layer's rows (CLS / LAST pooling)
};

}  // namespace pooled::engine
