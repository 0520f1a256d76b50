#include "addon/cpu_features_binding.h"

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/kernels.h"

namespace pooled::addon {

namespace {
Napi::Value CpuFeaturesJs(const Napi::CallbackInfo& info) {
  const auto& f = pooled::kernels::cpu::DetectCpuFeatures();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("arch", Napi::String::New(info.Env(), f.arch));
  o.Set("avx2", Napi::Boolean::New(info.Env(), f.avx2));
  o.Set("fma", Napi::Boolean::New(info.Env(), f.fma));
  o.Set("f16c", Napi::Boolean::New(info.Env(), f.f16c));
  o.Set("avx512f", Napi::Boolean::New(info.Env(), f.avx512f));
  o.Set("avx512bw", Napi::Boolean::New(info.Env(), f.avx512bw));
  o.Set("avx512vl", Napi::Boolean::New(info.Env(), f.avx512vl));
  o.Set("avx512bf16", Napi::Boolean::New(info.Env(), f.avx512bf16));
  o.Set("avx512vnni", Napi::Boolean::New(info.Env(), f.avx512vnni));
  o.Set("avxvnni", Napi::Boolean::New(info.Env(), f.avxvnni));
  o.Set("int8Dot", Napi::Boolean::New(info.Env(), pooled::kernels::cpu::HasInt8DotProduct()));
  o.Set("neon", Napi::Boolean::New(info.Env(), f.neon));
  o.Set("isa", Napi::String::New(info.Env(), pooled::kernels::cpu::IsaName(pooled::kernels::cpu::SelectedIsa())));
  return o;
}
}  // namespace

void RegisterCpuFeatures(Napi::Env env, Napi::Object exports) {
  exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeaturesJs, "cpuFeatures"));
}

}  // namespace pooled::addon
