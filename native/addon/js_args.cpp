#include "addon/js_args.h"

#include <cmath>
#include <cstring>

namespace pooled::addon {

namespace kc = kernels::cpu;

namespace {
[[noreturn]] void TypeFail(const Napi::Env& env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

template <typename T>
ArrayView<T> ExpectTypedArray(const Napi::Value& value, const std::string& name, napi_typedarray_type type,
                              const char* type_name, int64_t expected_length) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != type) {
    TypeFail(value.Env(), name + " must be a " + type_name);
  }
  auto array = value.As<Napi::TypedArray>();
  const size_t length = array.ElementLength();
  if (expected_length >= 0 && length != static_cast<size_t>(expected_length)) {
    throw Napi::RangeError::New(
        value.Env(), name + " has " + std::to_string(length) + " values, expected " + std::to_string(expected_length));
  }
  ArrayView<T> view;
  view.length = length;
  view.data = length == 0
                  ? nullptr
                  : reinterpret_cast<T*>(static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset());
  return view;
}
}  // namespace

bool IsNullish(const Napi::Value& value) { return value.IsUndefined() || value.IsNull(); }

Napi::Object ExpectObject(const Napi::Value& value, const std::string& name) {
  if (!value.IsObject()) TypeFail(value.Env(), name + " must be an object");
  return value.As<Napi::Object>();
}

double ExpectNumber(const Napi::Value& value, const std::string& name) {
  if (!value.IsNumber()) TypeFail(value.Env(), name + " must be a number");
  return value.As<Napi::Number>().DoubleValue();
}

int64_t ExpectInteger(const Napi::Value& value, const std::string& name, int64_t min, int64_t max) {
  const double x = ExpectNumber(value, name);
  if (!std::isfinite(x) || std::floor(x) != x || x < static_cast<double>(min) || x > static_cast<double>(max)) {
    throw Napi::RangeError::New(
        value.Env(), name + " must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return static_cast<int64_t>(x);
}

std::string ExpectString(const Napi::Value& value, const std::string& name) {
  if (!value.IsString()) TypeFail(value.Env(), name + " must be a string");
  return value.As<Napi::String>().Utf8Value();
}

ArrayView<float> ExpectFloat32Array(const Napi::Value& value, const std::string& name, int64_t expected_length) {
  return ExpectTypedArray<float>(value, name, napi_float32_array, "Float32Array", expected_length);
}
ArrayView<int32_t> ExpectInt32Array(const Napi::Value& value, const std::string& name, int64_t expected_length) {
  return ExpectTypedArray<int32_t>(value, name, napi_int32_array, "Int32Array", expected_length);
}
ArrayView<uint8_t> ExpectUint8Array(const Napi::Value& value, const std::string& name, int64_t expected_length) {
  return ExpectTypedArray<uint8_t>(value, name, napi_uint8_array, "Uint8Array", expected_length);
}
ArrayView<uint16_t> ExpectUint16Array(const Napi::Value& value, const std::string& name, int64_t expected_length) {
  return ExpectTypedArray<uint16_t>(value, name, napi_uint16_array, "Uint16Array", expected_length);
}

const void* ExpectElementArray(const Napi::Value& value, const std::string& name, kc::ElementType type,
                               int64_t expected_length) {
  if (type == kc::ElementType::kF32) return ExpectFloat32Array(value, name, expected_length).data;
  return ExpectUint16Array(value, name, expected_length).data;
}

kc::ElementType ParseCheckpointDType(const Napi::Value& value, const std::string& name) {
  const std::string s = ExpectString(value, name);
  if (s == "F32") return kc::ElementType::kF32;
  if (s == "F16") return kc::ElementType::kF16;
  if (s == "BF16") return kc::ElementType::kBF16;
  throw Napi::TypeError::New(value.Env(), name + " must be 'F32', 'F16' or 'BF16', got '" + s + "'");
}

kc::ElementType ParsePrecision(const Napi::Value& value, const std::string& name) {
  const std::string s = ExpectString(value, name);
  if (s == "float32") return kc::ElementType::kF32;
  if (s == "bfloat16") return kc::ElementType::kBF16;
  if (s == "int8") return kc::ElementType::kInt8;
  throw Napi::TypeError::New(value.Env(), name + " must be 'float32', 'bfloat16' or 'int8', got '" + s + "'");
}

kc::Activation ParseActivation(const Napi::Value& value, const std::string& name) {
  if (IsNullish(value)) return kc::Activation::kNone;
  const std::string s = ExpectString(value, name);
  if (s == "none") return kc::Activation::kNone;
  if (s == "gelu") return kc::Activation::kGeluErf;
  if (s == "gelu_new" || s == "gelu_pytorch_tanh") return kc::Activation::kGeluTanh;
  if (s == "relu") return kc::Activation::kRelu;
  throw Napi::TypeError::New(
      value.Env(), name + " must be 'none', 'gelu', 'gelu_new', 'gelu_pytorch_tanh' or 'relu', got '" + s + "'");
}

kc::Activation ParseGatedActivation(const Napi::Value& value, const std::string& name) {
  const std::string s = ExpectString(value, name);
  if (s == "silu") return kc::Activation::kSilu;
  if (s == "gelu") return kc::Activation::kGeluErf;
  if (s == "gelu_new" || s == "gelu_pytorch_tanh") return kc::Activation::kGeluTanh;
  throw Napi::TypeError::New(value.Env(),
                             name + " must be 'silu', 'gelu', 'gelu_new' or 'gelu_pytorch_tanh', got '" + s + "'");
}

kc::GatedHalf ParseGatedHalf(const Napi::Value& value, const std::string& name) {
  const std::string s = ExpectString(value, name);
  if (s == "first") return kc::GatedHalf::kFirst;
  if (s == "second") return kc::GatedHalf::kSecond;
  throw Napi::TypeError::New(value.Env(), name + " must be 'first' or 'second', got '" + s + "'");
}

kc::PoolingMode ParsePooling(const Napi::Value& value, const std::string& name) {
  const std::string s = ExpectString(value, name);
  if (s == "cls") return kc::PoolingMode::kCls;
  if (s == "mean") return kc::PoolingMode::kMean;
  if (s == "last") return kc::PoolingMode::kLast;
  throw Napi::TypeError::New(value.Env(), name + " must be 'cls', 'mean' or 'last', got '" + s + "'");
}

Napi::Float32Array NewFloat32Array(Napi::Env env, const float* data, size_t length) {
  Napi::Float32Array out = Napi::Float32Array::New(env, length);
  if (length > 0) std::memcpy(out.Data(), data, length * sizeof(float));
  return out;
}

}  // namespace pooled::addon
