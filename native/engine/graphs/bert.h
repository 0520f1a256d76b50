#pragma once
// BERT encoder graph: weights held as packed GEMM panels and float32 vectors, one forward turns a ragged batch into
// pooled rows. An Engine (engine.h); kernels through the op table (ops.h). No N-API here.
//
// Shapes (T tokens in the batch, H hidden, I intermediate, heads x head_dim = H):
//   embeddings            [T, H]
//   per layer: qkv [T, 3H] (Q | K | V, one fused GEMM), context [T, H], attention output [T, H],
//              intermediate [T, I], layer output [T, H]
// transformers modeling_bert.py (BertEmbeddings, BertSelfAttention, BertSelfOutput, BertIntermediate,
// BertOutput) is the behaviour matched: post-LayerNorm, absolute positions, erf GELU unless config says otherwise.
// The same graph runs every BERT-shaped family: RoBERTa / XLM-RoBERTa differ only in where positions start (they come
// with the batch), ERNIE adds task_type_embeddings[0] to every token (folded into the token-type table at load).
// Encoders attend both ways over whole sequences: no KV cache, so no prefix caching or chunked prefill.
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/config_values.h"
#include "engine/layers.h"
#include "kernels/cpu/kernels.h"

namespace pooled::engine {

struct BertHyperparameters {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t intermediate_size = 0;
  int64_t max_position_embeddings = 0;
  int64_t type_vocab_size = 0;
  // ERNIE with use_task_id: rows of embeddings.task_type_embeddings.weight; 0 = no such table (BERT, RoBERTa).
  int64_t task_type_vocab_size = 0;
  float layer_norm_eps = 0.0f;
  Activation activation = Activation::kGeluErf;
};

// spec.config of a BERT model (vocabSize, hiddenSize, ..., hiddenAct), checked; throws ConfigError.
BertHyperparameters ParseBertConfig(const ConfigValues& config);

class BertEngine final : public EngineBase {
 public:
  // The embedding table read in place for the engine's whole life (the caller keeps its bytes alive).
  static constexpr const char* kEmbeddingTable = "embeddings.word_embeddings.weight";

  // Checks every tensor (presence, shape, element type, byte length) before packing anything, then packs the
  // GEMM weights as `weight_type` (kF32 or kBF16).
  static std::unique_ptr<BertEngine> Load(const BertHyperparameters& config, const TensorMap& tensors,
                                          ElementType weight_type, int num_threads, const Ops& ops = CpuOps());

  std::vector<float> Forward(const Batch& batch) override;

  const BertHyperparameters& config() const { return config_; }

 private:
  struct Layer {
    kernels::cpu::PackedWeights qkv;            // [3H, H]: query, key, value stacked
    std::vector<float> qkv_bias;                // [3H]
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

  BertEngine(const BertHyperparameters& config, ElementType weight_type, int num_threads, const Ops& ops);
  // BertSelfOutput, BertIntermediate and BertOutput over `rows` rows: context [rows, H] and the layer input
  // [rows, H] -> attention_out [rows, H] -> intermediate [rows, I] -> output [rows, H].
  void RunDenseLayers(const Layer& layer, const float* context, const float* input, float* attention_out,
                      float* intermediate, float* output, int64_t rows);

  BertHyperparameters config_;
  kernels::cpu::EmbeddingTables tables_;
  std::vector<float> position_table_;
  std::vector<float> token_type_table_;
  std::vector<float> embedding_ln_gamma_;
  std::vector<float> embedding_ln_beta_;
  std::vector<Layer> layers_;

  // Activation buffers, kept between forwards until ReleaseWorkingMemory.
  WorkingBuffer hidden_{working_memory_};
  WorkingBuffer hidden_alt_{working_memory_};
  WorkingBuffer qkv_{working_memory_};
  WorkingBuffer context_{working_memory_};
  WorkingBuffer intermediate_{working_memory_};
  WorkingBuffer attention_workspace_{working_memory_};  // K^T per layer
  WorkingBuffer pooled_rows_{working_memory_};          // the pruned last layer's rows (CLS / LAST pooling)
};

}  // namespace pooled::engine
