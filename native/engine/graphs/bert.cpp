#include "engine/graphs/bert.h"

#include <cstring>
#include <string>
#include <stdexcept>
#include <utility>

#include "engine/checkpoint_tensors.h"
#include "kernels/cpu/element_convert.h"

namespace pooled::engine {

namespace kc = kernels::cpu;

namespace {

constexpr const char* kWeightsLabel = "BERT weights";

// The post-LayerNorm sub-layer ending (BertSelfOutput, BertOutput): + bias, + residual, LayerNorm, in the GEMM's
// epilogue.
kc::GemmEpilogue BiasResidualLayerNorm(const std::vector<float>& bias, const float* residual, int64_t ldr,
                                       const std::vector<float>& gamma, const std::vector<float>& beta, float eps) {
  kc::GemmEpilogue epilogue;
  epilogue.bias = bias.data();
  epilogue.residual = residual;
  epilogue.ldr = ldr;
  epilogue.ln_gamma = gamma.data();
  epilogue.ln_beta = beta.data();
  epilogue.ln_eps = eps;
  return epilogue;
}

Activation ParseHiddenAct(const std::string& s) {
  if (s == "gelu") return Activation::kGeluErf;
  if (s == "gelu_new" || s == "gelu_pytorch_tanh") return Activation::kGeluTanh;
  if (s == "relu") return Activation::kRelu;
  throw ConfigError(ConfigError::Kind::kType, "config.hiddenAct '" + s + "' is not supported by the cpu backend");
}

}  // namespace

BertHyperparameters ParseBertConfig(const ConfigValues& c) {
  constexpr int64_t kMaxDim = int64_t{1} << 31;
  BertHyperparameters config;
  config.vocab_size = c.Integer("vocabSize", 1, kMaxDim);
  config.hidden_size = c.Integer("hiddenSize", 1, 1 << 16);
  config.num_layers = c.Integer("numLayers", 1, 1024);
  config.num_heads = c.Integer("numHeads", 1, 1 << 16);
  config.intermediate_size = c.Integer("intermediateSize", 1, 1 << 20);
  config.max_position_embeddings = c.Integer("maxPositionEmbeddings", 1, kMaxDim);
  config.type_vocab_size = c.Integer("typeVocabSize", 1, kMaxDim);
  config.task_type_vocab_size = c.Integer("taskTypeVocabSize", 0, kMaxDim);
  config.layer_norm_eps = static_cast<float>(c.Number("layerNormEps"));
  config.activation = ParseHiddenAct(c.String("hiddenAct"));
  return config;
}

BertEngine::BertEngine(const BertHyperparameters& config, ElementType weight_type, int num_threads, const Ops& ops)
    : EngineBase(weight_type, num_threads, ops), config_(config) {}

std::unique_ptr<BertEngine> BertEngine::Load(const BertHyperparameters& c, const TensorMap& tensors,
                                             ElementType weight_type, int num_threads, const Ops& ops) {
  const CheckpointReader w(tensors, kWeightsLabel);
  if (c.hidden_size <= 0 || c.num_layers <= 0 || c.num_heads <= 0 || c.intermediate_size <= 0 || c.vocab_size <= 0 ||
      c.max_position_embeddings <= 0 || c.type_vocab_size <= 0 || c.task_type_vocab_size < 0) {
    w.Fail("every size in the config must be > 0");
  }
  if (c.hidden_size % c.num_heads != 0) w.Fail("hidden_size is not a multiple of num_attention_heads");
  if (!(c.layer_norm_eps >= 0.0f)) w.Fail("layer_norm_eps must be >= 0");
  CheckWeightType(weight_type, kWeightsLabel);
  const int64_t H = c.hidden_size;
  const int64_t I = c.intermediate_size;

  // Validate everything first: a malformed checkpoint fails here, before any packing or kernel.
  const TensorRef& word = w.Expect(kEmbeddingTable, {c.vocab_size, H});
  const TensorRef& position = w.Expect("embeddings.position_embeddings.weight", {c.max_position_embeddings, H});
  const TensorRef& token_type = w.Expect("embeddings.token_type_embeddings.weight", {c.type_vocab_size, H});
  const TensorRef& emb_gamma = w.Expect("embeddings.LayerNorm.weight", {H});
  const TensorRef& emb_beta = w.Expect("embeddings.LayerNorm.bias", {H});
  const TensorRef* task_type = c.task_type_vocab_size > 0
                                   ? &w.Expect("embeddings.task_type_embeddings.weight", {c.task_type_vocab_size, H})
                                   : nullptr;
  struct LayerRefs {
    const TensorRef *q, *qb, *k, *kb, *v, *vb, *o, *ob, *og, *obeta, *i, *ib, *d, *db, *dg, *dbeta;
  };
  std::vector<LayerRefs> refs;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    refs.push_back(
        {&w.Expect(p + "attention.self.query.weight", {H, H}), &w.Expect(p + "attention.self.query.bias", {H}),
         &w.Expect(p + "attention.self.key.weight", {H, H}), &w.Expect(p + "attention.self.key.bias", {H}),
         &w.Expect(p + "attention.self.value.weight", {H, H}), &w.Expect(p + "attention.self.value.bias", {H}),
         &w.Expect(p + "attention.output.dense.weight", {H, H}), &w.Expect(p + "attention.output.dense.bias", {H}),
         &w.Expect(p + "attention.output.LayerNorm.weight", {H}), &w.Expect(p + "attention.output.LayerNorm.bias", {H}),
         &w.Expect(p + "intermediate.dense.weight", {I, H}), &w.Expect(p + "intermediate.dense.bias", {I}),
         &w.Expect(p + "output.dense.weight", {H, I}), &w.Expect(p + "output.dense.bias", {H}),
         &w.Expect(p + "output.LayerNorm.weight", {H}), &w.Expect(p + "output.LayerNorm.bias", {H})});
  }

  std::unique_ptr<BertEngine> engine(new BertEngine(c, weight_type, num_threads, ops));
  BertEngine& e = *engine;
  e.position_table_ = TensorToFloat(position);
  e.token_type_table_ = TensorToFloat(token_type);
  if (task_type != nullptr) {
    // ERNIE (modeling_ernie.py ErnieEmbeddings.forward): every token adds task_type_embeddings[task_type_ids], and
    // task_type_ids are all 0 (nothing passes others), so row 0 joins each token-type row once here instead of once
    // per token. Same sum, one fp32 rounding moved: upstream rounds (word + type + position) + task, this rounds
    // word + (type + task) + position; either way ~1 ulp of the embedding sum before LayerNorm.
    const std::vector<float> task_rows = TensorToFloat(*task_type);
    for (int64_t t = 0; t < c.type_vocab_size; ++t) {
      for (int64_t h = 0; h < H; ++h)
        e.token_type_table_[static_cast<size_t>(t * H + h)] += task_rows[static_cast<size_t>(h)];
    }
  }
  e.embedding_ln_gamma_ = TensorToFloat(emb_gamma);
  e.embedding_ln_beta_ = TensorToFloat(emb_beta);
  e.tables_.word = word.data;
  e.tables_.word_type = word.type;
  e.tables_.vocab_size = c.vocab_size;
  e.tables_.position = e.position_table_.data();
  e.tables_.num_positions = c.max_position_embeddings;
  e.tables_.token_type = e.token_type_table_.data();
  e.tables_.num_token_types = c.type_vocab_size;
  e.tables_.hidden_size = H;
  e.tables_.gamma = e.embedding_ln_gamma_.data();
  e.tables_.beta = e.embedding_ln_beta_.data();
  e.tables_.eps = c.layer_norm_eps;
  size_t bytes = (e.position_table_.size() + e.token_type_table_.size() + 2 * H) * sizeof(float);

  for (const LayerRefs& r : refs) {
    Layer layer;
    layer.qkv = w.PackStacked({r.q, r.k, r.v}, H, weight_type);
    layer.qkv_bias = Concat({TensorToFloat(*r.qb), TensorToFloat(*r.kb), TensorToFloat(*r.vb)});
    layer.attention_out = kc::PackWeights(r.o->data, r.o->type, H, H, weight_type);
    layer.attention_out_bias = TensorToFloat(*r.ob);
    layer.attention_ln_gamma = TensorToFloat(*r.og);
    layer.attention_ln_beta = TensorToFloat(*r.obeta);
    layer.intermediate = kc::PackWeights(r.i->data, r.i->type, I, H, weight_type);
    layer.intermediate_bias = TensorToFloat(*r.ib);
    layer.output = kc::PackWeights(r.d->data, r.d->type, H, I, weight_type);
    layer.output_bias = TensorToFloat(*r.db);
    layer.output_ln_gamma = TensorToFloat(*r.dg);
    layer.output_ln_beta = TensorToFloat(*r.dbeta);
    bytes += layer.qkv.SizeBytes() + layer.attention_out.SizeBytes() + layer.intermediate.SizeBytes() +
             layer.output.SizeBytes();
    bytes += (3 * H + H + 2 * H + I + H + 2 * H) * sizeof(float);
    e.layers_.push_back(std::move(layer));
  }
  e.native_bytes_ = bytes;
  return engine;
}

void BertEngine::RunDenseLayers(const Layer& layer, const float* context, const float* input, float* attention_out,
                                float* intermediate, float* output, int64_t rows) {
  const int64_t H = config_.hidden_size;
  const int64_t I = config_.intermediate_size;
  ExecutionContext& pool = execution_;
  // BertSelfOutput: dense + bias, + input, LayerNorm.
  const kc::GemmEpilogue self_output = BiasResidualLayerNorm(
      layer.attention_out_bias, input, H, layer.attention_ln_gamma, layer.attention_ln_beta, config_.layer_norm_eps);
  ops_.gemm(pool, context, rows, H, layer.attention_out, attention_out, H, self_output);
  // BertIntermediate: dense + bias, activation.
  kc::GemmEpilogue up;
  up.bias = layer.intermediate_bias.data();
  up.activation = config_.activation;
  ops_.gemm(pool, attention_out, rows, H, layer.intermediate, intermediate, I, up);
  // BertOutput: dense + bias, + attention output, LayerNorm (may overwrite `input`, no longer needed).
  const kc::GemmEpilogue down = BiasResidualLayerNorm(layer.output_bias, attention_out, H, layer.output_ln_gamma,
                                                      layer.output_ln_beta, config_.layer_norm_eps);
  ops_.gemm(pool, intermediate, rows, I, layer.output, output, H, down);
}

std::vector<float> BertEngine::Forward(const Batch& b) {
  const int64_t H = config_.hidden_size;
  const int64_t I = config_.intermediate_size;
  CheckRaggedBatch(b, H);
  if (b.paged) throw std::invalid_argument("batch: BERT is an encoder and keeps no KV cache: no blockTables");
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
  float* intermediate_rows = intermediate_.Reserve(static_cast<size_t>(T * I));

  // Index checks happen inside, before any row is gathered.
  ops_.embeddings(pool, tables_, b.token_ids.data(), b.positions.data(),
                  b.token_type_ids.empty() ? nullptr : b.token_type_ids.data(), T, x);

  const kc::AttentionArgs attention =
      FusedQkvAttention(ops_, b, H, config_.num_heads, qkv, context_rows, attention_workspace_);

  const bool prune_last_layer = PrunesLastLayer(b);
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = layers_[l];
    // BertSelfAttention: Q, K, V projections in one GEMM.
    kc::GemmEpilogue qkv_epilogue;
    qkv_epilogue.bias = layer.qkv_bias.data();
    ops_.gemm(pool, x, T, H, layer.qkv, qkv, 3 * H, qkv_epilogue);
    if (prune_last_layer && l + 1 == layers_.size()) {
      // Attention for the pooled tokens only, their context and input rows gathered; the layer ends on num_seqs rows.
      float* context = pooled_rows_.Reserve(static_cast<size_t>(num_seqs * (4 * H + I)));
      float* input = context + num_seqs * H;
      float* attention_rows = input + num_seqs * H;
      float* output_rows = attention_rows + num_seqs * H;
      float* intermediate = output_rows + num_seqs * H;
      AttendPooledTokensOnly(ops_, pool, attention, b, x, H, context, input);
      RunDenseLayers(layer, context, input, attention_rows, intermediate, output_rows, num_seqs);
      PoolOneRowEach(ops_, pool, b, output_rows, H, pooled);
      return pooled;
    }
    ops_.attention(pool, attention);
    RunDenseLayers(layer, context_rows, x, attention_out, intermediate_rows, x, T);
  }

  PoolSequences(ops_, pool, b, x, H, pooled);
  return pooled;
}

}  // namespace pooled::engine
