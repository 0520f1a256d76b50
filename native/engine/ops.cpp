#include "engine/ops.h"

#include "engine/checkpoint_tensors.h"

namespace pooled::engine {

namespace kc = kernels::cpu;

namespace {

void CpuEmbedTokens(kc::ThreadPool& pool, const void* table, kc::ElementType type, int64_t hidden_size,
                    const int32_t* token_ids, int64_t num_tokens, float* out) {
  pool.Run(num_tokens, [&](int64_t t, int) {
    const size_t base = static_cast<size_t>(token_ids[t]) * static_cast<size_t>(hidden_size);
    float* row = out + t * hidden_size;
    for (int64_t c = 0; c < hidden_size; ++c) row[c] = ElementToFloat(table, type, base + static_cast<size_t>(c));
  });
}

}  // namespace

const Ops& CpuOps() {
  static const Ops ops{
      &kc::Embeddings,     &CpuEmbedTokens, &kc::Gemm, &kc::Attention,       &kc::AttentionWorkspaceFloats,
      &kc::PagedAttention, &kc::RmsNorm,    &kc::Rope, &kc::GatedActivation, &kc::Pool};
  return ops;
}

}  // namespace pooled::engine
