#pragma once
// Reading JS arguments into plain C++ values on the JS thread, with TypeErrors that name the argument. Typed
// arrays are checked for their element type and length here, so native code never sees a short buffer.
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cpu/kernels.h"

namespace pooled::addon {

// A typed array's memory (not copied): valid while the JS array is alive and not detached.
template <typename T>
struct ArrayView {
  T* data = nullptr;
  size_t length = 0;
};

Napi::Object ExpectObject(const Napi::Value& value, const std::string& name);
int64_t ExpectInteger(const Napi::Value& value, const std::string& name, int64_t min, int64_t max);
double ExpectNumber(const Napi::Value& value, const std::string& name);
std::string ExpectString(const Napi::Value& value, const std::string& name);
bool IsNullish(const Napi::Value& value);

ArrayView<float> ExpectFloat32Array(const Napi::Value& value, const std::string& name, int64_t expected_length = -1);
ArrayView<int32_t> ExpectInt32Array(const Napi::Value& value, const std::string& name, int64_t expected_length = -1);
ArrayView<uint8_t> ExpectUint8Array(const Napi::Value& value, const std::string& name, int64_t expected_length = -1);
ArrayView<uint16_t> ExpectUint16Array(const Napi::Value& value, const std::string& name, int64_t expected_length = -1);
// A Float32Array (float32) or a Uint16Array holding raw float16/bfloat16 bits, as `type` says.
const void* ExpectElementArray(const Napi::Value& value, const std::string& name, kernels::cpu::ElementType type,
                               int64_t expected_length);

template <typename T>
std::vector<T> CopyArray(const ArrayView<T>& view) {
  return std::vector<T>(view.data, view.data + view.length);
}

// 'F32' | 'F16' | 'BF16' (checkpoint dtypes) and 'float32' | 'bfloat16' | 'int8' (engine precision).
kernels::cpu::ElementType ParseCheckpointDType(const Napi::Value& value, const std::string& name);
kernels::cpu::ElementType ParsePrecision(const Napi::Value& value, const std::string& name);
kernels::cpu::Activation ParseActivation(const Napi::Value& value, const std::string& name);
// 'silu' | 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' (the activations GatedActivation takes).
kernels::cpu::Activation ParseGatedActivation(const Napi::Value& value, const std::string& name);
// 'first' | 'second'.
kernels::cpu::GatedHalf ParseGatedHalf(const Napi::Value& value, const std::string& name);
kernels::cpu::PoolingMode ParsePooling(const Napi::Value& value, const std::string& name);

Napi::Float32Array NewFloat32Array(Napi::Env env, const float* data, size_t length);

}  // namespace pooled::addon
