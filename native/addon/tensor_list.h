#pragma once
// spec.tensors (an array of {name, dtype, shape, bytes}) -> views of the checkpoint bytes, pinned so native code can
// read them after the call returns. Shared by every architecture's loadModel.
#include <napi.h>

#include <vector>

#include "engine/engine.h"  // TensorRef, TensorMap

namespace pooled::addon {

struct PinnedTensors {
  engine::TensorMap tensors;
  std::vector<Napi::ObjectReference> pins;
  // The bytes of the embedding table the engine reads in place for the model's life (pinned by the model object).
  Napi::Object table_bytes;
};

// Throws a TypeError naming the element at fault; `table_name` must be among the tensors.
PinnedTensors ReadTensorList(Napi::Env env, const Napi::Value& tensor_list, const char* table_name);

}  // namespace pooled::addon
