#pragma once
#include <napi.h>

#include "addon/addon_data.h"

namespace pooled::addon {

// loadQwen3Model(spec) -> Promise<NativeQwen3Model>; the model's forward takes the decoder batch fields.
void RegisterQwen3Model(Napi::Env env, Napi::Object exports, AddonData* data);

}  // namespace pooled::addon
