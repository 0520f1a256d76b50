// The only translation unit family that includes napi.h (native/addon/). Module init: registers every export.
#include <napi.h>

#include "addon/cpu_features_binding.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::String::New(env, POOLED_NATIVE_VERSION));
  pooled::addon::RegisterCpuFeatures(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(pooled_native, Init)
