// Op-level entry points for kernel tests and microbenchmarks. Synchronous on purpose: they are called with small
// inputs by tests, or timed by benchmarks that want no promise overhead in the measurement. Every argument is
// checked here (type, length) before the kernel, which checks its own invariants again.
#include "addon/ops_binding.h"

#include <cstring>
#include <string>
#include <vector>

#include "addon/js_args.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/thread_pool.h"

namespace pooled::addon {

namespace kc = kernels::cpu;

namespace {

constexpr int64_t kMaxCount = int64_t{1} << 31;  // products of two stay far from int64 overflow

kc::ThreadPool& OpPool(Napi::Env env) {
  auto* data = env.GetInstanceData<AddonData>();
  if (!data->op_pool) data->op_pool = std::make_unique<kc::ThreadPool>(0);
  return *data->op_pool;
}

// Runs a kernel, turning its std::exceptions into JS errors.
template <typename F>
void Guarded(Napi::Env env, F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    throw Napi::RangeError::New(env, e.what());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

class PackedWeightsWrap : public Napi::ObjectWrap<PackedWeightsWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PackedWeights",
                       {InstanceAccessor<&PackedWeightsWrap::N>("n"), InstanceAccessor<&PackedWeightsWrap::K>("k"),
                        InstanceAccessor<&PackedWeightsWrap::DType>("dtype"),
                        InstanceAccessor<&PackedWeightsWrap::NativeBytes>("nativeBytes")});
  }

  // packWeights constructs these with (weight, sourceDType, n, k, dtype).
  explicit PackedWeightsWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PackedWeightsWrap>(info) {
    Napi::Env env = info.Env();
    const kc::ElementType source = ParseCheckpointDType(info[1], "sourceDType");
    const int64_t n = ExpectInteger(info[2], "n", 1, kMaxCount);
    const int64_t k = ExpectInteger(info[3], "k", 1, kMaxCount);
    const kc::ElementType target = ParsePrecision(info[4], "dtype");
    const void* weight = ExpectElementArray(info[0], "weight", source, n * k);
    Guarded(env, [&] { packed_ = kc::PackWeights(weight, source, n, k, target); });
    Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(packed_.SizeBytes()));
  }

  ~PackedWeightsWrap() override {
    Napi::MemoryManagement::AdjustExternalMemory(Env(), -static_cast<int64_t>(packed_.SizeBytes()));
  }

  const kc::PackedWeights& packed() const { return packed_; }

 private:
  Napi::Value N(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(packed_.view().n));
  }
  Napi::Value K(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(packed_.view().k));
  }
  Napi::Value DType(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), kc::ElementTypeName(packed_.view().type));
  }
  Napi::Value NativeBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(packed_.SizeBytes()));
  }

  kc::PackedWeights packed_;
};

// The optional `out` argument of an op: a caller's Float32Array of exactly `length` values (written in place, so a
// benchmark's timed region allocates nothing), or a new one when absent.
Napi::Float32Array OutOrNew(Napi::Env env, const Napi::Value& value, int64_t length) {
  if (IsNullish(value)) return Napi::Float32Array::New(env, static_cast<size_t>(length));
  ExpectFloat32Array(value, "out", length);
  return value.As<Napi::Float32Array>();
}

float* DataOrNull(Napi::Float32Array& array) { return array.ElementLength() == 0 ? nullptr : array.Data(); }

const kc::PackedWeights& ExpectPacked(const Napi::Value& value, const std::string& name) {
  auto* data = value.Env().GetInstanceData<AddonData>();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(data->packed_weights_constructor.Value())) {
    throw Napi::TypeError::New(value.Env(), name + " must come from packWeights()");
  }
  return PackedWeightsWrap::Unwrap(value.As<Napi::Object>())->packed();
}

// packWeights(weight, sourceDType, n, k, dtype) -> PackedWeights
Napi::Value PackWeightsJs(const Napi::CallbackInfo& info) {
  auto* data = info.Env().GetInstanceData<AddonData>();
  return data->packed_weights_constructor.New({info[0], info[1], info[2], info[3], info[4]});
}

// gemm(a, m, packed, epilogue?, out?) -> Float32Array [m, n]
Napi::Value GemmJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const kc::PackedWeights& w = ExpectPacked(info[2], "packed");
  const int64_t n = w.view().n;
  const int64_t k = w.view().k;
  const int64_t m = ExpectInteger(info[1], "m", 0, kMaxCount);
  const auto a = ExpectFloat32Array(info[0], "a", m * k);
  kc::GemmEpilogue epilogue;
  if (!IsNullish(info[3])) {
    const Napi::Object e = ExpectObject(info[3], "epilogue");
    if (!IsNullish(e.Get("bias"))) epilogue.bias = ExpectFloat32Array(e.Get("bias"), "epilogue.bias", n).data;
    epilogue.activation = ParseActivation(e.Get("activation"), "epilogue.activation");
    if (!IsNullish(e.Get("residual"))) {
      epilogue.residual = ExpectFloat32Array(e.Get("residual"), "epilogue.residual", m * n).data;
      epilogue.ldr = n;
    }
    if (!IsNullish(e.Get("lnGamma")) || !IsNullish(e.Get("lnBeta"))) {
      epilogue.ln_gamma = ExpectFloat32Array(e.Get("lnGamma"), "epilogue.lnGamma", n).data;
      epilogue.ln_beta = ExpectFloat32Array(e.Get("lnBeta"), "epilogue.lnBeta", n).data;
      epilogue.ln_eps = static_cast<float>(ExpectNumber(e.Get("lnEps"), "epilogue.lnEps"));
    }
  }
  Napi::Float32Array out =
      IsNullish(info[4]) ? Napi::Float32Array::New(env, static_cast<size_t>(m * n)) : info[4].As<Napi::Float32Array>();
  const auto out_view = ExpectFloat32Array(out, "out", m * n);
  Guarded(env, [&] { kc::Gemm(OpPool(env), a.data, m, k, w, out_view.data, n, epilogue); });
  return out;
}

// biasActivation(x, rows, cols, bias | null, activation, out?) -> Float32Array (out may be x itself: in place)
Napi::Value BiasActivationJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t rows = ExpectInteger(info[1], "rows", 0, kMaxCount);
  const int64_t cols = ExpectInteger(info[2], "cols", 0, kMaxCount);
  const auto x = ExpectFloat32Array(info[0], "x", rows * cols);
  const float* bias = IsNullish(info[3]) ? nullptr : ExpectFloat32Array(info[3], "bias", cols).data;
  const kc::Activation activation = ParseActivation(info[4], "activation");
  Napi::Float32Array out = OutOrNew(env, info[5], rows * cols);
  float* y = DataOrNull(out);
  Guarded(env, [&] { kc::BiasActivation(OpPool(env), x.data, y, rows, cols, bias, activation); });
  return out;
}

// layerNorm(x, rows, cols, gamma, beta, eps, residual?, out?) -> Float32Array
Napi::Value LayerNormJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t rows = ExpectInteger(info[1], "rows", 0, kMaxCount);
  const int64_t cols = ExpectInteger(info[2], "cols", 1, kMaxCount);
  const auto x = ExpectFloat32Array(info[0], "x", rows * cols);
  const auto gamma = ExpectFloat32Array(info[3], "gamma", cols);
  const auto beta = ExpectFloat32Array(info[4], "beta", cols);
  const float eps = static_cast<float>(ExpectNumber(info[5], "eps"));
  const float* residual = IsNullish(info[6]) ? nullptr : ExpectFloat32Array(info[6], "residual", rows * cols).data;
  Napi::Float32Array out = OutOrNew(env, info[7], rows * cols);
  float* y = DataOrNull(out);
  Guarded(env, [&] { kc::LayerNorm(OpPool(env), x.data, residual, y, rows, cols, gamma.data, beta.data, eps); });
  return out;
}

// embeddings({tokenIds, positions, tokenTypeIds?, word, wordDType, position, tokenType, hiddenSize, gamma, beta, eps,
// out?})
Napi::Value EmbeddingsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = ExpectObject(info[0], "args");
  const int64_t hidden = ExpectInteger(o.Get("hiddenSize"), "hiddenSize", 1, kMaxCount);
  const auto token_ids = ExpectInt32Array(o.Get("tokenIds"), "tokenIds");
  const int64_t num_tokens = static_cast<int64_t>(token_ids.length);
  const auto positions = ExpectInt32Array(o.Get("positions"), "positions", num_tokens);  // not read without a table
  const int32_t* token_types = IsNullish(o.Get("tokenTypeIds"))
                                   ? nullptr
                                   : ExpectInt32Array(o.Get("tokenTypeIds"), "tokenTypeIds", num_tokens).data;
  kc::EmbeddingTables t;
  t.hidden_size = hidden;
  t.word_type = ParseCheckpointDType(o.Get("wordDType"), "wordDType");
  const Napi::Value word = o.Get("word");
  if (!word.IsTypedArray()) throw Napi::TypeError::New(env, "word must be a typed array");
  const size_t word_length = word.As<Napi::TypedArray>().ElementLength();
  if (word_length % static_cast<size_t>(hidden) != 0)
    throw Napi::RangeError::New(env, "word length is not a multiple of hiddenSize");
  t.word = ExpectElementArray(word, "word", t.word_type, static_cast<int64_t>(word_length));
  t.vocab_size = static_cast<int64_t>(word_length) / hidden;
  // position / tokenType null: no such table (rotary models; checkpoints without token types).
  for (const char* name : {"position", "tokenType"}) {
    if (IsNullish(o.Get(name))) continue;
    const auto table = ExpectFloat32Array(o.Get(name), name);
    if (table.length % static_cast<size_t>(hidden) != 0)
      throw Napi::RangeError::New(env, std::string(name) + " length is not a multiple of hiddenSize");
    const int64_t rows = static_cast<int64_t>(table.length) / hidden;
    if (std::string(name) == "position") {
      t.position = table.data;
      t.num_positions = rows;
    } else {
      t.token_type = table.data;
      t.num_token_types = rows;
    }
  }
  t.gamma = ExpectFloat32Array(o.Get("gamma"), "gamma", hidden).data;
  t.beta = ExpectFloat32Array(o.Get("beta"), "beta", hidden).data;
  t.eps = static_cast<float>(ExpectNumber(o.Get("eps"), "eps"));
  Napi::Float32Array out = OutOrNew(env, o.Get("out"), num_tokens * hidden);
  float* y = DataOrNull(out);
  Guarded(env, [&] { kc::Embeddings(OpPool(env), t, token_ids.data, positions.data, token_types, num_tokens, y); });
  return out;
}

// attention(q, k, v, cuSeqLens, numHeads, headDim, onlyQuery?, out?, window?) -> Float32Array (window: 0 = none); q, k,
// v, out: [T, numHeads * headDim]. With onlyQuery (per sequence, an index within it) only those rows are computed; the
// others stay 0 (or, in a caller's out, unchanged).
Napi::Value AttentionJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t num_heads = ExpectInteger(info[4], "numHeads", 1, 1 << 16);
  const int64_t head_dim = ExpectInteger(info[5], "headDim", 1, 1 << 16);
  const int64_t width = num_heads * head_dim;
  const auto q = ExpectFloat32Array(info[0], "q");
  if (q.length % static_cast<size_t>(width) != 0)
    throw Napi::RangeError::New(env, "q length is not a multiple of numHeads * headDim");
  const int64_t num_tokens = static_cast<int64_t>(q.length) / width;
  const auto k = ExpectFloat32Array(info[1], "k", static_cast<int64_t>(q.length));
  const auto v = ExpectFloat32Array(info[2], "v", static_cast<int64_t>(q.length));
  const auto cu = ExpectInt32Array(info[3], "cuSeqLens");
  if (cu.length < 1) throw Napi::RangeError::New(env, "cuSeqLens must have at least one entry");
  Napi::Float32Array out = OutOrNew(env, info[7], static_cast<int64_t>(q.length));
  kc::AttentionArgs args;
  args.q = q.data;
  args.k = k.data;
  args.v = v.data;
  args.out = DataOrNull(out);
  args.ldq = args.ldk = args.ldv = args.ldo = width;
  args.num_heads = num_heads;
  args.head_dim = head_dim;
  args.cu_seq_lens = cu.data;
  args.num_seqs = static_cast<int64_t>(cu.length) - 1;
  args.num_tokens = num_tokens;
  if (!IsNullish(info[6])) args.only_query = ExpectInt32Array(info[6], "onlyQuery", args.num_seqs).data;
  if (!IsNullish(info[8])) args.window = ExpectInteger(info[8], "window", 0, kMaxCount);
  Guarded(env, [&] { kc::Attention(OpPool(env), args); });
  return out;
}

// attentionQkv(qkv, cuSeqLens, numHeads, headDim, onlyQuery?, out?) -> Float32Array [T, numHeads * headDim]: the
// engine's layout, q, k and v side by side in each row of the fused projection's output qkv [T, 3 * numHeads *
// headDim].
Napi::Value AttentionQkvJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t num_heads = ExpectInteger(info[2], "numHeads", 1, 1 << 16);
  const int64_t head_dim = ExpectInteger(info[3], "headDim", 1, 1 << 16);
  const int64_t width = num_heads * head_dim;
  const auto qkv = ExpectFloat32Array(info[0], "qkv");
  if (qkv.length % static_cast<size_t>(3 * width) != 0)
    throw Napi::RangeError::New(env, "qkv length is not a multiple of 3 * numHeads * headDim");
  const int64_t num_tokens = static_cast<int64_t>(qkv.length) / (3 * width);
  const auto cu = ExpectInt32Array(info[1], "cuSeqLens");
  if (cu.length < 1) throw Napi::RangeError::New(env, "cuSeqLens must have at least one entry");
  Napi::Float32Array out = OutOrNew(env, info[5], num_tokens * width);
  kc::AttentionArgs args;
  args.q = qkv.data;
  args.k = qkv.data == nullptr ? nullptr : qkv.data + width;
  args.v = qkv.data == nullptr ? nullptr : qkv.data + 2 * width;
  args.ldq = args.ldk = args.ldv = 3 * width;
  args.out = DataOrNull(out);
  args.ldo = width;
  args.num_heads = num_heads;
  args.head_dim = head_dim;
  args.cu_seq_lens = cu.data;
  args.num_seqs = static_cast<int64_t>(cu.length) - 1;
  args.num_tokens = num_tokens;
  if (!IsNullish(info[4])) args.only_query = ExpectInt32Array(info[4], "onlyQuery", args.num_seqs).data;
  Guarded(env, [&] { kc::Attention(OpPool(env), args); });
  return out;
}

// rmsNorm(x, rows, groups, cols, weight, eps) -> Float32Array; x: [rows, groups * cols], each group normalized.
Napi::Value RmsNormJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t rows = ExpectInteger(info[1], "rows", 0, kMaxCount);
  const int64_t groups = ExpectInteger(info[2], "groups", 1, 1 << 16);
  const int64_t cols = ExpectInteger(info[3], "cols", 1, 1 << 20);
  const auto x = ExpectFloat32Array(info[0], "x", rows * groups * cols);
  const auto weight = ExpectFloat32Array(info[4], "weight", cols);
  const float eps = static_cast<float>(ExpectNumber(info[5], "eps"));
  Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(rows * groups * cols));
  float* y = out.ElementLength() == 0 ? nullptr : out.Data();
  Guarded(env, [&] {
    kc::RmsNorm(OpPool(env), x.data, groups * cols, y, groups * cols, rows, groups, cols, weight.data, eps);
  });
  return out;
}

// rope(x, positions, numHeads, headDim, theta, maxPosition, inverseFrequencyScale = 1) -> Float32Array (a rotated copy
// of x [T, numHeads * headDim]).
Napi::Value RopeJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto positions = ExpectInt32Array(info[1], "positions");
  const int64_t num_tokens = static_cast<int64_t>(positions.length);
  const int64_t num_heads = ExpectInteger(info[2], "numHeads", 1, 1 << 12);
  const int64_t head_dim = ExpectInteger(info[3], "headDim", 1, 1 << 12);
  const auto x = ExpectFloat32Array(info[0], "x", num_tokens * num_heads * head_dim);
  const double theta = ExpectNumber(info[4], "theta");
  const int64_t max_position = ExpectInteger(info[5], "maxPosition", 1, kMaxCount);
  const double inverse_frequency_scale = IsNullish(info[6]) ? 1.0 : ExpectNumber(info[6], "inverseFrequencyScale");
  Napi::Float32Array out = Napi::Float32Array::New(env, x.length);
  if (x.length != 0) std::memcpy(out.Data(), x.data, x.length * sizeof(float));
  float* y = out.ElementLength() == 0 ? nullptr : out.Data();
  Guarded(env, [&] {
    kc::Rope(OpPool(env), y, num_heads * head_dim, num_tokens, num_heads, head_dim, positions.data, theta,
             inverse_frequency_scale, max_position);
  });
  return out;
}

// gatedActivation(packed, rows, cols, activation, activatedHalf) -> Float32Array [rows, cols]; packed: [rows, 2 *
// cols], two halves per row; act('silu' | 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh') applies to the half named by
// activatedHalf ('first' | 'second'), which multiplies the other.
Napi::Value GatedActivationJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t rows = ExpectInteger(info[1], "rows", 0, kMaxCount);
  const int64_t cols = ExpectInteger(info[2], "cols", 1, kMaxCount);
  const auto packed = ExpectFloat32Array(info[0], "packed", rows * 2 * cols);
  const kc::Activation activation = ParseGatedActivation(info[3], "activation");
  const kc::GatedHalf activated_half = ParseGatedHalf(info[4], "activatedHalf");
  Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(rows * cols));
  float* y = out.ElementLength() == 0 ? nullptr : out.Data();
  Guarded(env, [&] {
    kc::GatedActivation(OpPool(env), packed.data, 2 * cols, y, cols, rows, cols, activation, activated_half);
  });
  return out;
}

// pagedAttention({q, kCache, vCache, numBlocks, blockSize, numHeads, numKvHeads, headDim, cuSeqLens, numCachedTokens,
// blockTables: Int32Array[]}) -> Float32Array [T, numHeads * headDim]. kCache / vCache: [numBlocks, blockSize,
// numKvHeads, headDim].
Napi::Value PagedAttentionJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = ExpectObject(info[0], "args");
  kc::PagedAttentionArgs a;
  a.num_heads = ExpectInteger(o.Get("numHeads"), "numHeads", 1, 1 << 12);
  a.num_kv_heads = ExpectInteger(o.Get("numKvHeads"), "numKvHeads", 1, 1 << 12);
  a.head_dim = ExpectInteger(o.Get("headDim"), "headDim", 1, 1 << 12);
  a.num_blocks = ExpectInteger(o.Get("numBlocks"), "numBlocks", 1, kMaxCount);
  a.block_size = ExpectInteger(o.Get("blockSize"), "blockSize", 1, 1 << 20);
  const int64_t width = a.num_heads * a.head_dim;
  const auto q = ExpectFloat32Array(o.Get("q"), "q");
  if (q.length % static_cast<size_t>(width) != 0)
    throw Napi::RangeError::New(env, "q length is not a multiple of numHeads * headDim");
  const int64_t cache_floats = a.num_blocks * a.block_size * a.num_kv_heads * a.head_dim;
  a.k_cache = ExpectFloat32Array(o.Get("kCache"), "kCache", cache_floats).data;
  a.v_cache = ExpectFloat32Array(o.Get("vCache"), "vCache", cache_floats).data;
  const auto cu = ExpectInt32Array(o.Get("cuSeqLens"), "cuSeqLens");
  if (cu.length < 1) throw Napi::RangeError::New(env, "cuSeqLens must have at least one entry");
  a.num_seqs = static_cast<int64_t>(cu.length) - 1;
  a.cu_seq_lens = cu.data;
  a.num_cached_tokens = ExpectInt32Array(o.Get("numCachedTokens"), "numCachedTokens", a.num_seqs).data;
  const Napi::Value tables = o.Get("blockTables");
  if (!tables.IsArray() || tables.As<Napi::Array>().Length() != static_cast<uint32_t>(a.num_seqs)) {
    throw Napi::TypeError::New(env, "blockTables must be an array with one Int32Array per sequence");
  }
  std::vector<int32_t> flat;
  std::vector<int32_t> offsets{0};
  for (uint32_t s = 0; s < static_cast<uint32_t>(a.num_seqs); ++s) {
    const auto table = ExpectInt32Array(tables.As<Napi::Array>().Get(s), "blockTables[" + std::to_string(s) + "]");
    flat.insert(flat.end(), table.data, table.data + table.length);
    offsets.push_back(static_cast<int32_t>(flat.size()));
  }
  flat.push_back(0);  // never read: keeps data() non-null for empty tables
  a.block_tables = flat.data();
  a.block_table_offsets = offsets.data();
  a.q = q.data;
  a.ldq = a.ldo = width;
  a.num_tokens = static_cast<int64_t>(q.length) / width;
  Napi::Float32Array out = Napi::Float32Array::New(env, q.length);
  a.out = out.ElementLength() == 0 ? nullptr : out.Data();
  Guarded(env, [&] { kc::PagedAttention(OpPool(env), a); });
  return out;
}

// pool(hidden, cuSeqLens, hiddenSize, mode, dimensions, normalize, out?) -> Float32Array (rows back to back)
Napi::Value PoolJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t hidden_size = ExpectInteger(info[2], "hiddenSize", 1, kMaxCount);
  const auto hidden = ExpectFloat32Array(info[0], "hidden");
  if (hidden.length % static_cast<size_t>(hidden_size) != 0)
    throw Napi::RangeError::New(env, "hidden length is not a multiple of hiddenSize");
  const auto cu = ExpectInt32Array(info[1], "cuSeqLens");
  if (cu.length < 1) throw Napi::RangeError::New(env, "cuSeqLens must have at least one entry");
  const int64_t num_seqs = static_cast<int64_t>(cu.length) - 1;
  if (cu.data[num_seqs] != static_cast<int64_t>(hidden.length) / hidden_size) {
    throw Napi::RangeError::New(env, "cuSeqLens does not end at the number of rows of hidden");
  }
  const kc::PoolingMode mode = ParsePooling(info[3], "mode");
  const auto dims = ExpectInt32Array(info[4], "dimensions", num_seqs);
  const auto normalize = ExpectUint8Array(info[5], "normalize", num_seqs);
  int64_t out_size = 0;
  for (int64_t s = 0; s < num_seqs; ++s) {
    if (dims.data[s] < 0 || dims.data[s] > hidden_size)
      throw Napi::RangeError::New(env, "dimensions[" + std::to_string(s) + "] is outside [0, hiddenSize]");
    out_size += dims.data[s] == 0 ? hidden_size : dims.data[s];
  }
  Napi::Float32Array out = OutOrNew(env, info[6], out_size);
  float* y = DataOrNull(out);
  Guarded(env, [&] {
    kc::Pool(OpPool(env), hidden.data, hidden_size, hidden_size, cu.data, num_seqs, mode, dims.data, normalize.data, y,
             out_size);
  });
  return out;
}

// peakGflops(bf16, seconds) -> GFLOP/s of the op pool
Napi::Value PeakGflopsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBoolean()) throw Napi::TypeError::New(env, "bf16 must be a boolean");
  const double seconds = ExpectNumber(info[1], "seconds");
  if (!(seconds > 0 && seconds <= 60)) throw Napi::RangeError::New(env, "seconds must be in (0, 60]");
  double gflops = 0;
  Guarded(env, [&] { gflops = kc::MeasurePeakGflops(OpPool(env), info[0].As<Napi::Boolean>().Value(), seconds); });
  return Napi::Number::New(env, gflops);
}

// memoryBandwidth(bytesPerArray, seconds) -> GB/s of a STREAM triad on the op pool
Napi::Value MemoryBandwidthJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t bytes = ExpectInteger(info[0], "bytesPerArray", int64_t{1} << 20, int64_t{1} << 34);
  const double seconds = ExpectNumber(info[1], "seconds");
  if (!(seconds > 0 && seconds <= 60)) throw Napi::RangeError::New(env, "seconds must be in (0, 60]");
  double gbps = 0;
  Guarded(env, [&] { gbps = kc::MeasureMemoryBandwidth(OpPool(env), bytes, seconds); });
  return Napi::Number::New(env, gbps);
}

// setOpThreads(n): size of the op pool (0 = one per hardware thread).
Napi::Value SetOpThreadsJs(const Napi::CallbackInfo& info) {
  const int threads = static_cast<int>(ExpectInteger(info[0], "threads", 0, 4096));
  auto* data = info.Env().GetInstanceData<AddonData>();
  data->op_pool = std::make_unique<kc::ThreadPool>(threads);
  return Napi::Number::New(info.Env(), data->op_pool->NumThreads());
}

Napi::Value KernelInfoJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("gemmPanelWidth", Napi::Number::New(env, static_cast<double>(kc::GemmPanelWidth())));
  o.Set("bf16DotProduct", Napi::Boolean::New(env, kc::HasBf16DotProduct()));
  o.Set("hardwareThreads", Napi::Number::New(env, kc::ThreadPool::HardwareThreads()));
  o.Set("opThreads", Napi::Number::New(env, OpPool(env).NumThreads()));
  return o;
}

}  // namespace

void RegisterOps(Napi::Env env, Napi::Object exports, AddonData* data) {
  Napi::Function packed = PackedWeightsWrap::Define(env);
  data->packed_weights_constructor = Napi::Persistent(packed);
  Napi::Object ops = Napi::Object::New(env);
  ops.Set("packWeights", Napi::Function::New(env, PackWeightsJs, "packWeights"));
  ops.Set("gemm", Napi::Function::New(env, GemmJs, "gemm"));
  ops.Set("biasActivation", Napi::Function::New(env, BiasActivationJs, "biasActivation"));
  ops.Set("layerNorm", Napi::Function::New(env, LayerNormJs, "layerNorm"));
  ops.Set("embeddings", Napi::Function::New(env, EmbeddingsJs, "embeddings"));
  ops.Set("attention", Napi::Function::New(env, AttentionJs, "attention"));
  ops.Set("attentionQkv", Napi::Function::New(env, AttentionQkvJs, "attentionQkv"));
  ops.Set("pool", Napi::Function::New(env, PoolJs, "pool"));
  ops.Set("rmsNorm", Napi::Function::New(env, RmsNormJs, "rmsNorm"));
  ops.Set("rope", Napi::Function::New(env, RopeJs, "rope"));
  ops.Set("gatedActivation", Napi::Function::New(env, GatedActivationJs, "gatedActivation"));
  ops.Set("pagedAttention", Napi::Function::New(env, PagedAttentionJs, "pagedAttention"));
  ops.Set("peakGflops", Napi::Function::New(env, PeakGflopsJs, "peakGflops"));
  ops.Set("memoryBandwidth", Napi::Function::New(env, MemoryBandwidthJs, "memoryBandwidth"));
  ops.Set("setOpThreads", Napi::Function::New(env, SetOpThreadsJs, "setOpThreads"));
  ops.Set("kernelInfo", Napi::Function::New(env, KernelInfoJs, "kernelInfo"));
  exports.Set("ops", ops);
}

}  // namespace pooled::addon
