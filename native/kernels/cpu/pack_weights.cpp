// Packing GEMM weights into panels (layout in kernels.h). Runs once at load; plain loops, so baseline pass only.
#if POOLED_ISA_BASELINE
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "kernels/cpu/element_convert.h"
#include "kernels/cpu/kernels.h"

namespace pooled::kernels::cpu {

size_t ElementSize(ElementType type) { return type == ElementType::kF32 ? 4 : 2; }

const char* ElementTypeName(ElementType type) {
  switch (type) {
    case ElementType::kF32:
      return "float32";
    case ElementType::kF16:
      return "float16";
    case ElementType::kBF16:
      return "bfloat16";
  }
  return "unknown";
}

PackedWeights::PackedWeights(AlignedBuffer buffer, const PackedWeightsView& view)
    : buffer_(std::move(buffer)), view_(view) {
  view_.data = buffer_.data();
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
  }
  return 0.0f;
}

}  // namespace

PackedWeights PackWeights(const void* weight, ElementType source, int64_t n, int64_t k, ElementType target) {
  if (weight == nullptr) throw std::invalid_argument("PackWeights: weight is null");
  if (n <= 0 || k <= 0)
    throw std::invalid_argument("PackWeights: n and k must be > 0, got n=" + std::to_string(n) +
                                " k=" + std::to_string(k));
  if (target != ElementType::kF32 && target != ElementType::kBF16) {
    throw std::invalid_argument(std::string("PackWeights: cannot store packed weights as ") + ElementTypeName(target));
  }
  const int64_t panel_width = GemmPanelWidth();
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
