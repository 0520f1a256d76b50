#include "engine/graphs/modernbert.h"

#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

#include "engine/checkpoint_tensors.h"

namespace pooled::engine {

namespace kc = kernels::cpu;

namespace {

constexpr const char* kWeightsLabel = "ModernBERT weights";

// ACT2FN names the GeGLU takes (ModernBertMLP: self.act = ACT2FN[config.hidden_activation]).
Activation ParseHiddenActivation(const std::string& s) {
  if (s == "gelu") return Activation::kGeluErf;
  if (s == "gelu_new" || s == "gelu_pytorch_tanh") return Activation::kGeluTanh;
  if (s == "silu") return Activation::kSilu;
  throw ConfigError(ConfigError::Kind::kType, "config.hiddenAct '" + s + "' is not supported by the cpu backend");
}

// "full_attention,sliding_attention,..." -> per layer, whether it is a sliding-window layer.
std::vector<bool> ParseLayerTypes(const std::string& s, int64_t num_layers) {
  std::vector<bool> local;
  std::stringstream stream(s);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (item == "full_attention") {
      local.push_back(false);
    } else if (item == "sliding_attention") {
      local.push_back(true);
    } else {
      throw ConfigError(ConfigError::Kind::kRange, "config.layerTypes: unknown layer type '" + item + "'");
    }
  }
  if (static_cast<int64_t>(local.size()) != num_layers) {
    throw ConfigError(ConfigError::Kind::kRange, "config.layerTypes names " + std::to_string(local.size()) +
                                                     " layers, numLayers is " + std::to_string(num_layers));
  }
  return local;
}

}  // namespace

ModernBertHyperparameters ParseModernBertConfig(const ConfigValues& c) {
  constexpr int64_t kMaxDim = int64_t{1} << 31;
  ModernBertHyperparameters config;
  config.vocab_size = c.Integer("vocabSize", 1, kMaxDim);
  config.hidden_size = c.Integer("hiddenSize", 1, 1 << 16);
  config.num_layers = c.Integer("numLayers", 1, 1024);
  config.num_heads = c.Integer("numHeads", 1, 1 << 12);
  config.intermediate_size = c.Integer("intermediateSize", 1, 1 << 20);
  config.max_position_embeddings = c.Integer("maxPositionEmbeddings", 1, kMaxDim);
  config.norm_eps = static_cast<float>(c.Number("normEps"));
  config.activation = ParseHiddenActivation(c.String("hiddenAct"));
  config.global_rope_theta = c.Number("globalRopeTheta");
  config.local_rope_theta = c.Number("localRopeTheta");
  config.sliding_window = c.Integer("slidingWindow", 1, kMaxDim);
  config.layer_is_local = ParseLayerTypes(c.String("layerTypes"), config.num_layers);
  return config;
}

ModernBertEngine::ModernBertEngine(const ModernBertHyperparameters& config, ElementType weight_type, int num_threads,
                                   const Ops& ops)
    : EngineBase(weight_type, num_threads, ops), config_(config) {}

std::unique_ptr<ModernBertEngine> ModernBertEngine::Load(const ModernBertHyperparameters& c, const TensorMap& tensors,
                                                         ElementType weight_type, int num_threads, const Ops& ops) {
  const CheckpointReader w(tensors, kWeightsLabel);
  if (c.vocab_size <= 0 || c.hidden_size <= 0 || c.num_layers <= 0 || c.num_heads <= 0 || c.intermediate_size <= 0 ||
      c.max_position_embeddings <= 0 || c.sliding_window <= 0) {
    w.Fail("every size in the config must be > 0");
  }
  if (c.hidden_size % c.num_heads != 0) w.Fail("hidden_size is not a multiple of num_attention_heads");
  if ((c.hidden_size / c.num_heads) % 2 != 0) w.Fail("the head size must be even (rotate-half RoPE)");
  if (static_cast<int64_t>(c.layer_is_local.size()) != c.num_layers) w.Fail("one layer type per layer is needed");
  if (!(c.norm_eps >= 0.0f)) w.Fail("norm_eps must be >= 0");
  if (!(c.global_rope_theta > 0.0) || !(c.local_rope_theta > 0.0)) w.Fail("the rope thetas must be > 0");
  CheckWeightType(weight_type, kWeightsLabel);
  const int64_t H = c.hidden_size;
  const int64_t I = c.intermediate_size;

  // Validate everything first: a malformed checkpoint fails here, before any packing or kernel.
  const TensorRef& embed = w.Expect(kEmbeddingTable, {c.vocab_size, H});
  const TensorRef& embed_norm = w.Expect("embeddings.norm.weight", {H});
  const TensorRef& final_norm = w.Expect("final_norm.weight", {H});
  struct LayerRefs {
    const TensorRef *attn_norm, *wqkv, *wo, *mlp_norm, *wi, *mlp_wo;
  };
  std::vector<LayerRefs> refs;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    // ModernBertEncoderLayer: layer 0's attn_norm is nn.Identity (no tensor).
    refs.push_back({l == 0 ? nullptr : &w.Expect(p + "attn_norm.weight", {H}),
                    &w.Expect(p + "attn.Wqkv.weight", {3 * H, H}), &w.Expect(p + "attn.Wo.weight", {H, H}),
                    &w.Expect(p + "mlp_norm.weight", {H}), &w.Expect(p + "mlp.Wi.weight", {2 * I, H}),
                    &w.Expect(p + "mlp.Wo.weight", {H, I})});
  }

  std::unique_ptr<ModernBertEngine> engine(new ModernBertEngine(c, weight_type, num_threads, ops));
  ModernBertEngine& e = *engine;
  e.embed_table_ = embed.data;
  e.embed_type_ = embed.type;
  e.embedding_norm_ = TensorToFloat(embed_norm);
  e.final_norm_ = TensorToFloat(final_norm);
  e.zero_beta_.assign(static_cast<size_t>(H), 0.0f);
  size_t bytes = static_cast<size_t>(3 * H) * sizeof(float);
  for (const LayerRefs& r : refs) {
    Layer layer;
    if (r.attn_norm != nullptr) layer.attn_norm = TensorToFloat(*r.attn_norm);
    layer.wqkv = kc::PackWeights(r.wqkv->data, r.wqkv->type, 3 * H, H, weight_type);
    layer.wo = kc::PackWeights(r.wo->data, r.wo->type, H, H, weight_type);
    layer.mlp_norm = TensorToFloat(*r.mlp_norm);
    layer.wi = kc::PackWeights(r.wi->data, r.wi->type, 2 * I, H, weight_type);
    layer.mlp_wo = kc::PackWeights(r.mlp_wo->data, r.mlp_wo->type, H, I, weight_type);
    bytes += layer.wqkv.SizeBytes() + layer.wo.SizeBytes() + layer.wi.SizeBytes() + layer.mlp_wo.SizeBytes();
    bytes += (layer.attn_norm.size() + layer.mlp_norm.size()) * sizeof(float);
    e.layers_.push_back(std::move(layer));
  }
  e.native_bytes_ = bytes;
  return engine;
}

void ModernBertEngine::Norm(const float* x, float* y, int64_t rows, const std::vector<float>& gamma) {
  ops_.layer_norm(execution_, x, nullptr, y, rows, config_.hidden_size, gamma.data(), zero_beta_.data(),
                  config_.norm_eps);
}

void ModernBertEngine::RunDenseLayers(const Layer& layer, const float* context, const float* input,
                                      float* after_attention, float* normed, float* wi, float* gated, float* output,
                                      int64_t rows) {
  const int64_t H = config_.hidden_size;
  const int64_t I = config_.intermediate_size;
  ExecutionContext& pool = execution_;
  // ModernBertEncoderLayer: hidden_states + attn(...): Wo with the residual in the epilogue.
  kc::GemmEpilogue attention_residual;
  attention_residual.residual = input;
  attention_residual.ldr = H;
  ops_.gemm(pool, context, rows, H, layer.wo, after_attention, H, attention_residual);
  // ModernBertMLP on mlp_norm(h): `input, gate = Wi(x).chunk(2)`, act(input) * gate, then Wo + residual.
  Norm(after_attention, normed, rows, layer.mlp_norm);
  ops_.gemm(pool, normed, rows, H, layer.wi, wi, 2 * I, kc::GemmEpilogue{});
  ops_.gated_activation(pool, wi, 2 * I, gated, I, rows, I, config_.activation, kc::GatedHalf::kFirst);
  kc::GemmEpilogue mlp_residual;
  mlp_residual.residual = after_attention;
  mlp_residual.ldr = H;
  ops_.gemm(pool, gated, rows, I, layer.mlp_wo, output, H, mlp_residual);
}

std::vector<float> ModernBertEngine::Forward(const Batch& b) {
  const int64_t H = config_.hidden_size;
  const int64_t I = config_.intermediate_size;
  CheckRaggedBatch(b, H);
  if (b.paged) throw std::invalid_argument("batch: ModernBERT is an encoder and keeps no KV cache: no blockTables");
  const int64_t num_seqs = b.num_seqs();
  const int64_t T = b.num_tokens();
  // Token ids index the embedding table (read without further checks); positions index RoPE's angles.
  for (int64_t t = 0; t < T; ++t) {
    const size_t i = static_cast<size_t>(t);
    if (b.token_ids[i] < 0 || b.token_ids[i] >= config_.vocab_size) {
      BatchFail("tokenIds[" + std::to_string(t) + "] = " + std::to_string(b.token_ids[i]) + " is outside [0, " +
                std::to_string(config_.vocab_size) + ")");
    }
    if (b.positions[i] < 0 || b.positions[i] >= config_.max_position_embeddings) {
      BatchFail("positions[" + std::to_string(t) + "] = " + std::to_string(b.positions[i]) + " is outside [0, " +
                std::to_string(config_.max_position_embeddings) + ") (max_position_embeddings)");
    }
  }
  const int64_t out_size = PooledSize(b, H);
  std::vector<float> pooled(static_cast<size_t>(out_size));
  if (num_seqs == 0) return pooled;

  std::lock_guard<std::mutex> lock(forward_mutex_);
  ExecutionContext& pool = execution_;
  float* x = hidden_.Reserve(static_cast<size_t>(T * H));
  float* after_attention = hidden_alt_.Reserve(static_cast<size_t>(T * H));
  float* normed = normed_.Reserve(static_cast<size_t>(T * H));
  float* qkv = qkv_.Reserve(static_cast<size_t>(T * 3 * H));
  float* context_rows = context_.Reserve(static_cast<size_t>(T * H));
  float* wi_rows = wi_.Reserve(static_cast<size_t>(T * 2 * I));
  float* gated_rows = gated_.Reserve(static_cast<size_t>(T * I));

  // ModernBertEmbeddings: norm(tok_embeddings(ids)).
  ops_.embed_tokens(pool, embed_table_, embed_type_, H, b.token_ids.data(), T, normed);
  Norm(normed, x, T, embedding_norm_);

  const int64_t head_dim = H / config_.num_heads;
  kc::AttentionArgs attention =
      FusedQkvAttention(ops_, b, H, config_.num_heads, qkv, context_rows, attention_workspace_);

  const bool prune_last_layer = PrunesLastLayer(b);
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = layers_[l];
    const bool local = config_.layer_is_local[l];
    // ModernBertAttention: attn_norm (identity in layer 0), Wqkv, RoPE on q and k with the layer type's theta.
    const float* attention_input = x;
    if (!layer.attn_norm.empty()) {
      Norm(x, normed, T, layer.attn_norm);
      attention_input = normed;
    }
    ops_.gemm(pool, attention_input, T, H, layer.wqkv, qkv, 3 * H, kc::GemmEpilogue{});
    const double theta = local ? config_.local_rope_theta : config_.global_rope_theta;
    // q and k are the first 2 nH heads of each [3H] row: one call rotates both, v untouched.
    ops_.rope(pool, qkv, 3 * H, T, 2 * config_.num_heads, head_dim, b.positions.data(), theta, 1.0,
              config_.max_position_embeddings);
    // Local layers: |query - key| <= local_attention // 2 (masking_utils.py sliding_window_bidirectional_overlay).
    attention.window = local ? config_.sliding_window : 0;
    if (prune_last_layer && l + 1 == layers_.size()) {
      // Attention for the pooled tokens only, their context and input rows gathered; the layer and the final norm end
      // on num_seqs rows.
      float* context = pooled_rows_.Reserve(static_cast<size_t>(num_seqs * (5 * H + 3 * I)));
      float* input = context + num_seqs * H;
      float* after = input + num_seqs * H;
      float* normed_rows = after + num_seqs * H;
      float* output_rows = normed_rows + num_seqs * H;
      float* wi = output_rows + num_seqs * H;
      float* gated = wi + num_seqs * 2 * I;
      AttendPooledTokensOnly(ops_, pool, attention, b, x, H, context, input);
      RunDenseLayers(layer, context, input, after, normed_rows, wi, gated, output_rows, num_seqs);
      Norm(output_rows, normed_rows, num_seqs, final_norm_);
      PoolOneRowEach(ops_, pool, b, normed_rows, H, pooled);
      return pooled;
    }
    ops_.attention(pool, attention);
    RunDenseLayers(layer, context_rows, x, after_attention, normed, wi_rows, gated_rows, x, T);
  }

  Norm(x, normed, T, final_norm_);
  PoolSequences(ops_, pool, b, normed, H, pooled);
  return pooled;
}

}  // namespace pooled::engine
