#include "addon/tensor_list.h"

#include <string>

#include "addon/js_args.h"

namespace pooled::addon {

PinnedTensors ReadTensorList(Napi::Env env, const Napi::Value& tensor_list, const char* table_name) {
  constexpr int64_t kMaxDim = int64_t{1} << 31;
  if (!tensor_list.IsArray()) throw Napi::TypeError::New(env, "spec.tensors must be an array");
  const Napi::Array array = tensor_list.As<Napi::Array>();
  PinnedTensors out;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    const std::string where = "spec.tensors[" + std::to_string(i) + "]";
    const Napi::Object t = ExpectObject(array.Get(i), where);
    const std::string name = ExpectString(t.Get("name"), where + ".name");
    engine::TensorRef ref;
    ref.type = ParseCheckpointDType(t.Get("dtype"), where + ".dtype");
    const Napi::Value shape = t.Get("shape");
    if (!shape.IsArray()) throw Napi::TypeError::New(env, where + ".shape must be an array");
    for (uint32_t d = 0; d < shape.As<Napi::Array>().Length(); ++d) {
      ref.shape.push_back(
          ExpectInteger(shape.As<Napi::Array>().Get(d), where + ".shape[" + std::to_string(d) + "]", 0, kMaxDim));
    }
    const Napi::Value bytes_value = t.Get("bytes");
    const auto bytes = ExpectUint8Array(bytes_value, where + ".bytes");
    ref.data = bytes.data;
    ref.byte_length = bytes.length;
    if (!out.tensors.emplace(name, ref).second) throw Napi::TypeError::New(env, "duplicate tensor " + name);
    out.pins.push_back(Napi::Persistent(bytes_value.As<Napi::Object>()));
    if (name == table_name) out.table_bytes = bytes_value.As<Napi::Object>();
  }
  if (out.table_bytes.IsEmpty()) throw Napi::TypeError::New(env, std::string("spec.tensors has no ") + table_name);
  return out;
}

}  // namespace pooled::addon
