#pragma once
// Per-environment state of the addon (worker threads each load their own copy of the module).
#include <napi.h>

#include <memory>

#include "kernels/cpu/thread_pool.h"

namespace pooled::addon {

struct AddonData {
  Napi::FunctionReference engine_constructor;
  Napi::FunctionReference packed_weights_constructor;
  // The pool op-level calls run on (engines have their own); created on first use, resized by setOpThreads.
  std::unique_ptr<kernels::cpu::ThreadPool> op_pool;
};

}  // namespace pooled::addon
