#pragma once
// ModernBERT encoder graph (transformers models/modernbert/modeling_modernbert.py ModernBertModel): weights held as
// packed GEMM panels and float32 vectors, one forward turns a ragged batch into pooled rows. An Engine (engine.h);
// kernels through the op table (ops.h). No N-API here.
//
// Shapes (T tokens in the batch, H hidden, I intermediate, heads x head_dim = H):
//   embeddings   tok_embeddings [T, H] (read in place), LayerNorm (weight only)
//   per layer:   attn_norm [T, H] (layer 0: none, the input itself); Wqkv [T, 3H] (Q | K | V, one GEMM); RoPE on Q and
//                K in place (global or local theta); attention [T, H] over the whole sequence (global layers) or the
//                tokens within `sliding_window` on each side (local layers); Wo + residual [T, H]; mlp_norm [T, H];
//                Wi [T, 2I]; GeGLU act(first half) * second half [T, I]; Wo + residual [T, H]
//   final_norm   [T, H], then pooling
// src/model/architectures/modernbert/reference.ts is the float64 oracle. No biases anywhere (attention_bias,
// mlp_bias, norm_bias are refused at load on the TypeScript side), so every LayerNorm runs with beta = 0.
// Encoders attend both ways over whole sequences: no KV cache, so no prefix caching or chunked prefill. Memory is
// O(T (H + I)) plus the attention's K^T: no T x T score matrix (the attention kernel is tiled), so an 8192-token input
// costs what its activations cost.
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/config_values.h"
#include "engine/layers.h"
#include "kernels/cpu/kernels.h"

namespace pooled::engine {

struct ModernBertHyperparameters {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t intermediate_size = 0;
  int64_t max_position_embeddings = 0;
  float norm_eps = 0.0f;
  Activation activation = Activation::kGeluErf;  // of the GeGLU's first half
  double global_rope_theta = 0.0;
  double local_rope_theta = 0.0;
  int64_t sliding_window = 0;        // half-width: local_attention // 2
  std::vector<bool> layer_is_local;  // per layer: sliding-window attention (else global)
};

// spec.config of a ModernBERT model (vocabSize, ..., hiddenAct, globalRopeTheta, localRopeTheta, slidingWindow,
// layerTypes: "full_attention,sliding_attention,..."), checked; throws ConfigError.
ModernBertHyperparameters ParseModernBertConfig(const ConfigValues& config);

class ModernBertEngine final : public EngineBase {
 public:
  // The embedding table read in place for the engine's whole life (the caller keeps its bytes alive).
  static constexpr const char* kEmbeddingTable = "embeddings.tok_embeddings.weight";

  // Checks every tensor (presence, shape, element type, byte length) before packing anything, then packs the GEMM
  // weights as `weight_type` (kF32 or kBF16).
  static std::unique_ptr<ModernBertEngine> Load(const ModernBertHyperparameters& config, const TensorMap& tensors,
                                                ElementType weight_type, int num_threads, const Ops& ops = CpuOps());

  std::vector<float> Forward(const Batch& batch) override;

  const ModernBertHyperparameters& config() const { return config_; }

 private:
  struct Layer {
    std::vector<float> attn_norm;        // [H]; empty in layer 0 (nn.Identity)
    kernels::cpu::PackedWeights wqkv;    // [3H, H]
    kernels::cpu::PackedWeights wo;      // [H, H]
    std::vector<float> mlp_norm;         // [H]
    kernels::cpu::PackedWeights wi;      // [2I, H]
    kernels::cpu::PackedWeights mlp_wo;  // [H, I]
  };

  ModernBertEngine(const ModernBertHyperparameters& config, ElementType weight_type, int num_threads, const Ops& ops);
  // LayerNorm without bias (norm_bias false): rows of H.
  void Norm(const float* x, float* y, int64_t rows, const std::vector<float>& gamma);
  // Attention's Wo + residual, then ModernBertMLP with its residual, over `rows` rows: context [rows, H] and the layer
  // input [rows, H] -> after_attention [rows, H] -> normed [rows, H] -> wi [rows, 2I] -> gated [rows, I] -> output
  // [rows, H] (output may be `input`, no longer needed by then).
  void RunDenseLayers(const Layer& layer, const float* context, const float* input, float* after_attention,
                      float* normed, float* wi, float* gated, float* output, int64_t rows);

  ModernBertHyperparameters config_;
  const void* embed_table_ = nullptr;
  ElementType embed_type_ = ElementType::kF32;
  std::vector<float> embedding_norm_;
  std::vector<float> final_norm_;
  std::vector<float> zero_beta_;  // [H]: LayerNorm's bias, absent in ModernBERT
  std::vector<Layer> layers_;

  // Activation buffers, kept between forwards until ReleaseWorkingMemory.
  WorkingBuffer hidden_{working_memory_};
  WorkingBuffer hidden_alt_{working_memory_};
  WorkingBuffer normed_{working_memory_};
  WorkingBuffer qkv_{working_memory_};
  WorkingBuffer context_{working_memory_};
  WorkingBuffer wi_{working_memory_};
  WorkingBuffer gated_{working_memory_};
  WorkingBuffer attention_workspace_{working_memory_};  // K^T per layer
  WorkingBuffer pooled_rows_{working_memory_};          // the pruned last layer's rows (CLS / LAST pooling)
};

}  // namespace pooled::engine
