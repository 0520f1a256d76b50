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

// A CPU kernel `void K(ThreadPool&, Args...)` as an op `void (ExecutionContext&, Args...)`: it runs on the context's
// pool. Generated per kernel, so the op table and the kernels keep one signature each.
template <auto Kernel>
struct OnPool;
template <typename... Args, void (*Kernel)(kc::ThreadPool&, Args...)>
struct OnPool<Kernel> {
  static void Call(ExecutionContext& context, Args... args) { Kernel(*context.pool, args...); }
};

}  // namespace

const Ops& CpuOps() {
  static const Ops ops{
      &OnPool<&kc::Embeddings>::Call,      &OnPool<&CpuEmbedTokens>::Call, &OnPool<&kc::Gemm>::Call,
      &OnPool<&kc::LayerNorm>::Call,       &OnPool<&kc::Attention>::Call,  &kc::AttentionWorkspaceFloats,
      &OnPool<&kc::PagedAttention>::Call,  &OnPool<&kc::RmsNorm>::Call,    &OnPool<&kc::Rope>::Call,
      &OnPool<&kc::GatedActivation>::Call, &OnPool<&kc::Pool>::Call};
  return ops;
}

}  // namespace pooled::engine
