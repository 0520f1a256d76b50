#pragma once
// How one op is compiled per ISA and chosen at run time.
//
// CMakeLists.txt (and binding.gyp) compile every native/kernels/cpu/*.cpp once per ISA variant, each time with
// POOLED_ISA_NS set to the variant's namespace (scalar, avx2, avx512) and that variant's compiler flags. An op
// file therefore has two parts:
//   - its kernels, in namespace pooled::kernels::cpu::POOLED_ISA_NS, compiled for every variant;
//   - its public entry point (argument checks, threading, dispatch), inside `#if POOLED_ISA_BASELINE`, compiled
//     once with default flags.
// Rule for the per-variant part: use no std:: templates or other inline library code there. Inline functions
// are merged across translation units by the linker, so an AVX-512 copy of, say, std::vector<float>::resize
// could end up serving the scalar path and fault on an AVX2-only CPU. Plain C and our own namespaced helpers only.
#include "kernels/cpu/cpu_features.h"

#if defined(__x86_64__) || defined(_M_X64)
#define POOLED_HAS_X86_VARIANTS 1
// Declares `decl` (a declaration naming no namespace) in every variant namespace.
#define POOLED_DECLARE_FOR_EACH_ISA(decl) \
  namespace scalar {                      \
  decl;                                   \
  }                                       \
  namespace avx2 {                        \
  decl;                                   \
  }                                       \
  namespace avx512 {                      \
  decl;                                   \
  }
// Calls the variant of `fn` that SelectedIsa() picked.
#define POOLED_DISPATCH(fn, ...)                     \
  do {                                               \
    switch (::pooled::kernels::cpu::SelectedIsa()) { \
      case ::pooled::kernels::cpu::Isa::kAvx512:     \
        avx512::fn(__VA_ARGS__);                     \
        break;                                       \
      case ::pooled::kernels::cpu::Isa::kAvx2:       \
        avx2::fn(__VA_ARGS__);                       \
        break;                                       \
      default:                                       \
        scalar::fn(__VA_ARGS__);                     \
        break;                                       \
    }                                                \
  } while (0)
#define POOLED_DISPATCH_RETURN(fn, ...)            \
  switch (::pooled::kernels::cpu::SelectedIsa()) { \
    case ::pooled::kernels::cpu::Isa::kAvx512:     \
      return avx512::fn(__VA_ARGS__);              \
    case ::pooled::kernels::cpu::Isa::kAvx2:       \
      return avx2::fn(__VA_ARGS__);                \
    default:                                       \
      return scalar::fn(__VA_ARGS__);              \
  }
#else
#define POOLED_HAS_X86_VARIANTS 0
#define POOLED_DECLARE_FOR_EACH_ISA(decl) \
  namespace scalar {                      \
  decl;                                   \
  }
#define POOLED_DISPATCH(fn, ...) scalar::fn(__VA_ARGS__)
#define POOLED_DISPATCH_RETURN(fn, ...) return scalar::fn(__VA_ARGS__)
#endif
