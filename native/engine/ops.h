#pragma once
// The kernels a graph calls, as one table of function pointers: graph code (graphs/*.cpp) calls `ops.gemm(...)`, never
// a kernel set by name, so another set (CUDA launchers taking a stream) can be slotted in by building another table,
// without touching the graphs. Each entry is one call per op over a whole batch, so the indirection costs nothing
// measurable. Every op takes the ExecutionContext: the CPU set runs on its thread pool, a device set would launch on
// its stream; graphs hold one context and pass it through without looking inside.
#include <cstdint>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/thread_pool.h"

namespace pooled::engine {

// Where an op runs. A graph (EngineBase) owns one and hands it to every op unread, so a kernel set for a device slots
// in by filling its own field (and its Ops table) with no change to graph code.
struct ExecutionContext {
  kernels::cpu::ThreadPool* pool = nullptr;  // the CPU kernel set (native/kernels/cpu/) runs on this pool
  void* device_stream = nullptr;  // a device kernel set's stream (e.g. a cudaStream_t); unused by the CPU set
};

struct Ops {
  using Pool = ExecutionContext;
  void (*embeddings)(Pool&, const kernels::cpu::EmbeddingTables& tables, const int32_t* token_ids,
                     const int32_t* positions, const int32_t* token_types, int64_t num_tokens, float* out);
  // out[t, :] = table[token_ids[t], :] as float32, the table in its checkpoint element type (indices checked before).
  void (*embed_tokens)(Pool&, const void* table, kernels::cpu::ElementType type, int64_t hidden_size,
                       const int32_t* token_ids, int64_t num_tokens, float* out);
  void (*gemm)(Pool&, const float* a, int64_t m, int64_t lda, const kernels::cpu::PackedWeights& w, float* c,
               int64_t ldc, const kernels::cpu::GemmEpilogue& epilogue);
  // y = LayerNorm(x + residual) over rows of `cols` (residual may be null; y may equal x).
  void (*layer_norm)(Pool&, const float* x, const float* residual, float* y, int64_t rows, int64_t cols,
                     const float* gamma, const float* beta, float eps);
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
