#pragma once
// Run-time CPU feature detection. Kernels pick their implementation from SelectedIsa() so one binary runs on
// AVX-512 machines, AVX2-only x86 and non-x86 (portable fallback). POOLED_ISA=avx512|avx2|scalar caps the choice
// (for tests and benchmarks of the slower paths on a fast machine).

namespace pooled::kernels::cpu {

struct CpuFeatures {
  const char* arch = "unknown";
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512bf16 = false;
  bool avx512vnni = false;
  bool avxvnni = false;  // the VEX-encoded 256-bit VNNI of AVX2-class cores (Alder Lake, Zen 5)
  bool neon = false;
};

enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

const CpuFeatures& DetectCpuFeatures();
Isa SelectedIsa();
const char* IsaName(Isa isa);
// Null when POOLED_ISA is unset or names a variant; otherwise why the value is refused. The addon refuses to load
// on such a value: a typo must not silently run the default kernels a test or benchmark meant to avoid.
const char* IsaRequestError();

}  // namespace pooled::kernels::cpu
