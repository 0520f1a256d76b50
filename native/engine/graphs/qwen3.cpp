#include "engine/graphs/qwen3.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "engine/checkpoint_tensors.h"
#include "kernels/cpu/element_convert.h"

namespace pooled::engine {

namespace kc = kernels::cpu;

namespace {

constexpr const char* kWeightsLabel = "Qwen3 weights";

}  // namespace

Qwen3Hyperparameters ParseQwen3Config(const ConfigValues& c) {
  constexpr int64_t kMaxDim = int64_t{1} << 31;
  Qwen3Hyperparameters config;
  config.vocab_size = c.Integer("vocabSize", 1, kMaxDim);
  config.hidden_size = c.Integer("hiddenSize", 1, 1 << 16);
  config.num_layers = c.Integer("numLayers", 1, 1024);
  config.num_heads = c.Integer("numHeads", 1, 1 << 12);
  config.num_kv_heads = c.Integer("numKeyValueHeads", 1, 1 << 12);
  config.head_dim = c.Integer("headDim", 1, kc::kMaxDecoderHeadDim);
  config.intermediate_size = c.Integer("intermediateSize", 1, 1 << 20);
  config.max_position_embeddings = c.Integer("maxPositionEmbeddings", 1, kMaxDim);
  config.rms_norm_eps = static_cast<float>(c.Number("rmsNormEps"));
  config.rope_theta = c.Number("ropeTheta");
  return config;
}

Qwen3Engine::Qwen3Engine(const Qwen3Hyperparameters& config, ElementType weight_type, int num_threads, const Ops& ops)
    : EngineBase(weight_type, num_threads, ops), config_(config) {}

std::unique_ptr<Qwen3Engine> Qwen3Engine::Load(const Qwen3Hyperparameters& c, const TensorMap& tensors,
                                               ElementType weight_type, int num_threads, const Ops& ops) {
  const CheckpointReader w(tensors, kWeightsLabel);
  if (c.vocab_size <= 0 || c.hidden_size <= 0 || c.num_layers <= 0 || c.num_heads <= 0 || c.num_kv_heads <= 0 ||
      c.head_dim <= 0 || c.intermediate_size <= 0 || c.max_position_embeddings <= 0) {
    w.Fail("every size in the config must be > 0");
  }
  if (c.num_heads % c.num_kv_heads != 0) w.Fail("num_attention_heads is not a multiple of num_key_value_heads");
  if (c.head_dim % 2 != 0 || c.head_dim > kc::kMaxDecoderHeadDim) {
    w.Fail("head_dim must be even and at most " + std::to_string(kc::kMaxDecoderHeadDim));
  }
  if (!(c.rms_norm_eps >= 0.0f)) w.Fail("rms_norm_eps must be >= 0");
  if (!(c.rope_theta > 0.0)) w.Fail("rope_theta must be > 0");
  CheckWeightType(weight_type, kWeightsLabel);
  const int64_t H = c.hidden_size;
  const int64_t I = c.intermediate_size;
  const int64_t d = c.head_dim;
  const int64_t qw = c.num_heads * d;
  const int64_t kvw = c.num_kv_heads * d;

  // Validate everything first: a malformed checkpoint fails here, before any packing.
  const TensorRef& embed = w.Expect(kEmbeddingTable, {c.vocab_size, H});
  const TensorRef& norm = w.Expect("norm.weight", {H});
  struct LayerRefs {
    const TensorRef *in_norm, *q, *k, *v, *o, *qn, *kn, *post_norm, *gate, *up, *down;
  };
  std::vector<LayerRefs> refs;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    refs.push_back(
        {&w.Expect(p + "input_layernorm.weight", {H}), &w.Expect(p + "self_attn.q_proj.weight", {qw, H}),
         &w.Expect(p + "self_attn.k_proj.weight", {kvw, H}), &w.Expect(p + "self_attn.v_proj.weight", {kvw, H}),
         &w.Expect(p + "self_attn.o_proj.weight", {H, qw}), &w.Expect(p + "self_attn.q_norm.weight", {d}),
         &w.Expect(p + "self_attn.k_norm.weight", {d}), &w.Expect(p + "post_attention_layernorm.weight", {H}),
         &w.Expect(p + "mlp.gate_proj.weight", {I, H}), &w.Expect(p + "mlp.up_proj.weight", {I, H}),
         &w.Expect(p + "mlp.down_proj.weight", {H, I})});
  }

  std::unique_ptr<Qwen3Engine> engine(new Qwen3Engine(c, weight_type, num_threads, ops));
  Qwen3Engine& e = *engine;
  e.embed_table_ = embed.data;
  e.embed_type_ = embed.type;
  e.final_norm_ = TensorToFloat(norm);
  size_t bytes = static_cast<size_t>(H) * sizeof(float);
  for (const LayerRefs& r : refs) {
    Layer layer;
    layer.input_norm = TensorToFloat(*r.in_norm);
    layer.qkv = w.PackStacked({r.q, r.k, r.v}, H, weight_type);
    layer.q_norm = TensorToFloat(*r.qn);
    layer.k_norm = TensorToFloat(*r.kn);
    layer.o_proj = kc::PackWeights(r.o->data, r.o->type, H, qw, weight_type);
    layer.post_norm = TensorToFloat(*r.post_norm);
    layer.gate_up = w.PackStacked({r.gate, r.up}, H, weight_type);
    layer.down = kc::PackWeights(r.down->data, r.down->type, H, I, weight_type);
    bytes += layer.qkv.SizeBytes() + layer.o_proj.SizeBytes() + layer.gate_up.SizeBytes() + layer.down.SizeBytes();
    bytes += static_cast<size_t>(2 * H + 2 * d) * sizeof(float);
    e.layers_.push_back(std::move(layer));
  }
  e.native_bytes_ = bytes;
  return engine;
}

size_t Qwen3Engine::InitKvCache(int64_t num_blocks, int64_t block_size) {
  if (num_blocks < 2)
    throw std::invalid_argument("KV cache: needs at least 2 blocks (block 0 is reserved), got " +
                                std::to_string(num_blocks));
  if (block_size < 1)
    throw std::invalid_argument("KV cache: block size must be >= 1, got " + std::to_string(block_size));
  const int64_t row = config_.num_kv_heads * config_.head_dim;
  // Overflow guard: the slot index (block * block_size + slot) * row must stay far inside int64 and size_t.
  const double floats = 2.0 * static_cast<double>(config_.num_layers) * static_cast<double>(num_blocks) *
                        static_cast<double>(block_size) * static_cast<double>(row);
  if (floats * 4.0 > 1e15)
    throw std::invalid_argument("KV cache: " + std::to_string(floats * 4.0) + " bytes is too large");
  std::lock_guard<std::mutex> lock(forward_mutex_);
  kv_cache_ = kc::AlignedBuffer();
  kv_num_blocks_ = 0;
  kv_block_size_ = 0;
  kv_bytes_ = 0;
  const size_t bytes = static_cast<size_t>(floats) * sizeof(float);
  kv_cache_ = kc::AlignedBuffer(bytes);
  kv_num_blocks_ = num_blocks;
  kv_block_size_ = block_size;
  kv_bytes_ = bytes;
  return bytes;
}

int64_t Qwen3Engine::CheckBatch(const Batch& b) const {
  CheckRaggedBatch(b, config_.hidden_size);
  // token_type_ids are not read: Qwen3 has no token-type embedding (batch builders fill them with zeros for every
  // model).
  const size_t num_tokens = b.token_ids.size();
  const size_t num_seqs = b.cu_seq_lens.size() - 1;
  for (size_t t = 0; t < num_tokens; ++t) {
    if (b.token_ids[t] < 0 || b.token_ids[t] >= config_.vocab_size) {
      BatchFail("tokenIds[" + std::to_string(t) + "] = " + std::to_string(b.token_ids[t]) + " is outside [0, " +
                std::to_string(config_.vocab_size) + ")");
    }
    if (b.positions[t] < 0 || b.positions[t] >= config_.max_position_embeddings) {
      BatchFail("positions[" + std::to_string(t) + "] = " + std::to_string(b.positions[t]) + " is outside [0, " +
                std::to_string(config_.max_position_embeddings) + ") (max_position_embeddings)");
    }
  }
  if (b.paged) {
    if (kv_num_blocks_ == 0) BatchFail("a paged batch before initKvCache()");
    if (b.pooling != PoolingMode::kLast) BatchFail("paged decoder batches pool 'last' only");
    if (b.num_cached_tokens.size() != num_seqs || b.is_last_chunk.size() != num_seqs ||
        b.block_table_offsets.size() != num_seqs + 1) {
      BatchFail("blockTables, numCachedTokens and isLastChunk need one entry per sequence");
    }
    if (b.block_table_offsets[0] != 0 ||
        static_cast<size_t>(b.block_table_offsets[num_seqs]) != b.block_tables.size()) {
      BatchFail("malformed block tables");
    }
    for (size_t s = 0; s < num_seqs; ++s) {
      const int64_t cached = b.num_cached_tokens[s];
      const int64_t len = b.cu_seq_lens[s + 1] - b.cu_seq_lens[s];
      if (cached < 0) BatchFail("numCachedTokens[" + std::to_string(s) + "] is negative");
      for (int64_t i = 0; i < len; ++i) {
        if (b.positions[static_cast<size_t>(b.cu_seq_lens[s] + i)] != cached + i) {
          BatchFail("sequence " + std::to_string(s) + ": positions must run numCachedTokens, numCachedTokens + 1, ...");
        }
      }
      const int64_t table_len = static_cast<int64_t>(b.block_table_offsets[s + 1]) - b.block_table_offsets[s];
      const int64_t needed = (cached + len + kv_block_size_ - 1) / kv_block_size_;
      if (table_len < needed) {
        BatchFail("block table of sequence " + std::to_string(s) + " has " + std::to_string(table_len) +
                  " blocks, needs " + std::to_string(needed) + " (" + std::to_string(cached + len) +
                  " positions, block size " + std::to_string(kv_block_size_) + ")");
      }
      for (int64_t k = 0; k < needed; ++k) {
        const int32_t id = b.block_tables[static_cast<size_t>(b.block_table_offsets[s] + k)];
        if (id < 1 || id >= kv_num_blocks_) {
          BatchFail("blockTables[" + std::to_string(s) + "][" + std::to_string(k) + "] = " + std::to_string(id) +
                    " is outside [1, " + std::to_string(kv_num_blocks_) + ")");
        }
      }
    }
  }
  return PooledSize(b, config_.hidden_size);
}

std::vector<float> Qwen3Engine::Forward(const Batch& b) {
  std::lock_guard<std::mutex> lock(forward_mutex_);
  const int64_t out_size = CheckBatch(b);
  const int64_t num_seqs = static_cast<int64_t>(b.cu_seq_lens.size()) - 1;
  const int64_t T = static_cast<int64_t>(b.token_ids.size());
  std::vector<float> pooled(static_cast<size_t>(out_size));
  if (num_seqs == 0) return pooled;
  const Qwen3Hyperparameters& c = config_;
  const int64_t H = c.hidden_size;
  const int64_t I = c.intermediate_size;
  const int64_t d = c.head_dim;
  const int64_t qw = c.num_heads * d;
  const int64_t kvw = c.num_kv_heads * d;
  const int64_t W = qw + 2 * kvw;
  ExecutionContext& pool = execution_;
  float* x = hidden_.Reserve(static_cast<size_t>(T * H));
  float* h = hidden_alt_.Reserve(static_cast<size_t>(T * H));
  float* normed = normed_.Reserve(static_cast<size_t>(T * H));
  float* qkv = qkv_.Reserve(static_cast<size_t>(T * W));
  float* context = context_.Reserve(static_cast<size_t>(T * qw));
  float* gate_up = gate_up_.Reserve(static_cast<size_t>(T * 2 * I));
  float* mlp = mlp_.Reserve(static_cast<size_t>(T * I));

  // Where K/V live. One-shot batches: block size 1, token t of the batch in block t + 1 of a scratch area shared by
  // every layer (the layer's K/V are dead once its attention ran).
  kc::PagedAttentionArgs attention;
  std::vector<int32_t> one_shot_tables;
  std::vector<int32_t> one_shot_cached;
  float* k_base = nullptr;
  size_t layer_floats = 0;
  if (b.paged) {
    attention.num_blocks = kv_num_blocks_;
    attention.block_size = kv_block_size_;
    attention.block_tables = b.block_tables.data();
    attention.block_table_offsets = b.block_table_offsets.data();
    attention.num_cached_tokens = b.num_cached_tokens.data();
    k_base = static_cast<float*>(kv_cache_.data());
    layer_floats = static_cast<size_t>(kv_num_blocks_ * kv_block_size_ * kvw);
  } else {
    one_shot_tables.resize(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t) one_shot_tables[static_cast<size_t>(t)] = static_cast<int32_t>(t + 1);
    one_shot_cached.assign(static_cast<size_t>(num_seqs), 0);
    attention.num_blocks = T + 1;
    attention.block_size = 1;
    attention.block_tables = one_shot_tables.data();
    attention.block_table_offsets = b.cu_seq_lens.data();
    attention.num_cached_tokens = one_shot_cached.data();
    layer_floats = static_cast<size_t>((T + 1) * kvw);
    k_base = scratch_kv_.Reserve(2 * layer_floats);
  }
  attention.q = qkv;
  attention.ldq = W;
  attention.out = context;
  attention.ldo = qw;
  attention.num_heads = c.num_heads;
  attention.num_kv_heads = c.num_kv_heads;
  attention.head_dim = d;
  attention.cu_seq_lens = b.cu_seq_lens.data();
  attention.num_seqs = num_seqs;
  attention.num_tokens = T;

  // LAST pooling reads one token per sequence (paged batches: only sequences whose input ends here).
  const bool prune_last_layer = b.paged || b.pooling == PoolingMode::kLast;
  ops_.embed_tokens(pool, embed_table_, embed_type_, H, b.token_ids.data(), T, x);
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = layers_[l];
    float* k_cache = b.paged ? k_base + 2 * l * layer_floats : k_base;
    float* v_cache = k_cache + layer_floats;
    // Qwen3Attention: input_layernorm, q|k|v projections (no bias), q_norm / k_norm per head, then RoPE.
    ops_.rms_norm(pool, x, H, normed, H, T, 1, H, layer.input_norm.data(), c.rms_norm_eps);
    ops_.gemm(pool, normed, T, H, layer.qkv, qkv, W, kc::GemmEpilogue{});
    ops_.rms_norm(pool, qkv, W, qkv, W, T, c.num_heads, d, layer.q_norm.data(), c.rms_norm_eps);
    ops_.rms_norm(pool, qkv + qw, W, qkv + qw, W, T, c.num_kv_heads, d, layer.k_norm.data(), c.rms_norm_eps);
    ops_.rope(pool, qkv, W, T, c.num_heads, d, b.positions.data(), c.rope_theta, 1.0, c.max_position_embeddings);
    ops_.rope(pool, qkv + qw, W, T, c.num_kv_heads, d, b.positions.data(), c.rope_theta, 1.0,
              c.max_position_embeddings);
    // The chunk's K and V into their slots (every block id was checked in CheckBatch).
    for (int64_t s = 0; s < num_seqs; ++s) {
      const int32_t* table = attention.block_tables + attention.block_table_offsets[s];
      const int64_t cached = attention.num_cached_tokens[s];
      for (int64_t t = b.cu_seq_lens[s]; t < b.cu_seq_lens[s + 1]; ++t) {
        const int64_t p = cached + (t - b.cu_seq_lens[s]);
        const int64_t slot =
            static_cast<int64_t>(table[p / attention.block_size]) * attention.block_size + p % attention.block_size;
        std::memcpy(k_cache + slot * kvw, qkv + t * W + qw, static_cast<size_t>(kvw) * sizeof(float));
        std::memcpy(v_cache + slot * kvw, qkv + t * W + qw + kvw, static_cast<size_t>(kvw) * sizeof(float));
      }
    }
    attention.k_cache = k_cache;
    attention.v_cache = v_cache;
    if (prune_last_layer && l + 1 == layers_.size()) {
      // Only each pooled sequence's last token is read after this layer: its K/V (written above) were all the other
      // tokens needed. Rows are computed independently, so the pooled rows are bitwise what the full layer gives.
      attention.only_last_query = true;
      ops_.paged_attention(pool, attention);
      return FinishPrunedLayer(layer, b, x, context, out_size, std::move(pooled));
    }
    ops_.paged_attention(pool, attention);
    RunDenseLayers(layer, context, x, h, normed, gate_up, mlp, x, T);
  }

  ops_.rms_norm(pool, x, H, normed, H, T, 1, H, final_norm_.data(), c.rms_norm_eps);
  PoolSequences(ops_, pool, b, normed, H, pooled);
  return pooled;
}

void Qwen3Engine::RunDenseLayers(const Layer& layer, const float* context, const float* input, float* after_attention,
                                 float* normed, float* gate_up, float* mlp, float* output, int64_t rows) {
  const Qwen3Hyperparameters& c = config_;
  const int64_t H = c.hidden_size;
  const int64_t I = c.intermediate_size;
  ExecutionContext& pool = execution_;
  // o_proj + residual.
  kc::GemmEpilogue o_epilogue;
  o_epilogue.residual = input;
  o_epilogue.ldr = H;
  ops_.gemm(pool, context, rows, c.num_heads * c.head_dim, layer.o_proj, after_attention, H, o_epilogue);
  // Qwen3MLP: post_attention_layernorm, gate|up, SwiGLU, down_proj + residual.
  ops_.rms_norm(pool, after_attention, H, normed, H, rows, 1, H, layer.post_norm.data(), c.rms_norm_eps);
  ops_.gemm(pool, normed, rows, H, layer.gate_up, gate_up, 2 * I, kc::GemmEpilogue{});
  ops_.gated_activation(pool, gate_up, 2 * I, mlp, I, rows, I, kc::Activation::kSilu, kc::GatedHalf::kFirst);
  kc::GemmEpilogue down_epilogue;
  down_epilogue.residual = after_attention;
  down_epilogue.ldr = H;
  ops_.gemm(pool, mlp, rows, I, layer.down, output, H, down_epilogue);
}

std::vector<float> Qwen3Engine::FinishPrunedLayer(const Layer& layer, const Batch& b, const float* x,
                                                  const float* all_context, int64_t out_size,
                                                  std::vector<float> pooled) {
  const Qwen3Hyperparameters& c = config_;
  const int64_t H = c.hidden_size;
  const int64_t I = c.intermediate_size;
  const int64_t qw = c.num_heads * c.head_dim;
  ExecutionContext& pool = execution_;
  const int64_t num_seqs = static_cast<int64_t>(b.cu_seq_lens.size()) - 1;
  std::vector<int32_t> dims;
  std::vector<uint8_t> norms;
  std::vector<int64_t> rows;
  for (int64_t s = 0; s < num_seqs; ++s) {
    if (b.paged && b.is_last_chunk[static_cast<size_t>(s)] == 0) continue;
    rows.push_back(b.cu_seq_lens[s + 1] - 1);
    dims.push_back(b.dimensions[static_cast<size_t>(s)]);
    norms.push_back(b.normalize[static_cast<size_t>(s)]);
  }
  const int64_t R = static_cast<int64_t>(rows.size());
  if (R == 0) return pooled;
  // [R, qw] context | [R, H] input | [R, H] after attention | [R, H] normed | [R, 2I] gate|up | [R, I] | [R, H] output
  float* context = pooled_rows_.Reserve(static_cast<size_t>(R * (qw + 4 * H + 3 * I)));
  float* input = context + R * qw;
  float* after_attention = input + R * H;
  float* normed = after_attention + R * H;
  float* gate_up = normed + R * H;
  float* mlp = gate_up + R * 2 * I;
  float* output = mlp + R * I;
  GatherRows(all_context, qw, rows, qw, context);
  GatherRows(x, H, rows, H, input);
  RunDenseLayers(layer, context, input, after_attention, normed, gate_up, mlp, output, R);
  // The final norm (Qwen3Model.norm), then LAST pooling of one row each, dimensions, normalize.
  ops_.rms_norm(pool, output, H, normed, H, R, 1, H, final_norm_.data(), c.rms_norm_eps);
  PoolOneRowEach(ops_, pool, normed, R, H, dims.data(), norms.data(), pooled.data(), out_size);
  return pooled;
}

}  // namespace pooled::engine
