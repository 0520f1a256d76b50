#pragma once
// The kernels a graph calls, as one table of function pointers: graph code (graphs/*.cpp) calls `ops.gemm(...)`, never
// a kernel set by name, so another set (CUDA launchers taking a stream) can be slotted in by building another table,
// without touching the graphs. Each entry is one call per op over a whole batch, so the indirection costs nothing
// measurable. The execution context is the CPU thread pool for now; a device set would widen it to a small struct.
#include <cstdint>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/thread_pool.h"

namespace pooled::engine {

struct Ops {
  using Pool = kernels::cpu::ThreadPool;
  void (*embeddings)(Pool&, const kernels::cpu::EmbeddingTables& tables, const int32_t* token_ids,
                     const int32_t* positions, const int32_t* token_types, int64_t num_tokens, float* out);
  // out[t, :] = table[token_ids[t], :] as float32, the table in its checkpoint element type (indices checked before).
  void (*embed_tokens)(Pool&, const void* table, kernels::cpu::ElementType type, int64_t hidden_size,
                       const int32_t* token_ids, int64_t num_tokens, float* out);
  void (*gemm)(Pool&, const float* a, int64_t m, int64_t lda, const kernels::cpu::PackedWeights& w, float* c,
               int64_t ldc, const kernels::cpu::GemmEpilogue& epilogue);
  void (*attention)(Pool&, const kernels::cpu::AttentionArgs& args);
  int64_t (*attention_workspace_floats)(const kernels::cpu::AttentionArgs& args);
  void (*paged_attention)(Pool&, const kernels::cpu::PagedAttentionArgs& args);
  void (*rms_norm)(Pool&, const float* x, int64_t ldx, float* y, int64_t ldy, int64_t rows, int64_t groups,
                   int64_t cols, const float* weight, float eps);
  void (*rope)(Pool&, float* x, int64_t ldx, int64_t num_tokens, int64_t num_heads, int64_t head_dim,
               const int32_t* positions, double theta, double inverse_frequency_scale, int64_t max_position);
  void (*gated_activation)(Pool&, const float* in, int64_t ld_in, float* out, int64_t ldo, int64_t rows, int64_t cols,
                           kernels::cpu::Activation activation, kernels::cpu::GatedHalf activated_half);
  void (*pool)(Pool&, const float* hidden, int64_t ld, int64_t hidden_size, const int32_t* cu_seq_lens,
               int64_t num_seqs, kernels::cpu::PoolingMode mode, const int32_t* dimensions, const uint8_t* normalize,
               float* out, int64_t out_size);
};

// The CPU kernels (native/kernels/cpu/, ISA picked at run time inside each op).
const Ops& CpuOps();

}  // namespace pooled::engine
