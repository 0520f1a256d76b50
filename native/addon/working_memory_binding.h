#pragma once
// What the BERT and Qwen3 model bindings share about native memory: an account that keeps V8's external-memory count
// equal to what a model holds (so V8's GC heuristics see it), and the async releaseWorkingMemory() call.
#include <napi.h>

#include <cstdint>
#include <memory>
#include <utility>

#include "engine/working_memory.h"

namespace pooled::addon {

// Bytes last reported to V8 for one quantity; each report adjusts by the difference. JS thread only.
class ExternalMemoryAccount {
 public:
  void Report(Napi::Env env, int64_t bytes) {
    if (bytes == reported_) return;
    Napi::MemoryManagement::AdjustExternalMemory(env, bytes - reported_);
    reported_ = bytes;
  }
  int64_t reported() const { return reported_; }

 private:
  int64_t reported_ = 0;
};

// model.releaseWorkingMemory() -> Promise<number> (bytes released). Unmapping a few hundred MB of touched pages and
// walking malloc's arenas take milliseconds, so they run on a libuv thread like a forward. `Model` is the
// ObjectWrap: it provides SyncWorkingBytes(env), called back on the JS thread to report the new size.
template <typename Handle, typename Model>
class ReleaseWorkingMemoryWorker : public Napi::AsyncWorker {
 public:
  ReleaseWorkingMemoryWorker(Napi::Env env, std::shared_ptr<Handle> handle, Model* model, Napi::Object model_object)
      : Napi::AsyncWorker(env, "pooled.releaseWorkingMemory"),
        deferred_(Napi::Promise::Deferred::New(env)),
        handle_(std::move(handle)),
        model_(model),
        model_ref_(Napi::Persistent(model_object)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    released_ = handle_->engine->ReleaseWorkingMemory();
    // Per-forward vectors (batch copies, pooled rows, index lists) were freed into glibc's per-thread arenas, which
    // keep free pages resident; hand them back too while the model is idle.
    engine::TrimFreeHeapMemory();
  }
  void OnOK() override {
    model_->SyncWorkingBytes(Env());
    deferred_.Resolve(Napi::Number::New(Env(), static_cast<double>(released_)));
  }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<Handle> handle_;
  Model* model_;
  Napi::ObjectReference model_ref_;  // keeps the JS object (and so model_) alive until settled
  size_t released_ = 0;
};

}  // namespace pooled::addon
