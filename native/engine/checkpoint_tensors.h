#pragma once
// Checks and conversions of checkpoint tensors shared by every architecture's engine. Each takes the engine's label
// ("BERT weights", "Qwen3 weights") so its errors name the model they belong to.
#include <cstddef>
#include <string>
#include <vector>

#include "engine/engine.h"  // TensorRef, TensorMap
#include "kernels/cpu/kernels.h"

namespace pooled::engine {

[[noreturn]] void WeightsFail(const char* label, const std::string& message);

// Presence, element type, shape and byte length of one tensor; nothing is read before all of them pass.
const TensorRef& ExpectTensor(const TensorMap& tensors, const std::string& name, const std::vector<int64_t>& shape,
                              const char* label);

// Element i of a float32 / float16 / bfloat16 array as float32.
float ElementToFloat(const void* data, kernels::cpu::ElementType type, size_t i);

// The whole tensor as float32 (a copy).
std::vector<float> TensorToFloat(const TensorRef& t);

// Several [rows_i, k] weights of one element type packed as one [sum rows_i, k] matrix (fused q|k|v, gate|up).
kernels::cpu::PackedWeights PackStacked(const std::vector<const TensorRef*>& parts, int64_t k,
                                        kernels::cpu::ElementType target, const char* label);

// One engine's view of its checkpoint: the checks above bound to the engine's label, so its Load reads like the list
// of tensors it needs.
class CheckpointReader {
 public:
  CheckpointReader(const TensorMap& tensors, const char* label) : tensors_(tensors), label_(label) {}
  [[noreturn]] void Fail(const std::string& message) const { WeightsFail(label_, message); }
  const TensorRef& Expect(const std::string& name, const std::vector<int64_t>& shape) const {
    return ExpectTensor(tensors_, name, shape, label_);
  }
  kernels::cpu::PackedWeights PackStacked(const std::vector<const TensorRef*>& parts, int64_t k,
                                          kernels::cpu::ElementType target) const {
    return engine::PackStacked(parts, k, target, label_);
  }

 private:
  const TensorMap& tensors_;
  const char* label_;
};

}  // namespace pooled::engine
