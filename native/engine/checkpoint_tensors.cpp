#include "engine/checkpoint_tensors.h"

#include <cstring>
#include <stdexcept>

#include "kernels/cpu/element_convert.h"

namespace pooled::engine {

namespace kc = kernels::cpu;
using kc::ElementType;

namespace {

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

void WeightsFail(const char* label, const std::string& message) {
  throw std::invalid_argument(std::string(label) + ": " + message);
}

const TensorRef& ExpectTensor(const TensorMap& tensors, const std::string& name, const std::vector<int64_t>& shape,
                              const char* label) {
  const auto it = tensors.find(name);
  if (it == tensors.end()) WeightsFail(label, "missing tensor " + name);
  const TensorRef& t = it->second;
  if (t.type != ElementType::kF32 && t.type != ElementType::kF16 && t.type != ElementType::kBF16) {
    WeightsFail(label, name + ": unsupported element type");
  }
  if (t.shape != shape)
    WeightsFail(label, name + ": shape " + ShapeString(t.shape) + ", expected " + ShapeString(shape));
  size_t count = 1;
  for (int64_t d : shape) count *= static_cast<size_t>(d);
  if (t.byte_length != count * kc::ElementSize(t.type)) {
    WeightsFail(label, name + ": " + std::to_string(t.byte_length) + " bytes, expected " +
                           std::to_string(count * kc::ElementSize(t.type)) + " for " + kc::ElementTypeName(t.type) +
                           " " + ShapeString(shape) + " (truncated or malformed file?)");
  }
  if (t.data == nullptr && count > 0) WeightsFail(label, name + ": no data");
  return t;
}

float ElementToFloat(const void* data, ElementType type, size_t i) {
  switch (type) {
    case ElementType::kF32:
      return static_cast<const float*>(data)[i];
    case ElementType::kF16:
      return kc::convert::F16ToFloat(static_cast<const uint16_t*>(data)[i]);
    case ElementType::kBF16:
      return kc::convert::Bf16ToFloat(static_cast<const uint16_t*>(data)[i]);
  }
  return 0.0f;
}

std::vector<float> TensorToFloat(const TensorRef& t) {
  const size_t count = t.byte_length / kc::ElementSize(t.type);
  std::vector<float> out(count);
  if (t.type == ElementType::kF32) {
    if (count > 0) std::memcpy(out.data(), t.data, t.byte_length);
  } else {
    for (size_t i = 0; i < count; ++i) out[i] = ElementToFloat(t.data, t.type, i);
  }
  return out;
}

kc::PackedWeights PackStacked(const std::vector<const TensorRef*>& parts, int64_t k, ElementType target,
                              const char* label) {
  const ElementType type = parts.front()->type;
  size_t bytes = 0;
  int64_t rows = 0;
  for (const TensorRef* part : parts) {
    if (part->type != type) WeightsFail(label, "weights packed together (q|k|v, gate|up) must share one element type");
    bytes += part->byte_length;
    rows += part->shape[0];
  }
  std::vector<unsigned char> stacked(bytes);
  size_t offset = 0;
  for (const TensorRef* part : parts) {
    std::memcpy(stacked.data() + offset, part->data, part->byte_length);
    offset += part->byte_length;
  }
  return kc::PackWeights(stacked.data(), type, rows, k, target);
}

}  // namespace pooled::engine
