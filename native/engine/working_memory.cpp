#include "engine/working_memory.h"

#include <new>

#if defined(_WIN32)
#include <malloc.h>
#else
#include <sys/mman.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace pooled::engine {

namespace {

constexpr size_t kPageBytes = 4096;

void* MapZeroed(size_t bytes) {
#if defined(_WIN32)
  void* p = _aligned_malloc(bytes, kPageBytes);
  if (p == nullptr) throw std::bad_alloc();
  return p;
#else
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
#endif
}

void Unmap(void* p, size_t bytes) {
#if defined(_WIN32)
  (void)bytes;
  _aligned_free(p);
#else
  munmap(p, bytes);
#endif
}

}  // namespace

WorkingBuffer::WorkingBuffer(WorkingMemory& owner) : owner_(owner) { owner.buffers_.push_back(this); }

WorkingBuffer::~WorkingBuffer() { Release(); }

float* WorkingBuffer::Reserve(size_t floats) {
  const size_t needed = floats * sizeof(float);
  if (needed <= bytes_) return data_;
  // Exactly the pages this batch needs, no headroom: the mapped bytes are then the pages the largest batch touched,
  // so what is reported is the buffers' share of RSS.
  const size_t bytes = (needed + kPageBytes - 1) / kPageBytes * kPageBytes;
  void* grown = nullptr;
#if defined(__linux__)
  // Grows in place or moves the page tables: pages already touched stay resident and only the new tail faults in
  // (with munmap + mmap, batch sizes creeping up under load would re-fault the whole buffer at every step).
  if (data_ != nullptr) {
    grown = mremap(data_, bytes_, bytes, MREMAP_MAYMOVE);
    if (grown == MAP_FAILED) throw std::bad_alloc();
  }
#endif
  if (grown == nullptr) {
    Release();
    grown = MapZeroed(bytes);
  }
  owner_.bytes_.fetch_add(bytes - bytes_, std::memory_order_relaxed);
  data_ = static_cast<float*>(grown);
  bytes_ = bytes;
  return data_;
}

void WorkingBuffer::Release() {
  if (data_ == nullptr) return;
  Unmap(data_, bytes_);
  owner_.bytes_.fetch_sub(bytes_, std::memory_order_relaxed);
  data_ = nullptr;
  bytes_ = 0;
}

size_t WorkingMemory::ReleaseAll() {
  const size_t before = Bytes();
  for (WorkingBuffer* buffer : buffers_) buffer->Release();
  return before;
}

void TrimFreeHeapMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace pooled::engine
