#pragma once
// Native memory seen from JS: an account that keeps V8's external-memory count equal to what an engine holds (so V8's
// GC heuristics see it), and the async releaseWorkingMemory() call (engine_binding.cpp).
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

// engine.releaseWorkingMemory() -> Promise<number> (bytes released). Unmapping a few hundred MB of touched pages and
// walking malloc's arenas take milliseconds, so they run on a libuv thread like a forward. `Wrap` is the
// ObjectWrap: it provides SyncWorkingBytes(env), called back on the JS thread to report the new size.
template <typename Handle, typename Wrap>
class ReleaseWorkingMemoryWorker : public Napi::AsyncWorker {
 public:
  ReleaseWorkingMemoryWorker(Napi::Env env, std::shared_ptr<Handle> handle, Wrap* wrap, Napi::Object wrap_object)
      : Napi::AsyncWorker(env, "pooled.releaseWorkingMemory"),
        deferred_(Napi::Promise::Deferred::New(env)),
        handle_(std::move(handle)),
        wrap_(wrap),
        wrap_ref_(Napi::Persistent(wrap_object)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    released_ = handle_->engine->ReleaseWorkingMemory();
    // Per-forward vectors (batch copies, pooled rows, index lists) were freed into glibc's per-thread arenas, which
    // keep free pages resident; hand them back too while the engine is idle.
    engine::TrimFreeHeapMemory();
  }
  void OnOK() override {
    wrap_->SyncWorkingBytes(Env());
    deferred_.Resolve(Napi::Number::New(Env(), static_cast<double>(released_)));
  }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<Handle> handle_;
  Wrap* wrap_;
  Napi::ObjectReference wrap_ref_;  // keeps the JS object (and so wrap_) alive until settled
  size_t released_ = 0;
};

}  // namespace pooled::addon
