// Not a kernel: compiled in the baseline pass only (see isa_dispatch.h).
#if POOLED_ISA_BASELINE
#include "kernels/cpu/cpu_features.h"

#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define POOLED_X86 1
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace pooled::kernels::cpu {

namespace {

#if POOLED_X86
void Cpuid(unsigned leaf, unsigned sub, unsigned regs[4]) {
#if defined(_MSC_VER)
  int r[4];
  __cpuidex(r, static_cast<int>(leaf), static_cast<int>(sub));
  for (int i = 0; i < 4; ++i) regs[i] = static_cast<unsigned>(r[i]);
#else
  __cpuid_count(leaf, sub, regs[0], regs[1], regs[2], regs[3]);
#endif
}

unsigned long long Xgetbv0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  unsigned eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
#endif
}
#endif

CpuFeatures Detect() {
  CpuFeatures f;
#if POOLED_X86
  f.arch = "x86_64";
  unsigned r[4];
  Cpuid(0, 0, r);
  const unsigned max_leaf = r[0];
  Cpuid(1, 0, r);
  const bool osxsave = (r[2] >> 27) & 1;
  const bool avx = (r[2] >> 28) & 1;
  f.fma = (r[2] >> 12) & 1;
  f.f16c = (r[2] >> 29) & 1;
  // The OS must save the wide registers on context switch (XCR0), or using them is unsafe.
  const unsigned long long xcr0 = osxsave ? Xgetbv0() : 0;
  const bool os_ymm = (xcr0 & 0x6) == 0x6;
  const bool os_zmm = (xcr0 & 0xe6) == 0xe6;
  if (max_leaf >= 7) {
    Cpuid(7, 0, r);
    f.avx2 = avx && os_ymm && ((r[1] >> 5) & 1);
    f.avx512f = os_zmm && ((r[1] >> 16) & 1);
    f.avx512bw = os_zmm && ((r[1] >> 30) & 1);
    f.avx512vl = os_zmm && ((r[1] >> 31) & 1);
    f.avx512vnni = os_zmm && ((r[2] >> 11) & 1);
    Cpuid(7, 1, r);
    f.avx512bf16 = os_zmm && ((r[0] >> 5) & 1);
    f.avxvnni = os_ymm && avx && ((r[0] >> 4) & 1);
  }
  f.fma = f.fma && os_ymm;
  f.f16c = f.f16c && os_ymm;
#elif defined(__aarch64__) || defined(_M_ARM64)
  f.arch = "arm64";
  f.neon = true;
#endif
  return f;
}

Isa Select() {
  const CpuFeatures& f = DetectCpuFeatures();
  Isa best = Isa::kScalar;
  // F16C comes with every AVX2 CPU; the AVX2 kernels use it to widen float16 tables.
  if (f.avx2 && f.fma && f.f16c) best = Isa::kAvx2;
  if (best == Isa::kAvx2 && f.avx512f && f.avx512bw && f.avx512vl) best = Isa::kAvx512;
  if (const char* cap = std::getenv("POOLED_ISA")) {
    Isa want = best;
    if (std::strcmp(cap, "scalar") == 0) want = Isa::kScalar;
    if (std::strcmp(cap, "avx2") == 0) want = Isa::kAvx2;
    if (std::strcmp(cap, "avx512") == 0) want = Isa::kAvx512;
    if (static_cast<int>(want) < static_cast<int>(best)) best = want;
  }
  return best;
}

}  // namespace

const CpuFeatures& DetectCpuFeatures() {
  static const CpuFeatures features = Detect();
  return features;
}

Isa SelectedIsa() {
  static const Isa isa = Select();
  return isa;
}

const char* IsaRequestError() {
  const char* request = std::getenv("POOLED_ISA");
  if (request == nullptr) return nullptr;
  for (const char* known : {"scalar", "avx2", "avx512"}) {
    if (std::strcmp(request, known) == 0) return nullptr;
  }
  static std::string message;
  message =
      std::string("POOLED_ISA=") + request + " is not a kernel variant; use scalar, avx2 or avx512 (or leave it unset)";
  return message.c_str();
}

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx2:
      return "avx2";
    default:
      return "scalar";
  }
}

}  // namespace pooled::kernels::cpu
#endif  // POOLED_ISA_BASELINE
