#pragma once
#include <napi.h>

#include "addon/addon_data.h"

namespace pooled::addon {
// Exports the op-level entry points (synchronous, on the calling thread plus the op pool) used by kernel tests
// and microbenchmarks: packWeights, gemm, biasActivation, layerNorm, embeddings, attention, pool, peakGflops.
void RegisterOps(Napi::Env env, Napi::Object exports, AddonData* data);
}  // namespace pooled::addon
