// Rotate-half rotary position embedding (Qwen3's apply_rotary_pos_emb), in place on Q or K rows. Angles and their
// cos / sin are evaluated in float64 per (token, frequency): upstream evaluates them in float32, whose angle error
// grows with the position (~2e-3 rad at 32k); the float64 oracle, and so this kernel, keep them exact. Only the
// rotation itself is float32.
#include <math.h>

#include <cstdint>

#include "kernels/cpu/isa_dispatch.h"
#include "kernels/cpu/kernels.h"

#if POOLED_ISA_BASELINE
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/thread_pool.h"
#endif

namespace pooled::kernels::cpu {

POOLED_DECLARE_FOR_EACH_ISA(void RopeRows(float* x, int64_t ldx, int64_t num_heads, int64_t head_dim,
                                          const int32_t* positions, const double* inverse_frequencies,
                                          int64_t row_begin, int64_t row_end))

namespace POOLED_ISA_NS {

void RopeRows(float* x, int64_t ldx, int64_t num_heads, int64_t head_dim, const int32_t* positions,
              const double* inverse_frequencies, int64_t row_begin, int64_t row_end) {
  const int64_t half = head_dim / 2;
  float cosines[kMaxDecoderHeadDim / 2];
  float sines[kMaxDecoderHeadDim / 2];
  for (int64_t t = row_begin; t < row_end; ++t) {
    const double position = static_cast<double>(positions[t]);
    for (int64_t j = 0; j < half; ++j) {
      const double angle = position * inverse_frequencies[j];
      cosines[j] = static_cast<float>(cos(angle));
      sines[j] = static_cast<float>(sin(angle));
    }
    for (int64_t h = 0; h < num_heads; ++h) {
      float* head = x + t * ldx + h * head_dim;
      for (int64_t j = 0; j < half; ++j) {
        const float first = head[j];
        const float second = head[j + half];
        head[j] = first * cosines[j] - second * sines[j];
        head[j + half] = second * cosines[j] + first * sines[j];
      }
    }
  }
}

}  // namespace POOLED_ISA_NS

#if POOLED_ISA_BASELINE
void Rope(ThreadPool& pool, float* x, int64_t ldx, int64_t num_tokens, int64_t num_heads, int64_t head_dim,
          const int32_t* positions, double theta, double inverse_frequency_scale, int64_t max_position) {
  if (num_tokens < 0 || num_heads <= 0 || head_dim <= 0) {
    throw std::invalid_argument("Rope: need num_tokens >= 0, num_heads > 0 and head_dim > 0");
  }
  if (head_dim % 2 != 0 || head_dim > kMaxDecoderHeadDim) {
    throw std::invalid_argument("Rope: head_dim must be even and at most " + std::to_string(kMaxDecoderHeadDim) +
                                ", got " + std::to_string(head_dim));
  }
  if (!(theta > 0.0)) throw std::invalid_argument("Rope: theta must be > 0");
  if (!(inverse_frequency_scale > 0.0) || !std::isfinite(inverse_frequency_scale)) {
    throw std::invalid_argument("Rope: inverse_frequency_scale must be finite and > 0");
  }
  if (num_tokens == 0) return;
  if (x == nullptr || positions == nullptr) throw std::invalid_argument("Rope: null argument");
  if (ldx < num_heads * head_dim) throw std::invalid_argument("Rope: row stride shorter than num_heads * head_dim");
  for (int64_t t = 0; t < num_tokens; ++t) {
    if (positions[t] < 0 || positions[t] >= max_position) {
      throw std::invalid_argument("Rope: positions[" + std::to_string(t) + "] = " + std::to_string(positions[t]) +
                                  " is outside [0, " + std::to_string(max_position) + ")");
    }
  }
  // Qwen3RotaryEmbedding: inv_freq[j] = 1 / theta^(2j / head_dim); scaled variants multiply every frequency by one
  // factor (GTE's NTK rope: theta * factor as the base and scale factor^(-2 / head_dim)).
  std::vector<double> inverse(static_cast<size_t>(head_dim / 2));
  for (int64_t j = 0; j < head_dim / 2; ++j) {
    inverse[static_cast<size_t>(j)] =
        inverse_frequency_scale / pow(theta, static_cast<double>(2 * j) / static_cast<double>(head_dim));
  }
  const int64_t num_threads = pool.NumThreads();
  const int64_t rows_per_task = std::max<int64_t>(1, (num_tokens + 4 * num_threads - 1) / (4 * num_threads));
  pool.Run((num_tokens + rows_per_task - 1) / rows_per_task, [&](int64_t task, int) {
    const int64_t begin = task * rows_per_task;
    const int64_t end = std::min(num_tokens, begin + rows_per_task);
    POOLED_DISPATCH(RopeRows, x, ldx, num_heads, head_dim, positions, inverse.data(), begin, end);
  });
}
#endif  // POOLED_ISA_BASELINE

}  // namespace pooled::kernels::cpu
