#include "engine/graphs/rotary_bert.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "engine/checkpoint_tensors.h"

namespace pooled::engine {

namespace kc = kernels::cpu;

namespace {

constexpr const char* kWeightsLabel = "rotary BERT weights";

// Where each part of a layer lives in one family's checkpoint (names after the layer prefix); the same table as
// src/model/architectures/rotary_bert/layout.ts (NOMIC_BERT_NAMING, GTE_NAMING), which cites the upstream modules.
struct Naming {
  const char* embedding_ln;
  const char* layer_prefix;
  const char* qkv;
  const char* attention_out;
  const char* attention_ln;
  const char* up;       // NomicBERT fc11 (up rows); null when up and gate are one fused tensor
  const char* gate;     // NomicBERT fc12
  const char* up_gate;  // GTE up_gate_proj [2I, H]: up rows, then gate rows (NewGatedMLP torch.split)
  const char* down;
  const char* mlp_ln;
};

constexpr Naming kNomicBertNaming = {"emb_ln",   "encoder.layers.", "attn.Wqkv", "attn.out_proj", "norm1",
                                     "mlp.fc11", "mlp.fc12",        nullptr,     "mlp.fc2",       "norm2"};
constexpr Naming kGteNaming = {"embeddings.LayerNorm",
                               "encoder.layer.",
                               "attention.qkv_proj",
                               "attention.o_proj",
                               "attn_ln",
                               nullptr,
                               nullptr,
                               "mlp.up_gate_proj",
                               "mlp.down_proj",
                               "mlp_ln"};

const float* OrNull(const std::vector<float>& v) { return v.empty() ? nullptr : v.data(); }

// The post-norm sub-layer ending (NomicBertBlock postnorm / NewLayer): + bias (when present), + residual, LayerNorm,
// in the GEMM's epilogue.
kc::GemmEpilogue BiasResidualLayerNorm(const std::vector<float>& bias, const float* residual, int64_t ldr,
                                       const std::vector<float>& gamma, const std::vector<float>& beta, float eps) {
  kc::GemmEpilogue epilogue;
  epilogue.bias = OrNull(bias);
  epilogue.residual = residual;
  epilogue.ldr = ldr;
  epilogue.ln_gamma = gamma.data();
  epilogue.ln_beta = beta.data();
  epilogue.ln_eps = eps;
  return epilogue;
}

// The gate's activation: "silu" (NomicBERT swiglu: F.silu) or "gelu" (GTE ACT2FN["gelu"], NomicBERT geglu: exact erf).
Activation ParseGateActivation(const std::string& s) {
  if (s == "silu") return Activation::kSilu;
  if (s == "gelu") return Activation::kGeluErf;
  throw ConfigError(ConfigError::Kind::kType, "config.hiddenAct '" + s + "' is not supported by the cpu backend");
}

}  // namespace

RotaryBertHyperparameters ParseRotaryBertConfig(const ConfigValues& c) {
  constexpr int64_t kMaxDim = int64_t{1} << 31;
  RotaryBertHyperparameters config;
  const std::string& architecture = c.String("architecture");
  if (architecture == "nomic_bert") {
    config.naming = RotaryBertNaming::kNomicBert;
  } else if (architecture == "gte") {
    config.naming = RotaryBertNaming::kGte;
  } else {
    throw ConfigError(ConfigError::Kind::kType, "config.architecture '" + architecture + "' is not a rotary BERT");
  }
  config.vocab_size = c.Integer("vocabSize", 1, kMaxDim);
  config.hidden_size = c.Integer("hiddenSize", 1, 1 << 16);
  config.num_layers = c.Integer("numLayers", 1, 1024);
  config.num_heads = c.Integer("numHeads", 1, 1 << 16);
  config.intermediate_size = c.Integer("intermediateSize", 1, 1 << 20);
  config.max_position_embeddings = c.Integer("maxPositionEmbeddings", 1, kMaxDim);
  config.type_vocab_size = c.Integer("typeVocabSize", 0, kMaxDim);
  config.layer_norm_eps = static_cast<float>(c.Number("layerNormEps"));
  config.rope_theta = c.Number("ropeTheta");
  config.rope_ntk_factor = c.Number("ropeNtkFactor");
  config.gate_activation = ParseGateActivation(c.String("hiddenAct"));
  config.attention_bias = c.Integer("attentionBias", 0, 1) == 1;
  config.mlp_up_bias = c.Integer("mlpUpBias", 0, 1) == 1;
  config.mlp_down_bias = c.Integer("mlpDownBias", 0, 1) == 1;
  return config;
}

RotaryBertEngine::RotaryBertEngine(const RotaryBertHyperparameters& config, ElementType weight_type, int num_threads,
                                   const Ops& ops)
    : EngineBase(weight_type, num_threads, ops), config_(config) {}

std::unique_ptr<RotaryBertEngine> RotaryBertEngine::Load(const RotaryBertHyperparameters& c, const TensorMap& tensors,
                                                         ElementType weight_type, int num_threads, const Ops& ops) {
  const CheckpointReader w(tensors, kWeightsLabel);
  if (c.hidden_size <= 0 || c.num_layers <= 0 || c.num_heads <= 0 || c.intermediate_size <= 0 || c.vocab_size <= 0 ||
      c.max_position_embeddings <= 0 || c.type_vocab_size < 0) {
    w.Fail("every size in the config must be > 0 (type_vocab_size >= 0)");
  }
  if (c.hidden_size % c.num_heads != 0) w.Fail("hidden_size is not a multiple of num_attention_heads");
  const int64_t head_dim = c.hidden_size / c.num_heads;
  if (head_dim % 2 != 0 || head_dim > kc::kMaxDecoderHeadDim) {
    w.Fail("rotary needs an even head size of at most " + std::to_string(kc::kMaxDecoderHeadDim) + ", got " +
           std::to_string(head_dim));
  }
  if (!(c.layer_norm_eps >= 0.0f)) w.Fail("layer_norm_eps must be >= 0");
  if (!(c.rope_theta > 0.0) || !std::isfinite(c.rope_theta)) w.Fail("rope theta must be > 0");
  if (!(c.rope_ntk_factor >= 1.0) || !std::isfinite(c.rope_ntk_factor)) w.Fail("the NTK rope factor must be >= 1");
  CheckWeightType(weight_type, kWeightsLabel);
  const int64_t H = c.hidden_size;
  const int64_t I = c.intermediate_size;
  const Naming& n = c.naming == RotaryBertNaming::kNomicBert ? kNomicBertNaming : kGteNaming;

  // Validate everything first: a malformed checkpoint fails here, before any packing or kernel.
  const TensorRef& word = w.Expect(kEmbeddingTable, {c.vocab_size, H});
  const TensorRef* token_type =
      c.type_vocab_size > 0 ? &w.Expect("embeddings.token_type_embeddings.weight", {c.type_vocab_size, H}) : nullptr;
  const std::string emb_ln = n.embedding_ln;
  const TensorRef& emb_gamma = w.Expect(emb_ln + ".weight", {H});
  const TensorRef& emb_beta = w.Expect(emb_ln + ".bias", {H});
  struct LayerRefs {
    const TensorRef *qkv, *qkv_bias, *out, *out_bias, *attention_gamma, *attention_beta;
    std::vector<const TensorRef*> up_gate, up_gate_bias;  // [up, gate] or [up_gate]
    const TensorRef *down, *down_bias, *mlp_gamma, *mlp_beta;
  };
  // A bias the config declares absent must be absent too: a checkpoint that has it would run without it otherwise.
  auto bias = [&](bool present, const std::string& name, int64_t size) -> const TensorRef* {
    if (present) return &w.Expect(name, {size});
    if (tensors.count(name) != 0) w.Fail(name + " is present but the config says the layer has no bias");
    return nullptr;
  };
  std::vector<LayerRefs> refs;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = n.layer_prefix + std::to_string(l) + ".";
    LayerRefs r;
    r.qkv = &w.Expect(p + n.qkv + ".weight", {3 * H, H});
    r.qkv_bias = bias(c.attention_bias, p + n.qkv + ".bias", 3 * H);
    r.out = &w.Expect(p + n.attention_out + ".weight", {H, H});
    r.out_bias = bias(c.attention_bias, p + n.attention_out + ".bias", H);
    r.attention_gamma = &w.Expect(p + n.attention_ln + ".weight", {H});
    r.attention_beta = &w.Expect(p + n.attention_ln + ".bias", {H});
    if (n.up_gate == nullptr) {
      r.up_gate = {&w.Expect(p + n.up + ".weight", {I, H}), &w.Expect(p + n.gate + ".weight", {I, H})};
      if (c.mlp_up_bias) {
        r.up_gate_bias = {bias(true, p + n.up + ".bias", I), bias(true, p + n.gate + ".bias", I)};
      } else {
        bias(false, p + n.up + ".bias", I);
        bias(false, p + n.gate + ".bias", I);
      }
    } else {
      r.up_gate = {&w.Expect(p + n.up_gate + ".weight", {2 * I, H})};
      if (const TensorRef* b = bias(c.mlp_up_bias, p + n.up_gate + ".bias", 2 * I)) r.up_gate_bias = {b};
    }
    r.down = &w.Expect(p + n.down + ".weight", {H, I});
    r.down_bias = bias(c.mlp_down_bias, p + n.down + ".bias", H);
    r.mlp_gamma = &w.Expect(p + n.mlp_ln + ".weight", {H});
    r.mlp_beta = &w.Expect(p + n.mlp_ln + ".bias", {H});
    refs.push_back(std::move(r));
  }

  std::unique_ptr<RotaryBertEngine> engine(new RotaryBertEngine(c, weight_type, num_threads, ops));
  RotaryBertEngine& e = *engine;
  // new-impl NTKScalingRotaryEmbedding: inv_freq = 1 / (theta * factor)^(2i / d) / factor^(2 / d) (the formula and
  // its citation: rotaryInverseFrequencies in rotary_bert/reference.ts); factor 1 is the plain rotary.
  e.rope_base_ = c.rope_theta * c.rope_ntk_factor;
  e.rope_inverse_frequency_scale_ = std::pow(c.rope_ntk_factor, -2.0 / static_cast<double>(head_dim));
  if (token_type != nullptr) e.token_type_table_ = TensorToFloat(*token_type);
  e.embedding_ln_gamma_ = TensorToFloat(emb_gamma);
  e.embedding_ln_beta_ = TensorToFloat(emb_beta);
  e.tables_.word = word.data;
  e.tables_.word_type = word.type;
  e.tables_.vocab_size = c.vocab_size;
  e.tables_.position = nullptr;  // rotary: no position table
  e.tables_.token_type = token_type != nullptr ? e.token_type_table_.data() : nullptr;
  e.tables_.num_token_types = c.type_vocab_size;
  e.tables_.hidden_size = H;
  e.tables_.gamma = e.embedding_ln_gamma_.data();
  e.tables_.beta = e.embedding_ln_beta_.data();
  e.tables_.eps = c.layer_norm_eps;
  size_t bytes = (e.token_type_table_.size() + 2 * H) * sizeof(float);

  auto to_float = [](const TensorRef* t) { return t == nullptr ? std::vector<float>() : TensorToFloat(*t); };
  for (const LayerRefs& r : refs) {
    Layer layer;
    layer.qkv = kc::PackWeights(r.qkv->data, r.qkv->type, 3 * H, H, weight_type);
    layer.qkv_bias = to_float(r.qkv_bias);
    layer.out = kc::PackWeights(r.out->data, r.out->type, H, H, weight_type);
    layer.out_bias = to_float(r.out_bias);
    layer.attention_ln_gamma = TensorToFloat(*r.attention_gamma);
    layer.attention_ln_beta = TensorToFloat(*r.attention_beta);
    layer.up_gate = r.up_gate.size() == 1
                        ? kc::PackWeights(r.up_gate[0]->data, r.up_gate[0]->type, 2 * I, H, weight_type)
                        : w.PackStacked(r.up_gate, H, weight_type);
    for (const TensorRef* b : r.up_gate_bias) {
      const std::vector<float> part = TensorToFloat(*b);
      layer.up_gate_bias.insert(layer.up_gate_bias.end(), part.begin(), part.end());
    }
    layer.down = kc::PackWeights(r.down->data, r.down->type, H, I, weight_type);
    layer.down_bias = to_float(r.down_bias);
    layer.mlp_ln_gamma = TensorToFloat(*r.mlp_gamma);
    layer.mlp_ln_beta = TensorToFloat(*r.mlp_beta);
    bytes += layer.qkv.SizeBytes() + layer.out.SizeBytes() + layer.up_gate.SizeBytes() + layer.down.SizeBytes();
    bytes += (layer.qkv_bias.size() + layer.out_bias.size() + layer.up_gate_bias.size() + layer.down_bias.size() +
              4 * static_cast<size_t>(H)) *
             sizeof(float);
    e.layers_.push_back(std::move(layer));
  }
  e.native_bytes_ = bytes;
  return engine;
}

void RotaryBertEngine::RunDenseLayers(const Layer& layer, const float* context, const float* input,
                                      float* attention_out, float* up_gate, float* gated, float* output, int64_t rows) {
  const int64_t H = config_.hidden_size;
  const int64_t I = config_.intermediate_size;
  ExecutionContext& pool = execution_;
  // out_proj (+ bias), + input, norm1 / attn_ln.
  const kc::GemmEpilogue attention_end = BiasResidualLayerNorm(layer.out_bias, input, H, layer.attention_ln_gamma,
                                                               layer.attention_ln_beta, config_.layer_norm_eps);
  ops_.gemm(pool, context, rows, H, layer.out, attention_out, H, attention_end);
  // Gated MLP: up | gate in one GEMM, then act(gate) * up (the gate is the second half).
  kc::GemmEpilogue up;
  up.bias = OrNull(layer.up_gate_bias);
  ops_.gemm(pool, attention_out, rows, H, layer.up_gate, up_gate, 2 * I, up);
  ops_.gated_activation(pool, up_gate, 2 * I, gated, I, rows, I, config_.gate_activation, kc::GatedHalf::kSecond);
  // fc2 / down_proj (+ bias), + attention output, norm2 / mlp_ln (may overwrite `input`, no longer needed).
  const kc::GemmEpilogue down = BiasResidualLayerNorm(layer.down_bias, attention_out, H, layer.mlp_ln_gamma,
                                                      layer.mlp_ln_beta, config_.layer_norm_eps);
  ops_.gemm(pool, gated, rows, I, layer.down, output, H, down);
}

std::vector<float> RotaryBertEngine::Forward(const Batch& b) {
  const int64_t H = config_.hidden_size;
  const int64_t I = config_.intermediate_size;
  const int64_t num_heads = config_.num_heads;
  const int64_t head_dim = H / num_heads;
  CheckRaggedBatch(b, H);
  if (b.paged) throw std::invalid_argument("batch: a rotary BERT is an encoder and keeps no KV cache: no blockTables");
  const int64_t num_seqs = b.num_seqs();
  const int64_t T = b.num_tokens();
  const int64_t out_size = PooledSize(b, H);
  std::vector<float> pooled(static_cast<size_t>(out_size));
  if (num_seqs == 0) return pooled;

  std::lock_guard<std::mutex> lock(forward_mutex_);
  ExecutionContext& pool = execution_;
  float* x = hidden_.Reserve(static_cast<size_t>(T * H));
  float* attention_out = hidden_alt_.Reserve(static_cast<size_t>(T * H));
  float* qkv = qkv_.Reserve(static_cast<size_t>(T * 3 * H));
  float* context_rows = context_.Reserve(static_cast<size_t>(T * H));
  float* up_gate_rows = up_gate_.Reserve(static_cast<size_t>(T * 2 * I));
  float* gated_rows = gated_.Reserve(static_cast<size_t>(T * I));

  // Index checks happen inside, before any row is gathered; positions are not read (no position table). Without a
  // token type table the batch's token types are not read either (NewEmbeddings with type_vocab_size 0 ignores them).
  const bool reads_token_types = tables_.token_type != nullptr && !b.token_type_ids.empty();
  ops_.embeddings(pool, tables_, b.token_ids.data(), nullptr, reads_token_types ? b.token_type_ids.data() : nullptr, T,
                  x);

  const kc::AttentionArgs attention = FusedQkvAttention(ops_, b, H, num_heads, qkv, context_rows, attention_workspace_);

  const bool prune_last_layer = PrunesLastLayer(b);
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = layers_[l];
    // Wqkv / qkv_proj: Q, K, V in one GEMM; then rotary on Q and K at each token's position in its sequence, in one
    // call: the Q heads and the K heads sit side by side at the start of each row, 2 x num_heads heads. (The
    // positions also bound the input length: max_position_embeddings, checked by the op before any write.)
    kc::GemmEpilogue qkv_epilogue;
    qkv_epilogue.bias = OrNull(layer.qkv_bias);
    ops_.gemm(pool, x, T, H, layer.qkv, qkv, 3 * H, qkv_epilogue);
    ops_.rope(pool, qkv, 3 * H, T, 2 * num_heads, head_dim, b.positions.data(), rope_base_,
              rope_inverse_frequency_scale_, config_.max_position_embeddings);
    if (prune_last_layer && l + 1 == layers_.size()) {
      // Attention for the pooled tokens only, their context and input rows gathered; the layer ends on num_seqs rows.
      float* context = pooled_rows_.Reserve(static_cast<size_t>(num_seqs * (4 * H + 3 * I)));
      float* input = context + num_seqs * H;
      float* attention_rows = input + num_seqs * H;
      float* output_rows = attention_rows + num_seqs * H;
      float* up_gate = output_rows + num_seqs * H;
      float* gated = up_gate + num_seqs * 2 * I;
      AttendPooledTokensOnly(ops_, pool, attention, b, x, H, context, input);
      RunDenseLayers(layer, context, input, attention_rows, up_gate, gated, output_rows, num_seqs);
      PoolOneRowEach(ops_, pool, b, output_rows, H, pooled);
      return pooled;
    }
    ops_.attention(pool, attention);
    RunDenseLayers(layer, context_rows, x, attention_out, up_gate_rows, gated_rows, x, T);
  }

  PoolSequences(ops_, pool, b, x, H, pooled);
  return pooled;
}

}  // namespace pooled::engine
