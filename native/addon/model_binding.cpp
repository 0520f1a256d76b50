// loadModel(spec) -> Promise<Model>, Model.forward(batch) -> Promise<Float32Array>, Model.releaseWorkingMemory() ->
// Promise<number>, Model.dispose(). Weights and working buffers are reported to V8 as external memory.
//
// Three phases per call (sharp, node-llama-cpp): on the JS thread, read the arguments into plain C++ structs and
// pin the JS buffers native code will read; on a libuv worker, compute with no N-API call (the engine's own pool
// joins in, the libuv thread being one of its N threads); back on the JS thread, settle the promise.
// Weights cross the boundary once: packing reads the checkpoint bytes in place from the pinned Uint8Arrays, and
// the word embedding table stays pinned and is read in place for the model's life.
#include "addon/model_binding.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "addon/js_args.h"
#include "addon/tensor_list.h"
#include "addon/working_memory_binding.h"
#include "engine/bert_engine.h"
#include "kernels/cpu/cpu_features.h"

namespace pooled::addon {

namespace kc = kernels::cpu;
using engine::BertEngine;

namespace {

constexpr const char* kWordTable = "embeddings.word_embeddings.weight";

// The engine plus what its word table points into when the JS bytes could not be used in place.
struct EngineHandle {
  std::unique_ptr<BertEngine> engine;
  kc::AlignedBuffer word_copy;
};

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeModel",
                       {InstanceMethod<&ModelWrap::Forward>("forward"), InstanceMethod<&ModelWrap::Dispose>("dispose"),
                        InstanceMethod<&ModelWrap::ReleaseWorkingMemory>("releaseWorkingMemory"),
                        InstanceAccessor<&ModelWrap::NativeBytes>("nativeBytes"),
                        InstanceAccessor<&ModelWrap::WorkingBytes>("workingBytes"), InstanceAccessor<&ModelWrap::Threads>("threads"),
                        InstanceAccessor<&ModelWrap::DType>("dtype"), InstanceAccessor<&ModelWrap::Disposed>("disposed")});
  }

  explicit ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {
    // Only loadModel constructs models: it passes the loaded engine as an External.
    if (info.Length() != 2 || !info[0].IsExternal() || !info[1].IsObject()) {
      throw Napi::TypeError::New(info.Env(), "NativeModel cannot be constructed directly: use loadModel()");
    }
    handle_ = *info[0].As<Napi::External<std::shared_ptr<EngineHandle>>>().Data();
    word_pin_ = Napi::Persistent(info[1].As<Napi::Object>());
    native_bytes_ = static_cast<int64_t>(handle_->engine->NativeBytes() + handle_->word_copy.size());
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), native_bytes_);
  }

  ~ModelWrap() override {
    if (native_bytes_ != 0) Napi::MemoryManagement::AdjustExternalMemory(Env(), -native_bytes_);
    working_memory_.Report(Env(), 0);
  }

  void ForwardSettled(Napi::Env env) {
    --in_flight_;
    if (disposed_ && in_flight_ == 0) word_pin_.Reset();
    SyncWorkingBytes(env);
  }

  // Reports the engine's working buffers to V8 as they are now (after a forward grew them or a release freed them).
  void SyncWorkingBytes(Napi::Env env) { working_memory_.Report(env, handle_ ? static_cast<int64_t>(handle_->engine->WorkingBytes()) : 0); }

 private:
  Napi::Value Forward(const Napi::CallbackInfo& info);

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    if (!disposed_) {
      disposed_ = true;
      // A forward still running keeps the engine (shared_ptr) and, until it settles, the pinned table.
      handle_.reset();
      if (in_flight_ == 0) word_pin_.Reset();
      Napi::MemoryManagement::AdjustExternalMemory(info.Env(), -native_bytes_);
      native_bytes_ = 0;
      working_memory_.Report(info.Env(), 0);
    }
    return info.Env().Undefined();
  }

  Napi::Value ReleaseWorkingMemory(const Napi::CallbackInfo& info) {
    if (disposed_ || !handle_) throw Napi::Error::New(info.Env(), "the model is disposed");
    auto* worker = new ReleaseWorkingMemoryWorker<EngineHandle, ModelWrap>(info.Env(), handle_, this, info.This().As<Napi::Object>());
    worker->Queue();
    return worker->Promise();
  }

  Napi::Value NativeBytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(native_bytes_)); }
  Napi::Value WorkingBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), handle_ ? static_cast<double>(handle_->engine->WorkingBytes()) : 0.0);
  }
  Napi::Value Threads(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), handle_ ? handle_->engine->num_threads() : 0);
  }
  Napi::Value DType(const Napi::CallbackInfo& info) {
    if (!handle_) return info.Env().Undefined();
    return Napi::String::New(info.Env(), handle_->engine->weight_type() == kc::ElementType::kBF16 ? "bfloat16" : "float32");
  }
  Napi::Value Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disposed_); }

  std::shared_ptr<EngineHandle> handle_;
  Napi::ObjectReference word_pin_;
  int64_t native_bytes_ = 0;
  ExternalMemoryAccount working_memory_;
  int in_flight_ = 0;
  bool disposed_ = false;
};

class ForwardWorker : public Napi::AsyncWorker {
 public:
  ForwardWorker(Napi::Env env, std::shared_ptr<EngineHandle> handle, engine::RaggedBatch batch, ModelWrap* model,
                Napi::Object model_object)
      : Napi::AsyncWorker(env, "pooled.forward"),
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
  std::shared_ptr<EngineHandle> handle_;
  engine::RaggedBatch batch_;
  std::vector<float> pooled_;
  ModelWrap* model_;
  Napi::ObjectReference model_ref_;  // keeps the JS object (and so model_) alive until settled
};

Napi::Value ModelWrap::Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (disposed_ || !handle_) throw Napi::Error::New(env, "the model is disposed");
  const Napi::Object b = ExpectObject(info[0], "batch");
  engine::RaggedBatch batch;
  const auto token_ids = ExpectInt32Array(b.Get("tokenIds"), "batch.tokenIds");
  batch.token_ids = CopyArray(token_ids);
  batch.positions = CopyArray(ExpectInt32Array(b.Get("positions"), "batch.positions", static_cast<int64_t>(token_ids.length)));
  if (!IsNullish(b.Get("tokenTypeIds"))) {
    batch.token_type_ids = CopyArray(ExpectInt32Array(b.Get("tokenTypeIds"), "batch.tokenTypeIds", static_cast<int64_t>(token_ids.length)));
  }
  const auto cu = ExpectInt32Array(b.Get("cuSeqLens"), "batch.cuSeqLens");
  if (cu.length < 1) throw Napi::RangeError::New(env, "batch.cuSeqLens must have at least one entry");
  batch.cu_seq_lens = CopyArray(cu);
  const int64_t num_seqs = static_cast<int64_t>(cu.length) - 1;
  batch.pooling = ParsePooling(b.Get("pooling"), "batch.pooling");
  batch.dimensions = CopyArray(ExpectInt32Array(b.Get("dimensions"), "batch.dimensions", num_seqs));
  batch.normalize = CopyArray(ExpectUint8Array(b.Get("normalize"), "batch.normalize", num_seqs));

  auto* worker = new ForwardWorker(env, handle_, std::move(batch), this, info.This().As<Napi::Object>());
  ++in_flight_;
  worker->Queue();
  return worker->Promise();
}

class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, engine::BertHyperparameters config, engine::TensorMap tensors, kc::ElementType weight_type,
             int threads, std::vector<Napi::ObjectReference> pins, Napi::Object word_bytes)
      : Napi::AsyncWorker(env, "pooled.loadModel"),
        deferred_(Napi::Promise::Deferred::New(env)),
        config_(config),
        tensors_(std::move(tensors)),
        weight_type_(weight_type),
        threads_(threads),
        pins_(std::move(pins)),
        word_bytes_(Napi::Persistent(word_bytes)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      handle_ = std::make_shared<EngineHandle>();
      engine::TensorRef& word = tensors_.at(kWordTable);
      // Vector loads are unaligned-safe, but a float32 table at an odd byte offset would not be a valid float*:
      // copy it only then.
      if (reinterpret_cast<uintptr_t>(word.data) % kc::ElementSize(word.type) != 0) {
        handle_->word_copy = kc::AlignedBuffer(word.byte_length);
        std::memcpy(handle_->word_copy.data(), word.data, word.byte_length);
        word.data = handle_->word_copy.data();
      }
      handle_->engine = BertEngine::Load(config_, tensors_, weight_type_, threads_);
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
    Napi::Object model = data->model_constructor.New({external, word_bytes_.Value()});
    deferred_.Resolve(model);
  }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  engine::BertHyperparameters config_;
  engine::TensorMap tensors_;
  kc::ElementType weight_type_;
  int threads_;
  std::vector<Napi::ObjectReference> pins_;  // every tensor's bytes, until packing is done
  Napi::ObjectReference word_bytes_;
  std::shared_ptr<EngineHandle> handle_;
};

kc::Activation ParseHiddenAct(const Napi::Value& value) {
  const std::string s = ExpectString(value, "config.hiddenAct");
  if (s == "gelu") return kc::Activation::kGeluErf;
  if (s == "gelu_new" || s == "gelu_pytorch_tanh") return kc::Activation::kGeluTanh;
  if (s == "relu") return kc::Activation::kRelu;
  throw Napi::TypeError::New(value.Env(), "config.hiddenAct '" + s + "' is not supported by the cpu backend");
}

Napi::Value LoadModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object spec = ExpectObject(info[0], "spec");
  const Napi::Object c = ExpectObject(spec.Get("config"), "spec.config");
  constexpr int64_t kMaxDim = int64_t{1} << 31;
  engine::BertHyperparameters config;
  config.vocab_size = ExpectInteger(c.Get("vocabSize"), "config.vocabSize", 1, kMaxDim);
  config.hidden_size = ExpectInteger(c.Get("hiddenSize"), "config.hiddenSize", 1, 1 << 16);
  config.num_layers = ExpectInteger(c.Get("numLayers"), "config.numLayers", 1, 1024);
  config.num_heads = ExpectInteger(c.Get("numHeads"), "config.numHeads", 1, 1 << 16);
  config.intermediate_size = ExpectInteger(c.Get("intermediateSize"), "config.intermediateSize", 1, 1 << 20);
  config.max_position_embeddings = ExpectInteger(c.Get("maxPositionEmbeddings"), "config.maxPositionEmbeddings", 1, kMaxDim);
  config.type_vocab_size = ExpectInteger(c.Get("typeVocabSize"), "config.typeVocabSize", 1, kMaxDim);
  config.layer_norm_eps = static_cast<float>(ExpectNumber(c.Get("layerNormEps"), "config.layerNormEps"));
  config.activation = ParseHiddenAct(c.Get("hiddenAct"));
  const kc::ElementType weight_type = ParsePrecision(spec.Get("dtype"), "spec.dtype");
  const int threads = static_cast<int>(ExpectInteger(spec.Get("threads"), "spec.threads", 0, 4096));

  PinnedTensors checkpoint = ReadTensorList(env, spec.Get("tensors"), kWordTable);

  auto* worker = new LoadWorker(env, config, std::move(checkpoint.tensors), weight_type, threads, std::move(checkpoint.pins), checkpoint.table_bytes);
  worker->Queue();
  return worker->Promise();
}

}  // namespace

void RegisterModel(Napi::Env env, Napi::Object exports, AddonData* data) {
  Napi::Function constructor = ModelWrap::Define(env);
  data->model_constructor = Napi::Persistent(constructor);
  exports.Set("NativeModel", constructor);
  exports.Set("loadModel", Napi::Function::New(env, LoadModel, "loadModel"));
  // V8's running total of external memory (every model's reports included); tests check the reports against it, as
  // neither process.memoryUsage() nor v8.getHeapStatistics() shows it.
  exports.Set("externalMemoryBytes", Napi::Function::New(
                                         env,
                                         [](const Napi::CallbackInfo& info) -> Napi::Value {
                                           return Napi::Number::New(info.Env(), static_cast<double>(Napi::MemoryManagement::AdjustExternalMemory(info.Env(), 0)));
                                         },
                                         "externalMemoryBytes"));
}

}  // namespace pooled::addon
