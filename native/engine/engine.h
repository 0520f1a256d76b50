#pragma once
// One interface every model family's engine implements (graphs/<family>.*), and the one batch they all take. No N-API
// here (native/addon/ owns the JS side); engine_factory.h picks the implementation by the spec's family name.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kernels/cpu/kernels.h"

namespace pooled::engine {

using kernels::cpu::Activation;
using kernels::cpu::ElementType;
using kernels::cpu::PoolingMode;

// One checkpoint tensor as the loader found it: bytes in the file's element type, not owned.
struct TensorRef {
  ElementType type = ElementType::kF32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  size_t byte_length = 0;
};

// Canonical names, as src/model/load.ts produces them (no `bert.` / `model.` prefix).
using TensorMap = std::map<std::string, TensorRef>;

// The ragged batch of src/backends/backend.ts (RaggedBatch): tokens of every sequence back to back, no padding.
struct Batch {
  std::vector<int32_t> token_ids;
  std::vector<int32_t> positions;
  std::vector<int32_t> token_type_ids;  // empty = all zeros (encoders with token types only)
  std::vector<int32_t> cu_seq_lens;     // [num_seqs + 1]
  PoolingMode pooling = PoolingMode::kCls;
  std::vector<int32_t> dimensions;  // per sequence, 0 = all
  std::vector<uint8_t> normalize;   // per sequence
  // Decoder batches over the KV cache only (paged = true): flat block tables (sequence s's at
  // [block_table_offsets[s], block_table_offsets[s + 1])), cached token counts and last-chunk flags.
  bool paged = false;
  std::vector<int32_t> block_tables;
  std::vector<int32_t> block_table_offsets;
  std::vector<int32_t> num_cached_tokens;
  std::vector<uint8_t> is_last_chunk;

  int64_t num_seqs() const { return static_cast<int64_t>(cu_seq_lens.size()) - 1; }
  int64_t num_tokens() const { return static_cast<int64_t>(token_ids.size()); }
};

class Engine {
 public:
  virtual ~Engine() = default;

  // Pooled rows back to back (row i has dimensions[i] values, or hidden_size). Paged batches give rows only for
  // sequences with is_last_chunk = 1. Every index is validated before memory is touched (std::invalid_argument). One
  // forward at a time (later calls wait).
  virtual std::vector<float> Forward(const Batch& batch) = 0;

  // Memory the engine allocated at load (packed weights, float32 vectors and tables), for the JS heap's accounting.
  virtual size_t NativeBytes() const = 0;
  // Per-batch working buffers held now (not the KV cache): they grow to the largest batch since the last release.
  // Any thread.
  virtual size_t WorkingBytes() const = 0;
  // Returns the working buffers to the OS (after any running forward); the next forward maps them again; the KV cache
  // stays. Returns the bytes released.
  virtual size_t ReleaseWorkingMemory() = 0;

  // Decoders keep a paged KV cache; encoders (bidirectional attention) have none and take no paged batches.
  virtual bool HasKvCache() const { return false; }
  // Allocates the KV cache (zeroed), discarding the previous one; returns its size in bytes. std::invalid_argument for
  // a bad geometry, std::logic_error on an engine without a KV cache.
  virtual size_t InitKvCache(int64_t num_blocks, int64_t block_size);
  // Bytes of K and V of one token over all layers; 0 without a KV cache.
  virtual int64_t KvBytesPerToken() const { return 0; }

  virtual ElementType weight_type() const = 0;
  virtual int num_threads() const = 0;
};

}  // namespace pooled::engine
