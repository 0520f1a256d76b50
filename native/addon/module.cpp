// The only translation unit family that includes napi.h (native/addon/). Module init: registers every export.
#include <napi.h>

#include "addon/addon_data.h"
#include "addon/cpu_features_binding.h"
#include "addon/engine_binding.h"
#include "addon/ops_binding.h"
#include "kernels/cpu/cpu_features.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  if (const char* error = pooled::kernels::cpu::IsaRequestError()) {
    throw Napi::Error::New(env, error);
  }
  exports.Set("version", Napi::String::New(env, POOLED_NATIVE_VERSION));
  pooled::addon::RegisterCpuFeatures(env, exports);
  auto* data = new pooled::addon::AddonData();
  env.SetInstanceData<pooled::addon::AddonData>(data);
  pooled::addon::RegisterEngine(env, exports, data);
  pooled::addon::RegisterOps(env, exports, data);
  return exports;
}

}  // namespace

NODE_API_MODULE(pooled_native, Init)
