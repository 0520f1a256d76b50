// Not a kernel: compiled in the baseline pass only (see isa_dispatch.h).
#if POOLED_ISA_BASELINE
#include <cstdlib>
#include <cstring>
#include <new>

#include "kernels/cpu/kernels.h"

namespace pooled::kernels::cpu {

namespace {
// A cache line, and the width of an AVX-512 register.
constexpr size_t kAlignment = 64;
}  // namespace

AlignedBuffer::AlignedBuffer(size_t bytes) {
  if (bytes == 0) return;
  // aligned_alloc wants a size that is a multiple of the alignment.
  const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  data_ = std::aligned_alloc(kAlignment, rounded);
  if (data_ == nullptr) throw std::bad_alloc();
  std::memset(data_, 0, rounded);
  size_ = bytes;
}

AlignedBuffer::~AlignedBuffer() { std::free(data_); }

AlignedBuffer::AlignedBuffer(AlignedBuffer&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

AlignedBuffer& AlignedBuffer::operator=(AlignedBuffer&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

}  // namespace pooled::kernels::cpu
#endif  // POOLED_ISA_BASELINE
