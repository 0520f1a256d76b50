// loadEngine(spec) -> Promise<NativeEngine>, for every model family (spec.family picks the graph through
// engine/engine_factory.h; nothing here names a family). engine.forward(batch) -> Promise<Float32Array>, with the
// decoder fields (blockTables, numCachedTokens, isLastChunk) for paged batches; engine.initKvCache(numBlocks,
// blockSize) where hasKvCache; engine.releaseWorkingMemory() -> Promise<number>; engine.dispose(). Weights, the KV
// cache and working buffers are reported to V8 as external memory.
//
// Three phases per call (sharp, node-llama-cpp): on the JS thread, read the arguments into plain C++ structs and
// pin the JS buffers native code will read; on a libuv worker, compute with no N-API call (the engine's own pool
// joins in, the libuv thread being one of its N threads); back on the JS thread, settle the promise.
// Weights cross the boundary once: packing reads the checkpoint bytes in place from the pinned Uint8Arrays, and
// the embedding table stays pinned and is read in place for the engine's life.
#include "addon/engine_binding.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "addon/js_args.h"
#include "addon/tensor_list.h"
#include "addon/working_memory_binding.h"
#include "engine/engine.h"
#include "engine/engine_factory.h"

namespace pooled::addon {

namespace kc = kernels::cpu;
using engine::Engine;

namespace {

// The engine plus what its embedding table points into when the JS bytes could not be used in place.
struct EngineHandle {
  std::unique_ptr<Engine> engine;
  kc::AlignedBuffer table_copy;
  std::string family;
};

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "NativeEngine",
        {InstanceMethod<&EngineWrap::Forward>("forward"), InstanceMethod<&EngineWrap::InitKvCache>("initKvCache"),
         InstanceMethod<&EngineWrap::Dispose>("dispose"),
         InstanceMethod<&EngineWrap::ReleaseWorkingMemory>("releaseWorkingMemory"),
         InstanceAccessor<&EngineWrap::Family>("family"), InstanceAccessor<&EngineWrap::HasKvCache>("hasKvCache"),
         InstanceAccessor<&EngineWrap::NativeBytes>("nativeBytes"),
         InstanceAccessor<&EngineWrap::WorkingBytes>("workingBytes"),
         InstanceAccessor<&EngineWrap::KvBytesPerToken>("kvBytesPerToken"),
         InstanceAccessor<&EngineWrap::Threads>("threads"), InstanceAccessor<&EngineWrap::DType>("dtype"),
         InstanceAccessor<&EngineWrap::Disposed>("disposed")});
  }

  explicit EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {
    // Only loadEngine constructs engines: it passes the loaded engine as an External.
    if (info.Length() != 2 || !info[0].IsExternal() || !info[1].IsObject()) {
      throw Napi::TypeError::New(info.Env(), "NativeEngine cannot be constructed directly: use loadEngine()");
    }
    handle_ = *info[0].As<Napi::External<std::shared_ptr<EngineHandle>>>().Data();
    table_pin_ = Napi::Persistent(info[1].As<Napi::Object>());
    family_ = handle_->family;
    weight_bytes_ = static_cast<int64_t>(handle_->engine->NativeBytes() + handle_->table_copy.size());
    Adjust(info.Env(), weight_bytes_);
  }

  ~EngineWrap() override {
    Adjust(Env(), -(weight_bytes_ + kv_bytes_));
    working_memory_.Report(Env(), 0);
  }

  void ForwardSettled(Napi::Env env) {
    --in_flight_;
    if (disposed_ && in_flight_ == 0) table_pin_.Reset();
    SyncWorkingBytes(env);
  }

  // Reports the engine's working buffers to V8 as they are now (after a forward grew them or a release freed them).
  void SyncWorkingBytes(Napi::Env env) {
    working_memory_.Report(env, handle_ ? static_cast<int64_t>(handle_->engine->WorkingBytes()) : 0);
  }

 private:
  static void Adjust(Napi::Env env, int64_t delta) {
    if (delta != 0) Napi::MemoryManagement::AdjustExternalMemory(env, delta);
  }

  void ThrowIfDisposed(Napi::Env env) const {
    if (disposed_ || !handle_) throw Napi::Error::New(env, "the model is disposed");
  }

  Napi::Value Forward(const Napi::CallbackInfo& info);

  Napi::Value InitKvCache(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ThrowIfDisposed(env);
    if (!handle_->engine->HasKvCache())
      throw Napi::Error::New(env, "initKvCache: a " + handle_->family + " model keeps no KV cache");
    if (in_flight_ != 0) throw Napi::Error::New(env, "initKvCache() while a forward is running");
    const int64_t num_blocks = ExpectInteger(info[0], "numBlocks", 2, int64_t{1} << 31);
    const int64_t block_size = ExpectInteger(info[1], "blockSize", 1, int64_t{1} << 20);
    size_t bytes = 0;
    try {
      bytes = handle_->engine->InitKvCache(num_blocks, block_size);
    } catch (const std::invalid_argument& e) {
      throw Napi::RangeError::New(env, e.what());
    } catch (const std::bad_alloc&) {
      throw Napi::Error::New(env, "initKvCache: out of memory for " + std::to_string(num_blocks) + " blocks of " +
                                      std::to_string(block_size));
    }
    Adjust(env, static_cast<int64_t>(bytes) - kv_bytes_);
    kv_bytes_ = static_cast<int64_t>(bytes);
    return env.Undefined();
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    if (!disposed_) {
      disposed_ = true;
      // A forward still running keeps the engine (shared_ptr) and, until it settles, the pinned table.
      handle_.reset();
      if (in_flight_ == 0) table_pin_.Reset();
      Adjust(info.Env(), -(weight_bytes_ + kv_bytes_));
      weight_bytes_ = 0;
      kv_bytes_ = 0;
      working_memory_.Report(info.Env(), 0);
    }
    return info.Env().Undefined();
  }

  Napi::Value ReleaseWorkingMemory(const Napi::CallbackInfo& info) {
    ThrowIfDisposed(info.Env());
    auto* worker = new ReleaseWorkingMemoryWorker<EngineHandle, EngineWrap>(info.Env(), handle_, this,
                                                                            info.This().As<Napi::Object>());
    worker->Queue();
    return worker->Promise();
  }

  Napi::Value Family(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), family_); }
  Napi::Value HasKvCache(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), handle_ && handle_->engine->HasKvCache());
  }
  // Packed weights plus the KV cache.
  Napi::Value NativeBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(weight_bytes_ + kv_bytes_));
  }
  Napi::Value WorkingBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), handle_ ? static_cast<double>(handle_->engine->WorkingBytes()) : 0.0);
  }
  Napi::Value KvBytesPerToken(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), handle_ ? static_cast<double>(handle_->engine->KvBytesPerToken()) : 0.0);
  }
  Napi::Value Threads(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), handle_ ? handle_->engine->num_threads() : 0);
  }
  Napi::Value DType(const Napi::CallbackInfo& info) {
    if (!handle_) return info.Env().Undefined();
    return Napi::String::New(info.Env(), kc::ElementTypeName(handle_->engine->weight_type()));
  }
  Napi::Value Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disposed_); }

  std::shared_ptr<EngineHandle> handle_;
  std::string family_;
  Napi::ObjectReference table_pin_;
  int64_t weight_bytes_ = 0;
  int64_t kv_bytes_ = 0;
  ExternalMemoryAccount working_memory_;
  int in_flight_ = 0;
  bool disposed_ = false;
};

class ForwardWorker : public Napi::AsyncWorker {
 public:
  ForwardWorker(Napi::Env env, std::shared_ptr<EngineHandle> handle, engine::Batch batch, EngineWrap* wrap,
                Napi::Object wrap_object)
      : Napi::AsyncWorker(env, "pooled.forward"),
        deferred_(Napi::Promise::Deferred::New(env)),
        handle_(std::move(handle)),
        batch_(std::move(batch)),
        wrap_(wrap),
        wrap_ref_(Napi::Persistent(wrap_object)) {}

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
    wrap_->ForwardSettled(Env());
    deferred_.Resolve(NewFloat32Array(Env(), pooled_.data(), pooled_.size()));
  }
  void OnError(const Napi::Error& error) override {
    wrap_->ForwardSettled(Env());
    deferred_.Reject(error.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<EngineHandle> handle_;
  engine::Batch batch_;
  std::vector<float> pooled_;
  EngineWrap* wrap_;
  Napi::ObjectReference wrap_ref_;  // keeps the JS object (and so wrap_) alive until settled
};

// The JS batch (src/backends/backend.ts RaggedBatch) into a plain struct; every array's type and length checked here.
engine::Batch ReadBatch(Napi::Env env, const Napi::Value& value) {
  const Napi::Object b = ExpectObject(value, "batch");
  engine::Batch batch;
  const auto token_ids = ExpectInt32Array(b.Get("tokenIds"), "batch.tokenIds");
  batch.token_ids = CopyArray(token_ids);
  batch.positions =
      CopyArray(ExpectInt32Array(b.Get("positions"), "batch.positions", static_cast<int64_t>(token_ids.length)));
  if (!IsNullish(b.Get("tokenTypeIds"))) {
    batch.token_type_ids = CopyArray(
        ExpectInt32Array(b.Get("tokenTypeIds"), "batch.tokenTypeIds", static_cast<int64_t>(token_ids.length)));
  }
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
      const auto table =
          ExpectInt32Array(tables.As<Napi::Array>().Get(s), "batch.blockTables[" + std::to_string(s) + "]");
      batch.block_tables.insert(batch.block_tables.end(), table.data, table.data + table.length);
      if (batch.block_tables.size() > static_cast<size_t>(INT32_MAX))
        throw Napi::RangeError::New(env, "batch.blockTables is too long");
      batch.block_table_offsets.push_back(static_cast<int32_t>(batch.block_tables.size()));
    }
  }
  return batch;
}

Napi::Value EngineWrap::Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThrowIfDisposed(env);
  engine::Batch batch = ReadBatch(env, info[0]);
  auto* worker = new ForwardWorker(env, handle_, std::move(batch), this, info.This().As<Napi::Object>());
  ++in_flight_;
  worker->Queue();
  return worker->Promise();
}

class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, engine::EngineRecipe recipe, engine::TensorMap tensors, kc::ElementType weight_type,
             int threads, std::vector<Napi::ObjectReference> pins, Napi::Object table_bytes)
      : Napi::AsyncWorker(env, "pooled.loadEngine"),
        deferred_(Napi::Promise::Deferred::New(env)),
        recipe_(std::move(recipe)),
        tensors_(std::move(tensors)),
        weight_type_(weight_type),
        threads_(threads),
        pins_(std::move(pins)),
        table_bytes_(Napi::Persistent(table_bytes)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      handle_ = std::make_shared<EngineHandle>();
      handle_->family = recipe_.family;
      engine::TensorRef& table = tensors_.at(recipe_.embedding_table);
      // Vector loads are unaligned-safe, but a float32 table at an odd byte offset would not be a valid float*:
      // copy it only then.
      if (reinterpret_cast<uintptr_t>(table.data) % kc::ElementSize(table.type) != 0) {
        handle_->table_copy = kc::AlignedBuffer(table.byte_length);
        std::memcpy(handle_->table_copy.data(), table.data, table.byte_length);
        table.data = handle_->table_copy.data();
      }
      handle_->engine = recipe_.load(tensors_, weight_type_, threads_);
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("loading the model failed");
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    auto* data = env.GetInstanceData<AddonData>();
    auto external = Napi::External<std::shared_ptr<EngineHandle>>::New(env, &handle_);
    // The constructor copies the shared_ptr out of the External before this worker (and handle_) goes away.
    deferred_.Resolve(data->engine_constructor.New({external, table_bytes_.Value()}));
  }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  engine::EngineRecipe recipe_;
  engine::TensorMap tensors_;
  kc::ElementType weight_type_;
  int threads_;
  std::vector<Napi::ObjectReference> pins_;  // every tensor's bytes, until packing is done
  Napi::ObjectReference table_bytes_;
  std::shared_ptr<EngineHandle> handle_;
};

// spec.config's own numbers and strings, by key; other values (arrays, objects, booleans) are not read by any graph.
engine::ConfigValues ReadConfigValues(const Napi::Object& config) {
  engine::ConfigValues values;
  const Napi::Array keys = config.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    const Napi::Value key = keys.Get(i);
    if (!key.IsString()) continue;
    const Napi::Value value = config.Get(key);
    if (value.IsNumber()) values.numbers[key.As<Napi::String>().Utf8Value()] = value.As<Napi::Number>().DoubleValue();
    if (value.IsString()) values.strings[key.As<Napi::String>().Utf8Value()] = value.As<Napi::String>().Utf8Value();
  }
  return values;
}

Napi::Value LoadEngine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object spec = ExpectObject(info[0], "spec");
  const std::string family = ExpectString(spec.Get("family"), "spec.family");
  const Napi::Object config = ExpectObject(spec.Get("config"), "spec.config");
  engine::EngineRecipe recipe;
  try {
    recipe = engine::PrepareEngine(family, ReadConfigValues(config));
  } catch (const engine::ConfigError& e) {
    if (e.kind() == engine::ConfigError::Kind::kRange) throw Napi::RangeError::New(env, e.what());
    throw Napi::TypeError::New(env, e.what());
  }
  const kc::ElementType weight_type = ParsePrecision(spec.Get("dtype"), "spec.dtype");
  const int threads = static_cast<int>(ExpectInteger(spec.Get("threads"), "spec.threads", 0, 4096));

  PinnedTensors checkpoint = ReadTensorList(env, spec.Get("tensors"), recipe.embedding_table);

  auto* worker = new LoadWorker(env, std::move(recipe), std::move(checkpoint.tensors), weight_type, threads,
                                std::move(checkpoint.pins), checkpoint.table_bytes);
  worker->Queue();
  return worker->Promise();
}

}  // namespace

void RegisterEngine(Napi::Env env, Napi::Object exports, AddonData* data) {
  Napi::Function constructor = EngineWrap::Define(env);
  data->engine_constructor = Napi::Persistent(constructor);
  exports.Set("NativeEngine", constructor);
  exports.Set("loadEngine", Napi::Function::New(env, LoadEngine, "loadEngine"));
  // V8's running total of external memory (every engine's reports included); tests check the reports against it, as
  // neither process.memoryUsage() nor v8.getHeapStatistics() shows it.
  exports.Set("externalMemoryBytes",
              Napi::Function::New(
                  env,
                  [](const Napi::CallbackInfo& info) -> Napi::Value {
                    return Napi::Number::New(
                        info.Env(), static_cast<double>(Napi::MemoryManagement::AdjustExternalMemory(info.Env(), 0)));
                  },
                  "externalMemoryBytes"));
}

}  // namespace pooled::addon
