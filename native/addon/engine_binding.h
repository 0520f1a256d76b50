#pragma once
#include <napi.h>

#include "addon/addon_data.h"

namespace pooled::addon {
// Exports loadEngine(spec) -> Promise<NativeEngine> (every family; spec.family picks the graph), the NativeEngine
// class and externalMemoryBytes().
void RegisterEngine(Napi::Env env, Napi::Object exports, AddonData* data);
}  // namespace pooled::addon
