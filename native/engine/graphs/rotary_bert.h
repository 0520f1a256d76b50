#pragma once
// Rotary-BERT encoder graph, shared by NomicBERT (nomic_bert) and GTE's NewModel (gte): post-norm BERT layers with no
// position table, rotary (rotate-half) on q and k, one fused QKV projection and a gated MLP. An Engine (engine.h);
// kernels through the op table (ops.h). No N-API here. The float64 oracle is
// src/model/architectures/rotary_bert/reference.ts, which cites the upstream modeling code line by line.
//
// Shapes (T tokens in the batch, H hidden, I intermediate, heads x head_dim = H):
//   embeddings            [T, H]: word (+ token type when the checkpoint has a table), LayerNorm
//   per layer: qkv [T, 3H] (Q | K | V, one fused GEMM), rotary on Q and K in place, context [T, H],
//              attention output + residual, LayerNorm [T, H] (one GEMM epilogue), up | gate [T, 2I] (one GEMM),
//              act(gate) * up [T, I], down + residual, LayerNorm [T, H] (one GEMM epilogue)
// Encoders attend both ways over whole sequences: no KV cache, so no prefix caching or chunked prefill.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/config_values.h"
#include "engine/layers.h"
#include "kernels/cpu/kernels.h"

namespace pooled::engine {

// Which family's tensor names the checkpoint uses (src/model/architectures/rotary_bert/layout.ts, the same tables).
enum class RotaryBertNaming { kNomicBert, kGte };

struct RotaryBertHyperparameters {
  RotaryBertNaming naming = RotaryBertNaming::kNomicBert;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t intermediate_size = 0;
  int64_t max_position_embeddings = 0;
  int64_t type_vocab_size = 0;  // 0: the checkpoint has no token type table
  float layer_norm_eps = 0.0f;
  double rope_theta = 0.0;
  double rope_ntk_factor = 1.0;  // GTE's rope_scaling {type: ntk, factor}; 1 = plain rotary
  Activation gate_activation = Activation::kSilu;
  bool attention_bias = false;  // Wqkv / out_proj (qkv_proj / o_proj) biases
  bool mlp_up_bias = false;
  bool mlp_down_bias = false;
};

// spec.config of a rotary-BERT model (architecture, vocabSize, ..., ropeTheta, ropeNtkFactor, hiddenAct, the three
// bias flags as 0 / 1), checked; throws ConfigError.
RotaryBertHyperparameters ParseRotaryBertConfig(const ConfigValues& config);

class RotaryBertEngine final : public EngineBase {
 public:
  // The embedding table read in place for the engine's whole life (the caller keeps its bytes alive).
  static constexpr const char* kEmbeddingTable = "embeddings.word_embeddings.weight";

  // Checks every tensor (presence, shape, element type, byte length) before packing anything, then packs the
  // GEMM weights as `weight_type` (kF32 or kBF16).
  static std::unique_ptr<RotaryBertEngine> Load(const RotaryBertHyperparameters& config, const TensorMap& tensors,
                                                ElementType weight_type, int num_threads, const Ops& ops = CpuOps());

  std::vector<float> Forward(const Batch& batch) override;

 private:
  struct Layer {
    kernels::cpu::PackedWeights qkv;  // [3H, H]: query, key, value rows
    std::vector<float> qkv_bias;      // [3H] or empty
    kernels::cpu::PackedWeights out;  // [H, H]
    std::vector<float> out_bias;      // [H] or empty
    std::vector<float> attention_ln_gamma;
    std::vector<float> attention_ln_beta;
    kernels::cpu::PackedWeights up_gate;  // [2I, H]: up rows, then gate rows
    std::vector<float> up_gate_bias;      // [2I] or empty
    kernels::cpu::PackedWeights down;     // [H, I]
    std::vector<float> down_bias;         // [H] or empty
    std::vector<float> mlp_ln_gamma;
    std::vector<float> mlp_ln_beta;
  };

  RotaryBertEngine(const RotaryBertHyperparameters& config, ElementType weight_type, int num_threads, const Ops& ops);
  // Attention output + residual LayerNorm, then the gated MLP + residual LayerNorm, over `rows` rows: context
  // [rows, H] and the layer input [rows, H] -> attention_out [rows, H] -> up_gate [rows, 2I] -> gated [rows, I] ->
  // output [rows, H] (output may be `input`).
  void RunDenseLayers(const Layer& layer, const float* context, const float* input, float* attention_out,
                      float* up_gate, float* gated, float* output, int64_t rows);

  RotaryBertHyperparameters config_;
  double rope_base_ = 0.0;                   // theta (x NTK factor)
  double rope_inverse_frequency_scale_ = 1;  // NTK: factor^(-2 / head_dim)
  kernels::cpu::EmbeddingTables tables_;
  std::vector<float> token_type_table_;
  std::vector<float> embedding_ln_gamma_;
  std::vector<float> embedding_ln_beta_;
  std::vector<Layer> layers_;

  // Activation buffers, kept between forwards until ReleaseWorkingMemory.
  WorkingBuffer hidden_{working_memory_};
  WorkingBuffer hidden_alt_{working_memory_};
  WorkingBuffer qkv_{working_memory_};
  WorkingBuffer context_{working_memory_};
  WorkingBuffer up_gate_{working_memory_};
  WorkingBuffer gated_{working_memory_};
  WorkingBuffer attention_workspace_{working_memory_};  // K^T per layer
  WorkingBuffer pooled_rows_{working_memory_};          // the pruned last layer's rows (CLS / LAST pooling)
};

}  // namespace pooled::engine
