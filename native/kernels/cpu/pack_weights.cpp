// Packing GEMM weights into panels (layout in kernels.h). Runs once at load; plain loops, so baseline pass only.
#if POOLED_ISA_BASELINE
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "kernels/cpu/element_convert.h"
#include "kernels/cpu/kernels.h"

namespace pooled::kernels::cpu {

size_t ElementSize(ElementType type) {
  switch (type) {
    case ElementType::kF32:
      return 4;
    case ElementType::kInt8:
      return 1;
    default:
      return 2;
  }
}

const char* ElementTypeName(ElementType type) {
  switch (type) {
    case ElementType::kF32:
      return "float32";
    case ElementType::kF16:
      return "float16";
    case ElementType::kBF16:
      return "bfloat16";
    case ElementType::kInt8:
      return "int8";
  }
  return "unknown";
}

PackedWeights::PackedWeights(AlignedBuffer buffer, const PackedWeightsView& view)
    : buffer_(std::move(buffer)), view_(view) {
  view_.data = buffer_.data();
  if (view_.type == ElementType::kInt8) {
    // The per-column arrays follow the panels in the same buffer (PackWeightsInt8).
    const int64_t columns = view_.num_panels * view_.panel_width;
    const int8_t* end_of_panels = static_cast<const int8_t*>(buffer_.data()) + columns * view_.k_padded;
    view_.scales = reinterpret_cast<const float*>(end_of_panels);
    view_.column_sums = reinterpret_cast<const int32_t*>(view_.scales + columns);
  }
}

namespace {

float ReadElement(const void* data, ElementType type, int64_t index) {
  switch (type) {
    case ElementType::kF32:
      return static_cast<const float*>(data)[index];
    case ElementType::kF16:
      return convert::F16ToFloat(static_cast<const uint16_t*>(data)[index]);
    case ElementType::kBF16:
      return convert::Bf16ToFloat(static_cast<const uint16_t*>(data)[index]);
    case ElementType::kInt8:
      break;
  }
  return 0.0f;
}

// Round half to even in float32 (|x| <= 127 here), the rounding the TypeScript reference mirrors.
float RoundHalfEven(float x) {
  volatile float value = x;  // no FMA contraction of a product passed in with the addition below
  volatile float shifted = value + 12582912.0f;
  return shifted - 12582912.0f;
}

// Int8 layout (kernels.h): panels [k_padded / 4][NR][4], then scales and column sums, num_panels * NR each (padding
// columns: scale 0, sum 0, weights 0). Per output row: scale = max |w| / 127, q = round(w / scale) in [-127, 127]
// (symmetric: -128 unused, so negation is exact and no zero point is needed).
PackedWeights PackWeightsInt8(const void* weight, ElementType source, int64_t n, int64_t k, int64_t panel_width) {
  const int64_t k_padded = (k + 3) / 4 * 4;
  if (k_padded > kInt8MaxK) {
    throw std::invalid_argument("PackWeights: int8 weights take k <= " + std::to_string(kInt8MaxK) +
                                " (int32 sums), got k=" + std::to_string(k));
  }
  const int64_t num_panels = (n + panel_width - 1) / panel_width;
  if (num_panels > std::numeric_limits<int64_t>::max() / 8 / panel_width / k_padded)
    throw std::invalid_argument("PackWeights: matrix too large");
  const int64_t columns = num_panels * panel_width;
  const size_t weight_bytes = static_cast<size_t>(columns * k_padded);  // a multiple of 64 (NR * 4)
  AlignedBuffer buffer(weight_bytes + static_cast<size_t>(columns) * (sizeof(float) + sizeof(int32_t)));
  int8_t* packed = static_cast<int8_t*>(buffer.data());
  float* scales = reinterpret_cast<float*>(packed + weight_bytes);
  int32_t* column_sums = reinterpret_cast<int32_t*>(scales + columns);

  for (int64_t row = 0; row < n; ++row) {
    float max_abs = 0.0f;
    for (int64_t col = 0; col < k; ++col) {
      const float v = ReadElement(weight, source, row * k + col);
      if (!(v == v) || v - v != 0.0f)
        throw std::invalid_argument("PackWeights: weight row " + std::to_string(row) + " is not finite");
      max_abs = std::max(max_abs, std::fabs(v));
    }
    const float scale = max_abs / 127.0f;
    const float inverse = scale > 0.0f ? 1.0f / scale : 0.0f;
    int8_t* dst = packed + (row / panel_width) * k_padded * panel_width + (row % panel_width) * 4;
    int32_t sum = 0;
    for (int64_t col = 0; col < k; ++col) {
      const float q =
          std::min(127.0f, std::max(-127.0f, RoundHalfEven(ReadElement(weight, source, row * k + col) * inverse)));
      dst[(col / 4) * panel_width * 4 + (col & 3)] = static_cast<int8_t>(q);
      sum += static_cast<int32_t>(q);
    }
    scales[row] = scale;
    column_sums[row] = sum;
  }

  PackedWeightsView view;
  view.n = n;
  view.k = k;
  view.k_padded = k_padded;
  view.num_panels = num_panels;
  view.panel_width = panel_width;
  view.type = ElementType::kInt8;
  PackedWeights result(std::move(buffer), view);
  return result;
}

}  // namespace

PackedWeights PackWeights(const void* weight, ElementType source, int64_t n, int64_t k, ElementType target) {
  if (weight == nullptr) throw std::invalid_argument("PackWeights: weight is null");
  if (n <= 0 || k <= 0)
    throw std::invalid_argument("PackWeights: n and k must be > 0, got n=" + std::to_string(n) +
                                " k=" + std::to_string(k));
  if (source == ElementType::kInt8) throw std::invalid_argument("PackWeights: int8 is not a checkpoint element type");
  if (target != ElementType::kF32 && target != ElementType::kBF16 && target != ElementType::kInt8) {
    throw std::invalid_argument(std::string("PackWeights: cannot store packed weights as ") + ElementTypeName(target));
  }
  const int64_t panel_width = GemmPanelWidth();
  if (target == ElementType::kInt8) return PackWeightsInt8(weight, source, n, k, panel_width);
  const int64_t k_padded = target == ElementType::kBF16 ? (k + 1) / 2 * 2 : k;
  const int64_t num_panels = (n + panel_width - 1) / panel_width;
  const int64_t limit = std::numeric_limits<int64_t>::max() / 8;
  if (num_panels > limit / panel_width || num_panels * panel_width > limit / k_padded) {
    throw std::invalid_argument("PackWeights: matrix too large");
  }
  const int64_t num_elements = num_panels * panel_width * k_padded;
  AlignedBuffer buffer(static_cast<size_t>(num_elements) * ElementSize(target));

  PackedWeightsView view;
  view.n = n;
  view.k = k;
  view.k_padded = k_padded;
  view.num_panels = num_panels;
  view.panel_width = panel_width;
  view.type = target;

  for (int64_t row = 0; row < n; ++row) {
    const int64_t panel = row / panel_width;
    const int64_t lane = row % panel_width;
    if (target == ElementType::kF32) {
      float* dst = static_cast<float*>(buffer.data()) + panel * k_padded * panel_width + lane;
      for (int64_t col = 0; col < k; ++col) dst[col * panel_width] = ReadElement(weight, source, row * k + col);
    } else {
      uint16_t* dst = static_cast<uint16_t*>(buffer.data()) + panel * k_padded * panel_width + lane * 2;
      const uint16_t* src16 = static_cast<const uint16_t*>(weight) + row * k;
      for (int64_t col = 0; col < k; ++col) {
        // bfloat16 sources are copied bit for bit: converting through float32 and back is exact but slower.
        const uint16_t value = source == ElementType::kBF16
                                   ? src16[col]
                                   : convert::FloatToBf16(ReadElement(weight, source, row * k + col));
        dst[(col / 2) * panel_width * 2 + (col & 1)] = value;
      }
    }
  }
  return PackedWeights(std::move(buffer), view);
}

}  // namespace pooled::kernels::cpu
#endif  // POOLED_ISA_BASELINE
