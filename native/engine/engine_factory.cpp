#include "engine/engine_factory.h"

#include "engine/graphs/bert.h"
#include "engine/graphs/modernbert.h"
#include "engine/graphs/qwen3.h"
#include "engine/graphs/rotary_bert.h"

namespace pooled::engine {

EngineRecipe PrepareEngine(const std::string& family, const ConfigValues& config) {
  EngineRecipe recipe;
  recipe.family = family;
  if (family == "bert") {
    const BertHyperparameters c = ParseBertConfig(config);
    recipe.embedding_table = BertEngine::kEmbeddingTable;
    recipe.load = [c](const TensorMap& tensors, ElementType weight_type, int num_threads) -> std::unique_ptr<Engine> {
      return BertEngine::Load(c, tensors, weight_type, num_threads);
    };
  } else if (family == "qwen3") {
    const Qwen3Hyperparameters c = ParseQwen3Config(config);
    recipe.embedding_table = Qwen3Engine::kEmbeddingTable;
    recipe.load = [c](const TensorMap& tensors, ElementType weight_type, int num_threads) -> std::unique_ptr<Engine> {
      return Qwen3Engine::Load(c, tensors, weight_type, num_threads);
    };
  } else if (family == "rotary_bert") {
    const RotaryBertHyperparameters c = ParseRotaryBertConfig(config);
    recipe.embedding_table = RotaryBertEngine::kEmbeddingTable;
    recipe.load = [c](const TensorMap& tensors, ElementType weight_type, int num_threads) -> std::unique_ptr<Engine> {
      return RotaryBertEngine::Load(c, tensors, weight_type, num_threads);
    };
  } else if (family == "modernbert") {
    const ModernBertHyperparameters c = ParseModernBertConfig(config);
    recipe.embedding_table = ModernBertEngine::kEmbeddingTable;
    recipe.load = [c](const TensorMap& tensors, ElementType weight_type, int num_threads) -> std::unique_ptr<Engine> {
      return ModernBertEngine::Load(c, tensors, weight_type, num_threads);
    };
  } else {
    throw ConfigError(ConfigError::Kind::kType,
                      "spec.family '" + family + "' has no native engine (bert, qwen3, rotary_bert, modernbert)");
  }
  return recipe;
}

}  // namespace pooled::engine
