#pragma once
#include <napi.h>

#include "addon/addon_data.h"

namespace pooled::addon {
// Exports loadModel(spec) -> Promise<NativeModel> and the NativeModel class (forward, dispose).
void RegisterModel(Napi::Env env, Napi::Object exports, AddonData* data);
}  // namespace pooled::addon
