#pragma once
// Per-batch working memory of an engine (activations, Q|K|V, K^T, scratch K/V): sized by the largest batch since the
// last release, released after an idle period, and counted so the addon can report it to V8 and /metrics.
//
// Why mmap and not std::vector: a forward runs on a libuv thread, so its vectors came from one of glibc's per-thread
// arenas, where freed blocks stay resident until the arena's top is trimmed, and glibc's dynamic mmap threshold
// rises to the size of each freed mapped block, sending later ones into the arena too. An anonymous mapping per buffer
// goes back to the OS whole with munmap, and its pages only count in RSS once a batch touches them.
// No N-API here.
#include <atomic>
#include <cstddef>
#include <vector>

namespace pooled::engine {

class WorkingMemory;

// One float buffer of a WorkingMemory. Growth need not keep the contents: every forward rewrites what it reads.
class WorkingBuffer {
 public:
  explicit WorkingBuffer(WorkingMemory& owner);
  ~WorkingBuffer();
  WorkingBuffer(const WorkingBuffer&) = delete;
  WorkingBuffer& operator=(const WorkingBuffer&) = delete;

  // At least `floats` floats, 64-byte aligned (page aligned). Throws std::bad_alloc when the mapping fails.
  float* Reserve(size_t floats);
  float* data() const { return data_; }
  size_t capacity_floats() const { return bytes_ / sizeof(float); }
  void Release();

 private:
  WorkingMemory& owner_;
  float* data_ = nullptr;
  size_t bytes_ = 0;
};

// The buffers of one engine and their total size. The engine's forward lock guards Reserve and Release; Bytes() may
// be read from any thread (the addon reads it on the JS thread to report it).
class WorkingMemory {
 public:
  WorkingMemory() = default;
  WorkingMemory(const WorkingMemory&) = delete;
  WorkingMemory& operator=(const WorkingMemory&) = delete;

  size_t Bytes() const { return bytes_.load(std::memory_order_relaxed); }
  // Unmaps every buffer; returns the bytes released.
  size_t ReleaseAll();

 private:
  friend class WorkingBuffer;
  std::vector<WorkingBuffer*> buffers_;  // members of the same engine, declared after this object
  std::atomic<size_t> bytes_{0};
};

// Returns memory glibc holds free in its arenas to the OS (malloc_trim(0)); a no-op with other C libraries.
void TrimFreeHeapMemory();

}  // namespace pooled::engine
