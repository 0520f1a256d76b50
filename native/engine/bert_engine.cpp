#include "engine/bert_engine.h"

#include <cstring>
#include <stdexcept>
#include <utility>

#include "engine/checkpoint_tensors.h"
#include "kernels/cpu/element_convert.h"

namespace pooled::engine {

namespace kc = kernels::cpu;

namespace {

constexpr const char* kWeightsLabel = "BERT weights";

[[noreturn]] void LoadFail(const std::string& message) { WeightsFail(kWeightsLabel, message); }

const TensorRef& Expect(const TensorMap& tensors, const std::string& name, const std::vector<int64_t>& shape) {
  return ExpectTensor(tensors, name, shape, kWeightsLabel);
}

std::vector<float> ToFloat(const TensorRef& t) { return TensorToFloat(t); }

kc::PackedWeights PackStacked(const std::vector<const TensorRef*>& parts, int64_t k, ElementType target) {
  return engine::PackStacked(parts, k, target, kWeightsLabel);
}

std::vector<float> Concat(const std::vector<std::vector<float>>& parts) {
  std::vector<float> out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

}  // namespace

BertEngine::BertEngine(const BertHyperparameters& config, ElementType weight_type, int num_threads)
    : config_(config), weight_type_(weight_type), pool_(std::make_unique<kc::ThreadPool>(num_threads)) {}

std::unique_ptr<BertEngine> BertEngine::Load(const BertHyperparameters& c, const TensorMap& tensors, ElementType weight_type,
                                             int num_threads) {
  if (c.hidden_size <= 0 || c.num_layers <= 0 || c.num_heads <= 0 || c.intermediate_size <= 0 || c.vocab_size <= 0 ||
      c.max_position_embeddings <= 0 || c.type_vocab_size <= 0) {
    LoadFail("every size in the config must be > 0");
  }
  if (c.hidden_size % c.num_heads != 0) LoadFail("hidden_size is not a multiple of num_attention_heads");
  if (!(c.layer_norm_eps >= 0.0f)) LoadFail("layer_norm_eps must be >= 0");
  if (weight_type != ElementType::kF32 && weight_type != ElementType::kBF16) LoadFail("weights can be packed as float32 or bfloat16 only");
  const int64_t H = c.hidden_size;
  const int64_t I = c.intermediate_size;

  // Validate everything first: a malformed checkpoint fails here, before any packing or kernel.
  const TensorRef& word = Expect(tensors, "embeddings.word_embeddings.weight", {c.vocab_size, H});
  const TensorRef& position = Expect(tensors, "embeddings.position_embeddings.weight", {c.max_position_embeddings, H});
  const TensorRef& token_type = Expect(tensors, "embeddings.token_type_embeddings.weight", {c.type_vocab_size, H});
  const TensorRef& emb_gamma = Expect(tensors, "embeddings.LayerNorm.weight", {H});
  const TensorRef& emb_beta = Expect(tensors, "embeddings.LayerNorm.bias", {H});
  struct LayerRefs {
    const TensorRef *q, *qb, *k, *kb, *v, *vb, *o, *ob, *og, *obeta, *i, *ib, *d, *db, *dg, *dbeta;
  };
  std::vector<LayerRefs> refs;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    refs.push_back({&Expect(tensors, p + "attention.self.query.weight", {H, H}), &Expect(tensors, p + "attention.self.query.bias", {H}),
                    &Expect(tensors, p + "attention.self.key.weight", {H, H}), &Expect(tensors, p + "attention.self.key.bias", {H}),
                    &Expect(tensors, p + "attention.self.value.weight", {H, H}), &Expect(tensors, p + "attention.self.value.bias", {H}),
                    &Expect(tensors, p + "attention.output.dense.weight", {H, H}), &Expect(tensors, p + "attention.output.dense.bias", {H}),
                    &Expect(tensors, p + "attention.output.LayerNorm.weight", {H}), &Expect(tensors, p + "attention.output.LayerNorm.bias", {H}),
                    &Expect(tensors, p + "intermediate.dense.weight", {I, H}), &Expect(tensors, p + "intermediate.dense.bias", {I}),
                    &Expect(tensors, p + "output.dense.weight", {H, I}), &Expect(tensors, p + "output.dense.bias", {H}),
                    &Expect(tensors, p + "output.LayerNorm.weight", {H}), &Expect(tensors, p + "output.LayerNorm.bias", {H})});
  }

  std::unique_ptr<BertEngine> engine(new BertEngine(c, weight_type, num_threads));
  BertEngine& e = *engine;
  e.position_table_ = ToFloat(position);
  e.token_type_table_ = ToFloat(token_type);
  e.embedding_ln_gamma_ = ToFloat(emb_gamma);
  e.embedding_ln_beta_ = ToFloat(emb_beta);
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
    layer.qkv = PackStacked({r.q, r.k, r.v}, H, weight_type);
    layer.qkv_bias = Concat({ToFloat(*r.qb), ToFloat(*r.kb), ToFloat(*r.vb)});
    layer.attention_out = kc::PackWeights(r.o->data, r.o->type, H, H, weight_type);
    layer.attention_out_bias = ToFloat(*r.ob);
    layer.attention_ln_gamma = ToFloat(*r.og);
    layer.attention_ln_beta = ToFloat(*r.obeta);
    layer.intermediate = kc::PackWeights(r.i->data, r.i->type, I, H, weight_type);
    layer.intermediate_bias = ToFloat(*r.ib);
    layer.output = kc::PackWeights(r.d->data, r.d->type, H, I, weight_type);
    layer.output_bias = ToFloat(*r.db);
    layer.output_ln_gamma = ToFloat(*r.dg);
    layer.output_ln_beta = ToFloat(*r.dbeta);
    bytes += layer.qkv.SizeBytes() + layer.attention_out.SizeBytes() + layer.intermediate.SizeBytes() + layer.output.SizeBytes();
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
  kc::ThreadPool& pool = *pool_;
  // BertSelfOutput: dense + bias, + input, LayerNorm.
  kc::GemmEpilogue self_output;
  self_output.bias = layer.attention_out_bias.data();
  self_output.residual = input;
  self_output.ldr = H;
  self_output.ln_gamma = layer.attention_ln_gamma.data();
  self_output.ln_beta = layer.attention_ln_beta.data();
  self_output.ln_eps = config_.layer_norm_eps;
  kc::Gemm(pool, context, rows, H, layer.attention_out, attention_out, H, self_output);
  // BertIntermediate: dense + bias, activation.
  kc::GemmEpilogue up;
  up.bias = layer.intermediate_bias.data();
  up.activation = config_.activation;
  kc::Gemm(pool, attention_out, rows, H, layer.intermediate, intermediate, I, up);
  // BertOutput: dense + bias, + attention output, LayerNorm (may overwrite `input`, no longer needed).
  kc::GemmEpilogue down;
  down.bias = layer.output_bias.data();
  down.residual = attention_out;
  down.ldr = H;
  down.ln_gamma = layer.output_ln_gamma.data();
  down.ln_beta = layer.output_ln_beta.data();
  down.ln_eps = config_.layer_norm_eps;
  kc::Gemm(pool, intermediate, rows, I, layer.output, output, H, down);
}

void BertEngine::CheckBatch(const RaggedBatch& b) const {
  const size_t num_tokens = b.token_ids.size();
  if (b.cu_seq_lens.empty() || b.cu_seq_lens[0] != 0) throw std::invalid_argument("batch: cuSeqLens must start with 0");
  const size_t num_seqs = b.cu_seq_lens.size() - 1;
  if (b.positions.size() != num_tokens) throw std::invalid_argument("batch: positions and tokenIds differ in length");
  if (!b.token_type_ids.empty() && b.token_type_ids.size() != num_tokens) {
    throw std::invalid_argument("batch: tokenTypeIds and tokenIds differ in length");
  }
  if (b.dimensions.size() != num_seqs || b.normalize.size() != num_seqs) {
    throw std::invalid_argument("batch: dimensions and normalize need one entry per sequence");
  }
  for (size_t s = 0; s < num_seqs; ++s) {
    if (b.cu_seq_lens[s + 1] <= b.cu_seq_lens[s]) throw std::invalid_argument("batch: sequence " + std::to_string(s) + " is empty or cuSeqLens decreases");
  }
  if (static_cast<size_t>(b.cu_seq_lens[num_seqs]) != num_tokens) {
    throw std::invalid_argument("batch: cuSeqLens ends at " + std::to_string(b.cu_seq_lens[num_seqs]) + " but there are " +
                                std::to_string(num_tokens) + " tokens");
  }
  if (b.pooling != PoolingMode::kCls && b.pooling != PoolingMode::kMean && b.pooling != PoolingMode::kLast) {
    throw std::invalid_argument("batch: unknown pooling mode");
  }
}

std::vector<float> BertEngine::Forward(const RaggedBatch& b) {
  CheckBatch(b);
  const int64_t num_seqs = static_cast<int64_t>(b.cu_seq_lens.size()) - 1;
  const int64_t T = static_cast<int64_t>(b.token_ids.size());
  const int64_t H = config_.hidden_size;
  const int64_t I = config_.intermediate_size;
  int64_t out_size = 0;
  for (int64_t s = 0; s < num_seqs; ++s) {
    const int32_t d = b.dimensions[static_cast<size_t>(s)];
    if (d < 0 || d > H) throw std::invalid_argument("batch: dimensions[" + std::to_string(s) + "] = " + std::to_string(d) + " is outside [0, " + std::to_string(H) + "]");
    out_size += d == 0 ? H : d;
  }
  std::vector<float> pooled(static_cast<size_t>(out_size));
  if (num_seqs == 0) return pooled;

  std::lock_guard<std::mutex> lock(forward_mutex_);
  kc::ThreadPool& pool = *pool_;
  float* x = hidden_.Reserve(static_cast<size_t>(T * H));
  float* attention_out = hidden_alt_.Reserve(static_cast<size_t>(T * H));
  float* qkv = qkv_.Reserve(static_cast<size_t>(T * 3 * H));
  float* context_rows = context_.Reserve(static_cast<size_t>(T * H));
  float* intermediate_rows = intermediate_.Reserve(static_cast<size_t>(T * I));

  // Index checks happen inside, before any row is gathered.
  kc::Embeddings(pool, tables_, b.token_ids.data(), b.positions.data(), b.token_type_ids.empty() ? nullptr : b.token_type_ids.data(),
                 T, x);

  kc::AttentionArgs attention;
  attention.q = qkv;
  attention.k = qkv + H;
  attention.v = qkv + 2 * H;
  attention.ldq = attention.ldk = attention.ldv = 3 * H;
  attention.out = context_rows;
  attention.ldo = H;
  attention.num_heads = config_.num_heads;
  attention.head_dim = H / config_.num_heads;
  attention.cu_seq_lens = b.cu_seq_lens.data();
  attention.num_seqs = num_seqs;
  attention.num_tokens = T;
  attention.workspace = attention_workspace_.Reserve(static_cast<size_t>(kc::AttentionWorkspaceFloats(attention)));
  attention.workspace_floats = static_cast<int64_t>(attention_workspace_.capacity_floats());

  // CLS and LAST pooling read one token per sequence: the last layer needs K and V of every token but everything
  // after them (attention output, dense layers) only for that token. Rows are computed independently, so the
  // pooled rows are bitwise what the full layer would give.
  const bool prune_last_layer = b.pooling != PoolingMode::kMean;
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = layers_[l];
    // BertSelfAttention: Q, K, V projections in one GEMM.
    kc::GemmEpilogue qkv_epilogue;
    qkv_epilogue.bias = layer.qkv_bias.data();
    kc::Gemm(pool, x, T, H, layer.qkv, qkv, 3 * H, qkv_epilogue);
    if (prune_last_layer && l + 1 == layers_.size()) {
      std::vector<int32_t> pooled_query(static_cast<size_t>(num_seqs));
      for (int64_t s = 0; s < num_seqs; ++s) {
        pooled_query[static_cast<size_t>(s)] = b.pooling == PoolingMode::kCls ? 0 : b.cu_seq_lens[s + 1] - b.cu_seq_lens[s] - 1;
      }
      attention.only_query = pooled_query.data();
      kc::Attention(pool, attention);
      // Gather the pooled tokens' context and input rows, then finish the layer on num_seqs rows.
      float* context = pooled_rows_.Reserve(static_cast<size_t>(num_seqs * (4 * H + I)));
      float* input = context + num_seqs * H;
      float* attention_rows = input + num_seqs * H;
      float* output_rows = attention_rows + num_seqs * H;
      float* intermediate = output_rows + num_seqs * H;
      for (int64_t s = 0; s < num_seqs; ++s) {
        const int64_t row = b.cu_seq_lens[s] + pooled_query[static_cast<size_t>(s)];
        std::memcpy(context + s * H, context_rows + row * H, static_cast<size_t>(H) * sizeof(float));
        std::memcpy(input + s * H, x + row * H, static_cast<size_t>(H) * sizeof(float));
      }
      RunDenseLayers(layer, context, input, attention_rows, intermediate, output_rows, num_seqs);
      std::vector<int32_t> one_row_each(static_cast<size_t>(num_seqs) + 1);
      for (int64_t s = 0; s <= num_seqs; ++s) one_row_each[static_cast<size_t>(s)] = static_cast<int32_t>(s);
      kc::Pool(pool, output_rows, H, H, one_row_each.data(), num_seqs, PoolingMode::kCls, b.dimensions.data(), b.normalize.data(),
               pooled.data(), out_size);
      return pooled;
    }
    kc::Attention(pool, attention);
    RunDenseLayers(layer, context_rows, x, attention_out, intermediate_rows, x, T);
  }

  kc::Pool(pool, x, H, H, b.cu_seq_lens.data(), num_seqs, b.pooling, b.dimensions.data(), b.normalize.data(), pooled.data(), out_size);
  return pooled;
}

size_t BertEngine::ReleaseWorkingMemory() {
  std::lock_guard<std::mutex> lock(forward_mutex_);
  return working_memory_.ReleaseAll();
}

}  // namespace pooled::engine
