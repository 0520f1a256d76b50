#pragma once
// Picks the graph for a spec's family name: the only place outside native/engine/graphs/ that names a family.
#include <functional>
#include <memory>
#include <string>

#include "engine/config_values.h"
#include "engine/engine.h"

namespace pooled::engine {

// What loading one model takes, prepared on the JS thread (config checked) and run on a worker (tensors checked, then
// packed): `embedding_table` names the tensor the engine reads in place for its whole life.
struct EngineRecipe {
  std::string family;
  const char* embedding_table = nullptr;
  std::function<std::unique_ptr<Engine>(const TensorMap& tensors, ElementType weight_type, int num_threads)> load;
};

// Throws ConfigError for an unknown family or a bad config value.
EngineRecipe PrepareEngine(const std::string& family, const ConfigValues& config);

}  // namespace pooled::engine
