// loadQwen3Model(spec) -> Promise<NativeQwen3Model>; model.forward(batch) -> Promise<Float32Array>, with the decoder
// fields (blockTables, numCachedTokens, isLastChunk) for paged batches; model.initKvCache(numBlocks, blockSize);
// model.releaseWorkingMemory() -> Promise<number>; model.dispose(). Weights, the KV cache and working buffers are
// reported to V8 as external memory. Same three phases as model_binding.cpp (copy arguments on the JS thread, compute on a libuv worker
// with no N-API call, settle on the JS thread); the embedding table stays pinned and is read in place.
#include "addon/qwen3_binding.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "addon/js_args.h"
#include "addon/tensor_list.h"
#include "addon/working_memory_binding.h"
#include "engine/qwen3_engine.h"

namespace pooled::addon {

namespace kc = kernels::cpu;
using engine::Qwen3Engine;

namespace {

constexpr const char* kEmbedTable = "embed_tokens.weight";

struct Qwen3Handle {
  std::unique_ptr<Qwen3Engine> engine;
  kc::AlignedBuffer embed_copy;
};

class Qwen3ModelWrap : public Napi::ObjectWrap<Qwen3ModelWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeQwen3Model",
                       {InstanceMethod<&Qwen3ModelWrap::Forward>("forward"), InstanceMethod<&Qwen3ModelWrap::InitKvCache>("initKvCache"),
                        InstanceMethod<&Qwen3ModelWrap::Dispose>("dispose"),
                        InstanceMethod<&Qwen3ModelWrap::ReleaseWorkingMemory>("releaseWorkingMemory"),
                        InstanceAccessor<&Qwen3ModelWrap::NativeBytes>("nativeBytes"),
                        InstanceAccessor<&Qwen3ModelWrap::WorkingBytes>("workingBytes"),
                        InstanceAccessor<&Qwen3ModelWrap::KvBytesPerToken>("kvBytesPerToken"),
                        InstanceAccessor<&Qwen3ModelWrap::Threads>("threads"), InstanceAccessor<&Qwen3ModelWrap::DType>("dtype"),
                        InstanceAccessor<&Qwen3ModelWrap::Disposed>("disposed")});
  }

  explicit Qwen3ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Qwen3ModelWrap>(info) {
    if (info.Length() != 2 || !info[0].IsExternal() || !info[1].IsObject()) {
      throw Napi::TypeError::New(info.Env(), "NativeQwen3Model cannot be constructed directly: use loadQwen3Model()");
    }
    handle_ = *info[0].As<Napi::External<std::shared_ptr<Qwen3Handle>>>().Data();
    embed_pin_ = Napi::Persistent(info[1].As<Napi::Object>());
    weight_bytes_ = static_cast<int64_t>(handle_->engine->NativeBytes() + handle_->embed_copy.size());
    Adjust(info.Env(), weight_bytes_);
  }

  ~Qwen3ModelWrap() override {
    if (weight_bytes_ + kv_bytes_ != 0) Napi::MemoryManagement::AdjustExternalMemory(Env(), -(weight_bytes_ + kv_bytes_));
    working_memory_.Report(Env(), 0);
  }

  void ForwardSettled(Napi::Env env) {
    --in_flight_;
    if (disposed_ && in_flight_ == 0) embed_pin_.Reset();
    SyncWorkingBytes(env);
  }

  // Reports the engine's working buffers to V8 as they are now (after a forward grew them or a release freed them).
  void SyncWorkingBytes(Napi::Env env) { working_memory_.Report(env, handle_ ? static_cast<int64_t>(handle_->engine->WorkingBytes()) : 0); }

 private:
  static void Adjust(Napi::Env env, int64_t delta) {
    if (delta != 0) Napi::MemoryManagement::AdjustExternalMemory(env, delta);
  }

  Napi::Value Forward(const Napi::CallbackInfo& info);

  Napi::Value InitKvCache(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (disposed_ || !handle_) throw Napi::Error::New(env, "the model is disposed");
    if (in_flight_ != 0) throw Napi::Error::New(env, "initKvCache() while a forward is running");
    const int64_t num_blocks = ExpectInteger(info[0], "numBlocks", 2, int64_t{1} << 31);
    const int64_t block_size = ExpectInteger(info[1], "blockSize", 1, int64_t{1} << 20);
    size_t bytes = 0;
    try {
      bytes = handle_->engine->InitKvCache(num_blocks, block_size);
    } catch (const std::invalid_argument& e) {
      throw Napi::RangeError::New(env, e.what());
    } catch (const std::bad_alloc&) {
      throw Napi::Error::New(env, "initKvCache: out of memory for " + std::to_string(num_blocks) + " blocks of " + std::to_string(block_size));
    }
    Adjust(env, static_cast<int64_t>(bytes) - kv_bytes_);
    kv_bytes_ = static_cast<int64_t>(bytes);
    return env.Undefined();
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    if (!disposed_) {
      disposed_ = true;
      handle_.reset();  // a running forward keeps the engine alive through its own shared_ptr
      if (in_flight_ == 0) embed_pin_.Reset();
      Adjust(info.Env(), -(weight_bytes_ + kv_bytes_));
      weight_bytes_ = 0;
      kv_bytes_ = 0;
      working_memory_.Report(info.Env(), 0);
    }
    return info.Env().Undefined();
  }

  Napi::Value ReleaseWorkingMemory(const Napi::CallbackInfo& info) {
    if (disposed_ || !handle_) throw Napi::Error::New(info.Env(), "the model is disposed");
    auto* worker = new ReleaseWorkingMemoryWorker<Qwen3Handle, Qwen3ModelWrap>(info.Env(), handle_, this, info.This().As<Napi::Object>());
    worker->Queue();
    return worker->Promise();
  }

  Napi::Value NativeBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(weight_bytes_ + kv_bytes_));
  }
  Napi::Value WorkingBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), handle_ ? static_cast<double>(handle_->engine->WorkingBytes()) : 0.0);
  }
  Napi::Value KvBytesPerToken(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), handle_ ? static_cast<double>(handle_->engine->KvBytesPerToken()) : 0.0);
  }
  Napi::Value Threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), handle_ ? handle_->engine->num_threads() : 0); }
  Napi::Value DType(const Napi::CallbackInfo& info) {
    if (!handle_) return info.Env().Undefined();
    return Napi::String::New(info.Env(), handle_->engine->weight_type() == kc::ElementType::kBF16 ? "bfloat16" : "float32");
  }
  Napi::Value Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disposed_); }

  std::shared_ptr<Qwen3Handle> handle_;
  Napi::ObjectReference embed_pin_;
  int64_t weight_bytes_ = 0;
  int64_t kv_bytes_ = 0;
  ExternalMemoryAccount working_memory_;
  int in_flight_ = 0;
  bool disposed_ = false;

  friend class Qwen3ForwardWorker;
  void Started() { ++in_flight_; }
};

class Qwen3ForwardWorker : public Napi::AsyncWorker {
 public:
  Qwen3ForwardWorker(Napi::Env env, std::shared_ptr<Qwen3Handle> handle, engine::DecoderBatch batch, Qwen3ModelWrap* model,
                     Napi::Object model_object)
      : Napi::AsyncWorker(env, "pooled.qwen3.forward"),
        deferred_(Napi::Promise::Deferred::New(env)),
        handle_(std::move(handle)),
        batch_(std::move(batch)),
        model_(model),
        model_ref_(Napi::Persistent(model_object)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      pooled_ = handle_->engine->Forward(batch_);
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("forward failed");
    }
  }
  void OnOK() override {
    model_->ForwardSettled(Env());
    deferred_.Resolve(NewFloat32Array(Env(), pooled_.data(), pooled_.size()));
  }
  void OnError(const Napi::Error& error) override {
    model_->ForwardSettled(Env());
    deferred_.Reject(error.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<Qwen3Handle> handle_;
  engine::DecoderBatch batch_;
  std::vector<float> pooled_;
  Qwen3ModelWrap* model_;
  Napi::ObjectReference model_ref_;
};

Napi::Value Qwen3ModelWrap::Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (disposed_ || !handle_) throw Napi::Error::New(env, "the model is disposed");
  const Napi::Object b = ExpectObject(info[0], "batch");
  engine::DecoderBatch batch;
  const auto token_ids = ExpectInt32Array(b.Get("tokenIds"), "batch.tokenIds");
  batch.token_ids = CopyArray(token_ids);
  batch.positions = CopyArray(ExpectInt32Array(b.Get("positions"), "batch.positions", static_cast<int64_t>(token_ids.length)));
  const auto cu = ExpectInt32Array(b.Get("cuSeqLens"), "batch.cuSeqLens");
  if (cu.length < 1) throw Napi::RangeError::New(env, "batch.cuSeqLens must have at least one entry");
  batch.cu_seq_lens = CopyArray(cu);
  const int64_t num_seqs = static_cast<int64_t>(cu.length) - 1;
  batch.pooling = ParsePooling(b.Get("pooling"), "batch.pooling");
  batch.dimensions = CopyArray(ExpectInt32Array(b.Get("dimensions"), "batch.dimensions", num_seqs));
  batch.normalize = CopyArray(ExpectUint8Array(b.Get("normalize"), "batch.normalize", num_seqs));
  const bool has_tables = !IsNullish(b.Get("blockTables"));
  const bool has_cached = !IsNullish(b.Get("numCachedTokens"));
  const bool has_last = !IsNullish(b.Get("isLastChunk"));
  if (has_tables != has_cached || has_tables != has_last) {
    throw Napi::TypeError::New(env, "batch: blockTables, numCachedTokens and isLastChunk come together or not at all");
  }
  if (has_tables) {
    batch.paged = true;
    batch.num_cached_tokens = CopyArray(ExpectInt32Array(b.Get("numCachedTokens"), "batch.numCachedTokens", num_seqs));
    batch.is_last_chunk = CopyArray(ExpectUint8Array(b.Get("isLastChunk"), "batch.isLastChunk", num_seqs));
    const Napi::Value tables = b.Get("blockTables");
    if (!tables.IsArray() || tables.As<Napi::Array>().Length() != static_cast<uint32_t>(num_seqs)) {
      throw Napi::TypeError::New(env, "batch.blockTables must be an array with one Int32Array per sequence");
    }
    batch.block_table_offsets.push_back(0);
    for (uint32_t s = 0; s < static_cast<uint32_t>(num_seqs); ++s) {
      const auto table = ExpectInt32Array(tables.As<Napi::Array>().Get(s), "batch.blockTables[" + std::to_string(s) + "]");
      batch.block_tables.insert(batch.block_tables.end(), table.data, table.data + table.length);
      if (batch.block_tables.size() > static_cast<size_t>(INT32_MAX)) throw Napi::RangeError::New(env, "batch.blockTables is too long");
      batch.block_table_offsets.push_back(static_cast<int32_t>(batch.block_tables.size()));
    }
  }
  auto* worker = new Qwen3ForwardWorker(env, handle_, std::move(batch), this, info.This().As<Napi::Object>());
  Started();
  worker->Queue();
  return worker->Promise();
}

class Qwen3LoadWorker : public Napi::AsyncWorker {
 public:
  Qwen3LoadWorker(Napi::Env env, engine::Qwen3Hyperparameters config, engine::TensorMap tensors, kc::ElementType weight_type, int threads,
                  std::vector<Napi::ObjectReference> pins, Napi::Object embed_bytes)
      : Napi::AsyncWorker(env, "pooled.loadQwen3Model"),
        deferred_(Napi::Promise::Deferred::New(env)),
        config_(config),
        tensors_(std::move(tensors)),
        weight_type_(weight_type),
        threads_(threads),
        pins_(std::move(pins)),
        embed_bytes_(Napi::Persistent(embed_bytes)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      handle_ = std::make_shared<Qwen3Handle>();
      engine::TensorRef& embed = tensors_.at(kEmbedTable);
      // A table at a byte offset its element type cannot be read from in place is copied (only then).
      if (reinterpret_cast<uintptr_t>(embed.data) % kc::ElementSize(embed.type) != 0) {
        handle_->embed_copy = kc::AlignedBuffer(embed.byte_length);
        std::memcpy(handle_->embed_copy.data(), embed.data, embed.byte_length);
        embed.data = handle_->embed_copy.data();
      }
      handle_->engine = Qwen3Engine::Load(config_, tensors_, weight_type_, threads_);
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("loading the model failed");
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    auto* data = env.GetInstanceData<AddonData>();
    auto external = Napi::External<std::shared_ptr<Qwen3Handle>>::New(env, &handle_);
    deferred_.Resolve(data->qwen3_model_constructor.New({external, embed_bytes_.Value()}));
  }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  engine::Qwen3Hyperparameters config_;
  engine::TensorMap tensors_;
  kc::ElementType weight_type_;
  int threads_;
  std::vector<Napi::ObjectReference> pins_;
  Napi::ObjectReference embed_bytes_;
  std::shared_ptr<Qwen3Handle> handle_;
};

Napi::Value LoadQwen3Model(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object spec = ExpectObject(info[0], "spec");
  const Napi::Object c = ExpectObject(spec.Get("config"), "spec.config");
  constexpr int64_t kMaxDim = int64_t{1} << 31;
  engine::Qwen3Hyperparameters config;
  config.vocab_size = ExpectInteger(c.Get("vocabSize"), "config.vocabSize", 1, kMaxDim);
  config.hidden_size = ExpectInteger(c.Get("hiddenSize"), "config.hiddenSize", 1, 1 << 16);
  config.num_layers = ExpectInteger(c.Get("numLayers"), "config.numLayers", 1, 1024);
  config.num_heads = ExpectInteger(c.Get("numHeads"), "config.numHeads", 1, 1 << 12);
  config.num_kv_heads = ExpectInteger(c.Get("numKeyValueHeads"), "config.numKeyValueHeads", 1, 1 << 12);
  config.head_dim = ExpectInteger(c.Get("headDim"), "config.headDim", 1, kc::kMaxDecoderHeadDim);
  config.intermediate_size = ExpectInteger(c.Get("intermediateSize"), "config.intermediateSize", 1, 1 << 20);
  config.max_position_embeddings = ExpectInteger(c.Get("maxPositionEmbeddings"), "config.maxPositionEmbeddings", 1, kMaxDim);
  config.rms_norm_eps = static_cast<float>(ExpectNumber(c.Get("rmsNormEps"), "config.rmsNormEps"));
  config.rope_theta = ExpectNumber(c.Get("ropeTheta"), "config.ropeTheta");
  const kc::ElementType weight_type = ParsePrecision(spec.Get("dtype"), "spec.dtype");
  const int threads = static_cast<int>(ExpectInteger(spec.Get("threads"), "spec.threads", 0, 4096));

  PinnedTensors checkpoint = ReadTensorList(env, spec.Get("tensors"), kEmbedTable);

  auto* worker = new Qwen3LoadWorker(env, config, std::move(checkpoint.tensors), weight_type, threads, std::move(checkpoint.pins), checkpoint.table_bytes);
  worker->Queue();
  return worker->Promise();
}

}  // namespace

void RegisterQwen3Model(Napi::Env env, Napi::Object exports, AddonData* data) {
  Napi::Function constructor = Qwen3ModelWrap::Define(env);
  data->qwen3_model_constructor = Napi::Persistent(constructor);
  exports.Set("NativeQwen3Model", constructor);
  exports.Set("loadQwen3Model", Napi::Function::New(env, LoadQwen3Model, "loadQwen3Model"));
}

}  // namespace pooled::addon
