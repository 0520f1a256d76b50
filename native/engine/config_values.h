#pragma once
// A spec's `config` object as plain values (numbers and strings by key), read on the JS thread by the binding, which
// knows no family; each graph reads the keys it needs from it, with the same checks and messages as JS arguments.
#include <cmath>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

namespace pooled::engine {

// A missing or mistyped value (kType: TypeError in JS) or one out of its range (kRange: RangeError).
class ConfigError : public std::invalid_argument {
 public:
  enum class Kind { kType, kRange };
  ConfigError(Kind kind, const std::string& message) : std::invalid_argument(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

struct ConfigValues {
  std::map<std::string, double> numbers;
  std::map<std::string, std::string> strings;

  double Number(const std::string& key) const {
    const auto it = numbers.find(key);
    if (it == numbers.end()) throw ConfigError(ConfigError::Kind::kType, "config." + key + " must be a number");
    return it->second;
  }
  int64_t Integer(const std::string& key, int64_t min, int64_t max) const {
    const double x = Number(key);
    if (!std::isfinite(x) || std::floor(x) != x || x < static_cast<double>(min) || x > static_cast<double>(max)) {
      throw ConfigError(ConfigError::Kind::kRange, "config." + key + " must be an integer in [" + std::to_string(min) +
                                                       ", " + std::to_string(max) + "]");
    }
    return static_cast<int64_t>(x);
  }
  const std::string& String(const std::string& key) const {
    const auto it = strings.find(key);
    if (it == strings.end()) throw ConfigError(ConfigError::Kind::kType, "config." + key + " must be a string");
    return it->second;
  }
};

}  // namespace pooled::engine
