#pragma once
#include <napi.h>

namespace pooled::addon {
// Exports cpuFeatures(): what the run-time ISA dispatcher detected on this machine.
void RegisterCpuFeatures(Napi::Env env, Napi::Object exports);
}  // namespace pooled::addon
